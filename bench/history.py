"""History events per journey-year, and the largest run, against a workflow that
sleeps a year in daily timers.

    .venv/bin/python -m bench.history [--scenario examples/team_year.yaml]

The scenario runs as `ips simulate` runs it (`simulate.run_scenario`: the real
workflow, activities and agency sweeps on Temporal's time-skipping test server).
At its end, each consumer's journey is followed back through its runs (each run
that continued as new names the one before) and their history events counted:
all runs together, per year of the journey (from its referral to its close or
the scenario's end), and the largest single run, which is what Temporal limits
(51,200 events, with a warning from 10,240) and what the journey keeps under
HISTORY_LIMIT (workflows/journey.py) by continuing as new.

The default scenario is a team's year (examples/team_year.yaml): four consumers
with referrals, employer contacts, job starts, weekly then monthly
follow-along, a job loss and a new job, outreach, a declined service.

The baseline, on the same test server: a workflow that sleeps 365 days, one
timer a day, which is what a journey that checked once a day whether anything is
due would cost at the least (the journey instead sleeps until its next due
moment, but does work there: activities, search attributes, reminders).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from bench import _noop
from bench._stack import parser_of, progress, table
from simulate import load_scenario, run_scenario
from workflows.journey import HISTORY_LIMIT, journey_id

TEMPORAL_LIMIT = 51_200
YEAR_DAYS = 365
MIN_DAYS = 180


@dataclass
class Chain:
    """The runs of one workflow, oldest first: their event counts."""

    workflow_id: str
    runs: list[int]
    started: datetime
    ended: datetime | None

    @property
    def events(self) -> int:
        return sum(self.runs)

    @property
    def largest(self) -> int:
        return max(self.runs)


async def chain(client: Client, workflow_id: str) -> Chain:
    """Follow the latest run of `workflow_id` back through continue-as-new."""
    runs: list[int] = []
    run_id: str | None = None
    ended: datetime | None = None
    while True:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        events = history.events
        runs.append(len(events))
        last = events[-1]
        if ended is None and last.event_type in (
            EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
            EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
            EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
        ):
            ended = last.event_time.ToDatetime()
        started = events[0]
        previous = started.workflow_execution_started_event_attributes.continued_execution_run_id
        if not previous:
            return Chain(workflow_id, runs[::-1], started.event_time.ToDatetime(), ended)
        run_id = previous


async def run(args: argparse.Namespace) -> None:
    scenario = load_scenario(args.scenario)
    chains: list[tuple[str, Chain]] = []
    end: list[datetime] = []

    async def count(env: WorkflowEnvironment) -> None:
        end.append((await env.get_current_time()).replace(tzinfo=None))
        progress("counting the journeys' history events")
        for consumer in scenario.consumers:
            try:
                chains.append((consumer.id, await chain(env.client, journey_id(consumer.id))))
            except RPCError as err:  # never referred
                progress(f"  {consumer.id}: no journey ({type(err).__name__})")
        progress(f"the baseline: {YEAR_DAYS} daily timers")
        async with _noop.noop_worker(env.client):
            await env.client.execute_workflow(
                _noop.DailyTimersWorkflow.run,
                YEAR_DAYS,
                id="daily-timers",
                task_queue=_noop.TASK_QUEUE,
            )
        chains.append(("baseline", await chain(env.client, "daily-timers")))

    progress(f"simulating {args.scenario} on the time-skipping test server")
    with tempfile.TemporaryDirectory(prefix="ips-bench-history-") as tmp:
        await run_scenario(args.scenario, Path(tmp), at_end=count)

    baseline = chains[-1][1]
    base_per_year = baseline.events  # one year by construction
    rows = []
    for label, c in chains:
        days = ((c.ended or end[0]) - c.started).total_seconds() / 86400
        days = YEAR_DAYS if label == "baseline" else days
        # A journey much shorter than a year says little of one (its first weeks
        # are its busiest): no per-year figure for it.
        per_year = c.events / days * YEAR_DAYS if days >= MIN_DAYS else math.nan
        rows.append(
            (label, round(days), len(c.runs), c.events, per_year, c.largest,
             per_year / base_per_year)
        )  # fmt: skip
    journeys = [r for r in rows if r[0] != "baseline"]
    print(
        f"History events: {args.scenario} ({len(journeys)} journeys) on the time-skipping test "
        f"server; the baseline sleeps {YEAR_DAYS} days in daily timers\n"
    )
    print(
        table(
            ["journey", "days", "runs", "events", "per year", "largest run", "× baseline"],
            rows,
        )
    )
    most = max((r for r in journeys if not math.isnan(r[4])), key=lambda r: r[4])
    largest = max(r[5] for r in journeys)
    continued = sum(r[2] > 1 for r in journeys)
    print(
        f"\n'per year' scales a journey's events to 365 days; none for a journey of under "
        f"{MIN_DAYS} days. The busiest journey writes {most[4]:,.0f} history events a year "
        f"({most[4] / base_per_year:.2f}× the daily-timer baseline's {base_per_year:,}). "
        f"The largest run holds {largest:,} events, {TEMPORAL_LIMIT / largest:,.0f}× under "
        f"Temporal's {TEMPORAL_LIMIT:,}-event limit; a journey continues as new once a run "
        f"passes HISTORY_LIMIT = {HISTORY_LIMIT:,} (or Temporal suggests it), "
        f"which {continued} of {len(journeys)} did."
    )


def main() -> None:
    parser = parser_of(__doc__)
    parser.add_argument(
        "--scenario",
        type=Path,
        default=Path("examples/team_year.yaml"),
        help="an `ips simulate` scenario (default examples/team_year.yaml)",
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
