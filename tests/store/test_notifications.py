import dataclasses
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from store import InvalidValueError, NotFoundError, NotificationRecord, Store, UnknownReferenceError

NEW_YORK = ZoneInfo("America/New_York")

DUE_SOON = NotificationRecord(
    idempotency_key="c-1/1/first_meeting/due_soon/sms",
    channel="sms",
    recipient_role="specialist",
    recipient_id="es-1",
    recipient_timezone="America/New_York",
    consumer_id="c-1",
    rule="first_meeting",
    kind="due_soon",
    send_at=datetime(2041, 1, 12, 8, 0, tzinfo=NEW_YORK),
    status="pending",
    body="AS (c-1): first meeting due Wed Jan 14.",
)


def test_first_claim_inserts_and_returns_the_row_in_utc(seeded: Store) -> None:
    claimed, new = seeded.claim_notification(DUE_SOON)

    assert new is True
    assert claimed == DUE_SOON
    assert claimed.send_at == datetime(2041, 1, 12, 13, 0, tzinfo=UTC)
    assert claimed.send_at.tzinfo is UTC
    assert seeded.get_notification(DUE_SOON.idempotency_key) == claimed


def test_a_second_claim_returns_the_first_untouched(seeded: Store) -> None:
    seeded.claim_notification(DUE_SOON)
    seeded.update_notification(DUE_SOON.idempotency_key, status="sent", provider_id="SM123")
    retry = dataclasses.replace(DUE_SOON, body="changed", status="pending")

    existing, new = seeded.claim_notification(retry)

    assert new is False
    assert existing == dataclasses.replace(DUE_SOON, status="sent", provider_id="SM123")
    assert seeded.list_notifications() == [existing]


def test_update_sets_status_and_keeps_what_is_not_given(seeded: Store) -> None:
    key = DUE_SOON.idempotency_key
    seeded.claim_notification(DUE_SOON)

    sent = seeded.update_notification(key, status="sent", provider_id="SM123")
    assert (sent.status, sent.provider_id, sent.error) == ("sent", "SM123", None)

    undelivered = seeded.update_notification(key, status="undelivered", error="30003 unreachable")
    assert (undelivered.status, undelivered.provider_id, undelivered.error) == (
        "undelivered",
        "SM123",
        "30003 unreachable",
    )
    assert seeded.get_notification(key) == undelivered


def test_consent_and_lateness_outcomes_are_kept(seeded: Store) -> None:
    skipped = dataclasses.replace(
        DUE_SOON,
        idempotency_key="c-1/a-1/appointment_reminder",
        recipient_role="consumer",
        recipient_id="c-1",
        rule=None,
        kind="appointment_reminder",
        status="skipped_no_consent",
    )

    claimed, new = seeded.claim_notification(skipped)

    assert new is True and claimed.status == "skipped_no_consent"


def test_notifications_are_listed_by_send_time_then_key(seeded: Store) -> None:
    at = datetime(2041, 1, 12, 13, 0, tzinfo=UTC)
    b = dataclasses.replace(DUE_SOON, idempotency_key="b", send_at=at)
    a = dataclasses.replace(DUE_SOON, idempotency_key="a", send_at=at.astimezone(NEW_YORK))
    earlier = dataclasses.replace(
        DUE_SOON, idempotency_key="z", send_at=datetime(2041, 1, 12, 7, 0, tzinfo=NEW_YORK)
    )
    digest = dataclasses.replace(
        DUE_SOON,
        idempotency_key="digest",
        channel="email",
        consumer_id=None,
        rule=None,
        kind="daily_digest",
        subject="Today",
        send_at=datetime(2041, 1, 12, 12, 30, tzinfo=UTC),
    )
    for record in (b, digest, a, earlier):
        seeded.claim_notification(record)

    assert [n.idempotency_key for n in seeded.list_notifications()] == ["z", "digest", "a", "b"]
    assert [n.idempotency_key for n in seeded.list_notifications("c-1")] == ["z", "a", "b"]
    assert seeded.list_notifications("c-2") == []


def test_unknown_key_cannot_be_updated(seeded: Store) -> None:
    assert seeded.get_notification("nope") is None
    with pytest.raises(NotFoundError, match="^idempotency_key: no notification with key 'nope'$"):
        seeded.update_notification("nope", status="sent")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"channel": "fax"}, "NotificationRecord.channel: 'fax' is not one of email, sms$"),
        ({"status": "queued"}, "NotificationRecord.status: 'queued' is not one of "),
        (
            {"recipient_timezone": "EST5"},
            "NotificationRecord.recipient_timezone: 'EST5' is not an IANA time zone",
        ),
        ({"send_at": datetime(2041, 1, 12, 8, 0)}, "NotificationRecord.send_at: .* no time zone"),
    ],
    ids=["channel", "status", "timezone", "naive-send_at"],
)
def test_bad_notifications_are_refused(
    seeded: Store, change: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidValueError, match=f"^{message}"):
        seeded.claim_notification(dataclasses.replace(DUE_SOON, **change))  # type: ignore[arg-type]
    assert seeded.list_notifications() == []


def test_notification_for_unknown_consumer_is_refused(seeded: Store) -> None:
    with pytest.raises(
        UnknownReferenceError, match="^NotificationRecord.consumer_id: no consumer with id 'c-9'$"
    ):
        seeded.claim_notification(dataclasses.replace(DUE_SOON, consumer_id="c-9"))
    seeded.claim_notification(DUE_SOON)
    with pytest.raises(InvalidValueError, match="^status: 'read' is not one of "):
        seeded.update_notification(DUE_SOON.idempotency_key, status="read")
    assert seeded.list_notifications() == [DUE_SOON]


# ---------------------------------------------------------------- provider reports

REPORTED = datetime(2041, 1, 12, 13, 0, 5, tzinfo=UTC)


def _sent(store: Store, provider_id: str | None = "SM123") -> str:
    key = DUE_SOON.idempotency_key
    store.claim_notification(DUE_SOON)
    if provider_id is not None:
        store.update_notification(key, status="sent", provider_id=provider_id)
    return key


def test_a_report_moves_the_row_of_its_provider_id_forward(seeded: Store) -> None:
    key = _sent(seeded)

    found = seeded.advance_notification("sms", "delivered", REPORTED, provider_id="SM123")

    assert found is not None
    row, changed = found
    assert changed is True
    assert (row.idempotency_key, row.status, row.error) == (key, "delivered", None)
    assert row.updated_at == REPORTED
    assert seeded.get_notification(key) == row
    stored = seeded.get_notification(key)
    assert stored is not None and stored.updated_at == REPORTED


@pytest.mark.parametrize("later", ["sent", "delivered", "undelivered", "failed"])
def test_a_report_never_moves_a_row_backwards_or_from_one_outcome_to_another(
    seeded: Store, later: str
) -> None:
    key = _sent(seeded)
    seeded.advance_notification("sms", "delivered", REPORTED, provider_id="SM123")

    found = seeded.advance_notification(
        "sms", later, datetime(2041, 1, 12, 14, 0, tzinfo=UTC), provider_id="SM123", error="x"
    )

    assert found is not None
    row, changed = found
    assert changed is False
    assert (row.status, row.error, row.updated_at) == ("delivered", None, REPORTED)
    assert seeded.get_notification(key) == row


def test_a_failure_records_its_error(seeded: Store) -> None:
    _sent(seeded)

    found = seeded.advance_notification(
        "sms", "undelivered", REPORTED, provider_id="SM123", error="Twilio error 30003"
    )

    assert found is not None
    assert (found[0].status, found[0].error) == ("undelivered", "Twilio error 30003")


def test_a_row_without_provider_id_is_settled_by_its_key_and_gets_the_id(seeded: Store) -> None:
    # The provider took the message, but the sender stopped before saving its id.
    key = _sent(seeded, provider_id=None)

    found = seeded.advance_notification("sms", "sent", REPORTED, provider_id="SM777", key=key)

    assert found is not None
    row, changed = found
    assert changed is True
    assert (row.status, row.provider_id, row.updated_at) == ("sent", "SM777", REPORTED)
    # From now on the id alone finds it.
    later = seeded.advance_notification("sms", "delivered", REPORTED, provider_id="SM777")
    assert later is not None and later[0].status == "delivered"


def test_a_key_whose_row_has_another_provider_id_is_left_alone(seeded: Store) -> None:
    key = _sent(seeded, provider_id="SM123")

    found = seeded.advance_notification("sms", "delivered", REPORTED, provider_id="SM999", key=key)

    assert found is not None
    row, changed = found
    assert changed is False
    assert (row.status, row.provider_id) == ("sent", "SM123")


def test_an_unknown_message_or_another_channel_matches_nothing(seeded: Store) -> None:
    key = _sent(seeded)

    assert seeded.advance_notification("sms", "delivered", REPORTED, provider_id="SM000") is None
    assert seeded.advance_notification("email", "delivered", REPORTED, provider_id="SM123") is None
    assert seeded.advance_notification("email", "delivered", REPORTED, key=key) is None
    assert seeded.get_notification(key) == dataclasses.replace(
        DUE_SOON, status="sent", provider_id="SM123"
    )


def test_a_report_must_name_a_known_stage_and_a_message(seeded: Store) -> None:
    key = _sent(seeded)
    with pytest.raises(InvalidValueError, match="^status: 'queued' is not one of delivered"):
        seeded.advance_notification("sms", "queued", REPORTED, provider_id="SM123")
    with pytest.raises(InvalidValueError, match="^provider_id: give a provider_id or a key$"):
        seeded.advance_notification("sms", "sent", REPORTED)
    with pytest.raises(InvalidValueError, match="^at: .* no time zone"):
        seeded.advance_notification("sms", "sent", datetime(2041, 1, 12), key=key)


def test_one_attempt_takes_over_a_row_left_sending_and_only_once_it_is_old(
    seeded: Store,
) -> None:
    key = DUE_SOON.idempotency_key
    seeded.claim_notification(DUE_SOON)
    assert seeded.start_sending(key)
    began = seeded.get_notification(key)
    assert began is not None and began.updated_at is not None

    # The attempt that made it `sending` may still be at it.
    assert not seeded.resume_sending(key, began_before=began.updated_at)
    later = datetime.now(UTC)
    assert seeded.resume_sending(key, began_before=later)
    # Two retries at once: the other one finds it taken.
    assert not seeded.resume_sending(key, began_before=later)
    taken = seeded.get_notification(key)
    assert taken is not None and taken.status == "sending"
    assert taken.updated_at is not None and taken.updated_at > began.updated_at

    seeded.finish_sending(key, status="sent", provider_id="SM123")
    assert not seeded.resume_sending(key, began_before=datetime.now(UTC))  # settled


def test_a_row_is_found_by_the_id_its_provider_gave_its_message(seeded: Store) -> None:
    _sent(seeded, "SM123")

    found = seeded.notification_of_provider_id("sms", "SM123")
    assert found is not None and found.idempotency_key == DUE_SOON.idempotency_key
    assert seeded.notification_of_provider_id("email", "SM123") is None
    assert seeded.notification_of_provider_id("sms", "SM999") is None
