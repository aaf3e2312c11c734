"""`ips users` and `ips tokens`: staff users and the tokens they sign in with."""

from __future__ import annotations

from datetime import UTC
from enum import StrEnum
from typing import Annotated, Any

import typer

from cli.output import cell_text, print_json, print_table
from cli.session import ACTING_HELP, TOKEN_VARIABLE, JsonOption, Session, TokenOption, staff_session
from service import access
from service.errors import NotFound
from store import ApiTokenRecord, StaffUserRecord

users_app = typer.Typer(
    help="Staff users: who may use the web API and these commands with a token.",
    no_args_is_help=True,
)
tokens_app = typer.Typer(
    help="Tokens: what staff users sign in with (--token, IPS_TOKEN, or the web API).",
    no_args_is_help=True,
)

_USER_OPTIONS = {"id": "USER_ID", "user": "USER_ID", "person_id": "--person", "role": "--role"}
_TOKEN_OPTIONS = {"user": "USER_ID", "days": "--days", "label": "--label"}


class Role(StrEnum):
    specialist = "specialist"
    supervisor = "supervisor"
    admin = "admin"


@users_app.command("add", epilog=ACTING_HELP)
def add_user(
    user_id: Annotated[str, typer.Argument(help="The id the user signs in as, like pat.kim.")],
    name: Annotated[str, typer.Option("--name", help="The user's full name.")],
    role: Annotated[
        Role,
        typer.Option(
            "--role",
            help="specialist: sees their own caseload; supervisor: their team's; "
            "admin: everything.",
        ),
    ],
    person: Annotated[
        str | None,
        typer.Option(
            "--person",
            help="For a specialist or supervisor: their id in `ips people` (an admin has none).",
        ),
    ] = None,
    token: TokenOption = None,
    json_output: JsonOption = False,
) -> None:
    """Add a staff user. Then give them a token with `ips tokens create USER_ID`.

    The operator of this computer adds anyone; a supervisor adds users for the
    specialists of their own team.
    """
    with staff_session(token, _USER_OPTIONS) as session:
        user = access.add_user(
            session.store,
            user_id=user_id,
            name=name,
            role=role.value,
            person_id=person,
            now=session.services.now(),
            actor=session.actor,
        )
    if json_output:
        print_json(_user_json(user))
        return
    who = f", {user.role} {user.person_id}" if user.person_id else f", {user.role}"
    typer.echo(f"Added user {user.id} ({user.name}{who}).")
    typer.echo(f"Give them a token with: ips tokens create {user.id}")


@users_app.command("list", epilog=ACTING_HELP)
def list_users(token: TokenOption = None, json_output: JsonOption = False) -> None:
    """List the staff users you manage."""
    with staff_session(token) as session:
        users = _managed_users(session)
    if json_output:
        print_json([_user_json(u) for u in users])
        return
    if not users:
        typer.echo("No staff users yet. Add one with `ips users add`.")
        return
    print_table(
        ["id", "name", "role", "person", "added (UTC)"],
        [[u.id, u.name, u.role, u.person_id, u.created_at] for u in users],
    )


@tokens_app.command("create", epilog=ACTING_HELP)
def create_token(
    user_id: Annotated[str, typer.Argument(help="The staff user the token is for.")],
    days: Annotated[
        int, typer.Option("--days", help="How many days the token works.")
    ] = access.DEFAULT_TOKEN_DAYS,
    label: Annotated[
        str | None, typer.Option("--label", help="A note to tell tokens apart, like 'laptop'.")
    ] = None,
    token: TokenOption = None,
    json_output: JsonOption = False,
) -> None:
    """Make a new token for a staff user and print it.

    The token is printed only this once (only a fingerprint of it is kept), with
    its id, which `ips tokens revoke` takes, and the day it expires.
    """
    with staff_session(token, _TOKEN_OPTIONS) as session:
        secret, record = access.create_token(
            session.store,
            user_id=user_id,
            now=session.services.now(),
            days=days,
            label=label,
            actor=session.actor,
        )
    if json_output:
        # The keys of the web API's answer.
        print_json(
            {
                "id": record.id,
                "token": secret,
                "user_id": record.user_id,
                "label": record.label,
                "created_at": record.created_at,
                "expires_at": record.expires_at,
            }
        )
        return
    expires = record.expires_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    typer.echo(f"Token {record.id} for {record.user_id}, valid until {expires}:")
    typer.echo()
    typer.echo(f"    {secret}")
    typer.echo()
    typer.echo("It is shown only this once: copy it now. Use it with --token, or set")
    typer.echo(f"    export {TOKEN_VARIABLE}={secret}")


@tokens_app.command("revoke", epilog=ACTING_HELP)
def revoke_token(
    token_id: Annotated[
        str, typer.Argument(help="The token's id (tok_...), as `ips tokens list` shows it.")
    ],
    token: TokenOption = None,
    json_output: JsonOption = False,
) -> None:
    """Stop a token from working, at once and for good."""
    with staff_session(token, {"token": "TOKEN_ID"}) as session:
        access.revoke_token(session.store, token_id, session.services.now(), session.actor)
        record = session.store.get_token(token_id)
    if json_output:
        print_json(None if record is None else _token_json(record))
        return
    typer.echo(f"Token {token_id} is revoked.")


@tokens_app.command("list", epilog=ACTING_HELP)
def list_tokens(
    user_id: Annotated[
        str | None, typer.Argument(help="Only this user's tokens (all you manage without it).")
    ] = None,
    token: TokenOption = None,
    json_output: JsonOption = False,
) -> None:
    """List tokens: id, user, label, dates and whether each still works.

    The tokens themselves are never shown again.
    """
    with staff_session(token, _TOKEN_OPTIONS) as session:
        if user_id is None:
            users = [u.id for u in _managed_users(session)]
        else:
            users = [access.visible_user(session.store, session.actor, user_id).id]
        records = [t for u in users for t in session.store.list_tokens(u)]
        now = session.services.now()
    records.sort(key=lambda t: (t.created_at, t.id))
    if json_output:
        print_json([_token_json(t) for t in records])
        return
    if not records:
        typer.echo("No tokens.")
        return
    print_table(
        ["id", "user", "label", "created (UTC)", "expires (UTC)", "state"],
        [
            [
                t.id,
                t.user_id,
                t.label,
                t.created_at,
                t.expires_at,
                "revoked " + cell_text(t.revoked_at)
                if t.revoked_at is not None
                else ("expired" if t.expires_at <= now else "works"),
            ]
            for t in records
        ],
    )


def _managed_users(session: Session) -> list[StaffUserRecord]:
    users = []
    for user in session.store.list_staff_users():
        try:
            users.append(access.visible_user(session.store, session.actor, user.id))
        except NotFound:
            continue
    return users


def _user_json(user: StaffUserRecord) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "role": user.role,
        "person_id": user.person_id,
        "created_at": user.created_at,
    }


def _token_json(record: ApiTokenRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "user_id": record.user_id,
        "label": record.label,
        "created_at": record.created_at,
        "expires_at": record.expires_at,
        "revoked_at": record.revoked_at,
    }
