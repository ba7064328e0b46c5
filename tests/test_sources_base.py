"""Adapter plumbing: JSON attributes against the json module as the reference."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from scribe_lib.sources.base import json_attributes

ODD = [
    "",
    "plain",
    'quote "q"',
    "back\\slash",
    "new\nline",
    "tab\there",
    "cr\r",
    "bell\x07",
    "nul\x00",
    "£ é 😀",
    "</script>",
]


@pytest.mark.parametrize("n", [5, 200, 2000])
@pytest.mark.parametrize("distinct", [3, 10_000])
def test_json_attributes_round_trip(n, distinct):
    rng = np.random.default_rng(n + distinct)
    pool = [
        ODD[i % len(ODD)] + (str(i) if i >= len(ODD) else "") for i in range(min(distinct, 10_000))
    ]
    df = pd.DataFrame(
        {
            'Col "A"': pd.array(rng.choice(pool, n), dtype="string"),
            "Second": pd.array(rng.choice(ODD, n), dtype="string"),
        },
        index=np.arange(100, 100 + n),
    )
    before = df.copy()
    out = json_attributes(df)
    assert out.index.equals(df.index) and out.notna().all()
    assert [json.loads(t) for t in out] == [
        {'Col "A"': a, "Second": b} for a, b in zip(df['Col "A"'], df["Second"], strict=True)
    ]
    pd.testing.assert_frame_equal(df, before)  # the caller's frame is not touched


def test_json_attributes_missing_values_become_empty_text_and_no_columns():
    df = pd.DataFrame({"a": pd.array([None, "x"], dtype="string")})
    assert json_attributes(df).tolist() == ['{"a":""}', '{"a":"x"}']
    assert json_attributes(df[[]]).tolist() == ["{}", "{}"]
