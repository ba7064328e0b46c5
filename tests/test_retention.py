"""`scribe retention`: each partner's incidents past the agreement's retention are deleted
by the loader, with an audit entry; --dry-run only counts."""

from __future__ import annotations

import datetime as dt
import json

import psycopg
import pytest

from scribe_lib.access import apply_retention, audit_entries
from scribe_lib.access.retention import _cutoff
from scribe_lib.access.testing import secured_database
from scribe_lib.cli import main

# the test cluster trusts 127.0.0.1 (pg_hba.conf), which apply_agreement rightly warns about
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.filterwarnings("ignore:pg_hba.conf line:scribe_lib.access.AccessWarning"),
]


@pytest.fixture
def db():
    with secured_database({"alice": ("luton-council", "analyst")}) as s:
        yield s


def _counts(url, cutoffs):
    """Incidents per partner, and those whose period ended on or before the partner's cut-off."""
    with psycopg.connect(url) as c:
        rows = c.execute("SELECT partner, period_end FROM scribe.incidents").fetchall()
    total, old = {}, {}
    for partner, end in rows:
        total[partner] = total.get(partner, 0) + 1
        if end.date() <= cutoffs[partner]:
            old[partner] = old.get(partner, 0) + 1
    return total, old


@pytest.mark.parametrize(
    "today,months,expected",
    [(dt.date(2031, 6, 15), 84, dt.date(2024, 6, 15)), (dt.date(2030, 3, 31), 1, dt.date(2030, 2, 28)),
     (dt.date(2030, 1, 10), 13, dt.date(2028, 12, 10))],
)  # fmt: skip
def test_cutoff_counts_back_whole_months(today, months, expected):
    assert _cutoff(today, months) == expected


def test_retention_deletes_exactly_what_is_past_its_period(db):
    today = dt.date(2031, 6, 15)  # police/fire keep 84 months -> 2024-06-15; councils 72 -> 2025
    months = {p: b["retention_months"] for p, b in db.agreement_data["partners"].items()}
    cutoffs = {p: _cutoff(today, m) for p, m in months.items()}
    total, old = _counts(db.url, cutoffs)
    assert 0 < old["bedfordshire-police"] < total["bedfordshire-police"]
    assert old["luton-council"] == total["luton-council"]

    with psycopg.connect(db.url) as c:  # one quarantined raw line per partner's submissions
        c.execute(
            "INSERT INTO scribe.quarantine (submission_id, file, line, field, value, reason, raw) "
            "SELECT submission_id, filename, 3, 'Easting', 'x', 'not a number', 'raw line' "
            "FROM scribe.submissions"
        )
    dry = apply_retention(db.url, dry_run=True, today=today).set_index("partner")
    assert dry["incidents"].to_dict() == {p: old.get(p, 0) for p in months}
    assert _counts(db.url, cutoffs)[0] == total  # nothing deleted by a dry run

    done = apply_retention(db.url, today=today).set_index("partner")
    assert done["incidents"].to_dict() == dry["incidents"].to_dict()
    after, still_old = _counts(db.url, cutoffs)
    assert still_old == {}
    assert {p: after.get(p, 0) for p in months} == {p: total[p] - old.get(p, 0) for p in months}
    # council submissions ended (Dec 2024) before their cut-off: their quarantined raw lines go
    assert done.loc["luton-council", "cutoff"] == dt.date(2025, 6, 15)
    assert done["quarantined"].to_dict() == {p: 0 if months[p] == 84 else 2 for p in months}
    with psycopg.connect(db.url) as c:
        left = dict(c.execute(
            "SELECT s.partner, count(*) FROM scribe.quarantine q JOIN scribe.submissions s "
            "USING (submission_id) GROUP BY 1"
        ).fetchall())  # fmt: skip
    assert left == {"bedfordshire-police": 2, "bedfordshire-fire": 2}

    entries = audit_entries(db.url)
    ret = entries[entries["action"] == "retention"]
    assert sorted(json.loads(f)["partner"] for f in ret["filter"]) == sorted(months)
    assert dict(zip([json.loads(f)["partner"] for f in ret["filter"]], ret["rows"], strict=True)) \
        == {p: old.get(p, 0) for p in months}  # fmt: skip


def test_retention_runs_as_the_loader_under_row_level_security(db):
    """The deletion passes the loader's policy: with that policy gone it deletes nothing."""
    with psycopg.connect(db.url) as c:
        c.execute("DROP POLICY loader_all ON scribe.incidents")
    done = apply_retention(db.url, today=dt.date(2031, 6, 15)).set_index("partner")
    assert done["incidents"].sum() == 0


def test_retention_deleted_rows_are_gone_for_users_too(db):
    with db.connect("alice") as c:
        before = c.execute("SELECT count(*) FROM scribe_shared.incidents").fetchone()[0]
    apply_retention(db.url, today=dt.date(2031, 6, 15))
    with db.connect("alice") as c:
        after = c.execute("SELECT count(*) FROM scribe_shared.incidents").fetchone()[0]
    assert 0 < after < before


def test_scribe_retention_command(db, capsys):
    store = db.url_as_store()
    assert main(["--store", store, "retention", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "bedfordshire-police: kept 84 months" in out and "would delete 0 incidents" in out
    assert main(["--store", store, "retention"]) == 0
    assert "deleted 0 incidents" in capsys.readouterr().out


def test_retention_needs_postgres(capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("SCRIBE_ADMIN_URL", raising=False)
    assert main(["--store", str(tmp_path / "s.duckdb"), "retention"]) == 2
    assert "PostgreSQL store" in capsys.readouterr().err
