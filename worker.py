"""The Temporal worker: journeys and their activities.

`python worker.py` (or `ips up`, which also starts Temporal) runs it until
SIGTERM or Ctrl-C, then lets running activities finish before it exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

import notifiers.router
from activities.journey import AgencySettings, JourneyActivities
from activities.sweeps import SweepActivities
from config import DEFAULT_APP_URL, Settings, load_settings
from notifiers import Notifier
from rules.policy import Policy
from store import Store
from sweeps.scheduler import SweepScheduler
from workflows.journey import TASK_QUEUE, ConsumerJourney
from workflows.sweeps import SWEEP_WORKFLOWS

log = logging.getLogger("ips.worker")

# Pure modules the sandbox may share with the worker instead of re-importing
# them for every workflow run (and `zoneinfo` must be the real one).
_PASSTHROUGH = ("rules", "activities", "notifiers", "store", "pydantic", "dateutil", "zoneinfo")


def build_worker(
    client: Client,
    activities: JourneyActivities,
    *,
    executor: ThreadPoolExecutor,
    task_queue: str = TASK_QUEUE,
    sweeps: SweepActivities | None = None,
) -> Worker:
    """The worker of journeys and agency sweeps; the sweeps' activities share the
    journeys' store, notifier and agency unless `sweeps` is given."""
    if sweeps is None:
        sweeps = SweepActivities(activities.store, activities.notifier, activities.agency)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[ConsumerJourney, *SWEEP_WORKFLOWS.values()],
        activities=[*activities.all(), *sweeps.all()],
        activity_executor=executor,
        workflow_runner=SandboxedWorkflowRunner(
            restrictions=SandboxRestrictions.default.with_passthrough_modules(*_PASSTHROUGH)
        ),
        graceful_shutdown_timeout=timedelta(seconds=30),
    )


def agency_from_settings(settings: Settings) -> AgencySettings:
    return AgencySettings(
        sender_label=settings.sms_sender_label,
        app_url=settings.app_url or DEFAULT_APP_URL,
        contact_phone=settings.agency_phone,
        legal_name=settings.agency_name,
    )


async def serve(
    client: Client,
    *,
    database_url: str,
    stop: asyncio.Event,
    settings: Settings | None = None,
    notifier: Notifier | None = None,
    policy: Policy | None = None,
    with_sweeps: bool = True,
) -> None:
    """Run the worker on `database_url` until `stop` is set, with the sweep
    scheduler (`sweeps.scheduler`) unless `with_sweeps` is False. The agency and,
    unless given, the notifier come from `settings` (by default `load_settings()`)."""
    if settings is None:
        settings = load_settings()
    store = Store(database_url)
    store.create_schema()
    if notifier is None:
        notifier = notifiers.router.notifier_from_settings(settings)
    activities = JourneyActivities(store, notifier, agency_from_settings(settings))
    with ThreadPoolExecutor(max_workers=16) as executor:
        worker = build_worker(client, activities, executor=executor)
        async with worker, contextlib.AsyncExitStack() as stack:
            if with_sweeps:
                await stack.enter_async_context(
                    SweepScheduler(client, store, policy or Policy(), database_url=database_url)
                )
            log.info("worker running on task queue %s", TASK_QUEUE)
            await stop.wait()
    store.dispose()


async def schedule(
    client: Client, *, database_url: str, stop: asyncio.Event, policy: Policy
) -> None:
    """Run the sweep scheduler alone (`ips scheduler`) until `stop` is set."""
    store = Store(database_url)
    store.create_schema()
    try:
        async with SweepScheduler(client, store, policy, database_url=database_url):
            await stop.wait()
    finally:
        store.dispose()


async def _main() -> None:
    from temporal_client import connect

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    settings = load_settings()
    await serve(
        await connect(settings.temporal_address),
        database_url=settings.database(),
        stop=stop,
        settings=settings,
    )


if __name__ == "__main__":
    asyncio.run(_main())
