"""`ips simulate examples/first_job.yaml` writes each specialist's and each team's
feed as of the end of `until` (SPEC §9), the days worked out by hand from the
example and SPEC §5.

Alex (c-1, New York) starts the job on Mon 2041-02-11 (S). Everything due by the
end of 2041-03-31 was met; still open are monthly follow-along 1, window S+28d+1d
= Tue Mar 12 to (S+28d) + 1 month = Thu Apr 11, and the step-down review due
(S+28d) + 12 months = 2042-03-11. At the end of until it is Apr 1 in New York, so
the horizon runs from Mar 18 to Jun 30: the review is beyond it, and so is the
appointment of Thu Feb 7 (before it). One entry in each feed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from tests.feeds.conftest import read_ics

REPO = Path(__file__).resolve().parents[2]
# Midnight that ends Mar 31 in New York (EDT, UTC−4).
END_OF_UNTIL = datetime(2041, 4, 1, 4, 0, tzinfo=UTC)


def test_first_job_writes_the_feeds_with_the_right_days(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    runs = []
    for name in ("out", "again"):
        result = CliRunner().invoke(
            app, ["simulate", "examples/first_job.yaml", "--out", str(tmp_path / name)]
        )
        assert result.exit_code == 0, result.output
        runs.append(tmp_path / name / "feeds")

    out, again = runs
    assert sorted(p.name for p in out.iterdir()) == ["es-1.ics", "team-sup-1.ics"]
    mine = read_ics((out / "es-1.ics").read_bytes())
    ours = read_ics((out / "team-sup-1.ics").read_bytes())
    assert mine.property("X-WR-CALNAME") == "Due contacts — Jordan Lee"
    assert ours.property("X-WR-CALNAME") == "Due contacts — team of Pat Kim"
    for feed in (mine, ours):
        [entry] = feed.entries.values()
        assert entry.summary == "Monthly follow-along — A.S. (c-1)"
        assert (entry.start, entry.end) == (date(2041, 4, 11), date(2041, 4, 12))
        assert entry.description == (
            "Window: Tue Mar 12 – Thu Apr 11\nhttps://ips.example.org/consumers/c-1"
        )
        assert (entry.sequence, entry.dtstamp) == (0, END_OF_UNTIL)
    assert mine.entries.keys() == ours.entries.keys()
    for name in ("es-1.ics", "team-sup-1.ics"):
        assert (out / name).read_bytes() == (again / name).read_bytes(), name
