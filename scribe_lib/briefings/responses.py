"""The responses a problem-solving group records for its locality (one YAML file each).

A file ``<responses dir>/<locality slug>.yml`` lists the group's actions with their start
dates and, optionally, the area the response covered (EPSG:27700)::

    locality: Stotfold
    group: Stotfold problem-solving group
    response_area:               # optional; enables the Weighted Displacement Quotient
      wkt: POLYGON ((520000 236000, 520600 236000, 520600 236500, 520000 236500, 520000 236000))
      # or  centre: [520300, 236250]  with  radius: 300   (metres)
      buffer: 300                # width of the displacement buffer, metres (default 250)
    actions:
      - action: Dispersal order around the recreation ground
        start: 2024-03-01
        end: 2024-05-31          # optional
        lead: Bedfordshire Police  # optional
        categories: [anti-social-behaviour]  # optional: what the action targets
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from ..errors import ConfigError

__all__ = ["Responses", "load_responses", "responses_dir", "DEFAULT_BUFFER"]

#: metres of displacement buffer around a response area when the file gives none.
DEFAULT_BUFFER = 250.0
_DEMO_DIR = Path(__file__).resolve().parents[1] / "data" / "demo" / "responses"
_ACTION_KEYS = ("action", "title", "name", "description")
_START_KEYS = ("start", "start_date", "started")


@dataclass(frozen=True)
class Responses:
    """A locality's recorded responses.

    Attributes
    ----------
    actions : pandas.DataFrame
        ``action, start, end, lead, categories`` sorted by ``start`` (dates as Timestamps,
        ``categories`` a tuple or ``None`` for every category).
    area : shapely geometry or None
        The response area in EPSG:27700, if recorded.
    buffer : float
        Displacement buffer width in metres.
    file : str or None
        Where they came from (``None``: the group recorded none).
    """

    locality: str
    actions: pd.DataFrame
    area: object = None
    buffer: float = DEFAULT_BUFFER
    group: str | None = None
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


def _first(item: dict, keys: tuple[str, ...]):
    for k in keys:
        if item.get(k) not in (None, ""):
            return item[k]
    return None


def _area(spec, file: str):
    from shapely import wkt as shapely_wkt
    from shapely.geometry import Point, shape

    if spec is None:
        return None, DEFAULT_BUFFER
    if not isinstance(spec, dict):
        raise ConfigError(
            "must be a mapping with wkt, or centre and radius", file=file, key="response_area"
        )
    buffer = float(spec.get("buffer", DEFAULT_BUFFER))
    if buffer <= 0:
        raise ConfigError(
            f"buffer must be a positive number of metres, not {buffer!r}",
            file=file,
            key="response_area.buffer",
        )
    try:
        if spec.get("wkt"):
            geom = shapely_wkt.loads(str(spec["wkt"]))
        elif spec.get("geometry"):
            geom = shape(spec["geometry"])
        elif spec.get("centre") is not None and spec.get("radius") is not None:
            x, y = (float(v) for v in spec["centre"])
            geom = Point(x, y).buffer(float(spec["radius"]))
        else:
            raise ValueError("give wkt, geometry, or centre and radius")
    except (ValueError, TypeError, Exception) as exc:  # shapely raises its own errors
        raise ConfigError(f"cannot read the area: {exc}", file=file, key="response_area") from None
    if geom.is_empty or geom.area <= 0:
        raise ConfigError(
            "the response area is empty; give a polygon in EPSG:27700 metres",
            file=file,
            key="response_area",
        )
    return geom, buffer


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
        Naming the file and key of an invalid entry (missing action or start date...).
    """
    from .render import slug

    d = responses_dir(directory)
    path = next(
        (p for p in (d / f"{slug(locality)}.yml", d / f"{slug(locality)}.yaml") if p.is_file()),
        None,
    )
    empty = pd.DataFrame(
        {
            "action": [],
            "start": pd.Series(dtype="datetime64[ns]"),
            "end": pd.Series(dtype="datetime64[ns]"),
            "lead": [],
            "categories": [],
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
    items = doc.get("actions", doc.get("responses")) or []
    if not isinstance(items, list):
        raise ConfigError("must be a list of actions", file=file, key="actions")
    rows = []
    for i, item in enumerate(items):
        key = f"actions[{i}]"
        if not isinstance(item, dict):
            raise ConfigError(
                "each action must be a mapping with action and start", file=file, key=key
            )
        text = _first(item, _ACTION_KEYS)
        if not text:
            raise ConfigError("says no action: give 'action: what was done'", file=file, key=key)
        start = _first(item, _START_KEYS)
        if start is None:
            raise ConfigError(
                "has no start date: give 'start: YYYY-MM-DD'", file=file, key=f"{key}.start"
            )
        cats = item.get("categories")
        if isinstance(cats, str):
            cats = [cats]
        rows.append(
            {
                "action": str(text).strip(),
                "start": _date(start, file, f"{key}.start"),
                "end": _date(item["end"], file, f"{key}.end") if item.get("end") else pd.NaT,
                "lead": str(_first(item, ("lead", "owner", "partner")) or ""),
                "categories": tuple(cats) if cats else None,
            }
        )
    actions = pd.DataFrame(rows, columns=list(empty.columns)) if rows else empty
    actions = actions.sort_values("start", kind="stable").reset_index(drop=True)
    area, buffer = _area(doc.get("response_area"), file)
    return Responses(locality, actions, area, buffer, doc.get("group"), file)
