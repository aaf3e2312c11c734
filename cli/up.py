"""`ips up`: the embedded stack (Temporal dev server, app database, worker, web
API) on this computer."""

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from sqlalchemy.engine import make_url
from temporalio.client import Client

import temporal_client
from config import Settings, SettingsError, load_settings
from workflows.search import dev_server_args

if TYPE_CHECKING:
    from temporalio.converter import DataConverter

    from api.codec import CodecSettings
    from api.webhooks import WebhookSettings
    from rules.policy import Policy

HOST = "127.0.0.1"
DATABASE_URL_VARIABLE = "IPS_DATABASE_URL"
SERVER_START_TIMEOUT_SECONDS = 60.0
SERVER_STOP_TIMEOUT_SECONDS = 10.0
READY_MESSAGE = "Ready. Press Ctrl-C to stop."


class StackError(Exception):
    """A problem starting the stack that the person running `ips up` can fix."""


@dataclass(frozen=True)
class StackSettings:
    data_dir: Path
    temporal_port: int
    ui_port: int
    api_port: int
    database_url: str
    # Everything else comes from the IPS_* settings.
    app: Settings

    @property
    def temporal_address(self) -> str:
        return f"{HOST}:{self.temporal_port}"

    @property
    def temporal_log(self) -> Path:
        return self.data_dir / "temporal.log"

    @property
    def codec_endpoint(self) -> str:
        """The codec server the Temporal web page calls for encrypted payloads."""
        return f"http://{HOST}:{self.api_port}/codec"

    @property
    def ui_origins(self) -> frozenset[str]:
        """The Temporal web page, under either name of this computer."""
        return frozenset({f"http://{HOST}:{self.ui_port}", f"http://localhost:{self.ui_port}"})


def up(
    data_dir: Annotated[
        Path,
        typer.Option(
            "--data-dir",
            help="Folder where the journeys, the app database and the logs are kept.",
        ),
    ] = Path("var"),
    temporal_port: Annotated[
        int, typer.Option("--temporal-port", help="Port on which Temporal listens.")
    ] = 7233,
    ui_port: Annotated[
        int,
        typer.Option("--ui-port", help="Port of the Temporal web page, to look at journeys."),
    ] = 8233,
    api_port: Annotated[
        int,
        typer.Option("--api-port", help="Port of the web API (its documentation is at /docs)."),
    ] = 8000,
) -> None:
    """Start IPS journeys on this computer and keep it running until Ctrl-C.

    Starts Temporal (which keeps every consumer's journey), the app database, the
    worker that sends reminders and the web API on 127.0.0.1. Everything is kept
    in the data folder, so stopping and starting again loses nothing.
    """
    data_dir = data_dir.resolve()
    try:
        app = load_settings()
        settings = StackSettings(
            data_dir=data_dir,
            temporal_port=temporal_port,
            ui_port=ui_port,
            api_port=api_port,
            database_url=app.database(f"sqlite:///{data_dir / 'ips.db'}"),
            app=app,
        )
        asyncio.run(run_stack(settings))
    except (StackError, SettingsError) as error:
        typer.secho(f"ips up: {error}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None


async def run_stack(settings: StackSettings) -> None:
    """Run until Ctrl-C or SIGTERM: the API and the worker stop first, then the
    Temporal server."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, _request_stop, stop)
    try:
        for port in (settings.temporal_port, settings.ui_port, settings.api_port):
            if await _port_answers(port):
                raise StackError(
                    f"port {port} on {HOST} is already in use (is `ips up` already running?). "
                    "Stop the other program or choose another port with "
                    "--temporal-port / --ui-port / --api-port."
                )
        # Imported here, not at the top: `ips --help` need not load every package,
        # and a broken worker shows before the server starts.
        import worker
        from api.codec import CodecSettings
        from api.server import ApiError
        from api.webhooks import WebhookSettings
        from cli.session import policy_from_settings
        from notifiers.router import notifier_from_settings
        from service.errors import Invalid

        try:
            policy = policy_from_settings(settings.app)
        except Invalid as error:
            raise StackError(f"{error.field}: {error.reason}") from None
        try:
            # Provider settings are checked before anything starts: a mistake there
            # would otherwise lose messages, not stop the stack.
            notifier = notifier_from_settings(settings.app)
            webhook_settings = WebhookSettings.from_settings(settings.app)
            # IPS_ENCRYPTION_KEYS: the worker's converter and the codec server's keys.
            converter = temporal_client.data_converter(settings.app)
            codec_settings = CodecSettings.from_settings(settings.app, settings.ui_origins)
        except ValueError as error:
            raise StackError(str(error)) from None
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        server = await _start_temporal_server(settings, encrypted=codec_settings.codec is not None)
        try:
            client = await _wait_until_ready(server, settings, stop, converter)
            if client is not None:
                async with _serving_api(client, settings, policy, webhook_settings, codec_settings):
                    _print_status(settings, codec_settings)
                    await worker.serve(
                        client,
                        database_url=settings.database_url,
                        stop=stop,
                        settings=settings.app,
                        notifier=notifier,
                        policy=policy,
                    )
        except (ApiError, temporal_client.SearchAttributesMissing) as error:
            raise StackError(str(error)) from None
        finally:
            await _stop_temporal_server(server)
        typer.echo("Stopped.")
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


@contextlib.asynccontextmanager
async def _serving_api(
    client: Client,
    settings: StackSettings,
    policy: "Policy",
    webhook_settings: "WebhookSettings",
    codec_settings: "CodecSettings",
) -> AsyncIterator[None]:
    """The web API on HOST:api_port, in this event loop, on the worker's database
    and Temporal client."""
    from api.server import ApiServer
    from service.errors import Unavailable
    from service.journeys import Services, available
    from store import Store
    from store.schema import MigrationError

    async def connect() -> Client:
        return client

    store = Store(settings.database_url)
    try:
        try:
            with available():
                # Before the worker starts on it.
                store.upgrade()
        except (Unavailable, MigrationError) as error:
            raise StackError(f"{error} ({_shown_url(settings.database_url)})") from None
        services = Services(store=store, connect=connect, policy=policy)
        async with ApiServer(
            services,
            host=HOST,
            port=settings.api_port,
            webhook_settings=webhook_settings,
            codec_settings=codec_settings,
            settings=settings.app,
        ):
            yield
    finally:
        store.dispose()


def _request_stop(stop: asyncio.Event) -> None:
    if not stop.is_set():
        typer.echo("\nStopping (this can take a few seconds)...")
        stop.set()


def _print_status(settings: StackSettings, codec_settings: "CodecSettings") -> None:
    typer.echo("IPS journeys is running.")
    typer.echo(f"  Temporal web page: http://{HOST}:{settings.ui_port}")
    typer.echo(f"  Temporal address:  {settings.temporal_address}")
    typer.echo(f"  Database:          {_shown_url(settings.database_url)}")
    typer.echo(f"  Data folder:       {settings.data_dir}")
    typer.echo(f"  Web API:           http://{HOST}:{settings.api_port}/docs")
    if codec_settings.codec is not None:
        newest = codec_settings.codec.ring.newest.id
        typer.echo(f"  Payloads:          encrypted (newest key {newest})")
        typer.echo(
            f"  To read them:      an admin signs in at {settings.codec_endpoint}/sign-in, "
            "then sets the web page's Codec Server as that page says"
        )
    typer.echo(READY_MESSAGE)


def _shown_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


async def _port_answers(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection(HOST, port)
    except OSError:
        return False
    writer.close()
    await writer.wait_closed()
    return True


async def _start_temporal_server(
    settings: StackSettings, *, encrypted: bool
) -> asyncio.subprocess.Process:
    """The dev server; its web page decodes encrypted payloads with the API's codec
    server when `encrypted`."""
    program = temporal_client.find_program(temporal_client.TEMPORAL_CLI)
    typer.echo(f"Starting Temporal (its log: {settings.temporal_log})...")
    codec = ["--ui-codec-endpoint", settings.codec_endpoint] if encrypted else []
    with settings.temporal_log.open("ab") as log:
        return await asyncio.create_subprocess_exec(
            str(program),
            "server",
            "start-dev",
            "--db-filename",
            str(settings.data_dir / "temporal.db"),
            "--ip",
            HOST,
            "--port",
            str(settings.temporal_port),
            "--ui-port",
            str(settings.ui_port),
            "--ui-disable-news-fetch",
            *codec,
            "--log-level",
            "warn",
            # Registered at every start, so an older data folder gets them too.
            *dev_server_args(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own process group: Ctrl-C in the terminal reaches only `ips up`,
            # which stops the worker before the server it talks to.
            process_group=0,
            preexec_fn=_stop_with_parent(),
        )


def _stop_with_parent() -> Callable[[], None] | None:
    """On Linux, the server gets SIGTERM if `ips up` dies without cleaning up (kill -9)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    # Resolved before the fork: the child only makes the call.
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    pr_set_pdeathsig = 1

    def set_death_signal() -> None:
        prctl(pr_set_pdeathsig, signal.SIGTERM)

    return set_death_signal


async def _wait_until_ready(
    server: asyncio.subprocess.Process,
    settings: StackSettings,
    stop: asyncio.Event,
    converter: "DataConverter",
) -> Client | None:
    """The connected client once the server answers; None if asked to stop first."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SERVER_START_TIMEOUT_SECONDS
    while not stop.is_set():
        if server.returncode is not None:
            raise StackError(
                f"the Temporal server stopped while starting (exit code {server.returncode}). "
                f"Its log says why: {settings.temporal_log}"
            )
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise StackError(
                f"the Temporal server did not answer within {SERVER_START_TIMEOUT_SECONDS:.0f} "
                f"seconds. Its log may say why: {settings.temporal_log}"
            )
        if await _port_answers(settings.temporal_port):
            try:
                return await asyncio.wait_for(
                    temporal_client.connect(settings.temporal_address, converter=converter),
                    timeout=remaining,
                )
            except (RuntimeError, TimeoutError):
                pass  # listening but not serving yet
        await asyncio.sleep(0.2)
    return None


async def _stop_temporal_server(server: asyncio.subprocess.Process) -> None:
    if server.returncode is None:
        _signal_group(server, signal.SIGTERM)
        try:
            await asyncio.wait_for(server.wait(), timeout=SERVER_STOP_TIMEOUT_SECONDS)
        except TimeoutError:
            _signal_group(server, signal.SIGKILL)
    await server.wait()


def _signal_group(server: asyncio.subprocess.Process, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(server.pid, signum)
