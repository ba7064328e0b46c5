"""Stream a partner CSV in chunks of records, each with its physical line number.

Arrow's CSV reader does the field parsing; record boundaries are found first,
vectorised with numpy over the raw bytes, so that

* every record knows the physical line it starts on (header = line 1), also
  when an earlier quoted field spans several lines;
* a malformed record (wrong field count, unbalanced quote) is set aside with
  its raw text instead of stopping the file or shifting later rows;
* memory is bounded by the chunk size, never by the file.

Most chunks take a fast path (a quote-free chunk is parsed whole and the byte
count proves one row per line; a chunk with quotes is split by quote parity and
parsed whole); on any doubt the careful path of :mod:`.records` decides.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import SourceError
from . import records as rec
from .records import NL, QUOTE, count_fields, line_spans, records
from .textparse import arrow_table, decode, guess_encoding, parse_records, to_frame

__all__ = ["RawChunk", "iter_raw_chunks", "read_header", "BOM"]

BOM = b"\xef\xbb\xbf"
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
            self._spans = line_spans(self._buf, self._cut)
        return [
            decode(self._buf[s:e], self.encoding).rstrip("\r") for s, e in self._spans[positions]
        ]

    @property
    def rows_read(self) -> int:
        return len(self.frame) + len(self.malformed)


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
            head = fh.read(rec.MAX_RECORD_BYTES)
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
    nl = np.flatnonzero(a == NL)
    nl = nl[nl >= offset]
    q_before = np.searchsorted(np.flatnonzero(a == QUOTE), nl)
    ends = nl[(q_before % 2) == 0]
    end = int(ends[0]) if len(ends) else len(head)
    text = head[offset:end]
    enc = guess_encoding(text)
    names = next(csv.reader([decode(text, enc).rstrip("\r")], delimiter=sep))
    names = [n.strip() for n in names]
    lines_used = int(np.count_nonzero(nl <= end)) if len(ends) else 1
    return names, min(end + 1, len(head)), max(lines_used, 1), enc


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
            spans, offs, nf, kind, consumed, used = records(buf, ncols, eof, sepb)
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
    enc = guess_encoding(buf)
    table = arrow_table(memoryview(buf)[:cut], ncols, enc, sep, False)
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
    df = to_frame(table, names)
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
    nl = np.flatnonzero(a == NL)
    qp = rec.structural_quotes(a, ord(sep))
    ends = nl[(np.searchsorted(qp, nl) & 1) == 0][:chunksize]
    if not len(ends):
        return None
    starts = np.concatenate([[0], ends[:-1] + 1])
    width = ends - starts
    blank = (width == 0) | ((width == 1) & (a[starts] == 13))
    consumed = int(ends[-1]) + 1
    enc = guess_encoding(buf)
    table = arrow_table(memoryview(buf)[:consumed], ncols, enc, sep, True)
    keep = ~blank
    if table is None or table.num_rows != int(keep.sum()) or table.num_rows == 0:
        return None
    spans = np.column_stack([starts, ends])[keep]
    lines = np.searchsorted(nl, spans[:, 0]) + line
    ch = RawChunk(to_frame(table, names), lines, [], enc, buf, spans)
    return ch, consumed, int(np.searchsorted(nl, consumed))


def _chunk(buf, spans, lines, nf, kind, ncols, names, sep) -> RawChunk:
    enc = guess_encoding(buf[int(spans[0, 0]) : int(spans[-1, 1])]) if len(spans) else "utf-8"
    if len(spans) and (nf < 0).all():  # quote-free: let Arrow check the field counts
        df = parse_records(buf, spans, ncols, enc, sep, strict=True)
        if df is not None:
            df.columns = names
            return RawChunk(df, lines, [], enc, buf, spans)
        nf = count_fields(buf, spans, sep)
    ok = (kind == 0) & (nf == ncols)
    malformed = []
    for i in np.flatnonzero(~ok):
        s, e = spans[i]
        raw = decode(buf[s:e], enc).rstrip("\r")
        if kind[i] == 1:
            reason = "malformed CSV line: unbalanced quote character"
        else:
            reason = f"malformed CSV line: expected {ncols} fields, found {int(nf[i])}"
        malformed.append((int(lines[i]), reason, raw))
    df = parse_records(buf, spans[ok], ncols, enc, sep)
    idx = np.flatnonzero(ok)
    counts = df.attrs.pop("field_counts", None)
    if counts is not None and (counts != ncols).any():
        # quotes inside unquoted fields (He said "go, away"): read literally by
        # Arrow and Python's csv, they give another field count than the quotes do
        for i, m in zip(idx[counts != ncols], counts[counts != ncols], strict=True):
            s, e = spans[i]
            raw = decode(buf[s:e], enc).rstrip("\r")
            reason = f"malformed CSV line: expected {ncols} fields, found {int(m)}"
            malformed.append((int(lines[i]), reason, raw))
        malformed.sort(key=lambda m: m[0])
        idx = idx[counts == ncols]
    df.columns = names
    return RawChunk(df, lines[idx], malformed, enc, buf, spans[idx])
