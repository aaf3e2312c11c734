"""Fixtures for the notifier tests: local fakes of the providers' APIs."""

from collections.abc import Iterator

import pytest

from tests.notifiers.fake_sendgrid import FakeSendGrid

# ---------------------------------------------------------------- SendGrid

SENDGRID_TEST_KEY = "SG.fake-key-id_0123456789.fake-secret_abcdefghijklmnopqrstuvwxyz0123456"


@pytest.fixture
def fake_sendgrid() -> Iterator[FakeSendGrid]:
    """SendGrid's Mail Send on a local port, holding every request to the official contract.

    A request the contract rejects fails the test at teardown, unless the test
    took it with `take_contract_errors()`.
    """
    fake = FakeSendGrid(SENDGRID_TEST_KEY).start()
    try:
        yield fake
    finally:
        fake.stop()
    assert not fake.contract_errors, f"requests SendGrid's contract rejects: {fake.contract_errors}"
