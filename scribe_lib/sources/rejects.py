"""Row problems: the quarantine reasons and the collector of each row's first problem.

The reasons are plain English and part of the interface (tests assert them
verbatim). Malformed CSV lines have their own reasons in ``csvstream.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["REASONS", "Rejects"]

#: every row-level quarantine reason an adapter gives (besides malformed CSV lines).
REASONS = {
    "month": "unparseable month (expected YYYY-MM)",
    "date": "unparseable date (expected {formats})",
    "excel_date": "Excel serial date out of range (cannot be repaired)",
    "time": "unparseable time (expected HH:MM or HH:MM:SS)",
    "time_zeros": "time lost its leading zeros in Excel and is ambiguous (5 = 00:05 or 05:00?)",
    "future": "date in the future",
    "missing_date": "date is empty",
    "non_numeric": "non-numeric coordinate",
    "half": "only one of the two coordinates given",
    "impossible": "impossible coordinate (latitude must be within -90..90, longitude within -180..180)",
    "swapped": "latitude and longitude swapped",
    "bng_in_lonlat": "BNG metres in latitude/longitude columns",
    "outside_gb": "coordinate outside Great Britain (no OSTN15 transformation)",
    "lonlat_in_bng": "latitude/longitude degrees in easting/northing columns",
    "outside_bng": "easting/northing outside the British National Grid",
    "area": "outside the partnership area",
    "category": "category with no mapping",
    "id_digits": "reference has more than the {width} digits the mapping declares",
    "sci": "value mangled by Excel into scientific notation (cannot be repaired)",
}

# A generous box around Great Britain and its islands (OSTN15 coverage).


class Rejects:
    """The first problem found for each row of a chunk.

    Parameters
    ----------
    n : int
        Number of rows.
    """

    def __init__(self, n: int):
        self.bad = np.zeros(n, bool)
        self.field = np.full(n, None, object)
        self.value = np.full(n, None, object)
        self.reason = np.full(n, None, object)

    def add(self, mask, field: str, reason: str, values) -> None:
        """Reject rows where ``mask`` is true and that have no earlier problem."""
        m = np.asarray(mask, bool) & ~self.bad
        if not m.any():
            return
        self.bad |= m
        self.field[m] = field
        self.reason[m] = reason
        self.value[m] = _values_at(values, m)


def _values_at(values, m: np.ndarray) -> np.ndarray:
    """Verbatim text of ``values`` where ``m``; a tuple of columns is joined with ','."""
    if isinstance(values, tuple):
        cols = [_values_at(x, m) for x in values]
        return np.array([",".join(map(str, t)) for t in zip(*cols, strict=True)], object)
    if isinstance(values, pd.Series):
        return np.array(values[m].astype(object).tolist(), object)
    return np.asarray(values, object)[m]
