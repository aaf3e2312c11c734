"""ConsumerJourney: one durable workflow per consumer, id `journey-<consumer_id>`.

A thin shell around `rules.journey`: it receives events as updates, sleeps
until the next moment something is due, and carries out the effects the rules
return through activities. It ends only on `services_declined`, and continues
as new to keep each run's history small however many years it runs. After each
step it brings its search attributes (`workflows.search`) up to date, so that a
supervisor can find journeys in the Temporal UI.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.journey import (
        ConsentChangeInput,
        JourneyActivities,
        RecordEventInput,
        SaveDueContactsInput,
        TextOutcome,
    )
    from rules import journey as rules
    from rules.events import EventEnvelope, EventError, Reassigned, event_fields, parse_event
    from workflows import search
    from workflows.inputs import JourneyInput

TASK_QUEUE = "ips-journeys"
# Continue as new well before a run's history reaches 2,000 events.
HISTORY_LIMIT = 1_000
# Runs recorded before journeys kept their search attributes carry on without.
SEARCH_ATTRIBUTES_PATCH = "search-attributes"

_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=["UnknownPerson"],
)

# How long one attempt of an activity may take before Temporal tries again:
# after a worker died, its activities are retried on another this much later.
ACTIVITY_TIMEOUT = timedelta(seconds=60)
# The sends' attempts are shorter, so that a reminder whose worker was killed
# mid-send goes out soon. One attempt sends to each of the reminder's
# recipients, usually in well under a second each; if a provider hangs (each
# notifier gives up after 10 s to connect and 10 s to read), the next attempt
# carries on from where this one stopped (the outbox). Not a heartbeat
# timeout: with one, `ips simulate` (on Temporal's time-skipping test server)
# stalled part-way through a scenario, now and then.
SEND_TIMEOUT = timedelta(seconds=30)

_A = TypeVar("_A")
_R = TypeVar("_R")


async def _activity(
    method: Callable[[JourneyActivities, _A], _R],
    arg: _A,
    *,
    timeout: timedelta = ACTIVITY_TIMEOUT,
) -> _R:
    """Run one of the journey's activities, retried until the store or provider answers."""
    return await workflow.execute_activity_method(
        method, arg, start_to_close_timeout=timeout, retry_policy=_RETRY
    )


def journey_id(consumer_id: str) -> str:
    return f"journey-{consumer_id}"


def _rejection(err: EventError) -> ApplicationError:
    return ApplicationError(
        str(err), err.field, err.reason, type="EventRejected", non_retryable=True
    )


@workflow.defn
class ConsumerJourney:
    @workflow.init
    def __init__(self, input: JourneyInput) -> None:
        self._state: rules.JourneyState | None = input.state
        # Handlers and the main loop take turns: each runs rules and activities
        # as one step, so an event never meets a half-advanced journey.
        self._lock = asyncio.Lock()
        self._changes = 0
        # The Team search attribute, and the specialist it was looked up for.
        self._team: str | None = None
        self._team_of: str | None = None

    @workflow.run
    async def run(self, input: JourneyInput) -> rules.JourneyView:
        if self._state is None:
            profile = await _activity(JourneyActivities.load_profile, input.consumer_id)
            self._state = rules.JourneyState.new(profile, input.policy)
        state = self._state
        if input.state is not None:
            # The run before may not have kept search attributes.
            async with self._lock:
                await self._upsert_search_attributes()
        while not rules.has_ended(state):
            seen = self._changes
            now = workflow.now()
            wake = rules.next_wake(state, now)
            if wake is None or wake > now:
                timeout = None if wake is None else wake - now
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(
                        lambda seen=seen: self._changes != seen,  # type: ignore[misc]
                        timeout=timeout,
                    )
            async with self._lock:
                await self._carry_out(rules.advance(state, workflow.now()))
                await self._upsert_search_attributes()
            if self._history_full():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(
                    JourneyInput(consumer_id=input.consumer_id, policy=state.policy, state=state)
                )
        await workflow.wait_condition(workflow.all_handlers_finished)
        return rules.view(state, workflow.now())

    def _history_full(self) -> bool:
        info = workflow.info()
        return (
            info.get_current_history_length() > HISTORY_LIMIT or info.is_continue_as_new_suggested()
        )

    @workflow.update
    async def record_event(self, envelope: EventEnvelope) -> rules.JourneyView:
        await workflow.wait_condition(lambda: self._state is not None)
        state = self._state
        assert state is not None
        async with self._lock:
            now = workflow.now()
            if envelope.event_id in state.recent_event_ids:
                return rules.view(state, now)
            # The journey first catches up to now, so the event meets it as it is.
            await self._carry_out(rules.advance(state, now))
            try:
                event = parse_event(envelope)
                rules.check_event(state, event, now)
            except EventError as err:
                raise _rejection(err) from None
            if isinstance(event, Reassigned):
                tz = await _activity(JourneyActivities.specialist_timezone, event.specialist)
                if tz is None:
                    raise _rejection(
                        EventError("specialist", f"no specialist {event.specialist!r} on file")
                    )
                state.specialist_timezone = tz
            stored = await _activity(
                JourneyActivities.record_event,
                RecordEventInput(
                    consumer_id=state.consumer_id,
                    event_id=event.event_id,
                    type=event.type,
                    at=rules.event_instant(state, event),
                    recorded_by=event.recorded_by,
                    fields=event_fields(event),
                ),
            )
            if not stored:
                # Already in the audit trail: a retry of an event applied long ago.
                state.recent_event_ids.append(event.event_id)
                await self._upsert_search_attributes()
                return rules.view(state, now)
            effects = rules.apply_event(state, event, now)
            effects.extend(rules.advance(state, now))
            await self._carry_out(effects)
            await self._upsert_search_attributes()
            self._changes += 1
            return rules.view(state, now)

    @record_event.validator
    def _validate_event(self, envelope: EventEnvelope) -> None:
        state = self._state
        if state is not None and envelope.event_id in state.recent_event_ids:
            return  # a retry: accepted, and changes nothing
        try:
            event = parse_event(envelope)
            if state is not None:
                rules.check_event(state, event, workflow.now())
        except EventError as err:
            raise _rejection(err) from None

    @workflow.update
    async def catch_up(self) -> rules.JourneyView:
        """Handle everything due by now, then answer the state (used at a
        simulation's end so that no timer is still being worked on)."""
        await workflow.wait_condition(lambda: self._state is not None)
        assert self._state is not None
        async with self._lock:
            await self._carry_out(rules.advance(self._state, workflow.now()))
            await self._upsert_search_attributes()
            return rules.view(self._state, workflow.now())

    @workflow.query
    def state(self) -> rules.JourneyView | None:
        if self._state is None:
            return None
        return rules.view(self._state, workflow.now())

    async def _upsert_search_attributes(self) -> None:
        """Bring the journey's search attributes up to date (`workflows.search`),
        upserting only those that changed."""
        state = self._state
        assert state is not None
        if not workflow.patched(SEARCH_ATTRIBUTES_PATCH):
            return
        if self._team_of != state.specialist_id:
            self._team = await _activity(JourneyActivities.specialist_team, state.specialist_id)
            self._team_of = state.specialist_id
        wanted = search.journey_attributes(state, self._team, workflow.now())
        updates = search.changes(workflow.info().typed_search_attributes, wanted)
        if updates:
            workflow.upsert_search_attributes(updates)

    async def _carry_out(self, effects: rules.Effects) -> None:
        state = self._state
        assert state is not None
        now = workflow.now()
        if effects.due_contacts:
            await _activity(
                JourneyActivities.save_due_contacts,
                SaveDueContactsInput(state.consumer_id, effects.due_contacts, now),
            )
        for n, change in enumerate(effects.consent_changes):
            await _activity(
                JourneyActivities.record_consent_change,
                ConsentChangeInput(
                    state.consumer_id, change, now, f"{state.consumer_id}/{now.isoformat()}/{n}"
                ),
            )
        if not (effects.reminders or effects.texts):
            return
        outcomes = await asyncio.gather(
            *[
                _activity(JourneyActivities.send_staff_reminder, reminder, timeout=SEND_TIMEOUT)
                for reminder in effects.reminders
            ],
            *[
                _activity(JourneyActivities.send_consumer_text, text, timeout=SEND_TIMEOUT)
                for text in effects.texts
            ],
        )
        for outcome in outcomes[len(effects.reminders) :]:
            # None in histories recorded before texts reported their outcome.
            if isinstance(outcome, TextOutcome):
                rules.consent_as_stored(state, outcome.sms_consent)
