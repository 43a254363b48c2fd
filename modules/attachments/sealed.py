"""Attachments encrypted at rest: a `Storage` that seals every object with AES-256-GCM before the store below
sees it (the originals carry identities, faces, places: evidence a copied disk must not give away).

Format: the magic line `JWSEAL1\\n`, then frames of 4-byte big-endian ciphertext length, 12-byte random nonce,
ciphertext of at most one MiB of plaintext. Each frame's associated data binds it to the object key, its index
and whether it is the last, so frames cannot be reordered, moved to another object, or cut off unseen. An
object written before sealing existed (no magic line) is read as it is.
"""

from __future__ import annotations

import asyncio
import os
import struct
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from modules.attachments.storage import Body, Storage

if TYPE_CHECKING:
    from collections.abc import AsyncIterable

__all__ = ("SealedStorage", "TamperedObject")

MAGIC = b"JWSEAL1\n"
_CHUNK = 1024 * 1024
_HEAD = struct.Struct(">I")
_NONCE = 12


class TamperedObject(ValueError):
    """A sealed object whose frames do not authenticate: changed, reordered, swapped or cut off."""


def _aad(key: str, index: int, last: bool) -> bytes:
    return key.encode() + b"\0" + index.to_bytes(8, "big") + (b"\1" if last else b"\0")


class SealedStorage:
    """Seals on `put`, opens on `open`; everything else is the inner store's."""

    def __init__(self, inner: Storage, key: bytes) -> None:
        self.inner = inner
        self._aead = AESGCM(key)

    def _frame(self, key: str, index: int, plain: bytes, last: bool) -> bytes:
        nonce = os.urandom(_NONCE)
        sealed = self._aead.encrypt(nonce, plain, _aad(key, index, last))
        return _HEAD.pack(len(sealed)) + nonce + sealed

    def _seal_all(self, key: str, data: bytes) -> bytes:
        chunks = [data[i:i + _CHUNK] for i in range(0, len(data), _CHUNK)] or [b""]
        return MAGIC + b"".join(self._frame(key, i, c, i == len(chunks) - 1) for i, c in enumerate(chunks))

    async def put(self, key: str, data: Body) -> None:
        """Seal and store; bytes in one piece (atomic as the inner store's bytes put), streams frame by frame."""
        if isinstance(data, (bytes, bytearray, memoryview)):
            await self.inner.put(key, await asyncio.to_thread(self._seal_all, key, bytes(data)))
            return
        await self.inner.put(key, self._seal_stream(key, data))

    async def _seal_stream(self, key: str, data: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
        yield MAGIC
        buffer, index, pending = bytearray(), 0, None
        async for piece in data:
            buffer += piece
            while len(buffer) > _CHUNK:
                # One chunk is held back, so the last one can be marked as last.
                if pending is not None:
                    yield await asyncio.to_thread(self._frame, key, index, pending, False)
                    index += 1
                pending, buffer = bytes(buffer[:_CHUNK]), buffer[_CHUNK:]
        if pending is not None and buffer:
            yield await asyncio.to_thread(self._frame, key, index, pending, False)
            index, pending = index + 1, None
        yield await asyncio.to_thread(self._frame, key, index, pending if pending is not None else bytes(buffer),
                                      True)

    async def open(self, key: str) -> AsyncIterator[bytes]:
        """The plaintext in chunks; TamperedObject if any frame fails, or the last one is missing."""
        stream = self.inner.open(key)
        buffer = bytearray()
        try:
            async for piece in stream:
                buffer += piece
                if len(buffer) >= len(MAGIC):
                    break
            if not buffer.startswith(MAGIC):
                # Written before attachments were sealed: served as stored.
                yield bytes(buffer)
                async for piece in stream:
                    yield piece
                return
            del buffer[:len(MAGIC)]
            index, finished = 0, False
            async for _ in _with_rest(buffer, stream):  # `buffer` grows as the stream is read
                while len(buffer) >= _HEAD.size:
                    size = _HEAD.unpack_from(buffer)[0]
                    end = _HEAD.size + _NONCE + size
                    if len(buffer) < end:
                        break
                    if finished:
                        raise TamperedObject(f"data after the last frame of {key}")
                    nonce = bytes(buffer[_HEAD.size:_HEAD.size + _NONCE])
                    sealed = bytes(buffer[_HEAD.size + _NONCE:end])
                    plain, finished = self._open_frame(key, index, nonce, sealed)
                    del buffer[:end]
                    index += 1
                    yield plain
            if buffer or not finished:
                raise TamperedObject(f"sealed object {key} is cut off")
        finally:
            await stream.aclose()  # type: ignore[attr-defined]  # async generators have aclose

    def _open_frame(self, key: str, index: int, nonce: bytes, sealed: bytes) -> tuple[bytes, bool]:
        for last in (False, True):
            try:
                return self._aead.decrypt(nonce, sealed, _aad(key, index, last)), last
            except InvalidTag:
                continue
        raise TamperedObject(f"frame {index} of {key} does not authenticate")

    async def delete(self, key: str) -> None:
        """Delete the object (idempotent)."""
        await self.inner.delete(key)

    async def exists(self, key: str) -> bool:
        """Whether an object is stored under the key."""
        return await self.inner.exists(key)


async def _with_rest(first: bytearray, stream: AsyncIterator[bytes]) -> AsyncIterator[bytearray]:
    """The bytes already read, then the rest of the stream, each appended to one growing buffer."""
    buffer = first
    yield buffer
    async for piece in stream:
        buffer += piece
        yield buffer
