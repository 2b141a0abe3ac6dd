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
    assert [x["kind"] for x in r["reasons"]] == ["missing"]
    assert "USE_CATALOG on Catalog 'sales'" in r["reasons"][0]["text"]
    assert r["explanation"].startswith(f"DENIED: {HENRY} may not getTable on Table '{REVENUE}'")
    assert "USE_CATALOG on Catalog 'sales'" in r["explanation"]
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=teaching):
        client(teaching, "henry").tables.get(REVENUE)

    # frank (analytics) may use sales but lacks the marketing-only grants on leads. Without use
    # of the schema he learns only that (not whether the table exists, nor what it needs) ...
    r = explain(teaching, "frank", action="getTable", securable_type="table", full_name=LEADS)
    assert r["allowed"] is False
    text = r["reasons"][0]["text"]
    assert "USE_SCHEMA on Schema 'sales.pipeline'" in text and "SELECT" not in text
    assert "USE_CATALOG" not in text  # he has that one
    missing = explain(teaching, "frank", action="getTable", securable_type="table", full_name="sales.pipeline.nope")
    assert missing["reasons"] == r["reasons"]
    # ... while a metastore admin explaining him sees the whole rule.
    r = explain(teaching, "acme_admin", principal=FRANK, action="getTable", securable_type="table", full_name=LEADS)
    text = r["reasons"][0]["text"]
    assert "SELECT on Table 'sales.pipeline.leads'" in text and "USE_SCHEMA on Schema 'sales.pipeline'" in text
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=teaching):
        client(teaching, "frank").tables.get(LEADS)


def test_explain_privilege_name_as_action(teaching):
    # henry holds SELECT (via interns, on the schema) although getTable is denied to him (a
    # metastore admin asks: henry himself, without use of the catalog, learns only that).
    r = explain(teaching, "acme_admin", principal=HENRY, action="SELECT", securable_type="table", full_name=REVENUE)
    assert r["allowed"] is True and r["action"] == "SELECT"
    assert [(x["kind"], x["privilege"], x["securable"], x["via"]) for x in r["reasons"]] == [
        ("grant", "SELECT", "sales.reports", "group 'interns'")]
    r = explain(teaching, "henry", action="USE_CATALOG", securable_type="catalog", full_name="sales")
    assert r["allowed"] is False
    assert "USE_CATALOG on Catalog 'sales'" in r["explanation"]
    r = explain(teaching, "acme_admin", principal=FRANK, action="SELECT", securable_type="table", full_name=LEADS)
    assert r["allowed"] is False
    assert r["reasons"][0]["kind"] == "missing" and "SELECT on Table 'sales.pipeline.leads'" in r["reasons"][0]["text"]


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
    assert r == explain(teaching, "henry", action="getTable", securable_type="table", full_name=REVENUE)
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
        # JSON: the endpoint's answer (while the server is running on the same database).
        p = cli(teaching, *args, "--json")
        assert p.returncode == 0, p.stderr
        assert json.loads(p.stdout) == api
        # Text: the explanation first, then one line per reason.
        p = cli(teaching, *args)
        assert p.returncode == 0, p.stderr
        lines = p.stdout.strip().splitlines()
        assert lines[0] == api["explanation"]
        assert lines[0].startswith("ALLOWED: " if api["allowed"] else "DENIED: ")
        for reason in api["reasons"]:
            assert any(reason["text"] in line for line in lines[1:]), reason
    # A privilege name works from the CLI as well.
    p = cli(teaching, "--principal", HENRY, "--action", "SELECT", "--securable-type", "table", "--full-name", REVENUE, "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["allowed"] is True
    # The CLI sees grants made through the API at once.
    client(teaching, "acme_admin").grants.update(
        "catalog", "sales", changes=[PermissionsChange(principal="interns", add=[Privilege.USE_CATALOG])])
    p = cli(teaching, "--principal", HENRY, "--action", "getTable", "--securable-type", "table", "--full-name", REVENUE, "--json")
    assert json.loads(p.stdout)["allowed"] is True
