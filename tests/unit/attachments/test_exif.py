"""Capture time and GPS from EXIF, the metadata-free public copy, and images Pillow must refuse."""

from __future__ import annotations

import io
import threading
from datetime import UTC, datetime, timedelta, timezone
from typing import cast

import pytest
from PIL import ExifTags, Image, PngImagePlugin

from modules.attachments import exif as exif_module
from modules.attachments.errors import AttachmentRejected
from modules.attachments.exif import MAX_PIXELS, ImageFacts, can_decode, inspect_image, process_image
from modules.attachments.sniff import SniffedType, sniff
from tests.unit.attachments.files import JINSHAN, exif_with, jpeg, png_header_only, split_image

CST = timezone(timedelta(hours=8))


def facts_of(data: bytes) -> ImageFacts:
    sniffed = sniff(data)
    assert sniffed is not None
    return inspect_image(data, sniffed)


def assert_no_metadata(public: bytes) -> None:
    with Image.open(io.BytesIO(public)) as img:
        assert not img.getexif()
        assert not {"exif", "xmp", "comment", "XML:com.adobe.xmp", "Description"} & set(img.info)
        assert getattr(img, "n_frames", 1) == 1
    # Not merely unparsed: no EXIF/XMP/GPS/comment bytes at all.
    for needle in (b"Exif\x00\x00", b"HUAWEI", b"Mate 60", b"<x:xmpmeta", b"secret note", b"GPS", b"MPF"):
        assert needle not in public, needle


def test_jpeg_capture_time_and_location_are_read() -> None:
    facts = facts_of(jpeg(exif=exif_with()))
    assert facts.location is not None
    assert (facts.location.lat, facts.location.lon) == pytest.approx(JINSHAN)
    assert facts.captured_at == datetime(2025, 9, 26, 10, 11, 12, tzinfo=CST)
    assert facts.captured_at.utcoffset() == timedelta(hours=8)


def test_southern_and_western_hemispheres_are_negative() -> None:
    facts = facts_of(jpeg(exif=exif_with(lat_ref="S", lon_ref="W")))
    assert facts.location is not None
    assert (facts.location.lat, facts.location.lon) == pytest.approx((-JINSHAN[0], -JINSHAN[1]))


def test_a_capture_time_without_offset_is_read_as_china_time_and_other_offsets_are_kept() -> None:
    assert facts_of(jpeg(exif=exif_with(offset=None))).captured_at == datetime(2025, 9, 26, 10, 11, 12, tzinfo=CST)
    utc = facts_of(jpeg(exif=exif_with(offset="-05:00"))).captured_at
    assert utc == datetime(2025, 9, 26, 15, 11, 12, tzinfo=UTC)


def test_an_image_without_exif_claims_no_time_or_place() -> None:
    facts = facts_of(jpeg())
    assert (facts.captured_at, facts.location) == (None, None)
    assert facts.public is not None


def test_a_missing_hemisphere_reference_gives_no_location_rather_than_a_guess() -> None:
    facts = facts_of(jpeg(exif=exif_with(lat_ref="")))
    assert facts.location is None
    assert facts.captured_at is not None


def test_a_blank_camera_clock_gives_no_capture_time() -> None:
    facts = facts_of(jpeg(exif=exif_with(taken="0000:00:00 00:00:00")))
    assert facts.captured_at is None
    assert facts.location is not None


def test_null_island_is_no_location() -> None:
    exif = exif_with()
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitude] = (0.0, 0.0, 0.0)
    gps[ExifTags.GPS.GPSLongitude] = (0.0, 0.0, 0.0)
    assert facts_of(jpeg(exif=exif)).location is None


def test_public_jpeg_has_no_metadata_at_all_and_is_upright() -> None:
    # Orientation 6: the camera stored the picture rotated; viewers turn it 90° clockwise to show it.
    original = jpeg(exif=exif_with(orientation=6), comment=b"secret note", xmp=b"<x:xmpmeta>GPS</x:xmpmeta>")
    with Image.open(io.BytesIO(original)) as img:  # the fixture really carries all of it
        assert img.getexif().get_ifd(ExifTags.IFD.GPSInfo) and "xmp" in img.info and "comment" in img.info
    facts = facts_of(original)
    assert facts.public_media_type == "image/jpeg"
    assert facts.public is not None
    assert_no_metadata(facts.public)
    with Image.open(io.BytesIO(facts.public)) as public:
        assert public.format == "JPEG"
        assert public.size == (20, 40)  # 40x20 stored, turned upright
        # Red was the stored left half: turned clockwise it is now the top.
        rgb = public.convert("RGB")
        top, bottom = cast(tuple[int, ...], rgb.getpixel((10, 5))), cast(tuple[int, ...], rgb.getpixel((10, 35)))
        assert top[0] > 200 and top[2] < 60, top
        assert bottom[2] > 200 and bottom[0] < 60, bottom


def test_public_jpeg_quality_is_92() -> None:
    # Pillow's quality 92 tables: the first luminance quantiser is 3 (quality 75 would give 8).
    facts = facts_of(jpeg(img=Image.effect_noise((64, 64), 60).convert("RGB"), exif=exif_with()))
    assert facts.public is not None
    with Image.open(io.BytesIO(facts.public)) as public:
        assert public.quantization[0][0] == 3  # type: ignore[attr-defined]


def test_public_png_drops_exif_and_text_chunks_but_keeps_transparency() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Description", "taken at the factory outfall")
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>GPS</x:xmpmeta>")
    img = split_image(mode="RGBA")
    img.putpixel((0, 0), (0, 0, 0, 0))
    out = io.BytesIO()
    img.save(out, "PNG", pnginfo=info, exif=exif_with())
    facts = facts_of(out.getvalue())
    assert facts.location is not None and facts.captured_at is not None
    assert facts.public is not None and facts.public_media_type == "image/png"
    assert_no_metadata(facts.public)
    with Image.open(io.BytesIO(facts.public)) as public:
        assert public.format == "PNG" and public.mode == "RGBA"
        assert cast(tuple[int, ...], public.getpixel((0, 0)))[3] == 0


def test_public_webp_drops_exif() -> None:
    out = io.BytesIO()
    split_image().save(out, "WEBP", exif=exif_with(), xmp=b"<x:xmpmeta>GPS</x:xmpmeta>")
    facts = facts_of(out.getvalue())
    assert facts.location is not None
    assert facts.public is not None and facts.public_media_type == "image/webp"
    assert_no_metadata(facts.public)


def test_a_multi_picture_jpeg_is_published_as_its_first_frame_only() -> None:
    # Phones append extra frames (depth maps, gain maps) with their own EXIF after the main picture.
    out = io.BytesIO()
    split_image().save(out, "MPO", save_all=True, append_images=[split_image()], exif=exif_with())
    facts = facts_of(out.getvalue())
    assert facts.public is not None
    assert_no_metadata(facts.public)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize(("data", "reason"), [
    pytest.param(jpeg(exif=exif_with())[:300], "not a readable", id="truncated jpeg"),
    pytest.param(b"\xff\xd8\xff\xe0" + b"\x00" * 200, "not a readable", id="jpeg magic then garbage"),
    pytest.param(b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "not a readable", id="png magic then garbage"),
    pytest.param(png_header_only(20_000, 20_000), "too large to decode safely", id="400 MP: bomb error"),
    pytest.param(png_header_only(8_000, 8_000), "MP limit", id="64 MP header: above our limit"),
])
def test_unreadable_and_bomb_images_are_rejected(data: bytes, reason: str) -> None:
    with pytest.raises(AttachmentRejected) as rejected:
        facts_of(data)
    assert rejected.value.code == "unreadable_image"
    assert reason in rejected.value.detail


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_the_pixel_limit_is_fifty_megapixels_exactly() -> None:
    assert Image.MAX_IMAGE_PIXELS == MAX_PIXELS == 50_000_000
    # 10000x5000 passes the size check and only then fails to decode its tiny pixel data; one row more does not.
    with pytest.raises(AttachmentRejected, match="not a readable"):
        facts_of(png_header_only(10_000, 5_000))
    with pytest.raises(AttachmentRejected, match="limit"):
        facts_of(png_header_only(10_000, 5_001))


def test_an_image_only_some_other_decoder_would_read_is_refused() -> None:
    # GIF bytes sniffed (wrongly, on purpose) as PNG: Pillow may use only the PNG decoder, so it is unreadable.
    out = io.BytesIO()
    split_image().save(out, "GIF")
    png = sniff(png_header_only(10, 10))
    assert png is not None
    with pytest.raises(AttachmentRejected) as rejected:
        inspect_image(out.getvalue(), png)
    assert rejected.value.code == "unreadable_image"


@pytest.mark.skipif(can_decode("image/heic"), reason="pillow-heif installed: HEIC is decoded like the others")
def test_heic_without_a_decoder_gets_no_public_copy_and_no_claims() -> None:
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    facts = facts_of(heic)
    assert (facts.public, facts.public_media_type, facts.captured_at, facts.location) == (None, None, None, None)


async def test_process_image_runs_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[int] = []
    real = exif_module.inspect_image

    def spy(data: bytes, sniffed: SniffedType) -> ImageFacts:
        threads.append(threading.get_ident())
        return real(data, sniffed)

    monkeypatch.setattr(exif_module, "inspect_image", spy)
    data = jpeg(exif=exif_with())
    facts = await process_image(data, SniffedType("image/jpeg", "image", "jpg"))
    assert facts.location is not None
    assert threads and threads[0] != threading.get_ident()
