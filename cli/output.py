"""What staff commands print: aligned tables for people, JSON for scripts.

JSON keys keep the order they are built in; dates and times are ISO 8601 (times
with their UTC offset).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

# Wide enough that a table piped to a file or another program is never wrapped.
PIPED_WIDTH = 240


def iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=_jsonable))


def _jsonable(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def print_table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str | None = None
) -> None:
    table = Table(*headers, box=box.SIMPLE_HEAD, show_edge=False, title=title, title_justify="left")
    for row in rows:
        table.add_row(*(cell_text(cell) for cell in row))
    console = _console()
    with console.capture() as captured:
        console.print(table)
    # Without the padding at the ends of lines, for whoever copies or pipes them.
    typer.echo("\n".join(line.rstrip() for line in captured.get().splitlines()))


def print_fields(pairs: Iterable[tuple[str, Any]]) -> None:
    """`label: value` lines, the values aligned."""
    pairs = list(pairs)
    width = max((len(label) for label, _ in pairs), default=0)
    for label, value in pairs:
        typer.echo(f"  {label + ':':<{width + 1}} {cell_text(value)}".rstrip())


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(cell_text(v) for v in value)
    return str(value)


def _console() -> Console:
    console = Console(highlight=False, emoji=False, markup=False)
    if not console.is_terminal:
        console.width = PIPED_WIDTH
    return console
