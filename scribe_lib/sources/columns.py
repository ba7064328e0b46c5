"""Vectorised helpers for text columns (Arrow-backed ``string``), shared by the adapters.

Every field of a partner file is read as text; these turn text columns into
values without a per-row Python loop.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "as_arrow",
    "as_series",
    "blank_mask",
    "blank_na",
    "by_unique",
    "constant",
    "from_codes",
    "numeric",
    "text",
    "with_nulls",
]


def text(s: pd.Series) -> pd.Series:
    return s.astype("string").str.strip()


def as_arrow(s: pd.Series) -> pa.Array:
    """The column as an Arrow string array (zero-copy for Arrow-backed text)."""
    a = pa.array(s.astype("string"))
    return a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a


def as_series(a) -> pd.Series:
    """An Arrow string array as a pandas ``string`` Series (positional index)."""
    return pd.Series(a.to_pandas(types_mapper=lambda t: pd.StringDtype()))


def from_codes(codes: np.ndarray, values: list[str]) -> pd.Series:
    """A ``string`` Series of ``values[codes]`` (code -1 = missing), built in Arrow."""
    idx = pa.array(np.asarray(codes, np.int32), mask=np.asarray(codes) < 0)
    d = pa.DictionaryArray.from_arrays(idx, pa.array(list(values) or [""], pa.large_string()))
    return as_series(d.cast(pa.large_string()))


def constant(value: str, n: int) -> pd.Series:
    """A ``string`` Series repeating ``value`` ``n`` times (built directly in Arrow buffers)."""
    b = value.encode("utf-8")
    offsets = np.arange(n + 1, dtype=np.int64) * len(b)
    arr = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(b * n))
    return as_series(arr)


def with_nulls(a: pa.Array, null: np.ndarray) -> pa.Array:
    """``a`` with the rows where ``null`` is true made missing (no copy of the text)."""
    if not null.any():
        return a
    if a.offset or a.null_count:
        return pc.if_else(pa.array(null), pa.scalar(None, a.type), a)
    bitmap = pa.py_buffer(np.packbits(~null, bitorder="little"))
    bufs = a.buffers()
    return pa.Array.from_buffers(a.type, len(a), [bitmap, bufs[1], bufs[2]])


def blank_mask(a: pa.Array) -> np.ndarray:
    """True where the text is empty or only whitespace."""
    empty = pc.equal(pc.binary_length(a), 0)
    return pc.or_kleene(empty, pc.utf8_is_space(a)).to_numpy(zero_copy_only=False)


def blank_na(s: pd.Series) -> pd.Series:
    """Text with empty (or whitespace-only) fields as missing; other text verbatim."""
    a = as_arrow(s)
    return as_series(with_nulls(a, blank_mask(a)))


def by_unique(s: pd.Series, func):
    """Apply ``func`` (vectorised over unique values) and broadcast back to ``s``.

    Dates, months and categories repeat a lot, so this is much faster than
    parsing every row.
    """
    codes, uniques = pd.factorize(s, use_na_sentinel=False)
    return np.asarray(func(pd.Series(uniques, dtype="string")))[codes]


def numeric(s: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse numbers: return (values with NaN, empty mask, non-numeric mask).

    Surrounding spaces are allowed; ``nan``/``inf`` are non-numeric.
    """
    a = as_arrow(s)
    empty = blank_mask(a)
    try:  # fast path: every non-empty value is a plain number
        v = pc.cast(with_nulls(a, empty), pa.float64()).to_numpy(zero_copy_only=False).copy()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        t = text(s)
        v = pd.to_numeric(t, errors="coerce").to_numpy(dtype="float64", na_value=np.nan, copy=True)
    v[empty] = np.nan
    bad = ~empty & ~np.isfinite(v)
    v[bad] = np.nan
    return v, empty, bad
