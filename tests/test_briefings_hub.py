"""The briefing service run by a real JupyterHub, as a managed service with its own role.

The hub starts ``python -m scribe_lib.briefing_service``; the service catches up the
missed monthly run, reads the audience's members from the hub with its token, puts their
Unix accounts in the organisation's Unix group and publishes there: a member can read the
briefing, another account cannot. Its role reads that group and nothing else.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

pytestmark = [pytest.mark.hub, pytest.mark.slow, pytest.mark.browser]


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _sh(*cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(cmd), capture_output=True, text=True)


@pytest.fixture(scope="module")
def hub():
    from scribe_lib.briefing_service import briefing_service_config
    from scribe_lib.demo import build_demo

    tag = secrets.token_hex(3)
    # not under pytest's basetemp (kept 0700): the Unix accounts must traverse to pub/
    base = Path(f"/tmp/scribe-briefhub-{tag}")
    base.mkdir(mode=0o755)
    os.chmod(base, 0o755)
    store = base / "demo.duckdb"
    build_demo(str(store), seed=5, scale=0.05)
    prefix, group = f"sb{tag}-", f"sb{tag}-luton"
    accounts = [f"{prefix}bob", f"{prefix}eve"]
    for name in accounts:
        _sh("useradd", "-M", "-N", "-s", "/usr/sbin/nologin", name)
    schedule = base / "schedule.yml"
    schedule.write_text(
        f"monthly: {{day: 3, time: '06:30'}}\nout: {base / 'pub'}\nstore: {store}\njobs: 1\n"
        "catch_up: true\n"
        f"briefings:\n  - audience: luton-council\n    localities: [Stotfold]\n"
        f"    unix_group: {group}\n",
        encoding="utf-8",
    )
    port, hub_port, proxy_port = free_ports(3)
    token = secrets.token_hex(32)
    service, role = briefing_service_config(schedule=schedule)
    service["environment"]["SCRIBE_HUB_USER_PREFIX"] = prefix
    service["api_token"] = token  # only so that the test can act as the service
    (base / "jupyterhub_config.py").write_text(
        f"""
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_port}"
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allowed_users = {{"bob", "eve"}}
c.JupyterHub.db_url = "sqlite:///{base}/hub.sqlite"
c.JupyterHub.cookie_secret_file = "{base}/cookie_secret"
c.JupyterHub.pid_file = "{base}/hub.pid"
c.JupyterHub.load_groups = {{"luton-council": {{"users": ["bob"]}}, "bedford-council": {{"users": ["eve"]}}}}
c.JupyterHub.services = [{service!r}]
c.JupyterHub.load_roles = [{role!r}]
""",
        encoding="utf-8",
    )
    log = open(base / "hub.log", "ab")
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "jupyterhub"), "-f", str(base / "jupyterhub_config.py")],
        cwd=base, stdout=log, stderr=log, start_new_session=True,
    )  # fmt: skip
    info = {"base": base, "api": f"http://127.0.0.1:{port}/hub/api", "token": token,
            "group": group, "accounts": accounts, "proc": proc}  # fmt: skip
    try:
        yield info
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        for name in accounts:
            _sh("userdel", name)
        _sh("groupdel", group)
        shutil.rmtree(base, ignore_errors=True)


def _published(hub, within: float = 600) -> Path:
    """Wait (bounded) for the service's catch-up run to publish its index."""
    pub = hub["base"] / "pub" / "luton-council"
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = list(pub.glob("*/index.json")) if pub.is_dir() else []
        if found:
            time.sleep(1)  # publish_file sets the modes right after the index
            return found[0].parent
        assert hub["proc"].poll() is None, (hub["base"] / "hub.log").read_text()[-3000:]
        time.sleep(2)
    raise AssertionError("no briefing published:\n" + (hub["base"] / "hub.log").read_text()[-3000:])


def test_the_service_role_reads_only_the_audience_groups(hub):
    _published(hub)  # the hub is up and the service has run
    auth = {"Authorization": f"token {hub['token']}"}
    r = requests.get(f"{hub['api']}/groups/luton-council", headers=auth, timeout=10)
    assert r.status_code == 200 and r.json()["users"] == ["bob"]
    assert requests.get(
        f"{hub['api']}/groups/bedford-council", headers=auth, timeout=10
    ).status_code in (403, 404)
    assert requests.get(f"{hub['api']}/users", headers=auth, timeout=10).status_code == 403


def test_only_members_of_the_organisation_can_read_its_briefings(hub):
    out = _published(hub)
    members = _sh("getent", "group", hub["group"]).stdout.strip().split(":")[-1].split(",")
    bob, eve = hub["accounts"]
    assert members == [bob]  # synced from the hub group: bob only
    html = out / "stotfold.html"
    assert html.is_file() and (out / "stotfold.pdf").is_file()
    ok = _sh("runuser", "-u", bob, "--", "head", "-c", "15", str(html))
    assert ok.returncode == 0 and ok.stdout == "<!DOCTYPE html>"
    refused = _sh("runuser", "-u", eve, "--", "head", "-c", "15", str(html))
    assert refused.returncode != 0 and "Permission denied" in refused.stderr
    state = hub["base"] / "pub" / ".scribe-briefings-state.json"
    assert out.name in state.read_text()  # the catch-up run is recorded: not run twice
