"""Adversarial tests: a hub user running raw SQL against the secured store.

Every attempt to get round the data-sharing agreement must fail. Each test has its own
database (scribe_lib.access.testing), with seeded incidents, the demo agreement applied and
hub users provisioned: alice (Luton council analyst), pat (the PCC's office: no restricted
fields) and fiona (fire analyst).
"""

from __future__ import annotations

import re

import psycopg
import pytest

from scribe_lib.access import revoke_user
from scribe_lib.access.testing import secured_database

# the test cluster trusts 127.0.0.1 (pg_hba.conf), which apply_agreement rightly warns about
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.filterwarnings("ignore:pg_hba.conf line:scribe_lib.access.AccessWarning"),
]

USERS = {
    "alice": ("luton-council", "analyst"),
    "pat": ("bedfordshire-pcc", "viewer"),
    "fiona": ("bedfordshire-fire", "analyst"),
}


@pytest.fixture
def db():
    with secured_database(USERS) as s:
        yield s


def _refused(conn: psycopg.Connection, statement: str) -> str:
    """Run ``statement`` as the user; return the error message (fail the test if it ran)."""
    try:
        conn.execute(statement)
    except psycopg.Error as exc:
        return exc.diag.message_primary or str(exc)
    pytest.fail(f"the user could run: {statement}")


def test_base_tables_cannot_be_read(db):
    with db.connect("alice") as c:
        for rel in (
            "scribe.incidents",
            "scribe.submissions",
            "scribe.quarantine",
            "scribe.localities",
            "scribe.settings",
            "scribe_access.rules",
            "scribe_access.users",
            "scribe_access.audit",
            "scribe_access.session_rules",
        ):
            assert "permission denied" in _refused(c, f"SELECT * FROM {rel}")  # fmt: skip


def test_no_side_door_to_the_base_tables(db):
    """COPY, planner statistics and the catalogue do not give the base rows away."""
    with psycopg.connect(db.url, autocommit=True) as admin:
        admin.execute("ANALYZE scribe.incidents")
        assert admin.execute(
            "SELECT count(*) FROM pg_stats WHERE schemaname = 'scribe'"
        ).fetchone()[0] > 0  # fmt: skip
    with db.connect("alice") as c:
        assert "permission denied" in _refused(c, "COPY scribe.incidents TO STDOUT")
        assert "permission denied" in _refused(c, "COPY (SELECT 1 FROM scribe.incidents) TO STDOUT")
        stats = c.execute("SELECT count(*) FROM pg_stats WHERE schemaname = 'scribe'").fetchone()
        assert stats[0] == 0  # most common values of description would be a leak
        assert "permission denied" in _refused(c, "SELECT pg_read_file('pg_hba.conf')")


def test_incidents_cannot_be_written_or_truncated(db):
    statements = [
        "INSERT INTO scribe.incidents (incident_id, partner, source, submission_id, category) "
        "VALUES ('x', 'luton-council', 'x', 1, 'noise')",
        "UPDATE scribe.incidents SET category = 'noise'",
        "DELETE FROM scribe.incidents",
        "TRUNCATE scribe.incidents",
        "INSERT INTO scribe_shared.incidents (incident_id) VALUES ('x')",
        "UPDATE scribe_shared.incidents SET category = 'noise'",
        "DELETE FROM scribe_shared.incidents",
        "TRUNCATE scribe_shared.incidents",
        "DELETE FROM scribe.submissions",
        "UPDATE scribe_shared.submissions SET superseded_by = NULL",
    ]
    with db.connect("alice") as c:
        for st in statements:
            msg = _refused(c, st)
            assert re.search(
                r"permission denied|cannot (insert into|update|delete from) view|is not a table",
                msg,
            ), (
                st,
                msg,
            )
    with psycopg.connect(db.url) as admin:
        n = admin.execute("SELECT count(*) FROM scribe.incidents").fetchone()[0]
    assert n == 5 * 45  # nothing changed: 5 partners x (5 superseded + 40 active)


@pytest.mark.parametrize("target", ["loader", "reader", "managers", "other_org", "postgres"])
def test_set_role_is_refused(db, target):
    role = {
        "loader": f"{db.prefix}_loader",
        "reader": f"{db.prefix}_reader",
        "managers": f"{db.prefix}_managers",
        "other_org": f"{db.prefix}_org_bedfordshire_police",
        "postgres": "postgres",
    }[target]
    with db.connect("alice") as c:
        assert "permission denied" in _refused(c, f'SET ROLE "{role}"')
        assert "permission denied" in _refused(c, f'SET SESSION AUTHORIZATION "{role}"')
        assert c.execute("SELECT current_user").fetchone()[0] == f"{db.prefix}_u_alice"


def test_user_cannot_grant_itself_more(db):
    me = f"{db.prefix}_u_alice"
    statements = [
        f'ALTER ROLE "{me}" SUPERUSER',
        f'ALTER ROLE "{me}" BYPASSRLS',
        f'GRANT "{db.prefix}_org_bedfordshire_police" TO "{me}"',
        f'GRANT "{db.prefix}_managers" TO "{me}"',
        "GRANT SELECT ON scribe_shared.incidents TO PUBLIC",
        "ALTER TABLE scribe.incidents DISABLE ROW LEVEL SECURITY",
        "ALTER FUNCTION scribe_shared.read_incidents SECURITY INVOKER",
        "DROP VIEW scribe_shared.incidents",
    ]
    with db.connect("alice") as c:
        for st in statements:
            msg = _refused(c, st)
            assert re.search(r"permission denied|must be|must have admin option", msg), (st, msg)


def test_no_objects_can_be_created_in_scribe_schemas(db):
    statements = [
        "CREATE TABLE scribe.mine (x int)",
        "CREATE TABLE scribe_shared.mine (x int)",
        "CREATE TABLE scribe_access.mine (x int)",
        "CREATE VIEW scribe_shared.everything AS SELECT 1",
        "CREATE FUNCTION scribe_shared.f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        "CREATE TABLE public.mine (x int)",
        "CREATE SCHEMA mine",
    ]
    with db.connect("alice") as c:
        for st in statements:
            assert "permission denied" in _refused(c, st), st


def test_another_organisations_restricted_rows_are_not_visible(db):
    with db.connect("alice") as c:
        partners = dict(c.execute(
            "SELECT partner, count(*) FROM scribe_shared.incidents GROUP BY 1"
        ).fetchall())  # fmt: skip
        asked = c.execute(
            "SELECT count(*) FROM scribe_shared.read_incidents(partners => "
            "ARRAY['bedfordshire-fire', 'bedford-council', 'central-bedfordshire-council'])"
        ).fetchone()[0]
        superseded = c.execute(
            "SELECT count(*) FROM scribe_shared.incidents i JOIN scribe_shared.submissions s "
            "USING (submission_id) WHERE s.superseded_by IS NOT NULL"
        ).fetchone()[0]
        subs = {r[0] for r in c.execute("SELECT DISTINCT partner FROM scribe_shared.submissions")}
        counted = {r[0] for r in c.execute("SELECT partner FROM scribe_shared.incident_counts")}
    # Luton sees its own and police crime/ASB rows; fire only as counts; other councils never.
    assert set(partners) == {"luton-council", "bedfordshire-police"}
    assert asked == 0 and superseded == 0
    assert subs == {"luton-council", "bedfordshire-police", "bedfordshire-fire"}
    assert counted == subs  # fire as counts only; the other councils not even counted


def test_restricted_columns_are_refused_or_masked(db):
    with db.connect("pat") as c:  # the PCC's office has no restricted field at all
        for col in ("description", "outcome", "location_text", "source_record_id", "attributes"):
            assert "permission denied" in _refused(c, f"SELECT {col} FROM scribe_shared.incidents")
        assert "permission denied" in _refused(c, "SELECT * FROM scribe_shared.incidents")
        n, descr = c.execute(
            "SELECT count(*), count(description) FROM scribe_shared.read_incidents()"
        ).fetchone()
        assert n > 0 and descr == 0
    with db.connect("alice") as c:  # Luton: its own free text, never the police's
        rows = c.execute(
            "SELECT partner, count(*), count(description), count(outcome) "
            "FROM scribe_shared.incidents GROUP BY 1"
        ).fetchall()
    by = {p: (n, d, o) for p, n, d, o in rows}
    assert by["bedfordshire-police"][1:] == (0, 0)
    assert by["luton-council"][1] == by["luton-council"][0]


def test_street_precision_never_shows_the_exact_point(db):
    with db.connect("alice") as c:
        police = c.execute(
            "SELECT easting, northing, location_precision, ST_X(geom) FROM scribe_shared.incidents"
            " WHERE partner = 'bedfordshire-police' AND easting IS NOT NULL"
        ).fetchall()
        own = c.execute(
            "SELECT count(*) FROM scribe_shared.incidents WHERE partner = 'luton-council' "
            "AND easting IS NOT NULL AND easting::numeric % 100 <> 50"
        ).fetchone()[0]
    assert police and all(e % 100 == 50 and n % 100 == 50 for e, n, _, _ in police)
    assert {p for _, _, p, _ in police} == {"rounded"}
    assert all(x == e for e, _, _, x in police)
    assert own > 0  # exact for its own data


def test_leaky_function_sees_only_what_the_agreement_allows(db):
    """A user-defined function in WHERE must not see rows or values before the filter."""
    leaked: list[str] = []
    with db.connect("alice") as c:
        c.add_notice_handler(lambda d: leaked.append(d.message_primary or ""))
        c.execute(
            "CREATE FUNCTION pg_temp.leak(text, text) RETURNS boolean LANGUAGE plpgsql "
            "COST 0.0000001 AS $$ BEGIN RAISE NOTICE 'leak % %', $1, $2; RETURN true; END $$"
        )
        c.execute(
            "SELECT * FROM scribe_shared.read_incidents() WHERE pg_temp.leak(partner, description)"
        ).fetchall()
    assert leaked, "the notice handler saw nothing: the test would prove nothing"
    assert not [m for m in leaked if "bedfordshire-fire" in m or "bedford-council" in m]
    assert not [m for m in leaked if "secret narrative bedfordshire-police" in m]


def test_audit_of_others_cannot_be_read_or_changed(db):
    with db.connect("fiona") as c:
        c.execute("SELECT count(*) FROM scribe_shared.incidents").fetchone()
    with db.connect("alice") as c:
        c.execute("SELECT count(*) FROM scribe_shared.incidents").fetchone()
        mine = c.execute("SELECT DISTINCT username FROM scribe_shared.my_audit").fetchall()
        assert mine == [("alice",)]
        for st in (
            "SELECT * FROM scribe_access.audit",
            "UPDATE scribe_shared.my_audit SET rows = 0",
            "DELETE FROM scribe_shared.my_audit",
            "DELETE FROM scribe_access.audit",
            "TRUNCATE scribe_access.audit",
        ):
            assert "permission denied" in _refused(c, st), st  # fmt: skip


def test_the_audit_link_is_out_of_reach(db):
    statements = [
        "SELECT * FROM scribe_access.audit_link",
        "SELECT scribe_access.dblink_connect_u('mine', 'dbname=postgres user=postgres')",
        "SELECT scribe_access.dblink_exec('scribe_audit', 'DELETE FROM scribe_access.audit')",
        "SELECT scribe_access.append_audit('read', 'incidents', '{}', 0, 'forged')",
        "ALTER EXTENSION dblink SET SCHEMA public",
        "DROP EXTENSION dblink CASCADE",
    ]
    with db.connect("alice") as c:
        c.execute("SELECT count(*) FROM scribe_shared.incidents").fetchone()  # link now open
        for st in statements:
            assert re.search(r"permission denied|must be", _refused(c, st)), st


def test_revoked_user_is_cut_off_at_once(db):
    c = db.connect("alice")
    assert c.execute("SELECT count(*) FROM scribe_shared.incidents").fetchone()[0] > 0
    revoke_user("alice", admin_url=db.url)
    with pytest.raises(psycopg.OperationalError):
        c.execute("SELECT count(*) FROM scribe_shared.incidents")
    c.close()
    with pytest.raises(psycopg.OperationalError, match="alice"):
        db.connect("alice")
    with psycopg.connect(db.url) as admin:
        gone = admin.execute(
            "SELECT count(*) FROM pg_roles WHERE rolname = %s", [f"{db.prefix}_u_alice"]
        ).fetchone()[0]
        kept = admin.execute(
            "SELECT count(*) FROM scribe_access.audit WHERE username = 'alice'"
        ).fetchone()[0]
    assert gone == 0 and kept >= 2  # provision + read stay on record
    revoke_user("alice", admin_url=db.url)  # twice: harmless


def test_base_tables_belong_to_the_loader_with_forced_rls(db):
    with psycopg.connect(db.url) as admin:
        rows = admin.execute(
            "SELECT c.relname, pg_get_userbyid(c.relowner), c.relrowsecurity, "
            "c.relforcerowsecurity FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'scribe' AND c.relkind = 'r'"
        ).fetchall()
        writers = admin.execute(
            "SELECT DISTINCT grantee FROM information_schema.role_table_grants WHERE "
            "table_schema = 'scribe' AND privilege_type IN ('INSERT', 'UPDATE', 'DELETE', "
            "'TRUNCATE')"
        ).fetchall()
    assert {r[0] for r in rows} >= {"incidents", "submissions", "quarantine", "localities"}
    assert all(owner == f"{db.prefix}_loader" and rls and forced for _, owner, rls, forced in rows)
    assert writers == [(f"{db.prefix}_loader",)]
