"""Referrals, events, journey state and due lists, within the caller's scope."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.exc import DBAPIError
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from rules.due import RULE_WORDS
from rules.events import EVENT_TYPES, EventEnvelope, EventError, parse_event
from rules.journey import JourneyView
from rules.policy import Policy
from service import access
from service.access import Actor
from service.errors import Invalid, NotFound, Unavailable
from store import DueContactRecord, EventRecord, OutreachRecord, Store
from store.records import DUE_CONTACT_STATUSES
from workflows.client import journey_state, send_event


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


@contextmanager
def available() -> Iterator[None]:
    """Turn a database or Temporal outage into `Unavailable`."""
    try:
        yield
    except DBAPIError:
        raise Unavailable("database") from None
    except RPCError as err:
        if err.status in (
            RPCStatusCode.UNAVAILABLE,
            RPCStatusCode.DEADLINE_EXCEEDED,
            RPCStatusCode.CANCELLED,
        ):
            raise Unavailable("Temporal server") from None
        raise
    except RuntimeError as err:
        if "connect" in str(err).lower() or "transport" in str(err).lower():
            raise Unavailable("Temporal server") from None
        raise


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
        if envelope.type == "reassigned":
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


def _envelope(data: dict[str, Any], consumer_id: str, actor: Actor) -> EventEnvelope:
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
