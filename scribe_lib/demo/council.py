"""Write demo events as council ASB / environmental case logs, one file per council.

Each council exports differently, as real ones do: Luton in Windows-1252 with CRLF line
ends (descriptions with "£" and "é"), Bedford in UTF-8 with a byte-order mark, Central
Bedfordshire in UTF-8 with most cases located by postcode only (a few postcodes are not
in the lookup). A handful of deliberately bad rows (:data:`BAD_ROWS`) are spliced in so
the quarantine shows something real; :func:`council_text` reports where they went.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["COUNCIL_COLUMNS", "CouncilFormat", "FORMATS", "BAD_ROWS", "council_text"]

COUNCIL_COLUMNS = [
    "Case Ref", "Date Received", "Time Received", "Category", "Sub Category", "Postcode",
    "Easting", "Northing", "Ward", "Description", "Status",
]  # fmt: skip


@dataclass(frozen=True)
class CouncilFormat:
    """How one council's system exports its case log."""

    filename: str
    encoding: str
    newline: str
    postcode_only: float  # share of cases located by postcode alone
    unknown_postcode: float  # share of those whose postcode is not in the lookup
    ref: str  # Case Ref pattern: {yy} {yyyy} {seq}


FORMATS = {
    "luton-council": CouncilFormat("luton-council-asb-environmental-cases.csv", "cp1252", "\r\n", 0.15, 0.0, "ASB/{yy}/{seq:05d}"),
    "bedford-council": CouncilFormat("bedford-council-asb-cases.csv", "utf-8-sig", "\n", 0.30, 0.0, "BBC{yyyy}{seq:05d}"),
    "central-bedfordshire-council": CouncilFormat("central-bedfordshire-council-cases.csv", "utf-8", "\n", 0.65, 0.04, "CBC-{yyyy}-{seq:06d}"),
}  # fmt: skip

#: council -> [(field, bad value, expected quarantine reason (prefix))].
BAD_ROWS = {
    "luton-council": [
        ("Date Received", "31/02/2025", "unparseable date"),
        ("Category", "Pest Control", "category with no mapping"),
        ("Easting", ("51O234", "221400"), "non-numeric coordinate"),
    ],
    "bedford-council": [
        ("Date Received", "15/06/2052", "date in the future"),
        ("Easting", ("484500", "262000"), "outside the partnership area"),
        (
            "Description",
            "Loud music, shouting and banging",
            "malformed CSV line: expected 11 fields, found 12",
        ),
    ],
    "central-bedfordshire-council": [
        ("Date Received", "", "date is empty"),
        (
            "Easting",
            ("-0.2291", "52.0170"),
            "latitude/longitude degrees in easting/northing columns",
        ),
        ("Easting", ("5.21E+05", "236600"), "value mangled by Excel into scientific notation"),
    ],
}

_SUB = {
    "Noise": ["Amplified music", "Barking dog", "Shouting/Banging", "Alarm", "Party"],
    "Fly-tipping": ["Black bags", "Household waste", "White goods", "Builders rubble", "Tyres", "Mattress"],
    "Graffiti": ["Tagging", "Offensive graffiti", "Graffiti on public property"],
    "Nuisance Behaviour": ["Youths causing annoyance", "Street drinking", "Rowdy behaviour", "Drug use"],
    "Neighbour Dispute": ["Boundary dispute", "Harassment", "Parking dispute"],
    "Abandoned Vehicle": ["Untaxed vehicle", "Burnt out vehicle", "Vehicle on verge"],
    "Dog Fouling": ["Footpath", "Play area", "Park"],
    "Littering": ["Street litter", "Cigarette ends", "Littering from vehicle"],
}  # fmt: skip
_DESC = {
    "Noise": ["Loud music from neighbouring flat most evenings", "Dog barking for hours while owners out", "Banging and shouting late at night, caller cannot sleep"],
    "Fly-tipping": ["{sub} dumped by the garages", "{sub} left in layby overnight", "Pile of {sub_l} behind the shops"],
    "Graffiti": ["{sub} on bus shelter", "Tags sprayed on wall of community centre", "{sub} on underpass"],
    "Nuisance Behaviour": ["Group of youths on bikes intimidating shoppers", "Street drinking near benches, litter left", "Youths climbing on roofs and throwing stones"],
    "Neighbour Dispute": ["Ongoing dispute over shared drive", "Neighbour reports verbal abuse over the fence"],
    "Abandoned Vehicle": ["Car with flat tyres not moved for weeks", "Vehicle with no plates parked on verge"],
    "Dog Fouling": ["Dog fouling on path to school", "Owner seen not clearing up after dog"],
    "Littering": ["Litter dropped outside takeaway", "Fast food litter thrown from car"],
}  # fmt: skip
#: Luton's cp1252 export: descriptions with "£" and "é" for these categories.
_LUTON_EXTRA = {
    "Fly-tipping": [
        "Rubbish dumped behind the café on the corner",
        "FPN issued - £400 fixed penalty",
    ],
    "Littering": ["Litter outside the café, owner warned", "FPN issued - £150 fixed penalty"],
    "Dog Fouling": ["Warning letter sent; £100 FPN if repeated"],
}


def _status(rng, when: pd.Series, end: pd.Timestamp) -> np.ndarray:
    age = (end - when).dt.days.to_numpy()
    closed = rng.choice(
        [
            "Closed",
            "Closed - No Further Action",
            "Closed - Warning Letter Issued",
            "Referred to Police",
        ],
        len(age),
        p=[0.6, 0.2, 0.15, 0.05],
    )
    return np.where(rng.uniform(size=len(age)) < np.exp(-age / 20), "Open", closed)


def _good_rows(ev, streets, fmt: CouncilFormat, partner: str, end, rng) -> pd.DataFrame:
    s = streets.loc[ev["street_id"].to_numpy()].reset_index(drop=True)
    when = pd.DatetimeIndex(ev["when"])
    n = len(ev)
    cat = ev["category"].to_numpy()
    sub = np.array([rng.choice(_SUB[c]) for c in cat], dtype=object)
    desc = [
        str(rng.choice(_DESC[c])).format(sub=sb, sub_l=sb.lower())
        for c, sb in zip(cat, sub, strict=True)
    ]
    if partner == "luton-council":  # the cp1252 export: £ and é in some descriptions
        pick = np.flatnonzero((rng.uniform(size=n) < 0.15) & np.isin(cat, list(_LUTON_EXTRA)))
        for i in pick:
            desc[i] = str(rng.choice(_LUTON_EXTRA[cat[i]]))
    pc_only = rng.uniform(size=n) < fmt.postcode_only
    x = np.round(s["easting"].to_numpy() + rng.normal(0, 25, n)).astype(int).astype(str)
    y = np.round(s["northing"].to_numpy() + rng.normal(0, 25, n)).astype(int).astype(str)
    postcode = s["postcode"].to_numpy().astype(object)
    postcode[~pc_only & (rng.uniform(size=n) < 0.3)] = ""  # located cases often lack it
    unknown = pc_only & (rng.uniform(size=n) < fmt.unknown_postcode)
    postcode[unknown] = [
        p.split(" ")[0] + " 0ZZ" for p in postcode[unknown]
    ]  # sector 0: not in lookup
    time = when.strftime("%H:%M").to_numpy().astype(object)
    time[rng.uniform(size=n) < 0.2] = ""
    seq = pd.Series(when.year).groupby(when.year).cumcount().to_numpy() + 1
    refs = [
        fmt.ref.format(yy=f"{y % 100:02d}", yyyy=y, seq=q)
        for y, q in zip(when.year, seq, strict=True)
    ]
    return pd.DataFrame(
        {
            "Case Ref": refs,
            "Date Received": when.strftime("%d/%m/%Y"),
            "Time Received": time,
            "Category": cat,
            "Sub Category": sub,
            "Postcode": postcode,
            "Easting": np.where(pc_only, "", x),
            "Northing": np.where(pc_only, "", y),
            "Ward": s["ward_name"].to_numpy(),
            "Description": desc,
            "Status": _status(rng, pd.Series(ev["when"].to_numpy()), end),
        }
    )


def _line(values: list[str], quote: bool = True) -> str:
    if not quote:
        return ",".join(values)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(values)
    return buf.getvalue()


def council_text(ev, streets, partner: str, end: pd.Timestamp, rng) -> tuple[str, list[dict]]:
    """The case log of one council as text, and where its bad rows went.

    Returns
    -------
    text : str
        The CSV text, with the council's line ends (encode it with ``FORMATS[partner]``).
    bad : list of dict
        ``line`` (physical, header = 1), ``field``, ``value`` and expected ``reason`` of
        each deliberately bad row.
    """
    fmt = FORMATS[partner]
    ev = ev.sort_values("when", kind="stable").reset_index(drop=True)
    good = _good_rows(ev, streets, fmt, partner, end, rng)
    lines = [_line(COUNCIL_COLUMNS)] + [_line(list(r)) for r in good.itertuples(index=False)]
    bad = []
    spots = np.sort(rng.integers(1, len(lines) + 1, len(BAD_ROWS[partner])))  # insert before
    for k, ((field, value, reason), at) in enumerate(zip(BAD_ROWS[partner], spots, strict=True)):
        row = dict(zip(COUNCIL_COLUMNS, good.iloc[(at - 1) % len(good)], strict=True))
        if isinstance(value, tuple):
            row["Easting"], row["Northing"] = value
        else:
            row[field] = value
        quoted = not reason.startswith("malformed")
        lines.insert(at + k, _line(list(row.values()), quote=quoted))
        bad.append({"line": int(at + k + 1), "field": field, "value": row[field], "reason": reason})
    return fmt.newline.join(lines) + fmt.newline, bad
