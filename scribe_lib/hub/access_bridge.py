"""The hub's only calls into the access layer (``scribe_lib.access``).

The access layer (data-sharing agreement, PostgreSQL logins, row-level
security) is written separately; the hub reaches it only through these three
functions so that its contract is in one place:

* ``scribe_lib.access.provision_user(username, org, role, *, admin_url) -> secret``
* ``scribe_lib.access.revoke_user(username, *, admin_url)``
* ``scribe_lib.access.load_agreement(path)``, ``apply_agreement(agreement, admin_url=)``
"""

from __future__ import annotations

import importlib
import warnings
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import yaml

from ..errors import ConfigError

__all__ = ["provision", "revoke", "organisations", "apply", "user_store_url"]


def _access():
    try:
        return importlib.import_module("scribe_lib.access")
    except ModuleNotFoundError as exc:
        if exc.name != "scribe_lib.access":
            raise
        return None


def user_store_url(admin_url: str, login: str, secret: str) -> str:
    """The store URL of a user's own database login (same database; TCP, never a socket)."""
    import psycopg

    parts = urlsplit(admin_url)
    info = psycopg.conninfo.conninfo_to_dict(admin_url)
    host = info.get("host") or "127.0.0.1"
    host = "127.0.0.1" if host.startswith("/") else host
    netloc = f"{quote(login, safe='')}:{quote(secret, safe='')}@{host}"
    if info.get("port"):
        netloc += f":{info['port']}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k not in ("host", "port")])
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def provision(username: str, org: str, role: str, *, admin_url: str) -> str | None:
    """Give ``username`` a database login; returns their store URL (None: no access layer)."""
    access = _access()
    if access is None or not hasattr(access, "provision_user"):
        warnings.warn(
            "scribe_lib.access.provision_user is not available: "
            f"{username!r} gets no database login",
            stacklevel=2,
        )
        return None
    secret = access.provision_user(username, org, role, admin_url=admin_url)
    if hasattr(access, "user_url"):
        return access.user_url(username, secret, admin_url=admin_url)
    return user_store_url(admin_url, access.login_name(username, admin_url=admin_url), secret)


def revoke(username: str, *, admin_url: str) -> None:
    """Drop ``username``'s database login (nothing when there is no access layer)."""
    access = _access()
    if access is None or not hasattr(access, "revoke_user"):
        warnings.warn(
            f"scribe_lib.access.revoke_user is not available: {username!r} keeps any DB login",
            stacklevel=2,
        )
        return
    access.revoke_user(username, admin_url=admin_url)


def apply(agreement_path: str | Path, *, admin_url: str) -> list[str]:
    """Apply the data-sharing agreement to the store; returns its organisations."""
    access = _access()
    if access is None or not hasattr(access, "apply_agreement"):
        warnings.warn("scribe_lib.access is not available: no agreement applied", stacklevel=2)
        return []
    agreement = access.load_agreement(agreement_path)
    access.apply_agreement(agreement, admin_url=admin_url)
    return _names(agreement.organisations)


def _names(orgs) -> list[str]:
    if isinstance(orgs, dict):
        return sorted(str(k) for k in orgs)
    return sorted(str(getattr(o, "name", o)) for o in orgs)


def organisations(agreement_path: str | Path) -> list[str]:
    """The organisations named in the data-sharing agreement (empty: no agreement yet)."""
    path = Path(agreement_path)
    if not path.exists():
        return []
    access = _access()
    if access is not None and hasattr(access, "load_agreement"):
        agreement = access.load_agreement(path)
        orgs = getattr(agreement, "organisations", None)
        if orgs is None and isinstance(agreement, dict):
            orgs = agreement.get("organisations")
        if orgs is not None:
            return _names(orgs)
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict) or "organisations" not in data:
        raise ConfigError("no 'organisations' section", file=str(path), key="organisations")
    return _names(data["organisations"])
