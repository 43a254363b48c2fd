"""Where attachment bytes live: the async `Storage` Protocol and `LocalStorage`, files under the data directory.

Object storage: with several replicas (README, "Several replicas behind a load balancer") the bytes must live
in one place every replica reaches, so a deployment would add an `S3Storage` implementing this same Protocol
against an S3-compatible server inside the procuratorate network (MinIO, Ceph RGW; never a public cloud, the
networks are isolated) and choose it from a setting such as `JIANWU_STORAGE_URL=s3://bucket/prefix`:
`put` = PutObject (already atomic: a reader sees the whole object or none; use multipart upload for streams),
`open` = GetObject, yielding the streamed body's chunks, `delete` = DeleteObject (idempotent, like ours),
`exists` = HeadObject (404 -> False). Keys stay the same (`originals/2026/05/<uuid>`), checked by `check_key`
before any request, and the bucket should be private: the API serves the bytes after its own access checks.
No S3 client is a dependency until that deployment exists.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import tempfile
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import BinaryIO, Protocol

__all__ = ("Body", "InvalidKey", "LocalStorage", "ObjectNotFound", "Storage", "check_key")

Body = bytes | bytearray | memoryview | AsyncIterable[bytes]

# A segment never starts with a dot: that excludes "." and ".." and keeps keys apart from our ".tmp-" files.
_SEGMENT = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}")
_MAX_KEY = 512
_MAX_SEGMENTS = 8


class InvalidKey(ValueError):
    """A key that is not a plain relative path of safe segments (e.g. `..`, absolute, backslashes)."""


class ObjectNotFound(LookupError):
    """No object is stored under the key."""


def check_key(key: str) -> str:
    """The key itself when it is safe to map onto a path or an object name; InvalidKey otherwise."""
    segments = key.split("/")
    if len(key) > _MAX_KEY or len(segments) > _MAX_SEGMENTS or not all(_SEGMENT.fullmatch(s) for s in segments):
        raise InvalidKey(f"invalid storage key {key[:80]!r}")
    return key


class Storage(Protocol):
    """Async blob store addressed by keys like `originals/2026/05/<uuid>`."""

    async def put(self, key: str, data: Body) -> None:
        """Store the bytes (or the chunks of a stream) under the key, replacing any object there, atomically."""
        ...

    def open(self, key: str) -> AsyncIterator[bytes]:
        """The object's bytes in chunks; ObjectNotFound is raised by the first iteration when there is none."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object; a missing one is not an error."""
        ...

    async def exists(self, key: str) -> bool:
        """Whether an object is stored under the key."""
        ...


class LocalStorage:
    """Files under `root`, written atomically (temp file, fsync, rename); all file I/O runs in a worker thread."""

    def __init__(self, root: Path, *, chunk_size: int = 1024 * 1024) -> None:
        self.root = Path(root).absolute()
        self.chunk_size = chunk_size

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> LocalStorage:
        """The store under `<JIANWU_DATA_DIR>/uploads`."""
        return cls(Path(data_dir) / "uploads")

    async def put(self, key: str, data: Body) -> None:
        check_key(key)
        if isinstance(data, (bytes, bytearray, memoryview)):
            # One thread call does everything, so even a cancelled caller leaves a whole file or none.
            await asyncio.to_thread(self._put_bytes, key, bytes(data))
            return
        path, tmp, out = await asyncio.to_thread(self._begin, key)
        try:
            async for chunk in data:
                await asyncio.to_thread(out.write, chunk)
            await asyncio.to_thread(self._commit, out, tmp, path)
        except BaseException:
            # A buffered file's close waits for an in-flight write, so cleanup never races the worker thread.
            await asyncio.to_thread(_discard, out, tmp)
            raise

    async def open(self, key: str) -> AsyncIterator[bytes]:
        check_key(key)
        handle = await asyncio.to_thread(self._open_for_reading, key)
        try:
            while chunk := await asyncio.to_thread(handle.read, self.chunk_size):
                yield chunk
        finally:
            handle.close()

    async def delete(self, key: str) -> None:
        check_key(key)
        await asyncio.to_thread(lambda: self._path(key).unlink(missing_ok=True))

    async def exists(self, key: str) -> bool:
        check_key(key)
        return await asyncio.to_thread(lambda: self._path(key).is_file())

    def _path(self, key: str) -> Path:
        path = self.root.joinpath(*check_key(key).split("/"))
        # Keys are checked already; resolving also refuses a symlinked directory that points out of the root.
        if not path.resolve().is_relative_to(self.root.resolve()):
            raise InvalidKey(f"storage key {key[:80]!r} leaves the storage root")
        return path

    def _begin(self, key: str) -> tuple[Path, Path, BinaryIO]:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Same directory as the target, so os.replace is a rename on one filesystem (atomic); mode 0600.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        return path, Path(tmp), os.fdopen(fd, "wb")

    def _commit(self, out: BinaryIO, tmp: Path, path: Path) -> None:
        out.flush()
        os.fsync(out.fileno())
        out.close()
        os.replace(tmp, path)
        _fsync_dir(path.parent)

    def _put_bytes(self, key: str, data: bytes) -> None:
        path, tmp, out = self._begin(key)
        try:
            out.write(data)
            self._commit(out, tmp, path)
        except BaseException:
            _discard(out, tmp)
            raise

    def _open_for_reading(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFound(key) from None


def _discard(out: BinaryIO, tmp: Path) -> None:
    with contextlib.suppress(OSError):
        out.close()
    tmp.unlink(missing_ok=True)


def _fsync_dir(directory: Path) -> None:
    # The rename is durable only once the directory entry is on disk too.
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
