"""The data-sharing agreement, enforced by PostgreSQL, and the audit trail.

::

    from scribe_lib.access import load_agreement, apply_agreement, provision_user
    agreement = load_agreement("hub_config/data_sharing_agreement.yml")
    apply_agreement(agreement, admin_url="postgresql://postgres@127.0.0.1/scribe")
    secret = provision_user("alice", "luton-council", "analyst", admin_url=...)

See ``docs/access.md`` for the design and its limits.
"""

from __future__ import annotations

from .agreement import (
    BASE_FIELDS,
    PRECISIONS,
    RESTRICTED_FIELDS,
    Agreement,
    Organisation,
    Rule,
    load_agreement,
    parse_agreement,
)
from .audit import AUDIT_COLUMNS, audit_entries, record_export
from .hba import AccessWarning
from .policies import apply_agreement
from .retention import apply_retention
from .sql import RoleNames
from .users import ROLES, login_name, provision_user, revoke_user, user_url

__all__ = [
    "Agreement",
    "AccessWarning",
    "Organisation",
    "Rule",
    "BASE_FIELDS",
    "RESTRICTED_FIELDS",
    "PRECISIONS",
    "ROLES",
    "AUDIT_COLUMNS",
    "RoleNames",
    "load_agreement",
    "parse_agreement",
    "apply_agreement",
    "provision_user",
    "revoke_user",
    "user_url",
    "login_name",
    "record_export",
    "audit_entries",
    "apply_retention",
]
