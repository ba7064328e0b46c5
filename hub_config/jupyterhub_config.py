"""JupyterHub configuration of the SCRIBE hub on one machine.

Thin on purpose: everything is built from ``scribe_lib.hub.settings.HubSettings``
(read from ``SCRIBE_HUB_*`` variables, set by ``scribe hub``), the same settings
that generate ``hub_config/k8s/values.yaml``, so the two deployments cannot drift.

Run with ``scribe hub`` (which checks PostgreSQL, the demo data and the proxy
first), or directly: ``jupyterhub -f hub_config/jupyterhub_config.py``.
"""

from scribe_lib.hub.config import configure

configure(c)  # noqa: F821 - `c` is given by JupyterHub
