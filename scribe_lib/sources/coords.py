"""Coordinate checks: WGS84 or British National Grid columns to BNG metres, vectorised.

Empty coordinates and ``0,0`` mean "no location" (police.uk's rule). Swapped
axes, metres in degree columns (and the reverse), points off the grid or
outside Great Britain, and points outside the partnership area are rejected
with a plain-English reason (``REASONS``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from .. import geo
from .columns import numeric, text
from .rejects import REASONS, Rejects

__all__ = ["check_area", "check_bng", "check_lonlat", "pair"]

# A generous box around Great Britain and its islands (OSTN15 coverage).
_GB_LON = (-9.0, 2.5)
_GB_LAT = (49.0, 61.5)


def check_lonlat(lon_s: pd.Series, lat_s: pd.Series, rej: Rejects, fields: tuple[str, str]):
    """Validate WGS84 columns; return (lon, lat, easting, northing), NaN = no location.

    Empty coordinates and (0, 0) (police.uk's rule for unmappable points) mean
    no location. Swapped axes and BNG metres in the degree columns are rejected.
    """
    lon, lat, pf, both = _numbers(lon_s, lat_s, rej, fields)
    with np.errstate(invalid="ignore"):
        bng = (
            (lon >= 0)
            & (lon <= 700_000)
            & (lat >= 0)
            & (lat <= 1_300_000)
            & ((lon > 180) | (lat > 90))
        )
        rej.add(bng, pf, REASONS["bng_in_lonlat"], both)
        rej.add((np.abs(lat) > 90) | (np.abs(lon) > 180), pf, REASONS["impossible"], both)
        in_lon = (lon >= _GB_LON[0]) & (lon <= _GB_LON[1])
        in_lat = (lat >= _GB_LAT[0]) & (lat <= _GB_LAT[1])
        swapped = ~in_lon & ~in_lat & (lat >= _GB_LON[0]) & (lat <= _GB_LON[1])
        swapped &= (lon >= _GB_LAT[0]) & (lon <= _GB_LAT[1])
        rej.add(swapped, pf, REASONS["swapped"], both)
        has = np.isfinite(lon) & np.isfinite(lat) & ~rej.bad
        rej.add(has & ~(in_lon & in_lat), pf, REASONS["outside_gb"], both)
    e, n = _convert(geo.to_bng, lon, lat, rej, pf, REASONS["outside_gb"], both)
    return lon, lat, e, n


def check_bng(e_s: pd.Series, n_s: pd.Series, rej: Rejects, fields: tuple[str, str]):
    """Validate British National Grid columns; return (lon, lat, easting, northing).

    Empty values and (0, 0) mean no location; degrees in metre columns and points
    off the grid are rejected. lon/lat come from OSTN15.
    """
    rej.add(_sci_lossy(e_s), fields[0], REASONS["sci"], e_s)
    rej.add(_sci_lossy(n_s), fields[1], REASONS["sci"], n_s)
    e, n, pf, both = _numbers(e_s, n_s, rej, fields)
    with np.errstate(invalid="ignore"):
        deg = (np.abs(e) <= 180) & (np.abs(n) <= 90)
        rej.add(deg, pf, REASONS["lonlat_in_bng"], both)
        off = (e < 0) | (e > 700_000) | (n < 0) | (n > 1_300_000)
        rej.add(off, pf, REASONS["outside_bng"], both)
    lon, lat = _convert(geo.to_wgs84, e, n, rej, pf, REASONS["outside_bng"], both)
    return lon, lat, e, n


def _numbers(x_s: pd.Series, y_s: pd.Series, rej: Rejects, fields: tuple[str, str]):
    """Parse a coordinate pair; return (x, y, pair field, pair values), NaN = no location.

    Non-numeric values and a half-filled pair are rejected; (0, 0) means no location.
    """
    x, x_empty, x_bad = numeric(x_s)
    y, y_empty, y_bad = numeric(y_s)
    both = pair(x_s, y_s)
    pf = f"{fields[0]},{fields[1]}"
    rej.add(x_bad, fields[0], REASONS["non_numeric"], x_s)
    rej.add(y_bad, fields[1], REASONS["non_numeric"], y_s)
    rej.add(x_empty ^ y_empty, pf, REASONS["half"], both)
    zero = (x == 0) & (y == 0)
    x[zero] = np.nan
    y[zero] = np.nan
    return x, y, pf, both


def _convert(convert, x: np.ndarray, y: np.ndarray, rej: Rejects, pf: str, reason: str, both):
    """``convert`` the points not rejected yet; return the converted (a, b), NaN = none.

    A point ``convert`` cannot place is rejected with ``reason``; ``x``, ``y`` are set to
    NaN (in place) wherever no converted point is kept.
    """
    has = np.isfinite(x) & np.isfinite(y) & ~rej.bad
    a = np.full(len(x), np.nan)
    b = np.full(len(x), np.nan)
    if has.any():
        a[has], b[has] = _each_point_once(convert, x[has], y[has])
        rej.add(has & np.isnan(a), pf, reason, both)
    keep = has & np.isfinite(a)
    x[~keep] = np.nan
    y[~keep] = np.nan
    return a, b


def _each_point_once(convert, x: np.ndarray, y: np.ndarray):
    """``convert(x, y)``, computed once per distinct point when points repeat.

    police.uk snaps crimes to a limited set of anonymised map points and fire data
    is rounded to 50 m, so real files repeat points a lot; a sample decides.
    """
    sample = x[:2000] + 1j * y[:2000]
    if len(x) < 4000 or len(pd.unique(sample)) > len(sample) // 2:
        return convert(x, y)
    codes, uniq = pd.factorize(x + 1j * y)
    a, b = convert(uniq.real, uniq.imag)
    return a[codes], b[codes]


def _sci_lossy(s: pd.Series) -> np.ndarray:
    """Excel's scientific notation that lost digits.

    ``5.05E+05`` shows 3 significant digits of a 6-digit number: the metres are
    lost (rejected). ``5.04981E+05`` kept every digit and is repaired simply by
    reading it as a number.
    """
    t = text(s)
    m = t.str.extract(r"^(\d+)(?:\.(\d*))?[eE]\+?(\d+)$")
    hit = m[0].notna().to_numpy(bool)
    if not hit.any():
        return hit
    frac = m[1].fillna("").str.len().to_numpy("int64")
    exp = pd.to_numeric(m[2], errors="coerce").fillna(0).to_numpy("int64")
    return hit & (frac < exp)  # fewer decimals than the exponent: units were lost


def pair(a: pd.Series, b: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Two columns whose verbatim text is quarantined together as ``a,b``."""
    return (a, b)


def check_area(area, e: np.ndarray, n: np.ndarray, rej: Rejects, field: str, values) -> None:
    """Reject located points outside ``area`` (shapely geometry, EPSG:27700).

    Points on the boundary count as inside.
    """
    if area is None:
        return
    has = np.isfinite(e) & np.isfinite(n) & ~rej.bad
    if not has.any():
        return
    shapely.prepare(area)
    inside = np.zeros(len(e), bool)
    inside[has] = shapely.intersects_xy(area, e[has], n[has])
    rej.add(has & ~inside, field, REASONS["area"], values)
