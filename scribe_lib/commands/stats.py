"""``scribe hotspots`` and ``scribe kde``: statistics on a selection of incidents, to a file.

Each command reads incidents with :func:`scribe_lib.load`, runs :mod:`scribe_lib.stats`
and writes every cell of the grid (zero cells included) to CSV, GeoJSON or GeoPackage.
"""

from __future__ import annotations

import functools
from pathlib import Path

import click

from ._options import filter_kwargs, from_option, harm_file_option, harm_weights, to_option

__all__ = ["register", "write_cells"]

_SUFFIXES = (".csv", ".geojson", ".gpkg")


def write_cells(cells, out: str, layer: str) -> None:
    """Write a grid of results: CSV (no geometry; ``x``, ``y`` = cell centre, EPSG:27700),
    GeoJSON (WGS84 as RFC 7946 requires; ``x``, ``y`` kept) or GeoPackage (EPSG:27700)."""
    suffix = Path(out).suffix.lower()
    if suffix == ".csv":
        cells.drop(columns="geometry").to_csv(out, index=False)
    elif suffix == ".geojson":
        cells.to_crs("EPSG:4326").to_file(out, driver="GeoJSON", engine="pyogrio")
    elif suffix == ".gpkg":
        cells.to_file(out, driver="GPKG", layer=layer, engine="pyogrio")
    else:  # checked by the option already; kept for library callers
        raise click.BadParameter(f"{out}: the file must end in {', '.join(_SUFFIXES)}")


def _check_out(ctx, param, value):
    if Path(value).suffix.lower() not in _SUFFIXES:
        raise click.BadParameter(f"{value!r} must end in .csv, .geojson or .gpkg")
    return value


def _selection(f):
    """The options every statistics command shares: what to load, and where to write."""
    opts = [
        click.option("--category", multiple=True, metavar="NAME",
                     help="Taxonomy category to keep (repeat for several) [default: all]."),
        click.option("--partner", multiple=True, metavar="NAME",
                     help="Partner to keep (repeat for several) [default: all]."),
        from_option,
        to_option,
        click.option("--locality", metavar="NAME",
                     help="Study area: a locality (`scribe localities list`) [default: the "
                     "incidents' extent]."),
        click.option("--cell", type=click.FloatRange(min=1), metavar="METRES",
                     help="Cell size [default: shorter side of the area / 50, rounded down "
                     "to 100 m, at least 100 m]."),
        click.option("--shape", type=click.Choice(["square", "hex"]), default="square",
                     show_default=True, help="Cell shape."),
        click.option("--harm", is_flag=True,
                     help="Weight incidents by harm (built-in Crime Harm Index-style table)."),
        harm_file_option,
        click.option("--out", required=True, callback=_check_out, metavar="FILE",
                     help="Output: .csv (with x, y), .geojson (WGS84) or .gpkg (EPSG:27700)."),
    ]  # fmt: skip
    for opt in reversed(opts):
        f = opt(f)
    return f


def _load(ctx, category, partner, start, end, locality):
    import scribe_lib

    store = ctx.obj["store"]
    inc = scribe_lib.load(store, **filter_kwargs(category, partner, start, end, locality))
    area = None
    if locality is not None:
        kind, _, name = locality.rpartition(":") if ":" in locality else ("", "", locality)
        locs = scribe_lib.localities(store, kind=kind or None)
        area = locs[locs["name"] == name]
    located = int(inc.geometry.notna().sum())
    if located == 0 and area is None:
        raise click.ClickException(
            "no located incidents match the selection; widen it, or pass --locality to map "
            "an empty area"
        )
    return inc, area, located


def _library_errors(f):
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        try:
            return f(*args, **kwargs)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper


@click.command("hotspots")
@_selection
@click.option(
    "--distance",
    type=click.FloatRange(min=0, min_open=True),
    metavar="METRES",
    help="Neighbour band between cell centres [default: the adjacent cells, "
    "sqrt(2) x cell for squares].",
)
@click.option(
    "--permutations",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Also a conditional-permutation pseudo p (p_perm) from N draws, e.g. 999.",
)
@click.option("--seed", type=int, default=None, help="Seed of the permutations.")
@click.option(
    "--correction",
    type=click.Choice(["fdr", "holm", "none"]),
    default="fdr",
    show_default=True,
    help="Multiple-testing correction (fdr = Benjamini-Hochberg).",
)
@click.pass_context
@_library_errors
def hotspots_cmd(ctx, category, partner, start, end, locality, cell, shape, harm, harm_file,
                 out, distance, permutations, seed, correction):  # fmt: skip
    """Getis-Ord Gi* hot and cold spots on a grid, every cell written.

    \b
    Columns: cell_id, x, y (cell centre, EPSG:27700 metres), incidents (harm), gi_z,
    p_value (two-sided), p_perm (with --permutations), p_fdr (the corrected p, whatever
    the correction), gi_bin (-3..3: cold/hot at 99/95/90 % after correction),
    correction, p_basis, explanation.

    \b
    Examples:
      scribe hotspots --cell 250 --out hot.geojson
      scribe hotspots --cell 150 --distance 450 --category burglary --from 2025-01 \\
          --to 2025-06 --locality Luton --permutations 999 --seed 1 --out luton.csv
    """
    from ..stats import hotspots

    inc, area, located = _load(ctx, category, partner, start, end, locality)
    cells = hotspots(inc, cell=cell, distance=distance, area=area, harm=harm_weights(harm, harm_file),
                     shape=shape, permutations=permutations, seed=seed, correction=correction)  # fmt: skip
    write_cells(cells, out, "hotspots")
    hot, cold = int((cells.gi_bin >= 2).sum()), int((cells.gi_bin <= -2).sum())
    click.echo(
        f"{out}: {len(cells):,} cells, {int(cells.incidents.sum()):,} of {located:,} located "
        f"incidents; {hot:,} hot and {cold:,} cold at 95 % or more ({correction})"
        + (f"; permutation seed {cells.attrs['gi_star']['seed']}" if permutations else "")
    )


@click.command("kde")
@_selection
@click.option(
    "--bandwidth",
    type=click.FloatRange(min=0, min_open=True),
    metavar="METRES",
    help="Search radius of the quartic kernel [default: ArcGIS Pro's rule, "
    "0.9 min(SD, sqrt(1/ln 2) Dm) n^-0.2].",
)
@click.pass_context
@_library_errors
def kde_cmd(ctx, category, partner, start, end, locality, cell, shape, harm, harm_file, out,
            bandwidth):  # fmt: skip
    """Quartic kernel density (incidents, or harm, per km²) on a grid, every cell written.

    \b
    Columns: cell_id, x, y (cell centre, EPSG:27700 metres), incidents, density (per km²),
    bandwidth (metres, as used).

    \b
    Example:
      scribe kde --cell 100 --bandwidth 400 --category robbery --out robbery.gpkg
    """
    from ..stats import count_in_grid, kde, make_grid

    inc, area, located = _load(ctx, category, partner, start, end, locality)
    grid = make_grid(inc, cell=cell, shape=shape, area=area)
    weights = harm_weights(harm, harm_file)
    cells = kde(inc, bandwidth=bandwidth, harm=weights, grid=grid)
    counted = count_in_grid(inc, grid)
    cells.insert(3, "incidents", counted["incidents"].to_numpy())
    write_cells(cells, out, "kde")
    click.echo(
        f"{out}: {len(cells):,} cells, {located:,} located incidents, bandwidth "
        f"{cells.bandwidth.iloc[0]:,.0f} m, peak {cells.density.max():,.1f} per km²"
    )


def register(cli: click.Group) -> None:
    """Add ``hotspots`` and ``kde`` to the ``scribe`` group."""
    cli.add_command(hotspots_cmd)
    cli.add_command(kde_cmd)
