"""SCRIBE: shared crime and anti-social behaviour data for a Community Safety Partnership.

The curated public API; everything else lives in its domain module.
"""

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
]

# The analyst API (load, localities, open_store, ingest) is re-exported here
# by scribe_lib/api.py once the store exists.
try:  # pragma: no cover - import shape only
    from .api import ingest, load, localities, open_store  # noqa: F401

    __all__ += ["ingest", "load", "localities", "open_store"]
except ImportError as _exc:  # api not written yet during bootstrap
    if "scribe_lib.api" not in str(_exc):
        raise
