"""`ips simulate SCENARIO.yaml --out DIR`."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from codec import KeyRingError
from simulate.run import run_scenario
from simulate.scenario import ScenarioError


def simulate_command(
    scenario: Annotated[
        Path, typer.Argument(help="The scenario file (YAML), in the format of SPEC section 9.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder for the output files.")] = Path("out"),
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Do not print the timeline.")
    ] = False,
) -> None:
    """Run a scenario through the real journey code on a fast-forward clock.

    Writes due_contacts.json, notifications.json and journeys.json to the --out
    folder, with the simulation's database, ips.db, for the reports:
    IPS_DATABASE_URL=sqlite:///OUT/ips.db ips report fidelity --from ... --to ...
    Nothing is sent: messages are recorded in notifications.json.
    """
    echo = None if quiet else typer.echo
    try:
        summary = asyncio.run(run_scenario(scenario, out, echo=echo))
    except ScenarioError as err:
        typer.echo(f"{scenario}: {err}", err=True)
        raise typer.Exit(2) from None
    except KeyRingError as err:
        typer.echo(f"ips simulate: {err}", err=True)
        raise typer.Exit(2) from None
    due = ", ".join(f"{n} {status}" for status, n in sorted(summary.due_contacts.items()))
    sent = sum(summary.notifications.values())
    typer.echo(
        f"{summary.events} events; {sum(summary.due_contacts.values())} due contacts ({due}); "
        f"{sent} notifications. Written to {summary.out_dir}/"
    )
