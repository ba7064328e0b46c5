"""How a Jupyter server serves the apps: SCRIBE's Voila template and settings.

The hub's spawner passes every user server's environment through :func:`server_env`, so
Voila (a server extension there) finds ``templates/voila/templates/scribe`` (branding,
the app gallery, no CDN: not even MathJax's) and ``templates/voila/config/voila.json``
(``VoilaConfiguration``, which Voila reads from every Jupyter config path).
A plain ``voila`` process gets the same with ``--template=scribe`` and ``JUPYTER_PATH``
(see :class:`scribe_lib.apps.testing.VoilaServer`).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["server_env", "TEMPLATES", "VOILA_CONFIG"]

_REPO = Path(__file__).resolve().parents[2]
#: a Jupyter data directory holding ``voila/templates/scribe``.
TEMPLATES = _REPO / "templates"
#: a Jupyter config directory holding ``voila.json``.
VOILA_CONFIG = _REPO / "templates" / "voila" / "config"


def _prepend(value: str | None, path: Path) -> str:
    parts = [str(path), *[p for p in (value or "").split(os.pathsep) if p and p != str(path)]]
    return os.pathsep.join(parts)


def server_env(env: dict[str, str]) -> dict[str, str]:
    """Add SCRIBE's Voila template and configuration to a server's environment.

    Parameters
    ----------
    env : dict
        The environment of a Jupyter server (changed in place and returned).

    Returns
    -------
    dict
        ``env`` with ``JUPYTER_PATH`` and ``JUPYTER_CONFIG_PATH`` extended.
    """
    env["JUPYTER_PATH"] = _prepend(env.get("JUPYTER_PATH"), TEMPLATES)
    env["JUPYTER_CONFIG_PATH"] = _prepend(env.get("JUPYTER_CONFIG_PATH"), VOILA_CONFIG)
    return env
