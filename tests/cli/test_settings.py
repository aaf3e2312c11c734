"""Staff commands read their settings when they run, from the environment and
the env file of IPS_ENV_FILE; settings that cannot be read refuse the command."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import Ips
from tests.cli.test_people_and_access import add_team


def test_the_token_and_database_may_come_from_the_env_file(
    ips: Ips, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    add_team(ips)
    ips.ok("users", "add", "jordan", "--name", "Jordan Lee", "--role", "specialist",
           "--person", "es-1")  # fmt: skip
    env_file = tmp_path / "ips.env"
    env_file.write_text(
        f"IPS_DATABASE_URL={database_url}\nIPS_TOKEN={ips.token('jordan')}\n", encoding="utf-8"
    )
    monkeypatch.delenv("IPS_DATABASE_URL")
    monkeypatch.setenv("IPS_ENV_FILE", str(env_file))

    listed = ips.json("people", "list", "consumer")

    # Jordan's caseload, on the test's database: both came from the file.
    assert [c["id"] for c in listed["consumers"]] == ["c-1"]
    # --token (or IPS_TOKEN in the environment) wins over the file.
    assert "the token is not valid" in ips.refused("people", "list", "consumer", token="ips_no")


def test_a_setting_that_cannot_be_read_refuses_the_command_naming_it(
    ips: Ips, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IPS_SMS_NOTIFIER", "pigeon")

    assert ips.refused("people", "list", "consumer") == (
        "Error: IPS_SMS_NOTIFIER: must be 'auto', 'twilio' or 'console'\n"
    )
