"""Build the single-machine JupyterHub configuration from :class:`HubSettings`.

``hub_config/jupyterhub_config.py`` is one call to :func:`configure`.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from .settings import HubSettings, common_config
from .userenv import user_python

__all__ = ["configure", "ensure_state_dir", "cli_token"]

#: the service whose token ``scribe users`` uses; it may manage users, groups and servers.
CLI_SERVICE = "scribe-cli"
CLI_SCOPES = ["admin:users", "admin:groups", "admin:servers", "list:users", "read:users"]


def ensure_state_dir(settings: HubSettings) -> Path:
    """Create the hub's state directory (root only, mode 0700)."""
    state = settings.state_dir
    state.mkdir(parents=True, exist_ok=True)
    os.chmod(state, 0o700)
    return state


def cli_token(settings: HubSettings) -> str:
    """The ``scribe-cli`` service token, created on first use (file mode 0600)."""
    path = settings.cli_token_file
    if not path.exists():
        ensure_state_dir(settings)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()


def configure(c, settings: HubSettings | None = None) -> None:
    """Fill the traitlets config ``c`` for the hub on one machine.

    Parameters
    ----------
    c : traitlets.config.Config
        The ``c`` of ``jupyterhub_config.py``.
    settings : HubSettings, optional
        Defaults to :meth:`HubSettings.from_env`.
    """
    settings = settings or HubSettings.from_env()
    state = ensure_state_dir(settings)
    for section, values in common_config(settings).items():
        for key, value in values.items():
            setattr(getattr(c, section), key, value)

    c.JupyterHub.ip = settings.ip
    c.JupyterHub.port = settings.port
    c.JupyterHub.hub_ip = "127.0.0.1"
    c.JupyterHub.hub_port = settings.hub_port
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings.proxy_api_port}"
    c.ConfigurableHTTPProxy.should_start = True
    c.JupyterHub.cleanup_servers = True
    c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
    c.JupyterHub.pid_file = str(state / "jupyterhub.pid")
    # not ./jupyterhub-proxy.pid: two hubs started in one directory would stop each other's
    c.ConfigurableHTTPProxy.pid_file = str(state / "jupyterhub-proxy.pid")

    c.JupyterHub.spawner_class = "scribe_lib.hub.spawner.ScribeSpawner"
    c.ScribeSpawner.unix_prefix = settings.unix_prefix
    c.ScribeSpawner.notebooks_dir = str(settings.notebooks_dir)
    c.ScribeSpawner.cmd = [user_python(settings.user_env_dir), "-m", "jupyterhub.singleuser"]
    c.Spawner.http_timeout = 120
    c.Spawner.start_timeout = 120

    c.ScribeAuthenticator.admin_url = settings.admin_url
    c.ScribeAuthenticator.create_system_users = True
    c.ScribeAuthenticator.unix_prefix = settings.unix_prefix
    c.ScribeAuthenticator.home_base_dir = str(settings.home_base)

    settings.hub_url_file.write_text(settings.hub_url)  # scribe users finds the hub here
    c.JupyterHub.services = [{"name": CLI_SERVICE, "api_token": cli_token(settings)}]
    c.JupyterHub.load_roles = [
        {"name": "scribe-cli", "scopes": CLI_SCOPES, "services": [CLI_SERVICE]},
    ]
    # the monthly SARA briefings: a managed service with its own minimal role (issue 6)
    from ..briefing_service import briefing_service_config

    service, role = briefing_service_config(settings)
    c.JupyterHub.services.append(service)
    c.JupyterHub.load_roles.append(role)
