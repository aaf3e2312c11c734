"""The fake Twilio and SendGrid of the end-to-end test, for the fault tests too."""

from tests.e2e.test_messaging import fake_sendgrid, fake_twilio

__all__ = ["fake_sendgrid", "fake_twilio"]
