"""Problem-solving group responses (the R of SARA): actions with dates and an area.

A responses file is YAML (see ``scribe_lib/data/demo/responses/*.yml`` for the demo's
fictional groups)::

    locality: Stotfold
    group: Stotfold Problem-Solving Group
    label: ...
    problem: free text
    actions:
      - title: Evening patrols around the recreation ground
        partner: bedfordshire-police
        categories: [anti-social-behaviour]        # optional, SCRIBE taxonomy keys
        start: 2025-09-05                          # ISO date, required
        end: null                                  # optional, on or after start
        area: {centre: [521690, 236990], radius_m: 400}   # optional, EPSG:27700
        # or area: "POLYGON ((...))" (WKT, EPSG:27700)

:func:`read_responses` validates it and returns dates as ``datetime.date`` and areas as
shapely polygons in EPSG:27700.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import shapely
import yaml
from shapely.geometry import Point

from ..errors import ConfigError, NotFoundError
from .geography import data_dir

__all__ = ["read_responses", "responses_path"]


def responses_path(locality: str) -> Path:
    """The demo responses file of a locality (``"Stotfold"`` -> ``responses/stotfold.yml``)."""
    folder = data_dir() / "responses"
    slug = "-".join(str(locality).lower().split())
    path = folder / f"{slug}.yml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in folder.glob("*.yml")))
        raise NotFoundError(f"no demo responses for locality {locality!r}; known: {known}")
    return path


def _date(value, file: str, key: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(
            f"{value!r} is not a date; write it as YYYY-MM-DD", file=file, key=key
        ) from None


def _area(value, file: str, key: str):
    if value is None:
        return None
    if isinstance(value, str):
        try:
            geom = shapely.from_wkt(value)
        except shapely.errors.GEOSException as exc:
            raise ConfigError(f"not valid WKT: {exc}", file=file, key=key) from None
    elif isinstance(value, dict) and {"centre", "radius_m"} <= set(value):
        try:
            (x, y), r = value["centre"], float(value["radius_m"])
            geom = Point(float(x), float(y)).buffer(r, quad_segs=16)
        except (TypeError, ValueError):
            raise ConfigError(
                "give centre: [easting, northing] and radius_m: metres", file=file, key=key
            ) from None
        if r <= 0:
            raise ConfigError(f"radius_m must be positive, got {r}", file=file, key=key)
    else:
        raise ConfigError(
            "an area is WKT text or {centre: [easting, northing], radius_m: metres}",
            file=file,
            key=key,
        )
    if geom.geom_type not in ("Polygon", "MultiPolygon") or not geom.is_valid:
        raise ConfigError(
            f"the area must be a valid polygon, got {geom.geom_type}", file=file, key=key
        )
    return geom


def read_responses(path: str | os.PathLike) -> dict:
    """Read and validate a problem-solving group's responses file.

    Parameters
    ----------
    path : path-like
        The YAML file (for the demo: :func:`responses_path`).

    Returns
    -------
    dict
        ``locality, group, label, problem`` (str) and ``actions``: a list of dicts with
        ``title, partner`` (str), ``categories`` (list of str), ``start`` (date), ``end``
        (date or None) and ``area`` (shapely polygon in EPSG:27700, or None for the whole
        locality), in start order.

    Examples
    --------
    >>> from scribe_lib.demo import read_responses, responses_path
    >>> r = read_responses(responses_path("Stotfold"))
    >>> r["actions"][0]["start"].isoformat()
    '2025-09-05'
    """
    file = os.fspath(path)
    try:
        doc = yaml.safe_load(Path(file).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("no such file", file=file) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", file=file) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("locality"), str):
        raise ConfigError("a responses file needs a 'locality' name", file=file, key="locality")
    actions = doc.get("actions") or []
    if not isinstance(actions, list):
        raise ConfigError("'actions' must be a list", file=file, key="actions")
    out = []
    for i, a in enumerate(actions):
        key = f"actions[{i}]"
        if not isinstance(a, dict) or not isinstance(a.get("title"), str):
            raise ConfigError("each action needs a 'title'", file=file, key=key)
        if "start" not in a:
            raise ConfigError("each action needs a 'start' date", file=file, key=f"{key}.start")
        start = _date(a["start"], file, f"{key}.start")
        end = None if a.get("end") is None else _date(a["end"], file, f"{key}.end")
        if end is not None and end < start:
            raise ConfigError(f"end {end} is before start {start}", file=file, key=f"{key}.end")
        cats = a.get("categories") or []
        if isinstance(cats, str):
            cats = [cats]
        out.append(
            {
                "title": a["title"],
                "partner": str(a.get("partner") or ""),
                "categories": [str(c) for c in cats],
                "start": start,
                "end": end,
                "area": _area(a.get("area"), file, f"{key}.area"),
            }
        )
    return {
        "locality": doc["locality"],
        "group": str(doc.get("group") or ""),
        "label": str(doc.get("label") or ""),
        "problem": str(doc.get("problem") or ""),
        "actions": sorted(out, key=lambda a: a["start"]),
    }
