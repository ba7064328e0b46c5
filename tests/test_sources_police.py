"""The police-uk adapter: data.police.uk street-level crime CSV exactly as downloaded."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from scribe_lib import geo
from scribe_lib.errors import NotFoundError, SourceError
from scribe_lib.schema import ADAPTER_COLUMNS, INCIDENT_COLUMNS, QUARANTINE_COLUMNS
from scribe_lib.sources import SOURCES

SAMPLE = Path(__file__).parent / "data" / "sources" / "police-uk-sample.csv"
HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,"
    "LSOA code,LSOA name,Crime type,Last outcome category,Context"
)
GOOD = "abc,2024-01,Bedfordshire Police,Bedfordshire Police,-0.469128,52.135918,On or near High Street,E01017540,Bedford 010A,Burglary,Under investigation,"
NOW = pd.Timestamp("2024-06-15 12:00")


def read_all(path, chunksize=100_000, **kw):
    reader = SOURCES.get("police-uk")(partner="bedfordshire-police", now=NOW, **kw)
    chunks = list(reader.read(path, chunksize=chunksize))
    for ch in chunks:
        assert ch.rows_read == len(ch.incidents) + len(ch.quarantine)
        assert list(ch.incidents.columns) == ADAPTER_COLUMNS
        assert list(ch.quarantine.columns) == list(QUARANTINE_COLUMNS)
    inc = pd.concat([c.incidents for c in chunks], ignore_index=True)
    q = pd.concat([c.quarantine for c in chunks], ignore_index=True)
    return inc, q, sum(c.rows_read for c in chunks)


def write(tmp_path, *rows, header=HEADER, encoding="utf-8", name="f.csv"):
    p = tmp_path / name
    p.write_bytes(("\n".join([header, *rows]) + "\n").encode(encoding))
    return p


def test_sample_every_row_accounted_and_counts_match_the_file():
    inc, q, n = read_all(SAMPLE)
    with open(SAMPLE, newline="", encoding="utf-8") as fh:
        ref = list(csv.DictReader(fh))
    assert n == len(ref) == 7 and len(inc) == 7 and q.empty
    assert Counter(inc["source_category"]) == Counter(r["Crime type"] for r in ref)
    assert Counter(inc["category"])["anti-social-behaviour"] == 3
    assert inc["source_line"].tolist() == list(range(2, 9))


def test_dtypes_follow_the_schema():
    inc, q, _ = read_all(SAMPLE)
    for c in ADAPTER_COLUMNS:
        assert str(inc[c].dtype) == INCIDENT_COLUMNS[c], c
    for c, t in QUARANTINE_COLUMNS.items():
        assert str(q[c].dtype) == t, c


def test_asb_rows_without_id_and_identical_rows_stay_distinct():
    inc, _, _ = read_all(SAMPLE)
    asb = inc[inc["source_category"] == "Anti-social behaviour"]
    assert asb["source_record_id"].isna().all()
    first_two = inc.iloc[:2].drop(columns="source_line")
    assert len(first_two.drop_duplicates()) == 1  # identical content, still two incidents
    assert inc.iloc[2]["source_record_id"].startswith("3f0c9bf1")


def test_month_is_the_period():
    inc, _, _ = read_all(SAMPLE)
    assert (inc["period_start"] == pd.Timestamp("2024-01-01")).all()
    assert (inc["period_end"] == pd.Timestamp("2024-02-01")).all()
    assert (inc["time_precision"] == "month").all() and inc["occurred_at"].isna().all()


def test_street_points_converted_with_ostn15_and_no_location_rows_kept():
    inc, _, _ = read_all(SAMPLE)
    located = inc[inc["location_precision"] == "street"]
    e, n = geo.to_bng(located["lon"].to_numpy(), located["lat"].to_numpy())
    np.testing.assert_allclose(located["easting"], e)
    np.testing.assert_allclose(located["northing"], n)
    # Bedford town centre, by the OS grid: TL 04x 49x
    assert (
        504_000 < located["easting"].iloc[0] < 505_500
        and 249_000 < located["northing"].iloc[0] < 250_500
    )
    nl = inc[inc["location_text"] == "No Location"]
    assert len(nl) == 1 and nl["location_precision"].iloc[0] == "none"
    assert np.isnan(nl["easting"].iloc[0]) and np.isnan(nl["lon"].iloc[0])


def test_other_fields_kept_as_json_attributes():
    inc, _, _ = read_all(SAMPLE)
    attrs = [json.loads(a) for a in inc["attributes"]]
    assert attrs[0] == {
        "Reported by": "Bedfordshire Police",
        "Falls within": "Bedfordshire Police",
        "Context": "",
    }
    assert attrs[5]["Context"] == "Recovered, see ref 12"
    assert inc["outcome"].iloc[2] == "Investigation complete; no suspect identified"
    assert inc["lsoa_code"].iloc[3] == "E01015776" and inc["lsoa_name"].iloc[3] == "Luton 019C"


def test_zero_zero_means_no_location(tmp_path):
    p = write(
        tmp_path,
        GOOD.replace("-0.469128,52.135918", "0,0"),
        GOOD.replace("-0.469128,52.135918", "0.0,0.000"),
    )
    inc, q, n = read_all(p)
    assert (
        q.empty
        and n == 2
        and (inc["location_precision"] == "none").all()
        and inc["easting"].isna().all()
    )


BAD_ROWS = [
    ("month", GOOD.replace("2024-01", "2024-13"), "Month", "2024-13", "unparseable month (expected YYYY-MM)"),
    ("month-text", GOOD.replace("2024-01", "Jan 2024"), "Month", "Jan 2024", "unparseable month (expected YYYY-MM)"),
    ("future", GOOD.replace("2024-01", "2024-07"), "Month", "2024-07", "date in the future"),
    ("non-numeric", GOOD.replace("-0.469128", "west"), "Longitude", "west", "non-numeric coordinate"),
    ("impossible", GOOD.replace("52.135918", "95.5"), "Longitude,Latitude", "-0.469128,95.5",
     "impossible coordinate (latitude must be within -90..90, longitude within -180..180)"),
    ("swapped", GOOD.replace("-0.469128,52.135918", "52.135918,-0.469128"), "Longitude,Latitude",
     "52.135918,-0.469128", "latitude and longitude swapped"),
    ("bng", GOOD.replace("-0.469128,52.135918", "504981,249711"), "Longitude,Latitude", "504981,249711",
     "BNG metres in latitude/longitude columns"),
    ("paris", GOOD.replace("-0.469128,52.135918", "2.3522,48.8566"), "Longitude,Latitude", "2.3522,48.8566",
     "coordinate outside Great Britain (no OSTN15 transformation)"),
    ("half", GOOD.replace("-0.469128,52.135918", "-0.469128,"), "Longitude,Latitude", "-0.469128,",
     "only one of the two coordinates given"),
    ("category", GOOD.replace("Burglary", "Jaywalking"), "Crime type", "Jaywalking", "category with no mapping"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "row", "field", "value", "reason"), BAD_ROWS, ids=[b[0] for b in BAD_ROWS]
)
def test_bad_row_quarantined_with_exact_reason(tmp_path, case, row, field, value, reason):
    p = write(tmp_path, GOOD, row, GOOD)
    inc, q, n = read_all(p)
    assert n == 3 and len(inc) == 2 and len(q) == 1
    assert q.iloc[0].to_dict() == {
        "file": "f.csv",
        "line": 3,
        "field": field,
        "value": value,
        "reason": reason,
        "raw": row,
    }
    assert inc["source_line"].tolist() == [2, 4]


def test_malformed_lines(tmp_path):
    short = "x,2024-01,Bedfordshire Police"
    broken = GOOD.replace("On or near High Street", '"On or near High Street')
    p = write(tmp_path, GOOD, short, broken, GOOD)
    inc, q, n = read_all(p)
    assert n == 4 and len(inc) == 2 and inc["source_line"].tolist() == [2, 5]
    assert q["line"].tolist() == [3, 4]
    assert q["reason"].tolist() == [
        "malformed CSV line: expected 12 fields, found 3",
        "malformed CSV line: unbalanced quote character",
    ]
    assert q["raw"].tolist() == [short, broken]


def test_line_numbers_count_physical_lines_of_quoted_multiline_fields(tmp_path):
    multi = GOOD[:-1] + ',"line one\nline two\nline three"'
    bad = GOOD.replace("2024-01", "2024-99")
    p = write(tmp_path, multi, bad, GOOD)
    inc, q, _ = read_all(p, chunksize=1)
    assert inc["source_line"].tolist() == [2, 6]
    assert q["line"].tolist() == [5]
    assert json.loads(inc["attributes"].iloc[0])["Context"] == "line one\nline two\nline three"


def test_outside_partnership_area(tmp_path):
    bedford = box(500_000, 245_000, 510_000, 255_000)  # EPSG:27700
    luton = GOOD.replace("-0.469128,52.135918", "-0.418470,51.879833")
    nowhere = GOOD.replace("-0.469128,52.135918", ",")
    p = write(tmp_path, GOOD, luton, nowhere)
    inc, q, n = read_all(p, area=bedford)
    assert n == 3 and inc["source_line"].tolist() == [2, 4]
    assert q[["line", "field", "value", "reason"]].values.tolist() == [
        [3, "Longitude,Latitude", "-0.418470,51.879833", "outside the partnership area"]
    ]


def test_cp1252_and_latin1_exports(tmp_path):
    row = GOOD.replace("On or near High Street", "On or near Caf\u00e9 \u2013 \u00a35 shop")
    p = write(tmp_path, row, encoding="cp1252")
    inc, q, _ = read_all(p)
    assert q.empty and inc["location_text"].iloc[0] == "On or near Caf\u00e9 \u2013 \u00a35 shop"
    p = write(
        tmp_path, GOOD.replace("High Street", "Stra\u00dfe"), encoding="latin-1", name="l.csv"
    )
    inc, q, _ = read_all(p)
    assert inc["location_text"].iloc[0] == "On or near Stra\u00dfe"


def test_utf8_bom(tmp_path):
    p = tmp_path / "bom.csv"
    p.write_bytes(b"\xef\xbb\xbf" + (HEADER + "\n" + GOOD + "\n").encode())
    inc, q, _ = read_all(p)
    assert q.empty and inc["source_record_id"].iloc[0] == "abc"


def test_empty_file_and_header_only(tmp_path):
    p = tmp_path / "empty.csv"
    p.write_bytes(b"")
    with pytest.raises(SourceError, match=r"empty.csv: file is empty"):
        read_all(p)
    p.write_bytes(b"\xef\xbb\xbf\r\n")
    with pytest.raises(SourceError, match="file is empty"):
        read_all(p)
    inc, q, n = read_all(write(tmp_path, name="h.csv"))
    assert n == 0 and inc.empty and q.empty and list(inc.columns) == ADAPTER_COLUMNS


def test_missing_columns_raise_before_any_chunk(tmp_path):
    p = write(tmp_path, "a,b", header="Crime ID,Month,Falls within")
    reader = SOURCES.get("police-uk")()
    with pytest.raises(
        SourceError,
        match=r"f.csv: required column\(s\) missing: Reported by, Longitude, Latitude, Location",
    ):
        reader.read(p)  # raises on the call, not on iteration
    with pytest.raises(SourceError, match="nope.csv: file not found"):
        reader.read(tmp_path / "nope.csv")


def test_extra_and_reordered_columns(tmp_path):
    cols = HEADER.split(",")
    header = ",".join(list(reversed(cols)) + ["Officer note"])
    row = ",".join(list(reversed(GOOD.split(","))) + ["see file"])
    inc, q, _ = read_all(write(tmp_path, row, header=header))
    assert (
        q.empty
        and inc["category"].iloc[0] == "burglary"
        and inc["lsoa_code"].iloc[0] == "E01017540"
    )
    assert json.loads(inc["attributes"].iloc[0])["Officer note"] == "see file"


def test_text_is_data(tmp_path):
    row = GOOD.replace("On or near High Street", "<script>alert('x')</script>").replace(
        "Under investigation", '"\'; DROP TABLE incidents; --"'
    )
    inc, q, _ = read_all(write(tmp_path, row))
    assert inc["location_text"].iloc[0] == "<script>alert('x')</script>"
    assert inc["outcome"].iloc[0] == "'; DROP TABLE incidents; --"


def test_chunked_reading_gives_identical_results(tmp_path):
    rng = np.random.default_rng(3)
    types = ["Burglary", "Anti-social behaviour", "Drugs", "Jaywalking"]
    rows = []
    for i in range(400):
        lon, lat = rng.uniform(-0.6, -0.3), rng.uniform(51.9, 52.2)
        row = GOOD.replace("abc", f"id{i}" if i % 3 else "").replace(
            "-0.469128,52.135918", f"{lon:.6f},{lat:.6f}"
        )
        row = row.replace("Burglary", types[rng.integers(4)])
        if i % 50 == 7:
            row = row.replace("2024-01", "2024-1x")
        if i % 60 == 11:
            row = row[:-1] + ',"two\nlines"'
        if i % 70 == 13:
            row = "short,row"
        rows.append(row)
    p = write(tmp_path, *rows)
    whole = read_all(p, chunksize=1_000_000)
    parts = read_all(p, chunksize=7)
    pd.testing.assert_frame_equal(whole[0], parts[0])
    pd.testing.assert_frame_equal(whole[1], parts[1])
    assert whole[2] == parts[2] == 400 == len(whole[0]) + len(whole[1])
    assert whole[0]["attributes"].notna().all() and whole[0]["category"].notna().all()
    assert set(whole[1]["reason"]) == {
        "unparseable month (expected YYYY-MM)",
        "category with no mapping",
        "malformed CSV line: expected 12 fields, found 2",
    }


def test_edited_mapping(tmp_path):
    m = tmp_path / "police.yml"
    m.write_text("categories:\n  Burglary: other-crime\n", encoding="utf-8")
    inc, q, _ = read_all(write(tmp_path, GOOD, GOOD.replace("Burglary", "Drugs")), mapping=m)
    assert inc["category"].tolist() == ["other-crime"] and q["reason"].tolist() == [
        "category with no mapping"
    ]


def test_unknown_source_lists_known_ones():
    with pytest.raises(
        NotFoundError,
        match="unknown source 'police'; known sources: council, fire, mapping, police-uk",
    ):
        SOURCES.get("police")


def test_bad_chunksize():
    with pytest.raises(ValueError, match="chunksize must be a positive number of rows, not 0"):
        SOURCES.get("police-uk")().read(SAMPLE, chunksize=0)


def test_area_as_geoseries_and_bad_area(tmp_path):
    import geopandas as gpd

    bedford = gpd.GeoSeries([box(500_000, 245_000, 510_000, 255_000)], crs="EPSG:27700")
    luton = GOOD.replace("-0.469128,52.135918", "-0.418470,51.879833")
    inc, q, _ = read_all(write(tmp_path, GOOD, luton), area=bedford)
    assert len(inc) == 1 and q["reason"].tolist() == ["outside the partnership area"]
    with pytest.raises(ValueError, match="area must be in EPSG:27700"):
        SOURCES.get("police-uk")(area=bedford.to_crs(4326))
    with pytest.raises(TypeError, match="area must be a shapely geometry in EPSG:27700, not str"):
        SOURCES.get("police-uk")(area="POLYGON ((0 0, 1 0, 1 1, 0 0))")


def test_nan_and_inf_text_are_not_numbers(tmp_path):
    rows = [GOOD.replace("-0.469128", "nan"), GOOD.replace("52.135918", "inf")]
    inc, q, _ = read_all(write(tmp_path, *rows))
    assert inc.empty and q["reason"].tolist() == ["non-numeric coordinate"] * 2
    assert q["field"].tolist() == ["Longitude", "Latitude"]


def test_huge_chunksize_and_december(tmp_path):
    inc, q, n = read_all(write(tmp_path, GOOD.replace("2024-01", "2023-12")), chunksize=10**12)
    assert n == 1 and inc["period_start"].iloc[0] == pd.Timestamp("2023-12-01")
    assert inc["period_end"].iloc[0] == pd.Timestamp("2024-01-01")
