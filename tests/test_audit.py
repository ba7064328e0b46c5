"""The audit trail: every read by a hub user (scribe_lib, raw SQL, counts) and every
export is recorded in an append-only table; the manager reads it with `scribe audit`."""

from __future__ import annotations

import datetime as dt
import json

import psycopg
import pytest

import scribe_lib
from scribe_lib.access import audit_entries, record_export
from scribe_lib.access.testing import secured_database
from scribe_lib.cli import main
from scribe_lib.errors import AccessError

# the test cluster trusts 127.0.0.1 (pg_hba.conf), which apply_agreement rightly warns about
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.filterwarnings("ignore:pg_hba.conf line:scribe_lib.access.AccessWarning"),
]

USERS = {"alice": ("luton-council", "analyst"), "fiona": ("bedfordshire-fire", "analyst"),
         "mo": ("csp-analysts", "manager")}  # fmt: skip


@pytest.fixture
def db():
    with secured_database(USERS) as s:
        yield s


def _reads(db, user):
    df = audit_entries(db.url, user=user)
    return df[df["action"].isin(["read", "counts", "export"])].reset_index(drop=True)


def test_scribe_lib_load_is_recorded_with_its_filter(db):
    gdf = scribe_lib.load(db.users["alice"], category=["burglary", "noise"], start="2024-03",
                          end="2024-08")  # fmt: skip
    assert len(gdf) > 0 and set(gdf["category"]) <= {"burglary", "noise"}
    entries = _reads(db, "alice")
    assert list(entries["action"]) == ["read"]
    e = entries.iloc[0]
    assert e["org"] == "luton-council" and e["relation"] == "incidents"
    assert json.loads(e["filter"]) == {
        "category": ["burglary", "noise"],
        "start": "2024-03-01T00:00:00",
        "end": "2024-09-01T00:00:00",
        "purpose": "scribe_lib",
    }
    assert "category IN" in e["query"]
    assert e["rows"] == len(gdf)  # the read function applied the filter itself


def test_raw_sql_reads_and_counts_are_recorded(db):
    with db.connect("alice") as c:
        n = c.execute("SELECT count(*) FROM scribe_shared.incidents").fetchone()[0]
        got = c.execute(
            "SELECT * FROM scribe_shared.read_incidents(categories => ARRAY['noise'])"
        ).fetchall()
        c.execute("SELECT * FROM scribe_shared.incident_counts").fetchall()
    entries = _reads(db, "alice")
    assert list(entries["action"]) == ["read", "read", "counts"]
    assert entries["rows"].iloc[0] == n and entries["rows"].iloc[1] == len(got)
    assert json.loads(entries["filter"].iloc[1]) == {"category": ["noise"]}
    assert "scribe_shared.incidents" in entries["query"].iloc[0]
    assert set(entries["db_user"]) == {f"{db.prefix}_u_alice"}


def test_a_read_stays_recorded_when_the_transaction_is_rolled_back_or_abandoned(db):
    with db.connect("alice") as c:  # explicit rollback
        c.execute("BEGIN")
        n = c.execute("SELECT count(*) FROM scribe_shared.incidents").fetchone()[0]
        c.execute("ROLLBACK")
    c = psycopg.connect(db.users["alice"])  # psycopg's default: a transaction never committed
    c.execute("SELECT * FROM scribe_shared.read_incidents(partners => ARRAY['luton-council'])")
    c.close()
    entries = _reads(db, "alice")
    assert list(entries["action"]) == ["read", "read"]
    assert entries["rows"].iloc[0] == n
    assert json.loads(entries["filter"].iloc[1]) == {"partner": ["luton-council"]}


def test_a_read_in_a_read_only_transaction_is_refused_not_unrecorded(db):
    with db.connect("alice") as c:
        c.execute("SET default_transaction_read_only = on")
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction, match="read-only"):
            c.execute("SELECT count(*) FROM scribe_shared.incidents")
    assert _reads(db, "alice").empty


def test_record_export(db):
    with db.connect("fiona") as c:
        entry = record_export(
            c, "hotspots.geojson", {"category": ["deliberate-secondary-fire"]}, 42
        )
        own = c.execute("SELECT action, relation, rows, filter FROM scribe_shared.my_audit "
                        "WHERE id = %s", [entry]).fetchone()  # fmt: skip
    assert own == ("export", "hotspots.geojson", 42, {"category": ["deliberate-secondary-fire"]})
    e = _reads(db, "fiona").iloc[-1]
    assert (e["action"], e["username"], e["org"]) == ("export", "fiona", "bedfordshire-fire")
    record_export(db.users["fiona"], "incidents.csv", None, 0)  # a URL works too
    with scribe_lib.open_store(db.users["fiona"]) as store:  # and a store
        record_export(store, "kde.tif", {"start": dt.date(2024, 1, 1)}, 1)
    c = db.connect("fiona", autocommit=False)
    record_export(c, "left-open.csv", {}, 2)
    c.close()  # never committed: the entry stays all the same
    relations = list(_reads(db, "fiona")["relation"])
    assert relations == ["hotspots.geojson", "incidents.csv", "kde.tif", "left-open.csv"]
    assert json.loads(_reads(db, "fiona")["filter"].iloc[2]) == {"start": "2024-01-01"}


def test_record_export_on_the_embedded_store_is_a_no_op(tmp_path):
    with scribe_lib.open_store(str(tmp_path / "local.duckdb")) as store:
        assert record_export(store, "incidents.csv", {}, 3) is None


@pytest.mark.parametrize(
    "what,filter,rows,message",
    [("", {}, 1, "say what was exported"), ("x.csv", {}, -1, "number of rows"),
     ("x.csv", {}, True, "number of rows"), ("x.csv", {"f": object()}, 1, "cannot be recorded")],
)  # fmt: skip
def test_record_export_bad_input(db, what, filter, rows, message):
    with db.connect("fiona") as c, pytest.raises(AccessError, match=message):
        record_export(c, what, filter, rows)


def test_the_trail_is_append_only_even_for_the_superuser(db):
    with db.connect("alice") as c:
        c.execute("SELECT count(*) FROM scribe_shared.incidents").fetchone()
    with psycopg.connect(db.url, autocommit=True) as admin:
        for st in ("UPDATE scribe_access.audit SET rows = 0", "DELETE FROM scribe_access.audit",
                   "TRUNCATE scribe_access.audit"):  # fmt: skip
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                admin.execute(st)


def test_a_user_sees_only_their_own_entries_and_the_manager_all(db):
    for user in ("alice", "fiona"):
        with db.connect(user) as c:
            c.execute("SELECT count(*) FROM scribe_shared.incidents").fetchone()
    with db.connect("fiona") as c:
        assert {r[0] for r in c.execute("SELECT username FROM scribe_shared.my_audit")} == {"fiona"}
    with db.connect("mo") as c:  # a manager's own login may read the whole trail
        users = {r[0] for r in c.execute("SELECT username FROM scribe_access.audit")}
    assert {"alice", "fiona"} <= users


def test_scribe_audit_command(db, capsys):
    with db.connect("alice") as c:
        c.execute("SELECT count(*) FROM scribe_shared.incidents").fetchone()
    with db.connect("fiona") as c:
        record_export(c, "hotspots.geojson", {"cell": 250}, 7)
    store = db.url_as_store()
    assert main(["--store", store, "audit", "--user", "fiona", "--json"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert {x["username"] for x in lines} == {"fiona"}
    assert lines[-1]["action"] == "export" and lines[-1]["rows"] == 7
    assert lines[-1]["filter"] == {"cell": 250}
    assert main(["--store", store, "audit", "--since", "2999-01-01"]) == 0
    assert "no audit entries" in capsys.readouterr().out
    assert main(["--store", store, "audit"]) == 0
    out = capsys.readouterr().out
    assert "alice" in out and "hotspots.geojson" in out and "apply" in out
    assert main(["--store", store, "audit", "--since", "last week"]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err
