"""Capture time and location recorded in MP4/MOV/M4A files (ISO base media boxes), read without decoding media.

Phones put the place in `moov/udta/©xyz` (Android, older iOS), `moov/meta` keys
`com.apple.quicktime.location.ISO6709` (iOS) or a 3GPP `loci` box. Whether a file carries one decides whether
its original may be shown to the public, so anything we cannot read counts as carrying one.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import msgspec

from modules.attachments.geo import Location, from_iso6709

__all__ = ("MediaFacts", "inspect_media")

_EPOCH_1904 = datetime(1904, 1, 1, tzinfo=UTC)
# Cameras without a set clock write 0 or small values; nothing we handle was recorded before this.
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_MAX_DEPTH = 6
# For the whole file, across every level: nesting must not multiply the work (4,096 per level cost 5.4 s of CPU
# for a crafted 32 MiB file). Real recordings have a few hundred boxes in moov.
_MAX_BOXES = 4096
_CONTAINERS = {b"moov", b"trak", b"udta", b"mdia", b"minf", b"edts"}
# Any of these anywhere in moov (e.g. a location in trak/mdia/udta, where no phone we know writes one) means the
# file may carry a place we did not read: the public is not served the original.
_LOCATION_MARKERS = (b"\xa9xyz", b"loci", b"location", b"ISO6709", b"GPS")
_LOCATION_BOXES = {b"\xa9xyz", b"loci"}
_LOCATION_KEY = b"com.apple.quicktime.location.ISO6709"
_CREATION_KEY = b"com.apple.quicktime.creationdate"


class MediaFacts(msgspec.Struct, frozen=True):
    """What a recording says about itself; `carries_location` is also true when its boxes could not be read."""

    captured_at: datetime | None
    location: Location | None
    carries_location: bool


class _Malformed(ValueError):
    pass


class _Facts:
    def __init__(self) -> None:
        self.boxes = 0
        self.created: datetime | None = None
        self.apple_created: datetime | None = None
        self.location: Location | None = None
        self.marked = False

    def place(self, text: str) -> None:
        self.marked = True
        self.location = self.location or from_iso6709(text)


def inspect_media(data: bytes | memoryview) -> MediaFacts:
    """Capture time and location of an ISO base media file; unreadable structure means "may carry a location"."""
    facts = _Facts()
    view = memoryview(data)
    try:
        for kind, start, end in _boxes(view, 0, len(view), facts):
            if kind == b"moov":
                _walk(view, start, end, facts, depth=1)
                payload = bytes(view[start:end])
                if any(marker in payload for marker in _LOCATION_MARKERS):
                    facts.marked = True
    except _Malformed:
        return MediaFacts(captured_at=None, location=None, carries_location=True)
    return MediaFacts(
        captured_at=facts.apple_created or facts.created, location=facts.location,
        carries_location=facts.marked or facts.location is not None,
    )


def _boxes(view: memoryview, start: int, end: int, facts: _Facts) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, box end) of each box in [start, end), counted against the file's box budget."""
    pos = start
    while end - pos >= 8:
        facts.boxes += 1
        if facts.boxes > _MAX_BOXES:
            raise _Malformed("too many boxes")
        size, kind, header = int.from_bytes(view[pos:pos + 4], "big"), bytes(view[pos + 4:pos + 8]), 8
        if size == 1:
            if end - pos < 16:
                raise _Malformed("truncated large size")
            size, header = int.from_bytes(view[pos + 8:pos + 16], "big"), 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise _Malformed(f"box {kind!r} overruns its parent")
        yield kind, pos + header, pos + size
        pos += size


def _walk(view: memoryview, start: int, end: int, facts: _Facts, depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise _Malformed("boxes nested too deep")
    for kind, body, stop in _boxes(view, start, end, facts):
        if kind in _CONTAINERS:
            _walk(view, body, stop, facts, depth + 1)
        elif kind == b"mvhd":
            facts.created = _mvhd_time(view[body:stop])
        elif kind == b"\xa9xyz":
            # Payload: 16-bit string length, 16-bit language, then the ISO 6709 text.
            length = int.from_bytes(view[body:body + 2], "big")
            facts.place(bytes(view[body + 4:min(stop, body + 4 + length)]).decode("utf-8", "replace"))
        elif kind in _LOCATION_BOXES:
            facts.marked = True
        elif kind == b"meta":
            # QuickTime's meta is a plain container; MP4's is a full box with 4 bytes of version and flags first.
            offset = 0 if bytes(view[body + 4:body + 8]) == b"hdlr" else 4
            _meta(view, body + offset, stop, facts)


def _mvhd_time(payload: memoryview) -> datetime | None:
    wide = len(payload) >= 12 and payload[0] == 1
    raw = payload[4:12] if wide else payload[4:8]
    if len(raw) not in (4, 8):
        raise _Malformed("truncated mvhd")
    try:
        moment = _EPOCH_1904 + timedelta(seconds=int.from_bytes(raw, "big"))
    except OverflowError:  # all ones in a 64-bit field: past year 9999, no time at all
        return None
    return moment if _EARLIEST <= moment <= datetime.now(UTC) + timedelta(days=1) else None


def _meta(view: memoryview, start: int, end: int, facts: _Facts) -> None:
    keys: list[bytes] = []
    values: dict[int, bytes] = {}
    for kind, body, stop in _boxes(view, start, end, facts):
        if kind == b"keys":
            # Full box header, entry count, then (size, namespace, name) entries.
            for _, key_body, key_stop in _boxes(view, body + 8, stop, facts):
                keys.append(bytes(view[key_body:key_stop]))
        elif kind == b"ilst":
            for item, item_body, item_stop in _boxes(view, body, stop, facts):
                for data_kind, data_body, data_stop in _boxes(view, item_body, item_stop, facts):
                    if data_kind != b"data":
                        continue
                    value = bytes(view[data_body + 8:data_stop])  # after 4 bytes of type and 4 of locale
                    if item == b"\xa9xyz":  # MP4 (iTunes-style) metadata names its items directly
                        facts.place(value.decode("utf-8", "replace"))
                    values[int.from_bytes(item, "big")] = value
    for index, name in enumerate(keys, start=1):
        text = values.get(index, b"").decode("utf-8", "replace")
        if name == _LOCATION_KEY:
            facts.place(text)
        elif b".location." in name:
            facts.marked = True
        elif name == _CREATION_KEY:
            facts.apple_created = _iso_time(text)


def _iso_time(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo is not None and moment >= _EARLIEST else None
