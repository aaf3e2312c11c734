"""`ips db`: the app database's schema revision, and bringing it to this version's."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from cli.up import DATABASE_URL_VARIABLE
from config import SettingsError, load_with_origins
from store import Store, StoreError
from store.schema import MigrationError

db_app = typer.Typer(
    no_args_is_help=True,
    help=f"The app database of {DATABASE_URL_VARIABLE}: its schema revision, and upgrading it.",
)


@db_app.command("upgrade")
def upgrade() -> None:
    """Bring the app database to this version's schema: create the tables on an
    empty database, or apply the migrations it lacks.

    Safe to run again (then it changes nothing), and while the worker runs. The
    worker, the API and `ips up` upgrade the database when they start, too.
    Exit code 1: the database URL is wrong, the database does not answer, or its
    revision is newer than this version knows.
    """
    with _store() as store:
        done = store.upgrade()
    if done.stamped:
        typer.echo(f"Found tables from before migrations: marked them as revision {done.before}.")
    if done.before == done.after:
        typer.echo(f"{'Up' if done.stamped else 'Already up'} to date: revision {done.after}.")
    elif done.before is None:
        typer.echo(f"Created the tables: from an empty database to revision {done.after}.")
    else:
        typer.echo(f"Upgraded from revision {done.before} to revision {done.after}.")


@db_app.command("current")
def current() -> None:
    """Show the app database's schema revision and whether it is up to date.

    Exit code 1 as for `ips db upgrade`.
    """
    with _store() as store:
        found = store.revision()
    if found.up_to_date:
        typer.echo(f"Revision {found.current}: up to date.")
    elif found.unversioned_tables:
        typer.echo(
            "No revision: tables from before migrations. `ips db upgrade` marks them "
            f"and brings them to revision {found.head}."
        )
    elif found.current is None:
        typer.echo(
            f"No revision: an empty database. `ips db upgrade` creates revision {found.head}."
        )
    else:
        typer.echo(f"Revision {found.current}; the newest is {found.head}: run `ips db upgrade`.")


@contextmanager
def _store() -> Iterator[Store]:
    """The store of IPS_DATABASE_URL, named first; any error is one line on
    stderr and exit code 1."""
    try:
        loaded = load_with_origins()
    except SettingsError as err:
        _fail(str(err))
    url = loaded.settings.database()
    try:
        store = Store(url)
    except StoreError as err:
        _fail(f"{DATABASE_URL_VARIABLE}: {str(err).split(': ', 1)[-1]}")
    except OSError as err:
        _fail(f"cannot open the database of {DATABASE_URL_VARIABLE}: {err}")
    origin = loaded.origins["database_url"]
    source = {"default": "the default", "env file": f"{DATABASE_URL_VARIABLE} in the env file"}.get(
        origin, DATABASE_URL_VARIABLE
    )
    typer.echo(f"Database: {make_url(url).render_as_string(hide_password=True)} (from {source})")
    try:
        yield store
    except DBAPIError as err:
        # The driver's reason (refused, no such database, wrong password) names
        # no password.
        reason = str(err.orig).strip().splitlines()[0] if err.orig else type(err).__name__
        _fail(
            f"cannot reach the database ({reason}): check {DATABASE_URL_VARIABLE} "
            "and that the server is up"
        )
    except MigrationError as err:
        _fail(str(err))
    finally:
        store.dispose()


def _fail(message: str) -> NoReturn:
    typer.secho(f"Error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(1)
