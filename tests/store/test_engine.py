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
