"""What several ``scribe`` commands share: the month options, harm weighting, load filters."""

from __future__ import annotations

import click

__all__ = ["filter_kwargs", "from_option", "harm_weights", "harm_file_option", "to_option"]

from_option = click.option("--from", "start", metavar="YYYY-MM", help="First month (inclusive).")
to_option = click.option("--to", "end", metavar="YYYY-MM", help="Last month (inclusive).")
harm_file_option = click.option(
    "--harm-file",
    type=click.Path(exists=True, dir_okay=False),
    help="Weight incidents by harm from this YAML table (implies --harm).",
)


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
