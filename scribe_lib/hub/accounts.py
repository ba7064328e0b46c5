"""Unix accounts for hub users: one per approved user, as on The Littlest JupyterHub.

The hub runs as root. On approval each user gets their own Unix account
(``<prefix><name>``, home directory mode 0700) so that no user can read another
user's files, server process environment or database secret. The database
secret is written to ``~/.scribe/db.env`` (mode 0600, owned by the user).
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import subprocess
from pathlib import Path

from ..errors import AccessError, ConfigError
from .settings import USERNAME_PATTERN

__all__ = [
    "system_name",
    "ensure_account",
    "lock_account",
    "delete_account",
    "write_secret",
    "read_secret",
    "run_as",
    "SECRET_RELPATH",
]

#: where the user's database URL lives inside their home directory.
SECRET_RELPATH = Path(".scribe") / "db.env"

_NAME = re.compile(USERNAME_PATTERN)


def system_name(username: str, prefix: str) -> str:
    """The Unix account name of hub user ``username`` (``scribe-alice``)."""
    if not _NAME.match(username):
        raise ConfigError(
            f"user name {username!r} cannot be a Unix account: use 1-24 lower-case letters, "
            "digits, '-' or '_', starting with a letter",
            key="username",
        )
    return f"{prefix}{username}"


def _run(cmd: list[str]) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise AccessError(f"{' '.join(cmd)} failed: {result.stderr.strip()}")


def ensure_account(sysname: str, home_base: Path) -> pwd.struct_passwd:
    """Create (or unlock) the Unix account ``sysname`` with a private home directory.

    Returns the passwd entry. The home directory is ``home_base/sysname``,
    owned by the user, mode 0700. The account has no password (the hub starts
    its processes; nobody logs in over ssh).
    """
    try:
        entry = pwd.getpwnam(sysname)
        _run(["usermod", "--unlock", "--expiredate", "", sysname])
    except KeyError:
        home_base.mkdir(parents=True, exist_ok=True)
        _run(
            [
                "useradd",
                "--create-home",
                "--home-dir",
                str(home_base / sysname),
                "--shell",
                "/bin/bash",
                "--user-group",
                "--comment",
                "SCRIBE hub user",
                sysname,
            ]
        )
        entry = pwd.getpwnam(sysname)
    os.chmod(entry.pw_dir, 0o700)
    return entry


def _kill_processes(uid: int) -> None:
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if proc.stat().st_uid == uid:
                os.kill(int(proc.name), signal.SIGKILL)
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue


def run_as(entry: pwd.struct_passwd, script: str, *args: str, stdin: str | None = None):
    """Run a ``sh`` script as the user, never as root, with ``$HOME`` their home.

    Everything inside a user's home is done with the user's own rights: a root
    process following a symlink the user planted there could otherwise read or
    overwrite any file on the machine (another user's secret, ``/etc``...).
    Secrets go through ``stdin``, never the command line (visible in ``ps``).
    """
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    return subprocess.run(
        [runuser, "-u", entry.pw_name, "--", "/bin/sh", "-c", script, "sh", *args],
        input=stdin,
        env={"HOME": entry.pw_dir, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
        cwd=entry.pw_dir,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _remove_secret(entry: pwd.struct_passwd) -> None:
    run_as(entry, 'rm -f "$HOME/$1"', str(SECRET_RELPATH))


def lock_account(sysname: str) -> None:
    """Remove the user's secret, lock ``sysname`` (expired) and kill every process it runs.

    The home directory is kept: revocation is reversible by approving again.
    """
    try:
        entry = pwd.getpwnam(sysname)
    except KeyError:
        return
    _remove_secret(entry)
    _run(["usermod", "--lock", "--expiredate", "1", sysname])
    _kill_processes(entry.pw_uid)


def delete_account(sysname: str) -> None:
    """Remove ``sysname`` and its home directory (tests, and deleting a user)."""
    try:
        entry = pwd.getpwnam(sysname)
    except KeyError:
        return
    _kill_processes(entry.pw_uid)
    _run(["userdel", "--remove", sysname])


_WRITE = (
    'umask 077 && mkdir -p "$HOME/$1" && chmod 700 "$HOME/$1" && '
    'cat > "$HOME/$1/.db.env.new" && mv -f "$HOME/$1/.db.env.new" "$HOME/$2"'
)


def write_secret(entry: pwd.struct_passwd, store_url: str) -> Path:
    """Write ``SCRIBE_STORE=<url>`` to ``~/.scribe/db.env`` (mode 0600), as the user."""
    result = run_as(
        entry,
        _WRITE,
        str(SECRET_RELPATH.parent),
        str(SECRET_RELPATH),
        stdin=f"SCRIBE_STORE={store_url}\n",
    )
    if result.returncode != 0:
        raise AccessError(f"cannot write {entry.pw_dir}/{SECRET_RELPATH}: {result.stderr.strip()}")
    return Path(entry.pw_dir) / SECRET_RELPATH


def read_secret(entry: pwd.struct_passwd) -> str | None:
    """The user's database URL from ``~/.scribe/db.env`` (read as the user), or None."""
    result = run_as(entry, 'cat "$HOME/$1" 2>/dev/null || true', str(SECRET_RELPATH))
    for line in result.stdout.splitlines():
        if line.startswith("SCRIBE_STORE="):
            return line.split("=", 1)[1].strip()
    return None
