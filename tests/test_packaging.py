"""environment.yml (conda) lists the same packages and version bounds as pyproject.toml."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
#: conda-only entries with no pyproject.toml counterpart.
CONDA_ONLY = {"python", "pip"}


def _split(req: str) -> tuple[str, str]:
    """``"psycopg[binary] >= 3.1"`` -> ``("psycopg", ">=3.1")`` (PEP 503 name, specifier)."""
    m = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$", req)
    if not m:
        raise ValueError(f"cannot read requirement {req!r}")
    name = re.sub(r"[-_.]+", "-", m.group(1)).lower()
    spec = re.sub(r"\s+", "", m.group(3).split(";")[0])
    return name, spec


def pyproject_requirements(path: Path = ROOT / "pyproject.toml") -> dict[str, str]:
    project = tomllib.loads(path.read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        reqs += extra
    return dict(_split(r) for r in reqs)


def environment_requirements(path: Path = ROOT / "environment.yml") -> dict[str, str]:
    deps = yaml.safe_load(path.read_text())["dependencies"]
    reqs = []
    for dep in deps:
        if isinstance(dep, dict):
            reqs += [r for r in dep.get("pip", []) if not r.startswith(("-", "."))]
        else:
            reqs.append(dep)
    return {n: s for n, s in map(_split, reqs) if n not in CONDA_ONLY}


def test_environment_yml_lists_the_same_packages_as_pyproject():
    py, env = pyproject_requirements(), environment_requirements()
    assert sorted(set(py) - set(env)) == [], "in pyproject.toml but not in environment.yml"
    assert sorted(set(env) - set(py)) == [], "in environment.yml but not in pyproject.toml"


def test_environment_yml_has_the_same_version_bounds():
    py, env = pyproject_requirements(), environment_requirements()
    differ = {n: (py[n], env[n]) for n in py if n in env and py[n] != env[n]}
    assert differ == {}


def test_environment_yml_is_a_conda_environment():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["name"] == "scribe" and env["channels"] == ["conda-forge"]
    assert "python>=3.11" in env["dependencies"]


def test_the_checker_catches_a_drift(tmp_path):
    (tmp_path / "environment.yml").write_text(
        "name: scribe\nchannels: [conda-forge]\ndependencies:\n"
        "  - python>=3.11\n  - Py_YAML>=5\n  - pip:\n      - psycopg[binary] >= 3.1\n"
    )
    env = environment_requirements(tmp_path / "environment.yml")
    assert env == {"py-yaml": ">=5", "psycopg": ">=3.1"}
    with pytest.raises(ValueError, match="cannot read requirement"):
        _split("[binary]")
