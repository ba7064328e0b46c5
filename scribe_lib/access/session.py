"""How a store connection reads: base tables (the loader) or ``scribe_shared`` (a hub user).

The PostgreSQL store asks :func:`shared_tables` once when it connects. For a hub user it
returns where each logical table is read from, so :func:`scribe_lib.load` and friends go
through the audited, agreement-enforcing read path without any other change.
"""

from __future__ import annotations

import json

__all__ = ["shared_tables", "describe_read", "READ_FILTER_SETTING"]

#: session setting the store fills with the filter of its next read (recorded in the audit).
READ_FILTER_SETTING = "scribe.read_filter"

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


def describe_read(conn, where: list[str], params: list) -> None:
    """Tell the audit trail the filter of the next read on ``conn`` (self-described).

    The database records the query text and the row count itself; this adds the values of
    the store's placeholders, which the query text does not show.
    """
    shown = [
        "<geometry>" if isinstance(p, bytes | bytearray | memoryview) else str(p) for p in params
    ]
    conn.execute(
        "SELECT set_config(%s, %s, false)",
        [READ_FILTER_SETTING, json.dumps({"where": where, "params": shown})],
    )
