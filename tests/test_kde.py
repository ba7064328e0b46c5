"""Quartic kernel density (scribe_lib.stats.kde)."""

from __future__ import annotations

import importlib
import math

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, box

from scribe_lib.stats import default_bandwidth, kde, make_grid

kde_module = importlib.import_module("scribe_lib.stats.kde")


def incidents(xy, categories=None):
    cats = categories or ["burglary"] * len(xy)
    geoms = [None if p is None else Point(p) for p in xy]
    return gpd.GeoDataFrame({"category": cats}, geometry=geoms, crs="EPSG:27700")


def test_density_integrates_to_the_number_of_incidents():
    # By hand: int_0^h 3/(pi h^2) (1 - r^2/h^2)^2 2 pi r dr; with u = r^2/h^2, du = 2r/h^2 dr,
    # = 3 int_0^1 (1-u)^2 du = 3 * 1/3 = 1 per incident. So sum(density per m^2 * cell area) = n.
    rng = np.random.default_rng(1)
    xy = rng.uniform([501_000, 201_000], [502_000, 202_000], (50, 2))
    inc = incidents([tuple(p) for p in xy] + [None])  # the unlocated row is ignored
    out = kde(inc, bandwidth=300, area=box(500_500, 200_500, 502_500, 202_500), cell=10)
    total = (out.density / 1e6 * 10 * 10).sum()  # per km^2 -> per m^2, times 100 m^2
    assert total == pytest.approx(50, rel=2e-3)


def test_single_point_density_matches_the_quartic_formula():
    inc = incidents([(500_050, 200_050)])  # the centre of a 100 m cell
    out = kde(inc, bandwidth=1000, area=box(499_000, 199_000, 501_100, 201_100), cell=100)
    d = np.hypot(out.x - 500_050, out.y - 200_050)
    # at the point: 3 / (pi h^2) per m^2 = 3 / (pi * 1e6) per m^2 = 3 / pi per km^2 = 0.954930
    assert out.density[d == 0].item() == pytest.approx(3 / math.pi, abs=1e-12)
    # 300 m away: 3/pi * (1 - 0.3^2)^2 = 0.954930 * 0.8281 = 0.790778
    at300 = out.density[np.isclose(d, 300)].to_numpy()
    assert len(at300) == 4
    np.testing.assert_allclose(at300, 3 / math.pi * 0.91**2, atol=1e-12)
    assert (out.density[d >= 1000] == 0).all()
    expect = np.where(d < 1000, 3 / math.pi * (1 - (d / 1000) ** 2) ** 2, 0)
    np.testing.assert_allclose(out.density, expect, atol=1e-12)
    assert (out.bandwidth == 1000).all()


def test_chunked_evaluation_equals_brute_force(monkeypatch):
    rng = np.random.default_rng(3)
    xy = np.round(rng.uniform([500_000, 200_000], [503_000, 202_000], (300, 2)), -1)
    inc = incidents([tuple(p) for p in xy])  # rounded: many incidents share a point
    monkeypatch.setattr(kde_module, "_CHUNK_PAIRS", 500)
    out = kde(inc, bandwidth=400, cell=100)
    c = out[["x", "y"]].to_numpy()
    d = np.hypot(c[:, None, 0] - xy[None, :, 0], c[:, None, 1] - xy[None, :, 1])
    brute = np.where(d < 400, 3 / (math.pi * 400**2) * (1 - (d / 400) ** 2) ** 2, 0).sum(1)
    np.testing.assert_allclose(out.density, brute * 1e6, rtol=1e-10, atol=1e-12)


def test_harm_weighted_density_scales_by_the_weight():
    xy = [(500_050, 200_050), (500_450, 200_150)]
    plain = kde(incidents(xy), bandwidth=500, cell=100)
    harm = kde(
        incidents(xy, ["robbery", "robbery"]), bandwidth=500, cell=100, harm={"robbery": 365}
    )
    np.testing.assert_allclose(harm.density, 365 * plain.density, rtol=1e-12)


def test_default_bandwidth_by_hand():
    # Four points at the corners of a 200 m square: mean centre (100, 100), every distance
    # 141.421 m, so SD = Dm = 141.421; sqrt(1/ln 2) * Dm = 169.86 > SD; 4^-0.2 = 0.757858:
    # 0.9 * 141.421 * 0.757858 = 96.460 m
    xy = np.array([[0, 0], [200, 0], [0, 200], [200, 200]], dtype=float)
    assert default_bandwidth(xy) == pytest.approx(96.4597, abs=1e-3)
    with pytest.raises(ValueError, match="pass a bandwidth"):
        default_bandwidth(np.zeros((3, 2)))


def test_warns_when_the_bandwidth_is_smaller_than_the_cell():
    with pytest.warns(UserWarning, match="bandwidth 50 m is smaller than the 100 m cells"):
        kde(incidents([(500_050, 200_050), (500_250, 200_250)]), bandwidth=50, cell=100)


def test_bad_bandwidth_and_input_not_mutated():
    inc = incidents([(500_050, 200_050), (500_250, 200_250)])
    before = inc.copy()
    with pytest.raises(ValueError, match="bandwidth must be a positive number of metres"):
        kde(inc, bandwidth=-3, cell=100)
    grid = make_grid(inc, cell=100)
    g0 = grid.copy()
    kde(inc, bandwidth=300, grid=grid)
    assert inc.equals(before) and grid.equals(g0)
