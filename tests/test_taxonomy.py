"""The taxonomy and category mappings are validated on load."""

from __future__ import annotations

import pytest
import yaml

from scribe_lib.errors import ConfigError
from scribe_lib.taxonomy import builtin_mapping_path, load_category_map, load_taxonomy

BUILTIN = ("police-uk", "fire", "council")


def _write(path, data):
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def tax_dict():
    return {
        "version": 1,
        "groups": {"crime": "Recorded crime"},
        "categories": {"burglary": {"group": "crime", "label": "Burglary"}},
    }


def test_builtin_taxonomy_loads():
    tax = load_taxonomy()
    assert "burglary" in tax and "anti-social-behaviour" in tax
    assert tax.group("fly-tipping") == "environmental"
    assert tax.label("robbery") == "Robbery"


@pytest.mark.parametrize("source", BUILTIN)
def test_builtin_mappings_target_known_categories(source):
    cmap = load_category_map(source)
    tax = load_taxonomy()
    assert cmap.mapping and all(t in tax for t in cmap.mapping.values())


def test_police_mapping_covers_every_police_uk_crime_type():
    # the 14 crime types data.police.uk publishes (https://data.police.uk/about/#columns)
    types = [
        "Anti-social behaviour", "Bicycle theft", "Burglary", "Criminal damage and arson",
        "Drugs", "Other crime", "Other theft", "Possession of weapons", "Public order",
        "Robbery", "Shoplifting", "Theft from the person", "Vehicle crime",
        "Violence and sexual offences",
    ]  # fmt: skip
    assert set(types) <= set(load_category_map("police-uk").mapping)


def test_env_var_points_to_an_edited_copy(tmp_path, monkeypatch, tax_dict):
    tax_dict["categories"]["hate-crime"] = {"group": "crime", "label": "Hate crime"}
    p = _write(tmp_path / "tax.yml", tax_dict)
    monkeypatch.setenv("SCRIBE_TAXONOMY", str(p))
    tax = load_taxonomy()
    assert tax.path == str(p) and "hate-crime" in tax and "robbery" not in tax


def test_argument_beats_env(tmp_path, monkeypatch, tax_dict):
    monkeypatch.setenv("SCRIBE_TAXONOMY", str(tmp_path / "nowhere.yml"))
    p = _write(tmp_path / "tax.yml", tax_dict)
    assert list(load_taxonomy(p).categories) == ["burglary"]


@pytest.mark.parametrize(
    ("edit", "key", "message"),
    [
        (lambda d: d["categories"]["burglary"].update(group="nope"), "categories.burglary", "unknown group 'nope'"),
        (lambda d: d["categories"].update({"Bad Key": {"group": "crime", "label": "x"}}), "categories.Bad Key", "lower-case"),
        (lambda d: d["categories"]["burglary"].pop("label"), "categories.burglary", "exactly 'group' and 'label'"),
        (lambda d: d.update(colour="red"), "colour", "unknown key"),
        (lambda d: d.update(groups=[]), "groups", "must map group keys"),
    ],
)  # fmt: skip
def test_bad_taxonomy_names_file_and_key(tmp_path, tax_dict, edit, key, message):
    edit(tax_dict)
    p = _write(tmp_path / "tax.yml", tax_dict)
    with pytest.raises(ConfigError, match=message) as info:
        load_taxonomy(p)
    assert info.value.file == str(p) and info.value.key == key
    assert str(p) in str(info.value) and repr(key) in str(info.value)


def test_mapping_with_unknown_target_names_file_and_key(tmp_path):
    p = _write(
        tmp_path / "police.yml", {"categories": {"Burglary": "burglary", "Drugs": "narcotics"}}
    )
    with pytest.raises(
        ConfigError,
        match=r"police.yml: key 'categories.Drugs': unknown taxonomy category 'narcotics'",
    ):
        load_category_map(path=p)


def test_mapping_checked_against_edited_taxonomy(tmp_path, tax_dict):
    tax = load_taxonomy(_write(tmp_path / "tax.yml", tax_dict))
    with pytest.raises(ConfigError, match="unknown taxonomy category 'anti-social-behaviour'"):
        load_category_map("police-uk", taxonomy=tax)


def test_mapping_conflicting_case_variants(tmp_path):
    p = _write(tmp_path / "m.yml", {"categories": {"Drugs": "drugs", "DRUGS": "robbery"}})
    with pytest.raises(ConfigError, match="categories.DRUGS"):
        load_category_map(path=p)


def test_broken_yaml_and_missing_file(tmp_path):
    p = tmp_path / "bad.yml"
    p.write_text("categories: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="bad.yml: not valid YAML"):
        load_taxonomy(p)
    with pytest.raises(ConfigError, match="missing.yml: file not found"):
        load_category_map(path=tmp_path / "missing.yml")


def test_builtin_mapping_path_is_packaged():
    assert builtin_mapping_path("police-uk").exists()
