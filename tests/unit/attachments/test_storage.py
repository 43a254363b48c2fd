"""LocalStorage: round trips, keys that try to leave the root, atomic writes, and I/O off the event loop."""

from __future__ import annotations

import inspect
import os
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from modules.attachments.storage import InvalidKey, LocalStorage, ObjectNotFound, Storage, check_key

KEY = "originals/2026/05/0b7e5a4c-3d55-4f0e-9b7a-2f1f0c9d8e11"


@pytest.fixture(name="store")
def fx_store(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "uploads")


def all_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


async def chunks(*parts: bytes, fail_after: int | None = None) -> AsyncIterator[bytes]:
    for i, part in enumerate(parts):
        if fail_after is not None and i == fail_after:
            raise ConnectionResetError("client went away")
        yield part


async def read_all(store: Storage, key: str) -> bytes:
    return b"".join([c async for c in store.open(key)])


def test_local_storage_has_the_protocol_methods_with_the_same_kinds() -> None:
    for name in ("put", "delete", "exists"):
        assert inspect.iscoroutinefunction(getattr(LocalStorage, name)), name
    # open is an async generator: it returns an async iterator without being awaited first.
    assert inspect.isasyncgenfunction(LocalStorage.open)
    assert {n for n in vars(Storage) if not n.startswith("_")} == {"put", "open", "delete", "exists"}


async def test_put_then_open_exists_delete(store: LocalStorage, tmp_path: Path) -> None:
    assert not await store.exists(KEY)
    await store.put(KEY, b"first")
    await store.put(KEY, b"second version")  # replaces
    assert await store.exists(KEY)
    assert await read_all(store, KEY) == b"second version"
    assert (tmp_path / "uploads" / KEY).read_bytes() == b"second version"
    await store.delete(KEY)
    await store.delete(KEY)  # deleting what is gone is not an error
    assert not await store.exists(KEY)
    with pytest.raises(ObjectNotFound):
        await read_all(store, KEY)


async def test_open_streams_in_chunks(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path, chunk_size=4)
    await store.put("a/b", b"0123456789")
    assert [c async for c in store.open("a/b")] == [b"0123", b"4567", b"89"]


async def test_streamed_put(store: LocalStorage) -> None:
    await store.put(KEY, chunks(b"abc", b"", b"def"))
    assert await read_all(store, KEY) == b"abcdef"


@pytest.mark.parametrize("key", [
    "..", "../escape", "originals/../../escape", "a/../b", "/etc/passwd", "originals//x", "originals/x/",
    "", ".hidden", "a/.tmp-123", "a\\..\\b", "C:\\x", "a/b\x00c", "a b", "原件/x", "x" * 513,
    "/".join("a" * 9),
])
async def test_keys_that_could_leave_the_root_are_refused(store: LocalStorage, tmp_path: Path, key: str) -> None:
    with pytest.raises(InvalidKey):
        check_key(key)
    with pytest.raises(InvalidKey):
        await store.put(key, b"x")
    with pytest.raises(InvalidKey):
        await store.exists(key)
    with pytest.raises(InvalidKey):
        await store.delete(key)
    with pytest.raises(InvalidKey):
        await read_all(store, key)
    assert all_files(tmp_path) == []


async def test_a_symlinked_directory_cannot_lead_out_of_the_root(store: LocalStorage, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"not yours")
    store.root.mkdir(parents=True)
    (store.root / "originals").symlink_to(outside, target_is_directory=True)
    with pytest.raises(InvalidKey):
        await read_all(store, "originals/secret")
    with pytest.raises(InvalidKey):
        await store.put("originals/planted", b"x")
    assert sorted(p.name for p in outside.iterdir()) == ["secret"]


async def test_successful_writes_leave_no_temp_files(store: LocalStorage) -> None:
    await store.put(KEY, b"bytes")
    await store.put(KEY + "-2", chunks(b"stream", b"ed"))
    assert all_files(store.root) == [KEY, KEY + "-2"]


async def test_a_failed_stream_keeps_the_previous_object_and_leaves_no_temp_file(store: LocalStorage) -> None:
    await store.put(KEY, b"previous")
    with pytest.raises(ConnectionResetError):
        await store.put(KEY, chunks(b"half", b"of it", fail_after=1))
    assert await read_all(store, KEY) == b"previous"
    assert all_files(store.root) == [KEY]


async def test_a_failed_rename_leaves_no_temp_file(store: LocalStorage, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_replace(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        await store.put(KEY, b"bytes")
    assert all_files(store.root) == []


async def test_writes_are_fsynced_before_the_rename_and_off_the_event_loop(
    store: LocalStorage, monkeypatch: pytest.MonkeyPatch,
) -> None:
    loop_thread = threading.get_ident()
    calls: list[tuple[str, int]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        calls.append(("fsync", threading.get_ident()))
        real_fsync(fd)

    def replace(src: str, dst: str) -> None:
        calls.append(("replace", threading.get_ident()))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    await store.put(KEY, b"bytes")
    await store.put(KEY, chunks(b"a", b"b"))
    names = [name for name, _ in calls]
    # file fsync, rename, directory fsync - twice
    assert names == ["fsync", "replace", "fsync"] * 2
    assert all(thread != loop_thread for _, thread in calls)


def test_in_data_dir_uses_the_uploads_directory(tmp_path: Path) -> None:
    assert LocalStorage.in_data_dir(tmp_path).root == tmp_path / "uploads"
