"""Schemathesis over the OpenAPI document, as an admin, against the real stack
(time-skipping Temporal, a worker, SQLite): whatever it sends, no answer is a
5xx and every answer matches the schema. Examples per operation are bounded so
that the run stays within a couple of minutes."""

from __future__ import annotations

import asyncio
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from schemathesis.checks import not_a_server_error
from schemathesis.hooks import HookContext
from schemathesis.specs.openapi.checks import response_schema_conformance
from temporalio.client import Client

import temporal_client
from activities.journey import AgencySettings, JourneyActivities
from api.app import create_app
from codec.payloads import pydantic_converter
from notifiers import RecordingNotifier
from rules import calendar
from rules.policy import Policy
from service import journeys
from service.access import LOCAL_ADMIN
from service.journeys import Services
from service.people import add_consumer, add_specialist, add_supervisor
from store import Store
from tests.api.conftest import TZ, WEBHOOK_SETTINGS, Clock, bearer, bootstrap_admin
from worker import build_worker

EXAMPLES_PER_OPERATION = 25
# Events reach the journey itself, past the checks every other route has: more.
EXAMPLES_OF_EVENTS = 150
START_TIMEOUT_SECONDS = 60


class BackgroundStack:
    """Temporal's test server and a worker in a thread of their own: schemathesis
    calls the app synchronously, from its own event loop."""

    def __init__(self, database_url: str) -> None:
        self.store = Store(database_url)
        self.store.create_schema()
        self.ready = threading.Event()
        self.stop = threading.Event()
        self.failure: BaseException | None = None
        self.target = ""
        self.thread = threading.Thread(target=self._run, name="fuzz-stack", daemon=True)

    def __enter__(self) -> BackgroundStack:
        self.thread.start()
        if not self.ready.wait(START_TIMEOUT_SECONDS) or self.failure is not None:
            self.stop.set()
            raise RuntimeError(f"the stack did not start: {self.failure!r}")
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=60)
        self.store.dispose()

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as failure:
            self.failure = failure
            self.ready.set()

    async def _main(self) -> None:
        async with await temporal_client.start_test_server() as env:
            self.target = env.client.service_client.config.target_host
            activities = JourneyActivities(self.store, RecordingNotifier(), AgencySettings())
            with ThreadPoolExecutor(max_workers=8) as executor:
                async with build_worker(env.client, activities, executor=executor):
                    await self._seed(env.client)
                    self.ready.set()
                    await asyncio.to_thread(self.stop.wait)

    async def _seed(self, client: Client) -> None:
        """A team with a referred consumer, so that reads and events meet real records."""

        async def connect() -> Client:
            return client

        store = self.store
        add_supervisor(
            store,
            LOCAL_ADMIN,
            {"id": "sup-1", "name": "Pat Kim", "email": "pat@example.org", "timezone": TZ},
        )
        add_specialist(
            store,
            LOCAL_ADMIN,
            {
                "id": "es-1",
                "name": "Jordan Lee",
                "email": "jordan@example.org",
                "timezone": TZ,
                "supervisor": "sup-1",
            },
        )
        add_consumer(
            store,
            LOCAL_ADMIN,
            {"id": "c-1", "name": "Alex Smith", "specialist": "es-1", "timezone": TZ},
        )
        await journeys.refer(Services(store, connect, Policy()), LOCAL_ADMIN, "c-1")
        self.admin_token = bootstrap_admin(store, datetime.now(UTC))

    def services(self) -> Services:
        async def connect() -> Client:
            # In schemathesis's event loop, where the app runs.
            return await Client.connect(self.target, data_converter=pydantic_converter)

        return Services(self.store, connect, Policy(), now=Clock())


async def _nowhere() -> Client:
    raise RuntimeError("the app is not connected to the fuzz stack yet")


# The schema is read from the app when this module loads (schemathesis makes one
# test per operation of it); the `fuzz_stack` fixture then gives the app its
# real services.
_UNOPENED = Store(f"sqlite:///{Path(tempfile.gettempdir()) / 'ips-fuzz-never-opened.db'}")
# The webhooks configured, so that what schemathesis sends them meets the signature
# checks (it cannot sign: every answer is a 403).
APP = create_app(Services(_UNOPENED, _nowhere, Policy()), WEBHOOK_SETTINGS)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


# Records the seed holds, by path parameter and path.
SEEDED = {"/supervisors": "sup-1", "/teams": "sup-1", "/specialists": "es-1",
          "/consumers": "c-1", "/users": "admin"}  # fmt: skip


@schema.hook
def flatmap_path_parameters(
    context: HookContext, path_parameters: dict[str, Any]
) -> SearchStrategy[dict[str, Any]]:
    """Half the time a record that exists: random ids mostly meet a 404."""
    path = context.operation.path if context.operation is not None else ""
    seeded = next((id for prefix, id in SEEDED.items() if path.startswith(prefix + "/")), None)
    name = "supervisor_id" if path.startswith("/teams") else "id"
    if seeded is None or name not in path_parameters:
        return st.just(path_parameters)
    return st.sampled_from([path_parameters, {**path_parameters, name: seeded}])


@schema.hook
def flatmap_body(context: HookContext, body: Any) -> SearchStrategy[Any]:
    """Half the events dated now: a random date lies mostly before the referral or
    ahead of the clock, and the event would be refused before the journey saw it."""
    path = context.operation.path if context.operation is not None else ""
    if not path.endswith(("/events", "/employer-contacts")) or not isinstance(body, dict):
        return st.just(body)
    now = calendar.to_local(datetime.now(UTC), TZ).replace(tzinfo=None).isoformat()
    return st.sampled_from([body, {**body, "at": now}])


@pytest.fixture(scope="module")
def fuzz_stack(
    temporal_test_server_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BackgroundStack]:
    database = tmp_path_factory.mktemp("fuzz") / "ips.db"
    with BackgroundStack(f"sqlite:///{database}") as stack:
        placeholder = APP.state.services
        APP.state.services = stack.services()
        try:
            yield stack
        finally:
            APP.state.services = placeholder


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_answer_is_a_server_error_or_off_schema(case: Any, fuzz_stack: BackgroundStack) -> None:
    case.call_and_validate(
        headers=bearer(fuzz_stack.admin_token),
        checks=[not_a_server_error, response_schema_conformance],
    )


@schema.include(method="POST", path="/consumers/{id}/events").parametrize()
@settings(
    max_examples=EXAMPLES_OF_EVENTS,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_events_of_any_kind_are_answered_within_the_schema(
    case: Any, fuzz_stack: BackgroundStack
) -> None:
    case.call_and_validate(
        headers=bearer(fuzz_stack.admin_token),
        checks=[not_a_server_error, response_schema_conformance],
    )
