"""Scenario files (SPEC §9): loading and validation.

Every error names where it is (`events[3].start_date`, `consumers[0].timezone`)
and why. Events are also played through the pure rules before anything runs,
so an event the journey would refuse is reported with its index up front.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rules import calendar
from rules import journey as rules
from rules.events import EVENT_TYPES, EventEnvelope, EventError, Reassigned, parse_event
from rules.policy import Policy, PolicyError, load_policy
from service.people import (
    ConsumerIn,
    SpecialistIn,
    SupervisorIn,
    check_phone,
    check_timezone,
    phone_as_text,
)


class ScenarioError(ValueError):
    """A scenario that cannot be run; the message says where and why."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Agency(_Model):
    name: Annotated[str, Field(min_length=1)]
    timezone: str
    sms_sender_label: str | None = None
    contact_phone: str | None = None
    app_url: str = "https://ips.example.org"

    _tz = field_validator("timezone")(check_timezone)
    _phone_text = field_validator("contact_phone", mode="before")(phone_as_text)
    _phone = field_validator("contact_phone")(check_phone)


# People in a scenario are checked exactly as the API and `ips people add` check them.
Supervisor = SupervisorIn
Specialist = SpecialistIn
Consumer = ConsumerIn


@dataclass(frozen=True)
class ScenarioEvent:
    index: int
    instant: datetime  # aware
    envelope: EventEnvelope


@dataclass(frozen=True)
class Scenario:
    agency: Agency
    policy: Policy
    supervisors: list[Supervisor]
    specialists: list[Specialist]
    consumers: list[Consumer]
    events: list[ScenarioEvent]
    until: date

    @property
    def end(self) -> datetime:
        """The end of the `until` day in the agency's time zone."""
        return calendar.end_of_day(self.until, self.agency.timezone)


def load_scenario(path: Path, *, now: datetime | None = None) -> Scenario:
    """The scenario in a file. Like every `ScenarioError`, a file that cannot be
    read or parsed is reported without the file's name: whoever shows the
    message (`ips simulate`) puts the name in front."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ScenarioError(f"cannot be read ({err.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ScenarioError(_yaml_problem(err)) from None
    return parse_scenario(data, now=now)


def _yaml_problem(err: yaml.YAMLError) -> str:
    if isinstance(err, yaml.MarkedYAMLError) and err.problem_mark is not None:
        mark = err.problem_mark
        reason = ": ".join(part for part in (err.context, err.problem) if part)
        return f"line {mark.line + 1}, column {mark.column + 1}: is not valid YAML ({reason})"
    return f"is not valid YAML ({err})"


def parse_scenario(data: Any, *, now: datetime | None = None) -> Scenario:
    if not isinstance(data, dict):
        raise ScenarioError("scenario: must be a mapping with agency, consumers, events and until")
    known = {"agency", "policy", "supervisors", "specialists", "consumers", "events", "until"}
    for key in data:
        if key not in known:
            raise ScenarioError(f"{key}: is not a scenario section ({', '.join(sorted(known))})")
    for key in ("agency", "specialists", "consumers", "events", "until"):
        if key not in data:
            raise ScenarioError(f"{key}: is required")

    agency = _model(Agency, data["agency"], "agency")
    try:
        policy = load_policy(data.get("policy") or {})
    except PolicyError as err:
        raise ScenarioError(str(err)) from None
    supervisors = _models(Supervisor, data.get("supervisors") or [], "supervisors")
    specialists = _models(Specialist, data["specialists"], "specialists")
    consumers = _models(Consumer, data["consumers"], "consumers")
    _unique_ids(supervisors, "supervisors")
    _unique_ids(specialists, "specialists")
    _unique_ids(consumers, "consumers")
    supervisor_ids = {s.id for s in supervisors}
    specialist_ids = {s.id for s in specialists}
    for i, sp in enumerate(specialists):
        if sp.supervisor is not None and sp.supervisor not in supervisor_ids:
            raise ScenarioError(f"specialists[{i}].supervisor: no supervisor {sp.supervisor!r}")
        if "sms" in sp.channels and sp.phone is None:
            raise ScenarioError(f"specialists[{i}].phone: is required for the sms channel")
    for i, c in enumerate(consumers):
        if c.specialist not in specialist_ids:
            raise ScenarioError(f"consumers[{i}].specialist: no specialist {c.specialist!r}")

    until = _until(data["until"])
    events = _events(data["events"], agency, {c.id: c for c in consumers}, specialist_ids)
    now = now or datetime.now(UTC)
    if events and events[0].instant <= now:
        raise ScenarioError(
            f"events[0].at: {events[0].envelope.at} is in the past. The simulation clock only "
            "moves forward from today, so a scenario must lie in the future: move its dates "
            "on (any distance, for example to 2041)"
        )
    if events and events[-1].instant.astimezone(calendar.zone(agency.timezone)).date() > until:
        raise ScenarioError(
            f"until: {until.isoformat()} is before the last event "
            f"(events[{events[-1].index}] on {events[-1].envelope.at})"
        )
    scenario = Scenario(agency, policy, supervisors, specialists, consumers, events, until)
    _dry_run(scenario)
    return scenario


def _model(cls: type[BaseModel], data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise ScenarioError(f"{where}: must be a mapping")
    try:
        return cls.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        reason = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            reason = "is not a known field"
        elif first["type"] == "missing":
            reason = "is required"
        raise ScenarioError(f"{where}.{loc}: {reason}") from None


def _models(cls: type[BaseModel], data: Any, where: str) -> list[Any]:
    if not isinstance(data, list):
        raise ScenarioError(f"{where}: must be a list")
    return [_model(cls, item, f"{where}[{i}]") for i, item in enumerate(data)]


def _unique_ids(items: list[Any], where: str) -> None:
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item.id in seen:
            raise ScenarioError(f"{where}[{i}].id: {item.id!r} is used twice")
        seen.add(item.id)


def _until(value: Any) -> date:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ScenarioError(f"until: {value!r} is not a date like 2042-01-07") from None


def _events(
    raw: Any, agency: Agency, consumers: dict[str, Consumer], specialist_ids: set[str]
) -> list[ScenarioEvent]:
    if not isinstance(raw, list):
        raise ScenarioError("events: must be a list")
    events: list[ScenarioEvent] = []
    seen_ids: set[str] = set()
    for i, item in enumerate(raw):
        where = f"events[{i}]"
        if not isinstance(item, dict):
            raise ScenarioError(f"{where}: must be a mapping")
        item = dict(item)
        event_type = item.pop("type", None)
        if event_type is None:
            raise ScenarioError(f"{where}.type: is required")
        if event_type not in EVENT_TYPES:
            raise ScenarioError(f"{where}.type: unknown event type {event_type!r}")
        at = item.pop("at", None)
        if at is None:
            raise ScenarioError(f"{where}.at: is required")
        consumer_id = item.pop("consumer", None)
        event_id = str(item.pop("event_id", None) or f"scenario-{i}")
        recorded_by = item.pop("recorded_by", None)
        if event_id in seen_ids:
            raise ScenarioError(f"{where}.event_id: {event_id!r} is used twice")
        seen_ids.add(event_id)
        consumer = None
        if consumer_id is not None:
            consumer = consumers.get(str(consumer_id))
            if consumer is None:
                raise ScenarioError(f"{where}.consumer: no consumer {consumer_id!r}")
        elif event_type != "employer_contact":
            raise ScenarioError(f"{where}.consumer: is required for {event_type} events")
        # A missing specialist is reported by parse_event below.
        named = item.get("specialist")
        names_specialist = event_type in ("employer_contact", "reassigned") and named is not None
        if names_specialist and named not in specialist_ids:
            raise ScenarioError(f"{where}.specialist: no specialist {named!r}")
        envelope = EventEnvelope(
            event_id=event_id,
            type=event_type,
            at=_iso(at),
            consumer=consumer.id if consumer else None,
            recorded_by=recorded_by,
            fields={k: _iso(v) for k, v in item.items()},
        )
        try:
            event = parse_event(envelope)
        except EventError as err:
            raise ScenarioError(f"{where}.{err.field}: {err.reason}") from None
        tz = consumer.timezone if consumer else agency.timezone
        instant = calendar.to_local(event.at, tz)
        if events and instant < events[-1].instant:
            raise ScenarioError(
                f"{where}.at: {envelope.at} is earlier than the event before it "
                f"({events[-1].envelope.at}); events must be in time order"
            )
        events.append(ScenarioEvent(index=i, instant=instant, envelope=envelope))
    return events


def _iso(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def _dry_run(scenario: Scenario) -> None:
    """Play the events through the pure rules to find any the journey would refuse."""
    specialists = {s.id: s for s in scenario.specialists}
    states = {
        c.id: rules.JourneyState.new(
            rules.Profile(
                consumer_id=c.id,
                timezone=c.timezone,
                specialist_id=c.specialist,
                specialist_timezone=specialists[c.specialist].timezone,
                has_treatment_team_member=c.treatment_team_member is not None,
                sms_consent=c.sms_consent,
            ),
            scenario.policy,
        )
        for c in scenario.consumers
    }
    for ev in scenario.events:
        if ev.envelope.consumer is None:
            continue
        state = states[ev.envelope.consumer]
        _advance_to(state, ev.instant)
        event = parse_event(ev.envelope)
        try:
            rules.check_event(state, event, ev.instant)
        except EventError as err:
            raise ScenarioError(f"events[{ev.index}].{err.field}: {err.reason}") from None
        if isinstance(event, Reassigned):
            state.specialist_timezone = specialists[event.specialist].timezone
        rules.apply_event(state, event, ev.instant)


def _advance_to(state: rules.JourneyState, now: datetime) -> None:
    while (wake := rules.next_wake(state, now)) is not None and wake <= now:
        rules.advance(state, wake)
    rules.advance(state, now)
