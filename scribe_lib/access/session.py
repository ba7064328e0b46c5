"""How a store connection reads: base tables (the loader) or ``scribe_shared`` (a hub user).

The PostgreSQL store asks :func:`shared_tables` once when it connects. For a hub user it
returns where each logical table is read from, so :func:`scribe_lib.load` and friends go
through the audited, agreement-enforcing read path without any other change; before each
read the store calls :func:`shared_incidents_call` so that the read function itself applies
the filter, and the audit trail records the filter and the exact number of rows.
"""

from __future__ import annotations

from psycopg import sql

__all__ = ["shared_tables", "shared_incidents_call"]

_PROBE = """
SELECT
    EXISTS (SELECT 1 FROM pg_namespace n WHERE n.nspname = 'scribe_shared'
            AND has_schema_privilege(n.oid, 'USAGE')),
    EXISTS (SELECT 1 FROM pg_namespace n WHERE n.nspname = 'scribe'
            AND has_schema_privilege(n.oid, 'USAGE'))
"""


def shared_tables(conn) -> dict[str, str] | None:
    """Logical table -> relation for a hub user's connection; ``None`` for the loader.

    Parameters
    ----------
    conn : psycopg.Connection
        An open connection to the SCRIBE database.

    Returns
    -------
    dict or None
        ``{"incidents": "scribe_shared.read_incidents()", "submissions": ...,
        "localities": ...}`` when the connected role may use ``scribe_shared`` but not the
        base schema ``scribe``; ``None`` otherwise (read the base tables).
    """
    shared, base = conn.execute(_PROBE).fetchone()
    if not shared or base:
        return None
    return {
        "incidents": "scribe_shared.read_incidents()",
        "submissions": "scribe_shared.submissions",
        "localities": "scribe_shared.localities",
    }


def shared_incidents_call(conn, category=None, partner=None, start=None, end=None) -> str:
    """The read function called with the store's filters, as an SQL relation.

    Parameters
    ----------
    conn : psycopg.Connection
        The hub user's connection (for quoting).
    category, partner : list of str, optional
        Taxonomy categories and partners to keep.
    start, end : datetime-like, optional
        Half-open bounds on ``period_start``.

    Returns
    -------
    str
        e.g. ``scribe_shared.read_incidents(ARRAY['burglary']::text[], NULL, ...)``, with
        every value quoted by psycopg (never formatted by hand).
    """

    def lit(value, cast):
        if value is None:
            return sql.SQL("NULL::" + cast)
        if cast == "timestamp":
            value = value.to_pydatetime() if hasattr(value, "to_pydatetime") else value
            return sql.SQL("{}::timestamp").format(sql.Literal(str(value)))
        return sql.SQL("{}::text[]").format(sql.Literal([str(v) for v in value]))

    call = sql.SQL("scribe_shared.read_incidents({}, {}, {}, {}, 'scribe_lib')").format(
        lit(category or None, "text[]"),
        lit(partner or None, "text[]"),
        lit(start, "timestamp"),
        lit(end, "timestamp"),
    )
    return call.as_string(conn)
