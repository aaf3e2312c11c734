"""How a staff command reaches the system: the database and Temporal named by
the environment, the staff user behind the token, and what the person at the
terminal is told when something goes wrong.

Every staff command calls the service layer (`service/`), the same code the web
API calls; nothing here decides what is allowed or what an event does.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Coroutine, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from sqlalchemy.engine import make_url
from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError

import temporal_client
from cli.up import DATABASE_URL_VARIABLE
from codec import KeyRingError, PayloadDecryptionError
from config import DEFAULT_DATABASE_URL, Settings, SettingsError, load_settings
from rules.policy import Policy, PolicyError, load_policy_file
from service.access import LOCAL_ADMIN, Actor, authenticate
from service.errors import Invalid, NotFound, ServiceError, Unauthenticated, Unavailable
from service.journeys import Services, available
from store import Store, StoreError
from store.schema import MigrationError

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
    # Without --token, the settings' IPS_TOKEN (staff_session reads it).
    typer.Option(
        "--token",
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
    settings: Settings

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
    settings: Settings | None = None
    try:
        with available():
            settings = load_settings()
            policy = policy_from_settings(settings)
            store = _open_store(settings)
            services = Services(store=store, connect=temporal_client.connect, policy=policy)
            if token is None and settings.token is not None:
                token = settings.token.get_secret_value()
            # An empty IPS_TOKEN is no token, as for the other variables.
            actor = authenticate(store, token, services.now()) if token else LOCAL_ADMIN
            yield Session(services=services, actor=actor, settings=settings)
    except Unauthenticated as err:
        _fail(f"{err} (the token comes from --token or {TOKEN_VARIABLE})", EXIT_REFUSED)
    except Invalid as err:
        _fail(_invalid(err, option_for), EXIT_REFUSED)
    except NotFound as err:
        _fail(str(err), EXIT_REFUSED)
    except SettingsError as err:
        _fail(str(err), EXIT_REFUSED)
    except Unavailable as err:
        # The settings were read before anything could be unavailable.
        where = f" {_where(err.what, settings)}" if settings is not None else ""
        _fail(f"{err}.{where}", EXIT_UNAVAILABLE)
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


def policy_from_settings(settings: Settings) -> Policy:
    """The policy of IPS_POLICY_FILE, else the defaults (`ips api` and `ips up` use it too)."""
    if settings.policy_file is None:
        return Policy()
    try:
        return load_policy_file(settings.policy_file)
    except PolicyError as err:
        raise Invalid(POLICY_FILE_VARIABLE, str(err)) from None


def database_url() -> str:
    """IPS_DATABASE_URL, else the default (as every command but `ips up` has it)."""
    return load_settings().database()


def _open_store(settings: Settings) -> Store:
    try:
        store = Store(settings.database())
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


def _where(what: str, settings: Settings) -> str:
    if what == "database":
        shown = make_url(settings.database()).render_as_string(hide_password=True)
        return f"(database: {shown}, from {DATABASE_URL_VARIABLE})"
    return (
        f"(Temporal address: {settings.temporal_address}, from "
        f"{temporal_client.ADDRESS_VARIABLE}; is `ips up` running?)"
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
