"""Images with Pillow: capture time and GPS location from EXIF, and a public copy with every piece of metadata gone.

Decoding untrusted images is the risky part of this layer, so: Pillow may only use the decoder of the type the
bytes were sniffed as (never EPS, which would run Ghostscript), images above MAX_PIXELS are refused before
their pixels are decoded, and at most IMAGE_WORKERS images are decoded at a time per process (a 50 MP RGB image
needs about 150 MB), in threads of their own so the event loop and the default thread pool stay free.
"""

from __future__ import annotations

import asyncio
import io
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any

import msgspec
from PIL import ExifTags, Image, ImageOps

from modules.attachments.errors import AttachmentRejected
from modules.attachments.geo import Location, location
from modules.attachments.sniff import SniffedType
from modules.clocks.calendar import SHANGHAI

try:  # HEIC/HEIF needs the optional pillow-heif plugin; without it such photos get no public copy.
    from pillow_heif import register_heif_opener
except ImportError:  # pragma: no cover - depends on the environment
    pass
else:  # pragma: no cover
    register_heif_opener()

__all__ = ("IMAGE_WORKERS", "JPEG_QUALITY", "MAX_PIXELS", "ImageFacts", "can_decode", "inspect_image", "process_image")

MAX_PIXELS = 50_000_000
# Pillow warns above this and raises above twice it, at open, from the header alone; we refuse above it too.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
JPEG_QUALITY = 92
IMAGE_WORKERS = 2

# Sniffed type -> the only Pillow decoder allowed to read it (a JPEG with extra frames opens as MPO).
_DECODERS: dict[str, tuple[str, ...]] = {
    "image/jpeg": ("JPEG",), "image/png": ("PNG",), "image/webp": ("WEBP",),
    "image/heic": ("HEIF",), "image/heif": ("HEIF",),
}
_KEEP_MODES = {"image/jpeg": {"RGB", "L", "CMYK"}, "image/png": None, "image/webp": {"RGB", "RGBA"}}
_EXIF_TIME = re.compile(r"(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_EXIF_OFFSET = re.compile(r"([+-])(\d{2}):(\d{2})")
_pool: ThreadPoolExecutor | None = None


class ImageFacts(msgspec.Struct, frozen=True):
    """What an image records about itself, and its metadata-free public copy (None when undecodable here)."""

    public: bytes | None
    public_media_type: str | None
    captured_at: datetime | None
    location: Location | None


def can_decode(media_type: str) -> bool:
    """Whether this process has a Pillow decoder for the sniffed image type (HEIC only with pillow-heif)."""
    Image.init()
    return any(name in Image.OPEN for name in _DECODERS.get(media_type, ()))


async def process_image(data: bytes, sniffed: SniffedType) -> ImageFacts:
    """`inspect_image` in the image worker threads."""
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(IMAGE_WORKERS, thread_name_prefix="jianwu-image")
    return await asyncio.get_running_loop().run_in_executor(_pool, inspect_image, data, sniffed)


def inspect_image(data: bytes, sniffed: SniffedType) -> ImageFacts:
    """Capture time, location and public copy of an image; AttachmentRejected("unreadable_image") if it is not one."""
    if not can_decode(sniffed.media_type):
        return ImageFacts(public=None, public_media_type=None, captured_at=None, location=None)
    try:
        with Image.open(io.BytesIO(data), formats=_DECODERS[sniffed.media_type]) as img:
            width, height = img.size
            if width * height > MAX_PIXELS:
                raise AttachmentRejected(
                    "unreadable_image", f"{width}x{height} exceeds the {MAX_PIXELS // 1_000_000} MP limit",
                )
            img.load()  # decode now: a truncated or corrupt file fails here, not later
            captured_at, place = _metadata(img)
            public, public_type = _public_copy(img, sniffed.media_type)
    except AttachmentRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise AttachmentRejected("unreadable_image", f"image too large to decode safely: {exc}") from exc
    except Exception as exc:  # Pillow's decoders raise many types on malformed input; all mean "not an image"
        raise AttachmentRejected("unreadable_image", f"not a readable {sniffed.media_type} image") from exc
    return ImageFacts(public=public, public_media_type=public_type, captured_at=captured_at, location=place)


def _metadata(img: Image.Image) -> tuple[datetime | None, Location | None]:
    try:
        exif = img.getexif()
        return _captured_at(exif), _gps_location(exif.get_ifd(ExifTags.IFD.GPSInfo))
    except Exception:  # noqa: BLE001 - broken EXIF only means the image claims no time or place; the pixels are still fine
        return None, None


def _captured_at(exif: Image.Exif) -> datetime | None:
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    candidates = (
        (sub.get(ExifTags.Base.DateTimeOriginal), sub.get(ExifTags.Base.OffsetTimeOriginal)),
        (sub.get(ExifTags.Base.DateTimeDigitized), sub.get(ExifTags.Base.OffsetTimeDigitized)),
        (exif.get(ExifTags.Base.DateTime), sub.get(ExifTags.Base.OffsetTime)),
    )
    for stamp, offset in candidates:
        if (moment := _exif_datetime(stamp, offset)) is not None:
            return moment
    return None


def _exif_datetime(stamp: Any, offset: Any) -> datetime | None:
    match = _EXIF_TIME.match(_text(stamp))
    if not match:
        return None
    year, month, day, hour, minute, second = (int(part) for part in match.groups())
    try:
        naive = datetime(year, month, day, hour, minute, second)  # "0000:00:00 00:00:00" fails here
    except ValueError:
        return None
    # EXIF times are local wall-clock time; without an offset tag we assume the device was in China.
    tz = SHANGHAI
    if offset_match := _EXIF_OFFSET.fullmatch(_text(offset)):
        sign, hours, minutes = offset_match.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes))
        if delta < timedelta(hours=15):
            tz = timezone(-delta if sign == "-" else delta)
    return naive.replace(tzinfo=tz)


def _gps_location(gps: dict[int, Any]) -> Location | None:
    lat = _degrees(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef), "N", "S")
    lon = _degrees(gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef), "E", "W")
    return None if lat is None or lon is None else location(lat, lon)


def _degrees(value: Any, ref: Any, positive: str, negative: str) -> float | None:
    # A missing or odd hemisphere reference would put the point on the wrong side of the globe: no location.
    hemisphere = _text(ref).upper()
    if hemisphere not in (positive, negative):
        return None
    parts = value if isinstance(value, (tuple, list)) else (value,)
    if not 1 <= len(parts) <= 3:
        return None
    try:
        degrees = sum(float(part) / unit for part, unit in zip(parts, (1.0, 60.0, 3600.0), strict=False))
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return -degrees if hemisphere == negative else degrees


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return value.strip("\x00 ") if isinstance(value, str) else ""


def _public_copy(img: Image.Image, media_type: str) -> tuple[bytes, str]:
    # Rotate the pixels as the Orientation tag says, since the tag itself is about to go.
    upright = ImageOps.exif_transpose(img)
    out_type = media_type if media_type in _KEEP_MODES else "image/jpeg"  # HEIC is published as JPEG
    modes = _KEEP_MODES[out_type]
    if modes is not None and upright.mode not in modes:
        upright = upright.convert("RGBA" if out_type == "image/webp" and _has_alpha(upright) else "RGB")
    # Only what rendering needs survives: the colour profile (colour data, not about the capture) and PNG
    # transparency. Nothing else in info is written: no EXIF, GPS, XMP, comments, PNG text chunks, MPO frames.
    options: dict[str, Any] = {key: upright.info[key] for key in ("icc_profile", "transparency") if key in upright.info}
    if out_type != "image/png":
        options.pop("transparency", None)
    upright.info = {}
    buffer = io.BytesIO()
    if out_type == "image/png":
        upright.save(buffer, "PNG", **options)
    elif out_type == "image/webp":
        upright.save(buffer, "WEBP", quality=JPEG_QUALITY, **options)
    else:
        upright.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True, **options)
    return buffer.getvalue(), out_type


def _has_alpha(img: Image.Image) -> bool:
    return img.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in img.info
