"""Emerging hot spots: Mann-Kendall, Esri's patterns on constructed series, the cube's Gi*."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

from scribe_lib.errors import ScribeError
from scribe_lib.stats._mannkendall import mann_kendall
from scribe_lib.stats.emerging import classify_patterns, emerging_hotspots, space_time_gi


# --- Mann-Kendall -------------------------------------------------------------------------
def test_mann_kendall_hand_worked():
    # x = 1, 3, 2, 4: pairs (1,3)+ (1,2)+ (1,4)+ (3,2)- (3,4)+ (2,4)+ -> S = 4
    # Var(S) = 4*3*13/18 = 8.6667; Z = (4 - 1)/sqrt(8.6667) = 1.01905; p = 0.30818
    S, Z, p = mann_kendall(np.array([1.0, 3.0, 2.0, 4.0]))
    assert S[0] == 4
    assert Z[0] == pytest.approx(3 / np.sqrt(156 / 18), abs=1e-12)
    assert Z[0] == pytest.approx(1.01905, abs=1e-5)
    assert p[0] == pytest.approx(0.30818, abs=1e-5)


def test_mann_kendall_ties_hand_worked():
    # x = 1, 2, 2, 3: S = 5 (the tied pair counts 0); one tie group of 2:
    # Var(S) = (156 - 2*1*9)/18 = 7.6667; Z = 4/sqrt(7.6667) = 1.44463
    S, Z, _ = mann_kendall(np.array([1.0, 2.0, 2.0, 3.0]))
    assert S[0] == 5
    assert Z[0] == pytest.approx(1.44463, abs=1e-5)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mann_kendall_equals_kendalltau_on_time_index(seed):
    rng = np.random.default_rng(seed)
    x = rng.poisson(3, size=(5, 24)).astype(float)  # many ties
    x[1] += np.arange(24) * 0.5
    S, Z, p = mann_kendall(x, continuity=False)
    for row in range(5):
        ref = st.kendalltau(np.arange(24), x[row], method="asymptotic")
        assert p[row] == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-12)
        assert np.sign(Z[row]) == np.sign(ref.statistic)


def test_mann_kendall_constant_series():
    S, Z, p = mann_kendall(np.zeros((2, 6)))
    assert np.all(S == 0) and np.all(Z == 0) and np.all(p == 1)


def test_mann_kendall_rejects_nan():
    with pytest.raises(ValueError, match="NaN"):
        mann_kendall(np.array([1.0, np.nan, 2.0]))


# --- Esri's patterns on constructed Gi* z series (|z| > 1.96 = significant) ---------------
def _pattern(z):
    z = np.asarray(z, dtype=float)[None, :]
    _, tz, tp = mann_kendall(z)
    return classify_patterns(z > 1.96, z < -1.96, tz, tp, alpha=0.05)[0]


SERIES = {
    "new": [0] * 9 + [3],
    "consecutive": [0] * 7 + [3, 3, 3],
    "intensifying": list(np.linspace(2.5, 6, 10)),
    "persistent": [3, 4] * 5,
    "diminishing": list(np.linspace(6, 2.5, 10)),
    "sporadic": [3, 0, 3, 0, 0, 3, 0, 0, 0, 3],
    "oscillating": [-3, 0, 3, 0, 0, 0, 0, 0, 0, 3],
    "historical": [3] * 9 + [0],
}


@pytest.mark.parametrize("kind", list(SERIES))
def test_hot_pattern(kind):
    assert _pattern(SERIES[kind]) == f"{kind} hot spot"


@pytest.mark.parametrize("kind", list(SERIES))
def test_cold_pattern(kind):
    assert _pattern(-np.asarray(SERIES[kind], dtype=float)) == f"{kind} cold spot"


@pytest.mark.parametrize(
    "z", [[0] * 10, [3] + [0] * 9, [3, 3, 3, 0, 0, 0, 0, 0, 0, 0], [-3, 0, 0, 0, 0, 0, 0, 0, 0, 0]]
)
def test_no_pattern(z):
    assert _pattern(z) == "no pattern"


def test_consecutive_needs_no_earlier_hot():
    # hot early, then a final run of two: on-again off-again -> sporadic, not consecutive
    assert _pattern([3, 0, 0, 0, 0, 0, 0, 0, 3, 3]) == "sporadic hot spot"


def test_ninety_percent_rule_boundary():
    # 9 of 10 periods hot (90 %) with the final one: persistent; 8 of 10: sporadic
    assert _pattern([0, 3, 3, 3, 3, 3, 3, 3, 3, 3]) == "persistent hot spot"
    assert _pattern([0, 3, 3, 3, 0, 3, 3, 3, 3, 3]) == "sporadic hot spot"


def test_classify_rejects_hot_and_cold_bin():
    with pytest.raises(ScribeError, match="both a hot and a cold"):
        classify_patterns(np.ones((1, 3), bool), np.ones((1, 3), bool), [0.0], [1.0])


# --- the space-time cube ---------------------------------------------------------------------
def _cube_incidents(extra_final=30):
    """9 x 9 cells of 100 m, 6 months, one incident per cell per month, plus ``extra_final``
    incidents in the centre cell (450, 450) in the final month."""
    rows = []
    for m in range(6):
        for i in range(9):
            for j in range(9):
                rows.append((i * 100 + 50, j * 100 + 50, pd.Timestamp(2024, m + 1, 10)))
    rows += [(450, 450, pd.Timestamp(2024, 6, 12))] * extra_final
    x, y, t = zip(*rows, strict=True)
    return gpd.GeoDataFrame(
        {
            "occurred_at": pd.to_datetime(list(t)),
            "period_start": pd.to_datetime(list(t)).normalize(),
            "time_precision": "exact",
        },
        geometry=gpd.points_from_xy(x, y),
        crs="EPSG:27700",
    )


def _grid():
    xs, ys = np.meshgrid(np.arange(9) * 100.0, np.arange(9) * 100.0)
    xs, ys = xs.ravel(), ys.ravel()
    from shapely import box

    return gpd.GeoDataFrame(
        {"cell_id": np.arange(81), "x": xs + 50, "y": ys + 50},
        geometry=box(xs, ys, xs + 100, ys + 100),
        crs="EPSG:27700",
    )


def test_cube_gi_equals_brute_force_formula():
    inc = _cube_incidents()
    cube = space_time_gi(inc, grid=_grid(), time_step=1)
    cells, starts, counts, z, p = cube.cells, cube.periods, cube.counts, cube.z, cube.p
    assert len(starts) == 6 and counts.sum() == len(inc)
    # brute force: bins (c, t) and (c', t') neighbours when centres within 150 m and 0 <= t - t' <= 1
    xy = cells[["x", "y"]].to_numpy()
    n_c, n_t = counts.shape
    y = counts.ravel()
    N, xbar = y.size, y.mean()
    s = np.sqrt((y**2).mean() - xbar**2)
    for c in (0, 40, 80):
        for t in (0, 5):
            lsum, k = 0.0, 0
            for c2 in range(n_c):
                if np.hypot(*(xy[c] - xy[c2])) <= 150:
                    for t2 in range(n_t):
                        if 0 <= t - t2 <= 1:
                            lsum += counts[c2, t2]
                            k += 1
            zz = (lsum - xbar * k) / (s * np.sqrt((N * k - k * k) / (N - 1)))
            assert z[c, t] == pytest.approx(zz, abs=1e-9)
    assert p[40, 5] == pytest.approx(2 * st.norm.sf(abs(z[40, 5])), abs=1e-12)


def test_planted_new_hot_spot():
    inc = _cube_incidents()
    before = inc.copy()
    out = emerging_hotspots(inc, grid=_grid(), period="month")
    pd.testing.assert_frame_equal(inc, before)
    centre = out.loc[out["cell_id"] == 40].iloc[0]
    assert centre["pattern"] == "new hot spot"
    assert centre["incidents"] == 36 and centre["n_hot"] == 1
    corner = out.loc[out["cell_id"] == 0].iloc[0]
    assert corner["pattern"] == "no pattern"
    assert out["incidents"].sum() == len(inc)
    assert out.attrs["periods"][0] == "2024-01-01" and len(out.attrs["periods"]) == 6


def test_no_extra_incidents_gives_no_pattern():
    out = emerging_hotspots(_cube_incidents(extra_final=0), grid=_grid())
    assert set(out["pattern"]) == {"no pattern"}  # a flat cube: z undefined -> nothing


def test_bad_inputs():
    inc = _cube_incidents()
    with pytest.raises(ScribeError, match="time_step"):
        emerging_hotspots(inc, grid=_grid(), time_step=-1)
    with pytest.raises(ScribeError, match="unknown period 'fortnightly'"):
        emerging_hotspots(inc, grid=_grid(), period="fortnightly")
    with pytest.raises(ScribeError, match="correction"):
        emerging_hotspots(inc, grid=_grid(), correction="bonferroni")
    with pytest.raises(ScribeError, match="at least 2 periods"):
        emerging_hotspots(inc[inc["occurred_at"].dt.month == 1], grid=_grid())
    with pytest.raises(ScribeError, match="to_crs"):
        emerging_hotspots(inc.to_crs(4326), grid=_grid())


def test_month_precision_left_out_of_weeks_with_warning():
    inc = _cube_incidents().copy()
    inc.loc[inc.index[:10], "time_precision"] = "month"
    with pytest.warns(UserWarning, match="10 incident"):
        out = emerging_hotspots(inc, grid=_grid(), period="week")
    assert out["incidents"].sum() == len(inc) - 10


def test_harm_weighted_cube_uses_the_weights():
    # two final-month clusters of 20: violence (weight 10) in the centre cell 40, anti-social
    # behaviour (weight 1) in cell 10 at (150, 150): equal by counts, not by harm
    inc = _cube_incidents(extra_final=20).copy()
    inc["category"] = "asb"
    inc.loc[inc.index[-20:], "category"] = "violence"
    more = _cube_incidents(extra_final=20).iloc[-20:].copy()
    more["geometry"] = gpd.points_from_xy([150] * 20, [150] * 20)
    more["category"] = "asb"
    inc = pd.concat([inc, more], ignore_index=True)
    weights = {"asb": 1.0, "violence": 10.0}
    plain = space_time_gi(inc, grid=_grid())
    weighted = space_time_gi(inc, grid=_grid(), harm=weights)
    np.testing.assert_array_equal(weighted.counts, plain.counts)
    row = {c: int(np.flatnonzero(weighted.cells["cell_id"] == c)[0]) for c in (10, 40)}
    assert weighted.values[row[40], 5] == 1 + 20 * 10.0  # one asb + 20 violence x 10
    assert weighted.values.sum() == (len(inc) - 20) + 200
    assert plain.z[row[40], 5] == pytest.approx(plain.z[row[10], 5], abs=1e-9)
    assert weighted.z[row[40], 5] > weighted.z[row[10], 5] + 1
    out = emerging_hotspots(inc, grid=_grid(), harm=weights)
    assert out["harm"].sum() == pytest.approx(weighted.values.sum())


def test_cube_gi_equals_esda_on_the_same_space_time_weights():
    import warnings

    import esda
    import libpysal

    from scribe_lib.stats._cube import cube_weights, spatial_weights

    inc = _cube_incidents()
    rng = np.random.default_rng(5)  # add noise so that many bins differ
    extra = _cube_incidents(extra_final=0).sample(200, replace=True, random_state=5)
    extra["geometry"] = gpd.points_from_xy(rng.uniform(0, 900, 200), rng.uniform(0, 900, 200))
    inc = pd.concat([inc, extra], ignore_index=True)
    cube = space_time_gi(inc, grid=_grid(), time_step=2)
    Ws = spatial_weights(cube.cells["x"].to_numpy(), cube.cells["y"].to_numpy(), 150.0)
    W = cube_weights(Ws, len(cube.periods), 2)
    y = cube.values.T.ravel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = esda.G_Local(y, libpysal.weights.W.from_sparse(W), transform="B", star=True,
                           permutations=0)  # fmt: skip
    np.testing.assert_allclose(cube.z.T.ravel(), ref.Zs, rtol=0, atol=1e-9)


def test_coverage_gap_is_named_in_a_warning():
    inc = _cube_incidents().copy()
    inc["partner"] = "council-a"
    months = pd.date_range("2024-01-01", "2024-06-01", freq="MS")
    cov = pd.DataFrame(
        {"partner": "council-a", "source": "council", "month": months,
         "status": ["data", "data", "no data", "data", "data", "data"]}
    )  # fmt: skip
    with pytest.warns(UserWarning, match="council-a: 2024-03"):
        emerging_hotspots(inc, grid=_grid(), coverage=cov)
    full = cov.assign(status="data")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        emerging_hotspots(inc, grid=_grid(), coverage=full)
