"""A journey through the real workflow, worker and activities on the time-skipping
test server, with a SQLite store and a recording notifier.

`journeys` starts a worker and hands out a `Journeys` harness:

- `at("2041-01-07T10:00")`: the consumer's local wall-clock time, as an instant;
- `sleep_until(instant)`: lets Temporal's clock run to `instant` (timers fire
  on the way), then has every running journey catch up, so that what was due
  by then is in the store when the test looks;
- `send(type, at, **fields)`: sleeps to `at`, then records the event through
  `workflows.client.send_event`, as the API and `ips simulate` do.

The test server's clock starts at today's real date and only moves forward:
every date here lies in 2041 or later.

People on file: specialist es-1 (America/Chicago, channels sms and email) and
es-2 (America/Denver, email);
consumer c-1 (America/New_York) with no treatment-team member; consumer c-2
(America/New_York) with treatment-team member cm-1 (email and phone). The
specialist is an hour behind the consumers so that a reminder's 08:00 in the
specialist's zone cannot be mistaken for 08:00 in the consumer's.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import AsyncIterator, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.common.v1 import SearchAttributes, WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.workflow.v1 import WorkflowExecutionInfo
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowHistory,
    WorkflowUpdateFailedError,
)
from temporalio.common import TypedSearchAttributes
from temporalio.converter import DataConverter, decode_typed_search_attributes
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.journey import AgencySettings, JourneyActivities
from codec.payloads import pydantic_converter
from notifiers import RecordingNotifier
from rules import calendar
from rules.events import EventEnvelope
from rules.journey import JourneyView
from rules.policy import Policy
from store import (
    ConsumerRecord,
    DueContactRecord,
    NotificationRecord,
    SpecialistRecord,
    Store,
    SupervisorRecord,
    TreatmentTeamMember,
)
from worker import build_replayer, build_worker
from workflows.client import send_event
from workflows.journey import ConsumerJourney, journey_id

CONSUMER_TZ = "America/New_York"
SPECIALIST_TZ = "America/Chicago"
SPECIALIST = "es-1"
# A second specialist (America/Denver, email only), for reassignments.
OTHER_SPECIALIST = "es-2"
CONSUMER = "c-1"
# The consumer whose treatment-team member gets copies of late outreach reminders.
CONSUMER_WITH_TEAM = "c-2"
TEAM_MEMBER = "cm-1"

HISTORIES_DIR = Path(__file__).parent / "histories"
REFRESH_HISTORIES = "IPS_REFRESH_HISTORIES"


def load_people(store: Store) -> None:
    store.upsert_supervisor(
        SupervisorRecord(
            id="sup-1", name="Pat Kim", email="pat@example.org", timezone=SPECIALIST_TZ
        )
    )
    store.upsert_specialist(
        SpecialistRecord(
            id=SPECIALIST,
            name="Jordan Lee",
            email="jordan@example.org",
            phone="+15555550101",
            timezone=SPECIALIST_TZ,
            channels=["sms", "email"],
            supervisor_id="sup-1",
        )
    )
    store.upsert_specialist(
        SpecialistRecord(
            id=OTHER_SPECIALIST,
            name="Sam Ortiz",
            email="sam@example.org",
            timezone="America/Denver",
            channels=["email"],
            supervisor_id="sup-1",
        )
    )
    store.upsert_consumer(
        ConsumerRecord(
            id=CONSUMER,
            name="Alex Smith",
            specialist_id=SPECIALIST,
            timezone=CONSUMER_TZ,
            phone="+15555550123",
        )
    )
    store.upsert_consumer(
        ConsumerRecord(
            id=CONSUMER_WITH_TEAM,
            name="Blake Jones",
            specialist_id=SPECIALIST,
            timezone=CONSUMER_TZ,
            phone="+15555550124",
            treatment_team_member=TreatmentTeamMember(
                id=TEAM_MEMBER,
                name="Casey Wu",
                role="case_manager",
                email="casey@example.org",
                phone="+15555550233",
            ),
        )
    )


def row(dc: DueContactRecord) -> tuple[Any, ...]:
    """A due contact as a user reads it: (rule, job_id, seq, window_start, due,
    status, satisfied_on), dates as ISO strings."""
    return (
        dc.rule,
        dc.job_id,
        dc.seq,
        dc.window_start.isoformat(),
        dc.due.isoformat(),
        dc.status,
        dc.satisfied_on.isoformat() if dc.satisfied_on else None,
    )


def local_send_at(n: NotificationRecord) -> str:
    """`send_at` with the recipient's UTC offset, as `ips simulate` writes it."""
    return n.send_at.astimezone(calendar.zone(n.recipient_timezone)).isoformat()


@dataclass
class Journeys:
    env: WorkflowEnvironment
    store: Store
    notifier: RecordingNotifier
    worker: Worker
    policy: Policy = field(default_factory=Policy)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def client(self) -> Client:
        return self.env.client

    # ------------------------------------------------------------ time

    def at(self, local: str) -> datetime:
        """The instant the consumer's clock shows `local` ("2041-01-07T10:00")."""
        return calendar.to_local(datetime.fromisoformat(local), CONSUMER_TZ)

    def end_of(self, day: str) -> datetime:
        """The end of the consumer's local day `day`: its due contacts are settled."""
        return calendar.end_of_day(date.fromisoformat(day), CONSUMER_TZ)

    async def _run_clock_to(self, instant: datetime) -> None:
        gap = instant - await self.env.get_current_time()
        if gap.total_seconds() > 0:
            await self.env.sleep(gap)

    async def sleep_until(self, instant: datetime | str, *consumers: str) -> None:
        """Let Temporal's clock run to `instant` (the consumer's local time when a
        string), then have the journeys of `consumers` (default c-1 and c-2)
        handle everything due by then."""
        await self._run_clock_to(self.at(instant) if isinstance(instant, str) else instant)
        for consumer in consumers or (CONSUMER, CONSUMER_WITH_TEAM):
            await self.catch_up(consumer)

    async def catch_up(self, consumer: str = CONSUMER) -> JourneyView | None:
        """The journey's view once it has handled everything due by now; None
        when it is not running."""
        try:
            return await self.handle(consumer).execute_update(ConsumerJourney.catch_up)
        except (WorkflowUpdateFailedError, RPCError):
            return None

    # ------------------------------------------------------------ events

    def envelope(
        self,
        type: str,
        at: datetime | str,
        *,
        consumer: str = CONSUMER,
        event_id: str | None = None,
        recorded_by: str | None = SPECIALIST,
        **fields: Any,
    ) -> EventEnvelope:
        when = at.isoformat() if isinstance(at, datetime) else at
        return EventEnvelope(
            event_id=event_id or f"{consumer}-{type}-{next(self._ids)}",
            type=type,
            at=when,
            consumer=consumer,
            recorded_by=recorded_by,
            fields=fields,
        )

    async def send(
        self,
        type: str,
        at: datetime | str,
        *,
        consumer: str = CONSUMER,
        event_id: str | None = None,
        **fields: Any,
    ) -> JourneyView:
        """Sleep to `at` (local time of the consumer when a string), then record the event."""
        await self._run_clock_to(self.at(at) if isinstance(at, str) else at)
        envelope = self.envelope(type, at, consumer=consumer, event_id=event_id, **fields)
        return await send_event(self.client, self.store, envelope, self.policy)

    async def send_envelope(self, envelope: EventEnvelope) -> JourneyView:
        """Record an envelope as it is, at Temporal's current time."""
        return await send_event(self.client, self.store, envelope, self.policy)

    # ------------------------------------------------------------ reading back

    def handle(
        self, consumer: str = CONSUMER, run_id: str | None = None
    ) -> WorkflowHandle[Any, Any]:
        return self.client.get_workflow_handle(journey_id(consumer), run_id=run_id)

    async def state(self, consumer: str = CONSUMER) -> JourneyView:
        view = await self.handle(consumer).query(ConsumerJourney.state)
        assert view is not None
        return view

    def due_contacts(
        self, rule: str | None = None, consumer: str = CONSUMER
    ) -> list[tuple[Any, ...]]:
        """The consumer's due contacts in the store, as `row`s (of one rule if given)."""
        return [
            row(dc)
            for dc in self.store.list_due_contacts(consumer)
            if rule is None or dc.rule == rule
        ]

    def notifications(self, consumer: str = CONSUMER, **match: Any) -> list[NotificationRecord]:
        return [
            n
            for n in self.store.list_notifications()
            if n.consumer_id == consumer and all(getattr(n, k) == v for k, v in match.items())
        ]

    async def describe(self, consumer: str = CONSUMER) -> WorkflowExecutionInfo:
        """The journey's latest run as the server describes it.

        Read raw: the test server keeps an unset Datetime search attribute
        (NextDue) as a null, which `WorkflowHandle.describe` cannot decode; the
        real server drops it."""
        response = await self.client.workflow_service.describe_workflow_execution(
            DescribeWorkflowExecutionRequest(
                namespace=self.client.namespace,
                execution=WorkflowExecution(workflow_id=journey_id(consumer)),
            )
        )
        return response.workflow_execution_info

    async def search_attributes(self, consumer: str = CONSUMER) -> TypedSearchAttributes:
        """The search attributes of the journey's latest run, as the server holds them."""
        held = SearchAttributes()
        held.CopyFrom((await self.describe(consumer)).search_attributes)
        for name, value in list(held.indexed_fields.items()):
            if value.metadata.get("encoding") == b"binary/null":
                del held.indexed_fields[name]  # unset
        return decode_typed_search_attributes(held)

    async def run_ids(self, consumer: str = CONSUMER) -> list[str]:
        """Every run of the journey, oldest first, following continue-as-new links
        back from the latest run (the test server has no visibility store)."""
        run_ids = [(await self.describe(consumer)).execution.run_id]
        while True:
            history = await self.handle(consumer, run_ids[0]).fetch_history()
            started = history.events[0].workflow_execution_started_event_attributes
            previous = started.continued_execution_run_id
            if not previous:
                return run_ids
            run_ids.insert(0, previous)

    async def histories(self, consumer: str = CONSUMER) -> list[WorkflowHistory]:
        """The history of every run of the current chain, oldest first."""
        return [
            await self.handle(consumer, run_id).fetch_history()
            for run_id in await self.run_ids(consumer)
        ]

    async def status(self, consumer: str = CONSUMER) -> WorkflowExecutionStatus:
        return WorkflowExecutionStatus((await self.describe(consumer)).status)

    async def replay(
        self,
        histories: Iterable[WorkflowHistory],
        data_converter: DataConverter = pydantic_converter,
    ) -> dict[str, Exception]:
        """Replay failures of `histories` (by run id): none, if the code is deterministic."""
        return await replay(self.worker, histories, data_converter)


async def replay(
    worker: Worker,
    histories: Iterable[WorkflowHistory],
    data_converter: DataConverter = pydantic_converter,
) -> dict[str, Exception]:
    """Replay histories with the journey code as it is now, configured as `worker`
    is (same workflow and sandbox; the data converter is the worker's unless
    given); the failures by run id."""

    async def each() -> AsyncIterator[WorkflowHistory]:
        for history in histories:
            yield history

    replayer = build_replayer(data_converter)
    results = await replayer.replay_workflows(each(), raise_on_replay_failure=False)
    return dict(results.replay_failures)


def save_history(name: str, history: WorkflowHistory) -> None:
    """Write `history` to histories/<name>.json when IPS_REFRESH_HISTORIES is set
    and no such file exists yet: a saved history is the proof that journeys
    recorded by older code still replay, so it is never overwritten (see
    histories/README.md)."""
    path = HISTORIES_DIR / f"{name}.json"
    if os.environ.get(REFRESH_HISTORIES) and not path.exists():
        HISTORIES_DIR.mkdir(exist_ok=True)
        text = json.dumps(json.loads(history.to_json()), indent=1) + "\n"
        path.write_text(text, encoding="utf-8")


def accepted_update_args(history: WorkflowHistory) -> list[bytes]:
    """The encoded arguments of every update the workflow accepted."""
    args: list[bytes] = []
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            request = event.workflow_execution_update_accepted_event_attributes.accepted_request
            args.extend(p.data for p in request.input.args.payloads)
    return args


@pytest.fixture
async def journeys(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> AsyncIterator[Journeys]:
    store = Store(f"sqlite:///{tmp_path / 'ips.db'}")
    store.create_schema()
    load_people(store)
    notifier = RecordingNotifier()
    activities = JourneyActivities(store, notifier, AgencySettings(sender_label="Wellspring Works"))
    try:
        with ThreadPoolExecutor(max_workers=8) as executor:
            worker = build_worker(time_skipping_env.client, activities, executor=executor)
            async with worker:
                yield Journeys(time_skipping_env, store, notifier, worker)
    finally:
        store.dispose()
