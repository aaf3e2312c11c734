"""A retried event (same `event_id`) is a no-op (SPEC §4): one audit row, one set
of due contacts, no error, however the retries arrive."""

from __future__ import annotations

import asyncio
from collections import Counter

from tests.workflows.conftest import Journeys
from tests.workflows.test_journey import JOB, open_journey


def audit_rows(h: Journeys, event_id: str) -> int:
    return sum(1 for e in h.store.list_events() if e.event_id == event_id)


def job_rows(h: Journeys, job_id: str) -> Counter[tuple[str, int | None]]:
    return Counter(
        (dc.rule, dc.seq) for dc in h.store.list_due_contacts("c-1") if dc.job_id == job_id
    )


ONE_SET = Counter(
    {
        ("benefits_planning", None): 1,
        ("pre_start_contact", None): 1,
        ("post_start_contact", None): 1,
        ("weekly_follow_along", 1): 1,
        ("weekly_follow_along", 2): 1,
        ("weekly_follow_along", 3): 1,
        ("weekly_follow_along", 4): 1,
        ("monthly_follow_along", 1): 1,
        ("step_down_review", 1): 1,
    }
)


async def test_an_event_sent_twice_is_recorded_once(journeys: Journeys) -> None:
    h = journeys
    await open_journey(h)
    envelope = h.envelope(
        "job_started", "2041-02-04T09:00", event_id="evt-job-1", start_date="2041-02-11", **JOB
    )
    await h.sleep_until(h.at("2041-02-04T09:00"))

    first = await h.send_envelope(envelope)
    due_after_first = h.store.list_due_contacts()
    # The retry is not refused as "job j-1 was already recorded".
    second = await h.send_envelope(envelope)

    assert second == first
    assert audit_rows(h, "evt-job-1") == 1
    assert len(h.store.list_jobs("c-1")) == 1
    assert h.store.list_due_contacts() == due_after_first
    assert job_rows(h, "j-1") == ONE_SET


async def test_three_concurrent_copies_of_an_event_are_recorded_once(journeys: Journeys) -> None:
    h = journeys
    await open_journey(h)
    envelope = h.envelope(
        "job_started", "2041-02-04T09:00", event_id="evt-job-1", start_date="2041-02-11", **JOB
    )
    await h.sleep_until(h.at("2041-02-04T09:00"))

    views = await asyncio.gather(*(h.send_envelope(envelope) for _ in range(3)))

    assert all(view.phase == "job_pending" for view in views)
    assert audit_rows(h, "evt-job-1") == 1
    assert job_rows(h, "j-1") == ONE_SET
    # Each due contact was saved once: one "created" change per key.
    for dc in h.store.list_due_contacts("c-1"):
        if dc.job_id == "j-1":
            assert len(h.store.list_due_contact_changes(dc.key)) == 1, dc.key


async def test_concurrent_copies_of_a_contact_meet_its_due_contact_once(
    journeys: Journeys,
) -> None:
    h = journeys
    await open_journey(h)
    await h.send("job_started", "2041-02-04T09:00", start_date="2041-02-04", **JOB)
    envelope = h.envelope("contact", "2041-02-05T10:00", event_id="evt-contact-1", method="phone")
    await h.sleep_until(h.at("2041-02-05T10:00"))

    await asyncio.gather(*(h.send_envelope(envelope) for _ in range(3)))

    assert audit_rows(h, "evt-contact-1") == 1
    # A phone call meets no face-to-face follow-along, whatever the number of copies.
    assert h.due_contacts("post_start_contact")[0][5] == "open"


async def test_a_retried_referral_while_the_journey_is_open_is_not_an_error(
    journeys: Journeys,
) -> None:
    h = journeys
    referral = h.envelope("referred", "2041-01-07T10:00", event_id="evt-referral-1")
    await h.sleep_until(h.at("2041-01-07T10:00"))
    await h.send_envelope(referral)
    await h.send("first_meeting", "2041-01-09T14:00")
    run_id = (await h.handle().describe()).run_id
    due_before = h.store.list_due_contacts()

    view = await h.send_envelope(referral)

    assert view.phase == "job_search"
    assert view.referral_no == 1
    assert (await h.handle().describe()).run_id == run_id
    assert audit_rows(h, "evt-referral-1") == 1
    assert h.store.list_due_contacts() == due_before


async def test_a_retried_services_declined_after_closure_is_not_an_error(
    journeys: Journeys,
) -> None:
    h = journeys
    await open_journey(h)
    declined = h.envelope("services_declined", "2041-02-01T10:00", event_id="evt-declined-1")
    await h.sleep_until(h.at("2041-02-01T10:00"))
    await h.send_envelope(declined)

    # The caller did not see the answer and sends the same event again.
    view = await h.send_envelope(declined)

    assert view.closed
    assert audit_rows(h, "evt-declined-1") == 1


async def test_a_retried_referral_after_closure_does_not_reopen_the_journey(
    journeys: Journeys,
) -> None:
    h = journeys
    referral = h.envelope("referred", "2041-01-07T10:00", event_id="evt-referral-1")
    await h.sleep_until(h.at("2041-01-07T10:00"))
    await h.send_envelope(referral)
    await h.send("services_declined", "2041-01-08T10:00")
    due_before = h.store.list_due_contacts()

    view = await h.send_envelope(referral)

    assert view.closed
    assert audit_rows(h, "evt-referral-1") == 1
    assert h.store.list_due_contacts() == due_before
