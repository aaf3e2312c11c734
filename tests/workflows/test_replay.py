"""Replay: the journey code must stay deterministic for every journey already
running, however old its history.

The histories under `histories/` were recorded by earlier versions of the code
and are replayed by `test_saved_histories_replay`: a change to
`workflows/journey.py` (or to the rules and activities it calls) that would
break running journeys fails there. They are never refreshed in place (see
`histories/README.md` and docs/upgrades.md): a change that adds a step puts it
behind `workflow.patched` and records a new history of its own with

    IPS_REFRESH_HISTORIES=1 .venv/bin/python -m pytest tests/workflows/test_x.py::test_new

and commits it with the change.

The histories recorded before the patch `search-attributes`
(`full_journey_closed`, `continued_run`, `provider_opt_out`) are the journeys
already running without search attributes; `search_attributes.json` (written
by test_search_attributes.py) is a journey recorded with them.
"""

from __future__ import annotations

import json

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory

import temporal_client
from codec import ENCRYPTION_KEYS_VARIABLE, new_key_entry
from tests.workflows.conftest import (
    CONSUMER_WITH_TEAM,
    HISTORIES_DIR,
    OTHER_SPECIALIST,
    Journeys,
    save_history,
)
from tests.workflows.test_journey import JOB

C2 = CONSUMER_WITH_TEAM


async def full_journey(h: Journeys) -> None:
    """Referral, a missed first meeting and outreach, texts, a job from start to
    loss, a reassignment, and closure: every activity and timer the journey has."""
    c = {"consumer": C2}
    await h.send("referred", "2041-01-07T10:00", **c)
    # The first meeting is missed (due 01-14): outreach, with the team member
    # copied after two unreached specialist attempts.
    for day in ("2041-01-16", "2041-01-23"):
        await h.send(
            "outreach_attempt",
            f"{day}T10:00",
            by="es-1",
            role="specialist",
            method="phone",
            reached=False,
            **c,
        )
    await h.sleep_until(h.end_of("2041-02-06"), C2)
    await h.send("first_meeting", "2041-02-07T10:00", **c)
    await h.send("contact", "2041-02-07T11:00", method="face_to_face", place="office", **c)
    await h.send("sms_consent_recorded", "2041-02-07T11:30", disclosure_version="v1", **c)
    await h.send("sms_reply", "2041-02-07T11:35", body="Yes!", **c)
    await h.send(
        "appointment_scheduled",
        "2041-02-08T09:00",
        appointment_id="a-1",
        start="2041-02-14T14:00",
        duration_minutes=60,
        place="Main St Library",
        **c,
    )
    await h.send(
        "appointment_scheduled",
        "2041-02-08T09:05",
        appointment_id="a-2",
        start="2041-02-21T10:00",
        duration_minutes=30,
        place="Office",
        **c,
    )
    await h.send("appointment_cancelled", "2041-02-12T09:00", appointment_id="a-2", **c)
    await h.send(
        "employer_contact",
        "2041-02-14T15:00",
        specialist="es-1",
        employer="Acme",
        face_to_face=True,
        **c,
    )
    await h.send("vocational_profile_completed", "2041-02-15T10:00", **c)
    await h.send("job_started", "2041-03-01T10:00", start_date="2041-03-04", **JOB, **c)
    await h.send("benefits_planning_offered", "2041-03-01T11:00", **c)
    for day in ("2041-03-02", "2041-03-05", "2041-03-12"):
        await h.send("contact", f"{day}T10:00", method="face_to_face", **c)
    await h.send("job_changed", "2041-03-15T10:00", job_id="j-1", hourly_wage=17.0, **c)
    # Weekly 3 [03-19, 03-25] is missed: a second outreach episode, ended by a reached attempt.
    await h.send(
        "outreach_attempt",
        "2041-03-28T10:00",
        by="cm-1",
        role="case_manager",
        method="home_visit",
        reached=True,
        **c,
    )
    await h.send("job_ended", "2041-04-15T10:00", job_id="j-1", end_date="2041-04-12", **c)
    await h.send("contact", "2041-04-16T10:00", method="phone", **c)
    await h.send("reassigned", "2041-04-20T10:00", specialist=OTHER_SPECIALIST, **c)
    await h.send("sms_reply", "2041-04-21T10:00", body="help", **c)
    await h.sleep_until(h.end_of("2041-05-20"), C2)
    await h.send("services_declined", "2041-05-21T10:00", reason="moving away", **c)


async def test_a_full_journey_and_its_reopening_replay(journeys: Journeys) -> None:
    h = journeys
    await full_journey(h)
    closed = await h.handle(C2).fetch_history()
    await h.send("referred", "2041-06-03T10:00", consumer=C2)
    await h.sleep_until(h.end_of("2041-06-20"), C2)
    reopened = await h.handle(C2).fetch_history()

    # What this history holds, so that the replay below is worth something.
    kinds = {n.kind for n in h.notifications(C2)}
    assert {"due_soon", "due_today", "overdue", "appointment_reminder"} <= kinds
    assert {"opt_in_confirmation", "help_reply"} <= kinds
    assert {n.recipient_role for n in h.notifications(C2)} >= {
        "specialist",
        "treatment_team_member",
        "consumer",
    }
    assert closed.events[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED
    assert closed.run_id != reopened.run_id

    assert await h.replay([closed, reopened]) == {}
    save_history("full_journey_closed", closed)


def saved_histories() -> list[WorkflowHistory]:
    return [
        WorkflowHistory.from_json(f"journey-{path.stem}", path.read_text(encoding="utf-8"))
        for path in sorted(HISTORIES_DIR.glob("*.json"))
    ]


async def test_saved_histories_replay(journeys: Journeys) -> None:
    histories = saved_histories()
    assert len(histories) >= 2, f"no saved histories in {HISTORIES_DIR}"

    assert await journeys.replay(histories) == {}


async def test_saved_histories_replay_once_encryption_is_switched_on(journeys: Journeys) -> None:
    """Journeys recorded before IPS_ENCRYPTION_KEYS was set keep running after: their
    unencrypted payloads pass through the codec."""
    histories = saved_histories()
    converter = temporal_client.data_converter({ENCRYPTION_KEYS_VARIABLE: new_key_entry("k1")})
    assert converter.payload_codec is not None

    assert await journeys.replay(histories, converter) == {}


def test_the_saved_histories_hold_journeys_with_and_without_search_attributes() -> None:
    """Journeys recorded before the search-attributes patch upsert nothing and
    must replay without; those recorded after upsert them and must replay with
    them: `test_saved_histories_replay` replays both kinds."""
    upserts = EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
    upserted = {
        history.workflow_id: sum(event.event_type == upserts for event in history.events)
        for history in saved_histories()
    }
    for before_the_patch in ("full_journey_closed", "continued_run", "provider_opt_out"):
        assert upserted[f"journey-{before_the_patch}"] == 0, before_the_patch
    assert upserted["journey-search_attributes"] >= 5


async def test_replaying_a_history_that_the_code_would_not_produce_fails(
    journeys: Journeys,
) -> None:
    """The guard above can fail: a history whose first activity is not the one
    the journey schedules does not replay."""
    path = HISTORIES_DIR / "full_journey_closed.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    scheduled = next(e for e in data["events"] if "activityTaskScheduledEventAttributes" in e)
    scheduled["activityTaskScheduledEventAttributes"]["activityType"]["name"] = "send_fax"
    tampered = WorkflowHistory.from_json("journey-tampered", data)

    failures = await journeys.replay([tampered])

    assert list(failures) == [tampered.run_id]
