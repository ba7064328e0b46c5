"""Benchmark: render every demo locality's briefing serially, then in parallel, same run.

    .venv/bin/python benchmarks/bench_briefings.py [--scale 0.25] [--jobs N] [--no-pdf]

Builds a demo store (or uses --store), renders one warm-up briefing (imports, disk cache),
then all localities with one process and with ``--jobs`` processes (default: the number of
cores), and prints seconds per briefing and the speed-up. Goal: >= 1.8x on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path


def _run(jobs, workers: int, area: dict) -> tuple[float, list]:
    from dataclasses import replace

    from scribe_lib.briefings import run_briefings

    jobs = [replace(j, weight=area.get(j.locality, 0.0)) for j in jobs]  # largest first

    done: dict[str, float] = {}
    t0 = time.perf_counter()
    results = run_briefings(
        jobs,
        workers=workers,
        progress=lambda r, *_: done.setdefault(r.locality, time.perf_counter()),
    )
    wall = time.perf_counter() - t0
    cpu = sum(r.timings.get("cpu", 0.0) for r in results)  # measured in each worker
    n = len(jobs)
    print(f"  {workers} process(es): {wall:6.1f} s wall, {cpu:6.1f} s CPU in the briefings "
          f"({cpu / n:5.2f} per briefing); CPU used per wall second: {cpu / wall:.2f}")  # fmt: skip
    stages = ("execute", "html", "pdf", "cpu")
    mean = {s: sum(r.timings.get(s, 0.0) for r in results) / n for s in stages}
    print("    mean seconds per briefing: " + ", ".join(f"{s} {v:.2f}" for s, v in mean.items()))
    for r in sorted(results, key=lambda r: done.get(r.locality, 0.0)):
        end = done.get(r.locality, t0) - t0  # the PDF may wait in the queue after the HTML
        print(f"    {r.locality:28s} done at {end:5.1f} s, {r.seconds:5.2f} s of work: "
              + " ".join(f"{s} {r.timings.get(s, 0.0):.2f}" for s in stages))  # fmt: skip
    return wall, results


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", default=None, help="an existing store (default: build a demo)")
    ap.add_argument("--scale", type=float, default=0.25, help="demo scale (default 0.25)")
    ap.add_argument("--period", default="2025-11")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--no-pdf", action="store_true")
    args = ap.parse_args(argv)

    from scribe_lib import api
    from scribe_lib.briefings import jobs_for

    with tempfile.TemporaryDirectory(prefix="scribe-bench-") as tmp:
        store = args.store
        if store is None:
            from scribe_lib.demo import build_demo

            store = str(Path(tmp) / "demo.duckdb")
            t0 = time.perf_counter()
            build_demo(store, seed=2024, scale=args.scale)
            print(f"demo store (scale {args.scale}) built in {time.perf_counter() - t0:.1f} s")
        loc = api.localities(store)
        area = dict(zip(loc["name"].astype(str), loc.geometry.area, strict=True))
        names = sorted(area)
        common = dict(period=args.period, store=store, pdf=not args.no_pdf)

        warm, _ = _run(jobs_for(names[:1], out=str(Path(tmp) / "warm"), **common), 1, area)
        print(f"warm-up: 1 briefing in {warm:.1f} s")
        serial, r1 = _run(jobs_for(names, out=str(Path(tmp) / "serial"), **common), 1, area)
        par, r2 = _run(jobs_for(names, out=str(Path(tmp) / "parallel"), **common), args.jobs, area)
        bad = [r.locality for r in r1 + r2 if not r.ok]
        n = len(names)
        print(
            f"localities: {n} ({', '.join(names)}); PDF: {not args.no_pdf}; cores: {os.cpu_count()}"
        )
        print(f"serial   (1 process):  {serial:7.1f} s  {serial / n:5.2f} s per briefing")
        print(f"parallel ({args.jobs} processes): {par:7.1f} s  {par / n:5.2f} s per briefing")
        print(f"speed-up: {serial / par:.2f}x (goal >= 1.8x on 2 cores)")
        print(f"load average after the run: {os.getloadavg()[0]:.1f} (other work on the machine)")
        if bad:
            print(f"FAILED briefings: {bad}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
