"""SQL text of the access layer: role names, the ``scribe_access`` schema, the read path.

Everything here is generated from validated names only (role prefix, organisation
names, column names from :mod:`scribe_lib.schema`): no user value is formatted into SQL.

Objects:

* ``scribe_access`` (owned by the loader): ``config``, ``partners``, ``organisations``,
  ``rules`` (the compiled agreement), ``users`` (hub user -> login role -> organisation),
  ``audit`` (append-only) and the view ``session_rules`` (the rules of ``session_user``).
* ``scribe_shared`` (objects owned by the read-only ``<prefix>_reader`` role): the
  ``SECURITY DEFINER`` read functions ``read_incidents`` / ``read_incident_counts`` that
  generalise, mask and log, ``record_export``, and the views users read.
"""

from __future__ import annotations

import hashlib
import re

from ..schema import INCIDENT_COLUMNS
from .agreement import RESTRICTED_FIELDS

__all__ = [
    "RoleNames",
    "ACCESS_DDL",
    "append_audit_sql",
    "read_functions_sql",
    "SHARED_VIEWS_SQL",
    "quote",
]


def quote(name: str) -> str:
    """A double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


class RoleNames:
    """The cluster-wide role names of one SCRIBE database, all starting with ``prefix``."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.loader = f"{prefix}_loader"  # owns and alone writes the base tables
        self.reader = f"{prefix}_reader"  # owns the read path; SELECT only
        self.managers = f"{prefix}_managers"  # may read the whole audit trail
        self.auditor = f"{prefix}_auditor"  # LOGIN; may only append to the audit trail

    def org(self, org: str) -> str:
        """The NOLOGIN role of an organisation."""
        return f"{self.prefix}_org_{org.replace('-', '_')}"

    def user(self, username: str) -> str:
        """The LOGIN role of a hub user (sanitised; a hash keeps it unique when altered)."""
        clean = re.sub(r"[^a-z0-9_]", "_", username.lower())[:30]
        if clean != username:
            clean += "_" + hashlib.sha256(username.encode()).hexdigest()[:6]
        return f"{self.prefix}_u_{clean}"


ACCESS_DDL = """
CREATE SCHEMA IF NOT EXISTS scribe_access;
CREATE TABLE IF NOT EXISTS scribe_access.config (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS scribe_access.partners (
    partner text PRIMARY KEY, label text NOT NULL, retention_months integer);
CREATE TABLE IF NOT EXISTS scribe_access.organisations (
    org text PRIMARY KEY, org_role name NOT NULL UNIQUE, label text NOT NULL);
CREATE TABLE IF NOT EXISTS scribe_access.rules (
    org text NOT NULL REFERENCES scribe_access.organisations ON DELETE CASCADE,
    partner text NOT NULL,
    categories text[],  -- NULL: every category
    fields text[] NOT NULL,
    precision text NOT NULL CHECK (precision IN ('exact', 'street', 'aggregate')),
    suppress boolean NOT NULL,
    PRIMARY KEY (org, partner));
CREATE TABLE IF NOT EXISTS scribe_access.users (
    username text PRIMARY KEY, db_role name NOT NULL UNIQUE, org text NOT NULL,
    role text NOT NULL CHECK (role IN ('analyst', 'viewer', 'manager')),
    created_at timestamptz NOT NULL DEFAULT now(), revoked_at timestamptz);
CREATE TABLE IF NOT EXISTS scribe_access.audit (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    db_user name NOT NULL DEFAULT session_user,
    username text, org text,
    action text NOT NULL,  -- read | counts | export | retention | apply | provision | revoke
    relation text, filter jsonb, rows bigint, query text);
CREATE INDEX IF NOT EXISTS audit_user_at ON scribe_access.audit (username, at);
CREATE TABLE IF NOT EXISTS scribe_access.audit_link (conninfo text NOT NULL);
CREATE OR REPLACE FUNCTION scribe_access.audit_is_append_only() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RAISE EXCEPTION 'the SCRIBE audit trail is append-only' USING ERRCODE = '42501';
END $$;
CREATE OR REPLACE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON scribe_access.audit
    FOR EACH ROW EXECUTE FUNCTION scribe_access.audit_is_append_only();
CREATE OR REPLACE TRIGGER audit_no_truncate BEFORE TRUNCATE ON scribe_access.audit
    FOR EACH STATEMENT EXECUTE FUNCTION scribe_access.audit_is_append_only();
CREATE OR REPLACE VIEW scribe_access.session_rules AS
    SELECT u.username, r.org, r.partner, r.categories, r.fields, r.precision, r.suppress
    FROM scribe_access.users u
    JOIN scribe_access.organisations o ON o.org = u.org
    JOIN scribe_access.rules r ON r.org = u.org
    WHERE u.db_role = session_user AND u.revoked_at IS NULL
      AND pg_has_role(session_user, o.org_role, 'USAGE');
"""

#: SQL type of each harmonised column as the read path returns it.
_SQL_TYPES = {
    "string": "text",
    "Int64": "bigint",
    "float64": "double precision",
    "datetime64[ns]": "timestamp",
}

_AUDIT = """
    PERFORM scribe_access.append_audit({action}, {relation}, {filter}, n, current_query());
"""


def append_audit_sql(dblink: str) -> str:
    """DDL of ``scribe_access.append_audit``: writes one audit row in its own transaction.

    The row is inserted over a ``dblink`` loopback connection as ``<prefix>_auditor``, so
    it is committed at once and stays even when the reader's transaction is rolled back
    (or never committed, as with a psycopg connection closed without ``commit()``).
    """
    return f"""
CREATE OR REPLACE FUNCTION scribe_access.append_audit(
    p_action text, p_relation text, p_filter jsonb, p_rows bigint, p_query text)
RETURNS bigint LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE v_user text; v_org text; v_sql text;
    v_id bigint := nextval('scribe_access.audit_id_seq');
BEGIN
    SELECT u.username, u.org INTO v_user, v_org
    FROM scribe_access.users u WHERE u.db_role = session_user;
    v_sql := format(
        'INSERT INTO scribe_access.audit (id, at, db_user, username, org, action, relation,'
        ' filter, rows, query) VALUES (%L, %L, %L, %L, %L, %L, %L, %L, %L, %L)',
        v_id, clock_timestamp(), session_user, coalesce(v_user, session_user::text), v_org,
        p_action, p_relation, p_filter, p_rows, left(p_query, 4000));
    IF NOT ('scribe_audit' = ANY (coalesce({dblink}.dblink_get_connections(), '{{}}'))) THEN
        PERFORM {dblink}.dblink_connect_u('scribe_audit',
            (SELECT conninfo FROM scribe_access.audit_link));
    END IF;
    BEGIN
        PERFORM {dblink}.dblink_exec('scribe_audit', v_sql);
    EXCEPTION WHEN others THEN  -- a link broken since the last read: connect again, once
        PERFORM {dblink}.dblink_disconnect('scribe_audit');
        PERFORM {dblink}.dblink_connect_u('scribe_audit',
            (SELECT conninfo FROM scribe_access.audit_link));
        PERFORM {dblink}.dblink_exec('scribe_audit', v_sql);
    END;
    RAISE LOG 'scribe audit %: % % % (% rows) %', v_id, session_user, p_action, p_relation,
        p_rows, p_filter;
    RETURN v_id;
END $fn$;
"""


def _column_exprs(gis: str, grid: int) -> list[str]:
    """Select-list of the read path: generalised location, masked restricted fields."""
    exprs = []
    for col, dtype in INCIDENT_COLUMNS.items():
        t = _SQL_TYPES[dtype]
        if col in ("easting", "northing"):
            e = f"CASE r.precision WHEN 'exact' THEN i.{col} WHEN 'street' THEN g.{col} END"
        elif col in ("lon", "lat"):
            fn = "ST_X" if col == "lon" else "ST_Y"
            e = (
                f"CASE r.precision WHEN 'exact' THEN i.{col} WHEN 'street' THEN "
                f"{gis}.{fn}({gis}.ST_Transform({gis}.ST_SetSRID("
                f"{gis}.ST_MakePoint(g.easting, g.northing), 27700), 4326)) END"
            )
        elif col == "location_precision":
            e = (
                "CASE WHEN r.precision = 'street' AND i.easting IS NOT NULL "
                "THEN 'rounded' ELSE i.location_precision END"
            )
        elif col in RESTRICTED_FIELDS:
            e = f"CASE WHEN '{col}' = ANY (r.fields) THEN i.{col} END"
        else:
            e = f"i.{col}"
        exprs.append(f"({e})::{t} AS {col}")
    exprs.append(
        f"CASE WHEN i.easting IS NULL THEN NULL WHEN r.precision = 'exact' "
        f"THEN {gis}.ST_SetSRID({gis}.ST_MakePoint(i.easting, i.northing), 27700) "
        f"ELSE {gis}.ST_SetSRID({gis}.ST_MakePoint(g.easting, g.northing), 27700) "
        f"END::{gis}.geometry(Point, 27700) AS geom"
    )
    return exprs


def read_functions_sql(gis: str, grid: int) -> str:
    """DDL of the composite type and the ``SECURITY DEFINER`` read functions.

    Parameters
    ----------
    gis : str
        The schema PostGIS is installed in (usually ``public``).
    grid : int
        Street precision: points are snapped to the centre of a ``grid`` metre square.
    """
    fields = ",\n    ".join(
        [f"{c} {_SQL_TYPES[t]}" for c, t in INCIDENT_COLUMNS.items()]
        + [f"geom {gis}.geometry(Point, 27700)"]
    )
    select = ",\n        ".join(_column_exprs(gis, grid))
    half = grid / 2
    filt = (
        "jsonb_strip_nulls(jsonb_build_object('category', {fn}.categories, 'partner', "
        "{fn}.partners, 'start', {fn}.start_date, 'end', {fn}.end_date, 'purpose', {fn}.purpose))"
    )
    snap = (
        f"CROSS JOIN LATERAL (SELECT floor(i.easting / {grid}) * {grid} + {half} AS easting, "
        f"floor(i.northing / {grid}) * {grid} + {half} AS northing) g"
    )
    area = (
        "CROSS JOIN LATERAL (VALUES ('lsoa', i.lsoa_code::text), ('ward', i.ward_code::text))"
        " a(kind, code)"
    )
    common = """
        FROM scribe.incidents i
        JOIN scribe.submissions s ON s.submission_id = i.submission_id
             AND s.superseded_by IS NULL
        {extra}
        JOIN scribe_access.session_rules r ON r.partner = i.partner
             AND (r.categories IS NULL OR i.category = ANY (r.categories))
        WHERE ({fn}.categories IS NULL OR i.category = ANY ({fn}.categories))
          AND ({fn}.partners IS NULL OR i.partner = ANY ({fn}.partners))
          AND ({fn}.start_date IS NULL OR i.period_start >= {fn}.start_date)
          AND ({fn}.end_date IS NULL OR i.period_start < {fn}.end_date)"""
    args = """categories text[] DEFAULT NULL, partners text[] DEFAULT NULL,
    start_date timestamp DEFAULT NULL, end_date timestamp DEFAULT NULL,
    purpose text DEFAULT NULL"""
    header = "LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp"
    return f"""
CREATE TYPE scribe_shared.incident AS (
    {fields});

CREATE FUNCTION scribe_shared.read_incidents({args})
RETURNS SETOF scribe_shared.incident {header} AS $fn$
DECLARE n bigint;
BEGIN
    RETURN QUERY SELECT
        {select}
        {common.format(extra=snap, fn="read_incidents")}
          AND r.precision IN ('exact', 'street')
        ;
    GET DIAGNOSTICS n = ROW_COUNT;
    {
        _AUDIT.format(
            action="'read'", relation="'incidents'", filter=filt.format(fn="read_incidents")
        )
    }
END $fn$;

CREATE FUNCTION scribe_shared.read_incident_counts({args})
RETURNS TABLE (area_kind text, area_code text, month date, partner text, category text,
               incidents bigint, suppressed boolean) {header} AS $fn$
DECLARE n bigint;
BEGIN
    RETURN QUERY SELECT a.kind, a.code, date_trunc('month', i.period_start)::date,
        i.partner::text, i.category::text,
        CASE WHEN r.suppress AND count(*) < (SELECT value::int FROM scribe_access.config
                                             WHERE key = 'suppress_counts_below')
             THEN NULL ELSE count(*) END,
        r.suppress AND count(*) < (SELECT value::int FROM scribe_access.config
                                   WHERE key = 'suppress_counts_below')
        {common.format(extra=area, fn="read_incident_counts")}
        GROUP BY 1, 2, 3, 4, 5, r.suppress ORDER BY 1, 2, 3, 4, 5;
    GET DIAGNOSTICS n = ROW_COUNT;
    {
        _AUDIT.format(
            action="'counts'",
            relation="'incident_counts'",
            filter=filt.format(fn="read_incident_counts"),
        )
    }
END $fn$;

CREATE FUNCTION scribe_shared.record_export(what text, filter jsonb, nrows bigint)
RETURNS bigint {header} AS $fn$
BEGIN
    RETURN scribe_access.append_audit('export', record_export.what, record_export.filter,
                                      record_export.nrows, current_query());
END $fn$;
"""


SHARED_VIEWS_SQL = """
CREATE VIEW scribe_shared.incidents WITH (security_barrier) AS
    SELECT * FROM scribe_shared.read_incidents();
CREATE VIEW scribe_shared.incident_counts WITH (security_barrier) AS
    SELECT * FROM scribe_shared.read_incident_counts();
CREATE VIEW scribe_shared.my_audit WITH (security_barrier) AS
    SELECT id, at, username, org, action, relation, filter, rows, query
    FROM scribe_access.audit WHERE db_user = session_user;
"""
