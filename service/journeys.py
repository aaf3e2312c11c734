"""Referrals, events, journey state and due lists, within the caller's scope."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from rules import calendar
from rules.consent import classify_reply
from rules.due import RULE_WORDS
from rules.events import EVENT_TYPES, EventEnvelope, EventError, event_fields, parse_event
from rules.journey import FUTURE_SKEW, JourneyView
from rules.policy import Policy
from service import access
from service.access import Actor
from service.errors import Conflict, Invalid, NotFound, Unavailable
from store import (
    ConsentChangeRecord,
    DueContactRecord,
    EmployerContactRecord,
    EventRecord,
    OutreachRecord,
    Store,
)
from store.records import DUE_CONTACT_STATUSES
from workflows.client import journey_state, send_event

# How long /readyz waits for Temporal's health check.
READY_TIMEOUT = timedelta(seconds=3)


@dataclass
class Services:
    """What every operation needs: the store, a way to reach Temporal, the policy."""

    store: Store
    connect: Callable[[], Awaitable[Client]]
    policy: Policy
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    _client: Client | None = None

    async def client(self) -> Client:
        if self._client is None:
            try:
                self._client = await self.connect()
            except (RuntimeError, OSError, RPCError):
                raise Unavailable("Temporal server") from None
        return self._client


def outage(err: BaseException) -> Unavailable | None:
    """What `err` means when it is the database or Temporal not answering; None
    when it is anything else."""
    if isinstance(err, Unavailable):
        return err
    if isinstance(err, OperationalError | InterfaceError) or (
        isinstance(err, DBAPIError) and err.connection_invalidated
    ):
        return Unavailable("database")
    if isinstance(err, RPCError) and err.status in (
        RPCStatusCode.UNAVAILABLE,
        RPCStatusCode.DEADLINE_EXCEEDED,
        RPCStatusCode.CANCELLED,
    ):
        return Unavailable("Temporal server")
    if isinstance(err, RuntimeError) and any(
        word in str(err).lower() for word in ("connect", "transport")
    ):
        return Unavailable("Temporal server")
    return None


@contextmanager
def available() -> Iterator[None]:
    """Turn a database or Temporal outage into `Unavailable`."""
    try:
        yield
    except Exception as err:
        unavailable = outage(err)
        if unavailable is None or unavailable is err:
            raise
        raise unavailable from None


async def ready(services: Services) -> dict[str, bool]:
    """Whether the database and Temporal answer (a trivial query, a health check)."""
    checks = {"database": True, "temporal": True}
    try:
        services.store.get_staff_user("")
    except Exception as err:
        if outage(err) is None:
            raise
        checks["database"] = False
    try:
        client = await services.client()
        await client.service_client.check_health(timeout=READY_TIMEOUT)
    except Exception as err:
        if outage(err) is None:
            raise
        checks["temporal"] = False
    return checks


async def record_event(
    services: Services, actor: Actor, consumer_id: str, data: dict[str, Any]
) -> JourneyView | None:
    """Record one event (SPEC §4) in a consumer's journey. `referred` starts it.

    `data` holds `type`, `at`, optionally `event_id`, and the type's fields.
    """
    with available():
        access.visible_consumer(services.store, actor, consumer_id)
        envelope = _envelope(data, consumer_id, actor)
        try:
            # Checked here too, so that bad input is named even while Temporal is down.
            parse_event(envelope)
        except EventError as err:
            raise Invalid(err.field, err.reason) from None
        _check_event_id(services.store, envelope, consumer_id)
        if envelope.type in ("reassigned", "employer_contact"):
            target = envelope.fields.get("specialist")
            specialist = services.store.get_specialist(str(target))
            if specialist is None or not access.may_see_specialist(
                services.store, actor, specialist
            ):
                raise Invalid("specialist", f"no specialist {target!r}")
        try:
            view = await send_event(
                await services.client(), services.store, envelope, services.policy
            )
        except EventError as err:
            raise Invalid(err.field, err.reason) from None
        if envelope.type == "reassigned":
            # Also when no journey is running yet, the consumer now belongs to them.
            services.store.set_consumer_specialist(consumer_id, str(envelope.fields["specialist"]))
        return view


async def refer(
    services: Services,
    actor: Actor,
    consumer_id: str,
    *,
    at: datetime | None = None,
    event_id: str | None = None,
) -> JourneyView | None:
    """Record a referral (at defaults to now): it starts, or after closure restarts,
    the journey."""
    data = {"type": "referred", "at": at or _this_second(services), "event_id": event_id}
    return await record_event(services, actor, consumer_id, data)


async def reassign(
    services: Services,
    actor: Actor,
    consumer_id: str,
    specialist: str,
    *,
    at: datetime | None = None,
    event_id: str | None = None,
) -> JourneyView | None:
    """Hand the consumer to another specialist (at defaults to now)."""
    data = {
        "type": "reassigned",
        "at": at or _this_second(services),
        "event_id": event_id,
        "specialist": specialist,
    }
    return await record_event(services, actor, consumer_id, data)


async def record_text_from_consumer(
    services: Services, *, message_sid: str, from_number: str, body: str
) -> list[str]:
    """A text that came in from `from_number`, as an `sms_reply` event of the journey
    of each consumer with that number; the ids of those consumers ([] for a number
    on no one's file). The journey decides what the text means for consent and
    answers HELP through the outbox.

    The event id comes from the provider's message id, so a provider's retry is
    recorded once. A consumer whose journey takes no event (never referred, or
    closed) gets the consent change the journey would have made, in the store.
    """
    recorded = []
    with available():
        for consumer in services.store.list_consumers_by_phone(from_number):
            event_id = f"sms-{message_sid}-{consumer.id}"
            at = _this_second(services)
            data = {"type": "sms_reply", "at": at, "event_id": event_id, "body": body}
            try:
                await record_event(services, access.TWILIO, consumer.id, data)
            except Invalid:
                reply = classify_reply(body)
                if reply.new_state not in (None, consumer.sms_consent):
                    services.store.record_consent_change(
                        ConsentChangeRecord(
                            key=event_id,
                            consumer_id=consumer.id,
                            state=str(reply.new_state),
                            at=at,
                            source=reply.source,
                            disclosure_version=None,
                        )
                    )
            recorded.append(consumer.id)
    return recorded


def _this_second(services: Services) -> datetime:
    # Whole seconds, as people write times: an event they then date "now" does
    # not land before this one in the audit trail.
    return services.now().replace(microsecond=0)


def _check_event_id(store: Store, envelope: EventEnvelope, consumer_id: str) -> None:
    """An event id already recorded is a retry only for the same consumer."""
    if store.event_exists(envelope.event_id) and all(
        e.event_id != envelope.event_id for e in store.list_events(consumer_id)
    ):
        raise Conflict("event_id", "is the id of another event; choose a new one")


def _envelope(data: dict[str, Any], consumer_id: str | None, actor: Actor) -> EventEnvelope:
    if not isinstance(data, dict):
        raise Invalid("body", "must be an event object with type and at")
    data = dict(data)
    event_type = data.pop("type", None)
    if event_type is None:
        raise Invalid("type", "is required")
    if event_type not in EVENT_TYPES:
        raise Invalid("type", f"unknown event type {event_type!r}")
    at = data.pop("at", None)
    if at is None:
        raise Invalid("at", "is required")
    if "consumer" in data and data.pop("consumer") not in (None, consumer_id):
        raise Invalid("consumer", "does not match the consumer in the path")
    data.pop("recorded_by", None)  # always the caller
    event_id = data.pop("event_id", None) or new_event_id()
    return EventEnvelope(
        event_id=str(event_id),
        type=str(event_type),
        at=at.isoformat() if isinstance(at, datetime | date) else str(at),
        consumer=consumer_id,
        recorded_by=actor.user_id,
        fields=data,
    )


def new_event_id() -> str:
    """An event id for a caller that chose none (a caller that may retry should
    choose one first, so that the retry is recognised)."""
    return f"ev-{uuid.uuid4().hex}"


async def journey(services: Services, actor: Actor, consumer_id: str) -> JourneyView:
    with available():
        access.visible_consumer(services.store, actor, consumer_id)
        view = await journey_state(await services.client(), consumer_id)
        if view is None:
            raise NotFound("journey", consumer_id)
        return view


def due_contacts(
    services: Services,
    actor: Actor,
    *,
    consumer: str | None = None,
    specialist: str | None = None,
    team: str | None = None,
    status: str | None = None,
    rule: str | None = None,
    due_from: date | None = None,
    due_to: date | None = None,
) -> list[DueContactRecord]:
    """Due contacts in the caller's scope, narrowed by the filters given."""
    store = services.store
    with available():
        if consumer is not None:
            consumers = {access.visible_consumer(store, actor, consumer).id}
        else:
            specialists: set[str] | None = None
            if specialist is not None:
                specialists = {access.visible_specialist(store, actor, specialist).id}
            if team is not None:
                access.visible_supervisor(store, actor, team)
                members = access.team_of(store, team)
                specialists = members if specialists is None else specialists & members
            consumers = {
                c.id
                for c in store.list_consumers()
                if access.may_see_consumer(store, actor, c)
                and (specialists is None or c.specialist_id in specialists)
            }
        if status is not None and status not in DUE_CONTACT_STATUSES:
            raise Invalid("status", f"must be one of {', '.join(sorted(DUE_CONTACT_STATUSES))}")
        if rule is not None and rule not in RULE_WORDS:
            raise Invalid("rule", f"must be one of {', '.join(RULE_WORDS)}")
        if due_from is not None and due_to is not None and due_to < due_from:
            raise Invalid("due_to", "is before due_from")
        return [
            dc
            for dc in store.list_due_contacts(status=status)
            if dc.consumer_id in consumers
            and (rule is None or dc.rule == rule)
            and (due_from is None or dc.due >= due_from)
            and (due_to is None or dc.due <= due_to)
        ]


def outreach_log(services: Services, actor: Actor, consumer_id: str) -> list[OutreachRecord]:
    with available():
        access.visible_consumer(services.store, actor, consumer_id)
        return services.store.list_outreach(consumer_id)


def history(services: Services, actor: Actor, consumer_id: str) -> list[EventRecord]:
    """The audit trail: every event, who recorded it and when."""
    with available():
        access.visible_consumer(services.store, actor, consumer_id)
        return services.store.list_events(consumer_id)


def record_employer_contact(
    services: Services, actor: Actor, specialist_id: str, data: dict[str, Any]
) -> EmployerContactRecord:
    """An employer contact of the specialist's own, about no one consumer (SPEC §4):
    it goes to their log and counts toward their weekly tally, not to a journey.

    `data` holds `at`, `employer`, `face_to_face` and optionally `event_id`; `at`
    without an offset is the specialist's local time. A retry with the same
    `event_id` changes nothing and answers the contact first recorded.
    """
    store = services.store
    with available():
        specialist = access.visible_specialist(store, actor, specialist_id)
        if not isinstance(data, dict):
            raise Invalid("body", "must be an employer contact with at, employer and face_to_face")
        data = {"type": "employer_contact", **data}
        if data.get("type") != "employer_contact":
            raise Invalid("type", "this is the log of employer contacts")
        if data.setdefault("specialist", specialist_id) != specialist_id:
            raise Invalid("specialist", "does not match the specialist in the path")
        if data.get("consumer") is not None:
            raise Invalid(
                "consumer", "a contact about a consumer is an event of that consumer's journey"
            )
        data.pop("consumer", None)
        envelope = _envelope(data, None, actor)
        try:
            event = parse_event(envelope)
        except EventError as err:
            raise Invalid(err.field, err.reason) from None
        at = calendar.to_local(event.at, specialist.timezone).astimezone(UTC)
        if at > services.now() + FUTURE_SKEW:
            raise Invalid(
                "at", f"{at.isoformat()} is in the future; record contacts once they happen"
            )
        for earlier in store.list_employer_contacts(specialist_id):
            if earlier.event_id == envelope.event_id:
                _record_in_audit_trail(services, actor, envelope, earlier.at, event_fields(event))
                return earlier
        if store.event_exists(envelope.event_id):
            raise Conflict("event_id", "is the id of another event; choose a new one")
        contact = EmployerContactRecord(
            event_id=envelope.event_id,
            specialist_id=specialist_id,
            employer=str(envelope.fields["employer"]),
            face_to_face=bool(envelope.fields["face_to_face"]),
            consumer_id=None,
            at=at,
        )
        # The log first, then the audit trail: a retry after a failure in
        # between finds the contact and completes the trail.
        if not store.add_employer_contact(contact):
            raise Conflict("event_id", "is the id of another event; choose a new one")
        _record_in_audit_trail(services, actor, envelope, at, event_fields(event))
        return contact


def _record_in_audit_trail(
    services: Services,
    actor: Actor,
    envelope: EventEnvelope,
    at: datetime,
    fields: dict[str, Any],
) -> None:
    services.store.record_event(
        EventRecord(
            event_id=envelope.event_id,
            type=envelope.type,
            at=at,
            consumer_id=None,
            payload=fields,
            recorded_by=actor.user_id,
            recorded_at=services.now(),
        )
    )


def employer_contacts(
    services: Services, actor: Actor, specialist_id: str
) -> list[EmployerContactRecord]:
    """A specialist's employer contacts: their own log and those about consumers."""
    with available():
        access.visible_specialist(services.store, actor, specialist_id)
        return services.store.list_employer_contacts(specialist_id)
