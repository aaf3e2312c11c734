"""The app database's schema version: the Alembic migrations of
`store/migrations`, run in code (no alembic.ini), each upgrade in one
transaction under a lock, so that the worker, the API and the scheduler may
start together on one database.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import Connection

from store.errors import StoreError

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"

# The revision that creates what `create_schema()` made before there were
# migrations, and its tables: a database that has them all but no version is
# one of those, and is marked as at this revision rather than created again.
INITIAL_REVISION = "0001"
INITIAL_TABLES = frozenset(
    {
        "api_tokens",
        "appointments",
        "consent_changes",
        "consumers",
        "due_contact_changes",
        "due_contacts",
        "employer_contacts",
        "events",
        "feed_entries",
        "feed_tokens",
        "jobs",
        "notifications",
        "outreach_log",
        "specialists",
        "staff_changes",
        "staff_users",
        "supervisors",
    }
)

# Tables on the same database that are not the app's and that no migration
# touches: APScheduler's job store (sweeps/scheduler.py makes it).
FOREIGN_TABLES = frozenset({"apscheduler_jobs"})

# Any number, the same in every process: PostgreSQL's lock for one upgrade at a time.
_POSTGRES_LOCK_KEY = 0x1F5_0D8


class MigrationError(StoreError):
    """The database's schema cannot be brought to this version's."""


@dataclass(frozen=True)
class Upgrade:
    """What an upgrade did: from `before` (None: no app tables) to `after`."""

    before: str | None
    after: str
    # The tables were made by `create_schema()` before there were migrations,
    # and were marked as at INITIAL_REVISION (`before`) without being changed.
    stamped: bool = False


@dataclass(frozen=True)
class Revision:
    """Where a database is: `current` (None: no version), and the newest, `head`."""

    current: str | None
    head: str
    # No version, but the tables `create_schema()` made: an upgrade marks them.
    unversioned_tables: bool = False

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def include_object(
    _object: Any, name: str | None, type_: str, _reflected: bool, _compare_to: Any
) -> bool:
    """What autogenerate compares: everything but FOREIGN_TABLES."""
    return not (type_ == "table" and name in FOREIGN_TABLES)


def upgrade(engine: Engine) -> Upgrade:
    """Bring the database to the newest revision: create the tables on an empty
    one, mark those that `create_schema()` made, refuse a revision this version
    does not know (`MigrationError`)."""
    with _locked(engine) as connection:
        config = _config(connection)
        found = _revision(connection, ScriptDirectory.from_config(config))
        if found.unversioned_tables:
            command.stamp(config, INITIAL_REVISION)
        before = INITIAL_REVISION if found.unversioned_tables else found.current
        if found.current != found.head:
            command.upgrade(config, "head")
    if before != found.head or found.unversioned_tables:
        log.info("app database schema: from %s to revision %s", before or "empty", found.head)
    return Upgrade(before=before, after=found.head, stamped=found.unversioned_tables)


def revision(engine: Engine) -> Revision:
    """The database's revision and the newest; `MigrationError` if this version
    does not know the database's."""
    with engine.connect() as connection:
        return _revision(connection, ScriptDirectory.from_config(_config(None)))


def _config(connection: Connection | None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # env.py runs the migrations on this connection, in its transaction.
    config.attributes["connection"] = connection
    return config


def _revision(connection: Connection, script: ScriptDirectory) -> Revision:
    head = script.get_current_head()
    if head is None:
        raise MigrationError(f"no migrations in {script.dir}")
    current = MigrationContext.configure(connection).get_current_heads()
    known = {s.revision for s in script.walk_revisions()}
    unknown = [r for r in current if r not in known]
    if unknown:
        raise MigrationError(
            f"the database's schema is at revision {unknown[0]!r}, which this version of "
            f"IPS journeys does not know (its newest is {head!r}): it was upgraded by a "
            "newer version; run that version, or restore the database from before"
        )
    if len(current) > 1:
        raise MigrationError(f"the database is at several revisions at once: {sorted(current)}")
    if current:
        return Revision(current=current[0], head=head)
    tables = set(inspect(connection).get_table_names()) & INITIAL_TABLES
    if tables and tables != INITIAL_TABLES:
        missing = ", ".join(sorted(INITIAL_TABLES - tables))
        raise MigrationError(
            "the database has some of the app's tables but no schema version, and lacks "
            f"{missing}: it was not made by IPS journeys; use an empty database"
        )
    return Revision(current=None, head=head, unversioned_tables=bool(tables))


@contextmanager
def _locked(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that no other upgrade runs beside."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _POSTGRES_LOCK_KEY}
            )
            yield connection
        return
    # SQLite: BEGIN IMMEDIATE (the store's write transactions) takes the write
    # lock. Foreign keys are off meanwhile, as SQLite asks for when a migration
    # copies a table (batch mode), and checked before the commit; the pragma
    # does nothing inside a transaction, so it is set before the BEGIN.
    with engine.execution_options(ips_write=True).connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                yield connection
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").first()
                if broken is not None:
                    raise MigrationError(
                        f"the migration left rows in {broken[0]!r} that refer to missing "
                        f"rows of {broken[2]!r}; nothing was changed"
                    )
        finally:
            raw.execute("PRAGMA foreign_keys=ON")
