"""Partner source adapters, found by name through :data:`SOURCES`.

>>> from scribe_lib.sources import SOURCES
>>> SOURCES.names()
['council', 'fire', 'mapping', 'police-uk']
"""

from __future__ import annotations

from ..registry import Registry
from .base import Chunk, Source
from .council import Council
from .fire import Fire
from .mapping import MappingSource
from .police_uk import PoliceUK

__all__ = ["SOURCES", "Chunk", "Source", "PoliceUK", "Fire", "Council", "MappingSource"]

#: name -> adapter class; ``SOURCES.get(name)(partner=..., area=..., mapping=...)``.
SOURCES: Registry[type[Source]] = Registry("source")
for _cls in (PoliceUK, Fire, Council, MappingSource):
    SOURCES.add(_cls.name, _cls)
