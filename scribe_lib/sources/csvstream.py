"""Stream a partner CSV in chunks of records, each with its physical line number.

The pandas C parser does the field parsing; this module finds record
boundaries first, vectorised with numpy over the raw bytes, so that

* every record knows the physical line it starts on (header = line 1), also
  when an earlier quoted field spans several lines;
* a malformed record (wrong field count, unbalanced quote) is set aside with
  its raw text instead of stopping the file or shifting later rows;
* memory is bounded by the chunk size, never by the file.

A quote toggles "inside a quoted field", as in RFC 4180 (a doubled quote
toggles twice). A newline outside quotes ends a record. A record that spans
lines but has the wrong number of fields is a broken quote: its first
physical line is quarantined and reading resumes at the next line.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from ..errors import SourceError

__all__ = ["RawChunk", "iter_raw_chunks", "read_header", "BOM"]

BOM = b"\xef\xbb\xbf"
_NL, _QUOTE = 10, 34
#: an open quote spanning more than this many bytes is a broken quote.
MAX_RECORD_BYTES = 1 << 20
#: bytes read at once at most (a chunk then holds fewer than ``chunksize`` rows).
_MAX_READ = 1 << 28


@dataclass
class RawChunk:
    """Records of one chunk: parsed text fields plus malformed lines.

    Attributes
    ----------
    frame : DataFrame
        One row per well-formed record, one ``str`` column per header name.
    lines : ndarray of int64
        Physical line number (header = 1) of each row of ``frame``.
    raw : list of str
        The raw text of each row of ``frame`` (decoded lazily by :meth:`raw_text`).
    malformed : list of (line, reason, raw)
        Records that could not be split into the header's fields.
    encoding : str
        The text encoding the chunk was decoded with.
    """

    frame: pd.DataFrame
    lines: np.ndarray
    malformed: list[tuple[int, str, str]] = field(default_factory=list)
    encoding: str = "utf-8"
    _buf: bytes = b""
    _spans: np.ndarray | None = None  # None: one record per line of _buf[:_cut]
    _cut: int = 0

    def raw_text(self, positions: np.ndarray) -> list[str]:
        """The raw text of the rows at ``positions`` (for quarantine)."""
        if len(positions) == 0:
            return []
        if self._spans is None:
            self._spans = _line_spans(self._buf, self._cut)
        return [
            _decode(self._buf[s:e], self.encoding).rstrip("\r") for s, e in self._spans[positions]
        ]

    @property
    def rows_read(self) -> int:
        return len(self.frame) + len(self.malformed)


def _line_spans(buf: bytes, cut: int) -> np.ndarray:
    """(start, end) of every line of ``buf[:cut]`` (which ends with a newline)."""
    nl = np.flatnonzero(np.frombuffer(buf, np.uint8, count=cut) == _NL)
    starts = np.concatenate([[0], nl[:-1] + 1])
    return np.column_stack([starts, nl])


def _decode(b: bytes, encoding: str) -> str:
    return b.decode(encoding, errors="replace")


def _guess_encoding(b: bytes) -> str:
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


def read_header(path: Path, sep: str = ",") -> tuple[list[str], int, int, str]:
    """Return (column names, byte offset after the header, lines used, encoding).

    Raises
    ------
    SourceError
        If the file is missing, unreadable, empty or UTF-16.
    """
    if not path.exists():
        raise SourceError("file not found", file=str(path))
    if not path.is_file():
        raise SourceError("not a file", file=str(path))
    try:
        with open(path, "rb") as fh:
            head = fh.read(MAX_RECORD_BYTES)
    except OSError as exc:
        raise SourceError(f"cannot be read: {exc.strerror or exc}", file=str(path)) from None
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SourceError(
            "is UTF-16 text (Excel 'Unicode Text'); save it as 'CSV UTF-8' and send it again",
            file=str(path),
        )
    offset = len(BOM) if head.startswith(BOM) else 0
    if not head[offset:].strip():
        raise SourceError("file is empty (no header line)", file=str(path))
    a = np.frombuffer(head, np.uint8)
    nl = np.flatnonzero(a == _NL)
    nl = nl[nl >= offset]
    q_before = np.searchsorted(np.flatnonzero(a == _QUOTE), nl)
    ends = nl[(q_before % 2) == 0]
    end = int(ends[0]) if len(ends) else len(head)
    text = head[offset:end]
    enc = _guess_encoding(text)
    names = next(csv.reader([_decode(text, enc).rstrip("\r")], delimiter=sep))
    names = [n.strip() for n in names]
    lines_used = int(np.count_nonzero(nl <= end)) if len(ends) else 1
    return names, min(end + 1, len(head)), max(lines_used, 1), enc


def _structural_quotes(a: np.ndarray, sep: int) -> np.ndarray:
    """Positions of the quotes that open or close a quoted field.

    As in RFC 4180 and the Arrow, pandas and Python csv parsers, a quote only counts
    next to a field boundary (separator, line end) or another quote (``""``); a quote
    in the middle of unquoted text (``5'10" tall``, ``He said "go away``) is a
    literal character and does not start a quoted field.
    """
    qp = np.flatnonzero(a == _QUOTE)
    if not len(qp):
        return qp
    prev = np.where(qp > 0, a[np.maximum(qp - 1, 0)], _NL)
    nxt = np.where(qp + 1 < len(a), a[np.minimum(qp + 1, len(a) - 1)], _NL)

    def edge(x):
        return (x == sep) | (x == _NL) | (x == 13) | (x == _QUOTE)

    return qp[edge(prev) | edge(nxt)]


def _split(buf: bytes, ncols: int, final: bool, sep: int):
    """Split ``buf`` (starting at a record start) into records.

    Returns (spans[n, 2], nfields[n], broken[list of span], consumed, newline positions).
    Works in whole-array passes: the quote parity at a position is the number of
    structural quotes before it (binary search), and fields are counted per record
    by binary search over separator positions.
    Without any quote in ``buf`` (the common case) fields are not counted here
    (``nfields`` is -1): the Arrow parser checks them, see :func:`_chunk`.
    """
    a = np.frombuffer(buf, np.uint8)
    nl = np.flatnonzero(a == _NL)
    qp = _structural_quotes(a, sep) if buf.find(b'"') >= 0 else np.empty(0, np.int64)
    if len(qp):
        pn = np.searchsorted(qp, nl) & 1
        nl_cls = (nl[pn == 0], nl[pn == 1])
        cp = np.flatnonzero(a == sep)
        pc = np.searchsorted(qp, cp) & 1
        sep_cls = (cp[pc == 0], cp[pc == 1])
    elif buf.find(b'"') >= 0:  # only literal quotes: count fields, one line per record
        nl_cls = (nl, nl)
        cp = np.flatnonzero(a == sep)
        sep_cls = (cp, cp)
    else:
        nl_cls = (nl, nl)
        sep_cls = None
    spans, nf, broken = [], [], []
    p, n = 0, len(buf)
    while p < n:
        c = int(np.searchsorted(qp, p)) & 1 if len(qp) else 0
        b = nl_cls[c][np.searchsorted(nl_cls[c], p) :]
        if len(b):
            starts = np.empty(len(b), np.int64)
            starts[0] = p
            starts[1:] = b[:-1] + 1
            if sep_cls is None:  # no quotes: one line per record, count later if needed
                counts = np.full(len(b), -1, np.int64)
                bad = np.empty(0, np.int64)
            else:
                cc = sep_cls[c]
                counts = np.searchsorted(cc, b) - np.searchsorted(cc, starts) + 1
                nlin = np.searchsorted(nl, b) - np.searchsorted(nl, starts)
                bad = np.flatnonzero((nlin > 0) & (counts != ncols))
            stop = int(bad[0]) if len(bad) else len(b)
            spans.append(np.column_stack([starts[:stop], b[:stop]]))
            nf.append(counts[:stop])
            if len(bad):
                s = int(starts[stop])
                e = int(nl[np.searchsorted(nl, s)])
                broken.append((s, e))
                p = e + 1
                continue
            p = int(b[-1]) + 1
        # tail after the last boundary: an incomplete record, or a broken quote
        if p >= n:
            break
        tail_nl = nl[np.searchsorted(nl, p) :]
        if not final and (n - p < MAX_RECORD_BYTES or len(tail_nl) == 0):
            break
        e = int(tail_nl[0])  # final buffers end with a newline
        broken.append((p, e))
        p = e + 1
    spans = np.concatenate(spans) if spans else np.empty((0, 2), np.int64)
    nf = np.concatenate(nf) if nf else np.empty(0, np.int64)
    return spans, nf, broken, min(p, n), nl


def _records(buf: bytes, ncols: int, final: bool, sep: int):
    """All records of ``buf`` in file order.

    Returns (spans, line offsets, nfields, kind, bytes consumed, lines consumed).

    ``kind`` is 0 for a split record, 1 for a broken quote; blank lines are dropped.
    """
    spans, nf, broken, consumed, nl = _split(buf, ncols, final, sep)
    kind = np.zeros(len(spans), np.int8)
    if broken:
        bs = np.array(broken, np.int64)
        spans = np.concatenate([spans, bs])
        nf = np.concatenate([nf, np.zeros(len(bs), np.int64)])
        kind = np.concatenate([kind, np.ones(len(bs), np.int8)])
        order = np.argsort(spans[:, 0], kind="stable")
        spans, nf, kind = spans[order], nf[order], kind[order]
    a = np.frombuffer(buf, np.uint8)
    width = spans[:, 1] - spans[:, 0]
    blank = width == 0
    if len(a):
        blank |= (width == 1) & (a[np.minimum(spans[:, 0], len(a) - 1)] == 13)
    if blank.any():
        keep = ~blank
        spans, nf, kind = spans[keep], nf[keep], kind[keep]
    offsets = np.searchsorted(nl, spans[:, 0])
    return spans, offsets, nf, kind, consumed, int(np.searchsorted(nl, consumed))


def _parse(buf: bytes, spans: np.ndarray, ncols: int, enc: str, sep: str, strict: bool = False):
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
    df = _arrow_parse(data, ncols, enc, sep, quoted, len(spans))
    if df is not None or strict:
        return df
    rows = [_fields(_decode(buf[s:e], enc).rstrip("\r"), sep) for s, e in spans]
    counts = np.array([len(r) for r in rows])
    rows = [r for r in rows if len(r) == ncols]
    df = pd.DataFrame(rows, columns=list(range(ncols)), dtype="string")
    df.attrs["field_counts"] = counts  # records Python's csv splits differently: malformed
    return df


def _arrow_table(data, ncols: int, enc: str, sep: str, quoted: bool):
    """Parse ``data`` (whole records) as text columns with Arrow (one chunk each);
    None if a record does not have ``ncols`` fields."""
    names = [f"c{i}" for i in range(ncols)]
    try:
        table = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(data)),
            read_options=pacsv.ReadOptions(
                column_names=names, encoding=enc, block_size=1 << 21, use_threads=False
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


def _to_frame(table, names) -> pd.DataFrame:
    df = table.to_pandas(types_mapper=_STRING_MAPPER.get)
    df.columns = names
    return df


def _arrow_parse(data, ncols: int, enc: str, sep: str, quoted: bool, nrows: int):
    """Parse with Arrow; None unless exactly ``nrows`` rows of ``ncols`` fields."""
    table = _arrow_table(data, ncols, enc, sep, quoted)
    if table is None or table.num_rows != nrows:
        return None
    return _to_frame(table, range(ncols))


def _fields(text: str, sep: str) -> list[str]:
    """One record's fields with Python's csv module (the slow, lenient fallback)."""
    try:
        return next(csv.reader([text], delimiter=sep))
    except (csv.Error, StopIteration):  # e.g. a lone carriage return inside a field
        return text.split(sep)


_STRING_MAPPER = {
    pa.string(): pd.StringDtype("pyarrow"),
    pa.large_string(): pd.StringDtype("pyarrow"),
}


def iter_raw_chunks(
    path: Path,
    names: list[str],
    offset: int,
    first_line: int,
    chunksize: int,
    sep: str = ",",
) -> Iterator[RawChunk]:
    """Yield :class:`RawChunk` of at most ``chunksize`` records (well-formed or not).

    Parameters
    ----------
    path : Path
        The CSV file.
    names : list of str
        Header names (unique); their number is the expected field count.
    offset : int
        Byte offset of the first data record.
    first_line : int
        Physical line number of the first data record.
    chunksize : int
        Records per chunk, well-formed or not.
    sep : str
        The field delimiter.
    """
    ncols, sepb = len(names), ord(sep)
    avg, line, carry, eof = 200.0, first_line, b"", False
    with open(path, "rb") as fh:
        fh.seek(offset)
        while not eof or carry:
            buf = carry
            while True:  # read about one chunk of whole records
                need = min(_MAX_READ, max(1 << 16, int(chunksize * avg) - len(buf)))
                data = fh.read(need)
                eof = len(data) < need
                buf += data
                if eof and buf and not buf.endswith(b"\n"):
                    buf += b"\n"
                cut = buf.rfind(b"\n") + 1
                if cut or eof:
                    break
            if cut and b'"' not in buf:  # the common case: a record is a line
                ch = _plain_chunk(buf, cut, line, ncols, names, sep, chunksize)
                if ch is not None:
                    avg = max(16.0, 0.98 * cut / len(ch.lines))
                    yield ch
                    line += len(ch.lines)
                    carry = buf[cut:]
                    continue
            elif cut:  # quoted fields: try the whole chunk with Arrow first
                got = _quoted_chunk(buf, line, ncols, names, sep, chunksize)
                if got is not None:
                    ch, consumed, used = got
                    avg = max(16.0, 0.98 * consumed / len(ch.lines))
                    yield ch
                    line += used
                    carry = buf[consumed:]
                    continue
            spans, offs, nf, kind, consumed, used = _records(buf, ncols, eof, sepb)
            if not len(spans) and not eof and consumed == 0:  # one record spans the read
                carry = buf
                continue
            if len(spans):
                avg = max(16.0, 0.98 * consumed / len(spans))
            for pos in range(0, len(spans), chunksize):
                sl = slice(pos, pos + chunksize)
                yield _chunk(buf, spans[sl], offs[sl] + line, nf[sl], kind[sl], ncols, names, sep)
            line += used
            carry = buf[consumed:]


def _plain_chunk(buf, cut, line, ncols, names, sep, chunksize) -> RawChunk | None:
    """The common case, without locating each line: Arrow parses ``buf[:cut]``.

    Arrow refuses a line without ``ncols`` fields, but skips blank lines and takes
    a lone carriage return as a line end; the byte count of what it parsed (or,
    for CRLF and re-encoded text, a count of line ends) proves every line was one
    row. Returns None when that does not hold, or for more than ``chunksize``
    rows: then the general path takes over.
    """
    enc = _guess_encoding(buf)
    table = _arrow_table(memoryview(buf)[:cut], ncols, enc, sep, False)
    if table is None or not 0 < table.num_rows <= chunksize:
        return None
    k = table.num_rows
    if enc == "utf-8" and buf.find(b"\r", 0, cut) < 0:
        text = 0
        for col in table.columns:
            off = np.frombuffer(col.chunk(0).buffers()[1], np.int64)
            a = col.chunk(0).offset
            text += int(off[a + k] - off[a])
        one_row_per_line = text + k * ncols == cut  # fields + separators + newlines
    else:
        crlf = buf.count(b"\r\n", 0, cut)
        one_row_per_line = buf.count(b"\n", 0, cut) == k and crlf in (0, k)
        one_row_per_line &= buf.count(b"\r", 0, cut) == crlf
    if not one_row_per_line:
        return None
    df = _to_frame(table, names)
    lines = np.arange(line, line + k, dtype=np.int64)
    return RawChunk(df, lines, [], enc, buf, None, cut)


def _quoted_chunk(buf, line, ncols, names, sep, chunksize):
    """Whole records of a buffer with quotes, split by quote parity alone and checked by
    Arrow; returns (chunk, bytes consumed, lines consumed) or None.

    When Arrow parses exactly these records, each with ``ncols`` fields, the careful
    path (field counts per record, broken-quote recovery) would find nothing wrong,
    so it is skipped; on any doubt the caller takes that path instead.
    """
    a = np.frombuffer(buf, np.uint8)
    nl = np.flatnonzero(a == _NL)
    qp = _structural_quotes(a, ord(sep))
    ends = nl[(np.searchsorted(qp, nl) & 1) == 0][:chunksize]
    if not len(ends):
        return None
    starts = np.concatenate([[0], ends[:-1] + 1])
    width = ends - starts
    blank = (width == 0) | ((width == 1) & (a[starts] == 13))
    consumed = int(ends[-1]) + 1
    enc = _guess_encoding(buf)
    table = _arrow_table(memoryview(buf)[:consumed], ncols, enc, sep, True)
    keep = ~blank
    if table is None or table.num_rows != int(keep.sum()) or table.num_rows == 0:
        return None
    spans = np.column_stack([starts, ends])[keep]
    lines = np.searchsorted(nl, spans[:, 0]) + line
    ch = RawChunk(_to_frame(table, names), lines, [], enc, buf, spans)
    return ch, consumed, int(np.searchsorted(nl, consumed))


def _count_fields(buf: bytes, spans: np.ndarray, sep: str) -> np.ndarray:
    """Fields per record of a quote-free region (separators + 1)."""
    lo, hi = int(spans[0, 0]), int(spans[-1, 1])
    a = np.frombuffer(buf, np.uint8, count=hi - lo, offset=lo)
    cp = np.flatnonzero(a == ord(sep)) + lo
    return np.searchsorted(cp, spans[:, 1]) - np.searchsorted(cp, spans[:, 0]) + 1


def _chunk(buf, spans, lines, nf, kind, ncols, names, sep) -> RawChunk:
    enc = _guess_encoding(buf[int(spans[0, 0]) : int(spans[-1, 1])]) if len(spans) else "utf-8"
    if len(spans) and (nf < 0).all():  # quote-free: let Arrow check the field counts
        df = _parse(buf, spans, ncols, enc, sep, strict=True)
        if df is not None:
            df.columns = names
            return RawChunk(df, lines, [], enc, buf, spans)
        nf = _count_fields(buf, spans, sep)
    ok = (kind == 0) & (nf == ncols)
    malformed = []
    for i in np.flatnonzero(~ok):
        s, e = spans[i]
        raw = _decode(buf[s:e], enc).rstrip("\r")
        if kind[i] == 1:
            reason = "malformed CSV line: unbalanced quote character"
        else:
            reason = f"malformed CSV line: expected {ncols} fields, found {int(nf[i])}"
        malformed.append((int(lines[i]), reason, raw))
    df = _parse(buf, spans[ok], ncols, enc, sep)
    idx = np.flatnonzero(ok)
    counts = df.attrs.pop("field_counts", None)
    if counts is not None and (counts != ncols).any():
        # quotes inside unquoted fields (He said "go, away"): read literally by
        # Arrow and Python's csv, they give another field count than the quotes do
        for i, m in zip(idx[counts != ncols], counts[counts != ncols], strict=True):
            s, e = spans[i]
            raw = _decode(buf[s:e], enc).rstrip("\r")
            reason = f"malformed CSV line: expected {ncols} fields, found {int(m)}"
            malformed.append((int(lines[i]), reason, raw))
        malformed.sort(key=lambda m: m[0])
        idx = idx[counts == ncols]
    df.columns = names
    return RawChunk(df, lines[idx], malformed, enc, buf, spans[idx])
