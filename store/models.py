"""The tables. Only `store.store` touches these; callers get `store.records`."""

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every database.

    SQLite keeps no offset, so the instant is stored there as naive UTC and UTC
    is attached again on the way out; PostgreSQL returns its session's zone,
    which is converted back to UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} has no time zone")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# Byte-wise comparison on PostgreSQL too, so that ORDER BY on ids and rule
# names gives the same order as SQLite whatever the server's locale.
_Text = String().with_variant(String(collation="C"), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        str: _Text,
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
    }


class Supervisor(Base):
    __tablename__ = "supervisors"

    id: Mapped[str] = mapped_column(primary_key=True)
    name: Mapped[str]
    email: Mapped[str]
    timezone: Mapped[str]
    phone: Mapped[str | None]


class Specialist(Base):
    __tablename__ = "specialists"

    id: Mapped[str] = mapped_column(primary_key=True)
    name: Mapped[str]
    email: Mapped[str]
    timezone: Mapped[str]
    phone: Mapped[str | None]
    channels: Mapped[list[str]]
    supervisor_id: Mapped[str | None] = mapped_column(ForeignKey("supervisors.id"), index=True)
    fte: Mapped[float]


class Consumer(Base):
    __tablename__ = "consumers"

    id: Mapped[str] = mapped_column(primary_key=True)
    name: Mapped[str]
    specialist_id: Mapped[str] = mapped_column(ForeignKey("specialists.id"), index=True)
    timezone: Mapped[str]
    phone: Mapped[str | None]
    email: Mapped[str | None]
    sms_consent: Mapped[str]
    language: Mapped[str]
    team_member_id: Mapped[str | None]
    team_member_name: Mapped[str | None]
    team_member_role: Mapped[str | None]
    team_member_email: Mapped[str | None]
    team_member_phone: Mapped[str | None]


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        Index(None, "consumer_id", "at", "id"),
        Index(None, "consumer_id", "type"),
        Index(None, "at", "id"),
    )

    # Insertion order: the tie-break between events at the same instant.
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(unique=True)
    type: Mapped[str]
    at: Mapped[datetime]
    consumer_id: Mapped[str | None] = mapped_column(ForeignKey("consumers.id"))
    payload: Mapped[dict[str, Any]]
    recorded_by: Mapped[str | None]
    recorded_at: Mapped[datetime]


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (UniqueConstraint("consumer_id", "job_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consumer_id: Mapped[str] = mapped_column(ForeignKey("consumers.id"))
    job_id: Mapped[str]
    employer: Mapped[str]
    title: Mapped[str]
    start_date: Mapped[date]
    hours_per_week: Mapped[float]
    hourly_wage: Mapped[float]
    competitive: Mapped[bool]
    end_date: Mapped[date | None]
    end_reason: Mapped[str | None]


class DueContact(Base):
    __tablename__ = "due_contacts"
    __table_args__ = (
        Index(None, "consumer_id", "due"),
        Index(None, "status", "due"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(unique=True)
    consumer_id: Mapped[str] = mapped_column(ForeignKey("consumers.id"))
    rule: Mapped[str]
    job_id: Mapped[str | None]
    seq: Mapped[int | None]
    window_start: Mapped[date]
    due: Mapped[date]
    status: Mapped[str]
    satisfied_on: Mapped[date | None]
    referral_no: Mapped[int]
    created_at: Mapped[datetime]


class DueContactChange(Base):
    __tablename__ = "due_contact_changes"
    __table_args__ = (Index(None, "key", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(ForeignKey("due_contacts.key"))
    status: Mapped[str]
    satisfied_on: Mapped[date | None]
    changed_at: Mapped[datetime]


class Outreach(Base):
    __tablename__ = "outreach_log"
    __table_args__ = (Index(None, "consumer_id", "at", "id"), Index(None, "at", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(unique=True)
    consumer_id: Mapped[str] = mapped_column(ForeignKey("consumers.id"))
    at: Mapped[datetime]
    by: Mapped[str]
    role: Mapped[str]
    method: Mapped[str]
    reached: Mapped[bool]


class EmployerContact(Base):
    __tablename__ = "employer_contacts"
    __table_args__ = (Index(None, "specialist_id", "at", "id"), Index(None, "at", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(unique=True)
    specialist_id: Mapped[str] = mapped_column(ForeignKey("specialists.id"))
    employer: Mapped[str]
    face_to_face: Mapped[bool]
    consumer_id: Mapped[str | None] = mapped_column(ForeignKey("consumers.id"), index=True)
    at: Mapped[datetime]


class Appointment(Base):
    __tablename__ = "appointments"
    __table_args__ = (UniqueConstraint("consumer_id", "appointment_id"), Index(None, "start"))

    id: Mapped[int] = mapped_column(primary_key=True)
    consumer_id: Mapped[str] = mapped_column(ForeignKey("consumers.id"))
    appointment_id: Mapped[str]
    start: Mapped[datetime]
    duration_minutes: Mapped[int]
    place: Mapped[str]
    cancelled: Mapped[bool]


class ConsentChange(Base):
    __tablename__ = "consent_changes"
    __table_args__ = (Index(None, "consumer_id", "at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(unique=True)
    consumer_id: Mapped[str] = mapped_column(ForeignKey("consumers.id"))
    state: Mapped[str]
    at: Mapped[datetime]
    source: Mapped[str]
    disclosure_version: Mapped[str | None]


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        Index(None, "consumer_id", "send_at"),
        Index(None, "send_at", "idempotency_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(unique=True)
    channel: Mapped[str]
    recipient_role: Mapped[str]
    recipient_id: Mapped[str]
    recipient_timezone: Mapped[str]
    consumer_id: Mapped[str | None] = mapped_column(ForeignKey("consumers.id"))
    rule: Mapped[str | None]
    kind: Mapped[str]
    send_at: Mapped[datetime]
    status: Mapped[str]
    body: Mapped[str]
    subject: Mapped[str | None]
    provider_id: Mapped[str | None]
    error: Mapped[str | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


# Webhooks look a consumer up by the number a text came from, and an outbox row
# by the id its provider gave the message.
Index(None, Consumer.phone)
Index(None, Notification.provider_id)


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[str] = mapped_column(primary_key=True)
    name: Mapped[str]
    role: Mapped[str]
    # The specialist or supervisor this user is; none for an admin.
    person_id: Mapped[str | None]
    created_at: Mapped[datetime]


class ApiToken(Base):
    __tablename__ = "api_tokens"
    __table_args__ = (Index(None, "user_id"),)

    id: Mapped[str] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("staff_users.id"))
    # SHA-256 of the token; the token itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(unique=True)
    label: Mapped[str | None]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class FeedToken(Base):
    __tablename__ = "feed_tokens"
    __table_args__ = (Index(None, "user_id"),)

    id: Mapped[str] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("staff_users.id"))
    scope_kind: Mapped[str]
    scope_id: Mapped[str]
    # SHA-256 of the token: the token is in the feed's URL, shown once, never stored.
    token_hash: Mapped[str] = mapped_column(unique=True)
    label: Mapped[str | None]
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class StaffChange(Base):
    """Who changed which record, when: the audit trail of everything that is not
    a journey event (those are in `events`, with `recorded_by`)."""

    __tablename__ = "staff_changes"
    __table_args__ = (Index(None, "kind", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    # The staff user (or `local-admin`, the operator on the server itself).
    user_id: Mapped[str]
    action: Mapped[str]
    kind: Mapped[str]
    record_id: Mapped[str]
    # Names of the fields written, never their values.
    fields: Mapped[list[str]]


class FeedEntry(Base):
    """What a calendar feed last published of one entry, so that its SEQUENCE
    grows and its DTSTAMP moves only when its content changes (RFC 5545)."""

    __tablename__ = "feed_entries"
    __table_args__ = (UniqueConstraint("feed_key", "uid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # `specialist:<id>` or `team:<supervisor id>`.
    feed_key: Mapped[str]
    uid: Mapped[str]
    # A hash of the entry as published; none once it has left the feed (done,
    # cancelled, past the horizon), so that a return counts as a change too.
    fingerprint: Mapped[str | None]
    sequence: Mapped[int]
    changed_at: Mapped[datetime]
