"""The monthly briefing schedule (``hub_config/briefings_schedule.yml``) and where it publishes.

The schedule names the day and local time of the monthly run, the months it covers and,
for each audience organisation, the localities it receives. Briefings for an organisation
are written to ``<out>/<organisation>/<period>/``, a directory group-owned by that
organisation's Unix group with mode ``2770`` (files ``0640``): only its members can read them.
"""

from __future__ import annotations

import datetime as dt
import grp
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from ..errors import ConfigError
from .periods import Period

__all__ = ["Schedule", "ScheduledBriefing", "load_schedule", "publish_dir", "publish_file"]

_GROUP = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
DIR_MODE = 0o2770  # setgid: files inherit the organisation's group
FILE_MODE = 0o640


@dataclass(frozen=True)
class ScheduledBriefing:
    """One audience organisation and the localities it is briefed on."""

    audience: str
    localities: tuple[str, ...] | None  # None: every locality in the store
    unix_group: str
    categories: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Schedule:
    """A validated monthly schedule.

    Attributes
    ----------
    day : int
        Day of the month of the run, 1 to 28 (so that every month has it).
    time : datetime.time
        Local wall time of the run.
    timezone : str
        IANA zone of ``time`` (default ``Europe/London``).
    months : int
        How many complete months before the run month each briefing covers.
    out : pathlib.Path
        Root directory; one subdirectory per organisation.
    """

    day: int
    time: dt.time
    timezone: str
    months: int
    out: Path
    briefings: tuple[ScheduledBriefing, ...]
    store: str | None = None
    jobs: int | None = None
    sync_unix_groups: bool = True
    catch_up: bool = False
    responses: str | None = None
    file: str | None = field(default=None, compare=False)

    def next_run(self, now: dt.datetime | None = None) -> dt.datetime:
        """The first run strictly after ``now`` (timezone-aware, in :attr:`timezone`).

        Examples
        --------
        >>> s = Schedule(3, dt.time(6, 30), "Europe/London", 1, Path("/tmp"), ())
        >>> s.next_run(dt.datetime(2024, 1, 3, 6, 30, tzinfo=dt.UTC)).isoformat()
        '2024-02-03T06:30:00+00:00'
        """
        tz = ZoneInfo(self.timezone)
        now = (now or dt.datetime.now(dt.UTC)).astimezone(tz)
        year, month = now.year, now.month
        for _ in range(2):
            run = dt.datetime.combine(dt.date(year, month, self.day), self.time, tzinfo=tz)
            if run > now:
                return run
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        raise AssertionError("unreachable: the next month always has the run day")

    def previous_run(self, now: dt.datetime | None = None) -> dt.datetime:
        """The last run at or before ``now`` (what a service that was down has missed)."""
        tz = ZoneInfo(self.timezone)
        now = (now or dt.datetime.now(dt.UTC)).astimezone(tz)
        run = dt.datetime.combine(dt.date(now.year, now.month, self.day), self.time, tzinfo=tz)
        if run <= now:
            return run
        year, month = (now.year - 1, 12) if now.month == 1 else (now.year, now.month - 1)
        return dt.datetime.combine(dt.date(year, month, self.day), self.time, tzinfo=tz)

    def period_for(self, run: dt.datetime) -> Period:
        """The months briefed by the run at ``run``: the complete months just before it."""
        import pandas as pd

        last = pd.Period(year=run.year, month=run.month, freq="M") - 1
        return Period(last - (self.months - 1), last)


def _fail(msg: str, file: str | None, key: str) -> ConfigError:
    return ConfigError(msg, file=file, key=key)


def _names(value, file, key) -> tuple[str, ...] | None:
    if value in (None, "all"):
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise _fail(f"must be 'all' or a list of names, not {value!r}", file, key)
    return tuple(value)


def load_schedule(path: str | os.PathLike) -> Schedule:
    """Read and validate a briefing schedule YAML file.

    Raises
    ------
    scribe_lib.ConfigError
        Naming the file and key at fault.
    """
    file = str(path)
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("schedule file not found", file=file) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", file=file) from None
    if not isinstance(doc, dict):
        raise ConfigError("must be a mapping with keys monthly, out, briefings", file=file)
    monthly = doc.get("monthly")
    if not isinstance(monthly, dict):
        raise _fail("must be a mapping with 'day' and 'time'", file, "monthly")
    day = monthly.get("day")
    if not isinstance(day, int) or isinstance(day, bool) or not 1 <= day <= 28:
        raise _fail(f"day must be a whole number from 1 to 28, not {day!r}", file, "monthly.day")
    raw_time = str(monthly.get("time", "06:00"))
    try:
        when = dt.time.fromisoformat(raw_time)
    except ValueError:
        raise _fail(f"time must be HH:MM, not {raw_time!r}", file, "monthly.time") from None
    tz = str(doc.get("timezone", "Europe/London"))
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise _fail(f"unknown time zone {tz!r}", file, "timezone") from None
    months = doc.get("months", 1)
    if not isinstance(months, int) or isinstance(months, bool) or not 1 <= months <= 12:
        raise _fail(
            f"must be a whole number of months from 1 to 12, not {months!r}", file, "months"
        )
    if not doc.get("out"):
        raise _fail("the directory briefings are published to is required", file, "out")
    entries = doc.get("briefings")
    if not isinstance(entries, list) or not entries:
        raise _fail("must list at least one audience", file, "briefings")
    briefings = []
    for i, item in enumerate(entries):
        key = f"briefings[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("audience"), str):
            raise _fail("each entry needs an 'audience' organisation", file, key)
        org = item["audience"]
        group = str(item.get("unix_group") or org)
        if not _GROUP.match(group):
            raise _fail(
                f"{group!r} cannot be a Unix group name (lower case, at most 32 characters); "
                "set unix_group for this audience",
                file,
                f"{key}.unix_group",
            )
        briefings.append(
            ScheduledBriefing(
                audience=org,
                localities=_names(item.get("localities", "all"), file, f"{key}.localities"),
                unix_group=group,
                categories=_names(item.get("categories"), file, f"{key}.categories"),
            )
        )
    jobs = doc.get("jobs")
    if jobs is not None and (not isinstance(jobs, int) or jobs < 1):
        raise _fail(f"must be a positive whole number, not {jobs!r}", file, "jobs")
    return Schedule(
        day=day,
        time=when,
        timezone=tz,
        months=months,
        out=Path(str(doc["out"])),
        briefings=tuple(briefings),
        store=doc.get("store"),
        jobs=jobs,
        sync_unix_groups=bool(doc.get("sync_unix_groups", True)),
        catch_up=bool(doc.get("catch_up", False)),
        responses=str(doc["responses"]) if doc.get("responses") else None,
        file=file,
    )


def _gid(unix_group: str) -> int:
    try:
        return grp.getgrnam(unix_group).gr_gid
    except KeyError:
        raise ConfigError(
            f"Unix group {unix_group!r} does not exist; create it for the organisation "
            "(scribe users sync) or set unix_group in the schedule"
        ) from None


def publish_dir(root: str | os.PathLike, audience: str, unix_group: str) -> Path:
    """Create ``root/audience`` owned by ``unix_group`` with mode 2770 and return it.

    The root itself is made traversable only (``0711``) so that an organisation
    cannot list the others' directories.
    """
    gid = _gid(unix_group)
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o711)
    d = root / audience
    d.mkdir(exist_ok=True)
    os.chown(d, -1, gid)
    os.chmod(d, DIR_MODE)
    return d


def publish_file(path: str | os.PathLike, unix_group: str) -> None:
    """Give a published file (or directory, recursively) to ``unix_group``: 0640 / 2770."""
    gid = _gid(unix_group)
    path = Path(path)
    items = [path, *path.rglob("*")] if path.is_dir() else [path]
    for p in items:
        os.chown(p, -1, gid)
        os.chmod(p, DIR_MODE if stat.S_ISDIR(p.stat().st_mode) else FILE_MODE)
