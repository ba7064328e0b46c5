"""Trends: counts per period, coverage, rolling mean, last year, rate tests, hour x weekday."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy import stats as st
from shapely import box

from scribe_lib.errors import ScribeError
from scribe_lib.stats.trends import (
    compare_periods,
    counts_by_period,
    hour_weekday,
    repeat_locations,
)


def _inc(rows):
    """rows: (when, precision, category, partner[, x, y, location_text])."""
    recs = []
    for r in rows:
        when, prec, cat, partner = r[:4]
        x, y, text = (
            (list(r[4:]) + [np.nan, np.nan, None])[:3] if len(r) > 4 else (np.nan, np.nan, None)
        )
        t = pd.Timestamp(when)
        if prec == "month":
            ps, pe, occ = t.replace(day=1), t.replace(day=1) + pd.DateOffset(months=1), pd.NaT
        elif prec == "day":
            ps, pe, occ = t.normalize(), t.normalize() + pd.Timedelta(days=1), pd.NaT
        else:
            ps, pe, occ = t.normalize(), t.normalize() + pd.Timedelta(days=1), t
        recs.append(
            dict(
                occurred_at=occ,
                period_start=ps,
                period_end=pe,
                time_precision=prec,
                category=cat,
                partner=partner,
                easting=x,
                northing=y,
                location_text=text,
            )
        )
    df = pd.DataFrame(recs)
    df["occurred_at"] = pd.to_datetime(df["occurred_at"])
    pts = gpd.points_from_xy(df["easting"], df["northing"])
    return gpd.GeoDataFrame(df, geometry=pts, crs="EPSG:27700")


def _monthly(counts_by_month: dict[str, int], category="burglary", partner="police"):
    rows = []
    for month, k in counts_by_month.items():
        rows += [(f"{month}-15", "month", category, partner)] * k
    return rows


def test_counts_zero_months_rolling_and_last_year():
    months = {"2023-01": 4, "2023-02": 0, "2023-03": 2, "2024-01": 7, "2024-02": 1, "2024-03": 3}
    inc = _inc(_monthly(months))
    before = inc.copy()
    out = counts_by_period(inc, "month", window=3)
    pd.testing.assert_frame_equal(inc, before)
    assert len(out) == 15  # Jan 2023 .. Mar 2024, empty months as 0
    s = out.set_index("period")
    assert s.loc["2023-02-01", "count"] == 0 and s.loc["2023-06-01", "count"] == 0
    # rolling mean of Jan-Mar 2023 = (4 + 0 + 2)/3 = 2; of Jan-Mar 2024 = (7 + 1 + 3)/3
    assert np.isnan(s.loc["2023-02-01", "rolling_mean"])
    assert s.loc["2023-03-01", "rolling_mean"] == pytest.approx(2.0)
    assert s.loc["2024-03-01", "rolling_mean"] == pytest.approx(11 / 3)
    assert s.loc["2024-01-01", "last_year"] == 4 and s.loc["2024-01-01", "change_vs_last_year"] == 3
    assert np.isnan(s.loc["2023-01-01", "last_year"])
    assert out["count"].sum() == len(inc)


def test_counts_by_category_and_partner():
    rows = _monthly({"2024-01": 2, "2024-02": 1}) + _monthly({"2024-02": 3}, "asb", "council")
    out = counts_by_period(_inc(rows), "month", by=["category", "partner"])
    assert len(out) == 4  # 2 months x the 2 (category, partner) pairs seen
    got = out.set_index(["period", "category", "partner"])["count"]
    assert got[(pd.Timestamp("2024-02-01"), "asb", "council")] == 3
    assert got[(pd.Timestamp("2024-01-01"), "asb", "council")] == 0


def test_no_data_months_are_nan_not_zero():
    rows = _monthly({"2024-01": 2, "2024-02": 2, "2024-03": 2}) + _monthly(
        {"2024-01": 5, "2024-03": 4}, "asb", "council"
    )
    cov = pd.DataFrame(
        {
            "partner": ["police"] * 3 + ["council"] * 3,
            "source": ["police-uk"] * 3 + ["council"] * 3,
            "month": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"] * 2),
            "status": ["data", "data", "data", "data", "no data", "data"],
        }
    )
    out = counts_by_period(_inc(rows), by="partner", coverage=cov)
    got = out.set_index(["period", "partner"])
    assert np.isnan(got.loc[(pd.Timestamp("2024-02-01"), "council"), "count"])
    assert got.loc[(pd.Timestamp("2024-02-01"), "police"), "count"] == 2
    total = counts_by_period(_inc(rows), coverage=cov).set_index("period")
    assert total.loc["2024-02-01", "count"] == 2 and not total.loc["2024-02-01", "complete"]
    assert total.loc["2024-01-01", "complete"]
    # without coverage the gap would read as a fall to 0
    plain = counts_by_period(_inc(rows), by="partner").set_index(["period", "partner"])
    assert plain.loc[(pd.Timestamp("2024-02-01"), "council"), "count"] == 0


def test_weeks_leave_out_month_precision_and_count_by_area():
    rows = [("2024-01-01 10:00", "exact", "asb", "council", 50, 50, "a")] * 2
    rows += [("2024-01-09", "day", "asb", "council", 150, 50, "b")]
    rows += [("2024-01-15", "month", "asb", "police", 50, 50, "c")]
    areas = gpd.GeoDataFrame(
        {"name": ["west", "east"]}, geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs=27700
    )
    with pytest.warns(UserWarning, match="1 incident"):
        out = counts_by_period(_inc(rows), "week", by="area", areas=areas)
    got = out.set_index(["period", "area"])["count"]
    assert got[(pd.Timestamp("2024-01-01"), "west")] == 2  # Monday 1 Jan 2024 starts a week
    assert got[(pd.Timestamp("2024-01-08"), "east")] == 1
    assert out["count"].sum() == 3


def test_poisson_test_hand_values():
    # 5 v 0 in equal windows: p = 2 x 0.5^5 = 0.0625 (exact conditional binomial)
    rows = [("2024-03-10", "day", "asb", "c")] * 5
    out = compare_periods(
        _inc(rows), ("2024-03-01", "2024-03-30"), ("2024-01-01", "2024-01-30"), method="poisson"
    )
    r = out.iloc[0]
    assert (r["current"], r["baseline"], r["change"]) == (5, 0, 5)
    assert r["p_value"] == pytest.approx(0.0625, abs=1e-12)
    assert np.isnan(r["pct_change"])


def test_poisson_test_unequal_windows_against_scipy():
    rows = [("2024-04-10", "day", "asb", "c")] * 30 + [("2024-01-10", "day", "asb", "c")] * 20
    rows += [("2024-02-10", "day", "asb", "c")] * 6
    # current: April (30 days); baseline: Jan-Feb 2024 (31 + 29 = 60 days)
    out = compare_periods(
        _inc(rows), ("2024-04", "2024-04"), ("2024-01", "2024-02"), method="poisson"
    )
    r = out.iloc[0]
    assert (r["current"], r["baseline"]) == (30, 26)
    assert r["rate_ratio"] == pytest.approx((30 / 30) / (26 / 60))
    assert r["p_value"] == pytest.approx(st.binomtest(30, 56, 30 / 90).pvalue, rel=1e-12)
    assert r["significant"]


def test_quasipoisson_hand_worked():
    months = {
        "2024-01": 10,
        "2024-02": 30,
        "2024-03": 20,
        "2024-04": 40,
        "2024-05": 60,
        "2024-06": 50,
    }
    inc = _inc(_monthly(months))
    out = compare_periods(inc, ("2024-04", "2024-06"), ("2024-01", "2024-03"), by=None)
    r = out.iloc[0]
    # phi = [(100 + 100 + 0)/20 + (100 + 100 + 0)/50] / (6 - 2) = 14/4 = 3.5
    # RR = (150/91)/(60/91) = 2.5; z = ln 2.5 / sqrt(3.5 (1/150 + 1/60)) = 3.206350
    assert r["method"] == "quasipoisson"
    assert r["dispersion"] == pytest.approx(3.5, abs=1e-12)
    assert r["rate_ratio"] == pytest.approx(2.5, abs=1e-12)
    z = np.log(2.5) / np.sqrt(3.5 * (1 / 150 + 1 / 60))
    assert z == pytest.approx(3.206350, abs=1e-6)
    assert r["p_value"] == pytest.approx(2 * st.norm.sf(z), rel=1e-12)
    # equi-dispersed months (phi <= 1): auto uses the exact test
    flat = _inc(
        _monthly(
            {
                "2024-01": 20,
                "2024-02": 20,
                "2024-03": 20,
                "2024-04": 25,
                "2024-05": 25,
                "2024-06": 25,
            }
        )
    )
    r2 = compare_periods(flat, ("2024-04", "2024-06"), ("2024-01", "2024-03"), by=None).iloc[0]
    assert r2["method"] == "poisson"
    assert r2["p_value"] == pytest.approx(st.binomtest(75, 135, 91 / 182).pvalue, rel=1e-12)


def test_compare_bad_input_and_straddling_months():
    inc = _inc(_monthly({"2024-01": 3}))
    with pytest.raises(ScribeError, match="method must be"):
        compare_periods(inc, ("2024-02", "2024-02"), ("2024-01", "2024-01"), method="nb")
    with pytest.raises(ScribeError, match="ends before it starts"):
        compare_periods(inc, ("2024-03", "2024-02"), ("2024-01", "2024-01"))
    with pytest.raises(ScribeError, match=r"current must be \(start, end\)"):
        compare_periods(inc, "2024-03", ("2024-01", "2024-01"))
    with pytest.warns(UserWarning, match="3 incident.*straddles the baseline"):
        compare_periods(inc, ("2024-02", "2024-02"), ("2024-01-01", "2024-01-15"))


def test_hour_weekday_exact_only():
    rows = [("2024-01-01 13:20", "exact", "asb", "c")] * 3  # Monday
    rows += [("2024-01-07 23:59", "exact", "asb", "c")]  # Sunday
    rows += [("2024-01-02", "day", "asb", "c"), ("2024-01-01", "month", "asb", "p")]
    t = hour_weekday(_inc(rows))
    assert t.shape == (24, 7) and list(t.columns) == [
        "Mon",
        "Tue",
        "Wed",
        "Thu",
        "Fri",
        "Sat",
        "Sun",
    ]
    assert t.loc[13, "Mon"] == 3 and t.loc[23, "Sun"] == 1 and t.to_numpy().sum() == 4
    assert t.attrs["left_out"] == 2


def test_repeat_locations_by_point_and_text():
    rows = [("2024-01-01", "day", "burglary", "police", 100, 200, "On or near High Street")] * 3
    rows += [("2024-02-01", "day", "asb", "council", 100, 200, "on or near  HIGH street")]
    rows += [("2024-03-01", "day", "asb", "council", 500, 500, "Park Road")]
    out = repeat_locations(_inc(rows))
    assert len(out) == 1
    r = out.iloc[0]
    assert (r["easting"], r["northing"], r["incidents"]) == (100, 200, 4)
    assert r["categories"] == "burglary: 3, asb: 1" and r["partners"] == "council, police"
    assert r["first"] == pd.Timestamp("2024-01-01") and r["last"] == pd.Timestamp("2024-02-01")
    by_text = repeat_locations(_inc(rows), by="text")
    assert by_text["incidents"].tolist() == [4]
    assert len(repeat_locations(_inc(rows), min_count=1)) == 2
    with pytest.raises(ScribeError, match="by must be 'point' or 'text'"):
        repeat_locations(_inc(rows), by="postcode")


def test_counts_bad_input():
    inc = _inc(_monthly({"2024-01": 1}))
    with pytest.raises(ScribeError, match="cannot count by \\['ward'\\]"):
        counts_by_period(inc, by="ward")
    with pytest.raises(ScribeError, match="window must be"):
        counts_by_period(inc, window=0)


def test_compare_keeps_missing_category_as_its_own_group():
    inc = _inc(_monthly({"2024-01": 2, "2024-02": 1}))
    inc.loc[0, "category"] = None
    out = compare_periods(inc, ("2024-02", "2024-02"), ("2024-01", "2024-01")).set_index("category")
    assert out.loc["(not given)", "baseline"] == 1 and out.loc["burglary", "baseline"] == 1
    assert out["current"].sum() + out["baseline"].sum() == 3


def test_harm_weighted_counts():
    rows = _monthly({"2024-01": 2, "2024-02": 1}) + _monthly({"2024-02": 3}, "asb", "council")
    out = counts_by_period(_inc(rows), harm={"burglary": 2.5, "asb": 0.4}).set_index("period")
    # January: 2 burglaries x 2.5 = 5.0; February: 1 x 2.5 + 3 x 0.4 = 3.7
    assert out.loc["2024-01-01", "harm"] == pytest.approx(5.0)
    assert out.loc["2024-02-01", "harm"] == pytest.approx(3.7)
    assert out["count"].tolist() == [2, 4]
