"""Retention: delete each partner's incidents older than the agreement keeps them.

Runs as the loader (the only role that may write the base tables) and writes one audit
entry per partner. An incident is past retention when its period ended on or before the
cut-off (today minus the partner's ``retention_months``); quarantined rows of the
partner's submissions that ended before the cut-off go too (they hold raw lines).
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd

from .connect import admin_connect
from .sql import RoleNames, quote
from .users import role_prefix

__all__ = ["apply_retention"]


def _cutoff(today: dt.date, months: int) -> dt.date:
    y, m = divmod(today.year * 12 + today.month - 1 - months, 12)
    m += 1
    last = (dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(y, m, min(today.day, last))


def apply_retention(
    admin_url: str, *, dry_run: bool = False, today: dt.date | None = None
) -> pd.DataFrame:
    """Delete incidents kept longer than the applied agreement allows.

    Parameters
    ----------
    admin_url : str
        A superuser URL of the SCRIBE database (the work is done as ``<prefix>_loader``).
    dry_run : bool
        Count only; delete nothing and write no audit entry.
    today : date, optional
        The day to count back from (default: today, UTC).

    Returns
    -------
    DataFrame
        One row per partner with a retention period: ``partner, retention_months, cutoff,
        incidents, quarantined`` (rows deleted, or that would be with ``dry_run``).
    """
    today = today or dt.datetime.now(dt.UTC).date()
    out = []
    with admin_connect(admin_url) as conn, conn.transaction():
        loader = RoleNames(role_prefix(conn)).loader
        plan = conn.execute(
            "SELECT partner, retention_months FROM scribe_access.partners "
            "WHERE retention_months IS NOT NULL ORDER BY partner"
        ).fetchall()
        conn.execute(f"SET LOCAL ROLE {quote(loader)}")
        for partner, months in plan:
            cutoff = _cutoff(today, months)
            inc_where = "partner = %s AND period_end <= %s"
            q_where = (
                "submission_id IN (SELECT submission_id FROM scribe.submissions WHERE partner = %s "
                "AND coalesce(covers_to + interval '1 month', received_at) <= %s)"
            )
            if dry_run:
                n_inc = conn.execute(
                    f"SELECT count(*) FROM scribe.incidents WHERE {inc_where}", [partner, cutoff]
                ).fetchone()[0]
                n_q = conn.execute(
                    f"SELECT count(*) FROM scribe.quarantine WHERE {q_where}", [partner, cutoff]
                ).fetchone()[0]
            else:
                n_inc = conn.execute(
                    f"DELETE FROM scribe.incidents WHERE {inc_where}", [partner, cutoff]
                ).rowcount
                n_q = conn.execute(
                    f"DELETE FROM scribe.quarantine WHERE {q_where}", [partner, cutoff]
                ).rowcount
                detail = {"partner": partner, "retention_months": months, "cutoff": str(cutoff),
                          "quarantined_deleted": n_q}  # fmt: skip
                conn.execute(
                    "INSERT INTO scribe_access.audit (username, action, relation, filter, rows, "
                    "query) VALUES (session_user, 'retention', 'incidents', %s, %s, %s)",
                    [json.dumps(detail), n_inc, "scribe retention"],
                )
            out.append((partner, months, cutoff, n_inc, n_q))
        conn.execute("RESET ROLE")
    cols = ["partner", "retention_months", "cutoff", "incidents", "quarantined"]
    return pd.DataFrame(out, columns=cols)
