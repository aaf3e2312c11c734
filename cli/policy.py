"""`ips policy`: the rule numbers in force, and checking an agency's policy file."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer

from rules.policy import Policy, PolicyError, load_policy_file

policy_app = typer.Typer(help="See the rule numbers in force, or check a policy file.")


@policy_app.command("show")
def show(
    file: Annotated[
        Path | None,
        typer.Argument(help="A policy file (YAML) of overrides; without it, the defaults."),
    ] = None,
) -> None:
    """Print every policy setting and its value (defaults, or with FILE applied).

    A setting that is unknown or has a bad value is an error naming it.
    """
    try:
        policy = Policy() if file is None else load_policy_file(file)
    except PolicyError as err:
        typer.echo(str(err), err=True)
        raise typer.Exit(2) from None
    for f in dataclasses.fields(policy):
        value = getattr(policy, f.name)
        if isinstance(value, tuple):
            value = ", ".join(str(v) for v in value)
        typer.echo(f"{f.name}: {value}")
