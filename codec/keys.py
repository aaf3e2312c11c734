"""The encryption keys of IPS_ENCRYPTION_KEYS: `<key id>:<base64 of 32 bytes>`
entries separated by commas, the newest first.

The newest key encrypts every new payload; every key listed decrypts. To rotate,
put a new entry in front and keep the old ones until no history needs them.
Errors name the entry (its position, and its id once that is known to be an id)
and never quote key material.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

ENCRYPTION_KEYS_VARIABLE = "IPS_ENCRYPTION_KEYS"
# AES-256: nothing shorter is accepted.
KEY_BYTES = 32
KEY_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,32}")
KEY_ID_RULE = "1 to 32 letters, digits, '.', '_' or '-'"


class KeyRingError(ValueError):
    """A malformed key list; `entry` is the 1-based position of the entry at fault."""

    def __init__(self, reason: str, *, entry: int | None = None, key_id: str | None = None) -> None:
        where = ""
        if entry is not None:
            where = f"entry {entry}" + (f" ({key_id})" if key_id else "") + ": "
        super().__init__(f"{ENCRYPTION_KEYS_VARIABLE}: {where}{reason}")
        self.reason = reason
        self.entry = entry
        self.key_id = key_id


@dataclass(frozen=True)
class EncryptionKey:
    id: str
    secret: bytes = field(repr=False)


@dataclass(frozen=True)
class KeyRing:
    """The keys, newest first: `newest` encrypts, any of them decrypts."""

    keys: tuple[EncryptionKey, ...]

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyRingError("names no key")

    @property
    def newest(self) -> EncryptionKey:
        return self.keys[0]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(key.id for key in self.keys)

    def get(self, key_id: str) -> EncryptionKey | None:
        return next((key for key in self.keys if key.id == key_id), None)


def parse_key_ring(text: str) -> KeyRing:
    """The key ring written in `text` (the value of IPS_ENCRYPTION_KEYS), or
    `KeyRingError` naming the first entry at fault and why."""
    if not text.strip():
        raise KeyRingError("is empty; give at least one `<key id>:<base64 key>` entry")
    keys: list[EncryptionKey] = []
    for position, entry in enumerate(text.split(","), start=1):
        key = _parse_entry(entry.strip(), position)
        earlier = next((i for i, k in enumerate(keys, start=1) if k.id == key.id), None)
        if earlier is not None:
            raise KeyRingError(
                f"the key id is entry {earlier}'s too; every key needs an id of its own",
                entry=position,
                key_id=key.id,
            )
        keys.append(key)
    return KeyRing(tuple(keys))


def key_ring_of(text: str | None) -> KeyRing | None:
    """The key ring of IPS_ENCRYPTION_KEYS's value; None when it is unset or empty
    (payloads are then stored as they are)."""
    return parse_key_ring(text) if text and text.strip() else None


def new_key_entry(key_id: str | None = None, now: datetime | None = None) -> str:
    """A new entry for IPS_ENCRYPTION_KEYS: `<key id>:<base64 of 32 random bytes>`,
    by default with an id naming today's date (`k-2026-12-01`)."""
    if key_id is None:
        key_id = f"k-{(now or datetime.now(UTC)):%Y-%m-%d}"
    if not KEY_ID_PATTERN.fullmatch(key_id):
        raise KeyRingError(f"a key id is {KEY_ID_RULE}")
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode('ascii')}"


def _parse_entry(entry: str, position: int) -> EncryptionKey:
    if not entry:
        raise KeyRingError("is empty (two commas in a row, or one at an end?)", entry=position)
    key_id, colon, encoded = entry.partition(":")
    key_id, encoded = key_id.strip(), encoded.strip()
    if not colon:
        raise KeyRingError("is not of the form `<key id>:<base64 key>`", entry=position)
    if not KEY_ID_PATTERN.fullmatch(key_id):
        # Not quoted: what stands before the colon may be key material.
        raise KeyRingError(f"the key id must be {KEY_ID_RULE}", entry=position)
    if not encoded:
        raise KeyRingError("has no key after the colon", entry=position, key_id=key_id)
    secret = decode_base64(encoded)
    if secret is None:
        raise KeyRingError("the key is not valid base64", entry=position, key_id=key_id)
    if len(secret) != KEY_BYTES:
        raise KeyRingError(
            f"the key is {len(secret)} bytes long; it must be {KEY_BYTES} random bytes "
            "(AES-256), base64-encoded: make one with `ips keys new`",
            entry=position,
            key_id=key_id,
        )
    return EncryptionKey(id=key_id, secret=secret)


def decode_base64(text: str) -> bytes | None:
    """Standard or URL-safe base64, with or without its padding."""
    standard = text.replace("-", "+").replace("_", "/")
    standard += "=" * (-len(standard) % 4)
    try:
        return base64.b64decode(standard, validate=True)
    except (binascii.Error, ValueError):
        return None
