"""The journey's life as the `state` query and Temporal show it: phases from
referral to step-down, closure on `services_declined` (the run completes), and a
new run on a later referral (SPEC §2, §4, §5)."""

from __future__ import annotations

from datetime import date

from temporalio.client import WorkflowExecutionStatus

from rules.journey import JourneyView
from tests.workflows.conftest import Journeys
from tests.workflows.test_journey import JOB, open_journey


def seen(view: JourneyView) -> tuple[str, bool, bool]:
    return (view.phase, view.in_outreach, view.closed)


async def test_phases_from_referral_to_step_down(journeys: Journeys) -> None:
    h = journeys
    view = await h.send("referred", "2041-01-07T10:00")
    assert seen(view) == seen(await h.state()) == ("referred", False, False)

    await h.send("first_meeting", "2041-01-09T14:00")
    assert seen(await h.state()) == ("job_search", False, False)

    # A job that starts on Mon 2041-02-11 is pending until that day begins.
    view = await h.send("job_started", "2041-02-04T09:00", start_date="2041-02-11", **JOB)
    assert seen(view) == ("job_pending", False, False)
    await h.send("contact", "2041-02-08T10:00", method="face_to_face")
    await h.sleep_until("2041-02-10T23:30")
    assert seen(await h.state()) == ("job_pending", False, False)
    await h.sleep_until("2041-02-11T00:30")
    assert seen(await h.state()) == ("working", False, False)

    # Follow-along met every time, up to the step-down review [2042-02-09, 2042-03-11].
    for day in ("2041-02-12", "2041-02-19", "2041-02-26", "2041-03-05"):
        await h.send("contact", f"{day}T10:00", method="face_to_face")
    for month in range(11):
        year, m = 2041 + (2 + month) // 12, (2 + month) % 12 + 1
        await h.send("contact", f"{year}-{m:02d}-20T10:00", method="face_to_face")
    assert seen(await h.state()) == ("working", False, False)

    view = await h.send(
        "step_down_decision", "2042-02-20T10:00", job_id="j-1", decision="transition"
    )
    assert seen(view) == seen(await h.state()) == ("step_down", False, False)
    assert h.due_contacts("step_down_review") == [
        ("step_down_review", "j-1", 1, "2042-02-09", "2042-03-11", "done", "2042-02-20"),
    ]
    # Monthly contacts stop: the open one is cancelled and none follows.
    await h.sleep_until("2042-06-01T10:00")
    months = h.due_contacts("monthly_follow_along")
    assert [r[2] for r in months] == list(range(1, 13))
    assert months[-1] == (
        "monthly_follow_along", "j-1", 12, "2042-02-12", "2042-03-11", "cancelled", None
    )  # fmt: skip
    assert seen(await h.state()) == ("step_down", False, False)
    assert h.due_contacts("outreach_attempt") == []
    assert await h.status() == WorkflowExecutionStatus.RUNNING


async def test_services_declined_closes_the_journey_and_a_referral_reopens_it(
    journeys: Journeys,
) -> None:
    h = journeys
    await h.send("referred", "2041-01-07T10:00")
    await h.send("first_meeting", "2041-01-09T14:00")
    await h.send("job_started", "2041-02-04T09:00", start_date="2041-02-11", **JOB)
    first_run = (await h.handle().describe()).run_id
    open_before = {dc.key for dc in h.store.list_due_contacts("c-1") if dc.status == "open"}
    assert len(open_before) == 11

    view = await h.send("services_declined", "2041-02-06T10:00", reason="does not want to work")

    assert seen(view) == ("closed", False, True)
    assert await h.status() == WorkflowExecutionStatus.COMPLETED
    assert seen(await h.state()) == ("closed", False, True)
    cancelled = {dc.key: dc for dc in h.store.list_due_contacts("c-1") if dc.key in open_before}
    assert {dc.status for dc in cancelled.values()} == {"cancelled"}

    # Reminders stop: nothing more is sent about the closed journey.
    sent_at_closure = len(h.notifications())
    await h.sleep_until(h.at("2041-03-30T10:00"))
    assert len(h.notifications()) == sent_at_closure

    view = await h.send("referred", "2041-04-01T10:00")

    assert seen(view) == ("referred", False, False)
    assert view.referral_no == 2
    assert (await h.handle().describe()).run_id != first_run
    assert await h.status() == WorkflowExecutionStatus.RUNNING
    by_referral = {
        n: [r for r in h.store.list_due_contacts("c-1") if r.referral_no == n] for n in (1, 2)
    }
    # The new referral's first meeting is a new due contact ...
    assert [(r.rule, r.window_start, r.due, r.status) for r in by_referral[2]] == [
        ("first_meeting", date(2041, 4, 1), date(2041, 4, 8), "open")
    ]
    # ... and the closed journey's stay in the record as they were.
    assert {dc.key: dc for dc in by_referral[1] if dc.key in open_before} == cancelled
    assert [r.status for r in by_referral[1] if r.rule == "first_meeting"] == ["done"]


async def test_a_closed_journey_reopened_counts_referrals_and_keeps_events(
    journeys: Journeys,
) -> None:
    h = journeys
    await open_journey(h)
    await h.send("services_declined", "2041-02-01T10:00")
    await h.send("referred", "2041-03-01T10:00")
    await h.send("services_declined", "2041-03-02T10:00")
    view = await h.send("referred", "2041-04-01T10:00")

    assert view.referral_no == 3
    assert seen(await h.state()) == ("referred", False, False)
    assert [e.type for e in h.store.list_events("c-1")] == [
        "referred",
        "first_meeting",
        "employer_contact",
        "vocational_profile_completed",
        "services_declined",
        "referred",
        "services_declined",
        "referred",
    ]
    first_meetings = h.due_contacts("first_meeting")
    assert [(r[3], r[5]) for r in first_meetings] == [
        ("2041-01-07", "done"),
        ("2041-03-01", "cancelled"),
        ("2041-04-01", "open"),
    ]
