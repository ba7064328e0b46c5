"""The apps in headless Chromium, served by a plain ``voila`` process over a demo store.

One demo store, one Voila and one browser for the module. Every number read from the
page is checked against the store queried directly (``scribe_lib.load`` with the same
filter, i.e. the store's SQL), never against the app's own code. The same apps through
the hub, as users of two organisations: tests/test_browser_hub.py.
"""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pandas as pd
import pytest

import scribe_lib
from scribe_lib import stats
from scribe_lib.apps.explorer import DETAIL_FIELDS
from scribe_lib.apps.incident_map import CELL_COLOURS, POINT_COLOUR
from scribe_lib.apps.testing import (
    ExternalRequests,
    VoilaServer,
    chromium,
    find_colour,
    wait_colour,
)
from scribe_lib.demo import build_demo

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(600)]

WAIT = 60_000  # ms: how long the page may take to show an answer (not a timing assertion)


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("apps") / "demo.duckdb"
    st = scribe_lib.open_store(str(path))
    try:
        build_demo(st, seed=5, scale=0.05)
    finally:
        st.close()
    return str(path)


@pytest.fixture(scope="module")
def voila(store_path, tmp_path_factory):
    with VoilaServer(store_path, tmp_path_factory.mktemp("voila") / "voila.log") as server:
        yield server


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.external = ExternalRequests()
    page.external.watch(page)
    yield page
    context.close()


def open_app(page, voila, name, ready):
    page.goto(voila.app_url(name))
    page.wait_for_selector(ready, timeout=WAIT)


def wait_attr(page, selector, attr, value):
    """Wait until ``selector``'s ``data-ATTR`` equals ``value`` (fails with what it was)."""
    js = "([s, a, v]) => { const e = document.querySelector(s); return e && e.dataset[a] == v; }"
    try:
        page.wait_for_function(js, arg=[selector, attr, str(value)], timeout=WAIT)
    except Exception:  # noqa: BLE001 - say what the page shows instead
        got = page.evaluate(
            "([s, a]) => { const e = document.querySelector(s); return e && e.dataset[a]; }",
            [selector, attr],
        )
        raise AssertionError(f"{selector} data-{attr} is {got!r}, expected {value!r}") from None


def download(page, button, filename):
    """Press a Prepare button, then save the file through the browser; return its bytes."""
    page.click(f"button{button}")
    link = f'.scribe-download-link a.scribe-download[download="{filename}"]'
    page.wait_for_selector(link, timeout=WAIT)
    with page.expect_download(timeout=WAIT) as info:
        page.click(link)
    assert info.value.suggested_filename == filename
    path = info.value.path()
    return open(path, "rb").read()


def test_gallery_lists_every_app_and_everything_is_served_locally(page, voila):
    page.goto(voila.url)  # `voila notebooks/apps` serves the gallery at /
    page.wait_for_selector(".scribe-cards", timeout=WAIT)
    titles = page.locator(".scribe-cards h2").all_inner_texts()
    assert sorted(titles) == ["Hotspot map", "Incident explorer", "Locality profile", "Trends"]
    assert page.external == []


def test_incident_explorer_filters_map_table_details_and_downloads(
    page, voila, store_path, tmp_path
):
    open_app(page, voila, "incident_explorer", ".scribe-count [data-count]")
    everything = scribe_lib.load(store_path)
    wait_attr(page, ".scribe-count p", "count", len(everything))

    # locality: the count, the table and the map (fitted to the locality) follow the store
    page.select_option(".scribe-filter-locality select", "Luton")
    luton = scribe_lib.load(store_path, locality="Luton")
    wait_attr(page, ".scribe-count p", "count", len(luton))
    wait_attr(page, ".scribe-map-summary p", "drawn", int(luton["lon"].notna().sum()))

    page.select_option(".scribe-filter-category select", "anti-social-behaviour")
    asb = scribe_lib.load(store_path, locality="Luton", category="anti-social-behaviour")
    assert len(asb) > 20
    wait_attr(page, ".scribe-count p", "count", len(asb))
    wait_attr(page, ".scribe-map-summary p", "drawn", int(asb["lon"].notna().sum()))
    ids = page.eval_on_selector_all(".scribe-incidents tbody tr", "rs => rs.map(r => r.dataset.id)")
    assert len(ids) == min(100, len(asb)) and set(ids) <= set(asb["incident_id"])
    newest = asb["period_start"].max()
    assert set(asb.loc[asb["incident_id"].isin(ids[:1]), "period_start"]) == {newest}

    # zoom in by clicking the busiest circles until single locations are drawn
    for _ in range(8):  # a click may redraw twice (pan, then zoom)
        if page.get_attribute(".scribe-map-summary p", "data-level") == "points":
            break
        spots = wait_colour(page, CELL_COLOURS[-1])  # the busiest cells; else any drawn
        for colour in CELL_COLOURS[::-1]:
            spots = spots or find_colour(page, colour)
        assert spots, "no aggregated circle drawn on the map canvas"
        before = page.inner_text(".scribe-map-summary")
        page.mouse.click(*spots[len(spots) // 2])
        page.wait_for_function(
            "b => document.querySelector('.scribe-map-summary').innerText != b", arg=before,
            timeout=WAIT,
        )  # fmt: skip
    wait_attr(page, ".scribe-map-summary p", "level", "points")
    points = wait_colour(page, POINT_COLOUR)
    if not points:
        page.screenshot(path=str(tmp_path / "street-level.png"))
    assert points, f"no point drawn: {page.inner_text('.scribe-map-summary')} ({tmp_path})"
    page.mouse.click(*points[len(points) // 2])
    page.wait_for_selector(".scribe-details p[data-count]", timeout=WAIT)
    shown = page.eval_on_selector_all(
        ".scribe-detail-rows tbody tr", "rs => rs.map(r => r.dataset.id)"
    )
    first = asb.loc[asb["incident_id"] == shown[0]].iloc[0]
    same_place = asb[(asb["lon"].round(6) == round(first["lon"], 6))
                     & (asb["lat"].round(6) == round(first["lat"], 6))]  # fmt: skip
    assert int(page.get_attribute(".scribe-details p[data-count]", "data-count")) == len(same_place)
    assert set(shown) == set(same_place["incident_id"][:50])
    details = page.inner_text(".scribe-details")
    assert "anti-social-behaviour" in details and first["location_text"] in details
    assert first["partner"] in details and first["period_start"].strftime("%B %Y") in details
    headers = page.locator(".scribe-detail-rows th").all_inner_texts()
    expected = [label for f, label in DETAIL_FIELDS.items()
                if f == "when" or same_place[f].notna().any()]  # fmt: skip
    assert headers == expected and "Category" in headers and "Partner" in headers

    # downloads: every row of the store's answer, nothing else
    rows = list(
        csv.DictReader(
            io.StringIO(download(page, ".scribe-download-csv", "incidents.csv").decode())
        )
    )
    assert sorted(r["incident_id"] for r in rows) == sorted(asb["incident_id"])
    by_id = asb.set_index("incident_id")
    for r in rows[:20]:
        assert r["category"] == by_id.loc[r["incident_id"], "category"]
        assert float(r["easting"] or "nan") == pytest.approx(
            by_id.loc[r["incident_id"], "easting"], nan_ok=True)  # fmt: skip
    gj = json.loads(download(page, ".scribe-download-geojson", "incidents.geojson"))
    assert sorted(f["properties"]["incident_id"] for f in gj["features"]) == sorted(
        asb["incident_id"]
    )
    located = [f for f in gj["features"] if f["geometry"]]
    assert len(located) == int(asb["lon"].notna().sum())
    lon, lat = located[0]["geometry"]["coordinates"]
    row = by_id.loc[located[0]["properties"]["incident_id"]]
    assert (lon, lat) == pytest.approx((row["lon"], row["lat"]))
    assert page.external == []


def test_hotspot_map_legend_explanation_and_downloads(page, voila, store_path):
    open_app(page, voila, "hotspot_map", ".scribe-status p[data-cells]")
    page.select_option(".scribe-cell select", label="500 m")
    page.select_option(".scribe-filter-category select", "anti-social-behaviour")
    incidents = scribe_lib.load(store_path, category="anti-social-behaviour", located_only=True)
    wait_attr(page, ".scribe-status p", "incidents", len(incidents))
    gi = stats.hotspots(incidents, cell=500.0)
    kept = gi[(gi["incidents"] > 0) | (gi["gi_bin"] != 0)]
    wait_attr(page, ".scribe-status p", "cells", len(kept))
    for b in range(-3, 4):
        n = page.get_attribute(f'.scribe-hotspot-legend [data-bin="{b}"]', "data-cells")
        assert int(n) == int((kept["gi_bin"] == b).sum()), b
    assert (kept["gi_bin"] == 3).sum() > 0
    gj = json.loads(download(page, ".scribe-download-geojson", "hotspots.geojson"))
    assert len(gj["features"]) == len(kept)
    assert sum(f["properties"]["incidents"] for f in gj["features"]) == len(incidents)
    got = {f["properties"]["cell_id"]: f["properties"]["gi_bin"] for f in gj["features"]}
    assert got == dict(zip(kept["cell_id"], kept["gi_bin"], strict=True))
    png = download(page, ".scribe-download-png", "hotspots.png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    gpkg = download(page, ".scribe-download-gpkg", "hotspots.gpkg")
    assert gpkg[:16] == b"SQLite format 3\x00"
    # the explanation of a clicked hot cell is the statistics' own sentence for that cell
    hot = wait_colour(page, "#b2182b")
    assert hot, "no 99% hot spot cell drawn"
    page.mouse.click(*hot[len(hot) // 2])
    page.wait_for_selector(".scribe-explanation p[data-cell]", timeout=WAIT)
    cid = int(page.get_attribute(".scribe-explanation p[data-cell]", "data-cell"))
    cell = kept.set_index("cell_id").loc[cid]
    assert int(cell["gi_bin"]) == 3
    assert cell["explanation"] in page.inner_text(".scribe-explanation")
    assert "more incidents than chance" in page.inner_text(".scribe-note")
    assert page.external == []


def test_trends_comparison_and_download_match_the_store(page, voila, store_path):
    open_app(page, voila, "trends", ".scribe-compare p[data-current]")
    page.select_option(".scribe-filter-category select", "noise")
    page.select_option(".scribe-filter-end select", "2025-06")
    page.select_option(".scribe-window select", label="6 months")
    current = scribe_lib.load(store_path, category="noise", start="2025-01", end="2025-06")
    baseline = scribe_lib.load(store_path, category="noise", start="2024-01", end="2024-06")
    wait_attr(page, ".scribe-compare p", "current", len(current))
    wait_attr(page, ".scribe-compare p", "baseline", len(baseline))
    noise = scribe_lib.load(store_path, category="noise")
    exact = noise[noise["time_precision"] == "exact"]
    wait_attr(page, ".scribe-hour-weekday p", "used", len(exact))
    rows = list(
        csv.DictReader(
            io.StringIO(download(page, ".scribe-download-csv", "monthly_counts.csv").decode())
        )
    )
    monthly = {r["period"][:7]: float(r["count"] or 0) for r in rows}
    expected = noise.groupby(noise["period_start"].dt.strftime("%Y-%m")).size()
    assert {m: c for m, c in monthly.items() if c} == {m: float(c) for m, c in expected.items()}
    rows = list(
        csv.DictReader(
            io.StringIO(download(page, ".scribe-download-hours", "hour_weekday.csv").decode())
        )
    )
    table = np.array([[int(r[d]) for d in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")]
                      for r in rows])  # fmt: skip
    t = pd.to_datetime(exact["occurred_at"])
    assert table.sum() == len(exact)
    assert table[t.dt.hour.iloc[0], t.dt.day_of_week.iloc[0]] == int(
        ((t.dt.hour == t.dt.hour.iloc[0]) & (t.dt.day_of_week == t.dt.day_of_week.iloc[0])).sum()
    )
    assert page.external == []


def test_locality_profile_what_where_when(page, voila, store_path):
    open_app(page, voila, "locality_profile", ".scribe-what p[data-count]")
    page.select_option(".scribe-filter-locality select", "Bedford")
    page.select_option(".scribe-filter-problem select", label="Anti-social behaviour (all)")
    asb = [c for c in scribe_lib.load(store_path)["category"].unique()
           if c in ("anti-social-behaviour", "nuisance-behaviour", "neighbour-dispute", "noise")]  # fmt: skip
    from scribe_lib.apps.profile import problem_categories

    cats = list(problem_categories("asb"))
    assert set(asb) <= set(cats)
    expected = scribe_lib.load(store_path, locality="Bedford", category=cats)
    wait_attr(page, ".scribe-what p", "count", len(expected))
    cells = page.locator(".scribe-what-table tbody tr").first.locator("td").all_inner_texts()
    top = expected.groupby(["category", "partner"]).size().sort_values(ascending=False)
    assert (cells[0], cells[1], int(cells[2])) == (*top.index[0], int(top.iloc[0]))
    assert "Repeat locations" in page.inner_text(".scribe-where")
    assert page.external == []


def test_keyboard_alone_reaches_the_app_and_changes_a_filter(page, voila, store_path):
    open_app(page, voila, "incident_explorer", ".scribe-count [data-count]")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.innerText") == "Skip to the app"
    for _ in range(10):  # then the filters, in reading order
        page.keyboard.press("Tab")
        if page.evaluate("() => !!document.activeElement.closest('.scribe-filter-category')"):
            break
    else:
        raise AssertionError("Tab never reached the category filter")
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # the focus ring is visible
    first = sorted(scribe_lib.load(store_path)["category"].unique())[0]
    page.keyboard.press("ArrowDown")  # "All" -> the first category
    wait_attr(page, ".scribe-count p", "count", len(scribe_lib.load(store_path, category=first)))
