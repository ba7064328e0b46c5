"""The store interface and the analyst API, on both backends (DuckDB file and PostGIS)."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import TinyReader, write_tiny

import scribe_lib
from scribe_lib import INCIDENT_COLUMNS, NotFoundError, StoreError
from scribe_lib.store import STORES, open_store
from scribe_lib.store.localities import load_localities

HOSTILE = [
    "<script>alert('x')</script>",
    "'; DROP TABLE incidents; --",
    'Robert"); DROP TABLE submissions;--',
    "back\\slash\ttab %s %(x)s ? $1",
    "Café – ‘quoted’ £5 ☃",
    "",  # an empty string is not NULL
    '"',
    "\\N",
    "line one\r\nline two",
]


def _rows(n=60, seed=1):
    rng = np.random.default_rng(seed)
    types = ["Burglary", "ASB", "Drugs"]
    rows = []
    for i in range(n):
        month = f"2024-{1 + i % 4:02d}"
        located = i % 5 != 0
        e = f"{500000 + rng.integers(0, 2000)}" if located else ""
        n_ = f"{220000 + rng.integers(0, 2000)}" if located else ""
        rows.append((f"r{i}", month, e, n_, types[i % 3], f"text {i}"))
    return rows


@pytest.fixture
def loaded(store, tmp_path):
    rows = _rows()
    path = write_tiny(tmp_path / "a.csv", rows)
    scribe_lib.ingest(path, TinyReader(partner="police"), store=store)
    path2 = write_tiny(tmp_path / "b.csv", [("f1", "2024-02", "501000", "221000", "ASB", "x")])
    scribe_lib.ingest(path2, TinyReader(partner="council"), store=store)
    ref = pd.DataFrame(rows, columns=["ref", "month", "e", "n", "type", "text"])
    return store, ref


def test_registry_names_the_known_stores():
    assert STORES.names() == ["duckdb", "postgres"]
    with pytest.raises(
        NotFoundError, match="unknown store 'mysql'; known stores: duckdb, postgres"
    ):
        open_store("mysql://localhost/x")


def test_empty_store_loads_an_empty_frame_in_bng(store):
    gdf = scribe_lib.load(store)
    assert isinstance(gdf, gpd.GeoDataFrame)
    assert list(gdf.columns) == [*INCIDENT_COLUMNS, "geometry"]
    assert gdf.crs.to_epsg() == 27700 and len(gdf) == 0
    assert scribe_lib.coverage(store).empty
    assert store.count_incidents() == 0


def test_load_returns_schema_dtypes_and_points(loaded):
    store, ref = loaded
    gdf = scribe_lib.load(store, partner="police")
    assert len(gdf) == len(ref)
    for col, dtype in INCIDENT_COLUMNS.items():
        assert str(gdf[col].dtype) == dtype, col
    located = gdf[gdf.easting.notna()]
    assert (located.geometry.x == located.easting).all()
    assert gdf.loc[gdf.easting.isna(), "geometry"].isna().all()
    by_line = gdf.set_index("source_line").sort_index()
    assert by_line["source_record_id"].tolist() == ref["ref"].tolist()


@pytest.mark.parametrize(
    ("kw", "expect"),
    [
        ({"category": "burglary"}, lambda r: r.type == "Burglary"),
        ({"category": ["burglary", "drugs"]}, lambda r: r.type.isin(["Burglary", "Drugs"])),
        ({"start": "2024-02", "end": "2024-03"}, lambda r: r.month.isin(["2024-02", "2024-03"])),
        ({"start": "2024-04"}, lambda r: r.month == "2024-04"),
        ({"end": "2024-01"}, lambda r: r.month == "2024-01"),
        ({"located_only": True}, lambda r: r.e != ""),
        (
            {"category": "anti-social-behaviour", "start": "2024-03", "located_only": True},
            lambda r: (r.type == "ASB") & (r.month >= "2024-03") & (r.e != ""),
        ),
    ],
)
def test_load_filters_match_a_pandas_reference(loaded, kw, expect):
    store, ref = loaded
    gdf = scribe_lib.load(store, partner="police", **kw)
    assert sorted(gdf["source_record_id"]) == sorted(ref.loc[expect(ref), "ref"])


def test_partner_filter_list_and_str(loaded):
    store, ref = loaded
    assert len(scribe_lib.load(store, partner="council")) == 1
    assert len(scribe_lib.load(store, partner=["council", "police"])) == len(ref) + 1
    assert len(scribe_lib.load(store, partner="nobody")) == 0


def test_bad_filters_say_what_to_do(store):
    with pytest.raises(NotFoundError, match="unknown category 'burglery'; known categories: "):
        scribe_lib.load(store, category="burglery")
    with pytest.raises(StoreError, match=r"start='2024/01': give a month as YYYY-MM"):
        scribe_lib.load(store, start="2024/01")
    with pytest.raises(StoreError, match="start '2024-05' is after end '2024-01'"):
        scribe_lib.load(store, start="2024-05", end="2024-01")
    with pytest.raises(StoreError, match="partner must be a string or a list of strings"):
        scribe_lib.load(store, partner=[1, 2])


def test_hostile_text_round_trips_verbatim(store, tmp_path):
    rows = [(f"r{i}", "2024-01", "", "", "ASB", t) for i, t in enumerate(HOSTILE)]
    scribe_lib.ingest(write_tiny(tmp_path / "h.csv", rows), TinyReader(), store=store)
    gdf = scribe_lib.load(store).sort_values("source_line")
    assert gdf["description"].tolist() == HOSTILE
    assert store.count_incidents() == len(HOSTILE)  # the tables are still there
    assert len(store.submissions()) == 1


def test_counts_by_month_and_category(loaded):
    store, ref = loaded
    by_month = store.count_incidents(by="month")
    months = pd.to_datetime(by_month["month"]).dt.strftime("%Y-%m")
    got = dict(zip(months, by_month["n"].astype(int), strict=True))
    want = ref.month.value_counts().to_dict()
    want["2024-02"] += 1  # the council row
    assert got == want
    by_cat = store.count_incidents(by="category").set_index("category")["n"].astype(int)
    assert by_cat["burglary"] == (ref.type == "Burglary").sum()
    with pytest.raises(StoreError, match="cannot count by 'colour'"):
        store.count_incidents(by="colour")


def test_coverage_shows_no_data_never_zero(store, tmp_path):
    for month in ("2024-01", "2024-03"):
        p = write_tiny(tmp_path / f"{month}.csv", [("a", month, "", "", "ASB", "")])
        scribe_lib.ingest(p, TinyReader(partner="fire"), store=store)
    p = write_tiny(tmp_path / "c.csv", [("a", "2024-02", "", "", "ASB", "")])
    scribe_lib.ingest(p, TinyReader(partner="council"), store=store)
    cov = scribe_lib.coverage(store)
    assert list(cov.columns) == ["partner", "source", "month", "status"]
    table = {(r.partner, r.month.strftime("%Y-%m")): r.status for r in cov.itertuples()}
    assert table == {
        ("council", "2024-01"): "no data",
        ("council", "2024-02"): "data",
        ("council", "2024-03"): "no data",
        ("fire", "2024-01"): "data",
        ("fire", "2024-02"): "no data",
        ("fire", "2024-03"): "data",
    }


def _squares(tmp_path, crs="EPSG:27700", driver="GPKG", suffix="gpkg"):
    gdf = gpd.GeoDataFrame(
        {"WD_NAME": ["North", "South", "South"], "CODE": ["E1", "E2", "E2"]},
        geometry=[
            shapely.box(500000, 221000, 502000, 222000),
            shapely.box(500000, 220000, 501000, 221000),  # South in two parts: merged
            shapely.box(501000, 220000, 502000, 221000),
        ],
        crs="EPSG:27700",
    )
    path = tmp_path / f"wards.{suffix}"
    gdf.to_crs(crs).to_file(path, driver=driver)
    return path


def test_locality_filter_matches_shapely(loaded, tmp_path):
    store, _ = loaded
    assert load_localities(store, _squares(tmp_path), kind="ward", name_field="WD_NAME") == 2
    wards = scribe_lib.localities(store)
    assert wards["name"].tolist() == ["North", "South"] and wards.crs.to_epsg() == 27700
    assert wards.geom_type.tolist() == ["MultiPolygon", "MultiPolygon"]
    everything = scribe_lib.load(store, located_only=True)
    for name, box in [("North", shapely.box(500000, 221000, 502000, 222000)),
                      ("South", shapely.box(500000, 220000, 502000, 221000))]:  # fmt: skip
        want = everything[everything.intersects(box)]["incident_id"]
        got = scribe_lib.load(store, locality=name)["incident_id"]
        assert sorted(got) == sorted(want) and len(got) > 0


def test_point_on_a_boundary_counts_in(store, tmp_path):
    load_localities(store, _squares(tmp_path), kind="ward", name_field="WD_NAME")
    p = write_tiny(tmp_path / "edge.csv", [("edge", "2024-01", "501000", "221000", "ASB", "")])
    scribe_lib.ingest(p, TinyReader(), store=store)
    assert scribe_lib.load(store, locality="North")["source_record_id"].tolist() == ["edge"]
    assert scribe_lib.load(store, locality="South")["source_record_id"].tolist() == ["edge"]


def test_localities_names_kinds_and_errors(store, tmp_path):
    path = _squares(tmp_path)
    load_localities(store, path, kind="ward", name_field="WD_NAME", label_field="CODE")
    load_localities(store, path, kind="parish", name_field="WD_NAME")
    assert len(scribe_lib.localities(store, kind="parish")) == 2
    assert scribe_lib.localities(store, kind="ward")["label"].tolist() == ["E1", "E2"]
    with pytest.raises(
        StoreError, match="exists in more than one kind; pass one of 'parish:North'"
    ):
        scribe_lib.load(store, locality="North")
    assert len(scribe_lib.load(store, locality="ward:North")) == 0
    with pytest.raises(NotFoundError, match="unknown locality 'Nowhere'; known localities: North"):
        scribe_lib.load(store, locality="Nowhere")
    with pytest.raises(scribe_lib.SourceError, match="no field 'NAME'; the fields are: WD_NAME"):
        load_localities(store, path, kind="ward", name_field="NAME")
    load_localities(store, path, kind="ward", name_field="WD_NAME")  # reload replaces
    assert len(scribe_lib.localities(store, kind="ward")) == 2


def test_geojson_boundaries_are_reprojected_with_ostn15(store, tmp_path):
    from scribe_lib.geo import to_bng

    lon, lat = -0.4668, 52.1359  # Bedford
    square = shapely.box(lon, lat, lon + 0.01, lat + 0.01)
    path = tmp_path / "b.geojson"
    gpd.GeoDataFrame({"n": ["Bedford"]}, geometry=[square], crs=4326).to_file(path)
    load_localities(store, path, kind="town", name_field="n")
    got = scribe_lib.localities(store).geometry.iloc[0]
    e, n = to_bng([lon], [lat])
    coords = shapely.get_coordinates(got)
    assert np.min(np.hypot(coords[:, 0] - e[0], coords[:, 1] - n[0])) < 0.001


def test_settings_round_trip(store):
    assert store.get_setting("area") is None
    store.set_setting("area", "POLYGON ((0 0, 1 0, 1 1, 0 0))")
    store.set_setting("area", json.dumps({"x": "'; --"}))
    assert json.loads(store.get_setting("area")) == {"x": "'; --"}
    store.set_setting("area", None)
    assert store.get_setting("area") is None


def test_postgis_table_is_a_qgis_point_layer(pg_url, tmp_path):
    store = open_store(pg_url)
    rows = [
        ("a", "2024-01", "501234.5", "221000.25", "ASB", ""),
        ("b", "2024-01", "", "", "ASB", ""),
    ]
    scribe_lib.ingest(write_tiny(tmp_path / "p.csv", rows), TinyReader(), store=store)
    cols = store.execute(
        "SELECT f_table_schema, f_table_name, f_geometry_column, type, srid FROM geometry_columns "
        "WHERE f_table_name = 'incidents'"
    )
    assert cols == [("scribe", "incidents", "geom", "POINT", 27700)]
    idx = store.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'incidents_geom'")
    assert "USING gist (geom)" in idx[0][0]
    pts = store.execute(
        "SELECT source_record_id, ST_X(geom), ST_Y(geom) FROM scribe.incidents ORDER BY 1"
    )
    assert pts == [("a", 501234.5, 221000.25), ("b", None, None)]
    owner = store.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'incidents'")
    assert owner == [("postgres",)]
    store.close()


def test_read_only_duckdb_store_cannot_be_created(tmp_path):
    with pytest.raises(StoreError, match="does not exist; create it with `scribe init`"):
        open_store(str(tmp_path / "none.duckdb"), read_only=True)


def test_two_duckdb_stores_on_one_file_in_one_process(tmp_path):
    url = str(tmp_path / "s.duckdb")
    first = open_store(url)
    load_localities(first, _squares(tmp_path), kind="ward", name_field="WD_NAME")
    p = write_tiny(tmp_path / "a.csv", [("a", "2024-01", "500500", "221500", "ASB", "")])
    scribe_lib.ingest(p, TinyReader(), store=first)
    second = open_store(url)  # shares DuckDB's catalog with the first connection
    for st in (first, second):
        assert scribe_lib.load(st, locality="North")["source_record_id"].tolist() == ["a"]
    second.close()
    assert scribe_lib.load(first, locality="North")["source_record_id"].tolist() == ["a"]
    first.close()
