"""The Temporal worker: journeys and their activities.

`python worker.py` (or `ips up`, which also starts Temporal) runs it until
SIGTERM or Ctrl-C, then lets running activities finish before it exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.worker import Interceptor, Replayer, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

import notifiers.router
import temporal_client
from activities.journey import AgencySettings, JourneyActivities
from activities.sweeps import SweepActivities
from config import DEFAULT_APP_URL, Settings, load_settings
from notifiers import Notifier
from rules.policy import Policy, PolicyError, load_policy_file
from store import Store
from sweeps.scheduler import SweepScheduler
from workflows.journey import TASK_QUEUE, ConsumerJourney
from workflows.sweeps import SWEEP_WORKFLOWS

log = logging.getLogger("ips.worker")

# Pure modules the sandbox may share with the worker instead of re-importing
# them for every workflow run (and `zoneinfo` must be the real one).
#
# `workflows.sweeps` is one of them. Each agency sweep is a new workflow run, and
# re-importing its module for each cost several milliseconds, a large part of a
# simulated year (docs/benchmarks.md). A passed-through module's own calls are not
# checked by the sandbox, so that module may only call Temporal's workflow API
# with its constants: tests/workflows/test_sandbox.py holds it to that.
_PASSTHROUGH = (
    "workflows.sweeps",
    "rules",
    "activities",
    "notifiers",
    "store",
    "pydantic",
    "dateutil",
    "zoneinfo",
)


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
    interceptors: Sequence[Interceptor] = (),
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
        # No more activities taken than threads to run them: the time one waits
        # for a thread counts against its timeout, and a herd of reminders would
        # have sends retried while they wait (the SDK reads the same attribute).
        max_concurrent_activities=executor._max_workers,
        workflow_runner=_workflow_runner(),
        graceful_shutdown_timeout=timedelta(seconds=30),
        interceptors=interceptors,
    )


def build_replayer(data_converter: DataConverter) -> Replayer:
    """Replays histories with the workflow code of this installation, set up as
    the worker runs it (same workflows and sandbox): the check before an upgrade
    (`ips upgrade check`) and the replay tests."""
    return Replayer(
        workflows=WORKFLOWS, data_converter=data_converter, workflow_runner=_workflow_runner()
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
    unless given, the notifier come from `settings` (by default `load_settings()`).
    Raises `temporal_client.SearchAttributesMissing` before anything runs when the
    server lacks the journeys' search attributes."""
    await temporal_client.check_search_attributes(client)
    if settings is None:
        settings = load_settings()
    store = Store(database_url)
    store.upgrade()
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
    store.upgrade()
    try:
        async with SweepScheduler(client, store, policy, database_url=database_url):
            await stop.wait()
    finally:
        store.dispose()


async def _main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        # SettingsError and KeyRingError are ValueErrors naming the variable.
        settings = load_settings()
        converter = temporal_client.data_converter(settings)
        policy = load_policy_file(settings.policy_file) if settings.policy_file else Policy()
    except (ValueError, PolicyError) as error:
        raise SystemExit(f"worker: {error}") from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await serve(
            await temporal_client.connect(settings.temporal_address, converter=converter),
            database_url=settings.database(),
            stop=stop,
            settings=settings,
            policy=policy,
        )
    except temporal_client.SearchAttributesMissing as missing:
        log.error("%s", missing)
        raise SystemExit(1) from None


if __name__ == "__main__":
    asyncio.run(_main())
