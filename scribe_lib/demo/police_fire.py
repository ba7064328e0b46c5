"""Write demo events as data.police.uk street-level files and a fire incident file.

* police.uk: one file per force and month (``2024-01/2024-01-bedfordshire-street.csv``),
  exactly the published columns; Crime ID a 64-hex hash, ASB rows without one, points
  snapped to street points ("On or near ..."), about 1.5 % of crimes "No Location".
* fire: one incident-level file shaped like published fire open data (LFB-style incident
  numbers, stop codes, motive), eastings/northings rounded to 50 m.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["POLICE_COLUMNS", "FIRE_COLUMNS", "police_frame", "fire_frame"]

POLICE_COLUMNS = [
    "Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
    "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context",
]  # fmt: skip
FIRE_COLUMNS = [
    "IncidentNumber", "DateOfCall", "TimeOfCall", "IncidentGroup", "StopCodeDescription",
    "Motive", "PropertyCategory", "PropertyType", "AddressQualifier", "Postcode_district",
    "Easting_rounded", "Northing_rounded", "WardCode", "WardName",
]  # fmt: skip
FORCE = "Bedfordshire Police"
NO_LOCATION_SHARE = 0.015

# Last outcome category: early (the last two months) and settled distributions.
_OUTCOMES = {
    "Investigation complete; no suspect identified": (0.22, 0.38),
    "Unable to prosecute suspect": (0.12, 0.29),
    "Under investigation": (0.45, 0.03),
    "Status update unavailable": (0.05, 0.02),
    "Awaiting court outcome": (0.05, 0.04),
    "Court result unavailable": (0.01, 0.06),
    "Offender given a caution": (0.01, 0.02),
    "Local resolution": (0.03, 0.04),
    "Further investigation is not in the public interest": (0.02, 0.03),
    "Formal action is not in the public interest": (0.01, 0.02),
    "Action to be taken by another organisation": (0.02, 0.04),
    "Offender given penalty notice": (0.005, 0.01),
    "Suspect charged as part of another case": (0.005, 0.02),
}


def _fmt6(x: np.ndarray) -> list[str]:
    return [f"{v:.6f}" for v in x]


def police_frame(
    ev: pd.DataFrame, streets: pd.DataFrame, month: pd.Period, end: pd.Period, rng
) -> pd.DataFrame:
    """One force-month of police.uk rows (all text) from that month's police events."""
    s = streets.loc[ev["street_id"].to_numpy()].reset_index(drop=True)
    n = len(ev)
    asb = ev["category"].to_numpy() == "Anti-social behaviour"
    ids = rng.bytes(32 * n).hex()
    crime_id = np.array([ids[64 * i : 64 * (i + 1)] for i in range(n)], dtype=object)
    crime_id[asb] = ""
    early = (end - month).n <= 1
    names = list(_OUTCOMES)
    p = np.array([v[0 if early else 1] for v in _OUTCOMES.values()])
    outcome = rng.choice(names, n, p=p / p.sum()).astype(object)
    outcome[asb] = ""
    nolo = ~asb & (rng.uniform(size=n) < NO_LOCATION_SHARE) & ev["hotspot"].eq("").to_numpy()
    df = pd.DataFrame(
        {
            "Crime ID": crime_id,
            "Month": str(month),
            "Reported by": FORCE,
            "Falls within": FORCE,
            "Longitude": _fmt6(s["lon"].to_numpy()),
            "Latitude": _fmt6(s["lat"].to_numpy()),
            "Location": ("On or near " + s["name"]).to_numpy(),
            "LSOA code": s["lsoa_code"].to_numpy(),
            "LSOA name": s["lsoa_name"].to_numpy(),
            "Crime type": ev["category"].to_numpy(),
            "Last outcome category": outcome,
            "Context": "",
        }
    )
    df.loc[nolo, ["Longitude", "Latitude", "LSOA code", "LSOA name"]] = ""
    df.loc[nolo, "Location"] = "No Location"
    order = rng.permutation(n)  # published files are not in time order
    return df.iloc[order].reset_index(drop=True)


_GROUP = {
    "Primary Fire": "Fire", "Secondary Fire": "Fire", "Chimney Fire": "Fire", "AFA": "False Alarm",
    "False alarm - Good intent": "False Alarm", "False alarm - Malicious": "False Alarm",
    "Special Service": "Special Service",
}  # fmt: skip
#: stop code -> (deliberate, accidental, not known) shares of the motive ("" for non-fires).
_MOTIVE = {
    "Primary Fire": (0.22, 0.73, 0.05),
    "Secondary Fire": (0.68, 0.27, 0.05),
    "Chimney Fire": (0.0, 1.0, 0.0),
}
#: stop code -> [(PropertyCategory, PropertyType, share)].
_PROPERTY = {
    "Primary Fire": [
        ("Dwelling", "House - single occupancy", 0.32), ("Dwelling", "Purpose Built Flats/Maisonettes - Up to 3 storeys", 0.12),
        ("Road Vehicle", "Car", 0.28), ("Road Vehicle", "Van", 0.05), ("Non Residential", "Shop", 0.05),
        ("Non Residential", "Pub/wine bar/bar", 0.02), ("Non Residential", "Warehouse", 0.03), ("Outdoor Structure", "Shed", 0.13),
    ],
    "Secondary Fire": [
        ("Outdoor", "Loose refuse (incl in garden)", 0.3), ("Outdoor", "Grassland, pasture, grazing etc", 0.22),
        ("Outdoor", "Scrub land", 0.12), ("Outdoor Structure", "Wheelie Bin", 0.2),
        ("Outdoor Structure", "Small refuse/rubbish container", 0.1), ("Outdoor Structure", "Fence", 0.06),
    ],
    "Chimney Fire": [("Dwelling", "House - single occupancy", 1.0)],
    "AFA": [
        ("Non Residential", "Hospital", 0.15), ("Non Residential", "Secondary school", 0.12),
        ("Non Residential", "Offices and call centres", 0.18), ("Other Residential", "Nursing/Care Home/Hospice", 0.2),
        ("Dwelling", "Purpose Built Flats/Maisonettes - 4 to 9 storeys", 0.2), ("Dwelling", "House - single occupancy", 0.15),
    ],
    "False alarm - Good intent": [
        ("Outdoor", "Grassland, pasture, grazing etc", 0.3), ("Dwelling", "House - single occupancy", 0.5),
        ("Road Vehicle", "Car", 0.2),
    ],
    "False alarm - Malicious": [("Outdoor", "Other outdoor location", 0.6), ("Non Residential", "Secondary school", 0.4)],
    "Special Service": [
        ("Road Vehicle", "Car", 0.4), ("Dwelling", "House - single occupancy", 0.35),
        ("Outdoor", "Other outdoor location", 0.15), ("Outdoor", "Animal harm/rescue", 0.1),
    ],
}  # fmt: skip
_QUALIFIER = {
    "Outdoor": [
        "Open land/water - nearest gazetteer location",
        "In street outside gazetteer location",
    ],
    "Road Vehicle": ["In street outside gazetteer location", "On land associated with building"],
}


def _choose(rng, options, n):
    w = np.array([o[-1] for o in options], dtype=float)
    return rng.choice(len(options), n, p=w / w.sum())


def fire_frame(ev: pd.DataFrame, streets: pd.DataFrame, rng) -> pd.DataFrame:
    """The fire incident rows (all text) from the fire events, in call order."""
    ev = ev.sort_values("when", kind="stable").reset_index(drop=True)
    s = streets.loc[ev["street_id"].to_numpy()].reset_index(drop=True)
    n = len(ev)
    stop = ev["category"].to_numpy()
    motive = np.full(n, "", dtype=object)
    pcat = np.empty(n, dtype=object)
    ptype = np.empty(n, dtype=object)
    for code in _PROPERTY:
        m = stop == code
        if not m.any():
            continue
        k = _choose(rng, _PROPERTY[code], int(m.sum()))
        pcat[m] = [_PROPERTY[code][i][0] for i in k]
        ptype[m] = [_PROPERTY[code][i][1] for i in k]
        if code in _MOTIVE:
            motive[m] = rng.choice(
                ["Deliberate", "Accidental", "Not known"], int(m.sum()), p=_MOTIVE[code]
            )
    motive[ev["hotspot"].ne("").to_numpy() & (stop == "Secondary Fire")] = "Deliberate"
    qual = np.array(
        [
            rng.choice(_QUALIFIER[c]) if c in _QUALIFIER else "Correct incident location"
            for c in pcat
        ],
        dtype=object,
    )
    x = s["easting"].to_numpy() + rng.normal(0, 40, n)
    y = s["northing"].to_numpy() + rng.normal(0, 40, n)
    when = pd.DatetimeIndex(ev["when"])
    year_seq = pd.Series(when.year).groupby(when.year).cumcount().to_numpy() + 1
    return pd.DataFrame(
        {
            "IncidentNumber": [
                f"{q:06d}-{d}" for q, d in zip(year_seq, when.strftime("%d%m%Y"), strict=True)
            ],
            "DateOfCall": when.strftime("%d/%m/%Y"),
            "TimeOfCall": when.strftime("%H:%M:%S"),
            "IncidentGroup": [_GROUP[c] for c in stop],
            "StopCodeDescription": stop,
            "Motive": motive,
            "PropertyCategory": pcat,
            "PropertyType": ptype,
            "AddressQualifier": qual,
            "Postcode_district": s["postcode"].str.split(" ").str[0].to_numpy(),
            "Easting_rounded": (np.round(x / 50) * 50).astype(int).astype(str),
            "Northing_rounded": (np.round(y / 50) * 50).astype(int).astype(str),
            "WardCode": s["ward_code"].to_numpy(),
            "WardName": s["ward_name"].to_numpy(),
        }
    )
