"""`ips refer`, `ips event`, `ips show` and `ips due`: what happens in a consumer's
journey, and what is due."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any, get_args
from zoneinfo import ZoneInfo

import typer

from cli.output import cell_text, iso, print_fields, print_json, print_table
from cli.session import JsonOption, TokenOption, staff_session
from rules.due import RULE_WORDS
from rules.events import Event
from rules.journey import DueContactView, JourneyView
from service import access
from service import journeys as service
from service.errors import Invalid, NotFound
from store import DueContactRecord, EmployerContactRecord, EventRecord

RECENT_EVENTS = 10

# Fields every event has, each with its own option or argument.
_EVENT_OPTIONS = {"at": "--at", "event_id": "--event-id", "type": "TYPE", "consumer": "CONSUMER"}
_DUE_OPTIONS = {
    "due_from": "--from",
    "due_to": "--to",
    "status": "--status",
    "rule": "--rule",
    "specialist": "--specialist",
    "team": "--team",
    "consumer": "--consumer",
}
_EVENT_MODELS = {
    get_args(m.model_fields["type"].annotation)[0]: m for m in get_args(get_args(Event)[0])
}


def _parse_at(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date and time like 2026-11-23T14:30 "
            "(the consumer's local time) or 2026-11-23T14:30-05:00"
        ) from None


def parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a day like 2026-12-31") from None


AtOption = Annotated[
    datetime | None,
    typer.Option(
        "--at",
        parser=_parse_at,
        metavar="DATETIME",
        help="When it happened, like 2026-11-23T14:30: the consumer's local time unless an "
        "offset such as -05:00 is given. Default: now.",
    ),
]
EventIdOption = Annotated[
    str | None,
    typer.Option(
        "--event-id",
        help="Your own id for this event. Sending the same id again records it only once, "
        "so a command that failed half-way can safely be repeated. Default: a new id.",
    ),
]


def refer(
    consumer: Annotated[str, typer.Argument(help="The consumer's id (their case id).")],
    at: AtOption = None,
    event_id: EventIdOption = None,
    token: TokenOption = None,
    json_output: JsonOption = False,
) -> None:
    """Record that a consumer was referred: their journey starts.

    The consumer must be on file (`ips people add consumer`). A consumer whose
    journey was closed (services declined) can be referred again.
    """
    event_id = event_id or service.new_event_id()
    with staff_session(token, _EVENT_OPTIONS) as session:
        view = session.run(
            service.refer(session.services, session.actor, consumer, at=at, event_id=event_id),
            event_id=event_id,
        )
    _print_recorded("referred", consumer, event_id, view, json_output)


def event(
    consumer: Annotated[
        str,
        typer.Argument(
            metavar="CONSUMER",
            help="The consumer's id; leave it out for an employer contact about no one consumer.",
        ),
    ],
    event_type: Annotated[
        str | None,
        typer.Argument(
            metavar="TYPE", help="What happened, like first_meeting (every type is listed above)."
        ),
    ] = None,
    field: Annotated[
        list[str] | None,
        typer.Option(
            "--field",
            "-f",
            metavar="NAME=VALUE",
            help="One detail of the event, like job_id=j-1 or face_to_face=true; repeat for "
            "each. Numbers and true/false are read as such; dates stay as written "
            "(start_date=2026-12-01).",
        ),
    ] = None,
    at: AtOption = None,
    event_id: EventIdOption = None,
    token: TokenOption = None,
    json_output: JsonOption = False,
) -> None:
    """Record something that happened in a consumer's journey.

    Give each detail of the event with -f NAME=VALUE; every type and its
    details are listed below. For example:

        ips event c-1 first_meeting
        ips event c-1 contact -f method=face_to_face -f place=community
        ips event c-1 job_started -f job_id=j-1 -f employer="Acme Foods" \\
          -f title="Stock associate" -f start_date=2026-12-07 \\
          -f hours_per_week=20 -f hourly_wage=15.5 -f competitive=true
        ips event c-1 job_ended -f job_id=j-1 -f end_date=2027-03-01

    An employer contact about no one consumer goes to the specialist's own log:

        ips event employer_contact -f specialist=es-1 -f employer=Acme \\
          -f face_to_face=true
    """
    if event_type is None:
        consumer, event_type = "", consumer
    event_id = event_id or service.new_event_id()
    with staff_session(token, lambda name: _event_option(event_type, name)) as session:
        if not consumer and event_type != "employer_contact":
            raise Invalid(
                "CONSUMER", "name the consumer and then the type: ips event CONSUMER TYPE"
            )
        fields = _fields(event_type, field or [])
        data = {"type": event_type, "at": at or session.services.now(), "event_id": event_id}
        if not consumer:
            specialist = fields.pop("specialist", None)
            if not specialist:
                raise Invalid("specialist", "names the specialist who made the contact")
            contact = service.record_employer_contact(
                session.services, session.actor, str(specialist), {**data, **fields}
            )
            _print_employer_contact(contact, json_output)
            return
        view = session.run(
            service.record_event(session.services, session.actor, consumer, {**data, **fields}),
            event_id=event_id,
        )
    _print_recorded(event_type, consumer, event_id, view, json_output)


def _details_of_each_type() -> str:
    """The --field names of every event type, from the event models themselves."""
    common = {"event_id", "type", "at", "consumer", "recorded_by"}
    lines = ["    The details of each type:", ""]
    for name, model in _EVENT_MODELS.items():
        own = [
            f if info.is_required() else f"{f} (optional)"
            for f, info in model.model_fields.items()
            if f not in common
        ]
        lines.append(f"        {name}: {', '.join(own) or 'none'}")
    return "\n".join(lines)


event.__doc__ = f"{event.__doc__}\n{_details_of_each_type()}\n"


def show(
    consumer: Annotated[str, typer.Argument(help="The consumer's id.")],
    token: TokenOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show where a consumer's journey stands: phase, specialist, outreach, the
    due contacts still open or missed, and the latest events."""
    with staff_session(token) as session:
        person = access.visible_consumer(session.store, session.actor, consumer)
        try:
            view = session.run(service.journey(session.services, session.actor, consumer))
        except NotFound as err:
            if err.kind != "journey":
                raise
            raise Invalid(
                "CONSUMER", f"{consumer} has no journey yet; start it with: ips refer {consumer}"
            ) from None
        events = service.history(session.services, session.actor, consumer)[-RECENT_EVENTS:]
    zone = ZoneInfo(person.timezone)
    if json_output:
        state = journey_json(view)
        print_json(
            {
                "consumer": state.pop("consumer"),
                "name": person.name,
                **state,
                "recent_events": [_event_json(e, zone) for e in events],
            }
        )
        return
    typer.echo(f"{person.id}  {person.name}")
    _print_journey(view)
    typer.echo()
    if events:
        print_table(
            ["at (consumer's time)", "event", "details", "recorded by"],
            [[e.at.astimezone(zone), e.type, _details(e.payload), e.recorded_by] for e in events],
            title=f"Latest events (up to {RECENT_EVENTS})",
        )


def due(
    specialist: Annotated[
        str | None, typer.Option("--specialist", help="Only this specialist's caseload.")
    ] = None,
    team: Annotated[
        str | None,
        typer.Option("--team", help="Only the caseloads of this supervisor's team (their id)."),
    ] = None,
    consumer: Annotated[str | None, typer.Option("--consumer", help="Only this consumer.")] = None,
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            help="Only due contacts in this state: open, done, missed, cancelled or "
            "not_applicable. Default: all.",
        ),
    ] = None,
    rule: Annotated[
        str | None,
        typer.Option("--rule", help=f"Only this rule: one of {', '.join(RULE_WORDS)}."),
    ] = None,
    due_from: Annotated[
        date | None,
        typer.Option(
            "--from", parser=parse_day, metavar="DAY", help="Only those due on or after this day."
        ),
    ] = None,
    due_to: Annotated[
        date | None,
        typer.Option(
            "--to", parser=parse_day, metavar="DAY", help="Only those due on or before this day."
        ),
    ] = None,
    token: TokenOption = None,
    json_output: JsonOption = False,
) -> None:
    """List due contacts, soonest due first: who, which rule, which job, the
    window in which the contact counts, the day it is due, and its state.

    Without a filter: every consumer you may see. For example, what is still open
    for a team this month:

        ips due --team sup-1 --status open --to 2026-12-31
    """
    with staff_session(token, _DUE_OPTIONS) as session:
        found = service.due_contacts(
            session.services,
            session.actor,
            consumer=consumer,
            specialist=specialist,
            team=team,
            status=status,
            rule=rule,
            due_from=due_from,
            due_to=due_to,
        )
    found.sort(key=lambda d: (d.due, d.consumer_id, d.rule, d.seq or 0, d.key))
    if json_output:
        print_json([due_contact_json(d) for d in found])
        return
    if not found:
        typer.echo("No due contacts match.")
        return
    print_table(
        ["consumer", "rule", "job", "#", "window opens", "due", "status"],
        [
            [d.consumer_id, d.rule, d.job_id, d.seq, d.window_start, d.due, _status(d)]
            for d in found
        ],
    )
    counts: dict[str, int] = {}
    for d in found:
        counts[d.status] = counts.get(d.status, 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    typer.echo(f"{len(found)} due contact{'s' if len(found) != 1 else ''} ({summary}).")


# ---------------------------------------------------------------- JSON


def journey_json(view: JourneyView) -> dict[str, Any]:
    return {
        "consumer": view.consumer,
        "phase": view.phase,
        "in_outreach": view.in_outreach,
        "closed": view.closed,
        "referral_no": view.referral_no,
        "specialist": view.specialist,
        "sms_consent": view.sms_consent,
        "policy_version": view.policy_version,
        "due_contacts": [_view_due_json(view.consumer, d) for d in view.due_contacts],
        "flagged_for_staff": list(view.flagged_for_staff),
    }


def due_contact_json(d: DueContactRecord) -> dict[str, Any]:
    """The same keys as the web API's due contacts."""
    return {
        "key": d.key,
        "consumer": d.consumer_id,
        "rule": d.rule,
        "job_id": d.job_id,
        "seq": d.seq,
        "window_start": iso(d.window_start),
        "due": iso(d.due),
        "status": d.status,
        "satisfied_on": iso(d.satisfied_on),
    }


def _view_due_json(consumer: str, d: DueContactView) -> dict[str, Any]:
    return {
        "key": d.key,
        "consumer": consumer,
        "rule": d.rule,
        "job_id": d.job_id,
        "seq": d.seq,
        "window_start": iso(d.window_start),
        "due": iso(d.due),
        "status": d.status,
        "satisfied_on": iso(d.satisfied_on),
    }


def _event_json(e: EventRecord, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "event_id": e.event_id,
        "type": e.type,
        "at": iso(e.at.astimezone(zone)),
        "recorded_by": e.recorded_by,
        "recorded_at": iso(e.recorded_at),
        "fields": e.payload,
    }


# ---------------------------------------------------------------- printing


def _print_recorded(
    event_type: str,
    consumer: str,
    event_id: str,
    view: JourneyView | None,
    json_output: bool,
) -> None:
    if json_output:
        print_json(
            {
                "event_id": event_id,
                "type": event_type,
                "consumer": consumer,
                "journey": None if view is None else journey_json(view),
            }
        )
        return
    typer.echo(f"Recorded {event_type} for {consumer} (event id {event_id}).")
    if view is not None:
        _print_journey(view)


def _print_journey(view: JourneyView) -> None:
    print_fields(
        [
            ("phase", view.phase),
            ("specialist", view.specialist),
            ("in outreach", view.in_outreach),
            ("closed", view.closed),
            ("referral", view.referral_no),
            ("texts", view.sms_consent),
        ]
    )
    if view.flagged_for_staff:
        typer.echo(
            "Asked in their own words to stop texts (texts stopped; please check with them): "
            f"text reply {', '.join(view.flagged_for_staff)}"
        )
    typer.echo()
    if not view.due_contacts:
        typer.echo("No due contacts open or missed.")
        return
    rows = sorted(view.due_contacts, key=lambda d: (d.due, d.rule, d.seq or 0))
    print_table(
        ["rule", "job", "#", "window opens", "due", "status"],
        [[d.rule, d.job_id, d.seq, d.window_start, d.due, d.status] for d in rows],
        title="Due contacts open or missed",
    )


def _print_employer_contact(contact: EmployerContactRecord, json_output: bool) -> None:
    if json_output:
        print_json(
            {
                "event_id": contact.event_id,
                "specialist": contact.specialist_id,
                "employer": contact.employer,
                "face_to_face": contact.face_to_face,
                "consumer": contact.consumer_id,
                "at": iso(contact.at),
            }
        )
        return
    kind = "face-to-face" if contact.face_to_face else "not face-to-face"
    typer.echo(
        f"Recorded an employer contact of {contact.specialist_id} with {contact.employer} "
        f"({kind}) on {cell_text(contact.at)} (event id {contact.event_id})."
    )


def _status(d: DueContactRecord) -> str:
    if d.satisfied_on is not None:
        return f"{d.status} {d.satisfied_on.isoformat()}"
    return d.status


def _details(payload: dict[str, Any]) -> str:
    return ", ".join(f"{k}={cell_text(v)}" for k, v in payload.items() if v is not None)


# ---------------------------------------------------------------- --field


def _fields(event_type: str, given: list[str]) -> dict[str, Any]:
    """`name=value` pairs as the event's fields. A value is read as JSON when it
    is JSON (20, 15.5, true), except for fields that hold text (job_id=1 stays "1")."""
    fields: dict[str, Any] = {}
    model = _EVENT_MODELS.get(event_type)
    for text in given:
        name, sep, raw = text.partition("=")
        name = name.strip()
        if not sep or not name:
            raise Invalid("--field", f"{text!r} is not NAME=VALUE, like job_id=j-1")
        if name in _EVENT_OPTIONS:
            raise Invalid("--field", f"{name} is given with {_EVENT_OPTIONS[name]}, not --field")
        if name in fields:
            raise Invalid("--field", f"{name} is given twice")
        fields[name] = _value(raw, text_field=model is not None and _holds_text(model, name))
    return fields


def _event_option(event_type: str, name: str) -> str:
    """The option or argument a field the service names was given with."""
    if name in _EVENT_OPTIONS:
        return _EVENT_OPTIONS[name]
    model = _EVENT_MODELS.get(event_type)
    if model is not None and name in model.model_fields:
        return f"--field {name}"
    return name


def _value(raw: str, *, text_field: bool) -> Any:
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    if text_field and not isinstance(value, str):
        return raw
    return value


def _holds_text(model: Any, name: str) -> bool:
    info = model.model_fields.get(name)
    if info is None:
        return False
    annotation = info.annotation
    return annotation is str or set(get_args(annotation)) == {str, type(None)}
