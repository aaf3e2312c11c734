"""The migrations (store/migrations) make the schema of store/models.py, on
SQLite and on PostgreSQL: Alembic's autogenerate, which writes a migration from
the differences, finds none. An upgrade that has nothing to do changes nothing;
a database made by `create_schema()` before there were migrations is marked, not
made again; one at a revision this version does not know is refused."""

import shutil
import threading
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from store import ConsumerRecord, EventRecord, SpecialistRecord, Store, schema
from store.models import Base
from store.schema import (
    INITIAL_REVISION,
    INITIAL_TABLES,
    MIGRATIONS,
    MigrationError,
    Revision,
    Upgrade,
    include_object,
)
from sweeps.scheduler import JOB_TABLE

AT = datetime(2041, 1, 9, 15, 30, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str) -> Iterator[sqlalchemy.Engine]:
    """The test's database, seen from outside the store."""
    engine = sqlalchemy.create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = Store(database_url)
    yield store
    store.dispose()


def differences(engine: sqlalchemy.Engine) -> list[Any]:
    """What autogenerate would put in a new migration for this database."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": include_object, "compare_type": True}
        )
        return list(compare_metadata(context, Base.metadata))


def tables(engine: sqlalchemy.Engine) -> set[str]:
    return set(sqlalchemy.inspect(engine).get_table_names())


def add_consumer_with_an_event(store: Store) -> None:
    store.upsert_specialist(SpecialistRecord("es-1", "Jordan Lee", "jordan@example.org", "UTC"))
    store.upsert_consumer(ConsumerRecord("c-1", "Alex Smith", "es-1", "UTC"))
    store.record_event(EventRecord("e-1", "referred", AT, "c-1", {}, None, AT))


def test_an_upgraded_database_has_the_schema_of_the_models(
    store: Store, engine: sqlalchemy.Engine
) -> None:
    assert store.upgrade() == Upgrade(before=None, after=INITIAL_REVISION)

    assert differences(engine) == []
    assert tables(engine) == set(Base.metadata.tables) | {"alembic_version"}
    assert store.revision() == Revision(current=INITIAL_REVISION, head=INITIAL_REVISION)


def test_create_schema_makes_the_same_schema(store: Store, engine: sqlalchemy.Engine) -> None:
    # The tests' fixtures use create_schema() for speed: it must make what
    # the migrations make.
    store.create_schema()

    assert differences(engine) == []
    assert tables(engine) == set(Base.metadata.tables)


def test_the_comparison_sees_a_dropped_column_and_a_dropped_index(
    store: Store, engine: sqlalchemy.Engine
) -> None:
    store.upgrade()
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text("DROP INDEX ix_consumers_phone"))
        connection.execute(sqlalchemy.text("ALTER TABLE feed_entries DROP COLUMN fingerprint"))

    found = {
        (d[0], d[1].name) if d[0] == "add_index" else (d[0], d[2], d[3].name)
        for d in differences(engine)
    }

    assert found == {
        ("add_index", "ix_consumers_phone"),
        ("add_column", "feed_entries", "fingerprint"),
    }


def test_the_comparison_sees_a_changed_collation_on_postgresql(
    store: Store, engine: sqlalchemy.Engine
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no column collations to compare")
    store.upgrade()
    with engine.begin() as connection:
        connection.execute(
            sqlalchemy.text('ALTER TABLE consumers ALTER COLUMN id TYPE varchar COLLATE "POSIX"')
        )

    [[change]] = differences(engine)

    assert change[0] == "modify_type" and change[2:4] == ("consumers", "id")


def test_the_scheduler_job_table_beside_the_app_tables_is_no_difference(
    database_url: str, store: Store, engine: sqlalchemy.Engine
) -> None:
    # The sweep scheduler may have made its table first (sweeps/scheduler.py).
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=database_url, tablename=JOB_TABLE)}
    )
    scheduler.start(paused=True)
    scheduler.shutdown()
    assert tables(engine) == {JOB_TABLE}

    assert store.upgrade() == Upgrade(before=None, after=INITIAL_REVISION)

    assert JOB_TABLE in tables(engine)
    assert differences(engine) == []
    # Only that table: any other is one the models lack.
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text("CREATE TABLE stray (id INTEGER PRIMARY KEY)"))
    assert [(d[0], d[1].name) for d in differences(engine)] == [("remove_table", "stray")]


def test_upgrading_again_changes_nothing(store: Store, engine: sqlalchemy.Engine) -> None:
    store.upgrade()
    add_consumer_with_an_event(store)

    assert store.upgrade() == Upgrade(before=INITIAL_REVISION, after=INITIAL_REVISION)

    assert store.count_referrals("c-1") == 1
    assert differences(engine) == []


def test_a_database_made_by_create_schema_is_marked_and_keeps_its_rows(
    store: Store, engine: sqlalchemy.Engine
) -> None:
    store.create_schema()
    add_consumer_with_an_event(store)
    assert store.revision() == Revision(
        current=None, head=INITIAL_REVISION, unversioned_tables=True
    )

    assert store.upgrade() == Upgrade(before=INITIAL_REVISION, after=INITIAL_REVISION, stamped=True)

    assert store.revision() == Revision(current=INITIAL_REVISION, head=INITIAL_REVISION)
    assert store.count_referrals("c-1") == 1
    assert differences(engine) == []
    assert store.upgrade() == Upgrade(before=INITIAL_REVISION, after=INITIAL_REVISION)


def test_a_database_at_a_revision_this_version_does_not_know_is_refused(
    store: Store, engine: sqlalchemy.Engine
) -> None:
    store.upgrade()
    add_consumer_with_an_event(store)
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text("UPDATE alembic_version SET version_num = '0099'"))
    message = (
        "^the database's schema is at revision '0099', which this version of IPS journeys "
        "does not know \\(its newest is '0001'\\): it was upgraded by a newer version; run "
        "that version, or restore the database from before$"
    )

    with pytest.raises(MigrationError, match=message):
        store.upgrade()
    with pytest.raises(MigrationError, match=message):
        store.revision()

    assert store.count_referrals("c-1") == 1


def test_some_of_the_tables_without_a_version_are_refused(
    store: Store, engine: sqlalchemy.Engine
) -> None:
    Base.metadata.tables["supervisors"].create(engine)

    with pytest.raises(MigrationError, match="no schema version, and lacks api_tokens, "):
        store.upgrade()

    assert tables(engine) == {"supervisors"}


def test_upgrades_at_once_create_the_tables_once(database_url: str) -> None:
    stores = [Store(database_url) for _ in range(4)]
    start = threading.Barrier(len(stores))
    results: list[Upgrade | BaseException] = []

    def run(store: Store) -> None:
        start.wait()
        try:
            results.append(store.upgrade())
        except BaseException as err:
            results.append(err)

    threads = [threading.Thread(target=run, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in stores:
        store.dispose()

    assert results.count(Upgrade(before=None, after=INITIAL_REVISION)) == 1
    assert results.count(Upgrade(before=INITIAL_REVISION, after=INITIAL_REVISION)) == 3


def alembic(engine: sqlalchemy.Engine, run: str, revision: str) -> None:
    """Alembic's own `upgrade` or `downgrade` on our migrations, as a developer runs it."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, run)(config, revision)


def test_the_initial_revision_makes_the_tables_that_mark_a_database_from_before(
    engine: sqlalchemy.Engine,
) -> None:
    alembic(engine, "upgrade", INITIAL_REVISION)

    assert tables(engine) == INITIAL_TABLES | {"alembic_version"}


def test_downgrading_to_nothing_drops_every_table(store: Store, engine: sqlalchemy.Engine) -> None:
    store.upgrade()

    alembic(engine, "downgrade", "base")

    assert tables(engine) == {"alembic_version"}
    assert store.upgrade() == Upgrade(before=None, after=INITIAL_REVISION)
    assert differences(engine) == []


# A later migration on a table that others refer to (consumers): SQLite cannot
# alter a column in place, so batch mode copies the table, drops the old one and
# renames the copy.
ADD_PRONOUNS = """
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade():
    with op.batch_alter_table("consumers") as batch:
        batch.add_column(sa.Column("pronouns", sa.String(), nullable=True))
        batch.alter_column("language", existing_type=sa.String(), nullable=True)
"""

# One that leaves rows referring to nothing.
ORPHAN_EVENTS = """
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade():
    op.execute("DELETE FROM consumers")
"""


def add_later_migration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str) -> None:
    """Our migrations and one more, 0002, as the store's."""
    migrations = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, migrations, ignore=shutil.ignore_patterns("__pycache__"))
    (migrations / "versions" / "0002_later.py").write_text(source, "utf-8")
    monkeypatch.setattr(schema, "MIGRATIONS", migrations)


def test_a_later_migration_that_copies_a_referred_table_keeps_the_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store: Store, engine: sqlalchemy.Engine
) -> None:
    store.upgrade()
    add_consumer_with_an_event(store)
    add_later_migration(tmp_path, monkeypatch, ADD_PRONOUNS)

    done = store.upgrade()

    assert done == Upgrade(before=INITIAL_REVISION, after="0002")
    with engine.connect() as connection:
        rows = connection.execute(sqlalchemy.text("SELECT id, pronouns FROM consumers")).all()
    assert [tuple(r) for r in rows] == [("c-1", None)]
    assert store.count_referrals("c-1") == 1


def test_a_migration_that_leaves_rows_referring_to_nothing_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store: Store, engine: sqlalchemy.Engine
) -> None:
    store.upgrade()
    add_consumer_with_an_event(store)
    add_later_migration(tmp_path, monkeypatch, ORPHAN_EVENTS)
    # SQLite checks the references before the commit (its foreign keys are off
    # while a migration runs); PostgreSQL refuses the DELETE itself.
    expected = MigrationError if engine.dialect.name == "sqlite" else sqlalchemy.exc.IntegrityError

    with pytest.raises(expected, match="events"):
        store.upgrade()

    assert store.revision() == Revision(current=INITIAL_REVISION, head="0002")
    assert store.count_referrals("c-1") == 1


def test_the_package_data_names_every_migration_file() -> None:
    # A file that is not installed is a revision that an installed `ips` lacks.
    with (Path(__file__).parents[2] / "pyproject.toml").open("rb") as f:
        patterns = tomllib.load(f)["tool"]["setuptools"]["package-data"]["store.migrations"]
    files = [
        p.relative_to(MIGRATIONS)
        for p in MIGRATIONS.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    ]
    modules = {Path("__init__.py"), Path("env.py")}  # installed as the package's modules

    assert Path("versions", f"{INITIAL_REVISION}_initial.py") in files
    assert [f for f in files if f not in modules and not any(f.match(p) for p in patterns)] == []
