"""`ips scheduler`: the agency sweeps' scheduler alone, for a set-up where it runs
apart from the worker (`ips up` runs one in the worker already)."""

import asyncio
import signal

import typer


def scheduler() -> None:
    """Schedule the digests, the employer-contact nudge and the caseload check
    until Ctrl-C.

    Uses the app database of IPS_DATABASE_URL (default ./var/ips.db) for its jobs
    and Temporal at IPS_TEMPORAL_ADDRESS (default localhost:7233) to start each
    sweep. Several schedulers at once are safe: each digest goes out once.
    """
    import worker
    from cli.session import policy_from_settings
    from config import load_settings
    from service.errors import Invalid
    from temporal_client import connect, data_converter

    try:
        settings = load_settings()
        policy = policy_from_settings(settings)
        # A malformed IPS_ENCRYPTION_KEYS is a ValueError (KeyRingError) naming it.
        converter = data_converter(settings)
    except Invalid as error:
        typer.secho(f"ips scheduler: {error.field}: {error.reason}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None
    except ValueError as error:
        typer.secho(f"ips scheduler: {error}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None
    database_url = settings.database()

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        try:
            client = await connect(settings.temporal_address, converter=converter)
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
