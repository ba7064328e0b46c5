"""Getis-Ord Gi* (scribe_lib.stats.gi) against esda, hand-worked arithmetic and exact nulls."""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import esda
import geopandas as gpd
import libpysal
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import shapely
from scipy import stats as sst
from shapely.geometry import Point, box

from scribe_lib.stats import adjust_p, gi_star, gi_star_z, hotspots, make_grid


def box_array(x, y, half):
    return shapely.box(x - half, y - half, x + half, y + half)


def grid_with(values, area, cell, shape="square"):
    g = make_grid(area, cell=cell, shape=shape)
    g["incidents"] = values(len(g)) if callable(values) else values
    return g


def esda_gi(grid, value, distance):
    """Reference: libpysal DistanceBand (binary) + esda G_Local(star=True, transform="B")."""
    w = libpysal.weights.DistanceBand(
        grid[["x", "y"]].to_numpy(), distance + 1e-6, binary=True, silence_warnings=True
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return esda.G_Local(
            grid[value].to_numpy(float), w, transform="B", star=True, permutations=0
        )


AREA = box(500_000, 200_000, 506_000, 204_000)


@pytest.mark.parametrize(
    ("shape", "cell", "distance"),
    [
        ("square", 250, None),  # default: the 8 adjacent cells
        ("square", 250, 250),  # rook: 4 adjacent
        ("square", 250, 600),  # a wider band (up to (2, 1) cells away)
        ("hex", 250, None),  # default: the 6 adjacent hexagons
        ("hex", 250, 500),
    ],
)
def test_z_and_p_equal_esda_to_1e_9(shape, cell, distance):
    rng = np.random.default_rng(7)
    g = grid_with(lambda n: rng.poisson(rng.gamma(0.6, 2.0, n)), AREA, cell, shape)
    out = gi_star(g, distance=distance)
    band = distance if distance else (np.sqrt(2) * cell if shape == "square" else cell)
    ref = esda_gi(g, "incidents", band)
    np.testing.assert_allclose(out.gi_z, ref.Zs, rtol=0, atol=1e-9)
    # esda's p_norm is one-sided; ours is two-sided
    np.testing.assert_allclose(out.p_value, 2 * ref.p_norm, rtol=0, atol=1e-9)


def test_hand_worked_row_of_five_cells():
    # Five 100 m cells in a row, band 100 m: each cell's neighbours are the cells on either side.
    # x = [0, 2, 6, 1, 1]: n = 5, mean = 10/5 = 2, sum x^2 = 0+4+36+1+1 = 42,
    # S^2 = 42/5 - 2^2 = 4.4.
    # Middle cell: k = 3, local sum = 2+6+1 = 9, 9 - 2*3 = 3,
    #   denominator = sqrt(4.4 * (5*3 - 3^2)/(5-1)) = sqrt(4.4 * 1.5) = sqrt(6.6) -> z = 3/sqrt(6.6)
    # Cell 1: k = 3, 0+2+6 = 8, 8 - 6 = 2 -> 2/sqrt(6.6); cell 3: 6+1+1 = 8 -> 2/sqrt(6.6)
    # Cell 0: k = 2, 0+2 = 2, 2 - 2*2 = -2, sqrt(4.4 * (10-4)/4) = sqrt(6.6) -> -2/sqrt(6.6)
    # Cell 4: k = 2, 1+1 = 2 -> -2/sqrt(6.6)
    g = grid_with(np.array([0, 2, 6, 1, 1]), box(500_000, 200_000, 500_500, 200_100), 100)
    out = gi_star(g, distance=100, correction="none")
    r = np.sqrt(6.6)
    np.testing.assert_allclose(out.gi_z, [-2 / r, 2 / r, 3 / r, 2 / r, -2 / r], atol=1e-12)
    # two-sided normal p of 3/sqrt(6.6) = 1.16775: Phi = 0.878546, 2 * (1 - 0.878546) = 0.242908
    assert out.p_value.iloc[2] == pytest.approx(0.242908, abs=2e-6)
    assert out.explanation.iloc[2] == (
        "6 incidents in this cell and 3 in the 2 cells around it, against an average of 2.0 "
        "per cell: not a significant hot or cold spot"
    )


def test_gi_star_z_core_matches_esda_on_a_space_time_style_matrix():
    rng = np.random.default_rng(3)
    n = 60
    A = sp.random(n, n, density=0.08, random_state=4, format="csr")
    A = ((A + A.T) > 0).astype(float)
    A.setdiag(1.0)
    A = sp.csr_matrix(A)
    y = rng.gamma(2.0, 3.0, n)
    w = libpysal.weights.W.from_sparse(A)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = esda.G_Local(y, w, transform="B", star=True, permutations=0)
    np.testing.assert_allclose(gi_star_z(y, A), ref.Zs, rtol=0, atol=1e-9)
    with pytest.raises(ValueError, match="diagonal of 1"):
        gi_star_z(y, sp.csr_matrix(np.ones((n, n)) - np.eye(n)))
    with pytest.raises(ValueError, match="binary"):
        gi_star_z(y, A * 2.0)


def test_corrections_against_scipy_and_hand_worked_holm():
    p = np.array([0.01, 0.04, 0.03, 0.005])
    np.testing.assert_allclose(adjust_p(p, "fdr"), sst.false_discovery_control(p), atol=1e-15)
    # BH by hand: sorted 0.005*4/1 = 0.02, 0.01*4/2 = 0.02, 0.03*4/3 = 0.04, 0.04*4/4 = 0.04
    np.testing.assert_allclose(adjust_p(p, "fdr"), [0.02, 0.04, 0.04, 0.02], atol=1e-15)
    # Holm by hand: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, max(0.04*1, 0.06) = 0.06
    np.testing.assert_allclose(adjust_p(p, "holm"), [0.03, 0.06, 0.06, 0.02], atol=1e-15)
    np.testing.assert_array_equal(adjust_p(p, "none"), p)
    with_nan = adjust_p(np.array([0.01, np.nan, 0.02]), "fdr")
    assert np.isnan(with_nan[1])
    np.testing.assert_allclose(with_nan[[0, 2]], [0.02, 0.02])  # m = 2 tests, not 3


def test_bins_follow_corrected_p_and_sign_of_z():
    rng = np.random.default_rng(11)
    vals = rng.poisson(1.0, 24 * 16)
    g = grid_with(vals, AREA, 250)
    g.loc[g.index[100], "incidents"] = 40  # one strong hot spot
    out = gi_star(g, correction="holm")
    assert out.correction.eq("holm").all() and out.p_basis.eq("analytic").all()
    expect = np.sign(out.gi_z) * np.select(
        [out.p_fdr < 0.01, out.p_fdr < 0.05, out.p_fdr < 0.10], [3, 2, 1], 0
    )
    np.testing.assert_array_equal(out.gi_bin, expect.astype(int))
    assert out.gi_bin.iloc[100] == 3
    np.testing.assert_allclose(out.p_fdr, adjust_p(out.p_value.to_numpy(), "holm"))


@pytest.mark.filterwarnings("ignore:no cell is significant")
def test_permutation_p_agrees_with_esda_conditional_permutation_in_distribution():
    # Continuous values (no ties), where esda's folded p_sim and ours are the same quantity.
    rng = np.random.default_rng(5)
    g = grid_with(lambda n: rng.gamma(1.5, 2.0, n), box(500_000, 200_000, 505_000, 205_000), 250)
    ours = gi_star(g, permutations=999, seed=42).p_perm.to_numpy()
    w = libpysal.weights.DistanceBand(
        g[["x", "y"]].to_numpy(), np.sqrt(2) * 250 + 1e-6, binary=True, silence_warnings=True
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = esda.G_Local(
            g.incidents.to_numpy(), w, transform="B", star=True, permutations=999, seed=42, n_jobs=1
        )
    theirs = np.minimum(1.0, 2.0 * ref.p_sim)
    # Monte Carlo sd of a two-sided p from 999 draws is at most 2*sqrt(.25/999) = 0.032, so the
    # difference of two independent estimates has sd <= 0.045: mean |diff| ~0.03, max over 400
    # cells < 4.5 sd.
    diff = np.abs(ours - theirs)
    assert diff.mean() < 0.05
    assert diff.max() < 0.2
    assert np.corrcoef(ours, theirs)[0, 1] > 0.95


@pytest.mark.parametrize(
    "y",
    [
        [0.3, 5.1, 2.2, 0.7, 3.9, 1.4, 2.8, 0.1],  # continuous: no ties
        [0.0, 0.0, 1.0, 0.0, 2.0, 0.0, 0.0, 3.0],  # counts: many ties
    ],
)
def test_permutation_p_matches_the_exact_conditional_null_by_enumeration(y):
    # 8 cells in a row, band 100 m: interior cells have 2 neighbours besides themselves, the
    # end cells 1. The conditional null of the local sum is y_i + the sum of every subset of
    # that size of the other 7 values (21 pairs, or 7 singles), all equally likely.
    y = np.array(y)
    g = grid_with(y, box(500_000, 200_000, 500_800, 200_100), 100)
    out = gi_star(g, distance=100, permutations=9999, seed=1, correction="none")
    for i in range(8):
        nb = [j for j in (i - 1, i + 1) if 0 <= j < 8]
        others = np.delete(y, i)
        sims = np.array([y[i] + sum(c) for c in itertools.combinations(others, len(nb))])
        obs = y[i] + y[nb].sum()
        exact = min(1.0, 2 * min((sims >= obs - 1e-12).mean(), (sims <= obs + 1e-12).mean()))
        # Monte Carlo sd with 9,999 draws <= 2*sqrt(.25/9999) = 0.01; allow 4 sd
        assert out.p_perm.iloc[i] == pytest.approx(exact, abs=0.04), i


@pytest.mark.filterwarnings("ignore:no cell is significant")
def test_permutations_are_reproducible_with_a_seed_and_tied_zeros_are_not_significant():
    rng = np.random.default_rng(2)
    vals = rng.poisson(0.3, 24 * 16)
    g = grid_with(vals, AREA, 250)
    a = gi_star(g, permutations=199, seed=9)
    b = gi_star(g, permutations=199, seed=9)
    c = gi_star(g, permutations=199, seed=10)
    np.testing.assert_array_equal(a.p_perm, b.p_perm)
    assert not np.array_equal(a.p_perm, c.p_perm)
    assert a.p_basis.eq("permutation").all()
    np.testing.assert_allclose(a.p_fdr, adjust_p(a.p_perm.to_numpy(), "fdr"))
    # a zero cell among zeros: its local sum (0) ties with most random sums; esda counts ties
    # on one side only and reports p = 1/(P+1) ("significant"); both tails count ties here.
    zero_block = (a.incidents == 0) & (a.explanation.str.contains(" and 0 in the 8 cells"))
    assert zero_block.any()
    assert (a.p_perm[zero_block] > 0.1).all()


def test_hotspots_end_to_end_finds_a_planted_cluster_and_counts_every_located_incident():
    rng = np.random.default_rng(8)
    bg = rng.uniform([500_000, 200_000], [506_000, 204_000], (800, 2))
    cluster = rng.normal([503_100, 202_100], 120, (150, 2))
    pts = [Point(p) for p in np.vstack([bg, cluster])] + [None] * 5
    inc = gpd.GeoDataFrame({"category": ["burglary"] * len(pts)}, geometry=pts, crs=27700)
    before = inc.copy()
    out = hotspots(inc, cell=250, area=AREA)
    assert out.incidents.sum() == 950
    hot = out[out.gi_bin == 3]
    assert len(hot) > 0
    assert np.hypot(hot.x - 503_100, hot.y - 202_100).max() < 800
    assert inc.equals(before)
    assert "incidents" not in before.columns


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"value": "nope"}, "the grid has no column 'nope'"),
        ({"correction": "bonferroni"}, "correction must be one of fdr, holm, none"),
        ({"distance": -1}, "distance must be a positive number of metres"),
        ({"permutations": -5}, "permutations must be 0 or more"),
    ],
)
def test_bad_input(kwargs, message):
    g = grid_with(lambda n: np.arange(n), AREA, 500)
    with pytest.raises(ValueError, match=message):
        gi_star(g, **kwargs)


def test_missing_values_and_constant_values():
    g = grid_with(lambda n: np.ones(n), AREA, 500)
    with pytest.warns(UserWarning, match="does not vary"):
        out = gi_star(g)
    assert out.gi_z.isna().all() and (out.gi_bin == 0).all()
    g["incidents"] = g["incidents"].astype("Float64")
    g.loc[g.index[0], "incidents"] = None
    with pytest.raises(ValueError, match="has missing values"):
        gi_star(g)


def test_warns_when_permutations_are_too_few_for_the_correction():
    rng = np.random.default_rng(6)
    g = grid_with(lambda n: rng.poisson(0.5, n), box(500_000, 200_000, 510_000, 210_000), 100)
    g.loc[g.index[5000], "incidents"] = 30
    with pytest.warns(UserWarning, match="p_perm cannot go below 0.1"):
        out = gi_star(g, permutations=19, seed=1, correction="holm")
    assert (out.gi_bin == 0).all()


def test_spdep_documented_values_on_getis_and_ord_1996_data():
    # spdep's localG example (reference/localG): data(getisord) from spData, a 16 x 16 grid of
    # points 30 units apart; Gi* with dnearneigh(0, 30) + include.self, style "B":
    #   G30s[length(xyz$val) - 136]  -> 1.45078   (Getis & Ord 1996, eq. 14.2, p. 263)
    #   the same x sd(pop) / sd(sample) -> 1.447943 (the value printed by Getis & Ord 1996, p. 267)
    d = pd.read_csv(Path(__file__).parent / "data" / "getisord.csv", comment="#")
    x, y = d.x + 500_000.0, d.y + 200_000.0  # put the 30 "m" grid somewhere in Britain
    g = gpd.GeoDataFrame(d.assign(x=x, y=y), geometry=box_array(x, y, 15), crs="EPSG:27700")
    out = gi_star(g, value="val", distance=30)
    z = out.gi_z.iloc[256 - 136 - 1]  # R is 1-based
    assert z == pytest.approx(1.45078, abs=5e-6)
    v = d.val.to_numpy(float)
    assert z * v.std(ddof=0) / v.std(ddof=1) == pytest.approx(1.447943, abs=5e-7)


@pytest.mark.filterwarnings("ignore:no cell is significant")
def test_large_bands_match_esda_and_absurd_bands_are_refused_quickly():
    # A round study area (many band sizes at its edge) and a band of up to 69 cells, so that the
    # permutation sets are drawn by Floyd's algorithm (more than 32 cells) and cells are
    # swapped out of them often.
    rng = np.random.default_rng(9)
    area = box(500_000, 200_000, 505_000, 204_000)
    g = grid_with(lambda n: rng.gamma(1.5, 2.0, n), area, 250)
    g = g[(g.x - 502_500) ** 2 + (g.y - 202_000) ** 2 < 2_000**2]
    out = gi_star(g, distance=1_100, permutations=999, seed=1)
    ref = esda_gi(g, "incidents", 1_100)
    np.testing.assert_allclose(out.gi_z, ref.Zs, rtol=0, atol=1e-9)
    w = libpysal.weights.DistanceBand(
        g[["x", "y"]].to_numpy(), 1_100 + 1e-6, binary=True, silence_warnings=True
    )
    assert w.max_neighbors + 1 > 33
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        perm = esda.G_Local(g.incidents.to_numpy(), w, transform="B", star=True,
                            permutations=999, seed=1, n_jobs=1)  # fmt: skip
    diff = np.abs(out.p_perm.to_numpy() - np.minimum(1.0, 2.0 * perm.p_sim))
    assert diff.mean() < 0.05 and diff.max() < 0.2  # as in the 8-neighbour comparison
    with pytest.raises(ValueError, match="use a smaller distance or larger cells"):
        gi_star(grid_with(lambda n: np.arange(n), box(0, 0, 300_000, 300_000), 1_000),
                distance=5_000_000)  # fmt: skip


@pytest.mark.filterwarnings("ignore:no cell is significant")
def test_the_seed_used_is_recorded_so_a_run_can_be_repeated():
    rng = np.random.default_rng(12)
    g = grid_with(lambda n: rng.poisson(1.0, n), AREA, 500)
    first = gi_star(g, permutations=99)  # no seed given: one is drawn and recorded
    seed = first.attrs["gi_star"]["seed"]
    assert isinstance(seed, int)
    again = gi_star(g, permutations=99, seed=seed)
    np.testing.assert_array_equal(first.p_perm, again.p_perm)
    assert again.attrs["gi_star"] == {"value": "incidents", "distance": 500 * np.sqrt(2),
                                      "correction": "fdr", "permutations": 99, "seed": seed}  # fmt: skip


def exact_sum_distribution(values, m):
    """P(sum of m draws without replacement from integer ``values`` = s), by dynamic programming
    over (draws so far, sum): ways[j, s] counts the subsets of size j with sum s."""
    values = np.asarray(values, dtype=int)
    ways = np.zeros((m + 1, values.sum() + 1))
    ways[0, 0] = 1.0
    for v in values:
        ways[1:, v:] = ways[1:, v:] + ways[:-1, : ways.shape[1] - v]
    return ways[m] / ways[m].sum()


def test_permutation_p_matches_the_exact_null_for_bands_of_more_than_32_cells():
    # 60 cells in a row, band 1,700 m on 100 m cells: up to 34 other neighbours (the sets are
    # drawn by Floyd's algorithm), so a cell is often drawn into its own set and swapped out.
    # the reference itself, by hand: pairs of {1, 2, 3} sum to 3, 4 or 5, a third each
    np.testing.assert_allclose(
        exact_sum_distribution([1, 2, 3], 2), [0, 0, 0, 1 / 3, 1 / 3, 1 / 3, 0]
    )
    rng = np.random.default_rng(4)
    y = rng.poisson(1.0, 60)
    y[[7, 30]] = [9, 12]  # outliers: drawing a cell's own value would shift its null a lot
    g = grid_with(y, box(500_000, 200_000, 506_000, 200_100), 100)
    out = gi_star(g, distance=1_700, permutations=9999, seed=3, correction="none")
    for i in range(60):
        nb = [j for j in range(60) if abs(j - i) <= 17 and j != i]
        dist = exact_sum_distribution(np.delete(y, i), len(nb))
        around = y[nb].sum()
        exact = min(1.0, 2 * min(dist[around:].sum(), dist[: around + 1].sum()))
        assert out.p_perm.iloc[i] == pytest.approx(exact, abs=0.04), i
