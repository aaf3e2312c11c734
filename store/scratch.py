"""A scratch database of its own on a PostgreSQL server, for a test or a benchmark."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy


@contextmanager
def scratch_database(server_url: str, *, prefix: str) -> Iterator[str]:
    """The URL of a new, empty database on the server of `server_url`, named
    `prefix` and a random suffix; dropped on the way out, even while engines the
    caller left open still hold connections to it."""
    url = sqlalchemy.make_url(server_url)
    name = f"{prefix}_{secrets.token_hex(8)}"
    admin = sqlalchemy.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            # FORCE: engines left open must not keep the database alive.
            with admin.connect() as connection:
                connection.execute(
                    sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                )
    finally:
        admin.dispose()
