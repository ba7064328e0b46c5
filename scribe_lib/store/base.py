"""The store interface shared by the embedded (DuckDB) and PostgreSQL/PostGIS backends.

Logical tables, identical on both backends (PostgreSQL puts them in schema ``scribe``):

* ``submissions`` - one row per ingested file, with its sha256, counts and the months it covers;
* ``incidents`` - :data:`~scribe_lib.schema.INCIDENT_COLUMNS` (+ ``geom`` on PostGIS);
* ``quarantine`` - ``submission_id`` + :data:`~scribe_lib.schema.QUARANTINE_COLUMNS`;
* ``localities`` - named boundaries (``name, kind, label, geom``) in EPSG:27700;
* ``settings`` - ``key, value`` pairs (the partnership area, as WKT).

Every read of incidents goes through :meth:`Store.incidents_relation`, so the access layer
can point a PostgreSQL store at row-level-secured views without touching anything else.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext

import pandas as pd
import pyarrow as pa

from ..errors import NotFoundError, StoreError
from ..schema import INCIDENT_COLUMNS, QUARANTINE_COLUMNS

__all__ = ["Store", "SUBMISSION_COLUMNS", "month_bounds", "as_list"]

#: column -> pandas dtype of the submissions table.
SUBMISSION_COLUMNS: dict[str, str] = {
    "submission_id": "Int64",
    "partner": "string",
    "source": "string",
    "filename": "string",
    "sha256": "string",
    "received_at": "datetime64[ns]",
    "rows_read": "Int64",
    "accepted": "Int64",
    "quarantined": "Int64",
    "covers_from": "datetime64[ns]",
    "covers_to": "datetime64[ns]",
    "superseded_by": "Int64",
    "note": "string",
}


def as_list(value: str | Sequence[str] | None, name: str) -> list[str] | None:
    """Normalise a ``str`` or list filter to a list (``None`` stays ``None``)."""
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    out = list(value)
    if not all(isinstance(v, str) for v in out):
        raise StoreError(f"{name} must be a string or a list of strings, got {value!r}")
    return out


def _month(value: str | dt.date | None, name: str) -> pd.Timestamp | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            ts = pd.Timestamp(dt.datetime.strptime(value.strip(), "%Y-%m"))
        except ValueError:
            raise StoreError(f"{name}={value!r}: give a month as YYYY-MM, e.g. 2024-01") from None
    elif isinstance(value, dt.date):
        ts = pd.Timestamp(value)
    else:
        raise StoreError(f"{name}={value!r}: give a month as 'YYYY-MM' or a date")
    return ts.normalize().replace(day=1)


def month_bounds(start, end) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """``(first day of start's month, first day of the month after end)``; both inclusive by month."""
    lo, hi = _month(start, "start"), _month(end, "end")
    if hi is not None:
        hi = hi + pd.DateOffset(months=1)
    if lo is not None and hi is not None and lo >= hi:
        raise StoreError(f"start {start!r} is after end {end!r}")
    return lo, hi


class Store(ABC):
    """A SCRIBE store. Obtain one with :func:`scribe_lib.open_store`.

    Subclasses implement the backend-specific parts (DDL, bulk writes, geometry); the SQL
    common to both lives here and uses ``?`` placeholders (parameterised, never formatted).
    """

    #: registry name of the backend ("duckdb", "postgres").
    backend: str = ""

    def __init__(self, url: str, *, read_only: bool = False):
        self.url = url
        self.read_only = read_only

    # -- lifecycle -----------------------------------------------------------------------
    @abstractmethod
    def init(self) -> None:
        """Create the tables if they do not exist (idempotent)."""

    @abstractmethod
    def close(self) -> None:
        """Close the connection."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.display_url}>"

    @property
    def display_url(self) -> str:
        """The URL without any password."""
        return self.url

    @abstractmethod
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything inside is committed together or rolled back together."""

    @abstractmethod
    def table(self, name: str) -> str:
        """The qualified SQL name of a logical table."""

    @abstractmethod
    def execute(self, sql: str, params: Sequence = ()) -> list[tuple]:
        """Run parameterised SQL (``?`` placeholders) and return all rows (``[]`` if none)."""

    @abstractmethod
    def frame(self, sql: str, params: Sequence = ()) -> pd.DataFrame:
        """Run parameterised SQL and return a DataFrame."""

    # -- writes used by the ingest (inside one transaction) --------------------------------
    @abstractmethod
    def insert_submission(self, meta: dict) -> int:
        """Insert a submission row (counts filled in later) and return its id."""

    @abstractmethod
    def write_incidents(self, df: pd.DataFrame | pa.Table) -> None:
        """Bulk-append incidents (a DataFrame or Arrow table with INCIDENT_COLUMNS)."""

    @abstractmethod
    def write_quarantine(self, df: pd.DataFrame | pa.Table) -> None:
        """Bulk-append quarantine rows (``submission_id`` + QUARANTINE_COLUMNS)."""

    #: True when ingest writes chunks outside the transaction, staged under a reserved
    #: submission id that no read sees until :meth:`publish_submission` (DuckDB: its
    #: transaction-local storage would otherwise grow with the file).
    stages_chunks: bool = False

    def staging(self):
        """A context in which the ingest writes its chunks (a backend may group them)."""
        return nullcontext()

    def begin_submission(self, meta: dict) -> int:
        """Start a submission (inside the ingest transaction) and return its id."""
        return self.insert_submission(meta)

    def publish_submission(self, submission_id: int, meta: dict) -> None:
        """Make the submission visible with its final counts and covered months."""
        keys = ("rows_read", "accepted", "quarantined", "covers_from", "covers_to")
        self.finish_submission(submission_id, **{k: meta[k] for k in keys})

    def finish_submission(self, submission_id: int, **values) -> None:
        """Set the counts and covered months of a submission."""
        cols = ", ".join(f"{k} = ?" for k in values)
        self.execute(
            f"UPDATE {self.table('submissions')} SET {cols} WHERE submission_id = ?",
            [*values.values(), submission_id],
        )

    def discard_submission(self, submission_id: int) -> None:
        """Remove what an interrupted ingest staged (nothing to do when it was one transaction)."""
        return None

    def supersede(self, old_ids: Sequence[int], new_id: int) -> None:
        """Mark submissions ``old_ids`` as superseded by ``new_id`` (history is kept)."""
        for old in old_ids:
            self.execute(
                f"UPDATE {self.table('submissions')} SET superseded_by = ? WHERE submission_id = ?",
                [new_id, old],
            )

    # -- settings ----------------------------------------------------------------------------
    def get_setting(self, key: str) -> str | None:
        rows = self.execute(f"SELECT value FROM {self.table('settings')} WHERE key = ?", [key])
        return rows[0][0] if rows else None

    def set_setting(self, key: str, value: str | None) -> None:
        with self.transaction():
            self.execute(f"DELETE FROM {self.table('settings')} WHERE key = ?", [key])
            if value is not None:
                self.execute(
                    f"INSERT INTO {self.table('settings')} (key, value) VALUES (?, ?)", [key, value]
                )

    # -- reads -------------------------------------------------------------------------------
    def readable(self, name: str) -> bool:
        """Whether this connection may read the logical table ``name`` (a hub user reads
        only what the data-sharing agreement shares with it)."""
        return True

    def incidents_relation(self) -> str:
        """The SQL relation of the incidents this connection may read: the one read path.

        By default the active incidents (their submission not superseded). The access layer
        overrides this on PostgreSQL to read row-level-secured views instead.
        """
        return (
            f"(SELECT i.* FROM {self.table('incidents')} i JOIN {self.table('submissions')} s "
            "ON s.submission_id = i.submission_id WHERE s.superseded_by IS NULL)"
        )

    def submissions(self, *, active_only: bool = False) -> pd.DataFrame:
        """All submissions (newest last), or only those not superseded."""
        where = "WHERE superseded_by IS NULL" if active_only else ""
        df = self.frame(
            f"SELECT {', '.join(SUBMISSION_COLUMNS)} FROM {self.table('submissions')} "
            f"{where} ORDER BY submission_id"
        )
        return _typed(df, SUBMISSION_COLUMNS)

    def find_submission(self, sha256: str) -> dict | None:
        """The earliest submission of a file with this sha256, or ``None``."""
        df = self.frame(
            f"SELECT {', '.join(SUBMISSION_COLUMNS)} FROM {self.table('submissions')} "
            "WHERE sha256 = ? ORDER BY submission_id LIMIT 1",
            [sha256],
        )
        return None if df.empty else _typed(df, SUBMISSION_COLUMNS).iloc[0].to_dict()

    def get_submission(self, submission_id: int) -> dict:
        """One submission by id (``NotFoundError`` if unknown)."""
        df = self.frame(
            f"SELECT {', '.join(SUBMISSION_COLUMNS)} FROM {self.table('submissions')} "
            "WHERE submission_id = ?",
            [int(submission_id)],
        )
        if df.empty:
            raise NotFoundError(f"no submission {submission_id}; see `scribe submissions`")
        return _typed(df, SUBMISSION_COLUMNS).iloc[0].to_dict()

    def quarantine(self, submission_id: int | None = None, *, active_only: bool = True):
        """Quarantined rows, with their submission id, partner and source."""
        q, s = self.table("quarantine"), self.table("submissions")
        where, params = [], []
        if active_only:
            where.append("s.superseded_by IS NULL")
        if submission_id is not None:
            where.append("q.submission_id = ?")
            params.append(int(submission_id))
        sql = (
            f"SELECT q.submission_id, s.partner, s.source, "
            f"{', '.join('q.' + c for c in QUARANTINE_COLUMNS)} FROM {q} q JOIN {s} s "
            f"ON s.submission_id = q.submission_id "
            f"{'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY q.submission_id, q.line"
        )
        cols = {"submission_id": "Int64", "partner": "string", "source": "string"}
        return _typed(self.frame(sql, params), {**cols, **QUARANTINE_COLUMNS})

    def count_quarantined(self) -> int:
        """Quarantined rows of active submissions."""
        q, s = self.table("quarantine"), self.table("submissions")
        sql = (
            f"SELECT count(*) FROM {q} q JOIN {s} s ON s.submission_id = q.submission_id "
            "WHERE s.superseded_by IS NULL"
        )
        return int(self.execute(sql)[0][0])

    def read_incidents(
        self,
        *,
        category: list[str] | None = None,
        partner: list[str] | None = None,
        start: pd.Timestamp | None = None,
        end: pd.Timestamp | None = None,
        locality: object | None = None,
        located_only: bool = False,
    ) -> pd.DataFrame:
        """Incidents matching the filters, pushed into SQL; INCIDENT_COLUMNS with their dtypes.

        ``start``/``end`` are half-open bounds on ``period_start``; ``locality`` is a shapely
        (Multi)Polygon in EPSG:27700 (the backend filters in SQL, points on the edge count in).
        """
        where, params = self._filters(category, partner, start, end, located_only)
        sql, params = self._select_incidents(", ".join(INCIDENT_COLUMNS), where, params, locality)
        return self.typed_frame(sql + " ORDER BY incident_id", params, INCIDENT_COLUMNS)

    def typed_frame(self, sql: str, params: Sequence, columns: dict[str, str]) -> pd.DataFrame:
        """Run parameterised SQL returning ``columns``; a DataFrame with their dtypes."""
        return _typed(self.frame(sql, params), columns)

    def count_incidents(self, by: str | Sequence[str] | None = None, **filters):
        """Count active incidents, overall (``by=None``, an int) or grouped (a DataFrame).

        ``by`` is a column of INCIDENT_COLUMNS, ``"month"`` (of ``period_start``) or a list
        of them; the frame has those columns and ``n``. ``filters`` are those of
        :meth:`read_incidents` except ``locality``.
        """
        where, params = self._filters(
            filters.get("category"), filters.get("partner"), filters.get("start"),
            filters.get("end"), filters.get("located_only", False),
        )  # fmt: skip
        if by is None:
            sql, params = self._select_incidents("count(*) AS n", where, params, None)
            return int(self.execute(sql, params)[0][0])
        keys = [by] if isinstance(by, str) else list(by)
        exprs = []
        for key in keys:
            if key != "month" and key not in INCIDENT_COLUMNS:
                raise StoreError(
                    f"cannot count by {key!r}; use a column of INCIDENT_COLUMNS or 'month'"
                )
            expr = self._month_sql("period_start") if key == "month" else key
            exprs.append(f"{expr} AS {key}")
        sql, params = self._select_incidents(
            ", ".join([*exprs, "count(*) AS n"]), where, params, None
        )
        groups = ", ".join(str(i + 1) for i in range(len(keys)))
        df = self.frame(f"{sql} GROUP BY {groups} ORDER BY {groups}", params)
        if "month" in df.columns:
            df["month"] = pd.to_datetime(df["month"]).astype("datetime64[ns]")
        return df.astype({"n": "int64"})

    def _filters(self, category, partner, start, end, located_only):
        where, params = [], []
        for col, values in (("category", category), ("partner", partner)):
            if values:
                where.append(f"{col} IN ({', '.join('?' * len(values))})")
                params.extend(values)
        if start is not None:
            where.append("period_start >= ?")
            params.append(pd.Timestamp(start).to_pydatetime())
        if end is not None:
            where.append("period_start < ?")
            params.append(pd.Timestamp(end).to_pydatetime())
        if located_only:
            where.append("easting IS NOT NULL")
        return where, params

    def _select_incidents(self, columns, where, params, locality):
        where = list(where)
        params = list(params)
        if locality is not None:
            clause, extra = self._locality_clause(locality)
            where.append(clause)
            params.extend(extra)
        sql = f"SELECT {columns} FROM {self.incidents_relation()} AS inc"
        if where:
            sql += " WHERE " + " AND ".join(where)
        return sql, params

    @abstractmethod
    def _locality_clause(self, geometry) -> tuple[str, list]:
        """SQL condition (and its params) selecting incidents inside ``geometry``."""

    @abstractmethod
    def _month_sql(self, column: str) -> str:
        """SQL expression truncating a timestamp column to the first day of its month."""

    # -- localities ------------------------------------------------------------------------
    @abstractmethod
    def write_localities(self, gdf, kind: str) -> int:
        """Replace localities of ``kind`` with the same names; ``gdf`` has name, label, geometry."""

    @abstractmethod
    def read_localities(self, kind: str | None = None, name: str | None = None):
        """A GeoDataFrame[name, kind, label, geometry] in EPSG:27700."""

    def _locality_rows(self, select: str, kind: str | None, name: str | None) -> pd.DataFrame:
        """Rows of ``select`` (a SELECT from the localities table) of ``kind`` and ``name``
        (None: any), ordered by kind and name."""
        where, params = [], []
        if kind is not None:
            where.append("kind = ?")
            params.append(kind)
        if name is not None:
            where.append("name = ?")
            params.append(name)
        sql = select
        if where:
            sql += " WHERE " + " AND ".join(where)
        return self.frame(sql + " ORDER BY kind, name", params)


def as_arrow_table(data: pd.DataFrame | pa.Table, columns: Sequence[str]) -> pa.Table:
    """``columns`` of a DataFrame or Arrow table, as an Arrow table (no copy of Arrow data)."""
    if isinstance(data, pa.Table):
        return data.select(list(columns))
    return pa.Table.from_pandas(data[list(columns)], preserve_index=False)


def _typed(df: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """``df`` with ``columns`` in order and dtype (the DB drivers return their own types)."""
    out = {}
    for c, t in columns.items():
        s = df[c] if c in df.columns else pd.Series(pd.NA, index=df.index, dtype="object")
        if str(s.dtype) == t:
            pass
        elif t.startswith("datetime64"):
            s = pd.to_datetime(s).astype(t) if len(s) else pd.Series(dtype=t)
        elif t == "float64":
            s = pd.to_numeric(s, errors="raise").astype(t)
        elif s.dtype == object:
            s = s.where(s.notna(), None).astype(t)
        else:
            s = s.astype(t)
        out[c] = s.reset_index(drop=True)
    return pd.DataFrame(out, columns=list(columns))
