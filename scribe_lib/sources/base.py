"""The source adapter contract (see docs/ARCHITECTURE.md and docs/sources.md).

>>> reader = SOURCES.get("police-uk")(partner="bedfordshire-police")  # doctest: +SKIP
>>> for chunk in reader.read("2024-01-bedfordshire-street.csv"):     # doctest: +SKIP
...     chunk.incidents, chunk.quarantine, chunk.rows_read

An adapter subclasses :class:`Source` and implements :meth:`Source.harmonise`,
which turns one chunk of text columns into harmonised columns, vectorised, and
records row problems in a :class:`~scribe_lib.sources.validate.Rejects`.
Everything else (streaming, line numbers, malformed lines, the partnership
area, quarantine and dtypes) is done here, once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from ..errors import SourceError
from ..schema import (
    ADAPTER_COLUMNS,
    INCIDENT_COLUMNS,
    QUARANTINE_COLUMNS,
    conform,
    empty_quarantine,
)
from ..taxonomy import Taxonomy, fold, load_category_map, load_taxonomy
from . import validate as v
from .csvstream import RawChunk, iter_raw_chunks, read_header

__all__ = ["Chunk", "Source", "json_attributes"]


@dataclass
class Chunk:
    """One chunk of a partner file.

    Attributes
    ----------
    incidents : DataFrame
        Accepted rows, ``ADAPTER_COLUMNS`` with the dtypes of ``INCIDENT_COLUMNS``.
    quarantine : DataFrame
        Rejected rows, ``QUARANTINE_COLUMNS``.
    rows_read : int
        ``len(incidents) + len(quarantine)``.
    """

    incidents: pd.DataFrame
    quarantine: pd.DataFrame
    rows_read: int


class Source:
    """Base class of partner adapters.

    Parameters
    ----------
    partner : str, optional
        The submitting organisation (default: the source name).
    area : shapely geometry, optional
        The partnership area in EPSG:27700; located points outside it are quarantined.
    mapping : str or Path, optional
        An edited category mapping YAML replacing the built-in one.
    taxonomy : Taxonomy or str or Path, optional
        Default: ``$SCRIBE_TAXONOMY`` or the built-in taxonomy.
    now : datetime, optional
        "Now" for the future-date check (default: the current Europe/London time).
    """

    #: the registry name
    name = ""
    #: columns the file must have (a whole-file SourceError names the missing ones)
    required: tuple[str, ...] = ()
    #: source columns that become harmonised columns (the rest go to ``attributes``)
    consumed: tuple[str, ...] = ()
    delimiter = ","

    def __init__(self, partner=None, area=None, mapping=None, *, taxonomy=None, now=None):
        self.partner = partner or self.name
        self.area = _area(area)
        self.now = now
        if isinstance(taxonomy, Taxonomy):
            self.taxonomy = taxonomy
        else:
            self.taxonomy = load_taxonomy(taxonomy)
        self.category_map = self.load_mapping(mapping)
        self._folded = self.category_map.normalised()

    def load_mapping(self, mapping):
        """Load the category mapping (override for sources with their own format)."""
        return load_category_map(self.name, path=mapping, taxonomy=self.taxonomy)

    # -- reading -------------------------------------------------------------------
    def read(self, path, chunksize: int = 100_000) -> Iterator[Chunk]:
        """Validate the header, then return an iterator of :class:`Chunk`.

        Raises
        ------
        SourceError
            File missing, empty, or required columns missing (before any chunk).
        """
        if int(chunksize) < 1:
            raise ValueError(f"chunksize must be a positive number of rows, not {chunksize!r}")
        path = Path(path)
        names, offset, nlines, _ = read_header(path, self.delimiter)
        names = self.check_header(names, path)
        return self._chunks(path, names, offset, nlines + 1, int(chunksize))

    def check_header(self, names: list[str], path: Path) -> list[str]:
        """Check required columns; make duplicate names unique (``X``, ``X.1``).

        A known column in other letter case or spacing (``CASE REF``, ``Case  ref``)
        is given its documented name.
        """
        known = {fold(c): c for c in (*self.required, *self.consumed)}
        exact = set(names)
        names = [
            known[fold(n)] if fold(n) in known and known[fold(n)] not in exact else n for n in names
        ]
        seen: dict[str, int] = {}
        out = []
        for n in names:
            k = seen.get(n, 0)
            out.append(n if k == 0 else f"{n}.{k}")
            seen[n] = k + 1
        missing = [c for c in self.required if c not in out]
        if missing:
            raise SourceError(
                f"required column(s) missing: {', '.join(missing)} (the header has: {', '.join(names)})",
                file=str(path),
            )
        return out

    def _chunks(self, path, names, offset, first_line, chunksize) -> Iterator[Chunk]:
        got = False
        for raw in iter_raw_chunks(path, names, offset, first_line, chunksize, self.delimiter):
            got = True
            yield self._harmonise_chunk(raw, path.name)
        if not got:  # header only: no rows
            yield Chunk(conform(pd.DataFrame(), _ADAPTER_DTYPES), empty_quarantine(), 0)

    def _harmonise_chunk(self, raw: RawChunk, filename: str) -> Chunk:
        df = raw.frame
        rej = v.Rejects(len(df))
        cols = self.harmonise(df, rej)
        e = np.asarray(cols.get("easting", np.full(len(df), np.nan)), "float64")
        n = np.asarray(cols.get("northing", np.full(len(df), np.nan)), "float64")
        field, text = cols.pop("_coord_field", ("", np.full(len(df), "", object)))
        v.check_area(self.area, e, n, rej, field, text)
        keep = None if not rej.bad.any() else ~rej.bad
        cols.update(partner=self.partner, source=self.name, source_line=raw.lines)
        if "attributes" not in cols:
            extra = [c for c in df.columns if c not in self.consumed]
            cols["attributes"] = json_attributes(df[extra] if keep is None else df.loc[keep, extra])
            cols["attributes"] = cols["attributes"].reset_index(drop=True)
            if keep is not None:  # already selected
                cols["attributes"] = _Selected(cols["attributes"])
        n = len(df) if keep is None else int(keep.sum())
        data = {c: _column(cols.get(c), keep, n, t) for c, t in _ADAPTER_DTYPES.items()}
        incidents = pd.DataFrame(data, index=pd.RangeIndex(n), copy=False)
        quarantine = self._quarantine(raw, rej, filename)
        return Chunk(incidents, quarantine, raw.rows_read)

    def _quarantine(self, raw: RawChunk, rej: v.Rejects, filename: str) -> pd.DataFrame:
        bad = np.flatnonzero(rej.bad)
        rows = {
            "file": filename,
            "line": np.concatenate([[m[0] for m in raw.malformed], raw.lines[bad]]).astype("int64"),
            "field": [None] * len(raw.malformed) + list(rej.field[bad]),
            "value": [m[2] for m in raw.malformed] + [_str(x) for x in rej.value[bad]],
            "reason": [m[1] for m in raw.malformed] + list(rej.reason[bad]),
            "raw": [m[2] for m in raw.malformed] + raw.raw_text(bad),
        }
        q = conform(pd.DataFrame(rows), QUARANTINE_COLUMNS)
        return q.sort_values("line", kind="stable").reset_index(drop=True)

    # -- for adapters --------------------------------------------------------------
    def harmonise(self, df: pd.DataFrame, rej: v.Rejects) -> dict:
        """Return harmonised columns (arrays or Series of ``len(df)``) for ``df``.

        May also return ``"_coord_field": (field, values)`` naming the coordinate
        field and its verbatim text for the partnership-area check.
        """
        raise NotImplementedError

    def map_categories(self, candidates: list[pd.Series], rej: v.Rejects, field: str, values):
        """Map source category text to taxonomy keys, trying ``candidates`` in turn."""
        keys = sorted(set(self._folded.values()))
        lut = {k: i for i, k in enumerate(keys)}
        out = np.full(len(values), -1, np.int32)
        for s in candidates:
            got = v.by_unique(
                s, lambda u: np.array([lut.get(self._folded.get(fold(x)), -1) for x in u], np.int32)
            )
            out = np.where(out < 0, got, out)
        rej.add(out < 0, field, v.REASONS["category"], values)
        return v.from_codes(out, keys)


_ADAPTER_DTYPES = {c: t for c, t in INCIDENT_COLUMNS.items() if c in ADAPTER_COLUMNS}


class _Selected:
    """A column whose rows are already the accepted ones."""

    def __init__(self, values):
        self.values = values


def _column(val, keep: np.ndarray | None, n: int, dtype: str):
    """The accepted rows of a harmonised column, as an array of ``dtype``.

    ``val`` may be None (missing), a str (broadcast), a Series or an ndarray of all
    rows, or :class:`_Selected`. ``keep`` is None when every row is accepted.
    """
    if isinstance(val, _Selected):
        val, keep = val.values, None
    if val is None:
        if dtype == "string":
            return v.as_series(pa.nulls(n, _LS)).array
        if dtype == "float64":
            return np.full(n, np.nan)
        if dtype.startswith("datetime64"):
            return np.full(n, np.datetime64("NaT"), dtype)
        return pd.array([pd.NA] * n, dtype=dtype)
    if isinstance(val, str):
        return v.constant(val, n).array
    if isinstance(val, pd.Series):
        arr = val.array if keep is None else val[keep].array
        return arr if str(arr.dtype) == dtype else pd.array(arr, dtype=dtype)
    arr = np.asarray(val) if keep is None else np.asarray(val)[keep]
    if dtype == "string":
        return pd.array(arr, dtype="string")
    if dtype == "Int64":
        return pd.array(arr.astype("int64"), dtype="Int64")
    return arr if arr.dtype == dtype else arr.astype(dtype)


def _area(area):
    """The partnership area as one shapely geometry (a GeoSeries/GeoDataFrame is unioned)."""
    if area is None or isinstance(area, shapely.Geometry):
        return area
    if hasattr(area, "union_all"):
        crs = getattr(area, "crs", None)
        if crs is not None and crs.to_epsg() != 27700:
            raise ValueError(f"area must be in EPSG:27700 (British National Grid), not {crs}")
        return area.union_all()
    raise TypeError(f"area must be a shapely geometry in EPSG:27700, not {type(area).__name__}")


def _str(x) -> str | None:
    return None if x is None else str(x)


def json_attributes(df: pd.DataFrame) -> pd.Series:
    """One JSON object per row of text columns, built without a per-row Python loop.

    Attribute columns usually repeat (force names, property types...): the JSON is
    then built once per distinct combination of values and broadcast; otherwise it
    is concatenated with Arrow kernels.

    Examples
    --------
    >>> df = pd.DataFrame({"a": ['say "hi"'], "b": ["two\\nlines"]})
    >>> print(json_attributes(df).iloc[0])
    {"a":"say \\"hi\\"","b":"two\\nlines"}
    """
    n, cols = len(df), list(df.columns)
    if not cols:
        return pd.Series(["{}"] * n, index=df.index, dtype="string")
    arrs = [pc.fill_null(v.as_arrow(df[c]), "") for c in cols]
    if n >= 64:
        enc = [pc.dictionary_encode(a) for a in arrs]
        sizes = [len(e.dictionary) for e in enc]
        if np.prod(np.array(sizes, float)) < 2**62:
            key = np.zeros(n, np.int64)
            for e, size in zip(enc, sizes, strict=True):
                key = key * size + e.indices.to_numpy(zero_copy_only=False).astype(np.int64)
            codes, uniq = pd.factorize(key)
            if len(uniq) * 8 <= n:
                first = np.zeros(len(uniq), np.int64)
                first[codes[::-1]] = np.arange(n - 1, -1, -1)  # a row of each combination
                texts = [
                    json.dumps(
                        dict(zip(cols, vals, strict=True)),
                        ensure_ascii=False,
                        separators=(",", ":"),
                    )
                    for vals in zip(
                        *[a.take(pa.array(first)).to_pylist() for a in arrs], strict=True
                    )
                ]
                return pd.Series(v.from_codes(codes, texts).array, index=df.index)
    parts: list = []
    for i, (c, a) in enumerate(zip(cols, arrs, strict=True)):
        key = ("{" if i == 0 else '",') + json.dumps(str(c), ensure_ascii=False) + ':"'
        parts.append(pa.scalar(key, _LS))
        parts.append(_json_escape(a))
    parts.append(pa.scalar('"}', _LS))
    out = pc.binary_join_element_wise(*parts, pa.scalar("", _LS))
    return pd.Series(out.to_pandas(types_mapper=lambda t: pd.StringDtype()).array, index=df.index)


_LS = pa.large_string()


def _json_escape(a: pa.Array) -> pa.Array:
    """Escape text for a JSON string literal with Arrow kernels."""
    if not pc.any(pc.match_substring_regex(a, r'["\\\x00-\x1f]')).as_py():
        return a  # the common case: nothing to escape
    for old, new in (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
        a = pc.replace_substring(a, old, new)
    odd = pc.match_substring_regex(a, r"[\x00-\x1f]").to_numpy(zero_copy_only=False)
    if odd.any():  # other control characters: rare, escape those rows in Python
        vals = a.to_pylist()
        for k in np.flatnonzero(odd):
            vals[k] = "".join(ch if ord(ch) >= 32 else f"\\u{ord(ch):04x}" for ch in vals[k])
        a = pa.array(vals, _LS)
    return a
