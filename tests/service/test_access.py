"""Staff access: tokens are random, stored hashed, expire and can be revoked;
each role sees exactly its own scope, and anything else looks absent."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from service import access
from service.errors import Invalid, NotFound, Unauthenticated
from service.people import add_consumer, add_specialist
from store import ConsumerRecord, SpecialistRecord, Store, SupervisorRecord

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = Store(database_url)
    store.create_schema()
    for sup in ("sup-1", "sup-2"):
        store.upsert_supervisor(SupervisorRecord(sup, sup, f"{sup}@example.org", "UTC"))
    for es, sup in (("es-1", "sup-1"), ("es-2", "sup-1"), ("es-3", "sup-2")):
        store.upsert_specialist(
            SpecialistRecord(es, es, f"{es}@example.org", "UTC", supervisor_id=sup)
        )
        store.upsert_consumer(ConsumerRecord(f"c-{es}", "Alex Smith", es, "UTC"))
    yield store
    store.dispose()


def test_a_token_is_shown_once_and_stored_only_as_a_hash(store: Store) -> None:
    access.add_user(store, user_id="u1", name="Pat", role="admin", person_id=None, now=NOW)
    token, record = access.create_token(store, user_id="u1", now=NOW)

    assert token.startswith("ips_") and len(token) >= 4 + 32  # 192 random bits, base64
    assert record.token_hash == access.hash_token(token) != token
    assert all(t.token_hash != token for t in store.list_tokens("u1"))
    assert access.authenticate(store, token, NOW) == access.Actor("u1", "admin", None)


def test_tokens_expire_and_can_be_revoked(store: Store) -> None:
    access.add_user(store, user_id="u1", name="Pat", role="admin", person_id=None, now=NOW)
    short, _ = access.create_token(store, user_id="u1", now=NOW, days=1)
    other, record = access.create_token(store, user_id="u1", now=NOW)

    with pytest.raises(Unauthenticated, match="expired"):
        access.authenticate(store, short, NOW + timedelta(days=1, seconds=1))
    access.revoke_token(store, record.id, NOW)
    with pytest.raises(Unauthenticated):
        access.authenticate(store, other, NOW)
    with pytest.raises(Unauthenticated):
        access.authenticate(store, "ips_made-up", NOW)
    with pytest.raises(NotFound):
        access.revoke_token(store, "tok_unknown", NOW)


def test_a_user_names_the_person_they_are(store: Store) -> None:
    with pytest.raises(Invalid) as err:
        access.add_user(store, user_id="u", name="X", role="specialist", person_id=None, now=NOW)
    assert err.value.field == "person_id"
    with pytest.raises(Invalid) as err:
        access.add_user(store, user_id="u", name="X", role="supervisor", person_id="es-1", now=NOW)
    assert err.value.field == "person_id"
    with pytest.raises(Invalid) as err:
        access.add_user(store, user_id="u", name="X", role="boss", person_id=None, now=NOW)
    assert err.value.field == "role"


def test_each_role_sees_its_own_scope_and_nothing_else(store: Store) -> None:
    specialist = access.Actor("u-es1", "specialist", "es-1")
    supervisor = access.Actor("u-sup1", "supervisor", "sup-1")
    admin = access.Actor("u-admin", "admin")

    def seen(actor: access.Actor) -> set[str]:
        return {c.id for c in store.list_consumers() if access.may_see_consumer(store, actor, c)}

    assert seen(specialist) == {"c-es-1"}
    assert seen(supervisor) == {"c-es-1", "c-es-2"}
    assert seen(admin) == {"c-es-1", "c-es-2", "c-es-3"}
    # Out of scope looks exactly like absent.
    with pytest.raises(NotFound) as hidden:
        access.visible_consumer(store, specialist, "c-es-2")
    with pytest.raises(NotFound) as absent:
        access.visible_consumer(store, specialist, "c-nobody")
    assert str(hidden.value).replace("c-es-2", "X") == str(absent.value).replace("c-nobody", "X")
    with pytest.raises(NotFound):
        access.visible_supervisor(store, supervisor, "sup-2")


def test_a_specialist_cannot_put_a_consumer_on_someone_elses_caseload(store: Store) -> None:
    specialist = access.Actor("u-es1", "specialist", "es-1")
    with pytest.raises(Invalid) as err:
        add_consumer(
            store,
            specialist,
            {"id": "c-9", "name": "Sam Roe", "specialist": "es-2", "timezone": "UTC"},
        )
    assert err.value.field == "specialist"
    assert store.get_consumer("c-9") is None


def test_a_supervisor_adds_specialists_to_their_own_team_only(store: Store) -> None:
    supervisor = access.Actor("u-sup1", "supervisor", "sup-1")
    added = add_specialist(
        store,
        supervisor,
        {"id": "es-9", "name": "Kim", "email": "k@example.org", "timezone": "UTC"},
    )
    assert added.supervisor_id == "sup-1"
    with pytest.raises(Invalid) as err:
        add_specialist(
            store,
            supervisor,
            {
                "id": "es-10",
                "name": "Lee",
                "email": "l@example.org",
                "timezone": "UTC",
                "supervisor": "sup-2",
            },
        )
    assert err.value.field == "supervisor"
    assert store.get_specialist("es-10") is None


def test_every_staff_write_is_recorded_with_who_made_it(store: Store) -> None:
    from service.people import update_consumer

    supervisor = access.Actor("u-sup1", "supervisor", "sup-1")
    add_consumer(
        store,
        supervisor,
        {"id": "c-9", "name": "Sam Roe", "specialist": "es-2", "timezone": "UTC"},
    )
    update_consumer(store, supervisor, "c-9", {"phone": "+15555550199"})
    access.add_user(store, user_id="u-es2", name="Es Two", role="specialist",
                    person_id="es-2", now=NOW, actor=supervisor)  # fmt: skip
    _, token = access.create_token(store, user_id="u-es2", now=NOW, actor=supervisor)
    access.revoke_token(store, token.id, NOW, actor=supervisor)

    changes = sorted(
        (c.user_id, c.action, c.kind, c.record_id, c.fields) for c in store.list_staff_changes()
    )
    assert changes == sorted(
        [
            ("u-sup1", "add", "consumer", "c-9", ["id", "name", "specialist", "timezone"]),
            ("u-sup1", "update", "consumer", "c-9", ["phone"]),
            ("u-sup1", "add", "user", "u-es2", ["name", "person_id", "role"]),
            ("u-sup1", "create", "token", token.id, ["expires_at", "user_id"]),
            ("u-sup1", "revoke", "token", token.id, ["revoked_at"]),
        ]
    )
    # Field names only: the new phone number itself is not copied into the trail.
    assert all("+1555" not in str(c) for c in store.list_staff_changes())
