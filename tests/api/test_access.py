"""Each token sees its own scope: a specialist their caseload, a supervisor
their team, an admin everything. Outside it, every route answers exactly as it
does for a record that does not exist. Revoked and expired tokens get 401."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from service.access import DEFAULT_TOKEN_DAYS
from tests.api.conftest import Api, Headers, bearer


def consumer_routes(api: Api, consumer: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    """Every route about one consumer, with a body that would be accepted."""
    return [
        ("GET", f"/consumers/{consumer}", None),
        ("PATCH", f"/consumers/{consumer}", {"name": "Renamed"}),
        ("POST", f"/consumers/{consumer}/referral", {}),
        ("POST", f"/consumers/{consumer}/reassign", {"specialist": "es-1"}),
        ("POST", f"/consumers/{consumer}/events", {"type": "first_meeting", "at": api.now_local()}),
        ("GET", f"/consumers/{consumer}/events", None),
        ("GET", f"/consumers/{consumer}/journey", None),
        ("GET", f"/consumers/{consumer}/due-contacts", None),
        ("GET", f"/consumers/{consumer}/outreach", None),
    ]


async def answers(api: Api, headers: Headers, consumer: str) -> list[tuple[int, Any]]:
    found = []
    for method, url, body in consumer_routes(api, consumer):
        response = await api.http.request(method, url, headers=headers, json=body)
        detail = response.json()["error"] if response.status_code >= 400 else None
        found.append((response.status_code, detail))
    return found


async def test_a_specialist_cannot_see_or_touch_another_specialists_consumer(api: Api) -> None:
    await api.ok("POST", "/consumers/c-2/referral", api.es2)

    hidden = await answers(api, api.es1, "c-2")
    absent = await answers(api, api.es1, "c-nobody")

    assert [status for status, _ in hidden] == [404] * len(hidden)
    # Word for word what a consumer who does not exist gets: nothing gives it away.
    assert str(hidden).replace("c-2", "X") == str(absent).replace("c-nobody", "X")
    # And nothing happened to c-2.
    trail = await api.ok("GET", "/consumers/c-2/events", api.es2)
    assert [e["type"] for e in trail] == ["referred"]
    assert (await api.ok("GET", "/consumers/c-2", api.es2))["name"] == "Consumer 2"


async def test_a_specialists_lists_hold_only_their_caseload(api: Api) -> None:
    for consumer, headers in (("c-1", api.es1), ("c-2", api.es2), ("c-3", api.es3)):
        await api.ok("POST", f"/consumers/{consumer}/referral", headers)

    consumers = await api.ok("GET", "/consumers", api.es1)
    due = await api.ok("GET", "/due-contacts", api.es1)
    own_due = await api.ok("GET", "/specialists/es-1/due-contacts", api.es1)
    specialists = await api.ok("GET", "/specialists", api.es1)

    assert [c["id"] for c in consumers] == ["c-1"]
    assert {d["consumer"] for d in due} == {"c-1"}
    assert own_due == due
    assert [s["id"] for s in specialists] == ["es-1"]
    for url in (
        "/specialists/es-2/due-contacts",
        "/teams/sup-1/due-contacts",
        "/specialists/es-2",
        "/supervisors/sup-1",
        "/specialists/es-2/employer-contacts",
    ):
        assert (await api.http.get(url, headers=api.es1)).status_code == 404, url


async def test_a_supervisor_sees_their_team_and_no_one_else(api: Api) -> None:
    for consumer, headers in (("c-1", api.es1), ("c-2", api.es2), ("c-3", api.es3)):
        await api.ok("POST", f"/consumers/{consumer}/referral", headers)

    consumers = await api.ok("GET", "/consumers", api.sup1)
    team_due = await api.ok("GET", "/teams/sup-1/due-contacts", api.sup1)
    everyone = await api.ok("GET", "/consumers", api.admin)

    assert [c["id"] for c in consumers] == ["c-1", "c-2"]
    assert {d["consumer"] for d in team_due} == {"c-1", "c-2"}
    assert [c["id"] for c in everyone] == ["c-1", "c-2", "c-3"]
    assert [s["id"] for s in await api.ok("GET", "/specialists", api.sup1)] == ["es-1", "es-2"]
    hidden = await answers(api, api.sup1, "c-3")
    assert [status for status, _ in hidden] == [404] * len(hidden)
    assert (await api.http.get("/teams/sup-2/due-contacts", headers=api.sup1)).status_code == 404
    assert (await api.http.get("/specialists/es-3", headers=api.sup1)).status_code == 404


async def test_a_supervisor_manages_users_of_their_own_team_only(api: Api) -> None:
    made = await api.http.post(
        "/users",
        headers=api.sup1,
        json={"id": "es-2-second", "name": "Sam", "role": "specialist", "person_id": "es-2"},
    )
    assert made.status_code == 201, made.text
    other_team = await api.http.post(
        "/users",
        headers=api.sup1,
        json={"id": "es-3-second", "name": "Kim", "role": "specialist", "person_id": "es-3"},
    )
    admin = await api.http.post(
        "/users", headers=api.sup1, json={"id": "boss", "name": "Boss", "role": "admin"}
    )
    from_specialist = await api.http.post(
        "/users",
        headers=api.es1,
        json={"id": "es-1-second", "name": "Jo", "role": "specialist", "person_id": "es-1"},
    )
    token_outside = await api.http.post("/users/u-es-3/tokens", headers=api.sup1)

    assert (other_team.status_code, other_team.json()["error"]["field"]) == (422, "person_id")
    assert (admin.status_code, admin.json()["error"]["field"]) == (422, "role")
    assert from_specialist.status_code == 404
    assert token_outside.status_code == 404
    assert api.store.get_staff_user("es-3-second") is None
    assert api.store.get_staff_user("boss") is None


async def test_a_user_id_in_use_is_a_conflict(api: Api) -> None:
    again = await api.http.post(
        "/users",
        headers=api.admin,
        json={"id": "u-es-1", "name": "Someone", "role": "specialist", "person_id": "es-2"},
    )

    assert (again.status_code, again.json()["error"]["field"]) == (409, "id")
    assert api.store.get_staff_user("u-es-1").person_id == "es-1"  # type: ignore[union-attr]


async def test_a_revoked_token_stops_working_at_once(api: Api) -> None:
    issued = await api.ok("POST", "/users/u-es-1/tokens", api.sup1, json={"label": "phone"})
    token = bearer(issued["token"])
    assert (await api.http.get("/consumers", headers=token)).status_code == 200

    revoked = await api.http.delete(f"/tokens/{issued['id']}", headers=api.sup1)
    after = await api.http.get("/consumers", headers=token)

    assert revoked.status_code == 204
    assert after.status_code == 401
    assert after.headers["WWW-Authenticate"] == "Bearer"
    assert after.json()["error"]["field"] == "authorization"
    # The user's other token still works.
    assert (await api.http.get("/consumers", headers=api.es1)).status_code == 200


async def test_someone_elses_token_cannot_be_revoked(api: Api) -> None:
    issued = await api.ok("POST", "/users/u-es-2/tokens", api.admin)

    refused = await api.http.delete(f"/tokens/{issued['id']}", headers=api.es1)

    assert refused.status_code == 404
    assert (await api.http.get("/me", headers=bearer(issued["token"]))).status_code == 200


async def test_an_expired_token_is_refused(api: Api) -> None:
    short = await api.ok("POST", "/users/u-es-1/tokens", api.admin, json={"days": 1})
    assert (await api.http.get("/me", headers=bearer(short["token"]))).status_code == 200

    api.clock.offset = timedelta(days=1, minutes=1)
    expired = await api.http.get("/me", headers=bearer(short["token"]))
    still_valid = await api.http.get("/me", headers=api.es1)

    assert expired.status_code == 401
    assert "expired" in expired.json()["error"]["reason"]
    assert still_valid.status_code == 200
    api.clock.offset = timedelta(days=DEFAULT_TOKEN_DAYS, minutes=1)
    assert (await api.http.get("/me", headers=api.es1)).status_code == 401


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer ips_not-a-real-token", "Basic dXNlcjpwYXNz", "ips_no-scheme"],
)
async def test_no_valid_bearer_token_is_a_401(api: Api, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}

    for method, url, body in consumer_routes(api, "c-1") + [("GET", "/due-contacts", None)]:
        response = await api.http.request(method, url, headers=headers, json=body)
        assert response.status_code == 401, (url, response.text)
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.json()["error"]["field"] == "authorization"
    assert await api.ok("GET", "/consumers/c-1/events", api.admin) == []


async def test_health_needs_no_token(api: Api) -> None:
    assert (await api.http.get("/healthz")).json() == {"status": "ok"}
    assert (await api.http.get("/readyz")).json() == {
        "status": "ready",
        "database": "ok",
        "temporal": "ok",
    }
    assert (await api.http.get("/openapi.json")).status_code == 200
    assert (await api.http.get("/docs")).status_code == 200
