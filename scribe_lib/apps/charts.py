"""Charts and tables for the apps: matplotlib figures as PNG ``Image`` widgets, HTML tables."""

from __future__ import annotations

import html

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .downloads import png_bytes  # noqa: E402

__all__ = ["line_chart", "heatmap", "table_html"]

PALETTE = ["#1d3557", "#b5391f", "#2a9d8f", "#8d5a97", "#e09f3e", "#4b5563", "#6a994e"]


def line_chart(counts: pd.DataFrame, by: str | None, title: str) -> bytes:
    """Monthly counts (``period``, ``count``, optional ``by``) as a line chart PNG."""
    fig, ax = plt.subplots(figsize=(9, 3.6))
    if by:
        top = counts.groupby(by)["count"].sum().nlargest(len(PALETTE)).index
        for colour, key in zip(PALETTE, top, strict=False):
            g = counts[counts[by] == key]
            ax.plot(g["period"], g["count"], marker="o", ms=3, color=colour, label=str(key))
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    else:
        ax.plot(counts["period"], counts["count"], marker="o", ms=3, color=PALETTE[0],
                label="incidents")  # fmt: skip
        if "rolling_mean" in counts:
            ax.plot(counts["period"], counts["rolling_mean"], color=PALETTE[1], lw=1,
                    ls="--", label="3-month average")  # fmt: skip
        ax.legend(fontsize=8, frameon=False)
    ax.set_title(title, fontsize=10)
    ax.set_ylabel("incidents")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    return png_bytes(fig)


def heatmap(table: pd.DataFrame, title: str) -> bytes:
    """An hour x weekday table (24 x 7) as a heat map PNG."""
    fig, ax = plt.subplots(figsize=(5.5, 5.2))
    im = ax.imshow(table.to_numpy(), aspect="auto", cmap="Blues", origin="upper")
    ax.set_xticks(range(table.shape[1]), table.columns)
    ax.set_yticks(range(0, 24, 2), [f"{h:02d}:00" for h in range(0, 24, 2)])
    ax.set_title(title, fontsize=10)
    fig.colorbar(im, ax=ax, label="incidents")
    return png_bytes(fig)


def _cell(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (float, np.floating)):
        if np.isnan(v):
            return "no data"
        return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.3g}"
    if isinstance(v, pd.Timestamp):
        return v.strftime("%b %Y")
    return html.escape("" if v is None or v is pd.NA else str(v))


def table_html(frame: pd.DataFrame, css: str, labels: dict[str, str] | None = None,
               flag: str | None = None) -> str:  # fmt: skip
    """An accessible HTML table; rows where ``flag`` is true get class ``sig``."""
    labels = labels or {}
    cols = list(frame.columns)
    head = "".join(f'<th scope="col">{html.escape(labels.get(c, c))}</th>' for c in cols)
    rows = []
    for rec in frame.itertuples(index=False):
        d = dict(zip(cols, rec, strict=True))
        cls = ' class="sig"' if flag and bool(d.get(flag)) else ""
        cells = "".join(f"<td>{_cell(d[c])}</td>" for c in cols)
        rows.append(f"<tr{cls}>{cells}</tr>")
    return (
        f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )
