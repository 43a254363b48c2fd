"""Attachments sealed at rest: what is on disk reveals nothing and cannot be changed, reordered or cut unseen."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from modules.attachments.sealed import MAGIC, SealedStorage, TamperedObject
from modules.attachments.storage import LocalStorage, ObjectNotFound

KEY = os.urandom(32)
MIB = 1024 * 1024


def _stores(tmp_path: Path) -> tuple[LocalStorage, SealedStorage]:
    inner = LocalStorage(tmp_path)
    return inner, SealedStorage(inner, KEY)


async def _read(store: SealedStorage, key: str) -> bytes:
    return b"".join([c async for c in store.open(key)])


async def _pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i:i + size]


@pytest.mark.parametrize("length", [0, 1, MIB - 1, MIB, MIB + 1, 3 * MIB + 17])
async def test_bytes_and_streams_round_trip_and_the_disk_holds_no_plaintext(tmp_path: Path, length: int) -> None:
    inner, sealed = _stores(tmp_path)
    data = (b"\xff\xd8 location 30.72,121.30 " * (length // 25 + 1))[:length]
    await sealed.put("originals/a", data)
    await sealed.put("originals/b", _pieces(data, 300_001))
    for key in ("originals/a", "originals/b"):
        assert await _read(sealed, key) == data
        on_disk = (tmp_path / key).read_bytes()
        assert on_disk.startswith(MAGIC) and (length < 30 or b"location" not in on_disk)


async def test_a_changed_byte_a_cut_tail_or_a_swapped_object_is_refused(tmp_path: Path) -> None:
    inner, sealed = _stores(tmp_path)
    data = os.urandom(2 * MIB + 5)
    await sealed.put("originals/a", data)
    await sealed.put("originals/b", data)
    raw = (tmp_path / "originals/a").read_bytes()

    flipped = bytearray(raw)
    flipped[len(MAGIC) + 100] ^= 1
    await inner.put("originals/a", bytes(flipped))
    with pytest.raises(TamperedObject):
        await _read(sealed, "originals/a")

    frame = 4 + 12 + MIB + 16
    await inner.put("originals/a", raw[:len(MAGIC) + 2 * frame])  # the last frame dropped
    with pytest.raises(TamperedObject, match="cut off"):
        await _read(sealed, "originals/a")

    # Another object's frames do not open under this key (the key is bound into every frame).
    await inner.put("originals/a", (tmp_path / "originals/b").read_bytes())
    with pytest.raises(TamperedObject):
        await _read(sealed, "originals/a")


async def test_objects_written_before_sealing_are_read_as_stored_and_missing_ones_are_not_found(
        tmp_path: Path) -> None:
    inner, sealed = _stores(tmp_path)
    await inner.put("originals/old", b"%PDF-1.7 written before attachments were sealed")
    assert await _read(sealed, "originals/old") == b"%PDF-1.7 written before attachments were sealed"
    with pytest.raises(ObjectNotFound):
        await _read(sealed, "originals/none")
    assert await sealed.exists("originals/old") and not await sealed.exists("originals/none")
    await sealed.delete("originals/old")
    assert not await sealed.exists("originals/old")
