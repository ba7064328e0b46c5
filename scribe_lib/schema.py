"""The harmonised incident schema: one taxonomy, one time model, one place (EPSG:27700).

Every partner adapter returns frames with exactly :data:`INCIDENT_COLUMNS`
(see ``docs/schema.md`` for the meaning of each column). Stores persist them
unchanged and give them back from :func:`scribe_lib.load` as a GeoDataFrame
in British National Grid.
"""

from __future__ import annotations

import pandas as pd

__all__ = [
    "CRS",
    "INCIDENT_COLUMNS",
    "ADAPTER_COLUMNS",
    "QUARANTINE_COLUMNS",
    "TIME_PRECISIONS",
    "LOCATION_PRECISIONS",
    "empty_incidents",
    "empty_quarantine",
]

#: The one coordinate reference system of SCRIBE: British National Grid.
CRS = "EPSG:27700"

#: Time precision of an incident: an exact timestamp, a day, or a month (police.uk).
TIME_PRECISIONS = ("exact", "day", "month")

#: Location precision: exact point, police.uk snapped street point, rounded by the
#: source (fire open data to 50/100 m), postcode centroid, or no location.
LOCATION_PRECISIONS = ("exact", "street", "rounded", "postcode", "none")

#: column -> pandas dtype of the harmonised incident frame, in order.
INCIDENT_COLUMNS: dict[str, str] = {
    "incident_id": "string",  # stable: <first 16 hex of the file sha256>-<line>
    "partner": "string",  # the organisation that submitted (e.g. bedfordshire-police)
    "source": "string",  # the adapter name (police-uk, fire, council, or a mapping)
    "submission_id": "Int64",  # the submission (one file) it came with
    "source_line": "Int64",  # physical line of the record in its file (header = 1)
    "source_record_id": "string",  # the partner's own id (Crime ID, incident number); nullable
    "category": "string",  # SCRIBE taxonomy category (scribe_lib/data/taxonomy.yml)
    "source_category": "string",  # the partner's own category text, verbatim
    "occurred_at": "datetime64[ns]",  # local (Europe/London) wall time when known, else NaT
    "period_start": "datetime64[ns]",  # start of the time the incident falls in (inclusive)
    "period_end": "datetime64[ns]",  # end of that time (exclusive)
    "time_precision": "string",  # exact | day | month
    "easting": "float64",  # metres, EPSG:27700; NaN when no location
    "northing": "float64",
    "lon": "float64",  # WGS84 degrees, converted with OSTN15
    "lat": "float64",
    "location_precision": "string",  # exact | street | rounded | postcode | none
    "location_text": "string",  # "On or near High Street", postcode, address text
    "lsoa_code": "string",  # area codes the source gives
    "lsoa_name": "string",
    "ward_code": "string",
    "outcome": "string",  # police last outcome category, case status...
    "description": "string",  # free text from the partner (restricted field)
    "attributes": "string",  # JSON object of every other source field, kept as data
}

#: what an adapter fills (the ingest adds incident_id, submission_id, partner).
ADAPTER_COLUMNS = [c for c in INCIDENT_COLUMNS if c not in ("incident_id", "submission_id")]

#: column -> dtype of the quarantine frame.
QUARANTINE_COLUMNS: dict[str, str] = {
    "file": "string",  # file name as submitted
    "line": "Int64",  # physical line number (header = 1); NULL for whole-file problems
    "field": "string",  # the column at fault
    "value": "string",  # its value, verbatim
    "reason": "string",  # plain-English reason
    "raw": "string",  # the whole raw line, so nothing is lost
}


def empty_incidents() -> pd.DataFrame:
    """An empty harmonised incident frame with the right dtypes."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in INCIDENT_COLUMNS.items()})


def empty_quarantine() -> pd.DataFrame:
    """An empty quarantine frame with the right dtypes."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in QUARANTINE_COLUMNS.items()})


def conform(df: pd.DataFrame, columns: dict[str, str] = INCIDENT_COLUMNS) -> pd.DataFrame:
    """Return a copy of ``df`` with exactly ``columns`` in order and dtype (missing -> NA)."""
    out = pd.DataFrame(index=df.index)
    for c, t in columns.items():
        if c in df.columns:
            out[c] = df[c].astype(t) if str(df[c].dtype) != t else df[c]
        else:
            out[c] = pd.Series(pd.NA if t != "float64" else float("nan"), index=df.index).astype(t)
    return out
