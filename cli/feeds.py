"""`ips feed ...`: the iCalendar feeds of due contacts and appointments (SPEC §8)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import worker
from cli.session import ACTING_HELP, Session, TokenOption, staff_session
from feeds import Feed, FeedScope, build_feed
from service import access
from service.errors import Invalid, NotFound
from store import NotFoundError

feed_app = typer.Typer(
    name="feed",
    no_args_is_help=True,
    help="Calendar feeds: a specialist's or a team's due contacts and appointments, "
    "as a calendar (.ics) that Google, Outlook or Apple calendars can show.",
)

_FEED_OPTIONS = {"specialist": "--specialist", "team": "--team", "out": "--out"}

SpecialistOption = Annotated[
    str | None,
    typer.Option("--specialist", metavar="ID", help="The feed of this specialist's caseload."),
]
TeamOption = Annotated[
    str | None,
    typer.Option(
        "--team",
        metavar="SUPERVISOR_ID",
        help="The feed of the whole team of this supervisor (their id).",
    ),
]


@feed_app.command("export", epilog=ACTING_HELP)
def export(
    specialist: SpecialistOption = None,
    team: TeamOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="FILE",
            dir_okay=False,
            help="Write the calendar to this file. Default: print it.",
        ),
    ] = None,
    token: TokenOption = None,
) -> None:
    """Write a specialist's or a team's feed as it is now, as a calendar file.

    One all-day entry on the due date of each open or missed due contact (missed
    ones marked OVERDUE) and one entry for each appointment, from 14 days ago to
    90 days ahead. Entries name consumers by initials and case id only. For example, to import
    a team's calendar into a calendar program:

        ips feed export --team sup-1 --out team.ics
    """
    with staff_session(token, _FEED_OPTIONS) as session:
        feed = export_feed(session, feed_scope(specialist, team))
        if out is None:
            typer.echo(feed.ics, nl=False)  # bytes as they are: CRLF, UTF-8
            return
        try:
            out.write_bytes(feed.ics)
        except OSError as err:
            raise Invalid("out", f"cannot write {str(out)!r}: {err.strerror}") from None
    typer.echo(f"Wrote {feed.name!r} to {out}", err=True)


def feed_scope(specialist: str | None, team: str | None) -> FeedScope:
    """The feed that --specialist or --team names (exactly one of them)."""
    if specialist is not None and team is not None:
        raise Invalid("team", "give --specialist or --team, not both")
    if specialist is not None:
        return FeedScope("specialist", specialist)
    if team is not None:
        return FeedScope("team", team)
    raise Invalid("specialist", "give --specialist ID or --team SUPERVISOR_ID")


def export_feed(session: Session, scope: FeedScope) -> Feed:
    """The feed of `scope` now, if the one acting may see it; an unknown id is
    refused naming its option, like one they may not see."""
    store = session.store
    try:
        if scope.kind == "specialist":
            access.visible_specialist(store, session.actor, scope.id)
        else:
            access.visible_supervisor(store, session.actor, scope.id)
        return build_feed(
            store,
            scope,
            session.services.now(),
            app_url=worker.agency_from_environment().app_url,
        )
    except (NotFound, NotFoundError):
        noun = "specialist" if scope.kind == "specialist" else "supervisor"
        raise Invalid(scope.kind, f"no {noun} with id {scope.id!r}") from None
