"""`ips config check`: every setting with its value and origin, secrets masked;
exit 1 with each problem naming its variable, the reason and the fix."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from typer.testing import CliRunner

from cli.main import app

# Distinctive fakes of the right shapes: none of them may ever be printed.
ACCOUNT_SID = "AC" + "a1b2c3d4" * 4
AUTH_TOKEN = "5ec7e75ec7e75ec7e75ec7e75ec7e7aa"
SERVICE_SID = "MG" + "0f1e2d3c" * 4
SENDGRID_API_KEY = "SG.unlikely-key-id_42.unlikely-secret_Zq8xW3vY7uT5sR1pO9nM"
DB_PASSWORD = "Unl1kely-db-Passw0rd"
STAFF_TOKEN = "ips_unlikelyStaffToken0123456789abcd"
NEWEST_KEY = base64.b64encode(bytes(range(32))).decode()
OLDER_KEY = base64.b64encode(bytes(range(100, 132))).decode()
WEBHOOK_KEY = base64.b64encode(
    ec.generate_private_key(ec.SECP256R1())
    .public_key()
    .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
).decode()
SECRETS = [
    AUTH_TOKEN,
    SENDGRID_API_KEY,
    DB_PASSWORD,
    STAFF_TOKEN,
    NEWEST_KEY,
    OLDER_KEY,
    WEBHOOK_KEY,
]

PRODUCTION = {
    "IPS_DATABASE_URL": f"postgresql+psycopg://ips:{DB_PASSWORD}@postgresql:5432/ips",
    "IPS_TEMPORAL_ADDRESS": "temporal:7233",
    "IPS_TOKEN": STAFF_TOKEN,
    "IPS_SMS_SENDER_LABEL": "Riverside Works",
    "IPS_AGENCY_NAME": "Riverside Community Services, Inc.",
    "IPS_AGENCY_PHONE": "+15555550100",
    "IPS_APP_URL": "https://app.riverside.example",
    "IPS_PUBLIC_URL": "https://ips.riverside.example",
    "IPS_SMS_NOTIFIER": "twilio",
    "IPS_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
    "IPS_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
    "IPS_TWILIO_MESSAGING_SERVICE_SID": SERVICE_SID,
    "IPS_EMAIL_NOTIFIER": "sendgrid",
    "IPS_SENDGRID_API_KEY": SENDGRID_API_KEY,
    "IPS_SENDGRID_FROM_EMAIL": "reminders@riverside.example",
    "IPS_SENDGRID_WEBHOOK_PUBLIC_KEY": WEBHOOK_KEY,
    "IPS_ENCRYPTION_KEYS": f"k2027:{NEWEST_KEY},k2026:{OLDER_KEY}",
}
TWILIO = {k: PRODUCTION[k] for k in PRODUCTION if k.startswith("IPS_TWILIO_")}

Check = Callable[..., Result]


@pytest.fixture
def check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Check:
    """`ips config check` in an empty folder, with only the given IPS_* variables."""
    for name in list(os.environ):
        if name.startswith("IPS_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)

    def run(*args: str, **environment: str) -> Result:
        result = CliRunner().invoke(app, ["config", "check", *args], env=environment)
        for secret in SECRETS:
            assert secret not in result.output
        return result

    return run


def _json(result: Result) -> Any:
    return json.loads(result.stdout)


def test_the_defaults_are_consistent(check: Check) -> None:
    result = check()

    assert result.exit_code == 0, result.output
    assert "IPS_ENV_FILE is not set" in result.output
    assert _row(result, "IPS_DATABASE_URL") == ["sqlite:///var/ips.db", "default"]
    assert _row(result, "IPS_TEMPORAL_ADDRESS") == ["localhost:7233", "default"]
    assert _row(result, "IPS_TWILIO_AUTH_TOKEN") == ["not", "set", "default"]
    assert result.output.endswith("No problems: the settings are consistent.\n")


def test_a_production_configuration_passes_and_shows_no_secret(check: Check) -> None:
    result = check(**PRODUCTION)

    assert result.exit_code == 0, result.output
    assert _row(result, "IPS_DATABASE_URL") == [
        "postgresql+psycopg://ips:***@postgresql:5432/ips",
        "environment",
    ]
    assert _row(result, "IPS_ENCRYPTION_KEYS") == [
        "key", "ids", "k2027,", "k2026", "(k2027", "encrypts)", "environment"
    ]  # fmt: skip
    assert _row(result, "IPS_TWILIO_AUTH_TOKEN") == ["****aa", "environment"]
    assert _row(result, "IPS_TOKEN") == ["****cd", "environment"]
    assert _row(result, "IPS_TWILIO_ACCOUNT_SID") == [ACCOUNT_SID, "environment"]


def test_json_lists_every_setting_and_no_problem(check: Check) -> None:
    result = check("--json", **PRODUCTION)

    assert result.exit_code == 0, result.output
    report = _json(result)
    assert report["ok"] is True and report["problems"] == []
    by_variable = {row["variable"]: row for row in report["settings"]}
    assert by_variable["IPS_SENDGRID_API_KEY"] == {
        "variable": "IPS_SENDGRID_API_KEY",
        "value": "****nM",
        "origin": "environment",
        "secret": True,
    }
    assert by_variable["IPS_SMS_SENDER_LABEL"]["value"] == "Riverside Works"
    assert by_variable["IPS_SMS_SENDER_LABEL"]["secret"] is False
    assert by_variable["IPS_APP_URL"]["origin"] == "environment"
    assert by_variable["IPS_SENDGRID_FROM_NAME"] == {
        "variable": "IPS_SENDGRID_FROM_NAME",
        "value": "not set",
        "origin": "default",
        "secret": False,
    }


def test_the_env_file_is_named_and_each_value_says_where_it_came_from(
    check: Check, tmp_path: Path
) -> None:
    env_file = tmp_path / "ips.env"
    env_file.write_text(
        f"IPS_TWILIO_AUTH_TOKEN={AUTH_TOKEN}\nIPS_AGENCY_NAME=From the file\n", encoding="utf-8"
    )

    result = check(
        "--json",
        IPS_ENV_FILE=str(env_file),
        IPS_AGENCY_NAME="From the environment",
        IPS_PUBLIC_URL="http://localhost:8000",
        IPS_TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        IPS_TWILIO_FROM_NUMBER="+15555550199",
    )

    assert result.exit_code == 0, result.output
    report = _json(result)
    assert report["env_file"] == str(env_file)
    origins = {row["variable"]: (row["value"], row["origin"]) for row in report["settings"]}
    assert origins["IPS_TWILIO_AUTH_TOKEN"] == ("****aa", "env file")
    assert origins["IPS_AGENCY_NAME"] == ("From the environment", "environment")
    assert origins["IPS_SENDGRID_API_KEY"] == ("not set", "default")


def test_the_example_env_file_of_docker_compose_is_consistent(check: Check) -> None:
    example = Path(__file__).resolve().parents[2] / "compose.env.example"

    result = check("--json", IPS_ENV_FILE=str(example))

    assert result.exit_code == 0, result.output
    origins = {row["variable"]: row["origin"] for row in _json(result)["settings"]}
    assert origins["IPS_PUBLIC_URL"] == origins["IPS_SMS_SENDER_LABEL"] == "env file"
    assert origins["IPS_TWILIO_AUTH_TOKEN"] == "default"


def test_a_sqlite_database_in_a_folder_to_be_made_by_the_first_command_passes(
    check: Check, tmp_path: Path
) -> None:
    (tmp_path / "data").mkdir()

    assert check(IPS_DATABASE_URL=f"sqlite:///{tmp_path / 'data' / 'ips.db'}").exit_code == 0
    # The default's folder, var/, is made by the first command run here.
    assert not (tmp_path / "var").exists()
    assert check().exit_code == 0


def _policy(tmp_path: Path, text: str) -> str:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


INCONSISTENT: list[tuple[str, Callable[[Path], dict[str, str]], str, str]] = [
    (
        "database URL",
        lambda _: {"IPS_DATABASE_URL": f"postgres ql://ips:{DB_PASSWORD}@db/ips"},
        "IPS_DATABASE_URL",
        "is not a database URL",
    ),
    (
        "database port",
        lambda _: {"IPS_DATABASE_URL": f"postgresql+psycopg://ips:{DB_PASSWORD}@db:70000/ips"},
        "IPS_DATABASE_URL",
        "port 70000 is not between 1 and 65535",
    ),
    (
        "database kind",
        lambda _: {"IPS_DATABASE_URL": f"mysql://ips:{DB_PASSWORD}@db/ips"},
        "IPS_DATABASE_URL",
        "unsupported database URL",
    ),
    (
        "sqlite folder",
        lambda tmp: {"IPS_DATABASE_URL": f"sqlite:///{tmp / 'no-such-folder' / 'ips.db'}"},
        "IPS_DATABASE_URL",
        "no-such-folder of the SQLite database does not exist",
    ),
    (
        "temporal port",
        lambda _: {"IPS_TEMPORAL_ADDRESS": "temporal:99999"},
        "IPS_TEMPORAL_ADDRESS",
        "the port '99999' is not between 1 and 65535",
    ),
    (
        "temporal address",
        lambda _: {"IPS_TEMPORAL_ADDRESS": "temporal"},
        "IPS_TEMPORAL_ADDRESS",
        "'temporal' is not host:port",
    ),
    (
        "missing policy file",
        lambda tmp: {"IPS_POLICY_FILE": str(tmp / "nowhere.yaml")},
        "IPS_POLICY_FILE",
        "nowhere.yaml: cannot be read",
    ),
    (
        "unparsable policy file",
        lambda tmp: {"IPS_POLICY_FILE": _policy(tmp, "first_meeting_days: [7\n")},
        "IPS_POLICY_FILE",
        "is not valid YAML",
    ),
    (
        "unknown policy setting",
        lambda tmp: {"IPS_POLICY_FILE": _policy(tmp, "first_meeting_dayz: 7\n")},
        "IPS_POLICY_FILE",
        "first_meeting_dayz",
    ),
    (
        "agency phone",
        lambda _: {"IPS_AGENCY_PHONE": "555-0100"},
        "IPS_AGENCY_PHONE",
        "is not a phone number in E.164 form",
    ),
    (
        "app URL",
        lambda _: {"IPS_APP_URL": "app.riverside.example"},
        "IPS_APP_URL",
        "is not an absolute http(s) URL",
    ),
    (
        "public URL",
        lambda _: {"IPS_PUBLIC_URL": "ips.riverside.example"},
        "IPS_PUBLIC_URL",
        "is malformed: it must be an absolute http(s) URL",
    ),
    (
        "http public URL",
        lambda _: {"IPS_PUBLIC_URL": "http://ips.riverside.example"},
        "IPS_PUBLIC_URL",
        "is http:// on ips.riverside.example, not on this computer",
    ),
    (
        "unknown notifier",
        lambda _: {"IPS_SMS_NOTIFIER": "pigeon"},
        "IPS_SMS_NOTIFIER",
        "must be 'auto', 'twilio' or 'console'",
    ),
    (
        "twilio chosen without credentials",
        lambda _: {"IPS_SMS_NOTIFIER": "twilio"},
        "IPS_SMS_NOTIFIER",
        "is twilio, but IPS_TWILIO_ACCOUNT_SID and IPS_TWILIO_AUTH_TOKEN are not set",
    ),
    (
        "account SID without token",
        lambda _: {"IPS_TWILIO_ACCOUNT_SID": ACCOUNT_SID},
        "IPS_TWILIO_AUTH_TOKEN",
        "is not set: Twilio needs both an account SID and token",
    ),
    (
        "malformed account SID",
        lambda _: {**TWILIO, "IPS_TWILIO_ACCOUNT_SID": "AC42"},
        "IPS_TWILIO_ACCOUNT_SID",
        "is malformed: it must be 'AC' followed by 32 hexadecimal digits",
    ),
    (
        "twilio sender number",
        lambda _: {
            **{k: v for k, v in TWILIO.items() if "SERVICE" not in k},
            "IPS_PUBLIC_URL": "https://ips.riverside.example",
            "IPS_TWILIO_FROM_NUMBER": "5550100",
        },
        "IPS_TWILIO_FROM_NUMBER",
        "is malformed: it must be an E.164 phone number",
    ),
    (
        "twilio sender without credentials",
        lambda _: {"IPS_TWILIO_FROM_NUMBER": "+15555550199"},
        "IPS_TWILIO_FROM_NUMBER",
        "is set, but IPS_TWILIO_ACCOUNT_SID and IPS_TWILIO_AUTH_TOKEN are not",
    ),
    (
        "twilio webhooks without a public URL",
        lambda _: TWILIO,
        "IPS_PUBLIC_URL",
        "is not set, but IPS_TWILIO_AUTH_TOKEN is",
    ),
    (
        "status callback elsewhere",
        lambda _: {
            **TWILIO,
            "IPS_PUBLIC_URL": "https://ips.riverside.example",
            "IPS_TWILIO_STATUS_CALLBACK_URL": "https://elsewhere.example/webhooks/twilio/status",
        },
        "IPS_TWILIO_STATUS_CALLBACK_URL",
        "is not under IPS_PUBLIC_URL",
    ),
    (
        "sendgrid chosen without a key",
        lambda _: {"IPS_EMAIL_NOTIFIER": "sendgrid"},
        "IPS_EMAIL_NOTIFIER",
        "is sendgrid, but IPS_SENDGRID_API_KEY is not set",
    ),
    (
        "sendgrid key without a sender",
        lambda _: {"IPS_SENDGRID_API_KEY": SENDGRID_API_KEY},
        "IPS_SENDGRID_FROM_EMAIL",
        "is not set: SendGrid needs a sender address",
    ),
    (
        "malformed sendgrid key",
        lambda _: {
            "IPS_SENDGRID_API_KEY": "SG-" + DB_PASSWORD,
            "IPS_SENDGRID_FROM_EMAIL": "reminders@riverside.example",
        },
        "IPS_SENDGRID_API_KEY",
        "is not a SendGrid API key",
    ),
    (
        "sendgrid sender without a key",
        lambda _: {"IPS_SENDGRID_FROM_EMAIL": "reminders@riverside.example"},
        "IPS_SENDGRID_FROM_EMAIL",
        "is set, but IPS_SENDGRID_API_KEY is not: emails are logged, not sent",
    ),
    (
        "sendgrid webhook key",
        lambda _: {"IPS_SENDGRID_WEBHOOK_PUBLIC_KEY": "MFkwEwYHKo" + DB_PASSWORD},
        "IPS_SENDGRID_WEBHOOK_PUBLIC_KEY",
        "is not an elliptic-curve public key",
    ),
    (
        "encryption key without an id",
        lambda _: {"IPS_ENCRYPTION_KEYS": NEWEST_KEY},
        "IPS_ENCRYPTION_KEYS",
        "entry 1: is not of the form `<key id>:<base64 key>`",
    ),
    (
        "short encryption key",
        lambda _: {
            "IPS_ENCRYPTION_KEYS": f"k2027:{NEWEST_KEY},k2026:{base64.b64encode(b'short').decode()}"
        },
        "IPS_ENCRYPTION_KEYS",
        "entry 2 (k2026): the key is 5 bytes long; it must be 32 random bytes",
    ),
    (
        "encryption key not base64",
        lambda _: {"IPS_ENCRYPTION_KEYS": f"k2027:{NEWEST_KEY[:-4]}!!!!"},
        "IPS_ENCRYPTION_KEYS",
        "entry 1 (k2027): the key is not valid base64",
    ),
    (
        "repeated encryption key id",
        lambda _: {"IPS_ENCRYPTION_KEYS": f"k1:{NEWEST_KEY},k1:{OLDER_KEY}"},
        "IPS_ENCRYPTION_KEYS",
        "entry 2 (k1): the key id is entry 1's too",
    ),
    (
        "missing env file",
        lambda tmp: {"IPS_ENV_FILE": str(tmp / "missing.env")},
        "IPS_ENV_FILE",
        "missing.env is not a file",
    ),
]


@pytest.mark.parametrize(
    ("make", "variable", "reason"),
    [case[1:] for case in INCONSISTENT],
    ids=[case[0] for case in INCONSISTENT],
)
def test_each_inconsistency_fails_naming_the_variable_the_reason_and_a_fix(
    check: Check,
    tmp_path: Path,
    make: Callable[[Path], dict[str, str]],
    variable: str,
    reason: str,
) -> None:
    environment = make(tmp_path)

    printed = check(**environment)
    result = check("--json", **environment)

    assert printed.exit_code == result.exit_code == 1, printed.output
    report = _json(result)
    assert report["ok"] is False
    [problem] = [p for p in report["problems"] if p["variable"] == variable]
    assert reason in problem["reason"]
    assert problem["fix"]
    assert f"- {variable}: " in printed.output and reason in printed.output
    assert "Fix: " in printed.output and "Traceback" not in printed.output


def test_all_problems_are_listed_at_once(check: Check) -> None:
    result = check(
        "--json",
        IPS_TEMPORAL_ADDRESS="temporal",
        IPS_AGENCY_PHONE="555-0100",
        IPS_PUBLIC_URL="http://ips.riverside.example",
        IPS_TWILIO_ACCOUNT_SID=ACCOUNT_SID,
    )

    assert result.exit_code == 1
    assert [p["variable"] for p in _json(result)["problems"]] == [
        "IPS_TEMPORAL_ADDRESS",
        "IPS_AGENCY_PHONE",
        "IPS_PUBLIC_URL",
        "IPS_TWILIO_AUTH_TOKEN",
    ]


def test_console_notifiers_ignore_half_set_provider_settings(check: Check) -> None:
    result = check(
        IPS_SMS_NOTIFIER="console",
        IPS_TWILIO_FROM_NUMBER="+15555550199",
        IPS_EMAIL_NOTIFIER="console",
        IPS_SENDGRID_FROM_EMAIL="reminders@riverside.example",
    )

    assert result.exit_code == 0, result.output


def _row(result: Result, variable: str) -> list[str]:
    [line] = [line for line in result.stdout.splitlines() if line.split()[:1] == [variable]]
    return line.split()[1:]
