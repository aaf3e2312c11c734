"""How long `ips simulate` takes for 200 consumers over a year, against one consumer.

    .venv/bin/python -m bench.simulate [--consumers 200] [--specialists 10] [--runs 1]
                                       [--profile FILE]

Writes a scenario (`scenario(...)`: a team of supervisors and specialists, each
consumer referred on a staggered day in the first two months, then a year of
what a caseload brings: first meeting, profile, employer contacts, a job and its
follow-along, for some a job loss and a second job, for some outreach, for a few
a decline), and runs it through `ips simulate` in its own process, as staff run
it. The baseline, in the same run, is the same team with one consumer: the cost
that does not grow with the caseload (the test server, the agency sweeps of the
year). `--profile FILE` runs the large scenario once more under cProfile in this
process and writes its statistics to FILE (read them with `python -m pstats`).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

ZONES = ("America/New_York", "America/Chicago")
START = date(2041, 3, 4)


def _at(day: date, hour: int, minute: int = 0) -> str:
    return datetime(day.year, day.month, day.day, hour, minute).isoformat(timespec="minutes")


def _consumer_events(n: int, cid: str, es: str, zone_hour: int) -> list[dict[str, Any]]:
    """A year of one consumer: referral on a staggered day, then their path."""
    day = START + timedelta(days=(n * 3) % 60)
    events: list[dict[str, Any]] = []

    def add(offset: int, kind: str, hour: int = 10, **fields: Any) -> date:
        when = day + timedelta(days=offset)
        events.append(
            {"at": _at(when, hour + zone_hour % 2), "consumer": cid, "type": kind, **fields}
        )
        return when

    add(0, "referred")
    add(3, "first_meeting", 14)
    add(10, "vocational_profile_completed", 15)
    add(17, "employer_contact", 11, specialist=es, employer=f"Employer {n % 37}", face_to_face=True)
    if n % 10 == 9:
        add(40, "services_declined", 11, reason="wants a break for now")
        return events
    if n % 7 == 3:
        # stops answering: missed contacts start outreach, reached after a few attempts
        add(31, "outreach_attempt", 10, by=es, role="specialist", method="phone", reached=False)
        add(38, "outreach_attempt", 10, by=es, role="specialist", method="text", reached=False)
        add(
            45,
            "outreach_attempt",
            12,
            by=es,
            role="specialist",
            method="community_visit",
            reached=True,
        )
        add(45, "contact", 13, method="face_to_face", place="community")
    job = f"j-{cid}"
    hired = 35 if n % 7 != 3 else 60
    start = day + timedelta(days=hired + 7)
    add(
        hired,
        "job_started",
        16,
        job_id=job,
        employer=f"Employer {n % 37}",
        title="Associate",
        start_date=start.isoformat(),
        hours_per_week=20 + n % 15,
        hourly_wage=16.5,
        competitive=True,
    )
    add(hired + 2, "benefits_planning_offered", 11)
    add(hired + 4, "contact", 15, method="face_to_face", place="community")
    for week in range(5):
        add(hired + 8 + 7 * week, "contact", 15, method="face_to_face", place="community")
    last = hired + 8 + 28
    if n % 5 == 1:
        # loses the job in the summer, finds another a month later
        lost = last + 60
        add(
            lost,
            "job_ended",
            10,
            job_id=job,
            end_date=(day + timedelta(days=lost - 3)).isoformat(),
            reason="let go",
        )
        add(lost + 1, "contact", 11, method="phone")
        add(lost + 10, "vocational_profile_completed", 14)
        second = lost + 30
        add(
            second,
            "job_started",
            15,
            job_id=f"{job}-2",
            employer=f"Employer {(n + 5) % 37}",
            title="Clerk",
            start_date=(day + timedelta(days=second + 10)).isoformat(),
            hours_per_week=24,
            hourly_wage=16.0,
            competitive=True,
        )
        last = second + 12
        for week in range(5):
            add(last + 7 * week, "contact", 15, method="face_to_face", place="community")
        last += 28
    month = last + 30
    while month < 365 - 3:
        add(month, "contact", 15, method="face_to_face", place="community")
        month += 30
    return events


def scenario(consumers: int, specialists: int, days: int = 365) -> dict[str, Any]:
    """A scenario of `consumers` spread over `specialists` (two supervisors)."""
    supervisors = [
        {
            "id": f"sup-{k + 1}",
            "name": f"Supervisor {k + 1}",
            "email": f"sup{k + 1}@example.org",
            "timezone": ZONES[k % 2],
        }
        for k in range(2)
    ]
    team = [
        {
            "id": f"es-{k + 1}",
            "name": f"Specialist {k + 1}",
            "email": f"es{k + 1}@example.org",
            "phone": f"+1555555{1000 + k:04d}",
            "timezone": ZONES[k % 2],
            "channels": ["sms", "email"] if k % 2 == 0 else ["email"],
            "supervisor": supervisors[k % 2]["id"],
        }
        for k in range(specialists)
    ]
    people = []
    events: list[dict[str, Any]] = []
    for n in range(consumers):
        es = team[n % specialists]
        cid = f"c-{n + 1}"
        people.append(
            {
                "id": cid,
                "name": f"Consumer {n + 1}",
                "specialist": es["id"],
                "phone": f"+1555556{n:04d}",
                "timezone": es["timezone"],
                "sms_consent": "none",
            }
        )
        events += _consumer_events(n, cid, str(es["id"]), n)
    zone_of = {str(p["id"]): ZoneInfo(str(p["timezone"])) for p in people}
    events.sort(
        key=lambda e: datetime.fromisoformat(e["at"]).replace(tzinfo=zone_of[e["consumer"]])
    )
    until = START + timedelta(days=days)
    return {
        "agency": {
            "name": "Bench Works",
            "sms_sender_label": "Bench Works",
            "timezone": ZONES[0],
            "contact_phone": "+15555550100",
        },
        "policy": {},
        "until": until.isoformat(),
        "supervisors": supervisors,
        "specialists": team,
        "consumers": people,
        "events": [e for e in events if e["at"] < until.isoformat()],
    }


def _write(data: dict[str, Any], path: Path) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def run_simulate(path: Path, out: Path) -> float:
    """Wall seconds of `ips simulate path --out out` in its own process."""
    ips = Path(sys.executable).with_name("ips")
    began = time.perf_counter()
    done = subprocess.run(
        [str(ips), "simulate", str(path), "--out", str(out)], capture_output=True, text=True
    )
    took = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"ips simulate {path.name} failed:\n{done.stderr or done.stdout}")
    return took


def _counts(out: Path) -> tuple[int, int]:
    due = json.loads((out / "due_contacts.json").read_text(encoding="utf-8"))
    sent = json.loads((out / "notifications.json").read_text(encoding="utf-8"))
    return len(due), len(sent)


def _profile(path: Path, out: Path, target: Path) -> None:
    import asyncio

    from simulate.run import run_scenario

    profiler = cProfile.Profile()
    profiler.enable()
    asyncio.run(run_scenario(path, out))
    profiler.disable()
    profiler.dump_stats(str(target))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--consumers", type=int, default=200)
    parser.add_argument("--specialists", type=int, default=10)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="write the scenarios and outputs here")
    parser.add_argument("--profile", type=Path, help="also profile the large run into this file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ips-bench-sim-") as tmp:
        where = args.keep or Path(tmp)
        where.mkdir(parents=True, exist_ok=True)
        big_data = scenario(args.consumers, args.specialists, args.days)
        big = _write(big_data, where / f"bench_{args.consumers}.yaml")
        one = _write(scenario(1, args.specialists, args.days), where / "bench_1.yaml")
        print(
            f"scenario: {args.consumers} consumers, {args.specialists} specialists, "
            f"{args.days} days, {len(big_data['events'])} events",
            file=sys.stderr,
        )
        rows = []
        for run in range(args.runs):
            print(f"run {run + 1}/{args.runs}: 1 consumer ...", file=sys.stderr)
            base = run_simulate(one, where / "out_1")
            print(f"  {base:.1f} s; {args.consumers} consumers ...", file=sys.stderr)
            took = run_simulate(big, where / f"out_{args.consumers}")
            print(f"  {took:.1f} s", file=sys.stderr)
            rows.append((base, took))
        due, sent = _counts(where / f"out_{args.consumers}")
        base = min(r[0] for r in rows)
        took = min(r[1] for r in rows)
        print(
            f"| ips simulate, {args.specialists} specialists, {args.days} days | wall s | ratio |"
        )
        print("|---|---|---|")
        print(f"| 1 consumer (baseline) | {base:.1f} | 1.00 |")
        print(
            f"| {args.consumers} consumers ({len(big_data['events'])} events, "
            f"{due} due contacts, {sent} notifications) | {took:.1f} | {took / base:.2f} |"
        )
        if args.profile:
            print(f"profiling the {args.consumers}-consumer run ...", file=sys.stderr)
            _profile(big, where / "out_profile", args.profile)
            print(f"profile written to {args.profile}", file=sys.stderr)


if __name__ == "__main__":
    main()
