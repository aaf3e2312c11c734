"""The payload codec: what it stores is unreadable without the key, old keys keep
decrypting after a rotation, and payloads from before encryption pass through."""

from __future__ import annotations

import base64
from datetime import date

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.exceptions import ApplicationError

from codec import (
    ENCODING,
    KEY_ID_METADATA,
    EncryptionCodec,
    KeyRing,
    PayloadDecryptionError,
    encrypting,
    parse_key_ring,
)
from codec.payloads import pydantic_converter

K1 = bytes(range(32))
K2 = bytes(range(50, 82))
TEXT = "Ottoline Quarrington starts at Zephyrine Bakery"


def ring(*entries: tuple[str, bytes]) -> KeyRing:
    return parse_key_ring(",".join(f"{i}:{base64.b64encode(k).decode()}" for i, k in entries))


async def plain(value: object) -> Payload:
    [payload] = await pydantic_converter.encode([value])
    return payload


async def test_a_payload_round_trips_and_is_stored_unreadable() -> None:
    codec = EncryptionCodec(ring(("k1", K1)))
    original = await plain({"body": TEXT, "on": date(2041, 1, 7)})

    [sealed] = await codec.encode([original])
    [opened] = await codec.decode([sealed])

    assert sealed.metadata["encoding"] == ENCODING
    assert sealed.metadata[KEY_ID_METADATA] == b"k1"
    assert TEXT.encode() not in sealed.SerializeToString()
    assert b"Quarrington" not in sealed.SerializeToString()
    assert opened == original


async def test_the_same_payload_encrypts_differently_each_time() -> None:
    codec = EncryptionCodec(ring(("k1", K1)))
    original = await plain(TEXT)

    [first, second] = await codec.encode([original, original])

    assert first.data != second.data


async def test_after_a_rotation_old_payloads_decrypt_and_new_ones_use_the_new_key() -> None:
    before = EncryptionCodec(ring(("k1", K1)))
    after = EncryptionCodec(ring(("k2", K2), ("k1", K1)))
    original = await plain(TEXT)
    [old] = await before.encode([original])

    [new] = await after.encode([original])

    assert (await after.decode([old])) == [original]
    assert new.metadata[KEY_ID_METADATA] == b"k2"
    assert (await after.decode([new])) == [original]
    # The old ring cannot read what the new key wrote, and says which key it lacks.
    with pytest.raises(PayloadDecryptionError, match="'k2', which is not in IPS_ENCRYPTION_KEYS"):
        await before.decode([new])


async def test_an_unknown_key_id_is_named_in_the_error() -> None:
    [sealed] = await EncryptionCodec(ring(("k-lost", K1))).encode([await plain(TEXT)])

    with pytest.raises(PayloadDecryptionError) as raised:
        await EncryptionCodec(ring(("k2", K2))).decode([sealed])

    assert raised.value.key_id == "k-lost"
    assert "'k-lost'" in str(raised.value)
    assert "(it has k2)" in str(raised.value)


async def test_a_tampered_ciphertext_does_not_decrypt() -> None:
    codec = EncryptionCodec(ring(("k1", K1)))
    [sealed] = await codec.encode([await plain(TEXT)])
    flipped = bytearray(sealed.data)
    flipped[20] ^= 0x01
    tampered = Payload(metadata=dict(sealed.metadata), data=bytes(flipped))

    with pytest.raises(PayloadDecryptionError, match="'k1' does not decrypt with it"):
        await codec.decode([tampered])


async def test_a_key_swapped_under_the_same_id_does_not_decrypt() -> None:
    [sealed] = await EncryptionCodec(ring(("k1", K1))).encode([await plain(TEXT)])

    with pytest.raises(PayloadDecryptionError, match="does not decrypt"):
        await EncryptionCodec(ring(("k1", K2))).decode([sealed])


async def test_a_truncated_or_unnamed_encrypted_payload_is_refused() -> None:
    codec = EncryptionCodec(ring(("k1", K1)))

    with pytest.raises(PayloadDecryptionError, match="too short"):
        await codec.decode([Payload(metadata={"encoding": ENCODING, KEY_ID_METADATA: b"k1"})])
    with pytest.raises(PayloadDecryptionError, match="names no key"):
        await codec.decode([Payload(metadata={"encoding": ENCODING}, data=b"x" * 40)])


async def test_a_payload_from_before_encryption_passes_through() -> None:
    codec = EncryptionCodec(ring(("k1", K1)))
    original = await plain(TEXT)

    assert await codec.decode([original]) == [original]


async def test_the_encrypting_converter_hides_failure_messages_too() -> None:
    converter = encrypting(pydantic_converter, ring(("k1", K1)))
    failure = Failure()
    await converter.encode_failure(ApplicationError(TEXT), failure)

    assert TEXT.encode() not in failure.SerializeToString()
    decoded = await converter.decode_failure(failure)
    assert str(decoded) == TEXT
    [value] = await converter.decode(await converter.encode([date(2041, 1, 7)]), [date])
    assert value == date(2041, 1, 7)
