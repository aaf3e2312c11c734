"""Who may do what: staff users, bearer tokens and caseload scoping.

A specialist sees their own caseload, a supervisor their team's, an admin
everything. A record outside someone's scope is reported as not found, so the
answer never reveals that it exists.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from service.errors import Conflict, Invalid, NotFound, Unauthenticated
from store import (
    STAFF_ROLES,
    ApiTokenRecord,
    ConsumerRecord,
    SpecialistRecord,
    StaffChangeRecord,
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

    @classmethod
    def of(cls, user: StaffUserRecord) -> Actor:
        return cls(user_id=user.id, role=user.role, person_id=user.person_id)


# The operator of this machine (the `ips` command run on the server itself),
# who sets up the first users and tokens.
LOCAL_ADMIN = Actor(user_id="local-admin", role="admin")

# Twilio, recording the texts consumers send: its webhook is authenticated by its
# signature, and a text may come from anyone's consumer.
TWILIO = Actor(user_id="twilio", role="admin")


def record_change(
    store: Store,
    actor: Actor,
    action: str,
    kind: str,
    record_id: str,
    fields: list[str] | None = None,
    now: datetime | None = None,
) -> None:
    """Note who changed what (field names only, never values) in the staff audit trail."""
    store.record_staff_change(
        StaffChangeRecord(
            at=now or datetime.now(UTC),
            user_id=actor.user_id,
            action=action,
            kind=kind,
            record_id=record_id,
            fields=sorted(fields or []),
        )
    )


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(
    store: Store,
    *,
    user_id: str,
    name: str,
    role: str,
    person_id: str | None,
    now: datetime,
    actor: Actor = LOCAL_ADMIN,
) -> StaffUserRecord:
    """A new staff user. An admin adds anyone; a supervisor adds users for the
    specialists of their own team; a specialist adds no one."""
    if actor.role == "specialist":
        raise NotFound("user", user_id)
    if role not in STAFF_ROLES:
        raise Invalid("role", f"must be one of {', '.join(sorted(STAFF_ROLES))}")
    if actor.role == "supervisor" and role != "specialist":
        raise Invalid("role", "a supervisor adds users for the specialists of their team")
    if role != "admin" and not person_id:
        raise Invalid("person_id", f"a {role} user names the {role} they are")
    if role == "specialist":
        specialist = store.get_specialist(person_id or "")
        if specialist is None or not may_see_specialist(store, actor, specialist):
            raise Invalid("person_id", f"no specialist {person_id!r}")
    if role == "supervisor" and store.get_supervisor(person_id or "") is None:
        raise Invalid("person_id", f"no supervisor {person_id!r}")
    if role == "admin" and person_id:
        raise Invalid("person_id", "an admin is not a specialist or supervisor")
    if store.get_staff_user(user_id) is not None:
        # Only an admin learns that the id is taken by someone outside their team.
        if not actor.is_admin:
            visible_user(store, actor, user_id)
        raise Conflict("id", f"user {user_id!r} already exists")
    record = StaffUserRecord(
        id=user_id, name=name, role=role, person_id=person_id or None, created_at=now
    )
    try:
        store.upsert_staff_user(record)
    except StoreError as err:
        raise Invalid(err.field or "user", str(err)) from None
    record_change(store, actor, "add", "user", user_id, ["name", "role", "person_id"], now)
    return record


def visible_user(store: Store, actor: Actor, user_id: str) -> StaffUserRecord:
    """A staff user the actor manages: anyone for an admin; themselves and their
    team's specialists for a supervisor; themselves for a specialist."""
    user = store.get_staff_user(user_id)
    if user is None:
        raise NotFound("user", user_id)
    if actor.is_admin or user.id == actor.user_id:
        return user
    if actor.role == "supervisor" and user.role == "specialist":
        specialist = store.get_specialist(user.person_id or "")
        if specialist is not None and may_see_specialist(store, actor, specialist):
            return user
    raise NotFound("user", user_id)


def create_token(
    store: Store,
    *,
    user_id: str,
    now: datetime,
    days: int = DEFAULT_TOKEN_DAYS,
    label: str | None = None,
    actor: Actor = LOCAL_ADMIN,
) -> tuple[str, ApiTokenRecord]:
    """A new bearer token (192 random bits) for a user the actor manages. The
    token is returned once; only its hash is stored."""
    visible_user(store, actor, user_id)
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
    record_change(store, actor, "create", "token", record.id, ["user_id", "expires_at"], now)
    return token, record


def revoke_token(store: Store, token_id: str, now: datetime, actor: Actor = LOCAL_ADMIN) -> None:
    """Revoke a token of a user the actor manages (anyone may revoke their own)."""
    token = store.get_token(token_id)
    if token is None:
        raise NotFound("token", token_id)
    try:
        visible_user(store, actor, token.user_id)
    except NotFound:
        raise NotFound("token", token_id) from None
    store.revoke_token(token_id, now)
    record_change(store, actor, "revoke", "token", token_id, ["revoked_at"], now)


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
    return Actor.of(user)


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


def visible_supervisors(store: Store, actor: Actor) -> list[SupervisorRecord]:
    return [s for s in store.list_supervisors() if actor.is_admin or s.id == actor.person_id]


def visible_specialists(store: Store, actor: Actor) -> list[SpecialistRecord]:
    return [s for s in store.list_specialists() if may_see_specialist(store, actor, s)]


def visible_consumers(store: Store, actor: Actor) -> list[ConsumerRecord]:
    return [c for c in store.list_consumers() if may_see_consumer(store, actor, c)]


def visible_supervisor(store: Store, actor: Actor, supervisor_id: str) -> SupervisorRecord:
    supervisor = store.get_supervisor(supervisor_id)
    allowed = actor.is_admin or (actor.role == "supervisor" and actor.person_id == supervisor_id)
    if supervisor is None or not allowed:
        raise NotFound("supervisor", supervisor_id)
    return supervisor
