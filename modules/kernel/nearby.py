"""What "the same place" means when intake looks for possible duplicates: a box of about 500 m around a point."""

from __future__ import annotations

__all__ = ("within_500m",)

# Half a box side in degrees: 0.0045 of latitude is about 500 m anywhere; 0.0055 of longitude is about 500 m at
# China's middle latitudes. A box, not a distance, so the (latitude, longitude) index answers it.
_LAT, _LON = 0.0045, 0.0055


def within_500m(lat: str, lon: str) -> str:
    """SQL: the row's `latitude` and `longitude` lie within about 500 m of the point given as `lat` and `lon`."""
    return (f"latitude between {lat} - {_LAT} and {lat} + {_LAT} "
            f"and longitude between {lon} - {_LON} and {lon} + {_LON}")
