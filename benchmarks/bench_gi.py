"""Gi* speed against libpysal + esda, run in the same process (ratios printed).

    .venv/bin/python benchmarks/bench_gi.py            # full sizes (a few minutes)
    .venv/bin/python benchmarks/bench_gi.py --quick    # small sizes (seconds)

1. Analytic Gi* on a ~180,000-cell grid (250 m): scribe band sums + z, sparse weights + z
   and the whole ``gi_star`` (p, FDR, bins, explanations) vs libpysal ``DistanceBand`` + esda
   ``G_Local(star=True, transform="B", permutations=0)``; z must agree to 1e-9.
2. The whole ``scribe hotspots`` command (store -> grid -> counts -> Gi* -> CSV) vs a plain
   libpysal + esda script doing the same from the same store.
3. 999 conditional permutations on 45,000 cells vs esda's numba path (``keep_simulations``
   off so esda holds no cells x permutations matrix either).
4. 999 permutations on 1,000,000 cells (esda: about 9.5 minutes; not run here).

Timings are wall-clock, best of ``--repeat``; numba functions are compiled before timing.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

warnings.simplefilter("ignore")


def best(fn, repeat):
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def grid_counts(ncells_side, cell, seed=0):
    """A square grid (box of nx x ny cells) with Poisson counts from clustered intensity."""
    from shapely.geometry import box

    from scribe_lib.stats import make_grid

    nx, ny = ncells_side
    x0, y0 = 380_000, 240_000
    g = make_grid(box(x0, y0, x0 + nx * cell, y0 + ny * cell), cell=cell, max_cells=5_000_000)
    rng = np.random.default_rng(seed)
    lam = np.full(len(g), 0.05)
    for _ in range(60):
        cx, cy = rng.uniform(x0, x0 + nx * cell), rng.uniform(y0, y0 + ny * cell)
        s = rng.uniform(500, 3000)
        lam += rng.uniform(0.5, 6) * np.exp(-((g.x - cx) ** 2 + (g.y - cy) ** 2) / (2 * s * s))
    g["incidents"] = rng.poisson(lam)
    return g


def bench_analytic(repeat, quick):
    import esda
    import libpysal

    from scribe_lib.stats import gi_star
    from scribe_lib.stats._gi_core import gi_star_from_sums, gi_star_z
    from scribe_lib.stats._weights import band_sums, distance_band_weights

    side = (120, 100) if quick else (448, 400)
    g = grid_counts(side, 250)
    d = np.sqrt(2) * 250
    y = g.incidents.to_numpy(float)
    t_core, z = best(lambda: gi_star_from_sums(y, *band_sums(g, d, y))["z"], repeat)
    t_mat, zm = best(lambda: gi_star_z(y, distance_band_weights(g, d)), repeat)
    t_full, _ = best(lambda: gi_star(g), repeat)

    def baseline():
        w = libpysal.weights.DistanceBand(
            g[["x", "y"]].to_numpy(), d + 1e-6, binary=True, silence_warnings=True
        )
        return esda.G_Local(y, w, transform="B", star=True, permutations=0).Zs

    t_base, zb = best(baseline, 1)
    err = max(float(np.nanmax(np.abs(z - zb))), float(np.nanmax(np.abs(zm - zb))))
    print(f"[1] analytic Gi*, {len(g):,} cells (250 m, 8 neighbours)")
    print(f"    libpysal DistanceBand + esda G_Local   {t_base:8.3f} s")
    print(
        f"    scribe band sums (correlation) + z     {t_core:8.3f} s   ratio {t_base / t_core:6.1f}x"
    )
    print(
        f"    scribe sparse weights + gi_star_z      {t_mat:8.3f} s   ratio {t_base / t_mat:6.1f}x"
    )
    print(
        f"    scribe gi_star (p, FDR, bins, text)    {t_full:8.3f} s   ratio {t_base / t_full:6.1f}x"
    )
    print(f"    max |z - z_esda| = {err:.2e}  ({'OK' if err < 1e-9 else 'MISMATCH'})")
    return err < 1e-9


def make_store(tmp, n_rows, extent_km):
    from pyproj import Transformer

    import scribe_lib

    rng = np.random.default_rng(1)
    x0, y0 = 380_000, 240_000
    w, h = extent_km[0] * 1000, extent_km[1] * 1000
    n_clu = n_rows // 3
    centres = rng.uniform([x0, y0], [x0 + w, y0 + h], (40, 2))
    pts = np.vstack([
        rng.uniform([x0, y0], [x0 + w, y0 + h], (n_rows - n_clu, 2)),
        centres[rng.integers(0, 40, n_clu)] + rng.normal(0, 800, (n_clu, 2)),
    ])  # fmt: skip
    pts = np.clip(pts, [x0, y0], [x0 + w - 1, y0 + h - 1])
    lon, lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(*pts.T)
    path = Path(tmp) / "2024-01-bench-street.csv"
    with open(path, "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude",
                     "Location", "LSOA code", "LSOA name", "Crime type",
                     "Last outcome category", "Context"])  # fmt: skip
        for i, (a, b) in enumerate(zip(lon, lat, strict=True)):
            wr.writerow([f"{i:064x}", "2024-01", "Bench Police", "Bench Police", f"{a:.6f}",
                         f"{b:.6f}", "On or near Bench Street", "", "", "Burglary", "", ""])  # fmt: skip
    db = str(Path(tmp) / "bench.duckdb")
    t = time.perf_counter()
    scribe_lib.ingest(path, "police-uk", partner="bench-police", store=db)
    return db, time.perf_counter() - t


def plain_script(db, cell, out):
    """What an analyst would write with geopandas + libpysal + esda (same store, same load)."""
    import esda
    import geopandas as gpd
    import libpysal
    import shapely
    from scipy import stats

    import scribe_lib

    inc = scribe_lib.load(db)
    inc = inc[inc.geometry.notna()]
    xmin, ymin, xmax, ymax = inc.total_bounds
    xs = np.arange(np.floor(xmin / cell) * cell, xmax + 1e-9, cell)
    ys = np.arange(np.floor(ymin / cell) * cell, ymax + 1e-9, cell)
    X, Y = np.meshgrid(xs, ys)
    X, Y = X.ravel(), Y.ravel()
    grid = gpd.GeoDataFrame(geometry=shapely.box(X, Y, X + cell, Y + cell), crs=27700)
    grid["x"], grid["y"] = X + cell / 2, Y + cell / 2
    j = gpd.sjoin(inc[["geometry"]], grid, predicate="intersects")
    j = j[~j.index.duplicated()]  # a point on a shared edge touches two cells: count it once
    grid["incidents"] = j.groupby("index_right").size().reindex(grid.index, fill_value=0)
    w = libpysal.weights.DistanceBand(grid[["x", "y"]].to_numpy(), np.sqrt(2) * cell + 1e-6,
                                      binary=True, silence_warnings=True)  # fmt: skip
    g = esda.G_Local(grid.incidents.to_numpy(float), w, transform="B", star=True,
                     permutations=0)  # fmt: skip
    grid["gi_z"] = g.Zs
    grid["p_value"] = 2 * g.p_norm
    grid["p_fdr"] = stats.false_discovery_control(grid.p_value)
    lev = np.select([grid.p_fdr < 0.01, grid.p_fdr < 0.05, grid.p_fdr < 0.1], [3, 2, 1], 0)
    grid["gi_bin"] = np.sign(grid.gi_z) * lev
    grid.drop(columns="geometry").to_csv(out, index=False)
    return len(grid)


def bench_pipeline(repeat, quick):
    import pandas as pd

    from scribe_lib.cli import main

    rows, extent = (20_000, (30, 25)) if quick else (200_000, (112, 100))
    with tempfile.TemporaryDirectory() as tmp:
        db, t_ingest = make_store(tmp, rows, extent)
        out_a, out_b = str(Path(tmp) / "a.csv"), str(Path(tmp) / "b.csv")
        devnull = open(os.devnull, "w")
        stdout, sys.stdout = sys.stdout, devnull
        try:
            t_ours, _ = best(lambda: main(["--store", db, "hotspots", "--cell", "250",
                                           "--out", out_a]), repeat)  # fmt: skip
        finally:
            sys.stdout = stdout
        t_base, n = best(lambda: plain_script(db, 250, out_b), 1)
        a, b = pd.read_csv(out_a), pd.read_csv(out_b)
        same = len(a) == len(b) and a.incidents.sum() == b.incidents.sum() == rows
        m = a.merge(b, on=["x", "y"], suffixes=("", "_b"))
        differ = int((m.incidents != m.incidents_b).sum())  # edge points may go either way
        same &= len(m) == len(a) and differ <= 2 * rows // 10_000
    print(f"[2] scribe hotspots, {rows:,} incidents -> {n:,} cells of 250 m -> CSV "
          f"(store built by ingest in {t_ingest:.1f} s)")  # fmt: skip
    print(f"    plain geopandas + libpysal + esda      {t_base:8.3f} s")
    print(
        f"    scribe hotspots (whole command)        {t_ours:8.3f} s   ratio {t_base / t_ours:6.1f}x"
    )
    print(f"    same cells and total count: {'OK' if same else 'MISMATCH'} ({differ} cells differ "
          "by a point on a shared edge, which each assigns to a different side)")  # fmt: skip
    return same


def bench_permutations(repeat, quick):
    import esda
    import libpysal

    from scribe_lib.stats import gi_star
    from scribe_lib.stats._gi_core import gi_star_parts
    from scribe_lib.stats._gi_perm import permutation_counts
    from scribe_lib.stats._weights import distance_band_weights

    side = (75, 60) if quick else (225, 200)
    g = grid_counts(side, 250, seed=2)
    W = distance_band_weights(g, np.sqrt(2) * 250)
    y = g.incidents.to_numpy(float)
    parts = gi_star_parts(y, W)
    small = grid_counts((10, 10), 250)
    gi_star(small, permutations=9, seed=1)  # compile
    w = libpysal.weights.W.from_sparse(W)
    esda.G_Local(small.incidents.to_numpy(float), libpysal.weights.lat2W(10, 10),
                 transform="B", star=True, permutations=9, keep_simulations=False)  # fmt: skip
    t_ours, _ = best(lambda: gi_star(g, permutations=999, seed=1), repeat)
    t_core, _ = best(lambda: permutation_counts(y, parts["local_sum"], parts["k"], 999, 1), repeat)
    yc = np.random.default_rng(3).gamma(1.0, 2.0, len(g))  # worst case: every value distinct
    pc = gi_star_parts(yc, W)
    t_cont, _ = best(lambda: permutation_counts(yc, pc["local_sum"], pc["k"], 999, 1), 1)
    t_esda, _ = best(lambda: esda.G_Local(y, w, transform="B", star=True, permutations=999,
                                          keep_simulations=False, seed=1), 1)  # fmt: skip
    print(f"[3] 999 permutations, {len(g):,} cells (counts)")
    print(f"    esda G_Local numba path (n_jobs=-1)   {t_esda:8.3f} s")
    print(
        f"    scribe gi_star(permutations=999)       {t_ours:8.3f} s   ratio {t_esda / t_ours:6.1f}x"
    )
    print(
        f"    scribe permutation core only           {t_core:8.3f} s   ratio {t_esda / t_core:6.1f}x"
    )
    print(
        f"    worst case, all values distinct (core) {t_cont:8.3f} s   ratio {t_esda / t_cont:6.1f}x"
    )


def bench_million(repeat, quick):
    from scribe_lib.stats import gi_star

    side = (500, 400) if quick else (1000, 1000)
    g = grid_counts(side, 100, seed=4)
    t, out = best(lambda: gi_star(g, permutations=999, seed=1), repeat)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"[4] 999 permutations, {len(g):,} cells: gi_star {t:.2f} s (goal < 30 s; "
        f"peak RSS of this process {rss:,.0f} MB)"
    )
    g["incidents"] = np.random.default_rng(5).gamma(1.0, 2.0, len(g))  # all values distinct
    t_cont, _ = best(lambda: gi_star(g, permutations=999, seed=1), 1)
    print(f"    worst case, every value distinct (e.g. continuous rates): {t_cont:.2f} s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, for development")
    ap.add_argument("--repeat", type=int, default=3, help="best of N for scribe timings")
    ap.add_argument("--only", type=int, choices=[1, 2, 3, 4], action="append")
    args = ap.parse_args()
    import numba

    print(f"numba threads {numba.get_num_threads()}, cores {os.cpu_count()}"
          f"{' (quick sizes)' if args.quick else ''}")  # fmt: skip
    ok = True
    todo = args.only or [1, 2, 3, 4]
    if 1 in todo:
        ok &= bench_analytic(args.repeat, args.quick)
    if 2 in todo:
        ok &= bench_pipeline(args.repeat, args.quick)
    if 3 in todo:
        bench_permutations(args.repeat, args.quick)
    if 4 in todo:
        bench_million(args.repeat, args.quick)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
