"""Database logins of hub users: one LOGIN role each, member of its organisation's role.

The hub calls :func:`provision_user` when the manager approves a user and
:func:`revoke_user` when the manager revokes one. The secret is returned to the hub,
which hands it to that user's server only; the server never sees the admin URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import warnings
from urllib.parse import quote as urlquote

import psycopg

from ..errors import AccessError, NotFoundError
from .connect import admin_connect
from .hba import AccessWarning
from .sql import RoleNames, quote

__all__ = ["provision_user", "revoke_user", "user_url", "login_name", "ROLES", "role_prefix"]

#: hub roles; ``manager`` may also read the whole audit trail.
ROLES = ("analyst", "viewer", "manager")


def role_prefix(conn: psycopg.Connection) -> str:
    """The role prefix the agreement was applied with (``AccessError`` if never applied)."""
    row = None
    if conn.execute("SELECT to_regclass('scribe_access.config')").fetchone()[0] is not None:
        row = conn.execute(
            "SELECT value FROM scribe_access.config WHERE key = 'role_prefix'"
        ).fetchone()
    if row is None:
        raise AccessError("no data-sharing agreement is applied; run `scribe access apply` first")
    return row[0]


def provision_user(username: str, org: str, role: str, *, admin_url: str) -> str:
    """Give an approved hub user a database login in its organisation; return its secret.

    Parameters
    ----------
    username : str
        The hub user name.
    org : str
        An organisation of the applied agreement.
    role : {'analyst', 'viewer', 'manager'}
        The user's hub role.
    admin_url : str
        A superuser URL of the SCRIBE database.

    Returns
    -------
    str
        A new random password of the login role :meth:`RoleNames.user` (call again to
        rotate it). Build the user's URL with :func:`user_url`.
    """
    if not isinstance(username, str) or not username.strip():
        raise AccessError(f"username {username!r}: give the hub user name")
    if role not in ROLES:
        raise AccessError(f"role {role!r} is not a hub role; use one of {', '.join(ROLES)}")
    secret = secrets.token_urlsafe(24)
    with admin_connect(admin_url) as conn, conn.transaction():
        names = RoleNames(role_prefix(conn))
        orgs = dict(conn.execute("SELECT org, org_role FROM scribe_access.organisations"))
        if org not in orgs:
            raise NotFoundError(
                f"unknown organisation {org!r}; known organisations: {', '.join(sorted(orgs))}"
            )
        login = names.user(username)
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [login]).fetchone()
        ours = conn.execute(
            "SELECT 1 FROM scribe_access.users WHERE db_role = %s", [login]
        ).fetchone()
        if exists and not ours:
            raise AccessError(f"a database role {login!r} exists and is not a SCRIBE user")
        verb = "ALTER" if exists else "CREATE"
        conn.execute(
            f"{verb} ROLE {quote(login)} LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE "
            f"NOREPLICATION NOBYPASSRLS PASSWORD '{_scram(secret)}'"
        )
        _drop_memberships(conn, login)
        conn.execute(f"GRANT {quote(orgs[org])} TO {quote(login)}")
        if role == "manager":
            conn.execute(f"GRANT {quote(names.managers)} TO {quote(login)}")
        conn.execute(f"ALTER ROLE {quote(login)} SET search_path = scribe_shared, public")
        conn.execute(
            "INSERT INTO scribe_access.users (username, db_role, org, role) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (username) DO UPDATE SET db_role = excluded.db_role, org = excluded.org, "
            "role = excluded.role, revoked_at = NULL",
            [username, login, org, role],
        )
        _audit(conn, "provision", username, org, {"role": role, "db_role": login})
    return secret


def revoke_user(username: str, *, admin_url: str) -> None:
    """Take away a hub user's database login and end its open sessions.

    The login role loses LOGIN and its memberships, its sessions are terminated, and
    the role is dropped; the user's rows in the audit trail stay. Revoking twice, or
    revoking a user who never had a login (:class:`AccessWarning`), is harmless.
    """
    with admin_connect(admin_url) as conn:
        with conn.transaction():
            names = RoleNames(role_prefix(conn))
            row = conn.execute(
                "SELECT db_role, org FROM scribe_access.users WHERE username = %s", [username]
            ).fetchone()
            if row is None:  # never approved here: the end state already holds
                warnings.warn(
                    f"{username!r} has no database login here; nothing to revoke",
                    AccessWarning,
                    stacklevel=2,
                )
                return
            login, org = row
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [login]).fetchone():
                conn.execute(f"ALTER ROLE {quote(login)} NOLOGIN")
                _drop_memberships(conn, login)
            conn.execute(
                "UPDATE scribe_access.users SET revoked_at = now() WHERE username = %s", [username]
            )
            _audit(conn, "revoke", username, org, {"db_role": login, "prefix": names.prefix})
        conn.execute(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE usename = %s",
            [login],
        )
        conn.commit()
        try:
            with conn.transaction():
                conn.execute(f"DROP ROLE IF EXISTS {quote(login)}")
        except psycopg.Error as exc:
            warnings.warn(
                f"role {login} keeps existing without LOGIN or memberships: {exc}", stacklevel=2
            )


def login_name(username: str, *, admin_url: str | None = None, prefix: str | None = None) -> str:
    """The database login role of a hub user.

    The role prefix is ``prefix`` when given, else read from the database at ``admin_url``
    (default ``$SCRIBE_ADMIN_URL``), else the ``scribe`` of the demo agreement.
    """
    admin_url = admin_url or os.environ.get("SCRIBE_ADMIN_URL")
    if prefix is None and admin_url is not None:
        with admin_connect(admin_url) as conn:
            prefix = role_prefix(conn)
    return RoleNames(prefix or "scribe").user(username)


def user_url(username: str, secret: str, *, admin_url: str) -> str:
    """The ``postgresql://`` URL a hub user's server connects with (same host and database).

    When ``admin_url`` reaches the server over a Unix socket (the hub's own cluster lets
    only the administrator in there), the user connects over TCP to 127.0.0.1 on the same
    port, where the server asks for the password.
    """
    info = psycopg.conninfo.conninfo_to_dict(admin_url)
    with admin_connect(admin_url) as conn:
        login = RoleNames(role_prefix(conn)).user(username)
    host = info.get("host") or "127.0.0.1"
    if host.startswith("/"):
        host = "127.0.0.1"
    port = info.get("port", "5432")
    db = info.get("dbname", "postgres")
    return f"postgresql://{urlquote(login, safe='')}:{urlquote(secret, safe='')}@{host}:{port}/{db}"


def _drop_memberships(conn, login: str) -> None:
    for (granted,) in conn.execute(
        "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
        "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = %s",
        [login],
    ).fetchall():
        conn.execute(f"REVOKE {quote(granted)} FROM {quote(login)}")


def _audit(conn, action: str, username: str, org: str | None, detail: dict) -> None:
    conn.execute(
        "INSERT INTO scribe_access.audit (username, org, action, relation, filter, query) "
        "VALUES (%s, %s, %s, 'users', %s, %s)",
        [username, org, action, json.dumps(detail), f"{action}_user"],
    )


def _scram(password: str, iterations: int = 4096) -> str:
    """A SCRAM-SHA-256 verifier, so the clear password never reaches the server's logs."""
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = base64.b64encode
    return (
        f"SCRAM-SHA-256${iterations}:{b64(salt).decode()}$"
        f"{b64(stored_key).decode()}:{b64(server_key).decode()}"
    )
