"""Helpers for tests of the hub: `scribe hub` as a real process on free ports.

Used by tests/test_hub_e2e.py (like scribe_lib/access/testing.py). The hub runs as root with its real proxy
(configurable-http-proxy), its real spawner (one Unix account per user, with a
per-run name prefix so parallel runs never collide) and its own PostgreSQL cluster
(created by `scribe hub` under the run's directory, on a free port) with the
access layer applied.
"""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import requests

__all__ = ["Hub", "free_ports", "as_user", "NOT_AUTHORIZED", "SCRIBE"]

SCRIBE = Path(sys.executable).parent / "scribe"
NOT_AUTHORIZED = "has not been authorized by an administrator yet"


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


class Hub:
    """A running `scribe hub` process and helpers to drive it over HTTP."""

    def __init__(
        self, base: Path, env: dict[str, str], port: int, prefix: str, args: tuple[str, ...] = ()
    ):
        self.base, self.env, self.port, self.prefix = base, env, port, prefix
        self.args = tuple(args)  # options of `scribe hub`
        self.url = f"http://127.0.0.1:{port}"
        self.log = base / "hub.log"
        self.proc: subprocess.Popen | None = None
        self.tokens: dict[str, str] = {}  # the last API token each user made

    # -- process -------------------------------------------------------------------------
    def start(self, ready_within: float = 90) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [str(SCRIBE), "hub", *self.args],
                env=self.env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        deadline = time.monotonic() + ready_within
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"scribe hub exited {self.proc.returncode}:\n{self.tail()}")
            try:
                if requests.get(self.url + "/hub/api/", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"the hub did not answer at {self.url}:\n{self.tail()}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def tail(self, n: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])

    def cleanup_accounts(self) -> None:
        from scribe_lib.hub import accounts

        for entry in pwd.getpwall():
            if entry.pw_name.startswith(self.prefix):
                accounts.delete_account(entry.pw_name)
        if self.log.exists():  # kept for a post-mortem of the last run
            shutil.copy(self.log, self.base.parent / "scribe-hubtest-last.log")
        shutil.rmtree(self.base, ignore_errors=True)

    # -- CLI and API ---------------------------------------------------------------------
    def scribe(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(SCRIBE), *args], env=self.env, capture_output=True, text=True, timeout=180
        )

    @property
    def token(self) -> str:
        return (Path(self.env["SCRIBE_HUB_STATE"]) / "scribe-cli.token").read_text().strip()

    def api(self, method: str, path: str, **kw) -> requests.Response:
        headers = {"Authorization": f"token {self.token}"}
        return requests.request(method, self.url + "/hub/api/" + path, headers=headers, **kw)

    # -- browser-like sessions -----------------------------------------------------------
    def session(self) -> requests.Session:
        s = requests.Session()
        s.get(self.url + "/hub/login")
        return s

    def signup(self, name: str, password: str, org: str, email: str | None = None) -> str:
        s = self.session()
        r = s.post(
            self.url + "/hub/signup",
            data={
                "_xsrf": s.cookies.get("_xsrf", path="/hub/"),
                "username": name,
                "full_name": name.title() + " Tester",
                "email": email or f"{name}@example.org",
                "organisation": org,
                "signup_password": password,
                "signup_password_confirmation": password,
            },
        )
        r.raise_for_status()
        return _alert(r.text)

    def login(self, name: str, password: str) -> tuple[requests.Session, requests.Response]:
        s = self.session()
        r = s.post(
            self.url + "/hub/login",
            data={"_xsrf": s.cookies.get("_xsrf", path="/hub/"), "username": name,
                  "password": password},
            allow_redirects=False,
        )  # fmt: skip
        return s, r

    def spawn(self, s: requests.Session, name: str, ready_within: float = 150) -> dict:
        s.get(self.url + "/hub/spawn")
        deadline = time.monotonic() + ready_within
        while time.monotonic() < deadline:
            model = self.api("GET", f"users/{name}").json()
            server = model.get("servers", {}).get("")
            if server and server.get("ready"):
                return server
            time.sleep(1)
        raise RuntimeError(f"{name}'s server did not start:\n{self.tail()}")

    def run_code(self, s: requests.Session, name: str, code: str) -> str:
        """Run ``code`` in a kernel of ``name``'s own server; return its printed output.

        ``s`` is ``name``'s logged-in session: the user makes their own API token.
        """
        r = s.post(
            f"{self.url}/hub/api/users/{name}/tokens",
            json={"note": "test"},
            headers={"X-XSRFToken": s.cookies.get("_xsrf", path="/hub/")},
        )
        r.raise_for_status()
        token = r.json()["token"]
        self.tokens[name] = token
        return asyncio.run(_execute(f"127.0.0.1:{self.port}", name, token, code))


def _alert(html: str) -> str:
    m = re.search(r'class="alert[^"]*"[^>]*>\s*<p>\s*(.*?)\s*</p>', html, re.S)
    return " ".join(m.group(1).split()) if m else ""


async def _execute(host: str, name: str, token: str, code: str) -> str:
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    headers = {"Authorization": f"token {token}"}
    base = f"http://{host}/user/{name}/api/kernels"
    r = requests.post(base, headers=headers, json={"name": "python3"}, timeout=60)
    r.raise_for_status()
    kernel = r.json()["id"]
    ws = await websocket_connect(
        HTTPRequest(f"ws://{host}/user/{name}/api/kernels/{kernel}/channels", headers=headers)
    )
    msg_id = uuid.uuid4().hex
    ws.write_message(json.dumps({
        "header": {"msg_id": msg_id, "username": name, "session": uuid.uuid4().hex,
                   "msg_type": "execute_request", "version": "5.3"},
        "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
        "content": {"code": code, "silent": False, "store_history": False,
                    "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
    }))  # fmt: skip
    out = []
    try:
        while True:
            raw = await asyncio.wait_for(ws.read_message(), 120)
            if raw is None:
                break
            msg = json.loads(raw)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["header"]["msg_type"]
            if kind == "stream":
                out.append(msg["content"]["text"])
            elif kind == "error":
                out.append("ERROR " + msg["content"]["ename"] + ": " + msg["content"]["evalue"])
            elif kind == "status" and msg["content"]["execution_state"] == "idle":
                break
    finally:
        ws.close()
        requests.delete(f"{base}/{kernel}", headers=headers, timeout=30)
    return "".join(out)


def as_user(sysname: str, *cmd: str) -> subprocess.CompletedProcess:
    """Run ``cmd`` as the Unix account ``sysname`` (not root)."""
    return subprocess.run(
        ["runuser", "-u", sysname, "--", *cmd], capture_output=True, text=True, timeout=60
    )
