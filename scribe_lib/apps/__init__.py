"""SCRIBE partner apps: ipywidgets/ipyleaflet apps served by Voila (see docs/apps.md).

Each app notebook in ``notebooks/apps/`` is a tagged parameters cell and one call here.
Every app reads through the user's own store identity (``SCRIBE_STORE``), so it shows
only what the data-sharing agreement allows that user.

The apps are imported on first use, so that the hub (which only needs
:mod:`scribe_lib.apps.serving`) never loads ipyleaflet or matplotlib.
"""

from __future__ import annotations

import importlib

__all__ = [
    "ALL",
    "AppData",
    "Selection",
    "IncidentExplorer",
    "incident_explorer",
    "HotspotMap",
    "hotspot_map",
    "TrendsApp",
    "trends_app",
    "LocalityProfile",
    "locality_profile",
]

_WHERE = {
    "ALL": "data",
    "AppData": "data",
    "Selection": "data",
    "IncidentExplorer": "explorer",
    "incident_explorer": "explorer",
    "HotspotMap": "hotspots",
    "hotspot_map": "hotspots",
    "TrendsApp": "trends",
    "trends_app": "trends",
    "LocalityProfile": "profile",
    "locality_profile": "profile",
}


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'scribe_lib.apps' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)


def __dir__() -> list[str]:
    return sorted(__all__)
