"""What a calendar feed last published of each entry: SEQUENCE and DTSTAMP move
only when an entry's content changes, and a repeat writes nothing."""

from datetime import UTC, datetime, timedelta

import pytest

from store import FeedEntryRecord, InvalidValueError, Store

T0 = datetime(2041, 3, 1, 12, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)
T2 = T0 + timedelta(hours=2)
T3 = T0 + timedelta(hours=3)
FEED = "specialist:es-1"


def test_new_entries_start_at_sequence_0(store: Store) -> None:
    published = store.publish_feed_entries(FEED, {"b@x": "fb", "a@x": "fa"}, T0)

    assert published == [
        FeedEntryRecord(FEED, "a@x", "fa", 0, T0),
        FeedEntryRecord(FEED, "b@x", "fb", 0, T0),
    ]
    assert store.list_feed_entries(FEED) == published


def test_publishing_the_same_again_changes_nothing(store: Store) -> None:
    first = store.publish_feed_entries(FEED, {"a@x": "fa"}, T0)

    assert store.publish_feed_entries(FEED, {"a@x": "fa"}, T1) == first
    assert store.list_feed_entries(FEED) == first


def test_a_changed_entry_gets_the_next_sequence_and_the_time_of_the_change(
    store: Store,
) -> None:
    store.publish_feed_entries(FEED, {"a@x": "fa", "b@x": "fb"}, T0)

    published = store.publish_feed_entries(FEED, {"a@x": "fa2", "b@x": "fb"}, T1)

    assert published == [
        FeedEntryRecord(FEED, "a@x", "fa2", 1, T1),
        FeedEntryRecord(FEED, "b@x", "fb", 0, T0),
    ]


def test_an_entry_that_leaves_keeps_its_sequence_and_one_that_returns_gets_the_next(
    store: Store,
) -> None:
    store.publish_feed_entries(FEED, {"a@x": "fa", "b@x": "fb"}, T0)

    left = store.publish_feed_entries(FEED, {"b@x": "fb"}, T1)
    assert left[0] == FeedEntryRecord(FEED, "a@x", None, 0, T1)
    assert store.publish_feed_entries(FEED, {"b@x": "fb"}, T2) == left

    back = store.publish_feed_entries(FEED, {"a@x": "fa", "b@x": "fb"}, T3)
    assert back[0] == FeedEntryRecord(FEED, "a@x", "fa", 1, T3)


def test_each_feed_keeps_its_own_entries(store: Store) -> None:
    store.publish_feed_entries(FEED, {"a@x": "fa"}, T0)
    store.publish_feed_entries("team:sup-1", {"a@x": "other"}, T1)

    assert store.list_feed_entries(FEED) == [FeedEntryRecord(FEED, "a@x", "fa", 0, T0)]
    assert store.list_feed_entries("team:sup-1") == [
        FeedEntryRecord("team:sup-1", "a@x", "other", 0, T1)
    ]


def test_a_naive_time_is_refused(store: Store) -> None:
    with pytest.raises(InvalidValueError, match="^at: "):
        store.publish_feed_entries(FEED, {"a@x": "fa"}, datetime(2041, 3, 1, 12))
