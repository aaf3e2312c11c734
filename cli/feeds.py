"""`ips feed`: calendar feeds, and the feed tokens that open them.

A feed's URL holds its token, and only the token's hash is kept: the URL is
shown when a token is made (`ips feed token create`) or replaced (`ips feed
token rotate`), and `ips feed url` spells it out again from the token itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import worker
from cli.output import cell_text, print_json, print_table
from cli.session import ACTING_HELP, JsonOption, Session, TokenOption, staff_session
from feeds import Feed, FeedScope, build_feed
from notifiers import twilio_sms
from service import access, feeds
from service.errors import Invalid, NotFound, ServiceError
from store import FeedTokenRecord, NotFoundError

feed_app = typer.Typer(
    help="Calendar feeds: due contacts and appointments in Outlook or Google Calendar.",
    no_args_is_help=True,
)
token_app = typer.Typer(
    help="Feed tokens: the key in a feed's URL, which a calendar program subscribes to.",
    no_args_is_help=True,
)
feed_app.add_typer(token_app, name="token")

_OPTIONS = {
    "specialist": "--specialist",
    "team": "--team",
    "user": "--user",
    "label": "--label",
    "id": "FEED_TOKEN_ID",
    "token": "TOKEN",
}

URL_HELP = (
    f"The URLs are under {twilio_sms.PUBLIC_URL_SETTING} (the address staff reach this "
    f"server at, default {feeds.DEFAULT_PUBLIC_URL}); the webcal:// one opens in a "
    "calendar program. Anyone with the URL sees the feed: treat it like a password."
)

FeedTokenId = Annotated[
    str, typer.Argument(help="The feed token's id (ftok_...), as `ips feed token list` shows it.")
]


@token_app.command("create", epilog=f"{URL_HELP}\n\n{ACTING_HELP}")
def create_feed_token(
    specialist: Annotated[
        str | None, typer.Option("--specialist", help="The feed of this specialist (their id).")
    ] = None,
    team: Annotated[
        str | None,
        typer.Option("--team", help="The feed of this supervisor's team (the supervisor's id)."),
    ] = None,
    user: Annotated[
        str | None,
        typer.Option(
            "--user",
            help="The staff user who holds the token: you by default; for the operator, the "
            "user who is that specialist or supervisor.",
        ),
    ] = None,
    label: Annotated[
        str | None, typer.Option("--label", help="A note to tell tokens apart, like 'Outlook'.")
    ] = None,
    token: TokenOption = None,
    json_output: JsonOption = False,
) -> None:
    """Make a token for a calendar feed and print the feed's URL.

    Give one of --specialist and --team. A specialist has a token for their own
    feed only; a supervisor for their team's and its specialists'. The URL is
    printed only this once (only a fingerprint of the token is kept).
    """
    with staff_session(token, _OPTIONS) as session:
        public_url = _public_url(session)
        secret, record = feeds.create_feed_token(
            session.store,
            scope=feeds.scope_from(specialist, team),
            now=session.services.now(),
            user_id=user,
            label=label,
            actor=session.actor,
        )
    _show_new(secret, record, public_url, json_output, f"Feed token {record.id}")


@token_app.command("rotate", epilog=f"{URL_HELP}\n\n{ACTING_HELP}")
def rotate_feed_token(
    feed_token_id: FeedTokenId, token: TokenOption = None, json_output: JsonOption = False
) -> None:
    """Replace a feed token by a new one, for the same feed, and print the new URL.

    The old URL stops working at once: subscribe again with the new one.
    """
    with staff_session(token, _OPTIONS) as session:
        public_url = _public_url(session)
        secret, record = feeds.rotate_feed_token(
            session.store, feed_token_id, session.services.now(), session.actor
        )
    _show_new(
        secret,
        record,
        public_url,
        json_output,
        f"Feed token {feed_token_id} is replaced by {record.id}",
    )


@token_app.command("revoke", epilog=ACTING_HELP)
def revoke_feed_token(
    feed_token_id: FeedTokenId, token: TokenOption = None, json_output: JsonOption = False
) -> None:
    """Stop a feed token at once and for good: its feed's URL answers 404."""
    with staff_session(token, _OPTIONS) as session:
        record = feeds.revoke_feed_token(
            session.store, feed_token_id, session.services.now(), session.actor
        )
    if json_output:
        print_json(feeds.feed_token_fields(record))
        return
    typer.echo(f"Feed token {record.id} is revoked.")


@token_app.command("list", epilog=ACTING_HELP)
def list_feed_tokens(token: TokenOption = None, json_output: JsonOption = False) -> None:
    """List the feed tokens of the users you manage: id, holder, feed, dates, state.

    The tokens, and so the feeds' URLs, are never shown again.
    """
    with staff_session(token, _OPTIONS) as session:
        records = feeds.visible_feed_tokens(session.store, session.actor)
    if json_output:
        print_json([feeds.feed_token_fields(t) for t in records])
        return
    if not records:
        typer.echo("No feed tokens. Make one with `ips feed token create`.")
        return
    print_table(
        ["id", "user", "feed", "label", "created (UTC)", "state"],
        [
            [
                t.id,
                t.user_id,
                _feed_words(t),
                t.label,
                t.created_at,
                "works" if t.revoked_at is None else "revoked " + cell_text(t.revoked_at),
            ]
            for t in records
        ],
    )


@feed_app.command("url", epilog=f"{URL_HELP}\n\n{ACTING_HELP}")
def feed_url(
    feed_token: Annotated[
        str,
        typer.Argument(
            metavar="TOKEN",
            help="The feed token (ipsf_...) as `ips feed token create` or `rotate` printed it.",
        ),
    ],
    token: TokenOption = None,
    json_output: JsonOption = False,
) -> None:
    """Print the webcal:// and https:// URLs of the feed a feed token opens.

    Only the token's fingerprint is kept, so its id (ftok_...) cannot give the URL
    back: give the token itself, or make a new one with `ips feed token rotate`.
    """
    with staff_session(token, _OPTIONS) as session:
        if feed_token.startswith("ftok_"):
            raise Invalid(
                "token",
                f"{feed_token} is a feed token's id, not the token; the URL cannot be shown "
                f"again: `ips feed token rotate {feed_token}` makes a new one",
            )
        public_url = _public_url(session)
        record, _ = feeds.feed_for_token(session.store, feed_token)
        urls = feeds.feed_urls(feed_token, public_url)
    if json_output:
        print_json({"id": record.id, "url": urls.https, "webcal_url": urls.webcal})
        return
    typer.echo(f"The feed of {_feed_words(record)} (feed token {record.id}):")
    typer.echo(f"    {urls.webcal}")
    typer.echo(f"    {urls.https}")


def _public_url(session: Session) -> str | None:
    try:
        return twilio_sms.public_url(session.settings)
    except ValueError as err:
        # The message names the setting.
        raise ServiceError(str(err)) from None


def _feed_words(record: FeedTokenRecord) -> str:
    return f"{'team' if record.scope_kind == 'team' else 'specialist'} {record.scope_id}"


def _show_new(
    secret: str, record: FeedTokenRecord, public_url: str | None, json_output: bool, title: str
) -> None:
    if json_output:
        # The keys of the web API's answer.
        print_json(feeds.new_feed_token_fields(secret, record, public_url))
        return
    urls = feeds.feed_urls(secret, public_url)
    typer.echo(f"{title}, for the feed of {_feed_words(record)}, held by {record.user_id}.")
    typer.echo("Subscribe to it in a calendar program (Outlook: open the first; Google")
    typer.echo("Calendar: Other calendars, From URL, paste the second):")
    typer.echo()
    typer.echo(f"    {urls.webcal}")
    typer.echo(f"    {urls.https}")
    typer.echo()
    typer.echo("They are shown only this once: copy them now. Anyone with the URL sees")
    typer.echo("the feed; if it leaks, `ips feed token rotate` replaces it.")


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
            app_url=worker.agency_from_settings(session.settings).app_url,
        )
    except (NotFound, NotFoundError):
        noun = "specialist" if scope.kind == "specialist" else "supervisor"
        raise Invalid(scope.kind, f"no {noun} with id {scope.id!r}") from None
