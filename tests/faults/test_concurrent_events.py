"""The same event sent three times at once, through the staff's HTTP API (served
by uvicorn on a loopback port, as `ips up` serves it) to a real Temporal dev
server and the real journeys: it is recorded once, every copy is answered as
a success with the same journey, and its effects exist once. Three copies of a
referral open one journey.

The workflow's own handling of concurrent copies is in
tests/workflows/test_idempotency.py; this is the path a double-clicked button
or a client's retry takes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from api.codec import CodecSettings
from api.server import ApiServer
from api.webhooks import WebhookSettings
from tests.api.conftest import Api, Headers, running_api
from tests.faults.infra import HOST, free_port
from workflows.journey import ConsumerJourney

COPIES = 3


@dataclass
class Served:
    """The API harness (its store, its staff tokens) and a client of the same
    app served over HTTP."""

    api: Api
    http: httpx.AsyncClient
    temporal: WorkflowEnvironment

    async def at_once(self, path: str, headers: Headers, body: dict[str, Any]) -> list[Any]:
        """POST `body` COPIES times concurrently; every answer's JSON, each of which
        must be a 202."""
        answers = await asyncio.gather(
            *(self.http.post(path, headers=headers, json=body) for _ in range(COPIES))
        )
        assert [a.status_code for a in answers] == [202] * COPIES, [a.text for a in answers]
        return [a.json() for a in answers]

    async def runs(self, consumer_id: str) -> int:
        """How many runs of the consumer's journey Temporal lists, once it lists
        one (its list lags a little behind)."""
        query = (
            f"WorkflowType = '{ConsumerJourney.__name__}' AND WorkflowId = 'journey-{consumer_id}'"
        )
        for _ in range(50):
            runs = len([w async for w in self.temporal.client.list_workflows(query)])
            if runs:
                return runs
            await asyncio.sleep(0.2)
        return 0

    async def audit_trail(self, consumer_id: str, headers: Headers) -> list[dict[str, Any]]:
        answer = await self.http.get(f"/consumers/{consumer_id}/events", headers=headers)
        assert answer.status_code == 200, answer.text
        trail: list[dict[str, Any]] = answer.json()
        return trail


@pytest.fixture
async def served(local_env: WorkflowEnvironment, database_url: str) -> AsyncIterator[Served]:
    async with running_api(local_env, database_url) as api:
        server = ApiServer(
            api.services,
            host=HOST,
            port=free_port(),
            webhook_settings=WebhookSettings(),
            codec_settings=CodecSettings(),
        )
        async with server, httpx.AsyncClient(base_url=server.url, timeout=60) as http:
            yield Served(api, http, local_env)


async def test_three_concurrent_copies_of_an_event_are_recorded_once(served: Served) -> None:
    api = served.api
    await served.at_once("/consumers/c-1/referral", api.es1, {"event_id": "ref-1"})
    meeting = {"type": "first_meeting", "event_id": "meet-1", "at": api.now_local()}

    # A copy is not refused as "the first meeting was already recorded".
    views = await served.at_once("/consumers/c-1/events", api.es1, meeting)

    assert views[1:] == views[:1] * (COPIES - 1)
    assert views[0]["phase"] != "referred", views[0]
    trail = await served.audit_trail("c-1", api.es1)
    assert [e["event_id"] for e in trail] == ["ref-1", "meet-1"]
    # Its effects, once: the first meeting met, the next two contacts due, each
    # saved once.
    contacts = api.store.list_due_contacts("c-1")
    assert sorted((dc.rule, dc.status) for dc in contacts) == [
        ("first_employer_contact", "open"),
        ("first_meeting", "done"),
        ("vocational_profile", "open"),
    ]
    for dc in contacts:
        changes = [c.status for c in api.store.list_due_contact_changes(dc.key)]
        assert changes == (["open", "done"] if dc.rule == "first_meeting" else ["open"]), dc.key
    journey = await served.http.get("/consumers/c-1/journey", headers=api.es1)
    assert journey.json() == views[0]


async def test_three_concurrent_copies_of_a_referral_open_one_journey(served: Served) -> None:
    api = served.api

    views = await served.at_once("/consumers/c-2/referral", api.es2, {"event_id": "ref-2"})

    assert views[1:] == views[:1] * (COPIES - 1)
    assert views[0]["phase"] == "referred", views[0]
    assert [e["event_id"] for e in await served.audit_trail("c-2", api.es2)] == ["ref-2"]
    assert [dc.rule for dc in api.store.list_due_contacts("c-2")] == ["first_meeting"]
    assert await served.runs("c-2") == 1


async def test_three_concurrent_referrals_without_an_event_id_open_one_journey(
    served: Served,
) -> None:
    api = served.api

    answers = await asyncio.gather(
        *(served.http.post("/consumers/c-2/referral", headers=api.es2) for _ in range(COPIES))
    )

    # A double click with no event_id: three referrals, of which the journey
    # takes the first and refuses the others.
    assert sorted(a.status_code for a in answers) == [202, 422, 422], [a.text for a in answers]
    for refused in (a for a in answers if a.status_code == 422):
        assert refused.json()["error"]["field"] == "type"
        assert "already open" in refused.json()["error"]["reason"]
    assert [e["type"] for e in await served.audit_trail("c-2", api.es2)] == ["referred"]
    assert [dc.rule for dc in api.store.list_due_contacts("c-2")] == ["first_meeting"]
    assert await served.runs("c-2") == 1
