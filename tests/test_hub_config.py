"""The hub's settings, its single-machine and Kubernetes configurations, and the CLI
without a running hub (tests/test_hub_e2e.py runs the real hub)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import yaml
from traitlets.config import Config

from scribe_lib.errors import ConfigError, ScribeError, StoreError
from scribe_lib.hub import access_bridge, accounts, k8s, launcher, members, userenv
from scribe_lib.hub.settings import REPO_ROOT, HubSettings, common_config, role_group

SCRIBE = Path(sys.executable).parent / "scribe"


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"port": 0}, "port must be a TCP port"),
        ({"hub_port": 70000}, "hub_port must be a TCP port"),
        ({"minimum_password_length": 6}, "at least 8"),
        ({"unix_prefix": "1x-"}, "must start with a letter"),
        ({"store_url": "scribe.duckdb"}, "store_url must be a postgresql:// URL"),
        ({"pg_port": 0}, "pg_port must be a TCP port"),
        ({"pg_user": "scribe-pg"}, "not root nor a hub user's"),
        ({"pg_user": "root"}, "not root nor a hub user's"),
    ],
)
def test_bad_settings_are_refused(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        HubSettings(**kwargs)


@pytest.mark.parametrize("store_url", [None, "postgresql://postgres:pw@db.example:5432/scribe"])
def test_settings_round_trip_through_the_environment(monkeypatch, store_url):
    monkeypatch.delenv("SCRIBE_ADMIN_URL", raising=False)
    s = HubSettings(port=9123, unix_prefix="csp-", state_dir=Path("/tmp/x"), store_url=store_url)
    for key, value in s.to_env().items():
        monkeypatch.setenv(key, value)
    assert HubSettings.from_env() == s
    assert HubSettings.from_env(port=9999).port == 9999


def test_the_hub_keeps_its_store_in_its_own_cluster_unless_given_one(monkeypatch):
    monkeypatch.delenv("SCRIBE_ADMIN_URL", raising=False)
    own = HubSettings.from_env(pg_dir=Path("/srv/scribe pg"), pg_port=6543)
    assert own.cluster.root == Path("/srv/scribe pg") and own.cluster.port == 6543
    assert own.cluster.os_user == "scribepg"  # not postgres: see scribe_lib/hub/cluster.py
    assert own.admin_url == "postgresql://postgres@/scribe?host=/srv/scribe%20pg/run&port=6543"
    assert psycopg.conninfo.conninfo_to_dict(own.admin_url)["host"] == "/srv/scribe pg/run"
    assert "SCRIBE_ADMIN_URL" not in own.to_env()
    monkeypatch.setenv("SCRIBE_ADMIN_URL", "postgresql://postgres@db.example/scribe")
    given = HubSettings.from_env()
    assert given.cluster is None and given.admin_url == "postgresql://postgres@db.example/scribe"
    assert HubSettings.from_env(store_url="postgresql://x@y/z").admin_url == "postgresql://x@y/z"


def test_scribe_hub_refuses_a_store_that_is_not_postgresql():
    r = _run("hub", "--store", "scribe.duckdb")
    assert r.returncode != 0 and "store_url must be a postgresql:// URL" in r.stderr


def test_unknown_role_is_refused():
    assert role_group("viewer") == "role-viewer"
    with pytest.raises(ConfigError, match="unknown role 'chief'; choose one of manager"):
        role_group("chief")


@pytest.mark.parametrize("name", ["Alice", "a b", "bob/../x", "9lives", "x" * 25, ""])
def test_user_names_that_cannot_be_unix_accounts_are_refused(name):
    with pytest.raises(ConfigError, match="cannot be a Unix account"):
        accounts.system_name(name, "scribe-")


def test_store_url_of_a_user_login_quotes_the_secret():
    url = access_bridge.user_store_url(
        "postgresql://postgres@db.example:5433/scribe", "scribe_u_bob", "p@ss/w:rd"
    )
    assert url == "postgresql://scribe_u_bob:p%40ss%2Fw%3Ard@db.example:5433/scribe"


@pytest.mark.parametrize("sslmode", ["", "?sslmode=require"])
def test_a_users_login_goes_over_tcp_even_when_the_admin_uses_the_socket(sslmode):
    admin = "postgresql://postgres@/scribe?host=/var/lib/scribe-hub-postgres/run&port=5433"
    url = access_bridge.user_store_url(admin + sslmode.replace("?", "&"), "scribe_u_bob", "s")
    assert url == "postgresql://scribe_u_bob:s@127.0.0.1:5433/scribe" + sslmode


def test_a_private_directory_is_not_world_executable(tmp_path):
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    (private / "python").write_text("")
    os.chmod(private / "python", 0o755)
    assert not userenv.world_executable(private / "python")
    assert userenv.world_executable(Path("/usr/bin/env"))


def test_user_store_urls_are_sealed_with_the_crypt_key(monkeypatch):
    import asyncio

    from jupyterhub.crypto import CryptKeeper

    monkeypatch.setenv("JUPYTERHUB_CRYPT_KEY", secrets.token_hex(32))
    CryptKeeper.clear_instance()
    try:
        url = "postgresql://scribe_u_bob:s3cret@127.0.0.1:5432/scribe"
        blob = asyncio.run(members.seal(url))
        assert b"s3cret" not in blob
        assert asyncio.run(members.unseal(blob)) == url
    finally:
        CryptKeeper.clear_instance()


def _single_machine_config(tmp_path, monkeypatch) -> Config:
    monkeypatch.setenv("SCRIBE_HUB_STATE", str(tmp_path / "state"))
    monkeypatch.setenv("SCRIBE_HUB_USER_ENV", str(tmp_path / "user-env"))
    c = Config()
    source = (REPO_ROOT / "hub_config" / "jupyterhub_config.py").read_text()
    exec(compile(source, "jupyterhub_config.py", "exec"), {"c": c})
    return c


def test_single_machine_and_kubernetes_agree(tmp_path, monkeypatch):
    c = _single_machine_config(tmp_path, monkeypatch)
    values = yaml.safe_load(k8s.VALUES_FILE.read_text())
    hub = values["jupyterhub"]["hub"]["config"]
    # authenticator, password policy, lockout and the manager
    assert c.JupyterHub.authenticator_class == hub["JupyterHub"]["authenticator_class"]
    assert hub["JupyterHub"]["authenticator_class"].endswith("ScribeAuthenticator")
    for section in ("Authenticator", "NativeAuthenticator"):
        assert dict(c[section]) == hub[section], section
    assert c.Authenticator.allow_all is True and c.Authenticator.admin_users == ["manager"]
    # roles: the same groups and the same landing pages
    assert dict(c.Spawner.group_overrides) == hub["Spawner"]["group_overrides"]
    viewer = hub["Spawner"]["group_overrides"]["02-viewer"]["spawner_override"]
    assert viewer["default_url"] == "/voila/tree/notebooks/apps"
    # the agreement: the same repository file, mounted into the hub pod
    single = Path(c.ScribeAuthenticator.agreement_path)
    assert single == REPO_ROOT / k8s.AGREEMENT_SOURCE
    assert hub["ScribeAuthenticator"]["agreement_path"] == str(k8s.AGREEMENT_MOUNT)
    mount = values["jupyterhub"]["hub"]["extraVolumeMounts"][0]
    assert mount["mountPath"] == str(k8s.AGREEMENT_MOUNT) and mount["subPath"] == single.name
    # what differs on purpose: isolation by Unix account vs by pod
    assert c.ScribeAuthenticator.create_system_users is True
    assert hub["ScribeAuthenticator"]["create_system_users"] is False
    assert "gateway" in values["dask-gateway"]
    assert values["dask-gateway"]["gateway"]["auth"]["type"] == "jupyterhub"


def test_values_file_is_generated_from_the_settings(tmp_path, monkeypatch):
    assert k8s.main(["--check"]) == 0, "run python -m scribe_lib.hub.k8s"
    stale = tmp_path / "values.yaml"
    stale.write_text(
        k8s.render().replace("minimum_password_length: 10", "minimum_password_length: 4")
    )
    monkeypatch.setattr(k8s, "VALUES_FILE", stale)
    assert k8s.main(["--check"]) == 1


def test_common_config_follows_the_settings():
    cfg = common_config(HubSettings(minimum_password_length=14, allowed_failed_logins=3))
    assert cfg["NativeAuthenticator"]["minimum_password_length"] == 14
    assert cfg["NativeAuthenticator"]["allowed_failed_logins"] == 3


def test_single_machine_state_is_private(tmp_path, monkeypatch):
    _single_machine_config(tmp_path, monkeypatch)
    state = tmp_path / "state"
    assert state.stat().st_mode & 0o777 == 0o700
    assert (state / "scribe-cli.token").stat().st_mode & 0o777 == 0o600
    assert not launcher.manager_exists(HubSettings(state_dir=state))


def _run(*args, env=None):
    return subprocess.run([str(SCRIBE), *args], capture_output=True, text=True, env=env, timeout=60)


def test_users_commands_need_the_hub_state(tmp_path):
    env = {**os.environ, "SCRIBE_HUB_STATE": str(tmp_path / "none")}
    r = _run("users", "list", env=env)
    assert r.returncode != 0 and "no hub state in" in r.stderr


def test_users_commands_say_when_the_hub_is_not_running(tmp_path):
    from scribe_lib.hub.testing import free_ports

    state = tmp_path / "state"
    state.mkdir()
    (state / "scribe-cli.token").write_text("x" * 64)
    env = {**os.environ, "SCRIBE_HUB_STATE": str(state), "SCRIBE_HUB_PORT": str(free_ports(1)[0])}
    r = _run("users", "revoke", "bob", env=env)
    assert r.returncode != 0 and "the hub is not running at" in r.stderr


@pytest.mark.postgres
def test_postgres_check_creates_the_store_with_postgis():
    name = f"scribe_hubchk_{secrets.token_hex(3)}"
    try:
        version = launcher.ensure_postgres(f"postgresql://postgres@127.0.0.1:5432/{name}")
        assert version[0] == "3"
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{name}") as conn:
            assert conn.execute("SELECT postgis_version()").fetchone()[0]
    finally:
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_postgres_check_says_what_to_do_when_it_is_down():
    from scribe_lib.hub.testing import free_ports

    url = f"postgresql://postgres@127.0.0.1:{free_ports(1)[0]}/scribe"
    with pytest.raises(
        StoreError, match=r"PostgreSQL is not reachable at 127.0.0.1:\d+ .*scripts/setup.sh"
    ):
        launcher.ensure_postgres(url)


def test_a_manager_password_is_generated_only_for_a_new_hub_without_one(tmp_path, monkeypatch):
    import sqlite3

    settings = HubSettings(state_dir=tmp_path)
    monkeypatch.delenv("SCRIBE_ADMIN_PASSWORD", raising=False)
    first = launcher.new_manager_password(settings)
    assert first and len(first) >= 16 and first != launcher.new_manager_password(settings)
    monkeypatch.setenv("SCRIBE_ADMIN_PASSWORD", "Given-Password-2024")
    assert launcher.new_manager_password(settings) is None
    monkeypatch.delenv("SCRIBE_ADMIN_PASSWORD")
    with sqlite3.connect(tmp_path / "jupyterhub.sqlite") as db:
        db.execute("CREATE TABLE users_info (username TEXT)")
        db.execute("INSERT INTO users_info VALUES ('manager')")
    assert launcher.manager_exists(settings)
    assert launcher.new_manager_password(settings) is None  # printed once, never again


def test_users_commands_find_the_hub_where_it_said_it_runs(tmp_path):
    from scribe_lib.hub.client import HubClient
    from scribe_lib.hub.testing import free_ports

    state = tmp_path / "state"
    state.mkdir()
    (state / "scribe-cli.token").write_text("x" * 64)
    port = free_ports(1)[0]
    (state / "hub-url").write_text(f"http://127.0.0.1:{port}/hub/\n")
    client = HubClient(HubSettings(state_dir=state, port=8000))
    assert client.hub_url == f"http://127.0.0.1:{port}/hub/"
    with pytest.raises(
        ScribeError, match=f"the hub is not running at http://127.0.0.1:{port}/hub/"
    ):
        client.list()
