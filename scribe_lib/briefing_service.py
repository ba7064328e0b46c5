"""The monthly briefing run, as a JupyterHub-managed service (like the idle culler).

The hub starts ``python -m scribe_lib.briefing_service`` and restarts it if it dies. The
service reads ``hub_config/briefings_schedule.yml``, sleeps until the next run and then,
for each audience organisation:

1. asks the hub who the organisation's members are (its role may only read those groups)
   and makes the organisation's Unix group hold exactly their Unix accounts;
2. renders the organisation's localities in the organisation's view of the data (on
   PostgreSQL through a database login of the organisation, so row-level security applies;
   on the embedded store the agreement is applied in Python) with
   :func:`scribe_lib.briefings.run_briefings`;
3. publishes them to ``<out>/<organisation>/<YYYY-MM>/``, group-owned, mode 2770 / 0640.

Add it to the hub with :func:`briefing_service_config`::

    service, role = briefing_service_config(settings)
    c.JupyterHub.services.append(service)
    c.JupyterHub.load_roles.append(role)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import pwd
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import replace
from pathlib import Path

from .briefings import (
    jobs_for,
    load_schedule,
    org_store_url,
    parse_period,
    publish_dir,
    publish_file,
    run_briefings,
)

__all__ = [
    "briefing_service_config",
    "run_scheduled",
    "serve",
    "last_period",
    "hub_members",
    "sync_unix_group",
    "main",
]

SERVICE_NAME = "scribe-briefings"
_DEFAULT_SCHEDULE = Path(__file__).resolve().parents[1] / "hub_config" / "briefings_schedule.yml"
log = logging.getLogger("scribe.briefings.service")


def _schedule_path(path=None) -> Path:
    return Path(path or os.environ.get("SCRIBE_BRIEFINGS_SCHEDULE") or _DEFAULT_SCHEDULE)


def briefing_service_config(
    settings=None, *, schedule=None, name: str = SERVICE_NAME
) -> tuple[dict, dict]:
    """The JupyterHub service and role of the briefing run.

    Parameters
    ----------
    settings : scribe_lib.hub.settings.HubSettings, optional
        The hub's settings (Unix account prefix, agreement, database URL).
    schedule : path, optional
        The schedule file (default ``$SCRIBE_BRIEFINGS_SCHEDULE`` or
        ``hub_config/briefings_schedule.yml``).

    Returns
    -------
    (dict, dict)
        An entry for ``c.JupyterHub.services`` (a managed service: the hub starts it) and
        one for ``c.JupyterHub.load_roles``: its own role, which may only read the
        membership of the audience organisations' groups (``read:groups!group=<org>``).
    """
    path = _schedule_path(schedule)
    sched = load_schedule(path)
    env = {"SCRIBE_BRIEFINGS_SCHEDULE": str(path), "PYTHONUNBUFFERED": "1"}
    for key in ("SCRIBE_STORE", "SCRIBE_AGREEMENT", "SCRIBE_RESPONSES", "SCRIBE_ADMIN_URL"):
        if os.environ.get(key):
            env[key] = os.environ[key]
    if settings is not None:
        env["SCRIBE_HUB_USER_PREFIX"] = str(getattr(settings, "unix_prefix", "scribe-"))
        if getattr(settings, "agreement_path", None):
            env["SCRIBE_AGREEMENT"] = str(settings.agreement_path)
        if getattr(settings, "admin_url", None):  # the hub's store is this PostgreSQL database
            env.setdefault("SCRIBE_ADMIN_URL", settings.admin_url)
            env.setdefault("SCRIBE_STORE", settings.admin_url)
    service = {
        "name": name,
        "command": [sys.executable, "-m", "scribe_lib.briefing_service"],
        "environment": env,
    }
    orgs = sorted({b.audience for b in sched.briefings})
    role = {
        "name": f"{name}-service",
        "description": "Monthly locality briefings: read the audience organisations' members",
        "scopes": [f"read:groups!group={org}" for org in orgs],
        "services": [name],
    }
    return service, role


def hub_members(group: str, *, api_url: str | None = None, token: str | None = None) -> list[str]:
    """Hub user names in ``group``, through the hub's REST API with the service token."""
    api_url = (api_url or os.environ["JUPYTERHUB_API_URL"]).rstrip("/")
    token = token or os.environ["JUPYTERHUB_API_TOKEN"]
    req = urllib.request.Request(
        f"{api_url}/groups/{urllib.parse.quote(group)}", headers={"Authorization": f"token {token}"}
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return sorted(json.load(resp).get("users", []))
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            log.warning("hub group %r does not exist: nobody can read its briefings", group)
            return []
        raise


def sync_unix_group(unix_group: str, members: list[str], prefix: str) -> list[str]:
    """Make ``unix_group`` exist and hold exactly the Unix accounts of ``members``.

    Hub user ``alice`` has the Unix account ``<prefix>alice`` (see ``scribe_lib.hub.accounts``);
    members without an account yet are left out. Needs root. Returns the accounts set.
    """
    if subprocess.run(["getent", "group", unix_group], capture_output=True).returncode != 0:
        subprocess.run(["groupadd", unix_group], check=True, capture_output=True)
    accounts = []
    for user in members:
        try:
            accounts.append(pwd.getpwnam(f"{prefix}{user}").pw_name)
        except KeyError:
            log.warning("member %s of %s has no Unix account yet; left out", user, unix_group)
    subprocess.run(
        ["gpasswd", "-M", ",".join(accounts), unix_group], check=True, capture_output=True
    )
    return accounts


def run_scheduled(sched, period=None, *, members=hub_members, now=None) -> dict:
    """Render and publish every audience's briefings for ``period`` (default: the due one).

    Returns ``{audience: [BriefingResult, ...]}``; failures are logged, never raised, so
    that one organisation's problem does not stop the others'.
    """
    from .api import localities

    when = now or dt.datetime.now(dt.UTC)
    period = parse_period(period) if period else sched.period_for(when.astimezone(dt.UTC))
    store = sched.store or os.environ.get("SCRIBE_STORE") or "scribe.duckdb"
    prefix = os.environ.get("SCRIBE_HUB_USER_PREFIX", "scribe-")
    done = {}
    for item in sched.briefings:
        org = item.audience
        try:
            if sched.sync_unix_groups:
                sync_unix_group(item.unix_group, members(org), prefix)
            out = publish_dir(sched.out, org, item.unix_group) / str(period)
            loc = localities(store)
            area = dict(zip(loc["name"].astype(str), loc.geometry.area, strict=True))
            names = list(item.localities or sorted(area))
            jobs = jobs_for(names, period=str(period), out=str(out), store=org_store_url(store, org),
                            audience=org, categories=item.categories,
                            responses=sched.responses)  # fmt: skip
            jobs = [replace(j, weight=area.get(j.locality, 0.0)) for j in jobs]  # largest first
            results = run_briefings(jobs, workers=sched.jobs)
            publish_file(out, item.unix_group)
        except Exception:  # noqa: BLE001 - log it and go on with the next organisation
            log.exception("briefings for %s failed", org)
            continue
        failed = [r.locality for r in results if not r.ok]
        log.info("%s: %d briefing(s) for %s in %s%s", org, len(results), period, out,
                 f"; FAILED: {', '.join(failed)}" if failed else "")  # fmt: skip
        done[org] = results
    return done


def _state_file(sched) -> Path:
    return Path(sched.out) / ".scribe-briefings-state.json"


def last_period(sched) -> str | None:
    """The period of the last completed scheduled run (``None`` before the first)."""
    try:
        return json.loads(_state_file(sched).read_text(encoding="utf-8")).get("last_period")
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _done(sched, period) -> None:
    path = _state_file(sched)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(
        json.dumps({"last_period": str(period), "at": dt.datetime.now(dt.UTC).isoformat()})
    )
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def serve(sched, stop: threading.Event, *, members=hub_members) -> None:
    """The service loop: catch up a missed run, then sleep until each next run and run it."""
    if sched.catch_up:
        due = sched.period_for(sched.previous_run())
        if last_period(sched) != str(due):
            log.info("catching up the missed run for %s", due)
            run_scheduled(sched, due, members=members)
            _done(sched, due)
    while not stop.is_set():
        nxt = sched.next_run()
        log.info("next briefing run %s for %s", nxt.isoformat(), sched.period_for(nxt))
        while not stop.is_set() and dt.datetime.now(dt.UTC) < nxt:
            stop.wait(min(300.0, max(1.0, (nxt - dt.datetime.now(dt.UTC)).total_seconds())))
        if not stop.is_set():
            run_scheduled(sched, sched.period_for(nxt), members=members)
            _done(sched, sched.period_for(nxt))


def main(argv=None) -> int:
    """Run as a hub-managed service: sleep until each scheduled run, then run it."""
    ap = argparse.ArgumentParser(prog="python -m scribe_lib.briefing_service")
    ap.add_argument("--schedule", default=None, help="schedule file")
    ap.add_argument("--once", action="store_true", help="run now for the due period, then exit")
    ap.add_argument("--period", default=None, help="with --once: the period to brief")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    sched = load_schedule(_schedule_path(args.schedule))
    if args.once:
        run_scheduled(sched, args.period)
        return 0
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    serve(sched, stop)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
