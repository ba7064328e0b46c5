"""Demo geography for Bedfordshire: towns, locality polygons, street points, postcodes.

Everything here is DEMO geography, made up for the demo and labelled so: the ten town
centres are real approximate coordinates (read off the OS grid, to about 100-300 m), but
the locality polygons, the partnership-area outline, the "street" points, the LSOA and
ward codes (``E0199....``, ``E0599....``, outside the range of real codes) and the
postcodes are generated. Real boundaries load from GeoPackage, GeoJSON or shapefile.

The polygons and the postcode lookup are committed under ``scribe_lib/data/demo/`` and are
reproduced exactly by :func:`build_geography_files` (a test keeps them in step). Street
points are generated from a fixed seed at run time.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Polygon, mapping, shape

from ..schema import CRS

__all__ = [
    "DEMO_LABEL",
    "Town",
    "TOWNS",
    "PARTNERSHIP_NAME",
    "data_dir",
    "town_polygons",
    "partnership_polygon",
    "demo_localities",
    "postcode_lookup_path",
    "street_points",
    "build_geography_files",
]

#: the label carried by every demo boundary.
DEMO_LABEL = "Demo geography - not an official boundary"
PARTNERSHIP_NAME = "Bedfordshire (demo)"
_GEO_SEED = 27700  # fixed: the demo map never changes with the data seed


@dataclass(frozen=True)
class Town:
    """A demo town: approximate real centre (EPSG:27700 metres) and demo attributes."""

    name: str
    easting: float
    northing: float
    radius: float  # metres, of the demo locality polygon
    council: str  # partner id of the council covering it
    district: str  # local authority name used in LSOA names
    postcode_districts: tuple[str, ...]
    population: int  # rough, sets the share of incidents


#: Approximate town-centre coordinates (OS grid references read to 100 m, e.g. Luton
#: TL 091 212); they place the demo, they are not survey points.
TOWNS: tuple[Town, ...] = (
    Town(
        "Luton",
        509100,
        221200,
        4000,
        "luton-council",
        "Luton",
        ("LU1", "LU2", "LU3", "LU4"),
        225_000,
    ),
    Town("Bedford", 504900, 249700, 3500, "bedford-council", "Bedford", ("MK40", "MK41"), 106_000),
    Town("Kempston", 502700, 247600, 1500, "bedford-council", "Bedford", ("MK42",), 20_000),
    Town(
        "Dunstable",
        501900,
        221900,
        2500,
        "central-bedfordshire-council",
        "Central Bedfordshire",
        ("LU6", "LU5"),
        40_000,
    ),
    Town(
        "Leighton Buzzard",
        492100,
        225000,
        2200,
        "central-bedfordshire-council",
        "Central Bedfordshire",
        ("LU7",),
        42_000,
    ),
    Town(
        "Biggleswade",
        519000,
        244400,
        1600,
        "central-bedfordshire-council",
        "Central Bedfordshire",
        ("SG18",),
        22_000,
    ),
    Town(
        "Sandy",
        517400,
        249100,
        1300,
        "central-bedfordshire-council",
        "Central Bedfordshire",
        ("SG19",),
        12_000,
    ),
    Town(
        "Flitwick",
        503100,
        235000,
        1300,
        "central-bedfordshire-council",
        "Central Bedfordshire",
        ("MK45",),
        14_000,
    ),
    Town(
        "Ampthill",
        503500,
        238100,
        1100,
        "central-bedfordshire-council",
        "Central Bedfordshire",
        ("MK45",),
        8_000,
    ),
    Town(
        "Stotfold",
        521900,
        236600,
        1200,
        "central-bedfordshire-council",
        "Central Bedfordshire",
        ("SG5",),
        10_000,
    ),
)

#: A hand-drawn outline around the ten towns, shaped loosely like Bedfordshire.
_AREA_VERTICES = [
    (503000, 270000), (510500, 266000), (516000, 260000), (522500, 255500), (527500, 250000),
    (528500, 242000), (525500, 233500), (519000, 229000), (515500, 219500), (513000, 214500),
    (506000, 213500), (500000, 216000), (494000, 219000), (488000, 221500), (486500, 227500),
    (489500, 232000), (494500, 236000), (497000, 243000), (495000, 250000), (496500, 258000),
    (499000, 265000),
]  # fmt: skip

_WARD_SECTORS = ("North", "East", "South", "West")
_UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # letters used in the inward code of a postcode


def data_dir() -> Path:
    """The folder holding the committed demo geography (``scribe_lib/data/demo``)."""
    return Path(str(resources.files("scribe_lib") / "data" / "demo"))


def _blob(town: Town, rng: np.random.Generator, n: int = 72) -> Polygon:
    """A smooth irregular closed outline of radius about ``town.radius`` around its centre."""
    theta = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = np.ones(n)
    for k in (2, 3, 4, 5):
        r += rng.uniform(0.03, 0.09) / k**0.3 * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    x = np.round(town.easting + town.radius * r * np.cos(theta))
    y = np.round(town.northing + town.radius * r * np.sin(theta))
    return Polygon(np.column_stack([x, y]))


def _build_polygons() -> tuple[dict[str, Polygon], Polygon]:
    rng = np.random.default_rng(_GEO_SEED)
    blobs = {t.name: _blob(t, rng) for t in TOWNS}
    # A smaller town keeps its whole outline; a larger neighbour gives way to it.
    order = sorted(TOWNS, key=lambda t: t.radius)
    polys: dict[str, Polygon] = {}
    for i, t in enumerate(order):
        g = blobs[t.name]
        for smaller in order[:i]:
            if g.intersects(blobs[smaller.name]):
                g = g.difference(blobs[smaller.name])
        g = shapely.set_precision(g, 1.0)
        polys[t.name] = g
    area = Polygon(_AREA_VERTICES)
    for t in TOWNS:
        if not area.contains(polys[t.name].buffer(500)):
            raise AssertionError(f"demo area outline does not contain {t.name}")
    return {t.name: polys[t.name] for t in TOWNS}, area


def _crs_member() -> dict:
    return {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}}


def _feature_collection(rows: list[tuple[dict, Polygon]]) -> str:
    feats = [
        {"type": "Feature", "properties": props, "geometry": mapping(geom)} for props, geom in rows
    ]
    doc = {
        "type": "FeatureCollection",
        "name": "scribe_demo",
        "crs": _crs_member(),
        "features": feats,
    }
    return json.dumps(doc, indent=1, default=float) + "\n"


def _read_collection(path: Path) -> list[tuple[dict, object]]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    return [(f["properties"], shape(f["geometry"])) for f in doc["features"]]


@functools.cache
def _localities_frame() -> gpd.GeoDataFrame:
    rows = _read_collection(data_dir() / "localities.geojson")
    rows += _read_collection(data_dir() / "partnership.geojson")
    return gpd.GeoDataFrame(
        {
            "name": [p["name"] for p, _ in rows],
            "kind": [p["kind"] for p, _ in rows],
            "label": [p["label"] for p, _ in rows],
        },
        geometry=[g for _, g in rows],
        crs=CRS,
    )


def demo_localities() -> gpd.GeoDataFrame:
    """The ten demo towns (kind ``town``) and the partnership area (kind ``partnership``).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``name, kind, label, geometry`` in EPSG:27700; every label says demo.
    """
    return _localities_frame().copy()


def town_polygons() -> dict[str, Polygon]:
    """Town name -> demo locality polygon (EPSG:27700)."""
    df = _localities_frame()
    return {
        n: g for n, k, g in zip(df["name"], df["kind"], df.geometry, strict=True) if k == "town"
    }


def partnership_polygon() -> Polygon:
    """The demo partnership area (EPSG:27700), used as the ingest's area check."""
    df = _localities_frame()
    return df.geometry[df["kind"] == "partnership"].iloc[0]


def postcode_lookup_path() -> Path:
    """The demo postcode lookup CSV ``postcode,easting,northing``."""
    return data_dir() / "postcodes.csv"


@functools.cache
def _street_points_frame() -> pd.DataFrame:
    from ._streets import build_street_points

    polys, area = _build_polygons()
    return build_street_points(TOWNS, polys, area, np.random.default_rng(_GEO_SEED + 1))


def street_points() -> pd.DataFrame:
    """The demo "street" points that police.uk-style locations snap to.

    Returns
    -------
    pandas.DataFrame
        ``street_id, town`` ("" when rural), ``district``, ``name`` ("High Street"...), ``easting,
        northing`` (metres, EPSG:27700), ``lon, lat`` (WGS84 via OSTN15), ``lsoa_code,
        lsoa_name, ward_code, ward_name, postcode, weight`` (relative share of incidents),
        ``hotspot`` ("" or the planted hotspot's key).
    """
    return _street_points_frame().copy()


def build_geography_files(out_dir: str | Path | None = None) -> list[Path]:
    """(Re)write the committed demo geography files; they are reproduced byte for byte.

    Parameters
    ----------
    out_dir : path, optional
        Where to write; defaults to the package's ``data/demo`` folder.

    Returns
    -------
    list of Path
        ``localities.geojson``, ``partnership.geojson`` and ``postcodes.csv``.
    """
    out = Path(out_dir) if out_dir is not None else data_dir()
    out.mkdir(parents=True, exist_ok=True)
    polys, area = _build_polygons()
    towns = [
        ({"name": t.name, "kind": "town", "label": DEMO_LABEL, "council": t.council}, polys[t.name])
        for t in TOWNS
    ]
    part = [({"name": PARTNERSHIP_NAME, "kind": "partnership", "label": DEMO_LABEL}, area)]
    paths = [out / "localities.geojson", out / "partnership.geojson", out / "postcodes.csv"]
    paths[0].write_text(_feature_collection(towns), encoding="utf-8")
    paths[1].write_text(_feature_collection(part), encoding="utf-8")
    pts = _street_points_frame()
    lookup = pts.loc[pts["postcode"] != "", ["postcode", "easting", "northing"]]
    lookup = lookup.drop_duplicates("postcode").sort_values("postcode")
    lookup = lookup.assign(
        easting=lookup["easting"].round().astype(int),
        northing=lookup["northing"].round().astype(int),
    )
    paths[2].write_text(lookup.to_csv(index=False, lineterminator="\n"), encoding="utf-8")
    return paths
