"""Helpers for tests of the access layer: a scratch database and seeded incidents.

Each scratch database has its own role prefix, so tests running side by side on one
PostgreSQL cluster (where role names are shared) never touch each other's roles.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import psycopg

__all__ = [
    "scratch_database",
    "secured_database",
    "seed_incidents",
    "demo_agreement_data",
    "Secured",
    "ADMIN_URL",
]

#: the test cluster's superuser connection (any database).
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

_CATEGORIES = {
    "bedfordshire-police": ["burglary", "criminal-damage-and-arson", "anti-social-behaviour",
                            "shoplifting", "drugs"],
    "bedfordshire-fire": ["deliberate-secondary-fire", "accidental-fire", "fire-false-alarm"],
    "luton-council": ["fly-tipping", "noise", "graffiti"],
    "bedford-council": ["fly-tipping", "nuisance-behaviour"],
    "central-bedfordshire-council": ["dog-fouling", "fly-tipping", "noise"],
}  # fmt: skip


@contextmanager
def scratch_database(admin_url: str = ADMIN_URL) -> Iterator[tuple[str, str]]:
    """A fresh database with PostGIS and the SCRIBE store tables; yields ``(url, prefix)``.

    The database and every role whose name starts with ``prefix + "_"`` are dropped after.
    """
    from ..store.postgres import PostgresStore

    tag = secrets.token_hex(4)
    db, prefix = f"scribe_acc_{tag}", f"acc{tag}"
    info = psycopg.conninfo.conninfo_to_dict(admin_url)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db}"')
    url = psycopg.conninfo.make_conninfo(**{**info, "dbname": db})
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        PostgresStore(_as_url(url)).close()
        yield url, prefix
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [db]
            )
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            roles = conn.execute(
                "SELECT rolname FROM pg_roles WHERE starts_with(rolname, %s)", [prefix + "_"]
            ).fetchall()
            for (role,) in roles:
                conn.execute(f'DROP ROLE IF EXISTS "{role}"')


def _as_url(conninfo: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(conninfo)
    user = info.get("user", "postgres")
    return f"postgresql://{user}@{info.get('host', '127.0.0.1')}:{info.get('port', 5432)}/{info['dbname']}"


def seed_incidents(url: str, n_per_partner: int = 40, seed: int = 0) -> None:
    """Insert seeded synthetic incidents for the five demo partners, as the superuser.

    Each partner gets one superseded submission (whose incidents must never be shown)
    and one active one with ``n_per_partner`` incidents over 2024, spread over a few
    LSOAs and wards so that some counts are small (1-4) and some are not.
    """
    rng = np.random.default_rng(seed)
    with psycopg.connect(url) as conn, conn.transaction():
        for partner, cats in _CATEGORIES.items():
            ids = []
            for _superseded in (True, False):
                ids.append(conn.execute(
                    "INSERT INTO scribe.submissions (partner, source, filename, sha256, "
                    "received_at, rows_read, accepted, quarantined, covers_from, covers_to, note) "
                    "VALUES (%s, 'test', %s, %s, now(), %s, %s, 0, '2024-01-01', '2024-12-01', "
                    "'seed') RETURNING submission_id",
                    [partner, f"{partner}.csv", secrets.token_hex(32), n_per_partner,
                     n_per_partner],
                ).fetchone()[0])  # fmt: skip
            conn.execute(
                "UPDATE scribe.submissions SET superseded_by = %s WHERE submission_id = %s",
                [ids[1], ids[0]],
            )
            for sub, n in ((ids[0], 5), (ids[1], n_per_partner)):
                for k in range(n):
                    month = int(rng.integers(1, 13))
                    start = dt.datetime(2024, month, 1)
                    end = dt.datetime(2024 + month // 12, month % 12 + 1, 1)
                    e = 505000 + float(rng.uniform(0, 20000))
                    nn = 220000 + float(rng.uniform(0, 20000))
                    located = k % 10 != 9
                    conn.execute(
                        "INSERT INTO scribe.incidents (incident_id, partner, source, submission_id,"
                        " source_line, source_record_id, category, source_category, occurred_at,"
                        " period_start, period_end, time_precision, easting, northing, lon, lat,"
                        " location_precision, location_text, lsoa_code, lsoa_name, ward_code,"
                        " outcome, description, attributes) VALUES (%s, %s, 'test', %s, %s, %s,"
                        " %s, %s, NULL, %s, %s, 'month', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
                        " %s, '{}')",
                        [f"{sub}-{k + 2}", partner, sub, k + 2, f"R{sub}-{k}",
                         cats[int(rng.integers(len(cats)))], "Source text", start, end,
                         e if located else None, nn if located else None,
                         -0.4 if located else None, 51.9 if located else None,
                         "exact" if located else "none", f"{k} High Street",
                         f"E0100{int(rng.integers(0, 4))}", "Somewhere 001A",
                         f"E0500{int(rng.integers(0, 3))}", "Under investigation",
                         f"secret narrative {partner} {k}"],
                    )  # fmt: skip


def demo_agreement_data(prefix: str) -> dict:
    """The demo partnership's agreement (hub_config) as a dict, with roles prefixed ``prefix``."""
    import yaml

    from ..commands.access import DEFAULT_AGREEMENT

    data = yaml.safe_load(DEFAULT_AGREEMENT.read_text("utf-8"))
    data["role_prefix"] = prefix
    return data


class Secured:
    """A scratch database with seeded incidents, the agreement applied and hub users."""

    def __init__(self, url: str, prefix: str, agreement_data: dict):
        self.url, self.prefix, self.agreement_data = url, prefix, agreement_data
        self.users: dict[str, str] = {}  # username -> connection URL

    def apply(self, data: dict | None = None) -> None:
        """(Re-)apply ``data`` (default: the current agreement data)."""
        from .agreement import parse_agreement
        from .policies import apply_agreement

        if data is not None:
            self.agreement_data = data
        apply_agreement(parse_agreement(self.agreement_data, file="test.yml"), admin_url=self.url)

    def add_user(self, username: str, org: str, role: str = "analyst") -> str:
        """Provision a hub user; return its connection URL."""
        from .users import provision_user, user_url

        secret = provision_user(username, org, role, admin_url=self.url)
        self.users[username] = user_url(username, secret, admin_url=self.url)
        return self.users[username]

    def url_as_store(self) -> str:
        """The superuser URL as ``postgresql://`` (for ``scribe --store``)."""
        return _as_url(self.url)

    def connect(self, username: str, **kw) -> psycopg.Connection:
        """A raw psycopg connection as ``username`` (autocommit)."""
        kw.setdefault("autocommit", True)
        return psycopg.connect(self.users[username], **kw)


@contextmanager
def secured_database(users: dict[str, tuple[str, str]] | None = None) -> Iterator[Secured]:
    """:func:`scratch_database` + :func:`seed_incidents` + the demo agreement + ``users``.

    ``users`` maps a hub user name to ``(organisation, role)``.
    """
    with scratch_database() as (url, prefix):
        seed_incidents(url)
        s = Secured(url, prefix, demo_agreement_data(prefix))
        s.apply()
        for name, (org, role) in (users or {}).items():
            s.add_user(name, org, role)
        yield s
