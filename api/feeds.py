"""Calendar feeds: `GET /feeds/{token}.ics` for calendar programs, and the feed
tokens staff make, rotate and revoke.

A calendar program sends no bearer token: the token in the path is the key, and
anything that does not open a feed (malformed, unknown, revoked, replaced) is
one and the same 404. The token is never logged: no route here logs, the server
keeps no access log (api/server.py), and `HideFeedTokens` blanks it should an
access log be turned on.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request, Response

from api.auth import ActorDep, ServicesDep
from api.errors import ERROR_RESPONSES, error_response
from api.models import ErrorOut, FeedTokenCreatedOut, FeedTokenIn, FeedTokenOut
from feeds import build_feed
from service import feeds
from service.people import Id
from store import NotFoundError

router = APIRouter()
staff_router = APIRouter(responses=ERROR_RESPONSES, tags=["calendar feeds"])

# Calendar programs poll; five minutes of their cache spares the database.
CACHE_CONTROL = "private, max-age=300"
CALENDAR = "text/calendar; charset=utf-8"
FEED_PATH = "/feeds/"

FeedTokenId = Annotated[Id, Path(description="The feed token's id (ftok_...), not the token.")]


def _public_url(request: Request) -> str | None:
    public_url: str | None = request.app.state.webhooks.public_url
    return public_url


def _app_url(request: Request) -> str | None:
    app_url: str | None = request.app.state.app_url
    return app_url


def _no_feed() -> Response:
    return error_response(404, "token", str(feeds.NoFeed()))


@router.get(
    "/feeds/{token}.ics",
    tags=["calendar feeds"],
    summary="A calendar feed (iCalendar), for a calendar program to subscribe to",
    description="No bearer token: the feed token in the path is the key. Answers 304 when "
    "If-None-Match or If-Modified-Since shows the caller has this version.",
    response_class=Response,
    responses={
        200: {"content": {"text/calendar": {}}, "description": "The feed, RFC 5545."},
        304: {"description": "Not changed since the caller's copy."},
        404: {"model": ErrorOut, "description": "No feed opens with this token."},
        503: ERROR_RESPONSES[503],
    },
)
def get_feed(
    token: Annotated[str, Path(description="The feed token, from the feed's URL.")],
    request: Request,
    services: ServicesDep,
    if_none_match: Annotated[str | None, Header()] = None,
    if_modified_since: Annotated[str | None, Header()] = None,
) -> Response:
    try:
        _, scope = feeds.feed_for_token(services.store, token)
        feed = build_feed(services.store, scope, services.now(), app_url=_app_url(request))
    except (feeds.NoFeed, NotFoundError):
        return _no_feed()
    headers = {
        "ETag": feed.etag,
        "Last-Modified": format_datetime(feed.last_modified.astimezone(UTC), usegmt=True),
        "Cache-Control": CACHE_CONTROL,
    }
    if _not_modified(feed.etag, feed.last_modified, if_none_match, if_modified_since):
        return Response(status_code=304, headers=headers)
    return Response(content=feed.ics, media_type=CALENDAR, headers=headers)


def _not_modified(
    etag: str, last_modified: datetime, if_none_match: str | None, if_modified_since: str | None
) -> bool:
    """RFC 9110 §13.1.2-3: If-None-Match (weak comparison) decides when sent;
    If-Modified-Since only without it."""
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return "*" in tags or etag.removeprefix("W/") in tags
    if if_modified_since is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError, OverflowError):
        return False
    if since.tzinfo is None:
        return False
    return last_modified.replace(microsecond=0) <= since


@staff_router.post(
    "/feed-tokens",
    status_code=201,
    response_model=FeedTokenCreatedOut,
    summary="Make a token for a calendar feed; the token and its URLs are shown this once",
)
def create_feed_token(
    body: FeedTokenIn, request: Request, services: ServicesDep, actor: ActorDep
) -> Any:
    token, record = feeds.create_feed_token(
        services.store,
        scope=feeds.scope_from(body.specialist, body.team),
        now=services.now(),
        user_id=body.user,
        label=body.label,
        actor=actor,
    )
    return feeds.new_feed_token_fields(token, record, _public_url(request))


@staff_router.post(
    "/feed-tokens/{id}/rotate",
    status_code=201,
    response_model=FeedTokenCreatedOut,
    responses={409: {"model": ErrorOut, "description": "The token is revoked."}},
    summary="Replace a feed token by a new one: the old URL stops working at once",
)
def rotate_feed_token(
    id: FeedTokenId, request: Request, services: ServicesDep, actor: ActorDep
) -> Any:
    token, record = feeds.rotate_feed_token(services.store, id, services.now(), actor)
    return feeds.new_feed_token_fields(token, record, _public_url(request))


@staff_router.delete(
    "/feed-tokens/{id}",
    status_code=204,
    response_class=Response,
    summary="Revoke a feed token: its feed answers 404 from now on",
)
def revoke_feed_token(id: FeedTokenId, services: ServicesDep, actor: ActorDep) -> Response:
    feeds.revoke_feed_token(services.store, id, services.now(), actor)
    return Response(status_code=204)


@staff_router.get(
    "/feed-tokens",
    response_model=list[FeedTokenOut],
    summary="The feed tokens of the users the caller manages (never the tokens themselves)",
)
def list_feed_tokens(services: ServicesDep, actor: ActorDep) -> Any:
    return [feeds.feed_token_fields(t) for t in feeds.visible_feed_tokens(services.store, actor)]


class HideFeedTokens(logging.Filter):
    """Blanks the token of a feed's path in uvicorn's access log lines."""

    _TOKEN = re.compile(r"(/feeds/)[^/?\s\".]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                self._TOKEN.sub(r"\1…", a) if isinstance(a, str) and FEED_PATH in a else a
                for a in record.args
            )
        return True
