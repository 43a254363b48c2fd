"""The attachment layer's entry points: `ingest` an upload into storage, and `read` stored bytes back.

Callers (complaints, later litigation evidence) persist the returned StoredAttachment in their own tables and
decide who may see what; this layer knows nothing of HTTP or the database.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import mmap
import tempfile
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import IO, Any

import msgspec

from modules.attachments.errors import AttachmentRejected
from modules.attachments.geo import Location
from modules.attachments.isobmff import inspect_media
from modules.attachments.names import sanitize_name
from modules.attachments.policy import DEFAULT_POLICY, AttachmentPolicy
from modules.attachments.sniff import SNIFF_BYTES, Category, sniff
from modules.attachments.storage import Storage
from modules.clocks.calendar import SHANGHAI

__all__ = ("AttachmentRejected", "StoredAttachment", "ingest", "read", "sha256_of")

# Recordings whose boxes we read for a location before their original may be shown to the public.
_ISOBMFF_TYPES = frozenset({"video/mp4", "video/quicktime", "audio/mp4"})


class StoredAttachment(msgspec.Struct, frozen=True):
    """What was stored, for the caller's table; times are aware, the location is WGS-84 as the device recorded it."""

    key: str  # yyyy/mm/<uuid>, Asia/Shanghai month of receipt
    media_type: str  # sniffed from the bytes, never the client's word
    category: Category
    size: int
    sha256: str  # hex digest of the original bytes: the evidence's content hash
    original_key: str  # originals/<key>: the bytes exactly as received, for staff
    public_key: str | None  # public/<key>: the image re-encoded without any metadata; None for other files
    public_media_type: str | None  # type of the public copy (a HEIC photo is published as JPEG)
    # What the public may be served: the stripped copy, or the original of a non-image carrying no location
    # (PDFs, audio, recordings without a location box); None when nothing is safe to publish.
    public_source: str | None
    captured_at: datetime | None  # as the device recorded it (EXIF, MP4 boxes); a claim, not a proof
    location: Location | None
    declared_name: str | None  # the client's file name, sanitised; a label only
    # Metadata we dropped and why (an impossible capture time...): the file is kept, the claim is not.
    notes: tuple[str, ...] = ()


_CHUNK = 1024 * 1024
# Files on disk are memory-mapped for inspection; an in-memory buffer is inspected as it is.
_MAPPABLE = (io.BufferedRandom, io.BufferedReader, io.FileIO, tempfile.SpooledTemporaryFile)


def sha256_of(file: IO[bytes]) -> tuple[str, int]:
    """The hex SHA-256 and size of a file's bytes, read a chunk at a time (blocking: run it in a thread)."""
    file.seek(0)
    digest, size = hashlib.sha256(), 0
    while chunk := file.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    file.seek(0)
    return digest.hexdigest(), size


def _read_head(file: IO[bytes]) -> bytes:
    file.seek(0)
    return file.read(SNIFF_BYTES)


def _read_all(file: IO[bytes]) -> bytes:
    file.seek(0)
    return file.read()


async def _chunks(file: IO[bytes]) -> AsyncIterator[bytes]:
    await asyncio.to_thread(file.seek, 0)
    while chunk := await asyncio.to_thread(file.read, _CHUNK):
        yield chunk


def _inspect_file(file: IO[bytes]) -> Any:
    """The recording's facts, its boxes read through a memory map: a 200 MiB video is never copied into memory."""
    file.flush()
    with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        view = memoryview(mapped)
        try:
            return inspect_media(view)
        finally:
            view.release()


async def ingest(
    storage: Storage,
    data: bytes | IO[bytes],
    *,
    declared_name: str | None,
    policy: AttachmentPolicy = DEFAULT_POLICY,
    now: datetime | None = None,
    hashed: tuple[str, int] | None = None,
) -> StoredAttachment:
    """Sniff, check, hash and store an upload, plus an image's stripped public copy; AttachmentRejected if refused.

    `data` is the bytes, or a file holding them (an upload spooled to disk): then only an image, at most the
    policy's image limit, is read into memory; any other file is hashed, inspected and stored a chunk at a time.
    `hashed` is (sha256, size) when the caller already read the file through `sha256_of`."""
    file: IO[bytes] = io.BytesIO(data) if isinstance(data, (bytes, bytearray, memoryview)) else data
    # hashlib releases the GIL on large inputs, so hashing 200 MiB in a thread really does spare the loop.
    digest, size = hashed if hashed is not None else await asyncio.to_thread(sha256_of, file)
    head = await asyncio.to_thread(_read_head, file)
    sniffed = sniff(head)
    policy.check(sniffed, size)
    assert sniffed is not None  # check() refuses unknown types
    whole: bytes | None = None

    public_bytes: bytes | None = None
    public_media_type: str | None = None
    captured_at: datetime | None = None
    place: Location | None = None
    carries_location = False
    if sniffed.category == "image":
        # Decoded before anything is stored, so an unreadable image leaves nothing behind.
        whole = await asyncio.to_thread(_read_all, file)
        from modules.attachments.exif import process_image  # Pillow loads with the first image, not in every worker

        facts = await process_image(whole, sniffed)
        public_bytes, public_media_type = facts.public, facts.public_media_type
        captured_at, place = facts.captured_at, facts.location
    elif sniffed.media_type in _ISOBMFF_TYPES:
        media = await asyncio.to_thread(
            _inspect_file if isinstance(file, _MAPPABLE) else lambda f: inspect_media(_read_all(f)), file)
        captured_at, place, carries_location = media.captured_at, media.location, media.carries_location

    captured_at, notes = _plausible(captured_at, now or datetime.now(UTC))
    moment = (now or datetime.now(UTC)).astimezone(SHANGHAI)
    key = f"{moment:%Y}/{moment:%m}/{uuid.uuid4()}"
    original_key, public_key = f"originals/{key}", (f"public/{key}" if public_bytes is not None else None)
    await storage.put(original_key, whole if whole is not None else _chunks(file))
    if public_key is not None and public_bytes is not None:
        try:
            await storage.put(public_key, public_bytes)
        except BaseException:
            # No half-stored attachment: the caller gets an error and no row points at the original.
            await asyncio.shield(storage.delete(original_key))
            raise

    if public_key is not None:
        public_source: str | None = public_key
    elif sniffed.category != "image" and place is None and not carries_location:
        public_source = original_key
    else:
        public_source = None  # an image we could not strip (HEIC without pillow-heif), or a located recording
    return StoredAttachment(
        key=key, media_type=sniffed.media_type, category=sniffed.category, size=size, sha256=digest,
        original_key=original_key, public_key=public_key, public_media_type=public_media_type,
        public_source=public_source, captured_at=captured_at, location=place,
        declared_name=sanitize_name(declared_name), notes=notes,
    )


# Digital cameras and phones: nothing we are sent was recorded before this.
_EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)


def _plausible(captured_at: datetime | None, now: datetime) -> tuple[datetime | None, tuple[str, ...]]:
    """The capture time if it could be true (not before 1990, not after tomorrow), else None and the reason."""
    if captured_at is None:
        return None, ()
    try:
        if _EARLIEST <= captured_at <= now + timedelta(days=1):
            return captured_at, ()
    except OverflowError:  # year 9999 with a negative offset, year 1 with a positive one: beyond UTC's range
        pass
    return None, (f"capture time {captured_at.isoformat()} out of range: dropped",)


async def read(storage: Storage, key: str) -> bytes:
    """The whole object stored under the key (ObjectNotFound when there is none)."""
    return b"".join([chunk async for chunk in storage.open(key)])
