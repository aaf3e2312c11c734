"""`ips simulate SCENARIO.yaml --out DIR`."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer

from simulate.run import run_scenario
from simulate.scenario import ScenarioError


def simulate_command(
    scenario: Path = typer.Argument(..., help="The scenario file (YAML), as in SPEC section 9."),
    out: Path = typer.Option(Path("out"), "--out", help="Folder for the output files."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Do not print the timeline."),
) -> None:
    """Run a scenario through the real journey code on a fast-forward clock.

    Writes due_contacts.json, notifications.json and journeys.json to the --out
    folder. Nothing is sent: messages are recorded in notifications.json.
    """
    echo = None if quiet else typer.echo
    try:
        summary = asyncio.run(run_scenario(scenario, out, echo=echo))
    except ScenarioError as err:
        typer.echo(f"{scenario}: {err}", err=True)
        raise typer.Exit(2) from None
    due = ", ".join(f"{n} {status}" for status, n in sorted(summary.due_contacts.items()))
    sent = sum(summary.notifications.values())
    typer.echo(
        f"{summary.events} events; {sum(summary.due_contacts.values())} due contacts ({due}); "
        f"{sent} notifications. Written to {summary.out_dir}/"
    )
