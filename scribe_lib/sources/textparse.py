"""Decoding and field parsing of whole CSV records (Arrow first, Python csv as a fallback)."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

__all__ = [
    "arrow_parse",
    "arrow_table",
    "decode",
    "fields",
    "guess_encoding",
    "parse_records",
    "to_frame",
]


def decode(b: bytes, encoding: str) -> str:
    """Bytes to text (undecodable bytes become U+FFFD rather than an error)."""
    return b.decode(encoding, errors="replace")


def guess_encoding(b: bytes) -> str:
    """UTF-8 when the bytes are valid UTF-8, else Windows-1252, else Latin-1.

    Windows exports (council case systems) are often cp1252; Latin-1 takes the few
    bytes cp1252 leaves undefined, so every byte decodes.
    """
    if b.isascii():
        return "utf-8"
    try:
        b.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        b.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def parse_records(
    buf: bytes, spans: np.ndarray, ncols: int, enc: str, sep: str, strict: bool = False
):
    """Parse well-formed records with pyarrow's CSV reader (Python csv as a fallback).

    Every column is text (``string`` dtype, empty string for an empty field). With
    ``strict=True`` return None instead of falling back when Arrow rejects a record.
    """
    if len(spans) == 0:
        return pd.DataFrame({i: pd.Series([], dtype="string") for i in range(ncols)})
    brk = np.flatnonzero(spans[1:, 0] != spans[:-1, 1] + 1) + 1
    bounds = np.concatenate([[0], brk, [len(spans)]])
    if len(bounds) == 2:
        data = memoryview(buf)[int(spans[0, 0]) : int(spans[-1, 1]) + 1]
    else:
        data = b"".join(
            buf[spans[i, 0] : spans[j - 1, 1] + 1]
            for i, j in zip(bounds[:-1], bounds[1:], strict=True)
        )
    quoted = buf.find(b'"', int(spans[0, 0]), int(spans[-1, 1])) >= 0
    df = arrow_parse(data, ncols, enc, sep, quoted, len(spans))
    if df is not None or strict:
        return df
    rows = [fields(decode(buf[s:e], enc).rstrip("\r"), sep) for s, e in spans]
    counts = np.array([len(r) for r in rows])
    rows = [r for r in rows if len(r) == ncols]
    df = pd.DataFrame(rows, columns=list(range(ncols)), dtype="string")
    df.attrs["field_counts"] = counts  # records Python's csv splits differently: malformed
    return df


def arrow_table(data, ncols: int, enc: str, sep: str, quoted: bool):
    """Parse ``data`` (whole records) as text columns with Arrow (one chunk each);
    None if a record does not have ``ncols`` fields."""
    names = [f"c{i}" for i in range(ncols)]
    try:
        table = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(data)),
            read_options=pacsv.ReadOptions(
                column_names=names, encoding=enc, block_size=1 << 21, use_threads=True
            ),
            parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=quoted),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.large_string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None
    return table.combine_chunks()


def to_frame(table, names) -> pd.DataFrame:
    """An Arrow table of text columns as a DataFrame of ``string`` columns named ``names``."""
    df = table.to_pandas(types_mapper=STRING_MAPPER.get)
    df.columns = names
    return df


def arrow_parse(data, ncols: int, enc: str, sep: str, quoted: bool, nrows: int):
    """Parse with Arrow; None unless exactly ``nrows`` rows of ``ncols`` fields."""
    table = arrow_table(data, ncols, enc, sep, quoted)
    if table is None or table.num_rows != nrows:
        return None
    return to_frame(table, range(ncols))


def fields(text: str, sep: str) -> list[str]:
    """One record's fields with Python's csv module (the slow, lenient fallback)."""
    try:
        return next(csv.reader([text], delimiter=sep))
    except (csv.Error, StopIteration):  # e.g. a lone carriage return inside a field
        return text.split(sep)


STRING_MAPPER = {
    pa.string(): pd.StringDtype("pyarrow"),
    pa.large_string(): pd.StringDtype("pyarrow"),
}
