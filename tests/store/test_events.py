from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from store import EventRecord, InvalidValueError, Store, UnknownReferenceError

NEW_YORK = ZoneInfo("America/New_York")


def event(
    event_id: str, at: datetime, consumer_id: str | None = "c-1", **payload: object
) -> EventRecord:
    return EventRecord(
        event_id=event_id,
        type=str(payload.pop("type", "contact")),
        at=at,
        consumer_id=consumer_id,
        payload=dict(payload),
        recorded_by="es-1",
        recorded_at=datetime(2041, 1, 9, 9, 30, tzinfo=NEW_YORK),
    )


def test_event_comes_back_equal_and_in_utc(seeded: Store) -> None:
    at = datetime(2041, 1, 9, 14, 0, 0, 123456, tzinfo=NEW_YORK)
    recorded = event("e-1", at, method="face_to_face", place="community", tags=["a", 1, None])

    assert seeded.record_event(recorded) is True

    [back] = seeded.list_events()
    assert back == recorded
    assert back.at == datetime(2041, 1, 9, 19, 0, 0, 123456, tzinfo=UTC)
    assert back.at.tzinfo is UTC and back.recorded_at.tzinfo is UTC
    assert back.payload == {"method": "face_to_face", "place": "community", "tags": ["a", 1, None]}


def test_a_retried_event_is_a_no_op(seeded: Store) -> None:
    first = event("e-1", datetime(2041, 1, 9, 14, 0, tzinfo=NEW_YORK), method="phone")
    retry = event("e-1", datetime(2041, 1, 10, 14, 0, tzinfo=NEW_YORK), method="video")

    assert seeded.record_event(first) is True
    assert seeded.record_event(first) is False
    assert seeded.record_event(retry) is False

    assert seeded.list_events() == [first]


def test_events_are_listed_by_time_then_insertion(seeded: Store) -> None:
    noon_utc = datetime(2041, 1, 9, 12, 0, tzinfo=UTC)
    # The same instant given in two zones, recorded in this order: insertion breaks the tie.
    seeded.record_event(event("z-later", datetime(2041, 1, 9, 13, 0, tzinfo=UTC)))
    seeded.record_event(event("b-same", datetime(2041, 1, 9, 7, 0, tzinfo=NEW_YORK)))
    seeded.record_event(event("a-same", noon_utc))
    seeded.record_event(event("m-other", datetime(2041, 1, 9, 11, 0, tzinfo=UTC), "c-2"))
    seeded.record_event(event("y-earlier", datetime(2041, 1, 8, 23, 0, tzinfo=NEW_YORK)))

    assert [e.event_id for e in seeded.list_events()] == [
        "y-earlier",
        "m-other",
        "b-same",
        "a-same",
        "z-later",
    ]


def test_events_without_a_consumer_and_per_consumer_lists(seeded: Store) -> None:
    at = datetime(2041, 1, 9, 12, 0, tzinfo=UTC)
    seeded.record_event(event("e-1", at, "c-1"))
    seeded.record_event(event("e-2", at, None, type="employer_contact", employer="Acme"))
    seeded.record_event(event("e-3", at, "c-2"))

    assert [e.event_id for e in seeded.list_events()] == ["e-1", "e-2", "e-3"]
    assert [e.event_id for e in seeded.list_events("c-2")] == ["e-3"]
    assert seeded.list_events("c-9") == []


def test_count_referrals(seeded: Store) -> None:
    at = datetime(2041, 1, 9, 12, 0, tzinfo=UTC)
    assert seeded.count_referrals("c-1") == 0

    seeded.record_event(event("r-1", at, type="referred"))
    seeded.record_event(event("r-1", at, type="referred"))
    seeded.record_event(event("m-1", at, type="first_meeting"))
    seeded.record_event(event("r-2", at, type="referred"))
    seeded.record_event(event("r-3", at, "c-2", type="referred"))

    assert seeded.count_referrals("c-1") == 2
    assert seeded.count_referrals("c-2") == 1


def test_event_for_unknown_consumer_is_refused(seeded: Store) -> None:
    with pytest.raises(
        UnknownReferenceError, match="^EventRecord.consumer_id: no consumer with id 'c-9'$"
    ):
        seeded.record_event(event("e-1", datetime(2041, 1, 9, tzinfo=UTC), "c-9"))
    assert seeded.list_events() == []


def test_naive_datetimes_are_refused(seeded: Store) -> None:
    naive = datetime(2041, 1, 9, 14, 0)

    with pytest.raises(InvalidValueError, match="^EventRecord.at: .* has no time zone"):
        seeded.record_event(event("e-1", naive))
    with pytest.raises(InvalidValueError, match="^EventRecord.recorded_at: .* has no time zone"):
        seeded.record_event(
            EventRecord("e-1", "contact", datetime(2041, 1, 9, tzinfo=UTC), "c-1", {}, None, naive)
        )
    assert seeded.list_events() == []


def test_payload_that_is_not_json_is_refused(seeded: Store) -> None:
    with pytest.raises(InvalidValueError, match="^EventRecord.payload: not JSON"):
        seeded.record_event(
            event("e-1", datetime(2041, 1, 9, tzinfo=UTC), start=datetime(2041, 2, 1))
        )
    assert seeded.list_events() == []
