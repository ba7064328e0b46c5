"""The administrator's connection to the SCRIBE database (a superuser)."""

from __future__ import annotations

import psycopg

from ..errors import AccessError, StoreError

__all__ = ["admin_connect", "safe_url"]


def admin_connect(admin_url: str) -> psycopg.Connection:
    """Connect as the database administrator (a superuser) and check that it is one."""
    try:
        conn = psycopg.connect(admin_url)
    except psycopg.Error as exc:
        raise StoreError(f"cannot connect to {safe_url(admin_url)}: {exc}") from None
    if not conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]:
        conn.close()
        raise AccessError(
            "the access layer is managed with a superuser connection (e.g. postgres); "
            f"{safe_url(admin_url)} is not one"
        )
    return conn


def safe_url(url: str) -> str:
    """A connection string without its password, for messages."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.Error:
        return "the store URL"
    info.pop("password", None)
    return " ".join(f"{k}={v}" for k, v in info.items())
