"""When Temporal or the database does not answer, a command says which, says that
nothing was changed, exits with code 3, and leaves nothing half-written."""

from __future__ import annotations

import asyncio
import os

import pytest
from temporalio.testing import WorkflowEnvironment

from cli import session
from tests.cli.conftest import TZ, Ips, closed_port, invoke


def add_consumer(ips: Ips) -> None:
    ips.ok("people", "add", "supervisor", "--id", "sup-1", "--name", "Pat Kim",
           "--email", "pat@example.org", "--timezone", TZ)  # fmt: skip
    ips.ok("people", "add", "specialist", "--id", "es-1", "--name", "Jordan Lee",
           "--email", "jordan@example.org", "--timezone", TZ, "--supervisor", "sup-1")  # fmt: skip
    ips.ok("people", "add", "consumer", "--id", "c-1", "--name", "Alex Smith",
           "--specialist", "es-1", "--timezone", TZ)  # fmt: skip


def test_without_temporal_an_event_is_refused_and_nothing_is_stored(ips: Ips) -> None:
    # `ips` points IPS_TEMPORAL_ADDRESS at a port where nothing listens.
    add_consumer(ips)
    address = os.environ["IPS_TEMPORAL_ADDRESS"]
    ips.ok("users", "add", "pat", "--name", "Pat Kim", "--role", "supervisor", "--person", "sup-1")
    token = ips.token("pat")

    for args in (
        ("refer", "c-1"),
        ("event", "c-1", "first_meeting"),
        ("event", "c-1", "contact", "-f", "method=phone"),
        ("show", "c-1"),
    ):
        result = ips(*args, token=token)
        assert result.exit_code == 3, (args, result.output)
        assert result.stdout == ""
        assert result.stderr == (
            "Error: the Temporal server is not answering; nothing was changed, try again "
            f"shortly. (Temporal address: {address}, from IPS_TEMPORAL_ADDRESS; is `ips up` "
            "running?)\n"
        )
    assert ips.store.list_events() == []
    assert ips.store.list_due_contacts() == []
    # What needs only the database still works.
    assert ips.ok("due", "--team", "sup-1", token=token) == "No due contacts match.\n"


def test_bad_input_is_named_even_while_temporal_is_down(ips: Ips) -> None:
    add_consumer(ips)
    stderr = ips.refused("event", "c-1", "contact", "-f", "method=waving")
    assert stderr == (
        "Error: --field method: Input should be 'face_to_face', 'phone', 'video' or 'text'\n"
    )
    assert ips.store.list_events() == []


COMMANDS_ON_THE_DATABASE = [
    ("due",),
    ("people", "list"),
    ("people", "add", "supervisor", "--id", "sup-1", "--name", "Pat Kim",
     "--email", "pat@example.org", "--timezone", TZ),
    ("tokens", "create", "pat"),
    ("refer", "c-1"),
]  # fmt: skip


@pytest.mark.parametrize("args", COMMANDS_ON_THE_DATABASE, ids=" ".join)
def test_without_the_database_nothing_is_changed(
    args: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"postgresql+psycopg://ips:secret@127.0.0.1:{closed_port()}/ips"
    monkeypatch.setenv("IPS_DATABASE_URL", url)
    monkeypatch.delenv("IPS_TOKEN", raising=False)
    result = invoke(*args)
    assert result.exit_code == 3, result.output
    assert result.stderr == (
        "Error: the database is not answering; nothing was changed, try again shortly. "
        f"(database: {url.replace('secret', '***')}, from IPS_DATABASE_URL)\n"
    )


async def test_without_a_worker_the_command_gives_up_and_says_how_to_retry(
    ips: Ips, local_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Temporal answers, but no worker takes the journey's work.
    add_consumer(ips)
    monkeypatch.setenv("IPS_TEMPORAL_ADDRESS", local_env.client.service_client.config.target_host)
    monkeypatch.setattr(session, "TEMPORAL_TIMEOUT_SECONDS", 2.0)
    result = await asyncio.to_thread(lambda: invoke("refer", "c-1", "--event-id", "ref-1"))
    assert result.exit_code == 3, result.output
    assert result.stderr == (
        "Error: Temporal did not answer within 2 seconds. Is the worker running (`ips up` "
        "runs it)? The event may still be recorded once the worker runs: to be sure, send it "
        "again with --event-id ref-1 (a repeat is recorded once).\n"
    )
    assert ips.store.list_events() == []
