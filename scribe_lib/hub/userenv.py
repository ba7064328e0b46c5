"""The Python environment the users' servers run in.

Users' servers run as unprivileged Unix accounts, so their interpreter must be
reachable by everyone. When the hub's own interpreter is (a venv under
``/opt`` or ``/usr``), it is used as is. When it is not (a development venv
whose interpreter lives under ``/root/.pyenv``), SCRIBE makes a small user
environment, as The Littlest JupyterHub keeps ``/opt/tljh/user``: a venv of a
world-executable Python of the same version, whose ``scribe-hub.pth`` adds the
hub venv's site-packages (read-only for users).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import sysconfig
from pathlib import Path

from ..errors import ScribeError

__all__ = ["world_executable", "user_python"]


def world_executable(path: Path) -> bool:
    """Whether any user may run ``path``: the file and every parent directory are o+x."""
    path = Path(path).resolve()
    if not path.exists():
        return False
    for p in [path, *path.parents]:
        if not p.stat().st_mode & stat.S_IXOTH:
            return False
    return True


def _base_python() -> Path:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (f"/usr/bin/python{version}", f"/usr/local/bin/python{version}"):
        if world_executable(Path(candidate)):
            return Path(candidate)
    raise ScribeError(
        f"the hub's Python {sys.executable} is not executable by other users and there is no "
        f"/usr/bin/python{version}: install SCRIBE in a venv under /opt (readable by all)"
    )


def user_python(env_dir: Path) -> str:
    """The interpreter for users' servers, creating the user environment when needed.

    Parameters
    ----------
    env_dir : Path
        Where to make the user environment when the hub's interpreter cannot be
        used (e.g. ``/opt/scribe-hub/user-env``).

    Returns
    -------
    str
        Path of a Python that can import ``jupyterhub.singleuser`` and ``scribe_lib``.
    """
    if world_executable(Path(sys.executable)):
        return sys.executable
    site_packages = Path(sysconfig.get_paths()["purelib"])
    if not world_executable(site_packages):
        raise ScribeError(f"{site_packages} is not readable by other users: chmod o+rx it")
    python = env_dir / "bin" / "python"
    pth = env_dir / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    pth = pth / "site-packages" / "scribe-hub.pth"
    wanted = f"import site; site.addsitedir({str(site_packages)!r})\n"
    if not python.exists():
        env_dir.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(env_dir.parent, 0o755)
        subprocess.run(
            [str(_base_python()), "-m", "venv", "--without-pip", str(env_dir)],
            check=True,
            capture_output=True,
        )
    if not pth.exists() or pth.read_text() != wanted:
        pth.write_text(wanted)
        os.chmod(pth, 0o644)
    return str(python)
