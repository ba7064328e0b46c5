"""The data-sharing agreement YAML: the demo partnership's file, and every bad input."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from scribe_lib.access import RESTRICTED_FIELDS, load_agreement, parse_agreement
from scribe_lib.commands.access import DEFAULT_AGREEMENT
from scribe_lib.errors import ConfigError

DEMO = yaml.safe_load(DEFAULT_AGREEMENT.read_text("utf-8"))


def test_demo_agreement_is_valid_and_covers_the_partnership():
    a = load_agreement(DEFAULT_AGREEMENT)
    assert set(a.partners) == {"bedfordshire-police", "bedfordshire-fire", "luton-council",
                               "bedford-council", "central-bedfordshire-council"}  # fmt: skip
    assert set(a.organisations) >= set(a.partners) | {"csp-analysts"}
    assert a.role_prefix == "scribe" and a.suppress_counts_below == 5
    assert set(a.retention_months) == set(a.partners)


def test_police_free_text_only_to_police_and_named_analysts():
    a = load_agreement(DEFAULT_AGREEMENT)
    seeing = {
        name
        for name, org in a.organisations.items()
        if (r := org.rule_for("bedfordshire-police")) and {"description", "outcome"} & set(r.fields)
    }
    assert seeing == {"bedfordshire-police", "csp-analysts"}


def test_groups_expand_to_taxonomy_keys_and_all_means_every_one():
    a = load_agreement(DEFAULT_AGREEMENT)
    luton = a.organisations["luton-council"]
    police = luton.rule_for("bedfordshire-police")
    assert "burglary" in police.categories and "anti-social-behaviour" in police.categories
    assert "fly-tipping" not in police.categories
    assert luton.rule_for("bedfordshire-fire").precision == "aggregate"
    assert luton.rule_for("bedford-council") is None
    analysts = a.organisations["csp-analysts"]
    assert {r.partner for r in analysts.rules} == set(a.partners)
    assert all(r.categories is None and r.fields == tuple(sorted(RESTRICTED_FIELDS))
               for r in analysts.rules)  # fmt: skip


def test_rule_inherits_organisation_suppression_unless_it_says():
    fire = load_agreement(DEFAULT_AGREEMENT).organisations["bedfordshire-fire"]
    assert fire.rule_for("bedfordshire-fire").suppress_small_counts is False
    assert fire.rule_for("bedfordshire-police").suppress_small_counts is True


def _bad(edit):
    data = copy.deepcopy(DEMO)
    edit(data)
    return data


def _rule(data, org="luton-council", i=1):
    return data["organisations"][org]["see"][i]


BAD = [
    (lambda d: _rule(d).update(partners=["thames-valley-police"]),
     "organisations.luton-council.see[1].partners", "unknown partner 'thames-valley-police'"),
    (lambda d: _rule(d).update(categories=["burglery"]),
     "organisations.luton-council.see[1].categories", "unknown category or group 'burglery'"),
    (lambda d: _rule(d).update(precision="postcode"),
     "organisations.luton-council.see[1].precision", "'postcode' is not a precision"),
    (lambda d: _rule(d).update(fields=["description", "victim_name"]),
     "organisations.luton-council.see[1].fields", "unknown field 'victim_name'"),
    (lambda d: _rule(d).update(colour="red"),
     "organisations.luton-council.see[1].colour", "unknown key"),
    (lambda d: _rule(d).update(partners=["luton-council"]),
     "organisations.luton-council.see[1].partners", "already covered"),
    (lambda d: _rule(d).update(suppress_small_counts="yes"),
     "organisations.luton-council.see[1].suppress_small_counts", "true or false"),
    (lambda d: d["organisations"]["luton-council"].update(see="everything"),
     "organisations.luton-council.see", "list of rules"),
    (lambda d: d["organisations"].update({"Luton Council": {"see": []}}),
     "organisations.Luton Council", "lower case"),
    (lambda d: d.update(role_prefix="Scribe-Prod"), "role_prefix", "not a valid role prefix"),
    (lambda d: d.update(suppress_counts_below=0), "suppress_counts_below", "positive whole"),
    (lambda d: d["partners"]["luton-council"].update(retention_months="7 years"),
     "partners.luton-council.retention_months", "positive whole number"),
    (lambda d: d.update(version=2), "version", "unsupported version"),
    (lambda d: d.pop("organisations"), "organisations", "must map each organisation"),
    (lambda d: d.update(partners=[]), "partners", "must map each data-sharing partner"),
]  # fmt: skip


@pytest.mark.parametrize("edit,key,message", BAD, ids=[b[1] + ":" + b[2][:20] for b in BAD])
def test_bad_agreement_names_file_and_key(tmp_path: Path, edit, key, message):
    path = tmp_path / "agreement.yml"
    path.write_text(yaml.safe_dump(_bad(edit)), encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as info:
        load_agreement(path)
    assert info.value.file == str(path) and info.value.key == key
    assert str(path) in str(info.value) and repr(key) in str(info.value)


def test_missing_and_unparsable_files(tmp_path: Path):
    with pytest.raises(ConfigError, match=r"nope\.yml: cannot read the agreement"):
        load_agreement(tmp_path / "nope.yml")
    broken = tmp_path / "broken.yml"
    broken.write_text("organisations: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"broken\.yml: not valid YAML"):
        load_agreement(broken)
    with pytest.raises(ConfigError, match="must be a mapping"):
        parse_agreement(["not", "a", "mapping"])


def test_trust_lines_in_pg_hba_are_reported():
    from scribe_lib.access.hba import trust_problems

    rules = [
        (1, "local", ["all"], ["postgres"], None, "peer"),
        (2, "local", ["all"], ["all"], None, "trust"),
        (3, "host", ["all"], ["all"], "127.0.0.1", "scram-sha-256"),
        (4, "host", ["scribe"], ["scribe_u_alice"], "10.0.0.0", "trust"),
        (5, "host", ["all"], ["backup"], "10.0.0.9", "trust"),
        (6, "host", ["all"], ["+scribe_org_luton_council"], "0.0.0.0", "trust"),
    ]
    problems = trust_problems(rules, "scribe")
    assert [p.split(" trusts")[0] for p in problems] == [
        "pg_hba.conf line 2", "pg_hba.conf line 4", "pg_hba.conf line 6"]  # fmt: skip
    assert "the local socket" in problems[0] and "host 10.0.0.0" in problems[1]
    assert all("not enforced" in p for p in problems)
    assert trust_problems(rules[:1] + rules[2:3], "scribe") == []
