import sqlite3
import threading
import time
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from store import ConsumerRecord, EventRecord, SpecialistRecord, Store, StoreError


def test_a_sqlite_file_is_created_with_its_folder_and_outlives_the_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'var' / 'data' / 'ips.db'}"
    first = Store(url)
    first.create_schema()
    first.upsert_specialist(SpecialistRecord("es-1", "Jo", "jo@example.org", "UTC"))
    first.upsert_consumer(ConsumerRecord("c-1", "Alex", "es-1", "UTC"))
    at = datetime(2041, 1, 9, tzinfo=UTC)
    first.record_event(EventRecord("e-1", "referred", at, "c-1", {}, None, at))
    first.dispose()

    second = Store(url)
    second.create_schema()  # again: harmless on an existing schema

    assert (tmp_path / "var" / "data" / "ips.db").is_file()
    assert second.count_referrals("c-1") == 1
    second.dispose()


def test_a_new_sqlite_file_another_program_is_writing_is_waited_for(tmp_path: Path) -> None:
    # The worker, the API and `ips` may open a new database at once: the first
    # to switch it to WAL mode must not make the others fail at start.
    path = tmp_path / "ips.db"
    writing = threading.Event()

    def write_for_a_moment() -> None:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        other.execute("CREATE TABLE other_program (x)")
        writing.set()
        time.sleep(0.5)
        other.execute("COMMIT")
        other.close()

    writer = threading.Thread(target=write_for_a_moment)
    writer.start()
    writing.wait()
    store = Store(f"sqlite:///{path}")
    try:
        store.create_schema()
        jo = SpecialistRecord("es-1", "Jo", "jo@example.org", "UTC")
        store.upsert_specialist(jo)
        assert store.get_specialist("es-1") == jo
    finally:
        writer.join()
        store.dispose()
    with closing(sqlite3.connect(path)) as reader:
        assert reader.execute("PRAGMA journal_mode").fetchone() == ("wal",)


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_in_memory_sqlite_is_refused(url: str) -> None:
    with pytest.raises(StoreError, match="^url: an in-memory SQLite database cannot be shared"):
        Store(url)


def test_other_databases_are_refused() -> None:
    with pytest.raises(StoreError, match="^url: unsupported database URL 'mysql://u@h/db'"):
        Store("mysql://u@h/db")


def test_a_plain_postgresql_url_uses_psycopg() -> None:
    # No connection is made until the first call, so no server is needed here.
    Store("postgresql://root@127.0.0.1:1/none").dispose()
