"""The baselines' workflows: the least a workflow can do on Temporal, run by a
worker set up as the journeys' worker is (the same sandbox, 16 activity threads,
the SDK's default sticky cache), on a task queue of its own.

`python -m bench._noop` runs that worker alone until SIGTERM, on IPS_TEMPORAL_ADDRESS
(bench/memory.py measures it beside `python worker.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

TASK_QUEUE = "bench-noop"
# What `python -m bench._noop` prints once it polls.
READY = "no-op worker running"


@workflow.defn
class NoopWorkflow:
    """Returns at once."""

    @workflow.run
    async def run(self) -> None:
        return None


@workflow.defn
class WaitingWorkflow:
    """Waits for a signal; answers a no-op update meanwhile."""

    def __init__(self) -> None:
        self._done = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self._done)

    @workflow.update
    async def touch(self, note: str) -> str:
        return note

    @workflow.signal
    def finish(self) -> None:
        self._done = True


@workflow.defn
class SleepingWorkflow:
    """Sleeps until an instant, then runs one no-op activity."""

    @workflow.run
    async def run(self, until: datetime) -> None:
        wait = until - workflow.now()
        if wait > timedelta(0):
            await workflow.sleep(wait)
        await workflow.execute_activity(
            arrived, workflow.info().workflow_id, start_to_close_timeout=timedelta(seconds=60)
        )


@workflow.defn
class DailyTimersWorkflow:
    """Sleeps for `days` days, one timer a day (bench/history.py)."""

    @workflow.run
    async def run(self, days: int) -> None:
        for _ in range(days):
            await workflow.sleep(timedelta(days=1))


# When each SleepingWorkflow's activity ran (time.time()), by workflow id.
ARRIVALS: dict[str, float] = {}


@activity.defn
def arrived(workflow_id: str) -> None:
    ARRIVALS.setdefault(workflow_id, time.time())


WORKFLOWS = [NoopWorkflow, WaitingWorkflow, SleepingWorkflow, DailyTimersWorkflow]


@contextlib.asynccontextmanager
async def noop_worker(client: Client) -> AsyncIterator[Worker]:
    with ThreadPoolExecutor(max_workers=16) as executor:
        baseline = Worker(
            client,
            task_queue=TASK_QUEUE,
            workflows=WORKFLOWS,
            activities=[arrived],
            activity_executor=executor,
            workflow_runner=SandboxedWorkflowRunner(),
        )
        async with baseline:
            yield baseline


async def _main() -> None:
    # Imported here: the sandbox imports this module again for every workflow run.
    import temporal_client
    from config import load_settings

    settings = load_settings()
    client = await temporal_client.connect(settings.temporal_address)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with noop_worker(client):
        print(f"{READY} on task queue {TASK_QUEUE}", flush=True)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(_main())
