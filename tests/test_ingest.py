"""Ingestion semantics on both backends: submissions, duplicates, supersession, transactions."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import TinyMonthly, TinyReader, write_tiny

import scribe_lib
from scribe_lib import NotFoundError, SourceError, StoreError
from scribe_lib.ingest import file_sha256


def _month_rows(month, n, tag=""):
    return [(f"{tag}{i}", month, str(500000 + i), "220000", "Burglary", tag) for i in range(n)]


def _state(store):
    """Everything the store holds, to compare before/after a failed ingest."""
    return (
        len(store.submissions()),
        store.execute(f"SELECT count(*) FROM {store.table('incidents')}")[0][0],
        store.execute(f"SELECT count(*) FROM {store.table('quarantine')}")[0][0],
    )


def test_a_submission_records_hash_partner_counts_and_months(store, tmp_path):
    rows = (
        _month_rows("2024-01", 3) + _month_rows("2024-02", 2) + [("q", "2024-02", "", "", "??", "")]
    )
    path = write_tiny(tmp_path / "f.csv", rows)
    r = scribe_lib.ingest(path, TinyReader(partner="beds-police"), store=store, note="first")
    assert (r.rows_read, r.accepted, r.quarantined) == (6, 5, 1)
    assert r.summary() == (
        "f.csv: 6 rows read, 5 accepted, 1 quarantined (submission 1, beds-police)"
    )
    sub = store.get_submission(r.submission_id)
    assert sub["sha256"] == file_sha256(path) and len(sub["sha256"]) == 64
    assert (sub["partner"], sub["source"], sub["filename"], sub["note"]) == (
        "beds-police", "tiny", "f.csv", "first")  # fmt: skip
    assert (sub["rows_read"], sub["accepted"], sub["quarantined"]) == (6, 5, 1)
    assert sub["covers_from"] == pd.Timestamp("2024-01-01")
    assert sub["covers_to"] == pd.Timestamp("2024-02-01")
    assert pd.notna(sub["received_at"])
    q = store.quarantine(r.submission_id)
    assert q[["line", "field", "value", "reason"]].values.tolist() == [
        [7, "type", "??", "category has no mapping"]
    ]
    assert q["raw"].tolist() == ["q,2024-02,,,??,"]


def test_accepted_plus_quarantined_is_rows_read_across_chunks(store, tmp_path):
    rows = [(str(i), "2024-01", "", "", "ASB" if i % 7 else "X", "") for i in range(101)]
    path = write_tiny(tmp_path / "f.csv", rows)
    r = scribe_lib.ingest(path, TinyReader(), store=store, chunksize=10)
    assert r.rows_read == 101 and r.accepted + r.quarantined == r.rows_read
    assert r.quarantined == sum(1 for i in range(101) if i % 7 == 0)
    assert store.count_incidents() == r.accepted
    lines = sorted(
        scribe_lib.load(store)["source_line"].tolist() + store.quarantine()["line"].tolist()
    )
    assert lines == list(range(2, 103))  # every physical line accounted for once


def test_identical_file_again_adds_nothing_and_says_so(store, tmp_path):
    path = write_tiny(tmp_path / "f.csv", _month_rows("2024-01", 4))
    first = scribe_lib.ingest(path, TinyReader(), store=store)
    copy = tmp_path / "renamed.csv"
    copy.write_bytes((tmp_path / "f.csv").read_bytes())
    again = scribe_lib.ingest(copy, TinyReader(), store=store)
    assert again.duplicate_of == first.submission_id and not again.added
    assert again.accepted == 0 and again.submission_id is None
    assert "identical to submission 1 already in the store; nothing added" in again.summary()
    assert _state(store) == (1, 4, 0)


def test_identical_rows_in_one_file_are_distinct_incidents(store, tmp_path):
    row = ("", "2024-01", "500100", "220100", "ASB", "same")
    path = write_tiny(tmp_path / "f.csv", [row, row, row])
    r = scribe_lib.ingest(path, TinyReader(), store=store)
    gdf = scribe_lib.load(store)
    assert r.accepted == 3 and len(gdf) == 3
    assert gdf["incident_id"].nunique() == 3
    sha16 = file_sha256(path)[:16]
    assert sorted(gdf["incident_id"]) == [f"{sha16}-{line}" for line in (2, 3, 4)]


def test_no_location_incidents_are_stored_counted_and_left_off_maps(store, tmp_path):
    rows = [("a", "2024-01", "", "", "ASB", ""), ("b", "2024-01", "500000", "220000", "ASB", "")]
    scribe_lib.ingest(write_tiny(tmp_path / "f.csv", rows), TinyReader(), store=store)
    assert len(scribe_lib.load(store)) == 2
    assert store.count_incidents() == 2
    assert store.count_incidents(by="month")["n"].tolist() == [2]
    assert scribe_lib.load(store, located_only=True)["source_record_id"].tolist() == ["b"]


def test_a_corrected_file_supersedes_keeping_history(store, tmp_path):
    old = scribe_lib.ingest(
        write_tiny(tmp_path / "v1.csv", _month_rows("2024-01", 3, "old")), TinyReader(), store=store
    )
    new = scribe_lib.ingest(
        write_tiny(tmp_path / "v2.csv", _month_rows("2024-01", 2, "new")),
        TinyReader(),
        store=store,
        supersede=old.submission_id,
    )
    assert new.superseded == (old.submission_id,)
    assert "supersedes submission 1" in new.summary()
    assert sorted(scribe_lib.load(store)["source_record_id"]) == ["new0", "new1"]
    subs = store.submissions()
    assert subs["superseded_by"].tolist() == [new.submission_id, pd.NA]
    assert _state(store) == (2, 5, 0)  # history kept
    with pytest.raises(StoreError, match="submission 1 is already superseded by submission 2"):
        scribe_lib.ingest(
            write_tiny(tmp_path / "v3.csv", _month_rows("2024-01", 1, "v3")),
            TinyReader(),
            store=store,
            supersede=1,
        )
    with pytest.raises(NotFoundError, match="no submission 99; see `scribe submissions`"):
        scribe_lib.ingest(tmp_path / "v3.csv", TinyReader(), store=store, supersede=99)
    with pytest.raises(StoreError, match="supersede='x': give a submission id"):
        scribe_lib.ingest(tmp_path / "v3.csv", TinyReader(), store=store, supersede="x")
    assert _state(store) == (2, 5, 0)


def test_a_newer_download_of_the_same_partner_month_replaces_the_older(store, tmp_path):
    jan1 = scribe_lib.ingest(
        write_tiny(tmp_path / "jan.csv", _month_rows("2024-01", 3, "a")), TinyMonthly(), store=store
    )
    feb = scribe_lib.ingest(
        write_tiny(tmp_path / "feb.csv", _month_rows("2024-02", 2, "f")), TinyMonthly(), store=store
    )
    other = scribe_lib.ingest(
        write_tiny(tmp_path / "jan-other.csv", _month_rows("2024-01", 1, "o")),
        TinyMonthly(partner="another-force"),
        store=store,
    )
    jan2 = scribe_lib.ingest(
        write_tiny(tmp_path / "jan-new.csv", _month_rows("2024-01", 4, "b")),
        TinyMonthly(),
        store=store,
    )
    assert jan2.superseded == (jan1.submission_id,)
    active = store.submissions(active_only=True)["submission_id"].tolist()
    assert active == [feb.submission_id, other.submission_id, jan2.submission_id]
    jan = scribe_lib.load(store, partner="tiny-partner", start="2024-01", end="2024-01")
    assert sorted(jan["source_record_id"]) == ["b0", "b1", "b2", "b3"]
    assert len(store.submissions()) == 4  # the older download is kept as history


def test_a_partial_month_overlap_is_refused_and_stores_nothing(store, tmp_path):
    rows = _month_rows("2024-01", 1, "j") + _month_rows("2024-02", 1, "f")
    scribe_lib.ingest(write_tiny(tmp_path / "jf.csv", rows), TinyMonthly(), store=store)
    before = _state(store)
    rows = _month_rows("2024-02", 1, "g") + _month_rows("2024-03", 1, "m")
    with pytest.raises(
        StoreError, match=r"overlaps submission 1 \(2024-01..2024-02\) only in part"
    ):
        scribe_lib.ingest(write_tiny(tmp_path / "fm.csv", rows), TinyMonthly(), store=store)
    assert _state(store) == before


class _Exploding(TinyReader):
    """Yields one good chunk, then fails like a disk error or a Ctrl-C would."""

    def __init__(self, exc, **kw):
        super().__init__(**kw)
        self.exc = exc

    def read(self, path, chunksize=100_000):
        for i, chunk in enumerate(super().read(path, chunksize)):
            if i == 1:
                raise self.exc
            yield chunk


@pytest.mark.parametrize("exc", [OSError("disk on fire"), KeyboardInterrupt()])
def test_an_interrupted_ingest_leaves_no_partial_submission(store, tmp_path, exc):
    scribe_lib.ingest(
        write_tiny(tmp_path / "ok.csv", _month_rows("2024-01", 2)), TinyReader(), store=store
    )
    before = _state(store)
    rows = [(str(i), "2024-02", "", "", "ASB" if i % 3 else "bad", "") for i in range(30)]
    path = write_tiny(tmp_path / "big.csv", rows)
    with pytest.raises(type(exc)):
        scribe_lib.ingest(path, _Exploding(exc), store=store, chunksize=10)
    assert _state(store) == before
    r = scribe_lib.ingest(path, TinyReader(), store=store, chunksize=10)  # not a "duplicate"
    assert r.added and r.rows_read == 30


class _Miscounting(TinyReader):
    def read(self, path, chunksize=100_000):
        for chunk in super().read(path, chunksize):
            chunk.rows_read += 1
            yield chunk


def test_an_adapter_that_loses_rows_is_refused(store, tmp_path):
    path = write_tiny(tmp_path / "f.csv", _month_rows("2024-01", 2))
    with pytest.raises(StoreError, match="read 3 rows but returned 2 incidents and 0 quarantined"):
        scribe_lib.ingest(path, _Miscounting(), store=store)
    assert _state(store) == (0, 0, 0)


def test_bad_arguments(store, tmp_path):
    with pytest.raises(SourceError, match="nope.csv: no such file"):
        scribe_lib.ingest(tmp_path / "nope.csv", TinyReader(), store=store)
    path = write_tiny(tmp_path / "f.csv", _month_rows("2024-01", 1))
    with pytest.raises(StoreError, match="chunksize must be a positive number of rows, got 0"):
        scribe_lib.ingest(path, TinyReader(), store=store, chunksize=0)
    empty = write_tiny(tmp_path / "empty.csv", [])
    with pytest.raises(SourceError, match="empty.csv: the file has no rows"):
        scribe_lib.ingest(empty, TinyReader(), store=store)
    assert _state(store) == (0, 0, 0)


def test_ingest_does_not_mutate_the_adapter_frames(store, tmp_path):
    seen = []

    class Spy(TinyReader):
        def read(self, path, chunksize=100_000):
            for chunk in super().read(path, chunksize):
                seen.append((chunk.incidents, chunk.incidents.copy()))
                yield chunk

    scribe_lib.ingest(write_tiny(tmp_path / "f.csv", _month_rows("2024-01", 3)), Spy(), store=store)
    for frame, copy in seen:
        pd.testing.assert_frame_equal(frame, copy)


def test_store_given_as_url_is_opened_and_closed(store_url, tmp_path):
    path = write_tiny(tmp_path / "f.csv", _month_rows("2024-01", 2))
    r = scribe_lib.ingest(path, TinyReader(), store=store_url)
    assert r.accepted == 2
    assert len(scribe_lib.load(store_url)) == 2
    assert scribe_lib.coverage(store_url)["status"].tolist() == ["data"]


def test_duckdb_staged_chunks_are_invisible_until_published(tmp_path):
    """DuckDB stages chunks outside the transaction (bounded memory); nothing is seen before
    publication, and what a killed ingest staged is gone when the store is next opened."""
    from scribe_lib.ingest import _incidents, _meta
    from scribe_lib.store.duckdb_store import _IN_FLIGHT

    url = str(tmp_path / "s.duckdb")
    store = scribe_lib.open_store(url)
    assert store.stages_chunks
    path = write_tiny(tmp_path / "f.csv", _month_rows("2024-01", 3))
    chunk = next(TinyReader().read(path))
    sid = store.begin_submission(_meta("p", "tiny", path, "ab" * 32, None))
    store.write_incidents(_incidents(chunk.incidents, "ab" * 32, sid, "p"))
    assert store.execute("SELECT count(*) FROM incidents")[0][0] == 3  # staged
    assert len(scribe_lib.load(store)) == 0 and store.count_incidents() == 0
    assert scribe_lib.coverage(store).empty
    with scribe_lib.open_store(url) as meanwhile:  # same process, mid-ingest: left alone
        assert meanwhile.execute("SELECT count(*) FROM incidents")[0][0] == 3
    store.close()  # as if killed: neither published nor discarded, and the process gone
    _IN_FLIGHT.discard((store.path, sid))
    with scribe_lib.open_store(url) as again:
        assert again.execute("SELECT count(*) FROM incidents")[0][0] == 0
        assert again.get_setting(f"staging:{sid}") is None
        r = scribe_lib.ingest(path, TinyReader(), store=again)
        assert r.submission_id == sid + 1 and len(scribe_lib.load(again)) == 3
