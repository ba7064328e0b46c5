"""The council adapter: ASB / environmental case logs, cp1252 and Excel-damaged exports."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from scribe_lib import geo
from scribe_lib.errors import SourceError
from scribe_lib.schema import ADAPTER_COLUMNS, INCIDENT_COLUMNS
from scribe_lib.sources import SOURCES

SAMPLE = Path(__file__).parent / "data" / "sources" / "council-cp1252.csv"
HEADER = "Case Ref,Date Received,Time Received,Category,Sub Category,Postcode,Easting,Northing,Ward,Description,Status"
GOOD = "C1,05/01/2024,10:00,Graffiti,Tag,LU1 1AA,508950,221450,E05008924,On the bus shelter,Open"
NOW = pd.Timestamp("2024-06-15 12:00")


def read_all(path, **kw):
    chunks = list(
        SOURCES.get("council")(partner="luton-council", now=NOW, **kw).read(path, chunksize=3)
    )
    for ch in chunks:
        assert ch.rows_read == len(ch.incidents) + len(ch.quarantine)
    inc = pd.concat([c.incidents for c in chunks], ignore_index=True)
    q = pd.concat([c.quarantine for c in chunks], ignore_index=True)
    return inc, q, sum(c.rows_read for c in chunks)


def write(tmp_path, *rows, header=HEADER, name="council.csv"):
    p = tmp_path / name
    p.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return p


@pytest.fixture
def postcodes(tmp_path):
    p = tmp_path / "postcodes.csv"
    p.write_text(
        "postcode,easting,northing\nMK40 1AB,505000,249700\nLU2 7XY,510500,222600\n",
        encoding="utf-8",
    )
    return p


def test_cp1252_excel_damaged_export(postcodes):
    inc, q, n = read_all(SAMPLE, postcodes=postcodes)
    assert n == 7 and len(inc) == 4 and len(q) == 3
    assert list(inc.columns) == ADAPTER_COLUMNS
    for c in ADAPTER_COLUMNS:
        assert str(inc[c].dtype) == INCIDENT_COLUMNS[c], c
    # text decoded from cp1252, kept verbatim
    assert inc["description"].iloc[0] == "Music from flat 3, every night \u2013 caf\u00e9 below"
    assert inc["description"].iloc[1] == "Sofa and bags (\u00a3200 to clear)"
    assert inc["description"].iloc[2] == "<script>alert(1)</script>"
    assert inc["description"].iloc[3] == "'; DROP TABLE incidents; --"
    # leading zero kept (read as text); "124.0" repaired; lost-zero date and hour repaired
    assert inc["source_record_id"].tolist() == ["00123", "124", "125", "126"]
    assert inc["occurred_at"].iloc[1] == pd.Timestamp("2024-01-05 09:05")
    # Excel serial date 45296 = 2024-01-05, day fraction 0.375 = 09:00
    assert inc["occurred_at"].iloc[2] == pd.Timestamp("2024-01-05 09:00")
    assert inc["time_precision"].tolist() == ["exact", "exact", "exact", "day"]
    assert q[["line", "field", "value", "reason"]].values.tolist() == [
        [
            6,
            "Case Ref",
            "1.27E+05",
            "value mangled by Excel into scientific notation (cannot be repaired)",
        ],
        [7, "Date Received", "12345", "Excel serial date out of range (cannot be repaired)"],
        [
            8,
            "Easting",
            "5.09E+05",
            "value mangled by Excel into scientific notation (cannot be repaired)",
        ],
    ]


def test_locations_exact_postcode_centroid_or_none(postcodes):
    inc, _, _ = read_all(SAMPLE, postcodes=postcodes)
    assert inc["location_precision"].tolist() == ["exact", "postcode", "postcode", "none"]
    assert inc["easting"].iloc[1] == 505000 and inc["northing"].iloc[1] == 249700
    lon, lat = geo.to_wgs84([505000.0], [249700.0])
    assert inc["lon"].iloc[1] == pytest.approx(lon[0]) and inc["lat"].iloc[1] == pytest.approx(
        lat[0]
    )
    assert inc["location_text"].tolist()[:3] == ["LU1 1AA", "MK40 1AB", "LU2 7XY"]
    assert pd.isna(inc["location_text"].iloc[3])


def test_postcode_without_lookup_is_kept_as_text(tmp_path):
    inc, q, _ = read_all(write(tmp_path, GOOD.replace("508950,221450", ",")))
    assert (
        q.empty
        and inc["location_precision"].iloc[0] == "none"
        and inc["location_text"].iloc[0] == "LU1 1AA"
    )


def test_postcode_lookup_as_dict_ignores_case_and_spaces(tmp_path):
    inc, _, _ = read_all(write(tmp_path, GOOD.replace("508950,221450", ",").replace("LU1 1AA", "lu11aa")),
                         postcodes={"LU1 1AA": (508900.0, 221400.0)})  # fmt: skip
    assert inc["location_precision"].iloc[0] == "postcode" and inc["easting"].iloc[0] == 508900


def test_categories_ward_outcome_and_attributes(tmp_path):
    row2 = GOOD.replace("E05008924", "High Town").replace("Graffiti,Tag", "Nuisance Behaviour,")
    inc, _, _ = read_all(write(tmp_path, GOOD, row2))
    assert inc["category"].tolist() == ["graffiti", "nuisance-behaviour"]
    assert inc["source_category"].tolist() == ["Graffiti / Tag", "Nuisance Behaviour"]
    assert inc["ward_code"].iloc[0] == "E05008924" and pd.isna(inc["ward_code"].iloc[1])
    assert json.loads(inc["attributes"].iloc[1])["Ward"] == "High Town"
    assert inc["outcome"].tolist() == ["Open", "Open"]


BAD = [
    ("us-date", GOOD.replace("05/01/2024", "01/25/2024"), "Date Received", "01/25/2024"),
    ("future", GOOD.replace("05/01/2024", "01/07/2024"), "Date Received", "01/07/2024"),
    ("time", GOOD.replace("10:00", "10.00am"), "Time Received", "10.00am"),
    ("category", GOOD.replace("Graffiti", "Parking"), "Category", "Parking"),
]
REASONS = {
    "us-date": "unparseable date (expected DD/MM/YYYY or DD/MM/YYYY HH:MM or DD/MM/YYYY HH:MM:SS or YYYY-MM-DD or YYYY-MM-DD HH:MM:SS)",
    "future": "date in the future",
    "time": "unparseable time (expected HH:MM or HH:MM:SS)",
    "category": "category with no mapping",
}


@pytest.mark.parametrize(("case", "row", "field", "value"), BAD, ids=[b[0] for b in BAD])
def test_bad_rows(tmp_path, case, row, field, value):
    inc, q, n = read_all(write(tmp_path, GOOD, row))
    assert n == 2 and len(inc) == 1
    assert q.iloc[0][["line", "field", "value", "reason"]].tolist() == [
        3,
        field,
        value,
        REASONS[case],
    ]


def test_outside_area_uses_postcode_centroid_too(tmp_path, postcodes):
    from shapely.geometry import box

    bedford = box(500_000, 245_000, 510_000, 255_000)
    rows = [
        GOOD.replace("508950,221450", ",").replace("LU1 1AA", "MK40 1AB"),
        GOOD.replace("508950,221450", ",").replace("LU1 1AA", "LU2 7XY"),
    ]
    inc, q, _ = read_all(write(tmp_path, *rows), postcodes=postcodes, area=bedford)
    assert inc["location_text"].tolist() == ["MK40 1AB"]
    assert q["reason"].tolist() == ["outside the partnership area"] and q["line"].tolist() == [3]


def test_missing_columns_and_bad_lookup(tmp_path):
    with pytest.raises(
        SourceError, match=r"council.csv: required column\(s\) missing: Postcode, Easting, Northing"
    ):
        SOURCES.get("council")().read(
            write(tmp_path, "1,2,3", header="Case Ref,Date Received,Category")
        )
    bad = tmp_path / "pc.csv"
    bad.write_text("pcd,x,y\n", encoding="utf-8")
    with pytest.raises(
        SourceError, match=r"pc.csv: required column\(s\) missing: postcode, easting, northing"
    ):
        SOURCES.get("council")(postcodes=bad)


def test_postcode_lookup_from_environment(tmp_path, postcodes, monkeypatch):
    monkeypatch.setenv("SCRIBE_POSTCODES", str(postcodes))
    row = GOOD.replace("508950,221450", ",").replace("LU1 1AA", "MK40 1AB")
    inc, _, _ = read_all(write(tmp_path, row))
    assert inc["location_precision"].iloc[0] == "postcode" and inc["northing"].iloc[0] == 249700


def test_header_in_other_letter_case(tmp_path):
    header = "CASE REF,date received,Time Received,category,Sub Category,POSTCODE,Easting,Northing,Ward,Description,Status"
    inc, q, _ = read_all(write(tmp_path, GOOD, header=header))
    assert (
        q.empty
        and inc["source_record_id"].tolist() == ["C1"]
        and inc["category"].tolist() == ["graffiti"]
    )


def test_excel_times_that_lost_leading_zeros(tmp_path):
    rows = [GOOD.replace("10:00", t) for t in ("930", "0930", "2145", "5", "12", "2475")]
    inc, q, _ = read_all(write(tmp_path, *rows))
    assert [t.strftime("%H:%M") for t in inc["occurred_at"]] == ["09:30", "09:30", "21:45"]
    assert q[["line", "value", "reason"]].values.tolist() == [
        [5, "5", "time lost its leading zeros in Excel and is ambiguous (5 = 00:05 or 05:00?)"],
        [6, "12", "time lost its leading zeros in Excel and is ambiguous (5 = 00:05 or 05:00?)"],
        [7, "2475", "unparseable time (expected HH:MM or HH:MM:SS)"],
    ]
