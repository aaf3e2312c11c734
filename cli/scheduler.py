"""`ips scheduler`: the agency sweeps' scheduler alone, for a set-up where it runs
apart from the worker (`ips up` runs one in the worker already)."""

import asyncio
import os
import signal

import typer

from cli.up import DATABASE_URL_VARIABLE


def scheduler() -> None:
    """Schedule the digests, the employer-contact nudge and the caseload check
    until Ctrl-C.

    Uses the app database of IPS_DATABASE_URL (default ./var/ips.db) for its jobs
    and Temporal at IPS_TEMPORAL_ADDRESS (default localhost:7233) to start each
    sweep. Several schedulers at once are safe: each digest goes out once.
    """
    import worker
    from cli.session import policy_from_environment
    from codec import KeyRingError
    from service.errors import Invalid
    from temporal_client import connect, data_converter

    try:
        policy = policy_from_environment()
        converter = data_converter()
    except Invalid as error:
        typer.secho(f"ips scheduler: {error.field}: {error.reason}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None
    except KeyRingError as error:
        typer.secho(f"ips scheduler: {error}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None
    database_url = os.environ.get(DATABASE_URL_VARIABLE) or "sqlite:///var/ips.db"

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        try:
            client = await connect(converter=converter)
        except RuntimeError as error:
            typer.secho(
                f"ips scheduler: Temporal does not answer ({error}); is `ips up` running?",
                err=True,
                fg=typer.colors.RED,
            )
            raise typer.Exit(1) from None
        typer.echo("Sweep scheduler running. Press Ctrl-C to stop.")
        await worker.schedule(client, database_url=database_url, stop=stop, policy=policy)
        typer.echo("Stopped.")

    asyncio.run(run())
