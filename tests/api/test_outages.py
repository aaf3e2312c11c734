"""When Temporal or the database stops answering, the API says 503 with
Retry-After, names what is down, shows nothing of its insides, and writes
nothing; /readyz says which one is down."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from store import Store
from tests.api.conftest import Clock, running_api, stack_services


async def test_temporal_stopping_gives_503_and_writes_nothing(
    local_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with running_api(local_env, f"sqlite:///{tmp_path / 'ips.db'}") as api:
        referred = await api.http.post(
            "/consumers/c-1/referral", headers=api.es1, json={"event_id": "ref-1"}
        )
        assert referred.status_code == 202, referred.text

        await local_env.shutdown()
        answer = await api.http.post(
            "/consumers/c-1/events",
            headers=api.es1,
            json={"type": "first_meeting", "at": api.now_local(), "event_id": "meet-1"},
        )
        ready = await api.http.get("/readyz")

        assert answer.status_code == 503, answer.text
        assert int(answer.headers["Retry-After"]) > 0
        error = answer.json()["error"]
        assert "Temporal" in error["reason"] and "nothing was changed" in error["reason"]
        assert [e.event_id for e in api.store.list_events()] == ["ref-1"]
        assert [d.status for d in api.store.list_due_contacts("c-1")] == ["open"]
        assert ready.status_code == 503
        assert int(ready.headers["Retry-After"]) > 0
        assert ready.json() == {
            "status": "unavailable",
            "database": "ok",
            "temporal": "unavailable",
        }
        # What needs only the database still works.
        assert (await api.http.get("/consumers/c-1/events", headers=api.es1)).status_code == 200


async def test_a_database_that_does_not_answer_gives_503(
    time_skipping_env: WorkflowEnvironment, caplog: pytest.LogCaptureFixture
) -> None:
    # Nothing listens on port 1: every connection is refused.
    store = Store("postgresql+psycopg://ips@127.0.0.1:1/ips")

    async def connect() -> Client:
        return time_skipping_env.client

    app = create_app(stack_services(store, connect, Clock()))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ips") as http:
        with caplog.at_level(logging.WARNING, logger="ips.api"):
            listed = await http.get("/consumers", headers={"Authorization": "Bearer ips_anything"})
            posted = await http.post(
                "/consumers/c-1/events",
                headers={"Authorization": "Bearer ips_anything"},
                json={"type": "first_meeting", "at": "2041-01-01T10:00"},
            )
        ready = await http.get("/readyz")
        alive = await http.get("/healthz")

    for answer in (listed, posted):
        assert answer.status_code == 503, answer.text
        assert int(answer.headers["Retry-After"]) > 0
        assert "database" in answer.json()["error"]["reason"]
        assert "psycopg" not in answer.text and "Traceback" not in answer.text
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "database": "unavailable", "temporal": "ok"}
    assert alive.status_code == 200
    assert "127.0.0.1:1" not in caplog.text
    store.dispose()
