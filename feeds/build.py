"""PLACEHOLDER, to be replaced at merge by the feed builder of the `feeds` branch.

It keeps that branch's interface (`FeedScope`, `Feed`, `build_feed`) so that the
feed tokens and `GET /feeds/{token}.ics` can be built and tested meanwhile: the
calendar it returns is valid but empty (no VEVENT).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from store import NotFoundError, Store


@dataclass(frozen=True)
class FeedScope:
    kind: Literal["specialist", "team"]
    # The specialist's id, or the supervisor's for a team.
    id: str


@dataclass(frozen=True)
class Feed:
    ics: bytes  # the calendar, UTF-8
    etag: str  # quoted strong ETag
    last_modified: datetime  # aware UTC
    name: str  # X-WR-CALNAME


# The placeholder's calendar never changes, so neither do its validators.
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def build_feed(
    store: Store, scope: FeedScope, now: datetime, *, app_url: str | None = None
) -> Feed:
    """PLACEHOLDER: an empty VCALENDAR named after the specialist or team."""
    if scope.kind == "specialist":
        specialist = store.get_specialist(scope.id)
        if specialist is None:
            raise NotFoundError(f"no specialist with id {scope.id!r}", field="id")
        name = f"IPS due contacts: {specialist.name}"
    else:
        supervisor = store.get_supervisor(scope.id)
        if supervisor is None:
            raise NotFoundError(f"no supervisor with id {scope.id!r}", field="id")
        name = f"IPS due contacts: team of {supervisor.name}"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//IPS journeys//feeds placeholder//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{name}",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
        "END:VCALENDAR",
    ]
    ics = ("\r\n".join(lines) + "\r\n").encode()
    etag = '"' + hashlib.sha256(ics).hexdigest()[:32] + '"'
    return Feed(ics=ics, etag=etag, last_modified=_EPOCH, name=name)
