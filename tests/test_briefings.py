"""Briefing logic without papermill: periods, schedule, responses, audience view, WDQ, index."""

from __future__ import annotations

import datetime as dt
import grp
import json
import math
import os
import stat
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from scribe_lib.briefings import (
    BriefingResult,
    audience_view,
    load_responses,
    load_schedule,
    parse_period,
    publish_dir,
    publish_file,
    wdq,
)
from scribe_lib.briefings.index import write_index
from scribe_lib.errors import ConfigError, NotFoundError

LONDON = ZoneInfo("Europe/London")


# -- periods ------------------------------------------------------------------------------
def test_period_previous_and_last_year():
    p = parse_period("2024-03")
    assert (str(p.previous()), str(p.last_year())) == ("2024-02", "2023-03")
    assert p.start_date == pd.Timestamp("2024-03-01") and p.end_date == pd.Timestamp("2024-04-01")
    q = parse_period("2023-11..2024-01")
    assert q.months == 3
    assert str(q.previous()) == "2023-08..2023-10"
    assert q.label() == "November 2023 to January 2024"


@pytest.mark.parametrize("bad", ["2024-13", "24-01", "2024/01", "", "2024-03..2024-01"])
def test_period_rejects_bad_text(bad):
    with pytest.raises(ConfigError, match="YYYY-MM|before it starts"):
        parse_period(bad)


# -- schedule -----------------------------------------------------------------------------
def _schedule(tmp_path, body: str):
    f = tmp_path / "schedule.yml"
    f.write_text(body, encoding="utf-8")
    return load_schedule(f)


GOOD = """
timezone: Europe/London
monthly: {day: 3, time: "06:30"}
out: /srv/briefings
briefings:
  - audience: luton-council
    localities: [Luton]
  - audience: csp-analysts
    localities: all
    unix_group: csp
"""


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # before the run on the run day (BST): today
        (dt.datetime(2024, 7, 3, 6, 29, tzinfo=LONDON), dt.datetime(2024, 7, 3, 6, 30)),
        # exactly at the run time: strictly after, so next month
        (dt.datetime(2024, 7, 3, 6, 30, tzinfo=LONDON), dt.datetime(2024, 8, 3, 6, 30)),
        # given in UTC: 05:29 UTC is 06:29 BST, still before the run
        (dt.datetime(2024, 7, 3, 5, 29, tzinfo=dt.UTC), dt.datetime(2024, 7, 3, 6, 30)),
        # December rolls over to January (GMT)
        (dt.datetime(2024, 12, 20, 12, 0, tzinfo=LONDON), dt.datetime(2025, 1, 3, 6, 30)),
        # early in the month, before the day
        (dt.datetime(2025, 3, 1, 0, 0, tzinfo=LONDON), dt.datetime(2025, 3, 3, 6, 30)),
    ],
)
def test_schedule_next_run(tmp_path, now, expected):
    s = _schedule(tmp_path, GOOD)
    got = s.next_run(now)
    assert got.replace(tzinfo=None) == expected
    assert got.tzinfo is not None and got.utcoffset() == expected.replace(tzinfo=LONDON).utcoffset()


def test_schedule_previous_run_is_the_one_a_stopped_service_missed(tmp_path):
    s = _schedule(tmp_path, GOOD)
    on_time = dt.datetime(2024, 7, 3, 6, 30, tzinfo=LONDON)
    assert s.previous_run(on_time) == on_time
    assert s.previous_run(on_time - dt.timedelta(minutes=1)) == dt.datetime(
        2024, 6, 3, 6, 30, tzinfo=LONDON
    )
    assert s.previous_run(dt.datetime(2025, 1, 2, tzinfo=LONDON)) == dt.datetime(
        2024, 12, 3, 6, 30, tzinfo=LONDON
    )


def test_schedule_period_and_audiences(tmp_path):
    s = _schedule(tmp_path, GOOD)
    run = s.next_run(dt.datetime(2025, 1, 10, tzinfo=dt.UTC))
    assert str(s.period_for(run)) == "2025-01"  # the run on 3 Feb briefs January
    quarterly = _schedule(tmp_path, GOOD + "months: 3\n")
    assert str(quarterly.period_for(run)) == "2024-11..2025-01"
    assert [b.audience for b in s.briefings] == ["luton-council", "csp-analysts"]
    assert s.briefings[0].localities == ("Luton",) and s.briefings[1].localities is None
    assert [b.unix_group for b in s.briefings] == ["luton-council", "csp"]


def test_the_committed_schedule_is_valid():
    from scribe_lib.commands.briefings import _DEFAULT_SCHEDULE

    s = load_schedule(_DEFAULT_SCHEDULE)
    assert 1 <= s.day <= 28 and s.briefings


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("day: 3", "day: 31"), "from 1 to 28"),
        (('time: "06:30"', 'time: "6.30pm"'), "HH:MM"),
        (("Europe/London", "Europe/Atlantis"), "unknown time zone"),
        (("out: /srv/briefings", "out: ''"), "published to is required"),
        (("unix_group: csp", "unix_group: CSP Analysts"), "cannot be a Unix group"),
        (("localities: [Luton]", "localities: 7"), "'all' or a list"),
    ],
)
def test_schedule_rejects_bad_files(tmp_path, change, message):
    with pytest.raises(ConfigError, match=message):
        _schedule(tmp_path, GOOD.replace(*change))


def test_publish_dir_is_group_owned_and_private(tmp_path):
    group = grp.getgrgid(os.getgid()).gr_name
    d = publish_dir(tmp_path / "briefings", "luton-council", group)
    assert stat.S_IMODE(d.stat().st_mode) == 0o2770
    assert d.stat().st_gid == os.getgid()
    assert stat.S_IMODE((tmp_path / "briefings").stat().st_mode) == 0o711
    run = d / "2024-06"
    run.mkdir()
    (run / "luton.html").write_text("x")
    publish_file(run, group)
    assert stat.S_IMODE((run / "luton.html").stat().st_mode) == 0o640
    assert stat.S_IMODE(run.stat().st_mode) == 0o2770


def test_publish_dir_needs_the_group(tmp_path):
    with pytest.raises(ConfigError, match="Unix group 'no-such-org-group' does not exist"):
        publish_dir(tmp_path, "x", "no-such-org-group")


# -- responses ----------------------------------------------------------------------------
def test_demo_responses_load_sorted_with_areas():
    r = load_responses("Stotfold")
    assert list(r.actions["start"]) == sorted(r.actions["start"])
    assert len(r.actions) == 4
    circle = r.actions.loc[r.actions["start"] == pd.Timestamp("2025-09-05"), "area"].iloc[0]
    assert circle.area == pytest.approx(math.pi * 400**2, rel=0.01)  # radius_m: 400
    assert r.actions["area"].isna().sum() == 1  # the fire service action covers the locality
    assert load_responses("Nowhere Town").actions.empty


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("actions:\n  - title: Patrols\n", "no start date"),
        ("actions:\n  - title: Patrols\n    start: 5th May\n", "YYYY-MM-DD"),
        ("actions:\n  - start: 2024-05-01\n", "says no action"),
        (
            "actions:\n  - {title: P, start: 2024-05-01, area: 'POLYGON ((1 1'}\n",
            "cannot read the area",
        ),
        ("actions: [1]\n", "must be a mapping"),
        ("buffer_m: -5\nactions: []\n", "positive number of metres"),
    ],
)
def test_bad_response_files_name_file_and_key(tmp_path, body, message):
    (tmp_path / "sandy.yml").write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as err:
        load_responses("Sandy", tmp_path)
    assert "sandy.yml" in str(err.value)


# -- the agreement applied to a briefing ---------------------------------------------------
def _incidents():
    rows = [
        # partner, category, easting, northing
        ("bedfordshire-police", "burglary", 509123.0, 221987.0),
        ("bedfordshire-police", "drugs", 509200.0, 221900.0),
        ("bedfordshire-police", "anti-social-behaviour", 509050.0, 221010.0),
        ("bedfordshire-fire", "deliberate-secondary-fire", 509300.0, 221300.0),
        ("luton-council", "noise", 509111.0, 221222.0),
        ("central-bedfordshire-council", "fly-tipping", 509001.0, 221001.0),
    ]
    df = pd.DataFrame(rows, columns=["partner", "category", "easting", "northing"])
    df["period_start"] = pd.Timestamp.now().normalize() - pd.DateOffset(months=1)
    df["description"] = "free text"
    df["location_text"] = "On or near High Street"
    df["lon"], df["lat"] = -0.4, 51.9
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df.easting, df.northing), crs=27700)


def test_luton_council_view_follows_the_agreement():
    inc = _incidents()
    before = inc.copy()
    v = audience_view(inc, "luton-council")
    pd.testing.assert_frame_equal(inc, before)  # the caller's frame is untouched
    got = v.incidents.sort_values("category")
    # crime and asb from the police (street precision), all its own data; fire is
    # aggregate-only and Central Bedfordshire's data is not shared with Luton.
    assert list(got["category"]) == ["anti-social-behaviour", "burglary", "drugs", "noise"]
    police = got[got["partner"] == "bedfordshire-police"].sort_values("category")
    # snapped to the centre of the 100 m square: 509123 -> 509150, 221987 -> 221950
    assert police["easting"].tolist() == [509050.0, 509150.0, 509250.0]
    assert police["northing"].tolist() == [221050.0, 221950.0, 221950.0]
    assert police["description"].isna().all() and police["location_text"].isna().all()
    own = got[got["partner"] == "luton-council"].iloc[0]
    assert own["easting"] == 509111.0 and own["description"] == "free text"
    assert got.geometry.x.tolist() == got["easting"].tolist()
    assert v.suppress_below == {"anti-social-behaviour": 5, "burglary": 5, "drugs": 5}
    assert any("area counts only" in n for n in v.notes)
    assert v.enforced_by == "python"


def test_analysts_see_everything_and_unknown_org_is_refused():
    inc = _incidents()
    assert len(audience_view(inc, "csp-analysts").incidents) == len(inc)
    assert audience_view(inc, None).enforced_by == "none"
    with pytest.raises(
        NotFoundError,
        match="'parish-council' is not in the data-sharing agreement.*known: bedford-council",
    ):
        audience_view(inc, "parish-council")


# -- Weighted Displacement Quotient, hand-worked -------------------------------------------
def test_wdq_matches_a_hand_worked_example():
    area = box(0, 0, 100, 100)  # A; buffer B = 50 m ring around it; C beyond
    counts = {  # zone: (before, after)
        "A": (20, 10, (50, 50)),
        "B": (10, 8, (120, 50)),
        "C": (40, 50, (400, 400)),
    }
    rows = []
    for before, after, (x, y) in counts.values():
        rows += [(x, y, "2024-01-15")] * before + [(x, y, "2024-04-15")] * after
    df = pd.DataFrame(rows, columns=["easting", "northing", "day"])
    df["period_start"] = pd.to_datetime(df["day"]).dt.to_period("M").dt.start_time
    df["category"] = "burglary"
    inc = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df.easting, df.northing), crs=27700)
    actions = pd.DataFrame([{"action": "Target hardening", "start": pd.Timestamp("2024-04-01"),
                             "end": pd.NaT, "lead": "", "categories": None, "area": area}])  # fmt: skip
    asked = []

    def load_wide(cats, first, last):  # the partnership's incidents in those months
        asked.append((cats, str(first), str(last)))
        return inc

    b = SimpleNamespace(period=parse_period("2024-06"), categories=None, load_wide=load_wide,
                        responses=SimpleNamespace(actions=actions, buffer=50.0))  # fmt: skip
    got = wdq(b, months=3).iloc[0]
    assert asked == [(None, "2024-01", "2024-06")]  # 3 months either side of April
    # Bowers & Johnson: success = 10/50 - 20/40 = -0.3; buffer = 8/50 - 10/40 = -0.09
    assert (got["A before"], got["A after"], got["B before"], got["B after"]) == (20, 10, 10, 8)
    assert (got["C before"], got["C after"]) == (40, 50)
    assert got["Success"] == pytest.approx(-0.3)
    assert got["WDQ"] == pytest.approx(0.3)
    assert got["Reading"] == "diffusion of benefit to the buffer"
    # total net effect: (20 x 50/40 - 10) + (10 x 50/40 - 8) = 15 + 4.5 incidents prevented
    assert got["TNE"] == pytest.approx(19.5)


# -- index --------------------------------------------------------------------------------
def test_index_lists_failures_with_cell_and_error(tmp_path):
    ok = BriefingResult(
        "Luton", True, 3.2, html=str(tmp_path / "luton.html"), pdf=str(tmp_path / "luton.pdf")
    )
    bad = BriefingResult("Atlantis", False, 1.0, stage="execute", cell=2,
                         cell_source="b = sb.prepare(", error="NotFoundError: unknown locality 'Atlantis'")  # fmt: skip
    page = write_index(
        [ok, bad], tmp_path, {"period": "2024-06", "wall_seconds": 4.2, "workers": 2}
    )
    text = page.read_text()
    assert 'href="luton.html"' in text and 'href="luton.pdf"' in text
    assert "cell 2 (execute): NotFoundError: unknown locality &#x27;Atlantis&#x27;" in text
    assert "1 of 2 briefings rendered" in text
    doc = json.loads((tmp_path / "index.json").read_text())
    assert doc["failed"] == 1 and doc["results"][1]["cell"] == 2
    assert not np.isnan(doc["wall_seconds"])


# -- command line -------------------------------------------------------------------------
def test_run_needs_localities_and_a_good_period(tmp_path, capsys):
    from scribe_lib.cli import main

    store = tmp_path / "s.duckdb"
    store.write_bytes(b"")
    base = ["--store", str(store), "briefings", "run", "--out", str(tmp_path)]
    assert main([*base, "--period", "2024-06"]) == 2
    assert "give --locality NAME (one or more) or --all" in capsys.readouterr().err
    assert main([*base, "--period", "June", "--all"]) == 2
    assert "period must be a month written YYYY-MM" in capsys.readouterr().err


def test_schedule_command_shows_the_next_run(tmp_path, capsys):
    from scribe_lib.cli import main

    f = tmp_path / "s.yml"
    f.write_text(GOOD, encoding="utf-8")
    assert main(["briefings", "schedule", "--file", str(f), "--now", "2024-12-20T12:00+00:00"]) == 0
    out = capsys.readouterr().out
    assert "Next run: 2025-01-03T06:30:00+00:00" in out
    assert "Period:   2024-12 (December 2024)" in out
    assert "luton-council: Luton -> /srv/briefings/luton-council/2024-12" in out
    assert "Last run: none recorded" in out


# -- the hub service --------------------------------------------------------------------------
def test_service_config_has_its_own_minimal_role(tmp_path):
    from scribe_lib.briefing_service import briefing_service_config

    f = tmp_path / "s.yml"
    f.write_text(GOOD, encoding="utf-8")
    settings = SimpleNamespace(
        unix_prefix="scribe-", agreement_path="/etc/agreement.yml", admin_url="postgresql://x"
    )
    service, role = briefing_service_config(settings, schedule=f)
    assert service["name"] == "scribe-briefings" and "api_token" not in service
    assert service["command"][1:] == ["-m", "scribe_lib.briefing_service"]
    assert service["environment"]["SCRIBE_BRIEFINGS_SCHEDULE"] == str(f)
    assert service["environment"]["SCRIBE_AGREEMENT"] == "/etc/agreement.yml"
    assert role["services"] == ["scribe-briefings"]
    # read the members of the audience groups, nothing else
    assert role["scopes"] == ["read:groups!group=csp-analysts", "read:groups!group=luton-council"]


@pytest.mark.parametrize(
    ("area", "cell", "expected"),
    [
        (4.5e6, None, (150.0, 300.0)),  # a town: 200 cells of 150 m
        (1.5e9, None, (500.0, 1000.0)),  # a county: sqrt(1.5e9 / 6000) = 500 m
        (1.51e9, None, (550.0, 1100.0)),  # rounded up to the next 50 m
        (None, None, (150.0, 300.0)),
        (1.5e9, 200.0, (200.0, 400.0)),  # an explicit cell wins
    ],
)
def test_map_scale_keeps_the_grid_small(area, cell, expected):
    from scribe_lib.briefings.analysis import map_scale

    assert map_scale(area, cell) == expected


def test_holm_adjustment_by_hand():
    from scribe_lib.briefings.analysis import _holm

    # sorted 0.005, 0.01, 0.03, 0.04 -> x4, x3, x2, x1 = 0.02, 0.03, 0.06, 0.04 -> monotone 0.06
    got = _holm(np.array([0.01, 0.04, 0.03, 0.005]))
    np.testing.assert_allclose(got, [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(_holm(np.array([0.5, 0.9])), [1.0, 1.0])


def test_suppressed_counts_cannot_be_recovered_from_the_briefing():
    from scribe_lib.briefings import AudienceView, Briefing, Responses

    table = pd.DataFrame({
        "category": ["burglary", "noise"], "Category": ["Burglary", "Noise nuisance"],
        "This period": pd.array([9, 3], dtype="Int64"), "Previous period": pd.array([11, 4], dtype="Int64"),
        "Change": pd.array([-2, -1], dtype="Int64"), "p (previous)": [0.824, 1.0],
        "Same period last year": pd.array([2, 0], dtype="Int64"),
        "Change on last year": pd.array([7, 3], dtype="Int64"), "p (last year)": [0.065, 0.25],
    })  # fmt: skip
    view = AudienceView(gpd.GeoDataFrame(), "luton-council", [], {"burglary": 5}, "python")
    b = Briefing("X", parse_period("2024-06"), parse_period("2024-05"), parse_period("2023-06"),
                 None, view, None, pd.DataFrame(), Responses("X", pd.DataFrame()), "", "duckdb")  # fmt: skip
    shown = b.shown(table).set_index("category")
    # burglary last year (2) is suppressed, and so are the change and p that would reveal it
    assert shown.loc["burglary"].tolist()[1:] == [
        "9",
        "11",
        -2,
        "0.824",
        "<5",
        "suppressed",
        "suppressed",
    ]
    # noise is the council's own data: nothing suppressed (3 is shown)
    assert (
        shown.loc["noise", "This period"] == "3" and shown.loc["noise", "Change on last year"] == 3
    )
    # nothing of this period is suppressed: its total may be given
    assert "12 incidents were recorded" in " ".join(b.scanning_sentences(table))
    table.loc[0, "This period"] = 3  # now burglary's count is suppressed: no total to subtract from
    words = " ".join(b.scanning_sentences(table))
    assert (
        "6 incidents" not in words
        and "Incidents were recorded in X in June 2024 in 2 categories" in words
    )
    assert b.shown(table).loc[0, "This period"] == "<5"
