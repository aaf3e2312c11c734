"""Every setting of IPS journeys, declared once: its IPS_* variable, its type,
its default and what it is for.

`load_settings()` reads them when it is called (never at import), from the
environment and from the env file that IPS_ENV_FILE names, if any; a variable
of the environment wins over the same one in the file, and an empty value is
no value. Secrets are `SecretStr`: printed or logged, they show as stars.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from dotenv import dotenv_values
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUseDefault
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

ENV_PREFIX = "IPS_"
ENV_FILE_VARIABLE = "IPS_ENV_FILE"
DEFAULT_DATABASE_URL = "sqlite:///var/ips.db"
DEFAULT_TEMPORAL_ADDRESS = "localhost:7233"
DEFAULT_SENDER_LABEL = "Your employment team"
# The link in staff reminders when IPS_APP_URL is not set.
DEFAULT_APP_URL = "http://127.0.0.1:8000"

# Where a setting's value came from, as `ips config check` shows it.
ENVIRONMENT = "environment"
ENV_FILE = "env file"
DEFAULT = "default"


class SettingsError(ValueError):
    """Settings that cannot be read: each of `problems` is (variable, reason)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{variable}: {reason}" for variable, reason in problems))


class Settings(BaseSettings):
    """The settings; build them with `load_settings()`. Each description ends with
    what an unset optional setting means ("Unset: ..."), as README's table shows."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    env_file: Path | None = Field(
        None,
        description="An env file (`NAME=value` lines) to read settings from; a variable set "
        "in the environment wins over the file's. Read from the environment only. "
        "Unset: no file is read",
    )
    database_url: SecretStr | None = Field(
        None,
        description="The app database, as a SQLAlchemy URL "
        f"(`postgresql+psycopg://user:password@host/db`). Unset: `{DEFAULT_DATABASE_URL}`; "
        "for `ips up`, `ips.db` in its data folder (the same when run in this folder)",
    )
    temporal_address: str = Field(
        DEFAULT_TEMPORAL_ADDRESS,
        description="The Temporal server (`host:port`) that commands other than `ips up` "
        "connect to",
    )
    token: SecretStr | None = Field(
        None,
        description="The staff token of the person typing `ips` commands (same as `--token`). "
        "Unset: the operator of the server, who sees everything",
    )
    policy_file: Path | None = Field(
        None,
        description="The agency's policy file (YAML, see `ips policy show FILE`) for the "
        "journeys and sweeps. Unset: the defaults",
    )
    sms_sender_label: str = Field(
        DEFAULT_SENDER_LABEL,
        description='The name every text to a consumer starts with ("Reminder from '
        'Wellspring Works: ..."), and the start of the HELP reply. Choose a plain name: it is '
        "read on a phone's lock screen, so no diagnosis, program or clinical word",
    )
    agency_name: str | None = Field(
        None,
        description="The agency's legal name. Kept apart from the sender label: no text or "
        "email carries it",
    )
    agency_phone: str | None = Field(
        None,
        description="The phone number (E.164, `+15555550123`) the HELP reply tells consumers "
        "to call. Unset: the HELP reply gives no number",
    )
    app_url: str | None = Field(
        None,
        description="The address of the app, for the link in every staff reminder "
        f"(`<url>/consumers/<case id>`) and in calendar feeds. Unset: `{DEFAULT_APP_URL}` in "
        "reminders, no link in feeds",
    )
    public_url: str | None = Field(
        None,
        description="The API's address as Twilio and SendGrid call it, behind any proxy "
        "(`https://ips.example.org`, or with the proxy's path, `https://example.org/ips`); "
        "also that of the calendar feeds' URLs (see Webhooks). Unset: the Twilio webhooks "
        "refuse every request; feed URLs are under `http://127.0.0.1:8000`",
    )
    sms_notifier: Literal["auto", "twilio", "console"] = Field(
        "auto",
        description="Where texts go: `twilio` (its settings must be set), `console` (logged, "
        "never sent), or `auto`: Twilio when its account SID and token are set, else the "
        "console",
    )
    twilio_account_sid: str | None = Field(
        None,
        description="The Twilio account SID (`AC` and 32 hexadecimal digits). Unset (with "
        "the auth token): texts are logged, not sent",
    )
    twilio_auth_token: SecretStr | None = Field(
        None,
        description="The Twilio account's auth token: texts are sent with it, and Twilio signs "
        "its webhook requests with it. Unset: the Twilio webhooks refuse every request",
    )
    twilio_messaging_service_sid: str | None = Field(
        None,
        description="The Messaging Service texts are sent through (`MG...`); set this or "
        "`IPS_TWILIO_FROM_NUMBER`, not both",
    )
    twilio_from_number: str | None = Field(
        None,
        description="The number texts are sent from (E.164); set this or "
        "`IPS_TWILIO_MESSAGING_SERVICE_SID`, not both",
    )
    twilio_status_callback_url: str | None = Field(
        None,
        description="The status URL Twilio is told, when it is not `IPS_PUBLIC_URL` + "
        "`/webhooks/twilio/status`; it must still reach the API under `IPS_PUBLIC_URL`",
    )
    twilio_base_url: str | None = Field(
        None,
        description="Another address for Twilio's API, such as a local fake for tests. "
        "Unset: `https://api.twilio.com`",
    )
    email_notifier: Literal["auto", "sendgrid", "console"] = Field(
        "auto",
        description="Where emails go: `sendgrid` (its settings must be set), `console` "
        "(logged, never sent), or `auto`: SendGrid when its API key is set, else the console",
    )
    sendgrid_api_key: SecretStr | None = Field(
        None,
        description="The SendGrid API key (`SG.<key id>.<secret>`) emails are sent with. "
        "Unset: emails are logged, not sent",
    )
    sendgrid_from_email: str | None = Field(
        None, description="The verified sender address of every email (needed with the key)"
    )
    sendgrid_from_name: str | None = Field(None, description="The sender name of every email")
    sendgrid_host: str | None = Field(
        None,
        description="Another address for SendGrid's API, such as a local fake for tests. "
        "Unset: `https://api.sendgrid.com`",
    )
    sendgrid_webhook_public_key: SecretStr | None = Field(
        None,
        description="The Event Webhook's verification key, as SendGrid shows it (base64). "
        "Unset: the SendGrid webhook refuses every request",
    )
    encryption_keys: SecretStr | None = Field(
        None,
        description="The keys that encrypt what Temporal stores of each journey: "
        "`<key id>:<base64 of 32 bytes>`, several separated by commas, newest (the one that "
        "encrypts) first (`ips keys new` makes one). Unset: payloads are stored as they are",
    )
    codec_ui_origins: str | None = Field(
        None,
        description="The Temporal web pages (origins such as `https://temporal.example.org`, "
        "comma-separated) that may call the API's codec server from a browser. "
        "Unset: the web page of `ips up`, `http://127.0.0.1:8233` and `http://localhost:8233`",
    )

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        # As the commands have always read the environment: spaces around a value
        # are not part of it, and an empty variable is an unset one.
        if isinstance(value, str):
            value = value.strip()
            if not value:
                raise PydanticUseDefault()
        return value

    def database(self, default: str = DEFAULT_DATABASE_URL) -> str:
        """The app database's URL, password included: IPS_DATABASE_URL, else `default`."""
        return self.database_url.get_secret_value() if self.database_url else default

    @staticmethod
    def variable(field: str) -> str:
        """The environment variable of a setting: `database_url` is IPS_DATABASE_URL."""
        return ENV_PREFIX + field.upper()


@dataclass(frozen=True)
class LoadedSettings:
    """The settings and, for each one, where its value came from."""

    settings: Settings
    origins: Mapping[str, str]
    env_file: Path | None


class _Variables(PydanticBaseSettingsSource):
    """The settings among some variables: the environment's, or an env file's."""

    def __init__(self, settings_cls: type[BaseSettings], variables: Mapping[str, str | None]):
        super().__init__(settings_cls)
        # As the shell has it: variable names are written in capitals.
        self._variables = {name.upper(): value for name, value in variables.items()}

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        name = Settings.variable(field_name)
        return self._variables.get(name), name, False

    def __call__(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for field_name, field in self.settings_cls.model_fields.items():
            value, _, _ = self.get_field_value(field, field_name)
            if value is not None and value.strip():
                found[field_name] = value
        return found


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings of `environ` (by default the process's environment) and of the
    env file it names. SettingsError names each variable that cannot be read."""
    return load_with_origins(environ).settings


def load_with_origins(environ: Mapping[str, str] | None = None) -> LoadedSettings:
    """As `load_settings`, with where each value came from (`ips config check`)."""
    if environ is None:
        environ = os.environ
    env_file = _env_file(environ)
    sources = [_Variables(Settings, environ)]
    if env_file is not None:
        sources.append(_Variables(Settings, _read_env_file(env_file)))
    try:
        settings = Settings(_build_sources=(tuple(sources), {}))
    except ValidationError as err:
        raise SettingsError(
            [
                (Settings.variable(str(error["loc"][0])), _reason(error["msg"]))
                for error in err.errors(include_input=False, include_url=False)
            ]
        ) from None
    origins = dict.fromkeys(Settings.model_fields, DEFAULT)
    for source, origin in reversed(list(zip(sources, (ENVIRONMENT, ENV_FILE), strict=False))):
        origins.update(dict.fromkeys(source(), origin))
    return LoadedSettings(settings=settings, origins=origins, env_file=env_file)


def _env_file(environ: Mapping[str, str]) -> Path | None:
    named = environ.get(ENV_FILE_VARIABLE, "").strip()
    if not named:
        return None
    path = Path(named).expanduser()
    if not path.is_file():
        raise SettingsError([(ENV_FILE_VARIABLE, f"{path} is not a file")])
    return path


def _read_env_file(path: Path) -> dict[str, str | None]:
    try:
        return dotenv_values(path, encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise SettingsError(
            [(ENV_FILE_VARIABLE, f"{path} cannot be read ({type(err).__name__})")]
        ) from None


def _reason(message: str) -> str:
    # pydantic's "Input should be 'auto', 'twilio' or 'console'", for a variable.
    return message.replace("Input should be", "must be", 1)
