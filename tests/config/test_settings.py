"""The settings: read from the environment and the env file when asked, never
at import; blanks are unset; secrets stay masked; a bad value names its variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from activities.journey import AgencySettings
from config import (
    DEFAULT_APP_URL,
    DEFAULT_DATABASE_URL,
    Settings,
    SettingsError,
    load_settings,
    load_with_origins,
)
from config.settings import DEFAULT_SENDER_LABEL

AUTH_TOKEN = "5ec7e75ec7e75ec7e75ec7e75ec7e7aa"


def test_unset_variables_take_the_defaults() -> None:
    settings = load_settings({})

    assert settings.database() == DEFAULT_DATABASE_URL == "sqlite:///var/ips.db"
    assert settings.database("sqlite:////data/ips.db") == "sqlite:////data/ips.db"
    assert settings.temporal_address == "localhost:7233"
    assert settings.sms_notifier == settings.email_notifier == "auto"
    assert settings.public_url is settings.twilio_auth_token is settings.policy_file is None
    # The worker's agency defaults are the settings' own.
    assert DEFAULT_SENDER_LABEL == AgencySettings.sender_label == settings.sms_sender_label
    assert AgencySettings.app_url == DEFAULT_APP_URL


def test_values_come_from_ips_variables_without_their_spaces() -> None:
    settings = load_settings(
        {
            "IPS_DATABASE_URL": " postgresql+psycopg://ips:pw@db/ips ",
            "IPS_TEMPORAL_ADDRESS": "temporal:7233",
            "IPS_POLICY_FILE": "policy.yaml",
            "IPS_TWILIO_AUTH_TOKEN": f"  {AUTH_TOKEN}\n",
            "IPS_SMS_NOTIFIER": "console",
            "DATABASE_URL": "sqlite:///not-ours.db",
        }
    )

    assert settings.database() == "postgresql+psycopg://ips:pw@db/ips"
    assert settings.temporal_address == "temporal:7233"
    assert settings.policy_file == Path("policy.yaml")
    assert settings.twilio_auth_token is not None
    assert settings.twilio_auth_token.get_secret_value() == AUTH_TOKEN
    assert settings.sms_notifier == "console"


def test_an_empty_or_blank_variable_is_an_unset_one() -> None:
    settings = load_settings(
        {"IPS_SMS_SENDER_LABEL": "", "IPS_TEMPORAL_ADDRESS": "   ", "IPS_PUBLIC_URL": ""}
    )

    assert settings.sms_sender_label == DEFAULT_SENDER_LABEL
    assert settings.temporal_address == "localhost:7233"
    assert settings.public_url is None


def test_the_environment_is_read_when_asked_not_at_import(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IPS_AGENCY_NAME", "Riverside Community Services, Inc.")
    assert load_settings().agency_name == "Riverside Community Services, Inc."
    monkeypatch.delenv("IPS_AGENCY_NAME")
    assert load_settings().agency_name is None


def test_an_env_file_fills_in_what_the_environment_does_not_set(tmp_path: Path) -> None:
    env_file = tmp_path / "ips.env"
    env_file.write_text(
        "# the agency\n"
        "IPS_AGENCY_NAME=Riverside Community Services, Inc.\n"
        "IPS_SMS_SENDER_LABEL='Riverside Works'\n"
        "IPS_TEMPORAL_ADDRESS=from-the-file:7233\n"
        "POSTGRES_PASSWORD=not-a-setting\n",
        encoding="utf-8",
    )

    loaded = load_with_origins(
        {"IPS_ENV_FILE": str(env_file), "IPS_TEMPORAL_ADDRESS": "from-the-environment:7233"}
    )

    assert loaded.env_file == env_file
    assert loaded.settings.agency_name == "Riverside Community Services, Inc."
    assert loaded.settings.sms_sender_label == "Riverside Works"
    assert loaded.settings.temporal_address == "from-the-environment:7233"
    assert loaded.origins["agency_name"] == "env file"
    assert loaded.origins["temporal_address"] == "environment"
    assert loaded.origins["env_file"] == "environment"
    assert loaded.origins["public_url"] == "default"


def test_no_env_file_is_read_unless_ips_env_file_names_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("IPS_AGENCY_NAME=From a stray .env\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)

    assert load_settings({}).agency_name is None


def test_an_env_file_that_is_not_there_is_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"^IPS_ENV_FILE: .*missing\.env is not a file"):
        load_settings({"IPS_ENV_FILE": str(tmp_path / "missing.env")})


def test_an_unknown_choice_names_the_variable_and_the_choices() -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({"IPS_SMS_NOTIFIER": "pigeon", "IPS_EMAIL_NOTIFIER": "postcard"})

    assert raised.value.problems == [
        ("IPS_SMS_NOTIFIER", "must be 'auto', 'twilio' or 'console'"),
        ("IPS_EMAIL_NOTIFIER", "must be 'auto', 'sendgrid' or 'console'"),
    ]


def test_secrets_are_masked_when_the_settings_are_printed() -> None:
    password = "db-pa55word-unlikely"
    settings = load_settings(
        {
            "IPS_DATABASE_URL": f"postgresql+psycopg://ips:{password}@db/ips",
            "IPS_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "IPS_TOKEN": "ips_staff-token-unlikely",
        }
    )

    for shown in (repr(settings), str(settings), settings.model_dump_json()):
        assert password not in shown
        assert AUTH_TOKEN not in shown
        assert "ips_staff-token-unlikely" not in shown


def test_every_setting_is_described_and_named_by_its_variable() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, name
        assert Settings.variable(name) == "IPS_" + name.upper()
