"""WGS84 <-> British National Grid with OSTN15, the official transformation.

``convertbng`` embeds the Ordnance Survey OSTN15 grid, so conversions are
exact to the millimetre against the OS test data. ``pyproj`` without the
OSTN15 grid file silently falls back to a Helmert approximation (~2 m off),
so it is deliberately not used here.

WGS84 is treated as ETRS89 (they differ by well under a metre in Britain,
less than the rounding of any partner's coordinates).
"""

from __future__ import annotations

import numpy as np
from convertbng import cutil as _cutil

__all__ = ["to_bng", "to_wgs84"]


def _arrays(a, b) -> tuple[np.ndarray, np.ndarray]:
    x = np.ascontiguousarray(a, dtype="float64").reshape(-1)
    y = np.ascontiguousarray(b, dtype="float64").reshape(-1)
    if x.shape != y.shape:
        raise ValueError(f"coordinate arrays differ in length: {len(x)} and {len(y)}")
    return x, y


def to_bng(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS84 longitude/latitude (degrees) to BNG easting/northing (metres).

    Parameters
    ----------
    lon, lat : array-like of float
        Degrees. NaN stays NaN.

    Returns
    -------
    easting, northing : ndarray of float64
        EPSG:27700 metres (to the millimetre); NaN outside OSTN15 coverage.

    Examples
    --------
    >>> e, n = to_bng([-0.4668], [52.1359])  # Bedford
    >>> round(float(e[0]), -1), round(float(n[0]), -1)
    (505030.0, 249730.0)
    """
    x, y = _arrays(lon, lat)
    if len(x) == 0:
        return x.copy(), y.copy()
    e, n = _cutil.convert_bng(x, y)
    return np.asarray(e, "float64"), np.asarray(n, "float64")


def to_wgs84(easting, northing) -> tuple[np.ndarray, np.ndarray]:
    """Convert BNG easting/northing (metres) to WGS84 longitude/latitude (degrees).

    Parameters
    ----------
    easting, northing : array-like of float
        EPSG:27700 metres. NaN stays NaN.

    Returns
    -------
    lon, lat : ndarray of float64
        Degrees; NaN outside OSTN15 coverage.
    """
    x, y = _arrays(easting, northing)
    if len(x) == 0:
        return x.copy(), y.copy()
    lon, lat = _cutil.convert_lonlat(x, y)
    return np.asarray(lon, "float64"), np.asarray(lat, "float64")
