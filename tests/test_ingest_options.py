"""Adapter options through ``ingest()`` and ``scribe ingest``; a mapped partner's source name;
``scribe status`` for a hub user who may not read the quarantine."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

import scribe_lib
from scribe_lib.cli import main
from scribe_lib.errors import ConfigError

COUNCIL = (
    "Case Ref,Date Received,Time Received,Category,Sub Category,Postcode,Easting,Northing,Ward,"
    "Description,Status\n"
    "C1,05/01/2024,10:00,Graffiti,Tag,MK40 1AB,,,E05008924,On the bus shelter,Open\n"
    "C2,06/01/2024,,Noise,,LU9 9ZZ,,,E05008924,Music,Open\n"
)
EXAMPLE = Path(str(resources.files("scribe_lib") / "data" / "mappings" / "example-partner.yml"))
HOUSING = (
    "Case Number,Date Reported,Time Reported,Case Type,Case Subtype,Summary,Block,Case Status,"
    "Easting,Northing,Estate\n"
    "H1,02/03/2024,21:15,Noise,Amplified music,Loud party,Tower A,Open,508900,221400,Marsh Farm\n"
)


@pytest.fixture
def council(tmp_path, monkeypatch):
    monkeypatch.delenv("SCRIBE_POSTCODES", raising=False)
    (tmp_path / "pc.csv").write_text("postcode,easting,northing\nMK40 1AB,505000,249700\n")
    (tmp_path / "cases.csv").write_text(COUNCIL)
    return tmp_path / "cases.csv", tmp_path / "pc.csv"


def _located(store):
    inc = scribe_lib.load(store).sort_values("source_record_id")
    return inc["location_precision"].tolist(), inc["northing"].tolist()


def test_ingest_forwards_the_postcode_lookup(store, council):
    cases, lookup = council
    r = scribe_lib.ingest(cases, "council", partner="luton-council", store=store, postcodes=lookup)
    assert r.accepted == 2
    precision, northing = _located(store)
    assert precision == ["postcode", "none"] and northing[0] == 249700


def test_ingest_options_are_checked_against_the_adapter(store, council):
    cases, lookup = council
    with pytest.raises(ConfigError, match=r"'police-uk' source has no option 'postcodes'"):
        scribe_lib.ingest(cases, "police-uk", store=store, options={"postcodes": lookup})
    with pytest.raises(
        ConfigError, match=r"'council' source has no option 'lookup' \(its options: postcodes"
    ):
        scribe_lib.ingest(cases, "council", store=store, options={"lookup": lookup})
    assert store.submissions().empty


def test_scribe_ingest_postcodes_option(capsys, store_url, council):
    cases, lookup = council
    code = main(["--store", store_url, "ingest", "-s", "council", "-p", "luton-council",
                 "--postcodes", str(lookup), "--no-progress", str(cases)])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    with scribe_lib.open_store(store_url) as st:
        assert _located(st)[0] == ["postcode", "none"]
    code = main(["--store", store_url, "ingest", "-s", "police-uk", "--postcodes", str(lookup),
                 str(cases)])  # fmt: skip
    assert code != 0
    assert "--postcodes applies to --source council, not police-uk" in capsys.readouterr().err


def test_a_mapped_partner_submission_has_the_mapping_name_as_source(capsys, store_url, tmp_path):
    path = tmp_path / "housing.csv"
    path.write_text(HOUSING)
    code = main(["--store", store_url, "ingest", "-s", "mapping", "--mapping", str(EXAMPLE),
                 "--no-progress", str(path)])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    with scribe_lib.open_store(store_url) as st:
        subs, inc = st.submissions(), scribe_lib.load(st)
    assert subs["source"].tolist() == inc["source"].unique().tolist() == ["housing-asb"]
    code = main(["--store", store_url, "ingest", "-s", "mapping", str(path)])
    assert code != 0 and "--source mapping needs --mapping FILE" in capsys.readouterr().err


@pytest.mark.postgres
@pytest.mark.filterwarnings("ignore:pg_hba.conf line:scribe_lib.access.AccessWarning")
def test_status_for_a_hub_user_hides_what_it_may_not_read(capsys):
    from scribe_lib.access.testing import secured_database

    with secured_database({"alice": ("luton-council", "analyst")}) as s:
        with scribe_lib.open_store(s.users["alice"]) as st:
            visible = st.count_incidents()
        code = main(["--store", s.users["alice"], "status"])
        out, err = capsys.readouterr()
        assert code == 0, err
        assert "Quarantined rows: hidden" in out
        assert "quarantined rows (partners' rejected raw lines) are not shared" in out
        assert "bedfordshire-fire's incidents are not shared with this login" in out
        assert f"Incidents: {visible} " in out
        code = main(["--store", s.users["alice"], "status", "--json"])
        import json

        data = json.loads(capsys.readouterr().out)
        assert data["quarantined"] is None and "quarantine" in data["hidden"]
        assert set(data["by_partner_month"]["bedfordshire-fire"].values()) == {"not shared"}
        code = main(["--store", s.url_as_store(), "status", "--json"])
        data = json.loads(capsys.readouterr().out)
        assert data["hidden"] == {} and isinstance(data["quarantined"], int)
        assert data["by_partner"]["bedfordshire-fire"] > 0 and data["incidents"] > visible
