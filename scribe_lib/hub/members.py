"""What SCRIBE records about each member, next to NativeAuthenticator's own table.

NativeAuthenticator keeps the username, password hash, e-mail and the
``is_authorized`` flag (table ``users_info``). Its sign-up form has no field
for the person's name or organisation, so SCRIBE keeps those, and the
organisation and role the manager approved, in ``scribe_members`` in the same
hub database.
"""

from __future__ import annotations

from datetime import UTC, datetime

from jupyterhub.orm import Base
from sqlalchemy import Column, DateTime, Integer, LargeBinary, String, inspect

__all__ = ["Member", "ensure_table", "find", "upsert", "seal", "unseal"]


class Member(Base):
    """One member of the partnership (a row per hub user who signed up)."""

    __tablename__ = "scribe_members"
    id = Column(Integer, primary_key=True, autoincrement=True)
    username = Column(String(128), nullable=False, unique=True)
    full_name = Column(String(256), default="")
    requested_org = Column(String(128), default="")
    organisation = Column(String(128), default="")
    role = Column(String(32), default="")
    status = Column(String(16), default="pending")  # pending | approved | revoked
    changed_by = Column(String(128), default="")
    changed_at = Column(DateTime, default=lambda: datetime.now(UTC).replace(tzinfo=None))
    # the user's store URL, encrypted with JUPYTERHUB_CRYPT_KEY; only when there are no
    # Unix accounts to keep it in (Kubernetes: the hub hands it to the user's pod).
    store_secret = Column(LargeBinary, nullable=True)

    def as_dict(self) -> dict:
        """A JSON-able view (for the API and ``scribe users list``)."""
        return {
            "name": self.username,
            "full_name": self.full_name or "",
            "requested_org": self.requested_org or "",
            "organisation": self.organisation or "",
            "role": self.role or "",
            "status": self.status or "pending",
            "changed_by": self.changed_by or "",
            "changed_at": self.changed_at.isoformat(timespec="seconds") + "Z"
            if self.changed_at
            else "",
        }


def ensure_table(db) -> None:
    """Create ``scribe_members`` in the hub database when it is missing."""
    if "scribe_members" not in inspect(db.bind).get_table_names():
        Member.__table__.create(db.bind)


def find(db, username: str) -> Member | None:
    """The member row of ``username``, or None."""
    return db.query(Member).filter(Member.username == username).first()


def upsert(db, username: str, **fields) -> Member:
    """Create or update the member row of ``username`` and commit."""
    member = find(db, username)
    if member is None:
        member = Member(username=username)
        db.add(member)
    for key, value in fields.items():
        setattr(member, key, value)
    member.changed_at = datetime.now(UTC).replace(tzinfo=None)
    db.commit()
    return member


async def seal(store_url: str) -> bytes:
    """Encrypt a store URL with the hub's ``JUPYTERHUB_CRYPT_KEY``."""
    from jupyterhub.crypto import encrypt

    return await encrypt(store_url)


async def unseal(blob: bytes) -> str:
    """Decrypt what :func:`seal` made."""
    from jupyterhub.crypto import decrypt

    return await decrypt(blob)
