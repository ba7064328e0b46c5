"""Data commands: init, ingest, status, submissions, quarantine, export, localities, coverage."""

from __future__ import annotations

import json
import os
import sys

import click

from ..errors import ScribeError
from ._options import json_option, open_cli_store

__all__ = ["register"]


@click.command("init")
@click.pass_context
def init(ctx):
    """Create the store's tables (and enable PostGIS on PostgreSQL).

    Safe to run again. Any other command also creates an embedded store on first use.

    \b
    Examples:
      scribe init                                   ./scribe.duckdb
      scribe --store postgresql://loader@db/csp init
    """
    with open_cli_store(ctx) as st:
        st.init()
        click.echo(f"Store ready: {st.display_url} ({st.backend})")


@click.command("ingest")
@click.option(
    "--source",
    "-s",
    required=True,
    metavar="NAME",
    help="Partner format: police-uk, fire, council, or mapping (with --mapping).",
)
@click.option(
    "--partner", "-p", default=None, help="Submitting organisation, e.g. bedfordshire-police."
)
@click.option(
    "--supersede",
    type=int,
    multiple=True,
    metavar="ID",
    help="A submission this corrected file replaces (kept as history). Repeatable.",
)
@click.option(
    "--mapping",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="YAML mapping for a partner with its own format (see docs/sources.md).",
)
@click.option(
    "--postcodes",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    metavar="FILE",
    help="Postcode centroid lookup CSV (postcode,easting,northing) for --source council "
    "[default: $SCRIBE_POSTCODES].",
)
@click.option("--note", default=None, help="Free text kept with the submission.")
@click.option(
    "--chunksize",
    type=click.IntRange(1),
    default=100_000,
    show_default=True,
    help="Rows per chunk; memory is bounded by this, not by the file.",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar on stderr [default: when stderr is a terminal].",
)
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.pass_context
def ingest(ctx, source, partner, supersede, mapping, postcodes, note, chunksize, progress, files):
    """Ingest partner FILES, each as one submission in one transaction.

    Prints rows read, accepted and quarantined for each file. An identical file again
    adds nothing and says so. A newer police.uk download of the same force and month
    replaces the older one (kept as history). Rejected rows are kept in quarantine with
    the line, field, value and reason: see `scribe quarantine list`.

    \b
    Examples:
      scribe ingest --source police-uk --partner bedfordshire-police 2024-0*-bedfordshire-street.csv
      scribe ingest --source council --partner luton-council --postcodes pc.csv asb-cases.csv
      scribe ingest --source mapping --mapping housing-asb.yml housing-asb.csv
      scribe ingest --source police-uk --supersede 12 2024-03-corrected.csv
    """  # fmt: skip
    from ..ingest import ingest as run

    if supersede and len(files) > 1:
        raise click.UsageError("--supersede applies to one corrected file; give one FILE")
    if postcodes is not None and source != "council":
        raise click.UsageError(f"--postcodes applies to --source council, not {source}")
    if source == "mapping" and mapping is None:
        raise click.UsageError("--source mapping needs --mapping FILE (the partner's YAML)")
    options = {"postcodes": postcodes} if postcodes is not None else {}
    show = sys.stderr.isatty() if progress is None else progress
    failed = 0
    totals = [0, 0, 0]
    with open_cli_store(ctx) as st:
        for path in files:
            try:
                r = run(path, source, partner=partner, store=st, supersede=list(supersede) or None,
                        mapping=mapping, options=options, chunksize=chunksize, progress=show,
                        note=note)  # fmt: skip
            except ScribeError as exc:
                failed += 1
                click.echo(f"{os.path.basename(path)}: not ingested: {exc}", err=True)
                continue
            click.echo(r.summary())
            for i, n in enumerate((r.rows_read, r.accepted, r.quarantined)):
                totals[i] += n
    if len(files) > 1:
        click.echo(f"Total: {totals[0]} rows read, {totals[1]} accepted, {totals[2]} quarantined"
                   f" from {len(files) - failed} of {len(files)} files")  # fmt: skip
    if failed:
        raise ScribeError(f"{failed} of {len(files)} files not ingested (see above)")


@click.command("status")
@json_option
@click.pass_context
def status(ctx, as_json):
    """What the store holds: incidents, quarantined rows, submissions, by partner/category/month.

    A month a partner never sent shows as "no data", never as 0.

    \b
    Examples:
      scribe status
      scribe status --json | jq .by_category
    """
    from ..store.summary import format_status
    from ..store.summary import status as info

    with open_cli_store(ctx) as st:
        data = info(st)
    click.echo(json.dumps(data, indent=2) if as_json else format_status(data))


@click.command("submissions")
@click.option("--active", is_flag=True, help="Only submissions not superseded.")
@json_option
@click.pass_context
def submissions(ctx, active, as_json):
    """List submissions (one per ingested file), oldest first.

    \b
    Example:
      scribe submissions --active
    """
    with open_cli_store(ctx) as st:
        df = st.submissions(active_only=active)
    if as_json:
        click.echo(df.to_json(orient="records", date_format="iso", indent=2))
    elif df.empty:
        click.echo("No submissions yet.")
    else:
        cols = ["submission_id", "partner", "source", "filename", "received_at", "rows_read",
                "accepted", "quarantined", "covers_from", "covers_to", "superseded_by"]  # fmt: skip
        click.echo(df[cols].to_string(index=False, na_rep="-"))


@click.group("quarantine")
def quarantine():
    """Rows a partner file had that could not be accepted, with the reason."""


@quarantine.command("list")
@click.option("--submission", type=int, default=None, metavar="ID", help="Only this submission.")
@click.option("--limit", type=click.IntRange(0), default=50, show_default=True, help="0: all.")
@click.pass_context
def quarantine_list(ctx, submission, limit):
    """Show quarantined rows: file, line, field, value and reason.

    \b
    Example:
      scribe quarantine list --submission 3
    """
    with open_cli_store(ctx) as st:
        df = st.quarantine(submission)
    if df.empty:
        click.echo("Nothing in quarantine.")
        return
    shown = df if not limit else df.head(limit)
    cols = ["submission_id", "file", "line", "field", "value", "reason"]
    click.echo(shown[cols].to_string(index=False, na_rep="-", max_colwidth=60))
    if len(shown) < len(df):
        click.echo(f"... {len(df) - len(shown)} more (--limit 0, or `scribe quarantine export`)")


@quarantine.command("export")
@click.option("--submission", type=int, default=None, metavar="ID", help="Only this submission.")
@click.option("--out", "-o", type=click.Path(dir_okay=False, writable=True), default="-",
              show_default=True, help="CSV file to write ('-' for stdout).")  # fmt: skip
@click.pass_context
def quarantine_export(ctx, submission, out):
    """Write quarantined rows, raw line included, to CSV for the partner to fix.

    \b
    Example:
      scribe quarantine export --submission 3 --out to-fix.csv
    """
    with open_cli_store(ctx) as st:
        df = st.quarantine(submission)
    df.to_csv(sys.stdout if out == "-" else out, index=False)
    if out != "-":
        click.echo(f"{len(df)} quarantined rows written to {out}")


def register(cli: click.Group) -> None:
    """Add the data commands to the ``scribe`` group."""
    from .data_export import coverage, export, localities

    for cmd in (init, ingest, status, submissions, quarantine, export, localities, coverage):
        cli.add_command(cmd)
