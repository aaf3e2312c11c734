"""The codec server as the Temporal web page calls it: Temporal's remote codec
protocol, for admins only (a bearer token, or the cookie of the sign-in page),
with CORS for the web page's origins alone.

No Temporal is needed: the payloads are those the app's own data converter
writes, and the staff users and tokens are in a real database.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.api.common.v1 import Payload
from temporalio.client import Client

import temporal_client
from api.app import create_app
from api.codec import COOKIE, CodecSettings
from api.webhooks import WebhookSettings
from codec import ENCRYPTION_KEYS_VARIABLE, EncryptionCodec, new_key_entry, parse_key_ring
from config import load_settings
from rules.policy import Policy
from service import access
from service.access import LOCAL_ADMIN
from service.journeys import Services
from service.people import add_specialist, add_supervisor
from store import Store

TZ = "America/New_York"
UI = "http://127.0.0.1:8233"
NAME = "Ottoline Quarrington"
OLD_KEY, NEW_KEY = new_key_entry("k-old"), new_key_entry("k-new")


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def as_json(payload: Payload) -> dict[str, Any]:
    """A payload as the web page sends it (protobuf's JSON form)."""
    return {
        "metadata": {k: b64(v) for k, v in payload.metadata.items()},
        "data": b64(payload.data),
    }


def from_json(item: dict[str, Any]) -> Payload:
    return Payload(
        metadata={k: base64.b64decode(v) for k, v in item["metadata"].items()},
        data=base64.b64decode(item["data"]),
    )


async def _nowhere() -> Client:
    raise RuntimeError("the codec server needs no Temporal")


@dataclass
class Codec:
    http: httpx.AsyncClient
    store: Store
    tokens: dict[str, str]

    def bearer(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    async def decode(self, payloads: list[Payload], **kwargs: Any) -> httpx.Response:
        return await self.http.post(
            "/codec/decode", json={"payloads": [as_json(p) for p in payloads]}, **kwargs
        )


def _staff(store: Store) -> dict[str, str]:
    now = datetime.now(UTC)
    add_supervisor(
        store,
        LOCAL_ADMIN,
        {"id": "sup-1", "name": "Pat Kim", "email": "pat@example.org", "timezone": TZ},
    )
    add_specialist(
        store,
        LOCAL_ADMIN,
        {
            "id": "es-1",
            "name": "Jordan Lee",
            "email": "jordan@example.org",
            "timezone": TZ,
            "supervisor": "sup-1",
        },
    )
    tokens = {}
    for user_id, role, person in (
        ("admin", "admin", None),
        ("u-sup-1", "supervisor", "sup-1"),
        ("u-es-1", "specialist", "es-1"),
    ):
        access.add_user(store, user_id=user_id, name=user_id, role=role, person_id=person, now=now)
        tokens[user_id], _ = access.create_token(store, user_id=user_id, now=now)
    return tokens


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'ips.db'}")
    store.create_schema()
    yield store
    store.dispose()


def _client(store: Store, settings: CodecSettings) -> httpx.AsyncClient:
    app = create_app(Services(store, _nowhere, Policy()), WebhookSettings(), settings)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8000"
    )


@pytest.fixture
async def codec(store: Store) -> AsyncIterator[Codec]:
    settings = CodecSettings(codec=EncryptionCodec(parse_key_ring(f"{NEW_KEY},{OLD_KEY}")))
    tokens = _staff(store)
    async with _client(store, settings) as http:
        yield Codec(http, store, tokens)


async def written_by_the_app(value: Any, keys: str = OLD_KEY) -> Payload:
    """A payload as the worker stores it with IPS_ENCRYPTION_KEYS=keys."""
    converter = temporal_client.data_converter({ENCRYPTION_KEYS_VARIABLE: keys})
    [payload] = await converter.encode([value])
    return payload


def plain_json(item: dict[str, Any]) -> Any:
    payload = from_json(item)
    assert payload.metadata["encoding"] == b"json/plain"
    return json.loads(payload.data)


# ---------------------------------------------------------------- who may decode


async def test_no_credentials_is_a_401(codec: Codec) -> None:
    answer = await codec.decode([await written_by_the_app({"name": NAME})])

    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert NAME not in answer.text


@pytest.mark.parametrize("user", ["u-sup-1", "u-es-1"])
async def test_only_an_admin_decodes(codec: Codec, user: str) -> None:
    answer = await codec.decode(
        [await written_by_the_app({"name": NAME})], headers=codec.bearer(user)
    )

    assert answer.status_code == 403
    assert answer.json()["error"]["reason"] == (
        "only an admin may see the journeys' payloads decrypted"
    )
    assert NAME not in answer.text


async def test_a_revoked_token_decodes_nothing(codec: Codec) -> None:
    [token] = [t for t in codec.store.list_tokens() if t.user_id == "admin"]
    access.revoke_token(codec.store, token.id, datetime.now(UTC))

    answer = await codec.decode([await written_by_the_app(NAME)], headers=codec.bearer("admin"))

    assert answer.status_code == 401


# ---------------------------------------------------------------- the protocol


async def test_an_admin_reads_what_the_worker_stored_and_it_is_audited(codec: Codec) -> None:
    stored = [
        await written_by_the_app({"name": NAME, "phone": "+15555550187"}),
        await written_by_the_app("written with the newest key", keys=f"{NEW_KEY},{OLD_KEY}"),
        # From before encryption: passes through.
        (await temporal_client.data_converter({}).encode(["plain"]))[0],
    ]
    assert NAME.encode() not in stored[0].SerializeToString()

    answer = await codec.decode(stored, headers={**codec.bearer("admin"), "X-Namespace": "default"})

    assert answer.status_code == 200, answer.text
    values = [plain_json(item) for item in answer.json()["payloads"]]
    assert values == [
        {"name": NAME, "phone": "+15555550187"},
        "written with the newest key",
        "plain",
    ]
    trail = codec.store.list_staff_changes(kind="payloads")
    assert [(c.user_id, c.action, c.record_id, c.fields) for c in trail] == [
        ("admin", "decode", "default", [])
    ]
    assert NAME not in repr(codec.store.list_staff_changes())


async def test_encode_encrypts_with_the_newest_key(codec: Codec) -> None:
    [plain] = await temporal_client.data_converter({}).encode([{"name": NAME}])

    answer = await codec.http.post(
        "/codec/encode",
        json={"payloads": [as_json(plain)]},
        headers=codec.bearer("admin"),
    )

    assert answer.status_code == 200, answer.text
    [item] = answer.json()["payloads"]
    sealed = from_json(item)
    assert sealed.metadata["encryption-key-id"] == b"k-new"
    assert NAME.encode() not in sealed.data
    converter = temporal_client.data_converter({ENCRYPTION_KEYS_VARIABLE: NEW_KEY})
    assert await converter.decode([sealed]) == [{"name": NAME}]


async def test_a_payload_of_an_unknown_key_is_named(codec: Codec) -> None:
    lost = await written_by_the_app(NAME, keys=new_key_entry("k-lost"))
    fine = await written_by_the_app(NAME)

    answer = await codec.decode([fine, lost], headers=codec.bearer("admin"))

    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["field"] == "payloads.1"
    assert "'k-lost', which is not in IPS_ENCRYPTION_KEYS (it has k-new, k-old)" in error["reason"]
    assert NAME not in answer.text


async def test_bad_base64_and_a_bad_namespace_are_named(codec: Codec) -> None:
    bad_data = await codec.http.post(
        "/codec/decode",
        json={"payloads": [{"metadata": {}, "data": "not base64!"}]},
        headers=codec.bearer("admin"),
    )
    bad_namespace = await codec.decode([], headers={**codec.bearer("admin"), "X-Namespace": "a b"})

    assert bad_data.status_code == 422
    assert bad_data.json()["error"]["field"] == "payloads.0.data"
    assert bad_data.json()["error"]["reason"] == "is not valid base64"
    assert bad_namespace.status_code == 422
    assert bad_namespace.json()["error"]["field"] == "X-Namespace"


async def test_without_keys_plain_payloads_pass_and_encrypted_ones_are_refused(
    store: Store,
) -> None:
    tokens = _staff(store)
    async with _client(store, CodecSettings()) as http:
        plain = (await temporal_client.data_converter({}).encode(["plain"]))[0]
        encrypted = await written_by_the_app(NAME)
        headers = {"Authorization": f"Bearer {tokens['admin']}"}

        passed = await http.post(
            "/codec/decode", json={"payloads": [as_json(plain)]}, headers=headers
        )
        refused = await http.post(
            "/codec/decode", json={"payloads": [as_json(encrypted)]}, headers=headers
        )

    assert [plain_json(i) for i in passed.json()["payloads"]] == ["plain"]
    assert refused.status_code == 422
    assert "IPS_ENCRYPTION_KEYS is not set here" in refused.json()["error"]["reason"]


# ---------------------------------------------------------------- CORS


async def preflight(http: httpx.AsyncClient, origin: str) -> httpx.Response:
    return await http.options(
        "/codec/decode",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-namespace",
        },
    )


async def test_the_web_pages_preflight_is_answered_with_credentials(codec: Codec) -> None:
    answer = await preflight(codec.http, UI)

    assert answer.status_code == 204
    assert answer.headers["Access-Control-Allow-Origin"] == UI
    assert answer.headers["Access-Control-Allow-Credentials"] == "true"
    assert answer.headers["Access-Control-Allow-Methods"] == "POST"
    allowed = {h.strip() for h in answer.headers["Access-Control-Allow-Headers"].split(",")}
    assert allowed == {"authorization", "content-type", "x-namespace"}
    assert (await preflight(codec.http, "http://localhost:8233")).status_code == 204


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "http://127.0.0.1:8234", "http://127.0.0.1:8233.evil"]
)
async def test_another_origins_preflight_is_refused(codec: Codec, origin: str) -> None:
    answer = await preflight(codec.http, origin)

    assert answer.status_code == 403
    assert "Access-Control-Allow-Origin" not in answer.headers
    assert "Access-Control-Allow-Credentials" not in answer.headers


async def test_answers_carry_cors_headers_for_the_web_page_only(codec: Codec) -> None:
    payload = await written_by_the_app(NAME)

    ok = await codec.decode([payload], headers={**codec.bearer("admin"), "Origin": UI})
    refused = await codec.decode([payload], headers={"Origin": UI})
    foreign = await codec.decode(
        [payload], headers={**codec.bearer("admin"), "Origin": "https://x.io"}
    )

    assert ok.headers["Access-Control-Allow-Origin"] == UI
    assert ok.headers["Access-Control-Allow-Credentials"] == "true"
    # The web page can tell "sign in" from an outage.
    assert refused.status_code == 401
    assert refused.headers["Access-Control-Allow-Origin"] == UI
    assert "Access-Control-Allow-Origin" not in foreign.headers
    # Other routes answer no CORS at all.
    other = await codec.http.get("/consumers", headers={**codec.bearer("admin"), "Origin": UI})
    assert "Access-Control-Allow-Origin" not in other.headers


# ---------------------------------------------------------------- signing in


async def test_signing_in_lets_the_web_page_decode_with_the_cookie_alone(codec: Codec) -> None:
    page = await codec.http.get("/codec/sign-in")
    assert page.status_code == 200
    assert 'name="token" type="password"' in page.text
    assert "http://127.0.0.1:8000/codec" in page.text

    signed_in = await codec.http.post(
        "/codec/sign-in",
        data={"token": codec.tokens["admin"]},
        headers={"Origin": "http://127.0.0.1:8000"},
        follow_redirects=False,
    )

    assert signed_in.status_code == 303
    cookie = signed_in.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    for attribute in ("HttpOnly", "Path=/codec", "SameSite=strict", "Max-Age=28800"):
        assert attribute in cookie
    assert "Secure" not in cookie  # plain http on this computer
    assert "Signed in as <strong>admin</strong>" in (await codec.http.get("/codec/sign-in")).text
    answer = await codec.decode([await written_by_the_app({"name": NAME})], headers={"Origin": UI})
    assert answer.status_code == 200, answer.text
    assert plain_json(answer.json()["payloads"][0]) == {"name": NAME}
    # The cookie opens the codec only, not the rest of the API.
    assert (
        await codec.http.get("/consumers", headers={"Cookie": f"{COOKIE}={codec.tokens['admin']}"})
    ).status_code == 401
    trail = codec.store.list_staff_changes(kind="codec")
    assert [(c.user_id, c.action) for c in trail] == [("admin", "sign_in")]

    signed_out = await codec.http.post("/codec/sign-out", follow_redirects=False)

    assert signed_out.status_code == 303
    assert f'{COOKIE}=""' in signed_out.headers["set-cookie"]
    assert "Max-Age=0" in signed_out.headers["set-cookie"]
    assert (await codec.decode([await written_by_the_app(NAME)])).status_code == 401
    assert 'name="token"' in (await codec.http.get("/codec/sign-in")).text


@pytest.mark.parametrize(
    ("token", "status", "says"),
    [
        ("u-es-1", 403, "only an admin may see"),
        ("u-sup-1", 403, "only an admin may see"),
        (None, 401, "the token is not valid"),
    ],
)
async def test_signing_in_is_refused_to_all_but_admins(
    codec: Codec, token: str | None, status: int, says: str
) -> None:
    typed = codec.tokens[token] if token else "ips_not-a-token"

    answer = await codec.http.post("/codec/sign-in", data={"token": typed}, follow_redirects=False)

    assert answer.status_code == status
    assert says in answer.text
    assert "set-cookie" not in answer.headers
    assert typed not in answer.text


async def test_a_sign_in_form_posted_from_another_site_is_refused(codec: Codec) -> None:
    answer = await codec.http.post(
        "/codec/sign-in",
        data={"token": codec.tokens["admin"]},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )

    assert answer.status_code == 403
    assert "set-cookie" not in answer.headers


async def test_the_sign_in_page_cannot_be_framed_or_cached(codec: Codec) -> None:
    page = await codec.http.get("/codec/sign-in")

    assert page.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"


def test_ui_origins_come_from_the_environment_and_are_checked() -> None:
    settings = CodecSettings.from_settings(
        load_settings(
            {"IPS_CODEC_UI_ORIGINS": "https://temporal.example.org, http://127.0.0.1:8080"}
        )
    )
    assert settings.ui_origins == {"https://temporal.example.org", "http://127.0.0.1:8080"}
    assert settings.codec is None
    with pytest.raises(ValueError, match=r"IPS_CODEC_UI_ORIGINS: entry 2 \('http://x/ui'\)"):
        CodecSettings.from_settings(load_settings({"IPS_CODEC_UI_ORIGINS": "http://a,http://x/ui"}))
    with pytest.raises(ValueError, match=r"IPS_ENCRYPTION_KEYS: entry 1 \(k1\)"):
        CodecSettings.from_settings(load_settings({"IPS_ENCRYPTION_KEYS": "k1:YWJj"}))
