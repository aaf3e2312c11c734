"""`EncryptionCodec`: every payload Temporal stores, encrypted with AES-256-GCM.

An encrypted payload's metadata says `encoding: binary/encrypted` and names the
key in `encryption-key-id`; its data is a 12-byte random nonce followed by the
ciphertext and tag of the whole original payload (its metadata and data), the
layout of Temporal's encryption samples. Payloads without that encoding pass
through unchanged: histories recorded before encryption was switched on still
replay, and their journeys keep running.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)

from codec.keys import ENCRYPTION_KEYS_VARIABLE, KeyRing

ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
NONCE_BYTES = 12
TAG_BYTES = 16


class PayloadDecryptionError(ValueError):
    """An encrypted payload that cannot be decrypted with the keys at hand."""

    def __init__(self, reason: str, key_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.key_id = key_id


class EncryptionCodec(PayloadCodec):
    """Encrypts with the ring's newest key; decrypts with whichever key a payload names."""

    def __init__(self, ring: KeyRing) -> None:
        super().__init__()
        self.ring = ring
        self._ciphers = {key.id: AESGCM(key.secret) for key in ring.keys}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(payload) for payload in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        key_id = self.ring.newest.id
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[key_id].encrypt(nonce, payload.SerializeToString(), None)
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID_METADATA: key_id.encode()},
            data=nonce + sealed,
        )

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        raw_id = payload.metadata.get(KEY_ID_METADATA)
        if not raw_id:
            raise PayloadDecryptionError(f"an encrypted payload names no key ({KEY_ID_METADATA})")
        key_id = raw_id.decode("utf-8", errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise PayloadDecryptionError(
                f"a payload is encrypted with key {key_id!r}, which is not in "
                f"{ENCRYPTION_KEYS_VARIABLE} (it has {', '.join(self.ring.ids)}): "
                "add that key back to read it",
                key_id,
            )
        data = payload.data
        if len(data) < NONCE_BYTES + TAG_BYTES:
            raise PayloadDecryptionError(
                f"a payload encrypted with key {key_id!r} is too short to be one", key_id
            )
        try:
            plain = cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], None)
            return Payload.FromString(plain)
        except (InvalidTag, DecodeError):
            raise PayloadDecryptionError(
                f"a payload encrypted with key {key_id!r} does not decrypt with it: it was "
                "altered, or encrypted with another key under the same id",
                key_id,
            ) from None


def encrypting(converter: DataConverter, ring: KeyRing) -> DataConverter:
    """`converter` with its payloads encrypted by `ring`'s keys. Failure messages
    and stack traces go into an (encrypted) payload too: an error can quote what
    it failed on."""
    return dataclasses.replace(
        converter,
        payload_codec=EncryptionCodec(ring),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )
