"""The API over a real stack: Temporal's time-skipping test server, a worker
running the real journeys and activities, a database (SQLite, and PostgreSQL
when IPS_TEST_POSTGRES_URL is set), and the app called through httpx.

`api` hands out an `Api` harness. Staff on file, as an admin sets them up
through the API: supervisors sup-1 (team es-1, es-2) and sup-2 (team es-3);
consumers c-1 (es-1), c-2 (es-2), c-3 (es-3), all in America/New_York. Each has
a user and a token: `api.admin`, `api.sup1`, `api.sup2`, `api.es1`, `api.es2`,
`api.es3` are request headers carrying them.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.journey import AgencySettings, JourneyActivities
from api.app import create_app
from api.codec import CodecSettings
from api.webhooks import WebhookSettings
from notifiers import RecordingNotifier
from rules import calendar
from rules.policy import Policy
from service import access
from service.journeys import Services
from store import Store
from worker import build_worker

TZ = "America/New_York"
Headers = dict[str, str]

# The webhooks' secrets, for the tests that sign as Twilio and SendGrid do. The
# public URL is not the one the tests call (http://ips): behind a proxy.
PUBLIC_URL = "https://ips.example.org/journeys"
AUTH_TOKEN = "0123456789abcdef" * 2
SENDGRID_KEY = ec.generate_private_key(ec.SECP256R1())
SENDGRID_PUBLIC_KEY = base64.b64encode(
    SENDGRID_KEY.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
).decode()
WEBHOOK_SETTINGS = WebhookSettings(
    public_url=PUBLIC_URL, twilio_auth_token=AUTH_TOKEN, sendgrid_public_key=SENDGRID_PUBLIC_KEY
)


def bearer(token: str) -> Headers:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Clock:
    """The API's wall clock; a test moves it to see a token expire."""

    offset: timedelta = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass
class Api:
    http: httpx.AsyncClient
    store: Store
    services: Services
    clock: Clock
    notifier: RecordingNotifier
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, user: str) -> Headers:
        return bearer(self.tokens[user])

    @property
    def admin(self) -> Headers:
        return self.headers("admin")

    @property
    def sup1(self) -> Headers:
        return self.headers("u-sup-1")

    @property
    def sup2(self) -> Headers:
        return self.headers("u-sup-2")

    @property
    def es1(self) -> Headers:
        return self.headers("u-es-1")

    @property
    def es2(self) -> Headers:
        return self.headers("u-es-2")

    @property
    def es3(self) -> Headers:
        return self.headers("u-es-3")

    def today(self) -> date:
        """Today in the consumers' zone."""
        return calendar.local_date(self.clock(), TZ)

    def now_local(self) -> str:
        """Now, as the consumers' local wall-clock time (no offset)."""
        return calendar.to_local(self.clock(), TZ).replace(tzinfo=None).isoformat("T", "seconds")

    async def ok(self, method: str, url: str, headers: Headers, **kwargs: Any) -> Any:
        response = await self.http.request(method, url, headers=headers, **kwargs)
        assert response.status_code < 300, (method, url, response.status_code, response.text)
        return response.json() if response.content else None

    async def add_user(self, user_id: str, role: str, person_id: str | None) -> str:
        await self.ok(
            "POST",
            "/users",
            self.admin,
            json={"id": user_id, "name": user_id, "role": role, "person_id": person_id},
        )
        created = await self.ok("POST", f"/users/{user_id}/tokens", self.admin, json={})
        self.tokens[user_id] = created["token"]
        return str(created["token"])


def bootstrap_admin(store: Store, now: datetime) -> str:
    """The first admin and their token, as the operator makes them on the server
    (`ips users add`, `ips tokens create`): the API has no one to ask before."""
    access.add_user(store, user_id="admin", name="Admin", role="admin", person_id=None, now=now)
    token, _ = access.create_token(store, user_id="admin", now=now)
    return token


async def set_up_agency(api: Api) -> None:
    for sup in ("sup-1", "sup-2"):
        await api.ok(
            "POST",
            "/supervisors",
            api.admin,
            json={
                "id": sup,
                "name": f"Supervisor {sup}",
                "email": f"{sup}@example.org",
                "timezone": TZ,
            },
        )
    for es, sup in (("es-1", "sup-1"), ("es-2", "sup-1"), ("es-3", "sup-2")):
        await api.ok(
            "POST",
            "/specialists",
            api.admin,
            json={
                "id": es,
                "name": f"Specialist {es}",
                "email": f"{es}@example.org",
                "timezone": TZ,
                "supervisor": sup,
            },
        )
    for n, es in ((1, "es-1"), (2, "es-2"), (3, "es-3")):
        await api.ok(
            "POST",
            "/consumers",
            api.admin,
            json={"id": f"c-{n}", "name": f"Consumer {n}", "specialist": es, "timezone": TZ},
        )
    for sup in ("sup-1", "sup-2"):
        await api.add_user(f"u-{sup}", "supervisor", sup)
    for es in ("es-1", "es-2", "es-3"):
        await api.add_user(f"u-{es}", "specialist", es)


def stack_services(
    store: Store, connect: Callable[[], Awaitable[Client]], clock: Clock
) -> Services:
    return Services(store=store, connect=connect, policy=Policy(), now=clock)


@asynccontextmanager
async def running_api(
    env: WorkflowEnvironment,
    database_url: str,
    *,
    agency: bool = True,
    webhook_settings: WebhookSettings | None = None,
) -> AsyncIterator[Api]:
    store = Store(database_url)
    store.create_schema()
    clock = Clock()

    async def connect() -> Client:
        return env.client

    services = stack_services(store, connect, clock)
    notifier = RecordingNotifier()
    activities = JourneyActivities(store, notifier, AgencySettings())
    with ThreadPoolExecutor(max_workers=8) as executor:
        async with build_worker(env.client, activities, executor=executor):
            # The webhooks' secrets and the codec's keys are the test's, never the
            # environment's.
            app = create_app(services, webhook_settings or WebhookSettings(), CodecSettings())
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://ips") as http:
                api = Api(http=http, store=store, services=services, clock=clock, notifier=notifier)
                api.tokens["admin"] = bootstrap_admin(store, clock())
                if agency:
                    await set_up_agency(api)
                yield api
    store.dispose()


@pytest.fixture
async def api(time_skipping_env: WorkflowEnvironment, database_url: str) -> AsyncIterator[Api]:
    async with running_api(time_skipping_env, database_url) as harness:
        yield harness


@pytest.fixture
async def empty_api(
    time_skipping_env: WorkflowEnvironment, database_url: str
) -> AsyncIterator[Api]:
    """The stack with only the first admin on file."""
    async with running_api(time_skipping_env, database_url, agency=False) as harness:
        yield harness
