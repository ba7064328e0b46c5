"""Hub pages and API for sign-up, approval and revocation.

* ``/hub/signup`` - NativeAuthenticator's form plus full name and organisation.
* ``/hub/authorize`` - the manager's page: approve (organisation, role) or revoke.
* ``/hub/api/scribe/users[/NAME/approve|revoke]`` - the same, as JSON, for
  ``scribe users`` (token of the ``scribe-cli`` service).
"""

from __future__ import annotations

import json

from jupyterhub.apihandlers.base import APIHandler
from jupyterhub.scopes import needs_scope
from nativeauthenticator.handlers import (
    AuthorizationAreaHandler,
    LocalBase,
    SignUpHandler,
)
from tornado import web
from tornado.escape import url_escape

from ..errors import NotFoundError, ScribeError
from . import access_bridge, approval, members
from .settings import ROLES

__all__ = ["scribe_handlers"]


class ScribeSignUpHandler(SignUpHandler):
    """Sign-up that also records the person's full name and organisation."""

    async def render_template(self, name, sync=False, **ns):
        ns.setdefault(
            "organisations", access_bridge.organisations(self.authenticator.agreement_path)
        )
        ns.setdefault("minimum_password_length", self.authenticator.minimum_password_length)
        return await super().render_template(name, sync=sync, **ns)

    async def post(self):
        username = self.authenticator.normalize_username(self.get_body_argument("username", ""))
        existed = self.authenticator.user_exists(username)
        await super().post()
        if not existed and self.authenticator.user_exists(username):
            members.upsert(
                self.db,
                username,
                full_name=self.get_body_argument("full_name", "").strip()[:256],
                requested_org=self.get_body_argument("organisation", "").strip()[:128],
                status="pending",
            )


class ScribeAuthorizationAreaHandler(AuthorizationAreaHandler):
    """The manager's approval page, with organisation and role for each user."""

    @needs_scope("admin:users")
    async def get(self):
        html = await self.render_template(
            "authorization-area.html",
            ask_email=True,
            members=approval.list_members(self),
            organisations=access_bridge.organisations(self.authenticator.agreement_path),
            roles=list(ROLES),
            message=self.get_argument("message", ""),
        )
        self.finish(html)


class ApprovePageHandler(LocalBase):
    """POST /hub/scribe/approve/NAME from the approval page (form: organisation, role)."""

    @needs_scope("admin:users")
    async def post(self, username):
        org = self.get_body_argument("organisation", "").strip()
        role = self.get_body_argument("role", "").strip()
        try:
            await approval.approve(self, username, org, role)
            message = f"{username} approved: {org}, {role}"
        except ScribeError as exc:
            message = f"{username} not approved: {exc}"
        self.redirect(self.hub.base_url + "authorize?message=" + url_escape(message))


class RevokePageHandler(LocalBase):
    """POST /hub/scribe/revoke/NAME from the approval page."""

    @needs_scope("admin:users")
    async def post(self, username):
        try:
            await approval.revoke(self, username)
            message = f"{username} revoked"
        except ScribeError as exc:
            message = f"{username} not revoked: {exc}"
        self.redirect(self.hub.base_url + "authorize?message=" + url_escape(message))


class NoToggleHandler(LocalBase):
    """Replaces NativeAuthenticator's one-click toggle: approval needs an organisation and role."""

    @needs_scope("admin:users")
    async def get(self, username):
        message = f"approve {username} with an organisation and a role below"
        self.redirect(self.hub.base_url + "authorize?message=" + url_escape(message))


class MembersAPIHandler(APIHandler):
    """GET /hub/api/scribe/users: every member and their status."""

    @needs_scope("admin:users")
    async def get(self):
        self.write(json.dumps(approval.list_members(self)))


class MemberActionAPIHandler(APIHandler):
    """POST /hub/api/scribe/users/NAME/(approve|revoke)."""

    @needs_scope("admin:users")
    async def post(self, username, action):
        try:
            if action == "approve":
                body = self.get_json_body() or {}
                result = await approval.approve(
                    self, username, str(body.get("org", "")), str(body.get("role", ""))
                )
            else:
                result = await approval.revoke(self, username)
        except NotFoundError as exc:
            raise web.HTTPError(404, str(exc)) from exc
        except ScribeError as exc:
            raise web.HTTPError(400, str(exc)) from exc
        self.write(json.dumps(result))


def scribe_handlers(native_handlers: list[tuple]) -> list[tuple]:
    """NativeAuthenticator's handlers with SCRIBE's sign-up and approval in place."""
    replaced = {
        r"/signup": ScribeSignUpHandler,
        r"/authorize": ScribeAuthorizationAreaHandler,
        r"/authorize/([^/]*)": NoToggleHandler,
    }
    handlers = [(path, replaced.get(path, cls)) for path, cls in native_handlers]
    return handlers + [
        (r"/scribe/approve/([^/]+)", ApprovePageHandler),
        (r"/scribe/revoke/([^/]+)", RevokePageHandler),
        (r"/api/scribe/users", MembersAPIHandler),
        (r"/api/scribe/users/([^/]+)/(approve|revoke)", MemberActionAPIHandler),
    ]
