"""The Temporal worker: journeys and their activities.

`python worker.py` (or `ips up`, which also starts Temporal) runs it until
SIGTERM or Ctrl-C, then lets running activities finish before it exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.worker import Replayer, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

import notifiers.router
import temporal_client
from activities.journey import AgencySettings, JourneyActivities
from activities.sweeps import SweepActivities
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


# Every workflow the worker runs.
WORKFLOWS = [ConsumerJourney, *SWEEP_WORKFLOWS.values()]


def _workflow_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*_PASSTHROUGH)
    )


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
        workflows=WORKFLOWS,
        activities=[*activities.all(), *sweeps.all()],
        activity_executor=executor,
        workflow_runner=_workflow_runner(),
        graceful_shutdown_timeout=timedelta(seconds=30),
    )


def build_replayer(data_converter: DataConverter) -> Replayer:
    """Replays histories with the workflow code of this installation, set up as
    the worker runs it (same workflows and sandbox): the check before an upgrade
    (`ips upgrade check`) and the replay tests."""
    return Replayer(
        workflows=WORKFLOWS, data_converter=data_converter, workflow_runner=_workflow_runner()
    )


def agency_from_environment() -> AgencySettings:
    return AgencySettings(
        sender_label=os.environ.get("IPS_SMS_SENDER_LABEL", AgencySettings.sender_label),
        app_url=os.environ.get("IPS_APP_URL", AgencySettings.app_url),
        contact_phone=os.environ.get("IPS_AGENCY_PHONE") or None,
        legal_name=os.environ.get("IPS_AGENCY_NAME", AgencySettings.legal_name),
    )


def notifier_from_environment() -> Notifier:
    return notifiers.router.notifier_from_environment(os.environ)


async def serve(
    client: Client,
    *,
    database_url: str,
    stop: asyncio.Event,
    notifier: Notifier | None = None,
    policy: Policy | None = None,
    with_sweeps: bool = True,
) -> None:
    """Run the worker on `database_url` until `stop` is set, with the sweep
    scheduler (`sweeps.scheduler`) unless `with_sweeps` is False. Raises
    `temporal_client.SearchAttributesMissing` before anything runs when the
    server lacks the journeys' search attributes."""
    await temporal_client.check_search_attributes(client)
    store = Store(database_url)
    store.upgrade()
    if notifier is None:
        notifier = notifier_from_environment()
    activities = JourneyActivities(store, notifier, agency_from_environment())
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
    store.upgrade()
    try:
        async with SweepScheduler(client, store, policy, database_url=database_url):
            await stop.wait()
    finally:
        store.dispose()


async def _main() -> None:
    from codec import KeyRingError

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        converter = temporal_client.data_converter()
    except KeyRingError as error:
        raise SystemExit(f"worker: {error}") from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    database_url = os.environ.get("IPS_DATABASE_URL", "sqlite:///var/ips.db")
    try:
        await serve(
            await temporal_client.connect(converter=converter), database_url=database_url, stop=stop
        )
    except temporal_client.SearchAttributesMissing as missing:
        log.error("%s", missing)
        raise SystemExit(1) from None


if __name__ == "__main__":
    asyncio.run(_main())
