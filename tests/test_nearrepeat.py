"""Knox near-repeat test: hand-counted table, exact expectation, exhaustive p, planted repeats."""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from scribe_lib.errors import ScribeError
from scribe_lib.stats.nearrepeat import bands, knox_test


def _incidents(x, y, days, precision="exact"):
    t = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.asarray(days), unit="D")
    return gpd.GeoDataFrame(
        {
            "occurred_at": t + pd.Timedelta(hours=13),  # times must not change day counts
            "period_start": t,
            "time_precision": precision,
        },
        geometry=gpd.points_from_xy(x, y),
        crs="EPSG:27700",
    )


# A (0,0) d0; B (0,0) d3; C (50,0) d10; D (150,0) d40; E (1000,0) d5.
# Pairs by hand (distance m, days):
#   A-B 0,3 same/0-7    A-C 50,10 0-100/8-14   A-D 150,40 100-200/>14  A-E 1000,5 beyond/0-7
#   B-C 50,7 0-100/0-7 (7 is in 0-7)   B-D 150,37 100-200/>14   B-E 1000,2 beyond/0-7
#   C-D 100,30 0-100/>14 (100 is in 0-100)   C-E 950,5 beyond/0-7   D-E 850,35 beyond/>14
HAND = np.array(
    [
        [1, 0, 0],  # same location
        [1, 1, 1],  # 0 < d <= 100
        [0, 0, 2],  # 100 < d <= 200
        [3, 0, 1],  # > 200
    ]
)
SMALL = dict(x=[0, 0, 50, 150, 1000], y=[0, 0, 0, 0, 0], days=[0, 3, 10, 40, 5])


def test_hand_counted_table_and_band_edges():
    out = knox_test(_incidents(**SMALL), [100, 200], [7, 14], permutations=99, seed=1)
    assert out["observed"].to_numpy().reshape(4, 3).tolist() == HAND.tolist()
    assert list(out["distance_band"].unique()) == [
        "same location",
        "0 < d <= 100 m",
        "100 < d <= 200 m",
        "> 200 m",
    ]
    assert list(out["time_band"].unique()) == ["0 to 7 days", "8 to 14 days", "> 14 days"]
    assert out.attrs["n"] == 5


def test_expected_equals_classical_knox_expectation():
    # under random permutation of dates E[cell] = N_s * N_t / P (row total x column total / pairs)
    out = knox_test(_incidents(**SMALL), [100, 200], [7, 14], permutations=9999, seed=0)
    ref = np.outer(HAND.sum(1), HAND.sum(0)) / HAND.sum()
    np.testing.assert_allclose(out["expected"].to_numpy().reshape(4, 3), ref, atol=0.03)
    assert out["knox_ratio"].iloc[0] == pytest.approx(1 / ref[0, 0], rel=0.05)


def test_p_values_match_exhaustive_permutation():
    x, days = np.array(SMALL["x"], float), np.array(SMALL["days"])
    obs_cell = 1  # same location, 0-7 days
    hits = 0
    perms = list(itertools.permutations(range(5)))
    for p in perms:  # brute force over all 120 permutations, plain Python
        d = days[list(p)]
        c = sum(
            1
            for a, b in itertools.combinations(range(5), 2)
            if x[a] == x[b] and abs(d[a] - d[b]) <= 7
        )
        hits += c >= obs_cell
    exact = hits / len(perms)  # 0.5: 5 of the 10 pairs of dates are <= 7 days apart
    out = knox_test(_incidents(**SMALL), [100, 200], [7, 14], permutations=9999, seed=3)
    assert exact == pytest.approx(0.5)
    assert out["p_value"].iloc[0] == pytest.approx(exact, abs=0.02)


def test_same_seed_same_result_and_input_untouched():
    inc = _incidents(**SMALL)
    before = inc.copy()
    a = knox_test(inc, [100, 200], [7, 14], permutations=199, seed=7)
    b = knox_test(inc, [100, 200], [7, 14], permutations=199, seed=7)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(inc, before)


def test_planted_near_repeats_detected():
    rng = np.random.default_rng(42)
    n = 1500
    x, y = rng.uniform(0, 10_000, n), rng.uniform(0, 10_000, n)
    d = rng.integers(0, 365, n)
    k = 150  # a near repeat for 150 of them: 5-80 m away, 1-6 days later
    ang = rng.uniform(0, 2 * np.pi, k)
    r = rng.uniform(5, 80, k)
    x2, y2 = x[:k] + r * np.cos(ang), y[:k] + r * np.sin(ang)
    d2 = d[:k] + rng.integers(1, 7, k)
    inc = _incidents(np.r_[x, x2], np.r_[y, y2], np.r_[d, d2])
    out = knox_test(inc, bands(100, 4), bands(7, 4), permutations=199, seed=5)
    hot = out[(out["distance_band"] == "0 < d <= 100 m") & (out["time_band"] == "0 to 7 days")]
    assert hot["observed"].iloc[0] >= k
    assert hot["knox_ratio"].iloc[0] > 5
    assert hot["p_value"].iloc[0] == pytest.approx(1 / 200)
    far = out[(out["distance_band"] == "> 400 m") & (out["time_band"] == "> 28 days")]
    assert far["knox_ratio"].iloc[0] == pytest.approx(1.0, abs=0.01)
    # every pair is counted once
    m = len(inc)
    assert out["observed"].sum() == m * (m - 1) // 2


def test_month_precision_left_out_with_warning():
    inc = _incidents(**SMALL)
    inc = pd.concat([inc, _incidents([5], [5], [1], precision="month")], ignore_index=True)
    with pytest.warns(UserWarning, match="1 incident"):
        out = knox_test(inc, [100, 200], [7, 14], permutations=19, seed=1)
    assert out["observed"].to_numpy().reshape(4, 3).tolist() == HAND.tolist()


def test_bad_inputs():
    inc = _incidents(**SMALL)
    with pytest.raises(ScribeError, match="spatial_bands must be increasing"):
        knox_test(inc, [200, 100], [7])
    with pytest.raises(ScribeError, match="temporal_bands must be increasing"):
        knox_test(inc, [100], [0, 7])
    with pytest.raises(ScribeError, match="permutations"):
        knox_test(inc, [100], [7], permutations=5)
    with pytest.raises(ScribeError, match="at least 3"):
        knox_test(inc.iloc[:2], [100], [7])
    with pytest.raises(ScribeError, match="positive width"):
        bands(0, 3)


def test_numba_and_numpy_engines_agree():
    rng = np.random.default_rng(9)
    n = 400
    inc = _incidents(rng.uniform(0, 2000, n), rng.uniform(0, 2000, n), rng.integers(0, 200, n))
    a = knox_test(inc, bands(100, 3), bands(7, 3), permutations=99, seed=4, engine="numba")
    b = knox_test(inc, bands(100, 3), bands(7, 3), permutations=99, seed=4, engine="numpy")
    pd.testing.assert_frame_equal(a, b)
    with pytest.raises(ScribeError, match="engine must be"):
        knox_test(inc, [100], [7], engine="cuda")
