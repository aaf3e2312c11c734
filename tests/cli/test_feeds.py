"""`ips feed token ...` and `ips feed url`: a feed token made, rotated and revoked
at the terminal opens (or stops opening) its feed over HTTP."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from temporalio.client import Client

from api.app import create_app
from api.webhooks import WebhookSettings
from rules.policy import Policy
from service.journeys import Services
from tests.cli.conftest import Ips
from tests.cli.test_people_and_access import add_team


async def _no_temporal() -> Client:
    raise RuntimeError("a feed needs no Temporal")


@pytest.fixture
async def calendar(ips: Ips) -> AsyncIterator[httpx.AsyncClient]:
    """A calendar program, calling the web API on the commands' database."""
    app = create_app(Services(ips.store, _no_temporal, Policy()), WebhookSettings())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ips") as client:
        yield client


def feed_path(url: str) -> str:
    return "/feeds/" + url.rsplit("/feeds/", 1)[1]


async def test_a_token_made_at_the_terminal_opens_its_feed_until_rotated_or_revoked(
    ips: Ips, calendar: httpx.AsyncClient
) -> None:
    add_team(ips)
    ips.ok("users", "add", "u-sup-1", "--name", "Pat", "--role", "supervisor", "--person", "sup-1")

    printed = ips.ok("feed", "token", "create", "--team", "sup-1", "--label", "Outlook")

    webcal, https = re.findall(r"^    (\S+)$", printed, flags=re.MULTILINE)
    assert https.startswith("http://127.0.0.1:8000/feeds/ipsf_") and https.endswith(".ics")
    assert webcal == https.replace("http://", "webcal://", 1)
    assert "held by u-sup-1" in printed
    assert (await calendar.get(feed_path(https))).status_code == 200

    [listed] = ips.json("feed", "token", "list")
    assert listed == {
        "id": listed["id"],
        "user_id": "u-sup-1",
        "specialist": None,
        "team": "sup-1",
        "label": "Outlook",
        "created_at": listed["created_at"],
        "revoked_at": None,
    }
    assert "ipsf_" not in ips.ok("feed", "token", "list")

    rotated = ips.json("feed", "token", "rotate", listed["id"])
    assert (await calendar.get(feed_path(https))).status_code == 404
    assert (await calendar.get(feed_path(rotated["url"]))).status_code == 200
    assert (rotated["team"], rotated["label"], rotated["user_id"]) == (
        "sup-1",
        "Outlook",
        "u-sup-1",
    )

    revoked = ips.json("feed", "token", "revoke", rotated["id"])
    assert revoked["revoked_at"] is not None and "token" not in revoked
    assert (await calendar.get(feed_path(rotated["url"]))).status_code == 404
    states = [line.split()[-3] for line in ips.ok("feed", "token", "list").splitlines()[2:]]
    assert states == ["revoked", "revoked"]


def test_feed_url_spells_out_the_urls_from_the_token_under_ips_public_url(
    ips: Ips, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_team(ips)
    ips.ok("users", "add", "u-es-1", "--name", "Jo", "--role", "specialist", "--person", "es-1")
    made = ips.json("feed", "token", "create", "--specialist", "es-1")
    monkeypatch.setenv("IPS_PUBLIC_URL", "https://ips.example.org/journeys/")

    shown = ips.json("feed", "url", made["token"])
    printed = ips.ok("feed", "url", made["token"])

    https = f"https://ips.example.org/journeys/feeds/{made['token']}.ics"
    assert shown == {"id": made["id"], "url": https, "webcal_url": "webcal" + https[5:]}
    assert f"    webcal{https[5:]}\n    {https}\n" in printed
    # An id cannot give the URL back; a revoked token opens nothing.
    assert "ips feed token rotate" in ips.refused("feed", "url", made["id"])
    ips.ok("feed", "token", "revoke", made["id"])
    assert "no feed opens with this token" in ips.refused("feed", "url", made["token"])
    monkeypatch.setenv("IPS_PUBLIC_URL", "ips.example.org")
    assert "IPS_PUBLIC_URL" in ips.refused("feed", "token", "create", "--specialist", "es-1")
    assert len(ips.store.list_feed_tokens()) == 1


def test_bad_input_is_refused_naming_the_option(ips: Ips) -> None:
    add_team(ips)
    ips.ok("users", "add", "u-es-1", "--name", "Jo", "--role", "specialist", "--person", "es-1")
    ips.ok("users", "add", "u-es-1b", "--name", "Jo", "--role", "specialist", "--person", "es-1")
    es1 = ips.token("u-es-1")

    both = ips.refused("feed", "token", "create", "--specialist", "es-1", "--team", "sup-1")
    neither = ips.refused("feed", "token", "create")
    # The operator makes a token for es-1's feed: two users are es-1.
    whose = ips.refused("feed", "token", "create", "--specialist", "es-1")
    other = ips.refused("feed", "token", "create", "--specialist", "es-2", token=es1)
    team = ips.refused("feed", "token", "create", "--team", "sup-1", token=es1)
    nobody = ips.refused("feed", "token", "rotate", "ftok_nobody")

    assert both.startswith("Error: --specialist: ") and neither.startswith("Error: --specialist: ")
    assert whose.startswith("Error: --user: more than one staff user is specialist es-1")
    assert other == "Error: no specialist 'es-2'\n"
    assert team == "Error: no supervisor 'sup-1'\n"
    assert nobody == "Error: no feed token 'ftok_nobody'\n"
    assert ips.store.list_feed_tokens() == []
    # Their own feed, held by themselves.
    own = ips.json("feed", "token", "create", "--specialist", "es-1", token=es1)
    assert (own["user_id"], own["specialist"]) == ("u-es-1", "es-1")
    trail = ips.store.list_staff_changes(kind="feed_token")
    assert [(c.user_id, c.action, c.record_id) for c in trail] == [("u-es-1", "create", own["id"])]
