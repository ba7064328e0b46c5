"""``scribe hub`` and ``scribe users``: run the hub, vet its users."""

from __future__ import annotations

import os
import warnings

import click

from ..hub.settings import ADMIN_PASSWORD_ENV, ROLES, HubSettings

__all__ = ["register"]


@click.command("hub")
@click.option("--ip", default=None, help="Address to listen on [default: 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port to listen on [default: 8000].")
@click.option(
    "--store",
    "store",
    default=None,
    metavar="URL",
    help="Superuser URL of a PostgreSQL of your own for the store (its pg_hba.conf must ask "
    "every other login for a password) [default: $SCRIBE_ADMIN_URL, else the hub's own "
    "cluster].",
)
@click.option("--no-demo", is_flag=True, help="Do not build the demo data when the store is empty.")
def hub_command(ip: str | None, port: int | None, store: str | None, no_demo: bool) -> None:
    """Run the SCRIBE hub (JupyterHub), after making sure its parts are there.

    \b
    Checks, in order: the hub's own PostgreSQL cluster (created in
    $SCRIBE_HUB_PG_DIR, default /var/lib/scribe-hub-postgres, port
    $SCRIBE_HUB_PG_PORT, default 5433, and started when down; every login but
    the administrator's must give its password), unless --store gives a
    PostgreSQL of your own; PostGIS (the store database is created when
    missing); the demo data (built when the store is empty); the data-sharing
    agreement (applied to the store at every start); and
    configurable-http-proxy (installed from npm when missing). State (hub
    database, cookie secret, CLI token) lives in $SCRIBE_HUB_STATE, default
    /var/lib/scribe-hub. On first start the `manager` account gets the
    password in $SCRIBE_ADMIN_PASSWORD, or a generated one printed once.
    """
    from ..access.connect import safe_url
    from ..hub import launcher

    overrides = {
        k: v for k, v in {"ip": ip, "port": port, "store_url": store}.items() if v is not None
    }
    settings = HubSettings.from_env(**overrides)
    cmd, env = launcher.hub_command(settings)
    done = launcher.ensure_cluster(settings)
    version = launcher.ensure_postgres(settings.admin_url)
    if done is None:
        click.echo(f"PostgreSQL store ({safe_url(settings.admin_url)}) with PostGIS {version}")
    else:
        cluster = settings.cluster
        click.echo(
            f"PostgreSQL store: the hub's own cluster in {cluster.root} ({done}), "
            f"127.0.0.1:{cluster.port}, passwords required; PostGIS {version}; "
            f"administrator (as root): {cluster.admin_url}"
        )
    launcher.ensure_store_tables(settings.admin_url)
    if not no_demo:
        count = launcher.ensure_demo(settings.admin_url)
        if count is None:
            click.echo("demo data: the demo generator is not installed; store left empty")
        else:
            click.echo(f"store holds {count:,} incidents")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        orgs = launcher.apply_agreement(settings)
    for w in caught:  # e.g. pg_hba.conf trusting connections: the agreement cannot hold
        click.echo(f"WARNING: {w.message}", err=True)
    click.echo(
        f"data-sharing agreement {settings.agreement_path} applied: {len(orgs)} organisations"
    )
    password = launcher.new_manager_password(settings)
    if password:
        env[ADMIN_PASSWORD_ENV] = password
        click.echo(f"manager password (shown once, change it after signing in): {password}")
    click.echo(
        f"SCRIBE hub at http://{settings.ip}:{settings.port}/ - sign in as `manager`, "
        f"approve users at http://{settings.ip}:{settings.port}/hub/authorize"
    )
    os.execve(cmd[0], cmd, env)


@click.group("users")
def users_group() -> None:
    """Vet the hub's users: list, approve with organisation and role, revoke.

    Talks to the running hub (run as root: it reads the hub's service token).
    """


@users_group.command("list")
def users_list() -> None:
    """Every signed-up user, with organisation, role and status."""
    from ..hub.client import HubClient

    rows = HubClient().list()
    header = ("name", "full_name", "email", "requested_org", "organisation", "role", "status")
    widths = [max(len(h), *(len(str(r.get(h, ""))) for r in rows)) for h in header]
    click.echo("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for row in rows:
        click.echo(
            "  ".join(str(row.get(h, "")).ljust(w) for h, w in zip(header, widths, strict=True))
        )


@users_group.command("approve")
@click.argument("name")
@click.option("--org", required=True, help="The user's organisation (from the agreement).")
@click.option("--role", required=True, type=click.Choice(list(ROLES)), help="The user's role.")
def users_approve(name: str, org: str, role: str) -> None:
    """Approve NAME: they may log in, as a member of ORG with ROLE."""
    from ..hub.client import HubClient

    member = HubClient().approve(name, org, role)
    click.echo(f"approved {member['name']}: {member['organisation']}, {member['role']}")


@users_group.command("revoke")
@click.argument("name")
def users_revoke(name: str) -> None:
    """Revoke NAME: login refused, running server stopped, database login dropped."""
    from ..hub.client import HubClient

    member = HubClient().revoke(name)
    click.echo(f"revoked {member['name']}")


def register(cli: click.Group) -> None:
    """Add ``hub`` and ``users`` to the ``scribe`` command group."""
    cli.add_command(hub_command)
    cli.add_command(users_group)
