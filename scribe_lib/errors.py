"""One exception hierarchy for SCRIBE.

Every error a user can cause derives from :class:`ScribeError`. Errors about a
particular input name the file, line, field and value so the partner can fix
the source without guessing.
"""

from __future__ import annotations

__all__ = [
    "ScribeError",
    "ConfigError",
    "SourceError",
    "StoreError",
    "NotFoundError",
    "AccessError",
]


class ScribeError(Exception):
    """Base class of every SCRIBE error."""


class ConfigError(ScribeError):
    """A YAML configuration file (taxonomy, mapping, agreement...) is invalid."""

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None):
        self.file = file
        self.key = key
        where = []
        if file:
            where.append(str(file))
        if key:
            where.append(f"key {key!r}")
        super().__init__(f"{': '.join(where)}: {message}" if where else message)


class SourceError(ScribeError):
    """A whole partner file cannot be read (missing columns, empty file...).

    Row-level problems never raise: they go to quarantine.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
        value: object = None,
    ):
        self.file = file
        self.line = line
        self.field = field
        self.value = value
        parts = []
        if file is not None:
            parts.append(f"{file}")
        if line is not None:
            parts.append(f"line {line}")
        if field is not None:
            parts.append(f"field {field!r}")
        if value is not None:
            parts.append(f"value {value!r}")
        prefix = ", ".join(parts)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class StoreError(ScribeError):
    """The store cannot be opened or a write failed (and was rolled back)."""


class NotFoundError(ScribeError, KeyError):
    """A name looked up in a registry (source, store, locality...) is unknown."""

    def __str__(self) -> str:  # KeyError quotes its message; we do not want that
        return str(self.args[0]) if self.args else ""


class AccessError(ScribeError):
    """The data-sharing agreement does not allow this."""
