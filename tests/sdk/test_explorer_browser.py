"""The permission explorer (`/explorer/`) in real headless browsers, on fixtures/teaching.json.

Every test runs in Chromium and in Firefox. Playwright drives Debian's `chromium`
(`/usr/bin/chromium`, or UC_EXPLORER_CHROMIUM) and Debian's `firefox-esr` (`/usr/bin/firefox-esr`,
or UC_EXPLORER_FIREFOX; through WebDriver BiDi, Playwright's `moz-firefox` channel, as Playwright's
own patched Firefox cannot be downloaded here); browsers are never downloaded. `tests/run`
installs both packages when they are missing. Every fact the page shows is compared with what the
API answers to the same token. Screenshots of the main views are written to a temporary folder
(printed; UC_EXPLORER_SHOTS names another) and, with UC_EXPLORER_README_SHOTS=1, to docs/ for the
README (from Chromium).
"""

import base64
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from databricks.sdk.errors import DatabricksError

from conftest import REPO_ROOT, TEACHING_TOKENS, UC

CHROMIUM = os.environ.get("UC_EXPLORER_CHROMIUM", "/usr/bin/chromium")
FIREFOX = os.environ.get("UC_EXPLORER_FIREFOX", "/usr/bin/firefox-esr")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Firefox: no update checks, telemetry or other background requests to any host.
FIREFOX_PREFS = {"app.update.enabled": False, "browser.shell.checkDefaultBrowser": False,
                 "datareporting.policy.dataSubmissionEnabled": False, "toolkit.telemetry.enabled": False,
                 "network.captive-portal-service.enabled": False, "network.connectivity-service.enabled": False,
                 "browser.safebrowsing.malware.enabled": False, "browser.safebrowsing.phishing.enabled": False,
                 "extensions.update.enabled": False, "browser.search.update": False}
REVENUE = "sales.reports.revenue"
GRACE, HENRY = "grace@acme.example", "henry@acme.example"

if not Path(CHROMIUM).exists():
    pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium) or run tests/run",
                pytrace=False)
if not Path(FIREFOX).exists():
    pytest.fail(f"{FIREFOX} not found: install Debian's firefox-esr (apt-get install -y firefox-esr) or run tests/run",
                pytrace=False)
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (tests/sdk/requirements.txt)")

SHOTS = Path(os.environ.get("UC_EXPLORER_SHOTS") or tempfile.mkdtemp(prefix="uc-explorer-shots-"))


@pytest.fixture(scope="module", params=["chromium", "firefox"])
def browser(request):
    with sync_api.sync_playwright() as p:
        if request.param == "chromium":
            b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        else:
            # Stock Firefox speaks WebDriver BiDi; Playwright reaches it through the `moz-` channels.
            b = p.firefox.launch(executable_path=FIREFOX, channel="moz-firefox", headless=True,
                                 firefox_user_prefs=FIREFOX_PREFS)
        b.uc_name = request.param
        yield b
        b.close()
    print(f"\nexplorer screenshots: {SHOTS}")


# Before a screenshot in Firefox, Playwright appends `<style>body {}</style>` to the page to sync
# animations; the page's CSP (rightly) refuses inline styles, and Firefox reports the refusal as
# a page error. Only that report, naming the hash of exactly "body {}", is the harness's own.
BODY_STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(b"body {}").digest()).decode()


def harness_csp_report(text):
    return "inline style" in text and BODY_STYLE_HASH in text


class Page:
    """A page on one server, recording requests, console messages and uncaught exceptions."""

    def __init__(self, browser, server):
        self.server = server
        self.browser_name = browser.uc_name
        self.ctx = browser.new_context(viewport={"width": 1280, "height": 800})
        self.p = self.ctx.new_page()
        self.requests, self.console, self.errors = [], [], []
        self.p.on("request", lambda r: self.requests.append(r.url))
        self.p.on("console", lambda m: self.console.append((m.type, m.text)))
        self.p.on("pageerror", lambda e: None if harness_csp_report(str(e)) else self.errors.append(str(e)))
        self.p.set_default_timeout(10_000)

    def settle(self):
        """Waits until the page has no API request in flight (twice: answers start new requests)."""
        for _ in range(2):
            self.p.locator('html[data-pending="0"]').wait_for(state="attached")
            self.p.wait_for_timeout(50)

    def t(self, testid, extra=""):
        return self.p.locator(f'[data-testid="{testid}"]{extra}')

    def open(self):
        self.p.goto(self.server.url + "/")
        self.t("signin-form").wait_for()

    def sign_in(self, token):
        self.t("signin-token").fill(token)
        self.t("signin-submit").click()

    def signed_in(self, who):
        self.open()
        self.sign_in(TEACHING_TOKENS[who])
        self.t("tree-node", '[data-securable-type="metastore"]').wait_for()
        self.settle()

    def node(self, full_name):
        return self.p.locator(f'li[data-testid="tree-node"][data-full-name="{full_name}"]')

    def expand(self, full_name):
        n = self.node(full_name)
        if n.get_attribute("aria-expanded") != "true":
            n.locator(':scope > .row [data-testid="tree-toggle"]').click()
        self.settle()

    def select(self, full_name):
        parts = full_name.split(".")
        for i in range(1, len(parts)):
            self.expand(".".join(parts[:i]))
        self.node(full_name).locator(':scope > .row [data-testid="tree-label"]').click()
        self.p.locator(f'[data-testid="card"][data-full-name="{full_name}"]').wait_for()
        self.t("explain-run").wait_for()
        self.settle()

    def children(self, full_name):
        return self.node(full_name).locator(':scope > ul > li[data-testid="tree-node"]')

    def names(self, locator):
        return [locator.nth(i).get_attribute("data-full-name") for i in range(locator.count())]

    def explain(self, principal, action):
        self.t("explain-principal").select_option(principal)
        self.t("explain-action").select_option(action)
        self.t("explain-run").click()
        self.p.locator(f'[data-testid="explain-result"][data-principal="{principal}"][data-action="{action}"]').wait_for()
        self.settle()

    def shot(self, name):
        prefix = "" if self.browser_name == "chromium" else f"{self.browser_name}-"
        self.p.screenshot(path=str(SHOTS / f"{prefix}{name}.png"))

    def only_own_origin(self):
        others = [u for u in self.requests if not u.startswith(self.server.url + "/")]
        assert others == [], f"requests to other hosts: {others}"

    def no_console_errors(self):
        assert self.errors == [], self.errors
        assert [m for m in self.console if m[0] == "error"] == [], self.console

    def close(self):
        self.ctx.close()


@pytest.fixture
def page(browser, teaching):
    pg = Page(browser, teaching)
    yield pg
    pg.only_own_origin()
    assert pg.errors == [], f"uncaught exceptions: {pg.errors}"
    pg.close()


def api(server, who, path, **query):
    return server.client(TEACHING_TOKENS[who]).api_client.do("GET", path, query=query or None)


def test_sign_in_with_a_bad_and_a_good_token(page):
    page.open()
    page.shot("00-sign-in")
    page.sign_in("dapi-not-a-token")
    err = page.t("error")
    err.wait_for()
    assert err.get_attribute("role") == "alert"
    assert err.get_attribute("data-status") == "401" and err.get_attribute("data-error-code") == "UNAUTHENTICATED"
    assert "Invalid access token." in err.inner_text()
    assert page.t("signin-form").is_visible() and page.t("whoami").is_hidden()
    assert page.p.evaluate("sessionStorage.length") == 0

    page.sign_in(TEACHING_TOKENS["grace"])
    page.t("whoami").wait_for()
    assert page.t("whoami").get_attribute("data-principal") == GRACE
    assert page.t("signin-form").is_hidden() and page.t("error").count() == 0
    # The token lives in this tab's session storage only, never in the URL, local storage or cookies.
    assert TEACHING_TOKENS["grace"] in page.p.evaluate("Object.values(sessionStorage)")
    assert page.p.evaluate("localStorage.length") == 0 and page.ctx.cookies() == []
    assert all(TEACHING_TOKENS["grace"] not in u for u in page.requests)
    assert TEACHING_TOKENS["grace"] not in page.p.content()
    # A reload stays signed in; sign-out forgets the token.
    page.p.reload()
    page.t("whoami").wait_for()
    assert page.t("whoami").get_attribute("data-principal") == GRACE
    assert page.t("view-as").count() == 0 or page.t("view-as").is_hidden()  # grace is no metastore admin
    page.t("signout").click()
    page.t("signin-form").wait_for()
    assert page.p.evaluate("sessionStorage.length") == 0


def test_tree_shows_what_the_api_shows(page):
    # Admin: both catalogs; grace: what listCatalogs gives her; henry: nothing below the metastore.
    for who in ("acme_admin", "grace", "henry"):
        page.signed_in(who)
        ms = api(page.server, who, f"{UC}/metastore_summary")
        root = page.node(ms["metastore_id"])
        assert root.get_attribute("data-securable-type") == "metastore"
        assert root.locator(':scope > .row [data-testid="tree-label"]').inner_text() == "acme"
        want = [c["name"] for c in api(page.server, who, f"{UC}/catalogs", include_browse="true").get("catalogs", [])]
        assert page.names(page.children(ms["metastore_id"])) == want, who
        if who == "acme_admin":
            assert want == ["engineering", "sales"]
            page.expand("sales")
            page.expand("sales.reports")
            # Tables, then volumes, then functions, as their lists give them.
            assert page.names(page.children("sales.reports")) == ["sales.reports.forecast", REVENUE,
                                                                  "sales.reports.fiscal_quarter"]
            assert page.node(REVENUE).get_attribute("data-table-type") == "MANAGED"
            assert page.node("sales.reports.fiscal_quarter").get_attribute("data-securable-type") == "function"
            page.expand("engineering")
            page.expand("engineering.raw")
            raw = page.children("engineering.raw")
            assert [(raw.nth(i).get_attribute("data-securable-type"), raw.nth(i).get_attribute("data-full-name"))
                    for i in range(raw.count())] == [("table", "engineering.raw.events"), ("volume", "engineering.raw.landing")]
            page.shot("01-tree-admin")
        if who == "grace":
            page.expand("sales")
            schemas = api(page.server, "grace", f"{UC}/schemas", catalog_name="sales", include_browse="true")["schemas"]
            assert page.names(page.children("sales")) == [s["full_name"] for s in schemas]
            page.expand("sales.pipeline")
            tables = api(page.server, "grace", f"{UC}/tables", catalog_name="sales", schema_name="pipeline")["tables"]
            assert page.names(page.children("sales.pipeline")) == [t["full_name"] for t in tables] == ["sales.pipeline.leads"]
        if who == "henry":
            assert want == []
        page.no_console_errors()
        page.t("signout").click()


def test_card_direct_and_effective_grants_with_sources(page):
    page.signed_in("acme_admin")
    page.select("sales.reports")
    card = page.t("card")
    assert card.get_attribute("data-securable-type") == "schema"
    assert page.t("card-owner").inner_text() == "admin@acme.example"
    assert "SCHEMA" in page.t("card-type").inner_text()
    direct = api(page.server, "acme_admin", f"{UC}/permissions/schema/sales.reports")["privilege_assignments"]
    rows = page.t("grant-row")
    assert [(rows.nth(i).get_attribute("data-principal"), rows.nth(i).get_attribute("data-privileges"))
            for i in range(rows.count())] == [(a["principal"], ",".join(a["privileges"])) for a in direct]

    page.select(REVENUE)
    assert page.t("card-full-name").inner_text() == REVENUE
    assert "MANAGED" in page.t("card-type").inner_text()
    assert page.t("grant-row").count() == 0  # no direct grants
    eff = page.t("effective-row")
    got = sorted(((eff.nth(i).get_attribute("data-principal"), eff.nth(i).get_attribute("data-privilege"),
                  eff.nth(i).get_attribute("data-source"), eff.nth(i).get_attribute("data-inherited-from"),
                  eff.nth(i).get_attribute("data-inherited-from-type")) for i in range(eff.count())), key=str)
    assert got == sorted([
        ("analytics", "SELECT", "inherited", "sales.reports", "schema"),
        ("interns", "SELECT", "inherited", "sales.reports", "schema"),
        ("admin@acme.example", "OWN", "ownership", None, None),
        ("admin@acme.example", "OWN", "ownership", "sales", "catalog"),
        ("admin@acme.example", "OWN", "ownership", "sales.reports", "schema"),
    ], key=str)
    # The API agrees on the grant rows.
    api_eff = api(page.server, "acme_admin", f"{UC}/effective-permissions/table/{REVENUE}")["privilege_assignments"]
    assert sorted((a["principal"], p["privilege"], p.get("inherited_from_name")) for a in api_eff for p in a["privileges"]) == [
        ("analytics", "SELECT", "sales.reports"), ("interns", "SELECT", "sales.reports")]
    # For grace: held via her group analytics (she is in marketing-analysts, nested in analytics).
    page.t("card-effective-for").select_option(GRACE)
    eff = page.t("effective-row")
    assert [(eff.nth(i).get_attribute("data-principal"), eff.nth(i).get_attribute("data-privilege"),
             eff.nth(i).get_attribute("data-via-group")) for i in range(eff.count())] == [(GRACE, "SELECT", "analytics")]
    page.t("card-effective-for").select_option("erin@acme.example")
    assert page.t("effective-none").is_visible() and page.t("effective-row").count() == 0
    page.t("card-effective-for").select_option("")
    page.shot("02-card")
    page.no_console_errors()


def test_explain_allowed_and_denied_with_the_path(page):
    page.signed_in("acme_admin")
    page.select(REVENUE)
    actions = [o.get_attribute("value") for o in page.t("explain-action").locator("option").all()]
    api_actions = [a["name"] for a in api(page.server, "acme_admin", f"{UC}/explain/actions", securable_type="table")["actions"]]
    assert actions == api_actions

    page.explain(GRACE, "getTable")
    res = page.t("explain-result")
    assert res.get_attribute("data-allowed") == "true" and page.t("explain-verdict").inner_text() == "ALLOWED"
    want = api(page.server, "acme_admin", f"{UC}/explain", principal=GRACE, action="getTable",
               securable_type="table", full_name=REVENUE)
    assert page.t("explain-text").inner_text() == want["explanation"]
    reasons = page.t("explain-reason")
    assert [reasons.nth(i).inner_text() for i in range(reasons.count())] == [r["text"] for r in want["reasons"]]
    marked = page.p.locator('li[data-testid="tree-node"][data-explain="grants"]')
    assert sorted(page.names(marked)) == ["sales", "sales.reports"]
    page.shot("03-explain-allowed")

    page.explain(HENRY, "getTable")
    assert page.t("explain-result").get_attribute("data-allowed") == "false"
    assert page.t("explain-verdict").inner_text() == "DENIED"
    assert "lacks USE_CATALOG on Catalog 'sales'" in page.t("explain-text").inner_text()
    assert page.node(REVENUE).get_attribute("data-explain") == "denied"
    assert page.node("sales").get_attribute("data-explain") == "missing"
    assert page.node("sales.reports").get_attribute("data-explain") == "grants"
    assert page.t("explain-requirement").locator("li.lacks").count() > 0
    page.node(REVENUE).scroll_into_view_if_needed()
    page.shot("04-explain-denied")
    # A volume: frank holds READ_VOLUME on engineering.raw.landing but no USE_SCHEMA on engineering.raw.
    page.select("engineering.raw.landing")
    assert "VOLUME" in page.t("card-type").inner_text()
    page.explain("frank@acme.example", "readVolume")
    assert page.t("explain-result").get_attribute("data-allowed") == "false"
    assert "USE_SCHEMA on Schema 'engineering.raw'" in page.t("explain-text").inner_text()
    assert page.node("engineering.raw").get_attribute("data-explain") == "missing"
    page.select(REVENUE)
    # A privilege name: held, not usable.
    page.explain(HENRY, "SELECT")
    assert page.t("explain-result").get_attribute("data-allowed") == "false"
    assert "holds SELECT on Table 'sales.reports.revenue' but cannot use it" in page.t("explain-text").inner_text()
    page.no_console_errors()


def test_grant_then_revoke_through_the_page(page):
    admin = page.server.client(TEACHING_TOKENS["acme_admin"])

    def interns_on_sales():
        return [a.privileges for a in admin.grants.get("catalog", "sales").privilege_assignments if a.principal == "interns"]

    page.signed_in("acme_admin")
    page.select("sales")
    assert page.t("grant-form").is_visible()
    page.t("grant-principal").fill("interns")
    page.t("grant-privilege").select_option("USE_CATALOG")
    page.t("grant-add").click()
    page.p.locator('[data-testid="grant-row"][data-principal="interns"]').wait_for()
    assert page.p.locator('[data-testid="grant-row"][data-principal="interns"]').get_attribute("data-privileges") == "USE_CATALOG"
    assert [[p.value for p in ps] for ps in interns_on_sales()] == [["USE_CATALOG"]]
    # henry can now read the table: explain says so, and so does the API.
    page.select(REVENUE)
    page.explain(HENRY, "getTable")
    assert page.t("explain-result").get_attribute("data-allowed") == "true"
    assert page.server.client(TEACHING_TOKENS["henry"]).tables.get(REVENUE).full_name == REVENUE
    page.shot("05-after-grant")
    # Revoke again.
    page.select("sales")
    page.t("grant-principal").fill("interns")
    page.t("grant-privilege").select_option("USE_CATALOG")
    page.t("grant-remove").click()
    page.p.locator('[data-testid="grant-row"][data-principal="interns"]').wait_for(state="detached")
    assert interns_on_sales() == []
    page.no_console_errors()


def test_a_refused_grant_shows_the_api_message(page):
    page.signed_in("acme_admin")
    page.select("sales")
    before = page.server.client(TEACHING_TOKENS["acme_admin"]).grants.get("catalog", "sales").as_dict()
    page.t("grant-principal").fill("nobody@acme.example")
    page.t("grant-privilege").select_option("USE_CATALOG")
    page.t("grant-add").click()
    err = page.t("error")
    err.wait_for()
    assert err.get_attribute("data-status") == "404" and err.get_attribute("data-error-code") == "PRINCIPAL_DOES_NOT_EXIST"
    assert "nobody@acme.example" in err.inner_text()
    assert page.server.client(TEACHING_TOKENS["acme_admin"]).grants.get("catalog", "sales").as_dict() == before
    # A plain user is offered no controls where the API would refuse them.
    page.t("signout").click()
    page.signed_in("grace")
    page.select("sales")
    assert page.t("grant-form").count() == 0
    assert page.t("card-grants-limited").is_visible()


def test_view_as_henry_and_principals(page):
    page.signed_in("acme_admin")
    page.t("view-as").select_option(HENRY)
    page.t("view-as-banner").wait_for()
    page.settle()
    assert page.t("view-as-banner").get_attribute("data-principal") == HENRY
    assert page.t("whoami").get_attribute("data-principal") == "admin@acme.example"
    ms = api(page.server, "acme_admin", f"{UC}/metastore_summary")["metastore_id"]
    page.node(ms).wait_for()
    assert page.children(ms).count() == 0  # the tree is empty below the metastore
    page.shot("06-view-as-henry")
    page.t("view-as").select_option("")
    page.t("view-as-banner").wait_for(state="detached")
    page.settle()
    assert page.names(page.children(ms)) == ["engineering", "sales"]

    page.t("nav-principals").click()
    page.t("principals-view").wait_for()
    kinds = {r.get_attribute("data-principal"): r.get_attribute("data-principal-kind") for r in page.t("principal-row").all()}
    assert kinds[GRACE] == "user" and kinds["analytics"] == "group" and kinds["account users"] == "group"
    assert kinds["7a1e0000-0000-4000-8000-00000000e71b"] == "service_principal"
    page.p.locator(f'[data-testid="principal-row"][data-principal="{GRACE}"]').click()
    page.p.locator(f'[data-testid="principal-detail"][data-principal="{GRACE}"]').wait_for()
    groups = {g.get_attribute("data-group"): g.get_attribute("data-direct") for g in page.t("principal-group").all()}
    assert groups == {"marketing-analysts": "true", "analytics": "false", "account users": "true"}
    page.t("principal-grant").first.wait_for()
    page.settle()
    grants = {(g.get_attribute("data-full-name"), g.get_attribute("data-privilege"), g.get_attribute("data-via-group"))
              for g in page.t("principal-grant").all()}
    assert ("sales", "USE_CATALOG", "analytics") in grants
    assert ("sales.pipeline.leads", "SELECT", "marketing-analysts") in grants
    page.shot("07-principals")
    page.p.locator('[data-testid="principal-row"][data-principal="analytics"]').click()
    page.p.locator('[data-testid="principal-detail"][data-principal="analytics"]').wait_for()
    members = {m.get_attribute("data-member"): m.get_attribute("data-direct") for m in page.t("principal-member").all()}
    assert members == {"frank@acme.example": "true", "marketing-analysts": "true", GRACE: "false"}
    page.settle()
    page.no_console_errors()


def test_tree_pages_past_fifty_children(page):
    """A schema with more than one page of tables: 50 shown, then `tree-more` loads the rest."""
    admin = page.server.client(TEACHING_TOKENS["acme_admin"])
    for i in range(57):
        admin.api_client.do("POST", f"{UC}/tables", body={
            "catalog_name": "sales", "schema_name": "reports", "name": f"bulk_{i:02d}", "table_type": "MANAGED",
            "data_source_format": "DELTA", "columns": []})
    every_table, token = [], None
    while True:
        d = api(page.server, "acme_admin", f"{UC}/tables", catalog_name="sales", schema_name="reports",
                max_results="50", **({"page_token": token} if token else {}))
        every_table += [t["full_name"] for t in d.get("tables", [])]
        token = d.get("next_page_token")
        if not token:
            break
    assert len(every_table) == 59  # forecast, revenue and the 57 new ones

    page.signed_in("acme_admin")
    page.expand("sales")
    page.expand("sales.reports")
    kids = page.children("sales.reports")
    tables = lambda: [n for n in page.names(kids) if page.node(n).get_attribute("data-securable-type") == "table"]
    assert tables() == every_table[:50]
    more = page.node("sales.reports").locator('[data-testid="tree-more"]')
    assert more.count() == 1 and more.is_visible()
    assert page.p.locator('[data-testid="tree-more"]').count() == 1  # only the node with more to load
    more.click()
    page.settle()
    # The next page is appended to the tables, before the function of the first page, and the
    # control goes away with nothing more to load.
    assert tables() == every_table
    assert page.names(kids)[-1] == "sales.reports.fiscal_quarter"
    assert page.node("sales.reports").locator('[data-testid="tree-more"]').count() == 0
    # Every list request asked for a page of 50.
    lists = [u for u in page.requests if f"{UC}/tables?" in u]
    assert len(lists) == 2 and all("max_results=50" in u for u in lists), lists
    page.shot("08-tree-more")
    page.no_console_errors()


def test_browse_only_marks_in_place_list_errors_search_and_a_revoked_token(page):
    """What a plain user meets: BROWSE-only nodes, a list the API refuses after the tree was
    drawn, an emptied search, and a token deleted while the page is open."""
    admin = page.server.client(TEACHING_TOKENS["acme_admin"])
    henry = page.server.client(TEACHING_TOKENS["henry"])
    admin.api_client.do("PATCH", f"{UC}/permissions/catalog/engineering",
                        body={"changes": [{"principal": "interns", "add": ["BROWSE"]}]})
    admin.api_client.do("PATCH", f"{UC}/permissions/catalog/sales",
                        body={"changes": [{"principal": "interns", "add": ["USE_CATALOG"]}]})
    # henry signs in with a token of his own, made for this test.
    token = henry.tokens.create(comment="explorer test", lifetime_seconds=600)
    page.open()
    page.sign_in(token.token_value)
    page.t("tree-node", '[data-securable-type="metastore"]').wait_for()
    page.settle()
    ms = api(page.server, "henry", f"{UC}/metastore_summary")["metastore_id"]
    assert page.names(page.children(ms)) == ["engineering", "sales"]

    # BROWSE only: marked in the tree, on the card, and on the children the API marks.
    assert page.node("engineering").get_attribute("data-browse-only") == "true"
    assert page.node("sales").get_attribute("data-browse-only") in (None, "false")
    page.node("engineering").locator(':scope > .row [data-testid="tree-label"]').click()
    page.p.locator('[data-testid="card"][data-full-name="engineering"]').wait_for()
    page.settle()
    assert page.t("card-browse-only").is_visible()
    page.expand("engineering")
    schemas = api(page.server, "henry", f"{UC}/schemas", catalog_name="engineering", include_browse="true")["schemas"]
    assert page.names(page.children("engineering")) == [s["full_name"] for s in schemas]
    assert schemas and all(s["browse_only"] for s in schemas)
    assert all(page.node(s["full_name"]).get_attribute("data-browse-only") == "true" for s in schemas)

    # The grant that let henry see `sales` is revoked while the page is open: expanding it shows
    # the API's refusal in the node's place, the node stays, the global error area stays empty.
    admin.api_client.do("PATCH", f"{UC}/permissions/catalog/sales",
                        body={"changes": [{"principal": "interns", "remove": ["USE_CATALOG"]}]})
    page.expand("sales")
    refused = page.node("sales").locator(":scope > ul > li.node-error")
    refused.wait_for()
    assert "PERMISSION_DENIED" in refused.inner_text() and "USE_CATALOG on Catalog 'sales'" in refused.inner_text()
    assert page.node("sales").is_visible() and page.t("error").count() == 0

    # Search: only matches and their ancestors; an empty search shows the tree as before.
    page.t("tree-search").fill("raw")
    page.t("tree-search").press("Enter")
    page.node("engineering.raw").wait_for(state="visible")
    page.settle()
    assert page.node("sales").is_hidden() and page.node("engineering.curated").is_hidden()
    page.shot("09-search-browse-only")
    page.t("tree-search").fill("")
    page.t("tree-search").press("Enter")
    page.node("sales").wait_for(state="visible")
    assert page.node("engineering.curated").is_visible()

    # The token is deleted: the next call signs the page out and shows the API's message.
    henry.tokens.delete(token.token_info.token_id)
    page.node("engineering.curated").locator(':scope > .row [data-testid="tree-label"]').click()
    page.t("signin-form").wait_for()
    err = page.t("error")
    err.wait_for()
    assert err.get_attribute("data-status") == "401"
    assert page.t("whoami").count() == 0 or page.t("whoami").is_hidden()
    assert page.p.evaluate("sessionStorage.length") == 0
    # 401 answers are the API's: the browser logs them as failed loads, never as exceptions.
    assert page.errors == []


def test_a_workspace_without_a_metastore_shows_the_apis_message(page):
    admin = page.server.client(TEACHING_TOKENS["acme_admin"])
    current = admin.metastores.current()
    admin.metastores.unassign(current.workspace_id, current.metastore_id)
    want = admin.api_client
    page.open()
    page.sign_in(TEACHING_TOKENS["acme_admin"])
    empty = page.t("tree-empty")
    empty.wait_for()
    page.settle()
    with pytest.raises(DatabricksError) as refused:  # the API's own answer: its message is what the page shows
        want.do("GET", f"{UC}/metastore_summary")
    assert str(refused.value) and str(refused.value) in empty.inner_text()
    assert page.t("tree").count() == 0 and page.t("error").count() == 0
    assert page.errors == []


def test_keyboard_navigation_of_the_tree(page):
    page.signed_in("acme_admin")
    ms = api(page.server, "acme_admin", f"{UC}/metastore_summary")["metastore_id"]
    page.node(ms).focus()
    focused = lambda: page.p.evaluate("document.activeElement.getAttribute('data-full-name')")
    page.p.keyboard.press("ArrowDown")
    assert focused() == "engineering"
    page.p.keyboard.press("ArrowDown")
    assert focused() == "sales"
    page.p.keyboard.press("ArrowRight")  # expand
    page.node("sales.reports").wait_for()
    assert page.node("sales").get_attribute("aria-expanded") == "true"
    page.p.keyboard.press("ArrowRight")  # first child
    assert focused() == "sales.default"
    page.p.keyboard.press("ArrowLeft")  # to the parent
    assert focused() == "sales"
    page.p.keyboard.press("ArrowLeft")  # collapse
    assert page.node("sales").get_attribute("aria-expanded") == "false"
    page.p.keyboard.press("Home")
    assert focused() == ms
    page.p.keyboard.press("End")
    assert focused() == "sales"
    page.p.keyboard.press("Enter")
    page.p.locator('[data-testid="card"][data-full-name="sales"]').wait_for()
    assert page.node("sales").get_attribute("aria-selected") == "true"
    # One tab stop: only the focused node is tabbable.
    assert page.p.locator('li[data-testid="tree-node"][tabindex="0"]').count() == 1
    # Search finds tables in levels not loaded yet.
    page.t("tree-search").fill("lead")
    page.t("tree-search").press("Enter")
    page.node("sales.pipeline.leads").wait_for(state="visible")
    assert page.node("sales.reports").is_hidden() and page.node("engineering").is_hidden()
    page.settle()
    page.no_console_errors()


def test_readme_screenshots(page):
    """The walkthrough's main views at 1280×800; copied into docs/ with UC_EXPLORER_README_SHOTS=1."""
    page.signed_in("acme_admin")
    page.select(REVENUE)
    page.explain(HENRY, "getTable")
    page.t("explain-verdict").scroll_into_view_if_needed()
    page.shot("readme-explorer-denied")
    page.t("view-as").select_option(HENRY)
    page.t("view-as-banner").wait_for()
    page.settle()
    page.shot("readme-explorer-view-as")
    page.t("view-as").select_option("")
    page.t("view-as-banner").wait_for(state="detached")
    page.t("nav-principals").click()
    page.p.locator(f'[data-testid="principal-row"][data-principal="{GRACE}"]').click()
    page.t("principal-grant").first.wait_for()
    page.settle()
    page.shot("readme-explorer-principals")
    page.no_console_errors()
    if os.environ.get("UC_EXPLORER_README_SHOTS") == "1" and page.browser_name == "chromium":
        docs = REPO_ROOT / "docs"
        docs.mkdir(exist_ok=True)
        for name in ("denied", "view-as", "principals"):
            shutil.copy(SHOTS / f"readme-explorer-{name}.png", docs / f"explorer-{name}.png")
