"""Every notebook in notebooks/analysis/ runs with papermill on a small demo store.

The demo store is built once per session (``scribe_lib.demo.build_demo``, small scale,
into a temporary DuckDB file). Each notebook must run without an error and draw at least
one chart; the notebooks that end with a cell tagged ``summary`` are checked against
numbers computed here independently from the store.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import numpy as np
import papermill as pm
import pytest

import scribe_lib

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks" / "analysis").glob("*.ipynb"))
#: quick settings for parameters a notebook declares (others keep their defaults).
FAST = {"permutations": 99, "n_boot": 200, "boot": 200, "seed": 1}
pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory) -> str:
    from scribe_lib.demo import build_demo

    path = tmp_path_factory.mktemp("analysis-notebooks") / "demo.duckdb"
    build_demo(str(path), seed=2024, scale=0.05)
    return str(path)


@pytest.fixture(scope="session")
def executed(demo_store, tmp_path_factory):
    """Run a notebook once per session; returns the executed notebook."""
    cache: dict[str, nbformat.NotebookNode] = {}
    out_dir = tmp_path_factory.mktemp("executed")

    def run(path: Path) -> nbformat.NotebookNode:
        if path.name not in cache:
            declared = pm.inspect_notebook(str(path))
            assert "store" in declared, f"{path.name}: the parameters cell must declare 'store'"
            params = {"store": demo_store} | {k: v for k, v in FAST.items() if k in declared}
            out = out_dir / path.name
            pm.execute_notebook(
                str(path), str(out), parameters=params, kernel_name="python3",
                cwd=str(out_dir), progress_bar=False,
            )  # fmt: skip
            cache[path.name] = nbformat.read(out, as_version=4)
        return cache[path.name]

    return run


def _summary(nb) -> dict:
    for cell in nb.cells:
        if "summary" in cell.get("metadata", {}).get("tags", []):
            for o in cell.outputs:
                if o.output_type == "execute_result":
                    return ast.literal_eval(o["data"]["text/plain"])
    raise AssertionError("no executed cell tagged 'summary'")


def test_there_are_analysis_notebooks():
    names = {p.stem for p in NOTEBOOKS}
    assert {"emerging_hotspots", "trends", "near_repeat", "evaluation"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_without_error_and_draws(path, executed):
    nb = executed(path)
    src = nbformat.read(path, as_version=4)
    assert any("parameters" in c.get("metadata", {}).get("tags", []) for c in src.cells)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), f"{path.name} draws no chart"


def _nb(name):
    return next(p for p in NOTEBOOKS if p.stem == name)


def test_emerging_notebook_numbers(executed, demo_store):
    s = _summary(executed(_nb("emerging_hotspots")))
    located = scribe_lib.load(demo_store, located_only=True)
    assert s["incidents"] == len(located) == s["cell_incidents"]
    assert s["periods"] == 24  # the demo's 24 months
    assert sum(s["patterns"].values()) == s["cells"]
    # the demo plants a persistent night-time economy hot spot at George Street, Luton
    x, y, pattern = s["top_hot"][0]
    assert np.hypot(x - 509150, y - 221280) < 1000 and pattern == "persistent hot spot"
    # ... and a problem rising over its last 6 months at the Stotfold recreation ground
    # (521650, 236950): the strongest rising count trend (Mann-Kendall)
    x, y, mk_z = s["top_rising"][0]
    assert np.hypot(x - 521650, y - 236950) < 500 and mk_z > 2


def test_trends_notebook_numbers(executed, demo_store):
    s = _summary(executed(_nb("trends")))
    inc = scribe_lib.load(demo_store)
    assert s["incidents"] == len(inc)
    assert s["months"] == 24
    # every partner sent every month in the demo: all incidents are counted, no gap
    assert s["no_data_months"] == 0 and s["counted"] == len(inc)
    exact = (inc["time_precision"] == "exact") & inc["occurred_at"].notna()
    assert s["hour_weekday_total"] == s["hour_weekday_used"] == int(exact.sum())


def test_near_repeat_notebook_numbers(executed, demo_store):
    s = _summary(executed(_nb("near_repeat")))
    inc = scribe_lib.load(demo_store, located_only=True)
    n = int(inc["time_precision"].isin(["exact", "day"]).sum())
    assert s["n"] == n
    assert s["pairs"] == s["all_pairs"] == n * (n - 1) // 2
    assert s["rows"] == (5 + 2) * (5 + 1)  # same + 5 bands + beyond, 5 bands + beyond


def test_evaluation_notebook_numbers(executed, demo_store):
    s = _summary(executed(_nb("evaluation")))
    assert s["areas"] == ["treated", "buffer", "control"]
    # independent count: the Bedford bus station action (250 m around 504790, 249880 from
    # 2025-03-01), its categories, 6 months either side, whole periods inside the window
    import pandas as pd

    cats = ["anti-social-behaviour", "nuisance-behaviour", "drugs"]
    inc = scribe_lib.load(demo_store, category=cats, located_only=True)
    import shapely

    from scribe_lib.demo import read_responses, responses_path

    area = read_responses(responses_path("Bedford"))["actions"][0]["area"]
    near = shapely.intersects(area, np.asarray(inc.geometry.values))
    t0 = pd.Timestamp("2025-03-01")
    ps, pe = inc["period_start"], inc["period_end"]
    before = near & (ps >= t0 - pd.DateOffset(months=6)) & (pe <= t0)
    after = near & (ps >= t0) & (pe <= t0 + pd.DateOffset(months=6))
    assert s["before"][0] == int(before.sum()) and s["after"][0] == int(after.sum())
    assert np.isfinite(s["wdq"])


def test_hotspots_notebook_numbers(executed, demo_store):
    s = _summary(executed(_nb("hotspots")))
    located = scribe_lib.load(demo_store, located_only=True)
    assert s["incidents"] == len(located) == s["cell_incidents"]
    assert s["hot_95"] > 0
    # the demo plants a persistent night-time economy hot spot at George Street, Luton
    x, y, gi_bin = s["top_hot"]
    assert np.hypot(x - 509150, y - 221280) < 1000 and gi_bin == 3


def test_kde_notebook_numbers(executed, demo_store):
    s = _summary(executed(_nb("kde")))
    located = scribe_lib.load(demo_store, located_only=True)
    xy = np.column_stack([located.geometry.x, located.geometry.y])
    n = len(xy)
    # ArcGIS Pro's default search radius, computed here from the coordinates
    d = np.hypot(*(xy - xy.mean(axis=0)).T)
    h = 0.9 * min(np.sqrt(np.mean(d**2)), np.sqrt(1 / np.log(2)) * np.median(d)) * n**-0.2
    assert s["incidents"] == n and s["bandwidth"] == pytest.approx(h, rel=1e-9)
    # the kernel integrates to 1 per incident; a little spills over the grid's edge
    assert 0.9 * n < s["mass"] <= n * (1 + 1e-9)
    x, y, _ = s["peak"]
    assert np.hypot(x - 509150, y - 221280) < 1500
