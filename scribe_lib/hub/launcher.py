"""``scribe hub``: make sure the hub's parts are there, then run JupyterHub.

Parts, in order: root (the hub starts each user's server as their own Unix
account), the hub's own PostgreSQL cluster created and running (unless the store
is one of your own, ``--store URL``; see :mod:`scribe_lib.hub.cluster`),
PostgreSQL with PostGIS reachable and the store database present,
the demo data when the store is empty, the data-sharing agreement applied,
and configurable-http-proxy. Each check either fixes what it can or raises a
:class:`ScribeError` that says what to do.
"""

from __future__ import annotations

import importlib
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from ..errors import ScribeError, StoreError
from .settings import ADMIN_PASSWORD_ENV, REPO_ROOT, HubSettings

__all__ = [
    "ensure_cluster",
    "ensure_postgres",
    "ensure_store_tables",
    "ensure_demo",
    "ensure_proxy",
    "apply_agreement",
    "manager_exists",
    "hub_command",
    "new_manager_password",
    "CONFIG_FILE",
]

CONFIG_FILE = REPO_ROOT / "hub_config" / "jupyterhub_config.py"


def _with_db(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, ""))


def ensure_cluster(settings: HubSettings) -> str | None:
    """Create and start the hub's own PostgreSQL cluster when needed; None for a store of your own.

    Returns what was done (``created, started``, ``running``...).
    """
    cluster = settings.cluster
    if cluster is None:
        return None
    return cluster.ensure()


def ensure_postgres(admin_url: str) -> str:
    """PostgreSQL answering, the store database present with PostGIS; returns the version."""
    import psycopg

    dbname = urlsplit(admin_url).path.lstrip("/") or "scribe"
    try:
        with psycopg.connect(_with_db(admin_url, "postgres"), autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{dbname}"')
    except psycopg.OperationalError as exc:
        parts = urlsplit(admin_url)
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StoreError(
            f"PostgreSQL is not reachable at {parts.hostname}:{parts.port or 5432} ({reason}); "
            "start it (bash scripts/setup.sh does) and try again"
        ) from exc
    with psycopg.connect(admin_url, autocommit=True) as conn:
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        except psycopg.Error as exc:
            raise StoreError(
                f"PostGIS is not installed for this PostgreSQL: {exc}. "
                "Install postgresql-15-postgis-3 (bash scripts/setup.sh does)."
            ) from exc
        return conn.execute("SELECT postgis_lib_version()").fetchone()[0]


def ensure_store_tables(admin_url: str) -> None:
    """The store's tables (``scribe init``), created when missing, so the agreement applies."""
    from ..store.postgres import PostgresStore

    PostgresStore(admin_url).close()


def _incident_count(admin_url: str) -> int:
    import psycopg

    with psycopg.connect(admin_url) as conn:
        if conn.execute("SELECT to_regclass('scribe.incidents')").fetchone()[0] is None:
            return 0
        return conn.execute("SELECT count(*) FROM scribe.incidents").fetchone()[0]


def ensure_demo(admin_url: str) -> int | None:
    """Build the demo data into the store when it holds no incidents.

    Returns the number of incidents found or built; None when the demo
    generator (``scribe_lib.demo.build_demo``) is not available.
    """
    count = _incident_count(admin_url)
    if count:
        return count
    try:
        demo = importlib.import_module("scribe_lib.demo")
    except ModuleNotFoundError:
        return None
    demo.build_demo(store=admin_url)
    return _incident_count(admin_url)


def apply_agreement(settings: HubSettings) -> list[str]:
    """Apply the data-sharing agreement to the store (every start: edits take effect)."""
    from . import access_bridge

    if not settings.agreement_path.exists():
        raise ScribeError(
            f"no data-sharing agreement at {settings.agreement_path}: write one "
            "(see docs/access.md) or set SCRIBE_AGREEMENT"
        )
    return access_bridge.apply(settings.agreement_path, admin_url=settings.admin_url)


def ensure_proxy() -> str:
    """Path of configurable-http-proxy, installed from npm when missing."""
    found = shutil.which("configurable-http-proxy")
    if found:
        return found
    npm = shutil.which("npm")
    if npm is None:
        raise ScribeError(
            "configurable-http-proxy is missing and so is npm: install nodejs and npm "
            "(bash scripts/setup.sh does), then try again"
        )
    result = subprocess.run(
        [npm, "install", "-g", "--no-fund", "--no-audit", "configurable-http-proxy"],
        capture_output=True,
        text=True,
    )
    found = shutil.which("configurable-http-proxy")
    if result.returncode != 0 or not found:
        raise ScribeError(f"npm could not install configurable-http-proxy: {result.stderr[-500:]}")
    return found


def manager_exists(settings: HubSettings) -> bool:
    """Whether the hub database already has the manager's account."""
    db = settings.state_dir / "jupyterhub.sqlite"
    if not db.exists():
        return False
    with sqlite3.connect(db) as conn:
        try:
            row = conn.execute(
                "SELECT 1 FROM users_info WHERE username = ?", (settings.manager,)
            ).fetchone()
        except sqlite3.OperationalError:  # no users_info table yet
            return False
    return row is not None


def hub_command(settings: HubSettings) -> tuple[list[str], dict[str, str]]:
    """The JupyterHub command line and environment for ``settings``."""
    if os.geteuid() != 0:
        raise ScribeError(
            "the hub must run as root: it starts each user's server as their own Unix "
            "account (as The Littlest JupyterHub does); run `sudo scribe hub`"
        )
    jupyterhub = Path(sys.executable).parent / "jupyterhub"
    env = dict(os.environ)
    env.update(settings.to_env())
    proxy_dir = str(Path(ensure_proxy()).parent)
    env["PATH"] = os.pathsep.join([str(jupyterhub.parent), proxy_dir, env.get("PATH", "")])
    cmd = [str(jupyterhub), "-f", str(CONFIG_FILE)]
    return cmd, env


def new_manager_password(settings: HubSettings) -> str | None:
    """A generated manager password when the account is new and none was given, else None."""
    import secrets

    if manager_exists(settings) or os.environ.get(ADMIN_PASSWORD_ENV):
        return None
    return secrets.token_urlsafe(12)
