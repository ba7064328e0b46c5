"""A small client of the running hub for ``scribe users``.

It authenticates as the ``scribe-cli`` service, whose token is in the hub's
state directory (readable by root only), and calls the SCRIBE API that the
authenticator adds to the hub (``/hub/api/scribe/users``).
"""

from __future__ import annotations

import requests

from ..errors import AccessError, NotFoundError, ScribeError
from .settings import HubSettings

__all__ = ["HubClient"]


class HubClient:
    """Approve, revoke and list users of the hub described by ``settings``."""

    def __init__(self, settings: HubSettings | None = None, *, timeout: float = 120.0):
        self.settings = settings or HubSettings.from_env()
        self.timeout = timeout
        path = self.settings.cli_token_file
        try:
            self._token = path.read_text().strip()
        except PermissionError as exc:
            raise AccessError(f"{path} is readable by root only: run as root") from exc
        except FileNotFoundError as exc:
            raise ScribeError(
                f"no hub state in {self.settings.state_dir}: start the hub with `scribe hub` "
                "(or set SCRIBE_HUB_STATE to its state directory)"
            ) from exc

    @property
    def hub_url(self) -> str:
        """The URL the running hub recorded in its state directory, else the settings'."""
        recorded = self.settings.hub_url_file
        return recorded.read_text().strip() if recorded.exists() else self.settings.hub_url

    def _call(self, method: str, path: str, json: dict | None = None):
        url = self.hub_url + "api/scribe/" + path
        try:
            response = requests.request(
                method,
                url,
                json=json,
                headers={"Authorization": f"token {self._token}"},
                timeout=self.timeout,
            )
        except requests.ConnectionError as exc:
            raise ScribeError(
                f"the hub is not running at {self.hub_url}: start it with `scribe hub`"
            ) from exc
        if response.status_code == 404:
            raise NotFoundError(_message(response))
        if response.status_code >= 400:
            raise AccessError(_message(response))
        return response.json()

    def list(self) -> list[dict]:
        """Every signed-up user: name, full name, e-mail, organisation, role, status."""
        return self._call("GET", "users")

    def approve(self, name: str, org: str, role: str) -> dict:
        """Approve ``name`` as a member of ``org`` with ``role``."""
        return self._call("POST", f"users/{name}/approve", {"org": org, "role": role})

    def revoke(self, name: str) -> dict:
        """Revoke ``name``: login refused, server stopped, tokens and database login dropped."""
        return self._call("POST", f"users/{name}/revoke")


def _message(response) -> str:
    try:
        return response.json().get("message") or response.text
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:200]}"
