"""The SCRIBE taxonomy and each source's category mapping, validated on load.

The taxonomy (``scribe_lib/data/taxonomy.yml``) lists every harmonised
category. The central manager may point SCRIBE at an edited copy with the
environment variable ``SCRIBE_TAXONOMY`` or the ``path`` argument. A category
mapping (``scribe_lib/data/mappings/<source>.yml``) maps a partner's own
category text onto taxonomy keys; a target that is not in the taxonomy is a
:class:`~scribe_lib.errors.ConfigError` naming the file and the key.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from .errors import ConfigError

__all__ = [
    "Taxonomy",
    "CategoryMap",
    "load_taxonomy",
    "load_category_map",
    "builtin_mapping_path",
    "read_yaml",
    "check_categories",
    "fold",
]

_KEY = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Taxonomy:
    """Harmonised categories: ``categories[key] = {"group": ..., "label": ...}``."""

    path: str
    version: int
    groups: dict[str, str]
    categories: dict[str, dict[str, str]]

    def __contains__(self, key: object) -> bool:
        return key in self.categories

    def label(self, key: str) -> str:
        return self.categories[key]["label"]

    def group(self, key: str) -> str:
        return self.categories[key]["group"]


@dataclass(frozen=True)
class CategoryMap:
    """A source's category text -> taxonomy key, matched case- and space-insensitively."""

    path: str
    mapping: dict[str, str]

    def normalised(self) -> dict[str, str]:
        """The mapping with keys folded as :func:`fold` folds source text."""
        return {fold(k): v for k, v in self.mapping.items()}


def fold(text: str) -> str:
    """Fold category text for matching: lower case, single spaces, stripped."""
    return " ".join(str(text).lower().split())


def read_yaml(path: str | Path) -> dict:
    """Read a YAML mapping file; the top level must be a mapping."""
    path = Path(path)
    if not path.exists():
        raise ConfigError("file not found", file=str(path))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", file=str(path)) from None
    if not isinstance(data, dict):
        raise ConfigError("the top level must be a mapping of keys to values", file=str(path))
    return data


def _default_taxonomy() -> Path:
    return Path(str(resources.files("scribe_lib") / "data" / "taxonomy.yml"))


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Load and validate the taxonomy.

    Parameters
    ----------
    path : str or Path, optional
        An edited taxonomy; default ``$SCRIBE_TAXONOMY``, else the built-in one.

    Raises
    ------
    ConfigError
        Naming the file and key at fault.
    """
    path = Path(path or os.environ.get("SCRIBE_TAXONOMY") or _default_taxonomy())
    data = read_yaml(path)
    f = str(path)
    unknown = set(data) - {"version", "groups", "categories"}
    if unknown:
        raise ConfigError(
            "unknown key (allowed: version, groups, categories)", file=f, key=sorted(unknown)[0]
        )
    version = data.get("version", 1)
    if not isinstance(version, int):
        raise ConfigError(f"must be an integer, not {version!r}", file=f, key="version")
    groups = data.get("groups")
    if not isinstance(groups, dict) or not groups:
        raise ConfigError("must map group keys to labels", file=f, key="groups")
    cats = data.get("categories")
    if not isinstance(cats, dict) or not cats:
        raise ConfigError("must map category keys to {group, label}", file=f, key="categories")
    out: dict[str, dict[str, str]] = {}
    for key, spec in cats.items():
        where = f"categories.{key}"
        if not isinstance(key, str) or not _KEY.match(key):
            raise ConfigError("a category key is lower-case words joined by '-'", file=f, key=where)
        if not isinstance(spec, dict) or set(spec) != {"group", "label"}:
            raise ConfigError("must have exactly 'group' and 'label'", file=f, key=where)
        if spec["group"] not in groups:
            known = ", ".join(groups)
            raise ConfigError(
                f"unknown group {spec['group']!r} (known: {known})", file=f, key=where
            )
        if not isinstance(spec["label"], str) or not spec["label"].strip():
            raise ConfigError("label must be non-empty text", file=f, key=where)
        out[key] = {"group": spec["group"], "label": spec["label"]}
    return Taxonomy(f, version, {str(k): str(v) for k, v in groups.items()}, out)


def builtin_mapping_path(source: str) -> Path:
    """The built-in category mapping of a source (``data/mappings/<source>.yml``)."""
    return Path(str(resources.files("scribe_lib") / "data" / "mappings" / f"{source}.yml"))


def check_categories(
    categories: object, taxonomy: Taxonomy, file: str, key: str = "categories"
) -> dict[str, str]:
    """Validate a ``{source text: taxonomy key}`` block; return it as str -> str."""
    if not isinstance(categories, dict) or not categories:
        raise ConfigError("must map source category text to taxonomy keys", file=file, key=key)
    out: dict[str, str] = {}
    folded: dict[str, str] = {}
    for src, target in categories.items():
        where = f"{key}.{src}"
        if not isinstance(target, str) or target not in taxonomy:
            raise ConfigError(
                f"unknown taxonomy category {target!r} (see {taxonomy.path})", file=file, key=where
            )
        k = fold(src)
        if k in folded and folded[k] != target:
            raise ConfigError(
                f"maps to {target!r} but {folded[k]!r} is given for the same text",
                file=file,
                key=where,
            )
        folded[k] = target
        out[str(src)] = target
    return out


def load_category_map(
    source: str | None = None, path: str | Path | None = None, taxonomy: Taxonomy | None = None
) -> CategoryMap:
    """Load a source's category mapping and check every target is in the taxonomy.

    Parameters
    ----------
    source : str, optional
        A built-in source name (``police-uk``, ``fire``, ``council``).
    path : str or Path, optional
        An edited mapping file; takes precedence over ``source``.
    taxonomy : Taxonomy, optional
        Default :func:`load_taxonomy`.
    """
    if path is None and source is None:
        raise ValueError("give a source name or a mapping path")
    path = Path(path) if path is not None else builtin_mapping_path(source)
    taxonomy = taxonomy or load_taxonomy()
    data = read_yaml(path)
    unknown = set(data) - {"source", "description", "categories"}
    if unknown:
        raise ConfigError(
            "unknown key (allowed: source, description, categories)",
            file=str(path),
            key=sorted(unknown)[0],
        )
    return CategoryMap(str(path), check_categories(data.get("categories"), taxonomy, str(path)))
