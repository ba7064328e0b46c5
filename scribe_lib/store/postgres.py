"""The deployment store: PostgreSQL + PostGIS, schema ``scribe``.

* ``incidents.geom`` is a stored ``geometry(Point, 27700)`` generated from easting/northing,
  with a GiST index, so QGIS lists the table as a point layer in British National Grid;
* bulk loads use ``COPY ... FROM STDIN`` (psycopg 3 ``cursor.copy``), one transaction per file;
* tables are owned by the role in the URL (the loader); the access layer adds row-level
  security and views on top, and points :meth:`PostgresStore.incidents_relation` at them
  for hub users by setting ``store.incidents_view``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import geopandas as gpd
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import shapely

from ..errors import StoreError
from ..schema import CRS, INCIDENT_COLUMNS, QUARANTINE_COLUMNS
from .base import Store, _typed, as_arrow_table

__all__ = ["PostgresStore", "SCHEMA"]

#: the PostgreSQL schema holding SCRIBE's tables.
SCHEMA = "scribe"

_SQL_TYPES = {"string": "text", "Int64": "bigint", "float64": "double precision",
              "datetime64[ns]": "timestamp"}  # fmt: skip

_INCIDENT_TYPES = {
    "incident_id": "text PRIMARY KEY",
    "partner": "text NOT NULL",
    "source": "text NOT NULL",
    # no FOREIGN KEY on the bulk tables: its per-row check costs a quarter of COPY's time;
    # the ingest writes the id of the submission it created in the same transaction.
    "submission_id": "bigint NOT NULL",
    "category": "text NOT NULL",
}

DDL = [
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.submissions (
        submission_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        partner text NOT NULL, source text NOT NULL, filename text, sha256 text NOT NULL,
        received_at timestamp NOT NULL, rows_read bigint, accepted bigint, quarantined bigint,
        covers_from date, covers_to date,
        superseded_by bigint REFERENCES {SCHEMA}.submissions, note text)""",
    f"CREATE INDEX IF NOT EXISTS submissions_sha256 ON {SCHEMA}.submissions (sha256)",
    f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.incidents (
        {", ".join(f"{c} {_INCIDENT_TYPES.get(c, _SQL_TYPES[t])}" for c, t in INCIDENT_COLUMNS.items())},
        geom geometry(Point, 27700) GENERATED ALWAYS AS (
            CASE WHEN easting IS NOT NULL AND northing IS NOT NULL
            THEN ST_SetSRID(ST_MakePoint(easting, northing), 27700) END) STORED)""",
    f"CREATE INDEX IF NOT EXISTS incidents_geom ON {SCHEMA}.incidents USING gist (geom)",
    f"CREATE INDEX IF NOT EXISTS incidents_submission ON {SCHEMA}.incidents (submission_id)",
    f"CREATE INDEX IF NOT EXISTS incidents_period ON {SCHEMA}.incidents (period_start)",
    f"CREATE INDEX IF NOT EXISTS incidents_category ON {SCHEMA}.incidents (category)",
    f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.quarantine (
        submission_id bigint NOT NULL,
        {", ".join(f"{c} {_SQL_TYPES[t]}" for c, t in QUARANTINE_COLUMNS.items())})""",
    f"CREATE INDEX IF NOT EXISTS quarantine_submission ON {SCHEMA}.quarantine (submission_id)",
    f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.localities (
        name text NOT NULL, kind text NOT NULL, label text,
        geom geometry(MultiPolygon, 27700) NOT NULL, PRIMARY KEY (kind, name))""",
    f"CREATE INDEX IF NOT EXISTS localities_geom ON {SCHEMA}.localities USING gist (geom)",
    f"CREATE TABLE IF NOT EXISTS {SCHEMA}.settings (key text PRIMARY KEY, value text)",
]


_ARROW_TYPES = {"string": pa.string(), "Int64": pa.int64(), "float64": pa.float64(),
                "datetime64[ns]": pa.timestamp("us")}  # fmt: skip


def _pg_sql(sql: str) -> str:
    """Our ``?`` placeholders in psycopg's ``%s`` style (a literal ``%`` doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


def _copy_csv(table: pa.Table) -> bytes:
    """``df`` as PostgreSQL COPY CSV, built by Arrow's C++ writer (no per-row Python).

    Arrow quotes every string and leaves nulls unquoted and empty, which is exactly how
    COPY's CSV format tells an empty string (``""``) from NULL.
    """
    fields = []
    for f in table.schema:
        if pa.types.is_timestamp(f.type):
            f = f.with_type(pa.timestamp("us"))
        elif pa.types.is_large_string(f.type):
            f = f.with_type(pa.string())
        fields.append(f)
    table = table.cast(pa.schema(fields))
    sink = io.BytesIO()
    pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    return sink.getvalue()


class PostgresStore(Store):
    """SCRIBE's PostgreSQL + PostGIS store.

    Parameters
    ----------
    url : str
        ``postgresql://user[:password]@host[:port]/database``.
    read_only : bool
        Every transaction read-only (``default_transaction_read_only``).

    Attributes
    ----------
    incidents_view : str or None
        When set (by the access layer), incident reads use this relation (e.g. a
        row-level-secured view) instead of the base tables.
    """

    backend = "postgres"

    def __init__(self, url: str, *, read_only: bool = False):
        import psycopg

        super().__init__(url, read_only=read_only)
        self.incidents_view: str | None = None
        try:
            self.con = psycopg.connect(url, autocommit=True)
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to {self.display_url}: {exc}".strip()) from exc
        from ..access.session import shared_tables  # a hub user reads through scribe_shared

        self.shared = shared_tables(self.con)
        if self.shared:
            self.incidents_view = self.shared["incidents"]
        if read_only and not self.shared:  # a hub user cannot write; its reads write the audit
            self.con.execute("SET default_transaction_read_only = on")
        elif not self.shared and not self._initialised():
            self.init()

    @property
    def display_url(self) -> str:
        return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", self.url)

    def _initialised(self) -> bool:
        row = self.con.execute("SELECT to_regclass(%s)", [f"{SCHEMA}.settings"]).fetchone()
        return row[0] is not None

    def init(self) -> None:
        import psycopg

        with self.con.transaction():
            have = self.con.execute(
                "SELECT 1 FROM pg_extension WHERE extname = 'postgis'"
            ).fetchone()
            if not have:
                try:
                    self.con.execute("CREATE EXTENSION IF NOT EXISTS postgis")
                except psycopg.Error as exc:
                    raise StoreError(
                        f"PostGIS is not enabled in {self.display_url} and this role cannot "
                        f"enable it ({exc}); ask the database owner to run CREATE EXTENSION postgis"
                    ) from exc
            for stmt in DDL:
                self.con.execute(stmt)

    def close(self) -> None:
        self.con.close()

    def table(self, name: str) -> str:
        return (self.shared or {}).get(name, f"{SCHEMA}.{name}")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.con.transaction():
            yield

    def execute(self, sql: str, params: Sequence = ()) -> list[tuple]:
        cur = self.con.execute(_pg_sql(sql), list(params))
        return cur.fetchall() if cur.description is not None else []

    def frame(self, sql: str, params: Sequence = ()) -> pd.DataFrame:
        with self.con.cursor() as cur:
            cur.execute(_pg_sql(sql), list(params))
            cols = [d.name for d in cur.description]
            return pd.DataFrame(cur.fetchall(), columns=cols)

    def typed_frame(self, sql: str, params: Sequence, columns: dict[str, str]) -> pd.DataFrame:
        """Big reads stream as COPY CSV and are parsed by Arrow, not row by row in Python.

        Values are bound client-side by psycopg (quoted, never formatted by hand), since
        COPY takes no parameters. Quoted empty strings stay empty strings; NULL stays NULL.
        """
        import psycopg

        bound = psycopg.ClientCursor(self.con).mogrify(_pg_sql(sql), list(params))
        buf = io.BytesIO()
        with self.con.cursor() as cur:
            with cur.copy(f"COPY ({bound}) TO STDOUT WITH (FORMAT csv, HEADER)") as copy:
                for block in copy:
                    buf.write(block)
        types = {c: _ARROW_TYPES[t] for c, t in columns.items()}
        if buf.tell() == 0:
            return _typed(pd.DataFrame(columns=list(columns)), columns)
        buf.seek(0)
        table = pacsv.read_csv(
            buf,
            convert_options=pacsv.ConvertOptions(
                column_types=types,
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
                null_values=[""],
            ),
        )
        df = table.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow"),
                                           pa.int64(): pd.Int64Dtype()}.get)  # fmt: skip
        return _typed(df, columns)

    def readable(self, name: str) -> bool:
        return not self.shared or name in self.shared

    def incidents_relation(self) -> str:
        pending, self._next_read = getattr(self, "_next_read", None), None  # used once
        return pending or self.incidents_view or super().incidents_relation()

    def _filters(self, category, partner, start, end, located_only):
        if self.shared:  # a hub user: the audited read function applies the filter too
            from ..access.session import shared_incidents_call

            self._next_read = shared_incidents_call(self.con, category, partner, start, end)
        return super()._filters(category, partner, start, end, located_only)

    def insert_submission(self, meta: dict) -> int:
        cols = list(meta)
        rows = self.execute(
            f"INSERT INTO {SCHEMA}.submissions ({', '.join(cols)}) "
            f"VALUES ({', '.join('?' * len(cols))}) RETURNING submission_id",
            list(meta.values()),
        )
        return int(rows[0][0])

    def _copy(self, table: str, rows: pa.Table) -> None:
        if rows.num_rows == 0:
            return
        data = _copy_csv(rows)
        with self.con.cursor() as cur:
            cols = ", ".join(rows.column_names)
            sql = f"COPY {SCHEMA}.{table} ({cols}) FROM STDIN WITH (FORMAT csv)"
            with cur.copy(sql) as copy:
                for i in range(0, len(data), 1 << 20):
                    copy.write(data[i : i + (1 << 20)])

    def write_incidents(self, df: pd.DataFrame | pa.Table) -> None:
        self._copy("incidents", as_arrow_table(df, INCIDENT_COLUMNS))

    def write_quarantine(self, df: pd.DataFrame | pa.Table) -> None:
        self._copy("quarantine", as_arrow_table(df, ["submission_id", *QUARANTINE_COLUMNS]))

    def _locality_clause(self, geometry) -> tuple[str, list]:
        return "ST_Intersects(geom, ST_GeomFromWKB(?, 27700))", [shapely.to_wkb(geometry)]

    def _month_sql(self, column: str) -> str:
        return f"date_trunc('month', {column})::date"

    def write_localities(self, gdf: gpd.GeoDataFrame, kind: str) -> int:
        n = 0
        with self.transaction():
            for name, label, geom in zip(gdf["name"], gdf["label"], gdf.geometry, strict=True):
                self.execute(
                    f"INSERT INTO {SCHEMA}.localities (name, kind, label, geom) "
                    "VALUES (?, ?, ?, ST_Multi(ST_GeomFromWKB(?, 27700))) "
                    "ON CONFLICT (kind, name) DO UPDATE SET label = EXCLUDED.label, "
                    "geom = EXCLUDED.geom",
                    [name, kind, label, shapely.to_wkb(geom)],
                )
                n += 1
        return n

    def read_localities(self, kind: str | None = None, name: str | None = None):
        df = self._locality_rows(
            f"SELECT name, kind, label, ST_AsBinary(geom) AS wkb FROM {self.table('localities')}",
            kind,
            name,
        )
        geoms = shapely.from_wkb([bytes(b) for b in df["wkb"]]) if len(df) else []
        data = {c: (df[c] if len(df) else pd.Series(dtype=object)).astype("string")
                for c in ("name", "kind", "label")}  # fmt: skip
        return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs=CRS), crs=CRS)
