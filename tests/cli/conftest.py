"""Staff commands as staff type them: `cli.main.app` pointed at its stack by the
environment variables IPS_DATABASE_URL and IPS_TEMPORAL_ADDRESS, as `ips up`
leaves them.

- `ips`: the commands on a database of the test's own (SQLite, and PostgreSQL
  when IPS_TEST_POSTGRES_URL is set) and no Temporal at all (its address is a
  closed port), for what needs only the database.
- `stack`: the same with a real Temporal dev server (`local_env`, on the real
  clock: events happen today, 2026 or later) and a worker running the real
  journeys and activities. Its commands run in a thread of their own, as the
  worker needs the test's event loop while a command waits for it.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner, Result

from activities.journey import AgencySettings, JourneyActivities
from cli.main import app
from notifiers import RecordingNotifier
from store import Store
from worker import build_worker

TZ = "America/New_York"


def closed_port() -> int:
    """A port on which nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def today() -> date:
    """Today where the consumers live."""
    return datetime.now(ZoneInfo(TZ)).date()


def invoke(*args: str, token: str | None = None) -> Result:
    env = {"IPS_TOKEN": token} if token is not None else {}
    result = CliRunner().invoke(app, list(args), env=env)
    assert "Traceback" not in result.output, result.output
    return result


def succeeded(result: Result, args: tuple[str, ...]) -> str:
    """The output of a command that must succeed."""
    assert result.exit_code == 0, (args, result.exit_code, result.output)
    return result.stdout


def refused(result: Result, args: tuple[str, ...]) -> str:
    """The error of a command that must be refused (exit code 2), with nothing on stdout."""
    assert result.exit_code == 2, (args, result.exit_code, result.output)
    assert result.stdout == "", result.stdout
    return result.stderr


@dataclass
class Ips:
    """Runs `ips ...`; `store` is the database the commands write to, to look at."""

    store: Store

    def __call__(self, *args: str, token: str | None = None) -> Result:
        return invoke(*args, token=token)

    def ok(self, *args: str, token: str | None = None) -> str:
        return succeeded(invoke(*args, token=token), args)

    def refused(self, *args: str, token: str | None = None) -> str:
        return refused(invoke(*args, token=token), args)

    def json(self, *args: str, token: str | None = None) -> Any:
        return json.loads(self.ok(*args, "--json", token=token))

    def token(self, user_id: str) -> str:
        """A new token for a staff user, as the operator makes it."""
        return str(self.json("tokens", "create", user_id)["token"])


@dataclass
class Stack:
    """`Ips` with Temporal and a worker: each command is awaited."""

    store: Store

    async def __call__(self, *args: str, token: str | None = None) -> Result:
        return await asyncio.to_thread(lambda: invoke(*args, token=token))

    async def ok(self, *args: str, token: str | None = None) -> str:
        return succeeded(await self(*args, token=token), args)

    async def refused(self, *args: str, token: str | None = None) -> str:
        return refused(await self(*args, token=token), args)

    async def json(self, *args: str, token: str | None = None) -> Any:
        return json.loads(await self.ok(*args, "--json", token=token))

    async def token(self, user_id: str) -> str:
        return str((await self.json("tokens", "create", user_id))["token"])


@pytest.fixture
def ips(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Ips]:
    for variable in ("IPS_TOKEN", "IPS_POLICY_FILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("IPS_DATABASE_URL", database_url)
    monkeypatch.setenv("IPS_TEMPORAL_ADDRESS", f"127.0.0.1:{closed_port()}")
    store = Store(database_url)
    store.create_schema()
    yield Ips(store)
    store.dispose()


@pytest.fixture
async def stack(
    local_env: WorkflowEnvironment, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Stack]:
    for variable in ("IPS_TOKEN", "IPS_POLICY_FILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("IPS_DATABASE_URL", database_url)
    monkeypatch.setenv("IPS_TEMPORAL_ADDRESS", local_env.client.service_client.config.target_host)
    store = Store(database_url)
    store.create_schema()
    activities = JourneyActivities(store, RecordingNotifier(), AgencySettings())
    with ThreadPoolExecutor(max_workers=8) as executor:
        async with build_worker(local_env.client, activities, executor=executor):
            yield Stack(store)
    store.dispose()
