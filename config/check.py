"""Whether the settings fit together, for `ips config check`.

Each problem names the variable, why it is wrong and how to fix it; none shows
a secret. The provider and webhook settings are judged by the very code that
builds the notifiers and the webhooks at start-up, so the check and the start-up
never disagree; on top of that come what start-up lets pass but is still wrong
(a half-configured provider, an http:// public address, a missing folder).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args
from urllib.parse import urlsplit

from pydantic import SecretStr
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from api.codec import parse_ui_origins
from api.webhooks import SENDGRID_KEY_SETTING, sendgrid_key
from codec import KeyRingError, parse_key_ring
from config.settings import ENV_FILE_VARIABLE, LoadedSettings, Settings
from notifiers import sendgrid_email, twilio_sms
from notifiers.router import email_notifier_from_settings, sms_notifier_from_settings
from rules.policy import PolicyError, load_policy_file
from service.people import check_phone
from store import Store, StoreError

DATABASE_URL = Settings.variable("database_url")
TEMPORAL_ADDRESS = Settings.variable("temporal_address")
POLICY_FILE = Settings.variable("policy_file")
AGENCY_PHONE = Settings.variable("agency_phone")
APP_URL = Settings.variable("app_url")
ENCRYPTION_KEYS = Settings.variable("encryption_keys")
PUBLIC_URL = twilio_sms.PUBLIC_URL_SETTING

# Hosts an http:// public address may name: this computer only.
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_NAMED = re.compile(r"IPS_[A-Z0-9_]+")
# How a start-up error begins when it names its variable:
# "IPS_TWILIO_ACCOUNT_SID (account_sid) is malformed: ...".
_LEADING_NAME = re.compile(r"(IPS_[A-Z0-9_]+)(?: \([a-z_]+\))? (?=\w)")


@dataclass(frozen=True)
class Problem:
    variable: str
    reason: str
    fix: str


@dataclass(frozen=True)
class Shown:
    """One setting as `ips config check` prints it: a secret's value is masked."""

    variable: str
    value: str
    origin: str
    secret: bool


def unreadable(problems: list[tuple[str, str]]) -> list[Problem]:
    """The problems of settings that could not be read at all (`SettingsError`)."""
    return [
        Problem(
            variable,
            reason,
            "name an existing, readable env file, or unset it"
            if variable == ENV_FILE_VARIABLE
            else "give one of the values named, or unset it for the default",
        )
        for variable, reason in problems
    ]


def problems(settings: Settings) -> list[Problem]:
    """Everything wrong with `settings`, in the order of the settings."""
    return [
        *_database(settings),
        *_temporal(settings),
        *_policy(settings),
        *_agency(settings),
        *_public_url(settings),
        *_sms(settings),
        *_email(settings),
        *_webhooks(settings),
        *_encryption(settings),
        *_codec_origins(settings),
    ]


def shown(loaded: LoadedSettings) -> list[Shown]:
    """Every setting with its value (secrets masked) and where the value came from."""
    settings = loaded.settings
    rows = []
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if name == "database_url":
            text = _database_shown(settings.database())
        elif name == "encryption_keys":
            text = _keys_shown(value)
        else:
            text = _shown(value)
        rows.append(
            Shown(
                variable=Settings.variable(name),
                value=text,
                origin=loaded.origins[name],
                secret=_is_secret(name),
            )
        )
    return rows


def encryption_key_ids(value: str) -> list[str]:
    """The key ids of IPS_ENCRYPTION_KEYS, newest first, read by the codec's own
    parser (`codec.parse_key_ring`), so the check and the workers read the keys
    alike. Its KeyRingError (a ValueError) names the entry at fault, never a key."""
    return [key.id for key in parse_key_ring(value).keys]


def _database(settings: Settings) -> list[Problem]:
    url = settings.database()
    fix = "write it as sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB"
    try:
        parsed = make_url(url)
        port = parsed.port
    except (ArgumentError, ValueError):
        # Not quoted: a mistyped URL may still hold a password.
        return [Problem(DATABASE_URL, "is not a database URL", fix)]
    if port is not None and not 1 <= port <= 65535:
        return [Problem(DATABASE_URL, f"its port {port} is not between 1 and 65535", fix)]
    folder = _sqlite_folder(parsed)
    if folder is not None and not folder.is_dir():
        if settings.database_url is None:
            # The default's folder (var/) is made by the first command run here.
            return []
        return [
            Problem(
                DATABASE_URL,
                f"the folder {folder} of the SQLite database does not exist, so a new, empty "
                "database would be made there",
                "correct the path, or create (or mount) the folder if it is meant to be new",
            )
        ]
    if folder is not None and not os.access(folder, os.W_OK):
        return [
            Problem(
                DATABASE_URL,
                f"this user cannot write in the folder {folder} of the SQLite database",
                "give this user write access to the folder, or choose another one",
            )
        ]
    try:
        Store(url).dispose()
    except StoreError as err:
        return [Problem(DATABASE_URL, str(err), fix)]
    return []


def _sqlite_folder(url: URL) -> Path | None:
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).parent


def _temporal(settings: Settings) -> list[Problem]:
    address = settings.temporal_address
    fix = "write it as host:port, like localhost:7233 or temporal:7233"
    host, colon, port = address.rpartition(":")
    if not colon or not host or "/" in address:
        return [Problem(TEMPORAL_ADDRESS, f"{address!r} is not host:port", fix)]
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        return [Problem(TEMPORAL_ADDRESS, f"the port {port!r} is not between 1 and 65535", fix)]
    return []


def _policy(settings: Settings) -> list[Problem]:
    if settings.policy_file is None:
        return []
    try:
        load_policy_file(settings.policy_file)
    except PolicyError as err:
        return [
            Problem(
                POLICY_FILE,
                str(err),
                "correct the file (`ips policy show FILE` checks it), or unset "
                f"{POLICY_FILE} for the default policy",
            )
        ]
    return []


def _agency(settings: Settings) -> list[Problem]:
    found = []
    try:
        check_phone(settings.agency_phone)
    except ValueError as err:
        found.append(
            Problem(
                AGENCY_PHONE, str(err), "write the number with its country code, like +15555550123"
            )
        )
    if settings.app_url is not None and not _absolute(settings.app_url):
        found.append(
            Problem(
                APP_URL,
                "is not an absolute http(s) URL",
                "write the app's address with its scheme and host, like https://ips.example.org",
            )
        )
    return found


def _public_url(settings: Settings) -> list[Problem]:
    fix = "write the API's address as Twilio calls it, like https://ips.example.org"
    try:
        base = twilio_sms.public_url(settings)
    except ValueError as err:
        return [Problem(PUBLIC_URL, str(err), fix)]
    if base is None:
        return []
    parts = urlsplit(base)
    if parts.scheme != "https" and parts.hostname not in _LOCAL_HOSTS:
        return [
            Problem(
                PUBLIC_URL,
                f"is http:// on {parts.hostname}, not on this computer: the providers' signed "
                "requests and the calendar feeds' tokens would cross the network unencrypted",
                "serve the API behind a TLS proxy and give its https:// address "
                "(http:// is for localhost only)",
            )
        ]
    return []


def _sms(settings: Settings) -> list[Problem]:
    if settings.sms_notifier == "console":
        return []
    try:
        sms = sms_notifier_from_settings(settings)
    except ValueError as err:
        return [
            _named(
                err,
                twilio_sms.ACCOUNT_SID_SETTING,
                "correct it, or unset the IPS_TWILIO_* settings and choose "
                "IPS_SMS_NOTIFIER=console to only log texts",
            )
        ]
    if sms is None:
        return _stray(
            settings,
            ["twilio_messaging_service_sid", "twilio_from_number", "twilio_status_callback_url"],
            f"{twilio_sms.ACCOUNT_SID_SETTING} and {twilio_sms.AUTH_TOKEN_SETTING} are not: "
            "texts are logged, not sent",
        )
    callback = settings.twilio_status_callback_url
    base = twilio_sms.public_url(settings)
    if callback is not None and base is not None and not callback.startswith(base + "/"):
        return [
            Problem(
                twilio_sms.STATUS_CALLBACK_SETTING,
                f"is not under {PUBLIC_URL}: the API checks Twilio's signature against "
                f"{PUBLIC_URL} and the path, so every delivery report would be refused",
                f"unset it (reports then go to {PUBLIC_URL}{twilio_sms.STATUS_CALLBACK_PATH}), "
                f"or give a URL under {PUBLIC_URL}",
            )
        ]
    return []


def _email(settings: Settings) -> list[Problem]:
    if settings.email_notifier == "console":
        return []
    try:
        email = email_notifier_from_settings(settings)
    except ValueError as err:
        return [
            _named(
                err,
                sendgrid_email.API_KEY_SETTING,
                "correct it, or unset the IPS_SENDGRID_* settings and choose "
                "IPS_EMAIL_NOTIFIER=console to only log emails",
            )
        ]
    if email is None:
        return _stray(
            settings,
            ["sendgrid_from_email", "sendgrid_from_name", "sendgrid_host"],
            f"{sendgrid_email.API_KEY_SETTING} is not: emails are logged, not sent",
        )
    return []


def _stray(settings: Settings, fields: list[str], consequence: str) -> list[Problem]:
    """A provider's setting given while its credentials are not: half a configuration."""
    return [
        Problem(
            Settings.variable(name),
            f"is set, but {consequence}",
            "set the provider's credentials too, or unset this one",
        )
        for name in fields
        if getattr(settings, name) is not None
    ]


def _webhooks(settings: Settings) -> list[Problem]:
    found = []
    if settings.sendgrid_webhook_public_key is not None:
        try:
            sendgrid_key(settings.sendgrid_webhook_public_key.get_secret_value())
        except ValueError as err:
            found.append(
                Problem(
                    SENDGRID_KEY_SETTING,
                    str(err),
                    "copy the verification key again from SendGrid's Event Webhook settings",
                )
            )
    if settings.twilio_auth_token is not None and settings.public_url is None:
        found.append(
            Problem(
                PUBLIC_URL,
                f"is not set, but {twilio_sms.AUTH_TOKEN_SETTING} is: Twilio's webhooks (the "
                "texts consumers send, such as STOP, and the delivery reports) refuse every "
                f"request without {PUBLIC_URL}",
                "set it to the https:// address Twilio reaches the API at (README, Webhooks)",
            )
        )
    return found


def _encryption(settings: Settings) -> list[Problem]:
    if settings.encryption_keys is None:
        return []
    try:
        encryption_key_ids(settings.encryption_keys.get_secret_value())
    except KeyRingError as err:
        where = f"entry {err.entry}" + (f" ({err.key_id})" if err.key_id else "") + ": "
        return [
            Problem(
                ENCRYPTION_KEYS,
                (where if err.entry is not None else "") + err.reason,
                "write <key id>:<base64 of 32 random bytes>, several separated by commas, "
                "newest first (`ips keys new` makes one)",
            )
        ]
    return []


def _codec_origins(settings: Settings) -> list[Problem]:
    try:
        parse_ui_origins(settings.codec_ui_origins or "")
    except ValueError as err:
        return [
            _named(
                err,
                Settings.variable("codec_ui_origins"),
                "write the Temporal web pages' origins, such as "
                "https://temporal.example.org, separated by commas (no path)",
            )
        ]
    return []


def _named(err: ValueError, default: str, fix: str) -> Problem:
    """A start-up error as a problem, of the variable its message names first."""
    message = str(err)
    leading = _LEADING_NAME.match(message)
    if leading:
        return Problem(leading.group(1), message[leading.end() :], fix)
    named = _NAMED.search(message)
    return Problem(named.group() if named else default, message, fix)


def _absolute(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _is_secret(name: str) -> bool:
    annotation = Settings.model_fields[name].annotation
    return annotation is SecretStr or SecretStr in get_args(annotation)


def _shown(value: Any) -> str:
    if value is None:
        return "not set"
    if isinstance(value, SecretStr):
        return _masked(value.get_secret_value())
    return str(value)


def _masked(secret: str) -> str:
    # The last two characters tell two secrets apart; of a short one, nothing.
    return "****" + secret[-2:] if len(secret) >= 16 else "****"


def _database_shown(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "**** (not a database URL)"


def _keys_shown(keys: SecretStr | None) -> str:
    if keys is None:
        return "not set"
    try:
        ids = encryption_key_ids(keys.get_secret_value())
    except ValueError:
        return "**** (malformed)"
    return f"key ids {', '.join(ids)} ({ids[0]} encrypts)"
