"""The hub's own PostgreSQL cluster (scribe_lib/hub/cluster.py), without the hub.

tests/test_hub_e2e.py runs `scribe hub` on such a cluster and tries, as a hub user, every
login that must be refused; here: the cluster keeps its configuration, whatever is
edited into it, and says what to do when it cannot be managed.
"""

from __future__ import annotations

import pwd
import secrets
import shutil
from pathlib import Path

import psycopg
import pytest

from scribe_lib.errors import ScribeError
from scribe_lib.hub import accounts
from scribe_lib.hub import cluster as cluster_mod
from scribe_lib.hub.cluster import HBA_CONF, StoreCluster
from scribe_lib.hub.testing import free_ports

pytestmark = [pytest.mark.hub, pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture
def cluster():
    base = Path(f"/tmp/scribe-pgtest-{secrets.token_hex(3)}")  # the postgres account reaches it
    base.mkdir(mode=0o755)
    c = StoreCluster(base / "pg", port=free_ports(1)[0], os_user=f"p{base.name[-6:]}")
    try:
        yield c
    finally:
        try:
            c.stop()
        finally:
            accounts.delete_account(c.os_user)  # created by ensure()
            shutil.rmtree(base, ignore_errors=True)


def _tcp(c: StoreCluster, user: str, port: int | None = None) -> str:
    return f"postgresql://{user}@127.0.0.1:{port or c.port}/postgres?connect_timeout=20"


def _admin(c: StoreCluster) -> str:
    return c.admin_url.replace("/scribe?", "/postgres?")


def test_the_cluster_is_created_once_and_keeps_its_password_rules(cluster):
    assert cluster.ensure() == "created, started"
    assert cluster.ensure() == "running"
    assert (cluster.data_dir / "pg_hba.conf").read_text() == HBA_CONF
    owner = pwd.getpwnam(cluster.os_user)  # a system account of its own, without a shell
    assert owner.pw_shell == "/usr/sbin/nologin" and owner.pw_uid < 1000
    assert cluster.data_dir.stat().st_uid == cluster.socket_dir.stat().st_uid == owner.pw_uid
    assert cluster.data_dir.stat().st_mode & 0o777 == 0o700
    assert f"scribe_admin    {cluster.os_user}" in (cluster.data_dir / "pg_ident.conf").read_text()
    assert "postgres         postgres" not in (cluster.data_dir / "pg_ident.conf").read_text()
    with psycopg.connect(_admin(cluster)) as conn:  # root, over the socket, by peer
        assert conn.execute("SELECT current_user").fetchone()[0] == "postgres"
    # someone "fixes" the cluster by trusting local connections: the next start undoes it
    hba = cluster.data_dir / "pg_hba.conf"
    hba.write_text("host all all 127.0.0.1/32 trust\nlocal all all trust\n")
    with psycopg.connect(_admin(cluster)) as conn:
        conn.execute("SELECT pg_reload_conf()")
    with psycopg.connect(_tcp(cluster, "postgres")):  # trusted now
        pass
    assert cluster.ensure() == "reloaded"
    with pytest.raises(psycopg.OperationalError, match="pg_hba.conf rejects connection"):
        psycopg.connect(_tcp(cluster, "postgres"))


def test_a_changed_port_restarts_the_cluster(cluster):
    cluster.ensure()
    moved = StoreCluster(cluster.root, port=free_ports(1)[0], os_user=cluster.os_user)
    assert moved.ensure() == "restarted"
    with psycopg.connect(moved.admin_url.replace("/scribe?", "/postgres?")) as conn:
        assert conn.execute("SHOW port").fetchone()[0] == str(moved.port)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(_admin(cluster))  # the old socket is gone


def test_only_root_manages_the_cluster(cluster, monkeypatch):
    monkeypatch.setattr(cluster_mod.os, "geteuid", lambda: 1000)
    with pytest.raises(ScribeError, match="managed by root.*--store URL"):
        cluster.ensure()
    assert not cluster.root.exists()


def test_missing_postgresql_programs_are_named(monkeypatch, tmp_path):
    monkeypatch.setenv("SCRIBE_PG_BINDIR", str(tmp_path))
    monkeypatch.setattr(cluster_mod.glob, "glob", lambda pattern: [])
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ScribeError, match="initdb and pg_ctl were not found.*scripts/setup.sh"):
        cluster_mod.postgres_bindir()


def test_a_taken_port_is_named(cluster):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", cluster.port))
        taken.listen()
        with pytest.raises(ScribeError, match=f"port {cluster.port} .* SCRIBE_HUB_PG_PORT"):
            cluster.ensure()
