"""Ten years of follow-along in one journey: the workflow continues as new to keep
every run's history small, and the journey goes on across runs as if nothing
happened (SPEC §2)."""

from __future__ import annotations

from datetime import date

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus

from rules import calendar
from tests.workflows.conftest import Journeys, save_history
from tests.workflows.test_journey import JOB, open_journey
from workflows.journey import HISTORY_LIMIT
from workflows.search import NEXT_DUE, PHASE, SPECIALIST

YEARS = 10
# Temporal's own limit is far above; this is where SPEC §2's "bounded" history
# should stay for a journey, whatever its age.
MAX_RUN_HISTORY = 2_000


async def test_ten_years_of_monthly_follow_along_continue_as_new(journeys: Journeys) -> None:
    h = journeys
    await open_journey(h)
    # S = D = Mon 2041-02-04: monthly m is due (S+28d = 03-04) + m months.
    await h.send(
        "job_started", "2041-02-04T09:00", event_id="evt-job-1", start_date="2041-02-04", **JOB
    )
    await h.send("benefits_planning_offered", "2041-02-05T10:00")
    for day in ("2041-02-05", "2041-02-12", "2041-02-19", "2041-02-26"):
        await h.send("contact", f"{day}T10:00", method="face_to_face", place="community")
    # A face-to-face contact on the 10th of every month; the step-down reviews
    # (due each 4 March) are never decided, so each is missed and the next one
    # set a year later.
    months = 12 * YEARS
    for m in range(1, months + 1):
        tenth = calendar.add_months(date(2041, 2, 10), m)
        await h.send("contact", f"{tenth.isoformat()}T10:00", method="face_to_face")
    await h.sleep_until(h.end_of(calendar.add_months(date(2041, 3, 4), months).isoformat()))

    # The journey carried on across runs ...
    monthly = h.due_contacts("monthly_follow_along")
    assert [r[2] for r in monthly] == list(range(1, months + 2))
    assert all(r[5] == "done" for r in monthly[:-1])
    assert monthly[-1] == (
        "monthly_follow_along", "j-1", months + 1, "2051-03-05", "2051-04-04", "open", None
    )  # fmt: skip
    reviews = h.due_contacts("step_down_review")
    assert [(r[2], r[4], r[5]) for r in reviews] == [
        (n, f"{2041 + n}-03-04", "missed") for n in range(1, YEARS + 1)
    ] + [(YEARS + 1, "2052-03-04", "open")]
    assert h.due_contacts("outreach_attempt") == []
    view = await h.state()
    assert (view.phase, view.in_outreach, view.closed) == ("working", False, False)
    assert await h.status() == WorkflowExecutionStatus.RUNNING
    # A retry of an event from the first run is still recognised as one.
    due_before = h.store.list_due_contacts()
    await h.send_envelope(
        h.envelope(
            "job_started", "2041-02-04T09:00", event_id="evt-job-1", start_date="2041-02-04", **JOB
        )
    )
    assert h.store.list_due_contacts() == due_before
    assert sum(e.event_id == "evt-job-1" for e in h.store.list_events()) == 1

    # ... in runs whose histories all stay small.
    histories = await h.histories()
    lengths = [len(history.events) for history in histories]
    assert len(histories) >= 2, lengths
    assert all(length < MAX_RUN_HISTORY for length in lengths), lengths
    for history in histories[:-1]:
        last = history.events[-1].event_type
        assert last == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
        assert len(history.events) > HISTORY_LIMIT

    # Supervisors still find the journey by its search attributes in the latest run.
    attributes = await h.search_attributes()
    assert (attributes.get(SPECIALIST), attributes.get(PHASE)) == ("es-1", "working")
    assert attributes.get(NEXT_DUE) == calendar.start_of_day(date(2051, 4, 4), "America/New_York")

    # Every run replays with the workflow code as it is now.
    assert await h.replay(histories) == {}
    # The last run, short, starts from the state the previous run handed on.
    save_history("continued_run", histories[-1])
