"""The journey's side effects: everything it stores and every message it sends.

Each activity is idempotent: the event id, the due-contact key and the
notification key make a retried call find its earlier work and do nothing new.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.outbox import Outbox
from notifiers import Notifier, messages
from rules import calendar
from rules.consent import ConsentChange
from rules.due import DueContact
from rules.journey import ConsumerText, Profile, StaffReminder
from store import (
    AppointmentRecord,
    ConsentChangeRecord,
    ConsumerRecord,
    DueContactRecord,
    EmployerContactRecord,
    EventRecord,
    JobRecord,
    NotificationRecord,
    OutreachRecord,
    Store,
)

log = logging.getLogger("ips.activities")


@dataclass(frozen=True)
class AgencySettings:
    # Texts are signed with the sender label; the legal name is kept apart and
    # goes into no text (SPEC §7).
    sender_label: str = "Your employment team"
    app_url: str = "http://127.0.0.1:8000"
    contact_phone: str | None = None
    legal_name: str | None = None


@dataclass
class RecordEventInput:
    consumer_id: str
    event_id: str
    type: str
    at: datetime
    recorded_by: str | None
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class SaveDueContactsInput:
    consumer_id: str
    due_contacts: list[DueContact]
    changed_at: datetime


@dataclass
class ConsentChangeInput:
    consumer_id: str
    change: ConsentChange
    at: datetime
    key: str


@dataclass
class TextOutcome:
    """What became of a text to the consumer, and their consent as stored then."""

    status: str
    sms_consent: str


# How an idempotency key names the recipient. Keys go into log lines, and
# "treatment" would say more about the consumer than a log line may.
_KEY_ROLES = {"specialist": "specialist", "treatment_team_member": "team"}


class UnknownPersonError(Exception):
    pass


class JourneyActivities:
    def __init__(self, store: Store, notifier: Notifier, agency: AgencySettings) -> None:
        self.store = store
        self.notifier = notifier
        self.agency = agency

    @property
    def outbox(self) -> Outbox:
        # Built on each use: a test may swap `notifier` after construction.
        return Outbox(self.store, self.notifier)

    # ---------------------------------------------------------------- people

    @activity.defn
    def load_profile(self, consumer_id: str) -> Profile:
        consumer = self._consumer(consumer_id)
        consent = self.store.list_consent_changes(consumer_id)
        specialist = self.store.get_specialist(consumer.specialist_id)
        if specialist is None:
            raise ApplicationError(
                f"consumer {consumer_id!r} names specialist {consumer.specialist_id!r}, "
                "who is not on file",
                type="UnknownPerson",
                non_retryable=True,
            )
        return Profile(
            consumer_id=consumer.id,
            timezone=consumer.timezone,
            specialist_id=specialist.id,
            specialist_timezone=specialist.timezone,
            has_treatment_team_member=consumer.treatment_team_member is not None,
            sms_consent=consumer.sms_consent,
            prior_referrals=self.store.count_referrals(consumer.id),
            disclosure_version=consent[-1].disclosure_version if consent else None,
        )

    @activity.defn
    def specialist_timezone(self, specialist_id: str) -> str | None:
        specialist = self.store.get_specialist(specialist_id)
        return None if specialist is None else specialist.timezone

    @activity.defn
    def specialist_team(self, specialist_id: str) -> str | None:
        """The id of the specialist's supervisor (the journey's Team search
        attribute); None when they have none or are not on file."""
        specialist = self.store.get_specialist(specialist_id)
        return None if specialist is None else specialist.supervisor_id

    # ---------------------------------------------------------------- events

    @activity.defn
    def record_event(self, event: RecordEventInput) -> bool:
        """Store the event in the audit trail and the records it changes.

        False when the event id is already stored: the event is then a retry
        and changes nothing.
        """
        if self.store.event_exists(event.event_id):
            return False
        self._apply_to_records(event)
        return self.store.record_event(
            EventRecord(
                event_id=event.event_id,
                type=event.type,
                at=event.at,
                consumer_id=event.consumer_id,
                payload=event.fields,
                recorded_by=event.recorded_by,
                # Temporal's clock, not the wall clock: a simulation records simulated time.
                recorded_at=activity.info().current_attempt_scheduled_time,
            )
        )

    def _apply_to_records(self, event: RecordEventInput) -> None:
        f = event.fields
        consumer_id = event.consumer_id
        if event.type == "job_started":
            self.store.upsert_job(
                JobRecord(
                    consumer_id=consumer_id,
                    job_id=f["job_id"],
                    employer=f["employer"],
                    title=f["title"],
                    start_date=_date(f["start_date"]),
                    hours_per_week=f["hours_per_week"],
                    hourly_wage=f["hourly_wage"],
                    competitive=f["competitive"],
                )
            )
        elif event.type in ("job_changed", "job_ended"):
            job = next(
                (j for j in self.store.list_jobs(consumer_id) if j.job_id == f["job_id"]), None
            )
            if job is not None:
                changes: dict[str, Any] = {}
                if event.type == "job_changed":
                    for name in ("hours_per_week", "hourly_wage"):
                        if f.get(name) is not None:
                            changes[name] = f[name]
                else:
                    changes = {"end_date": _date(f["end_date"]), "end_reason": f.get("reason")}
                self.store.upsert_job(_replace(job, changes))
        elif event.type == "outreach_attempt":
            self.store.add_outreach(
                OutreachRecord(
                    event_id=event.event_id,
                    consumer_id=consumer_id,
                    at=event.at,
                    by=f["by"],
                    role=f["role"],
                    method=f["method"],
                    reached=f["reached"],
                )
            )
        elif event.type == "employer_contact":
            self.store.add_employer_contact(
                EmployerContactRecord(
                    event_id=event.event_id,
                    specialist_id=f["specialist"],
                    employer=f["employer"],
                    face_to_face=f["face_to_face"],
                    consumer_id=consumer_id,
                    at=event.at,
                )
            )
        elif event.type == "appointment_scheduled":
            consumer = self._consumer(consumer_id)
            self.store.upsert_appointment(
                AppointmentRecord(
                    consumer_id=consumer_id,
                    appointment_id=f["appointment_id"],
                    start=calendar.to_local(datetime.fromisoformat(f["start"]), consumer.timezone),
                    duration_minutes=f["duration_minutes"],
                    place=f["place"],
                )
            )
        elif event.type == "appointment_cancelled":
            for appointment in self.store.list_appointments(consumer_id):
                if appointment.appointment_id == f["appointment_id"]:
                    self.store.upsert_appointment(_replace(appointment, {"cancelled": True}))
        elif event.type == "reassigned":
            self.store.set_consumer_specialist(consumer_id, f["specialist"])

    @activity.defn
    def save_due_contacts(self, data: SaveDueContactsInput) -> None:
        self.store.save_due_contacts(
            [
                DueContactRecord(
                    key=dc.key,
                    consumer_id=data.consumer_id,
                    rule=dc.rule,
                    job_id=dc.job_id,
                    seq=dc.seq,
                    window_start=dc.window_start,
                    due=dc.due,
                    status=dc.status,
                    satisfied_on=dc.satisfied_on,
                    referral_no=dc.referral_no,
                    created_at=dc.created_at,
                )
                for dc in data.due_contacts
            ],
            data.changed_at,
        )

    @activity.defn
    def record_consent_change(self, data: ConsentChangeInput) -> None:
        self.store.record_consent_change(
            ConsentChangeRecord(
                key=data.key,
                consumer_id=data.consumer_id,
                state=data.change.state,
                at=data.at,
                source=data.change.source,
                disclosure_version=data.change.disclosure_version,
            )
        )

    # ---------------------------------------------------------------- messages

    @activity.defn
    def send_staff_reminder(self, reminder: StaffReminder) -> None:
        consumer = self._consumer(reminder.consumer_id)
        specialist = self.store.get_specialist(consumer.specialist_id)
        link = f"{self.agency.app_url.rstrip('/')}/consumers/{consumer.id}"
        subject, body = messages.staff_reminder(
            kind=reminder.kind,
            rule=reminder.rule,
            consumer_name=consumer.name,
            case_id=consumer.id,
            window_start=reminder.window_start,
            due=reminder.due,
            send_on=calendar.local_date(
                reminder.send_at, specialist.timezone if specialist else consumer.timezone
            ),
            link=link,
        )
        targets: list[tuple[str, str, str, str, str]] = []  # role, id, tz, channel, address
        if specialist is not None:
            for channel in specialist.channels:
                address = specialist.address(channel)
                if address:
                    targets.append(
                        ("specialist", specialist.id, specialist.timezone, channel, address)
                    )
        member = consumer.treatment_team_member
        if "treatment_team_member" in reminder.recipient_roles and member is not None:
            if member.email:
                targets.append(
                    ("treatment_team_member", member.id, consumer.timezone, "email", member.email)
                )
            if member.phone:
                targets.append(
                    ("treatment_team_member", member.id, consumer.timezone, "sms", member.phone)
                )
        for role, person_id, tz, channel, address in targets:
            self._deliver(
                NotificationRecord(
                    idempotency_key=f"{reminder.key}/{_KEY_ROLES[role]}/{channel}",
                    channel=channel,
                    recipient_role=role,
                    recipient_id=person_id,
                    recipient_timezone=tz,
                    consumer_id=consumer.id,
                    rule=reminder.rule,
                    kind=reminder.kind,
                    send_at=reminder.send_at,
                    status="pending",
                    body=body,
                    subject=subject if channel == "email" else None,
                ),
                address,
            )

    @activity.defn
    def send_consumer_text(self, text: ConsumerText) -> TextOutcome:
        """Send (or record as skipped) one text to the consumer.

        Consent is checked here, when the text goes, against the stored state:
        a provider's opt-out (Twilio 21610) recorded since the journey last
        looked counts. The outcome tells the journey the consent it found.
        """
        consumer = self._consumer(text.consumer_id)
        label = self.agency.sender_label
        if text.kind == "appointment_reminder":
            specialist = self.store.get_specialist(consumer.specialist_id)
            first_name = specialist.name.split()[0] if specialist else "your specialist"
            assert text.appointment_start is not None and text.place is not None
            body = messages.appointment_reminder(
                sender_label=label,
                specialist_first_name=first_name,
                start=text.appointment_start,
                place=text.place,
                send_at=text.send_at,
                language=consumer.language,
            )
        elif text.kind == "opt_in_confirmation":
            body = messages.opt_in_confirmation(sender_label=label, language=consumer.language)
        elif text.kind == "opt_out_confirmation":
            body = messages.opt_out_confirmation(sender_label=label, language=consumer.language)
        else:
            body = messages.help_reply(
                sender_label=label,
                contact_phone=self.agency.contact_phone,
                language=consumer.language,
            )
        status = text.status
        if (
            status == "sent"
            and text.kind == "appointment_reminder"
            and consumer.sms_consent != "opted_in"
        ):
            status = "skipped_no_consent"
        if status == "sent" and not consumer.phone:
            status = "failed"
        record = NotificationRecord(
            idempotency_key=f"{text.key}/consumer/sms",
            channel="sms",
            recipient_role="consumer",
            recipient_id=consumer.id,
            recipient_timezone=consumer.timezone,
            consumer_id=consumer.id,
            rule=None,
            kind=text.kind,
            send_at=text.send_at,
            status="pending" if status == "sent" else status,
            body=body,
            error="no phone number on file" if status == "failed" else None,
        )
        if status != "sent":
            stored, _ = self.store.claim_notification(record)
            return TextOutcome(stored.status, consumer.sms_consent)
        status = self._deliver(record, consumer.phone or "")
        return TextOutcome(status, self._consumer(text.consumer_id).sms_consent)

    def _deliver(self, record: NotificationRecord, address: str) -> str:
        """Send through the outbox (at most once); a text the provider refuses
        because the consumer unsubscribed makes their consent `opted_out`."""
        consumer_id = record.consumer_id
        on_opted_out = None
        if record.recipient_role == "consumer" and consumer_id:

            def on_opted_out() -> None:
                self._opted_out_by_provider(consumer_id, record.idempotency_key)

        return self.outbox.deliver(record, address, on_opted_out=on_opted_out)

    def _opted_out_by_provider(self, consumer_id: str, key: str) -> None:
        """The provider refused a text because the consumer unsubscribed (Twilio
        21610): their consent is `opted_out` from now on."""
        latest = self.store.list_consent_changes(consumer_id)
        self.store.record_consent_change(
            ConsentChangeRecord(
                key=f"{key}/provider_opt_out",
                consumer_id=consumer_id,
                state="opted_out",
                at=activity.info().current_attempt_scheduled_time,
                source="twilio:21610",
                disclosure_version=latest[-1].disclosure_version if latest else None,
            )
        )

    def _consumer(self, consumer_id: str) -> ConsumerRecord:
        consumer = self.store.get_consumer(consumer_id)
        if consumer is None:
            raise ApplicationError(
                f"no consumer {consumer_id!r} on file", type="UnknownPerson", non_retryable=True
            )
        return consumer

    def all(self) -> list[Any]:
        """Every activity, for the worker."""
        return [
            self.load_profile,
            self.specialist_timezone,
            self.specialist_team,
            self.record_event,
            self.save_due_contacts,
            self.record_consent_change,
            self.send_staff_reminder,
            self.send_consumer_text,
        ]


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _replace(record: Any, changes: dict[str, Any]) -> Any:
    return dataclasses.replace(record, **changes)
