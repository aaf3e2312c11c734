"""The events of SPEC §4, with their exact field names.

An event reaches the journey as an `EventEnvelope` (the wire shape: common
fields plus a `fields` mapping). `parse_event` turns it into one of the typed
models below or raises `EventError` naming the field and the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError


class EventError(ValueError):
    """An event that cannot be recorded. `field` names the offending field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass
class EventEnvelope:
    """An event as sent to a journey. `at` is ISO 8601; without an offset it is
    the consumer's local time."""

    event_id: str
    type: str
    at: str
    consumer: str | None = None
    recorded_by: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)


NonEmpty = Annotated[str, Field(min_length=1)]

# Dates a journey can compute with: beyond these, date arithmetic (a year of
# follow-along, the time-zone conversion) would overflow inside the workflow.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2999


def _in_range(value: date) -> date:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"must be a date between the years {EARLIEST_YEAR} and {LATEST_YEAR}")
    return value


Moment = Annotated[datetime, AfterValidator(_in_range)]
Day = Annotated[date, AfterValidator(_in_range)]


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    event_id: NonEmpty
    at: Moment
    consumer: str | None = None
    recorded_by: str | None = None


class Referred(_Event):
    type: Literal["referred"]


class FirstMeeting(_Event):
    type: Literal["first_meeting"]


class Contact(_Event):
    type: Literal["contact"]
    method: Literal["face_to_face", "phone", "video", "text"]
    place: Literal["community", "office", "home"] | None = None
    by: str | None = None


class EmployerContact(_Event):
    type: Literal["employer_contact"]
    specialist: NonEmpty
    employer: NonEmpty
    face_to_face: bool


class VocationalProfileCompleted(_Event):
    type: Literal["vocational_profile_completed"]


class BenefitsPlanningOffered(_Event):
    type: Literal["benefits_planning_offered"]


class AppointmentScheduled(_Event):
    type: Literal["appointment_scheduled"]
    appointment_id: NonEmpty
    start: Moment
    duration_minutes: Annotated[int, Field(gt=0, le=24 * 60)]
    place: NonEmpty


class AppointmentCancelled(_Event):
    type: Literal["appointment_cancelled"]
    appointment_id: NonEmpty


class JobStarted(_Event):
    type: Literal["job_started"]
    job_id: NonEmpty
    employer: NonEmpty
    title: NonEmpty
    start_date: Day
    hours_per_week: Annotated[float, Field(gt=0, le=168)]
    hourly_wage: Annotated[float, Field(ge=0)]
    competitive: bool


class JobChanged(_Event):
    type: Literal["job_changed"]
    job_id: NonEmpty
    hours_per_week: Annotated[float, Field(gt=0, le=168)] | None = None
    hourly_wage: Annotated[float, Field(ge=0)] | None = None


class JobEnded(_Event):
    type: Literal["job_ended"]
    job_id: NonEmpty
    end_date: Day
    reason: str | None = None


class OutreachAttempt(_Event):
    type: Literal["outreach_attempt"]
    by: NonEmpty
    role: NonEmpty
    method: Literal["phone", "text", "letter", "home_visit", "community_visit", "family"]
    reached: bool


class StepDownDecision(_Event):
    type: Literal["step_down_decision"]
    job_id: NonEmpty
    decision: Literal["transition", "continue"]


class ServicesDeclined(_Event):
    type: Literal["services_declined"]
    reason: str | None = None


class Reassigned(_Event):
    type: Literal["reassigned"]
    specialist: NonEmpty


class SmsConsentRecorded(_Event):
    type: Literal["sms_consent_recorded"]
    disclosure_version: NonEmpty


class SmsReply(_Event):
    type: Literal["sms_reply"]
    body: str


Event = Annotated[
    (
        Referred
        | FirstMeeting
        | Contact
        | EmployerContact
        | VocationalProfileCompleted
        | BenefitsPlanningOffered
        | AppointmentScheduled
        | AppointmentCancelled
        | JobStarted
        | JobChanged
        | JobEnded
        | OutreachAttempt
        | StepDownDecision
        | ServicesDeclined
        | Reassigned
        | SmsConsentRecorded
        | SmsReply
    ),
    Field(discriminator="type"),
]

EVENT_TYPES: tuple[str, ...] = (
    "referred",
    "first_meeting",
    "contact",
    "employer_contact",
    "vocational_profile_completed",
    "benefits_planning_offered",
    "appointment_scheduled",
    "appointment_cancelled",
    "job_started",
    "job_changed",
    "job_ended",
    "outreach_attempt",
    "step_down_decision",
    "services_declined",
    "reassigned",
    "sms_consent_recorded",
    "sms_reply",
)

_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def parse_event(envelope: EventEnvelope) -> Event:
    """The typed event, or `EventError` naming the first bad field."""
    if envelope.type not in EVENT_TYPES:
        raise EventError("type", f"unknown event type {envelope.type!r}")
    reserved = {"event_id", "type", "at", "consumer", "recorded_by"} & set(envelope.fields)
    if reserved:
        raise EventError(sorted(reserved)[0], "is a common event field, not a type field")
    data = {
        "event_id": envelope.event_id,
        "type": envelope.type,
        "at": envelope.at,
        "consumer": envelope.consumer,
        "recorded_by": envelope.recorded_by,
        **envelope.fields,
    }
    try:
        event = _ADAPTER.validate_python(data)
    except ValidationError as err:
        first = err.errors()[0]
        loc = [str(p) for p in first["loc"] if str(p) != envelope.type]
        name = ".".join(loc) or "event"
        reason = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            reason = f"is not a field of {envelope.type} events"
        elif first["type"] == "missing":
            reason = f"is required for {envelope.type} events"
        raise EventError(name, reason) from None
    if isinstance(event, JobChanged) and event.hours_per_week is None and event.hourly_wage is None:
        raise EventError("hours_per_week", "job_changed needs hours_per_week and/or hourly_wage")
    return event


def event_fields(event: Event) -> dict[str, Any]:
    """The type-specific fields of an event, JSON-ready (for the audit trail)."""
    common = {"event_id", "type", "at", "consumer", "recorded_by"}
    return {k: v for k, v in event.model_dump(mode="json").items() if k not in common}
