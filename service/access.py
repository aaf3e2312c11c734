"""Who may do what: staff users, bearer tokens and caseload scoping.

A specialist sees their own caseload, a supervisor their team's, an admin
everything. A record outside someone's scope is reported as not found, so the
answer never reveals that it exists.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from service.errors import Invalid, NotFound, Unauthenticated
from store import (
    STAFF_ROLES,
    ApiTokenRecord,
    ConsumerRecord,
    SpecialistRecord,
    StaffUserRecord,
    Store,
    StoreError,
    SupervisorRecord,
)

TOKEN_PREFIX = "ips_"
DEFAULT_TOKEN_DAYS = 90


@dataclass(frozen=True)
class Actor:
    """The staff user behind a request."""

    user_id: str
    role: str
    person_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


# The operator of this machine (the `ips` command run on the server itself),
# who sets up the first users and tokens.
LOCAL_ADMIN = Actor(user_id="local-admin", role="admin")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(
    store: Store, *, user_id: str, name: str, role: str, person_id: str | None, now: datetime
) -> StaffUserRecord:
    if role not in STAFF_ROLES:
        raise Invalid("role", f"must be one of {', '.join(sorted(STAFF_ROLES))}")
    if role != "admin" and not person_id:
        raise Invalid("person_id", f"a {role} user names the {role} they are")
    if role == "specialist" and store.get_specialist(person_id or "") is None:
        raise Invalid("person_id", f"no specialist {person_id!r}")
    if role == "supervisor" and store.get_supervisor(person_id or "") is None:
        raise Invalid("person_id", f"no supervisor {person_id!r}")
    if role == "admin" and person_id:
        raise Invalid("person_id", "an admin is not a specialist or supervisor")
    record = StaffUserRecord(
        id=user_id, name=name, role=role, person_id=person_id or None, created_at=now
    )
    try:
        store.upsert_staff_user(record)
    except StoreError as err:
        raise Invalid(err.field or "user", str(err)) from None
    return record


def create_token(
    store: Store,
    *,
    user_id: str,
    now: datetime,
    days: int = DEFAULT_TOKEN_DAYS,
    label: str | None = None,
) -> tuple[str, ApiTokenRecord]:
    """A new bearer token (192 random bits). The token is returned once; only
    its hash is stored."""
    if store.get_staff_user(user_id) is None:
        raise NotFound("user", user_id)
    if not 1 <= days <= 3660:
        raise Invalid("days", "a token lasts from 1 to 3660 days")
    token = TOKEN_PREFIX + secrets.token_urlsafe(24)
    record = ApiTokenRecord(
        id=f"tok_{secrets.token_hex(6)}",
        user_id=user_id,
        token_hash=hash_token(token),
        label=label,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    store.add_token(record)
    return token, record


def revoke_token(store: Store, token_id: str, now: datetime) -> None:
    if not store.revoke_token(token_id, now):
        raise NotFound("token", token_id)


def authenticate(store: Store, token: str | None, now: datetime) -> Actor:
    if not token:
        raise Unauthenticated("a bearer token is required (Authorization: Bearer <token>)")
    record = store.get_token_by_hash(hash_token(token))
    if record is None or record.revoked_at is not None:
        raise Unauthenticated("the token is not valid")
    if record.expires_at <= now:
        raise Unauthenticated("the token has expired; ask for a new one")
    user = store.get_staff_user(record.user_id)
    if user is None:
        raise Unauthenticated("the token is not valid")
    return Actor(user_id=user.id, role=user.role, person_id=user.person_id)


# ---------------------------------------------------------------- scope


def team_of(store: Store, supervisor_id: str) -> set[str]:
    return {s.id for s in store.list_specialists() if s.supervisor_id == supervisor_id}


def may_see_specialist(store: Store, actor: Actor, specialist: SpecialistRecord) -> bool:
    if actor.is_admin:
        return True
    if actor.role == "specialist":
        return specialist.id == actor.person_id
    return specialist.supervisor_id is not None and specialist.supervisor_id == actor.person_id


def may_see_consumer(store: Store, actor: Actor, consumer: ConsumerRecord) -> bool:
    if actor.is_admin:
        return True
    if actor.role == "specialist":
        return consumer.specialist_id == actor.person_id
    specialist = store.get_specialist(consumer.specialist_id)
    return specialist is not None and may_see_specialist(store, actor, specialist)


def visible_consumer(store: Store, actor: Actor, consumer_id: str) -> ConsumerRecord:
    consumer = store.get_consumer(consumer_id)
    if consumer is None or not may_see_consumer(store, actor, consumer):
        raise NotFound("consumer", consumer_id)
    return consumer


def visible_specialist(store: Store, actor: Actor, specialist_id: str) -> SpecialistRecord:
    specialist = store.get_specialist(specialist_id)
    if specialist is None or not may_see_specialist(store, actor, specialist):
        raise NotFound("specialist", specialist_id)
    return specialist


def visible_supervisor(store: Store, actor: Actor, supervisor_id: str) -> SupervisorRecord:
    supervisor = store.get_supervisor(supervisor_id)
    allowed = actor.is_admin or (actor.role == "supervisor" and actor.person_id == supervisor_id)
    if supervisor is None or not allowed:
        raise NotFound("supervisor", supervisor_id)
    return supervisor
