"""Consent through the real workflow: every change is stored with its time,
source and disclosure version, and a provider's opt-out (Twilio 21610) stops
texts in the journey too."""

from __future__ import annotations

from notifiers import NotifierError, OutgoingMessage
from notifiers.base import Delivery
from tests.workflows.conftest import CONSUMER, Journeys, save_history

PHONE = "+15555550123"  # c-1's


async def _book(h: Journeys, appointment_id: str, at: str, start: str) -> None:
    await h.send(
        "appointment_scheduled",
        at,
        appointment_id=appointment_id,
        start=start,
        duration_minutes=60,
        place="Main St Library",
    )


async def test_an_opt_out_twilio_reports_stops_the_journeys_texts(journeys: Journeys) -> None:
    h = journeys
    unsubscribed = False
    record = h.notifier.send

    def send(message: OutgoingMessage) -> Delivery:
        if unsubscribed and message.to == PHONE:
            # What the Twilio notifier raises for error 21610.
            raise NotifierError(
                f"sms {message.idempotency_key}: Twilio refused the message (Twilio error 21610)",
                retryable=False,
                opted_out=True,
            )
        return record(message)

    h.notifier.send = send  # type: ignore[method-assign]

    await h.send("referred", "2041-01-07T10:00")
    await h.send("sms_consent_recorded", "2041-01-07T10:30", disclosure_version="v2")
    view = await h.send("sms_reply", "2041-01-07T10:35", body="yes")
    assert view.sms_consent == "opted_in"

    # The consumer texts STOP to the carrier, not to us: Twilio refuses the next text.
    unsubscribed = True
    await _book(h, "a-1", "2041-01-08T09:00", "2041-01-12T14:00")
    await _book(h, "a-2", "2041-01-08T09:05", "2041-01-19T14:00")
    await h.sleep_until("2041-01-20T09:00", CONSUMER)

    assert (await h.state()).sms_consent == "opted_out"
    reminders = [
        (n.send_at.isoformat(), n.status)
        for n in h.notifications(kind="appointment_reminder", recipient_role="consumer")
    ]
    # 24 hours before each appointment (14:00 EST = 19:00 UTC).
    assert reminders == [
        ("2041-01-11T19:00:00+00:00", "failed"),
        ("2041-01-18T19:00:00+00:00", "skipped_no_consent"),
    ]
    changes = [
        (c.state, c.source, c.disclosure_version) for c in h.store.list_consent_changes(CONSUMER)
    ]
    assert changes == [
        ("pending", "staff", "v2"),
        ("opted_in", "sms:YES", "v2"),
        ("opted_out", "twilio:21610", "v2"),
    ]
    assert [
        c.at.replace(microsecond=0).isoformat() for c in h.store.list_consent_changes(CONSUMER)
    ] == [
        "2041-01-07T15:30:00+00:00",
        "2041-01-07T15:35:00+00:00",
        "2041-01-11T19:00:00+00:00",
    ]

    # Texting START again opts back in: the next reminder goes.
    unsubscribed = False
    await h.send("sms_reply", "2041-01-20T10:00", body="START")
    await _book(h, "a-3", "2041-01-20T10:05", "2041-01-26T14:00")
    await h.sleep_until("2041-01-27T09:00", CONSUMER)
    [last] = h.notifications(kind="appointment_reminder", send_at=h.at("2041-01-25T14:00"))
    assert last.status == "sent"
    assert h.store.list_consent_changes(CONSUMER)[-1].disclosure_version == "v2"

    history = await h.handle(CONSUMER).fetch_history()
    assert await h.replay([history]) == {}
    save_history("provider_opt_out", history)


async def test_a_stop_in_the_consumers_own_words_is_flagged_for_staff(journeys: Journeys) -> None:
    h = journeys
    await h.send("referred", "2041-01-07T10:00")
    await h.send("sms_consent_recorded", "2041-01-07T10:30", disclosure_version="v2")
    await h.send("sms_reply", "2041-01-07T10:35", body="YES")
    view = await h.send(
        "sms_reply", "2041-01-09T18:00", body="Por favor, no más mensajes", event_id="sms-77"
    )

    assert view.sms_consent == "opted_out"
    assert view.flagged_for_staff == ["sms-77"]
    # No reply to it, and the change names its source.
    assert [n.kind for n in h.notifications(recipient_role="consumer")] == ["opt_in_confirmation"]
    last = h.store.list_consent_changes(CONSUMER)[-1]
    assert (last.state, last.source, last.disclosure_version) == (
        "opted_out",
        "sms:free_text",
        "v2",
    )
