"""The fault tests' providers: the local Twilio and SendGrid of the end-to-end
tests, each failing the test at teardown on a request their contract rejects."""

from tests.e2e.test_messaging import fake_sendgrid, fake_twilio

__all__ = ["fake_sendgrid", "fake_twilio"]
