"""What a journey costs the worker when it comes back into the cache: its
history replayed, with the SDK's pydantic converter against ours.

    .venv/bin/python -m bench.replay [--replays 200]
        [--history tests/workflows/histories/continued_run.json]

A worker holds 1,000 journeys in its cache (max_cached_workflows); any other
journey's next task (a reminder at the 08:00 herd, an event, a query) replays its
history first, in a sandbox of its own. Here the worker's own replayer
(`worker.build_replayer`: the same workflows and sandbox) replays one stored
journey history `--replays` times, first with `temporalio.contrib.pydantic`'s
data converter (the baseline: every workflow instance's converter starts with
an empty cache of validation schemas, so each replay builds them all again),
then with `codec.payloads.pydantic_converter`, whose cache the whole worker
shares. The figures are this process's CPU time per replay and the wall time.
No Temporal server is needed: a replay only reads the history.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter

from bench._stack import parser_of, progress, table
from codec.payloads import pydantic_converter, shared_type_adapter
from worker import build_replayer

HISTORIES = Path(__file__).resolve().parent.parent / "tests" / "workflows" / "histories"


@dataclass
class Replays:
    count: int
    cpu_seconds: float
    wall_seconds: float

    @property
    def cpu_ms_each(self) -> float:
        return self.cpu_seconds / self.count * 1000

    @property
    def per_second(self) -> float:
        return self.count / self.wall_seconds


async def replay(history: WorkflowHistory, converter: DataConverter, count: int) -> Replays:
    shared_type_adapter.cache_clear()
    replayer = build_replayer(converter)

    async def copies() -> AsyncIterator[WorkflowHistory]:
        for _ in range(count):
            yield history

    cpu, wall = time.process_time(), time.perf_counter()
    results = await replayer.replay_workflows(copies(), raise_on_replay_failure=False)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if results.replay_failures:
        run_id, error = next(iter(results.replay_failures.items()))
        raise SystemExit(f"replay of {run_id} failed: {error}")
    return Replays(count, cpu, wall)


async def run(args: argparse.Namespace) -> None:
    path: Path = args.history
    history = WorkflowHistory.from_json("bench-replay", path.read_text(encoding="utf-8"))
    n = args.replays
    # A first replay of each, not measured: the modules' first import.
    await replay(history, pydantic_data_converter, 1)
    await replay(history, pydantic_converter, 1)
    progress(
        f"replaying {path.name} ({len(history.events):,} events) {n:,} times: the SDK's converter"
    )
    base = await replay(history, pydantic_data_converter, n)
    progress(f"the same {n:,} times: codec.payloads.pydantic_converter")
    mine = await replay(history, pydantic_converter, n)
    print(
        f"Journey replay: {path.name} ({len(history.events):,} history events), replayed {n:,} "
        "times by worker.build_replayer (the worker's workflows and sandbox), in one process\n"
    )
    rows = [
        ("codec.payloads.pydantic_converter (the worker's)", mine),
        ("temporalio.contrib.pydantic (baseline)", base),
    ]
    print(
        table(
            ["data converter", "replays", "CPU ms per replay", "replays/s", "× baseline CPU"],
            [
                (
                    name,
                    r.count,
                    r.cpu_ms_each,
                    r.per_second,
                    r.cpu_seconds / base.cpu_seconds,
                )
                for name, r in rows
            ],
        )
    )


def main() -> None:
    parser = parser_of(__doc__)
    parser.add_argument(
        "--replays", type=int, default=200, help="how many replays of each (default 200)"
    )
    parser.add_argument(
        "--history",
        type=Path,
        default=HISTORIES / "continued_run.json",
        help="a journey's history as JSON (default: tests/workflows/histories/continued_run.json)",
    )
    args = parser.parse_args()
    if args.replays < 1:
        parser.error("--replays: must be at least 1")
    if not args.history.is_file():
        parser.error(f"--history: no such file: {args.history}")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
