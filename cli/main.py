"""The `ips` command that staff run."""

import typer

from api.cli import api_command
from cli.access import tokens_app, users_app
from cli.config import config_app
from cli.db import db_app
from cli.feeds import feed_app
from cli.journeys import due, event, refer, show
from cli.keys import keys_app
from cli.people import people_app
from cli.policy import policy_app
from cli.reports import report_app
from cli.scheduler import scheduler
from cli.session import ACTING_HELP
from cli.up import up
from cli.upgrade import upgrade_app
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
app.command("api")(api_command)
app.command("scheduler")(scheduler)
app.command("simulate")(simulate_command)
app.add_typer(policy_app, name="policy")
app.add_typer(people_app, name="people")
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(feed_app, name="feed")
app.add_typer(report_app, name="report")
app.add_typer(db_app, name="db")
app.add_typer(upgrade_app, name="upgrade")
app.add_typer(keys_app, name="keys")
app.add_typer(config_app, name="config")
app.command("refer", epilog=ACTING_HELP)(refer)
app.command("event", epilog=ACTING_HELP)(event)
app.command("show", epilog=ACTING_HELP)(show)
app.command("due", epilog=ACTING_HELP)(due)
