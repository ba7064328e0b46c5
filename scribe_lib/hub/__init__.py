"""The SCRIBE hub: JupyterHub with vetted sign-up, organisations, roles and per-user isolation.

Modules: :mod:`.settings` (one settings object for every deployment), :mod:`.config`
(single machine), :mod:`.k8s` (Zero to JupyterHub values), :mod:`.authenticator`,
:mod:`.handlers`, :mod:`.approval`, :mod:`.accounts`, :mod:`.spawner`,
:mod:`.launcher` (``scribe hub``) and :mod:`.client` (``scribe users``).
Importing this package does not import JupyterHub.
"""

from .settings import ROLES, HubSettings, Role, common_config

__all__ = ["HubSettings", "Role", "ROLES", "common_config"]
