"""`ips simulate`: a scenario through the real workflow and activities on
Temporal's time-skipping test server, with notifiers recording, not sending."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

import worker
from activities.journey import AgencySettings, JourneyActivities
from activities.sweeps import SweepInput, sweep_id
from feeds import FeedScope, build_feed
from notifiers import RecordingNotifier
from rules import calendar
from rules.events import EventError
from rules.journey import JourneyView
from service.access import LOCAL_ADMIN
from service.errors import Invalid
from service.journeys import Services, record_employer_contact
from service.people import consumer_record, specialist_record, supervisor_record
from simulate.scenario import Agency, Scenario, ScenarioError, ScenarioEvent, load_scenario
from store import (
    Store,
)
from sweeps.plan import PlannedSweep, planned_sweeps, timeline
from temporal_client import data_converter, start_test_server
from workflows.client import assignment_check, send_event, start_sweep
from workflows.journey import ConsumerJourney, journey_id

Echo = Callable[[str], None]
AtEnd = Callable[[WorkflowEnvironment], Awaitable[None]]

# The simulation's database, left in the output folder for `ips report`:
# IPS_DATABASE_URL=sqlite:///DIR/ips.db.
DATABASE_FILE = "ips.db"


@dataclass
class SimulationSummary:
    events: int
    due_contacts: Counter[str]
    notifications: Counter[str]
    out_dir: Path


async def run_scenario(
    scenario_path: Path,
    out_dir: Path,
    *,
    echo: Echo | None = None,
    at_end: AtEnd | None = None,
) -> SimulationSummary:
    """Run a scenario file and write due_contacts.json, notifications.json,
    journeys.json, the calendar feeds (feeds/<specialist id>.ics,
    feeds/team-<supervisor id>.ics) and the simulation's database (ips.db, for
    `ips report`) to `out_dir`. Raises `ScenarioError` for an
    invalid scenario. `at_end`, if given, is awaited with the test server's
    environment at the end of `until`, before the server stops (bench/history.py
    reads the journeys' histories there)."""
    say: Echo = echo or (lambda _line: None)
    scenario = load_scenario(Path(scenario_path))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ips-simulate-") as tmp:
        store = Store(f"sqlite:///{tmp}/simulation.db")
        try:
            store.upgrade()
            _load_people(store, scenario)
            views = await _run(scenario, store, say, at_end)
            _write_outputs(scenario, store, views, out_dir)
            due = Counter(dc.status for dc in store.list_due_contacts())
            sent = Counter(n.kind for n in store.list_notifications())
        finally:
            store.dispose()
        _keep_database(Path(tmp) / "simulation.db", out_dir / DATABASE_FILE)
    return SimulationSummary(len(scenario.events), due, sent, out_dir)


def agency_settings(agency: Agency) -> AgencySettings:
    """A scenario's agency as the activities see it. Without an `sms_sender_label`,
    texts are signed with the default label, never with the agency's (legal) name."""
    return AgencySettings(
        sender_label=agency.sms_sender_label or AgencySettings.sender_label,
        app_url=agency.app_url,
        contact_phone=agency.contact_phone,
        legal_name=agency.name,
    )


def _load_people(store: Store, scenario: Scenario) -> None:
    for supervisor in scenario.supervisors:
        store.upsert_supervisor(supervisor_record(supervisor))
    for specialist in scenario.specialists:
        store.upsert_specialist(specialist_record(specialist))
    for consumer in scenario.consumers:
        store.upsert_consumer(consumer_record(consumer))


async def _run(
    scenario: Scenario, store: Store, say: Echo, at_end: AtEnd | None = None
) -> dict[str, JourneyView | None]:
    activities = JourneyActivities(store, RecordingNotifier(), agency_settings(scenario.agency))
    # The app's own data converter (encrypting with IPS_ENCRYPTION_KEYS): the
    # journeys run as they do in production.
    env = await start_test_server(runtime=_quiet_runtime(), converter=data_converter())
    async with env:
        with ThreadPoolExecutor(max_workers=8) as executor:
            done = SweepsDone()
            async with worker.build_worker(
                env.client, activities, executor=executor, interceptors=[done]
            ):
                for instant, item in _timeline(scenario, store, await env.get_current_time()):
                    await _sleep_until(env, instant)
                    if isinstance(item, list):
                        await _run_sweeps(
                            env.client, done, [p.input_at(instant, scenario.policy) for p in item]
                        )
                        continue
                    say(_timeline_line(scenario, item))
                    await _record(env.client, store, scenario, item)
                    if item.envelope.type in ("referred", "reassigned") and item.envelope.consumer:
                        check = assignment_check(
                            store, item.envelope.consumer, item.envelope.event_id, scenario.policy
                        )
                        if check is not None:
                            await _wait_for(
                                env.client,
                                done,
                                sweep_id(check.sweep, check.recipient_id, check.period),
                            )
                await _sleep_until(env, scenario.end)
                say(f"{_local(scenario, scenario.end)}  end of {scenario.until.isoformat()}")
                views = {c.id: await _final_view(env.client, c.id) for c in scenario.consumers}
                if at_end is not None:
                    await at_end(env)
                return views


def _timeline(
    scenario: Scenario, store: Store, now: datetime
) -> list[tuple[datetime, ScenarioEvent | list[PlannedSweep]]]:
    """The scenario's events and the agency sweeps, in time order: the sweeps at
    every time their cron triggers (the scheduler's own) fire from the first event
    to the end of `until`, those that fire at the same moment together (as the
    scheduler starts them); an event before the sweeps of the same moment."""
    start = scenario.events[0].instant if scenario.events else now
    items: list[tuple[datetime, ScenarioEvent | list[PlannedSweep]]] = []
    events = iter(scenario.events)
    event = next(events, None)
    for at, planned in timeline(planned_sweeps(store, scenario.policy), start, scenario.end):
        while event is not None and event.instant <= at:
            items.append((event.instant, event))
            event = next(events, None)
        last = items[-1] if items else None
        if last is not None and last[0] == at and isinstance(last[1], list):
            last[1].append(planned)
        else:
            items.append((at, [planned]))
    while event is not None:
        items.append((event.instant, event))
        event = next(events, None)
    return items


async def _run_sweeps(client: Client, done: SweepsDone, sweeps: list[SweepInput]) -> None:
    """Start the sweeps of one moment together and wait until each has done its
    work: they read the journeys as they are at that moment, and nothing else
    runs meanwhile. (One after another, and waiting by asking the server, a year
    of sweeps was most of a simulation's time: docs/benchmarks.md.)"""
    ids = [sweep_id(data.sweep, data.recipient_id, data.period) for data in sweeps]
    waits = [done.expect(workflow_id) for workflow_id in ids]
    started = await asyncio.gather(*(start_sweep(client, data) for data in sweeps))
    await asyncio.gather(
        *(
            _wait_for(client, done, workflow_id, wait if handle is not None else None)
            for workflow_id, wait, handle in zip(ids, waits, started, strict=True)
        )
    )


async def _wait_for(
    client: Client,
    done: SweepsDone,
    workflow_id: str,
    wait: asyncio.Future[None] | None = None,
) -> None:
    """Wait until a sweep's workflow has done its work, without letting the test
    server's clock run (waiting for its result would let it skip ahead to the
    next timer): until its activity has finished in this worker, or the server
    says the workflow has closed (one started earlier, or one that failed)."""
    handle = client.get_workflow_handle(workflow_id)
    try:
        while True:
            if wait is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(wait), timeout=_CHECK_EVERY)
                    return
            if (await handle.describe()).status != WorkflowExecutionStatus.RUNNING:
                return
            if wait is None:
                await asyncio.sleep(0.005)
    finally:
        done.forget(workflow_id)


# How long a sweep may run before the server is asked whether it closed.
_CHECK_EVERY = 0.5


class SweepsDone(Interceptor):
    """Tells the simulation when a sweep's activity (all of a sweep's work) has
    finished in this worker, so that it need not keep asking the server."""

    def __init__(self) -> None:
        self._waiting: dict[str, asyncio.Future[None]] = {}

    def expect(self, workflow_id: str) -> asyncio.Future[None]:
        future = self._waiting.get(workflow_id)
        if future is None:
            future = self._waiting[workflow_id] = asyncio.get_running_loop().create_future()
        return future

    def forget(self, workflow_id: str) -> None:
        self._waiting.pop(workflow_id, None)

    def finished(self, workflow_id: str) -> None:
        future = self._waiting.get(workflow_id)
        if future is not None and not future.done():
            future.set_result(None)

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _NoteFinished(next, self)


class _NoteFinished(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, done: SweepsDone) -> None:
        super().__init__(next)
        self._done = done

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        result = await self.next.execute_activity(input)
        self._done.finished(activity.info().workflow_id or "")
        return result


def _quiet_runtime() -> Runtime:
    """A Temporal runtime that logs only errors: the test server's version notice
    means nothing to the person running a simulation."""
    return Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(filter=TelemetryFilter(core_level="ERROR", other_level="ERROR"))
        )
    )


async def _sleep_until(env: WorkflowEnvironment, instant: datetime) -> None:
    gap = instant - await env.get_current_time()
    if gap.total_seconds() > 0:
        await env.sleep(gap)


async def _record(client: Client, store: Store, scenario: Scenario, ev: ScenarioEvent) -> None:
    envelope = ev.envelope
    if envelope.consumer is None:
        # An employer contact of the specialist's own: it belongs to their log,
        # not to a journey. Recorded as the API and `ips event` record it, on the
        # simulation's clock.
        async def connected() -> Client:
            return client

        services = Services(store, connected, scenario.policy, now=lambda: ev.instant)
        data = {**envelope.fields, "event_id": envelope.event_id, "at": ev.instant.isoformat()}
        try:
            record_employer_contact(services, LOCAL_ADMIN, str(data["specialist"]), data)
        except Invalid as err:
            raise ScenarioError(f"events[{ev.index}].{err.field}: {err.reason}") from None
        return
    try:
        await send_event(client, store, envelope, scenario.policy)
    except EventError as err:
        raise ScenarioError(f"events[{ev.index}].{err.field}: {err.reason}") from None


async def _final_view(client: Client, consumer_id: str) -> JourneyView | None:
    handle = client.get_workflow_handle_for(ConsumerJourney.run, journey_id(consumer_id))
    try:
        return await handle.execute_update(ConsumerJourney.catch_up)
    except (WorkflowUpdateFailedError, RPCError):
        pass  # closed (or never referred): its last state is its result
    try:
        return await handle.query(ConsumerJourney.state)
    except RPCError:
        return None


def _local(scenario: Scenario, instant: datetime) -> str:
    return instant.astimezone(calendar.zone(scenario.agency.timezone)).strftime("%Y-%m-%d %H:%M")


def _timeline_line(scenario: Scenario, ev: ScenarioEvent) -> str:
    who = ev.envelope.consumer or ev.envelope.fields.get("specialist", "")
    return f"{_local(scenario, ev.instant)}  {who:<10} {ev.envelope.type}"


# ---------------------------------------------------------------- outputs


def _write_outputs(
    scenario: Scenario, store: Store, views: dict[str, JourneyView | None], out_dir: Path
) -> None:
    due_contacts = [
        {
            "consumer": dc.consumer_id,
            "rule": dc.rule,
            "job_id": dc.job_id,
            "seq": dc.seq,
            "window_start": dc.window_start.isoformat(),
            "due": dc.due.isoformat(),
            "status": dc.status,
            "satisfied_on": dc.satisfied_on.isoformat() if dc.satisfied_on else None,
        }
        for dc in store.list_due_contacts()
    ]
    notifications = [
        {
            "channel": n.channel,
            "recipient_role": n.recipient_role,
            "recipient_id": n.recipient_id,
            "consumer": n.consumer_id,
            "rule": n.rule,
            "kind": n.kind,
            "send_at": n.send_at.astimezone(calendar.zone(n.recipient_timezone)).isoformat(),
            "status": n.status,
            "body": n.body,
        }
        for n in store.list_notifications()
    ]
    journeys = []
    for c in scenario.consumers:
        view = views.get(c.id)
        journeys.append(
            {
                "consumer": c.id,
                "phase": view.phase if view else "not_referred",
                "in_outreach": view.in_outreach if view else False,
                "closed": view.closed if view else False,
            }
        )
    _dump(out_dir / "due_contacts.json", due_contacts)
    _dump(out_dir / "notifications.json", notifications)
    _dump(out_dir / "journeys.json", journeys)
    _write_feeds(scenario, store, out_dir / "feeds")


def _write_feeds(scenario: Scenario, store: Store, feeds_dir: Path) -> None:
    """Each specialist's and each team's feed as a subscriber sees it at the end
    of `until`."""
    feeds_dir.mkdir(exist_ok=True)
    scopes = [(FeedScope("specialist", s.id), f"{s.id}.ics") for s in scenario.specialists]
    scopes += [(FeedScope("team", s.id), f"team-{s.id}.ics") for s in scenario.supervisors]
    for scope, name in scopes:
        feed = build_feed(store, scope, scenario.end, app_url=scenario.agency.app_url)
        (feeds_dir / name).write_bytes(feed.ics)


def _keep_database(source: Path, target: Path) -> None:
    """A copy of the finished simulation's database (SQLite's backup, so nothing
    left in its write-ahead log is lost), replacing a previous run's."""
    for leftover in (
        target,
        target.with_name(target.name + "-wal"),
        target.with_name(target.name + "-shm"),
    ):
        leftover.unlink(missing_ok=True)
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def _dump(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
