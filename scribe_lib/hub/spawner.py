"""The single-machine spawner: each user's server runs as their own Unix account.

Like The Littlest JupyterHub, the hub runs as root and starts each server as
the user's own account (``scribe-<name>``, created on approval by
:mod:`scribe_lib.hub.approval`). The server gets the user's store URL as
``SCRIBE_STORE`` (read from their ``~/.scribe/db.env``) and a fresh copy of
the app gallery in ``~/notebooks/apps``, which Voila serves at
``/user/<name>/voila/tree/notebooks/apps``.
"""

from __future__ import annotations

import os
import pwd
import sys
from pathlib import Path

from jupyterhub.spawner import LocalProcessSpawner, set_user_setuid
from traitlets import Unicode, default

from ..apps.serving import server_env
from . import accounts

__all__ = ["ScribeSpawner"]


class ScribeSpawner(LocalProcessSpawner):
    """LocalProcessSpawner that maps hub user ``alice`` to Unix account ``scribe-alice``."""

    unix_prefix = Unicode("scribe-", help="Prefix of the users' Unix account names.").tag(
        config=True
    )
    notebooks_dir = Unicode(
        "", help="The repository's notebooks/ folder; its apps/ is copied to each user."
    ).tag(config=True)

    @default("cmd")
    def _cmd_default(self):
        return [sys.executable, "-m", "jupyterhub.singleuser"]

    @property
    def system_user(self) -> pwd.struct_passwd:
        """The passwd entry of the user's Unix account (it must exist: approval creates it)."""
        name = accounts.system_name(self.user.name, self.unix_prefix)
        try:
            return pwd.getpwnam(name)
        except KeyError:
            raise RuntimeError(
                f"no Unix account {name!r} for {self.user.name!r}: approve the user "
                f"(scribe users approve {self.user.name} --org ORG --role ROLE)"
            ) from None

    def make_preexec_fn(self, name):
        return set_user_setuid(self.system_user.pw_name)

    def user_env(self, env):
        entry = self.system_user
        env["USER"] = entry.pw_name
        env["HOME"] = entry.pw_dir
        env["SHELL"] = entry.pw_shell or "/bin/bash"
        return env

    def get_env(self):
        env = super().get_env()
        venv_bin = str(Path(self.cmd[0]).parent)
        env["PATH"] = os.pathsep.join([venv_bin, env.get("PATH", "/usr/bin:/bin")])
        # the user environment may be a thin venv over the hub's: point Jupyter at the
        # hub's configuration (server extensions: Voila, JupyterLab) and data files.
        env["JUPYTER_CONFIG_PATH"] = str(Path(sys.prefix) / "etc" / "jupyter")
        env["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")
        env["JUPYTERLAB_DIR"] = str(Path(sys.prefix) / "share" / "jupyter" / "lab")
        server_env(env)  # the apps' Voila template (branding, gallery, no CDN) and settings
        store_url = accounts.read_secret(self.system_user)
        if store_url:
            env["SCRIBE_STORE"] = store_url
        else:
            env.pop("SCRIBE_STORE", None)
        return env

    def _sync_gallery(self) -> None:
        source = Path(self.notebooks_dir) / "apps" if self.notebooks_dir else None
        if source is None or not source.is_dir():
            self.log.warning("SCRIBE: no app gallery at %s", source)
            return
        # as the user: their home is theirs, root must not follow what they put there
        result = accounts.run_as(
            self.system_user,
            'mkdir -p "$HOME/notebooks" && rm -rf "$HOME/notebooks/apps" && '
            'cp -R "$1" "$HOME/notebooks/apps"',
            str(source),
        )
        if result.returncode != 0:
            self.log.warning("SCRIBE: app gallery not copied: %s", result.stderr.strip())

    async def start(self):
        """Refresh the user's copy of the app gallery, then start their server."""
        self._sync_gallery()
        return await super().start()
