"""The agency policy: every number in SPEC §5–7, with the SPEC's defaults.

An agency overrides any of them in a policy file (YAML or JSON mapping). The
file is validated strictly: an unknown key or a bad value is a `PolicyError`
that names the key and the reason.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ConfigDict, TypeAdapter, ValidationError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


_CLOCK_SETTINGS = (
    "reminder_time",
    "sms_send_window_start",
    "sms_send_window_end",
    "digest_time",
    "weekly_digest_time",
    "employer_contacts_nudge_time",
    "caseload_check_time",
)


class PolicyError(ValueError):
    """A policy file or override that cannot be used."""


@dataclass(frozen=True)
class Policy:
    version: str = "2026-11-default"

    # Section 5: due-contact windows, in days unless the name says otherwise.
    first_meeting_days: int = 7
    first_employer_contact_days: int = 30
    vocational_profile_days: int = 30
    benefits_planning_after_start_days: int = 7
    benefits_planning_job_changed_days: int = 14
    pre_start_days: int = 7
    post_start_days: int = 3
    weekly_follow_along_weeks: int = 4
    monthly_follow_along_anchor_days: int = 28
    step_down_review_months: int = 12
    step_down_review_window_days: int = 30
    job_loss_contact_days: int = 3
    vocational_profile_update_days: int = 30
    outreach_weekly_attempts: int = 4
    outreach_weekly_interval_days: int = 7
    outreach_later_interval_days: int = 30
    outreach_attempts_before_treatment_team: int = 2

    # Section 6: staff reminders.
    reminder_time: str = "08:00"
    working_days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    due_soon_days: int = 2

    # Sections 1 and 6: agency sweeps (digests, the employer-contact nudge, the
    # caseload check), each at a local clock time of its recipient.
    digest_time: str = "07:30"
    # A missed due contact stays in the daily digest's "overdue" this many days.
    digest_overdue_days: int = 14
    weekly_digest_day: str = "mon"
    weekly_digest_time: str = "08:00"
    employer_contacts_weekly_target: int = 6
    employer_contacts_nudge_day: str = "thu"
    employer_contacts_nudge_time: str = "12:00"
    employer_contacts_nudge_below: int = 3
    caseload_limit_per_fte: int = 20
    caseload_check_time: str = "02:00"

    # Section 7: consumer texts.
    appointment_reminder_offsets_hours: tuple[float, ...] = (24.0,)
    sms_send_window_start: str = "08:00"
    sms_send_window_end: str = "20:00"
    appointment_reminder_min_lead_minutes: int = 60
    send_own_stop_reply: bool = False

    __pydantic_config__ = ConfigDict(extra="forbid", strict=False)

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.type == "int" and value < 0:
                raise PolicyError(f"{f.name}: must be 0 or more, got {value}")
        for name in ("first_meeting_days", "weekly_follow_along_weeks", "step_down_review_months"):
            if getattr(self, name) < 1:
                raise PolicyError(f"{name}: must be at least 1")
        for name in ("outreach_weekly_interval_days", "outreach_later_interval_days"):
            if getattr(self, name) < 1:
                raise PolicyError(f"{name}: must be at least 1 day")
        if not self.working_days:
            raise PolicyError("working_days: at least one working day is needed")
        for day in self.working_days:
            if day not in WEEKDAYS:
                raise PolicyError(f"working_days: {day!r} is not one of {', '.join(WEEKDAYS)}")
        for name in _CLOCK_SETTINGS:
            _parse_clock(name, getattr(self, name))
        for name in ("weekly_digest_day", "employer_contacts_nudge_day"):
            if getattr(self, name) not in WEEKDAYS:
                raise PolicyError(
                    f"{name}: {getattr(self, name)!r} is not one of {', '.join(WEEKDAYS)}"
                )
        if _parse_clock("sms_send_window_end", self.sms_send_window_end) <= _parse_clock(
            "sms_send_window_start", self.sms_send_window_start
        ):
            raise PolicyError("sms_send_window_end: must be later than sms_send_window_start")
        for hours in self.appointment_reminder_offsets_hours:
            if hours <= 0:
                raise PolicyError("appointment_reminder_offsets_hours: offsets must be positive")

    @property
    def working_weekdays(self) -> frozenset[int]:
        return frozenset(WEEKDAYS.index(d) for d in self.working_days)

    @property
    def reminder_minutes(self) -> int:
        return _parse_clock("reminder_time", self.reminder_time)

    def clock(self, name: str) -> tuple[int, int]:
        """(hour, minute) of one of the "HH:MM" settings, e.g. `digest_time`."""
        return divmod(_parse_clock(name, getattr(self, name)), 60)

    @property
    def sms_window_minutes(self) -> tuple[int, int]:
        return (
            _parse_clock("sms_send_window_start", self.sms_send_window_start),
            _parse_clock("sms_send_window_end", self.sms_send_window_end),
        )


def _parse_clock(name: str, value: str) -> int:
    """Minutes after midnight of an "HH:MM" setting."""
    try:
        hours, minutes = value.split(":")
        h, m = int(hours), int(minutes)
    except (ValueError, AttributeError):
        raise PolicyError(f"{name}: {value!r} is not a time of day like 08:00") from None
    if not (0 <= h <= 24 and 0 <= m < 60) or (h == 24 and m != 0):
        raise PolicyError(f"{name}: {value!r} is not a time of day like 08:00")
    return h * 60 + m


_ADAPTER = TypeAdapter(Policy)


def load_policy(overrides: dict[str, Any] | None) -> Policy:
    """The default policy with an agency's overrides applied and validated."""
    if not overrides:
        return Policy()
    if not isinstance(overrides, dict):
        raise PolicyError("policy: must be a mapping of setting names to values")
    known = {f.name for f in dataclasses.fields(Policy)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        close = difflib.get_close_matches(str(unknown[0]), known, n=1)
        hint = f"did you mean {close[0]!r}?" if close else "`ips policy show` lists them"
        raise PolicyError(f"policy: unknown setting {unknown[0]!r}; {hint}")
    if "version" not in overrides:
        # A journey records the policy version it runs on: an agency's own numbers
        # get a version of their own, the same for the same numbers.
        digest = hashlib.sha256(json.dumps(overrides, sort_keys=True, default=str).encode())
        overrides = {**overrides, "version": f"custom-{digest.hexdigest()[:12]}"}
    try:
        return _ADAPTER.validate_python(overrides)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        if not where:
            # Raised by Policy.__post_init__, whose message starts with the key.
            raise PolicyError(f"policy.{message}") from None
        raise PolicyError(f"policy.{where}: {message}") from None


def load_policy_file(path: Path) -> Policy:
    """The policy in a YAML (or JSON) file of overrides; an empty file means the defaults."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise PolicyError(f"{path}: cannot be read ({err.strerror})") from None
    except yaml.YAMLError as err:
        raise PolicyError(f"{path}: is not valid YAML: {err}") from None
    try:
        return load_policy(data)
    except PolicyError as err:
        raise PolicyError(f"{path}: {err}") from None


def policy_fields() -> list[str]:
    return [f.name for f in dataclasses.fields(Policy)]


__all__ = ["WEEKDAYS", "Policy", "PolicyError", "load_policy", "load_policy_file", "policy_fields"]
