"""The ``scribe`` command line.

The group lives here; each domain registers its commands from its own module
(``scribe_lib/commands/*.py``) so the CLI stays shallow and each module small.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from .errors import ScribeError

__all__ = ["main", "cli"]

#: modules that add commands to the group, each with ``register(cli)``.
COMMAND_MODULES = [
    "scribe_lib.commands.data",  # init, ingest, status, quarantine, export, demo, submissions
    "scribe_lib.commands.demo",  # demo
    "scribe_lib.commands.stats",  # hotspots, kde
    "scribe_lib.commands.analysis",  # emerging, near-repeat, trends, evaluate
    "scribe_lib.commands.hub",  # hub, users
    "scribe_lib.commands.access",  # access apply, audit, retention
    "scribe_lib.commands.briefings",  # briefings run|schedule
]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--store",
    envvar="SCRIBE_STORE",
    default=None,
    metavar="PATH|URL",
    help="The store: a file path (embedded DuckDB store) or a postgresql:// URL. "
    "Defaults to $SCRIBE_STORE, else ./scribe.duckdb.",
)
@click.version_option(package_name="scribe-csp")
@click.pass_context
def cli(ctx: click.Context, store: str | None) -> None:
    """SCRIBE: the Community Safety Partnership's shared incident workbench.

    \b
    Typical first steps:
      scribe demo                 build a demo store for Bedfordshire
      scribe status               what is in the store
      scribe ingest --source police-uk 2024-01-bedfordshire-street.csv
      scribe hotspots --cell 250 --distance 250 --out hot.geojson
    """
    ctx.ensure_object(dict)
    ctx.obj["store"] = store or os.environ.get("SCRIBE_STORE") or "scribe.duckdb"


def _register_all() -> None:
    for name in COMMAND_MODULES:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # module not written yet
                continue
            raise
        mod.register(cli)


_register_all()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``scribe`` console script."""
    try:
        cli.main(args=argv, prog_name="scribe", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except ScribeError as exc:
        click.echo(f"error: {exc}", err=True)
        return 2
    except SystemExit as exc:  # click's --help / --version
        return int(exc.code or 0)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
