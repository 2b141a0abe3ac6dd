"""The explain endpoint and CLI on the teaching fixture (README "Teaching walkthrough":
`GET /api/2.1/unity-catalog/explain`, `uc-emulator explain`)."""

import json
import os
import subprocess

from databricks.sdk.errors import BadRequest, PermissionDenied
from databricks.sdk.service.catalog import PermissionsChange, Privilege

from conftest import TEACHING_TOKENS, UC, emulator_bin, raises

GRACE, HENRY, FRANK, ERIN = "grace@acme.example", "henry@acme.example", "frank@acme.example", "erin@acme.example"
REVENUE, LEADS = "sales.reports.revenue", "sales.pipeline.leads"


def client(srv, who):
    return srv.client(TEACHING_TOKENS[who])


def explain(srv, who, **q):
    return client(srv, who).api_client.do("GET", f"{UC}/explain", query=q)


def cli(srv, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("UC_EMULATOR_")}
    return subprocess.run([str(emulator_bin()), "explain", "--db", srv.db, *args], capture_output=True, text=True,
                          timeout=30, env=env)


def test_explain_allowed_names_the_groups(teaching):
    r = explain(teaching, "grace", action="getTable", securable_type="table", full_name=REVENUE)
    assert r["allowed"] is True
    assert r["principal"] == GRACE
    kinds = {x["kind"] for x in r["reasons"]}
    assert kinds == {"grant"}
    texts = [x["text"] for x in r["reasons"]]
    # grace's access comes from `analytics`, which contains her group `marketing-analysts`.
    assert "holds USE_CATALOG on Catalog 'sales' via group 'analytics'" in texts
    assert "holds USE_SCHEMA on Schema 'sales.reports' via group 'analytics'" in texts
    assert "holds SELECT on Schema 'sales.reports' via group 'analytics'" in texts
    assert r["explanation"].startswith(f"ALLOWED: {GRACE} may getTable on Table '{REVENUE}'")
    for t in texts:
        assert t in r["explanation"]

    # On leads the table grant and the schema grant come via the nested group.
    r = explain(teaching, "grace", action="getTable", securable_type="table", full_name=LEADS)
    assert r["allowed"] is True
    vias = {x["privilege"]: x["via"] for x in r["reasons"]}
    assert vias == {"USE_CATALOG": "group 'analytics'", "USE_SCHEMA": "group 'marketing-analysts'",
                    "SELECT": "group 'marketing-analysts'"}
    # ... and the decision matches what getTable does.
    assert client(teaching, "grace").tables.get(LEADS).full_name == LEADS


def test_explain_denied_names_the_missing_privilege(teaching):
    r = explain(teaching, "henry", action="getTable", securable_type="table", full_name=REVENUE)
    assert r["allowed"] is False
    # The missing link, with the securable it is on (without use of the catalog he learns nothing
    # about what lies below it).
    assert [x["kind"] for x in r["reasons"]] == ["missing"]
    assert r["reasons"][0]["text"] == "lacks USE_CATALOG on Catalog 'sales'"
    assert (r["reasons"][0]["securable"], r["reasons"][0]["privilege"]) == ("sales", "USE_CATALOG")
    assert r["explanation"].startswith(f"DENIED: {HENRY} may not getTable on Table '{REVENUE}' because it lacks "
                                       "USE_CATALOG on Catalog 'sales'.")
    assert "either" not in r["explanation"]
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=teaching):
        client(teaching, "henry").tables.get(REVENUE)

    # frank (analytics) may use sales but lacks the marketing-only grants on leads. Without use
    # of the schema he learns only that (not whether the table exists, nor what it needs) ...
    r = explain(teaching, "frank", action="getTable", securable_type="table", full_name=LEADS)
    assert r["allowed"] is False
    missing = [x["text"] for x in r["reasons"] if x["kind"] == "missing"]
    assert missing == ["lacks USE_SCHEMA on Schema 'sales.pipeline'"]  # not SELECT, not USE_CATALOG (he has it)
    assert "holds USE_CATALOG on Catalog 'sales' via group 'analytics'" in [x["text"] for x in r["reasons"]]
    missing_table = explain(teaching, "frank", action="getTable", securable_type="table", full_name="sales.pipeline.nope")
    assert missing_table["reasons"] == r["reasons"]
    # ... while a metastore admin explaining him sees the whole rule.
    r = explain(teaching, "acme_admin", principal=FRANK, action="getTable", securable_type="table", full_name=LEADS)
    missing = [x["text"] for x in r["reasons"] if x["kind"] == "missing"]
    assert missing == ["lacks USE_SCHEMA on Schema 'sales.pipeline'", "lacks SELECT on Table 'sales.pipeline.leads'"]
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=teaching):
        client(teaching, "frank").tables.get(LEADS)


def test_explain_requirement_tree_has_and_lacks(teaching):
    """The rule as a tree (any-of / all-of), with has/lacks at each node and ownership alternatives."""
    r = explain(teaching, "acme_admin", principal=HENRY, action="getTable", securable_type="table", full_name=REVENUE)
    tree = r["requirement"]
    assert (tree["kind"], tree["satisfied"]) == ("any_of", False)
    admin, chain = tree["children"]
    assert (admin["kind"], admin["text"], admin["satisfied"]) == ("role", "the metastore admin role", False)
    assert chain["kind"] == "all_of"
    got = [(c["kind"], c["text"], c["satisfied"]) for c in chain["children"]]
    assert got == [("privilege", "USE_CATALOG on Catalog 'sales'", False),
                   ("privilege", "USE_SCHEMA on Schema 'sales.reports'", True),
                   ("privilege", f"SELECT on Table '{REVENUE}'", True)]
    ways = [(w["kind"], w["text"], w["satisfied"]) for w in chain["children"][2]["children"]]
    assert ("grant", "a grant of SELECT on Schema 'sales.reports' (inherited)", True) in ways
    assert ("ownership", "ownership of Table 'sales.reports.revenue'", False) in ways
    assert ("ownership", "ownership of Catalog 'sales'", False) in ways
    held = [w for w in chain["children"][2]["children"] if w["satisfied"]]
    assert [w["evidence"] for w in held] == ["holds SELECT on Schema 'sales.reports' via group 'interns'"]


def test_explain_metastore_by_name(teaching):
    r = explain(teaching, "dana", action="createCatalog", securable_type="metastore", full_name="acme")
    assert r["allowed"] is True and r["full_name"] == "acme"
    assert r["explanation"] == ("ALLOWED: dana@acme.example may createCatalog on Metastore 'acme' because it holds "
                                "CREATE_CATALOG on Metastore 'acme' via group 'data-engineering'.")
    by_id = client(teaching, "dana").api_client.do("GET", f"{UC}/metastore_summary")["metastore_id"]
    assert explain(teaching, "dana", action="createCatalog", securable_type="metastore", full_name=by_id) == r
    r = explain(teaching, "henry", action="createCatalog", securable_type="metastore", full_name="acme")
    assert r["allowed"] is False and "Metastore 'acme'" in r["explanation"]


def test_explain_privilege_name_as_action(teaching):
    # henry holds SELECT (via interns, on the schema) but cannot use it: no USE_CATALOG on sales (a
    # metastore admin asks: henry himself, without use of the catalog, learns only that).
    r = explain(teaching, "acme_admin", principal=HENRY, action="SELECT", securable_type="table", full_name=REVENUE)
    assert (r["allowed"], r["held"], r["usable"], r["action"]) == (False, True, False, "SELECT")
    assert r["explanation"].startswith(f"DENIED: {HENRY} holds SELECT on Table '{REVENUE}' but cannot use it, "
                                       "because it lacks USE_CATALOG on Catalog 'sales'.")
    assert [(x["kind"], x.get("privilege"), x.get("securable"), x.get("via")) for x in r["reasons"]] == [
        ("missing", "USE_CATALOG", "sales", None),
        ("grant", "SELECT", "sales.reports", "group 'interns'"),
        ("grant", "USE_SCHEMA", "sales.reports", "group 'interns'")]
    # ... the same verdict as getTable, which is the lesson; henry asking himself learns the same verdict.
    assert explain(teaching, "henry", action="getTable", securable_type="table", full_name=REVENUE)["allowed"] is False
    mine = explain(teaching, "henry", action="SELECT", securable_type="table", full_name=REVENUE)
    assert mine["allowed"] is False and "lacks USE_CATALOG on Catalog 'sales'" in mine["explanation"]
    r = explain(teaching, "henry", action="USE_CATALOG", securable_type="catalog", full_name="sales")
    assert (r["allowed"], r["held"], r["usable"]) == (False, False, True)
    assert "USE_CATALOG on Catalog 'sales'" in r["explanation"]
    r = explain(teaching, "acme_admin", principal=FRANK, action="SELECT", securable_type="table", full_name=LEADS)
    assert (r["allowed"], r["held"]) == (False, False)
    assert r["reasons"][0]["kind"] == "missing" and "SELECT on Table 'sales.pipeline.leads'" in r["reasons"][0]["text"]
    # grace holds it and can use it.
    r = explain(teaching, "grace", action="SELECT", securable_type="table", full_name=LEADS)
    assert (r["allowed"], r["held"], r["usable"]) == (True, True, True)
    assert r["explanation"].startswith(f"ALLOWED: {GRACE} holds SELECT on Table '{LEADS}' and can use it")


def test_explain_ownership_via_group(teaching):
    r = explain(teaching, "erin", action="deleteTable", securable_type="table", full_name="engineering.raw.events")
    assert r["allowed"] is True
    assert any(x["kind"] == "owner" and x["via"] == "group 'data-engineering'" for x in r["reasons"])
    r = explain(teaching, "frank", action="deleteTable", securable_type="table", full_name="engineering.curated.daily_active_users")
    assert r["allowed"] is False


def test_non_admin_may_explain_only_themselves(teaching):
    for who, other in (("frank", GRACE), ("grace", HENRY), ("dana", FRANK)):
        with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=teaching):
            explain(teaching, who, principal=other, action="getTable", securable_type="table", full_name=REVENUE)
    # Naming oneself is the same as naming no one.
    mine = explain(teaching, "grace", principal=GRACE, action="getTable", securable_type="table", full_name=REVENUE)
    assert mine == explain(teaching, "grace", action="getTable", securable_type="table", full_name=REVENUE)


def test_admin_explains_anyone(teaching):
    r = explain(teaching, "acme_admin", principal=HENRY, action="getTable", securable_type="table", full_name=REVENUE)
    assert r["principal"] == HENRY and r["allowed"] is False
    # The same verdict and missing link as henry's own answer; the admin also learns what henry holds
    # on the table itself (henry, without use of the catalog, learns only about the parents).
    own = explain(teaching, "henry", action="getTable", securable_type="table", full_name=REVENUE)
    assert own["allowed"] is False
    missing = lambda x: [m for m in x["reasons"] if m["kind"] == "missing"]
    assert missing(r) == missing(own)
    assert "holds SELECT on Schema 'sales.reports' via group 'interns'" in r["explanation"]
    assert "SELECT" not in own["explanation"]
    r = explain(teaching, "acme_admin", principal=GRACE, action="getTable", securable_type="table", full_name=LEADS)
    assert r["principal"] == GRACE and r["allowed"] is True
    r = explain(teaching, "acme_admin", principal=ERIN, action="deleteTable", securable_type="table",
                full_name="engineering.raw.events")
    assert r["allowed"] is True
    # The admin about itself: metastore admin may read any table.
    r = explain(teaching, "acme_admin", action="getTable", securable_type="table", full_name=LEADS)
    assert r["allowed"] is True and r["principal"] == "admin@acme.example"


def test_explain_follows_grants_and_revocations(teaching):
    q = dict(action="getTable", securable_type="table", full_name=REVENUE)
    admin = client(teaching, "acme_admin")
    admin.grants.update("catalog", "sales", changes=[PermissionsChange(principal="interns", add=[Privilege.USE_CATALOG])])
    r = explain(teaching, "henry", **q)
    assert r["allowed"] is True
    assert {(x["privilege"], x["via"]) for x in r["reasons"]} == {
        ("USE_CATALOG", "group 'interns'"), ("USE_SCHEMA", "group 'interns'"), ("SELECT", "group 'interns'")}
    admin.grants.update("catalog", "sales", changes=[PermissionsChange(principal="interns", remove=[Privilege.USE_CATALOG])])
    assert explain(teaching, "henry", **q)["allowed"] is False


def test_explain_bad_requests(teaching):
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=teaching):
        explain(teaching, "grace", securable_type="table", full_name=REVENUE)  # no action
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=teaching):
        explain(teaching, "grace", action="getTable", full_name=REVENUE)  # no securable_type


def test_cli_prints_the_same_verdict(teaching):
    for who, principal, full_name in (("henry", HENRY, REVENUE), ("grace", GRACE, REVENUE), ("frank", FRANK, LEADS)):
        # The CLI is the operator's view: what a metastore admin explaining the principal sees.
        api = explain(teaching, "acme_admin", principal=principal, action="getTable", securable_type="table",
                      full_name=full_name)
        args = ["--principal", principal, "--action", "getTable", "--securable-type", "table", "--full-name", full_name]
        want_rc = 0 if api["allowed"] else 1  # exit 1 on DENIED, so scripts can branch on it
        # JSON: the endpoint's answer (while the server is running on the same database).
        p = cli(teaching, *args, "--json")
        assert p.returncode == want_rc, p.stderr
        assert json.loads(p.stdout) == api
        # Text: the explanation first, then one line per reason, then the requirement tree.
        p = cli(teaching, *args)
        assert p.returncode == want_rc, p.stderr
        lines = p.stdout.strip().splitlines()
        assert lines[0] == api["explanation"]
        assert lines[0].startswith("ALLOWED: " if api["allowed"] else "DENIED: ")
        for reason in api["reasons"]:
            assert any(reason["text"] in line for line in lines[1:]), reason
        assert "Requirement ([has] / [lacks]):" in lines
    p = cli(teaching, "--principal", HENRY, "--action", "getTable", "--securable-type", "table", "--full-name", REVENUE)
    assert "      [lacks] USE_CATALOG on Catalog 'sales', through any of:" in p.stdout.splitlines()
    assert "        [lacks] ownership of Catalog 'sales'" in p.stdout.splitlines()
    # A privilege name works from the CLI as well: held, not usable, so DENIED (exit 1).
    p = cli(teaching, "--principal", HENRY, "--action", "SELECT", "--securable-type", "table", "--full-name", REVENUE, "--json")
    assert p.returncode == 1, p.stderr
    assert (json.loads(p.stdout)["allowed"], json.loads(p.stdout)["held"]) == (False, True)
    # A question that cannot be answered exits 2.
    p = cli(teaching, "--principal", HENRY, "--action", "nope", "--securable-type", "table", "--full-name", REVENUE)
    assert p.returncode == 2 and "action" in p.stderr
    # The CLI sees grants made through the API at once.
    client(teaching, "acme_admin").grants.update(
        "catalog", "sales", changes=[PermissionsChange(principal="interns", add=[Privilege.USE_CATALOG])])
    p = cli(teaching, "--principal", HENRY, "--action", "getTable", "--securable-type", "table", "--full-name", REVENUE, "--json")
    assert p.returncode == 0 and json.loads(p.stdout)["allowed"] is True
