"""The embedded store: one DuckDB file, no server, no set-up.

DuckDB is columnar (the group-bys behind tables and trends scan only the columns they need),
keeps everything in one file an analyst can copy, appends pandas/Arrow frames in bulk without a
row-by-row loop, and has real transactions (an interrupted ingest leaves nothing behind).
Points are kept as ``easting``/``northing`` columns and locality boundaries as WKB; locality
filters run inside the SQL query, through a vectorised shapely function registered on the
connection (no spatial extension to download).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache

import duckdb
import geopandas as gpd
import pandas as pd
import pyarrow as pa
import shapely

from ..errors import StoreError
from ..schema import CRS, INCIDENT_COLUMNS, QUARANTINE_COLUMNS
from .base import SUBMISSION_COLUMNS, Store, as_arrow_table

__all__ = ["DuckDBStore"]

_SQL_TYPES = {
    "string": "VARCHAR",
    "Int64": "BIGINT",
    "float64": "DOUBLE",
    "datetime64[ns]": "TIMESTAMP",
}


def _columns_ddl(columns: dict[str, str], overrides: dict[str, str] | None = None) -> str:
    overrides = overrides or {}
    return ", ".join(f"{c} {overrides.get(c, _SQL_TYPES[t])}" for c, t in columns.items())


_SUBMISSION_TYPES = {
    "submission_id": "BIGINT DEFAULT nextval('submission_seq') NOT NULL",
    "partner": "VARCHAR NOT NULL",
    "source": "VARCHAR NOT NULL",
    "sha256": "VARCHAR NOT NULL",
    "received_at": "TIMESTAMP NOT NULL",
    "covers_from": "DATE",
    "covers_to": "DATE",
}

DDL = [
    "CREATE SEQUENCE IF NOT EXISTS submission_seq START 1",
    f"CREATE TABLE IF NOT EXISTS submissions ({_columns_ddl(SUBMISSION_COLUMNS, _SUBMISSION_TYPES)})",
    f"CREATE TABLE IF NOT EXISTS incidents ({_columns_ddl(INCIDENT_COLUMNS)})",
    f"CREATE TABLE IF NOT EXISTS quarantine (submission_id BIGINT NOT NULL, "
    f"{_columns_ddl(QUARANTINE_COLUMNS)})",
    "CREATE TABLE IF NOT EXISTS localities (name VARCHAR NOT NULL, kind VARCHAR NOT NULL, "
    "label VARCHAR, geom BLOB NOT NULL, minx DOUBLE, miny DOUBLE, maxx DOUBLE, maxy DOUBLE)",
    "CREATE TABLE IF NOT EXISTS settings (key VARCHAR NOT NULL, value VARCHAR)",
]


#: (path, submission id) of ingests staging in this process: not stale, never discarded by
#: another Store opened on the same file meanwhile (DuckDB's file lock covers other processes).
_IN_FLIGHT: set[tuple[str, int]] = set()
#: staged incident rows committed together by :meth:`DuckDBStore.staging`: one row group
#: (more rows per commit measured no faster, and holds more memory).
_STAGE_ROWS = 122_880
_CONNECTIONS = itertools.count(1)

#: Arrow -> pandas dtypes of the schema (zero-copy strings, nullable integers).
_ARROW_TO_PANDAS = {
    pa.string(): pd.StringDtype("pyarrow"),
    pa.large_string(): pd.StringDtype("pyarrow"),
    pa.string_view(): pd.StringDtype("pyarrow"),
    pa.int64(): pd.Int64Dtype(),
    pa.int32(): pd.Int64Dtype(),
}


@lru_cache(maxsize=16)
def _prepared(wkb: bytes):
    geom = shapely.from_wkb(wkb)
    shapely.prepare(geom)
    return geom


def _covers(wkb: pa.Array, x: pa.Array, y: pa.Array) -> pa.Array:
    """Vectorised point-in-polygon (edges count in) for DuckDB, one prepared polygon per query."""
    if len(wkb) == 0:
        return pa.array([], type=pa.bool_())
    geom = _prepared(wkb[0].as_py())
    xs = x.to_numpy(zero_copy_only=False)
    ys = y.to_numpy(zero_copy_only=False)
    return pa.array(shapely.intersects_xy(geom, xs, ys))


class DuckDBStore(Store):
    """SCRIBE's embedded store in a single DuckDB file.

    Parameters
    ----------
    url : str
        Path of the ``.duckdb`` file (created if missing), ``duckdb:///path`` or ``:memory:``.
    read_only : bool
        Open read-only, so several processes (e.g. app kernels) can read one file at once.
        A writer needs the file to itself.
    """

    backend = "duckdb"

    def __init__(self, url: str, *, read_only: bool = False):
        super().__init__(url, read_only=read_only)
        path = url.removeprefix("duckdb://") if url.startswith("duckdb://") else url
        self.path = path
        if read_only and path != ":memory:" and not os.path.exists(path):
            raise StoreError(f"store {path} does not exist; create it with `scribe init`")
        try:
            self.con = duckdb.connect(path, read_only=read_only)
        except duckdb.Error as exc:
            raise StoreError(f"cannot open the store {path}: {exc}") from exc
        self._depth = 0
        self.con.execute("SET enable_progress_bar = false")  # a library never prints
        # one name per connection: connections of one process share DuckDB's catalog
        self._covers_fn = f"scribe_covers_{next(_CONNECTIONS)}"
        self.con.create_function(
            self._covers_fn,
            _covers,
            ["BLOB", "DOUBLE", "DOUBLE"],
            "BOOLEAN",
            type="arrow",
            null_handling="special",
            side_effects=False,
        )
        if not read_only:
            self.init()

    def init(self) -> None:
        with self.transaction():
            for stmt in DDL:
                self.con.execute(stmt)
        self._discard_stale_staging()

    def close(self) -> None:
        self.con.close()

    def table(self, name: str) -> str:
        return name

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self._commit_staged()
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self.con.begin()
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            self.con.rollback()
            raise
        self._depth = 0
        self.con.commit()

    def execute(self, sql: str, params: Sequence = ()) -> list[tuple]:
        cur = self.con.execute(sql, list(params))
        try:
            return cur.fetchall()
        except duckdb.InvalidInputError:  # statement returned no result set
            return []

    def frame(self, sql: str, params: Sequence = ()) -> pd.DataFrame:
        table = self.con.sql(sql, params=list(params)).to_arrow_table()
        return table.to_pandas(types_mapper=_ARROW_TO_PANDAS.get)

    def insert_submission(self, meta: dict) -> int:
        cols = list(meta)
        rows = self.execute(
            f"INSERT INTO submissions ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
            "RETURNING submission_id",
            list(meta.values()),
        )
        return int(rows[0][0])

    # Ingest stages each chunk in its own small commit under a reserved submission id; no
    # read sees them (reads join an active submission) until publish_submission inserts the
    # submission row in one transaction. DuckDB's transaction-local storage would otherwise
    # hold the whole file in memory. Rows staged by a killed ingest are removed on next open.
    stages_chunks = True

    def begin_submission(self, meta: dict) -> int:
        sid = int(self.execute("SELECT nextval('submission_seq')")[0][0])
        _IN_FLIGHT.add((self.path, sid))
        self.execute("INSERT INTO settings (key, value) VALUES (?, ?)", [f"staging:{sid}", None])
        return sid

    def publish_submission(self, submission_id: int, meta: dict) -> None:
        cols = ["submission_id", *meta]
        self.execute(
            f"INSERT INTO submissions ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            [submission_id, *meta.values()],
        )
        self.execute("DELETE FROM settings WHERE key = ?", [f"staging:{submission_id}"])
        _IN_FLIGHT.discard((self.path, submission_id))

    def discard_submission(self, submission_id: int) -> None:
        with self.transaction():
            for table in ("incidents", "quarantine"):
                self.execute(f"DELETE FROM {table} WHERE submission_id = ?", [submission_id])
            self.execute("DELETE FROM settings WHERE key = ?", [f"staging:{submission_id}"])
        _IN_FLIGHT.discard((self.path, submission_id))

    def _discard_stale_staging(self) -> None:
        for (key,) in self.execute("SELECT key FROM settings WHERE key LIKE 'staging:%'"):
            sid = int(key.split(":", 1)[1])
            if (self.path, sid) in _IN_FLIGHT:  # being ingested by this process right now
                continue
            if not self.execute("SELECT 1 FROM submissions WHERE submission_id = ?", [sid]):
                self.discard_submission(sid)
            else:  # pragma: no cover - published, marker left by a crash between statements
                self.execute("DELETE FROM settings WHERE key = ?", [key])

    @contextmanager
    def staging(self) -> Iterator[None]:
        """Group the staged chunk writes of an ingest into commits of at least a row group.

        DuckDB writes the whole row groups (122,880 rows) of a commit straight into the
        database file, compressed; a smaller commit goes to the write-ahead log first and is
        compressed again at the next checkpoint (an eighth more CPU for an ingest). Memory
        stays bounded: fewer than ``_STAGE_ROWS`` + one chunk's rows wait uncommitted. The insert runs on one thread, so
        the adapter preparing the next chunk has the other core. An exception rolls back
        what waits (the ingest then discards what was committed).
        """
        self._staged, self._staging = 0, True
        threads = self.execute("SELECT current_setting('threads')")[0][0]
        self.con.execute("SET threads = 1")
        try:
            yield
            self._commit_staged()
        except BaseException:
            if self._staged_open:
                self._staged_open = False
                self.con.rollback()
            raise
        finally:
            self._staging = False
            self.con.execute(f"SET threads = {int(threads)}")

    _staging = False
    _staged_open = False

    def _commit_staged(self) -> None:
        if self._staged_open:
            self._staged_open = False
            self.con.commit()
        self._staged = 0

    def _append(self, table: str, data: pa.Table) -> None:
        if data.num_rows == 0:
            return
        group = self._staging and self._depth == 0
        if group and not self._staged_open:
            self.con.begin()
            self._staged_open = True
        name = f"_scribe_batch_{table}"
        self.con.register(name, data)  # DuckDB scans the Arrow buffers directly
        try:
            cols = ", ".join(data.column_names)
            self.con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {name}").fetchall()
        finally:
            self.con.unregister(name)
        if group and table == "incidents":
            self._staged += data.num_rows
            if self._staged >= _STAGE_ROWS:
                self._commit_staged()

    def write_incidents(self, df: pd.DataFrame | pa.Table) -> None:
        self._append("incidents", as_arrow_table(df, INCIDENT_COLUMNS))

    def write_quarantine(self, df: pd.DataFrame | pa.Table) -> None:
        self._append("quarantine", as_arrow_table(df, ["submission_id", *QUARANTINE_COLUMNS]))

    def _locality_clause(self, geometry) -> tuple[str, list]:
        minx, miny, maxx, maxy = geometry.bounds
        return (
            "easting BETWEEN ? AND ? AND northing BETWEEN ? AND ? "
            f"AND {self._covers_fn}(?::BLOB, easting, northing)",
            [minx, maxx, miny, maxy, shapely.to_wkb(geometry)],
        )

    def _month_sql(self, column: str) -> str:
        return f"CAST(date_trunc('month', {column}) AS DATE)"

    def write_localities(self, gdf: gpd.GeoDataFrame, kind: str) -> int:
        rows = []
        for name, label, geom in zip(gdf["name"], gdf["label"], gdf.geometry, strict=True):
            rows.append((name, kind, label, shapely.to_wkb(geom), *geom.bounds))
        with self.transaction():
            for name, *_ in rows:
                self.execute("DELETE FROM localities WHERE kind = ? AND name = ?", [kind, name])
            if rows:
                self.con.executemany("INSERT INTO localities VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        return len(rows)

    def read_localities(self, kind: str | None = None, name: str | None = None):
        df = self._locality_rows("SELECT name, kind, label, geom FROM localities", kind, name)
        geoms = shapely.from_wkb([bytes(b) for b in df["geom"]]) if len(df) else []
        return gpd.GeoDataFrame(
            {c: df[c].astype("string") for c in ("name", "kind", "label")},
            geometry=gpd.GeoSeries(geoms, crs=CRS),
            crs=CRS,
        )
