"""The data-sharing agreement: who may see what, as a validated YAML model.

The agreement (``hub_config/data_sharing_agreement.yml``) says, for each
organisation of the partnership, whose data it may see, which categories,
which restricted fields, at what spatial precision, whether small counts are
suppressed in the aggregates shown to it, and how long each partner's data is
kept. :func:`load_agreement` validates it and returns an :class:`Agreement`;
:func:`scribe_lib.access.apply_agreement` turns it into PostgreSQL roles,
row-level security, column privileges and generalising views.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError

__all__ = [
    "Agreement",
    "Organisation",
    "Rule",
    "load_agreement",
    "parse_agreement",
    "BASE_FIELDS",
    "RESTRICTED_FIELDS",
    "PRECISIONS",
]

#: Columns every organisation sees for the rows it may see (location generalised).
BASE_FIELDS = (
    "incident_id",
    "partner",
    "source",
    "submission_id",
    "category",
    "occurred_at",
    "period_start",
    "period_end",
    "time_precision",
    "easting",
    "northing",
    "lon",
    "lat",
    "location_precision",
    "lsoa_code",
    "lsoa_name",
    "ward_code",
)

#: Columns shown only where a rule lists them in ``fields`` (``all`` = every one).
RESTRICTED_FIELDS = (
    "source_line",
    "source_record_id",
    "source_category",
    "location_text",
    "outcome",
    "description",
    "attributes",
)

#: exact: the point as stored; street: snapped to the centre of a grid square
#: (``street_grid_metres``); aggregate: no rows, only counts by LSOA and ward.
PRECISIONS = ("exact", "street", "aggregate")

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,35}$")
_PREFIX = re.compile(r"^[a-z][a-z0-9_]{0,19}$")


@dataclass(frozen=True)
class Rule:
    """What one organisation may see of one partner's data."""

    partner: str
    categories: tuple[str, ...] | None  # taxonomy keys; None = every category
    fields: tuple[str, ...]  # restricted fields shown
    precision: str  # exact | street | aggregate
    suppress_small_counts: bool


@dataclass(frozen=True)
class Organisation:
    """A partnership organisation and its rules, one per partner it may see."""

    name: str
    label: str
    rules: tuple[Rule, ...]

    def rule_for(self, partner: str) -> Rule | None:
        """The rule for ``partner``, or None when this organisation may not see it."""
        return next((r for r in self.rules if r.partner == partner), None)


@dataclass(frozen=True)
class Agreement:
    """A validated data-sharing agreement."""

    partnership: str
    role_prefix: str
    street_grid_metres: int
    suppress_counts_below: int
    partners: dict[str, str]  # partner -> label
    retention_months: dict[str, int]  # partner -> months kept (absent: kept)
    organisations: dict[str, Organisation]
    path: str | None = field(default=None, compare=False)


def load_agreement(path: str | Path) -> Agreement:
    """Read and validate a data-sharing agreement YAML file.

    Parameters
    ----------
    path : str or Path
        The agreement file, e.g. ``hub_config/data_sharing_agreement.yml``.

    Returns
    -------
    Agreement

    Raises
    ------
    ConfigError
        Naming the file and the key at fault when the file is missing or invalid.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the agreement: {exc.strerror}", file=str(path)) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", file=str(path)) from None
    return parse_agreement(data, file=str(path))


def parse_agreement(data: Any, *, file: str | None = None) -> Agreement:
    """Validate an agreement already parsed from YAML (a dict); see :func:`load_agreement`."""
    v = _Validator(file)
    if not isinstance(data, dict):
        raise v.error("the agreement must be a mapping", None)
    v.known_keys(
        data,
        {"version", "partnership", "role_prefix", "street_grid_metres"}
        | {"suppress_counts_below", "partners", "organisations"},
        None,
    )
    if data.get("version", 1) != 1:
        raise v.error(f"unsupported version {data.get('version')!r}; expected 1", "version")
    prefix = data.get("role_prefix", "scribe")
    if not isinstance(prefix, str) or not _PREFIX.match(prefix):
        raise v.error(
            f"{prefix!r} is not a valid role prefix (lower case letters, digits, _; "
            "at most 20 characters, starting with a letter)",
            "role_prefix",
        )
    grid = v.positive_int(data.get("street_grid_metres", 100), "street_grid_metres")
    below = v.positive_int(data.get("suppress_counts_below", 5), "suppress_counts_below")
    partners, retention = v.partners(data.get("partners"))
    orgs_raw = data.get("organisations")
    if not isinstance(orgs_raw, dict) or not orgs_raw:
        raise v.error("must map each organisation name to its access", "organisations")
    orgs = {}
    taxonomy = _taxonomy()
    for name, body in orgs_raw.items():
        orgs[name] = v.organisation(name, body, partners, taxonomy)
    return Agreement(
        partnership=str(data.get("partnership", "")),
        role_prefix=prefix,
        street_grid_metres=grid,
        suppress_counts_below=below,
        partners=partners,
        retention_months=retention,
        organisations=orgs,
        path=file,
    )


def _taxonomy() -> tuple[set[str], dict[str, set[str]]]:
    """(category keys, group -> keys) of the SCRIBE taxonomy."""
    text = resources.files("scribe_lib").joinpath("data/taxonomy.yml").read_text("utf-8")
    tax = yaml.safe_load(text)
    cats = tax.get("categories", {})
    groups: dict[str, set[str]] = {g: set() for g in tax.get("groups", {})}
    for key, spec in cats.items():
        groups.setdefault(spec.get("group"), set()).add(key)
    return set(cats), groups


class _Validator:
    def __init__(self, file: str | None):
        self.file = file

    def error(self, message: str, key: str | None) -> ConfigError:
        return ConfigError(message, file=self.file, key=key)

    def known_keys(self, mapping: dict, allowed: set[str], key: str | None) -> None:
        extra = sorted(set(map(str, mapping)) - allowed)
        if extra:
            where = f"{key}.{extra[0]}" if key else extra[0]
            raise self.error(f"unknown key; allowed: {', '.join(sorted(allowed))}", where)

    def positive_int(self, value: Any, key: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.error(f"must be a positive whole number, not {value!r}", key)
        return value

    def partners(self, raw: Any) -> tuple[dict[str, str], dict[str, int]]:
        if not isinstance(raw, dict) or not raw:
            raise self.error("must map each data-sharing partner to its label", "partners")
        labels, retention = {}, {}
        for name, body in raw.items():
            key = f"partners.{name}"
            if not isinstance(name, str) or not _NAME.match(name):
                raise self.error("partner names are lower case letters, digits and -", key)
            body = body or {}
            if not isinstance(body, dict):
                raise self.error("must be a mapping (label, retention_months)", key)
            self.known_keys(body, {"label", "retention_months"}, key)
            labels[name] = str(body.get("label", name))
            if body.get("retention_months") is not None:
                retention[name] = self.positive_int(
                    body["retention_months"], f"{key}.retention_months"
                )
        return labels, retention

    def organisation(self, name: Any, body: Any, partners: dict, taxonomy: tuple) -> Organisation:
        key = f"organisations.{name}"
        if not isinstance(name, str) or not _NAME.match(name):
            raise self.error("organisation names are lower case letters, digits and -", key)
        if not isinstance(body, dict):
            raise self.error("must be a mapping (label, suppress_small_counts, see)", key)
        self.known_keys(body, {"label", "suppress_small_counts", "see"}, key)
        suppress = body.get("suppress_small_counts", True)
        if not isinstance(suppress, bool):
            raise self.error("must be true or false", f"{key}.suppress_small_counts")
        see = body.get("see", [])
        if not isinstance(see, list):
            raise self.error("must be a list of rules", f"{key}.see")
        rules: dict[str, Rule] = {}
        for i, raw in enumerate(see):
            for rule in self.rules(raw, f"{key}.see[{i}]", partners, taxonomy, suppress):
                if rule.partner in rules:
                    raise self.error(
                        f"partner {rule.partner!r} is already covered by an earlier rule",
                        f"{key}.see[{i}].partners",
                    )
                rules[rule.partner] = rule
        return Organisation(name, str(body.get("label", name)), tuple(rules.values()))

    def rules(self, raw, key, partners, taxonomy, suppress_default) -> list[Rule]:
        if not isinstance(raw, dict):
            raise self.error("a rule is a mapping (partners, categories, fields, precision)", key)
        allowed = {"partners", "categories", "fields", "precision", "suppress_small_counts"}
        self.known_keys(raw, allowed, key)
        names = self.names(raw.get("partners"), set(partners), f"{key}.partners", "partner")
        cats = self.categories(raw.get("categories", "all"), taxonomy, f"{key}.categories")
        fields = self.names(raw.get("fields", []), set(RESTRICTED_FIELDS), f"{key}.fields", "field")
        precision = raw.get("precision")
        if precision not in PRECISIONS:
            raise self.error(
                f"{precision!r} is not a precision; use one of {', '.join(PRECISIONS)}",
                f"{key}.precision",
            )
        suppress = raw.get("suppress_small_counts", suppress_default)
        if not isinstance(suppress, bool):
            raise self.error("must be true or false", f"{key}.suppress_small_counts")
        return [Rule(p, cats, fields, precision, suppress) for p in names]

    def names(self, raw: Any, known: set[str], key: str, what: str) -> tuple[str, ...]:
        if raw == "all":
            return tuple(sorted(known))
        if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
            raise self.error(f"must be a list of {what}s or 'all'", key)
        unknown = [x for x in raw if x not in known]
        if unknown:
            raise self.error(
                f"unknown {what} {unknown[0]!r}; known {what}s: {', '.join(sorted(known))}", key
            )
        return tuple(dict.fromkeys(raw))

    def categories(self, raw: Any, taxonomy: tuple, key: str) -> tuple[str, ...] | None:
        if raw == "all":
            return None
        keys, groups = taxonomy
        if not isinstance(raw, list) or not raw or not all(isinstance(x, str) for x in raw):
            raise self.error("must be 'all' or a list of taxonomy categories or groups", key)
        out: list[str] = []
        for item in raw:
            if item in groups:
                out.extend(sorted(groups[item]))
            elif item in keys:
                out.append(item)
            else:
                raise self.error(
                    f"unknown category or group {item!r}; groups: {', '.join(sorted(groups))}",
                    key,
                )
        return tuple(dict.fromkeys(out))
