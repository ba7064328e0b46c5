"""SCRIBE branding for the apps: a header, readable type and visible keyboard focus.

The styles travel with the app (an ``HTML`` widget holding a ``<style>`` element), so an
app looks the same under plain ``voila``, through the hub and inside JupyterLab. Colours
meet WCAG 2.1 AA contrast (text 4.5:1 or more against its background).
"""

from __future__ import annotations

import html

import ipywidgets as w

__all__ = ["header", "note", "CSS", "INK", "ACCENT"]

#: body text and the brand colour (navy: 12.6:1 on white), and a warm accent (5.9:1).
INK, BRAND, ACCENT = "#1b1f24", "#1d3557", "#b5391f"

CSS = f"""
<style>
.scribe-app {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: {INK}; font-size: 15px; line-height: 1.45; max-width: 1400px; }}
.scribe-header {{ background: {BRAND}; color: #fff; padding: 10px 16px; border-radius: 4px; }}
.scribe-header h1 {{ font-size: 1.35em; margin: 0; color: #fff; }}
.scribe-header p {{ margin: 2px 0 0 0; color: #e8eef6; }}
.scribe-note {{ background: #f3f6fa; border-left: 4px solid {BRAND}; padding: 6px 10px;
  margin: 6px 0; }}
.scribe-app table {{ border-collapse: collapse; font-size: 14px; }}
.scribe-app th, .scribe-app td {{ border-bottom: 1px solid #d0d7de; padding: 3px 8px;
  text-align: left; vertical-align: top; }}
.scribe-app th {{ background: #eef2f7; }}
.scribe-app td.num, .scribe-app th.num {{ text-align: right; }}
.scribe-app .sig {{ color: {ACCENT}; font-weight: 600; }}
.scribe-app a.scribe-download {{ color: {BRAND}; font-weight: 600; }}
.scribe-app :focus-visible, .scribe-app button:focus, .scribe-app select:focus,
.scribe-app input:focus {{ outline: 3px solid #ffbf47 !important; outline-offset: 1px; }}
.scribe-app .widget-label {{ color: {INK}; }}
.scribe-app .leaflet-container {{ background: #f7f7f4; }}
.scribe-legend {{ background: #fff; padding: 6px 8px; font-size: 13px; line-height: 1.5; }}
.scribe-legend i {{ display: inline-block; width: 14px; height: 14px; margin-right: 6px;
  vertical-align: middle; border: 1px solid #555; }}
</style>
"""


def header(title: str, subtitle: str = "") -> w.HTML:
    """The branded header of an app (carries the stylesheet)."""
    sub = f"<p>{html.escape(subtitle)}</p>" if subtitle else ""
    return w.HTML(
        CSS + f'<header class="scribe-header" role="banner"><h1>SCRIBE &middot; '
        f"{html.escape(title)}</h1>{sub}</header>"
    )


def note(text: str) -> w.HTML:
    """A plain-English explanatory note (text is escaped)."""
    return w.HTML(f'<div class="scribe-note" role="note">{html.escape(text)}</div>')
