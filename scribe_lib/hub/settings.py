"""One settings object for the SCRIBE hub, on one machine and on Kubernetes.

Both ``hub_config/jupyterhub_config.py`` (single machine) and
``hub_config/k8s/values.yaml`` (Zero to JupyterHub) are built from
:func:`common_config`, so the two deployments cannot drift apart on the
authenticator, the password policy, the roles or the data-sharing agreement.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import ConfigError

__all__ = [
    "HubSettings",
    "Role",
    "ROLES",
    "REPO_ROOT",
    "role_group",
    "common_config",
    "ADMIN_PASSWORD_ENV",
    "USERNAME_PATTERN",
]

#: environment variable holding the manager's first password.
ADMIN_PASSWORD_ENV = "SCRIBE_ADMIN_PASSWORD"

#: the repository checkout (hub_config/, notebooks/ live here).
REPO_ROOT = Path(__file__).resolve().parents[2]

#: hub user names: lower-case, start with a letter, at most 24 characters.
USERNAME_PATTERN = r"^[a-z][a-z0-9_-]{0,23}$"

#: where partner viewers land: H7's app gallery, served by Voila in the user's server.
GALLERY_URL = "/voila/tree/notebooks/apps"


@dataclass(frozen=True)
class Role:
    """A SCRIBE role: what a member of the partnership may do in the hub.

    Parameters
    ----------
    name : str
        ``manager``, ``analyst`` or ``viewer``.
    admin : bool
        Hub administrator (approves and revokes users).
    default_url : str
        Where the user's server opens (JupyterLab or the Voila app gallery).
    lab : bool
        Whether JupyterLab is served at all to this role.
    """

    name: str
    admin: bool
    default_url: str
    lab: bool
    description: str


ROLES: dict[str, Role] = {
    "manager": Role("manager", True, "/lab", True, "partnership manager: approves users"),
    "analyst": Role("analyst", False, "/lab", True, "analyst: notebooks and apps"),
    "viewer": Role("viewer", False, GALLERY_URL, False, "partner viewer: the app gallery"),
}


def role_group(role: str) -> str:
    """Name of the hub group that carries a role (``role-analyst``...)."""
    if role not in ROLES:
        raise ConfigError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}", key="role")
    return f"role-{role}"


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


@dataclass(frozen=True)
class HubSettings:
    """Everything the hub reads, validated, with defaults for one machine.

    Each field can be set from the environment (see :meth:`from_env`): the
    ``scribe hub`` command passes its options to the hub process that way.
    """

    ip: str = "127.0.0.1"
    port: int = 8000
    hub_port: int = 8081
    proxy_api_port: int = 8001
    state_dir: Path = Path("/var/lib/scribe-hub")
    store_url: str | None = None
    pg_dir: Path = Path("/var/lib/scribe-hub-postgres")
    pg_port: int = 5433
    pg_user: str = "scribepg"
    agreement_path: Path = REPO_ROOT / "hub_config" / "data_sharing_agreement.yml"
    manager: str = "manager"
    minimum_password_length: int = 10
    check_common_password: bool = True
    allowed_failed_logins: int = 5
    seconds_before_next_try: int = 600
    unix_prefix: str = "scribe-"
    home_base: Path = Path("/home")
    notebooks_dir: Path = REPO_ROOT / "notebooks"
    user_env_dir: Path = Path("/opt/scribe-hub/user-env")
    templates_dir: Path = REPO_ROOT / "hub_config" / "templates"
    roles: dict[str, Role] = field(default_factory=lambda: dict(ROLES))

    def __post_init__(self) -> None:
        for name in ("port", "hub_port", "proxy_api_port", "pg_port"):
            value = getattr(self, name)
            if not 0 < int(value) < 65536:
                raise ConfigError(f"{name} must be a TCP port (1-65535), got {value!r}", key=name)
        if self.minimum_password_length < 8:
            raise ConfigError(
                "minimum_password_length must be at least 8", key="minimum_password_length"
            )
        if not self.unix_prefix or not self.unix_prefix[0].isalpha():
            raise ConfigError(
                f"unix_prefix must start with a letter, got {self.unix_prefix!r}",
                key="unix_prefix",
            )
        if self.pg_user == "root" or self.pg_user.startswith(self.unix_prefix):
            raise ConfigError(
                f"pg_user {self.pg_user!r} cannot run the hub's PostgreSQL: it must be a "
                f"system account of its own, not root nor a hub user's ({self.unix_prefix}*)",
                key="pg_user",
            )
        if self.store_url is not None and not self.store_url.startswith(
            ("postgresql://", "postgres://")
        ):
            raise ConfigError(
                f"store_url must be a postgresql:// URL, got {self.store_url!r}", key="store_url"
            )

    @classmethod
    def from_env(cls, **overrides) -> HubSettings:
        """Settings from ``SCRIBE_HUB_*`` environment variables, then ``overrides``.

        Variables: ``SCRIBE_HUB_IP``, ``SCRIBE_HUB_PORT``, ``SCRIBE_HUB_API_PORT``,
        ``SCRIBE_PROXY_API_PORT``, ``SCRIBE_HUB_STATE``, ``SCRIBE_ADMIN_URL`` (a store
        of your own: its superuser URL; unset: the hub's own cluster),
        ``SCRIBE_HUB_PG_DIR``, ``SCRIBE_HUB_PG_PORT``, ``SCRIBE_HUB_PG_USER`` (that cluster),
        ``SCRIBE_AGREEMENT``, ``SCRIBE_HUB_USER_PREFIX``, ``SCRIBE_HUB_HOME_BASE``,
        ``SCRIBE_NOTEBOOKS``, ``SCRIBE_HUB_USER_ENV``.
        """
        d = cls()
        values = dict(
            ip=_env("SCRIBE_HUB_IP", d.ip),
            port=int(_env("SCRIBE_HUB_PORT", str(d.port))),
            hub_port=int(_env("SCRIBE_HUB_API_PORT", str(d.hub_port))),
            proxy_api_port=int(_env("SCRIBE_PROXY_API_PORT", str(d.proxy_api_port))),
            state_dir=Path(_env("SCRIBE_HUB_STATE", str(d.state_dir))),
            store_url=os.environ.get("SCRIBE_ADMIN_URL") or None,
            pg_dir=Path(_env("SCRIBE_HUB_PG_DIR", str(d.pg_dir))),
            pg_port=int(_env("SCRIBE_HUB_PG_PORT", str(d.pg_port))),
            pg_user=_env("SCRIBE_HUB_PG_USER", d.pg_user),
            agreement_path=Path(_env("SCRIBE_AGREEMENT", str(d.agreement_path))),
            unix_prefix=_env("SCRIBE_HUB_USER_PREFIX", d.unix_prefix),
            home_base=Path(_env("SCRIBE_HUB_HOME_BASE", str(d.home_base))),
            notebooks_dir=Path(_env("SCRIBE_NOTEBOOKS", str(d.notebooks_dir))),
            user_env_dir=Path(_env("SCRIBE_HUB_USER_ENV", str(d.user_env_dir))),
        )
        values.update(overrides)
        return replace(d, **values)

    def to_env(self) -> dict[str, str]:
        """The environment that makes :meth:`from_env` rebuild these settings.

        ``SCRIBE_ADMIN_URL`` is there only for a store of your own (:attr:`store_url`).
        """
        own = {"SCRIBE_ADMIN_URL": self.store_url} if self.store_url else {}
        return own | {
            "SCRIBE_HUB_IP": self.ip,
            "SCRIBE_HUB_PORT": str(self.port),
            "SCRIBE_HUB_API_PORT": str(self.hub_port),
            "SCRIBE_PROXY_API_PORT": str(self.proxy_api_port),
            "SCRIBE_HUB_STATE": str(self.state_dir),
            "SCRIBE_HUB_PG_DIR": str(self.pg_dir),
            "SCRIBE_HUB_PG_PORT": str(self.pg_port),
            "SCRIBE_HUB_PG_USER": self.pg_user,
            "SCRIBE_AGREEMENT": str(self.agreement_path),
            "SCRIBE_HUB_USER_PREFIX": self.unix_prefix,
            "SCRIBE_HUB_HOME_BASE": str(self.home_base),
            "SCRIBE_NOTEBOOKS": str(self.notebooks_dir),
            "SCRIBE_HUB_USER_ENV": str(self.user_env_dir),
        }

    @property
    def cluster(self):
        """The hub's own PostgreSQL cluster (:class:`~scribe_lib.hub.cluster.StoreCluster`),
        or None when the store is one of your own (:attr:`store_url`)."""
        from .cluster import StoreCluster

        if self.store_url:
            return None
        return StoreCluster(self.pg_dir, port=self.pg_port, os_user=self.pg_user)

    @property
    def admin_url(self) -> str:
        """The store's superuser URL: :attr:`store_url`, else the hub's own cluster's."""
        return self.store_url or self.cluster.admin_url

    @property
    def hub_url(self) -> str:
        """The public URL of the hub (through the proxy)."""
        return f"http://{self.ip}:{self.port}/hub/"

    @property
    def hub_url_file(self) -> Path:
        """Where the running hub records its URL, for ``scribe users``."""
        return self.state_dir / "hub-url"

    @property
    def cli_token_file(self) -> Path:
        """The API token the ``scribe users`` commands use (root only, mode 0600)."""
        return self.state_dir / "scribe-cli.token"


def common_config(settings: HubSettings) -> dict[str, dict]:
    """The traitlets configuration shared by every deployment of the hub.

    Returns a ``{class name: {trait: value}}`` mapping, the shape of both a
    traitlets ``Config`` and Zero to JupyterHub's ``hub.config``.
    """
    overrides = {}
    for i, role in enumerate(settings.roles.values()):
        spawner_override: dict = {"default_url": role.default_url}
        if not role.lab:
            # no JupyterLab, notebook UI or terminals: Voila (the gallery) only
            spawner_override["args"] = [
                f"--ServerApp.jpserver_extensions={ext}=False"
                for ext in ("jupyterlab", "notebook", "jupyter_server_terminals")
            ]
        overrides[f"{i:02d}-{role.name}"] = {
            "groups": [role_group(role.name)],
            "spawner_override": spawner_override,
        }
    return {
        "JupyterHub": {
            "authenticator_class": "scribe_lib.hub.authenticator.ScribeAuthenticator",
            "template_paths": [str(settings.templates_dir)],
        },
        "Authenticator": {
            "admin_users": [settings.manager],
            # nativeauthenticator 1.3.0 on JupyterHub 5.x: who may log in is decided by
            # its own users_info table (is_authorized), so the hub's allow list is open.
            "allow_all": True,
            # names that can also be Unix accounts (scribe-<name>) and PostgreSQL roles
            "username_pattern": USERNAME_PATTERN,
            "auth_refresh_age": 60,
            "refresh_pre_spawn": True,
        },
        "NativeAuthenticator": {
            "ask_email_on_signup": True,
            "open_signup": False,
            "minimum_password_length": settings.minimum_password_length,
            "check_common_password": settings.check_common_password,
            "allowed_failed_logins": settings.allowed_failed_logins,
            "seconds_before_next_try": settings.seconds_before_next_try,
        },
        "ScribeAuthenticator": {
            "manager_name": settings.manager,
            "agreement_path": str(settings.agreement_path),
        },
        "Spawner": {
            "default_url": settings.roles["analyst"].default_url,
            "group_overrides": overrides,
        },
    }
