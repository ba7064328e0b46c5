"""The apps' widgets without a browser: filters against the store, map layers, downloads.

The in-memory filters of the apps must mean what ``scribe_lib.load`` means (the store's
SQL); the map's drawn numbers must add up to the selection; downloads must hold exactly
the selection. The app notebooks are executed with papermill. Browser tests:
tests/test_browser_apps.py (plain Voila) and tests/test_browser_hub.py (through the hub).
"""

from __future__ import annotations

import io
import json

import nbformat
import numpy as np
import pandas as pd
import papermill as pm
import pytest

import scribe_lib
from scribe_lib.apps import AppData, Selection, hotspot_map, incident_explorer
from scribe_lib.apps.downloads import incidents_csv, incidents_geojson
from scribe_lib.apps.explorer import when
from scribe_lib.apps.incident_map import STREET_ZOOM, cell_for_zoom
from scribe_lib.apps.profile import problem_categories
from scribe_lib.apps.testing import APPS_DIR
from scribe_lib.apps.trends import comparison_windows
from scribe_lib.demo import build_demo

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("apps-unit") / "demo.duckdb"
    st = scribe_lib.open_store(str(path))
    try:
        build_demo(st, seed=7, scale=0.03)
    finally:
        st.close()
    return str(path)


@pytest.fixture(scope="module")
def data(store_path):
    d = AppData(store_path)
    yield d
    d.close()


SELECTIONS = [
    Selection(),
    Selection(category=("burglary",)),
    Selection(partner=("luton-council",), start="2024-03", end="2024-08"),
    Selection(locality="Luton"),
    Selection(category=("anti-social-behaviour",), locality="Bedford", start="2025-01"),
    Selection(partner=("bedfordshire-fire",), end="2024-01"),
]


@pytest.mark.parametrize("sel", SELECTIONS, ids=lambda s: s.describe())
def test_selection_is_the_stores_answer_for_the_same_filter(data, store_path, sel):
    got = data.select(sel)
    expected = scribe_lib.load(store_path, **sel.as_filter())
    assert sorted(got["incident_id"]) == sorted(expected["incident_id"])
    assert got["period_start"].is_monotonic_decreasing


def test_unknown_locality_names_the_known_ones(data):
    with pytest.raises(scribe_lib.ScribeError, match="unknown locality 'Atlantis'; known: .*Luton"):
        data.select(Selection(locality="Atlantis"))


def test_no_store_says_what_to_set(monkeypatch):
    monkeypatch.delenv("SCRIBE_STORE", raising=False)
    with pytest.raises(scribe_lib.ScribeError, match="set SCRIBE_STORE"):
        AppData()


def test_map_aggregates_below_street_zoom_and_draws_points_at_street_zoom(data, store_path):
    app = incident_explorer(store_path, locality="Luton")
    luton = scribe_lib.load(store_path, locality="Luton", located_only=True)
    m = app.map
    assert m.shown["level"] == "cells" and m.shown["incidents"] == len(luton)
    counts = [f["properties"]["n"] for f in m.cells.data["features"]]
    cell = cell_for_zoom(m.map.zoom)
    expected = luton.groupby(
        [np.floor(luton["easting"] / cell), np.floor(luton["northing"] / cell)]
    )
    assert sorted(counts) == sorted(expected.size().tolist())
    assert m.points.data["features"] == []
    m.map.zoom = STREET_ZOOM
    m.redraw()  # the browser sends new bounds; here, with none, everything counts as in view
    points = m.points.data["features"]
    assert m.shown["level"] == "points" and m.cells.data["features"] == []
    distinct = luton.groupby([luton["lon"].round(6), luton["lat"].round(6)]).size()
    assert len(points) == len(distinct)
    assert sum(f["properties"]["n"] for f in points) == len(luton)
    # a click on a point shows every incident at that location
    lon, lat = points[0]["geometry"]["coordinates"]
    m._point_clicked(feature=points[0])
    html = app.details.value
    here = luton[(luton["lon"].round(6) == lon) & (luton["lat"].round(6) == lat)]
    assert f'data-count="{len(here)}"' in html
    assert all(f'data-id="{i}"' in html for i in here["incident_id"][:50])


def test_cell_size_halves_with_each_zoom_level():
    assert [cell_for_zoom(z) for z in (14, 13, 12, 11)] == [200.0, 400.0, 800.0, 1600.0]
    assert cell_for_zoom(2) == 12800.0


def test_downloads_hold_exactly_the_selection(data):
    sel = data.select(Selection(partner=("bedfordshire-police",), locality="Luton"))
    payload, rows = incidents_csv(sel)
    back = pd.read_csv(io.BytesIO(payload), dtype=str)
    assert rows == len(sel) and sorted(back["incident_id"]) == sorted(sel["incident_id"])
    assert list(back.columns) == [c for c in sel.columns if c != "geometry"]
    payload, rows = incidents_geojson(sel)
    gj = json.loads(payload)
    assert len(gj["features"]) == len(sel)
    f = gj["features"][0]
    row = sel.set_index("incident_id").loc[f["properties"]["incident_id"]]
    assert f["geometry"]["coordinates"] == pytest.approx([row["lon"], row["lat"]])


def test_the_embedded_store_has_no_audit_trail_so_nothing_is_recorded(store_path):
    app = incident_explorer(store_path, category="burglary")
    app.downloads.prepare("incidents.csv", "text/csv", lambda: incidents_csv(app.selected))
    assert app.downloads.last_audit is None
    assert f'data-rows="{len(app.selected)}"' in app.downloads.link.value


def test_time_is_shown_as_precisely_as_it_is_known():
    base = {"occurred_at": pd.NaT, "period_start": pd.Timestamp("2024-03-01")}
    assert when({**base, "time_precision": "month"}) == "March 2024"
    assert when({**base, "time_precision": "day", "period_start": pd.Timestamp("2024-03-07")}) == (
        "07 Mar 2024"
    )
    exact = {"occurred_at": pd.Timestamp("2024-03-07 22:15"), "time_precision": "exact",
             "period_start": pd.Timestamp("2024-03-07")}  # fmt: skip
    assert when(exact) == "07 Mar 2024 22:15"


def test_comparison_windows_are_the_same_months_a_year_apart():
    assert comparison_windows("2025-06", 6) == (("2025-01", "2025-06"), ("2024-01", "2024-06"))
    assert comparison_windows("2025-02", 3) == (("2024-12", "2025-02"), ("2023-12", "2024-02"))


def test_problem_groups_expand_to_their_categories():
    asb = problem_categories("asb")
    assert "anti-social-behaviour" in asb and "burglary" not in asb
    assert problem_categories("burglary") == ("burglary",)
    assert problem_categories(None) == ()


def test_hotspot_layer_is_gi_star_of_the_selection(store_path):
    app = hotspot_map(store_path, category="anti-social-behaviour", cell=500)
    incidents = scribe_lib.load(store_path, category="anti-social-behaviour", located_only=True)
    gi = scribe_lib.stats.hotspots(incidents, cell=500.0)
    kept = gi[(gi["incidents"] > 0) | (gi["gi_bin"] != 0)]
    assert dict(zip(app.layer["cell_id"], app.layer["gi_bin"], strict=True)) == dict(
        zip(kept["cell_id"], kept["gi_bin"], strict=True))  # fmt: skip
    assert app.layer["incidents"].sum() == len(incidents)
    for b in (3, -3):
        assert f'data-bin="{b}" data-cells="{int((kept["gi_bin"] == b).sum())}"' in app.legend.value


@pytest.mark.parametrize("name", ["incident_explorer", "hotspot_map", "trends", "locality_profile"])
def test_app_notebooks_are_thin_and_run(name, store_path, tmp_path, monkeypatch):
    nb = nbformat.read(APPS_DIR / f"{name}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert len(code) == 2 and "parameters" in code[0].metadata.get("tags", [])
    assert code[1].source.startswith("from scribe_lib.apps import ")
    monkeypatch.setenv("SCRIBE_STORE", store_path)
    out = pm.execute_notebook(str(APPS_DIR / f"{name}.ipynb"), str(tmp_path / "out.ipynb"),
                              kernel_name="python3", progress_bar=False)  # fmt: skip
    shown = out.cells[-1].outputs
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in shown)


def test_hotspot_density_and_emerging_layers_follow_the_statistics(store_path):
    import warnings

    app = hotspot_map(store_path, category="anti-social-behaviour", cell=1000)
    assert app.kde_layer.data["features"] == [] and app.emerging_layer.data["features"] == []
    app.show_kde.value = True
    app.show_emerging.value = True
    incidents = scribe_lib.load(store_path, category="anti-social-behaviour", located_only=True)
    dens = scribe_lib.stats.kde(incidents, cell=1000.0)
    assert len(app.kde_layer.data["features"]) == int((dens["density"] > 0).sum())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        em = scribe_lib.stats.emerging_hotspots(incidents, cell=1000.0)
    patterns = em.loc[em["pattern"] != "no pattern", "pattern"]
    drawn = [f["properties"]["pattern"] for f in app.emerging_layer.data["features"]]
    assert sorted(drawn) == sorted(patterns)
    for pattern, n in patterns.value_counts().items():
        assert f"{pattern}: {n}" in app.emerging_note.value


def test_trends_split_by_town_counts_each_town(store_path):
    from scribe_lib.apps import trends_app

    app = trends_app(store_path, category="noise")
    app.split.value = "area"
    monthly = app.monthly
    for town in ("Luton", "Bedford"):
        expected = scribe_lib.load(store_path, category="noise", locality=town)
        assert monthly.loc[monthly["area"] == town, "count"].sum() == len(expected)
