"""Incident explorer speed with 100,000 incidents in headless Chromium, against a baseline.

    .venv/bin/python benchmarks/bench_apps.py                  # ~100,000 incidents (demo scale 1.36)
    .venv/bin/python benchmarks/bench_apps.py --scale 0.1      # quick
    .venv/bin/python benchmarks/bench_apps.py --store x.duckdb # an existing store

Measured, each through a plain ``voila`` process and Debian's Chromium (headless):

* **open**: from ``page.goto`` to an interactive map (the map summary written and the
  incidents drawn on the canvas);
* **filter**: from choosing a category (then a locality, then "All" again) to the updated
  map (the summary showing the new number);
* **memory**: resident memory of the Voila kernel holding the app (one per browser tab),
  and of the Voila server.

Configurations, in the same run: the SCRIBE incident explorer (canvas, aggregated below
street zoom, only what is in view sent to the browser); the same with a preheated kernel
(``--preheat_kernel``); and the baseline, one plain ipyleaflet ``GeoJSON`` layer of every
located incident (SVG circle markers) with a category drop-down.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import nbformat

import scribe_lib
from scribe_lib.apps.testing import VoilaServer, chromium
from scribe_lib.demo import build_demo

BASELINE = """\
import ipyleaflet as L, ipywidgets as w, scribe_lib
df = scribe_lib.load(located_only=True)
def fc(d):
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]},
         "properties": {"id": i}} for x, y, i in zip(d["lon"], d["lat"], d["incident_id"])]}
m = L.Map(center=(52.0, -0.45), zoom=10, layers=[])
layer = L.GeoJSON(data=fc(df), point_style={"radius": 4, "fillColor": "#c0392b", "fillOpacity": 1})
m.add(layer)
cats = w.Dropdown(options=["All", *sorted(df["category"].unique())], description="Category")
cats.add_class("scribe-filter-category")
summary = w.HTML()
summary.add_class("scribe-map-summary")
def show(_=None):
    d = df if cats.value == "All" else df[df["category"] == cats.value]
    layer.data = fc(d)
    summary.value = f'<p data-drawn="{len(d)}">{len(d)} incidents</p>'
cats.observe(show, "value")
show()
w.VBox([cats, m, summary])
"""


def _kernel_rss(server: VoilaServer) -> float:
    """Largest resident memory (MB) among the Voila server's kernels."""
    out = 0.0
    for pid in server.kernel_pids():
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                out = max(out, int(line.split()[1]) / 1024)
    return out


def _rss(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _wait_drawn(page, expected: int | None, before: str | None, timeout=300_000) -> None:
    js = """([e, b]) => { const p = document.querySelector('.scribe-map-summary p');
      if (!p) return false;
      if (b !== null && p.innerText === b) return false;
      return e === null || p.dataset.drawn == String(e); }"""
    page.wait_for_function(js, arg=[expected, before], timeout=timeout, polling=20)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def measure(server: VoilaServer, browser, url: str, steps, repeat: int) -> dict:
    """Open ``url`` ``repeat`` times; time the open and each filter step."""
    opens, changes, rss = [], [], []
    for _ in range(repeat):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        t = time.perf_counter()
        page.goto(url, timeout=300_000)
        _wait_drawn(page, None, None)
        opens.append(time.perf_counter() - t)
        page.wait_for_timeout(1500)  # let the first view settle (fit to bounds)
        for selector, value, expected in steps:
            before = page.inner_text(".scribe-map-summary p")
            t = time.perf_counter()
            page.select_option(selector, value)
            _wait_drawn(page, expected, before)
            changes.append(time.perf_counter() - t)
            page.wait_for_timeout(500)
        rss.append(_kernel_rss(server))
        page.close()
    return {"open": opens, "filter": changes, "kernel_mb": max(rss),
            "server_mb": _rss(server.proc.pid)}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.36, help="demo scale (1.36: ~100,000)")
    ap.add_argument("--store", help="an existing store instead of a new demo")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-baseline", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="scribe-bench-apps-"))
    try:
        _run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run(args, tmp: Path) -> None:
    store = args.store
    if store is None:
        store = str(tmp / "demo.duckdb")
        t = time.perf_counter()
        st = scribe_lib.open_store(store)
        build_demo(st, seed=2024, scale=args.scale)
        st.close()
        print(f"demo store built in {time.perf_counter() - t:.0f} s")
    df = scribe_lib.load(store)
    located = df[df["lon"].notna()]
    cat = located["category"].value_counts().index[1]
    print(f"{len(df):,} incidents ({len(located):,} located); filter steps: category={cat}, "
          "then Luton, then all again")  # fmt: skip
    luton = scribe_lib.load(store, category=cat, locality="Luton", located_only=True)
    steps = [(".scribe-filter-category select", cat, None),
             (".scribe-filter-locality select", "Luton", len(luton)),
             (".scribe-filter-category select", "All", None)]  # fmt: skip
    base_dir = tmp / "baseline"
    base_dir.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(BASELINE)])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, base_dir / "baseline.ipynb")
    results = {}
    with chromium() as browser:
        with VoilaServer(store, tmp / "voila.log") as v:
            results["SCRIBE incident explorer"] = measure(
                v, browser, v.app_url("incident_explorer"), steps, args.repeat)  # fmt: skip
        preheat = ("--preheat_kernel=True",
                   '--VoilaKernelManager.kernel_pools_config={"default": {"pool_size": 1}}')  # fmt: skip
        with VoilaServer(store, tmp / "voila-preheat.log", extra_args=preheat) as v:
            time.sleep(25)  # the pool executes the notebook ahead of the first visitor
            r = measure(v, browser, v.app_url("incident_explorer"), steps[:1], 1)
            results["SCRIBE incident explorer, preheated kernel (first visit)"] = r
        if not args.no_baseline:
            with VoilaServer(store, tmp / "voila-base.log", apps_dir=base_dir) as v:
                results["baseline: one ipyleaflet GeoJSON layer (SVG)"] = measure(
                    v, browser, f"{v.url}/voila/render/baseline.ipynb",
                    [(".scribe-filter-category select", cat, len(located[located["category"] == cat])),
                     (".scribe-filter-category select", "All", len(located))], 1)  # fmt: skip
    print(f"\n{'configuration':60s} {'open s':>8s} {'filter s':>9s} {'kernel MB':>10s}")
    for name, r in results.items():
        print(f"{name:60s} {statistics.median(r['open']):8.2f} "
              f"{statistics.median(r['filter']):9.2f} {r['kernel_mb']:10.0f}")  # fmt: skip
    ours = results["SCRIBE incident explorer"]
    base = results.get("baseline: one ipyleaflet GeoJSON layer (SVG)")
    print(
        f"\nopen: every run {', '.join(f'{x:.2f}' for x in ours['open'])} s; filter: every change "
        f"{', '.join(f'{x:.2f}' for x in ours['filter'])} s; Voila server {ours['server_mb']:.0f} MB"
    )
    if base:
        print(f"baseline / SCRIBE: open x{statistics.median(base['open']) / statistics.median(ours['open']):.1f}, "
              f"filter x{statistics.median(base['filter']) / statistics.median(ours['filter']):.1f}, "
              f"kernel memory x{base['kernel_mb'] / ours['kernel_mb']:.2f}")  # fmt: skip
    print("goal: open < 3 s, filter < 1 s (2-core machine)")


if __name__ == "__main__":
    main()
