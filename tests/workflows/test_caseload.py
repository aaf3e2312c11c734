"""SPEC §3: a caseload of at most 20 per full-time specialist is a warning to
the supervisor, never a refusal. A referral to a specialist already at the
limit starts the journey as any other, and the supervisor is told."""

from __future__ import annotations

import dataclasses

from activities.sweeps import CASELOAD, sweep_id
from store import ConsumerRecord
from tests.workflows.conftest import CONSUMER_TZ, OTHER_SPECIALIST, Journeys


async def test_a_referral_over_the_caseload_limit_is_accepted_and_the_supervisor_warned(
    journeys: Journeys,
) -> None:
    h = journeys
    # Sam Ortiz works a tenth of full time: a limit of 2 consumers.
    sam = h.store.get_specialist(OTHER_SPECIALIST)
    assert sam is not None
    h.store.upsert_specialist(dataclasses.replace(sam, fte=0.1))
    for n in (1, 2, 3):
        h.store.upsert_consumer(
            ConsumerRecord(
                id=f"c-sam-{n}", name=f"Person Number{n}", specialist_id=OTHER_SPECIALIST,
                timezone=CONSUMER_TZ,
            )
        )  # fmt: skip

    async def refer(n: int) -> str:
        event_id = f"ev-refer-{n}"
        view = await h.send(
            "referred", "2041-01-07T10:00", consumer=f"c-sam-{n}", event_id=event_id
        )
        # The referral is recorded, whatever the caseload check then finds.
        assert (view.phase, view.closed, view.specialist) == ("referred", False, OTHER_SPECIALIST)
        assert "first_meeting" in [dc.rule for dc in view.due_contacts]
        check = sweep_id(CASELOAD, "sup-1", f"assign-c-sam-{n}-{event_id}")
        await h.client.get_workflow_handle(check).result()
        return event_id

    for n in (1, 2):
        await refer(n)
    assert [n for n in h.store.list_notifications() if n.kind == "caseload_warning"] == []

    await refer(3)

    [warning] = [n for n in h.store.list_notifications() if n.kind == "caseload_warning"]
    assert (warning.recipient_role, warning.recipient_id, warning.channel) == (
        "supervisor", "sup-1", "email"
    )  # fmt: skip
    [sent] = [m for m in h.notifier.sent if m.to == "pat@example.org"]
    assert "Sam Ortiz: 3 active (limit 2 at 0.1 FTE)" in sent.body
    assert "Nothing was refused" in sent.body
    assert (await h.state("c-sam-3")).phase == "referred"
