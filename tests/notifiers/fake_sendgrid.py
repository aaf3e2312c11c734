"""A local SendGrid Mail Send endpoint that holds every request to SendGrid's official contract.

`FakeSendGrid` serves on 127.0.0.1 (a free port) in a thread. Each request is
validated with openapi-core against `../shared/contracts/sendgrid_mail_v3.json`
(path, method, JSON body schema, Bearer authorization); a request the contract
rejects is recorded in `contract_errors` and answered 400, as SendGrid would.
A valid one is answered 202 with an `X-Message-Id`, unless the test asked for
errors (`fail_next`, or a `storm` of them) or a slow answer (`delay_next`).
Each answer is kept in `answers`, with the request and when it came.
"""

from __future__ import annotations

import copy
import json
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.exceptions import OpenAPIError
from werkzeug.datastructures import Headers, ImmutableMultiDict

from tests.notifiers.outage import Phase, Storm

REPO_ROOT = Path(__file__).resolve().parents[2]
CONTRACT = REPO_ROOT.parent / "shared" / "contracts" / "sendgrid_mail_v3.json"

# SendGrid's error body: {"errors": [{"message": ..., "field": ...}]}.
DEFAULT_ERRORS: dict[int, list[dict[str, Any]]] = {
    400: [
        {
            "message": "The to email does not contain a valid address.",
            "field": "personalizations.0.to.0.email",
        }
    ],
    401: [{"message": "The provided authorization grant is invalid, expired, or revoked"}],
    403: [{"message": "The from address does not match a verified Sender Identity."}],
    413: [{"message": "The JSON payload you have included in your request is too large."}],
    429: [{"message": "too many requests", "field": None}],
    500: [{"message": "internal server error"}],
}


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any  # the JSON body, None when there was none or it was not JSON
    # time.monotonic() when it arrived
    at: float = 0.0


@dataclass(frozen=True)
class Answer:
    """What the fake answered a valid, authorized request: the HTTP status and
    the X-Message-Id of the email it took (None when it refused it)."""

    request: ReceivedRequest
    status: int
    message_id: str | None


@dataclass
class _ContractRequest:
    """A request in the shape openapi-core validates (its `Request` protocol)."""

    host_url: str
    path: str
    method: str
    body: bytes | None
    content_type: str
    parameters: RequestParameters


class FakeSendGrid:
    def __init__(self, api_key: str, *, contract: Path = CONTRACT) -> None:
        if not contract.is_file():
            raise FileNotFoundError(
                f"SendGrid's contract is not at {contract}: the tests expect the shared "
                "contracts folder next to the repository (../shared/contracts)"
            )
        self.api_key = api_key
        self._spec: dict[str, Any] = json.loads(contract.read_text(encoding="utf-8"))
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self  # type: ignore[attr-defined]
        host, port = self._server.server_address[:2]
        self.url = f"http://{host!s}:{port}"
        spec = copy.deepcopy(self._spec)
        # The contract lists SendGrid's own hosts; this server answers for it too.
        spec["servers"] = [{"url": self.url}, *spec.get("servers", [])]
        self._openapi = OpenAPI.from_dict(spec)
        self._lock = threading.Lock()
        self._failures: deque[tuple[int, list[dict[str, Any]]]] = deque()
        self._delays: deque[float] = deque()
        self._storm: Storm | None = None
        self._released = threading.Event()
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.requests: list[ReceivedRequest] = []
        self.contract_errors: list[str] = []
        self.message_ids: list[str] = []
        self.answers: list[Answer] = []

    # ---------------------------------------------------------------- control

    def start(self) -> FakeSendGrid:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()  # wake any handler held by delay_next
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def fail_next(
        self, status: int, *, times: int = 1, errors: list[dict[str, Any]] | None = None
    ) -> None:
        """Answer the next `times` valid requests with `status` and SendGrid's error body."""
        body = errors if errors is not None else DEFAULT_ERRORS.get(status, [{"message": "error"}])
        with self._lock:
            self._failures.extend([(status, body)] * times)

    def storm(self, *phases: Phase) -> None:
        """Refuse every valid request as the phases say (SendGrid's error body and,
        for 429, its rate-limit headers), from the first one that comes; then
        take them again."""
        with self._lock:
            self._storm = Storm(phases)

    def delay_next(self, seconds: float) -> None:
        """Hold the answer to the next request for `seconds` (longer than a client's timeout)."""
        with self._lock:
            self._delays.append(seconds)

    def take_contract_errors(self) -> list[str]:
        """The contract errors so far, which the test thereby expected; clears them."""
        with self._lock:
            errors, self.contract_errors = self.contract_errors, []
        return errors

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self.requests)

    # ---------------------------------------------------------------- serving

    def _answer(
        self, method: str, target: str, headers: Headers, raw: bytes | None
    ) -> tuple[int, dict[str, str], bytes]:
        arrived = time.monotonic()
        with self._lock:
            delay = self._delays.popleft() if self._delays else None
        if delay is not None:
            self._released.wait(delay)

        parts = urlsplit(target)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        request = _ContractRequest(
            host_url=self.url,
            path=parts.path,
            method=method.lower(),
            body=raw,
            content_type=(headers.get("Content-Type") or "").lower(),
            parameters=RequestParameters(
                query=ImmutableMultiDict(parse_qs(parts.query)),
                header=headers,
            ),
        )
        error: str | None = None
        try:
            self._openapi.validate_request(request)
        except OpenAPIError as err:
            error = _describe(err)

        received = ReceivedRequest(method, parts.path, dict(headers.items()), body, arrived)
        phase = self._storm.answer() if self._storm is not None else None
        with self._lock:
            self.requests.append(received)
            if error is not None:
                self.contract_errors.append(f"{method} {parts.path}: {error}")
                return _error(400, [{"message": f"contract: {error}", "field": None}])
            if headers.get("Authorization") != f"Bearer {self.api_key}":
                return _error(401, DEFAULT_ERRORS[401])
            if self._failures:
                status, errors = self._failures.popleft()
                self.answers.append(Answer(received, status, None))
                return _error(status, errors)
            if phase is not None:
                self.answers.append(Answer(received, phase.status, None))
                return _error(
                    phase.status, DEFAULT_ERRORS.get(phase.status, [{"message": "error"}])
                )
            message_id = secrets.token_urlsafe(16)[:22]
            self.message_ids.append(message_id)
            self.answers.append(Answer(received, 202, message_id))
        return 202, {"X-Message-Id": message_id}, b""


def _error(status: int, errors: list[dict[str, Any]]) -> tuple[int, dict[str, str], bytes]:
    headers = {"Content-Type": "application/json"}
    if status == 429:
        headers |= {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "0"}
        headers["X-RateLimit-Reset"] = "1"
    return status, headers, json.dumps({"errors": errors}).encode()


def _describe(err: Exception) -> str:
    """openapi-core's error with the schema errors it wraps, which name the failing field."""
    causes = getattr(err.__cause__, "schema_errors", None)
    if causes:
        return f"{type(err).__name__}: " + "; ".join(str(getattr(e, "message", e)) for e in causes)
    return f"{type(err).__name__}: {err}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else None
        fake: FakeSendGrid = self.server.fake  # type: ignore[attr-defined]
        status, headers, body = fake._answer(
            self.command, self.path, Headers(list(self.headers.items())), raw
        )
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a timeout test)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output to what the tests say
