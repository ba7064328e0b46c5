"""Crime-science statistics on harmonised incidents (EPSG:27700, metres).

Every function takes a (Geo)DataFrame and returns a new one with documented
columns; none mutates its input. See ``docs/statistics.md``.
"""

from __future__ import annotations

from ._gi_core import gi_star_z
from .emerging import PATTERNS, SpaceTimeCube, classify_patterns, emerging_hotspots, space_time_gi
from .evaluation import before_after, pai, rri, wdq
from .gi import adjust_p, default_distance, gi_star, hotspots
from .grid import cell_index, count_in_grid, default_cell_size, grid_raster, make_grid
from .harm import harm_values, load_harm_weights
from .kde import default_bandwidth, kde
from .nearrepeat import bands, knox_test
from .trends import compare_periods, counts_by_period, hour_weekday, repeat_locations

__all__ = [
    # grids, hot spots, density, harm
    "make_grid",
    "count_in_grid",
    "cell_index",
    "default_cell_size",
    "grid_raster",
    "gi_star",
    "gi_star_z",
    "hotspots",
    "adjust_p",
    "default_distance",
    "kde",
    "default_bandwidth",
    "load_harm_weights",
    "harm_values",
    # emerging hot spots, trends, near-repeat, evaluation
    "emerging_hotspots",
    "space_time_gi",
    "classify_patterns",
    "PATTERNS",
    "SpaceTimeCube",
    "counts_by_period",
    "compare_periods",
    "hour_weekday",
    "repeat_locations",
    "knox_test",
    "bands",
    "pai",
    "rri",
    "wdq",
    "before_after",
]
