"""`ips upgrade check`, the step of docs/upgrades.md before new code takes over:
the histories of the journeys running on a real dev server replay with the code
installed, and a history the code would take differently is named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from tests.cli.conftest import Stack, closed_port
from tests.cli.test_walkthrough import add_team
from tests.workflows.conftest import HISTORIES_DIR

# The database does not matter here: Temporal holds the histories.
SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@SQLITE
async def test_the_running_journeys_replay_with_the_code_installed(stack: Stack) -> None:
    await add_team(stack)
    await stack.ok("refer", "c-1")
    await stack.ok("refer", "c-2")
    await stack.ok("event", "c-1", "first_meeting")

    checked = await stack("upgrade", "check")

    assert checked.exit_code == 0, checked.output
    assert "All 2 histories replay with this code: it is safe to deploy." in checked.stdout


@SQLITE
async def test_a_filter_that_matches_nothing_has_nothing_to_replay(stack: Stack) -> None:
    await add_team(stack)
    await stack.ok("refer", "c-1")

    checked = await stack("upgrade", "check", "--query", 'WorkflowId = "journey-nobody"')

    assert checked.exit_code == 0, checked.output
    assert "No history to replay" in checked.stdout


@SQLITE
async def test_a_bad_filter_is_named(stack: Stack) -> None:
    checked = await stack("upgrade", "check", "--query", "Specialist ===")

    assert checked.exit_code == 2, checked.output
    assert "--query: Temporal refused it" in checked.stderr


def test_saved_histories_replay_and_a_changed_one_is_named(tmp_path: Path) -> None:
    good = HISTORIES_DIR / "continued_run.json"
    (tmp_path / "journey-c-good.json").write_text(good.read_text(encoding="utf-8"))
    changed = HISTORIES_DIR / "full_journey_closed.json"
    data = json.loads(changed.read_text(encoding="utf-8"))
    scheduled = next(e for e in data["events"] if "activityTaskScheduledEventAttributes" in e)
    scheduled["activityTaskScheduledEventAttributes"]["activityType"]["name"] = "send_fax"
    (tmp_path / "journey-c-changed.json").write_text(json.dumps(data))

    result = CliRunner().invoke(app, ["upgrade", "check", "--histories", str(tmp_path)])

    assert result.exit_code == 1, result.output
    assert "1 of 2 histories do not replay with this code" in result.stderr
    failures = [line.strip() for line in result.stderr.splitlines() if line.startswith("  ")]
    assert len(failures) == 1
    assert failures[0].startswith("journey-c-changed: ")
    assert "Traceback" not in result.output


def test_a_folder_without_histories_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.json").write_text("{not json")

    empty = CliRunner().invoke(app, ["upgrade", "check", "--histories", str(tmp_path / "none")])
    broken = CliRunner().invoke(app, ["upgrade", "check", "--histories", str(tmp_path)])

    assert empty.exit_code == 2
    assert "--histories: " in empty.stderr and "is not a folder" in empty.stderr
    assert broken.exit_code == 2
    assert "--histories: notes.json is not a saved history" in broken.stderr


def test_no_temporal_is_reported_with_where_it_was_looked_for() -> None:
    address = f"127.0.0.1:{closed_port()}"
    result = CliRunner().invoke(app, ["upgrade", "check"], env={"IPS_TEMPORAL_ADDRESS": address})

    assert result.exit_code == 3, result.output
    assert f"Temporal does not answer at {address} (from IPS_TEMPORAL_ADDRESS)" in result.stderr
    assert "Traceback" not in result.output


def test_a_malformed_key_list_is_named_before_anything_is_read(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["upgrade", "check", "--histories", str(HISTORIES_DIR)],
        env={"IPS_ENCRYPTION_KEYS": "k1:not-base64!"},
    )

    assert result.exit_code == 2, result.output
    assert "IPS_ENCRYPTION_KEYS: entry 1 (k1)" in result.stderr
    assert "not-base64" not in result.output
