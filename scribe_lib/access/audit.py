"""The audit trail: who read or exported which incident data, when, with what filter.

Reads are logged by the database itself: the only way a hub user reaches incident
data is the ``SECURITY DEFINER`` functions behind ``scribe_shared`` (see ``docs/access.md``),
which append a row to ``scribe_access.audit`` on every call. Downloads and exports made by
an app are recorded with :func:`record_export`. The table is append-only (a trigger refuses
UPDATE, DELETE and TRUNCATE; no hub user holds any privilege on it); a user reads only
their own rows (``scribe_shared.my_audit``), the manager reads all with :func:`audit_entries`.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import psycopg

from ..errors import AccessError, StoreError
from .connect import admin_connect

__all__ = ["record_export", "audit_entries", "AUDIT_COLUMNS"]

#: columns of :func:`audit_entries`.
AUDIT_COLUMNS = [
    "id",
    "at",
    "username",
    "db_user",
    "org",
    "action",
    "relation",
    "filter",
    "rows",
    "query",
]


def record_export(conn, what: str, filter: dict | None, rows: int) -> int | None:
    """Record that the connected user exported or downloaded data; return the entry id.

    Parameters
    ----------
    conn : psycopg.Connection, str or Store
        The user's own connection, its URL, or an open store; the entry is written as the
        connection's ``session_user``, in its own transaction (the caller's transaction is
        neither committed nor needed). An embedded (DuckDB) store has no audit trail: None
        is returned.
    what : str
        What was exported, e.g. ``"hotspots.geojson"`` or ``"incidents.csv"``.
    filter : dict or None
        The filter that selected the rows (JSON-serialisable; dates allowed).
    rows : int
        How many rows were written.

    Examples
    --------
    >>> record_export(conn, "incidents.csv", {"category": ["burglary"]}, 120)  # doctest: +SKIP
    """
    if not isinstance(what, str) or not what.strip():
        raise AccessError(f"what={what!r}: say what was exported, e.g. 'incidents.csv'")
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
        raise AccessError(f"rows={rows!r}: give the number of rows exported (0 or more)")
    try:
        payload = json.dumps(filter if filter is not None else {}, default=_plain)
    except (TypeError, ValueError) as exc:
        raise AccessError(f"filter={filter!r} cannot be recorded as JSON: {exc}") from None
    if getattr(conn, "backend", None) == "duckdb":
        return None
    conn = getattr(conn, "con", conn)  # a PostgresStore
    own = isinstance(conn, str)
    c = psycopg.connect(conn) if own else conn
    try:
        row = c.execute(
            "SELECT scribe_shared.record_export(%s, %s::jsonb, %s)", [what, payload, rows]
        ).fetchone()
    except psycopg.errors.UndefinedFunction:
        c.rollback()
        raise StoreError("this database has no audit trail; run `scribe access apply`") from None
    finally:
        if own:
            c.close()
    return int(row[0])


def _plain(value):
    """JSON for dates and numpy scalars in a filter; anything else is refused."""
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if hasattr(value, "item") and callable(value.item):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def audit_entries(
    admin_url: str, *, user: str | None = None, since: dt.date | str | None = None
) -> pd.DataFrame:
    """The audit trail, oldest first, for the manager.

    Parameters
    ----------
    admin_url : str
        A superuser URL of the SCRIBE database.
    user : str, optional
        Only this hub user's entries.
    since : date or 'YYYY-MM-DD', optional
        Only entries at or after the start of this day (UTC).

    Returns
    -------
    DataFrame
        :data:`AUDIT_COLUMNS`; ``filter`` as a JSON string, ``at`` in UTC.
    """
    if isinstance(since, str):
        try:
            since = dt.date.fromisoformat(since)
        except ValueError:
            raise AccessError(f"since={since!r}: give a day as YYYY-MM-DD") from None
    where, params = [], []
    if user is not None:
        where.append("username = %s")
        params.append(user)
    if since is not None:
        where.append("at >= %s::date::timestamp AT TIME ZONE 'UTC'")
        params.append(since)
    sql = (
        "SELECT id, at AT TIME ZONE 'UTC' AS at, username, db_user::text, org, action, relation, "
        "filter::text, rows, query FROM scribe_access.audit "
        f"{'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY id"
    )
    with admin_connect(admin_url) as conn:
        if conn.execute("SELECT to_regclass('scribe_access.audit')").fetchone()[0] is None:
            raise StoreError("this database has no audit trail; run `scribe access apply`")
        cur = conn.execute(sql, params)
        df = pd.DataFrame(cur.fetchall(), columns=AUDIT_COLUMNS)
    return df.astype({"rows": "Int64"})
