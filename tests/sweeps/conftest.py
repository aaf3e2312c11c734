"""Agency sweeps through the real workflows, worker and activities on the
time-skipping test server, with the store on SQLite and PostgreSQL
(`database_url`) and a recording notifier.

People on file: supervisor sup-1 (America/New_York); specialist es-1 (America/
New_York, sms and email, FTE 1) and es-2 (America/Los_Angeles, email, FTE 0.5),
both of sup-1's team. Consumers are added by each test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.journey import AgencySettings, JourneyActivities
from activities.sweeps import SweepInput, SweepResult, period_for
from notifiers import RecordingNotifier
from rules.policy import Policy
from store import ConsumerRecord, EventRecord, SpecialistRecord, Store, SupervisorRecord
from worker import build_worker
from workflows.client import run_sweep

NEW_YORK = "America/New_York"
LOS_ANGELES = "America/Los_Angeles"
APP_URL = "https://ips.test"


def load_people(store: Store) -> None:
    store.upsert_supervisor(
        SupervisorRecord(id="sup-1", name="Pat Kim", email="pat@example.org", timezone=NEW_YORK)
    )
    store.upsert_specialist(
        SpecialistRecord(
            id="es-1",
            name="Jordan Lee",
            email="jordan@example.org",
            phone="+15555550101",
            timezone=NEW_YORK,
            channels=["sms", "email"],
            supervisor_id="sup-1",
        )
    )
    store.upsert_specialist(
        SpecialistRecord(
            id="es-2",
            name="Robin Diaz",
            email="robin@example.org",
            timezone=LOS_ANGELES,
            channels=["email"],
            supervisor_id="sup-1",
            fte=0.5,
        )
    )


@dataclass
class Sweeps:
    env: WorkflowEnvironment
    store: Store
    notifier: RecordingNotifier
    worker: Worker
    policy: Policy

    def consumer(self, id: str, name: str, specialist: str, *, referred: datetime) -> None:
        """A consumer on the specialist's caseload, referred at `referred`."""
        self.store.upsert_consumer(
            ConsumerRecord(id=id, name=name, specialist_id=specialist, timezone=NEW_YORK)
        )
        self.store.record_event(
            EventRecord(
                event_id=f"{id}-referred",
                type="referred",
                at=referred,
                consumer_id=id,
                payload={},
                recorded_by=specialist,
                recorded_at=referred,
            )
        )

    async def run(
        self, sweep: str, recipient: str, at: datetime, tz: str = NEW_YORK
    ) -> SweepResult | None:
        data = SweepInput(
            sweep=sweep,
            recipient_id=recipient,
            period=period_for(sweep, at, tz),
            policy=self.policy,
            at=at,
        )
        return await run_sweep(self.env.client, data)


@pytest.fixture
async def sweeps(
    time_skipping_env: WorkflowEnvironment, database_url: str
) -> AsyncIterator[Sweeps]:
    store = Store(database_url)
    store.create_schema()
    load_people(store)
    notifier = RecordingNotifier()
    activities = JourneyActivities(store, notifier, AgencySettings(app_url=APP_URL))
    try:
        with ThreadPoolExecutor(max_workers=8) as executor:
            worker = build_worker(time_skipping_env.client, activities, executor=executor)
            async with worker:
                yield Sweeps(time_skipping_env, store, notifier, worker, Policy())
    finally:
        store.dispose()
