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
import sys
from contextlib import nullcontext
from dataclasses import dataclass, field

import pandas as pd
import shapely

from .errors import SourceError, StoreError
from .schema import INCIDENT_COLUMNS, QUARANTINE_COLUMNS, conform
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


def _reader(source, partner, area, mapping):
    if isinstance(source, str):
        from .sources import SOURCES

        return source, SOURCES.get(source)(partner=partner, area=area, mapping=mapping)
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
        A YAML mapping for the ``mapping`` source.
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
    own = not isinstance(store, Store)
    st = open_store(store)
    try:
        return _ingest(
            st, path, source, partner, supersede, area, mapping, chunksize, progress, note
        )
    finally:
        if own:
            st.close()


def _ingest(st, path, source, partner, supersede, area, mapping, chunksize, progress, note):
    sha = file_sha256(path)
    name, reader = _reader(source, partner, _area(st, area), mapping)
    dup = st.find_submission(sha)
    if dup is not None:
        return IngestResult(path, name, dup["partner"], sha, duplicate_of=int(dup["submission_id"]))
    old_ids = _check_supersede(st, supersede)
    from tqdm.auto import tqdm

    bar = tqdm(desc=os.path.basename(path), unit=" rows", file=sys.stderr, disable=not progress)
    counts = {"rows_read": 0, "accepted": 0, "quarantined": 0}
    months: set[pd.Timestamp] = set()
    sid = None
    try:
        # PostgreSQL: the whole file is one transaction. DuckDB (``st.stages_chunks``): the
        # chunks are staged under a reserved id, invisible to every read, and the submission
        # appears in the final transaction, so memory stays bounded by the chunk size.
        with nullcontext() if st.stages_chunks else st.transaction():
            for chunk in reader.read(path, chunksize=chunksize):
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
                    st.write_incidents(_incidents(inc, sha, sid, partner))
                    months.update(inc["period_start"].dropna().dt.to_period("M").unique())
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
            lo = min(months).to_timestamp().date() if months else None
            hi = max(months).to_timestamp().date() if months else None
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


def _incidents(inc: pd.DataFrame, sha: str, sid: int, partner: str) -> pd.DataFrame:
    out = conform(inc, INCIDENT_COLUMNS)
    line = out["source_line"]
    if line.isna().any():
        raise StoreError("the adapter returned incidents without source_line; nothing was stored")
    out["incident_id"] = (sha[:16] + "-" + line.astype("int64").astype(str)).astype("string")
    out["submission_id"] = pd.array([sid] * len(out), dtype="Int64")
    out["partner"] = out["partner"].fillna(partner)
    return out


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
