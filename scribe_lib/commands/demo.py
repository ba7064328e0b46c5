"""``scribe demo``: build a seeded Bedfordshire demo store through the real ingest."""

from __future__ import annotations

import click

__all__ = ["register"]


@click.command("demo")
@click.option(
    "--seed",
    type=int,
    default=2024,
    show_default=True,
    help="Random seed; the same seed gives the same files.",
)
@click.option(
    "--months",
    type=click.IntRange(1, 120),
    default=24,
    show_default=True,
    help="Months of data, ending with --end.",
)
@click.option(
    "--end",
    default=None,
    metavar="YYYY-MM",
    help="Last month [default: 2025-12, fixed so demos are reproducible].",
)
@click.option(
    "--scale",
    type=float,
    default=1.0,
    show_default=True,
    help="Volume: 1.0 is about 70,000 incidents; 0.05 about 4,000.",
)
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Keep the partner files here (else a temporary folder).",
)
@click.option(
    "--files-only",
    is_flag=True,
    help="Only write the partner files to --out-dir; do not touch the store.",
)
@click.pass_context
def demo(ctx, seed, months, end, scale, out_dir, files_only):
    """Build a demo store for Bedfordshire from synthetic partner files.

    \b
    Writes each partner's files in its own format and ingests them through the
    same adapters as real files:
      bedfordshire-police           data.police.uk street-level CSV, one per month
      bedfordshire-fire             incident-level fire and rescue open data
      luton-council, bedford-council, central-bedfordshire-council
                                    ASB / environmental case logs (one in cp1252,
                                    some located by postcode, a few bad rows that
                                    land in quarantine on purpose)
    Incidents cluster around the ten towns with weekly and seasonal rhythm, a few
    persistent hotspots and one emerging hotspot (Stotfold, last six months). The
    ten towns and the partnership area are stored as localities, labelled plainly
    as demo geography (not official boundaries).

    \b
    Examples:
      scribe demo                                  # ./scribe.duckdb, about 70,000 incidents
      scribe --store demo.duckdb demo --scale 0.1 --out-dir demo-files
      scribe demo --files-only --out-dir demo-files
    """
    from ..demo import DEMO_END, build_demo, write_demo_files

    end = end or DEMO_END
    try:
        if files_only:
            if not out_dir:
                raise click.UsageError("--files-only needs --out-dir DIR")
            files = write_demo_files(out_dir, seed, months, scale, end=end)
            for source, partner, path in files:
                click.echo(f"{source:10} {partner:30} {path}")
            click.echo(f"{len(files)} files written to {out_dir}")
            return
        summary = build_demo(
            ctx.obj["store"],
            seed=seed,
            months=months,
            scale=scale,
            out_dir=out_dir,
            progress=True,
            end=end,
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    for line in summary.lines():
        click.echo(line)
    click.echo("next: scribe status   (then scribe hotspots, or open the hub)")


def register(cli: click.Group) -> None:
    """Add ``scribe demo`` to the ``scribe`` group."""
    cli.add_command(demo)
