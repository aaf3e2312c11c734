"""Referral throughput: journeys started per second through the real path,
against a bare no-op workflow started as many times, as many at a time.

    .venv/bin/python -m bench.referrals [--referrals 200] [--concurrency 16]
        [--database-url postgresql+psycopg://root@127.0.0.1:5432/test]

"Ours" is `service.journeys.refer`, what `ips refer` and POST /consumers/{id}/
referral call: it checks the consumer, starts the journey, sends it the
`referred` event as an update and waits for its answer (the journey loads the
profile, records the event, saves the first due contacts), then starts the
caseload check of the specialist's supervisor. The team (supervisors,
specialists, consumers) is on file first. The worker is the real one, in this
process, on a `temporal server start-dev` of its own.

The baselines: a bare no-op workflow started (`start_workflow`, which returns
once the server accepted it), and, as the closest shape to a referral's round
trips, a no-op workflow started and then sent a no-op update whose answer is
awaited. Both on a no-op worker of the same set-up, on its own task queue.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from temporalio.client import Client

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
    services,
    timed_calls,
)
from rules.policy import Policy
from service.access import LOCAL_ADMIN
from service.journeys import refer


async def referrals(client: Client, database_url: str, count: int, concurrency: int) -> Timed:
    async with journey_worker(client, database_url) as store:
        progress(f"adding {count:,} consumers and their team")
        add_team(store, count)
        ours = services(store, client, Policy())
        progress(f"referring {count:,} consumers, {concurrency} at a time")
        return await timed_calls(
            count,
            lambda n: refer(ours, LOCAL_ADMIN, consumer_id(n)),
            concurrency=concurrency,
            what="referrals",
        )


async def bare_starts(client: Client, count: int, concurrency: int, run: str) -> Timed:
    async def start(n: int) -> None:
        await client.start_workflow(
            _noop.NoopWorkflow.run, id=f"noop-{run}-{n}", task_queue=_noop.TASK_QUEUE
        )

    progress(f"starting {count:,} no-op workflows, {concurrency} at a time")
    return await timed_calls(count, start, concurrency=concurrency, what="no-op starts")


async def starts_with_update(client: Client, count: int, concurrency: int) -> Timed:
    async def start(n: int) -> None:
        handle = await client.start_workflow(
            _noop.WaitingWorkflow.run, id=f"waiting-{n}", task_queue=_noop.TASK_QUEUE
        )
        await handle.execute_update(_noop.WaitingWorkflow.touch, "referred")
        await handle.signal(_noop.WaitingWorkflow.finish)

    progress(f"starting {count:,} no-op workflows with a no-op update, {concurrency} at a time")
    return await timed_calls(count, start, concurrency=concurrency, what="no-op start + update")


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="ips-bench-referrals-") as tmp:
        folder = Path(tmp)
        with app_database(folder, args.database_url) as database_url:
            async with dev_server(folder) as env, _noop.noop_worker(env.client):
                # A first round of each warms up the server, the workers and the sandbox.
                await bare_starts(env.client, 20, args.concurrency, "warm-up")
                bare = await bare_starts(env.client, args.referrals, args.concurrency, "bench")
                ours = await referrals(env.client, database_url, args.referrals, args.concurrency)
                updated = await starts_with_update(env.client, args.referrals, args.concurrency)
    print(
        f"Referral throughput: {args.referrals:,} referrals, {args.concurrency} at a time; "
        f"temporal server start-dev (SQLite file), app database on "
        f"{database_label(database_url)}, the worker in the same process\n"
    )
    rows = [
        ("refer (service.journeys.refer)", ours),
        ("no-op workflow start (baseline)", bare),
        ("no-op start + no-op update", updated),
    ]
    print(rate_table(rows, bare))
    print(
        f"\nA referral takes {bare.rate / ours.rate:.1f}× the time of a bare start and "
        f"{updated.rate / ours.rate:.1f}× that of a no-op start + update."
    )


def main() -> None:
    parser = parser_of(__doc__)
    parser.add_argument("--referrals", type=int, default=200, help="how many (default 200)")
    add_concurrency_flag(parser)
    add_database_flag(parser)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
