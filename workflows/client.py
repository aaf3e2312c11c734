"""Sending events to journeys: the one implementation every entry point uses
(`ips simulate` now; the API and the CLI later)."""

from __future__ import annotations

from typing import Any

from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from activities.sweeps import CASELOAD, SweepInput, SweepResult, sweep_id
from rules.events import EventEnvelope, EventError
from rules.journey import JourneyView
from rules.policy import Policy
from store import Store
from workflows.inputs import JourneyInput
from workflows.journey import TASK_QUEUE, ConsumerJourney, journey_id
from workflows.sweeps import SWEEP_WORKFLOWS


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
        view = await handle.execute_update(ConsumerJourney.record_event, envelope)
    except WorkflowUpdateFailedError as err:
        raise _as_event_error(err.cause) from None
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise EventError(
                "consumer",
                f"{envelope.consumer!r} has no open journey; record a referral first",
            ) from None
        raise
    if envelope.type in ("referred", "reassigned"):
        # A consumer joined a specialist's caseload: check it (a warning, never a
        # refusal). Not waited for: the event is recorded whatever the check finds.
        check = assignment_check(store, envelope.consumer, envelope.event_id, policy)
        if check is not None:
            await start_sweep(client, check)
    return view


async def start_sweep(client: Client, data: SweepInput) -> WorkflowHandle[Any, SweepResult] | None:
    """Start one agency sweep for its recipient and period; None when a sweep of
    that id was already started (by another scheduler, or earlier): it is done
    or being done, and is not done twice."""
    workflow = SWEEP_WORKFLOWS[data.sweep]
    try:
        return await client.start_workflow(
            workflow.__name__,
            data,
            id=sweep_id(data.sweep, data.recipient_id, data.period),
            task_queue=TASK_QUEUE,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            result_type=SweepResult,
        )
    except WorkflowAlreadyStartedError:
        return None


async def run_sweep(client: Client, data: SweepInput) -> SweepResult | None:
    """Start the sweep (see `start_sweep`) and wait for what it did; None when it
    was already started."""
    handle = await start_sweep(client, data)
    if handle is None:
        return None
    result: SweepResult = await handle.result()
    return result


def assignment_check(
    store: Store, consumer_id: str, event_id: str, policy: Policy
) -> SweepInput | None:
    """The caseload check for the supervisor of the consumer's specialist after
    the consumer was referred or reassigned to that specialist (event `event_id`);
    None when the specialist has no supervisor."""
    consumer = store.get_consumer(consumer_id)
    specialist = store.get_specialist(consumer.specialist_id) if consumer else None
    if specialist is None or specialist.supervisor_id is None:
        return None
    return SweepInput(
        sweep=CASELOAD,
        recipient_id=specialist.supervisor_id,
        period=f"assign-{consumer_id}-{event_id}",
        policy=policy,
        consumer_id=consumer_id,
    )


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
