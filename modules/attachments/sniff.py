"""A file's real type from its leading bytes (magic numbers); never from its name or the client's Content-Type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import msgspec

__all__ = ("SNIFF_BYTES", "Category", "SniffedType", "sniff")

Category = Literal["image", "audio", "video", "document"]

# Every signature below is decided within this many leading bytes, so callers may pass just a prefix.
SNIFF_BYTES = 64


class SniffedType(msgspec.Struct, frozen=True):
    """What the bytes are: IANA media type, broad category, and the extension we would give the file."""

    media_type: str
    category: Category
    extension: str


JPEG = SniffedType("image/jpeg", "image", "jpg")
PNG = SniffedType("image/png", "image", "png")
WEBP = SniffedType("image/webp", "image", "webp")
HEIC = SniffedType("image/heic", "image", "heic")
HEIF = SniffedType("image/heif", "image", "heif")
PDF = SniffedType("application/pdf", "document", "pdf")
MP3 = SniffedType("audio/mpeg", "audio", "mp3")
M4A = SniffedType("audio/mp4", "audio", "m4a")
AAC = SniffedType("audio/aac", "audio", "aac")
AMR = SniffedType("audio/amr", "audio", "amr")
AMR_WB = SniffedType("audio/amr-wb", "audio", "awb")
WAV = SniffedType("audio/wav", "audio", "wav")
OGG = SniffedType("audio/ogg", "audio", "ogg")
OPUS = SniffedType("audio/ogg", "audio", "opus")
MP4 = SniffedType("video/mp4", "video", "mp4")
MOV = SniffedType("video/quicktime", "video", "mov")

# ISO base media file brands (ISO/IEC 14496-12 ftyp box) that name the file's type.
_FTYP_BRANDS: dict[bytes, SniffedType] = {
    **dict.fromkeys((b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"), HEIC),
    **dict.fromkeys((b"mif1", b"msf1"), HEIF),
    **dict.fromkeys((b"M4A ", b"M4B "), M4A),
    **dict.fromkeys((b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"MSNV"), MP4),
    b"qt  ": MOV,
}


def _ftyp(head: bytes) -> SniffedType | None:
    if head[4:8] != b"ftyp":
        return None
    size = int.from_bytes(head[:4], "big")
    if size < 16 or size % 4:
        return None
    major = _FTYP_BRANDS.get(head[8:12])
    if major is HEIF:
        # mif1/msf1 is the generic HEIF brand: an Apple photo lists heic among its compatible brands, while an
        # AVIF image (a codec we do not take) lists avif.
        compatible = {head[i:i + 4] for i in range(16, min(size, len(head)) - 3, 4)}
        if compatible & {b"avif", b"avis"}:
            return None
        return HEIC if any(_FTYP_BRANDS.get(brand) is HEIC for brand in compatible) else HEIF
    return major


def _riff(head: bytes) -> SniffedType | None:
    if head[:4] != b"RIFF":
        return None
    return {b"WEBP": WEBP, b"WAVE": WAV}.get(head[8:12])


def _ogg(head: bytes) -> SniffedType | None:
    # The first page of a stream has a 27-byte header, one lacing byte per segment, then the codec's ident packet.
    if head[:4] != b"OggS" or len(head) < 28:
        return None
    packet = head[27 + head[26]:]
    if packet.startswith(b"OpusHead"):
        return OPUS
    if packet.startswith(b"\x01vorbis"):
        return OGG
    return None


def _mpeg_audio(head: bytes) -> SniffedType | None:
    if head[:3] == b"ID3" and len(head) >= 10 and head[3] in (2, 3, 4) and head[4] != 0xFF:
        return MP3
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return None
    version, layer = (head[1] >> 3) & 0b11, (head[1] >> 1) & 0b11
    if version == 0b01:  # reserved
        return None
    if layer == 0b00:
        # ADTS AAC: a 12-bit all-ones sync, layer bits 00 (reserved in MPEG audio) and a valid sampling index.
        return AAC if head[1] & 0xF6 == 0xF0 and (head[2] >> 2) & 0xF < 13 else None
    bitrate, rate = head[2] >> 4, (head[2] >> 2) & 0b11
    # Only layer III is MP3; reject the reserved/forbidden field values so random bytes after 0xFFE rarely pass.
    return MP3 if layer == 0b01 and bitrate not in (0, 0xF) and rate != 0b11 else None


def _prefix(magic: bytes, kind: SniffedType) -> Callable[[bytes], SniffedType | None]:
    return lambda head: kind if head.startswith(magic) else None


# Checked in order; each entry looks only at the first SNIFF_BYTES bytes.
_SIGNATURES: tuple[Callable[[bytes], SniffedType | None], ...] = (
    _prefix(b"\xff\xd8\xff", JPEG),
    _prefix(b"\x89PNG\r\n\x1a\n", PNG),
    _prefix(b"%PDF-", PDF),
    _prefix(b"#!AMR\n", AMR),
    _prefix(b"#!AMR-WB\n", AMR_WB),
    _riff,
    _ftyp,
    _ogg,
    _mpeg_audio,
)


def sniff(data: bytes | bytearray | memoryview) -> SniffedType | None:
    """The type the leading bytes prove, or None when they match nothing we accept."""
    head = bytes(data[:SNIFF_BYTES])
    for signature in _SIGNATURES:
        if (kind := signature(head)) is not None:
            return kind
    return None
