"""The index page of a briefing run: every locality, its files, or why it failed."""

from __future__ import annotations

import html
import json
import os
from collections.abc import Sequence
from pathlib import Path

__all__ = ["write_index"]

_CSS = """
body{font-family:"DejaVu Sans","Liberation Sans",Arial,sans-serif;max-width:1000px;margin:0 auto;
padding:0 1em 2em;color:#1b1b1b}
header{background:#1d3557;color:#fff;padding:.7em 1em;margin:0 -1em 1em;border-bottom:5px solid #e9a23b}
header b{letter-spacing:.15em;font-size:1.4em;margin-right:1em}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:.35em .5em;
text-align:left;vertical-align:top}th{background:#f1f3f5}.ok{color:#1b7a33;font-weight:600}
.failed{color:#b00020;font-weight:600}code{font-size:.85em;white-space:pre-wrap}
.summary{margin:.6em 0 1em}
"""


def _link(path: str | None, out: Path, label: str) -> str:
    if not path:
        return "&ndash;"
    rel = os.path.relpath(path, out)
    return f'<a href="{html.escape(rel)}">{label}</a>'


def _row(r, out: Path) -> str:
    if r.ok:
        status = '<span class="ok">ok</span>'
        detail = ""
    else:
        where = f"cell {r.cell}" if r.cell is not None else (r.stage or "run")
        src = f"<br><code>{html.escape(r.cell_source)}</code>" if r.cell_source else ""
        detail = f"{html.escape(where)} ({html.escape(r.stage or '')}): {html.escape(r.error or '')}{src}"
        status = '<span class="failed">FAILED</span>'
    return (
        f"<tr><td>{html.escape(r.locality)}</td><td>{status}</td>"
        f"<td>{_link(r.html, out, 'HTML')}</td><td>{_link(r.pdf, out, 'PDF')}</td>"
        f"<td>{_link(r.notebook, out, 'notebook')}</td>"
        f"<td>{r.seconds:.1f}</td><td>{detail}</td></tr>"
    )


def write_index(results: Sequence, out: str | os.PathLike, info: dict) -> Path:
    """Write ``index.html`` (for people) and ``index.json`` (for machines) into ``out``.

    Parameters
    ----------
    results : sequence of BriefingResult
    out : path
        The run's output directory.
    info : dict
        ``period``, ``audience``, ``data_view`` and timing shown in the header.

    Returns
    -------
    pathlib.Path
        The ``index.html`` written.
    """
    out = Path(out)
    failed = [r for r in results if not r.ok]
    audience = info.get("audience") or "the whole partnership"
    summary = (
        f"{len(results) - len(failed)} of {len(results)} briefings rendered"
        + (f"; <span class='failed'>{len(failed)} failed</span>" if failed else "")
        + f" in {info.get('wall_seconds', 0):.1f} s with {info.get('workers', 1)} process(es)."
    )
    view = f"<p>{html.escape(str(info['data_view']))}</p>" if info.get("data_view") else ""
    rows = "\n".join(_row(r, out) for r in results)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Locality briefings {html.escape(str(info.get("period", "")))}</title>
<style>{_CSS}</style></head><body>
<header><b>SCRIBE</b> Locality briefings &middot; {html.escape(str(info.get("period", "")))}
&middot; for {html.escape(str(audience))}</header>
<p class="summary">{summary}</p>{view}
<table><thead><tr><th>Locality</th><th>Status</th><th>HTML</th><th>PDF</th><th>Notebook</th>
<th>Seconds</th><th>Failure</th></tr></thead><tbody>
{rows}
</tbody></table>
<p><small>Generated {html.escape(str(info.get("generated_at", "")))} by SCRIBE.</small></p>
</body></html>
"""
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    doc = dict(info, results=[r.to_dict() for r in results], failed=len(failed))
    (out / "index.json").write_text(json.dumps(doc, indent=2, default=str), encoding="utf-8")
    return path
