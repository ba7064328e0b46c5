"""``scribe access``, ``scribe audit``, ``scribe retention``: the data-sharing agreement."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

__all__ = ["register"]

#: the demo partnership's agreement, used when neither --agreement nor $SCRIBE_AGREEMENT says.
DEFAULT_AGREEMENT = (
    Path(__file__).resolve().parents[2] / "hub_config" / "data_sharing_agreement.yml"
)


def _admin_url(ctx: click.Context) -> str:
    store = (ctx.find_root().obj or {}).get("store") or ""
    if store.startswith(("postgresql://", "postgres://")):
        return store
    url = os.environ.get("SCRIBE_ADMIN_URL")
    if url:
        return url
    raise click.UsageError(
        "the data-sharing agreement lives in the PostgreSQL store: pass "
        "--store postgresql://postgres@HOST/DB (a superuser) or set $SCRIBE_ADMIN_URL"
    )


def _agreement_path(path: str | None) -> Path:
    return Path(path or os.environ.get("SCRIBE_AGREEMENT") or DEFAULT_AGREEMENT)


@click.group("access")
def access_group() -> None:
    """The data-sharing agreement, enforced by PostgreSQL (see docs/access.md)."""


@access_group.command("check")
@click.option(
    "--agreement",
    "path",
    metavar="FILE",
    help="Agreement YAML [default: $SCRIBE_AGREEMENT or hub_config/data_sharing_agreement.yml].",
)
def check_command(path: str | None) -> None:
    """Validate the agreement file and show who may see what (no database needed)."""
    from ..access import load_agreement

    agreement = load_agreement(_agreement_path(path))
    click.echo(f"{agreement.path}: valid ({len(agreement.organisations)} organisations)")
    for name, org in agreement.organisations.items():
        click.echo(f"{name}:")
        for r in org.rules:
            cats = "all categories" if r.categories is None else f"{len(r.categories)} categories"
            fields = ", ".join(r.fields) or "no restricted fields"
            small = "small counts suppressed" if r.suppress_small_counts else "counts as they are"
            click.echo(f"  {r.partner}: {cats}, {r.precision}, {fields}; {small}")


@access_group.command("apply")
@click.option(
    "--agreement",
    "path",
    metavar="FILE",
    help="Agreement YAML [default: $SCRIBE_AGREEMENT or hub_config/data_sharing_agreement.yml].",
)
@click.pass_context
def apply_command(ctx: click.Context, path: str | None) -> None:
    """Apply (or re-apply after a change) the agreement to the PostgreSQL store.

    Creates or updates the loader, reader and organisation roles, row-level security,
    column privileges and the scribe_shared views; access changes at once for every user.
    """
    from ..access import apply_agreement, load_agreement

    agreement = load_agreement(_agreement_path(path))
    apply_agreement(agreement, admin_url=_admin_url(ctx))
    click.echo(
        f"applied {agreement.path}: {len(agreement.organisations)} organisations, "
        f"roles prefixed {agreement.role_prefix}_"
    )


@click.command("audit")
@click.option("--user", default=None, help="Only this hub user's entries.")
@click.option(
    "--since", default=None, metavar="YYYY-MM-DD", help="Only entries from this day on (UTC)."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one object per entry).")
@click.pass_context
def audit_command(ctx: click.Context, user: str | None, since: str | None, as_json: bool) -> None:
    """Show the audit trail: who read or exported incident data, when, with what filter.

    For the manager: needs the superuser store URL (--store or $SCRIBE_ADMIN_URL).
    """
    from ..access import audit_entries

    df = audit_entries(_admin_url(ctx), user=user, since=since)
    if as_json:
        for rec in df.astype(object).where(df.notna(), None).to_dict(orient="records"):
            rec["at"] = rec["at"].isoformat() if rec["at"] is not None else None
            rec["filter"] = json.loads(rec["filter"]) if rec["filter"] else None
            click.echo(json.dumps(rec, default=str))
        return
    if df.empty:
        click.echo("no audit entries")
        return
    click.echo(
        f"{'at (UTC)':<19} {'user':<20} {'organisation':<28} {'action':<9} {'what':<16} "
        f"{'rows':>8} filter"
    )
    for rec in df.astype(object).where(df.notna(), None).itertuples(index=False):
        rows = "" if rec.rows is None else str(int(rec.rows))
        filt = rec.filter if rec.filter and rec.filter != "{}" else ""
        if rec.action in ("apply", "provision", "revoke", "retention"):
            filt = f"{filt} (by {rec.db_user})".strip()
        click.echo(
            f"{rec.at:%Y-%m-%d %H:%M:%S} {rec.username:<20} {rec.org or '-':<28} "
            f"{rec.action:<9} {rec.relation or '':<16} {rows:>8} {filt}"
        )


@click.command("retention")
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
@click.pass_context
def retention_command(ctx: click.Context, dry_run: bool) -> None:
    """Delete incidents older than the agreement keeps each partner's data (as the loader).

    Each partner's deletion is written to the audit trail.
    """
    from ..access import apply_retention

    df = apply_retention(_admin_url(ctx), dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    if df.empty:
        click.echo("no partner has a retention period in the applied agreement")
    for rec in df.itertuples(index=False):
        click.echo(
            f"{rec.partner}: kept {rec.retention_months} months (before {rec.cutoff}); "
            f"{verb} {rec.incidents} incidents, {rec.quarantined} quarantined rows"
        )


def register(cli: click.Group) -> None:
    """Add ``access``, ``audit`` and ``retention`` to the ``scribe`` group."""
    cli.add_command(access_group)
    cli.add_command(audit_command)
    cli.add_command(retention_command)
