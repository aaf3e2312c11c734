"""A journey driven the way the workflow drives it, without Temporal.

`JourneyDriver` holds one consumer's `JourneyState`. `event(type, at, **fields)`
first lets time pass up to the event's instant (calling `advance` at every
`next_wake` on the way), then checks and applies the event at that instant and
handles whatever has become due. `run_until(local time)` lets time pass. Every
staff reminder and consumer text is collected, and every due contact ever
touched is kept, as the store keeps them (the workflow state forgets old ones).

Times are written as the consumer's local wall-clock time ("2041-01-07T10:00").
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from rules.consent import ConsentChange
from rules.due import DueContact
from rules.events import Event, EventEnvelope, EventError, parse_event
from rules.journey import (
    ConsumerText,
    Effects,
    JourneyState,
    Profile,
    StaffReminder,
    advance,
    apply_event,
    check_event,
    next_wake,
    phase,
)
from rules.policy import Policy

NEW_YORK = "America/New_York"
LOS_ANGELES = "America/Los_Angeles"

# More wake-ups than any test needs; a journey that wakes for ever is a bug.
MAX_WAKES = 20_000


class JourneyDriver:
    def __init__(
        self,
        *,
        timezone: str = NEW_YORK,
        specialist_timezone: str | None = None,
        treatment_team_member: bool = False,
        sms_consent: str = "none",
        policy: Policy | None = None,
        consumer_id: str = "c-1",
        specialist_id: str = "es-1",
    ) -> None:
        self.timezone = timezone
        self.state = JourneyState.new(
            Profile(
                consumer_id=consumer_id,
                timezone=timezone,
                specialist_id=specialist_id,
                specialist_timezone=specialist_timezone or timezone,
                has_treatment_team_member=treatment_team_member,
                sms_consent=sms_consent,
            ),
            policy or Policy(),
        )
        self.now: datetime | None = None
        self.reminders: list[StaffReminder] = []
        self.texts: list[ConsumerText] = []
        self.consent_changes: list[ConsentChange] = []
        # Every due contact ever created, in order: the store's view.
        self.record: list[DueContact] = []
        self._event_ids = itertools.count(1)

    # ------------------------------------------------------------ time

    def instant(self, local: str | datetime) -> datetime:
        """A consumer-local wall-clock time (or an aware datetime) as an instant."""
        value = datetime.fromisoformat(local) if isinstance(local, str) else local
        if value.tzinfo is None:
            value = value.replace(tzinfo=ZoneInfo(self.timezone))
        return value

    def run_until(self, local: str | datetime) -> None:
        """Let time pass up to `local`, waking wherever the journey asks to."""
        target = self.instant(local)
        if self.now is None:
            self.now = target
        wakes = 0
        while (w := next_wake(self.state, self.now)) is not None and w <= target:
            self._collect(advance(self.state, w))
            self.now = max(self.now, w)
            wakes += 1
            assert wakes < MAX_WAKES, "the journey keeps waking without making progress"
        self.now = max(self.now, target)

    def _settle_now(self) -> None:
        """Handle everything already due at `now`, as the workflow does after an event."""
        assert self.now is not None
        wakes = 0
        while (w := next_wake(self.state, self.now)) is not None and w <= self.now:
            self._collect(advance(self.state, w))
            wakes += 1
            assert wakes < MAX_WAKES, "the journey keeps waking without making progress"

    # ------------------------------------------------------------ events

    def parse(self, type: str, at: str, *, event_id: str | None = None, **fields: Any) -> Event:
        return parse_event(
            EventEnvelope(
                event_id=event_id or f"ev-{next(self._event_ids)}",
                type=type,
                at=at,
                consumer=self.state.consumer_id,
                recorded_by="es-1",
                fields=fields,
            )
        )

    def event(self, type: str, at: str, *, event_id: str | None = None, **fields: Any) -> Effects:
        """Record an event at its own instant, after letting time pass up to it."""
        self.run_until(at)
        assert self.now is not None
        event = self.parse(type, at, event_id=event_id, **fields)
        check_event(self.state, event, self.now)
        effects = apply_event(self.state, event, self.now)
        self._collect(effects)
        self._settle_now()
        return effects

    def refused(self, type: str, at: str, **fields: Any) -> EventError:
        """The error `check_event` raises for this event at its instant."""
        self.run_until(at)
        assert self.now is not None
        event = self.parse(type, at, **fields)
        with pytest.raises(EventError) as refused:
            check_event(self.state, event, self.now)
        return refused.value

    def _collect(self, effects: Effects) -> None:
        for dc in effects.due_contacts:
            if all(dc is not seen for seen in self.record):
                self.record.append(dc)
        self.reminders.extend(effects.reminders)
        self.texts.extend(effects.texts)
        self.consent_changes.extend(effects.consent_changes)

    # ------------------------------------------------------------ looking

    @property
    def due_contacts(self) -> list[DueContact]:
        return self.state.due_contacts

    @property
    def phase(self) -> str:
        assert self.now is not None
        return phase(self.state, self.now.astimezone(ZoneInfo(self.timezone)).date())

    def all(self, rule: str, *, job_id: str | None = None) -> list[DueContact]:
        """Every due contact of a rule ever created (optionally of one job), in order."""
        return [
            dc for dc in self.record if dc.rule == rule and (job_id is None or dc.job_id == job_id)
        ]

    def due(self, rule: str, *, seq: int | None = None, job_id: str | None = None) -> DueContact:
        """The one due contact of this rule (seq, job); fails if there are none or several."""
        found = [dc for dc in self.all(rule, job_id=job_id) if seq is None or dc.seq == seq]
        assert len(found) == 1, f"{len(found)} {rule} due contacts (seq={seq}, job={job_id})"
        return found[0]

    def sent(
        self, rule: str, *, seq: int | None = None, job_id: str | None = None
    ) -> dict[str, str]:
        """The staff reminders sent for one due contact: kind -> send_at (ISO, with offset)."""
        dc = self.due(rule, seq=seq, job_id=job_id)
        found: dict[str, str] = {}
        for r in self.reminders:
            if r.due_contact_key == dc.key:
                assert r.kind not in found, f"{r.kind} for {dc.key} sent twice"
                found[r.kind] = r.send_at.isoformat()
        return found


def window(dc: DueContact) -> tuple[date, date]:
    return (dc.window_start, dc.due)


@pytest.fixture
def journey() -> JourneyDriver:
    """A consumer and specialist in New York, no treatment-team member, default policy."""
    return JourneyDriver()


@pytest.fixture
def new_journey() -> Callable[..., JourneyDriver]:
    """Build a driver with other settings: `new_journey(specialist_timezone=...)`."""
    return JourneyDriver
