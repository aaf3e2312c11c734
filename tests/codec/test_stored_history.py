"""With IPS_ENCRYPTION_KEYS set, what the Temporal dev server keeps of a journey
holds no PHI: not in the history a client without the keys reads, not in the
bytes of its SQLite file. Without the keys, the same journey's free text is
there in the clear, which shows that the search below finds what it looks for.

A real dev server on free loopback ports, its database in the test's folder; a
real worker with the journeys' activities; the events recorded through the
service layer as the API records them, the text through the Twilio webhook's
path (the consumer is found by phone number).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.testing import WorkflowEnvironment

import temporal_client
from activities.journey import AgencySettings, JourneyActivities
from codec import ENCODING, ENCRYPTION_KEYS_VARIABLE, new_key_entry
from notifiers import RecordingNotifier
from rules.policy import Policy
from service import journeys
from service.access import LOCAL_ADMIN
from service.journeys import Services
from service.people import add_consumer, add_specialist, add_supervisor
from store import Store
from worker import build_worker
from workflows.journey import journey_id
from workflows.search import dev_server_args

TZ = "America/New_York"
CONSUMER = "c-7"
NAME = "Ottoline Quarrington"
PHONE = "+15555550187"
# What staff and the consumer write: each one only ever typed into an event.
TEXT_BODY = "Quarrington here, I got the Zephyrine job! Call me on 555-555-0187"
EMPLOYER = "Zephyrine Bakery of Marlowe Street"
TITLE = "Sourdough apprentice"
PLACE = "Lindqvist Community Hall, room 4"
FREE_TEXT = (TEXT_BODY, EMPLOYER, TITLE, PLACE)
# The name and the number as they would appear anywhere.
PHI = (NAME, "Quarrington", PHONE, "5555550187", "555-555-0187", *FREE_TEXT)


@pytest.fixture
def keys(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[bool]:
    if request.param:
        monkeypatch.setenv(ENCRYPTION_KEYS_VARIABLE, new_key_entry("k-test"))
    else:
        monkeypatch.delenv(ENCRYPTION_KEYS_VARIABLE, raising=False)
    yield request.param


async def _journey_on_a_dev_server(
    cli: Path, database: Path, store: Store
) -> tuple[WorkflowHistory, WorkflowHistory]:
    """Run the journey; the history as a client without keys reads it, and as the
    app's own client (with the keys, if any) reads it."""
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(cli),
        dev_server_database_filename=str(database),
        data_converter=temporal_client.data_converter(),
        dev_server_extra_args=dev_server_args(),
    ) as env:
        app_client = await temporal_client.connect(env.client.service_client.config.target_host)

        async def connect() -> Client:
            return app_client

        services = Services(store, connect, Policy())
        activities = JourneyActivities(store, RecordingNotifier(), AgencySettings())
        now = datetime.now(UTC).replace(microsecond=0)
        today = now.astimezone(ZoneInfo(TZ)).date()
        with ThreadPoolExecutor(max_workers=4) as executor:
            async with build_worker(app_client, activities, executor=executor):
                await journeys.refer(services, LOCAL_ADMIN, CONSUMER, at=now)
                for data in (
                    {"type": "sms_consent_recorded", "disclosure_version": "v1"},
                    {
                        "type": "job_started",
                        "job_id": "j-1",
                        "employer": EMPLOYER,
                        "title": TITLE,
                        "start_date": today.isoformat(),
                        "hours_per_week": 20,
                        "hourly_wage": 17.5,
                        "competitive": True,
                    },
                    {
                        "type": "appointment_scheduled",
                        "appointment_id": "a-1",
                        "start": now.replace(year=now.year + 1).isoformat(),
                        "duration_minutes": 30,
                        "place": PLACE,
                    },
                ):
                    await journeys.record_event(
                        services, LOCAL_ADMIN, CONSUMER, {**data, "at": now}
                    )
                recorded = await journeys.record_text_from_consumer(
                    services, message_sid="SM0001", from_number=PHONE, body=TEXT_BODY
                )
                assert recorded == [CONSUMER]
        raw_client = await Client.connect(env.client.service_client.config.target_host)
        raw = await raw_client.get_workflow_handle(journey_id(CONSUMER)).fetch_history()
        readable = await app_client.get_workflow_handle(journey_id(CONSUMER)).fetch_history()
    return raw, readable


def _history_bytes(history: WorkflowHistory) -> bytes:
    return b"".join(event.SerializeToString() for event in history.events)


def _files_bytes(database: Path) -> bytes:
    # The database and whatever journal or WAL files SQLite left beside it.
    files = sorted(database.parent.glob(database.name + "*"))
    assert database in files
    return b"".join(path.read_bytes() for path in files)


async def _updates_the_app_reads(app_client_history: WorkflowHistory) -> bytes:
    """The events' arguments, decoded by the app's own data converter."""
    converter = temporal_client.data_converter()
    texts = []
    for event in app_client_history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            request = event.workflow_execution_update_accepted_event_attributes.accepted_request
            decoded = await converter.decode(request.input.args.payloads)
            texts.append(repr(decoded).encode())
    return b"\n".join(texts)


@pytest.mark.timeout(180)
@pytest.mark.parametrize("keys", [True, False], ids=["with-keys", "without-keys"], indirect=True)
async def test_the_stored_history_holds_phi_only_without_keys(
    keys: bool, temporal_cli_path: Path, tmp_path: Path
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'ips.db'}")
    store.create_schema()
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
        {"id": CONSUMER, "name": NAME, "phone": PHONE, "specialist": "es-1", "timezone": TZ},
    )
    database = tmp_path / "temporal" / "temporal.db"
    database.parent.mkdir()
    try:
        raw, readable = await _journey_on_a_dev_server(temporal_cli_path, database, store)
    finally:
        store.dispose()

    # The journey took every event, and the app itself reads them back in full.
    app_reads = await _updates_the_app_reads(readable)
    for text in FREE_TEXT:
        assert text.encode() in app_reads
    stored = {"history": _history_bytes(raw), "SQLite file": _files_bytes(database)}
    if keys:
        for where, found in stored.items():
            leaked = [phi for phi in PHI if phi.encode() in found]
            assert leaked == [], f"in the {where}"
        assert ENCODING in stored["history"]
    else:
        for where, found in stored.items():
            missing = [text for text in FREE_TEXT if text.encode() not in found]
            assert missing == [], f"not in the {where}"
        assert ENCODING not in stored["history"]
