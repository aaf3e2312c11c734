"""`ips api`: the web API alone, on the database and Temporal named by the
environment (as the staff commands use them)."""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated

import typer
from sqlalchemy.engine import make_url

import temporal_client
from api.codec import CodecSettings
from api.server import ApiError, ApiServer
from api.webhooks import WebhookSettings
from cli.session import policy_from_settings
from cli.up import DATABASE_URL_VARIABLE
from config import load_settings
from service.errors import Invalid, Unavailable
from service.journeys import Services, available
from store import Store, StoreError
from store.schema import MigrationError


def api_command(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (0.0.0.0 for every network).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
) -> None:
    """Serve the web API (documentation at /docs) until Ctrl-C.

    It uses the database of IPS_DATABASE_URL (default sqlite:///var/ips.db) and
    the Temporal server of IPS_TEMPORAL_ADDRESS (default localhost:7233), with
    the policy of IPS_POLICY_FILE. The Twilio and SendGrid webhooks check
    signatures with IPS_TWILIO_AUTH_TOKEN, IPS_PUBLIC_URL and
    IPS_SENDGRID_WEBHOOK_PUBLIC_KEY. With IPS_ENCRYPTION_KEYS set, it is the
    Temporal web page's codec server too (/codec, for the pages of
    IPS_CODEC_UI_ORIGINS). `ips up` serves the API too; this is for running it
    on its own.
    """
    try:
        asyncio.run(_serve_alone(host, port))
    except (ApiError, Invalid, Unavailable, MigrationError) as err:
        typer.secho(f"ips api: {err}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None


async def _serve_alone(host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        # SettingsError is a ValueError too.
        settings = load_settings()
        webhook_settings = WebhookSettings.from_settings(settings)
        codec_settings = CodecSettings.from_settings(settings)
    except ValueError as err:
        raise ApiError(str(err)) from None
    url = settings.database()
    try:
        store = Store(url)
    except StoreError as err:
        raise Invalid(DATABASE_URL_VARIABLE, str(err).split(": ", 1)[-1]) from None
    try:
        with available():
            store.upgrade()
        services = Services(
            store=store, connect=temporal_client.connect, policy=policy_from_settings(settings)
        )
        async with ApiServer(
            services,
            host=host,
            port=port,
            webhook_settings=webhook_settings,
            codec_settings=codec_settings,
            settings=settings,
        ) as server:
            shown = make_url(url).render_as_string(hide_password=True)
            typer.echo(f"IPS journeys web API: {server.url} (documentation: {server.url}/docs)")
            typer.echo(f"  Database: {shown}")
            typer.echo("Press Ctrl-C to stop.")
            await stop.wait()
            typer.echo("Stopping...")
    finally:
        store.dispose()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
