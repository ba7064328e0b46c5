"""The streaming CSV splitter against Python's csv module as an independent reference."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from scribe_lib.sources.csvstream import iter_raw_chunks, read_header

POOL = [
    "",
    "plain",
    "with, comma",
    'say "hi"',
    "two\nlines",
    "three\r\nline\nfield",
    "é ü £",
    " padded ",
    '"',
    ",",
]


def _random_csv(rng, nrows, ncols, terminator):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator=terminator)
    w.writerow([f"col{i}" for i in range(ncols)])
    rows = [
        [
            POOL[rng.integers(len(POOL))] + str(rng.integers(10)) * int(rng.integers(2))
            for _ in range(ncols)
        ]
        for _ in range(nrows)
    ]
    w.writerows(rows)
    return buf.getvalue()


def _reference(text):
    """Rows and the physical line each starts on, from csv.reader's line_num."""
    r = csv.reader(io.StringIO(text, newline=""))
    next(r)
    out, start = [], r.line_num + 1
    for row in r:
        out.append((start, row))
        start = r.line_num + 1
    return out


def _read(path, chunksize):
    names, off, nlines, _ = read_header(path)
    rows, lines, bad, sizes = [], [], [], []
    for ch in iter_raw_chunks(path, names, off, nlines + 1, chunksize):
        rows += ch.frame.astype(object).values.tolist()
        lines += ch.lines.tolist()
        bad += ch.malformed
        sizes.append(ch.rows_read)
    return rows, lines, bad, sizes


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("chunksize", [1, 7, 100_000])
def test_random_quoted_multiline_csv_matches_python_csv(tmp_path, seed, chunksize):
    rng = np.random.default_rng(seed)
    text = _random_csv(rng, 60, 4, "\r\n" if seed % 2 else "\n")
    p = tmp_path / "f.csv"
    p.write_bytes(text.encode("utf-8"))
    ref = _reference(text)
    rows, lines, bad, sizes = _read(p, chunksize)
    assert bad == []
    assert lines == [s for s, _ in ref]
    # csv.reader keeps \r\n inside quoted fields verbatim, as does our reader
    assert rows == [r for _, r in ref]
    assert max(sizes) <= chunksize and sum(sizes) == 60


def test_wrong_field_count_is_set_aside_and_later_lines_stay_right(tmp_path):
    p = tmp_path / "f.csv"
    p.write_bytes(b'a,b,c\n1,2,3\n4,5\n"x\ny",8,9\n6,7,8,9\n10,11,12\n')
    rows, lines, bad, _ = _read(p, 2)
    assert rows == [["1", "2", "3"], ["x\ny", "8", "9"], ["10", "11", "12"]]
    assert lines == [2, 4, 7]
    assert bad == [
        (3, "malformed CSV line: expected 3 fields, found 2", "4,5"),
        (6, "malformed CSV line: expected 3 fields, found 4", "6,7,8,9"),
    ]


def test_broken_quote_costs_one_line_only(tmp_path):
    p = tmp_path / "f.csv"
    p.write_bytes(b'a,b,c\n1,"2,3\n4,5,6\n7,8,9\n')
    rows, lines, bad, _ = _read(p, 100)
    assert bad == [(2, "malformed CSV line: unbalanced quote character", '1,"2,3')]
    assert rows == [["4", "5", "6"], ["7", "8", "9"]] and lines == [3, 4]


def test_broken_quote_in_the_middle_then_a_later_valid_quoted_field(tmp_path):
    p = tmp_path / "f.csv"
    p.write_bytes(b'a,b,c\n1,2,3\n4,"5,6\n7,8,9\n"q",r,s\n10,11,12\n')
    rows, lines, bad, _ = _read(p, 100)
    assert [b[0] for b in bad] == [3]
    assert rows == [["1", "2", "3"], ["7", "8", "9"], ["q", "r", "s"], ["10", "11", "12"]]
    assert lines == [2, 4, 5, 6]


def test_blank_lines_are_not_rows_and_last_line_may_lack_newline(tmp_path):
    p = tmp_path / "f.csv"
    p.write_bytes(b"a,b\r\n1,2\r\n\r\n\n3,4")
    rows, lines, bad, _ = _read(p, 100)
    assert rows == [["1", "2"], ["3", "4"]] and lines == [2, 5] and bad == []


def test_header_with_bom_and_multiline_header(tmp_path):
    p = tmp_path / "f.csv"
    p.write_bytes(b'\xef\xbb\xbf"first\ncol",second\n1,2\n')
    names, _, nlines, _ = read_header(p)
    assert names == ["first\ncol", "second"] and nlines == 2
    _, lines, _, _ = _read(p, 10)
    assert lines == [3]


def test_cp1252_chunk_is_decoded_as_cp1252(tmp_path):
    p = tmp_path / "f.csv"
    p.write_bytes("a,b\n£5,café\n".encode("cp1252"))
    names, off, n, _ = read_header(p)
    (ch,) = list(iter_raw_chunks(p, names, off, n + 1, 10))
    assert ch.encoding == "cp1252" and ch.frame.iloc[0].tolist() == ["£5", "café"]


def test_broken_quote_in_a_file_larger_than_one_read(tmp_path, monkeypatch):
    """The open quote is given up after MAX_RECORD_BYTES, not carried to the end of the file."""
    import scribe_lib.sources.records as cs

    monkeypatch.setattr(cs, "MAX_RECORD_BYTES", 1000)
    body = b"".join(b"%d,x,y\n" % i for i in range(20_000))  # ~170 kB: several reads
    p = tmp_path / "f.csv"
    p.write_bytes(b'a,b,c\n1,"broken,z\n' + body)
    rows, lines, bad, sizes = _read(p, 5_000)
    assert bad == [(2, "malformed CSV line: unbalanced quote character", '1,"broken,z')]
    assert len(rows) == 20_000 and rows[-1] == ["19999", "x", "y"]
    assert lines[0] == 3 and lines[-1] == 20_002 and len(sizes) > 2


@pytest.mark.parametrize("chunksize", [1, 2, 100])
def test_quote_free_file_with_bad_lines(tmp_path, chunksize):
    """The quote-free fast path hands wrong field counts back to the general path."""
    p = tmp_path / "f.csv"
    p.write_bytes(b"a,b,c\r\n1,2,3\r\n4,5\r\n   \r\n6,7,8\r\n9,10,11,12\r\n13,14,15")
    rows, lines, bad, sizes = _read(p, chunksize)
    assert rows == [["1", "2", "3"], ["6", "7", "8"], ["13", "14", "15"]]
    assert lines == [2, 5, 7]
    assert bad == [
        (3, "malformed CSV line: expected 3 fields, found 2", "4,5"),
        (4, "malformed CSV line: expected 3 fields, found 1", "   "),
        (6, "malformed CSV line: expected 3 fields, found 4", "9,10,11,12"),
    ]
    assert sum(sizes) == 6 and max(sizes) <= chunksize


@pytest.mark.parametrize(
    ("data", "rows", "lines"),
    [
        (b"a,b\n1,2\rx\n3,4\n", [["1", "2\rx"], ["3", "4"]], [2, 3]),  # a lone CR is data
        (b"a,b\n1,2\n\n3,4\n\n", [["1", "2"], ["3", "4"]], [2, 4]),  # double-spaced LF
        (b"a,b\r\n1,2\r\n\r\n3,4\r\n", [["1", "2"], ["3", "4"]], [2, 4]),  # blank CRLF line
        (b"a,b\r\n1,2\n3,4\r\n", [["1", "2"], ["3", "4"]], [2, 3]),  # mixed line ends
        ("a,b\n1,\u00e9\n\n3,4\n".encode("cp1252"), [["1", "\u00e9"], ["3", "4"]], [2, 4]),
        (b"a,b\n,\n,\n", [["", ""], ["", ""]], [2, 3]),  # empty fields are not blank lines
    ],
)
def test_line_ends_and_blank_lines_in_quote_free_files(tmp_path, data, rows, lines):
    p = tmp_path / "f.csv"
    p.write_bytes(data)
    for chunksize in (1, 100):
        got_rows, got_lines, bad, _ = _read(p, chunksize)
        assert (got_rows, got_lines, bad) == (rows, lines, [])


def test_whole_file_problems(tmp_path):
    from scribe_lib.errors import SourceError

    with pytest.raises(SourceError, match=r"missing.csv: file not found"):
        read_header(tmp_path / "missing.csv")
    with pytest.raises(SourceError, match="not a file"):
        read_header(tmp_path)
    p = tmp_path / "u16.csv"
    p.write_bytes("a,b\n1,2\n".encode("utf-16"))
    with pytest.raises(SourceError, match=r"u16.csv: is UTF-16 text .*save it as 'CSV UTF-8'"):
        read_header(p)


def test_quotes_inside_unquoted_fields_never_shift_fields(tmp_path):
    """A quote inside unquoted text is a character; a line it leaves ambiguous is quarantined."""
    p = tmp_path / "f.csv"
    p.write_bytes(
        b'a,b,c,d\n1,He said "go, away" loudly,x,y\n2,ok,"q",z\n3,5\'10" tall,w,v\n4,fine,u,t\n'
    )
    rows, lines, bad, _ = _read(p, 100)
    assert rows == [["2", "ok", "q", "z"], ["3", "5'10\" tall", "w", "v"], ["4", "fine", "u", "t"]]
    assert lines == [3, 4, 5]
    assert bad == [
        (2, "malformed CSV line: expected 4 fields, found 5", '1,He said "go, away" loudly,x,y')
    ]


def test_two_stray_quotes_lines_apart_do_not_swallow_the_lines_between(tmp_path):
    p = tmp_path / "f.csv"
    rows_in = [
        b'1,He said "get out,Open',
        b"2,fine,Open",
        b"3,ok,Open",
        b'4,she said go" away,Open',
    ]
    p.write_bytes(b"a,b,c\n" + b"\n".join(rows_in) + b"\n")
    rows, lines, bad, _ = _read(p, 100)
    assert lines == [2, 3, 4, 5] and bad == []
    assert rows[0] == ["1", 'He said "get out', "Open"] and rows[3][1] == 'she said go" away'


@pytest.mark.parametrize("seed", range(8))
def test_damaged_files_read_the_same_whatever_the_chunk_size(tmp_path, seed):
    """Stray quotes, broken quotes, short rows, blank lines, CRLF: chunking changes nothing."""
    rng = np.random.default_rng(100 + seed)
    pieces = [
        b"1,two,3", b'"q,1","a ""b""",c', b'x,"multi\nline",z', b"short,row", b"a,b,c,d",
        b'5\'10" tall,b,c', b'he said "hi",b,c', b"", b"   ", b'broken,"open,c', b"\xe9t\xe9,b,c",
    ]  # fmt: skip
    body = [pieces[i] for i in rng.integers(0, len(pieces), 80)]
    eol = b"\r\n" if seed % 2 else b"\n"
    p = tmp_path / "f.csv"
    p.write_bytes(b"a,b,c" + eol + eol.join(body) + eol)
    whole = _read(p, 10_000)
    for chunksize in (1, 3, 17):
        part = _read(p, chunksize)
        assert part[:3] == whole[:3]
    rows, lines, bad, _ = whole
    assert lines == sorted(lines) and all(len(r) == 3 for r in rows)
    # every non-blank physical line is inside an accepted or a quarantined record
    covered = set()
    for start, r in zip(lines, rows, strict=True):
        covered.update(range(start, start + sum(f.count("\n") for f in r) + 1))
    for start, _, raw in bad:
        covered.update(range(start, start + raw.count("\n") + 1))
    physical = (b"a,b,c" + eol + eol.join(body)).split(b"\n")
    wanted = {i + 1 for i, t in enumerate(physical) if t.strip() and i > 0}
    assert wanted <= covered
