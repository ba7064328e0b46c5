"""A briefing for an organisation shows that organisation's view of the data.

The data-sharing agreement (:mod:`scribe_lib.access`) says, per organisation and partner,
which categories it may see, which restricted fields, at what spatial precision, and how
long each partner's data is kept. On PostgreSQL the access layer enforces this in the
database (row-level security and views for the organisation's role); the briefing also
applies the same rules in Python, which is all the embedded (DuckDB) store can do - and
the briefing says which was used.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import AccessError, NotFoundError

__all__ = ["AudienceView", "agreement_path", "audience_view", "org_store_url"]

_ROOT = Path(__file__).resolve().parents[2]


def agreement_path(path: str | os.PathLike | None = None) -> Path:
    """The agreement file: ``path``, ``$SCRIBE_AGREEMENT``, else ``hub_config/data_sharing_agreement.yml``."""
    return Path(
        path
        or os.environ.get("SCRIBE_AGREEMENT")
        or _ROOT / "hub_config" / "data_sharing_agreement.yml"
    )


def org_store_url(store: str, org: str | None) -> str:
    """The store URL a briefing for ``org`` reads: on PostgreSQL a login of ``org``.

    Given the administrator's URL of a PostgreSQL store, provisions (or rotates the
    password of) the viewer login ``briefings-<org>`` in the organisation with
    :func:`scribe_lib.access.provision_user` and returns its URL, so the database's
    row-level security decides what the briefing sees. Any other store is returned as is.

    Raises
    ------
    scribe_lib.AccessError
        When the URL is not a superuser's (say so and how to fix it).
    """
    if org is None or not str(store).startswith(("postgresql://", "postgres://")):
        return store
    from ..access import provision_user, user_url

    try:
        secret = provision_user(f"briefings-{org}", org, "viewer", admin_url=store)
    except AccessError as exc:
        raise AccessError(
            f"a briefing for {org} on PostgreSQL reads through {org}'s own login, which only "
            f"the administrator's URL can provision: {exc}"
        ) from None
    return user_url(f"briefings-{org}", secret, admin_url=store)


@dataclass
class AudienceView:
    """Incidents as one organisation may see them, with what was withheld and why.

    Attributes
    ----------
    incidents : GeoDataFrame
        The rows and fields the organisation may see (locations generalised as agreed).
    audience : str or None
        The organisation (``None``: the whole partnership's analysts, nothing withheld).
    notes : list of str
        Plain-English lines for the briefing: what the agreement withheld or generalised.
    suppress_below : dict
        ``category -> n``: counts below ``n`` must be shown as ``<n`` for this audience.
    enforced_by : str
        ``"database"`` (PostgreSQL role) or ``"python"`` (embedded store) or ``"none"``.
    """

    incidents: pd.DataFrame
    audience: str | None
    notes: list
    suppress_below: dict
    enforced_by: str
    label: str | None = None


def _snap(values: pd.Series, grid: int) -> pd.Series:
    return np.floor(values / grid) * grid + grid / 2.0


def audience_view(
    incidents, audience: str | None, *, agreement=None, backend: str = "duckdb", today=None
) -> AudienceView:
    """Apply the data-sharing agreement for ``audience`` to loaded incidents.

    Parameters
    ----------
    incidents : GeoDataFrame
        From :func:`scribe_lib.load` (not modified).
    audience : str or None
        Organisation name as in the agreement; ``None`` keeps everything (analyst view).
    agreement : Agreement or path, optional
        Default :func:`agreement_path`.
    backend : str
        The store's backend, only to say where the rules were enforced.
    today : date-like, optional
        Reference date of retention periods (default today).

    Raises
    ------
    scribe_lib.NotFoundError
        The organisation is not in the agreement (the message lists those that are).
    """
    import geopandas as gpd

    if audience is None:
        return AudienceView(incidents.copy(), None, [], {}, "none")
    from ..access.agreement import Agreement, load_agreement

    ag = (
        agreement if isinstance(agreement, Agreement) else load_agreement(agreement_path(agreement))
    )
    org = ag.organisations.get(audience)
    if org is None:
        known = ", ".join(sorted(ag.organisations))
        raise NotFoundError(
            f"organisation {audience!r} is not in the data-sharing agreement {ag.path}; known: {known}"
        )
    df = pd.DataFrame(incidents).copy()
    keep = pd.Series(False, index=df.index)
    notes, suppress = [], {}
    today = pd.Timestamp(today or pd.Timestamp.now()).normalize()
    for partner, label in ag.partners.items():
        rule = org.rule_for(partner)
        mine = df["partner"] == partner
        if not mine.any():
            continue
        if rule is None:
            notes.append(
                f"{label}'s data is not shared with {org.label} and is not in this briefing."
            )
            continue
        if rule.precision == "aggregate":
            notes.append(
                f"{label}'s data is shared with {org.label} as area counts only; it is not in this briefing."
            )
            continue
        ok = mine.copy()
        if rule.categories is not None:
            ok &= df["category"].isin(rule.categories)
            notes.append(
                f"Of {label}'s data, only these categories are shared: {', '.join(rule.categories)}."
            )
        months = ag.retention_months.get(partner)
        if months:
            ok &= df["period_start"] >= today - pd.DateOffset(months=months)
        for col in (
            "source_line",
            "source_record_id",
            "source_category",
            "location_text",
            "outcome",
            "description",
            "attributes",
        ):
            if col in df.columns and col not in rule.fields and "all" not in rule.fields:
                df.loc[mine, col] = pd.NA
        if rule.precision == "street":
            g = ag.street_grid_metres
            df.loc[mine, "easting"] = _snap(df.loc[mine, "easting"], g)
            df.loc[mine, "northing"] = _snap(df.loc[mine, "northing"], g)
            df.loc[mine, ["lon", "lat"]] = np.nan
            notes.append(f"{label}'s locations are generalised to the centre of a {g} m square.")
        if rule.suppress_small_counts:
            for cat in df.loc[ok, "category"].dropna().unique():
                suppress[str(cat)] = ag.suppress_counts_below
        keep |= ok
    unknown = sorted(set(df["partner"].dropna()) - set(ag.partners))
    if unknown:
        raise AccessError(f"partners {unknown} are in the store but not in the agreement {ag.path}")
    out = df[keep]
    geom = gpd.points_from_xy(out["easting"], out["northing"], crs="EPSG:27700")
    geom = [None if pd.isna(x) else g for g, x in zip(geom, out["easting"], strict=True)]
    gdf = gpd.GeoDataFrame(
        out.drop(columns=["geometry"], errors="ignore"), geometry=geom, crs="EPSG:27700"
    )
    # ``backend`` only says where else the rules hold: on PostgreSQL the caller may also
    # have read through the organisation's role (see sections.prepare).
    enforced = "database+python" if backend == "postgres-role" else "python"
    return AudienceView(gdf, audience, notes, suppress, enforced, org.label)
