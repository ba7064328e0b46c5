"""Privileges and row-level security policies of the access layer (part of ``apply``).

Only the loader owns and writes the base tables; the reader may SELECT them under forced
row-level security keyed on ``session_user``; organisation roles may only use
``scribe_shared``; the auditor may only append to the audit trail.
"""

from __future__ import annotations

import secrets

import psycopg

from .agreement import BASE_FIELDS, Agreement
from .sql import RoleNames, append_audit_sql, quote

__all__ = ["audit_link", "revoke_strays", "policies", "grants"]

_BASE_TABLES = ("incidents", "submissions", "quarantine", "localities", "settings")


def _columns(conn, schema: str, table: str) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s "
            "AND table_name = %s ORDER BY ordinal_position",
            [schema, table],
        )
    ]


def audit_link(conn, names: RoleNames, admin_url: str) -> None:
    """The auditor login and the loopback link that commits audit rows on their own."""
    from .users import _scram

    row = conn.execute(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'dblink'"
    ).fetchone()
    if row is None:
        conn.execute("CREATE EXTENSION dblink SCHEMA scribe_access")
    elif row[0] != "scribe_access":  # users must not reach the audit link's functions
        conn.execute("ALTER EXTENSION dblink SET SCHEMA scribe_access")
    secret = secrets.token_urlsafe(24)
    auditor = quote(names.auditor)
    if (
        conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [names.auditor]).fetchone()
        is None
    ):
        conn.execute(f"CREATE ROLE {auditor}")
    conn.execute(
        f"ALTER ROLE {auditor} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS "
        f"PASSWORD '{_scram(secret)}'"
    )
    host = psycopg.conninfo.conninfo_to_dict(admin_url).get("host") or ""
    port, db = conn.execute("SELECT current_setting('port'), current_database()").fetchone()
    conninfo = psycopg.conninfo.make_conninfo(
        host=host if host and not host.startswith("/") else "127.0.0.1",
        port=port, dbname=db, user=names.auditor, password=secret,
        application_name="scribe-audit",
    )  # fmt: skip
    conn.execute("DELETE FROM scribe_access.audit_link")
    conn.execute("INSERT INTO scribe_access.audit_link VALUES (%s)", [conninfo])
    conn.execute(append_audit_sql("scribe_access"))
    conn.execute(f"ALTER FUNCTION scribe_access.append_audit OWNER TO {quote(names.reader)}")


def revoke_strays(conn, names: RoleNames) -> None:
    """Remove every privilege on the base and access tables not given by this module."""
    for schema in ("scribe", "scribe_access", "scribe_shared"):
        conn.execute(f"REVOKE ALL ON SCHEMA {schema} FROM PUBLIC")
        conn.execute(f"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA {schema} FROM PUBLIC")
    for schema in ("scribe", "scribe_access"):
        rows = conn.execute(
            "SELECT DISTINCT c.relname, g.rolname FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "CROSS JOIN LATERAL aclexplode(c.relacl) a LEFT JOIN pg_roles g ON g.oid = a.grantee "
            "WHERE n.nspname = %s AND a.grantee <> c.relowner",
            [schema],
        ).fetchall()
        for rel, grantee in rows:
            who = "PUBLIC" if grantee is None else quote(grantee)
            conn.execute(f"REVOKE ALL ON {schema}.{quote(rel)} FROM {who}")


def policies(conn, names: RoleNames) -> None:
    """Enable and force row-level security on the base tables and the audit; (re)create policies.

    The loader may do anything to the base tables; the reader may SELECT the rows of the
    session user's organisation; the audit accepts rows only from the auditor and the loader.
    """
    loader, reader, managers = map(quote, (names.loader, names.reader, names.managers))
    # The caller's rules are gathered once per statement (uncorrelated sub-selects become
    # InitPlans); each row then costs two array look-ups, not a join.
    everything = "ARRAY(SELECT r.partner FROM scribe_access.session_rules r"
    reader_rules = {
        "incidents": f"partner = ANY ({everything} WHERE r.categories IS NULL)) "
        "OR (partner || ' ' || category) = ANY (ARRAY(SELECT r.partner || ' ' || c "
        "FROM scribe_access.session_rules r, unnest(r.categories) c))",
        "submissions": f"partner = ANY ({everything}))",
        "localities": "true",
    }
    tables = [(f"scribe.{t}", t) for t in _BASE_TABLES if _columns(conn, "scribe", t)]
    for qualified, table in [*tables, ("scribe_access.audit", "audit")]:
        for (pol,) in conn.execute(
            "SELECT policyname FROM pg_policies WHERE schemaname || '.' || tablename = %s",
            [qualified],
        ).fetchall():
            conn.execute(f"DROP POLICY {quote(pol)} ON {qualified}")
        conn.execute(f"ALTER TABLE {qualified} ENABLE ROW LEVEL SECURITY")
        conn.execute(f"ALTER TABLE {qualified} FORCE ROW LEVEL SECURITY")
        if table in reader_rules:
            conn.execute(
                f"CREATE POLICY reader_agreement ON {qualified} FOR SELECT TO {reader} "
                f"USING ({reader_rules[table]})"
            )
        if table != "audit":
            conn.execute(f"CREATE POLICY loader_all ON {qualified} TO {loader} USING (true)")
    audit = "scribe_access.audit"
    conn.execute(f"CREATE POLICY loader_append ON {audit} FOR INSERT TO {loader} WITH CHECK (true)")
    conn.execute(f"CREATE POLICY loader_read ON {audit} FOR SELECT TO {loader} USING (true)")
    auditor = quote(names.auditor)
    conn.execute(
        f"CREATE POLICY auditor_append ON {audit} FOR INSERT TO {auditor} WITH CHECK (true)"
    )
    conn.execute(
        f"CREATE POLICY reader_own ON {audit} FOR SELECT TO {reader} USING (db_user = session_user)"
    )
    conn.execute(f"CREATE POLICY managers_read ON {audit} FOR SELECT TO {managers} USING (true)")


def grants(conn, names: RoleNames, agreement: Agreement, orgs: dict[str, str]) -> None:
    """Grant the reader, auditor, managers and organisation roles exactly what they need.

    An organisation gets SELECT on the base fields of ``scribe_shared.incidents`` plus the
    restricted fields some row-level rule of it lists (none if it sees only aggregates).
    """
    reader, managers = quote(names.reader), quote(names.managers)
    conn.execute(f"GRANT USAGE ON SCHEMA scribe, scribe_access, scribe_shared TO {reader}")
    conn.execute(
        f"GRANT SELECT ON scribe.incidents, scribe.submissions, scribe.localities TO {reader}"
    )
    conn.execute(
        "GRANT SELECT ON scribe_access.session_rules, scribe_access.users, "
        f"scribe_access.config TO {reader}"
    )
    conn.execute(f"GRANT SELECT ON scribe_access.audit, scribe_access.audit_link TO {reader}")
    conn.execute(f"GRANT USAGE ON SEQUENCE scribe_access.audit_id_seq TO {reader}")
    conn.execute(
        "GRANT EXECUTE ON FUNCTION scribe_access.append_audit, "
        "scribe_access.dblink_connect_u(text, text), scribe_access.dblink_exec(text, text), "
        "scribe_access.dblink_disconnect(text), scribe_access.dblink_get_connections() "
        f"TO {reader}"
    )
    auditor = quote(names.auditor)
    conn.execute(f"GRANT USAGE ON SCHEMA scribe_access TO {auditor}")
    conn.execute(f"GRANT INSERT ON scribe_access.audit TO {auditor}")
    conn.execute(f"GRANT USAGE ON SCHEMA scribe_access TO {managers}")
    conn.execute(f"GRANT SELECT ON scribe_access.audit TO {managers}")
    for name, org in agreement.organisations.items():
        role = quote(orgs[name])
        conn.execute(f"GRANT USAGE ON SCHEMA scribe_shared TO {role}")
        conn.execute(
            "GRANT EXECUTE ON FUNCTION scribe_shared.read_incidents, "
            f"scribe_shared.read_incident_counts, scribe_shared.record_export TO {role}"
        )
        conn.execute(
            "GRANT SELECT ON scribe_shared.incident_counts, scribe_shared.localities, "
            f"scribe_shared.submissions, scribe_shared.my_audit TO {role}"
        )
        if any(r.precision != "aggregate" for r in org.rules):
            fields = sorted({f for r in org.rules if r.precision != "aggregate" for f in r.fields})
            cols = ", ".join([*BASE_FIELDS, *fields, "geom"])
            conn.execute(f"GRANT SELECT ({cols}) ON scribe_shared.incidents TO {role}")
