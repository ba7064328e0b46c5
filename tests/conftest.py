"""Shared test configuration.

A skipped test is a failure here, as in CI: install what the test needs instead.

Store fixtures: ``store`` runs a test on both backends (the embedded DuckDB file and
PostgreSQL + PostGIS); each PostgreSQL test gets its own fresh database, dropped after,
so parallel runs never collide. ``store_url`` gives the URL instead of an open store.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

import pandas as pd
import pytest

from scribe_lib.schema import ADAPTER_COLUMNS, QUARANTINE_COLUMNS, conform

PG_ADMIN = os.environ.get("SCRIBE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    skipped = reporter.stats.get("skipped", [])
    if skipped and session.exitstatus == 0:
        reporter.write_line(
            f"FAILED: {len(skipped)} test(s) skipped; a skipped test is a failure in SCRIBE",
            red=True,
        )
        session.exitstatus = 1


def _admin():
    import psycopg

    return psycopg.connect(PG_ADMIN, autocommit=True)


@pytest.fixture
def pg_url():
    """A fresh, empty PostgreSQL database (``scribe_t_<random>``), dropped after the test."""
    name = f"scribe_t_{uuid.uuid4().hex[:12]}"
    with _admin() as con:
        con.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with _admin() as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["duckdb", "postgres"])
def store_url(request, tmp_path):
    """The URL of an empty store, once per backend."""
    if request.param == "duckdb":
        yield str(tmp_path / "scribe.duckdb")
    else:
        yield request.getfixturevalue("pg_url")


@pytest.fixture
def store(store_url):
    """An open, initialised, empty store, once per backend."""
    from scribe_lib.store import open_store

    st = open_store(store_url)
    st.init()
    try:
        yield st
    finally:
        st.close()


# -- a tiny adapter, so store and ingest tests do not depend on the real partner formats ------


@dataclass
class Chunk:
    incidents: pd.DataFrame
    quarantine: pd.DataFrame
    rows_read: int


TINY_CATEGORIES = {"Burglary": "burglary", "ASB": "anti-social-behaviour", "Drugs": "drugs"}


class TinyReader:
    """Reads ``ref,month,easting,northing,type,text`` CSV; an unknown type is quarantined.

    Empty coordinates mean no location. ``supersedes_same_months`` mimics police.uk.
    """

    name = "tiny"
    supersedes_same_months = False

    def __init__(self, partner="tiny-partner", area=None, mapping=None):
        self.partner = partner or "tiny-partner"

    def read(self, path, chunksize=100_000):
        first = 2
        reader = pd.read_csv(path, dtype=str, keep_default_na=False, chunksize=chunksize)
        for raw in reader:
            line = pd.RangeIndex(first, first + len(raw))
            first += len(raw)
            raw = raw.set_axis(line)
            ok = raw["type"].isin(list(TINY_CATEGORIES))
            bad = raw[~ok]
            q = pd.DataFrame(
                {
                    "file": os.path.basename(path),
                    "line": bad.index,
                    "field": "type",
                    "value": bad["type"],
                    "reason": "category has no mapping",
                    "raw": pd.Series(
                        [",".join(r) for r in bad.itertuples(index=False, name=None)],
                        index=bad.index,
                        dtype="string",
                    ),
                }
            )
            good = raw[ok]
            start = pd.to_datetime(good["month"], format="%Y-%m")
            e = pd.to_numeric(good["easting"].replace("", None))
            n = pd.to_numeric(good["northing"].replace("", None))
            inc = pd.DataFrame(
                {
                    "partner": self.partner,
                    "source": self.name,
                    "source_line": good.index,
                    "source_record_id": good["ref"].replace("", None),
                    "category": good["type"].map(TINY_CATEGORIES),
                    "source_category": good["type"],
                    "period_start": start,
                    "period_end": start + pd.DateOffset(months=1),
                    "time_precision": "month",
                    "easting": e,
                    "northing": n,
                    "location_precision": e.notna().map({True: "exact", False: "none"}),
                    "description": good["text"],
                },
                index=good.index,
            )
            yield Chunk(
                conform(inc)[ADAPTER_COLUMNS].reset_index(drop=True),
                conform(q, QUARANTINE_COLUMNS).reset_index(drop=True),
                len(raw),
            )


class TinyMonthly(TinyReader):
    """The tiny format, published one file per partner-month like police.uk."""

    name = "tiny-monthly"
    supersedes_same_months = True


def write_tiny(path, rows) -> str:
    """Write tiny-format rows ``(ref, month, easting, northing, type, text)`` to ``path``."""
    df = pd.DataFrame(rows, columns=["ref", "month", "easting", "northing", "type", "text"])
    df.to_csv(path, index=False)
    return str(path)


@pytest.fixture
def tiny():
    """The tiny adapter class, for ``ingest(path, tiny())``."""
    return TinyReader
