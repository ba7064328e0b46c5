"""Harm weights (scribe_lib.stats.harm): the built-in table and partnership files."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import yaml
from shapely.geometry import Point

from scribe_lib.errors import ConfigError
from scribe_lib.stats import count_in_grid, harm_values, load_harm_weights, make_grid

TAXONOMY = Path(__file__).parents[1] / "scribe_lib" / "data" / "taxonomy.yml"


def taxonomy_keys():
    with open(TAXONOMY, encoding="utf-8") as f:
        return set(yaml.safe_load(f)["categories"])


def write(tmp_path, weights):
    p = tmp_path / "harm.yml"
    p.write_text(yaml.safe_dump({"version": 1, "weights": weights}), encoding="utf-8")
    return p


def test_builtin_table_covers_every_taxonomy_category_with_a_sensible_order():
    w = load_harm_weights()
    assert set(w) == taxonomy_keys()
    assert all(v >= 0 for v in w.values())
    # the CCHI / ONS CSS ordering the table claims to keep
    assert w["robbery"] > w["burglary"] > w["vehicle-crime"] > w["shoplifting"]
    assert w["violence-and-sexual-offences"] > w["public-order"] > w["anti-social-behaviour"]
    assert w["deliberate-primary-fire"] > w["deliberate-secondary-fire"] > w["fire-false-alarm"]


def test_a_partnership_file_is_read(tmp_path):
    weights = {k: 1.0 for k in taxonomy_keys()} | {"burglary": 400}
    assert load_harm_weights(write(tmp_path, weights))["burglary"] == 400.0


def test_unknown_category_names_the_file_and_the_key(tmp_path):
    weights = {k: 1.0 for k in taxonomy_keys()} | {"burglery": 5}
    path = write(tmp_path, weights)
    with pytest.raises(ConfigError, match=rf"{path}: key 'weights.burglery': 'burglery' is not"):
        load_harm_weights(path)


@pytest.mark.parametrize(
    ("value", "message"), [("high", "weight must be a number"), (-2, "weight must not be negative")]
)
def test_bad_weights(tmp_path, value, message):
    weights = {k: 1.0 for k in taxonomy_keys()} | {"robbery": value}
    with pytest.raises(ConfigError, match=rf"key 'weights.robbery': {message}"):
        load_harm_weights(write(tmp_path, weights))


def test_missing_category_and_bad_files(tmp_path):
    weights = {k: 1.0 for k in taxonomy_keys() if k != "graffiti"}
    with pytest.raises(ConfigError, match="no weight for taxonomy category graffiti"):
        load_harm_weights(write(tmp_path, weights))
    with pytest.raises(ConfigError, match="cannot read harm weights"):
        load_harm_weights(tmp_path / "absent.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("weights: [1, 2]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="expected a mapping 'weights: {category: weight}'"):
        load_harm_weights(bad)


def test_harm_values_per_incident_and_in_grid_counts():
    inc = gpd.GeoDataFrame(
        {"category": ["robbery", "shoplifting", "robbery"]},
        geometry=[Point(500_010, 200_010), Point(500_020, 200_020), None],
        crs="EPSG:27700",
    )
    w = load_harm_weights()
    vals = harm_values(inc)
    assert vals.tolist() == [w["robbery"], w["shoplifting"], w["robbery"]]
    g = count_in_grid(inc, make_grid(inc, cell=100), harm=True)
    assert g.harm.sum() == pytest.approx(w["robbery"] + w["shoplifting"], abs=1e-9)
    with pytest.raises(ValueError, match="no harm weight for 1 incident"):
        harm_values(inc, {"robbery": 1.0})
