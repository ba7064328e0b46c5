"""Reporting periods of a briefing: whole calendar months.

A briefing covers a *period* (one month, or an inclusive run of months) and compares it
with the *previous period* of the same length and with the *same period last year*.
Months are the unit because police.uk data is monthly (``time_precision = month``):
a comparison at a finer grain would be wrong for the largest partner.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from ..errors import ConfigError

__all__ = ["Period", "parse_period"]

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _month(text: str, what: str) -> pd.Period:
    m = _MONTH.match(text.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ConfigError(f"{what} must be a month written YYYY-MM (e.g. 2024-06), not {text!r}")
    return pd.Period(text.strip(), freq="M")


@dataclass(frozen=True)
class Period:
    """An inclusive run of calendar months.

    Parameters
    ----------
    first, last : pandas.Period
        The first and last month (``freq="M"``), ``first <= last``.

    Examples
    --------
    >>> p = parse_period("2024-06")
    >>> str(p), str(p.previous()), str(p.last_year())
    ('2024-06', '2024-05', '2023-06')
    >>> str(parse_period("2024-01..2024-03").previous())
    '2023-10..2023-12'
    """

    first: pd.Period
    last: pd.Period

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ConfigError(f"period ends ({self.last}) before it starts ({self.first})")

    @property
    def months(self) -> int:
        """Number of months in the period."""
        return (self.last - self.first).n + 1

    @property
    def start(self) -> str:
        """First month as ``YYYY-MM`` (the ``start=`` of :func:`scribe_lib.load`)."""
        return str(self.first)

    @property
    def end(self) -> str:
        """Last month as ``YYYY-MM`` (the inclusive ``end=`` of :func:`scribe_lib.load`)."""
        return str(self.last)

    @property
    def start_date(self) -> pd.Timestamp:
        """First day of the period (inclusive)."""
        return self.first.start_time

    @property
    def end_date(self) -> pd.Timestamp:
        """First day after the period (exclusive)."""
        return (self.last + 1).start_time

    def shift(self, months: int) -> Period:
        """The period of the same length moved by ``months``."""
        return Period(self.first + months, self.last + months)

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return self.shift(-self.months)

    def last_year(self) -> Period:
        """The same months one year earlier."""
        return self.shift(-12)

    def contains(self, when: pd.Series) -> pd.Series:
        """Boolean mask: timestamps (e.g. ``period_start``) inside the period."""
        return (when >= self.start_date) & (when < self.end_date)

    def label(self) -> str:
        """Human label: ``June 2024`` or ``January to March 2024``."""
        if self.months == 1:
            return self.first.strftime("%B %Y")
        a = self.first.strftime("%B %Y" if self.first.year != self.last.year else "%B")
        return f"{a} to {self.last.strftime('%B %Y')}"

    def __str__(self) -> str:
        return self.start if self.months == 1 else f"{self.start}..{self.end}"


def parse_period(text: str | Period, what: str = "period") -> Period:
    """Read ``YYYY-MM`` or ``YYYY-MM..YYYY-MM`` into a :class:`Period`.

    Parameters
    ----------
    text : str or Period
        One month or an inclusive range of months.
    what : str
        Name of the parameter, used in the error message.

    Raises
    ------
    scribe_lib.ConfigError
        When the text is not a month or a range of months.
    """
    if isinstance(text, Period):
        return text
    if not isinstance(text, str):
        raise ConfigError(f"{what} must be a month written YYYY-MM, not {text!r}")
    if ".." in text:
        a, b = text.split("..", 1)
        return Period(_month(a, what), _month(b, what))
    m = _month(text, what)
    return Period(m, m)
