"""Sniffing by magic numbers: each accepted format from bytes built here, and look-alikes that must not pass."""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image

from modules.attachments.sniff import SNIFF_BYTES, SniffedType, sniff
from tests.unit.attachments.files import ELF, box, jpeg, mp4


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    return box(b"ftyp", major, b"\x00\x00\x00\x00", *compatible) + box(b"mdat", b"\x00" * 16)


def ogg_first_page(packet: bytes) -> bytes:
    # Capture pattern, version, flags, granule, serial, sequence, checksum, 1 segment of len(packet) bytes.
    return b"OggS\x00\x02" + b"\x00" * 8 + b"\x01\x00\x00\x00" * 2 + b"\x00" * 4 + bytes([1, len(packet)]) + packet


def real(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(out, fmt)
    return out.getvalue()


MP3_FRAME = bytes([0xFF, 0xFB, 0x90, 0x64]) + b"\x00" * 413  # MPEG-1 layer III, 128 kbit/s, 44.1 kHz
ID3 = b"ID3\x04\x00\x00\x00\x00\x00\x0a" + b"\x00" * 10 + MP3_FRAME
ADTS = bytes([0xFF, 0xF1, 0x50, 0x80, 0x02, 0x1F, 0xFC]) + b"\x00" * 16  # AAC LC, 44.1 kHz, stereo


@pytest.mark.parametrize(("data", "media_type", "category", "extension"), [
    (jpeg(), "image/jpeg", "image", "jpg"),
    (real("PNG"), "image/png", "image", "png"),
    (real("WEBP"), "image/webp", "image", "webp"),
    (ftyp(b"heic", b"mif1", b"heic"), "image/heic", "image", "heic"),
    (ftyp(b"heix", b"mif1"), "image/heic", "image", "heic"),
    (ftyp(b"mif1", b"mif1", b"heic"), "image/heic", "image", "heic"),
    (ftyp(b"msf1", b"msf1"), "image/heif", "image", "heif"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "application/pdf", "document", "pdf"),
    (ID3, "audio/mpeg", "audio", "mp3"),
    (MP3_FRAME, "audio/mpeg", "audio", "mp3"),
    (ADTS, "audio/aac", "audio", "aac"),
    (ftyp(b"M4A ", b"M4A ", b"mp42", b"isom"), "audio/mp4", "audio", "m4a"),
    (b"#!AMR\n" + b"\x3c" * 32, "audio/amr", "audio", "amr"),
    (b"#!AMR-WB\n" + b"\x04" * 32, "audio/amr-wb", "audio", "awb"),
    (b"RIFF" + struct.pack("<I", 36) + b"WAVEfmt " + b"\x00" * 24, "audio/wav", "audio", "wav"),
    (ogg_first_page(b"OpusHead\x01\x02" + b"\x00" * 9), "audio/ogg", "audio", "opus"),
    (ogg_first_page(b"\x01vorbis" + b"\x00" * 23), "audio/ogg", "audio", "ogg"),
    (mp4(), "video/mp4", "video", "mp4"),
    (ftyp(b"mp42", b"mp42", b"isom"), "video/mp4", "video", "mp4"),
    (ftyp(b"qt  ", b"qt  "), "video/quicktime", "video", "mov"),
])
def test_each_accepted_format_is_recognised_from_its_bytes(
    data: bytes, media_type: str, category: str, extension: str,
) -> None:
    assert sniff(data) == SniffedType(media_type, category, extension)  # type: ignore[arg-type]
    # Only the leading bytes matter, so a caller holding a prefix gets the same answer.
    assert sniff(data[:SNIFF_BYTES]) == sniff(data)


@pytest.mark.parametrize("data", [
    pytest.param(ELF, id="elf executable"),
    pytest.param(b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 56, id="windows executable"),
    pytest.param(b"PK\x03\x04\x14\x00\x00\x00", id="zip / apk / docx"),
    pytest.param(b"#!/bin/sh\nrm -rf /\n", id="shell script"),
    pytest.param(b"<svg xmlns='http://www.w3.org/2000/svg'/>", id="svg (scriptable)"),
    pytest.param(b"<!DOCTYPE html><html>", id="html"),
    pytest.param(b"%!PS-Adobe-3.0 EPSF-3.0\n", id="eps (would reach ghostscript)"),
    pytest.param(b"GIF89a\x01\x00\x01\x00", id="gif not accepted"),
    pytest.param(b"RIFF\x24\x00\x00\x00AVI LIST", id="riff avi"),
    pytest.param(ftyp(b"mif1", b"mif1", b"avif"), id="avif under the generic heif brand"),
    pytest.param(ftyp(b"crx ", b"crx "), id="unknown ftyp brand"),
    pytest.param(ogg_first_page(b"\x80theora" + b"\x00" * 20), id="ogg theora video"),
    pytest.param(bytes([0xFF, 0xFB, 0xF0, 0x64]), id="mp3 sync with forbidden bitrate"),
    pytest.param(bytes([0xFF, 0xFB, 0x9C, 0x64]), id="mp3 sync with reserved sample rate"),
    pytest.param(bytes([0xFF, 0xEB, 0x90, 0x64]), id="mpeg sync with reserved version"),
    pytest.param(b"\xff\xd8", id="two bytes of jpeg"),
    pytest.param(b"", id="empty"),
    pytest.param(b"hello, this is a text file", id="text"),
])
def test_non_accepted_bytes_are_not_identified(data: bytes) -> None:
    assert sniff(data) is None


def test_type_comes_from_content_whatever_the_name() -> None:
    # sniff never sees a name; a PNG is a PNG and an executable is nothing, whatever they were called.
    assert sniff(real("PNG")).media_type == "image/png"  # type: ignore[union-attr]
    assert sniff(ELF) is None
