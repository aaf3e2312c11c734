"""`ips upgrade check`: before new code takes over the journeys already running,
replay their histories with it (docs/upgrades.md)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

import typer
from temporalio.client import Client, WorkflowHistory
from temporalio.service import RPCError

from cli.session import EXIT_REFUSED, EXIT_UNAVAILABLE
from codec import KeyRingError

# Every workflow of ours that is still running: journeys, and any sweep caught
# in the middle of its run.
RUNNING = 'TaskQueue = "ips-journeys" AND ExecutionStatus = "Running"'
PROGRESS_EVERY = 100

upgrade_app = typer.Typer(
    help="Check that the code installed here can take over the journeys already running."
)


@upgrade_app.command("check")
def check(
    histories: Annotated[
        Path | None,
        typer.Option(
            "--histories",
            help="A folder of histories saved as JSON (`temporal workflow show "
            "--workflow-id ID --output json > ID.json`), replayed instead of the "
            "running workflows.",
        ),
    ] = None,
    limit: Annotated[
        int,
        typer.Option("--limit", min=1, help="Replay at most this many running workflows."),
    ] = 1000,
    query: Annotated[
        str,
        typer.Option("--query", help="Which workflows to replay (a Temporal list filter)."),
    ] = RUNNING,
) -> None:
    """Replay the history of every running journey with the code installed here.

    Run it with the new version installed, before its workers start: each
    history is replayed with the new workflow code, offline (nothing is sent
    and nothing changes). A journey the new code would take differently is
    named, and the command exits 1: do not deploy that version as it is; see
    docs/upgrades.md. Uses Temporal at IPS_TEMPORAL_ADDRESS.
    """
    try:
        failures, replayed = asyncio.run(_check(histories, limit, query))
    except _Refused as err:
        typer.secho(f"Error: {err}", err=True, fg=typer.colors.RED)
        raise typer.Exit(err.code) from None
    except KeyRingError as err:
        typer.secho(f"Error: {err}", err=True, fg=typer.colors.RED)
        raise typer.Exit(EXIT_REFUSED) from None
    if not replayed:
        typer.echo("No history to replay: nothing is running that this code must take over.")
        return
    if not failures:
        typer.echo(f"All {replayed} histories replay with this code: it is safe to deploy.")
        return
    typer.secho(
        f"{len(failures)} of {replayed} histories do not replay with this code; "
        "do not deploy it as it is (see docs/upgrades.md):",
        err=True,
        fg=typer.colors.RED,
    )
    for workflow_id, reason in failures:
        typer.echo(f"  {workflow_id}: {reason}", err=True)
    raise typer.Exit(1)


class _Refused(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


async def _check(folder: Path | None, limit: int, query: str) -> tuple[list[tuple[str, str]], int]:
    import temporal_client
    import worker

    if folder is not None:
        histories = _from_folder(folder)
        converter = temporal_client.data_converter()
    else:
        client = await _connect()
        histories = _running(client, query, limit)
        converter = client.data_converter
    counted = _Counted(histories)
    results = await worker.build_replayer(converter).replay_workflows(
        counted, raise_on_replay_failure=False
    )
    failures = [
        (counted.workflow_ids.get(run_id, run_id), _first_line(error))
        for run_id, error in results.replay_failures.items()
    ]
    return sorted(failures), counted.count


async def _connect() -> Client:
    import temporal_client

    try:
        return await temporal_client.connect()
    except RuntimeError as err:
        raise _Refused(
            f"Temporal does not answer at {temporal_client.configured_address()} "
            f"(from {temporal_client.ADDRESS_VARIABLE}): {err}",
            EXIT_UNAVAILABLE,
        ) from None


async def _running(client: Client, query: str, limit: int) -> AsyncIterator[WorkflowHistory]:
    try:
        async for history in client.list_workflows(query, limit=limit).map_histories():
            yield history
    except RPCError as err:
        raise _Refused(f"--query: Temporal refused it: {err.message}", EXIT_REFUSED) from None


async def _from_folder(folder: Path) -> AsyncIterator[WorkflowHistory]:
    if not folder.is_dir():
        raise _Refused(f"--histories: {folder} is not a folder", EXIT_REFUSED)
    files = sorted(folder.glob("*.json"))
    if not files:
        raise _Refused(f"--histories: {folder} holds no .json file", EXIT_REFUSED)
    for path in files:
        try:
            history = WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))
        except (OSError, ValueError, json.JSONDecodeError) as err:
            raise _Refused(
                f"--histories: {path.name} is not a saved history ({_first_line(err)})",
                EXIT_REFUSED,
            ) from None
        yield history


class _Counted:
    """Hands the histories on, counting them, printing progress on long runs, and
    remembering whose run each is (failures are reported by run id)."""

    def __init__(self, histories: AsyncIterator[WorkflowHistory]) -> None:
        self._histories = histories
        self.count = 0
        self.workflow_ids: dict[str, str] = {}

    def __aiter__(self) -> _Counted:
        return self

    async def __anext__(self) -> WorkflowHistory:
        history = await anext(self._histories)
        self.count += 1
        self.workflow_ids[history.run_id] = history.workflow_id
        if self.count % PROGRESS_EVERY == 0:
            typer.echo(f"... {self.count} replayed", err=True)
        return history


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
