"""The YAML-declared partner source: any new partner without code."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest
import yaml

from scribe_lib.errors import ConfigError, SourceError
from scribe_lib.schema import ADAPTER_COLUMNS, INCIDENT_COLUMNS
from scribe_lib.sources import SOURCES

EXAMPLE = Path(str(resources.files("scribe_lib") / "data" / "mappings" / "example-partner.yml"))
NOW = pd.Timestamp("2024-06-15 12:00")
HEADER = "Case Number,Date Reported,Time Reported,Case Type,Case Subtype,Summary,Block,Case Status,Easting,Northing,Estate"


def read_all(path, mapping=EXAMPLE, partner="luton-housing"):
    chunks = list(
        SOURCES.get("mapping")(partner=partner, mapping=mapping, now=NOW).read(path, chunksize=2)
    )
    for ch in chunks:
        assert ch.rows_read == len(ch.incidents) + len(ch.quarantine)
    inc = pd.concat([c.incidents for c in chunks], ignore_index=True)
    q = pd.concat([c.quarantine for c in chunks], ignore_index=True)
    return inc, q, sum(c.rows_read for c in chunks)


def write(tmp_path, text, name="partner.csv", encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def spec(tmp_path, **changes):
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    for k, v in changes.items():
        if v is None:
            data.pop(k, None)
        else:
            data[k] = v
    p = tmp_path / "partner.yml"
    p.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return p


def test_example_mapping_reads_a_partner_file(tmp_path):
    text = (
        HEADER + "\n"
        'H1,02/03/2024,21:15,Noise,Amplified music,"Loud party, 3rd floor",Tower A,Open,508900,221400,Marsh Farm\n'
        'H2,2024-03-04,,Drugs,,"Smell of ""cannabis""",Tower B,Closed,,,Lewsey\n'
        "H3,04/03/2024,,Pets,,Dog barking,,Closed,,,Lewsey\n"
    )
    inc, q, n = read_all(write(tmp_path, text))
    assert n == 3 and len(inc) == 2 and list(inc.columns) == ADAPTER_COLUMNS
    for c in ADAPTER_COLUMNS:
        assert str(inc[c].dtype) == INCIDENT_COLUMNS[c], c
    assert (
        inc["source"].tolist() == ["housing-asb"] * 2
        and inc["partner"].tolist() == ["luton-housing"] * 2
    )
    assert inc["category"].tolist() == ["noise", "drugs"]
    assert inc["source_category"].tolist() == ["Noise / Amplified music", "Drugs"]
    assert inc["occurred_at"].iloc[0] == pd.Timestamp("2024-03-02 21:15")
    assert inc["time_precision"].tolist() == ["exact", "day"]
    assert inc["location_precision"].tolist() == ["exact", "none"]
    assert inc["description"].tolist() == ["Loud party, 3rd floor", 'Smell of "cannabis"']
    assert (
        inc["location_text"].tolist() == ["Tower A", "Tower B"]
        and inc["outcome"].iloc[1] == "Closed"
    )
    assert json.loads(inc["attributes"].iloc[0])["Estate"] == "Marsh Farm"
    assert q[["line", "field", "value", "reason"]].values.tolist() == [
        [4, "Case Type", "Pets", "category with no mapping"]
    ]


def test_wgs84_month_precision_semicolon_partner(tmp_path):
    m = spec(
        tmp_path,
        name="college-security",
        delimiter=";",
        columns={"date": "Month", "category": "Type", "x": "Lon", "y": "Lat", "id": "Ref"},
        date_format="%Y-%m",
        crs="EPSG:4326",
        location_precision="street",
        categories={"Theft": "other-theft", "Damage": "criminal-damage-and-arson"},
    )
    text = "Ref;Month;Type;Lon;Lat\nA;2024-02;Theft;-0.4668;52.1359\nB;2024-02;Damage;52.1359;-0.4668\nC;2024-02;Theft;;\n"
    inc, q, n = read_all(write(tmp_path, text, encoding="cp1252"), mapping=m, partner=None)
    assert n == 3 and inc["partner"].tolist() == ["college-security"] * 2
    assert inc["period_start"].iloc[0] == pd.Timestamp("2024-02-01") and inc["period_end"].iloc[
        0
    ] == pd.Timestamp("2024-03-01")
    assert inc["time_precision"].tolist() == ["month", "month"]
    assert inc["location_precision"].tolist() == ["street", "none"]
    assert 505_000 < inc["easting"].iloc[0] < 505_100
    assert q[["line", "field", "reason"]].values.tolist() == [
        [3, "Lon,Lat", "latitude and longitude swapped"]
    ]


def test_mapping_columns_are_required_in_the_file(tmp_path):
    with pytest.raises(
        SourceError, match=r"partner.csv: required column\(s\) missing: Case Number, Time Reported"
    ):
        SOURCES.get("mapping")(mapping=EXAMPLE).read(
            write(
                tmp_path,
                "Date Reported,Case Type,Case Subtype,Summary,Block,Case Status,Easting,Northing\n",
            )
        )


BAD_SPECS = [
    ({"colour": "red"}, "colour", "unknown key"),
    ({"name": None}, "name", "give the source a name"),
    ({"columns": {"category": "Type"}}, "columns.date", "required: name the column"),
    ({"columns": {"date": "D", "category": "T", "when": "W"}}, "columns.when", "unknown field"),
    ({"columns": {"date": "D", "category": "T", "x": "E"}}, "columns.y", "give both x and y"),
    ({"columns": {"date": 3, "category": "T"}}, "columns.date", "must be a column name"),
    ({"crs": "EPSG:3857"}, "crs", "must be EPSG:27700"),
    ({"date_format": "%d/%m"}, "date_format", "has no year"),
    ({"date_format": ["%Y-%m", "%d/%m/%Y"]}, "date_format", "mix of month-only and day formats"),
    (
        {"location_precision": "none"},
        "location_precision",
        "must be one of exact, street, rounded, postcode",
    ),
    ({"delimiter": ";;"}, "delimiter", "single character"),
    ({"excel_repair": "yes"}, "excel_repair", "true or false"),
    (
        {"categories": {"Noise": "loudness"}},
        "categories.Noise",
        "unknown taxonomy category 'loudness'",
    ),
    ({"categories": None}, "categories", "must map source category text"),
]


@pytest.mark.parametrize(
    ("change", "key", "message"), BAD_SPECS, ids=[b[1] + "-" + b[2][:12] for b in BAD_SPECS]
)
def test_bad_mapping_names_file_and_key(tmp_path, change, key, message):
    p = spec(tmp_path, **change)
    with pytest.raises(ConfigError, match=message) as info:
        SOURCES.get("mapping")(mapping=p)
    assert info.value.file == str(p) and info.value.key == key
    assert f"partner.yml: key '{key}'" in str(info.value)


def test_mapping_source_needs_a_mapping():
    with pytest.raises(ConfigError, match="the 'mapping' source needs mapping="):
        SOURCES.get("mapping")(partner="x")


def test_excel_repair_can_be_turned_off(tmp_path):
    text = HEADER + "\n" + "H1,45296,0.5,Noise,,x,,Open,,,E\n"
    inc, q, _ = read_all(write(tmp_path, text))
    assert inc["occurred_at"].iloc[0] == pd.Timestamp("2024-01-05 12:00")
    inc, q, _ = read_all(write(tmp_path, text), mapping=spec(tmp_path, excel_repair=False))
    assert inc.empty and q["reason"].tolist() == [
        "unparseable date (expected DD/MM/YYYY or YYYY-MM-DD)"
    ]


def test_id_digits_pads_ids_that_lost_leading_zeros(tmp_path):
    text = (
        HEADER
        + "\n"
        + "\n".join(
            f"{ref},02/03/2024,,Noise,,x,,Open,,,E"
            for ref in ("00012345", "12345", "12345.0", "H-12", "123456789")
        )
        + "\n"
    )
    inc, q, _ = read_all(write(tmp_path, text), mapping=spec(tmp_path, id_digits=8))
    assert inc["source_record_id"].tolist() == ["00012345", "00012345", "00012345", "H-12"]
    assert q[["line", "reason"]].values.tolist() == [
        [6, "reference has more than the 8 digits the mapping declares"]
    ]
    with pytest.raises(ConfigError, match="key 'id_digits': must be the number of digits"):
        SOURCES.get("mapping")(mapping=spec(tmp_path, id_digits="eight"))
