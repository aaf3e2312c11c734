"""`ips keys new`, and what the staff commands say of a malformed IPS_ENCRYPTION_KEYS."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from codec import ENCRYPTION_KEYS_VARIABLE, parse_key_ring
from tests.cli.conftest import Ips, invoke, refused, succeeded
from tests.cli.test_outages import add_consumer


def test_a_new_key_is_one_entry_for_the_variable() -> None:
    first = succeeded(invoke("keys", "new"), ("keys", "new")).strip()
    second = succeeded(invoke("keys", "new", "--id", "k-2027"), ("keys", "new")).strip()

    assert first.startswith(f"k-{datetime.now(UTC):%Y-%m-%d}:")
    assert second.startswith("k-2027:")
    ring = parse_key_ring(f"{second},{first}")
    assert ring.newest.id == "k-2027"
    assert ring.keys[0].secret != ring.keys[1].secret


def test_a_key_id_that_would_not_parse_is_refused() -> None:
    error = refused(invoke("keys", "new", "--id", "key one"), ("keys", "new"))

    assert "--id: a key id is 1 to 32 letters, digits" in error


def test_a_malformed_key_list_stops_a_command_naming_the_entry(
    ips: Ips, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_consumer(ips)
    key = succeeded(invoke("keys", "new", "--id", "k1"), ("keys", "new")).strip()
    material = key.split(":", 1)[1]
    monkeypatch.setenv(ENCRYPTION_KEYS_VARIABLE, f"{key},k2:{material[:20]}")

    error = ips.refused("refer", "c-1")

    assert "IPS_ENCRYPTION_KEYS: entry 2 (k2): the key is 15 bytes long" in error
    assert material[:20] not in error
    assert ips.store.list_events("c-1") == []
