"""Every 4xx answer is JSON that names the field at fault and says why, and a
refused request changes nothing."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest

from service import journeys
from tests.api.conftest import TZ, Api


def job_started(api: Api, **changes: Any) -> dict[str, Any]:
    event = {
        "type": "job_started",
        "at": api.now_local(),
        "job_id": "j-1",
        "employer": "Acme",
        "title": "Clerk",
        "start_date": api.today().isoformat(),
        "hours_per_week": 20,
        "hourly_wage": 15.5,
        "competitive": True,
    }
    event.update(changes)
    return {k: v for k, v in event.items() if v is not None}


async def refused(
    api: Api, method: str, url: str, status: int = 422, **kwargs: Any
) -> dict[str, Any]:
    kwargs.setdefault("headers", api.admin)
    response = await api.http.request(method, url, **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error: dict[str, Any] = response.json()["error"]
    assert set(error) == {"status", "field", "reason", "message"}
    assert error["status"] == status
    assert error["message"] == f"{error['field']}: {error['reason']}"
    return error


@pytest.fixture
async def working(api: Api) -> Api:
    """c-1 referred and met: in job search."""
    await api.ok("POST", "/consumers/c-1/referral", api.es1)
    await api.ok(
        "POST",
        "/consumers/c-1/events",
        api.es1,
        json={"type": "first_meeting", "at": api.now_local()},
    )
    return api


async def test_event_fields_are_named_when_wrong(working: Api) -> None:
    api = working
    url = "/consumers/c-1/events"
    cases: list[tuple[dict[str, Any], str, str]] = [
        (job_started(api, start_date="2041-02-30"), "start_date", "day"),
        (job_started(api, start_date=None), "start_date", "is required"),
        (job_started(api, mood="great"), "mood", "is not a known field"),
        (job_started(api, hours_per_week=-5), "hours_per_week", "greater than 0"),
        (job_started(api, competitive="maybe"), "competitive", "boolean"),
        (job_started(api, at="yesterday"), "at", "datetime"),
        (
            {"type": "contact", "at": api.now_local(), "method": "carrier_pigeon"},
            "method",
            "'face_to_face', 'phone', 'video' or 'text'",
        ),
        ({"type": "party", "at": api.now_local()}, "type", "'party' is not one of"),
        ({"at": api.now_local()}, "type", "is required"),
        ({"type": "first_meeting"}, "at", "is required"),
        (
            {"type": "job_changed", "at": api.now_local(), "job_id": "j-1"},
            "hours_per_week",
            "hours_per_week and/or hourly_wage",
        ),
        (
            {"type": "first_meeting", "at": api.now_local(), "consumer": "c-2"},
            "consumer",
            "is not a known field",
        ),
        (
            {"type": "first_meeting", "at": api.now_local(), "recorded_by": "someone"},
            "recorded_by",
            "is not a known field",
        ),
    ]
    for body, field, reason in cases:
        error = await refused(api, "POST", url, json=body)
        assert (error["field"], reason in error["reason"]) == (field, True), (body, error)
    trail = await api.ok("GET", "/consumers/c-1/events", api.admin)
    assert [e["type"] for e in trail] == ["referred", "first_meeting"]


async def test_events_the_journey_refuses_name_the_field(working: Api) -> None:
    api = working
    url = "/consumers/c-1/events"

    unknown_job = await refused(
        api,
        "POST",
        url,
        json={
            "type": "job_ended",
            "at": api.now_local(),
            "job_id": "j-9",
            "end_date": api.today().isoformat(),
        },
    )
    future = await refused(
        api,
        "POST",
        url,
        json={
            "type": "contact",
            "method": "phone",
            "at": (api.today() + timedelta(days=2)).isoformat() + "T10:00",
        },
    )
    second_referral = await refused(api, "POST", "/consumers/c-1/referral", json={})
    never_referred = await refused(
        api,
        "POST",
        "/consumers/c-2/events",
        json={"type": "first_meeting", "at": api.now_local()},
    )

    assert unknown_job["field"] == "job_id" and "j-9" in unknown_job["reason"]
    assert future["field"] == "at" and "future" in future["reason"]
    assert second_referral["field"] == "type" and "already open" in second_referral["reason"]
    assert (
        never_referred["field"] in ("type", "consumer") and "referral" in never_referred["reason"]
    )
    trail = await api.ok("GET", "/consumers/c-1/events", api.admin)
    assert [e["type"] for e in trail] == ["referred", "first_meeting"]


async def test_people_fields_are_named_when_wrong(api: Api) -> None:
    consumer = {"id": "c-9", "name": "Sam Roe", "specialist": "es-1", "timezone": TZ}
    cases: list[tuple[str, str, dict[str, Any], str, str]] = [
        ("POST", "/consumers", {**consumer, "timezone": "Mars/Olympus"}, "timezone", ""),
        ("POST", "/consumers", {**consumer, "phone": "555-0123"}, "phone", "E.164"),
        ("POST", "/consumers", {**consumer, "language": "fr"}, "language", "'en' or 'es'"),
        ("POST", "/consumers", {**consumer, "specialist": "es-9"}, "specialist", "es-9"),
        (
            "POST",
            "/consumers",
            {k: v for k, v in consumer.items() if k != "name"},
            "name",
            "is required",
        ),
        (
            "POST",
            "/consumers",
            {
                **consumer,
                "treatment_team_member": {
                    "id": "cm-1",
                    "name": "Casey",
                    "role": "case_manager",
                    "email": "not-an-email",
                },
            },
            "treatment_team_member.email",
            "email",
        ),
        ("POST", "/consumers", {**consumer, "id": "has spaces"}, "id", "pattern"),
        ("PATCH", "/consumers/c-1", {"specialist": "es-2"}, "specialist", "is not a known field"),
        ("PATCH", "/consumers/c-1", {"timezone": "Nowhere/Else"}, "timezone", ""),
        ("PATCH", "/consumers/c-1", {"name": None}, "name", "string"),
        (
            "POST",
            "/specialists",
            {
                "id": "es-9",
                "name": "Kim",
                "email": "kim@example.org",
                "timezone": TZ,
                "channels": ["fax"],
            },
            "channels.0",
            "'sms'",
        ),
        (
            "POST",
            "/specialists",
            {
                "id": "es-9",
                "name": "Kim",
                "email": "kim@example.org",
                "timezone": TZ,
                "supervisor": "sup-9",
            },
            "supervisor",
            "sup-9",
        ),
        ("POST", "/users", {"id": "u-9", "name": "X", "role": "boss"}, "role", ""),
        ("POST", "/users", {"id": "u-9", "name": "X", "role": "specialist"}, "person_id", ""),
        ("POST", "/users/u-es-1/tokens", {"days": 0}, "days", "greater than or equal to 1"),
    ]
    for method, url, body, field, reason in cases:
        error = await refused(api, method, url, json=body)
        assert (error["field"], reason in error["reason"]) == (field, True), (body, error)
    assert api.store.get_consumer("c-9") is None
    assert api.store.get_specialist("es-9") is None
    assert api.store.get_consumer("c-1").timezone == TZ  # type: ignore[union-attr]


async def test_query_and_path_parameters_are_named(api: Api) -> None:
    url = "/specialists/es-1/due-contacts"
    bad_date = await refused(api, "GET", url, params={"due_from": "2041-13-01"})
    bad_status = await refused(api, "GET", url, params={"status": "late"})
    bad_rule = await refused(api, "GET", url, params={"rule": "coffee"})
    backwards = await refused(
        api, "GET", url, params={"due_from": "2041-02-01", "due_to": "2041-01-01"}
    )
    bad_id = await refused(api, "GET", "/consumers/-dash-first")

    assert bad_date["field"] == "due_from"
    assert bad_status["field"] == "status" and "'open'" in bad_status["reason"]
    assert bad_rule["field"] == "rule" and "'first_meeting'" in bad_rule["reason"]
    assert backwards["field"] == "due_to"
    assert bad_id["field"] == "id"


async def test_a_body_that_is_not_json_is_named(api: Api) -> None:
    error = await refused(
        api,
        "POST",
        "/consumers/c-1/events",
        content=b"{not json",
        headers={**api.admin, "Content-Type": "application/json"},
    )
    missing = await refused(api, "POST", "/consumers/c-1/events")

    assert error["field"] == "body" and "JSON" in error["reason"]
    assert (missing["field"], missing["reason"]) == ("body", "is required")


async def test_unknown_records_and_routes_are_404_and_duplicates_409(api: Api) -> None:
    consumer = await refused(api, "GET", "/consumers/c-9", 404)
    journey = await refused(api, "GET", "/consumers/c-1/journey", 404)
    route = await refused(api, "GET", "/nowhere", 404)
    token = await refused(api, "DELETE", "/tokens/tok_nothing", 404)
    duplicate = await refused(
        api,
        "POST",
        "/consumers",
        409,
        json={"id": "c-1", "name": "Again", "specialist": "es-1", "timezone": TZ},
    )
    method = await refused(api, "PUT", "/consumers/c-1", 405, json={})

    assert (consumer["field"], consumer["reason"]) == ("consumer", "no consumer 'c-9'")
    assert journey["field"] == "journey"
    assert route["field"] == "path"
    assert token["field"] == "token"
    assert (duplicate["field"], duplicate["reason"]) == ("id", "consumer 'c-1' already exists")
    assert method["field"] == "method"
    assert (await api.ok("GET", "/consumers/c-1", api.admin))["name"] == "Consumer 1"


async def test_dates_and_numbers_beyond_reason_are_refused_and_the_journey_goes_on(
    working: Api,
) -> None:
    api = working
    url = "/consumers/c-1/events"
    far_at = await refused(
        api,
        "POST",
        url,
        json={"type": "contact", "method": "phone", "at": "9999-12-31T23:59:59-05:00"},
    )
    far_start = await refused(api, "POST", url, json=job_started(api, start_date="0001-01-01"))
    infinite = await refused(
        api,
        "POST",
        url,
        content=b'{"type": "job_started", "at": "%s", "job_id": "j-1", "employer": "Acme", '
        b'"title": "Clerk", "start_date": "%s", "hours_per_week": 20, '
        b'"hourly_wage": Infinity, "competitive": true}'
        % (api.now_local().encode(), api.today().isoformat().encode()),
        headers={**api.admin, "Content-Type": "application/json"},
    )
    own_contact = await refused(
        api,
        "POST",
        "/specialists/es-1/employer-contacts",
        json={"at": "0001-01-01T00:00:00+05:00", "employer": "Acme", "face_to_face": True},
    )

    assert far_at["field"] == "at" and "2999" in far_at["reason"]
    assert far_start["field"] == "start_date"
    assert infinite["field"] == "hourly_wage"
    assert own_contact["field"] == "at"
    recorded = await api.http.post(
        url, headers=api.es1, json={"type": "contact", "method": "phone", "at": api.now_local()}
    )
    assert recorded.status_code == 202, recorded.text


async def test_an_unexpected_failure_is_a_plain_500_and_its_log_names_no_one(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: Any) -> Any:
        raise ValueError("Alex Smith, c-1, +15555550123")

    monkeypatch.setattr(journeys, "outreach_log", broken)
    with caplog.at_level(logging.ERROR, logger="ips.api"):
        answer = await api.http.get("/consumers/c-1/outreach", headers=api.admin)

    assert answer.status_code == 500
    assert answer.json()["error"]["field"] is None
    assert "Alex" not in answer.text and "ValueError" not in answer.text
    assert "Traceback" not in answer.text and ".py" not in answer.text
    assert "ValueError" in caplog.text and "/consumers/{id}/outreach" in caplog.text
    assert "Alex" not in caplog.text and "c-1" not in caplog.text
