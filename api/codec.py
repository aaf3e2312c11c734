"""The codec server: with IPS_ENCRYPTION_KEYS set, the Temporal web page sends the
journeys' encrypted payloads here (`POST /codec/decode`, Temporal's remote codec
protocol) and shows staff what this answers, decrypted.

Only an admin may decrypt: a payload does not say whose journey it belongs to, so
no narrower scope (a supervisor's team) can be kept. Each call is written to the
staff audit trail (who, which namespace; never what was decrypted), and nothing
of a payload is logged.

The web page runs in the browser, at another origin (http://127.0.0.1:8233 for
`ips up`): the codec routes answer CORS, with credentials, for the origins of
IPS_CODEC_UI_ORIGINS alone. The page cannot send a bearer token, so staff sign in
at `/codec/sign-in` with their token, which is kept in an HttpOnly, SameSite=Strict
cookie for `/codec` only, and switch on "Include cross-origin credentials" in the
page's Codec Server settings. The web page and the API must then be opened under
the same host name (127.0.0.1 for both, say): the cookie goes to that host only.
"""

from __future__ import annotations

import base64
import html
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlsplit

from fastapi import APIRouter, Cookie, Depends, Header, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, BeforeValidator, Field, PlainSerializer, WithJsonSchema
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.api.common.v1 import Payload

from api.auth import ServicesDep, bearer
from api.errors import error_response
from api.models import ErrorOut
from codec import (
    ENCODING,
    ENCRYPTION_KEYS_VARIABLE,
    KEY_ID_METADATA,
    EncryptionCodec,
    PayloadDecryptionError,
    decode_base64,
    key_ring_of,
)
from config import Settings
from service import access
from service.access import Actor
from service.errors import Invalid, Unauthenticated
from service.journeys import Services, available

log = logging.getLogger("ips.api")

PREFIX = "/codec"
COOKIE = "ips_codec_token"
# A working day; the token's own expiry and revocation are checked on every call.
COOKIE_MAX_AGE_SECONDS = 8 * 3600
# Who may see every journey's payloads decrypted.
DECRYPTING_ROLES = frozenset({"admin"})
UI_ORIGINS_VARIABLE = "IPS_CODEC_UI_ORIGINS"
# The Temporal web page of `ips up`, under either name of this computer.
DEFAULT_UI_ORIGINS = frozenset({"http://127.0.0.1:8233", "http://localhost:8233"})
ALLOWED_HEADERS = "authorization, content-type, x-namespace"
PREFLIGHT_MAX_AGE_SECONDS = 600
# Only the sign-in form posts here; nothing larger is a token.
MAX_FORM_BYTES = 4096


@dataclass(frozen=True)
class CodecSettings:
    """The codec of this deployment (None when payloads are not encrypted) and the
    origins of the Temporal web pages that may call it from a browser."""

    codec: EncryptionCodec | None = None
    ui_origins: frozenset[str] = field(default=DEFAULT_UI_ORIGINS)

    @classmethod
    def from_settings(
        cls, settings: Settings, ui_origins: frozenset[str] | None = None
    ) -> CodecSettings:
        """From IPS_ENCRYPTION_KEYS and IPS_CODEC_UI_ORIGINS (comma-separated, default
        the web page of `ips up`), unless `ui_origins` is given. Raises ValueError
        naming the setting at fault."""
        keys = settings.encryption_keys
        ring = key_ring_of(keys.get_secret_value() if keys else None)
        if ui_origins is None:
            ui_origins = parse_ui_origins(settings.codec_ui_origins or "")
        return cls(codec=EncryptionCodec(ring) if ring else None, ui_origins=ui_origins)


def parse_ui_origins(text: str) -> frozenset[str]:
    """`http://host:port` origins separated by commas; the default when empty."""
    if not text.strip():
        return DEFAULT_UI_ORIGINS
    origins = set()
    for position, entry in enumerate(text.split(","), start=1):
        origin = entry.strip()
        parts = urlsplit(origin)
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.path
            or parts.query
            or parts.fragment
            or parts.username
        ):
            raise ValueError(
                f"{UI_ORIGINS_VARIABLE}: entry {position} ({origin!r}) is not an origin "
                "like http://127.0.0.1:8233 (a scheme, a host and maybe a port, no path)"
            )
        origins.add(origin)
    return frozenset(origins)


# ---------------------------------------------------------------- the protocol


def _from_base64(value: Any) -> bytes:
    if not isinstance(value, str):
        raise ValueError("must be a base64 string")
    decoded = decode_base64(value)
    if decoded is None:
        raise ValueError("is not valid base64")
    return decoded


Base64 = Annotated[
    bytes,
    BeforeValidator(_from_base64),
    PlainSerializer(lambda raw: base64.b64encode(raw).decode("ascii"), return_type=str),
    WithJsonSchema({"type": "string", "format": "byte"}),
]


class PayloadJson(BaseModel):
    """A Temporal payload in protobuf's JSON form: base64 metadata values and data."""

    metadata: dict[str, Base64] = Field(default_factory=dict)
    data: Base64 = b""

    @classmethod
    def of(cls, payload: Payload) -> PayloadJson:
        # Already bytes: nothing to validate.
        return cls.model_construct(metadata=dict(payload.metadata), data=payload.data)

    def payload(self) -> Payload:
        return Payload(metadata=self.metadata, data=self.data)


class PayloadsJson(BaseModel):
    payloads: list[PayloadJson]


Namespace = Annotated[
    str,
    Header(
        alias="X-Namespace",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$",
        description="The Temporal namespace of the payloads (the web page sends it).",
    ),
]


def settings(request: Request) -> CodecSettings:
    found: CodecSettings = request.app.state.codec
    return found


def decrypting_actor(
    request: Request,
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    signed_in: Annotated[
        str | None,
        Cookie(
            alias=COOKIE,
            description="Set by signing in at /codec/sign-in, for the Temporal web page.",
        ),
    ] = None,
) -> Actor:
    """The admin behind the bearer token, else behind the sign-in cookie."""
    token = credentials.credentials if credentials is not None else signed_in
    with available():
        actor = access.authenticate(services.store, token, services.now())
    if actor.role not in DECRYPTING_ROLES:
        raise HTTPException(403, "only an admin may see the journeys' payloads decrypted")
    return actor


DecryptingActor = Annotated[Actor, Depends(decrypting_actor)]

CODEC_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No token (header or sign-in cookie), or a bad one."},
    403: {"model": ErrorOut, "description": "The token is not an admin's."},
    422: {
        "model": ErrorOut,
        "description": "Bad input, or a payload that does not decrypt (`field` names it).",
    },
}

router = APIRouter(prefix=PREFIX, tags=["codec"], responses=CODEC_RESPONSES)


@router.post(
    "/decode",
    response_model=PayloadsJson,
    summary="Decrypt payloads, for the Temporal web page (Temporal's remote codec protocol)",
    description="Payloads encrypted by this deployment come back as they were before "
    "encryption; any other payload comes back unchanged. Admins only; each call is "
    "recorded in the staff audit trail.",
)
def decode(
    body: PayloadsJson,
    request: Request,
    services: ServicesDep,
    actor: DecryptingActor,
    namespace: Namespace = "default",
) -> PayloadsJson:
    codec = settings(request).codec
    decoded = []
    for position, item in enumerate(body.payloads):
        try:
            decoded.append(_decrypt(codec, item.payload()))
        except PayloadDecryptionError as err:
            raise Invalid(f"payloads.{position}", err.reason) from None
    _audit(services, actor, "decode", namespace, len(decoded))
    return PayloadsJson(payloads=[PayloadJson.of(p) for p in decoded])


@router.post(
    "/encode",
    response_model=PayloadsJson,
    summary="Encrypt payloads, for what staff send from the Temporal web page",
    description="Encrypted with the newest key of IPS_ENCRYPTION_KEYS; unchanged when "
    "payloads are not encrypted. Admins only; recorded in the staff audit trail.",
)
def encode(
    body: PayloadsJson,
    request: Request,
    services: ServicesDep,
    actor: DecryptingActor,
    namespace: Namespace = "default",
) -> PayloadsJson:
    codec = settings(request).codec
    payloads = [item.payload() for item in body.payloads]
    encoded = payloads if codec is None else [codec.encrypt(p) for p in payloads]
    _audit(services, actor, "encode", namespace, len(encoded))
    return PayloadsJson(payloads=[PayloadJson.of(p) for p in encoded])


def _decrypt(codec: EncryptionCodec | None, payload: Payload) -> Payload:
    if codec is not None:
        return codec.decrypt(payload)
    if payload.metadata.get("encoding") == ENCODING:
        key_id = payload.metadata.get(KEY_ID_METADATA, b"").decode("utf-8", errors="replace")
        raise PayloadDecryptionError(
            f"a payload is encrypted with key {key_id!r}, but {ENCRYPTION_KEYS_VARIABLE} "
            "is not set here",
            key_id,
        )
    return payload


def _audit(services: Services, actor: Actor, action: str, namespace: str, count: int) -> None:
    with available():
        access.record_change(
            services.store, actor, action, "payloads", namespace, now=services.now()
        )
    log.info("codec: %s %s %d payloads of namespace %s", actor.user_id, action, count, namespace)


# ---------------------------------------------------------------- signing in


@router.get("/sign-in", response_class=HTMLResponse, include_in_schema=False)
def sign_in_page(
    request: Request,
    services: ServicesDep,
    signed_in: Annotated[str | None, Cookie(alias=COOKIE)] = None,
) -> HTMLResponse:
    actor = None
    if signed_in:
        try:
            with available():
                actor = access.authenticate(services.store, signed_in, services.now())
        except Unauthenticated:
            actor = None
    return _page(request, actor=actor)


@router.post("/sign-in", response_class=HTMLResponse, include_in_schema=False)
async def sign_in(request: Request, services: ServicesDep) -> Response:
    refused = _foreign_form(request)
    if refused is not None:
        return refused
    body = await request.body()
    fields = dict(parse_qsl(body.decode("utf-8", "replace"))) if len(body) <= MAX_FORM_BYTES else {}
    token = fields.get("token", "").strip()
    try:
        with available():
            actor = access.authenticate(services.store, token, services.now())
    except Unauthenticated as err:
        return _page(request, problem=f"Not signed in: {err}.", status=401)
    if actor.role not in DECRYPTING_ROLES:
        return _page(
            request,
            problem="Not signed in: only an admin may see the journeys' payloads decrypted.",
            status=403,
        )
    with available():
        access.record_change(
            services.store, actor, "sign_in", "codec", actor.user_id, now=services.now()
        )
    answer = RedirectResponse(f"{PREFIX}/sign-in", status_code=303)
    answer.set_cookie(
        COOKIE,
        token,
        max_age=COOKIE_MAX_AGE_SECONDS,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return answer


@router.post("/sign-out", include_in_schema=False)
def sign_out(request: Request) -> Response:
    refused = _foreign_form(request)
    if refused is not None:
        return refused
    answer = RedirectResponse(f"{PREFIX}/sign-in", status_code=303)
    answer.delete_cookie(
        COOKIE,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return answer


def _own_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def _foreign_form(request: Request) -> Response | None:
    """A refusal for a form posted from another site's page."""
    origin = request.headers.get("origin")
    if origin is not None and origin != _own_origin(request):
        return error_response(403, "origin", "the sign-in form is posted from its own page only")
    return None


PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def _page(
    request: Request, *, actor: Actor | None = None, problem: str | None = None, status: int = 200
) -> HTMLResponse:
    endpoint = html.escape(_own_origin(request) + PREFIX)
    encrypted = settings(request).codec is not None
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>IPS journeys: read payloads in the Temporal web page</title>",
        "<style>body{font-family:sans-serif;max-width:40em;margin:2em auto;line-height:1.4}"
        "input{width:100%;padding:.4em}button{margin-top:.6em;padding:.4em 1em}"
        ".problem{color:#a00}</style></head><body>",
        "<h1>Read the journeys in the Temporal web page</h1>",
    ]
    if not encrypted:
        parts.append(
            f"<p>Payloads are not encrypted here ({ENCRYPTION_KEYS_VARIABLE} is not set): "
            "the Temporal web page shows them without signing in.</p>"
        )
    if problem:
        parts.append(f'<p class="problem">{html.escape(problem)}</p>')
    if actor is not None:
        parts += [
            f"<p>Signed in as <strong>{html.escape(actor.user_id)}</strong>.</p>",
            f'<form method="post" action="{PREFIX}/sign-out"><button>Sign out</button></form>',
        ]
    else:
        parts += [
            f'<form method="post" action="{PREFIX}/sign-in">',
            '<label for="token">Your staff token (an admin\'s, from '
            "<code>ips tokens create</code>)</label>",
            '<input id="token" name="token" type="password" autocomplete="off" required>',
            "<button>Sign in</button></form>",
        ]
    parts += [
        "<h2>Then, in the Temporal web page</h2><ol>",
        "<li>Open it under the same host name as this page "
        f"(<code>{html.escape(request.url.hostname or '')}</code>).</li>",
        "<li>Open <em>Codec Server</em> and choose <em>Use my browser setting and ignore "
        "cluster-level setting</em>.</li>",
        f"<li>Enter the endpoint <code>{endpoint}</code>, switch on <em>Include cross-origin "
        "credentials</em>, and apply.</li>",
        "</ol><p>Signing out, or the token expiring, hides the payloads again.</p>",
        "</body></html>",
    ]
    return HTMLResponse("\n".join(parts), status_code=status, headers=PAGE_HEADERS)


# ---------------------------------------------------------------- CORS


class CodecCors:
    """CORS with credentials for the codec's protocol routes, from `origins` alone:
    the answers to preflight requests, and the headers of every answer (errors
    too, so that the web page can tell a 401 from an outage)."""

    def __init__(self, app: ASGIApp, origins: Sequence[str] | frozenset[str]) -> None:
        self.app = app
        self.origins = frozenset(origins)
        self.paths = (f"{PREFIX}/decode", f"{PREFIX}/encode")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        allowed = origin is not None and origin in self.origins
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(allowed, origin)(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer = MutableHeaders(scope=message)
                answer.add_vary_header("Origin")
                if allowed and origin is not None:
                    answer["Access-Control-Allow-Origin"] = origin
                    answer["Access-Control-Allow-Credentials"] = "true"
            await send(message)

        await self.app(scope, receive, send_with_cors)

    @staticmethod
    def _preflight(allowed: bool, origin: str | None) -> Response:
        if not allowed or origin is None:
            refusal = error_response(
                403, "origin", f"is not one of the web pages of {UI_ORIGINS_VARIABLE}"
            )
            refusal.headers["Vary"] = "Origin"
            return refusal
        return Response(
            status_code=204,
            headers={
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Credentials": "true",
                "Access-Control-Allow-Methods": "POST",
                "Access-Control-Allow-Headers": ALLOWED_HEADERS,
                "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE_SECONDS),
                "Vary": "Origin",
            },
        )
