"""`ips config check`: the settings in force, where each came from, and what is wrong."""

from __future__ import annotations

import typer

from cli.output import print_json, print_table
from cli.session import JsonOption
from config import ENV_FILE_VARIABLE, SettingsError, load_with_origins

config_app = typer.Typer(
    no_args_is_help=True,
    help=f"The settings: IPS_* variables, and the env file {ENV_FILE_VARIABLE} names.",
)


@config_app.command("check")
def check(json_output: JsonOption = False) -> None:
    """Print every setting, its value and where it came from (the environment, the
    env file or the default), secrets masked; then whatever is wrong with them,
    each problem with its fix.

    Exit code 0: the settings are consistent. 1: there are problems.
    """
    from config import check as judged

    try:
        loaded = load_with_origins()
    except SettingsError as err:
        rows, env_file = [], None
        problems = judged.unreadable(err.problems)
    else:
        rows, env_file = judged.shown(loaded), loaded.env_file
        problems = judged.problems(loaded.settings)
    if json_output:
        print_json(
            {
                "ok": not problems,
                "env_file": str(env_file) if env_file else None,
                "settings": [
                    {
                        "variable": row.variable,
                        "value": row.value,
                        "origin": row.origin,
                        "secret": row.secret,
                    }
                    for row in rows
                ],
                "problems": [
                    {"variable": p.variable, "reason": p.reason, "fix": p.fix} for p in problems
                ],
            }
        )
    else:
        if rows:
            source = f"and {env_file}" if env_file else f"only ({ENV_FILE_VARIABLE} is not set)"
            typer.echo(f"Settings from the environment {source}:")
            print_table(
                ["variable", "value", "from"], [(r.variable, r.value, r.origin) for r in rows]
            )
        else:
            typer.echo("The settings cannot be read.")
        if problems:
            typer.echo(f"\n{len(problems)} problem{'s' if len(problems) > 1 else ''}:")
            for problem in problems:
                reason = problem.reason.rstrip(".")
                typer.echo(f"- {problem.variable}: {reason}.\n  Fix: {problem.fix}.")
        else:
            typer.echo("\nNo problems: the settings are consistent.")
    if problems:
        raise typer.Exit(1)
