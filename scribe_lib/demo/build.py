"""Build a demo store: demo localities, partnership area, every partner file ingested.

The files go through exactly the same adapters and ingest as real partner files, so the
demo store shows what a real one does, quarantine included.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import StoreError
from .generate import DEMO_END
from .geography import demo_localities, partnership_polygon, postcode_lookup_path
from .writers import _check, write_demo_files

__all__ = ["DemoSummary", "build_demo", "load_demo_localities"]


@dataclass
class DemoSummary:
    """What :func:`build_demo` did."""

    store: str
    seed: int
    months: int
    scale: float
    first_month: str
    last_month: str
    files: int = 0
    rows_read: int = 0
    accepted: int = 0
    quarantined: int = 0
    added: int = 0  # files that became new submissions (0 when re-run with the same seed)
    by_partner: dict = field(default_factory=dict)  # partner -> accepted
    localities: int = 0
    seconds: float = 0.0
    out_dir: str | None = None  # where the files were kept, if asked

    def lines(self) -> list[str]:
        """Plain-English summary lines, as ``scribe demo`` prints them."""
        out = [
            f"demo store {self.store}: seed {self.seed}, {self.first_month} to {self.last_month}"
        ]
        if self.added == 0:
            out.append(f"all {self.files} demo files were already in the store: nothing added")
        else:
            out.append(
                f"{self.files} files, {self.rows_read} rows read, {self.accepted} accepted, "
                f"{self.quarantined} quarantined ({self.added} new submissions)"
            )
        out += [f"  {p}: {n} incidents" for p, n in sorted(self.by_partner.items())]
        out.append(f"{self.localities} demo localities (labelled as demo geography)")
        if self.out_dir:
            out.append(f"partner files kept in {self.out_dir}")
        out.append(f"done in {self.seconds:.1f} s")
        return out


def load_demo_localities(store) -> int:
    """Store the ten demo towns (kind ``town``) and the area (kind ``partnership``).

    The partnership polygon also becomes the store's ``area`` setting, so later ingests
    quarantine points outside it. Returns the number of localities written.
    """
    loc = demo_localities()
    n = 0
    for kind in ("town", "partnership"):
        n += store.write_localities(loc[loc["kind"] == kind].reset_index(drop=True), kind)
    store.set_setting("area", partnership_polygon().wkt)
    return n


def _source_for(source: str, partner: str):
    """The source name, or for councils a reader given the demo postcode lookup."""
    if source != "council":
        return source
    from ..sources import SOURCES

    cls = SOURCES.get(source)
    return cls(partner=partner, area=partnership_polygon(), postcodes=postcode_lookup_path())


def build_demo(
    store=None,
    *,
    seed: int = 2024,
    months: int = 24,
    scale: float = 1.0,
    out_dir: str | os.PathLike | None = None,
    progress: bool = False,
    end: str = DEMO_END,
) -> DemoSummary:
    """Generate the Bedfordshire demo and ingest it into a store.

    Parameters
    ----------
    store : Store or str, optional
        The store or its URL (default ``$SCRIBE_STORE``, else ``./scribe.duckdb``). It must
        be empty, or already hold exactly this demo (then nothing is added).
    seed, months, scale, end
        As :func:`~scribe_lib.demo.write_demo_files`.
    out_dir : path-like, optional
        Keep the partner files here; by default they are written to a temporary folder.
    progress : bool
        Show a progress bar (tqdm) on stderr.

    Returns
    -------
    DemoSummary

    Examples
    --------
    >>> from scribe_lib.demo import build_demo
    >>> summary = build_demo("demo.duckdb", scale=0.05)  # doctest: +SKIP
    >>> print("\\n".join(summary.lines()))  # doctest: +SKIP
    """
    _check(seed, months, scale, end)
    from ..store import Store, open_store

    t0 = time.perf_counter()
    st = open_store(store)
    try:
        with tempfile.TemporaryDirectory(prefix="scribe-demo-") as tmp:
            folder = Path(out_dir) if out_dir is not None else Path(tmp)
            files = write_demo_files(folder, seed, months, scale, end=end)
            _refuse_other_data(st, files)
            summary = _ingest_all(st, files, progress)
    finally:
        if not isinstance(store, Store):
            st.close()
    from .generate import demo_months

    mlist = demo_months(end, months)
    summary.update(
        store=getattr(st, "display_url", str(store)),
        seed=seed,
        months=months,
        scale=scale,
        first_month=str(mlist[0]),
        last_month=str(mlist[-1]),
        seconds=time.perf_counter() - t0,
        out_dir=str(Path(out_dir).resolve()) if out_dir is not None else None,
    )
    return DemoSummary(**summary)


def _refuse_other_data(st, files) -> None:
    """Refuse a store holding anything but (part of) this same demo; resuming is fine."""
    from ..ingest import file_sha256

    subs = st.submissions()
    if subs.empty:
        return
    ours = {file_sha256(p) for _, _, p in files}
    other = subs[~subs["sha256"].isin(ours)]
    if len(other):
        raise StoreError(
            f"store {st.display_url} already holds {len(other)} submissions that are not this "
            "demo; build the demo in a new store (--store demo.duckdb) or remove the old one"
        )


def _ingest_all(st, files, progress: bool) -> dict:
    from tqdm.auto import tqdm

    from ..ingest import ingest

    out = {"files": len(files), "rows_read": 0, "accepted": 0, "quarantined": 0, "added": 0}
    n_loc = load_demo_localities(st)
    bar = tqdm(files, desc="scribe demo", unit=" file", file=sys.stderr, disable=not progress)
    for source, partner, path in bar:
        bar.set_postfix_str(path.name, refresh=False)
        res = ingest(path, _source_for(source, partner), partner=partner, store=st)
        if res.duplicate_of is not None:
            continue
        out["added"] += 1
        for k in ("rows_read", "accepted", "quarantined"):
            out[k] += getattr(res, k)
    bar.close()
    counts = st.count_incidents(by="partner")
    out["by_partner"] = {
        str(p): int(n) for p, n in zip(counts["partner"], counts["n"], strict=True)
    }
    out["localities"] = n_loc
    return out
