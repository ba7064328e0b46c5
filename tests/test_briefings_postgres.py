"""A briefing for an organisation on PostgreSQL reads through that organisation's login.

The agreement is applied to a scratch database (row-level security, generalising views);
the service's per-organisation login renders the briefing, so the database decides what
the organisation sees. The same briefing rendered from the administrator's connection,
with the agreement applied in Python, must say exactly the same; and the organisation's
own counts equal an independent SQL count.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import psycopg
import pytest
import yaml
from bs4 import BeautifulSoup
from shapely.geometry import box

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    # the test cluster trusts local connections; the warning is about the machine, not us
    pytest.mark.filterwarnings("ignore::scribe_lib.access.hba.AccessWarning"),
]

ORG = "luton-council"
AREA = box(504000, 219000, 526000, 241000)  # holds every seeded incident, far from its edge


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    from scribe_lib.access import apply_agreement, parse_agreement, testing
    from scribe_lib.store.postgres import PostgresStore

    tmp = tmp_path_factory.mktemp("pg")
    with testing.scratch_database() as (conninfo, prefix):
        testing.seed_incidents(conninfo, n_per_partner=120, seed=3)
        admin = testing._as_url(conninfo)
        st = PostgresStore(admin)
        st.write_localities(gpd.GeoDataFrame({"name": ["Seedville"], "label": ["test"]},
                                             geometry=[AREA], crs=27700), "test")  # fmt: skip
        st.close()
        data = testing.demo_agreement_data(prefix)
        path = tmp / "agreement.yml"
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
        apply_agreement(parse_agreement(data, file=str(path)), admin_url=admin)
        yield admin, conninfo, path, tmp


def _table(html: str) -> pd.DataFrame:
    t = BeautifulSoup(html, "html.parser").find("table", id="scanning-table")
    head = [th.get_text(strip=True) for th in t.thead.find_all("th")]
    rows = [[td.get_text(strip=True) for td in tr.find_all("td")] for tr in t.tbody.find_all("tr")]
    return pd.DataFrame(rows, columns=head).set_index("Category").sort_index()


def _render(store: str, out: Path) -> str:
    from scribe_lib.briefings import BriefingJob, render_briefing

    job = BriefingJob("Seedville", "2024-06", str(out), store=store, audience=ORG, pdf=False)
    res = render_briefing(job)
    assert res.ok, res.error
    return Path(res.html).read_text(encoding="utf-8")


def test_database_and_python_views_agree(secured, monkeypatch):
    from scribe_lib.briefings import org_store_url

    admin, conninfo, agreement, tmp = secured
    monkeypatch.setenv("SCRIBE_AGREEMENT", str(agreement))
    org_url = org_store_url(admin, ORG)
    assert org_url != admin and "briefings" in org_url  # a login of the organisation
    by_db = _render(org_url, tmp / "db")
    by_python = _render(admin, tmp / "py")
    assert "enforced by the database" in by_db and "applied by SCRIBE in Python" in by_python
    assert org_url.split("@")[0].split(":")[-1] not in by_db  # no secret in the briefing
    pd.testing.assert_frame_equal(_table(by_db), _table(by_python))

    # independently: the organisation's own data (exact precision, no suppression)
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT i.category, count(*) FROM scribe.incidents i JOIN scribe.submissions s "
            "USING (submission_id) WHERE s.superseded_by IS NULL AND i.partner = %s "
            "AND i.period_start = '2024-06-01' AND i.easting IS NOT NULL GROUP BY 1",
            [ORG],
        ).fetchall()
    labels = {"fly-tipping": "Fly-tipping", "noise": "Noise nuisance", "graffiti": "Graffiti"}
    table = _table(by_db)
    for cat, n in rows:
        assert table.loc[labels[cat], "This period"] == str(n)
    # fire data is aggregate-only for a council: not in its briefing
    assert not {"Deliberate secondary fire", "Accidental fire", "Fire false alarm"} & set(
        table.index
    )
    # Central Bedfordshire's dog fouling is not shared with Luton
    assert "Dog fouling" not in table.index
