"""`ips db upgrade` and `ips db current`, as the person setting up a server runs
them: which database (never its password), from which revision to which, and
one line naming IPS_DATABASE_URL when the database is wrong or away."""

from __future__ import annotations

import pytest
import sqlalchemy

from store import Store
from store.schema import INITIAL_REVISION
from tests.cli.conftest import closed_port, invoke


@pytest.fixture
def shown(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The test's database as IPS_DATABASE_URL, and as the commands show it."""
    monkeypatch.setenv("IPS_DATABASE_URL", database_url)
    return sqlalchemy.make_url(database_url).render_as_string(hide_password=True)


def test_upgrade_creates_the_tables_and_then_has_nothing_to_do(shown: str) -> None:
    first = invoke("db", "upgrade")
    again = invoke("db", "upgrade")
    current = invoke("db", "current")

    assert (first.exit_code, first.stdout) == (
        0,
        f"Database: {shown} (from IPS_DATABASE_URL)\n"
        f"Created the tables: from an empty database to revision {INITIAL_REVISION}.\n",
    )
    assert again.stdout.splitlines()[1:] == [f"Already up to date: revision {INITIAL_REVISION}."]
    assert current.stdout.splitlines()[1:] == [f"Revision {INITIAL_REVISION}: up to date."]
    assert again.exit_code == current.exit_code == 0


def test_current_on_an_empty_database_says_to_upgrade(shown: str) -> None:
    result = invoke("db", "current")

    assert result.exit_code == 0
    assert result.stdout.splitlines()[1:] == [
        f"No revision: an empty database. `ips db upgrade` creates revision {INITIAL_REVISION}."
    ]


def test_upgrade_marks_the_tables_of_an_installation_from_before_migrations(
    database_url: str, shown: str
) -> None:
    store = Store(database_url)
    store.create_schema()
    store.dispose()

    before = invoke("db", "current")
    result = invoke("db", "upgrade")

    assert before.stdout.splitlines()[1:] == [
        "No revision: tables from before migrations. `ips db upgrade` marks them and brings "
        f"them to revision {INITIAL_REVISION}."
    ]
    assert result.exit_code == 0
    assert result.stdout.splitlines()[1:] == [
        f"Found tables from before migrations: marked them as revision {INITIAL_REVISION}.",
        f"Up to date: revision {INITIAL_REVISION}.",
    ]


def test_a_database_from_a_newer_version_is_refused(database_url: str, shown: str) -> None:
    invoke("db", "upgrade")
    engine = sqlalchemy.create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text("UPDATE alembic_version SET version_num = '0099'"))
    engine.dispose()

    for command in ("upgrade", "current"):
        result = invoke("db", command)
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith(
            "Error: the database's schema is at revision '0099', which this version of "
            "IPS journeys does not know"
        )


def test_a_database_that_does_not_answer_is_named_without_its_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = closed_port()
    monkeypatch.setenv("IPS_DATABASE_URL", f"postgresql+psycopg://ips:secret@127.0.0.1:{port}/ips")

    result = invoke("db", "upgrade")

    assert result.exit_code == 1
    assert result.stdout == (
        f"Database: postgresql+psycopg://ips:***@127.0.0.1:{port}/ips (from IPS_DATABASE_URL)\n"
    )
    assert result.stderr.startswith("Error: cannot reach the database (connection failed: ")
    assert result.stderr.endswith("check IPS_DATABASE_URL and that the server is up\n")
    assert "secret" not in result.output


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("not a url:secret", "not a database URL: use sqlite:///PATH or "),
        ("mysql://ips:secret@db/ips", "unsupported database URL 'mysql://ips:***@db/ips': "),
        ("sqlite://", "an in-memory SQLite database cannot be shared by worker threads"),
    ],
)
def test_a_bad_url_is_refused_naming_the_variable(
    url: str, error: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IPS_DATABASE_URL", url)

    result = invoke("db", "upgrade")

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"Error: IPS_DATABASE_URL: {error}")
    assert "secret" not in result.output
