"""Apply the data-sharing agreement to PostgreSQL: roles, row-level security, grants, views.

:func:`apply_agreement` is idempotent and runs in one transaction: re-applying a changed
agreement changes what every organisation sees at once (the rules live in
``scribe_access.rules`` and the read path looks them up on every read).
"""

from __future__ import annotations

import hashlib
import json
import warnings

from ..errors import AccessError, StoreError
from .agreement import Agreement
from .connect import admin_connect
from .grants import _columns, audit_link, grants, policies, revoke_strays
from .hba import warn_if_trusted
from .sql import ACCESS_DDL, SHARED_VIEWS_SQL, RoleNames, quote, read_functions_sql

__all__ = ["apply_agreement"]
_PRIVATE_SUBMISSION_COLUMNS = ("filename", "sha256", "note")


def apply_agreement(agreement: Agreement, *, admin_url: str) -> None:
    """Create or update roles, policies, grants and views so the database enforces ``agreement``.

    Parameters
    ----------
    agreement : Agreement
        From :func:`scribe_lib.access.load_agreement`.
    admin_url : str
        A ``postgresql://`` URL of a superuser on the SCRIBE database; the store's tables
        (``scribe init``) must exist.

    Notes
    -----
    Afterwards the ``scribe`` schema and its tables belong to ``<prefix>_loader``; row-level
    security is enabled and forced on them; hub users (see :func:`provision_user`) read only
    through ``scribe_shared`` and every read is written to ``scribe_access.audit``.
    """
    names = RoleNames(agreement.role_prefix)
    with admin_connect(admin_url) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('scribe_access.apply'))")
        _check_store(conn)
        _check_prefix(conn, agreement.role_prefix)
        gis = _postgis_schema(conn)
        orgs = {name: names.org(name) for name in agreement.organisations}
        for role in (names.loader, names.reader, names.managers, *orgs.values()):
            _ensure_role(conn, role)
        conn.execute(ACCESS_DDL)
        audit_link(conn, names, admin_url)
        _take_ownership(conn, names)
        _store_agreement(conn, agreement, orgs)
        conn.execute("DROP SCHEMA IF EXISTS scribe_shared CASCADE")
        conn.execute(f"CREATE SCHEMA scribe_shared AUTHORIZATION {quote(names.loader)}")
        conn.execute(read_functions_sql(gis, agreement.street_grid_metres))
        conn.execute(SHARED_VIEWS_SQL)
        _table_views(conn)
        _give_to_reader(conn, names)
        revoke_strays(conn, names)
        policies(conn, names)
        grants(conn, names, agreement, orgs)
        digest = hashlib.sha256(
            json.dumps(_as_json(agreement), sort_keys=True).encode()
        ).hexdigest()
        warn_if_trusted(conn, agreement.role_prefix)
        conn.execute(
            "INSERT INTO scribe_access.audit (username, action, relation, filter, query) "
            "VALUES (session_user, 'apply', 'agreement', %s, %s)",
            [json.dumps({"sha256": digest, "file": agreement.path}), "apply_agreement"],
        )


def _check_store(conn) -> None:
    missing = [
        t
        for t in ("incidents", "submissions", "localities")
        if conn.execute("SELECT to_regclass(%s)", [f"scribe.{t}"]).fetchone()[0] is None
    ]
    if missing:
        raise StoreError(
            f"the store has no table scribe.{missing[0]}; run `scribe init` on it first"
        )


def _check_prefix(conn, prefix: str) -> None:
    if conn.execute("SELECT to_regclass('scribe_access.config')").fetchone()[0] is None:
        return
    row = conn.execute(
        "SELECT value FROM scribe_access.config WHERE key = 'role_prefix'"
    ).fetchone()
    if row and row[0] != prefix:
        raise AccessError(
            f"this database was set up with role_prefix {row[0]!r}; the agreement says "
            f"{prefix!r}. Keep the prefix (roles of hub users depend on it)."
        )


def _postgis_schema(conn) -> str:
    row = conn.execute(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'postgis'"
    ).fetchone()
    if row is None:
        raise StoreError("PostGIS is not installed in this database; run `scribe init` first")
    return quote(row[0])


def _ensure_role(conn, role: str) -> None:
    if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone() is None:
        conn.execute(f"CREATE ROLE {quote(role)} NOLOGIN")
    conn.execute(
        f"ALTER ROLE {quote(role)} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS"
    )


def _relations(conn, schema: str, kinds: str = "rvmS") -> list[tuple[str, str]]:
    return conn.execute(
        "SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_depend d "
        "WHERE d.objid = c.oid AND d.deptype IN ('a', 'i') AND c.relkind = 'S') ORDER BY 1",
        [schema, list(kinds)],
    ).fetchall()


def _take_ownership(conn, names: RoleNames) -> None:
    loader = quote(names.loader)
    kind_word = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW"}
    for schema in ("scribe", "scribe_access"):
        conn.execute(f"ALTER SCHEMA {schema} OWNER TO {loader}")
        for rel, kind in _relations(conn, schema):
            word = kind_word.get(kind, "SEQUENCE")
            conn.execute(f"ALTER {word} {schema}.{quote(rel)} OWNER TO {loader}")
    conn.execute(f"ALTER FUNCTION scribe_access.audit_is_append_only() OWNER TO {loader}")


def _store_agreement(conn, agreement: Agreement, orgs: dict[str, str]) -> None:
    config = {
        "role_prefix": agreement.role_prefix,
        "suppress_counts_below": str(agreement.suppress_counts_below),
        "street_grid_metres": str(agreement.street_grid_metres),
        "agreement_file": agreement.path or "",
    }
    for key, value in config.items():
        conn.execute(
            "INSERT INTO scribe_access.config VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )
    conn.execute("DELETE FROM scribe_access.partners")
    for partner, label in agreement.partners.items():
        conn.execute(
            "INSERT INTO scribe_access.partners VALUES (%s, %s, %s)",
            [partner, label, agreement.retention_months.get(partner)],
        )
    gone = conn.execute(
        "DELETE FROM scribe_access.organisations WHERE NOT (org = ANY(%s)) RETURNING org",
        [list(orgs)],
    ).fetchall()
    for (org,) in gone:
        warnings.warn(
            f"organisation {org!r} is no longer in the agreement: its users now see nothing",
            stacklevel=3,
        )
    conn.execute("DELETE FROM scribe_access.rules")
    for name, org in agreement.organisations.items():
        conn.execute(
            "INSERT INTO scribe_access.organisations VALUES (%s, %s, %s) ON CONFLICT (org) "
            "DO UPDATE SET org_role = excluded.org_role, label = excluded.label",
            [name, orgs[name], org.label],
        )
        for r in org.rules:
            conn.execute(
                "INSERT INTO scribe_access.rules VALUES (%s, %s, %s, %s, %s, %s)",
                [
                    name,
                    r.partner,
                    list(r.categories) if r.categories is not None else None,
                    list(r.fields),
                    r.precision,
                    r.suppress_small_counts,
                ],
            )


def _table_views(conn) -> None:
    """Views of submissions (private columns blanked) and localities, same columns as the tables."""
    cols = conn.execute(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
        "WHERE a.attrelid = 'scribe.submissions'::regclass AND a.attnum > 0 "
        "AND NOT a.attisdropped ORDER BY a.attnum"
    ).fetchall()
    select = ", ".join(
        f"NULL::{t} AS {quote(c)}" if c in _PRIVATE_SUBMISSION_COLUMNS else quote(c)
        for c, t in cols
    )
    conn.execute(
        "CREATE VIEW scribe_shared.submissions WITH (security_barrier) AS "
        f"SELECT {select} FROM scribe.submissions"
    )
    locs = _columns(conn, "scribe", "localities")
    conn.execute(
        "CREATE VIEW scribe_shared.localities WITH (security_barrier) AS SELECT "
        f"{', '.join(map(quote, locs))} FROM scribe.localities"
    )


def _give_to_reader(conn, names: RoleNames) -> None:
    reader = quote(names.reader)
    conn.execute(f"ALTER TYPE scribe_shared.incident OWNER TO {reader}")
    for fn in ("read_incidents", "read_incident_counts", "record_export"):
        conn.execute(f"ALTER ROUTINE scribe_shared.{fn} OWNER TO {reader}")
    for view in ("incidents", "incident_counts", "my_audit", "submissions", "localities"):
        conn.execute(f"ALTER VIEW scribe_shared.{view} OWNER TO {reader}")


def _as_json(agreement: Agreement) -> dict:
    return {
        "prefix": agreement.role_prefix,
        "grid": agreement.street_grid_metres,
        "below": agreement.suppress_counts_below,
        "partners": agreement.partners,
        "retention": agreement.retention_months,
        "orgs": {
            n: [[r.partner, r.categories, r.fields, r.precision, r.suppress_small_counts]
                for r in o.rules]
            for n, o in agreement.organisations.items()
        },
    }  # fmt: skip
