"""What several ``scribe`` commands share: options, harm weighting, load filters, the store."""

from __future__ import annotations

import click

__all__ = [
    "filter_kwargs",
    "from_option",
    "harm_weights",
    "harm_file_option",
    "json_option",
    "open_cli_store",
    "to_option",
]

from_option = click.option("--from", "start", metavar="YYYY-MM", help="First month (inclusive).")
to_option = click.option("--to", "end", metavar="YYYY-MM", help="Last month (inclusive).")
json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON.")
harm_file_option = click.option(
    "--harm-file",
    type=click.Path(exists=True, dir_okay=False),
    help="Weight incidents by harm from this YAML table (implies --harm).",
)


def open_cli_store(ctx: click.Context, read_only: bool = False):
    """Open the store given to the ``scribe`` group (``--store``)."""
    from ..store import open_store

    return open_store(ctx.obj["store"], read_only=read_only)


def harm_weights(harm: bool, harm_file: str | None):
    """The ``harm`` argument of :mod:`scribe_lib.stats` from ``--harm`` and ``--harm-file``."""
    return harm_file if harm_file else (True if harm else None)


def filter_kwargs(categories, partners, start, end, locality) -> dict:
    """Keyword arguments of :func:`scribe_lib.load` from the filter options (empty = all)."""
    return {
        "category": list(categories) or None,
        "partner": list(partners) or None,
        "start": start,
        "end": end,
        "locality": locality,
    }
