"""Approving and revoking members: the one code path behind the web page and the CLI.

Runs inside the hub process (as root), called by the handlers in
:mod:`scribe_lib.hub.handlers`. Approval authorises the NativeAuthenticator
account, records organisation and role, puts the user in the organisation's
and the role's hub groups, creates their Unix account and database login.
Revocation undoes all of it and stops the running server.
"""

from __future__ import annotations

from jupyterhub import orm
from jupyterhub.roles import assign_default_roles
from jupyterhub.utils import new_token
from nativeauthenticator.orm import UserInfo

from ..errors import AccessError, NotFoundError
from . import access_bridge, accounts, members
from .settings import ROLES, role_group

__all__ = ["approve", "revoke", "list_members"]


def _group(db, name: str) -> orm.Group:
    group = orm.Group.find(db, name)
    if group is None:
        group = orm.Group(name=name)
        db.add(group)
        db.commit()
    return group


def _check(authenticator, org: str, role: str) -> None:
    if role not in ROLES:
        raise AccessError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    known = access_bridge.organisations(authenticator.agreement_path)
    if known and org not in known:
        raise AccessError(
            f"organisation {org!r} is not in the data-sharing agreement "
            f"{authenticator.agreement_path}; known: {', '.join(known)}"
        )
    if not org:
        raise AccessError("an organisation is required")


async def approve(handler, username: str, org: str, role: str) -> dict:
    """Approve ``username`` as a member of ``org`` with ``role``; returns the member record."""
    authenticator = handler.authenticator
    db = handler.db
    info = UserInfo.find(db, username)
    if info is None:
        raise NotFoundError(f"no sign-up for {username!r}: ask them to sign up first")
    _check(authenticator, org, role)

    if authenticator.create_system_users:
        sysname = accounts.system_name(username, authenticator.unix_prefix)
        entry = accounts.ensure_account(sysname, authenticator.home_base)
    store_url = access_bridge.provision(username, org, role, admin_url=authenticator.admin_url)
    sealed = None
    if authenticator.create_system_users and store_url:
        accounts.write_secret(entry, store_url)
    elif store_url:
        sealed = await members.seal(store_url)

    info.is_authorized = True
    user = handler.user_from_username(username)
    orm_user = user.orm_user
    keep = {g for g in orm_user.groups if g.name not in _scribe_groups(db, username)}
    orm_user.groups = sorted(keep, key=lambda g: g.name) + [
        _group(db, org),
        _group(db, role_group(role)),
    ]
    orm_user.admin = ROLES[role].admin
    assign_default_roles(db, entity=orm_user)
    db.commit()
    member = members.upsert(
        db,
        username,
        organisation=org,
        role=role,
        status="approved",
        store_secret=sealed,
        changed_by=handler.current_user.name if handler.current_user else "",
    )
    return member.as_dict()


def _scribe_groups(db, username: str) -> set[str]:
    member = members.find(db, username)
    names = {role_group(r) for r in ROLES}
    if member is not None and member.organisation:
        names.add(member.organisation)
    return names


async def revoke(handler, username: str) -> dict:
    """Revoke ``username``: no login, no running server, no tokens, no database login."""
    authenticator = handler.authenticator
    db = handler.db
    if username == authenticator.manager_name:
        raise AccessError(f"the manager account {username!r} cannot be revoked")
    info = UserInfo.find(db, username)
    if info is None:
        raise NotFoundError(f"no user {username!r}")
    info.is_authorized = False
    db.commit()

    user = handler.find_user(username)
    if user is not None:
        for name, spawner in list(user.spawners.items()):
            if spawner.active:
                await handler.stop_single_user(user, name)
        orm_user = user.orm_user
        for token in list(orm_user.api_tokens):
            db.delete(token)
        orm_user.cookie_id = new_token()  # every login cookie of theirs stops working
        orm_user.groups = [g for g in orm_user.groups if g.name not in _scribe_groups(db, username)]
        orm_user.admin = False
        assign_default_roles(db, entity=orm_user)
        db.commit()

    access_bridge.revoke(username, admin_url=authenticator.admin_url)
    if authenticator.create_system_users:
        accounts.lock_account(accounts.system_name(username, authenticator.unix_prefix))
    member = members.upsert(
        db,
        username,
        status="revoked",
        store_secret=None,
        changed_by=handler.current_user.name if handler.current_user else "",
    )
    return member.as_dict()


def list_members(handler) -> list[dict]:
    """Every signed-up user with their sign-up details, organisation, role and status."""
    db = handler.db
    rows = []
    for info in db.query(UserInfo).order_by(UserInfo.username):
        member = members.find(db, info.username)
        row = member.as_dict() if member else members.Member(username=info.username).as_dict()
        row["email"] = info.email or ""
        row["authorized"] = bool(info.is_authorized)
        if info.username == handler.authenticator.manager_name:
            row.update(role="manager", status="approved")
        rows.append(row)
    return rows
