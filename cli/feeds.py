"""`ips feed`: calendar feeds, and the feed tokens that open them.

A feed's URL holds its token, and only the token's hash is kept: the URL is
shown when a token is made (`ips feed token create`) or replaced (`ips feed
token rotate`), and `ips feed url` spells it out again from the token itself.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from cli.output import cell_text, print_json, print_table
from cli.session import ACTING_HELP, JsonOption, TokenOption, staff_session
from notifiers import twilio_sms
from service import feeds
from service.errors import Invalid, ServiceError
from store import FeedTokenRecord

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
        public_url = _public_url()
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
        public_url = _public_url()
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
        public_url = _public_url()
        record, _ = feeds.feed_for_token(session.store, feed_token)
        urls = feeds.feed_urls(feed_token, public_url)
    if json_output:
        print_json({"id": record.id, "url": urls.https, "webcal_url": urls.webcal})
        return
    typer.echo(f"The feed of {_feed_words(record)} (feed token {record.id}):")
    typer.echo(f"    {urls.webcal}")
    typer.echo(f"    {urls.https}")


def _public_url() -> str | None:
    try:
        return twilio_sms.public_url(os.environ)
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
