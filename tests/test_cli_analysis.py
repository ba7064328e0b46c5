"""``scribe emerging | near-repeat | trends | evaluate`` on a small store with planted patterns."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import box

from scribe_lib.cli import main
from scribe_lib.schema import INCIDENT_COLUMNS, conform
from scribe_lib.store import open_store


def _frame(partner, x, y, when, category="anti-social-behaviour", start_line=2):
    when = pd.to_datetime(pd.Series(when))
    n = len(when)
    df = pd.DataFrame(
        {
            "partner": partner,
            "source": "council",
            "source_line": np.arange(start_line, start_line + n),
            "category": category,
            "source_category": "Nuisance Behaviour",
            "occurred_at": when.to_numpy(),
            "period_start": when.dt.normalize().to_numpy(),
            "period_end": (when.dt.normalize() + pd.Timedelta(days=1)).to_numpy(),
            "time_precision": "exact",
            "easting": np.asarray(x, float),
            "northing": np.asarray(y, float),
            "location_precision": "exact",
            "location_text": [f"{int(a)} {int(b)}" for a, b in zip(x, y, strict=True)],
        }
    )
    return conform(df, INCIDENT_COLUMNS)


def _submit(st, partner, frame, months, tag):
    sid = st.insert_submission(
        {
            "partner": partner,
            "source": "council",
            "filename": f"{tag}.csv",
            "sha256": tag * 8,
            "received_at": dt.datetime(2025, 1, 5),
            "rows_read": 0,
            "accepted": 0,
            "quarantined": 0,
            "note": None,
        }
    )
    frame = frame.copy()
    frame["incident_id"] = (tag + "-" + frame["source_line"].astype(str)).astype("string")
    frame["submission_id"] = pd.array([sid] * len(frame), dtype="Int64")
    st.write_incidents(frame)
    st.finish_submission(
        sid,
        covers_from=months[0],
        covers_to=months[1],
        rows_read=len(frame),
        accepted=len(frame),
        quarantined=0,
    )


def _pg_database(request) -> str:
    import uuid

    import psycopg
    from conftest import PG_ADMIN

    name = f"scribe_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(PG_ADMIN, autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    request.addfinalizer(drop)
    return f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def store(request, tmp_path_factory):
    """council-a: 1,200 background incidents over 2024 in 6 x 6 km plus 100 near repeats
    (40 m, 2 days) and 120 incidents in one 250 m cell in December; council-b: one
    incident a month at one point, but it never sent April 2024 (no data)."""
    rng = np.random.default_rng(7)
    n = 1200
    x, y = rng.uniform(500_000, 506_000, n), rng.uniform(230_000, 236_000, n)
    t = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 366 * 24 * 60, n), unit="min")
    k = 100
    x2, y2 = x[:k] + 30, y[:k] + 26.4575  # 40 m away
    t2 = t[:k] + pd.Timedelta(days=2)
    x3 = rng.uniform(503_010, 503_240, 120)
    y3 = rng.uniform(233_010, 233_240, 120)
    t3 = pd.Timestamp("2024-12-02") + pd.to_timedelta(
        rng.integers(0, 28 * 24 * 60, 120), unit="min"
    )
    a = _frame(
        "council-a", np.r_[x, x2, x3], np.r_[y, y2, y3], np.r_[t.values, t2.values, t3.values]
    )
    if request.param == "duckdb":
        url = str(tmp_path_factory.mktemp("cli") / "store.duckdb")
    else:  # a fresh PostgreSQL + PostGIS database for this module, dropped after
        url = _pg_database(request)
    st = open_store(url)
    st.init()
    with st.transaction():
        _submit(st, "council-a", a, (dt.date(2024, 1, 1), dt.date(2024, 12, 1)), "aaaa")
        months = [m for m in range(1, 13) if m != 4]
        b = _frame(
            "council-b", [510_000] * 11, [240_000] * 11, [f"2024-{m:02d}-10 12:00" for m in months]
        )
        _submit(st, "council-b", b.iloc[:3], (dt.date(2024, 1, 1), dt.date(2024, 3, 1)), "bbbb")
        _submit(
            st,
            "council-b",
            b.iloc[3:].assign(source_line=np.arange(2, 10)),
            (dt.date(2024, 5, 1), dt.date(2024, 12, 1)),
            "cccc",
        )
    towns = gpd.GeoDataFrame(
        {"name": ["Westham", "Eastham"], "label": ["test town", "test town"]},
        geometry=[box(500_000, 230_000, 503_000, 236_000), box(503_000, 230_000, 506_000, 236_000)],
        crs="EPSG:27700",
    )
    st.write_localities(towns, "town")
    st.close()
    return url


def run(store, *args):
    return main(["--store", store, *args])


def test_emerging_csv_and_geojson(store, tmp_path, capsys):
    out = tmp_path / "em.csv"
    assert run(store, "emerging", "--cell", "250", "--partner", "council-a", "--out", str(out)) == 0
    df = pd.read_csv(out)
    for col in ("cell_id", "x", "y", "incidents", "pattern", "mk_z", "mk_p", "gi_mk_z", "n_hot"):
        assert col in df.columns
    assert df["incidents"].sum() == 1200 + 100 + 120
    hot = df.loc[df["incidents"].idxmax()]
    assert hot["pattern"] == "new hot spot"
    assert (503_000 < hot["x"] < 503_250) and (233_000 < hot["y"] < 233_250)
    assert "new hot spot" in capsys.readouterr().err
    gj = tmp_path / "em.geojson"
    assert run(store, "emerging", "--cell", "250", "--partner", "council-a", "--out", str(gj)) == 0
    g = gpd.read_file(gj)
    assert g.crs.to_epsg() == 4326 and len(g) == len(df)  # RFC 7946, as scribe hotspots
    hx = tmp_path / "hex.gpkg"
    with pytest.warns(UserWarning, match="council-b: 2024-04"):  # all partners: B's gap
        assert run(store, "emerging", "--cell", "250", "--shape", "hex", "--out", str(hx)) == 0
    h = gpd.read_file(hx)
    assert h.crs.to_epsg() == 27700 and set(h.geometry.geom_type) == {"Polygon"}
    assert len(h.geometry.iloc[0].exterior.coords) == 7  # hexagons
    assert h["incidents"].sum() == 1420 + 11


def test_near_repeat_planted(store, tmp_path):
    out = tmp_path / "nr.csv"
    args = [
        "near-repeat",
        "--partner",
        "council-a",
        "--distance-band",
        "100",
        "--distance-bands",
        "3",
        "--time-band",
        "7",
        "--time-bands",
        "3",
        "--permutations",
        "99",
        "--seed",
        "3",
        "--out",
    ]
    assert run(store, *args, str(out)) == 0
    df = pd.read_csv(out)
    assert len(df) == 5 * 4  # (same, 3 bands, beyond) x (3 bands, beyond)
    cell = df[(df["distance_band"] == "0 < d <= 100 m") & (df["time_band"] == "0 to 7 days")].iloc[
        0
    ]
    assert (
        cell["observed"] >= 100
        and cell["knox_ratio"] > 3
        and cell["p_value"] == pytest.approx(0.01)
    )
    out2 = tmp_path / "nr2.csv"
    assert run(store, *args, str(out2)) == 0
    pd.testing.assert_frame_equal(df, pd.read_csv(out2))  # same seed, same table


def test_trends_counts_leave_no_data_month_blank(store, tmp_path):
    out = tmp_path / "tr.csv"
    assert run(store, "trends", "--by", "partner", "--out", str(out)) == 0
    df = pd.read_csv(out, parse_dates=["period"])
    b = df[df["partner"] == "council-b"].set_index("period")
    assert len(b) == 12
    assert np.isnan(b.loc["2024-04-01", "count"])  # never sent: blank, not 0
    assert b.loc["2024-05-01", "count"] == 1
    a = df[df["partner"] == "council-a"]
    assert a["count"].sum() == 1420


def test_trends_compare_hours_repeats(store, tmp_path):
    out = tmp_path / "cmp.csv"
    assert (
        run(
            store,
            "trends",
            "--table",
            "compare",
            "--partner",
            "council-a",
            "--current",
            "2024-12:2024-12",
            "--baseline",
            "2024-11:2024-11",
            "--out",
            str(out),
        )
        == 0
    )
    r = pd.read_csv(out).iloc[0]
    assert r["current"] > r["baseline"] and r["significant"]
    hours = tmp_path / "h.csv"
    assert run(store, "trends", "--table", "hours", "--out", str(hours)) == 0
    h = pd.read_csv(hours)
    assert (
        h.shape == (24, 8)
        and h[["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]].to_numpy().sum() == 1431
    )
    rep = tmp_path / "r.csv"
    assert (
        run(store, "trends", "--table", "repeats", "--partner", "council-b", "--out", str(rep)) == 0
    )
    assert pd.read_csv(rep)["incidents"].tolist() == [11]


def test_evaluate_before_after_and_wdq(store, tmp_path, capsys):
    out = tmp_path / "ev.csv"
    assert (
        run(
            store,
            "evaluate",
            "--partner",
            "council-a",
            "--area",
            "503125,233125,200",
            "--date",
            "2024-12-01",
            "--months",
            "3",
            "--buffer",
            "300",
            "--control",
            "POLYGON ((500000 230000, 502000 230000, 502000 232000, 500000 232000, 500000 230000))",
            "--seed",
            "1",
            "--out",
            str(out),
        )
        == 0
    )
    df = pd.read_csv(out).set_index("area")
    assert list(df.index) == ["treated", "buffer", "control"]
    assert df.loc["treated", "after"] > df.loc["treated", "before"]
    assert "wdq" in df.columns and "WDQ" in capsys.readouterr().err
    gp = tmp_path / "ev.gpkg"
    assert (
        run(
            store,
            "evaluate",
            "--partner",
            "council-a",
            "--area",
            "503125,233125,200",
            "--date",
            "2024-12-01",
            "--out",
            str(gp),
        )
        == 0
    )
    g = gpd.read_file(gp)
    assert g.geometry.iloc[0].area == pytest.approx(np.pi * 200**2, rel=0.01)


def test_bad_inputs(store, tmp_path, capsys):
    assert run(store, "trends", "--out", str(tmp_path / "x.txt")) != 0
    assert "use a .csv, .geojson or .gpkg" in capsys.readouterr().err
    assert run(store, "trends", "--table", "compare", "--out", str(tmp_path / "c.csv")) != 0
    assert "needs --current and --baseline" in capsys.readouterr().err
    assert run(store, "trends", "--table", "hours", "--out", str(tmp_path / "h.geojson")) != 0
    assert "write it as .csv" in capsys.readouterr().err
    assert (
        run(
            store,
            "evaluate",
            "--area",
            "nowhere at all",
            "--date",
            "2024-12-01",
            "--out",
            str(tmp_path / "e.csv"),
        )
        == 2
    )
    assert "'nowhere at all' is not a file" in capsys.readouterr().err
    assert run(store, "emerging", "--partner", "nobody", "--out", str(tmp_path / "e.csv")) == 2
    assert "no incident matches" in capsys.readouterr().err


def test_trends_by_locality_kind(store, tmp_path):
    out = tmp_path / "areas.csv"
    assert run(store, "trends", "--partner", "council-a", "--areas", "town", "--out", str(out)) == 0
    df = pd.read_csv(out)
    assert set(df["area"].dropna()) == {"Westham", "Eastham"}
    # nothing lost: a few near repeats shifted 30 m east of x = 506,000 fall outside both
    # towns and are counted with a blank area
    assert df["count"].sum() == 1420
    assert 0 < df.loc[df["area"].isna(), "count"].sum() < 10
    east = df.loc[df["area"] == "Eastham", "count"].sum()
    assert east >= 120  # the December cluster is at x 503,010-503,240: Eastham
    assert run(store, "trends", "--areas", "ward", "--out", str(out)) == 2


def test_harm_options(store, tmp_path):
    import yaml

    from scribe_lib.stats.harm import load_harm_weights

    out = tmp_path / "harm.csv"
    assert run(store, "trends", "--partner", "council-b", "--harm", "--out", str(out)) == 0
    w = load_harm_weights()["anti-social-behaviour"]
    assert pd.read_csv(out)["harm"].sum() == pytest.approx(11 * w)  # 11 incidents, one category
    weights = load_harm_weights() | {"anti-social-behaviour": 7.0}
    table = tmp_path / "w.yml"
    table.write_text(yaml.safe_dump({"version": 1, "unit": "test", "weights": weights}))
    em = tmp_path / "em.csv"
    with pytest.warns(UserWarning, match="council-b: 2024-04"):
        assert run(store, "emerging", "--cell", "500", "--partner", "council-b", "--harm-file",
                   str(table), "--out", str(em)) == 0  # fmt: skip
    assert pd.read_csv(em)["harm"].sum() == pytest.approx(11 * 7.0)


def test_emerging_warns_about_a_partner_month_with_no_data(store, tmp_path, capsys):
    out = tmp_path / "b.csv"
    with pytest.warns(UserWarning, match="council-b: 2024-04"):
        assert run(store, "emerging", "--cell", "500", "--out", str(out)) == 0
