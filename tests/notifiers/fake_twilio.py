"""A local stand-in for api.twilio.com that holds every request to Twilio's official spec.

Each request is validated with openapi-core against
`../shared/contracts/twilio_api_v2010.json` (path, method, form body, basic
auth), and every form field must be one the spec names. A request the spec
rejects is recorded in `violations` and answered 400, so the test fails.
Valid message requests are answered like Twilio (201, a Message resource with
an SM... SID, status "queued"), unless the test queued an error with `fail`.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from openapi_core import OpenAPI
from openapi_core.testing import MockRequest

CONTRACT = (
    Path(__file__).resolve().parents[2].parent / "shared" / "contracts" / "twilio_api_v2010.json"
)
TWILIO_HOST = "https://api.twilio.com"
MESSAGES_PATH = "/2010-04-01/Accounts/{AccountSid}/Messages.json"


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
}


@dataclass
class FakeTwilio:
    base_url: str = ""
    requests: list[ReceivedRequest] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    _failures: list[_Failure] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, status: int, code: int | None = None, *, times: int = 1) -> None:
        """Answer the next `times` valid message requests with this error."""
        with self._lock:
            self._failures.append(_Failure(status, code, times))

    @property
    def messages(self) -> list[ReceivedRequest]:
        return [
            r for r in self.requests if r.method == "POST" and r.path.endswith("/Messages.json")
        ]

    def _next_failure(self) -> _Failure | None:
        with self._lock:
            while self._failures and self._failures[0].remaining <= 0:
                self._failures.pop(0)
            if not self._failures:
                return None
            self._failures[0].remaining -= 1
            return self._failures[0]

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()}
        with self._lock:
            self.requests.append(ReceivedRequest(method, path, form, headers.get("Authorization")))
        problems = self._contract_problems(method, path, headers, body, form)
        if problems:
            with self._lock:
                self.violations.extend(problems)
            return 400, twilio_error(400, None, "; ".join(problems))
        failure = self._next_failure()
        if failure is not None:
            text = _MESSAGES.get(failure.code or 0, "Fake Twilio error").format(to=form.get("To"))
            return failure.status, twilio_error(failure.status, failure.code, text)
        return 201, self._message(path, form)

    def _contract_problems(
        self, method: str, path: str, headers: dict[str, str], body: bytes, form: dict[str, str]
    ) -> list[str]:
        content_type = headers.get("Content-Type", "").split(";")[0].strip().lower()
        request = MockRequest(
            TWILIO_HOST,
            method,
            path,
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
        return {
            "account_sid": account_sid,
            "api_version": "2010-04-01",
            "body": form.get("Body", ""),
            "date_created": "Mon, 23 Nov 2026 16:00:00 +0000",
            "date_sent": None,
            "date_updated": "Mon, 23 Nov 2026 16:00:00 +0000",
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
            status, payload = fake.handle(
                self.command, self.path.split("?")[0], dict(self.headers.items()), body
            )
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: the tests assert on `fake.requests`

    return Handler


@contextmanager
def running_fake_twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio()
    twilio_spec()  # load the spec once, before the first request's clock starts
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    host, port = server.server_address[:2]
    fake.base_url = f"http://{host!s}:{port}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-twilio", daemon=True
    )
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
