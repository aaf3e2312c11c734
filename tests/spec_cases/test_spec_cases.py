"""Scenario cases whose expected results were computed by hand from SPEC.md alone.

Each directory next to this file holds `scenario.yaml` (SPEC §9 format) and
`expected.yaml` (a hand-computed SUBSET of the outputs, with the calculation
explained in a comment at its top). For every case the scenario is run through
`simulate.run_scenario(scenario_path, out_dir)` and the three JSON outputs are
checked:

- `due_contacts`: every listed record must be present exactly (all eight
  fields), matched by consumer + rule + job_id + seq + due.
- `notifications`: every listed record must be present, matching on all listed
  fields (`body` is never listed). `send_at` must be the same instant AND carry
  the same UTC offset.
- `absent_notifications`: no notification may match. Matching is on consumer,
  rule, kind and the DATE of send_at (in send_at's own offset), plus any other
  field given (`channel`, `recipient_role`, `recipient_id`), which narrows it.
- `absent_due_contacts`: no due contact may match all the fields given.
- `journeys`: for each listed consumer, the listed fields must be equal (a
  field is left out where the SPEC does not determine it; see AMBIGUITIES.md).

All failures of a case are collected and reported together, each with the
closest actual records, so one run shows everything that is off.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

CASES_DIR = Path(__file__).parent
CASES = sorted(
    p.name
    for p in CASES_DIR.iterdir()
    if p.is_dir() and (p / "scenario.yaml").is_file() and (p / "expected.yaml").is_file()
)

DUE_FIELDS = ("consumer", "rule", "job_id", "seq", "window_start", "due", "status", "satisfied_on")
DUE_KEY = ("consumer", "rule", "job_id", "seq", "due")
JOURNEY_FIELDS = ("consumer", "phase", "in_outreach", "closed")
# SPEC §9's kinds.
NOTIFICATION_KINDS = {
    "due_soon", "due_today", "overdue", "appointment_reminder", "opt_in_confirmation",
    "help_reply", "daily_digest", "weekly_digest", "caseload_warning", "employer_contacts_nudge",
}  # fmt: skip


# --------------------------------------------------------------------------- helpers


def _norm(value: Any) -> Any:
    """YAML may turn unquoted dates into date objects; compare ISO strings instead."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_norm(v) for v in value]
    return value


def _parse_instant(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _same_send_at(expected: str, actual: Any) -> bool:
    want, got = _parse_instant(expected), _parse_instant(actual)
    if want is None or got is None:
        return expected == actual
    return want == got and want.utcoffset() == got.utcoffset()


def _send_at_date(actual: Any) -> str | None:
    parsed = _parse_instant(actual)
    if parsed is not None:
        return parsed.date().isoformat()
    if isinstance(actual, str) and len(actual) >= 10:
        return actual[:10]
    return None


def _date_distance(a: Any, b: Any) -> int:
    try:
        return abs((dt.date.fromisoformat(str(a)[:10]) - dt.date.fromisoformat(str(b)[:10])).days)
    except ValueError:
        return 10**6


def _fmt(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=False, default=str)


def _closest(candidates: list[dict[str, Any]], date_field: str, when: Any, n: int = 3) -> str:
    """The n candidates whose `date_field` is nearest to `when`."""
    if not candidates:
        return "      (none)"
    ranked = sorted(candidates, key=lambda r: _date_distance(r.get(date_field), when))
    return "\n".join(f"      {_fmt(r)}" for r in ranked[:n])


def _load_json(path: Path) -> Any:
    assert path.is_file(), f"simulate.run_scenario did not write {path.name} in {path.parent}"
    with path.open(encoding="utf-8") as f:
        return json.load(f)


# --------------------------------------------------------------------------- checks


def _check_due_contacts(expected: list[dict], actual: list[dict], problems: list[str]) -> None:
    for want in expected:
        want = _norm(want)
        same_key = [a for a in actual if all(a.get(k) == want.get(k) for k in DUE_KEY)]
        if len(same_key) == 1 and all(same_key[0].get(f) == want.get(f) for f in DUE_FIELDS):
            continue
        if len(same_key) > 1:
            problems.append(
                "due contact listed more than once for key "
                f"{ {k: want.get(k) for k in DUE_KEY} }:\n"
                + "\n".join(f"      {_fmt(a)}" for a in same_key)
            )
            continue
        similar = [
            a
            for a in actual
            if a.get("consumer") == want.get("consumer") and a.get("rule") == want.get("rule")
        ]
        same_job = [a for a in similar if a.get("job_id") == want.get("job_id")] or similar
        if same_key:
            diff = {
                f: {"expected": want.get(f), "actual": same_key[0].get(f)}
                for f in DUE_FIELDS
                if same_key[0].get(f) != want.get(f)
            }
            problems.append(
                f"due contact differs:\n    expected {_fmt(want)}\n    actual   {_fmt(same_key[0])}"
                f"\n    differences {diff}"
            )
        else:
            problems.append(
                f"due contact missing:\n    expected {_fmt(want)}\n"
                "    closest actual (same consumer/rule):\n"
                + _closest(same_job, "due", want.get("due"))
            )


def _notification_matches(want: dict[str, Any], actual: dict[str, Any]) -> bool:
    for field, value in want.items():
        if field == "send_at":
            if not _same_send_at(value, actual.get("send_at")):
                return False
        elif actual.get(field) != value:
            return False
    return True


def _check_notifications(expected: list[dict], actual: list[dict], problems: list[str]) -> None:
    for want in expected:
        want = _norm(want)
        if any(_notification_matches(want, a) for a in actual):
            continue
        similar = [
            a
            for a in actual
            if a.get("consumer") == want.get("consumer")
            and a.get("rule") == want.get("rule")
            and a.get("kind") == want.get("kind")
        ]
        narrower = [
            a
            for a in similar
            if a.get("recipient_role") == want.get("recipient_role")
            and a.get("channel") == want.get("channel")
        ] or similar
        shown = [{k: v for k, v in a.items() if k != "body"} for a in narrower]
        problems.append(
            f"notification missing:\n    expected {_fmt(want)}\n"
            "    closest actual (same consumer/rule/kind):\n"
            + _closest(shown, "send_at", want.get("send_at"))
        )


def _check_absent_notifications(
    forbidden: list[dict], actual: list[dict], problems: list[str]
) -> None:
    for rule in forbidden:
        rule = _norm(rule)
        hits = []
        for a in actual:
            ok = True
            for field, value in rule.items():
                if field == "send_at":
                    if _send_at_date(a.get("send_at")) != value[:10]:
                        ok = False
                        break
                elif a.get(field) != value:
                    ok = False
                    break
            if ok:
                hits.append({k: v for k, v in a.items() if k != "body"})
        if hits:
            problems.append(
                f"notification must NOT exist: {_fmt(rule)}\n    but found:\n"
                + "\n".join(f"      {_fmt(h)}" for h in hits)
            )


def _check_absent_due_contacts(
    forbidden: list[dict], actual: list[dict], problems: list[str]
) -> None:
    for rule in forbidden:
        rule = _norm(rule)
        hits = [a for a in actual if all(a.get(k) == v for k, v in rule.items())]
        if hits:
            problems.append(
                f"due contact must NOT exist: {_fmt(rule)}\n    but found:\n"
                + "\n".join(f"      {_fmt(h)}" for h in hits)
            )


def _check_journeys(expected: list[dict], actual: list[dict], problems: list[str]) -> None:
    for want in expected:
        want = _norm(want)
        mine = [a for a in actual if a.get("consumer") == want.get("consumer")]
        if len(mine) != 1:
            problems.append(
                f"journeys.json should have exactly one entry for {want.get('consumer')!r}, "
                f"found {len(mine)}: {[_fmt(m) for m in mine]}"
            )
            continue
        got = mine[0]
        diff = {
            f: {"expected": v, "actual": got.get(f)} for f, v in want.items() if got.get(f) != v
        }
        if diff:
            problems.append(
                f"journey differs:\n    expected {_fmt(want)}\n    actual   {_fmt(got)}\n"
                f"    differences {diff}"
            )


# --------------------------------------------------------------------------- the test


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("case", CASES)
async def test_spec_case(case: str, tmp_path: Path) -> None:
    import simulate  # imported here so that collecting other tests never depends on it

    case_dir = CASES_DIR / case
    expected = yaml.safe_load((case_dir / "expected.yaml").read_text(encoding="utf-8")) or {}
    out_dir = tmp_path / "out"
    out_dir.mkdir(parents=True, exist_ok=True)

    await simulate.run_scenario(case_dir / "scenario.yaml", out_dir)

    due_contacts = _load_json(out_dir / "due_contacts.json")
    notifications = _load_json(out_dir / "notifications.json")
    journeys = _load_json(out_dir / "journeys.json")

    problems: list[str] = []
    _check_due_contacts(expected.get("due_contacts") or [], due_contacts, problems)
    _check_notifications(expected.get("notifications") or [], notifications, problems)
    _check_absent_notifications(expected.get("absent_notifications") or [], notifications, problems)
    _check_absent_due_contacts(expected.get("absent_due_contacts") or [], due_contacts, problems)
    _check_journeys(expected.get("journeys") or [], journeys, problems)

    assert not problems, (
        f"{case}: {len(problems)} mismatch(es) against the hand-computed expectations "
        f"(see the comment at the top of {case}/expected.yaml; outputs kept in {out_dir}):\n\n"
        + "\n\n".join(problems)
    )


def test_expected_files_are_well_formed() -> None:
    """Guards the hand-written files themselves (runs without `simulate`)."""
    assert CASES, "no cases found"
    for case in CASES:
        scenario = yaml.safe_load((CASES_DIR / case / "scenario.yaml").read_text(encoding="utf-8"))
        for key in ("agency", "specialists", "consumers", "events", "until"):
            assert key in scenario, f"{case}/scenario.yaml lacks {key!r}"
        expected = yaml.safe_load((CASES_DIR / case / "expected.yaml").read_text(encoding="utf-8"))
        unknown = set(expected) - {
            "due_contacts",
            "notifications",
            "absent_notifications",
            "absent_due_contacts",
            "journeys",
        }
        assert not unknown, f"{case}/expected.yaml: unknown keys {unknown}"
        for rec in expected.get("due_contacts") or []:
            assert set(rec) == set(DUE_FIELDS), f"{case}: due contact with fields {sorted(rec)}"
        for rec in expected.get("notifications") or []:
            assert "body" not in rec
            assert set(rec) == {
                "channel",
                "recipient_role",
                "recipient_id",
                "consumer",
                "rule",
                "kind",
                "send_at",
                "status",
            }, f"{case}: notification with fields {sorted(rec)}"
            assert rec["kind"] in NOTIFICATION_KINDS, rec
            sent = _parse_instant(rec["send_at"])
            assert sent is not None and sent.utcoffset() is not None, rec
        for rec in expected.get("absent_notifications") or []:
            assert {"consumer", "rule", "kind", "send_at"} <= set(rec), rec
            dt.date.fromisoformat(rec["send_at"])
        for rec in expected.get("journeys") or []:
            assert set(rec) <= set(JOURNEY_FIELDS) and "consumer" in rec, rec
        # every date in the files lies in the future (2041-2047), as §9 requires
        assert "2041-01-01" <= str(scenario["until"]) <= "2047-12-31"
