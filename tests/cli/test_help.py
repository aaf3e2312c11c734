"""Every staff command explains itself with --help, in words staff use."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cli.main import app

COMMANDS = [
    ("people", "add"),
    ("people", "update"),
    ("people", "list"),
    ("users", "add"),
    ("users", "list"),
    ("tokens", "create"),
    ("tokens", "revoke"),
    ("tokens", "list"),
    ("feed", "token", "create"),
    ("feed", "token", "rotate"),
    ("feed", "token", "revoke"),
    ("feed", "token", "list"),
    ("feed", "url"),
    ("refer",),
    ("event",),
    ("show",),
    ("due",),
]
GROUPS = [(), ("people",), ("users",), ("tokens",), ("feed",), ("feed", "token")]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_each_command_says_what_it_does_and_who_is_acting(command: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    assert f"Usage: ips {' '.join(command)}" in result.output
    words = " ".join(result.output.replace("│", " ").split())
    assert "--json" in words
    assert "Without a token, the operator of this computer, who sees everything." in words
    assert "IPS_DATABASE_URL" in words and "IPS_TEMPORAL_ADDRESS" in words
    assert "Exit code 2: refused" in words


@pytest.mark.parametrize("group", GROUPS, ids=lambda g: " ".join(g) or "ips")
def test_each_group_lists_its_commands(group: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*group, "--help"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    expected = [c[len(group)] for c in COMMANDS if c[: len(group)] == group]
    for name in expected:
        assert f" {name} " in result.output, name


def test_event_help_shows_how_to_give_details() -> None:
    result = CliRunner().invoke(app, ["event", "--help"], env={"COLUMNS": "100"})
    words = " ".join(result.output.replace("│", " ").split())
    assert "ips event c-1 job_started -f job_id=j-1" in words
    assert "ips event employer_contact -f specialist=es-1" in words
    assert "job_ended" in words and "services_declined" in words
