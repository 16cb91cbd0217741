"""The group E2EE frame format (docs/e2ee.md) in Python, to give benchmarks encrypted frames.

The browsers encrypt with static/js/e2ee-frame.js; this writes byte for byte the same format
(clear codec header, AES-GCM ciphertext and tag, key id and counter), so a relay benchmark can
replay what a relay really forwards in an encrypted group. Benchmarks only: the server never
holds a frame key.
"""

from __future__ import annotations

import os
import struct

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_INFO = b"praatbox frame key v1"
SALT_INFO = b"praatbox frame salt v1"
CLEAR_KEY, CLEAR_DELTA, CLEAR_AUDIO = 10, 3, 1


def _hkdf(secret: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(secret)


class FrameSealer:
    """One sender's key: seals frames with a rising counter, as the browser worker does."""

    def __init__(self, key_id: int, secret: bytes | None = None) -> None:
        secret = secret if secret is not None else os.urandom(32)
        self.key_id = key_id
        self.aead = AESGCM(_hkdf(secret, KEY_INFO, 16))
        self.salt = _hkdf(secret, SALT_INFO, 12)
        self.counter = 0

    def seal(self, data: bytes, kind: str) -> bytes:
        """Encrypt one VP8 or Opus frame (VP8 key frames have bit 0 of the first byte clear)."""
        if kind == "audio":
            clear = CLEAR_AUDIO
        else:
            clear = CLEAR_KEY if data and not data[0] & 0x01 else CLEAR_DELTA
        clear = min(clear, len(data))
        trailer = struct.pack(">II", self.key_id, self.counter)
        iv = self.salt[:8] + struct.pack(">I", struct.unpack(">I", self.salt[8:])[0] ^ self.counter)
        self.counter += 1
        header = data[:clear]
        return header + self.aead.encrypt(iv, data[clear:], header + trailer) + trailer
