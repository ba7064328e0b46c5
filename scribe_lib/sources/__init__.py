"""Partner source adapters, found by name through :data:`SOURCES`.

>>> from scribe_lib.sources import SOURCES
>>> SOURCES.names()  # doctest: +ELLIPSIS
[...'police-uk'...]
"""

from __future__ import annotations

from ..registry import Registry
from .base import Chunk, Source
from .police_uk import PoliceUK

__all__ = ["SOURCES", "Chunk", "Source"]

#: name -> adapter class; ``SOURCES.get(name)(partner=..., area=..., mapping=...)``.
SOURCES: Registry[type[Source]] = Registry("source")
SOURCES.add(PoliceUK.name, PoliceUK)
