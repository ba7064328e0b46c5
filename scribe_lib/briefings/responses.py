"""The responses a problem-solving group records for its locality (one YAML file each).

A file ``<responses dir>/<locality slug>.yml`` lists the group's actions with their start
dates and, optionally, the area each one covered (EPSG:27700 metres; the demo files in
``scribe_lib/data/demo/responses/`` are examples)::

    locality: Stotfold
    group: Stotfold Problem-Solving Group
    buffer_m: 250                  # optional: displacement buffer of the WDQ (default 250)
    actions:
      - title: Evening patrols around the recreation ground
        partner: bedfordshire-police          # optional: who leads it
        categories: [anti-social-behaviour]   # optional: what it targets (default: all)
        start: 2025-09-05
        end: null                             # optional
        area: {centre: [521690, 236990], radius_m: 400}   # optional: a circle, or
        # area: "POLYGON ((521500 236800, 521900 236800, ...))"   WKT

A file-level ``area`` (or ``response_area``) applies to actions that give none. An action
with an area is assessed in that area (before/after, and the Weighted Displacement
Quotient); one without is assessed over the whole locality.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from ..errors import ConfigError

__all__ = ["Responses", "load_responses", "responses_dir", "read_area", "DEFAULT_BUFFER"]

#: metres of displacement buffer around a response area when the file gives none.
DEFAULT_BUFFER = 250.0
_DEMO_DIR = Path(__file__).resolve().parents[1] / "data" / "demo" / "responses"
_ACTION_KEYS = ("title", "action", "name", "description")
_COLUMNS = ["action", "start", "end", "lead", "categories", "area"]


@dataclass(frozen=True)
class Responses:
    """A locality's recorded responses.

    Attributes
    ----------
    actions : pandas.DataFrame
        ``action, start, end, lead, categories, area`` sorted by ``start`` (Timestamps;
        ``categories`` a tuple or ``None`` for all; ``area`` a shapely polygon in
        EPSG:27700 or ``None`` for the whole locality).
    buffer : float
        Displacement buffer width in metres (WDQ).
    file : str or None
        Where they came from (``None``: the group recorded none).
    """

    locality: str
    actions: pd.DataFrame
    buffer: float = DEFAULT_BUFFER
    group: str | None = None
    problem: str | None = None
    file: str | None = None


def responses_dir(path: str | os.PathLike | None = None) -> Path:
    """The directory of response files: ``path``, ``$SCRIBE_RESPONSES``, else the demo set."""
    return Path(path or os.environ.get("SCRIBE_RESPONSES") or _DEMO_DIR)


def _date(value, file: str, key: str) -> pd.Timestamp:
    if isinstance(value, dt.date):
        return pd.Timestamp(value)
    try:
        return pd.Timestamp(dt.date.fromisoformat(str(value).strip()))
    except ValueError:
        raise ConfigError(
            f"must be a date written YYYY-MM-DD, not {value!r}", file=file, key=key
        ) from None


def read_area(spec, file: str | None = None, key: str = "area"):
    """An area from WKT text or ``{centre: [x, y], radius_m: r}`` (EPSG:27700 metres).

    Raises
    ------
    scribe_lib.ConfigError
        When the area cannot be read or is empty.
    """
    from shapely import wkt as shapely_wkt
    from shapely.errors import ShapelyError
    from shapely.geometry import Point

    if spec is None:
        return None
    try:
        if isinstance(spec, str):
            geom = shapely_wkt.loads(spec)
        elif isinstance(spec, dict) and spec.get("wkt"):
            geom = shapely_wkt.loads(str(spec["wkt"]))
        elif isinstance(spec, dict) and spec.get("centre") is not None:
            radius = spec.get("radius_m", spec.get("radius"))
            x, y = (float(v) for v in spec["centre"])
            geom = Point(x, y).buffer(float(radius))
        else:
            raise ValueError("give WKT text, or centre: [easting, northing] and radius_m")
    except (ValueError, TypeError, ShapelyError) as exc:
        raise ConfigError(f"cannot read the area: {exc}", file=file, key=key) from None
    if geom.is_empty or geom.area <= 0:
        raise ConfigError(
            "the area is empty; give a polygon or a circle in EPSG:27700 metres",
            file=file,
            key=key,
        )
    return geom


def _action(item, file: str, key: str, default_area) -> dict:
    if not isinstance(item, dict):
        raise ConfigError("each action must be a mapping with title and start", file=file, key=key)
    text = next((item[k] for k in _ACTION_KEYS if item.get(k)), None)
    if not text:
        raise ConfigError("says no action: give 'title: what was done'", file=file, key=key)
    start = item.get("start", item.get("start_date"))
    if start in (None, ""):
        raise ConfigError(
            "has no start date: give 'start: YYYY-MM-DD'", file=file, key=f"{key}.start"
        )
    cats = item.get("categories")
    if isinstance(cats, str):
        cats = [cats]
    if cats is not None and not (isinstance(cats, list) and all(isinstance(c, str) for c in cats)):
        raise ConfigError(
            f"must be a list of taxonomy keys, not {cats!r}", file=file, key=f"{key}.categories"
        )
    area = read_area(item["area"], file, f"{key}.area") if item.get("area") else default_area
    return {
        "action": str(text).strip(),
        "start": _date(start, file, f"{key}.start"),
        "end": _date(item["end"], file, f"{key}.end") if item.get("end") else pd.NaT,
        "lead": str(item.get("partner") or item.get("lead") or ""),
        "categories": tuple(cats) if cats else None,
        "area": area,
    }


def load_responses(locality: str, directory: str | os.PathLike | None = None) -> Responses:
    """Read the responses recorded for ``locality`` (an empty set if it has no file).

    Parameters
    ----------
    locality : str
        Locality name; the file is ``<directory>/<slug>.yml`` (``"Leighton Buzzard"`` ->
        ``leighton-buzzard.yml``).
    directory : path, optional
        See :func:`responses_dir`.

    Raises
    ------
    scribe_lib.ConfigError
        Naming the file and key of an invalid entry (missing title or start date...).
    """
    from .render import slug

    d = responses_dir(directory)
    name = slug(locality.rpartition(":")[2])
    path = next((p for p in (d / f"{name}.yml", d / f"{name}.yaml") if p.is_file()), None)
    empty = pd.DataFrame(
        {
            c: pd.Series(dtype="datetime64[ns]" if c in ("start", "end") else object)
            for c in _COLUMNS
        }
    )
    if path is None:
        return Responses(locality, empty)
    file = str(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", file=file) from None
    if not isinstance(doc, dict):
        raise ConfigError("must be a mapping with an 'actions' list", file=file)
    items = doc.get("actions") or []
    if not isinstance(items, list):
        raise ConfigError("must be a list of actions", file=file, key="actions")
    default_area = read_area(doc.get("area", doc.get("response_area")), file, "area")
    buffer = doc.get("buffer_m", DEFAULT_BUFFER)
    if not isinstance(buffer, int | float) or isinstance(buffer, bool) or buffer <= 0:
        raise ConfigError(
            f"must be a positive number of metres, not {buffer!r}", file=file, key="buffer_m"
        )
    rows = [_action(it, file, f"actions[{i}]", default_area) for i, it in enumerate(items)]
    actions = pd.DataFrame(rows, columns=_COLUMNS) if rows else empty
    actions = actions.sort_values("start", kind="stable").reset_index(drop=True)
    return Responses(locality, actions, float(buffer), doc.get("group"), doc.get("problem"), file)
