"""The staff walkthrough of the README on a real stack: a supervisor sets up a
team and a token, refers a consumer, records a first meeting and a job start,
and sees what is due; a specialist sees only their own caseload; bad input is
named and changes nothing.

Temporal's dev server runs on the real clock, so every event happens today.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta

from tests.cli.conftest import TZ, Stack, today

JOB_START_IN_DAYS = 14


async def add_team(ips: Stack) -> None:
    """sup-1 leads es-1 and es-2; c-1 is es-1's consumer, c-2 es-2's."""
    await ips.ok(
        "people", "add", "supervisor", "--id", "sup-1", "--name", "Pat Kim",
        "--email", "pat@example.org", "--timezone", TZ,
    )  # fmt: skip
    for es, name in (("es-1", "Jordan Lee"), ("es-2", "Sam Ortiz")):
        await ips.ok(
            "people", "add", "specialist", "--id", es, "--name", name,
            "--email", f"{es}@example.org", "--timezone", TZ, "--supervisor", "sup-1",
            "--channels", "sms,email", "--phone", "+15555550101",
        )  # fmt: skip
    for consumer, es in (("c-1", "es-1"), ("c-2", "es-2")):
        await ips.ok(
            "people", "add", "consumer", "--id", consumer, "--name", f"Consumer {consumer}",
            "--specialist", es, "--timezone", TZ,
        )  # fmt: skip


def job_started(start: date, job_id: str = "j-1") -> list[str]:
    return [
        "-f", f"job_id={job_id}", "-f", "employer=Acme Foods", "-f", "title=Stock associate",
        "-f", f"start_date={start.isoformat()}", "-f", "hours_per_week=20",
        "-f", "hourly_wage=15.5", "-f", "competitive=true",
    ]  # fmt: skip


def expected_due(day: date, start: date) -> list[dict[str, Any]]:
    """SPEC §5 for a referral, first meeting and job start all on `day`, the job
    starting later on `start`: (rule, job, #, window start, due, status, met on)."""
    monthly_due = start + timedelta(days=28) + relativedelta(months=1)
    review_due = start + timedelta(days=28) + relativedelta(months=12)
    rows: list[tuple[str, str | None, int | None, date, date, str, date | None]] = [
        ("first_meeting", None, None, day, day + timedelta(days=7), "done", day),
        ("first_employer_contact", None, None, day, day + timedelta(days=30), "open", None),
        ("vocational_profile", None, None, day, day + timedelta(days=30), "open", None),
        ("benefits_planning", "j-1", None, day, start - timedelta(days=1), "open", None),
        (
            "pre_start_contact", "j-1", None, start - timedelta(days=7),
            start - timedelta(days=1), "open", None,
        ),
        ("post_start_contact", "j-1", None, start, start + timedelta(days=3), "open", None),
        *(
            (
                "weekly_follow_along", "j-1", k, start + timedelta(days=7 * (k - 1) + 1),
                start + timedelta(days=7 * k), "open", None,
            )
            for k in (1, 2, 3, 4)
        ),
        (
            "monthly_follow_along", "j-1", 1, start + timedelta(days=29), monthly_due,
            "open", None,
        ),
        (
            "step_down_review", "j-1", 1, review_due - timedelta(days=30), review_due,
            "open", None,
        ),
    ]  # fmt: skip
    rows.sort(key=lambda r: (r[4], r[0], r[2] or 0))
    return [
        {
            "consumer": "c-1",
            "rule": rule,
            "job_id": job,
            "seq": seq,
            "window_start": window_start.isoformat(),
            "due": due.isoformat(),
            "status": status,
            "satisfied_on": None if met is None else met.isoformat(),
        }
        for rule, job, seq, window_start, due, status, met in rows
    ]


def without_keys(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    assert all(row["key"] for row in rows)
    return [{k: v for k, v in row.items() if k != "key"} for row in rows]


async def test_a_supervisor_sets_up_a_team_refers_records_and_sees_what_is_due(
    stack: Stack,
) -> None:
    ips = stack
    day = today()
    start = day + timedelta(days=JOB_START_IN_DAYS)
    await add_team(ips)
    added = await ips.ok(
        "users", "add", "pat", "--name", "Pat Kim", "--role", "supervisor", "--person", "sup-1"
    )
    assert "Added user pat (Pat Kim, supervisor sup-1)." in added
    created = await ips.ok("tokens", "create", "pat", "--label", "office")
    token = created.split()[created.split().index("UTC:") + 1]
    assert token.startswith("ips_")

    referred = await ips.ok("refer", "c-1", token=token)
    assert referred.startswith("Recorded referred for c-1 (event id ev-")
    assert ["first_meeting", day.isoformat(), (day + timedelta(days=7)).isoformat(), "open"] in [
        line.split() for line in referred.splitlines()
    ]
    met = await ips.ok("event", "c-1", "first_meeting", token=token)
    assert "phase:       job_search" in met
    working = await ips.ok("event", "c-1", "job_started", *job_started(start), token=token)
    assert "phase:       job_pending" in working

    table = await ips.ok("due", "--team", "sup-1", token=token)
    rows = [line.split() for line in table.splitlines()]
    assert rows[0] == ["consumer", "rule", "job", "#", "window", "opens", "due", "status"]
    expected = expected_due(day, start)
    shown = [
        ["c-1", e["rule"]]
        + [str(v) for v in (e["job_id"], e["seq"]) if v is not None]
        + [e["window_start"], e["due"], e["status"]]
        + ([e["satisfied_on"]] if e["satisfied_on"] else [])
        for e in expected
    ]
    assert rows[2:-1] == shown
    assert table.splitlines()[-1] == "12 due contacts (1 done, 11 open)."

    listed = await ips.json("due", "--team", "sup-1", token=token)
    assert without_keys(listed) == expected
    assert [row["due"] for row in listed] == sorted(row["due"] for row in listed)
    still_open = await ips.json("due", "--team", "sup-1", "--status", "open", token=token)
    assert without_keys(still_open) == [e for e in expected if e["status"] == "open"]

    journey = await ips.json("show", "c-1", token=token)
    assert {k: journey[k] for k in ("consumer", "name", "phase", "specialist", "closed")} == {
        "consumer": "c-1",
        "name": "Consumer c-1",
        "phase": "job_pending",
        "specialist": "es-1",
        "closed": False,
    }
    assert [e["type"] for e in journey["recent_events"]] == [
        "referred",
        "first_meeting",
        "job_started",
    ]
    assert {e["recorded_by"] for e in journey["recent_events"]} == {"pat"}
    assert journey["recent_events"][2]["fields"] == {
        "job_id": "j-1",
        "employer": "Acme Foods",
        "title": "Stock associate",
        "start_date": start.isoformat(),
        "hours_per_week": 20.0,
        "hourly_wage": 15.5,
        "competitive": True,
    }
    assert [e.recorded_by for e in ips.store.list_events("c-1")] == ["pat", "pat", "pat"]


async def test_a_specialist_sees_and_changes_only_their_own_caseload(stack: Stack) -> None:
    ips = stack
    await add_team(ips)
    await ips.ok("users", "add", "jordan", "--name", "Jordan Lee", "--role", "specialist",
                 "--person", "es-1")  # fmt: skip
    token = await ips.token("jordan")
    await ips.ok("refer", "c-1")
    await ips.ok("refer", "c-2")

    assert (await ips.json("show", "c-1", token=token))["phase"] == "referred"
    hidden = await ips.refused("show", "c-2", token=token)
    absent = await ips.refused("show", "c-404", token=token)
    assert hidden == "Error: no consumer 'c-2'\n"
    assert absent == "Error: no consumer 'c-404'\n"

    assert (await ips.refused("event", "c-2", "first_meeting", token=token)) == hidden
    assert [e.type for e in ips.store.list_events("c-2")] == ["referred"]
    assert {row["consumer"] for row in await ips.json("due", token=token)} == {"c-1"}
    assert "no specialist 'es-2'" in await ips.refused("due", "--specialist", "es-2", token=token)
    assert "no supervisor 'sup-1'" in await ips.refused("due", "--team", "sup-1", token=token)
    # The operator of the server sees both.
    assert {row["consumer"] for row in await ips.json("due")} == {"c-1", "c-2"}


async def test_bad_input_names_the_field_and_changes_nothing(stack: Stack) -> None:
    ips = stack
    day = today()
    await add_team(ips)
    await ips.ok("refer", "c-1")
    await ips.ok("event", "c-1", "first_meeting")
    events = ips.store.list_events("c-1")
    due = ips.store.list_due_contacts("c-1")

    assert (await ips.refused("event", "c-1", "jobstart")) == (
        "Error: TYPE: unknown event type 'jobstart'\n"
    )
    lots = await ips.refused(
        "event", "c-1", "job_started", *job_started(day), "-f", "hours_per_week=lots"
    )
    assert "hours_per_week is given twice" in lots
    lots = await ips.refused(
        "event", "c-1", "job_started",
        *[a.replace("hours_per_week=20", "hours_per_week=lots") for a in job_started(day)],
    )  # fmt: skip
    assert lots.startswith("Error: --field hours_per_week: Input should be a valid number")
    unknown_job = await ips.refused(
        "event", "c-1", "job_ended", "-f", "job_id=j-9", "-f", f"end_date={day.isoformat()}"
    )
    assert unknown_job == "Error: --field job_id: no job 'j-9' was started for this consumer\n"
    missing = await ips.refused("event", "c-1", "job_ended", "-f", "job_id=j-9")
    assert missing == "Error: --field end_date: is required for job_ended events\n"
    not_a_pair = await ips.refused("event", "c-1", "contact", "-f", "method")
    assert not_a_pair == "Error: --field: 'method' is not NAME=VALUE, like job_id=j-1\n"
    tomorrow = (day + timedelta(days=1)).isoformat() + "T10:00"
    future = await ips.refused("event", "c-1", "contact", "-f", "method=phone", "--at", tomorrow)
    assert future.startswith(f"Error: --at: {tomorrow}:00-05:00 is in the future")
    again = await ips.refused("event", "c-1", "first_meeting")
    assert again.startswith("Error: TYPE: the first meeting was already recorded on ")

    assert ips.store.list_events("c-1") == events
    assert ips.store.list_due_contacts("c-1") == due


async def test_a_repeated_event_id_is_recorded_once_and_text_fields_stay_text(
    stack: Stack,
) -> None:
    ips = stack
    day = today()
    await add_team(ips)
    first = await ips.json("refer", "c-1", "--event-id", "ref-1")
    repeat = await ips.json("refer", "c-1", "--event-id", "ref-1")
    assert first["event_id"] == repeat["event_id"] == "ref-1"
    assert repeat["journey"] == first["journey"]
    await ips.ok("event", "c-1", "first_meeting")
    await ips.ok("event", "c-1", "job_started", *job_started(day, job_id="7"))
    ended = await ips.json(
        "event", "c-1", "job_ended", "-f", "job_id=7", "-f", f"end_date={day.isoformat()}"
    )
    assert {(d["rule"], d["job_id"]) for d in ended["journey"]["due_contacts"]} >= {
        ("job_loss_contact", "7"),
        ("vocational_profile_update", "7"),
    }
    assert [(e.type, e.payload.get("job_id")) for e in ips.store.list_events("c-1")] == [
        ("referred", None),
        ("first_meeting", None),
        ("job_started", "7"),
        ("job_ended", "7"),
    ]
