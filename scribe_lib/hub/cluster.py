"""The hub's own PostgreSQL cluster: every login but the administrator's needs its password.

A notebook can run any code, so the data-sharing agreement holds only if no hub user
can log in to the store as anyone but themselves. A cluster that trusts connections
from 127.0.0.1 (a usual development setup) lets every user of the machine connect as
``postgres``. ``scribe hub`` therefore keeps its store in a cluster of its own, created
on first start (``initdb``) and started when it is down, with this ``pg_hba.conf``
(rewritten at every start):

* the Unix socket: only the database superuser ``postgres``, by ``peer`` authentication
  (the kernel says who is connecting) for the Unix accounts ``root`` (the hub) and the
  cluster's own; every other login over the socket is rejected;
* TCP, on 127.0.0.1 only: ``postgres`` is rejected; every other role proves itself with
  its password (``scram-sha-256``): hub users with their own secret, the audit trail's
  ``<prefix>_auditor`` with a password that only the database knows. Roles without
  LOGIN (the loader, the reader, the organisations) cannot log in at all.

The cluster's files belong to a system account of its own (``scribepg``, created when
missing), not to ``postgres``: a superuser of any other cluster on the machine run by
``postgres`` (a development cluster trusting 127.0.0.1, say) can run programs as that
Unix account (``COPY ... TO PROGRAM``), and must not thereby become this cluster's
superuser. The server is started with ``pg_ctl`` as that account, in its own session,
and keeps running after the hub stops (as a system PostgreSQL does).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from ..errors import ScribeError, StoreError

__all__ = ["StoreCluster", "HBA_CONF", "OS_USER", "postgres_bindir"]

#: the cluster's ``pg_hba.conf``: see the module docstring.
HBA_CONF = """\
# Written by SCRIBE (scribe_lib/hub/cluster.py) at every start of `scribe hub`:
# edits here are overwritten. See docs/hub.md, "The store asks every login for a password".
# TYPE  DATABASE  USER      ADDRESS        METHOD
# The administrator: Unix accounts root (the hub) and the cluster's own, socket only.
local   all       postgres                 peer map=scribe_admin
local   all       all                      reject
# Over TCP the superuser never; everyone else with their password.
host    all       postgres  0.0.0.0/0      reject
host    all       postgres  ::/0           reject
host    all       all       127.0.0.1/32   scram-sha-256
host    all       all       ::1/128        scram-sha-256
"""

#: default Unix account of the cluster (not ``postgres``: see the module docstring).
OS_USER = "scribepg"

_SERVER_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
}

_INCLUDE = "include_if_exists = 'scribe.conf'  # SCRIBE's settings (scribe_lib/hub/cluster.py)\n"


def postgres_bindir() -> Path:
    """Directory of ``initdb`` and ``pg_ctl``: ``$SCRIBE_PG_BINDIR``, Debian's, or the PATH."""
    given = os.environ.get("SCRIBE_PG_BINDIR")
    candidates = [Path(given)] if given else []
    debian = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True
    )
    candidates += [Path(p) for p in debian]
    found = shutil.which("initdb")
    if found:
        candidates.append(Path(found).resolve().parent)
    for path in candidates:
        if (path / "initdb").exists() and (path / "pg_ctl").exists():
            return path
    raise StoreError(
        "initdb and pg_ctl were not found (looked in $SCRIBE_PG_BINDIR, "
        "/usr/lib/postgresql/*/bin and the PATH): install PostgreSQL with PostGIS "
        "(bash scripts/setup.sh does), or give the hub a store with --store URL"
    )


@dataclass(frozen=True)
class StoreCluster:
    """A PostgreSQL cluster that SCRIBE creates and runs for the hub's store.

    Parameters
    ----------
    root : Path
        Its directory: ``data/`` (the cluster), ``run/`` (the socket), ``postgresql.log``.
    port : int
        TCP port on 127.0.0.1 (and the socket's number).
    dbname : str
        The store database.
    os_user : str
        The Unix account that owns and runs the cluster (a system account, created when
        missing); it and root are the only ones that may be its superuser.
    """

    root: Path
    port: int = 5433
    dbname: str = "scribe"
    os_user: str = OS_USER

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    @property
    def log_file(self) -> Path:
        return self.root / "postgresql.log"

    @property
    def admin_url(self) -> str:
        """The superuser's URL: the socket, as ``postgres`` (peer: root and :attr:`os_user`)."""
        host = quote(str(self.socket_dir), safe="/")
        return f"postgresql://postgres@/{self.dbname}?host={host}&port={self.port}"

    def ident_conf(self) -> str:
        """``pg_ident.conf``: the Unix accounts that may be the superuser over the socket."""
        return (
            "# Written by SCRIBE (scribe_lib/hub/cluster.py) at every start of `scribe hub`.\n"
            "# MAPNAME       SYSTEM-USERNAME  PG-USERNAME\n"
            "scribe_admin    root             postgres\n"
            f"scribe_admin    {self.os_user:<16} postgres\n"
        )

    def settings_conf(self) -> str:
        """``scribe.conf``, included by the cluster's ``postgresql.conf``."""
        return (
            "# Written by SCRIBE (scribe_lib/hub/cluster.py) at every start of `scribe hub`.\n"
            f"port = {self.port}\n"
            "listen_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{self.socket_dir}'\n"
            "unix_socket_permissions = 0777\n"
            "password_encryption = 'scram-sha-256'\n"
            "log_connections = on\n"
            "log_line_prefix = '%m [%p] %q%u@%d '\n"
        )

    # -- state ---------------------------------------------------------------------------
    def exists(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def running(self) -> bool:
        if not self.exists():
            return False
        return self._pg_ctl("status", check=False).returncode == 0

    # -- actions -------------------------------------------------------------------------
    def ensure(self) -> str:
        """Create the cluster when missing, write its configuration, start it when down.

        Idempotent. A running cluster whose settings changed is restarted; one whose
        ``pg_hba.conf`` changed is reloaded. Returns what was done, for the hub's log.
        """
        if os.geteuid() != 0:
            raise ScribeError(
                "the hub's own PostgreSQL is managed by root (it runs as the Unix account "
                f"{self.os_user}); run `sudo scribe hub`, or give a store with --store URL"
            )
        owner = self._account()
        done = []
        self._dirs(owner)
        if self.exists() and self.data_dir.stat().st_uid != owner.pw_uid:
            raise StoreError(
                f"{self.data_dir} does not belong to the Unix account {self.os_user}, which "
                "runs the hub's PostgreSQL: give it back (chown -R) or use another "
                "SCRIBE_HUB_PG_DIR"
            )
        if not self.exists():
            self._initdb()
            done.append("created")
        changed = self._write_config(owner)
        if not self.running():
            self._start()
            done.append("started")
        elif changed == "settings":
            self._pg_ctl("restart", "-m", "fast", "-w", "-t", "120", "-l", str(self.log_file))
            done.append("restarted")
        elif changed == "hba":
            self._pg_ctl("reload")
            done.append("reloaded")
        return ", ".join(done) or "running"

    def stop(self) -> None:
        """Stop the server (fast shutdown: open sessions are ended)."""
        if self.running():
            self._pg_ctl("stop", "-m", "fast", "-w", "-t", "60")

    # -- helpers -------------------------------------------------------------------------
    def _account(self):
        """The cluster's Unix account, created (a system account, no login) when missing."""
        try:
            return pwd.getpwnam(self.os_user)
        except KeyError:
            pass
        result = subprocess.run(
            ["useradd", "--system", "--user-group", "--no-create-home", "--home-dir",
             str(self.root), "--shell", "/usr/sbin/nologin", "--comment",
             "SCRIBE hub PostgreSQL", self.os_user],
            capture_output=True, text=True, env=_SERVER_ENV,
        )  # fmt: skip
        if result.returncode != 0:
            raise StoreError(
                f"could not create the Unix account {self.os_user!r} for the hub's "
                f"PostgreSQL: {result.stderr.strip()}"
            )
        return pwd.getpwnam(self.os_user)

    def _dirs(self, owner) -> None:
        for path, mode in ((self.root, 0o755), (self.socket_dir, 0o755)):
            path.mkdir(parents=True, exist_ok=True)
            os.chown(path, owner.pw_uid, owner.pw_gid)
            os.chmod(path, mode)

    def _run(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(
            ["runuser", "-u", self.os_user, "--", *cmd],
            capture_output=True,
            text=True,
            cwd=str(self.root),
            timeout=300,
            stdin=subprocess.DEVNULL,
            env=_SERVER_ENV,  # not the hub's (its manager password, say): the server keeps it
        )
        if check and result.returncode != 0:
            log = (
                self.log_file.read_text(errors="replace")[-1500:] if self.log_file.exists() else ""
            )
            raise StoreError(
                f"{Path(cmd[0]).name} {cmd[1] if len(cmd) > 1 else ''} for the hub's PostgreSQL "
                f"at {self.root} failed: {(result.stderr or result.stdout).strip()[-1500:]}"
                + (f"\n{self.log_file}:\n{log}" if log else "")
            )
        return result

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self._run(str(postgres_bindir() / "pg_ctl"), "-D", str(self.data_dir), *args,
                         check=check)  # fmt: skip

    def _initdb(self) -> None:
        self._run(
            str(postgres_bindir() / "initdb"), "-D", str(self.data_dir), "--username=postgres",
            "--auth-local=peer", "--auth-host=scram-sha-256", "--encoding=UTF8",
            "--locale=C.UTF-8",
        )  # fmt: skip

    def _write_config(self, owner) -> str | None:
        """Write SCRIBE's files; returns 'settings', 'hba' or None (what changed)."""
        conf = self.data_dir / "postgresql.conf"
        text = conf.read_text()
        if _INCLUDE not in text:
            conf.write_text(text.rstrip("\n") + "\n\n" + _INCLUDE)
        changed = None
        for name, content, kind in (
            ("pg_hba.conf", HBA_CONF, "hba"),
            ("pg_ident.conf", self.ident_conf(), "hba"),
            ("scribe.conf", self.settings_conf(), "settings"),
        ):
            path = self.data_dir / name
            if path.exists() and path.read_text() == content:
                continue
            path.write_text(content)
            os.chown(path, owner.pw_uid, owner.pw_gid)
            os.chmod(path, 0o600)
            if changed != "settings":
                changed = kind
        return changed

    def _start(self) -> None:
        try:
            self._pg_ctl("start", "-w", "-t", "120", "-l", str(self.log_file))
        except StoreError as exc:
            if "could not bind" not in str(exc) and "already in use" not in str(exc):
                raise
            raise StoreError(
                f"port {self.port} on 127.0.0.1 is taken by another server: give the hub's "
                f"PostgreSQL another one with SCRIBE_HUB_PG_PORT ({exc})"
            ) from None
