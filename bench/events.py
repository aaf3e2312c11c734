"""Event throughput: events per second through the real update path on open
journeys, against a bare no-op update as many times, as many at a time.

    .venv/bin/python -m bench.events [--journeys 50] [--events 500] [--concurrency 16]
        [--database-url postgresql+psycopg://root@127.0.0.1:5432/test]

"Ours" is `service.journeys.record_event`, what `ips event` and POST
/consumers/{id}/events call: it checks the caller's scope and the event, sends
it to the journey as an update and waits for the answer (the journey records the
event in the audit trail, applies it, saves its due contacts). The events are
phone contacts, spread in turn over journeys referred first (not timed). The
worker is the real one, in this process, on a `temporal server start-dev` of its
own.

The baseline: as many no-op workflows, each waiting on a signal, sent a no-op
update whose answer is awaited, spread over them in the same way, by a no-op
worker of the same set-up on its own task queue.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from temporalio.client import Client, WorkflowHandle

from bench import _noop
from bench._stack import (
    Timed,
    add_concurrency_flag,
    add_database_flag,
    add_team,
    app_database,
    consumer_id,
    database_label,
    dev_server,
    journey_worker,
    parser_of,
    progress,
    rate_table,
    refer_for_set_up,
    services,
    timed_calls,
)
from rules.policy import Policy
from service.access import LOCAL_ADMIN
from service.journeys import record_event


async def events(client: Client, database_url: str, args: argparse.Namespace) -> Timed:
    async with journey_worker(client, database_url) as store:
        add_team(store, args.journeys)
        ours = services(store, client, Policy())
        progress(f"referring {args.journeys:,} consumers (not timed)")
        await timed_calls(
            args.journeys,
            lambda n: refer_for_set_up(ours, n),
            concurrency=args.concurrency,
            what="referrals",
        )

        async def contact(n: int) -> None:
            at = datetime.now(UTC).replace(microsecond=0)
            data = {"type": "contact", "at": at, "method": "phone"}
            await record_event(ours, LOCAL_ADMIN, consumer_id(n % args.journeys), data)

        progress(f"recording {args.events:,} events, {args.concurrency} at a time")
        return await timed_calls(args.events, contact, concurrency=args.concurrency, what="events")


async def noop_updates(client: Client, args: argparse.Namespace) -> Timed:
    progress(f"starting {args.journeys:,} no-op workflows waiting on a signal (not timed)")
    handles: list[WorkflowHandle[_noop.WaitingWorkflow, None]] = []
    for n in range(args.journeys):
        handle = await client.start_workflow(
            _noop.WaitingWorkflow.run, id=f"waiting-{n}", task_queue=_noop.TASK_QUEUE
        )
        await handle.execute_update(_noop.WaitingWorkflow.touch, "started")
        handles.append(handle)

    async def touch(n: int) -> None:
        await handles[n % args.journeys].execute_update(_noop.WaitingWorkflow.touch, "contact")

    progress(f"sending {args.events:,} no-op updates, {args.concurrency} at a time")
    timed = await timed_calls(
        args.events, touch, concurrency=args.concurrency, what="no-op updates"
    )
    for handle in handles:
        await handle.signal(_noop.WaitingWorkflow.finish)
    return timed


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="ips-bench-events-") as tmp:
        folder = Path(tmp)
        with app_database(folder, args.database_url) as database_url:
            async with dev_server(folder) as server, _noop.noop_worker(server.client):
                baseline = await noop_updates(server.client, args)
                ours = await events(server.client, database_url, args)
    print(
        f"Event throughput: {args.events:,} events over {args.journeys:,} open journeys, "
        f"{args.concurrency} at a time; temporal server start-dev (SQLite file), app "
        f"database on {database_label(database_url)}, the worker in the same process\n"
    )
    rows = [("record_event (service.journeys)", ours), ("no-op update (baseline)", baseline)]
    print(rate_table(rows, baseline))
    print(f"\nAn event takes {baseline.rate / ours.rate:.1f}× the time of a no-op update.")


def main() -> None:
    parser = parser_of(__doc__)
    parser.add_argument("--journeys", type=int, default=50, help="open journeys (default 50)")
    parser.add_argument("--events", type=int, default=500, help="how many (default 500)")
    add_concurrency_flag(parser)
    add_database_flag(parser)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
