"""The Bedfordshire demo: reproducible files in each partner's format, real ingest, planted patterns."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from scribe_lib.demo import (
    DEMO_LABEL,
    MANIFEST,
    TOWNS,
    build_demo,
    read_responses,
    responses_path,
    write_demo_files,
)
from scribe_lib.demo.council import BAD_ROWS
from scribe_lib.demo.geography import build_geography_files, data_dir, partnership_polygon
from scribe_lib.errors import ConfigError, NotFoundError, StoreError

TINY = 0.05  # about 4,000 incidents


@pytest.fixture(scope="module")
def tiny_files(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo-tiny")
    return out, write_demo_files(out, seed=7, months=24, scale=TINY)


@pytest.fixture(scope="module")
def full_files(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo-full")
    return out, write_demo_files(out, seed=2024)


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory, tiny_files):
    from scribe_lib.store import open_store

    url = str(tmp_path_factory.mktemp("demo-store") / "demo.duckdb")
    summary = build_demo(url, seed=7, scale=TINY)
    st = open_store(url)
    yield st, summary
    st.close()


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _police(files) -> pd.DataFrame:
    paths = [p for s, _, p in files if s == "police-uk"]
    return pd.concat(
        [pd.read_csv(p, dtype=str, keep_default_na=False) for p in paths], ignore_index=True
    )


# -- reproducibility and volumes --------------------------------------------------------------


def test_same_seed_gives_byte_identical_files(tmp_path, tiny_files):
    out, _ = tiny_files
    write_demo_files(tmp_path / "again", seed=7, months=24, scale=TINY)
    assert _tree(tmp_path / "again") == _tree(out)
    write_demo_files(tmp_path / "other", seed=8, months=24, scale=TINY)
    other = _tree(tmp_path / "other")
    assert other.keys() == _tree(out).keys()
    assert (
        other["fire/bedfordshire-fire-incidents.csv"]
        != _tree(out)["fire/bedfordshire-fire-incidents.csv"]
    )


def test_default_scale_is_about_70000_incidents_over_24_months(full_files):
    out, files = full_files
    man = json.loads((out / MANIFEST).read_text())
    assert (man["first_month"], man["last_month"]) == ("2024-01", "2025-12")
    rows = sum(f["rows"] for f in man["files"])
    assert 60_000 <= rows <= 80_000
    assert [s for s, _, _ in files].count("police-uk") == 24
    assert {p for _, p, _ in files} == {
        "bedfordshire-police", "bedfordshire-fire", "luton-council", "bedford-council",
        "central-bedfordshire-council",
    }  # fmt: skip


def test_tiny_scale_is_a_few_thousand_rows(tiny_files):
    out, _ = tiny_files
    rows = sum(f["rows"] for f in json.loads((out / MANIFEST).read_text())["files"])
    assert 2_000 <= rows <= 5_000


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"seed": -1}, "seed must be"),
        ({"months": 0}, "months must be"),
        ({"scale": 0}, "scale must be"),
        ({"end": "Dec 2025"}, "end must be a month as YYYY-MM"),
    ],
)
def test_bad_arguments_say_what_to_do(tmp_path, kw, match):
    with pytest.raises(ValueError, match=match):
        write_demo_files(tmp_path, **{"seed": 1, "months": 3, "scale": TINY, **kw})


# -- each partner's own format ----------------------------------------------------------------


def test_police_files_look_like_data_police_uk(tiny_files):
    _, files = tiny_files
    first = next(p for s, _, p in files if s == "police-uk")
    assert re.fullmatch(
        r"\d{4}-\d{2}/\d{4}-\d{2}-bedfordshire-street\.csv", "/".join(first.parts[-2:])
    )
    header = first.read_text().splitlines()[0]
    assert header == (
        "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,"
        "LSOA name,Crime type,Last outcome category,Context"
    )
    df = _police(files)
    asb = df["Crime type"] == "Anti-social behaviour"
    assert (
        df.loc[asb, "Crime ID"].eq("").all() and df.loc[asb, "Last outcome category"].eq("").all()
    )
    assert df.loc[~asb, "Crime ID"].str.fullmatch(r"[0-9a-f]{64}").all()
    assert df.loc[~asb, "Crime ID"].is_unique
    nolo = df["Location"] == "No Location"
    assert 0 < nolo.sum() < 0.05 * len(df)
    assert df.loc[nolo, ["Longitude", "Latitude", "LSOA code"]].eq("").all().all()
    located = df[~nolo]
    assert located["Location"].str.startswith("On or near ").all()
    assert (
        located["LSOA name"].str.fullmatch(r"(Luton|Bedford|Central Bedfordshire) \d{3}[A-D]").all()
    )
    assert located["Longitude"].str.fullmatch(r"-?0\.\d{6}").all()
    # snapped to a limited set of street points, many incidents per point
    assert located.groupby(["Longitude", "Latitude"]).ngroups < 0.6 * len(located)


def test_fire_file_rounded_to_50_m_with_real_stop_codes(full_files):
    _, files = full_files
    path = next(p for s, _, p in files if s == "fire")
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert (df["Easting_rounded"].astype(int) % 50 == 0).all()
    assert (df["Northing_rounded"].astype(int) % 50 == 0).all()
    assert set(df["IncidentGroup"]) == {"Fire", "False Alarm", "Special Service"}
    fires = df["IncidentGroup"] == "Fire"
    assert set(df.loc[fires, "Motive"]) <= {"Deliberate", "Accidental", "Not known"}
    sec = df[df["StopCodeDescription"] == "Secondary Fire"]
    assert (sec["Motive"] == "Deliberate").mean() > 0.5


def test_council_exports_differ_as_real_ones_do(tiny_files):
    _, files = tiny_files
    by = {p: path for s, p, path in files if s == "council"}
    luton = by["luton-council"].read_bytes()
    with pytest.raises(UnicodeDecodeError):
        luton.decode("utf-8")
    text = luton.decode("cp1252")
    assert "£" in text and "é" in text and "\r\n" in text
    assert by["bedford-council"].read_bytes().startswith(b"\xef\xbb\xbf")
    cbc = pd.read_csv(
        by["central-bedfordshire-council"], dtype=str, keep_default_na=False, on_bad_lines="skip"
    )
    pc_only = cbc["Easting"].eq("") & cbc["Postcode"].ne("")
    assert pc_only.mean() > 0.5
    lookup = set(pd.read_csv(data_dir() / "postcodes.csv")["postcode"])
    assert cbc.loc[pc_only, "Postcode"].isin(lookup).mean() > 0.9
    assert not cbc.loc[pc_only, "Postcode"].isin(lookup).all()  # a few unknown postcodes


@pytest.mark.parametrize("source", ["police-uk", "fire", "council"])
def test_every_file_parses_with_its_adapter_quarantining_only_the_planted_rows(tiny_files, source):
    from scribe_lib.sources import SOURCES

    out, files = tiny_files
    man = {f["path"]: f for f in json.loads((out / MANIFEST).read_text())["files"]}
    for src, partner, path in files:
        if src != source:
            continue
        reader = SOURCES.get(src)(partner=partner, area=partnership_polygon())
        inc, quar, read = [], [], 0
        for chunk in reader.read(path):
            inc.append(chunk.incidents)
            quar.append(chunk.quarantine)
            read += chunk.rows_read
        q = pd.concat(quar, ignore_index=True)
        expected = man[path.relative_to(out).as_posix()]
        assert read == expected["rows"]
        got = sorted(zip(q["line"].astype(int), q["reason"], strict=True))
        want = sorted((b["line"], b["reason"]) for b in expected["bad_rows"])
        assert [g[0] for g in got] == [w[0] for w in want], path.name
        for (_, reason), (_, prefix) in zip(got, want, strict=True):
            assert reason.startswith(prefix)
        accepted = pd.concat(inc, ignore_index=True)
        assert len(accepted) == read - len(want)
        assert accepted["category"].notna().all()
        assert accepted["partner"].eq(partner).all()
    assert source != "council" or sum(len(v) for v in BAD_ROWS.values()) == 9


# -- the store --------------------------------------------------------------------------------


def test_build_demo_counts_match_the_police_files(store_url, tmp_path):
    import scribe_lib

    summary = build_demo(store_url, seed=3, months=6, scale=0.02, out_dir=tmp_path / "files")
    man = json.loads((tmp_path / "files" / MANIFEST).read_text())
    files = [(f["source"], f["partner"], tmp_path / "files" / f["path"]) for f in man["files"]]
    assert summary.rows_read == summary.accepted + summary.quarantined
    assert summary.quarantined == sum(len(v) for v in BAD_ROWS.values())
    raw = _police(files)
    want = {
        (str(m), str(c)): int(n)
        for (m, c), n in raw.groupby(["Month", "Crime type"]).size().items()
    }
    got = scribe_lib.load(store_url, partner="bedfordshire-police")
    got = got.groupby([got["period_start"].dt.strftime("%Y-%m"), "source_category"]).size()
    assert {(str(m), str(c)): int(n) for (m, c), n in got.items()} == want
    assert len(want) >= 6 * 10  # every month, most crime types
    cbc = scribe_lib.load(store_url, partner="central-bedfordshire-council")
    prec = cbc["location_precision"].value_counts()
    assert prec["postcode"] > prec["exact"] > 0  # the demo postcode lookup was used
    assert set(prec.index) <= {"postcode", "exact", "none"}
    loc = scribe_lib.localities(store_url)
    assert sorted(loc.loc[loc["kind"] == "town", "name"]) == sorted(t.name for t in TOWNS)
    assert (loc["kind"] == "partnership").sum() == 1
    assert loc["label"].eq(DEMO_LABEL).all()
    # the same demo again adds nothing; other data in the store is refused
    again = build_demo(store_url, seed=3, months=6, scale=0.02)
    assert again.added == 0 and again.by_partner == summary.by_partner
    assert "nothing added" in again.lines()[1]
    with pytest.raises(StoreError, match="not this demo"):
        build_demo(store_url, seed=4, months=6, scale=0.02)


def _cells(gdf, cell=250.0) -> pd.Series:
    g = gdf[gdf.geometry.notna()]
    return pd.Series(
        list(
            zip((g.geometry.x // cell).astype(int), (g.geometry.y // cell).astype(int), strict=True)
        )
    )


def test_planted_persistent_hotspots_are_the_busiest_cells(demo_store):
    import scribe_lib

    st, _ = demo_store
    inc = scribe_lib.load(st, located_only=True)
    counts = _cells(inc).value_counts()
    top = set(counts.index[:8])
    for x, y in [(509150, 221280), (504750, 249900)]:  # Luton George Street, Bedford bus station
        assert (int(x // 250), int(y // 250)) in top
    fly = inc[inc["category"] == "fly-tipping"]
    assert _cells(fly).value_counts().index[0] == (494800 // 250, 228300 // 250)  # rural lane


def test_emerging_hotspot_appears_only_in_the_last_six_months(demo_store):
    import scribe_lib

    st, _ = demo_store
    inc = scribe_lib.load(st, located_only=True)
    near = inc[inc.geometry.distance(shapely.Point(521690, 236990)) < 200]
    monthly = near.groupby(near["period_start"].dt.to_period("M")).size()
    monthly = monthly.reindex(pd.period_range("2024-01", "2025-12", freq="M"), fill_value=0)
    before, after = monthly[:18], monthly[18:]
    assert after.mean() >= 5 * max(before.mean(), 0.1)
    # the recreation ground point itself has no police record at all before July 2025
    rec = inc[(inc["location_text"] == "On or near Sports/Recreation Area")
              & (inc.geometry.distance(shapely.Point(521650, 236950)) < 5)]  # fmt: skip
    assert len(rec) > 0 and (rec["period_start"] >= "2025-07-01").all()


def test_emerging_hotspot_rises_month_on_month_at_full_scale(full_files):
    _, files = full_files
    df = _police(files)
    lon, lat = (
        df["Longitude"].replace("", "nan").astype(float),
        df["Latitude"].replace("", "nan").astype(float),
    )
    at = (
        (df["Location"] == "On or near Sports/Recreation Area")
        & (lon.round(4) == -0.2287)
        & (lat.round(4) == 52.0177)
    )
    monthly = (
        df[at]
        .groupby("Month")
        .size()
        .reindex([str(m) for m in pd.period_range("2024-01", "2025-12", freq="M")], fill_value=0)
    )
    assert (monthly[:18] == 0).all() and (monthly[18:] > 0).all()
    assert monthly[21:].sum() > 1.5 * monthly[18:21].sum()


# -- rhythm -----------------------------------------------------------------------------------


def test_weekly_and_seasonal_rhythm(full_files):
    _, files = full_files
    frames = [pd.read_csv(p, dtype=str, keep_default_na=False, encoding="cp1252" if "luton" in p.name else "utf-8-sig",
                          on_bad_lines="skip") for s, _, p in files if s == "council"]  # fmt: skip
    c = pd.concat(frames, ignore_index=True)
    c = c[c["Category"].isin(["Nuisance Behaviour", "Noise"]) & c["Time Received"].ne("")]
    when = pd.to_datetime(
        c["Date Received"] + " " + c["Time Received"], format="%d/%m/%Y %H:%M", errors="coerce"
    )
    evening = when.dt.hour >= 18
    fri_sat = when.dt.day_of_week.isin([4, 5])
    per_day_weekend = (fri_sat & evening).sum() / 2
    per_day_weekday = (~fri_sat & evening & when.dt.day_of_week.isin([0, 1, 2, 3])).sum() / 4
    assert per_day_weekend > 1.3 * per_day_weekday
    assert when.dt.month.isin([6, 7, 8]).sum() > 1.2 * when.dt.month.isin([12, 1, 2]).sum()
    fire = pd.read_csv(next(p for s, _, p in files if s == "fire"), dtype=str)
    sec = pd.to_datetime(
        fire.loc[fire["StopCodeDescription"] == "Secondary Fire", "DateOfCall"], format="%d/%m/%Y"
    )
    assert (
        sec.dt.month.isin([4, 5, 6, 7, 8]).sum() / 5 > 1.5 * sec.dt.month.isin([12, 1, 2]).sum() / 3
    )
    bonfire = sec[(sec.dt.month == 11) & sec.dt.day.between(4, 6)].size / 3
    rest_of_nov = sec[(sec.dt.month == 11) & ~sec.dt.day.between(1, 9)].size / 21
    assert bonfire > 2.5 * rest_of_nov


# -- geography and responses ------------------------------------------------------------------


def test_geography_files_are_demo_polygons_in_bng_containing_their_towns():
    towns = gpd.read_file(data_dir() / "localities.geojson")
    area = gpd.read_file(data_dir() / "partnership.geojson")
    for gdf in (towns, area):
        assert gdf.crs.to_epsg() == 27700
        assert gdf.geometry.is_valid.all() and gdf.geom_type.isin(["Polygon", "MultiPolygon"]).all()
        assert gdf["label"].eq(DEMO_LABEL).all()
    assert set(towns["kind"]) == {"town"} and list(area["kind"]) == ["partnership"]
    by_name = dict(zip(towns["name"], towns.geometry, strict=True))
    assert sorted(by_name) == sorted(t.name for t in TOWNS)
    for t in TOWNS:
        assert by_name[t.name].contains(shapely.Point(t.easting, t.northing)), t.name
        assert area.geometry.iloc[0].contains(by_name[t.name])
    overlap = shapely.union_all([g.buffer(-1) for g in by_name.values()]).area
    assert overlap == pytest.approx(sum(g.buffer(-1).area for g in by_name.values()))  # no overlaps
    pcs = pd.read_csv(data_dir() / "postcodes.csv")
    assert list(pcs.columns) == ["postcode", "easting", "northing"] and pcs["postcode"].is_unique
    assert shapely.contains_xy(area.geometry.iloc[0], pcs["easting"], pcs["northing"]).all()


def test_committed_geography_is_reproduced_exactly(tmp_path):
    for path in build_geography_files(tmp_path):
        assert path.read_bytes() == (data_dir() / path.name).read_bytes(), path.name


def test_demo_responses_are_valid_and_inside_the_demo_period():
    for town in ("Stotfold", "Luton", "Bedford"):
        r = read_responses(responses_path(town))
        assert r["locality"] == town and "Demo" in r["label"]
        for a in r["actions"]:
            assert (
                pd.Timestamp("2024-01-01") <= pd.Timestamp(a["start"]) <= pd.Timestamp("2025-12-31")
            )
            assert a["area"] is None or partnership_polygon().contains(a["area"])
    with pytest.raises(NotFoundError, match="known: bedford, luton, stotfold"):
        responses_path("Nowhere")


@pytest.mark.parametrize(
    "action, match",
    [
        ("{title: T, start: 2025-02-01, end: 2025-01-01}", "end 2025-01-01 is before start"),
        ("{title: T}", "needs a 'start' date"),
        ("{title: T, start: soon}", "'soon' is not a date"),
        ("{title: T, start: 2025-01-01, area: {centre: [1, 2]}}", "an area is WKT text"),
        ("{title: T, start: 2025-01-01, area: 'POINT (1 2)'}", "must be a valid polygon"),
    ],
)
def test_bad_responses_file_names_the_key(tmp_path, action, match):
    p = tmp_path / "r.yml"
    p.write_text(f"locality: X\nactions:\n  - {action}\n")
    with pytest.raises(ConfigError, match=match) as exc:
        read_responses(p)
    assert "actions[0]" in str(exc.value)


def test_cli_demo_builds_a_store_and_reports(tmp_path, capsys):
    from scribe_lib.cli import main

    store = tmp_path / "cli.duckdb"
    rc = main(["--store", str(store), "demo", "--seed", "5", "--months", "3", "--scale", "0.02"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert re.search(r"(\d+) rows read, (\d+) accepted, 9 quarantined", out)
    assert "bedfordshire-police:" in out and "demo geography" in out
    rc = main(
        [
            "demo",
            "--files-only",
            "--out-dir",
            str(tmp_path / "f"),
            "--months",
            "2",
            "--scale",
            "0.02",
        ]
    )
    assert rc == 0 and (tmp_path / "f" / MANIFEST).is_file()
    rc = main(["--store", str(tmp_path / "x.duckdb"), "demo", "--scale", "0"])
    assert rc != 0 and "scale must be" in capsys.readouterr().err
