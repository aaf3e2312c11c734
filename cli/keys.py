"""`ips keys new`: a key for IPS_ENCRYPTION_KEYS, which encrypts what Temporal
stores of every journey."""

from __future__ import annotations

from typing import Annotated

import typer

from codec import ENCRYPTION_KEYS_VARIABLE, KeyRingError, new_key_entry

keys_app = typer.Typer(
    help=f"Encryption keys for {ENCRYPTION_KEYS_VARIABLE}: what Temporal stores of each "
    "journey is unreadable without them.",
    no_args_is_help=True,
)


@keys_app.command("new")
def new(
    key_id: Annotated[
        str | None,
        typer.Option(
            "--id",
            help="The key's id, 1 to 32 letters, digits, '.', '_' or '-' "
            "(default: k- and today's date).",
        ),
    ] = None,
) -> None:
    """Print a new key entry, `<key id>:<base64 of 32 random bytes>`.

    Put it first in IPS_ENCRYPTION_KEYS (entries are separated by commas):
    the first key encrypts what is stored from then on, and every key listed
    still decrypts. Keep the old keys until no journey needs them. Keep the
    keys as secret as the database password, and keep a copy: without them the
    journeys' histories cannot be read.
    """
    try:
        entry = new_key_entry(key_id)
    except KeyRingError as err:
        typer.secho(f"--id: {err.reason}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None
    typer.echo(entry)
