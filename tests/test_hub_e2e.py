"""The SCRIBE hub end to end: a real `scribe hub` process, real proxy, real PostgreSQL.

sign up -> login refused ("not authorized") -> manager approves -> login succeeds ->
server spawns as the user's own Unix account -> the user reads only what the agreement
allows -> revoke -> refused, and the running server is stopped.

The tests in this module run in order against one hub (module-scoped fixture).
"""

from __future__ import annotations

import os
import pwd
import secrets
import time
from pathlib import Path

import psycopg
import pytest
import requests
import yaml

from scribe_lib.access import load_agreement, testing
from scribe_lib.access.sql import RoleNames
from scribe_lib.hub import accounts
from scribe_lib.hub.cluster import StoreCluster
from scribe_lib.hub.cluster import postgres_bindir as cluster_bindir
from scribe_lib.hub.testing import NOT_AUTHORIZED, Hub, as_user, free_ports

pytestmark = [pytest.mark.hub, pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(900)]

MANAGER_PASSWORD = "Manager-Kestrel-2024"
PREFIX = "scribe"  # the hub has a cluster of its own: the real role names
PASSWORDS = {
    "alice": "Alice-Harbour-7731",  # police analyst
    "bob": "Bob-Lantern-8842",  # Luton council analyst
    "carol": "Carol-Meadow-9953",  # Luton council partner viewer
    "dave": "Dave-Quarry-1064",  # lockout
}


@pytest.fixture(scope="module")
def hub():
    """A hub on its own PostgreSQL cluster, which `scribe hub` creates (like a first start)."""
    tag = secrets.token_hex(3)
    base = Path(f"/tmp/scribe-hubtest-{tag}")
    base.mkdir(mode=0o755)
    os.chmod(base, 0o755)
    port, api_port, proxy_port, pg_port = free_ports(4)
    cluster = StoreCluster(base / "pg", port=pg_port, os_user=f"p{tag}")  # made by scribe hub
    agreement = base / "agreement.yml"
    agreement.write_text(yaml.safe_dump(testing.demo_agreement_data(PREFIX)))
    env = {k: v for k, v in os.environ.items() if k not in ("SCRIBE_ADMIN_URL", "SCRIBE_STORE")}
    env.update(
        SCRIBE_HUB_PORT=str(port),
        SCRIBE_HUB_API_PORT=str(api_port),
        SCRIBE_PROXY_API_PORT=str(proxy_port),
        SCRIBE_HUB_STATE=str(base / "state"),
        SCRIBE_HUB_PG_DIR=str(cluster.root),
        SCRIBE_HUB_PG_PORT=str(pg_port),
        SCRIBE_HUB_PG_USER=cluster.os_user,
        SCRIBE_AGREEMENT=str(agreement),
        SCRIBE_HUB_USER_PREFIX=f"h{tag}-",
        SCRIBE_HUB_HOME_BASE=str(base / "home"),
        SCRIBE_HUB_USER_ENV=str(base / "user-env"),
        SCRIBE_ADMIN_PASSWORD=MANAGER_PASSWORD,
    )
    h = Hub(base, env, port, f"h{tag}-", args=("--no-demo",))
    h.cluster, h.admin_url, h.agreement = cluster, cluster.admin_url, agreement
    try:
        h.start()
        testing.seed_incidents(cluster.admin_url)  # as root, over the socket
        yield h
    finally:
        try:
            h.stop()
            cluster.stop()
        finally:
            accounts.delete_account(cluster.os_user)
            h.cleanup_accounts()  # also removes the cluster's files


def sysname(hub, name):
    return f"{hub.prefix}{name}"


def test_manager_signs_in_with_the_password_from_the_environment(hub):
    _, r = hub.login("manager", MANAGER_PASSWORD)
    assert r.status_code == 302, hub.tail()
    _, r = hub.login("manager", "not-the-password-at-all")
    assert r.status_code == 200 and "Invalid username or password" in r.text


def test_nobody_can_sign_up_as_the_manager(hub):
    msg = hub.signup("manager", "Another-Manager-99", "bedfordshire-police")
    assert "already in use" in msg


@pytest.mark.parametrize("name", ["Bad.Name", "9lives", "has space"])
def test_user_names_that_cannot_be_accounts_are_refused_at_sign_up(hub, name):
    msg = hub.signup(name, "Valid-Password-5566", "luton-council")
    assert "does not contain spaces, commas or slashes" in msg
    assert name.lower() not in {u["name"] for u in hub.api("GET", "scribe/users").json()}


@pytest.mark.parametrize(
    "password, why",
    [("Sh0rt-pw", "shorter than 10"), ("qwertyuiop", "a common password")],
)
def test_password_policy_refuses_weak_passwords(hub, password, why):
    msg = hub.signup("weakling", password, "luton-council")
    assert "at least 10 characters and is not too common" in msg, why
    assert "weakling" not in {u["name"] for u in hub.api("GET", "scribe/users").json()}


def test_signed_up_users_are_refused_until_approved(hub):
    for name, org in [("alice", "bedfordshire-police"), ("bob", "luton-council"),
                      ("carol", "luton-council"), ("dave", "luton-council")]:  # fmt: skip
        assert (
            hub.signup(name, PASSWORDS[name], org) == "Your information has been sent to the admin."
        )
        _, r = hub.login(name, PASSWORDS[name])
        assert r.status_code == 200 and f"User {name} {NOT_AUTHORIZED}" in r.text
    rows = {u["name"]: u for u in hub.api("GET", "scribe/users").json()}
    assert rows["bob"]["status"] == "pending" and rows["bob"]["requested_org"] == "luton-council"
    assert rows["bob"]["full_name"] == "Bob Tester"
    with pytest.raises(KeyError):
        pwd.getpwnam(sysname(hub, "alice"))  # no Unix account before approval


def test_approval_refuses_unknown_users_and_organisations(hub):
    r = hub.scribe("users", "approve", "nobody", "--org", "luton-council", "--role", "analyst")
    assert r.returncode != 0 and "no sign-up for 'nobody'" in r.stderr
    r = hub.scribe("users", "approve", "bob", "--org", "atlantis-council", "--role", "analyst")
    assert r.returncode != 0 and "not in the data-sharing agreement" in r.stderr
    r = hub.scribe("users", "approve", "bob", "--org", "luton-council", "--role", "chief")
    assert r.returncode != 0 and "'chief' is not one of" in r.stderr


def test_manager_approves_on_the_command_line_and_on_the_web_page(hub):
    r = hub.scribe("users", "approve", "alice", "--org", "bedfordshire-police", "--role", "analyst")
    assert r.returncode == 0, r.stderr + hub.tail()
    assert "approved alice: bedfordshire-police, analyst" in r.stdout
    s, _ = hub.login("manager", MANAGER_PASSWORD)
    page = s.get(hub.url + "/hub/authorize")
    assert page.status_code == 200 and 'id="member-bob"' in page.text
    for name, role in [("bob", "analyst"), ("carol", "viewer"), ("dave", "analyst")]:
        r = s.post(
            f"{hub.url}/hub/scribe/approve/{name}",
            data={"_xsrf": s.cookies.get("_xsrf", path="/hub/"), "organisation": "luton-council",
                  "role": role},
        )  # fmt: skip
        assert r.status_code == 200, hub.tail()
        assert f"{name} approved: luton-council, {role}" in r.text
    users = {u["name"]: u for u in hub.api("GET", "users").json()}
    assert sorted(users["bob"]["groups"]) == ["luton-council", "role-analyst"]
    assert sorted(users["carol"]["groups"]) == ["luton-council", "role-viewer"]
    listing = hub.scribe("users", "list")
    assert "carol" in listing.stdout and "viewer" in listing.stdout


def test_an_approved_user_gets_a_private_unix_account_and_secret(hub):
    entry = pwd.getpwnam(sysname(hub, "alice"))
    assert Path(entry.pw_dir).stat().st_mode & 0o777 == 0o700
    secret = Path(entry.pw_dir) / accounts.SECRET_RELPATH
    assert secret.stat().st_mode & 0o777 == 0o600 and secret.stat().st_uid == entry.pw_uid
    assert secret.read_text().startswith("SCRIBE_STORE=postgresql://")


def test_lockout_after_repeated_failed_logins(hub):
    for _ in range(5):
        _, r = hub.login("dave", "wrong-password-123")
        assert r.status_code == 200
    _, r = hub.login("dave", PASSWORDS["dave"])  # the right password, but locked out
    assert r.status_code == 200 and "Invalid username or password" in r.text
    _, r = hub.login("bob", PASSWORDS["bob"])  # others are not locked out
    assert r.status_code == 302


def test_approved_users_log_in_and_their_servers_run_as_their_own_accounts(hub):
    for name in ("alice", "bob"):
        s, r = hub.login(name, PASSWORDS[name])
        assert r.status_code == 302, hub.tail()
        server = hub.spawn(s, name)
        pid = hub.api("GET", f"users/{name}").json()["servers"][""]["state"]["pid"]
        assert Path(f"/proc/{pid}").stat().st_uid == pwd.getpwnam(sysname(hub, name)).pw_uid
        assert server["url"] == f"/user/{name}/"
        r = s.get(hub.url + f"/user/{name}/lab")
        assert r.status_code == 200 and "JupyterLab" in r.text


def _expected_partners(agreement_path, org):
    rules = load_agreement(agreement_path).organisations[org].rules
    return sorted(r.partner for r in rules if r.precision != "aggregate")


READ = """
import os, psycopg, scribe_lib
from scribe_lib.api import load
df = load()
print("PARTNERS", sorted(df["partner"].unique()))
police = df[df["partner"] == "bedfordshire-police"]
print("POLICE_OUTCOMES", int(police["outcome"].notna().sum()) if "outcome" in df else 0)
print("STORE_IS_OWN_LOGIN", "postgres@" not in os.environ["SCRIBE_STORE"])
with psycopg.connect(os.environ["SCRIBE_STORE"], autocommit=True) as c:
    for sql in ["SELECT count(*) FROM scribe.incidents", "SET ROLE postgres"]:
        try:
            c.execute(sql)
            print("ALLOWED", sql)
        except psycopg.Error as exc:
            print("REFUSED", type(exc).__name__)
"""


@pytest.mark.parametrize("name, org", [("alice", "bedfordshire-police"), ("bob", "luton-council")])
def test_each_user_reads_only_what_the_agreement_allows(hub, name, org):
    s, r = hub.login(name, PASSWORDS[name])
    assert r.status_code == 302
    out = hub.run_code(s, name, READ)
    assert f"PARTNERS {_expected_partners(hub.agreement, org)}" in out, out
    rule = load_agreement(hub.agreement).organisations[org].rule_for("bedfordshire-police")
    sees_outcomes = "outcome" in rule.fields
    assert ("POLICE_OUTCOMES 0" in out) is not sees_outcomes, out  # police outcomes: police only
    assert "STORE_IS_OWN_LOGIN True" in out, out
    assert "ALLOWED" not in out and out.count("REFUSED") == 2, out


ATTEMPTS = """
import os, psycopg
from psycopg.conninfo import conninfo_to_dict
own = conninfo_to_dict(os.environ["SCRIBE_STORE"])
tcp = dict(host="127.0.0.1", port=own["port"], dbname=own["dbname"], connect_timeout=20)
sock = dict(tcp, host=SOCKET)
for what, kw in ATTEMPTS.items():
    kw = dict(tcp if kw.pop("via") == "tcp" else sock, **kw)
    if kw.get("password") == "OWN":
        kw["password"] = own["password"]
    try:
        psycopg.connect(**kw).close()
        print("CONNECTED", what)
    except psycopg.OperationalError as exc:
        print("REFUSED", what, "|", " ".join(str(exc).split()))
with psycopg.connect(**dict(tcp, user=own["user"], password=own["password"])) as c:
    print("OWN LOGIN", c.execute("SELECT session_user").fetchone()[0])
"""

REJECTED = "pg_hba.conf rejects connection"
NO_PASSWORD = "no password supplied"
WRONG_PASSWORD = "password authentication failed"


def _attempts(names: RoleNames) -> dict[str, tuple[dict, str]]:
    """What a hub user (alice) might try, and why the store refuses it."""
    bob = names.user("bob")
    return {
        "postgres over TCP": ({"via": "tcp", "user": "postgres"}, REJECTED),
        "postgres over TCP, a password": (
            {"via": "tcp", "user": "postgres", "password": "postgres"}, REJECTED),
        "postgres over the socket": ({"via": "socket", "user": "postgres"},
                                     'Peer authentication failed for user "postgres"'),
        "own login over the socket": ({"via": "socket", "user": names.user("alice"),
                                       "password": "OWN"}, REJECTED),
        "the loader": ({"via": "tcp", "user": names.loader}, NO_PASSWORD),
        "the loader, a password": (
            {"via": "tcp", "user": names.loader, "password": "OWN"}, WRONG_PASSWORD),
        "the reader": ({"via": "tcp", "user": names.reader, "password": "x"}, WRONG_PASSWORD),
        "the auditor": ({"via": "tcp", "user": names.auditor}, NO_PASSWORD),
        "the auditor, a password": (
            {"via": "tcp", "user": names.auditor, "password": "OWN"}, WRONG_PASSWORD),
        "bob, no password": ({"via": "tcp", "user": bob}, NO_PASSWORD),
        "bob, alice's password": ({"via": "tcp", "user": bob, "password": "OWN"}, WRONG_PASSWORD),
        "bob, a wrong password": (
            {"via": "tcp", "user": bob, "password": "Bob-Lantern-8842"}, WRONG_PASSWORD),
    }  # fmt: skip


def test_a_users_code_cannot_log_in_to_the_store_as_anyone_else(hub):
    """From alice's own server: postgres, the loader, the auditor, bob - all refused."""
    attempts = _attempts(RoleNames(PREFIX))
    s, r = hub.login("alice", PASSWORDS["alice"])
    assert r.status_code == 302
    code = (
        f"SOCKET = {str(hub.cluster.socket_dir)!r}\n"
        f"ATTEMPTS = { ({k: v[0] for k, v in attempts.items()})!r}\n" + ATTEMPTS
    )
    out = hub.run_code(s, "alice", code)
    assert "CONNECTED" not in out, out
    lines = {ln.split(" | ")[0]: ln for ln in out.splitlines() if ln.startswith("REFUSED")}
    for what, (_, why) in attempts.items():
        assert why in lines.get(f"REFUSED {what}", ""), (what, out)
    assert f"OWN LOGIN {RoleNames(PREFIX).user('alice')}" in out, out


def test_the_users_unix_account_cannot_log_in_as_the_superuser(hub):
    """As alice's Unix account, with psql, over the socket and over TCP."""
    psql = str(cluster_bindir() / "psql")
    common = ["-w", "-p", str(hub.cluster.port), "-d", "scribe", "-c", "SELECT 1"]
    r = as_user(sysname(hub, "alice"), psql, "-h", str(hub.cluster.socket_dir), "-U", "postgres",
                *common)  # fmt: skip
    assert r.returncode != 0 and 'Peer authentication failed for user "postgres"' in r.stderr
    r = as_user(sysname(hub, "alice"), psql, "-h", "127.0.0.1", "-U", "postgres", *common)
    assert r.returncode != 0 and REJECTED in r.stderr
    r = as_user(sysname(hub, "alice"), psql, "-h", "127.0.0.1", "-U", PREFIX + "_loader", *common)
    assert r.returncode != 0 and NO_PASSWORD in r.stderr


HOP = """
import psycopg
try:
    with psycopg.connect(MACHINE, connect_timeout=20, autocommit=True) as c:
        c.execute("CREATE TEMP TABLE hop (line text)")
        c.execute("COPY hop FROM PROGRAM " + psycopg.sql.quote(PROGRAM))
        print("HOP", [r[0] for r in c.execute("SELECT line FROM hop")])
except psycopg.Error as exc:
    print("NO HOP", " ".join(str(exc).split()))
"""


def test_a_trusting_cluster_on_the_machine_is_no_way_into_the_store(hub):
    """The development cluster trusts 127.0.0.1: alice is its superuser and runs programs
    as the Unix account postgres; that account is not the hub's cluster's administrator."""
    machine = os.environ.get("SCRIBE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
    psql = cluster_bindir() / "psql"
    program = (
        f"{psql} -w -h {hub.cluster.socket_dir} -p {hub.cluster.port} -U postgres -d scribe "
        "-Atc 'SELECT count(*) FROM scribe.incidents' 2>&1; "
        f"cat {hub.cluster.data_dir}/pg_hba.conf 2>&1; true"
    )
    s, r = hub.login("alice", PASSWORDS["alice"])
    assert r.status_code == 302
    out = hub.run_code(s, "alice", f"MACHINE = {machine!r}\nPROGRAM = {program!r}\n" + HOP)
    assert out.startswith(("HOP", "NO HOP")), out
    if out.startswith("HOP"):  # the usual development machine: the first hop works
        assert 'Peer authentication failed for user "postgres"' in out, out
        assert "Permission denied" in out and "scram-sha-256" not in out, out


def test_the_store_trusts_nobody_and_the_hub_says_no_warning(hub):
    from scribe_lib.access.hba import trust_problems

    with psycopg.connect(hub.admin_url) as conn:  # root, by peer authentication
        rules = conn.execute(
            "SELECT line_number, type, database, user_name, address, auth_method "
            "FROM pg_hba_file_rules WHERE error IS NULL ORDER BY line_number"
        ).fetchall()
        listen = conn.execute("SHOW listen_addresses").fetchone()[0]
    assert {r[5] for r in rules} == {"peer", "reject", "scram-sha-256"}
    assert trust_problems(rules, PREFIX) == [] and listen == "127.0.0.1"
    log = hub.log.read_text()
    assert "the hub's own cluster in" in log and "passwords required" in log
    assert not [ln for ln in log.splitlines() if ln.startswith("WARNING:")]  # scribe hub's
    assert "agreement is not enforced" not in log


def test_reads_through_the_users_own_login_are_audited(hub):
    from scribe_lib.access import audit_entries

    entries = audit_entries(hub.admin_url, user="alice")
    reads = entries[entries["action"] == "read"]
    assert len(reads) >= 1, entries
    assert set(reads["db_user"]) == {RoleNames(PREFIX).user("alice")}
    assert (reads["rows"] > 0).all() and (reads["org"] == "bedfordshire-police").all()


def test_users_cannot_read_each_others_files_environment_or_secret(hub):
    alice, bob = sysname(hub, "alice"), sysname(hub, "bob")
    bob_home = Path(pwd.getpwnam(bob).pw_dir)
    bob_pid = hub.api("GET", "users/bob").json()["servers"][""]["state"]["pid"]
    environ = Path(f"/proc/{bob_pid}/environ").read_bytes()
    assert b"SCRIBE_STORE=" in environ  # the secret is there, for bob only
    assert b"SCRIBE_ADMIN_URL" not in environ and b"SCRIBE_ADMIN_PASSWORD" not in environ
    assert b"postgres@" not in environ  # never the superuser's URL
    own = as_user(alice, "cat", str(Path(pwd.getpwnam(alice).pw_dir) / accounts.SECRET_RELPATH))
    assert own.returncode == 0 and "SCRIBE_STORE=" in own.stdout  # alice reads her own
    for target in [bob_home / accounts.SECRET_RELPATH, Path(f"/proc/{bob_pid}/environ")]:
        r = as_user(alice, "cat", str(target))
        assert r.returncode != 0 and "Permission denied" in r.stderr, target
    r = as_user(alice, "ls", str(bob_home))
    assert r.returncode != 0 and "Permission denied" in r.stderr


def test_symlinks_planted_in_a_home_do_not_make_the_hub_leak_or_destroy(hub):
    """bob points his secret at alice's and his notebooks at a root-owned folder."""
    bob, alice = pwd.getpwnam(sysname(hub, "bob")), pwd.getpwnam(sysname(hub, "alice"))
    alice_secret = (Path(alice.pw_dir) / accounts.SECRET_RELPATH).read_text().strip()
    victim = hub.base / "victim"
    (victim / "apps").mkdir(parents=True)
    (victim / "apps" / "keep.txt").write_text("root's")
    script = (
        f'ln -sfn "{alice.pw_dir}/.scribe/db.env" "$HOME/.scribe/db.env" && '
        f'rm -rf "$HOME/notebooks" && ln -s "{victim}" "$HOME/notebooks"'
    )
    assert accounts.run_as(bob, script).returncode == 0
    assert hub.api("DELETE", "users/bob/server").status_code in (202, 204)
    s, _ = hub.login("bob", PASSWORDS["bob"])
    while hub.api("GET", "users/bob").json()["servers"]:
        time.sleep(0.5)
    hub.spawn(s, "bob")
    pid = hub.api("GET", "users/bob").json()["servers"][""]["state"]["pid"]
    environ = Path(f"/proc/{pid}/environ").read_bytes()
    assert alice_secret.encode() not in environ and b"SCRIBE_STORE=" not in environ
    assert (victim / "apps" / "keep.txt").read_text() == "root's"


def test_a_partner_viewer_lands_on_the_app_gallery_not_jupyterlab(hub):
    s, r = hub.login("carol", PASSWORDS["carol"])
    assert r.status_code == 302
    hub.spawn(s, "carol")
    landing = s.get(hub.url + "/user/carol/")
    assert landing.url.endswith("/user/carol/voila/tree/notebooks/apps"), landing.url
    assert landing.status_code == 200
    assert s.get(hub.url + "/user/carol/lab").status_code == 404


def test_revoked_user_is_refused_and_their_server_stopped(hub):
    s, _ = hub.login("alice", PASSWORDS["alice"])
    pid = hub.api("GET", "users/alice").json()["servers"][""]["state"]["pid"]
    store_url = hub.run_code(s, "alice", "import os; print(os.environ['SCRIBE_STORE'])").strip()
    r = hub.scribe("users", "revoke", "alice")
    assert r.returncode == 0 and "revoked alice" in r.stdout, r.stderr + hub.tail()
    assert hub.api("GET", "users/alice").json()["servers"] == {}
    assert (
        not Path(f"/proc/{pid}").exists() or Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    )
    _, r = hub.login("alice", PASSWORDS["alice"])
    assert r.status_code == 200 and f"User alice {NOT_AUTHORIZED}" in r.text
    home = s.get(hub.url + "/hub/home", allow_redirects=False)  # the old session is over
    assert home.status_code == 302 and "/hub/login" in home.headers["location"]
    with pytest.raises(
        psycopg.OperationalError, match="alice|password|authentication|not permitted"
    ):
        psycopg.connect(store_url).close()
    users = {u["name"]: u for u in hub.api("GET", "scribe/users").json()}
    assert users["alice"]["status"] == "revoked" and users["bob"]["status"] == "approved"
    token = {"Authorization": f"token {hub.tokens['alice']}"}
    assert requests.get(hub.url + "/hub/api/user", headers=token).status_code == 403
    uid = pwd.getpwnam(sysname(hub, "alice")).pw_uid
    running = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _uid(p) == uid]
    assert running == []
    assert not (Path(pwd.getpwnam(sysname(hub, "alice")).pw_dir) / accounts.SECRET_RELPATH).exists()


def _uid(proc: Path) -> int | None:
    try:
        return proc.stat().st_uid
    except FileNotFoundError:
        return None


def test_a_revoked_user_can_be_approved_again(hub):
    r = hub.scribe("users", "approve", "alice", "--org", "csp-analysts", "--role", "viewer")
    assert r.returncode == 0, r.stderr
    _, r = hub.login("alice", PASSWORDS["alice"])
    assert r.status_code == 302
    entry = pwd.getpwnam(sysname(hub, "alice"))
    assert (Path(entry.pw_dir) / accounts.SECRET_RELPATH).read_text().startswith("SCRIBE_STORE=")
    groups = hub.api("GET", "users/alice").json()["groups"]
    assert sorted(groups) == ["csp-analysts", "role-viewer"]  # the old ones are gone


def test_deleting_a_user_also_takes_their_logins_away(hub):
    entry = pwd.getpwnam(sysname(hub, "dave"))
    secret = (Path(entry.pw_dir) / accounts.SECRET_RELPATH).read_text().split("=", 1)[1].strip()
    psycopg.connect(secret).close()  # dave's database login works
    assert hub.api("DELETE", "users/dave").status_code == 204
    assert "dave" not in {u["name"] for u in hub.api("GET", "scribe/users").json()}
    with pytest.raises(
        psycopg.OperationalError, match="dave|password|authentication|not permitted"
    ):
        psycopg.connect(secret).close()
    assert not (Path(entry.pw_dir) / accounts.SECRET_RELPATH).exists()
    assert hub.signup("dave", PASSWORDS["dave"], "luton-council").startswith("Your information")


def test_state_survives_a_restart_and_the_manager_password_is_not_reset(hub):
    hub.stop()
    hub.cluster.stop()  # as after a reboot: `scribe hub` starts its PostgreSQL again
    assert not hub.cluster.running()
    hub.env["SCRIBE_ADMIN_PASSWORD"] = "A-Different-Password-1"
    hub.start()
    starts = [ln for ln in hub.log.read_text().splitlines() if "the hub's own cluster in" in ln]
    assert "(created, started)" in starts[0] and "(started)" in starts[-1], starts
    _, r = hub.login("manager", "A-Different-Password-1")
    assert r.status_code == 200  # only the first start takes the password
    _, r = hub.login("manager", MANAGER_PASSWORD)
    assert r.status_code == 302
    _, r = hub.login("bob", PASSWORDS["bob"])
    assert r.status_code == 302


@pytest.mark.browser
def test_sign_up_and_approval_pages_work_in_a_browser(hub):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(hub.url + "/hub/signup")
            page.fill("#username_input", "erin")
            page.fill("#full_name_input", "Erin Example")
            page.fill("#email_input", "erin@luton.example.org")
            page.select_option("#organisation_input", "bedford-council")
            page.fill("#password_input", "Erin-Sparrow-4411")
            page.fill("#password_confirmation_input", "Erin-Sparrow-4411")
            page.click("#signup_submit")
            assert "sent to the admin" in page.inner_text(".alert")

            manager = browser.new_page()
            manager.goto(hub.url + "/hub/login")
            manager.fill("input[name=username]", "manager")
            manager.fill("input[name=password]", MANAGER_PASSWORD)
            manager.click("input[type=submit]")
            manager.goto(hub.url + "/hub/authorize")
            row = manager.locator("#member-erin")
            assert "bedford-council" in row.inner_text()  # what she asked for
            row.locator("select[name=role]").select_option("viewer")
            row.locator("button[type=submit]").first.click()
            assert "erin approved: bedford-council, viewer" in manager.inner_text("#scribe-message")
            assert "approved" in manager.locator("#member-erin").inner_text()
        finally:
            browser.close()
    groups = hub.api("GET", "users/erin").json()["groups"]
    assert sorted(groups) == ["bedford-council", "role-viewer"]
