"""Volumes and rhythms of the demo: what each partner records, how often, when and where.

Monthly volumes are at ``scale = 1`` (about 70,000 incidents over 24 months in all: police
crime and ASB about 50,000, fire about 8,000, the three councils about 12,500), loosely
in line with published Bedfordshire figures. Profiles are relative weights, normalised
where they are used.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "Stream",
    "Hotspot",
    "STREAMS",
    "HOTSPOTS",
    "SEASON",
    "WEEKDAY",
    "HOUR",
    "COUNCILS",
    "COUNCIL_CATEGORIES",
]

#: month-of-year weights (Jan..Dec).
SEASON = {
    "flat": [1.0] * 12,
    "asb": [0.82, 0.84, 0.95, 1.02, 1.1, 1.15, 1.28, 1.22, 1.0, 1.04, 0.95, 0.8],
    "violence": [0.93, 0.88, 0.97, 1.0, 1.06, 1.07, 1.1, 1.05, 0.98, 0.98, 0.95, 1.05],
    "burglary": [1.15, 1.05, 0.95, 0.9, 0.85, 0.85, 0.9, 0.9, 0.95, 1.1, 1.2, 1.2],
    "shoplifting": [1.0, 0.95, 1.0, 0.95, 1.0, 0.95, 1.0, 1.0, 0.95, 1.0, 1.1, 1.2],
    "secondary_fire": [0.55, 0.7, 1.25, 1.7, 1.5, 1.3, 1.45, 1.35, 0.9, 0.8, 1.1, 0.55],
    "chimney": [2.2, 1.8, 1.2, 0.6, 0.3, 0.1, 0.1, 0.1, 0.3, 0.8, 1.6, 2.3],
    "noise": [0.85, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.25, 1.0, 0.95, 0.85, 0.8],
    "flytipping": [0.9, 0.85, 1.0, 1.1, 1.1, 1.05, 1.05, 1.05, 1.0, 1.0, 0.95, 0.9],
}

#: day-of-week weights (Mon..Sun).
WEEKDAY = {
    "flat": [1.0] * 7,
    "weekday": [1.1, 1.1, 1.1, 1.1, 1.05, 0.8, 0.75],
    "weekend": [0.8, 0.8, 0.85, 0.95, 1.3, 1.5, 0.9],
    "nte": [0.45, 0.45, 0.55, 0.8, 1.8, 2.3, 0.65],
}


def _hours(*peaks: tuple[float, float, float], floor: float = 0.15) -> list[float]:
    """Hour-of-day weights: a floor plus circular Gaussian peaks (hour, spread, height)."""
    h = np.arange(24)
    w = np.full(24, floor)
    for centre, spread, height in peaks:
        d = np.minimum(np.abs(h - centre), 24 - np.abs(h - centre))
        w += height * np.exp(-0.5 * (d / spread) ** 2)
    return list(w)


HOUR = {
    "flat": [1.0] * 24,
    "day": _hours((12, 3.5, 1.0)),
    "evening": _hours((20, 3.0, 1.0), (16, 2.0, 0.4)),
    "night": _hours((0, 2.2, 1.0), (22, 1.5, 0.4), floor=0.05),
    "afa": _hours((11, 4.0, 1.0), floor=0.35),
}


@dataclass(frozen=True)
class Stream:
    """One kind of incident from one partner with its monthly volume and rhythms."""

    key: str
    source: str  # police-uk | fire | council
    category: str  # the partner's own category text
    monthly: float  # at scale 1
    season: str = "flat"
    weekday: str = "flat"
    hour: str = "flat"
    rural: float = 1.0  # multiplier on village points
    boosts: dict = field(default_factory=dict)  # street name -> weight multiplier
    growth: float = 0.0  # yearly change, e.g. 0.12 = +12 % a year


def _police(cat, monthly, **kw) -> Stream:
    return Stream(f"police:{cat}", "police-uk", cat, monthly, **kw)


def _fire(stop, monthly, **kw) -> Stream:
    return Stream(f"fire:{stop}", "fire", stop, monthly, **kw)


_SHOPS = {"Supermarket": 12, "Shopping Area": 10, "Market Square": 5, "High Street": 3}

STREAMS: tuple[Stream, ...] = (
    _police("Violence and sexual offences", 610, season="violence", weekday="weekend", rural=0.6),
    _police("Public order", 150, season="violence", weekday="weekend", rural=0.5),
    _police("Criminal damage and arson", 170, season="asb", rural=0.9),
    _police("Shoplifting", 140, season="shoplifting", weekday="weekday", rural=0.05, boosts=_SHOPS, growth=0.12),
    _police("Other theft", 130, rural=0.9, boosts={"Hospital": 4, "Sports/Recreation Area": 3}),
    _police("Vehicle crime", 130, season="burglary", rural=1.0, boosts={"Parking Area": 8}),
    _police("Burglary", 100, season="burglary", rural=1.3, growth=-0.05),
    _police("Drugs", 45, rural=0.3),
    _police("Other crime", 50, rural=0.8),
    _police("Theft from the person", 25, rural=0.1, boosts=_SHOPS),
    _police("Bicycle theft", 25, season="asb", rural=0.3, boosts={"Further/Higher Educational Building": 6}),
    _police("Robbery", 25, rural=0.2),
    _police("Possession of weapons", 18, rural=0.3),
    _police("Anti-social behaviour", 450, season="asb", weekday="weekend", rural=0.8, growth=-0.04),
    _fire("Primary Fire", 45, season="flat", hour="evening", rural=1.5),
    _fire("Secondary Fire", 55, season="secondary_fire", weekday="weekend", hour="evening", rural=2.5),
    _fire("Chimney Fire", 4, season="chimney", hour="evening", rural=3.0),
    _fire("AFA", 110, weekday="weekday", hour="afa", rural=0.5, boosts={"Hospital": 10, "Further/Higher Educational Building": 6}),
    _fire("False alarm - Good intent", 45, hour="day", rural=1.2),
    _fire("False alarm - Malicious", 8, weekday="weekend", hour="evening", rural=0.3),
    _fire("Special Service", 65, hour="day", rural=1.8),
)  # fmt: skip

#: council partner -> (district of the street points it covers, monthly volume).
COUNCILS = {
    "luton-council": ("Luton", 220.0),
    "bedford-council": ("Bedford", 150.0),
    "central-bedfordshire-council": ("Central Bedfordshire", 160.0),
}
#: council category -> (share, season, weekday, hour, rural multiplier).
COUNCIL_CATEGORIES = {
    "Noise": (0.30, "noise", "weekend", "night", 0.6),
    "Fly-tipping": (0.25, "flytipping", "flat", "day", 4.0),
    "Nuisance Behaviour": (0.12, "asb", "weekend", "evening", 0.6),
    "Neighbour Dispute": (0.08, "flat", "flat", "evening", 0.8),
    "Graffiti": (0.06, "asb", "flat", "day", 0.3),
    "Abandoned Vehicle": (0.06, "flat", "weekday", "day", 1.2),
    "Dog Fouling": (0.06, "flat", "weekday", "day", 1.0),
    "Littering": (0.07, "asb", "flat", "day", 0.8),
}

STREAMS = STREAMS + tuple(
    Stream(f"council:{p}:{cat}", "council", cat, vol * share, season, wd, hr, rural)
    for p, (_, vol) in COUNCILS.items()
    for cat, (share, season, wd, hr, rural) in COUNCIL_CATEGORIES.items()
)


@dataclass(frozen=True)
class Hotspot:
    """A planted hotspot: extra incidents at its street points (``HOTSPOT_POINTS``)."""

    key: str
    streams: dict  # stream key -> monthly volume at scale 1
    weekday: str = "flat"
    hour: str = "flat"
    last_months: int | None = None  # emerging: only the last N months, ramping up
    reduce_from: str | None = None  # "YYYY-MM": a response starts, volume falls
    reduce_by: float = 0.0


HOTSPOTS: tuple[Hotspot, ...] = (
    Hotspot(
        "luton-nte",
        {
            "police:Violence and sexual offences": 32, "police:Public order": 12,
            "police:Anti-social behaviour": 14, "police:Drugs": 5, "police:Theft from the person": 5,
            "council:luton-council:Noise": 4, "council:luton-council:Nuisance Behaviour": 6,
        },
        weekday="nte", hour="night",
    ),
    Hotspot(
        "bedford-bus-station",
        {
            "police:Anti-social behaviour": 14, "police:Violence and sexual offences": 8,
            "police:Drugs": 6, "police:Theft from the person": 3, "police:Robbery": 2,
            "council:bedford-council:Nuisance Behaviour": 5,
        },
        weekday="weekday", hour="evening", reduce_from="2025-03", reduce_by=0.35,
    ),
    Hotspot(
        "leighton-flytipping",
        {"council:central-bedfordshire-council:Fly-tipping": 10},
        hour="day",
    ),
    Hotspot(
        "stotfold-emerging",
        {
            "police:Anti-social behaviour": 12, "police:Criminal damage and arson": 5,
            "police:Public order": 2, "council:central-bedfordshire-council:Nuisance Behaviour": 4,
            "council:central-bedfordshire-council:Graffiti": 2, "fire:Secondary Fire": 2,
        },
        weekday="weekend", hour="evening", last_months=6,
    ),
)  # fmt: skip
