"""Bad input (SPEC §4): `send_event` raises `EventError` naming the field, and
nothing is recorded: no audit row, no due contact changed, and no update
accepted into the workflow history (the update validator turned it away)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from rules.events import EventError
from tests.workflows.conftest import Journeys, accepted_update_args
from tests.workflows.test_journey import JOB, open_journey

BAD_ID = "bad-event-1"


async def accepted_updates(h: Journeys, consumer: str = "c-1") -> list[bytes]:
    return [arg for history in await h.histories(consumer) for arg in accepted_update_args(history)]


async def assert_refused(
    h: Journeys, type: str, at: str, field: str, consumer: str = "c-1", **fields: Any
) -> EventError:
    events_before = h.store.list_events()
    due_before = h.store.list_due_contacts()
    updates_before = await accepted_updates(h, consumer)

    with pytest.raises(EventError) as refused:
        await h.send(type, at, consumer=consumer, event_id=BAD_ID, **fields)

    assert refused.value.field == field, refused.value
    assert h.store.list_events() == events_before
    assert h.store.list_due_contacts() == due_before
    updates_after = await accepted_updates(h, consumer)
    assert updates_after == updates_before
    assert not any(BAD_ID.encode() in arg for arg in updates_after)
    return refused.value


async def job_started(h: Journeys) -> None:
    await open_journey(h)
    await h.send("job_started", "2041-02-04T09:00", start_date="2041-02-04", **JOB)


ENDED = "job_ended"


@pytest.mark.parametrize(
    ("type", "fields", "field"),
    [
        pytest.param(
            "contact", {"method": "face_to_face", "colour": "red"}, "colour", id="unknown-field"
        ),
        pytest.param("contact", {"method": "carrier_pigeon"}, "method", id="bad-method"),
        pytest.param("contact", {}, "method", id="missing-field"),
        pytest.param("job_started", {**JOB, "job_id": "j-2"}, "start_date", id="no-start-date"),
        pytest.param(
            ENDED, {"job_id": "j-9", "end_date": "2041-02-05"}, "job_id", id="unknown-job"
        ),
        pytest.param(
            ENDED, {"job_id": "j-1", "end_date": "2041-02-01"}, "end_date", id="end<start"
        ),
        pytest.param("job_started", {**JOB, "start_date": "2041-02-05"}, "job_id", id="job-twice"),
        pytest.param("first_meeting", {}, "type", id="first-meeting-twice"),
        pytest.param("referred", {}, "type", id="referred-while-open"),
        pytest.param("no_such_event", {}, "type", id="unknown-type"),
    ],
)
async def test_an_invalid_event_is_refused_and_changes_nothing(
    journeys: Journeys, type: str, fields: dict[str, Any], field: str
) -> None:
    h = journeys
    await job_started(h)
    run_id = (await h.handle().describe()).run_id

    await assert_refused(h, type, "2041-02-06T10:00", field, **fields)

    # Still the same run, and the journey takes valid events as before.
    assert (await h.handle().describe()).run_id == run_id
    await h.send("contact", "2041-02-06T11:00", method="face_to_face")
    assert h.due_contacts("post_start_contact")[0][5:] == ("done", "2041-02-06")


async def test_an_event_dated_before_the_referral_is_refused(journeys: Journeys) -> None:
    h = journeys
    await open_journey(h)
    await h.sleep_until("2041-01-20T10:00")
    events_before = h.store.list_events()

    with pytest.raises(EventError) as refused:
        await h.send_envelope(h.envelope("contact", "2041-01-02T10:00", method="phone"))

    assert refused.value.field == "at"
    assert h.store.list_events() == events_before


async def test_an_event_in_the_future_is_refused(journeys: Journeys) -> None:
    h = journeys
    await open_journey(h)
    await h.sleep_until("2041-01-20T10:00")
    events_before = h.store.list_events()

    with pytest.raises(EventError) as refused:
        await h.send_envelope(h.envelope("contact", "2041-01-21T10:00", method="phone"))

    assert refused.value.field == "at"
    assert h.store.list_events() == events_before


@pytest.mark.parametrize(
    ("type", "fields"),
    [
        ("contact", {"method": "face_to_face"}),
        ("first_meeting", {}),
        ("job_started", {**JOB, "job_id": "j-2", "start_date": "2041-03-01"}),
        (
            "outreach_attempt",
            {"by": "es-1", "role": "specialist", "method": "phone", "reached": True},
        ),
        ("services_declined", {"reason": "again"}),
    ],
)
async def test_after_services_declined_only_a_referral_is_taken(
    journeys: Journeys, type: str, fields: dict[str, Any]
) -> None:
    h = journeys
    await job_started(h)
    await h.send("services_declined", "2041-02-20T10:00", reason="moving away")

    refused = await assert_refused(h, type, "2041-02-25T10:00", "consumer", **fields)

    assert "referral" in refused.reason


async def test_an_event_for_a_consumer_without_a_journey_is_refused(journeys: Journeys) -> None:
    h = journeys
    with pytest.raises(EventError) as refused:
        await h.send("contact", "2041-01-07T10:00", method="phone")

    assert refused.value.field == "consumer"
    assert h.store.list_events() == []


async def test_a_referral_of_an_unknown_consumer_is_refused(journeys: Journeys) -> None:
    h = journeys
    with pytest.raises(EventError) as refused:
        await asyncio.wait_for(h.send("referred", "2041-01-07T10:00", consumer="c-9"), 30)

    assert refused.value.field == "consumer"
    assert h.store.list_events() == []
    assert h.store.list_due_contacts() == []
