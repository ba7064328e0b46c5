"""The fire adapter: incident-level fire and rescue records (LFB-style open data)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scribe_lib import geo
from scribe_lib.errors import SourceError
from scribe_lib.schema import ADAPTER_COLUMNS, INCIDENT_COLUMNS
from scribe_lib.sources import SOURCES

SAMPLE = Path(__file__).parent / "data" / "sources" / "fire-sample.csv"
HEADER = SAMPLE.read_text(encoding="utf-8").splitlines()[0]
GOOD = "1,03/01/2024,21:47,Fire,Primary Fire,Accidental,Dwelling,House,Correct incident location,LU4,505950,223150,E05008919,Dallow"
NOW = pd.Timestamp("2024-06-15 12:00")


def read_all(path, chunksize=100_000, **kw):
    chunks = list(
        SOURCES.get("fire")(partner="bedfordshire-fire", now=NOW, **kw).read(
            path, chunksize=chunksize
        )
    )
    for ch in chunks:
        assert ch.rows_read == len(ch.incidents) + len(ch.quarantine)
    inc = pd.concat([c.incidents for c in chunks], ignore_index=True)
    q = pd.concat([c.quarantine for c in chunks], ignore_index=True)
    return inc, q, sum(c.rows_read for c in chunks)


def write(tmp_path, *rows, header=HEADER):
    p = tmp_path / "fire.csv"
    p.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return p


def test_sample_categories_follow_the_mapping():
    inc, q, n = read_all(SAMPLE)
    assert n == 6 and q.empty and list(inc.columns) == ADAPTER_COLUMNS
    assert inc["category"].tolist() == [
        "deliberate-secondary-fire",
        "deliberate-primary-fire",
        "fire-false-alarm",
        "fire-special-service",
        "accidental-fire",  # Chimney Fire / Not known: not deliberate
        "fire-false-alarm",
    ]
    assert inc["source_category"].tolist()[:3] == [
        "Secondary Fire / Deliberate",
        "Primary Fire / Deliberate",
        "AFA",
    ]
    for c in ADAPTER_COLUMNS:
        assert str(inc[c].dtype) == INCIDENT_COLUMNS[c], c


def test_time_model_exact_call_time_within_the_day():
    inc, _, _ = read_all(SAMPLE)
    assert inc["occurred_at"].iloc[0] == pd.Timestamp("2024-01-03 21:47:10")
    assert inc["occurred_at"].iloc[2] == pd.Timestamp("2024-01-04 07:12")  # ISO date, HH:MM
    assert inc["period_start"].iloc[0] == pd.Timestamp("2024-01-03")
    assert inc["period_end"].iloc[0] == pd.Timestamp("2024-01-04")
    assert (inc["time_precision"] == "exact").all()


def test_missing_time_gives_day_precision(tmp_path):
    inc, q, _ = read_all(write(tmp_path, GOOD.replace("21:47", "")))
    assert (
        q.empty and inc["time_precision"].iloc[0] == "day" and pd.isna(inc["occurred_at"].iloc[0])
    )


def test_rounded_bng_location_and_fields():
    inc, _, _ = read_all(SAMPLE)
    assert inc["location_precision"].tolist() == ["rounded"] * 3 + ["none"] + ["rounded"] * 2
    lon, lat = geo.to_wgs84([505950.0], [223150.0])
    assert inc["easting"].iloc[0] == 505950 and inc["northing"].iloc[0] == 223150
    np.testing.assert_allclose([inc["lon"].iloc[0], inc["lat"].iloc[0]], [lon[0], lat[0]])
    assert inc["ward_code"].iloc[0] == "E05008919" and inc["location_text"].iloc[0] == "LU4"
    assert inc["source_record_id"].iloc[0] == "000012-03012024"
    a = json.loads(inc["attributes"].iloc[0])
    assert a["PropertyType"] == "Refuse/rubbish container" and a["WardName"] == "Dallow"


BAD = [
    ("date", GOOD.replace("03/01/2024", "31/02/2024"), "DateOfCall", "31/02/2024",
     "unparseable date (expected DD/MM/YYYY or YYYY-MM-DD or DD/MM/YYYY HH:MM:SS or YYYY-MM-DD HH:MM:SS)"),
    ("no-date", GOOD.replace("03/01/2024", ""), "DateOfCall", "", "date is empty"),
    ("future", GOOD.replace("03/01/2024", "16/06/2024"), "DateOfCall", "16/06/2024", "date in the future"),
    ("time", GOOD.replace("21:47", "24:10"), "TimeOfCall", "24:10", "unparseable time (expected HH:MM or HH:MM:SS)"),
    ("non-numeric", GOOD.replace("505950", "5O5950"), "Easting_rounded", "5O5950", "non-numeric coordinate"),
    ("degrees", GOOD.replace("505950,223150", "-0.43,51.9"), "Easting_rounded,Northing_rounded", "-0.43,51.9",
     "latitude/longitude degrees in easting/northing columns"),
    ("off-grid", GOOD.replace("505950,223150", "805950,223150"), "Easting_rounded,Northing_rounded",
     "805950,223150", "easting/northing outside the British National Grid"),
    ("half", GOOD.replace("505950,223150", ",223150"), "Easting_rounded,Northing_rounded", ",223150",
     "only one of the two coordinates given"),
    ("excel-sci", GOOD.replace("505950", "5.06E+05"), "Easting_rounded", "5.06E+05",
     "value mangled by Excel into scientific notation (cannot be repaired)"),
    ("category", GOOD.replace("Primary Fire", "Grass Fire"), "StopCodeDescription", "Grass Fire / Accidental",
     "category with no mapping"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "row", "field", "value", "reason"), BAD, ids=[b[0] for b in BAD])
def test_bad_row_quarantined_with_exact_reason(tmp_path, case, row, field, value, reason):
    inc, q, n = read_all(write(tmp_path, GOOD, row))
    assert n == 2 and len(inc) == 1 and len(q) == 1
    assert q.iloc[0][["line", "field", "value", "reason", "raw"]].tolist() == [
        3,
        field,
        value,
        reason,
        row,
    ]


def test_excel_repairs_that_are_unambiguous(tmp_path):
    rows = [
        GOOD.replace("03/01/2024", "45294").replace(
            ",21:47,", ",0.75,"
        ),  # serial date, fraction time
        GOOD.replace("505950,223150", "5.05950E+05,2.23150E+05"),  # every digit kept
        GOOD.replace("1,03/01/2024", "123.0,3/1/2024"),
    ]
    inc, q, _ = read_all(write(tmp_path, *rows))
    assert q.empty
    assert inc["occurred_at"].iloc[0] == pd.Timestamp("2024-01-03 18:00")
    assert inc["easting"].iloc[1] == 505950 and inc["northing"].iloc[1] == 223150
    assert inc["source_record_id"].iloc[2] == "123" and inc["period_start"].iloc[2] == pd.Timestamp(
        "2024-01-03"
    )


def test_motive_column_optional_and_required_columns(tmp_path):
    cols = HEADER.split(",")
    i = cols.index("Motive")
    header = ",".join(cols[:i] + cols[i + 1 :])
    row = ",".join(GOOD.split(",")[:i] + GOOD.split(",")[i + 1 :])
    inc, q, _ = read_all(write(tmp_path, row, header=header))
    assert inc["category"].tolist() == ["accidental-fire"] and inc["source_category"].tolist() == [
        "Primary Fire"
    ]
    with pytest.raises(
        SourceError, match=r"required column\(s\) missing: Easting_rounded, Northing_rounded"
    ):
        SOURCES.get("fire")().read(
            write(
                tmp_path,
                "1,2",
                header="IncidentNumber,DateOfCall,IncidentGroup,StopCodeDescription",
            )
        )
