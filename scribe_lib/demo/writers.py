"""Write the demo partner files, each in its partner's own format, plus a manifest.

Layout under ``out_dir``::

    police-uk/2024-01/2024-01-bedfordshire-street.csv   one per month, as data.police.uk
    fire/bedfordshire-fire-incidents.csv                 incident-level fire open data
    council/<council>-...csv                             three council case logs
    demo-manifest.json                                   what was planted (bad rows, hotspots)

The same arguments give byte-identical files.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .council import FORMATS, council_text
from .generate import DEMO_END, FIRE, POLICE, demo_months, simulate
from .geography import street_points
from .police_fire import fire_frame, police_frame
from .profiles import HOTSPOTS

__all__ = ["write_demo_files", "MANIFEST"]

MANIFEST = "demo-manifest.json"


def _check(seed, months, scale, end) -> None:
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not isinstance(months, int | np.integer) or not 1 <= months <= 120:
        raise ValueError(f"months must be a whole number from 1 to 120, got {months!r}")
    if not isinstance(scale, int | float) or not 0.001 <= scale <= 20:
        raise ValueError(
            f"scale must be a number from 0.001 to 20 (1.0 is about 70,000 incidents), got {scale!r}"
        )
    try:
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", str(end)):
            raise ValueError(end)
        pd.Period(end, freq="M")
    except (ValueError, TypeError):
        raise ValueError(f"end must be a month as YYYY-MM, e.g. {DEMO_END}, got {end!r}") from None


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def write_demo_files(
    out_dir: str | os.PathLike,
    seed: int = 2024,
    months: int = 24,
    scale: float = 1.0,
    *,
    end: str = DEMO_END,
) -> list[tuple[str, str, Path]]:
    """Generate the Bedfordshire demo and write every partner's files.

    Parameters
    ----------
    out_dir : path-like
        Folder to write into (created if needed; existing demo files are overwritten).
    seed : int
        Random seed; the same arguments give byte-identical files.
    months : int
        Number of months, ending with ``end``.
    scale : float
        Volume multiplier: 1.0 is about 70,000 incidents over 24 months, 0.05 about 4,000.
    end : str
        The last month, "YYYY-MM" (default 2025-12, the last full month before 2026).

    Returns
    -------
    list of (source, partner, path)
        In ingest order: police months, fire, the councils.

    Examples
    --------
    >>> from scribe_lib.demo import write_demo_files
    >>> files = write_demo_files("demo-files", seed=1, scale=0.05)  # doctest: +SKIP
    >>> files[0][:2]  # doctest: +SKIP
    ('police-uk', 'bedfordshire-police')
    """
    _check(seed, months, scale, end)
    out = Path(out_dir)
    streets = street_points().set_index("street_id", drop=False)
    ev = simulate(seed, months, scale, end)
    mlist = demo_months(end, months)
    last = mlist[-1]
    files: list[tuple[str, str, Path]] = []
    manifest: list[dict] = []

    police = ev[ev["partner"].eq(POLICE)]
    pmonth = police["when"].dt.to_period("M")
    for i, month in enumerate(mlist):
        sel = police[pmonth.eq(month)]
        if sel.empty:
            continue
        df = police_frame(sel, streets, month, last, np.random.default_rng([seed, 1, i]))
        path = out / "police-uk" / str(month) / f"{month}-bedfordshire-street.csv"
        _write(path, df.to_csv(index=False, lineterminator="\n").encode("utf-8"))
        files.append(("police-uk", POLICE, path))
        manifest.append({"rows": len(df), "bad_rows": []})

    fire = ev[ev["partner"].eq(FIRE)]
    if not fire.empty:
        df = fire_frame(fire, streets, np.random.default_rng([seed, 2]))
        path = out / "fire" / "bedfordshire-fire-incidents.csv"
        _write(path, df.to_csv(index=False, lineterminator="\n").encode("utf-8"))
        files.append(("fire", FIRE, path))
        manifest.append({"rows": len(df), "bad_rows": []})

    end_ts = last.end_time.normalize()
    for j, (partner, fmt) in enumerate(FORMATS.items()):
        sel = ev[ev["partner"].eq(partner)]
        if len(sel) < 2:
            continue
        text, bad = council_text(sel, streets, partner, end_ts, np.random.default_rng([seed, 3, j]))
        path = _write(out / "council" / fmt.filename, text.encode(fmt.encoding))
        files.append(("council", partner, path))
        manifest.append({"rows": text.count(fmt.newline) - 1, "bad_rows": bad})

    doc = {
        "label": "SCRIBE demo data for Bedfordshire - synthetic, not real incidents",
        "seed": int(seed),
        "months": int(months),
        "scale": float(scale),
        "first_month": str(mlist[0]),
        "last_month": str(last),
        "files": [
            {"source": s, "partner": p, "path": path.relative_to(out).as_posix(), **m}
            for (s, p, path), m in zip(files, manifest, strict=True)
        ],
        "hotspots": _hotspot_manifest(streets, ev, mlist),
    }
    _write(out / MANIFEST, (json.dumps(doc, indent=1) + "\n").encode("utf-8"))
    return files


def _hotspot_manifest(streets: pd.DataFrame, ev: pd.DataFrame, mlist) -> list[dict]:
    out = []
    for h in HOTSPOTS:
        pts = streets[streets["hotspot"].eq(h.key)]
        first = mlist[max(len(mlist) - h.last_months, 0)] if h.last_months else mlist[0]
        out.append(
            {
                "key": h.key,
                "kind": "emerging" if h.last_months else "persistent",
                "from_month": str(first),
                "points": [
                    {"name": r.name, "easting": float(r.easting), "northing": float(r.northing)}
                    for r in pts.itertuples()
                ],
                "incidents": int(ev["hotspot"].eq(h.key).sum()),
            }
        )
    return out
