"""``scribe emerging | near-repeat | trends | evaluate``: space-time analysis from the store.

Each command loads incidents through :func:`scribe_lib.load` (the same filters as
``scribe hotspots``), runs one function of :mod:`scribe_lib.stats` and writes its table:
CSV always; GeoJSON or GeoPackage for results with a geometry (cells, areas).
"""

from __future__ import annotations

from pathlib import Path

import click
import geopandas as gpd
import pandas as pd

from ..errors import ScribeError
from ._options import filter_kwargs, from_option, harm_file_option, harm_weights, to_option

__all__ = ["register"]

_TABLE_ONLY = "{what} is a table without geometry: write it as .csv"


def _check_out(ctx, param, value):
    if Path(value).suffix.lower() not in (".csv", ".geojson", ".gpkg"):
        raise click.BadParameter(f"{value}: use a .csv, .geojson or .gpkg file name")
    return value


def _filters(f):
    opts = [
        click.option(
            "--category",
            "categories",
            multiple=True,
            metavar="NAME",
            help="Taxonomy category (repeatable).",
        ),
        click.option(
            "--partner", "partners", multiple=True, metavar="NAME", help="Partner (repeatable)."
        ),
        from_option,
        to_option,
        click.option("--locality", metavar="NAME", help="Only incidents inside this locality."),
        click.option(
            "--out",
            required=True,
            type=click.Path(dir_okay=False),
            callback=_check_out,
            help="Output .csv, .geojson (WGS84) or .gpkg (EPSG:27700).",
        ),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def _harm_options(f):
    f = harm_file_option(f)
    return click.option("--harm", is_flag=True, help="Weight incidents by harm (built-in table).")(
        f
    )


def _store(ctx):
    """The ``--store`` of the ``scribe`` group (None: the default store)."""
    return (ctx.find_root().obj or {}).get("store")


def _load(ctx, categories, partners, start, end, locality, located_only=True):
    from ..api import load

    click.echo("loading incidents ...", err=True)
    inc = load(
        _store(ctx),
        **filter_kwargs(categories, partners, start, end, locality),
        located_only=located_only,
    )
    click.echo(f"{len(inc):,} incidents selected", err=True)
    if inc.empty:
        raise ScribeError("no incident matches these filters: nothing to analyse")
    return inc


def write_table(df: pd.DataFrame, out: str, what: str) -> Path:
    """Write ``df`` by the extension of ``out``: .csv (geometry dropped; cells keep ``x``,
    ``y`` in EPSG:27700), .geojson (WGS84, RFC 7946) or .gpkg (EPSG:27700)."""
    path = Path(out)
    ext = path.suffix.lower()
    if ext not in (".csv", ".geojson", ".gpkg"):
        raise click.BadParameter(
            f"{out}: use a .csv, .geojson or .gpkg file name", param_hint="--out"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    if ext == ".csv":
        frame = pd.DataFrame(df.drop(columns="geometry", errors="ignore"))
        frame.to_csv(path, index=False)
    else:
        if not isinstance(df, gpd.GeoDataFrame):
            raise click.BadParameter(_TABLE_ONLY.format(what=what), param_hint="--out")
        if path.exists():
            path.unlink()
        if ext == ".geojson":  # RFC 7946: WGS84, as scribe hotspots writes it
            df.to_crs("EPSG:4326").to_file(path, driver="GeoJSON", engine="pyogrio")
        else:
            df.to_file(path, driver="GPKG", engine="pyogrio")
    click.echo(f"wrote {len(df):,} rows to {path}", err=True)
    return path


@click.command("emerging")
@click.option(
    "--cell", type=click.FloatRange(min=1), help="Cell size in metres [default: the grid rule]."
)
@click.option(
    "--distance", type=click.FloatRange(min=1), help="Neighbourhood in metres [default 1.5 x cell]."
)
@click.option(
    "--period", default="month", show_default=True, help="month, week, day, quarter or e.g. 14D."
)
@click.option(
    "--time-step",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="Previous periods in each neighbourhood.",
)
@click.option(
    "--alpha",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.05,
    show_default=True,
)
@click.option(
    "--correction", type=click.Choice(["fdr", "holm", "none"]), default="fdr", show_default=True
)
@click.option("--shape", type=click.Choice(["square", "hex"]), default="square", show_default=True)
@_harm_options
@_filters
@click.pass_context
def emerging(
    ctx,
    cell,
    distance,
    period,
    time_step,
    alpha,
    correction,
    shape,
    harm,
    harm_file,
    categories,
    partners,
    start,
    end,
    locality,
    out,
):
    """Emerging hot spots (ArcGIS Pro's patterns) of every cell with incidents.

    Warns when a selected partner sent no data for a month of the cube (it would count as 0).
    """
    from ..api import coverage
    from ..stats.emerging import emerging_hotspots

    inc = _load(ctx, categories, partners, start, end, locality)
    area = _area(locality, ctx, "--locality") if locality else None
    click.echo("building the space-time cube and its Gi* ...", err=True)
    res = emerging_hotspots(
        inc,
        area=area,
        shape=shape,
        harm=harm_weights(harm, harm_file),
        coverage=coverage(_store(ctx)),
        cell=cell,
        distance=distance,
        period=period,
        time_step=time_step,
        alpha=alpha,
        correction=correction,
    )
    counts = res["pattern"].value_counts()
    for name, n in counts.items():
        click.echo(f"  {name}: {n}", err=True)
    write_table(res, out, "emerging")


@click.command("near-repeat")
@click.option(
    "--distance-band",
    type=click.FloatRange(min=0, min_open=True),
    default=100,
    show_default=True,
    help="Width of a spatial band, metres.",
)
@click.option("--distance-bands", type=click.IntRange(min=1), default=5, show_default=True)
@click.option(
    "--time-band",
    type=click.IntRange(min=1),
    default=14,
    show_default=True,
    help="Width of a temporal band, days.",
)
@click.option("--time-bands", type=click.IntRange(min=1), default=5, show_default=True)
@click.option("--permutations", type=click.IntRange(min=19), default=999, show_default=True)
@click.option("--seed", type=int, default=None, help="Seed of the permutations (reproducible).")
@_filters
@click.pass_context
def near_repeat(
    ctx,
    distance_band,
    distance_bands,
    time_band,
    time_bands,
    permutations,
    seed,
    categories,
    partners,
    start,
    end,
    locality,
    out,
):
    """Knox near-repeat test (as Ratcliffe's Near Repeat Calculator), exact dates only."""
    from ..stats.nearrepeat import bands, knox_test

    inc = _load(ctx, categories, partners, start, end, locality)
    res = knox_test(
        inc,
        bands(distance_band, distance_bands),
        bands(time_band, time_bands),
        permutations=permutations,
        seed=seed,
        progress=True,
    )
    click.echo(f"{res.attrs['n']:,} incidents with exact dates used", err=True)
    write_table(res, out, "the Knox table")


@click.command("trends")
@click.option(
    "--table",
    "kind",
    type=click.Choice(["counts", "compare", "hours", "repeats"]),
    default="counts",
    show_default=True,
)
@click.option(
    "--freq", default="month", show_default=True, help="counts: month, week, day, quarter, year."
)
@click.option(
    "--by",
    "by",
    multiple=True,
    help="counts/compare: category, partner, ward_code... (repeatable).",
)
@_harm_options
@click.option(
    "--areas",
    "area_kind",
    metavar="KIND",
    help="counts: count by the store's localities of this kind (e.g. town); adds --by area.",
)
@click.option(
    "--window",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="counts: rolling-mean periods.",
)
@click.option("--current", metavar="YYYY-MM:YYYY-MM", help="compare: the current window.")
@click.option("--baseline", metavar="YYYY-MM:YYYY-MM", help="compare: the baseline window.")
@click.option(
    "--min-count",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="repeats: smallest count.",
)
@_filters
@click.pass_context
def trends(
    ctx,
    kind,
    freq,
    by,
    area_kind,
    harm,
    harm_file,
    window,
    current,
    baseline,
    min_count,
    categories,
    partners,
    start,
    end,
    locality,
    out,
):
    """Counts per period (no-data months blank), tested changes, hour x weekday, repeat locations."""
    from ..stats import trends as tr

    inc = _load(ctx, categories, partners, start, end, locality, located_only=kind == "repeats")
    if kind == "counts":
        from ..api import coverage

        cov = coverage(_store(ctx))
        areas = None
        if area_kind:
            from ..api import localities

            areas = localities(_store(ctx), kind=area_kind)
            if areas.empty:
                raise ScribeError(f"no locality of kind {area_kind!r} in the store")
            by = [*by, "area"] if "area" not in by else list(by)
        res = tr.counts_by_period(
            inc, freq, by=list(by), coverage=cov, window=window, areas=areas,
            harm=harm_weights(harm, harm_file),
        )  # fmt: skip
    elif kind == "compare":
        if not current or not baseline:
            raise click.UsageError(
                "--table compare needs --current and --baseline, e.g. 2025-07:2025-12"
            )
        res = tr.compare_periods(
            inc, tuple(current.split(":")), tuple(baseline.split(":")), by=list(by) or "category"
        )
    elif kind == "hours":
        res = tr.hour_weekday(inc).reset_index()
    else:
        res = tr.repeat_locations(inc, min_count=min_count)
    write_table(res, out, f"the {kind} table")


def _area(spec: str | None, ctx, what: str):
    """A polygon from a locality name, a GeoJSON/GPKG file, WKT, or 'EASTING,NORTHING,RADIUS'."""
    if spec is None:
        return None
    import shapely

    if Path(spec).is_file():
        g = gpd.read_file(spec)
        return shapely.union_all((g.to_crs("EPSG:27700") if g.crs else g).geometry.values)
    parts = spec.split(",")
    if len(parts) == 3:
        try:
            e, n, r = (float(p) for p in parts)
            return shapely.Point(e, n).buffer(r)
        except ValueError:
            pass
    try:
        return shapely.from_wkt(spec)
    except shapely.errors.GEOSException:
        pass
    from ..api import localities

    locs = localities(_store(ctx))
    hit = locs[locs["name"] == spec]
    if hit.empty:
        raise ScribeError(f"{what} {spec!r} is not a file, 'E,N,RADIUS', WKT or a locality name")
    return shapely.union_all(hit.geometry.values)


@click.command("evaluate")
@click.option(
    "--area", required=True, help="Response area: locality, .geojson/.gpkg, WKT or E,N,RADIUS (m)."
)
@click.option(
    "--date", "date", required=True, metavar="YYYY-MM-DD", help="First day of the response."
)
@click.option(
    "--months",
    type=click.IntRange(min=1),
    default=6,
    show_default=True,
    help="Months before and after.",
)
@click.option(
    "--buffer", type=click.FloatRange(min=0, min_open=True), help="Buffer ring width, metres."
)
@click.option("--control", help="Control area (as --area).")
@click.option(
    "--boot",
    type=click.IntRange(min=100),
    default=2000,
    show_default=True,
    help="WDQ bootstrap draws.",
)
@click.option("--seed", type=int, default=None)
@_filters
@click.pass_context
def evaluate(
    ctx,
    area,
    date,
    months,
    buffer,
    control,
    boot,
    seed,
    categories,
    partners,
    start,
    end,
    locality,
    out,
):
    """Before/after a response (treated, buffer, control) and the WDQ when all three exist."""
    from ..stats.evaluation import before_after, wdq

    inc = _load(ctx, categories, partners, start, end, locality)
    res = before_after(
        inc,
        _area(area, ctx, "--area"),
        date,
        months=months,
        buffer=buffer,
        control=_area(control, ctx, "--control"),
    )
    if buffer is not None and control is not None:
        w = wdq(res, n_boot=boot, seed=seed).iloc[0]
        click.echo(
            f"WDQ {w['wdq']:.3f} ({w['ci_low']:.3f} to {w['ci_high']:.3f}), total net effect {w['tne']:.1f}",
            err=True,
        )
        for col in ("wdq", "ci_low", "ci_high", "tne"):
            res[col] = w[col]
    for r in res.itertuples():
        click.echo(
            f"  {r.area}: {r.before} before, {r.after} after (p = {r.p_value:.3g})", err=True
        )
    write_table(res, out, "evaluate")


def register(cli: click.Group) -> None:
    """Add the analysis commands to the ``scribe`` group."""
    for cmd in (emerging, near_repeat, trends, evaluate):
        cli.add_command(cmd)
