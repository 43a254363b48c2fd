"""Location and capture time in MP4/MOV/M4A boxes, and files whose boxes cannot be trusted."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta

import pytest

from modules.attachments.isobmff import inspect_media
from tests.unit.attachments.files import box, mp4, quicktime_keys_meta

MVHD_TIME = datetime(1904, 1, 1, tzinfo=UTC) + timedelta(seconds=3_841_000_000)


def xyz(text: bytes) -> bytes:
    return box(b"\xa9xyz", struct.pack(">HH", len(text), 0x15C7), text)


def test_a_recording_without_location_boxes_carries_none() -> None:
    facts = inspect_media(mp4(box(b"trak", box(b"tkhd", b"\x00" * 84))))
    assert (facts.location, facts.carries_location) == (None, False)
    assert facts.captured_at == MVHD_TIME
    assert facts.captured_at.year == 2025


def test_android_udta_xyz_location() -> None:
    facts = inspect_media(mp4(box(b"udta", xyz(b"+30.7417+121.3420/"))))
    assert facts.location is not None
    assert (facts.location.lat, facts.location.lon) == pytest.approx((30.7417, 121.3420))
    assert facts.carries_location


def test_ios_keys_location_and_creation_date_win_over_mvhd() -> None:
    meta = quicktime_keys_meta({
        b"com.apple.quicktime.location.accuracy.horizontal": b"4.7",
        b"com.apple.quicktime.location.ISO6709": b"+30.7417+121.3420+004.000/",
        b"com.apple.quicktime.creationdate": b"2025-09-26T10:11:12+0800",
    })
    facts = inspect_media(mp4(meta, brand=b"qt  "))
    assert facts.location is not None
    assert (facts.location.lat, facts.location.lon) == pytest.approx((30.7417, 121.3420))
    assert facts.captured_at == datetime(2025, 9, 26, 2, 11, 12, tzinfo=UTC)


def test_mp4_full_box_meta_with_xyz_item() -> None:
    ilst = box(b"ilst", box(b"\xa9xyz", box(b"data", b"\x00\x00\x00\x01", b"\x00" * 4, b"-33.8688+151.2093/")))
    meta = box(b"meta", b"\x00" * 4, box(b"hdlr", b"\x00" * 8, b"mdir", b"\x00" * 13), ilst)
    facts = inspect_media(mp4(box(b"udta", meta)))
    assert facts.location is not None
    assert (facts.location.lat, facts.location.lon) == pytest.approx((-33.8688, 151.2093))


@pytest.mark.parametrize("moov_child", [
    pytest.param(box(b"udta", box(b"loci", b"\x00" * 30)), id="3gpp loci box we do not decode"),
    pytest.param(box(b"udta", xyz(b"somewhere")), id="xyz text that is not iso 6709"),
    pytest.param(quicktime_keys_meta({b"com.apple.quicktime.location.name": b"Jinshan"}), id="other location key"),
])
def test_a_location_we_cannot_decode_still_counts_as_carried(moov_child: bytes) -> None:
    facts = inspect_media(mp4(moov_child))
    assert facts.location is None
    assert facts.carries_location


@pytest.mark.parametrize("data", [
    pytest.param(mp4()[:-10], id="moov cut short"),
    pytest.param(mp4() + struct.pack(">I", 1) + b"free", id="truncated 64-bit size"),
    pytest.param(mp4(box(b"udta", b"\x00\x00\x00\x04junk")), id="box smaller than its header"),
    pytest.param(mp4(b"".join(box(b"free") for _ in range(5000))), id="thousands of tiny boxes"),
])
def test_unreadable_structure_counts_as_carrying_a_location(data: bytes) -> None:
    facts = inspect_media(data)
    assert facts.carries_location
    assert (facts.location, facts.captured_at) == (None, None)


def test_an_unset_camera_clock_is_no_capture_time() -> None:
    data = mp4().replace(struct.pack(">II", 3_841_000_000, 3_841_000_000), b"\x00" * 8)
    assert inspect_media(data).captured_at is None


def test_an_all_ones_creation_time_is_no_time_not_an_error() -> None:
    moov = box(b"moov", box(b"mvhd", b"\x01\x00\x00\x00" + b"\xff" * 16 + b"\x00" * 96))
    facts = inspect_media(box(b"ftyp", b"isom\x00\x00\x00\x00") + moov)
    assert facts.captured_at is None


def test_nesting_does_not_multiply_the_box_budget() -> None:
    # 3,000 empty boxes at each of five levels: within a per-level limit, far beyond a per-file one.
    level = b""
    for kind in (b"udta", b"edts", b"minf", b"mdia", b"trak"):
        level = box(kind, level, b"".join(box(b"free") for _ in range(3000)))
    assert inspect_media(mp4(level)).carries_location  # unreadable: treated as carrying a location


def test_a_location_in_an_unusual_box_withholds_the_public_copy() -> None:
    facts = inspect_media(mp4(box(b"trak", box(b"mdia", box(b"udta", xyz(b"+30.7417+121.3420/"))))))
    assert facts.carries_location
    odd = inspect_media(mp4(box(b"trak", box(b"mdhd", b"\x00" * 20), box(b"uuid", b"loci" + b"\x00" * 30))))
    assert odd.carries_location
