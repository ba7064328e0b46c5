"""Evaluation: PAI, RRI, WDQ and before/after against hand-worked numbers."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import box

from scribe_lib.errors import ScribeError
from scribe_lib.stats.evaluation import before_after, pai, rri, wdq


def _pts(xy, days=None, precision="day"):
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    start = pd.Timestamp("2024-01-01")
    ps = start + pd.to_timedelta(np.zeros(len(xy)) if days is None else np.asarray(days), unit="D")
    pe = ps + pd.Timedelta(days=1)
    if precision == "month":
        ps = ps.to_period("M").to_timestamp()
        pe = ps + pd.DateOffset(months=1)
    return gpd.GeoDataFrame(
        {"period_start": ps, "period_end": pe, "time_precision": precision},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs="EPSG:27700",
    )


AREA = box(0, 0, 1000, 1000)  # 1 km2
HOT = box(0, 0, 100, 100)  # 0.01 km2 = 1 % of the area


def test_pai_hand_worked():
    xy = [(50, 50)] * 10 + [(500, 500)] * 40 + [(5000, 5000)] * 5  # 5 outside the study area
    inc = _pts(xy)
    before = inc.copy()
    r = pai(inc, gpd.GeoDataFrame(geometry=[HOT], crs=27700), AREA).iloc[0]
    pd.testing.assert_frame_equal(inc, before)
    # n = 10, N = 50 -> 20 %; a/A = 1 % -> PAI = 20 / 1 = 20
    assert (r["hits"], r["total"]) == (10, 50)
    assert r["hit_rate_pct"] == pytest.approx(20.0)
    assert r["area_pct"] == pytest.approx(1.0)
    assert r["hotspot_km2"] == pytest.approx(0.01) and r["study_km2"] == pytest.approx(1.0)
    assert r["pai"] == pytest.approx(20.0, rel=1e-12)


def test_rri_hand_worked():
    before = _pts([(50, 50)] * 8 + [(500, 500)] * 32)  # n1 = 8, N1 = 40
    after = _pts(
        [(50, 50)] * 12 + [(500, 500)] * 18 + [(9000, 9000)] * 3
    )  # n2 = 12, N2 = 30 in area
    r = rri(before, after, HOT, AREA).iloc[0]
    # (12 / 8) / (30 / 40) = 1.5 / 0.75 = 2
    assert (r["n1"], r["n2"], r["N1"], r["N2"]) == (8, 12, 40, 30)
    assert r["rri"] == pytest.approx(2.0, rel=1e-12)
    # without a study area every located incident counts: N2 = 33
    assert rri(before, after, HOT).iloc[0]["rri"] == pytest.approx((12 / 8) / (33 / 40))


def test_wdq_hand_worked():
    # R 100 -> 60, B 80 -> 70, C 500 -> 450
    # success = 60/450 - 100/500 = -15000/225000; displacement = 70/450 - 80/500 = -1000/225000
    # WDQ = 1000/15000 = 1/15 (a small diffusion of benefit)
    # TNE = (100 x 450/500 - 60) + (80 x 450/500 - 70) = 30 + 2 = 32
    r = wdq((100, 60), (80, 70), (500, 450), seed=1).iloc[0]
    assert r["success_measure"] == pytest.approx(-15000 / 225000, rel=1e-12)
    assert r["displacement_measure"] == pytest.approx(-1000 / 225000, rel=1e-12)
    assert r["wdq"] == pytest.approx(1 / 15, rel=1e-12)
    assert r["tne"] == pytest.approx(32.0, rel=1e-12)
    assert r["ci_low"] < r["wdq"] < r["ci_high"]


def test_wdq_displacement_sign():
    # crime fell in R (100 -> 50) and rose in B (50 -> 80), C flat: displacement, WDQ < 0
    r = wdq((100, 50), (50, 80), (400, 400), seed=2).iloc[0]
    assert r["wdq"] == pytest.approx((80 / 400 - 50 / 400) / (50 / 400 - 100 / 400))
    assert r["wdq"] == pytest.approx(-0.6)


def _delta_se(counts):
    """Delta-method standard error of the WDQ with Poisson variances (independent of wdq())."""

    def f(c):
        rb, ra, bb, ba, cb, ca = c
        return (ba / ca - bb / cb) / (ra / ca - rb / cb)

    c = np.array(counts, float)
    grad = np.empty(6)
    for i in range(6):
        h = 1e-4 * c[i]
        up, dn = c.copy(), c.copy()
        up[i] += h
        dn[i] -= h
        grad[i] = (f(up) - f(dn)) / (2 * h)
    return float(np.sqrt(np.sum(grad**2 * c)))


def test_wdq_bootstrap_interval_matches_delta_method_for_large_counts():
    counts = (4000, 2500, 3000, 2600, 20000, 19000)
    r = wdq(counts[0:2], counts[2:4], counts[4:6], n_boot=4000, seed=11, ci=0.95).iloc[0]
    half = (r["ci_high"] - r["ci_low"]) / 2
    assert half == pytest.approx(1.959964 * _delta_se(counts), rel=0.1)
    assert r["boot_valid"] == 1.0
    again = wdq(counts[0:2], counts[2:4], counts[4:6], n_boot=4000, seed=11, ci=0.95)
    assert again.iloc[0]["ci_low"] == r["ci_low"]


def test_wdq_bad_input():
    with pytest.raises(ScribeError, match="control area needs incidents"):
        wdq((10, 5), (5, 5), (0, 10))
    with pytest.raises(ScribeError, match=r"buffer must be \(before, after\)"):
        wdq((10, 5), None, (10, 10))
    with pytest.raises(ScribeError, match="n_boot"):
        wdq((10, 5), (5, 5), (10, 10), n_boot=5)


def test_before_after_counts_and_wdq_from_table():
    treated = box(0, 0, 100, 100)
    control = box(1000, 1000, 2000, 2000)
    # response from 2024-07-15, 6-month windows: before = 2024-01-15..07-14, after = 07-15..2025-01-14;
    # the two July 2024 month-precision incidents straddle the start and count in neither
    d_before, d_after = 30, 200  # days after 2024-01-01
    xy = [(50, 50)] * 10 + [(50, 50)] * 4  # treated: 10 before, 4 after
    days = [d_before] * 10 + [d_after] * 4
    xy += [(150, 50)] * 6 + [(150, 50)] * 3  # buffer (within 100 m): 6 before, 3 after
    days += [d_before] * 6 + [d_after] * 3
    xy += [(1500, 1500)] * 50 + [(1500, 1500)] * 45  # control: 50 -> 45
    days += [d_before] * 50 + [d_after] * 45
    xy += [(50, 50)] * 7  # long before the window: not counted
    days += [-400] * 7
    inc = _pts(xy, days)
    inc = pd.concat([inc, _pts([(50, 50)] * 2, [190] * 2, precision="month")], ignore_index=True)
    out = before_after(inc, treated, "2024-07-15", months=6, buffer=100, control=control)
    t = out.set_index("area")
    assert t.loc["treated", ["before", "after"]].tolist() == [10, 4]
    assert t.loc["buffer", ["before", "after"]].tolist() == [6, 3]
    assert t.loc["control", ["before", "after"]].tolist() == [50, 45]
    # relative to control: (4/10) / (45/50) = 0.4444
    assert t.loc["treated", "relative_to_control"] == pytest.approx(0.4 / 0.9)
    # windows: 182 days before, 184 after: p from the exact conditional test (hand: scipy)
    from scipy.stats import binomtest

    assert t.loc["treated", "p_value"] == pytest.approx(binomtest(4, 14, 184 / 366).pvalue)
    w = wdq(out, seed=3).iloc[0]
    assert w["wdq"] == pytest.approx((3 / 45 - 6 / 50) / (4 / 45 - 10 / 50))


def test_before_after_bad_input():
    with pytest.raises(ScribeError, match="months must be"):
        before_after(_pts([(0, 0)]), AREA, "2024-01-01", months=0)
    with pytest.raises(ScribeError, match="response_area must be a polygon"):
        before_after(_pts([(0, 0)]), "here", "2024-01-01")
    with pytest.raises(ScribeError, match="no \\['buffer', 'control'\\] row"):
        wdq(before_after(_pts([(0, 0)]), AREA, "2024-01-01"))


def test_wdq_zero_buffer_counts_warn_and_give_zero_not_minus_zero():
    with pytest.warns(UserWarning, match="count of 0 cannot vary"):
        r = wdq((28, 26), (0, 0), (28, 30), seed=1).iloc[0]
    assert r["wdq"] == 0.0 and not np.signbit(r["wdq"])
    assert r["tne"] == pytest.approx(28 * 30 / 28 - 26)
