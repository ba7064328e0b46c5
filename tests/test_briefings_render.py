"""Briefings end to end: the demo store, papermill, HTML, PDF, index, audiences, the service.

Every number read back from a rendered briefing is checked against an independent count
on the store's own tables (DuckDB SQL + shapely), not against the briefing code.
"""

from __future__ import annotations

import grp
import json
import os
import stat
import subprocess
import sys
from importlib import resources
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import shapely
import yaml
from bs4 import BeautifulSoup

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PERIOD = "2025-11"  # the demo runs to 2025-12; the demo responses start Sep-Nov 2025
GOOD = ["Stotfold", "Sandy", "Ampthill"]
BROKEN = "Atlantis"  # not a locality: its briefing must fail alone


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from scribe_lib.demo import build_demo

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    build_demo(str(path), seed=11, scale=0.15)
    return str(path)


@pytest.fixture(scope="module")
def rendered(demo, tmp_path_factory):
    """``scribe briefings run`` as a user runs it: three localities and a broken one.

    It runs in a network namespace of its own with no network at all (``unshare -n``: not
    even loopback is up), which proves the briefings render offline.
    """
    out = tmp_path_factory.mktemp("briefings")
    args = [
        "--store",
        demo,
        "briefings",
        "run",
        "--period",
        PERIOD,
        "--out",
        str(out),
        "--jobs",
        "2",
    ]
    for name in [*GOOD, BROKEN]:
        args += ["--locality", name]
    cmd = ["unshare", "-n", sys.executable, "-m", "scribe_lib.cli", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    return out, proc


# -- independent answers from the store ------------------------------------------------------
def _store_incidents(path: str, locality: str) -> pd.DataFrame:
    con = duckdb.connect(path, read_only=True)
    try:
        inc = con.execute(
            "SELECT i.partner, i.category, i.easting, i.northing, i.period_start FROM incidents i "
            "JOIN submissions s ON s.submission_id = i.submission_id WHERE s.superseded_by IS NULL"
        ).df()
        wkb = con.execute("SELECT geom FROM localities WHERE name = ?", [locality]).fetchone()[0]
    finally:
        con.close()
    area = shapely.from_wkb(bytes(wkb))
    pts = shapely.points(inc["easting"].to_numpy(float), inc["northing"].to_numpy(float))
    keep = inc["easting"].notna().to_numpy() & shapely.covers(area, pts)
    return inc[keep]


def _month_counts(inc: pd.DataFrame, month: str) -> dict[str, int]:
    m = inc[inc["period_start"].dt.strftime("%Y-%m") == month]
    return m["category"].value_counts().to_dict()


def _labels() -> dict[str, str]:
    doc = yaml.safe_load(
        resources.files("scribe_lib").joinpath("data/taxonomy.yml").read_text("utf-8")
    )
    return {v["label"]: k for k, v in doc["categories"].items()}


def _scanning(html_path: Path) -> pd.DataFrame:
    soup = BeautifulSoup(html_path.read_text(encoding="utf-8"), "html.parser")
    table = soup.find("table", id="scanning-table")
    head = [th.get_text(strip=True) for th in table.find("thead").find_all("th")]
    rows = [
        [td.get_text(strip=True) for td in tr.find_all("td")]
        for tr in table.find("tbody").find_all("tr")
    ]
    return pd.DataFrame(rows, columns=head)


# -- the run ----------------------------------------------------------------------------------
def test_a_broken_locality_fails_alone_and_is_reported(rendered):
    out, proc = rendered
    assert proc.returncode == 1, proc.stderr
    assert f"1 of 4 briefing(s) failed: {BROKEN}" in proc.stderr
    assert "[4/4]" in proc.stderr  # progress, one line per locality
    doc = json.loads((out / "index.json").read_text())
    by = {r["locality"]: r for r in doc["results"]}
    assert [by[n]["ok"] for n in GOOD] == [True, True, True]
    bad = by[BROKEN]
    assert not bad["ok"] and bad["stage"] == "execute" and bad["cell"] == 2
    assert bad["error"].startswith("NotFoundError: unknown locality 'Atlantis'")
    index = (out / "index.html").read_text()
    assert "FAILED" in index and "cell 2 (execute): NotFoundError" in index
    for name in GOOD:
        slug = name.lower()
        assert f'href="{slug}.html"' in index and f'href="{slug}.pdf"' in index


@pytest.mark.parametrize("locality", GOOD)
def test_scanning_numbers_equal_the_store(rendered, demo, locality):
    out, _ = rendered
    table = _scanning(out / f"{locality.lower()}.html")
    labels = _labels()
    inc = _store_incidents(demo, locality)
    expected = {
        "This period": _month_counts(inc, "2025-11"),
        "Previous period": _month_counts(inc, "2025-10"),
        "Same period last year": _month_counts(inc, "2024-11"),
    }
    seen = set()
    for _, row in table.iterrows():
        cat = labels[row["Category"]]
        seen.add(cat)
        for col, counts in expected.items():
            assert row[col] != "no data", (
                f"{locality} {cat} {col}: the demo has no gaps in 2024-11..2025-11"
            )
            assert int(row[col]) == counts.get(cat, 0), (locality, cat, col)
    every = set().union(*(set(c) for c in expected.values()))
    assert every <= seen  # no category with incidents is missing from the table
    html = (out / f"{locality.lower()}.html").read_text(encoding="utf-8")
    total = sum(expected["This period"].values())
    assert f"{total} incidents were recorded in {locality} in November 2025" in html


@pytest.mark.parametrize("locality", GOOD)
def test_html_is_self_contained_with_code_hidden(rendered, locality):
    out, _ = rendered
    html = (out / f"{locality.lower()}.html").read_text(encoding="utf-8")
    soup = BeautifulSoup(html, "html.parser")
    assert not soup.find_all("script", src=True)
    assert not soup.find_all("link")
    srcs = [t["src"] for t in soup.find_all(src=True)]
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs)  # map + heat map
    assert "import scribe_lib" not in html and "sb.prepare" not in html  # no code
    for section in ("S: Scanning", "A: Analysis", "R: Response", "A: Assessment"):
        assert section in soup.get_text()
    assert soup.find("div", class_="scribe-mark").get_text() == "SCRIBE"


@pytest.mark.parametrize("locality", GOOD)
def test_pdf_has_pages_and_names_the_locality(rendered, locality):
    out, _ = rendered
    pdf = out / f"{locality.lower()}.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    assert pages >= 2
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert f"{locality}: locality briefing" in text
    assert "Scanning" in text and "Assessment" in text


def test_response_and_assessment_of_stotfold(rendered):
    out, _ = rendered
    soup = BeautifulSoup((out / "stotfold.html").read_text(encoding="utf-8"), "html.parser")
    actions = [
        tr.find("td").get_text(strip=True)
        for tr in soup.find(id="response-table").tbody.find_all("tr")
    ]
    doc = yaml.safe_load(
        resources.files("scribe_lib")
        .joinpath("data/demo/responses/stotfold.yml")
        .read_text("utf-8")
    )
    recorded = sorted(doc["actions"], key=lambda a: str(a["start"]))
    assert actions == [a["title"] for a in recorded]
    ba = soup.find(id="before-after-table")
    assert len(ba.tbody.find_all("tr")) == len(recorded)
    assert soup.find(id="wdq-table") is not None  # three actions have an area


# -- an audience's view -----------------------------------------------------------------------
def test_a_council_briefing_shows_the_councils_view(demo, tmp_path):
    from scribe_lib.access import load_agreement
    from scribe_lib.briefings import jobs_for, run_briefings
    from scribe_lib.briefings.audience import agreement_path

    org = "central-bedfordshire-council"
    jobs = jobs_for(
        ["Stotfold"], period=PERIOD, out=str(tmp_path), store=demo, audience=org, pdf=False
    )
    (res,) = run_briefings(jobs, workers=1)
    assert res.ok, res.error
    html = Path(res.html).read_text(encoding="utf-8")
    assert "Prepared for:</b> Central Bedfordshire Council" in html
    assert "applied by SCRIBE in Python (embedded store)" in html
    # independently: which partners and categories the agreement lets this org see
    ag = load_agreement(agreement_path())
    rules = {r.partner: r for r in ag.organisations[org].rules}
    inc = _store_incidents(demo, "Stotfold")
    allowed = np.zeros(len(inc), bool)
    for partner, rule in rules.items():
        if rule.precision == "aggregate":
            continue
        mine = (inc["partner"] == partner).to_numpy()
        if rule.categories is not None:
            mine = mine & inc["category"].isin(rule.categories).to_numpy()
        allowed |= mine
    seen = inc[allowed]
    assert set(inc["category"]) - set(seen["category"])  # something is withheld (fire)
    labels = _labels()
    table = _scanning(Path(res.html))
    got = {labels[c]: v for c, v in zip(table["Category"], table["This period"], strict=True)}
    assert set(got) <= set(seen["category"])  # nothing the agreement withholds
    below = ag.suppress_counts_below
    suppressing = [p for p, r in rules.items() if r.suppress_small_counts]
    small = set(seen.loc[seen["partner"].isin(suppressing), "category"])
    expected = _month_counts(seen, "2025-11")
    for cat, shown in got.items():
        n = expected.get(cat, 0)
        assert shown == (f"<{below}" if cat in small and 0 < n < below else str(n)), cat


# -- the scheduled run, as the hub service does it --------------------------------------------
def test_service_run_publishes_for_the_org_group_only(demo, tmp_path, caplog):
    from scribe_lib.briefing_service import run_scheduled
    from scribe_lib.briefings import load_schedule

    group = grp.getgrgid(os.getgid()).gr_name
    f = tmp_path / "schedule.yml"
    f.write_text(
        f"monthly: {{day: 3, time: '06:30'}}\nout: {tmp_path / 'pub'}\nstore: {demo}\n"
        "sync_unix_groups: false\njobs: 1\n"
        "briefings:\n  - audience: bedford-council\n    localities: [Bedford]\n"
        "    unix_group: no-such-group-here\n"  # fails: the others still get theirs
        f"  - audience: luton-council\n    localities: [Luton]\n    unix_group: {group}\n",
        encoding="utf-8",
    )
    with caplog.at_level("ERROR", logger="scribe.briefings.service"):
        done = run_scheduled(load_schedule(f), PERIOD, members=lambda org: [])
    assert "briefings for bedford-council failed" in caplog.text
    assert "Unix group 'no-such-group-here' does not exist" in caplog.text
    assert list(done) == ["luton-council"]
    (res,) = done["luton-council"]
    assert res.ok, res.error
    d = tmp_path / "pub" / "luton-council" / PERIOD
    assert stat.S_IMODE(d.parent.stat().st_mode) == 0o2770
    assert stat.S_IMODE(d.stat().st_mode) == 0o2770 and d.stat().st_gid == os.getgid()
    for name in ("luton.html", "luton.pdf", "index.html"):
        assert stat.S_IMODE((d / name).stat().st_mode) == 0o640
    assert "Luton Borough Council" in (d / "luton.html").read_text(encoding="utf-8")
