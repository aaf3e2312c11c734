"""`ips simulate examples/<each>.yaml --out DIR` as staff run it (SPEC §9).

Every example runs, prints one timeline line per event and a summary, and writes
the three JSON files with exactly the SPEC's keys in the SPEC's order; a second
run writes the same bytes. Each example's story (its comments) is checked too.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from typer.testing import CliRunner

from cli.main import app

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p.name for p in (REPO / "examples").glob("*.yaml"))
OUTPUTS = ("due_contacts.json", "notifications.json", "journeys.json")

DUE_CONTACT_KEYS = [
    "consumer", "rule", "job_id", "seq", "window_start", "due", "status", "satisfied_on",
]  # fmt: skip
NOTIFICATION_KEYS = [
    "channel", "recipient_role", "recipient_id", "consumer", "rule", "kind", "send_at",
    "status", "body",
]  # fmt: skip
JOURNEY_KEYS = ["consumer", "phase", "in_outreach", "closed"]

RULES = {
    "first_meeting", "first_employer_contact", "vocational_profile", "benefits_planning",
    "pre_start_contact", "post_start_contact", "weekly_follow_along", "monthly_follow_along",
    "step_down_review", "job_loss_contact", "vocational_profile_update", "outreach_attempt",
}  # fmt: skip
DUE_STATUSES = {"open", "done", "missed", "cancelled", "not_applicable"}
KINDS = {
    "due_soon", "due_today", "overdue", "appointment_reminder", "opt_in_confirmation",
    "help_reply", "daily_digest", "weekly_digest", "caseload_warning", "employer_contacts_nudge",
}  # fmt: skip
STAFF_REMINDERS = {"due_soon", "due_today", "overdue"}
SEND_STATUSES = {"sent", "skipped_no_consent", "skipped_too_late", "failed"}


@dataclass
class Run:
    scenario: dict[str, Any]
    exit_code: int
    stdout: str
    stderr: str
    out: Path
    again: Path  # a second run of the same file

    def load(self, name: str) -> Any:
        return json.loads((self.out / name).read_text(encoding="utf-8"))


def ips_simulate(example: str, out: Path) -> Any:
    return CliRunner().invoke(app, ["simulate", f"examples/{example}", "--out", str(out)])


class Examples:
    """Each example run twice (the second only to compare bytes), once per module."""

    def __init__(self, tmp: pytest.TempPathFactory) -> None:
        self.tmp = tmp
        self.runs: dict[str, Run] = {}

    def __getitem__(self, example: str) -> Run:
        if example not in self.runs:
            base = self.tmp.mktemp(example.removesuffix(".yaml"))
            with pytest.MonkeyPatch.context() as patch:
                patch.chdir(REPO)  # the command exactly as the README gives it
                first = ips_simulate(example, base / "out")
                second = ips_simulate(example, base / "again")
            assert second.exit_code == 0, second.stderr
            scenario = yaml.safe_load((REPO / "examples" / example).read_text(encoding="utf-8"))
            self.runs[example] = Run(
                scenario, first.exit_code, first.stdout, first.stderr, base / "out", base / "again"
            )
        return self.runs[example]


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory) -> Examples:
    return Examples(tmp_path_factory)


@pytest.fixture(params=EXAMPLES)
def run(request: pytest.FixtureRequest, examples: Examples) -> Run:
    return examples[request.param]


def test_there_are_examples() -> None:
    assert {"first_job.yaml", "team_year.yaml", "step_down.yaml"} <= set(EXAMPLES)


# --------------------------------------------------------------------------- every example


def test_exits_0_with_a_timeline_line_per_event_and_a_summary(run: Run) -> None:
    assert run.exit_code == 0, run.stderr
    lines = run.stdout.splitlines()
    events = run.scenario["events"]
    assert len(lines) == len(events) + 2

    for line, event in zip(lines, events, strict=False):
        who = event.get("consumer") or event["specialist"]
        expected = rf"{re.escape(_agency_clock(run.scenario, event))}\s+{who}\s+{event['type']}"
        assert re.fullmatch(expected, line), f"{line!r} is not {event}"

    until = str(run.scenario["until"])
    assert lines[-2].endswith(f"end of {until}")

    due_contacts = run.load("due_contacts.json")
    notifications = run.load("notifications.json")
    summary = re.fullmatch(
        r"(\d+) events; (\d+) due contacts \((.*)\); (\d+) notifications\. Written to (.+)/",
        lines[-1],
    )
    assert summary, lines[-1]
    assert int(summary[1]) == len(events)
    assert int(summary[2]) == len(due_contacts)
    by_status = Counter(dc["status"] for dc in due_contacts)
    assert summary[3] == ", ".join(f"{n} {s}" for s, n in sorted(by_status.items()))
    assert int(summary[4]) == len(notifications)
    assert Path(summary[5]) == run.out


def test_writes_the_three_files_with_the_spec_keys_in_order(run: Run) -> None:
    assert sorted(p.name for p in run.out.iterdir() if p.suffix == ".json") == sorted(OUTPUTS)
    due_contacts = run.load("due_contacts.json")
    notifications = run.load("notifications.json")
    journeys = run.load("journeys.json")
    assert due_contacts and notifications
    for record in due_contacts:
        assert list(record) == DUE_CONTACT_KEYS, record
    for record in notifications:
        assert list(record) == NOTIFICATION_KEYS, record
    assert [list(j) for j in journeys] == [JOURNEY_KEYS] * len(journeys)
    assert [j["consumer"] for j in journeys] == [c["id"] for c in run.scenario["consumers"]]


def test_due_contacts_have_iso_dates_and_spec_values(run: Run) -> None:
    consumers = {c["id"] for c in run.scenario["consumers"]}
    for dc in run.load("due_contacts.json"):
        assert dc["consumer"] in consumers
        assert dc["rule"] in RULES
        assert dc["status"] in DUE_STATUSES
        window_start, due = _iso_date(dc["window_start"]), _iso_date(dc["due"])
        assert window_start <= due, dc
        if dc["status"] == "done":
            assert window_start <= _iso_date(dc["satisfied_on"]) <= due, dc
        else:
            assert dc["satisfied_on"] is None, dc
        assert (dc["seq"] is None) == (
            dc["rule"]
            not in {"weekly_follow_along", "monthly_follow_along", "outreach_attempt",
                    "step_down_review"}
        ), dc  # fmt: skip


def test_send_at_carries_the_recipients_utc_offset(run: Run) -> None:
    zones = _zones(run.scenario)
    for n in run.load("notifications.json"):
        assert n["kind"] in KINDS and n["status"] in SEND_STATUSES, n
        assert n["channel"] in {"sms", "email"}, n
        assert n["body"], n
        send_at = datetime.fromisoformat(n["send_at"])
        assert send_at.utcoffset() is not None, n
        if n["recipient_role"] == "treatment_team_member":
            continue  # no time zone of their own (tests/spec_cases/AMBIGUITIES.md, 8)
        zone = ZoneInfo(zones[n["recipient_id"]])
        assert send_at.utcoffset() == send_at.astimezone(zone).utcoffset(), n
        if n["kind"] in STAFF_REMINDERS:
            assert send_at.time() == time(8, 0), n  # 08:00 in the specialist's own zone
            assert send_at.weekday() < 5, n


def test_a_second_run_writes_the_same_bytes(run: Run) -> None:
    for name in OUTPUTS:
        assert (run.out / name).read_bytes() == (run.again / name).read_bytes(), name


# --------------------------------------------------------------------------- their stories


def test_first_job_story(examples: Examples) -> None:
    run = examples["first_job.yaml"]
    due = _by_rule(run.load("due_contacts.json"))
    assert {k: dc["status"] for k, dc in due.items() if dc["status"] != "done"} == {
        ("c-1", "monthly_follow_along", 1): "open",
        ("c-1", "step_down_review", 1): "open",
    }
    assert due["c-1", "vocational_profile", None]["satisfied_on"] == "2041-02-08"
    sent = _sent(run.load("notifications.json"))
    assert ("sms", "c-1", "c-1", None, "appointment_reminder", "2041-02-06T14:00:00-05:00") in sent
    for channel in ("sms", "email"):
        for kind, day in (("due_soon", "2041-02-06"), ("due_today", "2041-02-08")):
            assert (
                channel, "es-1", "c-1", "vocational_profile", kind, f"{day}T08:00:00-05:00"
            ) in sent  # fmt: skip
    assert run.load("journeys.json") == [
        {"consumer": "c-1", "phase": "working", "in_outreach": False, "closed": False}
    ]


def test_team_year_story(examples: Examples) -> None:
    run = examples["team_year.yaml"]
    due_contacts = run.load("due_contacts.json")
    due = _by_rule(due_contacts)
    # Alex: everything met; more hours bring a second benefits planning.
    assert {dc["status"] for dc in due_contacts if dc["consumer"] == "c-1"} == {"done", "open"}
    assert [
        (dc["window_start"], dc["due"])
        for dc in due_contacts
        if dc["consumer"] == "c-1" and dc["rule"] == "benefits_planning"
    ] == [("2041-04-08", "2041-04-14"), ("2041-09-09", "2041-09-23")]
    # Blake: told on the start day, lost the job, found another.
    assert due["c-2", "pre_start_contact", None]["status"] == "not_applicable"
    j2 = {(dc["rule"], dc["seq"]): dc for dc in due_contacts if dc["job_id"] == "j-2"}
    assert j2["monthly_follow_along", 3]["status"] == "cancelled"
    assert j2["step_down_review", 1]["status"] == "cancelled"
    assert (j2["job_loss_contact", None]["status"], j2["job_loss_contact", None]["due"]) == (
        "done",
        "2041-08-01",
    )
    # Morgan: weeks 2-4 missed, one outreach episode of four attempts, then reached.
    morgan = [dc for dc in due_contacts if dc["consumer"] == "c-3"]
    assert [dc["seq"] for dc in morgan if dc["status"] == "missed"] == [2, 3, 4]
    outreach = [dc for dc in morgan if dc["rule"] == "outreach_attempt"]
    assert [(dc["seq"], dc["window_start"], dc["due"], dc["status"]) for dc in outreach] == [
        (1, "2041-07-02", "2041-07-09", "done"),
        (2, "2041-07-10", "2041-07-16", "done"),
        (3, "2041-07-17", "2041-07-23", "done"),
        (4, "2041-07-24", "2041-07-30", "done"),
    ]
    notifications = run.load("notifications.json")
    copies = [n for n in notifications if n["recipient_role"] == "treatment_team_member"]
    assert sorted((n["channel"], n["send_at"]) for n in copies) == [
        (channel, f"2041-07-{day}T08:00:00-04:00")
        for channel in ("email", "sms")
        for day in ("12", "19", "26")
    ]
    assert {(n["recipient_id"], n["rule"], n["kind"]) for n in copies} == {
        ("cm-1", "outreach_attempt", "due_soon")
    }
    # Sam (Chicago) gets email only, at 08:00 Chicago time.
    sam = [n for n in notifications if n["recipient_id"] == "es-2"]
    assert sam and {n["channel"] for n in sam} == {"email"}
    reminders = [n for n in sam if n["kind"] in ("due_soon", "due_today", "overdue")]
    assert {n["send_at"][10:] for n in reminders} <= {"T08:00:00-05:00", "T08:00:00-06:00"}
    # ... and his morning digest at 07:30 Chicago time, on working days only.
    digests = [n for n in sam if n["kind"] == "daily_digest"]
    assert digests and {n["send_at"][10:] for n in digests} <= {
        "T07:30:00-05:00",
        "T07:30:00-06:00",
    }
    assert {date.fromisoformat(n["send_at"][:10]).weekday() for n in digests} <= set(range(5))
    # Riley: declined; the open employer contact was cancelled.
    assert due["c-4", "first_employer_contact", None]["status"] == "cancelled"
    assert {j["consumer"]: (j["phase"], j["in_outreach"], j["closed"]) for j in run.load(
        "journeys.json"
    )} == {
        "c-1": ("working", False, False),
        "c-2": ("working", False, False),
        "c-3": ("working", False, False),
        "c-4": ("closed", False, True),
    }  # fmt: skip


def test_step_down_story(examples: Examples) -> None:
    run = examples["step_down.yaml"]
    due_contacts = run.load("due_contacts.json")
    assert {dc["status"] for dc in due_contacts} == {"done"}
    reviews = [dc for dc in due_contacts if dc["rule"] == "step_down_review"]
    assert [(dc["seq"], dc["due"], dc["satisfied_on"]) for dc in reviews] == [
        (1, "2045-04-04", "2045-03-23"),
        (2, "2046-04-04", "2046-03-26"),
    ]
    monthly = [dc for dc in due_contacts if dc["rule"] == "monthly_follow_along"]
    assert [dc["seq"] for dc in monthly] == list(range(1, 25))
    assert monthly[-1]["due"] == "2046-04-04"
    assert run.load("journeys.json") == [
        {"consumer": "c-1", "phase": "step_down", "in_outreach": False, "closed": False}
    ]


# --------------------------------------------------------------------------- helpers


def _agency_clock(scenario: dict[str, Any], event: dict[str, Any]) -> str:
    """The event's `at` on the agency's clock: naive means the consumer's zone
    (the agency's for an event without a consumer)."""
    zones = _zones(scenario)
    agency = ZoneInfo(scenario["agency"]["timezone"])
    at = datetime.fromisoformat(str(event["at"]))
    if at.tzinfo is None:
        at = at.replace(tzinfo=ZoneInfo(zones.get(event.get("consumer"), agency.key)))
    return at.astimezone(agency).strftime("%Y-%m-%d %H:%M")


def _zones(scenario: dict[str, Any]) -> dict[str | None, str]:
    people = [*scenario.get("supervisors", []), *scenario["specialists"], *scenario["consumers"]]
    return {p["id"]: p["timezone"] for p in people}


def _iso_date(value: str) -> date:
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", value), value
    return date.fromisoformat(value)


def _by_rule(due_contacts: list[dict[str, Any]]) -> dict[tuple[Any, ...], dict[str, Any]]:
    """(consumer, rule, seq) -> due contact, for the consumers' first job or none."""
    found: dict[tuple[Any, ...], dict[str, Any]] = {}
    for dc in due_contacts:
        found.setdefault((dc["consumer"], dc["rule"], dc["seq"]), dc)
    return found


def _sent(notifications: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    return {
        (n["channel"], n["recipient_id"], n["consumer"], n["rule"], n["kind"], n["send_at"])
        for n in notifications
        if n["status"] == "sent"
    }
