"""``scribe briefings run|schedule``: render SARA locality briefings, show the schedule."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import replace
from pathlib import Path

import click

__all__ = ["register"]

_DEFAULT_SCHEDULE = Path(__file__).resolve().parents[2] / "hub_config" / "briefings_schedule.yml"


def _store_url(store: str) -> str:
    if "://" in store:
        return store
    path = Path(store).expanduser().resolve()
    if not path.is_file():
        raise click.ClickException(
            f"store {str(path)!r} does not exist; build one with `scribe demo` or pass --store"
        )
    return str(path)


def _localities(store: str) -> dict[str, float]:
    """``name -> area`` (m²) of every locality (``kind:name`` where a name is in two kinds)."""
    from ..api import localities

    loc = localities(store)
    names = loc["name"].astype(str)
    dup = names.duplicated(keep=False)
    kinds = loc["kind"].astype(str)
    keys = [f"{k}:{n}" if d else n for n, k, d in zip(names, kinds, dup, strict=True)]
    return dict(sorted(zip(keys, loc.geometry.area.astype(float), strict=True)))


def _progress(res, done: int, total: int) -> None:
    if res.ok:
        click.echo(f"[{done}/{total}] ok      {res.locality} ({res.seconds:.1f} s)", err=True)
    else:
        where = f"cell {res.cell}" if res.cell is not None else res.stage
        click.echo(f"[{done}/{total}] FAILED  {res.locality} at {where}: {res.error}", err=True)


@click.group("briefings")
def briefings() -> None:
    """SARA locality briefings: render them, see when they next run."""


@briefings.command("run")
@click.option(
    "--period", required=True, metavar="YYYY-MM", help="Month briefed (or YYYY-MM..YYYY-MM)."
)
@click.option(
    "--locality",
    "localities",
    multiple=True,
    metavar="NAME",
    help="A locality; repeat for several.",
)
@click.option("--all", "all_", is_flag=True, help="Every locality in the store.")
@click.option(
    "--audience",
    metavar="ORG",
    default=None,
    help="Organisation the briefings are for: its view of the data under the agreement.",
)
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output directory.")
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Parallel processes (default: the number of cores).",
)
@click.option(
    "--comparison",
    metavar="YYYY-MM",
    default=None,
    help="Period to compare with (default: the one just before).",
)
@click.option(
    "--category",
    "categories",
    multiple=True,
    metavar="KEY",
    help="Only these taxonomy categories; repeat for several.",
)
@click.option(
    "--responses",
    type=click.Path(file_okay=False),
    default=None,
    help="Directory of response files (default $SCRIBE_RESPONSES, else the demo set).",
)
@click.option(
    "--template",
    type=click.Path(dir_okay=False),
    default=None,
    help="Briefing notebook (default notebooks/briefings/locality_briefing.ipynb).",
)
@click.option("--no-pdf", is_flag=True, help="Write HTML only.")
@click.pass_context
def run(
    ctx,
    period,
    localities,
    all_,
    audience,
    out,
    jobs,
    comparison,
    categories,
    responses,
    template,
    no_pdf,
) -> None:
    """Render briefings to self-contained HTML and PDF, plus an index page.

    \b
    Each locality runs in its own process, up to --jobs at a time. A locality that fails
    is listed in the index with its failing cell and error; the others still render and
    the exit status is 1.

    \b
      scribe briefings run --period 2024-06 --all --out briefings/2024-06
      scribe briefings run --period 2024-06 --locality Stotfold --audience central-bedfordshire-council --out out/
    """
    from ..briefings import jobs_for, parse_period, run_briefings

    parse_period(period)  # fail early on a bad period
    if bool(localities) == bool(all_):
        raise click.UsageError("give --locality NAME (one or more) or --all")
    from ..briefings import org_store_url

    store = _store_url(ctx.obj["store"])
    areas = _localities(store)  # to start the largest first
    names = list(areas) if all_ else list(localities)
    store = org_store_url(store, audience)  # PostgreSQL: read as the organisation
    out_dir = Path(out).resolve()
    todo = jobs_for(
        names, period=period, out=str(out_dir), store=store, comparison=comparison,
        categories=tuple(categories) or None, audience=audience,
        responses=str(Path(responses).resolve()) if responses else None,
        template=str(Path(template).resolve()) if template else None, pdf=not no_pdf,
    )  # fmt: skip
    todo = [replace(j, weight=areas.get(j.locality, 0.0)) for j in todo]
    workers = jobs or os.cpu_count() or 1
    click.echo(
        f"Rendering {len(todo)} briefing(s) for {period} with {min(workers, len(todo))} process(es) -> {out_dir}",
        err=True,
    )
    view = (
        f"Each briefing shows {audience}'s view of the data under the data-sharing agreement."
        if audience
        else "Each briefing shows every partner's data (for the partnership's analysts)."
    )
    results = run_briefings(todo, workers=workers, progress=_progress, meta={"data_view": view})
    failed = [r for r in results if not r.ok]
    click.echo(f"Index: {out_dir / 'index.html'}")
    if failed:
        raise click.ClickException(
            f"{len(failed)} of {len(results)} briefing(s) failed: {', '.join(r.locality for r in failed)}"
        )


@briefings.command("schedule")
@click.option(
    "--file",
    "path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Schedule file (default hub_config/briefings_schedule.yml or $SCRIBE_BRIEFINGS_SCHEDULE).",
)
@click.option(
    "--now",
    metavar="ISO-TIME",
    default=None,
    help="Pretend it is this time (e.g. 2024-07-02T09:00+01:00).",
)
def schedule(path, now) -> None:
    """Show what the monthly briefing run does next, and for whom."""
    from ..briefings import load_schedule

    sched = load_schedule(path or os.environ.get("SCRIBE_BRIEFINGS_SCHEDULE") or _DEFAULT_SCHEDULE)
    when = None
    if now:
        try:
            when = dt.datetime.fromisoformat(now)
        except ValueError:
            raise click.BadParameter(
                f"{now!r} is not an ISO time such as 2024-07-02T09:00+01:00", param_hint="--now"
            ) from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
    nxt = sched.next_run(when)
    click.echo(f"Schedule: {sched.file}")
    click.echo(f"Next run: {nxt.isoformat()} ({nxt.strftime('%A %d %B %Y, %H:%M %Z')})")
    click.echo(f"Period:   {sched.period_for(nxt)} ({sched.period_for(nxt).label()})")
    click.echo(f"Then:     {sched.next_run(nxt).isoformat()}")
    from ..briefing_service import last_period

    done = last_period(sched)
    click.echo(f"Last run: {done or 'none recorded'}" + ("; catch-up on" if sched.catch_up else ""))
    for item in sched.briefings:
        where = sched.out / item.audience / str(sched.period_for(nxt))
        locs = ", ".join(item.localities) if item.localities else "every locality"
        click.echo(f"  {item.audience}: {locs} -> {where} (group {item.unix_group}, mode 2770)")


def register(cli: click.Group) -> None:
    """Add ``scribe briefings`` to the CLI."""
    cli.add_command(briefings)
