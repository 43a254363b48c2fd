"""Authenticated encryption and blind indexes for personal data, all keyed from JIANWU_SECRET_KEY."""

from __future__ import annotations

import base64
import binascii
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ("MIN_SECRET_LENGTH", "SecretBox", "SecretBoxError", "mask_id_number", "mask_phone")

MIN_SECRET_LENGTH = 32

# Format v1: version (1) | nonce (12) | ciphertext | tag (16). A new format gets a new byte, old rows still decrypt.
_VERSION = b"\x01"
_NONCE_SIZE = 12
_TAG_SIZE = 16
_OVERHEAD = len(_VERSION) + _NONCE_SIZE + _TAG_SIZE

# Fixed salt: the master secret is already high-entropy, the salt only domain-separates us from other HKDF users.
_SALT = b"jianwu/secretbox/v1"
_INFO_ENCRYPT = b"jianwu/secretbox/aes-256-gcm/v1"
_INFO_BLIND_INDEX = b"jianwu/blind-index/hmac-sha256/v1/"


class SecretBoxError(ValueError):
    """A token could not be decrypted: tampered, truncated, wrong key, wrong aad or unknown format."""


def _derive(master: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=info).derive(master)


class SecretBox:
    """AES-256-GCM encryption and HMAC-SHA256 blind indexes with keys derived from one master secret."""

    __slots__ = ("_aead", "_index_keys", "_master")

    def __init__(self, secret: str) -> None:
        if not isinstance(secret, str) or len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(f"the master secret must be a string of at least {MIN_SECRET_LENGTH} characters")
        # Kept only to derive per-purpose index keys lazily; never exposed (no __repr__ of it, no accessor).
        self._master = secret.encode("utf-8")
        self._aead = AESGCM(_derive(self._master, _INFO_ENCRYPT))
        self._index_keys: dict[str, bytes] = {}

    def subkey(self, purpose: str) -> bytes:
        """A 256-bit key of its own for one purpose (e.g. sealing attachments at rest), derived from the master."""
        return _derive(self._master, b"jianwu-subkey:" + purpose.encode())

    def __repr__(self) -> str:
        return "SecretBox(<redacted>)"

    def encrypt(self, plaintext: bytes, *, aad: bytes = b"") -> bytes:
        """Encrypt and authenticate plaintext, binding it to aad (e.g. table, column and row id)."""
        nonce = os.urandom(_NONCE_SIZE)
        # The version byte is authenticated too, so a token cannot be replayed under another format.
        return _VERSION + nonce + self._aead.encrypt(nonce, bytes(plaintext), _VERSION + bytes(aad))

    def decrypt(self, token: bytes, *, aad: bytes = b"") -> bytes:
        """Return the plaintext of a token from encrypt(), or raise SecretBoxError."""
        if not isinstance(token, (bytes, bytearray, memoryview)):
            raise SecretBoxError("token must be bytes")
        token = bytes(token)
        if len(token) < _OVERHEAD:
            raise SecretBoxError("token is truncated")
        if token[:1] != _VERSION:
            raise SecretBoxError("unknown token version")
        nonce, sealed = token[1 : 1 + _NONCE_SIZE], token[1 + _NONCE_SIZE :]
        try:
            return self._aead.decrypt(nonce, sealed, _VERSION + bytes(aad))
        except InvalidTag:
            raise SecretBoxError("token failed authentication") from None

    def encrypt_text(self, text: str, *, aad: bytes = b"") -> str:
        """Encrypt a string into unpadded URL-safe base64 text, for text columns."""
        token = self.encrypt(text.encode("utf-8"), aad=aad)
        return base64.urlsafe_b64encode(token).rstrip(b"=").decode("ascii")

    def decrypt_text(self, text: str, *, aad: bytes = b"") -> str:
        """Decrypt text from encrypt_text(), or raise SecretBoxError."""
        if not isinstance(text, str):
            raise SecretBoxError("token must be a string")
        try:
            raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
        except (binascii.Error, ValueError):
            raise SecretBoxError("token is not URL-safe base64") from None
        try:
            return self.decrypt(raw, aad=aad).decode("utf-8")
        except UnicodeDecodeError:
            # Only reachable for bytes sealed by encrypt() rather than encrypt_text(): the token itself is authentic.
            raise SecretBoxError("plaintext is not UTF-8 text") from None

    def blind_index(self, value: str, *, purpose: str) -> str:
        """Keyed HMAC-SHA256 hex of value, equal for equal values; callers must normalise value first."""
        if not purpose:
            raise ValueError("blind_index needs a purpose, e.g. 'phone'")
        key = self._index_keys.get(purpose)
        if key is None:
            # One key per purpose, so equal values in different columns cannot be correlated.
            key = self._index_keys[purpose] = _derive(self._master, _INFO_BLIND_INDEX + purpose.encode("utf-8"))
        return hmac.digest(key, value.encode("utf-8"), "sha256").hex()  # one-shot: OpenSSL's fast path


def _mask(value: str | None, head: int, tail: int) -> str:
    text = (value or "").strip()
    n = len(text)
    if n > head + tail + 2:
        return text[:head] + "*" * (n - head - tail) + text[n - tail :]
    # Too short for the usual shape: reveal at most a quarter, from the end, so short input still leaks little.
    keep = n // 4
    return "*" * (n - keep) + text[n - keep :]


def mask_phone(phone: str | None) -> str:
    """Mask a phone number for display: '13812345678' -> '138****5678'."""
    return _mask(phone, 3, 4)


def mask_id_number(id_number: str | None) -> str:
    """Mask a resident ID number for display: '310101199001011234' -> '310101********1234'."""
    return _mask(id_number, 6, 4)
