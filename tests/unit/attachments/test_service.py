"""ingest end to end against LocalStorage under tmp_path: what is stored, what is refused, what the public gets."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import ExifTags, Image

from modules.attachments.errors import AttachmentRejected
from modules.attachments.exif import can_decode
from modules.attachments.policy import MIB, AttachmentPolicy
from modules.attachments.service import StoredAttachment, ingest, read
from modules.attachments.storage import Body, LocalStorage
from tests.unit.attachments.files import ELF, JINSHAN, box, exif_with, jpeg, mp4

NOW = datetime(2026, 5, 14, 2, 30, tzinfo=UTC)
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(name="store")
def fx_store(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "uploads")


def stored_files(store: LocalStorage) -> list[str]:
    return sorted(str(p.relative_to(store.root)) for p in store.root.rglob("*") if p.is_file())


async def test_a_geotagged_jpeg_is_stored_whole_and_published_stripped(store: LocalStorage) -> None:
    original = jpeg(exif=exif_with(orientation=6), comment=b"secret note")
    result = await ingest(store, original, declared_name="C:\\DCIM\\现场.jpg", now=NOW)

    assert result.key.startswith("2026/05/") and len(result.key) == len("2026/05/") + 36
    assert (result.media_type, result.category, result.size) == ("image/jpeg", "image", len(original))
    assert (result.original_key, result.public_key) == (f"originals/{result.key}", f"public/{result.key}")
    assert result.public_source == result.public_key and result.public_media_type == "image/jpeg"
    assert result.declared_name == "现场.jpg"
    assert result.location is not None
    assert (result.location.lat, result.location.lon) == pytest.approx(JINSHAN)
    assert result.captured_at is not None and result.captured_at.isoformat() == "2025-09-26T10:11:12+08:00"

    # The original is byte for byte what was uploaded: its hash is the evidence's content hash.
    kept = await read(store, result.original_key)
    assert kept == original
    assert result.sha256 == hashlib.sha256(kept).hexdigest() == hashlib.sha256(original).hexdigest()
    with Image.open(io.BytesIO(kept)) as img:
        assert img.getexif().get_ifd(ExifTags.IFD.GPSInfo)

    public = await read(store, f"public/{result.key}")
    with Image.open(io.BytesIO(public)) as img:
        assert img.format == "JPEG" and img.size == (20, 40)
        assert not img.getexif()
        assert "exif" not in img.info and "comment" not in img.info and "xmp" not in img.info
    assert b"Exif" not in public and b"secret note" not in public
    assert stored_files(store) == sorted([result.original_key, f"public/{result.key}"])


async def test_the_result_round_trips_through_json_for_the_callers_table(store: LocalStorage) -> None:
    import msgspec

    result = await ingest(store, jpeg(exif=exif_with()), declared_name=None, now=NOW)
    assert msgspec.json.decode(msgspec.json.encode(result), type=StoredAttachment) == result


async def test_keys_are_partitioned_by_the_shanghai_month(store: LocalStorage) -> None:
    new_year_in_shanghai = datetime(2025, 12, 31, 16, 30, tzinfo=UTC)  # 00:30 on Jan 1 in Shanghai
    result = await ingest(store, PDF, declared_name=None, now=new_year_in_shanghai)
    assert result.key.startswith("2026/01/")
    other = await ingest(store, PDF, declared_name=None, now=new_year_in_shanghai)
    assert other.key != result.key


async def test_a_pdf_is_passed_through_as_is(store: LocalStorage) -> None:
    result = await ingest(store, PDF, declared_name="材料.pdf", now=NOW)
    assert (result.media_type, result.category) == ("application/pdf", "document")
    assert result.public_key is None and result.public_source == result.original_key
    assert (result.captured_at, result.location) == (None, None)
    assert await read(store, result.original_key) == PDF
    assert stored_files(store) == [result.original_key]


async def test_a_recording_is_public_only_when_it_carries_no_location(store: LocalStorage) -> None:
    plain = await ingest(store, mp4(), declared_name="clip.mp4", now=NOW)
    assert plain.category == "video" and plain.public_key is None
    assert plain.public_source == plain.original_key
    located = await ingest(store, mp4(box(b"udta", box(b"\xa9xyz", b"\x00\x12\x15\xc7+30.7417+121.3420/"))),
                           declared_name="clip.mp4", now=NOW)
    assert located.location is not None and located.public_source is None


@pytest.mark.parametrize(("data", "name", "code"), [
    pytest.param(ELF, "photo.jpg", "unsupported_type", id="executable renamed photo.jpg"),
    pytest.param(b"<html><script>alert(1)</script>", "scan.pdf", "unsupported_type", id="html named pdf"),
    pytest.param(b"", "empty.jpg", "empty", id="empty"),
    pytest.param(b"\xff\xd8\xff\xe0" + b"\x00" * 100, "broken.jpg", "unreadable_image", id="broken jpeg"),
])
async def test_refused_files_leave_nothing_stored(
    store: LocalStorage, data: bytes, name: str, code: str,
) -> None:
    with pytest.raises(AttachmentRejected) as rejected:
        await ingest(store, data, declared_name=name, now=NOW)
    assert rejected.value.code == code
    assert not store.root.exists() or stored_files(store) == []


async def test_size_limits_come_from_the_policy(store: LocalStorage) -> None:
    small = AttachmentPolicy(max_bytes_by_category={"document": 64}, allowed_media_types=frozenset({"application/pdf"}))
    with pytest.raises(AttachmentRejected) as rejected:
        await ingest(store, PDF + b" " * 64, declared_name=None, policy=small, now=NOW)
    assert rejected.value.code == "too_large"
    await ingest(store, PDF[:64], declared_name=None, policy=small, now=NOW)
    with pytest.raises(AttachmentRejected) as rejected:
        await ingest(store, jpeg(), declared_name=None, policy=small, now=NOW)
    assert rejected.value.code == "unsupported_type"


async def test_the_default_image_limit_is_20_mib(store: LocalStorage) -> None:
    # A real JPEG padded past 20 MiB after its end marker is still a JPEG, and too large.
    with pytest.raises(AttachmentRejected) as rejected:
        await ingest(store, jpeg() + b"\x00" * (20 * MIB), declared_name=None, now=NOW)
    assert rejected.value.code == "too_large"


class PublicCopyFails(LocalStorage):
    async def put(self, key: str, data: Body) -> None:
        if key.startswith("public/"):
            raise OSError("disk full")
        await super().put(key, data)


async def test_a_failed_public_copy_takes_the_original_with_it(tmp_path: Path) -> None:
    store = PublicCopyFails(tmp_path / "uploads")
    with pytest.raises(OSError, match="disk full"):
        await ingest(store, jpeg(exif=exif_with()), declared_name=None, now=NOW)
    assert stored_files(store) == []


@pytest.mark.skipif(can_decode("image/heic"), reason="pillow-heif installed: HEIC gets a public copy")
async def test_a_heic_we_cannot_strip_is_kept_but_never_public(store: LocalStorage) -> None:
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    result = await ingest(store, heic, declared_name="IMG_0001.HEIC", now=NOW)
    assert result.media_type == "image/heic"
    assert (result.public_key, result.public_source) == (None, None)
    assert stored_files(store) == [result.original_key]


async def test_a_large_recording_is_stored_from_its_file_without_being_copied_into_memory(tmp_path: Path) -> None:
    import tempfile
    import tracemalloc

    store = LocalStorage(tmp_path / "store")
    with tempfile.TemporaryFile() as spooled:
        spooled.write(mp4())
        chunk = b"\0" * (1024 * 1024)
        spooled.write((40 * len(chunk) + 8).to_bytes(4, "big") + b"mdat")
        for _ in range(40):
            spooled.write(chunk)
        spooled.flush()
        tracemalloc.start()
        try:
            stored = await ingest(store, spooled, declared_name="clip.mp4", now=NOW)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        spooled.seek(0)
        assert await read(store, stored.original_key) == spooled.read()
    assert stored.size > 40 * 1024 * 1024 and stored.media_type == "video/mp4"
    # A 40 MiB video costs a few one-MiB chunks in flight, not 40 MiB (it used to be read whole).
    assert peak < 8 * 1024 * 1024, peak
