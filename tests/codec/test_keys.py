"""IPS_ENCRYPTION_KEYS as the operator writes it: errors name the entry and the
reason, and never quote key material."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from codec import KeyRingError, key_ring_of, new_key_entry, parse_key_ring

KEY_1 = bytes(range(32))
KEY_2 = bytes(range(100, 132))


def entry(key_id: str, secret: bytes) -> str:
    return f"{key_id}:{base64.b64encode(secret).decode()}"


def test_the_first_entry_is_the_newest_and_every_entry_is_kept() -> None:
    ring = parse_key_ring(f"{entry('k-2027', KEY_2)}, {entry('k-2026', KEY_1)}")

    assert ring.newest.id == "k-2027"
    assert ring.ids == ("k-2027", "k-2026")
    assert ring.get("k-2026") is not None
    assert ring.get("k-2026").secret == KEY_1  # type: ignore[union-attr]
    assert ring.get("k-2025") is None


def test_url_safe_base64_and_missing_padding_are_accepted() -> None:
    urlsafe = base64.urlsafe_b64encode(b"\xfb\xff" * 16).decode().rstrip("=")

    ring = parse_key_ring(f"k1:{urlsafe}")

    assert ring.newest.secret == b"\xfb\xff" * 16


def test_a_key_never_shows_in_its_repr() -> None:
    ring = parse_key_ring(entry("k1", KEY_1))

    assert base64.b64encode(KEY_1).decode() not in repr(ring)
    assert repr(KEY_1) not in repr(ring)


def test_unset_or_empty_means_no_encryption() -> None:
    assert key_ring_of(None) is None
    assert key_ring_of("  ") is None
    assert key_ring_of(entry("k1", KEY_1)) is not None


SHORT = base64.b64encode(b"s" * 16).decode()
LONG = base64.b64encode(b"L" * 33).decode()
GOOD = base64.b64encode(KEY_1).decode()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "IPS_ENCRYPTION_KEYS: is empty"),
        (f"k1:{GOOD},", "IPS_ENCRYPTION_KEYS: entry 2: is empty"),
        (GOOD, "IPS_ENCRYPTION_KEYS: entry 1: is not of the form `<key id>:<base64 key>`"),
        (f"k1:{GOOD},{GOOD}:k2", "IPS_ENCRYPTION_KEYS: entry 2: the key id must be 1 to 32"),
        (f"k 1:{GOOD}", "IPS_ENCRYPTION_KEYS: entry 1: the key id must be"),
        ("k1:", "IPS_ENCRYPTION_KEYS: entry 1 (k1): has no key after the colon"),
        (f"k1:{GOOD[:-4]}!!!=", "IPS_ENCRYPTION_KEYS: entry 1 (k1): the key is not valid base64"),
        (f"k1:{SHORT}", "IPS_ENCRYPTION_KEYS: entry 1 (k1): the key is 16 bytes long; it must"),
        (f"k1:{GOOD},k2:{LONG}", "IPS_ENCRYPTION_KEYS: entry 2 (k2): the key is 33 bytes long"),
        (
            f"k1:{GOOD},k2:{GOOD},k1:{GOOD}",
            "IPS_ENCRYPTION_KEYS: entry 3 (k1): the key id is entry 1's too",
        ),
    ],
)
def test_a_malformed_list_names_the_entry_and_the_reason_without_the_key(
    text: str, message: str
) -> None:
    with pytest.raises(KeyRingError) as raised:
        parse_key_ring(text)

    assert str(raised.value).startswith(message), str(raised.value)
    for material in (GOOD, GOOD[:-4], SHORT, LONG):
        assert material not in str(raised.value)


def test_a_new_entry_parses_and_is_random() -> None:
    first = new_key_entry(now=datetime(2026, 12, 1, tzinfo=UTC))
    second = new_key_entry("k-next")

    assert first.startswith("k-2026-12-01:")
    assert second.startswith("k-next:")
    ring = parse_key_ring(f"{second},{first}")
    assert len(ring.newest.secret) == 32
    assert ring.keys[0].secret != ring.keys[1].secret


def test_a_new_entry_refuses_an_id_that_would_not_parse() -> None:
    with pytest.raises(KeyRingError, match="a key id is 1 to 32 letters"):
        new_key_entry("key one")
