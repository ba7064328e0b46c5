"""Any other partner, declared in YAML: no code (see docs/sources.md).

>>> reader = SOURCES.get("mapping")(partner="luton-housing", mapping="housing-asb.yml")  # doctest: +SKIP

The YAML names the partner file's columns for each SCRIBE field, the date
format(s), the coordinate reference system (EPSG:27700 or EPSG:4326) and a
category map onto the taxonomy. It is validated on load: any problem is a
:class:`~scribe_lib.errors.ConfigError` naming the file and the key.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..schema import LOCATION_PRECISIONS
from ..taxonomy import CategoryMap, check_categories, read_yaml
from . import validate as v
from .base import Source

__all__ = ["MappingSource", "load_source_mapping", "FIELDS"]

#: SCRIBE field -> True if the mapping must name a column for it.
FIELDS = {
    "id": False,
    "date": True,
    "time": False,
    "category": True,
    "description": False,
    "location_text": False,
    "outcome": False,
    "lsoa_code": False,
    "lsoa_name": False,
    "ward_code": False,
    "x": False,
    "y": False,
}
_TOP = {
    "name", "description", "delimiter", "columns", "date_format", "crs",
    "location_precision", "excel_repair", "id_digits", "categories",
}  # fmt: skip
_TEXT = ("description", "location_text", "outcome", "lsoa_code", "lsoa_name", "ward_code")


def _err(msg: str, f: str, key: str) -> ConfigError:
    return ConfigError(msg, file=f, key=key)


def load_source_mapping(path, taxonomy) -> dict:
    """Read and validate a partner mapping YAML; return it with defaults filled in."""
    f = str(path)
    data = read_yaml(path)
    for k in data:
        if k not in _TOP:
            raise _err(f"unknown key (allowed: {', '.join(sorted(_TOP))})", f, str(k))
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _err("give the source a name (e.g. luton-housing-asb)", f, "name")
    cols = data.get("columns")
    if not isinstance(cols, dict):
        raise _err("must map SCRIBE fields (date, category, ...) to column names", f, "columns")
    out_cols: dict[str, list[str] | str] = {}
    for k, c in cols.items():
        if k not in FIELDS:
            raise _err(f"unknown field (allowed: {', '.join(FIELDS)})", f, f"columns.{k}")
        if k == "category" and isinstance(c, list) and c and all(isinstance(x, str) for x in c):
            out_cols[k] = list(c)
        elif isinstance(c, str) and c.strip():
            out_cols[k] = c.strip()
        else:
            raise _err("must be a column name", f, f"columns.{k}")
    for k, req in FIELDS.items():
        if req and k not in out_cols:
            raise _err("required: name the column holding it", f, f"columns.{k}")
    if ("x" in out_cols) != ("y" in out_cols):
        raise _err(
            "give both x and y columns, or neither",
            f,
            "columns.x" if "y" in out_cols else "columns.y",
        )
    fmts = data.get("date_format", "%d/%m/%Y")
    fmts = [fmts] if isinstance(fmts, str) else fmts
    if not isinstance(fmts, list) or not fmts or not all(isinstance(x, str) for x in fmts):
        raise _err("must be a strptime format like %d/%m/%Y, or a list of them", f, "date_format")
    for x in fmts:
        if "%Y" not in x and "%y" not in x:
            raise _err(f"{x!r} has no year (%Y)", f, "date_format")
        try:
            dt.datetime(2024, 1, 31, 13, 5, 9).strftime(x)
        except ValueError as exc:
            raise _err(f"{x!r} is not a valid format: {exc}", f, "date_format") from None
    month = [("%d" not in x) for x in fmts]
    if any(month) and not all(month):
        raise _err("mix of month-only and day formats", f, "date_format")
    crs = str(data.get("crs", "EPSG:27700")).upper()
    if crs not in ("EPSG:27700", "EPSG:4326"):
        raise _err(
            "must be EPSG:27700 (easting/northing) or EPSG:4326 (longitude/latitude)", f, "crs"
        )
    prec = data.get("location_precision", "exact")
    if prec not in LOCATION_PRECISIONS or prec == "none":
        raise _err(
            f"must be one of {', '.join(p for p in LOCATION_PRECISIONS if p != 'none')}",
            f,
            "location_precision",
        )
    delim = data.get("delimiter", ",")
    if not isinstance(delim, str) or len(delim) != 1 or delim in '"\r\n':
        raise _err("must be a single character such as ',' or ';'", f, "delimiter")
    excel = data.get("excel_repair", True)
    if not isinstance(excel, bool):
        raise _err("must be true or false", f, "excel_repair")
    digits = data.get("id_digits")
    if digits is not None and (
        isinstance(digits, bool) or not isinstance(digits, int) or digits < 1
    ):
        raise _err("must be the number of digits of the partner's ids (e.g. 8)", f, "id_digits")
    if digits is not None and "id" not in out_cols:
        raise _err("needs columns.id", f, "id_digits")
    cats = check_categories(data.get("categories"), taxonomy, f)
    return {
        "name": name.strip(), "columns": out_cols, "date_format": fmts, "month": all(month),
        "crs": crs, "location_precision": prec, "delimiter": delim, "excel_repair": excel, "id_digits": digits,
        "categories": cats, "path": f,
    }  # fmt: skip


class MappingSource(Source):
    """A partner declared in a YAML mapping (``mapping``).

    Parameters
    ----------
    mapping : str or Path
        The partner mapping YAML (required). Other parameters as :class:`Source`.
    """

    name = "mapping"

    def load_mapping(self, mapping):
        if mapping is None:
            raise ConfigError("the 'mapping' source needs mapping=<path to the partner YAML>")
        self.spec = load_source_mapping(Path(mapping), self.taxonomy)
        spec = self.spec
        self.name = spec["name"]
        self.delimiter = spec["delimiter"]
        cols = spec["columns"]
        flat = [c for k, c in cols.items() if k != "category"] + _as_list(cols["category"])
        self.required = tuple(dict.fromkeys(flat))
        self.consumed = tuple(
            c for k, c in cols.items() if k not in ("category",) and isinstance(c, str)
        )
        if self.partner == "mapping":
            self.partner = spec["name"]
        return CategoryMap(spec["path"], spec["categories"])

    def harmonise(self, df: pd.DataFrame, rej: v.Rejects) -> dict:
        s, cols = self.spec, self.spec["columns"]
        out: dict = {}
        dcol = cols["date"]
        if s["month"]:
            date, has_time = v.parse_dates(df[dcol], s["date_format"], rej, dcol)
            start = date.astype("datetime64[M]").astype("datetime64[ns]")
            end = (date.astype("datetime64[M]") + np.timedelta64(1, "M")).astype("datetime64[ns]")
            occurred = np.full(len(df), np.datetime64("NaT"), "datetime64[ns]")
            codes, labels = np.zeros(len(df), np.int32), ["month"]
            v.check_future(start, rej, dcol, df[dcol], self.now)
        else:
            date, has_time = v.parse_dates(
                df[dcol], s["date_format"], rej, dcol, excel=s["excel_repair"]
            )
            time = None
            if "time" in cols:
                time, _ = v.parse_times(
                    df[cols["time"]], rej, cols["time"], excel=s["excel_repair"]
                )
            occurred, start, end, codes = v.when(date, has_time, time)
            labels = ["day", "exact"]
            v.check_future(
                np.where(np.isnat(occurred), start, occurred), rej, dcol, df[dcol], self.now
            )
        ccols = _as_list(cols["category"])
        parts = [v.blank_na(df[c]).fillna("") for c in ccols]
        combined = parts[0]
        for p in parts[1:]:
            combined = (combined + " / " + p).where(p != "", combined)
        category = self.map_categories([combined, parts[0]], rej, ccols[0], combined)
        n = len(df)
        e = nn = lon = lat = np.full(n, np.nan)
        if "x" in cols:
            check = v.check_bng if s["crs"] == "EPSG:27700" else v.check_lonlat
            lon, lat, e, nn = check(df[cols["x"]], df[cols["y"]], rej, (cols["x"], cols["y"]))
            out["_coord_field"] = (f"{cols['x']},{cols['y']}", v.pair(df[cols["x"]], df[cols["y"]]))
        located = np.isfinite(e)
        out.update({
            "source_record_id": self._ids(df, rej) if "id" in cols else None,
            "category": category,
            "source_category": combined,
            "occurred_at": occurred,
            "period_start": start,
            "period_end": end,
            "time_precision": v.from_codes(codes, labels),
            "easting": e, "northing": nn, "lon": lon, "lat": lat,
            "location_precision": v.from_codes(located.astype(np.int32), ["none", s["location_precision"]]),
        })  # fmt: skip
        for k in _TEXT:
            if k in cols:
                out[k] = (
                    v.blank_na(df[cols[k]])
                    if k != "description"
                    else df[cols[k]].mask(df[cols[k]] == "")
                )
        return out

    def _ids(self, df: pd.DataFrame, rej: v.Rejects) -> pd.Series:
        """The partner's ids; with ``id_digits``, numeric ids that lost leading zeros
        (Excel: ``00012345`` -> ``12345``) are padded back, too long ones rejected."""
        col = self.spec["columns"]["id"]
        ids = v.excel_code(df[col], rej, col)
        width = self.spec["id_digits"]
        if width is None:
            return ids
        digits = ids.str.fullmatch(r"\d+").fillna(False).to_numpy(bool)
        long = digits & (ids.str.len().fillna(0).to_numpy() > width)
        rej.add(long, col, v.REASONS["id_digits"].format(width=width), df[col])
        return ids.where(~digits, ids.str.zfill(width))


def _as_list(x) -> list[str]:
    return list(x) if isinstance(x, list) else [x]
