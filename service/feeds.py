"""Who may subscribe to which calendar feed: the tokens in the feeds' URLs.

A feed token opens one feed (SPEC §8), a specialist's or a team's, to whoever
holds its URL: a calendar program cannot send a bearer token, so the token in
the path is the key. It is 192 random bits, shown once (in the URL) and stored
only as its SHA-256, like the staff tokens of `service.access`.

Whose feed: a specialist has a token for their own feed only; a supervisor for
their team's and for those of their team's specialists; an admin for any. The
rule is checked when the token is made and again at every request, so a token
of a specialist who has left the team stops working.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from feeds import FeedScope
from service.access import (
    LOCAL_ADMIN,
    Actor,
    hash_token,
    record_change,
    visible_specialist,
    visible_supervisor,
    visible_user,
)
from service.errors import Conflict, Invalid, NotFound, ServiceError
from store import FeedTokenRecord, InvalidValueError, NotFoundError, StaffUserRecord, Store

FEED_TOKEN_PREFIX = "ipsf_"
# What a feed token looks like: anything else is answered 404 without a look-up.
FEED_TOKEN_PATTERN = re.compile(rf"{FEED_TOKEN_PREFIX}[A-Za-z0-9_-]{{32}}")
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"

_KIND = "feed token"
# What the audit trail names for a new token (never the token, nor its hash).
_FIELDS = ["user_id", "scope_kind", "scope_id", "label"]


class NoFeed(NotFound):
    """A feed token that opens nothing; the answer never says why, nor quotes it."""

    def __init__(self) -> None:
        ServiceError.__init__(
            self, "no feed opens with this token (it may have been revoked or replaced)"
        )
        self.kind = "feed"
        self.id = ""


@dataclass(frozen=True)
class FeedUrls:
    """Where a calendar program subscribes: `webcal` opens it in one, `https`
    is for pasting into Google Calendar's "From URL"."""

    https: str
    webcal: str


def feed_urls(token: str, public_url: str | None) -> FeedUrls:
    """The feed's URLs under `public_url` (IPS_PUBLIC_URL), else DEFAULT_PUBLIC_URL."""
    base = (public_url or DEFAULT_PUBLIC_URL).rstrip("/")
    https = f"{base}/feeds/{token}.ics"
    return FeedUrls(https=https, webcal=re.sub(r"^https?://", "webcal://", https))


def scope_from(specialist: str | None, team: str | None) -> FeedScope:
    """The feed named by exactly one of a specialist's id and a team's (its supervisor's)."""
    if (specialist is None) == (team is None):
        raise Invalid("specialist", "name one feed: a specialist's, or a team's by its supervisor")
    if specialist is not None:
        return FeedScope(kind="specialist", id=specialist)
    return FeedScope(kind="team", id=team or "")


def scope_of(record: FeedTokenRecord) -> FeedScope:
    return FeedScope(
        kind="team" if record.scope_kind == "team" else "specialist", id=record.scope_id
    )


def check_scope(store: Store, actor: Actor, scope: FeedScope) -> None:
    """NotFound unless `actor` may see the feed of `scope`."""
    if scope.kind == "specialist":
        visible_specialist(store, actor, scope.id)
    else:
        visible_supervisor(store, actor, scope.id)


def feed_token_fields(record: FeedTokenRecord) -> dict[str, Any]:
    """A feed token as the API answers and `ips feed token ... --json` prints it."""
    return {
        "id": record.id,
        "user_id": record.user_id,
        "specialist": record.scope_id if record.scope_kind == "specialist" else None,
        "team": record.scope_id if record.scope_kind == "team" else None,
        "label": record.label,
        "created_at": record.created_at,
        "revoked_at": record.revoked_at,
    }


def new_feed_token_fields(
    token: str, record: FeedTokenRecord, public_url: str | None
) -> dict[str, Any]:
    """The same, with the token and its URLs: only when it is made or rotated."""
    urls = feed_urls(token, public_url)
    return feed_token_fields(record) | {
        "token": token,
        "url": urls.https,
        "webcal_url": urls.webcal,
    }


def create_feed_token(
    store: Store,
    *,
    scope: FeedScope,
    now: datetime,
    user_id: str | None = None,
    label: str | None = None,
    actor: Actor = LOCAL_ADMIN,
) -> tuple[str, FeedTokenRecord]:
    """A new token for the feed of `scope`, held by `user_id` (by default the
    actor; for the operator, the one staff user who is that specialist or
    supervisor). The token is returned once; only its hash is stored."""
    check_scope(store, actor, scope)
    owner = _owner(store, actor, scope, user_id)
    _check_holder(store, owner, scope)
    token, record = _new_token(owner.id, scope, label, now)
    store.add_feed_token(record)
    record_change(store, actor, "create", "feed_token", record.id, _FIELDS, now)
    return token, record


def rotate_feed_token(
    store: Store, token_id: str, now: datetime, actor: Actor = LOCAL_ADMIN
) -> tuple[str, FeedTokenRecord]:
    """A new token for the same feed and user; the old one stops at once."""
    old = visible_feed_token(store, actor, token_id)
    if old.revoked_at is not None:
        raise Conflict("id", f"feed token {token_id} is revoked; make a new one instead")
    owner = visible_user(store, actor, old.user_id)
    _check_holder(store, owner, scope_of(old))
    token, record = _new_token(old.user_id, scope_of(old), old.label, now)
    try:
        store.replace_feed_token(old.id, record)
    except NotFoundError:
        raise NotFound(_KIND, token_id) from None
    except InvalidValueError:
        # Revoked by someone else since it was read.
        raise Conflict("id", f"feed token {token_id} is revoked; make a new one instead") from None
    record_change(store, actor, "rotate", "feed_token", old.id, ["revoked_at"], now)
    record_change(store, actor, "create", "feed_token", record.id, _FIELDS, now)
    return token, record


def revoke_feed_token(
    store: Store, token_id: str, now: datetime, actor: Actor = LOCAL_ADMIN
) -> FeedTokenRecord:
    """Stop a feed token at once and for good; the feed's subscribers get 404."""
    visible_feed_token(store, actor, token_id)
    store.revoke_feed_token(token_id, now)
    record_change(store, actor, "revoke", "feed_token", token_id, ["revoked_at"], now)
    return visible_feed_token(store, actor, token_id)


def visible_feed_token(store: Store, actor: Actor, token_id: str) -> FeedTokenRecord:
    """A feed token of a user the actor manages (see `access.visible_user`)."""
    record = store.get_feed_token(token_id)
    if record is None:
        raise NotFound(_KIND, token_id)
    try:
        visible_user(store, actor, record.user_id)
    except NotFound:
        raise NotFound(_KIND, token_id) from None
    return record


def visible_feed_tokens(store: Store, actor: Actor) -> list[FeedTokenRecord]:
    found = []
    for record in store.list_feed_tokens():
        try:
            visible_user(store, actor, record.user_id)
        except NotFound:
            continue
        found.append(record)
    return found


def feed_for_token(store: Store, token: str) -> tuple[FeedTokenRecord, FeedScope]:
    """The feed a token opens. NoFeed when it is malformed,
    unknown or revoked, or when its holder may no longer see the feed."""
    if not FEED_TOKEN_PATTERN.fullmatch(token):
        raise NoFeed()
    record = store.get_feed_token_by_hash(hash_token(token))
    if record is None or record.revoked_at is not None:
        raise NoFeed()
    owner = store.get_staff_user(record.user_id)
    if owner is None:
        raise NoFeed()
    scope = scope_of(record)
    try:
        check_scope(store, Actor.of(owner), scope)
    except NotFound:
        raise NoFeed() from None
    return record, scope


def _new_token(
    user_id: str, scope: FeedScope, label: str | None, now: datetime
) -> tuple[str, FeedTokenRecord]:
    token = FEED_TOKEN_PREFIX + secrets.token_urlsafe(24)
    record = FeedTokenRecord(
        id=f"ftok_{secrets.token_hex(6)}",
        user_id=user_id,
        scope_kind=scope.kind,
        scope_id=scope.id,
        token_hash=hash_token(token),
        label=label,
        created_at=now,
    )
    return token, record


def _check_holder(store: Store, owner: StaffUserRecord, scope: FeedScope) -> None:
    try:
        check_scope(store, Actor.of(owner), scope)
    except NotFound:
        raise Invalid(
            "user",
            f"{owner.id} ({owner.role}) may not have a token for this feed: a specialist "
            "has one for their own feed, a supervisor for their team's and its specialists'",
        ) from None


def _owner(store: Store, actor: Actor, scope: FeedScope, user_id: str | None) -> StaffUserRecord:
    if user_id is not None:
        return visible_user(store, actor, user_id)
    if store.get_staff_user(actor.user_id) is not None:
        return visible_user(store, actor, actor.user_id)
    # The operator, who is no staff user: the one user who is that person.
    role = "specialist" if scope.kind == "specialist" else "supervisor"
    matching = [u for u in store.list_staff_users() if u.role == role and u.person_id == scope.id]
    if len(matching) != 1:
        which = "no" if not matching else "more than one"
        raise Invalid("user", f"{which} staff user is {role} {scope.id}: name the token's holder")
    return matching[0]
