"""Benchmark: ingest N police.uk rows into the embedded store and PostgreSQL.

Each time (wall clock, and CPU time of all the process's threads, the steadier figure on
a shared machine) is printed beside a bare ``pandas.read_csv`` of the same file, measured
in the same run, with the ratio; each phase runs in its own process so its peak memory
(``VmHWM``) is its own. Memory of the ingest is bounded by ``--chunksize``, not by the
file: compare its peak with the bare parse, which holds the whole file.

    .venv/bin/python benchmarks/bench_ingest.py                 # 1,000,000 rows
    .venv/bin/python benchmarks/bench_ingest.py --rows 50000    # a quick run
    .venv/bin/python benchmarks/bench_ingest.py --no-postgres
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid

import numpy as np
import pandas as pd

POLICE_COLUMNS = ["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude",
                  "Location", "LSOA code", "LSOA name", "Crime type", "Last outcome category",
                  "Context"]  # fmt: skip
CRIME_TYPES = ["Anti-social behaviour", "Violence and sexual offences", "Criminal damage and arson",
               "Shoplifting", "Other theft", "Vehicle crime", "Burglary", "Public order", "Drugs",
               "Robbery", "Bicycle theft", "Theft from the person", "Possession of weapons",
               "Other crime"]  # fmt: skip
OUTCOMES = ["Investigation complete; no suspect identified", "Unable to prosecute suspect",
            "Under investigation", "Status update unavailable", "Awaiting court outcome"]  # fmt: skip
TOWNS = [(-0.4168, 51.8787), (-0.4668, 52.1359), (-0.5218, 51.8860), (-0.6600, 51.9170)]


def _hex_ids(rng: np.random.Generator, rows: int) -> np.ndarray:
    """64-hex-digit ids like police.uk's Crime ID, vectorised."""
    digits = np.array(list("0123456789abcdef"))
    raw = rng.integers(0, 256, (rows, 32), dtype=np.uint8)
    chars = np.empty((rows, 64), dtype="<U1")
    chars[:, 0::2], chars[:, 1::2] = digits[raw >> 4], digits[raw & 15]
    return chars.view("<U64").ravel()


def write_police_uk(path: str, rows: int, seed: int = 0, month: str | None = None) -> str:
    """Write ``rows`` street-level rows in data.police.uk's exact format (seeded)."""
    rng = np.random.default_rng(seed)
    town = rng.integers(0, len(TOWNS), rows)
    lon = np.round(np.array([t[0] for t in TOWNS])[town] + rng.normal(0, 0.02, rows), 6)
    lat = np.round(np.array([t[1] for t in TOWNS])[town] + rng.normal(0, 0.015, rows), 6)
    crime = np.array(CRIME_TYPES)[rng.integers(0, len(CRIME_TYPES), rows)]
    asb = crime == "Anti-social behaviour"
    ids = _hex_ids(rng, rows)
    no_loc = rng.random(rows) < 0.01
    months = [month] * rows if month else [f"2024-{m:02d}" for m in rng.integers(1, 13, rows)]
    lsoa = rng.integers(1000, 1400, rows)
    df = pd.DataFrame({
        "Crime ID": np.where(asb, "", ids),
        "Month": months,
        "Reported by": "Bedfordshire Police",
        "Falls within": "Bedfordshire Police",
        "Longitude": np.where(no_loc, "", lon.astype(str)),
        "Latitude": np.where(no_loc, "", lat.astype(str)),
        "Location": np.where(no_loc, "No Location", "On or near High Street"),
        "LSOA code": np.where(no_loc, "", "E0101" + pd.Series(lsoa).astype(str)),
        "LSOA name": np.where(no_loc, "", "Luton " + pd.Series(lsoa % 100 + 100).astype(str) + "A"),
        "Crime type": crime,
        "Last outcome category": np.where(asb, "", np.array(OUTCOMES)[rng.integers(0, 5, rows)]),
        "Context": "",
    })  # fmt: skip
    df.to_csv(path, index=False)
    return path


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM: its own, not inherited across exec)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _phase(args) -> dict:
    t0, c0 = time.perf_counter(), time.process_time()
    if args.phase == "generate":
        write_police_uk(args.file, args.rows, args.seed)
        n = args.rows
    elif args.phase == "parse":
        df = pd.read_csv(args.file)
        n = len(df)
    elif args.phase == "adapter":  # the police.uk adapter alone: read, validate, OSTN15
        from scribe_lib.sources import SOURCES

        reader = SOURCES.get("police-uk")(partner="bedfordshire-police")
        n = sum(c.rows_read for c in reader.read(args.file, chunksize=args.chunksize))
    else:
        import scribe_lib

        store = scribe_lib.open_store(args.store)
        r = scribe_lib.ingest(args.file, "police-uk", partner="bedfordshire-police",
                              store=store, chunksize=args.chunksize)  # fmt: skip
        n = r.accepted + r.quarantined
        store.close()
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"seconds": seconds, "cpu": cpu, "rows": n, "peak_mb": _peak_mb()}


def _run(phase: str, file: str, store: str | None, args) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--phase",
        phase,
        "--file",
        file,
        "--rows",
        str(args.rows),
        "--seed",
        str(args.seed),
        "--chunksize",
        str(args.chunksize),
    ]
    cmd += ["--store", store] if store else []  # fmt: skip
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--chunksize", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-postgres", action="store_true")
    p.add_argument(
        "--pg",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="an admin URL; a scratch database is created and dropped",
    )
    p.add_argument("--phase", help=argparse.SUPPRESS)
    p.add_argument("--file", help=argparse.SUPPRESS)
    p.add_argument("--store", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.phase:
        print(json.dumps(_phase(args)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        csv = os.path.join(tmp, "street.csv")
        _run("generate", csv, None, args)
        size = os.path.getsize(csv) / 2**20
        print(f"{args.rows:,} police.uk rows, {size:.0f} MiB, chunksize {args.chunksize:,}",
              flush=True)  # fmt: skip
        base = _run("parse", csv, None, args)
        print(f"  {'':<25} {'wall':>9} {'ratio':>6}   {'CPU':>7} {'ratio':>6}   {'peak':>7}")
        _report("bare pandas.read_csv", base, base)
        _report("police-uk adapter alone", _run("adapter", csv, None, args), base)
        res = _run("ingest", csv, os.path.join(tmp, "bench.duckdb"), args)
        _report("ingest, embedded DuckDB", res, base)
        if not args.no_postgres:
            import psycopg

            name = f"scribe_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(args.pg, autocommit=True) as con:
                con.execute(f'CREATE DATABASE "{name}"')
            try:
                url = args.pg.rsplit("/", 1)[0] + "/" + name
                _report("ingest, PostgreSQL COPY", _run("ingest", csv, url, args), base)
            finally:
                with psycopg.connect(args.pg, autocommit=True) as con:
                    con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _report(label: str, res: dict, base: dict) -> None:
    """One line: wall and CPU time (all threads), each with its ratio to the bare parse."""
    assert res["rows"] == base["rows"], (res, base)
    wall, cpu = res["seconds"] / base["seconds"], res["cpu"] / base["cpu"]
    print(f"  {label:<25} {res['seconds']:7.2f} s {wall:5.2f}x   {res['cpu']:5.2f} s {cpu:5.2f}x"
          f"   {res['peak_mb']:4.0f} MB", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
