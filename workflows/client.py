"""Sending events to journeys: the one implementation every entry point uses
(`ips simulate` now; the API and the CLI later)."""

from __future__ import annotations

from typing import Any

from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from rules.events import EventEnvelope, EventError
from rules.journey import JourneyView
from rules.policy import Policy
from store import Store
from workflows.journey import TASK_QUEUE, ConsumerJourney, JourneyInput, journey_id


async def send_event(
    client: Client, store: Store, envelope: EventEnvelope, policy: Policy
) -> JourneyView | None:
    """Record an event in its consumer's journey; a referral starts the journey.

    An event id already recorded is a retry: nothing changes and the journey's
    state is returned, even after the journey closed. Raises `EventError`
    naming the field when the event is refused; then nothing is recorded.
    """
    if envelope.consumer is None:
        raise EventError("consumer", "names the consumer the event is about; it is required")
    if store.get_consumer(envelope.consumer) is None:
        raise EventError("consumer", f"no consumer {envelope.consumer!r} on file")
    specialist = envelope.fields.get("specialist")
    if (
        envelope.type in ("reassigned", "employer_contact")
        and specialist is not None
        and store.get_specialist(str(specialist)) is None
    ):
        raise EventError("specialist", f"no specialist {specialist!r} on file")
    workflow_id = journey_id(envelope.consumer)
    handle = client.get_workflow_handle_for(ConsumerJourney.run, workflow_id)
    if store.event_exists(envelope.event_id):
        return await _current_state(handle)
    if envelope.type == "referred":
        await client.start_workflow(
            ConsumerJourney.run,
            JourneyInput(consumer_id=envelope.consumer, policy=policy),
            id=workflow_id,
            task_queue=TASK_QUEUE,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
    try:
        return await handle.execute_update(ConsumerJourney.record_event, envelope)
    except WorkflowUpdateFailedError as err:
        raise _as_event_error(err.cause) from None
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise EventError(
                "consumer",
                f"{envelope.consumer!r} has no open journey; record a referral first",
            ) from None
        raise


async def _current_state(handle: WorkflowHandle[Any, Any]) -> JourneyView | None:
    try:
        return await handle.query(ConsumerJourney.state)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return None
        raise


def _as_event_error(cause: BaseException | None) -> EventError:
    if isinstance(cause, ApplicationError) and cause.type == "EventRejected" and cause.details:
        field, reason = cause.details[0], cause.details[1]
        return EventError(str(field), str(reason))
    return EventError("event", str(cause))


async def journey_state(client: Client, consumer_id: str) -> JourneyView | None:
    """The journey's state (of its latest run, open or closed); None if it never started."""
    handle = client.get_workflow_handle_for(ConsumerJourney.run, journey_id(consumer_id))
    return await _current_state(handle)
