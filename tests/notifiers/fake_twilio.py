"""A local stand-in for api.twilio.com that holds every request to Twilio's official spec.

Each request is validated with openapi-core against
`../shared/contracts/twilio_api_v2010.json` (path, method, form body, basic
auth), and every form field must be one the spec names. A request the spec
rejects is recorded in `violations` and answered 400, so the test fails.
Valid message requests are answered like Twilio (201, a Message resource with
an SM... SID, status "queued"), unless the test queued an error with `fail` or
a `storm` of them. A message Twilio took is kept: the list endpoint (GET
Messages.json, filtered by To) answers with it, newest first, as Twilio would
for a client that lost the answer. `hold` makes the fake keep every answer to
itself (the request is received and the message taken) until `release`: a
client killed meanwhile never hears back.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from openapi_core import OpenAPI
from openapi_core.testing import MockRequest

from tests.notifiers.outage import Phase, Storm

CONTRACT = (
    Path(__file__).resolve().parents[2].parent / "shared" / "contracts" / "twilio_api_v2010.json"
)
TWILIO_HOST = "https://api.twilio.com"
MESSAGES_PATH = "/2010-04-01/Accounts/{AccountSid}/Messages.json"
# The longest a held answer waits for `release`: a test that forgets to release
# fails on its own timeouts, not on a fake that never lets go.
HOLD_LIMIT_SECONDS = 120.0


@cache
def twilio_spec() -> OpenAPI:
    # json, not openapi-core's YAML reader, which chokes on the spec's \ud83d escapes.
    return OpenAPI.from_dict(json.loads(CONTRACT.read_text(encoding="utf-8")))


@cache
def _spec_fields(path: str, method: str) -> frozenset[str]:
    operation = json.loads(CONTRACT.read_text(encoding="utf-8"))["paths"][path][method]
    form = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]
    return frozenset(form["schema"]["properties"])


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    form: dict[str, str]
    authorization: str | None
    query: dict[str, str] = field(default_factory=dict)
    # time.monotonic() when it arrived
    at: float = 0.0


@dataclass(frozen=True)
class Answer:
    """What the fake answered a message request: the HTTP status, and the SID of
    the message it took (None when it refused it)."""

    request: ReceivedRequest
    status: int
    sid: str | None


@dataclass
class _Failure:
    status: int
    code: int | None
    remaining: int


def twilio_error(status: int, code: int | None, message: str) -> dict[str, Any]:
    """An error body shaped like Twilio's (legacy, non-RFC-9457 form)."""
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


_MESSAGES = {
    21211: "The 'To' number {to} is not a valid phone number.",
    21610: "Attempt to send to unsubscribed recipient",
    20429: "Too Many Requests",
}


@dataclass
class FakeTwilio:
    base_url: str = ""
    requests: list[ReceivedRequest] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    # Every answer to a valid message request, in the order they were decided.
    answers: list[Answer] = field(default_factory=list)
    # The messages taken (Message resources), oldest first.
    taken: list[dict[str, Any]] = field(default_factory=list)
    _failures: list[_Failure] = field(default_factory=list)
    _storm: Storm | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _released: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._released.set()

    def fail(self, status: int, code: int | None = None, *, times: int = 1) -> None:
        """Answer the next `times` valid message requests with this error."""
        with self._lock:
            self._failures.append(_Failure(status, code, times))

    def storm(self, *phases: Phase) -> None:
        """Refuse every valid message request as the phases say, from the first
        one that comes; then take them again."""
        with self._lock:
            self._storm = Storm(phases)

    def hold(self) -> None:
        """From now on, take each valid message but keep the answer until `release`."""
        self._released.clear()

    def release(self) -> None:
        """Send the held answers (to whoever is still listening) and hold no more."""
        self._released.set()

    @property
    def messages(self) -> list[ReceivedRequest]:
        return [
            r for r in self.requests if r.method == "POST" and r.path.endswith("/Messages.json")
        ]

    def _next_failure(self) -> tuple[int, int | None] | None:
        with self._lock:
            while self._failures and self._failures[0].remaining <= 0:
                self._failures.pop(0)
            if self._failures:
                self._failures[0].remaining -= 1
                return self._failures[0].status, self._failures[0].code
            storm = self._storm
        phase = storm.answer() if storm is not None else None
        return None if phase is None else (phase.status, phase.code)

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        parts = urlsplit(target)
        path = parts.path
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()}
        request = ReceivedRequest(
            method, path, form, headers.get("Authorization"), query, time.monotonic()
        )
        with self._lock:
            self.requests.append(request)
        problems = self._contract_problems(method, path, query, headers, body, form)
        if problems:
            with self._lock:
                self.violations.extend(problems)
            return 400, twilio_error(400, None, "; ".join(problems))
        if method == "GET" and path.endswith("/Messages.json"):
            return 200, self._message_list(path, query)
        failure = self._next_failure()
        if failure is not None:
            status, code = failure
            with self._lock:
                self.answers.append(Answer(request, status, None))
            text = _MESSAGES.get(code or 0, "Fake Twilio error").format(to=form.get("To"))
            return status, twilio_error(status, code, text)
        message = self._message(path, form)
        with self._lock:
            self.taken.append(message)
            self.answers.append(Answer(request, 201, message["sid"]))
        self._released.wait(HOLD_LIMIT_SECONDS)
        return 201, message

    def _message_list(self, path: str, query: dict[str, str]) -> dict[str, Any]:
        """Twilio's page of Message resources, newest first, filtered by To."""
        size = int(query.get("PageSize", "50"))
        with self._lock:
            found = [m for m in reversed(self.taken) if query.get("To") in (None, m["to"])]
        return {
            "messages": found[:size],
            "end": min(len(found), size) - 1,
            "first_page_uri": f"{path}?PageSize={size}&Page=0",
            "next_page_uri": None,
            "page": 0,
            "page_size": size,
            "previous_page_uri": None,
            "start": 0,
            "uri": f"{path}?PageSize={size}&Page=0",
        }

    def _contract_problems(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: bytes,
        form: dict[str, str],
    ) -> list[str]:
        content_type = headers.get("Content-Type", "").split(";")[0].strip().lower()
        request = MockRequest(
            TWILIO_HOST,
            method,
            path,
            args=query,
            headers=headers,
            data=body,
            content_type=content_type or "application/x-www-form-urlencoded",
        )
        try:
            twilio_spec().validate_request(request)
        except Exception as err:  # every openapi-core failure is a contract violation
            cause = f" ({err.__cause__})" if err.__cause__ else ""
            return [f"{method} {path}: {type(err).__name__}: {err}{cause}"]
        if method == "POST" and path.endswith("/Messages.json"):
            unknown = sorted(set(form) - _spec_fields(MESSAGES_PATH, "post"))
            if unknown:
                return [f"{method} {path}: fields the spec does not name: {unknown}"]
        return []

    def _message(self, path: str, form: dict[str, str]) -> dict[str, Any]:
        account_sid = path.split("/")[3]
        sid = "SM" + secrets.token_hex(16)
        now = format_datetime(datetime.now(UTC).replace(microsecond=0))
        return {
            "account_sid": account_sid,
            "api_version": "2010-04-01",
            "body": form.get("Body", ""),
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "subresource_uris": {"media": f"{path[: -len('.json')]}/{sid}/Media.json"},
            "to": form.get("To"),
            "uri": f"{path[: -len('.json')]}/{sid}.json",
        }


def basic_auth(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def _handler(fake: FakeTwilio) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, payload = fake.handle(self.command, self.path, dict(self.headers.items()), body)
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client is gone (killed while the answer was held)

        do_GET = do_POST = do_DELETE = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: the tests assert on `fake.requests`

    return Handler


@contextmanager
def running_fake_twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio()
    twilio_spec()  # load the spec once, before the first request's clock starts
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    host, port = server.server_address[:2]
    fake.base_url = f"http://{host!s}:{port}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-twilio", daemon=True
    )
    thread.start()
    try:
        yield fake
    finally:
        fake.release()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
