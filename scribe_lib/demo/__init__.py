"""The seeded Bedfordshire demo: partner files in each partner's own format, and a store.

>>> from scribe_lib.demo import build_demo, write_demo_files
>>> files = write_demo_files("demo-files", seed=2024, months=24, scale=0.05)  # doctest: +SKIP
>>> summary = build_demo("demo.duckdb")  # doctest: +SKIP

All geography here is demo geography (labelled "Demo geography - not an official
boundary"); all incidents are synthetic. See ``docs/demo.md``.
"""

from __future__ import annotations

from .build import DemoSummary, build_demo, load_demo_localities
from .generate import DEMO_END, demo_months, simulate
from .geography import (
    DEMO_LABEL,
    TOWNS,
    demo_localities,
    partnership_polygon,
    postcode_lookup_path,
    street_points,
)
from .responses import read_responses, responses_path
from .writers import MANIFEST, write_demo_files

__all__ = [
    "DEMO_END",
    "DEMO_LABEL",
    "MANIFEST",
    "TOWNS",
    "DemoSummary",
    "build_demo",
    "demo_localities",
    "demo_months",
    "load_demo_localities",
    "partnership_polygon",
    "postcode_lookup_path",
    "read_responses",
    "responses_path",
    "simulate",
    "street_points",
    "write_demo_files",
]
