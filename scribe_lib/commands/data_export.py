"""Data commands that write or read geography: export, localities load|list, coverage."""

from __future__ import annotations

import json
import os

import click

from ._options import filter_kwargs, from_option, json_option, open_cli_store, to_option

__all__ = ["export", "localities", "coverage", "write_incidents"]

_FORMATS = ("csv", "geojson", "gpkg", "parquet")


def write_incidents(gdf, path: str, fmt: str) -> None:
    """Write incidents from :func:`scribe_lib.load` as csv, geojson, gpkg or parquet.

    CSV keeps easting/northing/lon/lat columns and no geometry; GeoJSON is in WGS84
    (RFC 7946), converted with OSTN15; GeoPackage and GeoParquet stay in EPSG:27700.
    Incidents without a location are written with an empty geometry.
    """
    import geopandas as gpd
    import numpy as np
    import shapely

    if fmt == "csv":
        gdf.drop(columns="geometry").to_csv(path, index=False)
    elif fmt == "geojson":
        from ..geo import to_wgs84

        lon, lat = to_wgs84(gdf["easting"].to_numpy("float64", na_value=np.nan),
                            gdf["northing"].to_numpy("float64", na_value=np.nan))  # fmt: skip
        pts = shapely.points(lon, lat)
        pts[np.isnan(lon) | np.isnan(lat)] = None
        out = gpd.GeoDataFrame(gdf.drop(columns="geometry"), geometry=pts, crs="EPSG:4326")
        if os.path.exists(path):
            os.remove(path)
        out.to_file(path, driver="GeoJSON")
    elif fmt == "gpkg":
        if os.path.exists(path):
            os.remove(path)
        gdf.to_file(path, driver="GPKG", layer="incidents")
    elif fmt == "parquet":
        gdf.to_parquet(path, index=False)
    else:  # pragma: no cover - click.Choice guards this
        raise ValueError(fmt)


@click.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(_FORMATS),
    default=None,
    help="File format [default: from the --out suffix].",
)
@click.option(
    "--out",
    "-o",
    required=True,
    type=click.Path(dir_okay=False, writable=True),
    help="File to write.",
)
@click.option("--category", "-c", multiple=True, help="Taxonomy category; repeatable.")
@click.option("--partner", "-p", multiple=True, help="Partner; repeatable.")
@from_option
@to_option
@click.option("--locality", "-l", default=None, help="Only incidents inside this locality.")
@click.option("--located-only", is_flag=True, help="Leave out incidents without a location.")
@click.pass_context
def export(ctx, fmt, out, category, partner, start, end, locality, located_only):
    """Export active incidents, filtered, for QGIS, Excel or another tool.

    CSV has no geometry (easting/northing columns); GeoJSON is WGS84; GeoPackage and
    Parquet are British National Grid (EPSG:27700).

    \b
    Examples:
      scribe export --out burglary.gpkg --category burglary --from 2024-01 --to 2024-06
      scribe export --format csv --out luton.csv --locality "Luton South"
      scribe export --out asb.geojson -c anti-social-behaviour -c nuisance-behaviour --located-only
    """  # fmt: skip
    from ..api import load

    if fmt is None:
        fmt = {".csv": "csv", ".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg",
               ".parquet": "parquet"}.get(os.path.splitext(out)[1].lower())  # fmt: skip
        if fmt is None:
            raise click.UsageError("give --format csv|geojson|gpkg|parquet (or an --out suffix)")
    with open_cli_store(ctx) as st:
        gdf = load(st, **filter_kwargs(category, partner, start, end, locality),
                   located_only=located_only)  # fmt: skip
    write_incidents(gdf, out, fmt)
    click.echo(f"{len(gdf)} incidents written to {out} ({fmt})")


@click.group("localities")
def localities():
    """Locality boundaries (wards, parishes, LSOAs) used to filter and brief by area."""


@localities.command("load")
@click.argument("file", type=click.Path(exists=True))
@click.option("--kind", required=True, help="What they are: ward, parish, lsoa, beat...")
@click.option("--name-field", required=True, help="Attribute with each locality's name.")
@click.option("--label-field", default=None, help="Attribute shown as label [default: name].")
@click.option("--layer", default=None, help="Layer of a multi-layer GeoPackage.")
@click.option(
    "--set-area",
    is_flag=True,
    help="Also make their union the partnership area (points outside are quarantined).",
)
@click.pass_context
def localities_load(ctx, file, kind, name_field, label_field, layer, set_area):
    """Load boundaries from a GeoPackage, GeoJSON or shapefile (reprojected to EPSG:27700).

    Localities of the same kind and name are replaced.

    \b
    Examples:
      scribe localities load Wards_2024.gpkg --kind ward --name-field WD24NM
      scribe localities load parishes.shp --kind parish --name-field PARNCP24NM
      scribe localities load csp-area.geojson --kind area --name-field name --set-area
    """  # fmt: skip
    from ..store.localities import load_localities

    with open_cli_store(ctx) as st:
        n = load_localities(st, file, kind=kind, name_field=name_field,
                            label_field=label_field, layer=layer, set_area=set_area)  # fmt: skip
    click.echo(f"{n} {kind} localities loaded from {os.path.basename(file)}"
               + (" (and set as the partnership area)" if set_area else ""))  # fmt: skip


@localities.command("list")
@click.option("--kind", default=None, help="Only this kind.")
@click.pass_context
def localities_list(ctx, kind):
    """List localities with their area in km².

    \b
    Example:
      scribe localities list --kind ward
    """
    from ..api import localities as read

    with open_cli_store(ctx) as st:
        gdf = read(st, kind=kind)
    if gdf.empty:
        click.echo("No localities loaded: see `scribe localities load --help`.")
        return
    table = gdf.drop(columns="geometry").assign(km2=(gdf.area / 1e6).round(2))
    click.echo(table.to_string(index=False))


@click.command("coverage")
@json_option
@click.pass_context
def coverage(ctx, as_json):
    """Which months each partner has sent: "data" or "no data" (never 0).

    \b
    Example:
      scribe coverage
    """
    from ..api import coverage as cov

    with open_cli_store(ctx) as st:
        df = cov(st)
    if as_json:
        df = df.assign(month=df["month"].dt.strftime("%Y-%m"))
        click.echo(json.dumps(df.to_dict(orient="records"), indent=2))
    elif df.empty:
        click.echo("No submissions yet.")
    else:
        table = df.assign(month=df["month"].dt.strftime("%Y-%m")).pivot(
            index="month", columns=["partner", "source"], values="status"
        )
        click.echo(table.to_string())
