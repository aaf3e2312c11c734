"""What the store takes and gives back: plain dataclasses, never ORM objects.

Every datetime handed in must carry a time zone; every datetime handed back
is aware and in UTC. Dates are calendar dates in the consumer's time zone,
as the rules compute them.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

CHANNELS = frozenset({"sms", "email"})
SMS_CONSENT_STATES = frozenset({"none", "pending", "opted_in", "opted_out"})
DUE_CONTACT_STATUSES = frozenset({"open", "done", "missed", "cancelled", "not_applicable"})
NOTIFICATION_STATUSES = frozenset(
    {
        "pending",
        # Handed to the provider by an attempt that has not recorded its answer
        # (or that died before it could): never handed over again.
        "sending",
        "sent",
        "skipped_no_consent",
        "skipped_too_late",
        "failed",
        "delivered",
        "undelivered",
    }
)
# How far a message has got once its provider took it. A provider's report moves
# an outbox row forward only: an earlier or repeated report changes nothing.
# Statuses not named here (pending, skipped_*) are before the provider took it.
DELIVERY_PROGRESS = {"sent": 1, "delivered": 2, "undelivered": 2, "failed": 2}


@dataclass(frozen=True)
class SupervisorRecord:
    id: str
    name: str
    email: str
    timezone: str
    phone: str | None = None


@dataclass(frozen=True)
class SpecialistRecord:
    id: str
    name: str
    email: str
    timezone: str
    phone: str | None = None
    channels: list[str] = field(default_factory=lambda: ["email"])
    supervisor_id: str | None = None
    fte: float = 1.0

    def address(self, channel: str) -> str | None:
        """Where a message on `channel` ("sms" or "email") goes; None without one."""
        return self.phone if channel == "sms" else self.email


@dataclass(frozen=True)
class TreatmentTeamMember:
    id: str
    name: str
    role: str
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class ConsumerRecord:
    id: str
    name: str
    specialist_id: str
    timezone: str
    phone: str | None = None
    email: str | None = None
    sms_consent: str = "none"
    language: str = "en"
    treatment_team_member: TreatmentTeamMember | None = None


@dataclass(frozen=True)
class EventRecord:
    """One entry of the audit trail: what happened, to whom, who said so and when."""

    event_id: str
    type: str
    at: datetime
    consumer_id: str | None
    payload: dict[str, Any]
    recorded_by: str | None
    recorded_at: datetime


@dataclass(frozen=True)
class JobRecord:
    consumer_id: str
    job_id: str
    employer: str
    title: str
    start_date: date
    hours_per_week: float
    hourly_wage: float
    competitive: bool
    end_date: date | None = None
    end_reason: str | None = None


@dataclass(frozen=True)
class DueContactRecord:
    key: str
    consumer_id: str
    rule: str
    job_id: str | None
    seq: int | None
    window_start: date
    due: date
    status: str
    satisfied_on: date | None
    referral_no: int
    created_at: datetime


@dataclass(frozen=True)
class DueContactChangeRecord:
    """A due contact as it was saved: when it first appeared, or when its status changed."""

    key: str
    status: str
    satisfied_on: date | None
    changed_at: datetime


@dataclass(frozen=True)
class OutreachRecord:
    event_id: str
    consumer_id: str
    at: datetime
    by: str
    role: str
    method: str
    reached: bool


@dataclass(frozen=True)
class EmployerContactRecord:
    event_id: str
    specialist_id: str
    employer: str
    face_to_face: bool
    consumer_id: str | None
    at: datetime


@dataclass(frozen=True)
class AppointmentRecord:
    consumer_id: str
    appointment_id: str
    start: datetime
    duration_minutes: int
    place: str
    cancelled: bool = False


@dataclass(frozen=True)
class ConsentChangeRecord:
    key: str
    consumer_id: str
    state: str
    at: datetime
    source: str
    disclosure_version: str | None


@dataclass(frozen=True)
class NotificationRecord:
    """One message in the outbox, claimed once by its idempotency key."""

    idempotency_key: str
    channel: str
    recipient_role: str
    recipient_id: str
    recipient_timezone: str
    consumer_id: str | None
    rule: str | None
    kind: str
    send_at: datetime
    status: str
    body: str
    subject: str | None = None
    provider_id: str | None = None
    error: str | None = None
    # When the row last changed (the store sets it; a claim ignores it). Not part
    # of a record's identity: a retried claim compares equal to the first.
    updated_at: datetime | None = field(default=None, compare=False)


STAFF_ROLES = frozenset({"specialist", "supervisor", "admin"})


@dataclass(frozen=True)
class StaffUserRecord:
    id: str
    name: str
    role: str
    person_id: str | None
    created_at: datetime


@dataclass(frozen=True)
class ApiTokenRecord:
    id: str
    user_id: str
    token_hash: str
    label: str | None
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None


FEED_SCOPE_KINDS = frozenset({"specialist", "team"})


@dataclass(frozen=True)
class FeedTokenRecord:
    """The key to one calendar feed: a specialist's (`scope_id` is the specialist)
    or a team's (`scope_id` is its supervisor)."""

    id: str
    user_id: str
    scope_kind: str
    scope_id: str
    token_hash: str
    label: str | None
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class StaffChangeRecord:
    at: datetime
    user_id: str
    action: str
    kind: str
    record_id: str
    fields: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FeedEntryRecord:
    """One entry of a calendar feed as last published: `fingerprint` is a hash of
    its content (None once it has left the feed), `sequence` its RFC 5545
    SEQUENCE, `changed_at` when its content last changed (its DTSTAMP)."""

    feed_key: str
    uid: str
    fingerprint: str | None
    sequence: int
    changed_at: datetime
