"""The apps through the hub, in headless Chromium, as users of two organisations.

A real `scribe hub` (proxy, spawner, PostgreSQL with the data-sharing agreement applied)
over the demo data. Alice is a police analyst, Carol a Luton council partner viewer. Each
logs in through the hub's login page; numbers on the page are checked against the store
read with the user's *own* database login (the answer the agreement allows), and Carol's
answer is checked to leave out what the agreement withholds from her organisation.
"""

from __future__ import annotations

import csv
import io
import os
import pwd
import secrets
from pathlib import Path

import psycopg
import pytest
import yaml

import scribe_lib
from scribe_lib.access import audit_entries, testing
from scribe_lib.apps.testing import ExternalRequests, chromium
from scribe_lib.demo import build_demo
from scribe_lib.hub import accounts
from scribe_lib.hub.testing import Hub, free_ports

pytestmark = [pytest.mark.browser, pytest.mark.hub, pytest.mark.postgres, pytest.mark.slow,
              pytest.mark.timeout(900)]  # fmt: skip

WAIT = 60_000
PASSWORDS = {"alice": "Alice-Harbour-7731", "carol": "Carol-Meadow-9953"}
ORGS = {"alice": ("bedfordshire-police", "analyst"), "carol": ("luton-council", "viewer")}


@pytest.fixture(scope="module")
def hub():
    tag = secrets.token_hex(3)
    base = Path(f"/tmp/scribe-appstest-{tag}")
    base.mkdir(mode=0o755)
    os.chmod(base, 0o755)
    with testing.scratch_database() as (conninfo, prefix):
        info = psycopg.conninfo.conninfo_to_dict(conninfo)
        admin_url = f"postgresql://postgres@127.0.0.1:{info.get('port', 5432)}/{info['dbname']}"
        build_demo(admin_url, seed=11, scale=0.05)
        agreement = base / "agreement.yml"
        agreement.write_text(yaml.safe_dump(testing.demo_agreement_data(prefix)))
        port, api_port, proxy_port = free_ports(3)
        env = dict(os.environ)
        env.pop("SCRIBE_TILE_URL", None)
        env.update(
            SCRIBE_HUB_PORT=str(port), SCRIBE_HUB_API_PORT=str(api_port),
            SCRIBE_PROXY_API_PORT=str(proxy_port), SCRIBE_HUB_STATE=str(base / "state"),
            SCRIBE_ADMIN_URL=admin_url, SCRIBE_AGREEMENT=str(agreement),
            SCRIBE_HUB_USER_PREFIX=f"a{tag}-", SCRIBE_HUB_HOME_BASE=str(base / "home"),
            SCRIBE_HUB_USER_ENV=str(base / "user-env"),
            SCRIBE_ADMIN_PASSWORD="Manager-Kestrel-2024",
        )  # fmt: skip
        h = Hub(base, env, port, f"a{tag}-")
        h.admin_url = admin_url
        try:
            h.start()
            for name, (org, role) in ORGS.items():
                h.signup(name, PASSWORDS[name], org)
                r = h.scribe("users", "approve", name, "--org", org, "--role", role)
                assert r.returncode == 0, r.stderr + h.tail()
            yield h
        finally:
            h.stop()
            h.cleanup_accounts()


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def user_store(hub, name) -> str:
    """The user's own database URL (what their server gets as SCRIBE_STORE)."""
    url = accounts.read_secret(pwd.getpwnam(f"{hub.prefix}{name}"))
    assert url and "postgres@" not in url
    return url


def login(browser, hub, name):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.external = ExternalRequests()
    page.external.watch(page)
    page.goto(hub.url + "/hub/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORDS[name])
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_url(f"**/user/{name}/**", timeout=180_000)  # the server spawns
    return context, page


def wait_count(page, selector, value):
    js = "([s, v]) => { const e = document.querySelector(s); return e && e.dataset.count == v; }"
    try:
        page.wait_for_function(js, arg=[selector, str(value)], timeout=WAIT)
    except Exception:  # noqa: BLE001
        got = page.get_attribute(selector, "data-count")
        raise AssertionError(f"{selector} shows {got!r}, the store says {value}") from None


def download_csv(page, filename="incidents.csv"):
    return list(
        csv.DictReader(io.StringIO(_download(page, ".scribe-download-csv", filename).decode()))
    )


def test_a_partner_viewer_sees_the_gallery_and_only_what_the_agreement_allows(hub, browser):
    context, page = login(browser, hub, "carol")
    try:
        assert page.url.endswith("/user/carol/voila/tree/notebooks/apps"), page.url
        page.wait_for_selector(".scribe-cards", timeout=WAIT)
        titles = page.locator(".scribe-cards h2").all_inner_texts()
        assert sorted(titles) == ["Hotspot map", "Incident explorer", "Locality profile", "Trends"]
        page.click("text=Incident explorer")
        page.wait_for_selector(".scribe-count p[data-count]", timeout=180_000)
        mine = scribe_lib.load(user_store(hub, "carol"))
        everything = scribe_lib.load(hub.admin_url)
        wait_count(page, ".scribe-count p", len(mine))
        # restricted incidents: fire is aggregate-only for Luton council, police crime/ASB only
        assert (everything["partner"] == "bedfordshire-fire").any()
        assert not (mine["partner"] == "bedfordshire-fire").any()
        partners = page.locator(".scribe-filter-partner option").all_inner_texts()
        assert "bedfordshire-fire" not in partners and "luton-council" in partners
        assert len(mine) < len(everything)

        page.select_option(".scribe-filter-partner select", "bedfordshire-police")
        police = scribe_lib.load(user_store(hub, "carol"), partner="bedfordshire-police")
        wait_count(page, ".scribe-count p", len(police))
        # restricted fields: no police outcome, no location text for Luton council
        assert police["outcome"].isna().all() and police["location_text"].isna().all()
        headers = page.locator(".scribe-incidents th").all_inner_texts()
        assert "Outcome" not in headers
        rows = download_csv(page)
        assert sorted(r["incident_id"] for r in rows) == sorted(police["incident_id"])
        assert all(r["outcome"] == "" and r["location_text"] == "" for r in rows)
        # street precision: Carol's police points are not the exact points the police hold
        exact = everything.set_index("incident_id").loc[[r["incident_id"] for r in rows[:50]]]
        got = [float(r["easting"]) for r in rows[:50] if r["easting"]]
        assert got and got != exact["easting"].dropna().tolist()
        # the download is in the audit trail, as Carol, with the filter and the row count
        log = audit_entries(hub.admin_url, user="carol")
        entry = log[(log["action"] == "export") & (log["relation"] == "incidents.csv")].iloc[-1]
        assert int(entry["rows"]) == len(police) and "bedfordshire-police" in entry["filter"]
        assert page.external == []
    finally:
        context.close()


def test_an_analyst_opens_the_same_apps_and_sees_police_outcomes(hub, browser):
    context, page = login(browser, hub, "alice")
    try:
        assert "/user/alice/lab" in page.url, page.url
        page.goto(f"{hub.url}/user/alice/voila/render/notebooks/apps/incident_explorer.ipynb")
        page.wait_for_selector(".scribe-count p[data-count]", timeout=180_000)
        mine = scribe_lib.load(user_store(hub, "alice"))
        wait_count(page, ".scribe-count p", len(mine))
        page.select_option(".scribe-filter-category select", "burglary")
        burglary = scribe_lib.load(user_store(hub, "alice"), category="burglary")
        wait_count(page, ".scribe-count p", len(burglary))
        headers = page.locator(".scribe-incidents th").all_inner_texts()
        assert "Outcome" in headers and "Location" in headers
        rows = download_csv(page)
        assert sorted(r["incident_id"] for r in rows) == sorted(burglary["incident_id"])
        assert any(r["outcome"] for r in rows)
        # the trends app through the hub: this year against last, from the same store
        page.goto(f"{hub.url}/user/alice/voila/render/notebooks/apps/trends.ipynb")
        page.wait_for_selector(".scribe-compare p[data-current]", timeout=180_000)
        last = max(mine["period_start"]).strftime("%Y-%m")
        first = (mine["period_start"].max().to_period("M") - 11).strftime("%Y-%m")
        current = scribe_lib.load(user_store(hub, "alice"), start=first, end=last)
        assert int(page.get_attribute(".scribe-compare p", "data-current")) == len(current)
        assert page.external == []
    finally:
        context.close()


def _download(page, button, filename):
    page.click(f"button{button}")
    link = f'.scribe-download-link a.scribe-download[download="{filename}"]'
    page.wait_for_selector(link, timeout=WAIT)
    with page.expect_download(timeout=WAIT) as info:
        page.click(link)
    return Path(info.value.path()).read_bytes()


def _wait_data(page, selector, attr, value):
    js = "([s, a, v]) => { const e = document.querySelector(s); return e && e.dataset[a] == v; }"
    try:
        page.wait_for_function(js, arg=[selector, attr, str(value)], timeout=WAIT)
    except Exception:  # noqa: BLE001
        got = page.get_attribute(selector, f"data-{attr}")
        raise AssertionError(f"{selector} data-{attr} is {got!r}, the store says {value}") from None


def test_the_viewer_s_hotspot_map_and_locality_profile_follow_her_own_store(hub, browser):
    import json

    from scribe_lib import stats
    from scribe_lib.apps.profile import problem_categories

    context, page = login(browser, hub, "carol")
    store = user_store(hub, "carol")
    try:
        page.wait_for_selector(".scribe-cards", timeout=WAIT)
        page.click("text=Hotspot map")
        page.wait_for_selector(".scribe-status p[data-cells]", timeout=180_000)
        page.select_option(".scribe-cell select", label="500 m")
        page.select_option(".scribe-filter-category select", "anti-social-behaviour")
        asb = scribe_lib.load(store, category="anti-social-behaviour", located_only=True)
        _wait_data(page, ".scribe-status p", "incidents", len(asb))
        gi = stats.hotspots(asb, cell=500.0)
        kept = gi[(gi["incidents"] > 0) | (gi["gi_bin"] != 0)]
        _wait_data(page, ".scribe-status p", "cells", len(kept))
        for b in (3, 0):
            n = page.get_attribute(f'.scribe-hotspot-legend [data-bin="{b}"]', "data-cells")
            assert int(n) == int((kept["gi_bin"] == b).sum())
        gj = json.loads(_download(page, ".scribe-download-geojson", "hotspots.geojson"))
        assert sum(f["properties"]["incidents"] for f in gj["features"]) == len(asb)

        page.goto(hub.url + "/user/carol/voila/tree/notebooks/apps")
        page.click("text=Locality profile")
        page.wait_for_selector(".scribe-what p[data-count]", timeout=180_000)
        page.select_option(".scribe-filter-locality select", "Luton")
        page.select_option(".scribe-filter-problem select", label="Anti-social behaviour (all)")
        expected = scribe_lib.load(
            store, locality="Luton", category=list(problem_categories("asb"))
        )
        _wait_data(page, ".scribe-what p", "count", len(expected))
        rows = list(csv.DictReader(io.StringIO(
            _download(page, ".scribe-download-csv", "profile_what.csv").decode())))  # fmt: skip
        got = {(r["category"], r["partner"]): int(r["incidents"]) for r in rows}
        assert got == expected.groupby(["category", "partner"]).size().to_dict()
        assert page.external == []
    finally:
        context.close()


def test_the_analyst_s_trends_follow_her_filter(hub, browser):
    context, page = login(browser, hub, "alice")
    store = user_store(hub, "alice")
    try:
        page.goto(f"{hub.url}/user/alice/voila/render/notebooks/apps/trends.ipynb")
        page.wait_for_selector(".scribe-compare p[data-current]", timeout=180_000)
        page.select_option(".scribe-filter-category select", "burglary")
        page.select_option(".scribe-filter-end select", "2025-06")
        page.select_option(".scribe-window select", label="6 months")
        cur = scribe_lib.load(store, category="burglary", start="2025-01", end="2025-06")
        base = scribe_lib.load(store, category="burglary", start="2024-01", end="2024-06")
        _wait_data(page, ".scribe-compare p", "current", len(cur))
        _wait_data(page, ".scribe-compare p", "baseline", len(base))
        rows = list(csv.DictReader(io.StringIO(
            _download(page, ".scribe-download-csv", "monthly_counts.csv").decode())))  # fmt: skip
        burglary = scribe_lib.load(store, category="burglary")
        assert sum(float(r["count"] or 0) for r in rows) == len(burglary)
        assert page.external == []
    finally:
        context.close()
