"""`ips people add|update|list`: supervisors, specialists and consumers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Annotated, Any

import typer

from cli.output import print_fields, print_json, print_table
from cli.session import ACTING_HELP, JsonOption, TokenOption, staff_session
from service import access, people
from service.access import Actor
from store import ConsumerRecord, SpecialistRecord, Store, SupervisorRecord

people_app = typer.Typer(
    help="Add, change and list the supervisors, employment specialists and consumers on file.",
    no_args_is_help=True,
)


class Kind(StrEnum):
    supervisor = "supervisor"
    specialist = "specialist"
    consumer = "consumer"


Person = SupervisorRecord | SpecialistRecord | ConsumerRecord

KindArgument = Annotated[
    Kind, typer.Argument(help="Which kind of person: supervisor, specialist or consumer.")
]
NameOption = Annotated[str | None, typer.Option("--name", help="Full name.")]
EmailOption = Annotated[
    str | None, typer.Option("--email", help="Email address (required for staff).")
]
PhoneOption = Annotated[
    str | None,
    typer.Option("--phone", help='Mobile number in international form, like "+15555550123".'),
]
TimezoneOption = Annotated[
    str | None,
    typer.Option(
        "--timezone", help="Time zone where the person lives or works, like America/New_York."
    ),
]
ChannelsOption = Annotated[
    str | None,
    typer.Option(
        "--channels",
        help="Specialists: how reminders reach them, `sms`, `email` or `sms,email` "
        "(default email).",
    ),
]
SupervisorOption = Annotated[
    str | None,
    typer.Option(
        "--supervisor",
        help="Specialists: the id of their supervisor (a supervisor's own team by default).",
    ),
]
FteOption = Annotated[
    float | None,
    typer.Option("--fte", help="Specialists: full-time equivalent, 1.0 for full time (default)."),
]
SpecialistOption = Annotated[
    str | None,
    typer.Option(
        "--specialist",
        help="Consumers: the id of their employment specialist (to change it later, "
        "record a `reassigned` event).",
    ),
]
LanguageOption = Annotated[
    str | None,
    typer.Option("--language", help="Consumers: language of their texts, en (default) or es."),
]
TeamMemberIdOption = Annotated[
    str | None,
    typer.Option(
        "--team-member-id",
        help="Consumers: id of their treatment-team member (a case manager, say), who gets "
        "copies of reminders when outreach goes on.",
    ),
]
TeamMemberNameOption = Annotated[
    str | None, typer.Option("--team-member-name", help="Consumers: that team member's name.")
]
TeamMemberRoleOption = Annotated[
    str | None,
    typer.Option(
        "--team-member-role", help="Consumers: that team member's role, like case_manager."
    ),
]
TeamMemberEmailOption = Annotated[
    str | None, typer.Option("--team-member-email", help="Consumers: that team member's email.")
]
TeamMemberPhoneOption = Annotated[
    str | None, typer.Option("--team-member-phone", help="Consumers: that team member's phone.")
]

_OPTION_FIELDS = {
    "id",
    "name",
    "email",
    "phone",
    "timezone",
    "channels",
    "supervisor",
    "fte",
    "specialist",
    "language",
}


@people_app.command("add", epilog=ACTING_HELP)
def add(
    kind: KindArgument,
    id: Annotated[
        str, typer.Option("--id", help="The id to file them under (for consumers, the case id).")
    ],
    name: NameOption = None,
    email: EmailOption = None,
    phone: PhoneOption = None,
    timezone: TimezoneOption = None,
    channels: ChannelsOption = None,
    supervisor: SupervisorOption = None,
    fte: FteOption = None,
    specialist: SpecialistOption = None,
    language: LanguageOption = None,
    team_member_id: TeamMemberIdOption = None,
    team_member_name: TeamMemberNameOption = None,
    team_member_role: TeamMemberRoleOption = None,
    team_member_email: TeamMemberEmailOption = None,
    team_member_phone: TeamMemberPhoneOption = None,
    token: TokenOption = None,
    json_output: JsonOption = False,
) -> None:
    """Put a supervisor, specialist or consumer on file.

    Supervisors and specialists need --name, --email and --timezone; consumers
    --name, --timezone and --specialist. For example:

        ips people add specialist --id es-1 --name "Jordan Lee" \\
          --email jordan@example.org --timezone America/New_York \\
          --supervisor sup-1 --channels sms,email --phone "+15555550101"
    """
    details = _details(locals())
    with staff_session(token, _option_for) as session:
        adders: dict[Kind, Callable[[Store, Actor, Any], Person]] = {
            Kind.supervisor: people.add_supervisor,
            Kind.specialist: people.add_specialist,
            Kind.consumer: people.add_consumer,
        }
        record = adders[kind](session.store, session.actor, {"id": id, **details})
    _print_person(kind, record, f"Added {kind.value} {record.id} ({record.name}).", json_output)


@people_app.command("update", epilog=ACTING_HELP)
def update(
    kind: KindArgument,
    id: Annotated[str, typer.Argument(help="The id of the person to change.")],
    name: NameOption = None,
    email: EmailOption = None,
    phone: PhoneOption = None,
    timezone: TimezoneOption = None,
    channels: ChannelsOption = None,
    supervisor: SupervisorOption = None,
    fte: FteOption = None,
    specialist: SpecialistOption = None,
    language: LanguageOption = None,
    team_member_id: TeamMemberIdOption = None,
    team_member_name: TeamMemberNameOption = None,
    team_member_role: TeamMemberRoleOption = None,
    team_member_email: TeamMemberEmailOption = None,
    team_member_phone: TeamMemberPhoneOption = None,
    token: TokenOption = None,
    json_output: JsonOption = False,
) -> None:
    """Change some details of a person on file; the others stay as they are.

    An empty value removes an optional detail: --phone "". For example:

        ips people update consumer c-1 --phone "+15555550199"
    """
    changes = _details(locals())
    with staff_session(token, _option_for) as session:
        updaters: dict[Kind, Callable[[Store, Actor, str, Any], Person]] = {
            Kind.supervisor: people.update_supervisor,
            Kind.specialist: people.update_specialist,
            Kind.consumer: people.update_consumer,
        }
        record = updaters[kind](session.store, session.actor, id, changes)
    _print_person(kind, record, f"Updated {kind.value} {record.id} ({record.name}).", json_output)


@people_app.command("list", epilog=ACTING_HELP)
def list_people(
    kind: Annotated[
        Kind | None,
        typer.Argument(help="Only this kind: supervisor, specialist or consumer."),
    ] = None,
    token: TokenOption = None,
    json_output: JsonOption = False,
) -> None:
    """List the people on file that you may see (all kinds, or one)."""
    kinds = list(Kind) if kind is None else [kind]
    with staff_session(token) as session:
        listers: dict[Kind, Callable[[Store, Actor], Sequence[Person]]] = {
            Kind.supervisor: access.visible_supervisors,
            Kind.specialist: access.visible_specialists,
            Kind.consumer: access.visible_consumers,
        }
        found = {k: listers[k](session.store, session.actor) for k in kinds}
    if json_output:
        print_json({f"{k.value}s": [person_json(k, r) for r in found[k]] for k in kinds})
        return
    for n, k in enumerate(kinds):
        records = found[k]
        if n:
            typer.echo()
        if not records:
            typer.echo(f"No {k.value}s on file.")
            continue
        headers, rows = _table(k, records)
        print_table(headers, rows, title=f"{k.value.capitalize()}s")


def person_json(kind: Kind, record: Any) -> dict[str, Any]:
    """A person as the service takes them in (the same field names as `people add`)."""
    if kind is Kind.supervisor:
        return people.supervisor_in(record)
    if kind is Kind.specialist:
        return people.specialist_in(record)
    # The consent state as it is, including `pending` and `opted_out`.
    return {**people.consumer_in(record), "sms_consent": record.sms_consent}


def _details(given: dict[str, Any]) -> dict[str, Any]:
    """The details typed on the command line, as the service's field names."""
    details: dict[str, Any] = {}
    for name in _OPTION_FIELDS - {"id"}:
        value = given.get(name)
        if value is None:
            continue
        if name == "channels":
            value = [c.strip() for c in value.split(",") if c.strip()]
        details[name] = None if value == "" else value
    member = {
        name: given[f"team_member_{name}"]
        for name in ("id", "name", "role", "email", "phone")
        if given[f"team_member_{name}"] is not None
    }
    if member:
        details["treatment_team_member"] = {k: v or None for k, v in member.items()}
    return details


def _option_for(field: str) -> str:
    head, _, rest = field.partition(".")
    if head == "treatment_team_member":
        return f"--team-member-{rest.split('.')[0] or 'id'}" if rest else "--team-member-id"
    if head in _OPTION_FIELDS:
        return f"--{head}"
    return field


def _print_person(kind: Kind, record: Person, message: str, json_output: bool) -> None:
    if json_output:
        print_json(person_json(kind, record))
        return
    typer.echo(message)
    details = person_json(kind, record)
    member = details.pop("treatment_team_member", None)
    pairs = [(label.replace("_", " "), value) for label, value in details.items()]
    if member:
        pairs.append(("team member", ", ".join(str(v) for v in member.values() if v)))
    print_fields(pairs)


def _table(kind: Kind, records: Sequence[Any]) -> tuple[list[str], list[list[Any]]]:
    if kind is Kind.supervisor:
        headers = ["id", "name", "email", "phone", "time zone"]
        return headers, [[r.id, r.name, r.email, r.phone, r.timezone] for r in records]
    if kind is Kind.specialist:
        headers = ["id", "name", "supervisor", "email", "phone", "reminders by", "FTE", "time zone"]
        return headers, [
            [r.id, r.name, r.supervisor_id, r.email, r.phone, r.channels, r.fte, r.timezone]
            for r in records
        ]
    headers = ["id", "name", "specialist", "phone", "email", "texts", "language", "team member"]
    return headers, [
        [
            r.id,
            r.name,
            r.specialist_id,
            r.phone,
            r.email,
            r.sms_consent,
            r.language,
            None
            if r.treatment_team_member is None
            else f"{r.treatment_team_member.name} ({r.treatment_team_member.role})",
        ]
        for r in records
    ]
