"""The SCRIBE authenticator: NativeAuthenticator with vetting by the partnership manager.

Users sign up (name, e-mail, password, organisation) and cannot log in until
the manager approves them with an organisation and a role. The password policy
and the lockout after failed logins are NativeAuthenticator's; SCRIBE adds the
approval with organisation and role, revocation that also ends running
servers, a re-check of every session against the approval (``refresh_user``)
and the ``manager`` account, created on first start.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import bcrypt
from nativeauthenticator import NativeAuthenticator
from nativeauthenticator.orm import UserInfo
from traitlets import Bool, Unicode, default

from ..errors import ConfigError
from . import members
from .handlers import scribe_handlers
from .settings import ADMIN_PASSWORD_ENV, HubSettings

__all__ = ["ScribeAuthenticator", "ADMIN_PASSWORD_ENV"]


class ScribeAuthenticator(NativeAuthenticator):
    """NativeAuthenticator plus SCRIBE's organisations, roles and revocation."""

    manager_name = Unicode("manager", help="The partnership manager's account.").tag(config=True)
    agreement_path = Unicode(
        "", help="The data-sharing agreement (YAML) naming the organisations."
    ).tag(config=True)
    admin_url = Unicode(
        help="PostgreSQL URL with rights to create and drop users' database logins "
        "(default: $SCRIBE_ADMIN_URL, else the hub's own PostgreSQL cluster).",
    ).tag(config=True)
    create_system_users = Bool(
        True, help="Create a Unix account per approved user (single machine; off on Kubernetes)."
    ).tag(config=True)
    unix_prefix = Unicode("scribe-", help="Prefix of the users' Unix account names.").tag(
        config=True
    )
    home_base_dir = Unicode("/home", help="Where the users' home directories are made.").tag(
        config=True
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        members.ensure_table(self.db)
        self._ensure_manager()

    @default("admin_url")
    def _admin_url_default(self):
        return HubSettings.from_env().admin_url

    @property
    def home_base(self) -> Path:
        return Path(self.home_base_dir)

    def _ensure_manager(self) -> None:
        if self.get_user(self.manager_name) is not None:
            return
        password = os.environ.get(ADMIN_PASSWORD_ENV, "")
        generated = not password
        if generated:
            password = secrets.token_urlsafe(12)
        if not self.is_password_strong(password):
            raise ConfigError(
                f"${ADMIN_PASSWORD_ENV} does not meet the password policy: at least "
                f"{self.minimum_password_length} characters and not a common password",
                key=ADMIN_PASSWORD_ENV,
            )
        info = UserInfo(
            username=self.manager_name,
            password=bcrypt.hashpw(password.encode(), bcrypt.gensalt()),
            is_authorized=True,
        )
        self.db.add(info)
        self.db.commit()
        members.upsert(self.db, self.manager_name, role="manager", status="approved")
        if generated:
            self.log.warning(
                "SCRIBE: created the %r account with the generated password %s "
                "(shown once; change it at /hub/change-password)",
                self.manager_name,
                password,
            )
        else:
            self.log.info(
                "SCRIBE: created the %r account from $%s", self.manager_name, ADMIN_PASSWORD_ENV
            )

    def is_authorized(self, username: str) -> bool:
        """Whether ``username`` is currently approved (NativeAuthenticator's flag)."""
        info = self.get_user(username)
        return bool(info is not None and info.is_authorized)

    def check_allowed(self, username, authentication=None):
        """Allowed only while approved (also used when ``allow_all`` is off)."""
        return self.is_authorized(username)

    async def refresh_user(self, user, handler=None):
        """Sessions of revoked users end at the next request (``auth_refresh_age``)."""
        return self.is_authorized(user.name)

    async def pre_spawn_start(self, user, spawner):
        """Without Unix accounts (Kubernetes), hand the user's store URL to their server."""
        if self.create_system_users:
            return  # the spawner reads it from the user's own ~/.scribe/db.env
        member = members.find(self.db, user.name)
        if member is not None and member.store_secret:
            url = await members.unseal(member.store_secret)
            spawner.environment = {**spawner.environment, "SCRIBE_STORE": url}

    def delete_user(self, user):
        """Deleting a user (admin page or API) also takes away their database login and
        locks their Unix account, as revocation does; the audit trail keeps their rows."""
        from ..errors import NotFoundError
        from . import access_bridge, accounts

        try:
            access_bridge.revoke(user.name, admin_url=self.admin_url)
        except NotFoundError:
            pass  # never approved: no database login
        if self.create_system_users:
            try:
                accounts.lock_account(accounts.system_name(user.name, self.unix_prefix))
            except ConfigError:
                pass  # a name that never had a Unix account
        member = members.find(self.db, user.name)
        if member is not None:
            self.db.delete(member)
            self.db.commit()
        return super().delete_user(user)

    def get_handlers(self, app):
        return scribe_handlers(super().get_handlers(app))
