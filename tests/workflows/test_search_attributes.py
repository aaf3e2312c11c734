"""The journey's search attributes, as the server holds them (what a supervisor
filters by in the Temporal UI), follow the journey: Specialist and Team after the
referral and each reassignment, Phase, InOutreach, and NextDue, the earliest open
due day as the instant it begins in the consumer's zone (America/New_York)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus
from temporalio.common import TypedSearchAttributes

from rules import calendar
from store import SpecialistRecord, SupervisorRecord
from tests.workflows.conftest import CONSUMER, Journeys, save_history
from tests.workflows.test_journey import JOB
from workflows.search import PHASE, SEARCH_ATTRIBUTES

# A specialist on another supervisor's team, and one on no team.
OTHER_TEAM_SPECIALIST = "es-3"
NO_TEAM_SPECIALIST = "es-4"


def add_specialists(h: Journeys) -> None:
    h.store.upsert_supervisor(
        SupervisorRecord(
            id="sup-2", name="Lee Park", email="lee@example.org", timezone="America/Chicago"
        )
    )
    for specialist, supervisor in ((OTHER_TEAM_SPECIALIST, "sup-2"), (NO_TEAM_SPECIALIST, None)):
        h.store.upsert_specialist(
            SpecialistRecord(
                id=specialist,
                name="Robin Diaz",
                email=f"{specialist}@example.org",
                timezone="America/Chicago",
                channels=["email"],
                supervisor_id=supervisor,
            )
        )


def shown(attributes: TypedSearchAttributes) -> dict[str, Any]:
    """The journey's attributes by name; NextDue as an ISO instant in UTC."""
    values: dict[str, Any] = {key.name: attributes.get(key) for key in SEARCH_ATTRIBUTES}
    if values["NextDue"] is not None:
        values["NextDue"] = values["NextDue"].astimezone(UTC).isoformat()
    return values


def start_of(day: str) -> str:
    """The instant the consumer's local day begins, in UTC."""
    instant = calendar.start_of_day(datetime.fromisoformat(day).date(), "America/New_York")
    return instant.astimezone(UTC).isoformat()


def earliest_open_due(h: Journeys) -> str:
    """The start of the earliest due day among the open due contacts in the store."""
    return start_of(
        min(dc.due for dc in h.store.list_due_contacts(CONSUMER) if dc.status == "open").isoformat()
    )


async def upserts(h: Journeys) -> int:
    history = await h.handle().fetch_history()
    kind = EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
    return sum(event.event_type == kind for event in history.events)


async def test_the_attributes_follow_the_journey(journeys: Journeys) -> None:
    h = journeys
    add_specialists(h)

    await h.send("referred", "2041-01-07T10:00")
    # The first meeting is due by Mon 01-14 (EST: 05:00 UTC).
    assert shown(await h.search_attributes()) == {
        "Specialist": "es-1",
        "Team": "sup-1",
        "Phase": "referred",
        "InOutreach": False,
        "NextDue": "2041-01-14T05:00:00+00:00",
    }

    # Missed when 01-14 ends: outreach begins, its first attempt due 01-22.
    await h.sleep_until("2041-01-15T00:30")
    assert shown(await h.search_attributes()) == {
        "Specialist": "es-1",
        "Team": "sup-1",
        "Phase": "referred",
        "InOutreach": True,
        "NextDue": "2041-01-22T05:00:00+00:00",
    }
    # Nothing changed since: catching up again adds nothing to the history.
    before = await upserts(h)
    await h.catch_up()
    assert await upserts(h) == before

    # The first meeting opens the 30-day entry tasks; a contact ends outreach.
    await h.send("first_meeting", "2041-01-16T14:00")
    attributes = shown(await h.search_attributes())
    assert (attributes["Phase"], attributes["InOutreach"]) == ("job_search", True)
    await h.send("contact", "2041-01-16T15:00", method="phone")
    attributes = shown(await h.search_attributes())
    assert (attributes["Phase"], attributes["InOutreach"]) == ("job_search", False)
    assert attributes["NextDue"] == earliest_open_due(h) == start_of("2041-02-15")

    # A job that starts Mon 02-11 is pending until that day begins, in the consumer's zone.
    await h.send("job_started", "2041-02-04T09:00", start_date="2041-02-11", **JOB)
    assert (await h.search_attributes()).get(PHASE) == "job_pending"
    await h.sleep_until("2041-02-10T23:30")
    assert (await h.search_attributes()).get(PHASE) == "job_pending"
    await h.sleep_until("2041-02-11T00:30")
    attributes = shown(await h.search_attributes())
    assert attributes["Phase"] == "working"
    assert attributes["NextDue"] == earliest_open_due(h)

    # Reassigned to another team, then to a specialist on none.
    await h.send("reassigned", "2041-02-12T10:00", specialist=OTHER_TEAM_SPECIALIST)
    attributes = shown(await h.search_attributes())
    assert (attributes["Specialist"], attributes["Team"]) == (OTHER_TEAM_SPECIALIST, "sup-2")
    await h.send("reassigned", "2041-02-13T10:00", specialist=NO_TEAM_SPECIALIST)
    attributes = shown(await h.search_attributes())
    assert (attributes["Specialist"], attributes["Team"]) == (NO_TEAM_SPECIALIST, None)
    assert attributes["Phase"] == "working"

    # Closure: nothing is open any more.
    await h.send("services_declined", "2041-02-14T10:00", reason="moving away")
    assert await h.status() == WorkflowExecutionStatus.COMPLETED
    assert shown(await h.search_attributes()) == {
        "Specialist": NO_TEAM_SPECIALIST,
        "Team": None,
        "Phase": "closed",
        "InOutreach": False,
        "NextDue": None,
    }

    history = await h.handle().fetch_history()
    assert await h.replay([history]) == {}
    save_history("search_attributes", history)
