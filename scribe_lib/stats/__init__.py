"""Crime-science statistics on harmonised incidents (EPSG:27700, metres).

Every function takes a (Geo)DataFrame and returns a new one with documented
columns; none mutates its input. See ``docs/statistics.md``.
"""

from __future__ import annotations

import importlib

from ._gi_core import gi_star_z

__all__ = [
    # grids, hot spots, density, harm (this package's core)
    "make_grid",
    "count_in_grid",
    "default_cell_size",
    "grid_raster",
    "gi_star",
    "gi_star_z",
    "hotspots",
    "adjust_p",
    "kde",
    "default_bandwidth",
    "load_harm_weights",
    "harm_values",
    # emerging hot spots, trends, near-repeat, evaluation
    "emerging_hotspots",
    "counts_by_period",
    "compare_periods",
    "hour_weekday",
    "repeat_locations",
    "knox_test",
    "pai",
    "rri",
    "wdq",
    "before_after",
]

_MODULES = ("grid", "gi", "kde", "harm", "emerging", "trends", "nearrepeat", "evaluation")


def _import_available() -> None:
    """Import the public names of each module that exists (some are still being written)."""
    for mod_name in _MODULES:
        try:
            mod = importlib.import_module(f"{__name__}.{mod_name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{mod_name}":
                continue
            raise
        for name in getattr(mod, "__all__", ()):
            globals()[name] = getattr(mod, name)


_import_available()
