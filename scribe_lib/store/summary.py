"""What is in a store, as ``scribe status`` shows it (and as JSON for scripts)."""

from __future__ import annotations

import pandas as pd

from .base import Store

__all__ = ["status", "format_status"]


def status(store: Store) -> dict:
    """Counts of active incidents, quarantined rows and submissions, by partner, category, month.

    Returns
    -------
    dict
        ``incidents``, ``located``, ``quarantined``, ``submissions``, ``superseded`` (ints);
        ``by_partner``, ``by_category``, ``by_month`` (``{"YYYY-MM": int}``);
        ``by_partner_month``: ``{partner: {"YYYY-MM": int or "no data"}}``, where a month the
        partner never sent is ``"no data"``, never 0; ``hidden``: ``{what: why}`` for what
        this connection may not read (a hub user does not see the quarantine), whose
        counts are then ``None``.
    """
    from ..api import coverage

    subs = store.submissions()
    n_super = int(subs["superseded_by"].notna().sum())
    by_pm = store.count_incidents(by=["partner", "month"])
    cov = coverage(store)
    out = {
        "store": store.display_url,
        "backend": store.backend,
        "incidents": store.count_incidents(),
        "located": store.count_incidents(located_only=True),
        "quarantined": store.count_quarantined() if store.readable("quarantine") else None,
        "submissions": len(subs) - n_super,
        "superseded": n_super,
        "by_partner": _counts(store.count_incidents(by="partner"), "partner"),
        "by_category": _counts(store.count_incidents(by="category"), "category"),
        "by_month": _counts(store.count_incidents(by="month"), "month"),
        "by_partner_month": _partner_months(by_pm, cov),
        "hidden": {},
    }
    if not store.readable("quarantine"):
        out["hidden"]["quarantine"] = (
            "quarantined rows (partners' rejected raw lines) are not shared with this login; "
            "the incidents and submissions shown are those the data-sharing agreement lets "
            "it read"
        )
        active = subs[subs["superseded_by"].isna()]
        sent = active.groupby("partner")["accepted"].sum()
        for partner in sorted(p for p, n in sent.items() if n > 0 and p not in out["by_partner"]):
            out["hidden"][f"incidents:{partner}"] = (
                f"{partner}'s incidents are not shared with this login (its months show "
                '"not shared")'
            )
            months = out["by_partner_month"].get(partner, {})
            out["by_partner_month"][partner] = {m: "not shared" for m in months}
    return out


def _key(value) -> str:
    return value.strftime("%Y-%m") if isinstance(value, pd.Timestamp) else str(value)


def _counts(df: pd.DataFrame, col: str) -> dict[str, int]:
    return {_key(k): int(n) for k, n in zip(df[col], df["n"], strict=True)}


def _partner_months(by_pm: pd.DataFrame, cov: pd.DataFrame) -> dict[str, dict]:
    """Counts per partner and month; ``"no data"`` where no active submission covers it."""
    covered = cov.groupby(["partner", "month"])["status"].agg(lambda s: (s == "data").any())
    counts = {
        (p, m): int(n) for p, m, n in by_pm[["partner", "month", "n"]].itertuples(index=False)
    }
    out: dict[str, dict] = {}
    for (partner, month), has in covered.items():
        out.setdefault(str(partner), {})[_key(month)] = (
            counts.get((partner, month), 0) if has else "no data"
        )
    for (partner, month), n in counts.items():  # incidents outside their submission's months
        out.setdefault(str(partner), {}).setdefault(_key(month), n)
    return {p: dict(sorted(m.items())) for p, m in sorted(out.items())}


def format_status(info: dict) -> str:
    """The human-readable ``scribe status`` text."""
    hidden = info.get("hidden", {})
    quarantined = "hidden" if info["quarantined"] is None else f"{info['quarantined']:,}"
    lines = [
        f"Store: {info['store']} ({info['backend']})",
        f"Incidents: {info['incidents']:,} ({info['located']:,} with a location)  "
        f"Quarantined rows: {quarantined}  Submissions: {info['submissions']:,}"
        + (f" (+{info['superseded']} superseded, kept as history)" if info["superseded"] else ""),
    ]
    lines += [f"Hidden: {why}." for why in hidden.values()]
    if not info["incidents"] and not info["submissions"]:
        lines.append(
            "The store is empty: `scribe ingest --source police-uk FILE` or `scribe demo`."
        )
        return "\n".join(lines)
    for title, key in (("By partner", "by_partner"), ("By category", "by_category")):
        lines.append(f"\n{title}:")
        width = max(len(k) for k in info[key]) if info[key] else 0
        lines += [f"  {k:<{width}}  {n:>9,}" for k, n in info[key].items()]
    pm = info["by_partner_month"]
    if pm:
        table = pd.DataFrame(pm).sort_index().fillna("no data")
        table = table.map(lambda v: f"{v:,}" if isinstance(v, int | float) else v)
        lines.append('\nBy month ("no data": the partner sent nothing for that month):')
        lines.append(table.to_string())
    return "\n".join(lines)
