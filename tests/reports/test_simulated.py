"""`ips report fidelity` on the database `ips simulate` leaves in its output
folder, for examples/first_job.yaml: Alex, referred 2041-01-07, first meeting
01-09, one face-to-face employer contact 01-23, hired 02-04 to start Monday
02-11, met every contact."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app

REPO = Path(__file__).resolve().parents[2]


def test_reports_on_a_simulation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.delenv("IPS_TOKEN", raising=False)
    out = tmp_path / "out"
    ran = CliRunner().invoke(app, ["simulate", "examples/first_job.yaml", "--out", str(out), "-q"])
    assert ran.exit_code == 0, ran.output
    monkeypatch.setenv("IPS_DATABASE_URL", f"sqlite:///{out / 'ips.db'}")

    # 2041-01-07 to 2041-03-31: 84 days, 12 weeks.
    result = CliRunner().invoke(
        app, ["report", "fidelity", "--from", "2041-01-07", "--to", "2041-03-31", "--json"]
    )
    assert result.exit_code == 0, result.output
    f = {x["key"]: x for x in json.loads(result.stdout)["figures"]}

    def counts(key: str) -> tuple[float, float, float | None]:
        return (f[key]["numerator"], f[key]["denominator"], f[key]["value"])

    # Alex on es-1's caseload (FTE 1.0) on 03-31.
    assert counts("caseload_per_fte") == (1, 1.0, 1.0)
    # The one contact with Acme on 01-23, in 12 weeks.
    assert counts("employer_contacts_per_week") == (1, 12.0, 1 / 12)
    # First meeting 01-09; the contact on 01-23 is inside its 30 days.
    assert counts("first_employer_contact_30d") == (1, 1, 1.0)
    # Due in the period: pre-start 02-10 (met 02-07), post-start 02-14 (met 02-13),
    # weekly 02-18, 02-25, 03-04, 03-11 (met 02-13, 02-20, 02-27, 03-06). Monthly 1
    # is due 04-11, after the period.
    by_rule = json.loads(result.stdout)["on_time_by_rule"]
    assert {rule: (x["numerator"], x["denominator"]) for rule, x in by_rule.items()} == {
        "pre_start_contact": (1, 1),
        "post_start_contact": (1, 1),
        "weekly_follow_along": (4, 4),
        "monthly_follow_along": (0, 0),
    }
    assert counts("follow_along_on_time") == (6, 6, 1.0)
    # Benefits planning due 02-10, offered 02-06.
    assert counts("benefits_planning_on_time") == (1, 1, 1.0)
    # No job loss, no outreach; one competitive job, Stock associate at Acme.
    assert counts("job_loss_contact_3d") == (0, 0, None)
    assert counts("outreach_attempts_per_consumer") == (0, 0, None)
    assert counts("competitive_jobs") == (1, 1, 1.0)

    outcomes = CliRunner().invoke(app, ["report", "outcomes", "--quarter", "2041Q1", "--json"])
    body = json.loads(outcomes.stdout)
    assert (body["employed"], body["active"], body["rate"]) == (1, 1, 1.0)
