"""Encryption of what Temporal stores: the keys of IPS_ENCRYPTION_KEYS
(`codec.keys`) and the AES-GCM payload codec (`codec.encryption`)."""

from codec.encryption import (
    ENCODING,
    KEY_ID_METADATA,
    EncryptionCodec,
    PayloadDecryptionError,
    encrypting,
)
from codec.keys import (
    ENCRYPTION_KEYS_VARIABLE,
    EncryptionKey,
    KeyRing,
    KeyRingError,
    decode_base64,
    key_ring_of,
    new_key_entry,
    parse_key_ring,
)

__all__ = [
    "ENCODING",
    "ENCRYPTION_KEYS_VARIABLE",
    "KEY_ID_METADATA",
    "EncryptionCodec",
    "EncryptionKey",
    "KeyRing",
    "KeyRingError",
    "PayloadDecryptionError",
    "encrypting",
    "key_ring_of",
    "new_key_entry",
    "decode_base64",
    "parse_key_ring",
]
