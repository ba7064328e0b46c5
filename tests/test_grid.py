"""Grids and counts per cell (scribe_lib.stats.grid)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, box

from scribe_lib.stats import count_in_grid, default_cell_size, make_grid
from scribe_lib.stats.grid import grid_raster


def incidents(xy, categories=None):
    geoms = [None if p is None else Point(p) for p in xy]
    cats = categories or ["burglary"] * len(xy)
    return gpd.GeoDataFrame({"category": cats}, geometry=geoms, crs="EPSG:27700")


def test_default_cell_size_follows_sfhotspot_rule():
    # shorter side 26,000 m / 50 = 520 m -> rounded down to 500 m
    assert default_cell_size((500_000, 200_000, 540_000, 226_000)) == 500
    # 7,480 m / 50 = 149.6 -> 100 m
    assert default_cell_size((0, 0, 7_480, 90_000)) == 100
    # tiny extents never go below 100 m
    assert default_cell_size((0, 0, 300, 300)) == 100


def test_square_grid_is_aligned_to_the_national_grid_and_covers_every_point():
    pts = [(500_010, 200_020), (500_990, 200_380), (500_500, 200_100)]
    g = make_grid(incidents(pts), cell=250)
    assert g.crs == "EPSG:27700"
    assert list(g.columns) == ["cell_id", "x", "y", "geometry"]
    # x 500,010..500,990 -> columns starting at 500,000, 250, 500, 750 (4);
    # y 200,020..200,380 -> rows starting at 200,000 and 200,250 (2)
    assert len(g) == 8
    assert g.x.min() == 500_125 and g.y.min() == 200_125
    assert np.allclose(g.geometry.area, 250 * 250)
    assert (g.cell_id.to_numpy() == np.arange(8)).all()


def test_grid_over_an_area_keeps_intersecting_cells_only():
    area = box(500_000, 200_000, 500_500, 200_100)
    g = make_grid(area, cell=100)
    # 5 cells in a row; the cells that only touch the box's top and right edges are dropped
    assert len(g) == 5
    assert g.x.tolist() == [500_050, 500_150, 500_250, 500_350, 500_450]


def test_counts_include_zero_cells_and_sum_to_located_incidents():
    pts = [(500_010, 200_020), (500_020, 200_030), (500_260, 200_030), None, (500_999, 200_499)]
    inc = incidents(pts)
    g = count_in_grid(inc, make_grid(inc, cell=250))
    assert g.incidents.sum() == 4  # the row without a location is ignored
    assert (g.incidents == 0).sum() == len(g) - 3
    assert g.loc[(g.x == 500_125) & (g.y == 200_125), "incidents"].item() == 2


def test_a_point_on_a_shared_edge_is_counted_once_in_the_cell_to_its_north_east():
    inc = incidents([(500_250, 200_250)])
    g = count_in_grid(inc, make_grid(box(500_000, 200_000, 500_500, 200_500), cell=250))
    assert g.incidents.sum() == 1
    assert g.loc[g.incidents == 1, ["x", "y"]].to_numpy().tolist() == [[500_375, 200_375]]


def test_hex_grid_counts_every_point_in_the_hexagon_that_contains_it():
    rng = np.random.default_rng(4)
    xy = rng.uniform([500_000, 200_000], [503_000, 202_000], size=(500, 2))
    inc = incidents([tuple(p) for p in xy])
    g = count_in_grid(inc, make_grid(inc, cell=200, shape="hex"))
    assert g.incidents.sum() == 500
    # independent check: a polygon-containment spatial join
    joined = gpd.sjoin(inc, g[["geometry"]], predicate="within")
    expect = joined.groupby("index_right").size().reindex(g.index, fill_value=0)
    assert (expect.to_numpy() == g.incidents.to_numpy()).all()
    # hexagon area = sqrt(3)/2 * (centre spacing)^2
    assert np.allclose(g.geometry.area, np.sqrt(3) / 2 * 200**2)


def test_harm_weighted_sums_per_cell():
    inc = incidents([(500_010, 200_010), (500_020, 200_020)], ["robbery", "shoplifting"])
    g = count_in_grid(inc, make_grid(inc, cell=100), harm={"robbery": 365.0, "shoplifting": 5.0})
    assert g.harm.sum() == pytest.approx(370.0, abs=1e-12)


def test_points_outside_the_area_are_not_counted_and_a_warning_says_how_many():
    inc = incidents([(500_050, 200_050), (509_000, 209_000)])
    grid = make_grid(box(500_000, 200_000, 500_200, 200_200), cell=100)
    with pytest.warns(UserWarning, match="1 located incident"):
        g = count_in_grid(inc, grid)
    assert g.incidents.sum() == 1


def test_stray_point_refused_quickly_with_a_message_naming_it():
    rng = np.random.default_rng(0)
    xy = [tuple(p) for p in rng.uniform([500_000, 200_000], [510_000, 210_000], (200, 2))]
    xy.append((100_000, 900_000))  # a bad coordinate 700 km away
    with pytest.raises(ValueError, match=r"1 incident\(s\) lie far from the rest.*E 100000"):
        make_grid(incidents(xy), cell=100)


def test_input_is_not_mutated():
    inc = incidents([(500_010, 200_020), (500_260, 200_030)])
    before = inc.copy()
    grid = make_grid(inc, cell=100)
    g0 = grid.copy()
    count_in_grid(inc, grid)
    assert inc.equals(before) and grid.equals(g0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cell": -5}, "cell size must be a positive"),
        ({"cell": 100, "shape": "triangle"}, "shape must be 'square' or 'hex'"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_grid(incidents([(500_000, 200_000), (501_000, 201_000)]), **kwargs)


def test_wrong_crs_and_no_location_are_refused():
    wgs = incidents([(500_000, 200_000)]).set_crs("EPSG:4326", allow_override=True)
    with pytest.raises(ValueError, match="need EPSG:27700"):
        make_grid(wgs, cell=100)
    with pytest.raises(ValueError, match="no located incidents"):
        make_grid(incidents([None, None]), cell=100)


def test_grid_raster_lays_cells_out_north_row_first():
    g = make_grid(box(500_000, 200_000, 500_300, 200_200), cell=100)
    g["v"] = np.arange(len(g), dtype=float)  # cell_id: west to east, then south to north
    arr, extent = grid_raster(g.iloc[1:], "v")  # leave a cell out: it becomes NaN
    assert extent == (500_000, 500_300, 200_000, 200_200)
    np.testing.assert_array_equal(arr, [[3, 4, 5], [np.nan, 1, 2]])
    with pytest.raises(ValueError, match="needs square cells"):
        grid_raster(make_grid(box(500_000, 200_000, 500_300, 200_200), 100, "hex"), "x")


def test_a_locality_frame_can_be_passed_as_the_area_itself():
    loc = gpd.GeoDataFrame({"name": ["Town"]}, geometry=[box(500_000, 200_000, 500_500, 200_100)],
                           crs="EPSG:27700")  # fmt: skip
    g = make_grid(loc, cell=100)
    assert len(g) == 5 and g.x.min() == 500_050
