"""Ingestion: one partner file becomes one submission, in one transaction.

* The file's sha256 identifies it: an identical file again adds nothing and says so.
* ``supersede=ID`` lets a corrected file replace an earlier submission; the old one is kept
  (``superseded_by`` is set), so history is never lost.
* police.uk publishes one file per force and month; a newer download of the same force-month
  replaces the older one automatically (the older submission is superseded, kept as history).
* Identical rows inside one file are distinct incidents (never deduplicated): each incident's
  id is ``<first 16 hex of the file sha256>-<physical line>``.
* ``accepted + quarantined == rows_read`` is checked for every chunk; an exception, Ctrl-C or
  a kill mid-file rolls the whole submission back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import queue
import sys
import threading
from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from .errors import ConfigError, SourceError, StoreError
from .schema import ADAPTER_COLUMNS, INCIDENT_COLUMNS, QUARANTINE_COLUMNS, conform
from .store import Store, open_store

__all__ = ["ingest", "IngestResult", "file_sha256", "AUTO_SUPERSEDE_SOURCES"]

#: sources that publish one file per partner and month, where a newer download of the same
#: months replaces the older submission automatically.
AUTO_SUPERSEDE_SOURCES = {"police-uk"}


@dataclass(frozen=True)
class IngestResult:
    """What one ingest did. ``duplicate_of`` is set (and nothing added) for a repeated file."""

    path: str
    source: str
    partner: str | None
    sha256: str
    submission_id: int | None = None
    rows_read: int = 0
    accepted: int = 0
    quarantined: int = 0
    covers_from: dt.date | None = None
    covers_to: dt.date | None = None
    superseded: tuple[int, ...] = field(default_factory=tuple)
    duplicate_of: int | None = None

    @property
    def added(self) -> bool:
        """True when the file became a new submission."""
        return self.duplicate_of is None

    def summary(self) -> str:
        """One plain-English line, as ``scribe ingest`` prints it."""
        name = os.path.basename(self.path)
        if self.duplicate_of is not None:
            return (
                f"{name}: identical to submission {self.duplicate_of} already in the store; "
                "nothing added"
            )
        text = (
            f"{name}: {self.rows_read} rows read, {self.accepted} accepted, "
            f"{self.quarantined} quarantined (submission {self.submission_id}, {self.partner})"
        )
        if self.superseded:
            text += "; supersedes submission " + ", ".join(map(str, self.superseded))
        return text


def file_sha256(path: str | os.PathLike) -> str:
    """The hex sha256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _reader(source, partner, area, mapping, options):
    """(source name, reader); the name is the reader's own (a YAML-mapped partner's name)."""
    if isinstance(source, str):
        import inspect

        from .sources import SOURCES

        cls = SOURCES.get(source)
        fixed = ("self", "partner", "area", "mapping")
        params = [p.name for c in cls.__mro__ if "__init__" in vars(c)
                  for p in inspect.signature(c.__init__).parameters.values()
                  if p.kind is p.KEYWORD_ONLY or p.kind is p.POSITIONAL_OR_KEYWORD]  # fmt: skip
        known = [k for k in dict.fromkeys(params) if k not in fixed]
        unknown = [k for k in options if k not in known]
        if unknown:
            raise ConfigError(
                f"the {source!r} source has no option {', '.join(map(repr, unknown))} "
                f"(its options: {', '.join(known) or 'none'})"
            )
        reader = cls(partner=partner, area=area, mapping=mapping, **options)
        return str(getattr(reader, "name", None) or source), reader
    if options or mapping is not None:
        raise ConfigError(
            "mapping= and options= configure a source given by name; "
            "pass them to the reader object instead"
        )
    name = getattr(source, "name", None) or type(source).__name__
    return str(name), source


def _check_supersede(store: Store, supersede) -> list[int]:
    if supersede is None:
        return []
    ids = [supersede] if isinstance(supersede, int | str) else list(supersede)
    out = []
    for sid in ids:
        try:
            sid = int(sid)
        except (TypeError, ValueError):
            raise StoreError(f"supersede={sid!r}: give a submission id (a number)") from None
        sub = store.get_submission(sid)
        if pd.notna(sub["superseded_by"]):
            raise StoreError(
                f"submission {sid} is already superseded by submission {sub['superseded_by']}"
            )
        out.append(sid)
    return out


def ingest(
    path: str | os.PathLike,
    source,
    *,
    partner: str | None = None,
    store: Store | str | None = None,
    supersede: int | list[int] | None = None,
    area=None,
    mapping=None,
    postcodes=None,
    options: dict | None = None,
    chunksize: int = 100_000,
    progress: bool = False,
    note: str | None = None,
) -> IngestResult:
    """Ingest one partner file as one submission, in one transaction.

    Parameters
    ----------
    path : path-like
        The partner's file, exactly as received.
    source : str or reader
        A source name from ``scribe_lib.sources.SOURCES`` (``police-uk``, ``fire``,
        ``council``...), or a reader object with ``read(path, chunksize)``.
    partner : str, optional
        The submitting organisation (e.g. ``bedfordshire-police``); else the adapter's.
    store : Store or str, optional
        The store (default :func:`scribe_lib.open_store`).
    supersede : int or list of int, optional
        Submission(s) this corrected file replaces; they are kept as history.
    area : shapely geometry, optional
        The partnership area in EPSG:27700 (default: the store's ``area`` setting).
    mapping : path, optional
        A YAML mapping for the ``mapping`` source (the submission's ``source`` is then the
        mapping's name, as its incidents'), or an edited category mapping for another.
    postcodes : path or dict, optional
        The ``council`` source's postcode centroid lookup (CSV ``postcode,easting,northing``
        or ``{postcode: (easting, northing)}``); same as ``options={"postcodes": ...}``.
    options : dict, optional
        Further keyword arguments of the source's adapter (an unknown one is refused,
        naming the adapter's options).
    chunksize : int
        Rows per chunk: memory is bounded by this, never by the file.
    progress : bool
        Show a progress bar on stderr.
    note : str, optional
        Free text kept with the submission.

    Returns
    -------
    IngestResult

    Examples
    --------
    >>> import scribe_lib
    >>> r = scribe_lib.ingest("2024-01-bedfordshire-street.csv", "police-uk")  # doctest: +SKIP
    >>> r.summary()  # doctest: +SKIP
    '2024-01-bedfordshire-street.csv: 1200 rows read, 1198 accepted, 2 quarantined (...)'
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise SourceError("no such file", file=path)
    if chunksize < 1:
        raise StoreError(f"chunksize must be a positive number of rows, got {chunksize}")
    options = dict(options or {})
    if postcodes is not None:
        options["postcodes"] = postcodes
    own = not isinstance(store, Store)
    st = open_store(store)
    try:
        return _ingest(
            st, path, source, partner, supersede, area, mapping, options, chunksize, progress, note
        )
    finally:
        if own:
            st.close()


def _ingest(st, path, source, partner, supersede, area, mapping, options, chunksize, progress,
            note):  # fmt: skip
    name, reader = _reader(source, partner, _area(st, area), mapping, options)
    # the adapter starts on the first chunk while the file is hashed (hashlib and Arrow
    # release the GIL); an identical file, or a bad header, then stops it
    try:
        chunks = _Prefetch(reader.read(path, chunksize=chunksize), _incident_table)
        header_error = None
    except SourceError as exc:
        chunks, header_error = None, exc
    try:
        sha = file_sha256(path)
        dup = st.find_submission(sha)
        if dup is not None:
            return IngestResult(
                path, name, dup["partner"], sha, duplicate_of=int(dup["submission_id"])
            )
        if header_error is not None:
            raise header_error
        old_ids = _check_supersede(st, supersede)
    except BaseException:
        if chunks is not None:
            chunks.close()
        raise
    from tqdm.auto import tqdm

    bar = tqdm(desc=os.path.basename(path), unit=" rows", file=sys.stderr, disable=not progress)
    counts = {"rows_read": 0, "accepted": 0, "quarantined": 0}
    months: set[dt.date] = set()
    sid = None
    try:
        # PostgreSQL: the whole file is one transaction. DuckDB (``st.stages_chunks``): the
        # chunks are staged under a reserved id, invisible to every read, and the submission
        # appears in the final transaction, so memory stays bounded by the chunk size.
        with nullcontext() if st.stages_chunks else st.transaction(), st.staging():
            for chunk, table in chunks:
                inc, quar = chunk.incidents, chunk.quarantine
                if chunk.rows_read != len(inc) + len(quar):
                    raise StoreError(
                        f"{path}: the {name} adapter read {chunk.rows_read} rows but returned "
                        f"{len(inc)} incidents and {len(quar)} quarantined; nothing was stored"
                    )
                if sid is None:
                    partner = partner or _first(inc.get("partner")) or name
                    meta = _meta(partner, name, path, sha, note)
                    sid = st.begin_submission(meta)
                if len(inc):
                    st.write_incidents(_with_ids(table, sha, sid, partner))
                    months |= _months(inc["period_start"])
                if len(quar):
                    q = conform(quar, QUARANTINE_COLUMNS)
                    q.insert(0, "submission_id", pd.array([sid] * len(q), dtype="Int64"))
                    st.write_quarantine(q)
                counts["rows_read"] += int(chunk.rows_read)
                counts["accepted"] += len(inc)
                counts["quarantined"] += len(quar)
                bar.update(int(chunk.rows_read))
            if sid is None or counts["rows_read"] == 0:  # a header and no rows
                raise SourceError("the file has no rows", file=path)
            lo = min(months) if months else None
            hi = max(months) if months else None
            with st.transaction():
                auto = getattr(reader, "supersedes_same_months", name in AUTO_SUPERSEDE_SOURCES)
                if auto and lo is not None:
                    old_ids += [
                        i for i in _same_months(st, partner, name, lo, hi, sid) if i not in old_ids
                    ]
                meta.update(covers_from=lo, covers_to=hi, **counts)
                st.publish_submission(sid, meta)
                st.supersede(old_ids, sid)
    except BaseException:
        chunks.close()
        if sid is not None and st.stages_chunks:
            st.discard_submission(sid)
        raise
    finally:
        bar.close()
    return IngestResult(
        path, name, partner, sha, sid, covers_from=lo, covers_to=hi,
        superseded=tuple(old_ids), **counts,
    )  # fmt: skip


def _area(st: Store, area):
    if area is not None:
        return area
    wkt = st.get_setting("area")
    return shapely.from_wkt(wkt) if wkt else None


def _first(series) -> str | None:
    if series is None:
        return None
    s = series.dropna()
    return str(s.iloc[0]) if len(s) else None


def _meta(partner, source, path, sha, note) -> dict:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    return {
        "partner": partner,
        "source": source,
        "filename": os.path.basename(path),
        "sha256": sha,
        "received_at": now,
        "rows_read": 0,
        "accepted": 0,
        "quarantined": 0,
        "note": note,
    }


def _incidents(inc: pd.DataFrame, sha: str, sid: int, partner: str) -> pa.Table:
    """The adapter's accepted rows as an Arrow table of INCIDENT_COLUMNS, ids added."""
    return _with_ids(_incident_table(inc), sha, sid, partner)


def _incident_table(inc: pd.DataFrame) -> pa.Table | None:
    """The adapter columns of accepted rows as an Arrow table (None when there are none).

    Columns the adapter already gives in their schema dtype are taken as they are (Arrow
    text is not copied); only others go through :func:`conform`.
    """
    if not len(inc):
        return None
    if any(str(inc[c].dtype) != t if c in inc else c in ADAPTER_COLUMNS
           for c, t in INCIDENT_COLUMNS.items()):  # fmt: skip
        inc = conform(inc, INCIDENT_COLUMNS)
    if inc["source_line"].isna().any():
        raise StoreError("the adapter returned incidents without source_line; nothing was stored")
    return pa.Table.from_pandas(inc[[c for c in ADAPTER_COLUMNS if c in inc]], preserve_index=False)


def _with_ids(table: pa.Table, sha: str, sid: int, partner: str) -> pa.Table:
    """``table`` in INCIDENT_COLUMNS order with incident_id, submission_id and partner."""
    n = table.num_rows
    ids = pc.binary_join_element_wise(
        f"{sha[:16]}-", pc.cast(table["source_line"], pa.string()), ""
    )
    out = {
        "incident_id": ids,
        "submission_id": pa.array(np.full(n, sid, np.int64)),
        "partner": pc.fill_null(table["partner"], partner),
    }
    return pa.table({c: out[c] if c in out else table[c] for c in INCIDENT_COLUMNS})


def _months(period_start: pd.Series) -> set[dt.date]:
    """The distinct months (their first day) of a column of period starts."""
    m = period_start.to_numpy("datetime64[ns]").astype("datetime64[M]")
    return set(np.unique(m[~np.isnat(m)]).tolist())


class _Prefetch:
    """``(chunk, prepare(chunk.incidents))`` of an adapter's chunks, made by a background
    thread one chunk ahead.

    The adapter (Arrow parsing, numpy validation: mostly outside the GIL) prepares the
    next chunk while the store writes this one (DuckDB and COPY release the GIL too), so
    the two overlap on a multi-core machine. At most two chunks wait besides the one being
    written: memory stays bounded by the chunk size. An exception in the adapter (or a
    KeyboardInterrupt raised inside it) is raised again in the caller's thread; when the
    caller stops early (an error, Ctrl-C: :meth:`close`) the thread stops after its
    current chunk.
    """

    _END = object()

    def __init__(self, chunks, prepare):
        self._queue: queue.Queue = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(chunks, prepare), name="scribe-ingest-reader", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        """Stop the thread after its current chunk."""
        self._stop.set()

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, chunks, prepare) -> None:
        try:
            for chunk in chunks:
                if not self._put(((chunk, prepare(chunk.incidents)), None)):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed over to the caller's thread
            self._put((None, exc))
            return
        finally:
            close = getattr(chunks, "close", None)
            if close is not None and self._stop.is_set():
                close()
        self._put((self._END, None))

    def __iter__(self):
        try:
            while True:
                item, exc = self._queue.get()
                if exc is not None:
                    raise exc
                if item is self._END:
                    return
                yield item
        finally:
            self._stop.set()


def _same_months(st: Store, partner, source, lo, hi, sid) -> list[int]:
    """Active submissions of the same partner and source whose months this file replaces."""
    subs = st.submissions(active_only=True)
    subs = subs[(subs.partner == partner) & (subs.source == source) & (subs.submission_id != sid)]
    subs = subs.dropna(subset=["covers_from"])
    lo_ts, hi_ts = pd.Timestamp(lo), pd.Timestamp(hi)
    out = []
    for row in subs.itertuples():
        inside = row.covers_from >= lo_ts and row.covers_to <= hi_ts
        overlap = row.covers_from <= hi_ts and row.covers_to >= lo_ts
        if inside:
            out.append(int(row.submission_id))
        elif overlap:
            raise StoreError(
                f"this file ({lo:%Y-%m}..{hi:%Y-%m}) overlaps submission {row.submission_id} "
                f"({row.covers_from:%Y-%m}..{row.covers_to:%Y-%m}) only in part; nothing was "
                f"stored. Ingest a file covering all its months, or pass --supersede "
                f"{row.submission_id}"
            )
    return out
