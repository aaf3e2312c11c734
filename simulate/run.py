"""`ips simulate`: a scenario through the real workflow and activities on
Temporal's time-skipping test server, with notifiers recording, not sending."""

from __future__ import annotations

import asyncio
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

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

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
            async with worker.build_worker(env.client, activities, executor=executor):
                for instant, item in _timeline(scenario, store, await env.get_current_time()):
                    await _sleep_until(env, instant)
                    if isinstance(item, PlannedSweep):
                        await _run_sweep(env.client, item.input_at(instant, scenario.policy))
                        continue
                    say(_timeline_line(scenario, item))
                    await _record(env.client, store, scenario, item)
                    if item.envelope.type in ("referred", "reassigned") and item.envelope.consumer:
                        check = assignment_check(
                            store, item.envelope.consumer, item.envelope.event_id, scenario.policy
                        )
                        if check is not None:
                            await _wait_for(env.client, check)
                await _sleep_until(env, scenario.end)
                say(f"{_local(scenario, scenario.end)}  end of {scenario.until.isoformat()}")
                views = {c.id: await _final_view(env.client, c.id) for c in scenario.consumers}
                if at_end is not None:
                    await at_end(env)
                return views


def _timeline(
    scenario: Scenario, store: Store, now: datetime
) -> list[tuple[datetime, ScenarioEvent | PlannedSweep]]:
    """The scenario's events and the agency sweeps, in time order: each sweep at
    every time its cron trigger (the scheduler's own) fires from the first event
    to the end of `until`; an event before a sweep at the same moment."""
    start = scenario.events[0].instant if scenario.events else now
    runs = timeline(planned_sweeps(store, scenario.policy), start, scenario.end)
    items: list[tuple[datetime, int, ScenarioEvent | PlannedSweep]] = [
        (ev.instant, 0, ev) for ev in scenario.events
    ]
    items += [(at, 1, planned) for at, planned in runs]
    items.sort(key=lambda item: (item[0], item[1]))
    return [(at, item) for at, _, item in items]


async def _run_sweep(client: Client, data: SweepInput) -> None:
    await start_sweep(client, data)
    await _wait_for(client, data)


async def _wait_for(client: Client, data: SweepInput) -> None:
    """Wait for a sweep's workflow to close without letting the test server's clock
    run (waiting for a result would let it skip ahead to the next timer)."""
    handle = client.get_workflow_handle(sweep_id(data.sweep, data.recipient_id, data.period))
    while (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
        await asyncio.sleep(0.005)


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
