"""Harm weights per taxonomy category (a Crime Harm Index-style table in YAML).

The built-in table is ``scribe_lib/data/harm_weights.yml`` (its header explains the source
and the assumptions). A partnership may supply its own file of the same shape.
"""

from __future__ import annotations

import math
import os
from importlib import resources
from pathlib import Path

import pandas as pd
import yaml

from ..errors import ConfigError

__all__ = ["load_harm_weights", "harm_values", "DEFAULT_HARM_FILE"]

DEFAULT_HARM_FILE = "harm_weights.yml"


def _taxonomy_keys() -> set[str]:
    text = resources.files("scribe_lib").joinpath("data/taxonomy.yml").read_text("utf-8")
    return set((yaml.safe_load(text) or {}).get("categories", {}))


def load_harm_weights(path: str | os.PathLike | None = None) -> dict[str, float]:
    """Read and validate a harm weight table.

    Parameters
    ----------
    path : str or path, optional
        A YAML file with ``weights: {category: weight}``. Default: the built-in table.

    Returns
    -------
    dict of str to float
        Weight per taxonomy category (harm of one incident; unit in the file's ``unit`` key).

    Raises
    ------
    ConfigError
        Naming the file and key: a key that is not a taxonomy category, a weight that is not
        a non-negative number, or a taxonomy category without a weight.
    """
    if path is None:
        name = f"scribe_lib/data/{DEFAULT_HARM_FILE}"
        text = resources.files("scribe_lib").joinpath(f"data/{DEFAULT_HARM_FILE}").read_text()
    else:
        name = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read harm weights: {exc.strerror}", file=name) from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", file=name) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("weights"), dict):
        raise ConfigError(
            "expected a mapping 'weights: {category: weight}'", file=name, key="weights"
        )
    known = _taxonomy_keys()
    weights: dict[str, float] = {}
    for key, value in doc["weights"].items():
        if key not in known:
            raise ConfigError(
                f"{key!r} is not a SCRIBE taxonomy category (see scribe_lib/data/taxonomy.yml)",
                file=name,
                key=f"weights.{key}",
            )
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ConfigError(
                f"weight must be a number, not {value!r}", file=name, key=f"weights.{key}"
            )
        if value < 0:
            raise ConfigError(
                f"weight must not be negative ({value})", file=name, key=f"weights.{key}"
            )
        weights[key] = float(value)
    missing = sorted(known - set(weights))
    if missing:
        raise ConfigError(
            f"no weight for taxonomy categor{'y' if len(missing) == 1 else 'ies'} "
            f"{', '.join(missing)}",
            file=name,
            key="weights",
        )
    return weights


def _resolve(harm) -> dict[str, float]:
    if harm is True:
        return load_harm_weights()
    if isinstance(harm, dict):
        return {str(k): float(v) for k, v in harm.items()}
    if isinstance(harm, str | os.PathLike):
        return load_harm_weights(harm)
    raise TypeError("harm must be True (built-in table), a {category: weight} dict or a YAML path")


def harm_values(incidents: pd.DataFrame, harm=True) -> pd.Series:
    """The harm weight of each incident, from its ``category``.

    Parameters
    ----------
    incidents : DataFrame
        Incidents with a ``category`` column (taxonomy keys).
    harm : True, dict, str or path
        ``True`` for the built-in table, a ``{category: weight}`` dict, or a YAML file.

    Returns
    -------
    pandas.Series of float
        Aligned with ``incidents.index``.

    Raises
    ------
    ValueError
        If an incident's category has no weight (the message lists those categories).
    """
    if "category" not in incidents.columns:
        raise ValueError("incidents have no 'category' column to look harm weights up by")
    weights = _resolve(harm)
    values = incidents["category"].astype("string").map(weights)
    missing = incidents["category"][values.isna()]
    if len(missing):
        cats = ", ".join(sorted(missing.astype("string").fillna("<missing>").unique()))
        raise ValueError(f"no harm weight for {len(missing)} incident(s) of category {cats}")
    return values.astype(float).rename("harm")
