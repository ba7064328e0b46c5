"""Record boundaries of CSV bytes, vectorised: the careful path of :mod:`.csvstream`.

A newline outside quotes ends a record. Only structural quotes count (next to a
field boundary or another quote), as in RFC 4180 and the Arrow, pandas and
Python csv readers. A record that spans lines but has the wrong number of fields
is a broken quote: its first physical line is set aside and splitting resumes at
the next line, so an unbalanced quote costs one line, not the rest of the file.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "MAX_RECORD_BYTES",
    "count_fields",
    "line_spans",
    "records",
    "split_records",
    "structural_quotes",
]

NL, QUOTE = 10, 34
#: an open quote spanning more than this many bytes is a broken quote.
MAX_RECORD_BYTES = 1 << 20


def structural_quotes(a: np.ndarray, sep: int) -> np.ndarray:
    """Positions of the quotes that open or close a quoted field.

    As in RFC 4180 and the Arrow, pandas and Python csv parsers, a quote only counts
    next to a field boundary (separator, line end) or another quote (``""``); a quote
    in the middle of unquoted text (``5'10" tall``, ``He said "go away``) is a
    literal character and does not start a quoted field.
    """
    qp = np.flatnonzero(a == QUOTE)
    if not len(qp):
        return qp
    prev = np.where(qp > 0, a[np.maximum(qp - 1, 0)], NL)
    nxt = np.where(qp + 1 < len(a), a[np.minimum(qp + 1, len(a) - 1)], NL)

    def edge(x):
        return (x == sep) | (x == NL) | (x == 13) | (x == QUOTE)

    return qp[edge(prev) | edge(nxt)]


def split_records(buf: bytes, ncols: int, final: bool, sep: int):
    """Split ``buf`` (starting at a record start) into records.

    Returns (spans[n, 2], nfields[n], broken[list of span], consumed, newline positions).
    Works in whole-array passes: the quote parity at a position is the number of
    structural quotes before it (binary search), and fields are counted per record
    by binary search over separator positions.
    Without any quote in ``buf`` (the common case) fields are not counted here
    (``nfields`` is -1): the Arrow parser checks them, see :func:`_chunk`.
    """
    a = np.frombuffer(buf, np.uint8)
    nl = np.flatnonzero(a == NL)
    qp = structural_quotes(a, sep) if buf.find(b'"') >= 0 else np.empty(0, np.int64)
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


def records(buf: bytes, ncols: int, final: bool, sep: int):
    """All records of ``buf`` in file order.

    Returns (spans, line offsets, nfields, kind, bytes consumed, lines consumed).

    ``kind`` is 0 for a split record, 1 for a broken quote; blank lines are dropped.
    """
    spans, nf, broken, consumed, nl = split_records(buf, ncols, final, sep)
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


def count_fields(buf: bytes, spans: np.ndarray, sep: str) -> np.ndarray:
    """Fields per record of a quote-free region (separators + 1)."""
    lo, hi = int(spans[0, 0]), int(spans[-1, 1])
    a = np.frombuffer(buf, np.uint8, count=hi - lo, offset=lo)
    cp = np.flatnonzero(a == ord(sep)) + lo
    return np.searchsorted(cp, spans[:, 1]) - np.searchsorted(cp, spans[:, 0]) + 1


def line_spans(buf: bytes, cut: int) -> np.ndarray:
    """(start, end) of every line of ``buf[:cut]`` (which ends with a newline)."""
    nl = np.flatnonzero(np.frombuffer(buf, np.uint8, count=cut) == NL)
    starts = np.concatenate([[0], nl[:-1] + 1])
    return np.column_stack([starts, nl])
