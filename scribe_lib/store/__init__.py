"""Stores: the embedded DuckDB file and PostgreSQL + PostGIS, behind one interface.

>>> from scribe_lib.store import open_store
>>> store = open_store(":memory:")
>>> store.backend
'duckdb'
>>> store.close()
"""

from __future__ import annotations

import os
from importlib import import_module

from ..registry import Registry
from .base import Store

__all__ = ["STORES", "Store", "open_store", "store_kind", "DEFAULT_STORE"]

#: where the store is when neither ``url`` nor ``$SCRIBE_STORE`` says.
DEFAULT_STORE = "scribe.duckdb"

#: backend name -> "module:Class" (imported on first use, so psycopg loads only when needed).
STORES: Registry[str] = Registry("store")
STORES.add("duckdb", "scribe_lib.store.duckdb_store:DuckDBStore")
STORES.add("postgres", "scribe_lib.store.postgres:PostgresStore")


def store_kind(url: str) -> str:
    """The backend name for a store URL: ``postgres`` for postgresql:// URLs, else ``duckdb``."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgres"
    if "://" in url and not url.startswith("duckdb://"):
        scheme = url.split("://", 1)[0]
        STORES.get(scheme)  # raises NotFoundError listing the known stores
    return "duckdb"


def open_store(url: str | Store | None = None, *, read_only: bool = False) -> Store:
    """Open (and on first use create) a SCRIBE store.

    Parameters
    ----------
    url : str or Store, optional
        A file path (embedded DuckDB store), ``:memory:``, or a ``postgresql://`` URL.
        ``None`` means ``$SCRIBE_STORE``, else ``./scribe.duckdb``. A Store is returned as is.
    read_only : bool
        Open without the right to write (DuckDB: lets many processes read one file).

    Returns
    -------
    Store

    Examples
    --------
    >>> store = open_store(":memory:")
    >>> int(store.count_incidents())
    0
    >>> store.close()
    """
    if isinstance(url, Store):
        return url
    url = url or os.environ.get("SCRIBE_STORE") or DEFAULT_STORE
    url = os.fspath(url)
    module, _, cls = STORES.get(store_kind(url)).partition(":")
    return getattr(import_module(module), cls)(url, read_only=read_only)
