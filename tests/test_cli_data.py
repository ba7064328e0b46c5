"""The data commands of ``scribe``, run as a user would, on both backends, with police.uk files."""

from __future__ import annotations

import json
import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from scribe_lib.cli import main

HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
    "Crime type,Last outcome category,Context\n"
)
FORCE = "Bedfordshire Police,Bedfordshire Police"


def police_file(path, month, rows):
    """rows: (crime id, lon, lat, crime type, location) tuples."""
    lines = [f"{cid},{month},{FORCE},{lon},{lat},{loc},E01017540,Bedford 001A,{ctype},,\n"
             for cid, lon, lat, ctype, loc in rows]  # fmt: skip
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    return str(path)


JAN = [
    ("a1", "-0.4668", "52.1359", "Burglary", "On or near <b>High Street</b>"),
    ("", "-0.4168", "51.8787", "Anti-social behaviour", "On or near Park Road"),
    ("", "-0.4168", "51.8787", "Anti-social behaviour", "On or near Park Road"),
    ("d4", "", "", "Drugs", "No Location"),
    ("e5", "-0.41", "51.87", "Not a crime type", "On or near X"),
]


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def files(tmp_path):
    return {
        "jan": police_file(tmp_path / "2024-01-beds-street.csv", "2024-01", JAN),
        "mar": police_file(
            tmp_path / "2024-03-beds-street.csv",
            "2024-03",
            [("m1", "-0.4668", "52.1359", "Robbery", "On or near A")],
        ),  # fmt: skip
    }


def test_ingest_prints_the_three_numbers_and_refuses_a_duplicate(capsys, store_url, files):
    code, out, err = run(capsys, "--store", store_url, "ingest", "-s", "police-uk",
                         "-p", "bedfordshire-police", "--no-progress", files["jan"])  # fmt: skip
    assert code == 0, err
    assert "2024-01-beds-street.csv: 5 rows read, 4 accepted, 1 quarantined (submission 1, " in out
    code, out, _ = run(capsys, "--store", store_url, "ingest", "-s", "police-uk",
                       "-p", "bedfordshire-police", files["jan"])  # fmt: skip
    assert code == 0
    assert "identical to submission 1 already in the store; nothing added" in out


def test_status_json_counts_and_no_data_months(capsys, store_url, files):
    code, _, err = run(capsys, "--store", store_url, "ingest", "-s", "police-uk",
                       "-p", "bedfordshire-police", files["jan"], files["mar"])  # fmt: skip
    assert code == 0, err
    code, out, _ = run(capsys, "--store", store_url, "status", "--json")
    info = json.loads(out)
    assert (info["incidents"], info["quarantined"], info["submissions"]) == (5, 1, 2)
    assert all(isinstance(info[k], int) for k in ("incidents", "quarantined", "submissions"))
    assert info["located"] == 4
    assert info["by_partner"] == {"bedfordshire-police": 5}
    assert info["by_category"] == {"anti-social-behaviour": 2, "burglary": 1, "drugs": 1,
                                   "robbery": 1}  # fmt: skip
    assert info["by_month"] == {"2024-01": 4, "2024-03": 1}
    assert info["by_partner_month"] == {
        "bedfordshire-police": {"2024-01": 4, "2024-02": "no data", "2024-03": 1}
    }
    code, out, _ = run(capsys, "--store", store_url, "status")
    assert "Incidents: 5 (4 with a location)  Quarantined rows: 1  Submissions: 2" in out
    assert "2024-02" in out and "no data" in out
    code, out, _ = run(capsys, "--store", store_url, "coverage", "--json")
    assert [r["status"] for r in json.loads(out)] == ["data", "no data", "data"]


def test_quarantine_list_and_export(capsys, store_url, files, tmp_path):
    run(capsys, "--store", store_url, "ingest", "-s", "police-uk", files["jan"])
    code, out, _ = run(capsys, "--store", store_url, "quarantine", "list")
    assert code == 0 and "Not a crime type" in out and "Crime type" in out
    dest = tmp_path / "q.csv"
    code, out, _ = run(capsys, "--store", store_url, "quarantine", "export", "--out", str(dest))
    assert "1 quarantined rows written" in out
    q = pd.read_csv(dest, dtype=str)
    assert q.loc[0, "line"] == "6" and q.loc[0, "value"] == "Not a crime type"
    assert q.loc[0, "raw"].startswith("e5,2024-01,")


def test_export_formats_and_filters(capsys, store_url, files, tmp_path):
    run(capsys, "--store", store_url, "ingest", "-s", "police-uk", files["jan"], files["mar"])
    for fmt in ("csv", "geojson", "gpkg", "parquet"):
        dest = tmp_path / f"all.{fmt}"
        code, out, err = run(capsys, "--store", store_url, "export", "--out", str(dest))
        assert code == 0 and f"5 incidents written to {dest} ({fmt})" in out, err
    csv = pd.read_csv(tmp_path / "all.csv", dtype=str, keep_default_na=False)
    assert "On or near <b>High Street</b>" in csv["location_text"].tolist()
    gj = gpd.read_file(tmp_path / "all.geojson")
    located = gj[gj.geometry.notna()]
    assert gj.crs.to_epsg() == 4326 and len(located) == 4
    assert (abs(located.geometry.x - located["lon"]) < 1e-6).all()
    gp = gpd.read_file(tmp_path / "all.gpkg", layer="incidents")
    assert gp.crs.to_epsg() == 27700 and len(gp) == 5
    pq = gpd.read_parquet(tmp_path / "all.parquet")
    assert pq.crs.to_epsg() == 27700 and len(pq) == 5
    dest = tmp_path / "f.csv"
    run(capsys, "--store", store_url, "export", "--format", "csv", "--out", str(dest),
        "-c", "burglary", "-c", "robbery", "--from", "2024-01", "--to", "2024-01")  # fmt: skip
    assert pd.read_csv(dest)["source_record_id"].tolist() == ["a1"]
    run(
        capsys, "--store", store_url, "export", "--out", str(dest), "--located-only", "-p", "nobody"
    )
    assert len(pd.read_csv(dest)) == 0
    code, _, err = run(capsys, "--store", store_url, "export", "--out", str(tmp_path / "x.txt"))
    assert code == 2 and "give --format csv|geojson|gpkg|parquet" in err


def test_localities_load_list_and_export_by_locality(capsys, store_url, files, tmp_path):
    run(capsys, "--store", store_url, "ingest", "-s", "police-uk", files["jan"])
    wards = gpd.GeoDataFrame(
        {"WD24NM": ["Bedford Castle", "Luton South"]},
        geometry=[
            shapely.box(504000, 249000, 506000, 251000),
            shapely.box(508000, 220000, 510000, 222000),
        ],  # fmt: skip
        crs=27700,
    )
    wards.to_file(tmp_path / "wards.gpkg")
    code, out, err = run(capsys, "--store", store_url, "localities", "load",
                         str(tmp_path / "wards.gpkg"), "--kind", "ward", "--name-field", "WD24NM")  # fmt: skip
    assert code == 0 and "2 ward localities loaded from wards.gpkg" in out, err
    code, out, _ = run(capsys, "--store", store_url, "localities", "list")
    assert "Bedford Castle" in out and "4.0" in out  # km²
    dest = tmp_path / "bedford.csv"
    run(capsys, "--store", store_url, "export", "--out", str(dest), "--locality", "Bedford Castle")
    assert pd.read_csv(dest)["source_record_id"].tolist() == ["a1"]
    code, _, err = run(capsys, "--store", store_url, "localities", "load",
                       str(tmp_path / "wards.gpkg"), "--kind", "ward", "--name-field", "NAME")  # fmt: skip
    assert code == 2 and "no field 'NAME'; the fields are: WD24NM" in err


def test_supersede_and_submissions(capsys, store_url, files, tmp_path):
    run(capsys, "--store", store_url, "ingest", "-s", "police-uk", files["jan"])
    fixed = police_file(
        tmp_path / "fixed.csv", "2024-02", [("z", "-0.4668", "52.1359", "Drugs", "A")]
    )
    code, out, _ = run(capsys, "--store", store_url, "ingest", "-s", "police-uk",
                       "--supersede", "1", fixed)  # fmt: skip
    assert code == 0 and "supersedes submission 1" in out
    code, _, err = run(capsys, "--store", store_url, "ingest", "-s", "police-uk",
                       "--supersede", "2", fixed, files["mar"])  # fmt: skip
    assert code == 2 and "--supersede applies to one corrected file" in err
    code, out, _ = run(capsys, "--store", store_url, "submissions", "--json")
    subs = json.loads(out)
    assert [s["superseded_by"] for s in subs] == [2, None]
    code, out, _ = run(capsys, "--store", store_url, "submissions", "--active")
    assert "fixed.csv" in out and "2024-01-beds-street.csv" not in out


def test_bad_input_is_named_and_fails(capsys, store_url, files, tmp_path):
    code, out, err = run(capsys, "--store", store_url, "ingest", "-s", "polce-uk", files["jan"])
    assert code == 2 and "unknown source 'polce-uk'; known sources: " in err
    assert "1 of 1 files not ingested" in err
    bad = tmp_path / "bad.csv"
    bad.write_text("Month,Crime type\n2024-01,Drugs\n")
    code, out, err = run(
        capsys, "--store", store_url, "ingest", "-s", "police-uk", files["jan"], str(bad)
    )
    assert code == 2 and "bad.csv: not ingested:" in err and "Longitude" in err
    assert "Total: 5 rows read, 4 accepted, 1 quarantined from 1 of 2 files" in out


def test_help_teaches_with_examples():
    for args in (
        ["ingest"],
        ["status"],
        ["export"],
        ["localities", "load"],
        ["quarantine", "list"],
    ):
        out = subprocess.run([sys.executable, "-m", "scribe_lib.cli", *args, "--help"],
                             capture_output=True, text=True, check=True).stdout  # fmt: skip
        assert "Example" in out and "scribe " in out, args


def test_init_creates_the_postgis_schema(capsys, pg_url):
    code, out, _ = run(capsys, "--store", pg_url, "init")
    assert code == 0 and "Store ready" in out and "(postgres)" in out
    import psycopg

    with psycopg.connect(pg_url) as con:
        tables = con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'scribe' ORDER BY 1"
        ).fetchall()
    assert [t[0] for t in tables] == [
        "incidents",
        "localities",
        "quarantine",
        "settings",
        "submissions",
    ]
