"""Generate the demo "street" points (police.uk-style map points) with demo area codes.

Each town gets demo LSOAs (numbered north to south within its district, as real MSOAs
are), wards (centre plus four compass sectors) and a postcode per point; villages are
scattered in the rest of the partnership area. Planted hotspot points are added by name.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from convertbng.cutil import convert_lonlat

__all__ = ["build_street_points", "HOTSPOT_POINTS"]

_NAMES = (
    "High Street", "Station Road", "Church Street", "Park Road", "London Road", "Victoria Road",
    "Manor Road", "The Crescent", "Mill Lane", "Queens Road", "Kings Road", "New Road",
    "Albert Street", "Grove Road", "School Lane", "Chapel Street", "Orchard Close", "The Avenue",
    "Windsor Drive", "Meadow Way", "Brook Street", "Green Lane", "Castle Street", "Market Square",
    "York Street", "Springfield Road", "Hillside Road", "Beech Close", "Oak Road", "Elm Drive",
    "Willow Way", "Cedar Road", "Kingsway", "Bridge Street", "West Street", "North Street",
    "Shakespeare Road", "Cromwell Road", "Russell Street", "Priory Street", "Abbey Road",
    "Ash Grove", "Cambridge Street", "Nelson Street", "Chestnut Avenue", "Poplar Avenue",
)  # fmt: skip
_LANDMARKS = (
    "Supermarket", "Shopping Area", "Parking Area", "Petrol Station", "Further/Higher Educational Building",
    "Sports/Recreation Area", "Hospital", "Theatre/Concert Hall", "Pedestrian Subway", "Police Station",
)  # fmt: skip
_VILLAGE_NAMES = (
    "Church Lane",
    "Main Road",
    "The Green",
    "High Street",
    "Mill Lane",
    "School Lane",
)
_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

#: planted hotspot points: key, town ("" rural), name, easting, northing (EPSG:27700).
HOTSPOT_POINTS = (
    ("luton-nte", "Luton", "George Street", 509150, 221280),
    ("luton-nte", "Luton", "Nightclub", 509060, 221360),
    ("luton-nte", "Luton", "Park Street", 509260, 221150),
    ("bedford-bus-station", "Bedford", "Bus/Coach Station", 504750, 249900),
    ("bedford-bus-station", "Bedford", "Greyfriars", 504830, 249860),
    ("leighton-flytipping", "", "Sandpit Lane", 494800, 228300),
    ("stotfold-emerging", "Stotfold", "Sports/Recreation Area", 521650, 236950),
    ("stotfold-emerging", "Stotfold", "Rook Tree Lane", 521730, 237040),
)


def _sample_in(poly, n: int, rng: np.random.Generator) -> np.ndarray:
    minx, miny, maxx, maxy = poly.bounds
    out = np.empty((0, 2))
    while len(out) < n:
        c = np.column_stack([rng.uniform(minx, maxx, 4 * n), rng.uniform(miny, maxy, 4 * n)])
        c = c[shapely.contains_xy(poly, c[:, 0], c[:, 1])]
        out = np.vstack([out, c])
    return np.round(out[:n])


def _postcode_district(town, dx: float, dy: float) -> str:
    pds = town.postcode_districts
    if len(pds) == 1 or np.hypot(dx, dy) < 0.3 * town.radius:
        return pds[0]
    ang = np.degrees(np.arctan2(dy, dx)) % 360  # 0 = east
    if len(pds) == 2:  # second district covers the north-east half
        return pds[1] if 0 <= ang < 180 else pds[0]
    sector = int(((ang + 45) % 360) // 90)  # 0 E, 1 N, 2 W, 3 S
    return {0: pds[1], 1: pds[2], 2: pds[3], 3: pds[0]}[sector]


def _town_points(town, poly, rng) -> pd.DataFrame:
    n_lsoa = max(3, round(town.population / 1600))
    centres = _sample_in(poly, n_lsoa, rng)
    pts = _sample_in(poly, 6 * n_lsoa, rng)
    d2 = ((pts[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    lsoa = d2.argmin(axis=1)
    dx, dy = pts[:, 0] - town.easting, pts[:, 1] - town.northing
    dist = np.hypot(dx, dy)
    central = dist < 0.35 * town.radius
    names = rng.choice(_NAMES, len(pts))
    landmark = central & (rng.uniform(size=len(pts)) < 0.3)
    names[landmark] = rng.choice(_LANDMARKS, landmark.sum())
    ang = np.degrees(np.arctan2(dy, dx)) % 360
    sector = np.array(["East", "North", "West", "South"])[(((ang + 45) % 360) // 90).astype(int)]
    ward = np.where(central, f"{town.name} Central", [f"{town.name} {s}" for s in sector])
    deprivation = rng.lognormal(0.0, 0.5, n_lsoa)[lsoa]
    weight = (1.5 * np.exp(-dist / (0.45 * town.radius)) + 0.4) * deprivation
    return pd.DataFrame(
        {
            "town": town.name,
            "district": town.district,
            "name": names,
            "easting": pts[:, 0],
            "northing": pts[:, 1],
            "lsoa_key": [f"{town.name}:{i}" for i in lsoa],
            "lsoa_n": centres[lsoa, 1],
            "ward_name": ward,
            "postcode_district": [
                _postcode_district(town, a, b) for a, b in zip(dx, dy, strict=True)
            ],
            "weight": weight,
        }
    )


def _village_points(towns, polys, area, rng) -> pd.DataFrame:
    keep_out = shapely.unary_union([p.buffer(1200) for p in polys.values()])
    inner = area.buffer(-1500).difference(keep_out)
    villages = _sample_in(inner, 45, rng)
    rows = []
    for v, (vx, vy) in enumerate(villages):
        pts = np.round(np.column_stack([rng.normal(vx, 300, 6), rng.normal(vy, 300, 6)]))
        near = min(towns, key=lambda t: np.hypot(t.easting - vx, t.northing - vy))
        district = "Bedford" if vy > 243000 and vx < 513000 else "Central Bedfordshire"
        for x, y in pts:
            rows.append(
                {
                    "town": "",
                    "district": district,
                    "name": str(rng.choice(_VILLAGE_NAMES)),
                    "easting": x,
                    "northing": y,
                    "lsoa_key": f"village:{v // 2}",
                    "lsoa_n": vy,
                    "ward_name": f"{district} Rural {'North' if vy > 240000 else 'South'}",
                    "postcode_district": near.postcode_districts[0],
                    "weight": 0.35,
                }
            )
    return pd.DataFrame(rows)


def _codes(df: pd.DataFrame) -> pd.DataFrame:
    """Demo LSOA codes/names (MSOA numbers north to south per district), wards, postcodes."""
    lsoas = df.groupby("lsoa_key").agg(district=("district", "first"), n=("lsoa_n", "first"))
    lsoas = lsoas.reset_index().sort_values(
        ["district", "n", "lsoa_key"], ascending=[True, False, True]
    )
    lsoas["rank"] = lsoas.groupby("district").cumcount()
    lsoas["lsoa_name"] = [
        f"{d} {r // 4 + 1:03d}{'ABCD'[r % 4]}"
        for d, r in zip(lsoas["district"], lsoas["rank"], strict=True)
    ]
    lsoas = lsoas.sort_values("lsoa_name").reset_index(drop=True)
    lsoas["lsoa_code"] = [f"E0199{i + 1:04d}" for i in range(len(lsoas))]
    df = df.merge(lsoas[["lsoa_key", "lsoa_code", "lsoa_name"]], on="lsoa_key", how="left")
    wards = sorted(df["ward_name"].unique())
    df["ward_code"] = df["ward_name"].map({w: f"E0599{i + 1:04d}" for i, w in enumerate(wards)})
    # one postcode per point: sector digit from the LSOA, unit letters in order
    sector = 1 + df["lsoa_code"].str[-4:].astype(int) % 9
    df["pc_prefix"] = df["postcode_district"] + " " + sector.astype(str)
    seq = df.groupby("pc_prefix").cumcount()
    df["postcode"] = df["pc_prefix"] + [
        _LETTERS[(s // len(_LETTERS)) % len(_LETTERS)] + _LETTERS[s % len(_LETTERS)] for s in seq
    ]
    return df


def build_street_points(towns, polys, area, rng: np.random.Generator) -> pd.DataFrame:
    """Street points of every town and village plus the planted hotspot points."""
    parts = [_town_points(t, polys[t.name], rng) for t in towns]
    parts.append(_village_points(towns, polys, area, rng))
    df = pd.concat(parts, ignore_index=True)
    df["hotspot"] = ""
    base = df.copy()
    for key, town, name, x, y in HOTSPOT_POINTS:
        near = base.iloc[int(np.hypot(base["easting"] - x, base["northing"] - y).argmin())]
        row = near.to_dict() | {
            "town": town,
            "name": name,
            "easting": float(x),
            "northing": float(y),
        }
        df.loc[len(df)] = row | {"weight": 0.0, "hotspot": key}
    df = _codes(df)
    lon, lat = convert_lonlat(df["easting"].to_numpy(float), df["northing"].to_numpy(float))
    df["lon"], df["lat"] = np.round(lon, 6), np.round(lat, 6)
    df.insert(0, "street_id", np.arange(len(df)))
    cols = [
        "street_id",
        "town",
        "district",
        "name",
        "easting",
        "northing",
        "lon",
        "lat",
        "lsoa_code",
    ]
    cols += ["lsoa_name", "ward_code", "ward_name", "postcode", "weight", "hotspot"]
    return df[cols]
