"""Builders of real (or minimally valid) files for the attachment tests."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import ExifTags, Image

__all__ = (
    "ELF", "box", "exif_with", "jpeg", "mp4", "png_header_only", "quicktime_keys_meta", "split_image",
)

ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 200

# Jinshan procuratorate, roughly: 30°44'30.0"N 121°20'31.2"E.
JINSHAN_DMS = ((30.0, 44.0, 30.0), (121.0, 20.0, 31.2))
JINSHAN = (30 + 44 / 60 + 30 / 3600, 121 + 20 / 60 + 31.2 / 3600)


def split_image(size: tuple[int, int] = (40, 20), mode: str = "RGB") -> Image.Image:
    """Left half red, right half blue: shows which way a rotation went."""
    img = Image.new(mode, size, "red")
    img.paste(Image.new(mode, (size[0] // 2, size[1]), "blue"), (size[0] // 2, 0))
    return img


def exif_with(
    *, gps: bool = True, orientation: int | None = None, taken: str | None = "2025:09:26 10:11:12",
    offset: str | None = "+08:00", lat_ref: str = "N", lon_ref: str = "E",
) -> Image.Exif:
    """An EXIF block like a phone's: make, model, capture time, GPS IFD."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "HUAWEI"
    exif[ExifTags.Base.Model] = "Mate 60 Pro"
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    if taken is not None:
        sub[ExifTags.Base.DateTimeOriginal] = taken
    if offset is not None:
        sub[ExifTags.Base.OffsetTimeOriginal] = offset
    if gps:
        info = exif.get_ifd(ExifTags.IFD.GPSInfo)
        info[ExifTags.GPS.GPSLatitudeRef] = lat_ref
        info[ExifTags.GPS.GPSLatitude] = JINSHAN_DMS[0]
        info[ExifTags.GPS.GPSLongitudeRef] = lon_ref
        info[ExifTags.GPS.GPSLongitude] = JINSHAN_DMS[1]
    return exif


def jpeg(img: Image.Image | None = None, exif: Image.Exif | None = None, **extra: object) -> bytes:
    """A real JPEG, with the given EXIF and any other save options (comment, xmp...)."""
    out = io.BytesIO()
    (img or split_image()).save(out, "JPEG", quality=95, exif=exif if exif is not None else b"", **extra)
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims the given size, with a tiny IDAT: what a decompression bomb starts with."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = chunk(b"IDAT", zlib.compress(b"\x00" * 64))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + idat + chunk(b"IEND", b"")


def box(kind: bytes, *payload: bytes) -> bytes:
    """One ISO base media box."""
    body = b"".join(payload)
    return struct.pack(">I", 8 + len(body)) + kind + body


def mvhd(seconds_since_1904: int) -> bytes:
    return box(b"mvhd", b"\x00\x00\x00\x00", struct.pack(">II", seconds_since_1904, seconds_since_1904), b"\x00" * 88)


def quicktime_keys_meta(items: dict[bytes, bytes]) -> bytes:
    """A QuickTime `meta` box (hdlr, keys, ilst) as iOS writes it for location and creation date."""
    keys = box(b"keys", b"\x00" * 4, struct.pack(">I", len(items)), *(box(b"mdta", name) for name in items))
    ilst = box(b"ilst", *(
        box(struct.pack(">I", i), box(b"data", struct.pack(">I", 1), b"\x00" * 4, value))
        for i, value in enumerate(items.values(), start=1)
    ))
    return box(b"meta", box(b"hdlr", b"\x00" * 8, b"mdta", b"\x00" * 13), keys, ilst)


def mp4(*moov_children: bytes, brand: bytes = b"isom") -> bytes:
    """ftyp + mdat + moov (at the end, as phones write it)."""
    ftyp = box(b"ftyp", brand, b"\x00\x00\x02\x00", brand, b"mp41")
    return ftyp + box(b"mdat", b"\x00" * 4096) + box(b"moov", mvhd(3_841_000_000), *moov_children)
