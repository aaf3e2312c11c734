"""Bad scenario files (SPEC §4, §9): each error names the place (`events[5].end_date`,
`consumers[1].timezone`) and the reason, and nothing is written to the output folder.

Most cases go through `run_scenario`, which refuses them before the simulation clock
starts (fast); a few go through `ips simulate` as staff run it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from cli.main import app
from simulate import ScenarioError, load_scenario, run_scenario
from simulate.scenario import parse_scenario

# Indexes of the valid scenario's events, as the error messages count them.
C1_REFERRED, C1_FIRST_MEETING, ES_OWN_EMPLOYER_CONTACT, C2_REFERRED = 0, 1, 2, 3
C1_EMPLOYER_CONTACT, C1_JOB_STARTED = 4, 5
NEXT = 6  # the index of an event appended to the valid scenario


def valid_scenario() -> dict[str, Any]:
    """A scenario that runs: two specialists (one in Chicago), two consumers."""
    return {
        "agency": {
            "name": "Wellspring Works",
            "sms_sender_label": "Wellspring Works",
            "timezone": "America/New_York",
        },
        "policy": {},
        "supervisors": [
            {"id": "sup-1", "name": "Pat Kim", "email": "pat@example.org",
             "timezone": "America/New_York"},
        ],
        "specialists": [
            {"id": "es-1", "name": "Jordan Lee", "email": "jordan@example.org",
             "phone": "+15555550101", "timezone": "America/New_York",
             "channels": ["sms", "email"], "supervisor": "sup-1"},
            {"id": "es-2", "name": "Sam Rivera", "email": "sam@example.org",
             "timezone": "America/Chicago", "channels": ["email"], "supervisor": "sup-1"},
        ],
        "consumers": [
            {"id": "c-1", "name": "Alex Smith", "specialist": "es-1", "phone": "+15555550123",
             "timezone": "America/New_York", "sms_consent": "opted_in",
             "treatment_team_member": {"id": "cm-1", "name": "Casey Wu", "role": "case_manager",
                                       "email": "casey@example.org", "phone": "+15555550233"}},
            {"id": "c-2", "name": "Blake Jones", "specialist": "es-2",
             "timezone": "America/Chicago"},
        ],
        "events": [
            {"at": "2041-01-07T10:00", "consumer": "c-1", "type": "referred"},
            {"at": "2041-01-09T14:00", "consumer": "c-1", "type": "first_meeting"},
            {"at": "2041-01-10T09:00", "type": "employer_contact", "specialist": "es-1",
             "employer": "Acme", "face_to_face": True},
            # Chicago time: 11:00 in New York
            {"at": "2041-01-14T10:00", "consumer": "c-2", "type": "referred"},
            {"at": "2041-01-23T11:00", "consumer": "c-1", "type": "employer_contact",
             "specialist": "es-1", "employer": "Acme", "face_to_face": True},
            {"at": "2041-02-04T09:00", "consumer": "c-1", "type": "job_started", "job_id": "j-1",
             "employer": "Acme", "title": "Stock associate", "start_date": "2041-02-11",
             "hours_per_week": 20, "hourly_wage": 15.5, "competitive": True},
        ],
        "until": "2041-03-31",
    }  # fmt: skip


Mutation = Callable[[dict[str, Any]], object]


@dataclass(frozen=True)
class Bad:
    """A valid scenario changed in one way, and the start of the error it must give."""

    change: Mutation
    place: str
    reason: str


def _set(path: str, value: Any) -> Mutation:
    """Set `consumers[1].timezone`-style paths in the scenario."""

    def change(data: dict[str, Any]) -> None:
        *parents, last = _parts(path)
        target: Any = data
        for part in parents:
            target = target[part]
        target[last] = value

    return change


def _drop(path: str) -> Mutation:
    def change(data: dict[str, Any]) -> None:
        *parents, last = _parts(path)
        target: Any = data
        for part in parents:
            target = target[part]
        del target[last]

    return change


def _parts(path: str) -> list[str | int]:
    parts: list[str | int] = []
    for piece in path.split("."):
        name, _, index = piece.partition("[")
        parts.append(name)
        if index:
            parts.append(int(index.rstrip("]")))
    return parts


def _append(*events: dict[str, Any]) -> Mutation:
    def change(data: dict[str, Any]) -> None:
        data["events"].extend(copy.deepcopy(list(events)))

    return change


def _both(*changes: Mutation) -> Mutation:
    def change(data: dict[str, Any]) -> None:
        for c in changes:
            c(data)

    return change


def c1(at: str, type_: str, **fields: Any) -> dict[str, Any]:
    return {"at": at, "consumer": "c-1", "type": type_, **fields}


def c2_referred_at(at: str) -> Mutation:
    """c-2 (Chicago) referred at `at` Chicago time, in place of the ES's own employer
    contact; c-2's later referral becomes the first meeting."""
    return _both(
        _set("events[2]", {"at": at, "consumer": "c-2", "type": "referred"}),
        _set("events[3].type", "first_meeting"),
    )


DECLINED = c1("2041-02-05T10:00", "services_declined", reason="wants to stop for now")

BAD: dict[str, Bad] = {
    # people
    "unknown consumer": Bad(
        _set("events[1].consumer", "c-9"), "events[1].consumer", "no consumer 'c-9'"
    ),
    "consumer time zone": Bad(
        _set("consumers[1].timezone", "America/Chicgo"),
        "consumers[1].timezone",
        "'America/Chicgo' is not an IANA time zone name",
    ),
    "specialist time zone": Bad(
        _set("specialists[1].timezone", "Central Time"),
        "specialists[1].timezone",
        "'Central Time' is not an IANA time zone name",
    ),
    "agency time zone": Bad(
        _set("agency.timezone", "EST/EDT"),
        "agency.timezone",
        "'EST/EDT' is not an IANA time zone name",
    ),
    "supervisor time zone": Bad(
        _set("supervisors[0].timezone", "New York"),
        "supervisors[0].timezone",
        "'New York' is not an IANA time zone name",
    ),
    "consumer phone": Bad(
        _set("consumers[0].phone", "555-0123"),
        "consumers[0].phone",
        "'555-0123' is not a phone number in E.164 form",
    ),
    "specialist phone": Bad(
        _set("specialists[0].phone", "+1555"),
        "specialists[0].phone",
        "'+1555' is not a phone number in E.164 form",
    ),
    "treatment-team member phone": Bad(
        _set("consumers[0].treatment_team_member.phone", "5550233"),
        "consumers[0].treatment_team_member.phone",
        "is not a phone number in E.164 form",
    ),
    "specialist with sms but no phone": Bad(
        _drop("specialists[0].phone"), "specialists[0].phone", "is required for the sms channel"
    ),
    "consumer's specialist unknown": Bad(
        _set("consumers[1].specialist", "es-9"), "consumers[1].specialist", "no specialist 'es-9'"
    ),
    "specialist's supervisor unknown": Bad(
        _set("specialists[1].supervisor", "sup-9"),
        "specialists[1].supervisor",
        "no supervisor 'sup-9'",
    ),
    "unknown field on a consumer": Bad(
        _set("consumers[1].diagnosis", "x"), "consumers[1].diagnosis", "is not a known field"
    ),
    "consumer without a time zone": Bad(
        _drop("consumers[1].timezone"), "consumers[1].timezone", "is required"
    ),
    "bad sms consent": Bad(
        _set("consumers[0].sms_consent", "yes"),
        "consumers[0].sms_consent",
        "'none' or 'opted_in'",
    ),
    "duplicate consumer id": Bad(
        lambda d: d["consumers"].append(copy.deepcopy(d["consumers"][0])),
        "consumers[2].id",
        "'c-1' is used twice",
    ),
    "duplicate specialist id": Bad(
        _set("specialists[1].id", "es-1"), "specialists[1].id", "'es-1' is used twice"
    ),
    "duplicate supervisor id": Bad(
        lambda d: d["supervisors"].append(copy.deepcopy(d["supervisors"][0])),
        "supervisors[1].id",
        "'sup-1' is used twice",
    ),
    # events: form
    "events out of order": Bad(
        _set("events[4].at", "2041-01-08T11:00"),
        "events[4].at",
        "earlier than the event before it",
    ),
    "out of order across time zones": Bad(
        # 12:30 in Chicago is 13:30 in New York, before c-1's first meeting at 14:00
        c2_referred_at("2041-01-09T12:30"),
        "events[2].at",
        "earlier than the event before it",
    ),
    "unknown event type": Bad(
        _set("events[1].type", "first_meting"),
        "events[1].type",
        "unknown event type 'first_meting'",
    ),
    "event without a type": Bad(_drop("events[1].type"), "events[1].type", "is required"),
    "event without at": Bad(_drop("events[1].at"), "events[1].at", "is required"),
    "unknown field on an event": Bad(
        _set("events[1].colour", "red"),
        "events[1].colour",
        "is not a field of first_meeting events",
    ),
    "misspelt job field": Bad(
        _set("events[5].startdate", "2041-02-11"),
        "events[5].startdate",
        "is not a field of job_started events",
    ),
    "missing required field": Bad(
        _drop("events[5].start_date"),
        "events[5].start_date",
        "is required for job_started events",
    ),
    "event without a consumer": Bad(
        _drop("events[1].consumer"),
        "events[1].consumer",
        "is required for first_meeting events",
    ),
    "impossible date": Bad(
        _set("events[5].start_date", "2041-02-30"), "events[5].start_date", "day value"
    ),
    "bad contact method": Bad(
        _append(c1("2041-02-05T10:00", "contact", method="in_person")),
        f"events[{NEXT}].method",
        "'face_to_face', 'phone', 'video' or 'text'",
    ),
    "bad outreach method": Bad(
        _append(
            c1(
                "2041-02-05T10:00",
                "outreach_attempt",
                by="es-1",
                role="specialist",
                method="email",
                reached=False,
            )
        ),
        f"events[{NEXT}].method",
        "'phone', 'text', 'letter', 'home_visit', 'community_visit' or 'family'",
    ),
    "bad step-down decision": Bad(
        _append(c1("2041-02-05T10:00", "step_down_decision", job_id="j-1", decision="stop")),
        f"events[{NEXT}].decision",
        "'transition' or 'continue'",
    ),
    "employer contact by an unknown specialist": Bad(
        _set("events[2].specialist", "es-9"), "events[2].specialist", "no specialist 'es-9'"
    ),
    "reassigned to an unknown specialist": Bad(
        _append(c1("2041-02-05T10:00", "reassigned", specialist="es-9")),
        f"events[{NEXT}].specialist",
        "no specialist 'es-9'",
    ),
    "duplicate event id": Bad(
        _both(_set("events[0].event_id", "ev-1"), _set("events[1].event_id", "ev-1")),
        "events[1].event_id",
        "'ev-1' is used twice",
    ),
    # events: what the journey refuses (the dry run through the rules)
    "job ending that never started": Bad(
        _append(c1("2041-02-05T10:00", "job_ended", job_id="j-9", end_date="2041-02-05")),
        f"events[{NEXT}].job_id",
        "no job 'j-9' was started for this consumer",
    ),
    "job end before start": Bad(
        _append(c1("2041-02-12T10:00", "job_ended", job_id="j-1", end_date="2041-02-10")),
        f"events[{NEXT}].end_date",
        "2041-02-10 is before the job's start on 2041-02-11",
    ),
    "job ended twice": Bad(
        _append(
            c1("2041-02-12T10:00", "job_ended", job_id="j-1", end_date="2041-02-12"),
            c1("2041-02-13T10:00", "job_ended", job_id="j-1", end_date="2041-02-13"),
        ),
        f"events[{NEXT + 1}].job_id",
        "job 'j-1' already ended on 2041-02-12",
    ),
    "first meeting twice": Bad(
        _append(c1("2041-02-05T10:00", "first_meeting")),
        f"events[{NEXT}].type",
        "the first meeting was already recorded on 2041-01-09",
    ),
    "event before any referral": Bad(
        _set("events[3].type", "first_meeting"),
        "events[3].type",
        "first_meeting before any referral",
    ),
    "referred while the journey is open": Bad(
        _append(c1("2041-02-05T10:00", "referred")),
        f"events[{NEXT}].type",
        "this consumer's journey is already open",
    ),
    # when and until
    "until before the last event": Bad(
        _set("until", "2041-02-01"),
        "until",
        f"2041-02-01 is before the last event (events[{C1_JOB_STARTED}] on 2041-02-04T09:00)",
    ),
    "until not a date": Bad(_set("until", "next spring"), "until", "is not a date like"),
    # policy and sections
    "unknown policy key": Bad(
        _set("policy", {"first_meeting_dayz": 5}),
        "policy",
        "unknown setting 'first_meeting_dayz'",
    ),
    "policy value of the wrong type": Bad(
        _set("policy", {"first_meeting_days": "a week"}),
        "policy.first_meeting_days",
        "valid integer",
    ),
    "negative policy value": Bad(
        _set("policy", {"first_meeting_days": -1}),
        "policy.first_meeting_days",
        "must be 0 or more",
    ),
    "policy working day that is no day": Bad(
        _set("policy", {"working_days": ["mon", "funday"]}),
        "policy.working_days",
        "'funday' is not one of mon, tue",
    ),
    "unknown top-level section": Bad(
        _set("holidays", ["2041-07-04"]), "holidays", "is not a scenario section"
    ),
    "missing section": Bad(_drop("until"), "until", "is required"),
}

# After services_declined the journey refuses everything but a new referral.
AFTER_CLOSURE = {
    "contact": c1("2041-02-06T10:00", "contact", method="phone"),
    "first_meeting": c1("2041-02-06T10:00", "first_meeting"),
    "outreach_attempt": c1(
        "2041-02-06T10:00", "outreach_attempt", by="es-1", role="specialist", method="phone",
        reached=False,
    ),
    "job_ended": c1("2041-02-06T10:00", "job_ended", job_id="j-1", end_date="2041-02-06"),
    "appointment_scheduled": c1(
        "2041-02-06T10:00", "appointment_scheduled", appointment_id="a-1",
        start="2041-02-08T14:00", duration_minutes=30, place="Main St Library",
    ),
    "services_declined": c1("2041-02-06T10:00", "services_declined", reason="again"),
}  # fmt: skip
for _type, _event in AFTER_CLOSURE.items():
    BAD[f"{_type} after services_declined"] = Bad(
        _append(DECLINED, _event),
        f"events[{NEXT + 1}].type",
        f"the journey is closed; only a new referral can reopen it, not {_type}",
    )


def bad_scenario(case: Bad) -> dict[str, Any]:
    data = valid_scenario()
    case.change(data)
    return data


def write(path: Path, data: Any) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def assert_names(message: str, place: str, reason: str) -> None:
    assert message.startswith(f"{place}: "), f"does not start with {place!r}: {message}"
    assert reason in message, f"does not say {reason!r}: {message}"


# --------------------------------------------------------------------------- controls


def test_the_valid_scenario_is_accepted() -> None:
    scenario = parse_scenario(valid_scenario())
    assert [e.envelope.type for e in scenario.events] == [
        "referred", "first_meeting", "employer_contact", "referred", "employer_contact",
        "job_started",
    ]  # fmt: skip
    assert scenario.events[C2_REFERRED].instant == datetime(2041, 1, 14, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(_append(DECLINED, c1("2041-03-02T10:00", "referred")), id="re-referral"),
        pytest.param(_set("until", "2041-02-04"), id="until-on-the-last-event-day"),
        # 13:30 in Chicago is 14:30 in New York: after c-1's first meeting at 14:00
        pytest.param(c2_referred_at("2041-01-09T13:30"), id="order-across-time-zones"),
    ],
)
def test_what_the_errors_must_not_catch(change: Mutation) -> None:
    data = valid_scenario()
    change(data)
    parse_scenario(data)


# --------------------------------------------------------------------------- the errors


@pytest.mark.parametrize("case", BAD.values(), ids=BAD.keys())
async def test_bad_scenario_is_refused_before_anything_is_written(
    case: Bad, tmp_path: Path
) -> None:
    path = write(tmp_path / "scenario.yaml", bad_scenario(case))
    out = tmp_path / "out"

    with pytest.raises(ScenarioError) as refused:
        await run_scenario(path, out)

    assert_names(str(refused.value), case.place, case.reason)
    assert not out.exists()


def test_a_scenario_in_the_past_is_refused_with_the_reason() -> None:
    data = valid_scenario()
    now = datetime(2041, 1, 7, 15, 0, tzinfo=UTC)  # 10:00 in New York, c-1's referral

    with pytest.raises(ScenarioError) as refused:
        parse_scenario(data, now=now)

    message = str(refused.value)
    assert_names(message, "events[0].at", "2041-01-07T10:00 is in the past")
    assert "clock only moves forward" in message
    assert "must lie in the future" in message
    parse_scenario(data, now=datetime(2041, 1, 7, 14, 59, tzinfo=UTC))


async def test_a_scenario_dated_last_year_is_refused_by_the_real_clock(tmp_path: Path) -> None:
    data = valid_scenario()
    for event in data["events"]:
        event["at"] = event["at"].replace("2041", "2020", 1)
    data["events"][C1_JOB_STARTED]["start_date"] = "2020-02-11"
    data["until"] = "2020-03-31"
    out = tmp_path / "out"

    with pytest.raises(ScenarioError) as refused:
        await run_scenario(write(tmp_path / "old.yaml", data), out)

    assert_names(str(refused.value), "events[0].at", "2020-01-07T10:00 is in the past")
    assert not out.exists()


def test_yaml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text('agency: {name: Wellspring Works\nuntil: "2041-03-31"\n', encoding="utf-8")

    with pytest.raises(ScenarioError) as refused:
        load_scenario(path)

    assert_names(str(refused.value), "line 2, column 6", "is not valid YAML")
    assert "<unicode string>" not in str(refused.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as refused:
        load_scenario(tmp_path / "nowhere.yaml")

    assert str(refused.value) == "cannot be read (No such file or directory)"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (["agency"], "scenario: must be a mapping with agency, consumers, events and until"),
        ({**valid_scenario(), "events": {"at": "2041-01-07"}}, "events: must be a list"),
        ({**valid_scenario(), "consumers": "c-1"}, "consumers: must be a list"),
    ],
    ids=["a list", "events a mapping", "consumers a string"],
)
def test_wrong_shapes(data: Any, message: str) -> None:
    with pytest.raises(ScenarioError) as refused:
        parse_scenario(data)
    assert str(refused.value) == message


# --------------------------------------------------------------------------- ips simulate


def ips_simulate(path: Path, out: Path) -> Any:
    return CliRunner().invoke(app, ["simulate", str(path), "--out", str(out)])


def test_cli_names_the_file_the_event_and_the_field(tmp_path: Path) -> None:
    case = BAD["job ending that never started"]
    path = write(tmp_path / "scenario.yaml", bad_scenario(case))
    out = tmp_path / "out"
    out.mkdir()
    earlier = out / "due_contacts.json"
    earlier.write_text("[]\n", encoding="utf-8")  # a previous run's output

    result = ips_simulate(path, out)

    assert result.exit_code == 2
    assert result.stderr == (
        f"{path}: events[{NEXT}].job_id: no job 'j-9' was started for this consumer\n"
    )
    assert result.stdout == ""
    assert [p.name for p in out.iterdir()] == ["due_contacts.json"]
    assert earlier.read_text(encoding="utf-8") == "[]\n"


def test_cli_explains_why_a_past_scenario_cannot_run(tmp_path: Path) -> None:
    data = valid_scenario()
    data["events"] = [{"at": "2021-06-01T10:00", "consumer": "c-1", "type": "referred"}]
    data["until"] = "2021-07-01"
    path = write(tmp_path / "old.yaml", data)

    result = ips_simulate(path, tmp_path / "out")

    assert result.exit_code == 2
    assert result.stderr.startswith(f"{path}: events[0].at: 2021-06-01T10:00 is in the past.")
    assert "The simulation clock only moves forward from today" in result.stderr
    assert not (tmp_path / "out").exists()


def test_cli_names_a_broken_file_once(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("events: [\n  {at: 2041-01-07T10:00, type: referred\n", encoding="utf-8")

    result = ips_simulate(path, tmp_path / "out")

    assert result.exit_code == 2
    assert result.stderr.startswith(f"{path}: line 3, column 1: is not valid YAML (")
    assert result.stderr.count(str(path)) == 1
    assert not (tmp_path / "out").exists()


def test_cli_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"

    result = ips_simulate(path, tmp_path / "out")

    assert result.exit_code == 2
    assert result.stderr == f"{path}: cannot be read (No such file or directory)\n"
    assert not (tmp_path / "out").exists()
