"""What a new agency does first, through the API alone: an admin sets up a team
and its tokens; the supervisor refers a consumer; the specialist records the
first meeting and a job start; both see what is due, filtered."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from tests.api.conftest import TZ, Api, bearer


async def test_a_new_team_refers_a_consumer_and_sees_what_is_due(empty_api: Api) -> None:
    api = empty_api
    admin = api.admin
    await api.ok(
        "POST",
        "/supervisors",
        admin,
        json={"id": "sup-1", "name": "Pat Kim", "email": "pat@example.org", "timezone": TZ},
    )
    specialist = await api.ok(
        "POST",
        "/specialists",
        admin,
        json={
            "id": "es-1",
            "name": "Jordan Lee",
            "email": "jordan@example.org",
            "phone": "+15555550101",
            "timezone": TZ,
            "channels": ["sms", "email"],
            "supervisor": "sup-1",
        },
    )
    assert specialist["supervisor"] == "sup-1" and specialist["fte"] == 1.0
    user = await api.ok(
        "POST",
        "/users",
        admin,
        json={"id": "pat", "name": "Pat Kim", "role": "supervisor", "person_id": "sup-1"},
    )
    assert user["role"] == "supervisor" and user["person_id"] == "sup-1"
    issued = await api.ok("POST", "/users/pat/tokens", admin, json={"days": 30, "label": "laptop"})
    pat = bearer(issued["token"])
    assert issued["id"].startswith("tok_") and issued["user_id"] == "pat"
    # 30 days from now, in UTC (near midnight the local day differs).
    expires = datetime.fromisoformat(issued["expires_at"].replace("Z", "+00:00"))
    assert abs(expires - (api.clock() + timedelta(days=30))) < timedelta(minutes=5)
    # The supervisor gives the specialist a user and a token of their own.
    await api.ok(
        "POST",
        "/users",
        pat,
        json={"id": "jordan", "name": "Jordan Lee", "role": "specialist", "person_id": "es-1"},
    )
    jordan = bearer((await api.ok("POST", "/users/jordan/tokens", pat))["token"])
    assert (await api.ok("GET", "/me", jordan))["person_id"] == "es-1"

    # The supervisor adds a consumer to Jordan's caseload and refers them.
    await api.ok(
        "POST",
        "/consumers",
        pat,
        json={
            "id": "c-1",
            "name": "Alex Smith",
            "specialist": "es-1",
            "timezone": TZ,
            "phone": "+15555550123",
        },
    )
    referred = await api.http.post("/consumers/c-1/referral", headers=pat)
    assert referred.status_code == 202, referred.text
    today = api.today()
    assert referred.json()["phase"] == "referred"
    assert [(d["rule"], d["due"]) for d in referred.json()["due_contacts"]] == [
        ("first_meeting", (today + timedelta(days=7)).isoformat())
    ]

    met = await api.http.post(
        "/consumers/c-1/events",
        headers=jordan,
        json={"type": "first_meeting", "at": api.now_local(), "event_id": "c-1-met"},
    )
    assert met.status_code == 202, met.text
    assert met.json()["phase"] == "job_search"

    start = today + timedelta(days=10)
    started = await api.http.post(
        "/consumers/c-1/events",
        headers=jordan,
        json={
            "type": "job_started",
            "event_id": "c-1-job-1",
            "at": api.now_local(),
            "job_id": "j-1",
            "employer": "Acme",
            "title": "Stock associate",
            "start_date": start.isoformat(),
            "hours_per_week": 20,
            "hourly_wage": 15.5,
            "competitive": True,
        },
    )
    assert started.status_code == 202, started.text
    assert started.json()["phase"] == "job_pending"

    def rows(answer: list[dict[str, object]]) -> list[tuple[object, ...]]:
        return [(d["rule"], d["seq"], d["window_start"], d["due"], d["status"]) for d in answer]

    weekly = await api.ok(
        "GET", "/teams/sup-1/due-contacts", pat, params={"rule": "weekly_follow_along"}
    )
    assert rows(weekly) == [
        (
            "weekly_follow_along",
            k,
            (start + timedelta(days=7 * (k - 1) + 1)).isoformat(),
            (start + timedelta(days=7 * k)).isoformat(),
            "open",
        )
        for k in (1, 2, 3, 4)
    ]
    assert {d["job_id"] for d in weekly} == {"j-1"}

    done = await api.ok("GET", "/specialists/es-1/due-contacts", jordan, params={"status": "done"})
    assert rows(done) == [
        ("first_meeting", None, today.isoformat(), (today + timedelta(days=7)).isoformat(), "done")
    ]
    assert done[0]["satisfied_on"] == today.isoformat()

    before_start = await api.ok(
        "GET",
        "/consumers/c-1/due-contacts",
        jordan,
        params={"status": "open", "due_from": today.isoformat(), "due_to": start.isoformat()},
    )
    assert [d["rule"] for d in before_start] == ["benefits_planning", "pre_start_contact"]
    assert all(date.fromisoformat(d["due"]) == start - timedelta(days=1) for d in before_start)

    journey = await api.ok("GET", "/consumers/c-1/journey", jordan)
    assert journey["phase"] == "job_pending" and journey["specialist"] == "es-1"
    assert {d["rule"] for d in journey["due_contacts"]} >= {
        "first_employer_contact",
        "vocational_profile",
        "benefits_planning",
        "pre_start_contact",
        "post_start_contact",
        "weekly_follow_along",
        "monthly_follow_along",
        "step_down_review",
    }

    # The audit trail says who recorded what.
    trail = await api.ok("GET", "/consumers/c-1/events", pat)
    assert [(e["type"], e["recorded_by"]) for e in trail] == [
        ("referred", "pat"),
        ("first_meeting", "jordan"),
        ("job_started", "jordan"),
    ]
    assert trail[2]["event_id"] == "c-1-job-1"
    assert trail[2]["fields"]["start_date"] == start.isoformat()
    assert trail[2]["fields"]["employer"] == "Acme"


async def test_a_retried_event_is_recorded_once(api: Api) -> None:
    await api.ok("POST", "/consumers/c-1/referral", api.es1, json={"event_id": "ref-1"})
    event = {"type": "first_meeting", "at": api.now_local(), "event_id": "meet-1"}
    first = await api.http.post("/consumers/c-1/events", headers=api.es1, json=event)
    again = await api.http.post("/consumers/c-1/events", headers=api.es1, json=event)
    referral_again = await api.http.post(
        "/consumers/c-1/referral", headers=api.es1, json={"event_id": "ref-1"}
    )

    assert (first.status_code, again.status_code, referral_again.status_code) == (202, 202, 202)
    assert again.json() == first.json()
    trail = await api.ok("GET", "/consumers/c-1/events", api.es1)
    assert [e["event_id"] for e in trail] == ["ref-1", "meet-1"]
    due = await api.ok(
        "GET", "/consumers/c-1/due-contacts", api.es1, params={"rule": "first_meeting"}
    )
    assert [d["status"] for d in due] == ["done"]


async def test_an_event_id_of_another_consumers_event_is_a_conflict(api: Api) -> None:
    await api.ok("POST", "/consumers/c-1/referral", api.sup1, json={"event_id": "ref-shared"})

    answer = await api.http.post(
        "/consumers/c-2/referral", headers=api.sup1, json={"event_id": "ref-shared"}
    )

    assert answer.status_code == 409
    assert answer.json()["error"]["field"] == "event_id"
    assert await api.ok("GET", "/consumers/c-2/events", api.sup1) == []


async def test_reassignment_moves_the_consumer_to_the_new_specialists_caseload(api: Api) -> None:
    await api.ok("POST", "/consumers/c-1/referral", api.sup1)

    moved = await api.http.post(
        "/consumers/c-1/reassign", headers=api.sup1, json={"specialist": "es-2"}
    )

    assert moved.status_code == 202, moved.text
    assert moved.json()["specialist"] == "es-2"
    assert (await api.ok("GET", "/consumers/c-1", api.es2))["specialist"] == "es-2"
    assert (await api.http.get("/consumers/c-1/journey", headers=api.es1)).status_code == 404
    trail = await api.ok("GET", "/consumers/c-1/events", api.es2)
    assert [(e["type"], e["recorded_by"], e["fields"]) for e in trail][-1] == (
        "reassigned",
        "u-sup-1",
        {"specialist": "es-2"},
    )
    # Not to someone outside the supervisor's team.
    refused = await api.http.post(
        "/consumers/c-1/reassign", headers=api.sup1, json={"specialist": "es-3"}
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "specialist"


async def test_outreach_log_lists_each_attempt(api: Api) -> None:
    await api.ok("POST", "/consumers/c-1/referral", api.es1)
    await api.ok(
        "POST",
        "/consumers/c-1/events",
        api.es1,
        json={
            "type": "outreach_attempt",
            "at": api.now_local(),
            "event_id": "o-1",
            "by": "es-1",
            "role": "specialist",
            "method": "phone",
            "reached": False,
        },
    )

    log = await api.ok("GET", "/consumers/c-1/outreach", api.sup1)

    assert [(o["event_id"], o["by"], o["role"], o["method"], o["reached"]) for o in log] == [
        ("o-1", "es-1", "specialist", "phone", False)
    ]


async def test_employer_contacts_of_a_specialists_own_count_once(api: Api) -> None:
    contact = {"event_id": "emp-1", "at": api.now_local(), "employer": "Acme", "face_to_face": True}

    first = await api.http.post(
        "/specialists/es-1/employer-contacts", headers=api.es1, json=contact
    )
    again = await api.http.post(
        "/specialists/es-1/employer-contacts",
        headers=api.es1,
        json={**contact, "employer": "Changed"},
    )

    assert (first.status_code, again.status_code) == (201, 201), first.text
    assert again.json() == first.json()
    assert first.json()["consumer"] is None and first.json()["specialist"] == "es-1"
    listed = await api.ok("GET", "/specialists/es-1/employer-contacts", api.sup1)
    assert [(c["event_id"], c["employer"], c["face_to_face"]) for c in listed] == [
        ("emp-1", "Acme", True)
    ]
    assert [e.recorded_by for e in api.store.list_events() if e.event_id == "emp-1"] == ["u-es-1"]
    # Another specialist's log is out of reach.
    other = await api.http.post(
        "/specialists/es-2/employer-contacts", headers=api.es1, json={**contact, "event_id": "e2"}
    )
    assert other.status_code == 404


async def test_people_details_change_and_read_back(api: Api) -> None:
    changed = await api.ok(
        "PATCH",
        "/consumers/c-1",
        api.es1,
        json={
            "phone": "+15555550199",
            "treatment_team_member": {
                "id": "cm-1",
                "name": "Casey Wu",
                "role": "case_manager",
                "email": "casey@example.org",
            },
        },
    )
    assert changed["phone"] == "+15555550199"
    assert changed["treatment_team_member"]["email"] == "casey@example.org"
    changed = await api.ok(
        "PATCH",
        "/consumers/c-1",
        api.es1,
        json={"treatment_team_member": {"phone": "+15555550233"}},
    )
    assert changed["treatment_team_member"] == {
        "id": "cm-1",
        "name": "Casey Wu",
        "role": "case_manager",
        "email": "casey@example.org",
        "phone": "+15555550233",
    }
    assert (await api.ok("GET", "/consumers/c-1", api.sup1)) == changed
    specialist = await api.ok("PATCH", "/specialists/es-1", api.sup1, json={"fte": 0.5})
    assert specialist["fte"] == 0.5
    supervisor = await api.ok("PATCH", "/supervisors/sup-1", api.sup1, json={"phone": None})
    assert supervisor["phone"] is None
