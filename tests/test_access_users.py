"""Provisioning and revoking hub users' database logins; applying the agreement; bad inputs."""

from __future__ import annotations

import psycopg
import pytest
import yaml

from scribe_lib.access import (
    AccessWarning,
    apply_agreement,
    login_name,
    parse_agreement,
    provision_user,
    revoke_user,
    user_url,
)
from scribe_lib.access.testing import demo_agreement_data, scratch_database, secured_database
from scribe_lib.cli import main
from scribe_lib.errors import AccessError, NotFoundError, StoreError

# the test cluster trusts 127.0.0.1 (pg_hba.conf), which apply_agreement rightly warns about
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.filterwarnings("ignore:pg_hba.conf line:scribe_lib.access.AccessWarning"),
]


@pytest.fixture
def db():
    with secured_database({"alice": ("luton-council", "analyst")}) as s:
        yield s


def _partners(url):
    with psycopg.connect(url) as c:
        return {r[0] for r in c.execute("SELECT DISTINCT partner FROM scribe_shared.incidents")}


def test_reprovisioning_moves_the_user_and_rotates_the_secret(db):
    old_url = db.users["alice"]
    assert _partners(old_url) == {"luton-council", "bedfordshire-police"}
    new_url = db.add_user("alice", "bedford-council")
    assert _partners(new_url) == {"bedford-council", "bedfordshire-police"}
    with psycopg.connect(db.url) as admin:
        member_of = {
            r[0]
            for r in admin.execute(
                "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
                "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = %s",
                [f"{db.prefix}_u_alice"],
            )
        }
        hashed = admin.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s",
                               [f"{db.prefix}_u_alice"]).fetchone()[0]  # fmt: skip
    assert member_of == {f"{db.prefix}_org_bedford_council"}
    assert hashed.startswith("SCRAM-SHA-256$4096:") and new_url.split(":")[2].split("@")[0] \
        not in hashed  # fmt: skip


def test_manager_role_joins_the_managers(db):
    db.add_user("mo", "csp-analysts", "manager")
    with psycopg.connect(db.url) as admin:
        member_of = {
            r[0]
            for r in admin.execute(
                "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
                "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = %s",
                [f"{db.prefix}_u_mo"],
            )
        }
    assert member_of == {f"{db.prefix}_org_csp_analysts", f"{db.prefix}_managers"}


def test_login_names_are_safe_and_distinct(db):
    assert login_name("alice", admin_url=db.url) == f"{db.prefix}_u_alice"
    odd = login_name('Robert"); DROP TABLE x;--', prefix="scribe")
    assert odd.startswith("scribe_u_robert____drop_table_x") and len(odd) <= 63
    assert login_name("a.b", prefix="p") != login_name("a_b", prefix="p")
    secret = provision_user("Zoë O'Brien", "luton-council", "viewer", admin_url=db.url)
    assert _partners(user_url("Zoë O'Brien", secret, admin_url=db.url))


def test_provision_bad_input(db):
    with pytest.raises(NotFoundError, match="unknown organisation 'luton'; known organisations: "
                       "bedford-council"):  # fmt: skip
        provision_user("bob", "luton", "analyst", admin_url=db.url)
    with pytest.raises(AccessError, match="role 'admin' is not a hub role; use one of analyst"):
        provision_user("bob", "luton-council", "admin", admin_url=db.url)
    with pytest.raises(AccessError, match="give the hub user name"):
        provision_user(" ", "luton-council", "analyst", admin_url=db.url)
    with pytest.warns(AccessWarning, match="'bob' has no database login here"):
        revoke_user("bob", admin_url=db.url)
    with pytest.raises(AccessError, match="is not one"):  # a hub user is not an administrator
        provision_user("bob", "luton-council", "analyst", admin_url=db.users["alice"])
    with psycopg.connect(db.url, autocommit=True) as admin:  # a stranger's role of that name
        admin.execute(f'CREATE ROLE "{db.prefix}_u_carol"')
    with pytest.raises(AccessError, match="exists and is not a SCRIBE user"):
        provision_user("carol", "luton-council", "analyst", admin_url=db.url)


def test_apply_refuses_a_changed_prefix_and_an_uninitialised_store(db):
    data = demo_agreement_data(db.prefix + "x")
    with pytest.raises(AccessError, match="was set up with role_prefix"):
        apply_agreement(parse_agreement(data), admin_url=db.url)
    with scratch_database() as (url, prefix), psycopg.connect(url, autocommit=True) as c:
        c.execute("DROP SCHEMA scribe CASCADE")
        with pytest.raises(StoreError, match="run `scribe init`"):
            apply_agreement(parse_agreement(demo_agreement_data(prefix)), admin_url=url)
        with pytest.raises(AccessError, match="scribe access apply"):
            provision_user("bob", "luton-council", "analyst", admin_url=url)


def test_scribe_access_commands(db, tmp_path, capsys):
    path = tmp_path / "agreement.yml"

    data = demo_agreement_data(db.prefix)
    data["organisations"]["luton-council"]["see"] = data["organisations"]["luton-council"]["see"][
        :1
    ]
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    store = db.url_as_store()
    assert main(["access", "check", "--agreement", str(path)]) == 0
    assert "valid (7 organisations)" in capsys.readouterr().out
    assert main(["--store", store, "access", "apply", "--agreement", str(path)]) == 0
    assert f"roles prefixed {db.prefix}_" in capsys.readouterr().out
    assert _partners(db.users["alice"]) == {"luton-council"}  # police data withdrawn
    data["organisations"]["luton-council"]["see"][0]["precision"] = "nearby"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert main(["--store", store, "access", "apply", "--agreement", str(path)]) == 2
    assert "'nearby' is not a precision" in capsys.readouterr().err
    assert _partners(db.users["alice"]) == {"luton-council"}  # a bad file changes nothing
