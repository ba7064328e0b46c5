"""Positive tests: each organisation sees exactly what the agreement allows, and a changed
agreement, re-applied, changes access at once (even in an open session)."""

from __future__ import annotations

import copy

import pandas as pd
import psycopg
import pytest

from scribe_lib.access import RESTRICTED_FIELDS, parse_agreement
from scribe_lib.access.testing import secured_database

# the test cluster trusts 127.0.0.1 (pg_hba.conf), which apply_agreement rightly warns about
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.filterwarnings("ignore:pg_hba.conf line:scribe_lib.access.AccessWarning"),
]

ORGS = ["bedfordshire-police", "bedfordshire-fire", "luton-council", "bedford-council",
        "central-bedfordshire-council", "bedfordshire-pcc", "csp-analysts"]  # fmt: skip


@pytest.fixture
def db():
    with secured_database({f"u{i}": (org, "analyst") for i, org in enumerate(ORGS)}) as s:
        yield s


def _active(url: str) -> pd.DataFrame:
    """The active incidents, read as the superuser from the base tables."""
    with psycopg.connect(url) as c:
        cur = c.execute(
            "SELECT i.incident_id, i.partner, i.category, i.lsoa_code, i.ward_code, "
            "date_trunc('month', i.period_start)::date AS month FROM scribe.incidents i "
            "JOIN scribe.submissions s USING (submission_id) WHERE s.superseded_by IS NULL"
        )
        return pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])


def _allowed(active: pd.DataFrame, agreement, org: str) -> pd.DataFrame:
    """The rows ``org`` may see, computed from the agreement in Python, with its rule."""
    rules = {r.partner: r for r in agreement.organisations[org].rules}
    keep = [
        p in rules and (rules[p].categories is None or c in rules[p].categories)
        for p, c in zip(active["partner"], active["category"], strict=True)
    ]
    out = active[keep].copy()
    out["precision"] = [rules[p].precision for p in out["partner"]]
    out["suppress"] = [rules[p].suppress_small_counts for p in out["partner"]]
    out["fields"] = [rules[p].fields for p in out["partner"]]
    return out


@pytest.mark.parametrize("i", range(len(ORGS)), ids=ORGS)
def test_each_organisation_sees_exactly_its_rows(db, i):
    agreement = parse_agreement(db.agreement_data)
    expected = _allowed(_active(db.url), agreement, ORGS[i])
    rows_expected = expected[expected["precision"] != "aggregate"]
    with db.connect(f"u{i}") as c:
        got = c.execute(
            "SELECT incident_id, description, outcome, easting, northing "
            "FROM scribe_shared.read_incidents()"
        ).fetchall()
    with psycopg.connect(db.url) as admin:
        exact = {r[0]: r[1:] for r in admin.execute(
            "SELECT incident_id, easting, northing FROM scribe.incidents")}  # fmt: skip
    assert sorted(r[0] for r in got) == sorted(rows_expected["incident_id"])
    fields = dict(zip(rows_expected["incident_id"], rows_expected["fields"], strict=True))
    precision = dict(zip(rows_expected["incident_id"], rows_expected["precision"], strict=True))
    for incident_id, description, outcome, e, n in got:
        assert (description is not None) == ("description" in fields[incident_id])
        assert (outcome is not None) == ("outcome" in fields[incident_id])
        x, y = exact[incident_id]
        if x is None:
            assert e is None and n is None
        elif precision[incident_id] == "exact":
            assert (e, n) == (x, y)
        else:  # street: the centre of the 100 m square holding the point
            assert (e, n) == (x // 100 * 100 + 50, y // 100 * 100 + 50)


@pytest.mark.parametrize("i", range(len(ORGS)), ids=ORGS)
def test_each_organisation_gets_its_suppressed_counts(db, i):
    agreement = parse_agreement(db.agreement_data)
    allowed = _allowed(_active(db.url), agreement, ORGS[i])
    expected = {}
    for kind, col in (("lsoa", "lsoa_code"), ("ward", "ward_code")):
        for key, grp in allowed.groupby([col, "month", "partner", "category"], dropna=False):
            n = len(grp)
            small = bool(grp["suppress"].iloc[0]) and n < agreement.suppress_counts_below
            expected[(kind, key[0], key[1], key[2], key[3])] = (None if small else n, small)
    with db.connect(f"u{i}") as c:
        got = {
            (k, a, m, p, cat): (n, s)
            for k, a, m, p, cat, n, s in c.execute("SELECT * FROM scribe_shared.incident_counts")
        }
    assert got == expected
    assert any(s for _, s in got.values()) == any(r.suppress_small_counts for r in
                                                  agreement.organisations[ORGS[i]].rules)  # fmt: skip


def test_column_privileges_follow_the_agreement(db):
    with db.connect("u5") as c:  # the PCC's office: base fields only
        cols = [d.name for d in c.execute(
            "SELECT incident_id, partner, category, easting, northing, lsoa_code, geom "
            "FROM scribe_shared.incidents LIMIT 1").description]  # fmt: skip
        assert "geom" in cols
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
            c.execute("SELECT outcome FROM scribe_shared.incidents")
    with db.connect("u6") as c:  # the CSP analysts: every field
        c.execute(f"SELECT {', '.join(RESTRICTED_FIELDS)} FROM scribe_shared.incidents").fetchall()


def test_reapplying_a_changed_agreement_changes_access_at_once(db):
    luton = ORGS.index("luton-council")
    c = db.connect(f"u{luton}")  # an open session, kept across the change
    before = dict(c.execute("SELECT partner, count(*) FROM scribe_shared.incidents GROUP BY 1"))
    assert before.keys() == {"luton-council", "bedfordshire-police"}
    assert c.execute(
        "SELECT count(description) FROM scribe_shared.incidents WHERE partner = 'bedfordshire-police'"
    ).fetchone()[0] == 0  # fmt: skip

    original = copy.deepcopy(db.agreement_data)
    changed = copy.deepcopy(db.agreement_data)
    see = changed["organisations"]["luton-council"]["see"]
    see[1] = {"partners": ["bedfordshire-police"], "categories": ["burglary"],
              "fields": ["description"], "precision": "exact"}  # fmt: skip
    see[2]["precision"] = "exact"  # fire: rows instead of counts only
    db.apply(changed)

    after = dict(c.execute("SELECT partner, count(*) FROM scribe_shared.incidents GROUP BY 1"))
    cats = {r[0] for r in c.execute(
        "SELECT DISTINCT category FROM scribe_shared.incidents WHERE partner = 'bedfordshire-police'"
    )}  # fmt: skip
    described = c.execute(
        "SELECT count(*) = count(description) FROM scribe_shared.incidents "
        "WHERE partner = 'bedfordshire-police'"
    ).fetchone()[0]
    c.close()
    assert after.keys() == {"luton-council", "bedfordshire-police", "bedfordshire-fire"}
    assert after["bedfordshire-police"] < before["bedfordshire-police"]
    assert cats == {"burglary"} and described

    # and back: re-applying the original agreement (twice: idempotent) restores the access
    db.apply(original)
    db.apply(original)
    with db.connect(f"u{luton}") as c2:
        again = dict(c2.execute("SELECT partner, count(*) FROM scribe_shared.incidents GROUP BY 1"))
    assert again == before


def test_removing_an_organisation_leaves_its_users_with_nothing(db):
    changed = copy.deepcopy(db.agreement_data)
    del changed["organisations"]["bedford-council"]
    with pytest.warns(UserWarning, match="bedford-council"):
        db.apply(changed)
    with db.connect(f"u{ORGS.index('bedford-council')}") as c:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="scribe_shared"):
            c.execute("SELECT count(*) FROM scribe_shared.read_incidents()")


def test_scribe_lib_reads_of_a_hub_user_go_through_the_agreement(db):
    import scribe_lib

    with psycopg.connect(db.url) as c:
        c.execute(
            "INSERT INTO scribe.localities (name, kind, label, geom) VALUES ('Box', 'ward', "
            "'Box', ST_Multi(ST_MakeEnvelope(505000, 220000, 515000, 230000, 27700)))"
        )
    luton = ORGS.index("luton-council")
    agreement = parse_agreement(db.agreement_data)
    expected = _allowed(_active(db.url), agreement, "luton-council")
    expected = expected[expected["precision"] != "aggregate"]
    url = db.users[f"u{luton}"]
    gdf = scribe_lib.load(url)
    assert sorted(gdf["incident_id"]) == sorted(expected["incident_id"])
    assert gdf.loc[gdf["partner"] == "bedfordshire-police", "description"].isna().all()
    box = scribe_lib.load(url, locality="Box", located_only=True)
    assert 0 < len(box) < len(gdf)
    assert box.geometry.x.between(505000, 515000).all()
    assert scribe_lib.localities(url)["name"].tolist() == ["Box"]
    cov = scribe_lib.coverage(url)
    assert set(cov["partner"]) == {"luton-council", "bedfordshire-police", "bedfordshire-fire"}
