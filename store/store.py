"""`Store`: the app's database, one object per URL, shared by worker threads.

Every method is one transaction, and every write is keyed so that a retried
activity finds its row and changes nothing. Inserts that may race (two
attempts of one activity) use INSERT ... ON CONFLICT, so a duplicate never
raises and never aborts the transaction around it.
"""

import dataclasses
import json
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import CursorResult, Engine, Select, create_engine, event, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from store import schema
from store.errors import InvalidValueError, NotFoundError, StoreError, UnknownReferenceError
from store.models import (
    ApiToken,
    Appointment,
    Base,
    ConsentChange,
    Consumer,
    DueContact,
    DueContactChange,
    EmployerContact,
    Event,
    FeedEntry,
    FeedToken,
    Job,
    Notification,
    Outreach,
    Specialist,
    StaffChange,
    StaffUser,
    Supervisor,
)
from store.records import (
    CHANNELS,
    DELIVERY_PROGRESS,
    DUE_CONTACT_STATUSES,
    FEED_SCOPE_KINDS,
    NOTIFICATION_STATUSES,
    SMS_CONSENT_STATES,
    STAFF_ROLES,
    ApiTokenRecord,
    AppointmentRecord,
    ConsentChangeRecord,
    ConsumerRecord,
    DueContactChangeRecord,
    DueContactRecord,
    EmployerContactRecord,
    EventRecord,
    FeedEntryRecord,
    FeedTokenRecord,
    JobRecord,
    NotificationRecord,
    OutreachRecord,
    SpecialistRecord,
    StaffChangeRecord,
    StaffUserRecord,
    SupervisorRecord,
    TreatmentTeamMember,
)

# How long a SQLite writer waits for another thread's transaction to finish.
SQLITE_BUSY_TIMEOUT_SECONDS = 30.0
# How long opening a PostgreSQL connection may take (libpq's connect_timeout,
# unless the URL sets one): a server that takes the connection and never
# answers is reported as down, instead of holding the caller for ever.
POSTGRES_CONNECT_TIMEOUT_SECONDS = 10

_E164 = re.compile(r"\+[1-9][0-9]{1,14}")

_R = TypeVar("_R")


class Store:
    """The app's persistence: SQLite (a file) or PostgreSQL (psycopg 3)."""

    def __init__(self, url: str) -> None:
        self._engine = _create_engine(url)
        self._postgres = self._engine.dialect.name == "postgresql"
        self._reads = sessionmaker(self._engine, expire_on_commit=False)
        self._writes = sessionmaker(
            self._engine.execution_options(ips_write=True), expire_on_commit=False
        )

    def upgrade(self) -> schema.Upgrade:
        """Bring the database to this version's schema (`store.schema`): create
        the tables on an empty one. Every program that opens the app database
        for real starts with this."""
        return schema.upgrade(self._engine)

    def revision(self) -> schema.Revision:
        """Which schema revision the database is at, and the newest."""
        return schema.revision(self._engine)

    def create_schema(self) -> None:
        """The newest tables at once, with no version: quicker than `upgrade()`,
        for tests' throwaway databases (tests/store/test_migrations.py shows the
        two make the same schema)."""
        Base.metadata.create_all(self._engine)

    def dispose(self) -> None:
        self._engine.dispose()

    # People

    def upsert_supervisor(self, r: SupervisorRecord) -> None:
        _check_timezone(r.timezone, "SupervisorRecord.timezone")
        _check_phone(r.phone, "SupervisorRecord.phone")
        with self._write() as s:
            self._upsert(s, Supervisor, _values(r), ["id"])

    def upsert_specialist(self, r: SpecialistRecord) -> None:
        _check_timezone(r.timezone, "SpecialistRecord.timezone")
        _check_phone(r.phone, "SpecialistRecord.phone")
        unknown = sorted(set(r.channels) - CHANNELS)
        if unknown:
            raise InvalidValueError(
                f"unknown channel {unknown[0]!r}; use 'sms' and/or 'email'",
                field="SpecialistRecord.channels",
            )
        if "sms" in r.channels and r.phone is None:
            raise InvalidValueError(
                f"specialist {r.id!r} gets SMS but has no phone", field="SpecialistRecord.channels"
            )
        if r.fte <= 0:
            raise InvalidValueError(f"must be above 0, got {r.fte}", field="SpecialistRecord.fte")
        with self._write() as s:
            if r.supervisor_id is not None:
                _require(s, Supervisor, r.supervisor_id, "SpecialistRecord.supervisor_id")
            self._upsert(s, Specialist, _values(r), ["id"])

    def upsert_consumer(self, r: ConsumerRecord) -> None:
        """Make the stored consumer equal to `r`, SMS consent state included."""
        _check_timezone(r.timezone, "ConsumerRecord.timezone")
        _check_phone(r.phone, "ConsumerRecord.phone")
        _check_choice(r.sms_consent, SMS_CONSENT_STATES, "ConsumerRecord.sms_consent")
        member = r.treatment_team_member
        if member is not None:
            _check_phone(member.phone, "TreatmentTeamMember.phone")
        with self._write() as s:
            _require(s, Specialist, r.specialist_id, "ConsumerRecord.specialist_id")
            values = _values(r)
            del values["treatment_team_member"]
            values |= {
                "team_member_id": member.id if member else None,
                "team_member_name": member.name if member else None,
                "team_member_role": member.role if member else None,
                "team_member_email": member.email if member else None,
                "team_member_phone": member.phone if member else None,
            }
            self._upsert(s, Consumer, values, ["id"])

    def get_supervisor(self, id: str) -> SupervisorRecord | None:
        with self._reads() as s:
            row = s.get(Supervisor, id)
            return None if row is None else _record(SupervisorRecord, row)

    def get_specialist(self, id: str) -> SpecialistRecord | None:
        with self._reads() as s:
            row = s.get(Specialist, id)
            return None if row is None else _record(SpecialistRecord, row)

    def get_consumer(self, id: str) -> ConsumerRecord | None:
        with self._reads() as s:
            row = s.get(Consumer, id)
            return None if row is None else _consumer_record(row)

    def list_specialists(self) -> list[SpecialistRecord]:
        return self._all(SpecialistRecord, select(Specialist).order_by(Specialist.id))

    def list_consumers(self, specialist_id: str | None = None) -> list[ConsumerRecord]:
        query = select(Consumer).order_by(Consumer.id)
        if specialist_id is not None:
            query = query.where(Consumer.specialist_id == specialist_id)
        with self._reads() as s:
            return [_consumer_record(row) for row in s.scalars(query)]

    def list_consumers_by_phone(self, phone: str) -> list[ConsumerRecord]:
        """The consumers whose phone is exactly `phone` (E.164); none for any other form."""
        query = select(Consumer).where(Consumer.phone == phone).order_by(Consumer.id)
        with self._reads() as s:
            return [_consumer_record(row) for row in s.scalars(query)]

    def set_consumer_specialist(self, consumer_id: str, specialist_id: str) -> None:
        with self._write() as s:
            consumer = s.get(Consumer, consumer_id, with_for_update=True)
            if consumer is None:
                raise NotFoundError(f"no consumer {consumer_id!r}", field="consumer_id")
            _require(s, Specialist, specialist_id, "specialist_id")
            consumer.specialist_id = specialist_id

    # The audit trail

    def record_event(self, r: EventRecord) -> bool:
        """Store the event; False (and nothing changed) if its event_id is already stored."""
        _check_aware(r.at, "EventRecord.at")
        _check_aware(r.recorded_at, "EventRecord.recorded_at")
        _check_json(r.payload, "EventRecord.payload")
        with self._write() as s:
            if r.consumer_id is not None:
                _require(s, Consumer, r.consumer_id, "EventRecord.consumer_id")
            return self._insert_new(s, Event, _values(r), ["event_id"])

    def event_exists(self, event_id: str) -> bool:
        with self._reads() as s:
            return s.scalar(select(Event.id).where(Event.event_id == event_id)) is not None

    def list_events(self, consumer_id: str | None = None) -> list[EventRecord]:
        query = select(Event).order_by(Event.at, Event.id)
        if consumer_id is not None:
            query = query.where(Event.consumer_id == consumer_id)
        return self._all(EventRecord, query)

    def count_referrals(self, consumer_id: str) -> int:
        """How many `referred` events the consumer has: the current referral's number."""
        query = (
            select(func.count())
            .select_from(Event)
            .where(Event.consumer_id == consumer_id, Event.type == "referred")
        )
        with self._reads() as s:
            return s.scalar(query) or 0

    # Jobs

    def upsert_job(self, r: JobRecord) -> None:
        if r.end_date is not None and r.end_date < r.start_date:
            raise InvalidValueError(
                f"{r.end_date.isoformat()} is before start_date {r.start_date.isoformat()}",
                field="JobRecord.end_date",
            )
        for name in ("hours_per_week", "hourly_wage"):
            if getattr(r, name) < 0:
                raise InvalidValueError(
                    f"cannot be negative, got {getattr(r, name)}", field=f"JobRecord.{name}"
                )
        with self._write() as s:
            _require(s, Consumer, r.consumer_id, "JobRecord.consumer_id")
            self._upsert(s, Job, _values(r), ["consumer_id", "job_id"])

    def list_jobs(self, consumer_id: str | None = None) -> list[JobRecord]:
        query = select(Job).order_by(Job.consumer_id, Job.start_date, Job.job_id)
        if consumer_id is not None:
            query = query.where(Job.consumer_id == consumer_id)
        return self._all(JobRecord, query)

    # Due contacts

    def save_due_contacts(self, records: Sequence[DueContactRecord], changed_at: datetime) -> None:
        """Upsert each due contact by key, logging a change when it is new or its
        status or satisfied_on moved; a retry with the same records logs nothing.

        `created_at` is kept from the first save.
        """
        _check_aware(changed_at, "changed_at")
        for r in records:
            _check_choice(r.status, DUE_CONTACT_STATUSES, "DueContactRecord.status")
            _check_aware(r.created_at, "DueContactRecord.created_at")
            if r.due < r.window_start:
                raise InvalidValueError(
                    f"{r.key}: due {r.due.isoformat()} is before window_start "
                    f"{r.window_start.isoformat()}",
                    field="DueContactRecord.due",
                )
        if not records:
            return
        with self._write() as s:
            _require_all(
                s, Consumer, {r.consumer_id for r in records}, "DueContactRecord.consumer_id"
            )
            # Rows are locked and inserted in key order, so that two concurrent
            # saves cannot deadlock.
            locked = select(DueContact).order_by(DueContact.key).with_for_update()
            rows = {
                row.key: row
                for row in s.scalars(locked.where(DueContact.key.in_({r.key for r in records})))
            }
            # Stable: of one key given twice, the later record wins.
            for r in sorted(records, key=lambda r: r.key):
                values = _values(r)
                row = rows.get(r.key)
                if row is None:
                    if self._insert_new(s, DueContact, values, ["key"]):
                        s.add(_change(r, changed_at))
                        continue
                    # Inserted meanwhile by a concurrent save, or earlier in `records`.
                    row = s.scalars(locked.where(DueContact.key == r.key)).one()
                    rows[r.key] = row
                if (row.status, row.satisfied_on) != (r.status, r.satisfied_on):
                    s.add(_change(r, changed_at))
                del values["created_at"]
                for name, value in values.items():
                    setattr(row, name, value)

    def list_due_contacts(
        self, consumer_id: str | None = None, status: str | None = None
    ) -> list[DueContactRecord]:
        query = select(DueContact).order_by(
            DueContact.consumer_id,
            DueContact.due,
            DueContact.rule,
            DueContact.seq.nulls_first(),
            DueContact.key,
        )
        if consumer_id is not None:
            query = query.where(DueContact.consumer_id == consumer_id)
        if status is not None:
            query = query.where(DueContact.status == status)
        return self._all(DueContactRecord, query)

    def list_due_contact_changes(self, key: str) -> list[DueContactChangeRecord]:
        query = (
            select(DueContactChange)
            .where(DueContactChange.key == key)
            .order_by(DueContactChange.changed_at, DueContactChange.id)
        )
        return self._all(DueContactChangeRecord, query)

    # Outreach and employer contacts

    def add_outreach(self, r: OutreachRecord) -> bool:
        """Log the attempt; False (and nothing changed) if its event_id is already logged."""
        _check_aware(r.at, "OutreachRecord.at")
        with self._write() as s:
            _require(s, Consumer, r.consumer_id, "OutreachRecord.consumer_id")
            return self._insert_new(s, Outreach, _values(r), ["event_id"])

    def list_outreach(self, consumer_id: str | None = None) -> list[OutreachRecord]:
        query = select(Outreach).order_by(Outreach.at, Outreach.id)
        if consumer_id is not None:
            query = query.where(Outreach.consumer_id == consumer_id)
        return self._all(OutreachRecord, query)

    def add_employer_contact(self, r: EmployerContactRecord) -> bool:
        """Log the contact; False (and nothing changed) if its event_id is already logged."""
        _check_aware(r.at, "EmployerContactRecord.at")
        with self._write() as s:
            _require(s, Specialist, r.specialist_id, "EmployerContactRecord.specialist_id")
            if r.consumer_id is not None:
                _require(s, Consumer, r.consumer_id, "EmployerContactRecord.consumer_id")
            return self._insert_new(s, EmployerContact, _values(r), ["event_id"])

    def list_employer_contacts(
        self, specialist_id: str | None = None
    ) -> list[EmployerContactRecord]:
        query = select(EmployerContact).order_by(EmployerContact.at, EmployerContact.id)
        if specialist_id is not None:
            query = query.where(EmployerContact.specialist_id == specialist_id)
        return self._all(EmployerContactRecord, query)

    # Appointments

    def upsert_appointment(self, r: AppointmentRecord) -> None:
        _check_aware(r.start, "AppointmentRecord.start")
        if r.duration_minutes <= 0:
            raise InvalidValueError(
                f"must be above 0, got {r.duration_minutes}",
                field="AppointmentRecord.duration_minutes",
            )
        with self._write() as s:
            _require(s, Consumer, r.consumer_id, "AppointmentRecord.consumer_id")
            self._upsert(s, Appointment, _values(r), ["consumer_id", "appointment_id"])

    def list_appointments(self, consumer_id: str | None = None) -> list[AppointmentRecord]:
        query = select(Appointment).order_by(
            Appointment.start, Appointment.consumer_id, Appointment.appointment_id
        )
        if consumer_id is not None:
            query = query.where(Appointment.consumer_id == consumer_id)
        return self._all(AppointmentRecord, query)

    # Calendar feeds

    def list_feed_entries(self, feed_key: str) -> list[FeedEntryRecord]:
        """Every entry the feed has published, those that left it included, in uid order."""
        query = select(FeedEntry).where(FeedEntry.feed_key == feed_key).order_by(FeedEntry.uid)
        return self._all(FeedEntryRecord, query)

    def publish_feed_entries(
        self, feed_key: str, fingerprints: Mapping[str, str], at: datetime
    ) -> list[FeedEntryRecord]:
        """Record that the feed now holds exactly the entries of `fingerprints`
        (uid: a hash of the entry's content), and return every entry it has
        published, in uid order.

        A new entry gets sequence 0; one whose fingerprint changed, or that comes
        back, gets its sequence + 1; either way its changed_at becomes `at`. An
        entry not given has left the feed: fingerprint None, changed_at `at`.
        Publishing what is already published writes nothing.
        """
        _check_aware(at, "at")
        stored = self.list_feed_entries(feed_key)
        if _published(stored, fingerprints):
            return stored
        with self._write() as s:
            inserted = set()
            for uid in sorted(fingerprints.keys() - {r.uid for r in stored}):
                values = {
                    "feed_key": feed_key,
                    "uid": uid,
                    "fingerprint": fingerprints[uid],
                    "sequence": 0,
                    "changed_at": at,
                }
                # A concurrent build may have inserted it meanwhile: then it is
                # compared below like any other stored entry.
                if self._insert_new(s, FeedEntry, values, ["feed_key", "uid"]):
                    inserted.add(uid)
            # Locked in uid order, so that two concurrent builds cannot deadlock.
            locked = (
                select(FeedEntry)
                .where(FeedEntry.feed_key == feed_key)
                .order_by(FeedEntry.uid)
                .with_for_update()
            )
            rows = list(s.scalars(locked))
            for row in rows:
                fingerprint = fingerprints.get(row.uid)
                if row.uid in inserted or row.fingerprint == fingerprint:
                    continue
                if fingerprint is not None:
                    row.sequence += 1
                row.fingerprint = fingerprint
                row.changed_at = at
            return [_record(FeedEntryRecord, row) for row in rows]

    # SMS consent

    def record_consent_change(self, r: ConsentChangeRecord) -> bool:
        """Store the change and make it the consumer's consent state; False (and
        nothing changed) if its key is already stored."""
        _check_choice(r.state, SMS_CONSENT_STATES, "ConsentChangeRecord.state")
        _check_aware(r.at, "ConsentChangeRecord.at")
        with self._write() as s:
            consumer = s.get(Consumer, r.consumer_id, with_for_update=True)
            if consumer is None:
                raise _unknown(Consumer, r.consumer_id, "ConsentChangeRecord.consumer_id")
            inserted = self._insert_new(s, ConsentChange, _values(r), ["key"])
            if inserted:
                consumer.sms_consent = r.state
            return inserted

    def list_consent_changes(self, consumer_id: str) -> list[ConsentChangeRecord]:
        query = (
            select(ConsentChange)
            .where(ConsentChange.consumer_id == consumer_id)
            .order_by(ConsentChange.at, ConsentChange.id)
        )
        return self._all(ConsentChangeRecord, query)

    # The notification outbox

    def claim_notification(self, r: NotificationRecord) -> tuple[NotificationRecord, bool]:
        """Insert the notification if its idempotency key is new: (stored row, True).

        Otherwise the row already claimed, untouched, and False: whoever gets
        False must not send it again.
        """
        _check_choice(r.channel, CHANNELS, "NotificationRecord.channel")
        _check_choice(r.status, NOTIFICATION_STATUSES, "NotificationRecord.status")
        _check_timezone(r.recipient_timezone, "NotificationRecord.recipient_timezone")
        _check_aware(r.send_at, "NotificationRecord.send_at")
        now = datetime.now(UTC)
        with self._write() as s:
            if r.consumer_id is not None:
                _require(s, Consumer, r.consumer_id, "NotificationRecord.consumer_id")
            values = _values(r) | {"created_at": now, "updated_at": now}
            claimed = self._insert_new(s, Notification, values, ["idempotency_key"])
            row = s.scalars(
                select(Notification).where(Notification.idempotency_key == r.idempotency_key)
            ).one()
            return _record(NotificationRecord, row), claimed

    def start_sending(self, key: str) -> bool:
        """Move the notification from `pending` to `sending`, committed before the
        provider is called. False when it is not pending: another attempt has it,
        and it must not be handed to the provider again."""
        with self._write() as s:
            result = s.execute(
                update(Notification)
                .where(Notification.idempotency_key == key, Notification.status == "pending")
                .values(status="sending", updated_at=datetime.now(UTC))
            )
            return bool(cast(CursorResult[Any], result).rowcount)

    def resume_sending(self, key: str, *, began_before: datetime) -> bool:
        """Take over a notification left `sending` without a provider id by an
        attempt that began before `began_before` (so is over: it died, or gave
        up on the provider): its `updated_at` becomes now, the start of this
        attempt. False when it is not such a row, or another attempt took it
        over first; then this one must not hand it to the provider."""
        _check_aware(began_before, "began_before")
        with self._write() as s:
            result = s.execute(
                update(Notification)
                .where(
                    Notification.idempotency_key == key,
                    Notification.status == "sending",
                    Notification.provider_id.is_(None),
                    Notification.updated_at < began_before,
                )
                .values(updated_at=datetime.now(UTC))
            )
            return bool(cast(CursorResult[Any], result).rowcount)

    def notification_of_provider_id(
        self, channel: str, provider_id: str
    ) -> NotificationRecord | None:
        """The outbox row of `channel` whose message the provider knows as `provider_id`."""
        query = select(Notification).where(
            Notification.channel == channel, Notification.provider_id == provider_id
        )
        with self._reads() as s:
            row = s.scalars(query).first()
            return None if row is None else _record(NotificationRecord, row)

    def finish_sending(self, key: str, *, status: str, provider_id: str | None) -> None:
        """Record the provider's answer to the call `start_sending` allowed. A
        delivery report that arrived first (by the key in its callback URL) is
        not undone: the status moves only from `sending`."""
        _check_choice(status, NOTIFICATION_STATUSES, "status")
        with self._write() as s:
            row = _notification_for_update(s, key)
            if row.status == "sending":
                row.status = status
            if row.provider_id is None:
                row.provider_id = provider_id
            if s.is_modified(row):
                row.updated_at = datetime.now(UTC)

    def update_notification(
        self,
        key: str,
        *,
        status: str,
        provider_id: str | None = None,
        error: str | None = None,
    ) -> NotificationRecord:
        """Set the status; provider_id and error are changed only when given."""
        _check_choice(status, NOTIFICATION_STATUSES, "status")
        with self._write() as s:
            row = _notification_for_update(s, key)
            row.status = status
            if provider_id is not None:
                row.provider_id = provider_id
            if error is not None:
                row.error = error
            if s.is_modified(row):
                row.updated_at = datetime.now(UTC)
            return _record(NotificationRecord, row)

    def get_notification(self, key: str) -> NotificationRecord | None:
        query = select(Notification).where(Notification.idempotency_key == key)
        with self._reads() as s:
            row = s.scalars(query).one_or_none()
            return None if row is None else _record(NotificationRecord, row)

    def list_notifications(self, consumer_id: str | None = None) -> list[NotificationRecord]:
        query = select(Notification).order_by(Notification.send_at, Notification.idempotency_key)
        if consumer_id is not None:
            query = query.where(Notification.consumer_id == consumer_id)
        return self._all(NotificationRecord, query)

    def advance_notification(
        self,
        channel: str,
        status: str,
        at: datetime,
        *,
        provider_id: str | None = None,
        key: str | None = None,
        error: str | None = None,
    ) -> tuple[NotificationRecord, bool] | None:
        """What a provider reports about a message it took: the outbox row of
        `channel` whose provider_id is `provider_id`, else the one whose
        idempotency key is `key` (which then gets `provider_id`), moves forward
        to `status`, with `error` when given, and `at` as its updated_at.

        Never backwards (DELIVERY_PROGRESS): a report of an earlier or the same
        stage changes nothing. Returns (the row as stored, whether it changed), or
        None when no row matches. A row found by key that already carries another
        provider id belongs to another message and is left as it is.
        """
        if status not in DELIVERY_PROGRESS:
            raise InvalidValueError(
                f"{status!r} is not one of {', '.join(sorted(DELIVERY_PROGRESS))}", field="status"
            )
        _check_aware(at, "at")
        if provider_id is None and key is None:
            raise InvalidValueError("give a provider_id or a key", field="provider_id")
        locked = select(Notification).where(Notification.channel == channel).with_for_update()
        with self._write() as s:
            row = None
            if provider_id is not None:
                row = s.scalars(locked.where(Notification.provider_id == provider_id)).first()
            if row is None and key is not None:
                row = s.scalars(locked.where(Notification.idempotency_key == key)).one_or_none()
                if row is not None and row.provider_id not in (None, provider_id):
                    return _record(NotificationRecord, row), False
            if row is None:
                return None
            if provider_id is not None and row.provider_id is None:
                row.provider_id = provider_id
            if DELIVERY_PROGRESS[status] > DELIVERY_PROGRESS.get(row.status, 0):
                row.status = status
                if error is not None:
                    row.error = error
            changed = s.is_modified(row)
            if changed:
                row.updated_at = at
            return _record(NotificationRecord, row), changed

    # Staff users and their API tokens

    def upsert_staff_user(self, r: StaffUserRecord) -> None:
        _check_choice(r.role, STAFF_ROLES, "StaffUserRecord.role")
        _check_aware(r.created_at, "StaffUserRecord.created_at")
        with self._write() as s:
            if r.role == "specialist":
                _require(s, Specialist, r.person_id or "", "StaffUserRecord.person_id")
            elif r.role == "supervisor":
                _require(s, Supervisor, r.person_id or "", "StaffUserRecord.person_id")
            elif r.person_id is not None:
                raise InvalidValueError(
                    "an admin is not a specialist or supervisor", field="StaffUserRecord.person_id"
                )
            existing = s.get(StaffUser, r.id)
            values = _values(r)
            if existing is not None:
                values["created_at"] = existing.created_at
            self._upsert(s, StaffUser, values, ["id"])

    def get_staff_user(self, id: str) -> StaffUserRecord | None:
        with self._reads() as s:
            row = s.get(StaffUser, id)
            return None if row is None else _record(StaffUserRecord, row)

    def list_staff_users(self) -> list[StaffUserRecord]:
        return self._all(StaffUserRecord, select(StaffUser).order_by(StaffUser.id))

    def add_token(self, r: ApiTokenRecord) -> None:
        _check_aware(r.created_at, "ApiTokenRecord.created_at")
        _check_aware(r.expires_at, "ApiTokenRecord.expires_at")
        with self._write() as s:
            _require(s, StaffUser, r.user_id, "ApiTokenRecord.user_id")
            s.add(ApiToken(**_values(r)))

    def get_token_by_hash(self, token_hash: str) -> ApiTokenRecord | None:
        query = select(ApiToken).where(ApiToken.token_hash == token_hash)
        with self._reads() as s:
            row = s.scalars(query).first()
            return None if row is None else _record(ApiTokenRecord, row)

    def get_token(self, id: str) -> ApiTokenRecord | None:
        with self._reads() as s:
            row = s.get(ApiToken, id)
            return None if row is None else _record(ApiTokenRecord, row)

    def list_tokens(self, user_id: str | None = None) -> list[ApiTokenRecord]:
        query = select(ApiToken).order_by(ApiToken.created_at, ApiToken.id)
        if user_id is not None:
            query = query.where(ApiToken.user_id == user_id)
        return self._all(ApiTokenRecord, query)

    def revoke_token(self, id: str, at: datetime) -> bool:
        """Revoke a token; False if there is no such token. Revoking twice keeps the first time."""
        _check_aware(at, "revoked_at")
        with self._write() as s:
            row = s.get(ApiToken, id)
            if row is None:
                return False
            if row.revoked_at is None:
                row.revoked_at = at
            return True

    # Calendar feed tokens

    def add_feed_token(self, r: FeedTokenRecord) -> None:
        with self._write() as s:
            self._add_feed_token(s, r)

    def replace_feed_token(self, id: str, new: FeedTokenRecord) -> None:
        """Rotation, in one transaction: token `id` is revoked as of `new.created_at`
        and `new` (for the same user and feed) stored in its place. NotFoundError
        when there is no token `id`, InvalidValueError when it is already revoked."""
        with self._write() as s:
            row = s.get(FeedToken, id, with_for_update=True)
            if row is None:
                raise NotFoundError(f"no feed token {id!r}", field="id")
            if row.revoked_at is not None:
                raise InvalidValueError(f"feed token {id!r} is revoked", field="id")
            if (new.user_id, new.scope_kind, new.scope_id) != (
                row.user_id,
                row.scope_kind,
                row.scope_id,
            ):
                raise InvalidValueError(
                    "a rotated token keeps the user and the feed", field="FeedTokenRecord.scope_id"
                )
            row.revoked_at = new.created_at
            self._add_feed_token(s, new)

    def get_feed_token(self, id: str) -> FeedTokenRecord | None:
        with self._reads() as s:
            row = s.get(FeedToken, id)
            return None if row is None else _record(FeedTokenRecord, row)

    def get_feed_token_by_hash(self, token_hash: str) -> FeedTokenRecord | None:
        query = select(FeedToken).where(FeedToken.token_hash == token_hash)
        with self._reads() as s:
            row = s.scalars(query).first()
            return None if row is None else _record(FeedTokenRecord, row)

    def list_feed_tokens(self, user_id: str | None = None) -> list[FeedTokenRecord]:
        query = select(FeedToken).order_by(FeedToken.created_at, FeedToken.id)
        if user_id is not None:
            query = query.where(FeedToken.user_id == user_id)
        return self._all(FeedTokenRecord, query)

    def revoke_feed_token(self, id: str, at: datetime) -> bool:
        """Revoke a feed token; False if there is none. Revoking twice keeps the first time."""
        _check_aware(at, "revoked_at")
        with self._write() as s:
            row = s.get(FeedToken, id)
            if row is None:
                return False
            if row.revoked_at is None:
                row.revoked_at = at
            return True

    def _add_feed_token(self, s: Session, r: FeedTokenRecord) -> None:
        _check_choice(r.scope_kind, FEED_SCOPE_KINDS, "FeedTokenRecord.scope_kind")
        _check_aware(r.created_at, "FeedTokenRecord.created_at")
        _require(s, StaffUser, r.user_id, "FeedTokenRecord.user_id")
        if r.scope_kind == "specialist":
            _require(s, Specialist, r.scope_id, "FeedTokenRecord.scope_id")
        else:
            _require(s, Supervisor, r.scope_id, "FeedTokenRecord.scope_id")
        s.add(FeedToken(**_values(r)))

    def record_staff_change(self, r: StaffChangeRecord) -> None:
        _check_aware(r.at, "StaffChangeRecord.at")
        with self._write() as s:
            s.add(StaffChange(**_values(r)))

    def list_staff_changes(
        self, kind: str | None = None, record_id: str | None = None
    ) -> list[StaffChangeRecord]:
        query = select(StaffChange).order_by(StaffChange.at, StaffChange.id)
        if kind is not None:
            query = query.where(StaffChange.kind == kind)
        if record_id is not None:
            query = query.where(StaffChange.record_id == record_id)
        return self._all(StaffChangeRecord, query)

    def list_supervisors(self) -> list[SupervisorRecord]:
        return self._all(SupervisorRecord, select(Supervisor).order_by(Supervisor.id))

    # Plumbing

    def _all(self, cls: type[_R], query: Select[Any]) -> list[_R]:
        with self._reads() as s:
            return [_record(cls, row) for row in s.scalars(query)]

    @contextmanager
    def _write(self) -> Iterator[Session]:
        try:
            with self._writes.begin() as session:
                yield session
        except IntegrityError as exc:
            # The checks above name the field for every error a caller can
            # cause; this is the database's own word for anything they missed.
            raise StoreError(f"the database refused the change: {exc.orig}") from exc

    def _insert_new(
        self, s: Session, model: type[Base], values: dict[str, Any], key: list[str]
    ) -> bool:
        insert = postgresql.insert if self._postgres else sqlite.insert
        stmt = insert(model).values(values).on_conflict_do_nothing(index_elements=key)
        return s.execute(stmt.returning(model.__table__.c.id)).first() is not None

    def _upsert(
        self, s: Session, model: type[Base], values: dict[str, Any], key: list[str]
    ) -> None:
        insert = postgresql.insert if self._postgres else sqlite.insert
        stmt = insert(model).values(values)
        changes = {name: stmt.excluded[name] for name in values if name not in key}
        s.execute(stmt.on_conflict_do_update(index_elements=key, set_=changes))


def _create_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        # Not echoed: a mistyped URL may still hold a password.
        raise StoreError(
            "not a database URL: use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB",
            field="url",
        ) from None
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, pool_pre_ping=True, **engine_options(parsed))
    if backend != "sqlite":
        raise StoreError(
            f"unsupported database URL {parsed.render_as_string()!r}: "
            "use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB",
            field="url",
        )
    path = parsed.database
    if not path or path == ":memory:" or parsed.query.get("mode") == "memory":
        raise StoreError(
            "an in-memory SQLite database cannot be shared by worker threads; "
            "use a file, sqlite:///PATH",
            field="url",
        )
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        parsed,
        pool_pre_ping=True,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
    )
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def engine_options(url: str | URL) -> dict[str, Any]:
    """What an engine on the database at `url` is made with besides the URL (the
    sweep scheduler's job store takes them too): on PostgreSQL, the connect
    timeout, unless the URL sets one."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql" or "connect_timeout" in parsed.query:
        return {}
    return {"connect_args": {"connect_timeout": POSTGRES_CONNECT_TIMEOUT_SECONDS}}


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite would BEGIN lazily on the first write, after this transaction's
    # reads; _sqlite_begin issues BEGIN itself instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    _use_wal(cursor)
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _use_wal(cursor: Any) -> None:
    """Put the database in WAL mode (kept in the file: a no-op once done).

    Switching needs the database to itself, and while another connection is
    writing SQLite refuses at once with "database is locked", without the busy
    timeout's wait: so the worker, the API and `ips` opening a new database
    together would fail at start. Try again until the busy timeout is spent."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_SECONDS
    pause = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as err:
            busy = err.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY
            if not busy or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def _sqlite_begin(connection: Connection) -> None:
    # A write transaction takes the write lock up front (waiting up to the busy
    # timeout): a deferred one that read first and then writes fails at once
    # with "database is locked" when another thread wrote in between.
    write = connection.get_execution_options().get("ips_write", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _values(r: Any) -> dict[str, Any]:
    return {f.name: getattr(r, f.name) for f in dataclasses.fields(r)}


def _record(cls: type[_R], row: Base) -> _R:
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    return cls(**{name: getattr(row, name) for name in names})


def _consumer_record(row: Consumer) -> ConsumerRecord:
    member = None
    if row.team_member_id is not None:
        member = TreatmentTeamMember(
            id=row.team_member_id,
            name=row.team_member_name or "",
            role=row.team_member_role or "",
            email=row.team_member_email,
            phone=row.team_member_phone,
        )
    return ConsumerRecord(
        id=row.id,
        name=row.name,
        specialist_id=row.specialist_id,
        timezone=row.timezone,
        phone=row.phone,
        email=row.email,
        sms_consent=row.sms_consent,
        language=row.language,
        treatment_team_member=member,
    )


def _change(r: DueContactRecord, changed_at: datetime) -> DueContactChange:
    return DueContactChange(
        key=r.key, status=r.status, satisfied_on=r.satisfied_on, changed_at=changed_at
    )


def _published(stored: Sequence[FeedEntryRecord], fingerprints: Mapping[str, str]) -> bool:
    """Whether the stored entries are exactly `fingerprints`, those not given gone."""
    held = {r.uid: r.fingerprint for r in stored if r.fingerprint is not None}
    return held == dict(fingerprints)


_NOUNS: dict[type[Base], str] = {
    Supervisor: "supervisor",
    Specialist: "specialist",
    Consumer: "consumer",
    StaffUser: "staff user",
}


def _notification_for_update(s: Session, key: str) -> Notification:
    row = s.scalars(
        select(Notification).where(Notification.idempotency_key == key).with_for_update()
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"no notification with key {key!r}", field="idempotency_key")
    return row


def _unknown(model: type[Base], id: str, field: str) -> UnknownReferenceError:
    return UnknownReferenceError(f"no {_NOUNS[model]} with id {id!r}", field=field)


def _require(
    s: Session, model: type[Supervisor | Specialist | Consumer | StaffUser], id: str, field: str
) -> None:
    if s.scalar(select(model.id).where(model.id == id)) is None:
        raise _unknown(model, id, field)


def _require_all(s: Session, model: type[Consumer], ids: Iterable[str], field: str) -> None:
    wanted = set(ids)
    found = set(s.scalars(select(model.id).where(model.id.in_(wanted))))
    missing = sorted(wanted - found)
    if missing:
        raise _unknown(model, missing[0], field)


def _check_aware(value: datetime, field: str) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidValueError(f"{value!r} has no time zone; give an aware datetime", field=field)


def _check_timezone(name: str, field: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidValueError(
            f"{name!r} is not an IANA time zone (e.g. America/New_York)", field=field
        ) from None


def _check_phone(phone: str | None, field: str) -> None:
    if phone is not None and not _E164.fullmatch(phone):
        raise InvalidValueError(
            f"{phone!r} is not an E.164 phone number (e.g. +15555550123)", field=field
        )


def _check_choice(value: str, allowed: frozenset[str], field: str) -> None:
    if value not in allowed:
        raise InvalidValueError(
            f"{value!r} is not one of {', '.join(sorted(allowed))}", field=field
        )


def _check_json(value: dict[str, Any], field: str) -> None:
    try:
        json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(f"not JSON: {exc}", field=field) from None
