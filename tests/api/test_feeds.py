"""Calendar feeds over HTTP: a feed token opens one feed, with no bearer token;
rotated, revoked, unknown or malformed, it opens nothing (404). Tokens are
stored only as hashes and never logged."""

from __future__ import annotations

import logging
import re
import socket
from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import httpx
import pytest
import recurring_ical_events
import sqlalchemy
from icalendar import Calendar

from api.server import ApiServer
from service.feeds import FEED_TOKEN_PREFIX
from store.models import Base
from tests.api.conftest import PUBLIC_URL, TZ, WEBHOOK_SETTINGS, Api, Headers, running_api


async def make(api: Api, headers: Headers, **body: Any) -> Any:
    return await api.ok("POST", "/feed-tokens", headers, json=body)


def path_of(created: dict[str, Any]) -> str:
    """The feed's path, from the URL the API gave (under http://ips, the test's base)."""
    return "/feeds/" + str(created["url"]).rsplit("/feeds/", 1)[1]


async def test_a_supervisor_subscribes_to_their_team_feed_with_no_bearer_token(api: Api) -> None:
    created = await make(api, api.sup1, team="sup-1", label="Outlook")

    response = await api.http.get(path_of(created))

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["cache-control"] == "private, max-age=300"
    assert re.fullmatch(r'"[^"]+"', response.headers["etag"])
    assert parsedate_to_datetime(response.headers["last-modified"]).tzinfo is not None
    assert response.content.startswith(b"BEGIN:VCALENDAR\r\n")
    assert b"X-WR-CALNAME:" in response.content
    assert created["user_id"] == "u-sup-1"
    assert (created["team"], created["specialist"], created["label"]) == ("sup-1", None, "Outlook")
    # Made without IPS_PUBLIC_URL: the default base.
    assert created["url"].startswith("http://127.0.0.1:8000/feeds/ipsf_")
    assert created["webcal_url"] == created["url"].replace("http://", "webcal://", 1)


async def test_the_token_has_192_random_bits_and_only_its_hash_is_stored(
    api: Api, database_url: str
) -> None:
    tokens = [(await make(api, api.es1, specialist="es-1"))["token"] for _ in range(3)]

    for token in tokens:
        secret = token.removeprefix(FEED_TOKEN_PREFIX)
        assert len(secret) * 6 >= 192
    assert len(set(tokens)) == 3
    engine = sqlalchemy.create_engine(database_url)
    try:
        with engine.connect() as db:
            stored = str([db.execute(t.select()).all() for t in Base.metadata.sorted_tables])
    finally:
        engine.dispose()
    assert FEED_TOKEN_PREFIX not in stored
    for token in tokens:
        assert token not in stored and token.removeprefix(FEED_TOKEN_PREFIX) not in stored


async def test_if_none_match_or_if_modified_since_answer_304_with_no_body(api: Api) -> None:
    path = path_of(await make(api, api.es1, specialist="es-1"))
    first = await api.http.get(path)
    etag, modified = first.headers["etag"], first.headers["last-modified"]

    same = await api.http.get(path, headers={"If-None-Match": etag})
    weak = await api.http.get(path, headers={"If-None-Match": f'"other", W/{etag}'})
    other = await api.http.get(path, headers={"If-None-Match": '"other"'})
    since = await api.http.get(path, headers={"If-Modified-Since": modified})
    before = parsedate_to_datetime(modified) - timedelta(seconds=1)
    older = await api.http.get(
        path, headers={"If-Modified-Since": format_datetime(before, usegmt=True)}
    )

    for answer in (same, weak, since):
        assert answer.status_code == 304
        assert answer.content == b""
        assert answer.headers["etag"] == etag
    assert other.status_code == 200 and other.content == first.content
    assert older.status_code == 200


async def test_rotation_stops_the_old_url_at_once_and_the_new_one_works(api: Api) -> None:
    old = await make(api, api.sup1, specialist="es-2")

    new = await api.ok("POST", f"/feed-tokens/{old['id']}/rotate", api.sup1)

    assert (await api.http.get(path_of(old))).status_code == 404
    assert (await api.http.get(path_of(new))).status_code == 200
    assert new["id"] != old["id"] and new["token"] != old["token"]
    assert (new["user_id"], new["specialist"]) == ("u-sup-1", "es-2")
    again = await api.http.post(f"/feed-tokens/{old['id']}/rotate", headers=api.sup1)
    assert again.status_code == 409
    listed = {t["id"]: t for t in await api.ok("GET", "/feed-tokens", api.sup1)}
    assert listed[old["id"]]["revoked_at"] is not None
    assert listed[new["id"]]["revoked_at"] is None
    assert all("token" not in t and "url" not in t for t in listed.values())


async def test_a_revoked_unknown_or_malformed_token_gets_the_same_404(api: Api) -> None:
    created = await make(api, api.es1, specialist="es-1")
    await api.ok("DELETE", f"/feed-tokens/{created['id']}", api.es1)

    revoked = await api.http.get(path_of(created))
    unknown = await api.http.get(f"/feeds/{FEED_TOKEN_PREFIX}{'A' * 32}.ics")
    malformed = await api.http.get("/feeds/not-a-token.ics")

    assert [r.status_code for r in (revoked, unknown, malformed)] == [404, 404, 404]
    assert revoked.json() == unknown.json() == malformed.json()
    assert revoked.json()["error"]["field"] == "token"
    assert created["token"] not in revoked.text


async def test_who_may_hold_a_token_for_which_feed(api: Api) -> None:
    async def status(headers: Headers, **body: Any) -> int:
        return (await api.http.post("/feed-tokens", headers=headers, json=body)).status_code

    # A specialist: their own feed only.
    assert await status(api.es1, specialist="es-1") == 201
    assert await status(api.es1, specialist="es-2") == 404
    assert await status(api.es1, team="sup-1") == 404
    # A supervisor: their team's and its specialists', no one else's.
    assert await status(api.sup1, team="sup-1") == 201
    assert await status(api.sup1, specialist="es-2") == 201
    assert await status(api.sup1, team="sup-2") == 404
    assert await status(api.sup1, specialist="es-3") == 404
    # Held by a specialist of the team: only that specialist's own feed.
    assert await status(api.sup1, specialist="es-2", user="u-es-2") == 201
    assert await status(api.sup1, team="sup-1", user="u-es-2") == 422
    assert await status(api.sup1, specialist="es-1", user="u-es-3") == 404
    # An admin: any feed.
    assert await status(api.admin, team="sup-2") == 201
    # One feed, named once.
    assert await status(api.admin, team="sup-2", specialist="es-3") == 422
    assert await status(api.admin) == 422
    # Someone else's token is as absent as one that does not exist.
    other = await make(api, api.es2, specialist="es-2")
    hidden = await api.http.delete(f"/feed-tokens/{other['id']}", headers=api.es1)
    absent = await api.http.delete("/feed-tokens/ftok_nobody", headers=api.es1)
    assert hidden.status_code == absent.status_code == 404
    assert (await api.http.get(path_of(other))).status_code == 200
    assert other["id"] not in {t["id"] for t in await api.ok("GET", "/feed-tokens", api.es1)}


async def test_a_specialist_who_leaves_the_team_leaves_the_supervisors_feed_tokens(
    api: Api,
) -> None:
    created = await make(api, api.sup1, specialist="es-2")

    await api.ok("PATCH", "/specialists/es-2", api.admin, json={"supervisor": "sup-2"})

    assert (await api.http.get(path_of(created))).status_code == 404
    rotated = await api.http.post(f"/feed-tokens/{created['id']}/rotate", headers=api.admin)
    assert rotated.status_code == 422 and rotated.json()["error"]["field"] == "user"


async def test_every_change_is_in_the_audit_trail_without_the_token(api: Api) -> None:
    created = await make(api, api.sup1, team="sup-1")
    rotated = await api.ok("POST", f"/feed-tokens/{created['id']}/rotate", api.sup1)
    await api.ok("DELETE", f"/feed-tokens/{rotated['id']}", api.sup1)

    trail = api.store.list_staff_changes(kind="feed_token")

    assert [(c.user_id, c.action, c.record_id) for c in trail] == [
        ("u-sup-1", "create", created["id"]),
        ("u-sup-1", "rotate", created["id"]),
        ("u-sup-1", "create", rotated["id"]),
        ("u-sup-1", "revoke", rotated["id"]),
    ]
    assert created["token"] not in str(trail) and rotated["token"] not in str(trail)


async def test_the_urls_are_under_ips_public_url(time_skipping_env: Any, database_url: str) -> None:
    async with running_api(
        time_skipping_env, database_url, webhook_settings=WEBHOOK_SETTINGS
    ) as api:
        created = await make(api, api.es1, specialist="es-1")

    assert created["url"] == f"{PUBLIC_URL}/feeds/{created['token']}.ics"
    assert created["webcal_url"] == created["url"].replace("https://", "webcal://", 1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_no_log_line_holds_the_token(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    """Through the real server (uvicorn), as a calendar program calls it."""
    created = await make(api, api.es1, specialist="es-1")
    revoked = await make(api, api.es1, specialist="es-1")
    await api.ok("DELETE", f"/feed-tokens/{revoked['id']}", api.es1)
    caplog.set_level(logging.DEBUG)
    # uvicorn's loggers do not propagate to the root, where caplog listens.
    uvicorn_loggers = [logging.getLogger(n) for n in ("uvicorn", "uvicorn.error", "uvicorn.access")]
    for logger in uvicorn_loggers:
        logger.addHandler(caplog.handler)
    try:
        async with (
            ApiServer(api.services, host="127.0.0.1", port=free_port()) as server,
            httpx.AsyncClient(base_url=server.url) as calendar,
        ):
            served = await calendar.get(path_of(created))
            gone = await calendar.get(path_of(revoked))
        # The server keeps no access log (its level is above INFO); were it turned
        # on, its lines, in uvicorn's own format, would lose the token.
        access_log = logging.getLogger("uvicorn.access")
        line = access_log.makeRecord(
            access_log.name, logging.INFO, __file__, 0, '%s - "%s %s HTTP/%s" %d',
            ("127.0.0.1:1", "GET", path_of(created), "1.1", 200), None,
        )  # fmt: skip
        assert access_log.filter(line)
        assert line.getMessage() == '127.0.0.1:1 - "GET /feeds/….ics HTTP/1.1" 200'
    finally:
        for logger in uvicorn_loggers:
            logger.removeHandler(caplog.handler)

    assert (served.status_code, gone.status_code) == (200, 404)
    # The calendar program's own client (httpx) logs the URL it asks for: not ours.
    ours = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    for record in ours:
        for token in (created["token"], revoked["token"]):
            assert token not in record.getMessage(), (record.name, record.getMessage())


async def test_a_subscribed_calendar_shows_the_teams_due_contacts_and_meetings(api: Api) -> None:
    """What Outlook or Google Calendar shows after subscribing to the team feed: read
    over HTTP and expanded as a calendar program does (recurring-ical-events)."""
    created = await make(api, api.sup1, team="sup-1", label="Outlook")
    for consumer in ("c-1", "c-2", "c-3"):  # c-3 is on another team
        await api.ok("POST", f"/consumers/{consumer}/referral", api.admin, json={})
    today = api.today()
    meeting = f"{today + timedelta(days=2)}T14:30"
    await api.ok(
        "POST",
        "/consumers/c-1/events",
        api.es1,
        json={
            "type": "appointment_scheduled",
            "event_id": "c-1-appt",
            "at": api.now_local(),
            "appointment_id": "a-1",
            "start": meeting,
            "duration_minutes": 45,
            "place": "Main St Library",
        },
    )

    async def shown() -> tuple[httpx.Response, list[Any]]:
        answer = await api.http.get(path_of(created))
        assert answer.status_code == 200, answer.text
        calendar = Calendar.from_ical(answer.content)
        events = recurring_ical_events.of(calendar).between(
            today - timedelta(days=14), today + timedelta(days=91)
        )
        return answer, sorted(events, key=lambda e: (str(e["DTSTART"].dt), str(e["SUMMARY"])))

    first, events = await shown()
    entries = [(str(e["SUMMARY"]), e["DTSTART"].dt) for e in events]
    due = today + timedelta(days=7)
    assert ("First meeting — C.1. (c-1)", due) in entries
    assert ("First meeting — C.2. (c-2)", due) in entries
    assert not [summary for summary, _ in entries if "(c-3)" in summary]
    [appointment] = [e for e in events if "Main St Library" in str(e.get("LOCATION", ""))]
    start = appointment["DTSTART"].dt
    assert (start.isoformat(timespec="minutes")[:16], str(start.tzinfo)) == (meeting, TZ)
    assert appointment["DTEND"].dt - start == timedelta(minutes=45)
    assert "Consumer" not in first.text  # initials and case id only

    # The first meeting happens: its entry leaves the calendar at the next refresh.
    await api.ok(
        "POST",
        "/consumers/c-1/events",
        api.es1,
        json={"type": "first_meeting", "event_id": "c-1-met", "at": api.now_local()},
    )
    second, events = await shown()
    summaries = [str(e["SUMMARY"]) for e in events]
    assert "First meeting — C.1. (c-1)" not in summaries
    assert "First meeting — C.2. (c-2)" in summaries
    assert second.headers["etag"] != first.headers["etag"]


async def test_feed_entries_link_to_the_app_of_ips_app_url(
    time_skipping_env: Any, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IPS_APP_URL", "https://app.riverside.example/")
    async with running_api(time_skipping_env, database_url) as api:
        await api.ok("POST", "/consumers/c-1/referral", api.admin, json={})
        answer = await api.http.get(path_of(await make(api, api.es1, specialist="es-1")))

    [description] = [
        str(e["DESCRIPTION"]) for e in Calendar.from_ical(answer.content).walk("VEVENT")
    ]
    assert description.endswith("\nhttps://app.riverside.example/consumers/c-1")
