"""Capture locations as recorded by the device: WGS-84 degrees (EXIF, ISO 6709), validated."""

from __future__ import annotations

import math
import re

import msgspec

__all__ = ("Location", "from_iso6709", "location")

# Decimal-degree form phones write: "+31.2304+121.4737+004.000/" (latitude 2 integer digits, longitude 3).
_ISO6709 = re.compile(r"([+-]\d{2}(?:\.\d+)?)([+-]\d{3}(?:\.\d+)?)")


class Location(msgspec.Struct, frozen=True):
    """A point in WGS-84 degrees; Chinese web maps use GCJ-02, so a map view must convert before plotting."""

    lat: float
    lon: float


def location(lat: float, lon: float) -> Location | None:
    """The point, or None when the numbers cannot be a place (NaN from a zero denominator, out of range, 0/0)."""
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    if lat == 0 and lon == 0:  # what devices without a fix write; nowhere near any procuratorate
        return None
    return Location(lat=lat, lon=lon)


def from_iso6709(text: str) -> Location | None:
    """The point an ISO 6709 decimal-degree string starts with, or None."""
    match = _ISO6709.match(text.strip())
    return location(float(match[1]), float(match[2])) if match else None
