"""The `ips` command that staff run."""

import typer

from cli.policy import policy_app
from cli.up import up
from simulate.cli import simulate_command

app = typer.Typer(
    name="ips",
    no_args_is_help=True,
    add_completion=False,
    help=(
        "IPS journeys remembers what the IPS model asks of each consumer's journey "
        "and reminds employment specialists and supervisors in time.\n\n"
        "Start everything on this computer with `ips up`. "
        "Add --help after any command to see what it does."
    ),
)


@app.callback()
def main() -> None:
    # A callback keeps `ips` a group of commands even while it has only one.
    pass


# Commands, one line each.
app.command("up")(up)
app.command("simulate")(simulate_command)
app.add_typer(policy_app, name="policy")
