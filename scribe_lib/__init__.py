"""SCRIBE: shared crime and anti-social behaviour data for a Community Safety Partnership.

The curated public API; everything else lives in its domain module.
"""

from .api import coverage, ingest, load, localities, open_store
from .errors import (
    AccessError,
    ConfigError,
    NotFoundError,
    ScribeError,
    SourceError,
    StoreError,
)
from .schema import CRS, INCIDENT_COLUMNS

__version__ = "0.1.0"

__all__ = [
    "AccessError",
    "ConfigError",
    "NotFoundError",
    "ScribeError",
    "SourceError",
    "StoreError",
    "CRS",
    "INCIDENT_COLUMNS",
    "__version__",
    "coverage",
    "ingest",
    "load",
    "localities",
    "open_store",
]
