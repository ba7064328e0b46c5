"""Is the agreement enforceable? Password checks in ``pg_hba.conf``.

Database roles only protect anything if a hub user must prove who they are: a ``trust``
line lets anyone who reaches the server there log in as any role, ``postgres`` included.
"""

from __future__ import annotations

import warnings

__all__ = ["AccessWarning", "trust_problems", "warn_if_trusted"]


class AccessWarning(UserWarning):
    """The database is set up so that the agreement may not hold."""


def trust_problems(rules: list[tuple], prefix: str) -> list[str]:
    """Plain-English problems in ``pg_hba.conf`` rules that trust hub users' roles.

    Parameters
    ----------
    rules : list of tuple
        ``(line_number, type, databases, user_names, address, auth_method)`` rows of
        ``pg_hba_file_rules``.
    prefix : str
        The agreement's role prefix; a rule for only other users is no problem.

    Returns
    -------
    list of str
        One message per ``trust`` line that matches every role or a SCRIBE role.
    """
    out = []
    for line, kind, _dbs, users, address, method in rules:
        if method != "trust":
            continue
        users = list(users or [])
        if not ("all" in users or any(u.startswith(("+", prefix)) for u in users)):
            continue
        where = "the local socket" if kind == "local" else f"{kind} {address or 'any address'}"
        out.append(
            f"pg_hba.conf line {line} trusts {', '.join(users)} on {where}: anyone who can "
            "connect there logs in as any role without a password, so the data-sharing "
            "agreement is not enforced; use scram-sha-256 (docs/access.md)"
        )
    return out


def warn_if_trusted(conn, prefix: str) -> list[str]:
    """Warn (:class:`AccessWarning`) about each ``trust`` rule that covers hub users."""
    rows = conn.execute(
        "SELECT line_number, type, database, user_name, address, auth_method "
        "FROM pg_hba_file_rules WHERE error IS NULL ORDER BY line_number"
    ).fetchall()
    problems = trust_problems(rows, prefix)
    for message in problems:
        warnings.warn(message, AccessWarning, stacklevel=3)
    return problems
