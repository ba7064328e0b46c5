"""SCRIBE partner apps: ipywidgets/ipyleaflet apps served by Voila (see docs/apps.md).

Each app notebook in ``notebooks/apps/`` is a tagged parameters cell and one call here.
Every app reads through the user's own store identity (``SCRIBE_STORE``), so it shows
only what the data-sharing agreement allows that user.
"""

from .data import ALL, AppData, Selection
from .explorer import IncidentExplorer, incident_explorer
from .hotspot_map import HotspotMap, hotspot_map
from .profile import LocalityProfile, locality_profile
from .trends import TrendsApp, trends_app

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
