"""Feed tokens: stored by hash, revoked once, rotated in one transaction."""

from datetime import UTC, datetime, timedelta

import pytest

from store import (
    FeedTokenRecord,
    InvalidValueError,
    NotFoundError,
    StaffUserRecord,
    Store,
    UnknownReferenceError,
)

NOW = datetime(2041, 1, 7, 15, 0, tzinfo=UTC)


def token(id: str, token_hash: str, **changes: object) -> FeedTokenRecord:
    values: dict[str, object] = {
        "id": id,
        "user_id": "u-es-1",
        "scope_kind": "specialist",
        "scope_id": "es-1",
        "token_hash": token_hash,
        "label": "Outlook",
        "created_at": NOW,
    }
    return FeedTokenRecord(**(values | changes))  # type: ignore[arg-type]


@pytest.fixture
def users(seeded: Store) -> Store:
    seeded.upsert_staff_user(StaffUserRecord("u-es-1", "Jordan", "specialist", "es-1", NOW))
    return seeded


def test_a_feed_token_is_found_by_its_hash_and_revoked_once(users: Store) -> None:
    users.add_feed_token(token("ftok_1", "h1"))

    assert users.get_feed_token_by_hash("h1") == token("ftok_1", "h1")
    assert users.get_feed_token_by_hash("h2") is None
    assert users.revoke_feed_token("ftok_1", NOW + timedelta(hours=1))
    assert users.revoke_feed_token("ftok_1", NOW + timedelta(hours=2))
    assert not users.revoke_feed_token("ftok_nobody", NOW)
    revoked = users.get_feed_token("ftok_1")
    assert revoked is not None and revoked.revoked_at == NOW + timedelta(hours=1)


def test_rotation_revokes_the_old_token_as_the_new_one_is_stored(users: Store) -> None:
    users.add_feed_token(token("ftok_1", "h1"))
    later = NOW + timedelta(days=1)

    users.replace_feed_token("ftok_1", token("ftok_2", "h2", created_at=later))

    old = users.get_feed_token("ftok_1")
    assert old is not None and old.revoked_at == later
    assert users.get_feed_token_by_hash("h2") == token("ftok_2", "h2", created_at=later)
    assert [t.id for t in users.list_feed_tokens("u-es-1")] == ["ftok_1", "ftok_2"]
    with pytest.raises(InvalidValueError, match="revoked"):
        users.replace_feed_token("ftok_1", token("ftok_3", "h3"))
    with pytest.raises(NotFoundError):
        users.replace_feed_token("ftok_nobody", token("ftok_3", "h3"))
    assert users.get_feed_token("ftok_3") is None


def test_a_feed_token_names_a_stored_user_and_feed(users: Store) -> None:
    with pytest.raises(UnknownReferenceError, match="scope_id"):
        users.add_feed_token(token("ftok_1", "h1", scope_id="es-nobody"))
    with pytest.raises(UnknownReferenceError, match="scope_id"):
        users.add_feed_token(token("ftok_1", "h1", scope_kind="team", scope_id="es-1"))
    with pytest.raises(UnknownReferenceError, match="user_id"):
        users.add_feed_token(token("ftok_1", "h1", user_id="nobody"))
    with pytest.raises(InvalidValueError, match="scope_kind"):
        users.add_feed_token(token("ftok_1", "h1", scope_kind="agency"))
    users.add_feed_token(token("ftok_1", "h1", scope_kind="team", scope_id="sup-1"))
    assert [t.scope_kind for t in users.list_feed_tokens()] == ["team"]
