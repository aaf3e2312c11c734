"""Worker memory with N open journeys, against a worker of no-op workflows.

    .venv/bin/python -m bench.memory [--journeys 2000] [--concurrency 16] [--setup-workers 1]
        [--database-url postgresql+psycopg://root@127.0.0.1:5432/test]
    .venv/bin/python -m bench.memory --journeys 10000     # the issue's figure

The worker is `python worker.py` in its own process, as `ips up` runs it (with
IPS_TEMPORAL_ADDRESS and IPS_DATABASE_URL; messages only logged). Its resident
memory (VmRSS in /proc/<pid>/status; VmHWM, the peak) is read idle, and again once
N consumers are referred through `service.journeys.refer` and each journey has
been touched once by it (a query of its state, as `ips show` makes), so that it
holds them in its cache. The set-up is parallel: referrals go `--concurrency` at
a time, and `--setup-workers` more `python worker.py` processes run the journeys
meanwhile; they are stopped before the touching, which only the measured worker
does.

The baseline: `python -m bench._noop`, a worker of the same set-up (sandbox,
16 activity threads, the SDK's default cache) of no-op workflows, each started,
sent a no-op update and then left waiting on a signal: its memory idle and with
N of them open.

The SDK's sticky cache (Worker max_cached_workflows, 1,000 by default, which
worker.py keeps) bounds what either worker holds: past 1,000 open workflows the
least recently used leave the cache, and their next task replays their history.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy

from bench import _noop
from bench._stack import (
    add_concurrency_flag,
    add_database_flag,
    add_setup_workers_flag,
    add_team,
    again_if_unanswered,
    app_database,
    consumer_id,
    database_label,
    dev_server,
    helper_workers,
    journey_worker_process,
    parser_of,
    progress,
    refer_for_set_up,
    services,
    table,
    timed_calls,
    worker_environment,
    worker_process,
)
from rules.policy import Policy
from service.access import LOCAL_ADMIN
from service.journeys import journey
from store import Store

# The SDK's default, which worker.py and bench._noop keep.
MAX_CACHED_WORKFLOWS = 1000
# How long a worker is left alone before its memory is read.
SETTLE_SECONDS = 5.0


@dataclass
class Memory:
    idle_kb: int
    open_kb: int
    peak_kb: int

    @property
    def grown_kb(self) -> int:
        return self.open_kb - self.idle_kb


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise KeyError(field)


async def settled_rss(pid: int) -> int:
    await asyncio.sleep(SETTLE_SECONDS)
    return status_kb(pid, "VmRSS")


async def ours(client: Client, folder: Path, database_url: str, args: argparse.Namespace) -> Memory:
    n = args.journeys
    store = Store(database_url)
    try:
        progress(f"adding {n:,} consumers and their team")
        add_team(store, n)
        referrals = services(store, client, Policy())
        environment = worker_environment(client.service_client.config.target_host, database_url)
        async with journey_worker_process(environment, folder / "worker.log") as measured:
            idle = await settled_rss(measured.pid)
            progress(f"python worker.py (pid {measured.pid}) idle: {idle / 1024:.0f} MB")
            async with helper_workers(args.setup_workers, environment, folder):
                progress(
                    f"setting up {n:,} journeys in parallel ({args.concurrency} referrals at a "
                    f"time, {1 + args.setup_workers} worker processes)"
                )
                await timed_calls(
                    n,
                    lambda i: refer_for_set_up(referrals, i),
                    concurrency=args.concurrency,
                    what="referrals",
                )
                progress("set-up done; stopping the helpers")
            progress(f"touching each journey once (a query of its state) in pid {measured.pid}")
            await timed_calls(
                n,
                lambda i: again_if_unanswered(
                    lambda: journey(referrals, LOCAL_ADMIN, consumer_id(i))
                ),
                concurrency=args.concurrency,
                what="queries",
            )
            opened = await settled_rss(measured.pid)
            return Memory(idle, opened, status_kb(measured.pid, "VmHWM"))
    finally:
        store.dispose()


async def baseline(client: Client, folder: Path, args: argparse.Namespace) -> Memory:
    n = args.journeys
    environment = worker_environment(client.service_client.config.target_host)
    command = [sys.executable, "-m", "bench._noop"]
    async with worker_process(
        command, environment, folder / "noop.log", ready=_noop.READY
    ) as measured:
        idle = await settled_rss(measured.pid)
        progress(f"python -m bench._noop (pid {measured.pid}) idle: {idle / 1024:.0f} MB")
        handles: list[WorkflowHandle[_noop.WaitingWorkflow, None]] = []

        async def start_and_touch(i: int) -> None:
            handle = await client.start_workflow(
                _noop.WaitingWorkflow.run,
                id=f"waiting-{i}",
                task_queue=_noop.TASK_QUEUE,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            )
            await handle.execute_update(_noop.WaitingWorkflow.touch, "referred")
            handles.append(handle)

        async def start(i: int) -> None:
            await again_if_unanswered(lambda: start_and_touch(i))

        progress(f"starting {n:,} no-op workflows waiting on a signal, each sent an update")
        await timed_calls(n, start, concurrency=args.concurrency, what="no-op workflows")
        opened = await settled_rss(measured.pid)
        peak = status_kb(measured.pid, "VmHWM")
        progress("signalling the no-op workflows to finish")
        await timed_calls(
            len(handles),
            lambda i: handles[i].signal(_noop.WaitingWorkflow.finish),
            concurrency=args.concurrency,
            what="signals",
        )
        return Memory(idle, opened, peak)


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="ips-bench-memory-") as tmp:
        folder = Path(tmp)
        with app_database(folder, args.database_url) as database_url:
            async with dev_server(folder) as server:
                mine = await ours(server.client, folder, database_url, args)
                base = await baseline(server.client, folder, args)
    n = args.journeys
    cached = min(n, MAX_CACHED_WORKFLOWS)
    print(
        f"Worker memory: {n:,} open workflows; temporal server start-dev (SQLite file), app "
        f"database on {database_label(database_url)}; max_cached_workflows "
        f"{MAX_CACHED_WORKFLOWS:,} (the SDK's default): each worker holds {cached:,} of them\n"
    )
    rows = [
        ("python worker.py (journeys)", mine),
        ("python -m bench._noop (baseline)", base),
    ]
    print(
        table(
            [
                "worker",
                "idle MB",
                f"{n:,} open MB",
                "peak MB",
                "grown MB",
                "KB per cached",
                "KB per open",
                "× baseline",
            ],
            [
                (
                    label,
                    m.idle_kb / 1024,
                    m.open_kb / 1024,
                    m.peak_kb / 1024,
                    m.grown_kb / 1024,
                    m.grown_kb / cached,
                    m.grown_kb / n,
                    m.grown_kb / base.grown_kb,
                )
                for label, m in rows
            ],
        )  # fmt: skip
    )
    print(
        f"\nMB are resident memory (VmRSS; peak: VmHWM). 'grown' is open minus idle; per "
        f"cached divides it by the {cached:,} workflows the sticky cache holds, per open by "
        f"all {n:,}. Past {MAX_CACHED_WORKFLOWS:,} open workflows a worker keeps the "
        f"{MAX_CACHED_WORKFLOWS:,} most recently used in its cache; the others are replayed "
        f"from their history at their next task."
    )


def main() -> None:
    parser = parser_of(__doc__)
    parser.add_argument("--journeys", type=int, default=2000, help="how many (default 2000)")
    add_concurrency_flag(parser)
    add_setup_workers_flag(parser)
    add_database_flag(parser)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
