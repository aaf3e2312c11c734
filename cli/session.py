"""How a staff command reaches the system: the database and Temporal named by
the environment, the staff user behind the token, and what the person at the
terminal is told when something goes wrong.

Every staff command calls the service layer (`service/`), the same code the web
API calls; nothing here decides what is allowed or what an event does.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable, Coroutine, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from sqlalchemy.engine import make_url
from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError

import temporal_client
from cli.up import DATABASE_URL_VARIABLE
from codec import KeyRingError, PayloadDecryptionError
from rules.policy import Policy, PolicyError, load_policy_file
from service.access import LOCAL_ADMIN, Actor, authenticate
from service.errors import Invalid, NotFound, ServiceError, Unauthenticated, Unavailable
from service.journeys import Services, available
from store import Store, StoreError
from store.schema import MigrationError

DEFAULT_DATABASE_URL = "sqlite:///var/ips.db"
POLICY_FILE_VARIABLE = "IPS_POLICY_FILE"
TOKEN_VARIABLE = "IPS_TOKEN"

# How long a command waits for Temporal to answer (for an event: for the worker
# to take it) before it gives up and says so.
TEMPORAL_TIMEOUT_SECONDS = 60.0

# Exit codes, as the --help of every command says.
EXIT_REFUSED = 2
EXIT_UNAVAILABLE = 3
EXIT_INTERNAL = 1

ACTING_HELP = (
    "Who is acting: with --token (or the IPS_TOKEN variable), the staff user the token "
    "belongs to, who sees only their own caseload (a specialist) or their team (a "
    "supervisor). Without a token, the operator of this computer, who sees everything."
    "\n\n"
    f"Where: the database of IPS_DATABASE_URL (default {DEFAULT_DATABASE_URL}, as for "
    "`ips up` run in this folder) and the Temporal server of IPS_TEMPORAL_ADDRESS "
    f"(default {temporal_client.DEFAULT_ADDRESS})."
    "\n\n"
    "Exit code 2: refused (bad input, no such record, bad token). 3: the database or "
    "Temporal did not answer, and nothing was changed."
)

TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar=TOKEN_VARIABLE,
        show_envvar=False,
        help="Your staff token (or set IPS_TOKEN). Without one you act as the operator "
        "of this computer.",
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")
]

T = TypeVar("T")


@dataclass
class Session:
    """The store, Temporal and policy of this installation, and who is acting."""

    services: Services
    actor: Actor

    @property
    def store(self) -> Store:
        return self.services.store

    def run(self, operation: Coroutine[Any, Any, T], *, event_id: str | None = None) -> T:
        """Run an operation that talks to Temporal, waiting at most
        TEMPORAL_TIMEOUT_SECONDS for it."""
        try:
            return asyncio.run(asyncio.wait_for(operation, timeout=TEMPORAL_TIMEOUT_SECONDS))
        # Cancelled by the timeout (or timed out by Temporal itself), an update
        # says so with an error of its own.
        except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
            message = (
                f"Temporal did not answer within {TEMPORAL_TIMEOUT_SECONDS:.0f} seconds. "
                "Is the worker running (`ips up` runs it)?"
            )
            if event_id is not None:
                message += (
                    " The event may still be recorded once the worker runs: to be sure, "
                    f"send it again with --event-id {event_id} (a repeat is recorded once)."
                )
            _fail(message, EXIT_UNAVAILABLE)


@contextmanager
def staff_session(
    token: str | None, option_for: Callable[[str], str] | Mapping[str, str] | None = None
) -> Iterator[Session]:
    """Open the store, know who is acting, and report any error as one line on
    stderr with a non-zero exit. `option_for` turns a field named by the service
    into the command-line option the person typed (`due_to` into `--to`)."""
    store: Store | None = None
    try:
        with available():
            policy = policy_from_environment()
            store = _open_store()
            services = Services(store=store, connect=temporal_client.connect, policy=policy)
            # An empty IPS_TOKEN is no token, as for the other variables.
            actor = authenticate(store, token, services.now()) if token else LOCAL_ADMIN
            yield Session(services=services, actor=actor)
    except Unauthenticated as err:
        _fail(f"{err} (the token comes from --token or {TOKEN_VARIABLE})", EXIT_REFUSED)
    except Invalid as err:
        _fail(_invalid(err, option_for), EXIT_REFUSED)
    except NotFound as err:
        _fail(str(err), EXIT_REFUSED)
    except Unavailable as err:
        _fail(f"{err}. {_where(err.what)}", EXIT_UNAVAILABLE)
    except ServiceError as err:
        _fail(str(err), EXIT_REFUSED)
    except RPCError as err:
        _fail(f"Temporal refused the request: {err.message}", EXIT_UNAVAILABLE)
    except KeyRingError as err:
        _fail(str(err), EXIT_REFUSED)
    except PayloadDecryptionError as err:
        _fail(f"{err} (IPS_ENCRYPTION_KEYS must hold the worker's keys)", EXIT_REFUSED)
    except typer.Exit:
        raise
    except Exception as err:  # a one-line report, never a traceback
        _fail(
            f"an unexpected error ({type(err).__name__}: {err}). Please report it.",
            EXIT_INTERNAL,
        )
    finally:
        if store is not None:
            store.dispose()


def policy_from_environment() -> Policy:
    """The policy of IPS_POLICY_FILE, else the defaults (`ips api` and `ips up` use it too)."""
    path = os.environ.get(POLICY_FILE_VARIABLE)
    if not path:
        return Policy()
    try:
        return load_policy_file(Path(path))
    except PolicyError as err:
        raise Invalid(POLICY_FILE_VARIABLE, str(err)) from None


def _open_store() -> Store:
    url = database_url()
    try:
        store = Store(url)
    except StoreError as err:
        raise Invalid(DATABASE_URL_VARIABLE, str(err).split(": ", 1)[-1]) from None
    except OSError:
        raise Unavailable("database") from None
    # The first command on a fresh installation finds its tables; one on a
    # database of a newer version is refused before it reads anything.
    try:
        store.upgrade()
    except MigrationError as err:
        store.dispose()
        raise Invalid(DATABASE_URL_VARIABLE, str(err)) from None
    except BaseException:
        store.dispose()
        raise
    return store


def database_url() -> str:
    return os.environ.get(DATABASE_URL_VARIABLE) or DEFAULT_DATABASE_URL


def _where(what: str) -> str:
    if what == "database":
        shown = make_url(database_url()).render_as_string(hide_password=True)
        return f"(database: {shown}, from {DATABASE_URL_VARIABLE})"
    address = os.environ.get(temporal_client.ADDRESS_VARIABLE) or temporal_client.DEFAULT_ADDRESS
    return (
        f"(Temporal address: {address}, from {temporal_client.ADDRESS_VARIABLE}; "
        "is `ips up` running?)"
    )


def _invalid(err: Invalid, option_for: Callable[[str], str] | Mapping[str, str] | None) -> str:
    """`option: reason`, with the service's field names as the options typed."""
    if option_for is None:
        return f"{err.field}: {err.reason}"
    if callable(option_for):
        return f"{option_for(err.field)}: {err.reason}"
    # Names such as due_from are field names, never words of a reason.
    reason = re.sub(r"\b\w+_\w+\b", lambda m: option_for.get(m.group(), m.group()), err.reason)
    return f"{option_for.get(err.field, err.field)}: {reason}"


def _fail(message: str, code: int) -> NoReturn:
    typer.secho(f"Error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)
