"""The README "Teaching walkthrough", end to end, on fixtures/teaching.json through the real SDK."""

from databricks.sdk.errors import PermissionDenied
from databricks.sdk.service.catalog import PermissionsChange, Privilege, SecurableType

from conftest import TEACHING_TOKENS, UC, raises

REVENUE = "sales.reports.revenue"


def test_readme_walkthrough(teaching):
    admin = teaching.client(TEACHING_TOKENS["acme_admin"])
    grace = teaching.client(TEACHING_TOKENS["grace"])  # marketing-analysts ⊂ analytics
    henry = teaching.client(TEACHING_TOKENS["henry"])  # interns

    def explain(w, **q):
        return w.api_client.do("GET", f"{UC}/explain", query=q)["explanation"]

    t = grace.tables.get(REVENUE)  # allowed
    assert t.full_name == REVENUE and [c.name for c in t.columns] == ["month", "amount"]
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=teaching):
        henry.tables.get(REVENUE)

    assert explain(grace, action="getTable", securable_type="table", full_name=REVENUE) == (
        "ALLOWED: grace@acme.example may getTable on Table 'sales.reports.revenue' because it holds "
        "USE_CATALOG on Catalog 'sales' via group 'analytics'; and it holds USE_SCHEMA on Schema "
        "'sales.reports' via group 'analytics'; and it holds SELECT on Schema 'sales.reports' via group 'analytics'.")
    assert explain(henry, action="getTable", securable_type="table", full_name=REVENUE) == (
        "DENIED: henry@acme.example may not getTable on Table 'sales.reports.revenue' because it lacks "
        "USE_CATALOG on Catalog 'sales'.")

    # A grant takes effect on the next request, and so does its revocation.
    r = admin.grants.update("catalog", "sales",
                            changes=[PermissionsChange(principal="interns", add=[Privilege.USE_CATALOG])])
    assert {a.principal: [p.value for p in a.privileges] for a in r.privilege_assignments} == {
        "analytics": ["USE_CATALOG"], "interns": ["USE_CATALOG"]}
    assert henry.tables.get(REVENUE).full_name == REVENUE  # allowed now
    assert explain(henry, action="getTable", securable_type="table", full_name=REVENUE).startswith(
        "ALLOWED: henry@acme.example may getTable")
    admin.grants.update("catalog", "sales",
                        changes=[PermissionsChange(principal="interns", remove=[Privilege.USE_CATALOG])])
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=teaching):
        henry.tables.get(REVENUE)  # PermissionDenied again
    assert explain(henry, action="getTable", securable_type="table", full_name=REVENUE).startswith(
        "DENIED: henry@acme.example may not getTable")

    # Where each privilege comes from.
    eff = admin.grants.get_effective("table", REVENUE)
    got = {a.principal: sorted((p.privilege.value, p.inherited_from_type, p.inherited_from_name) for p in a.privileges)
           for a in eff.privilege_assignments}
    assert got == {
        "analytics": [("SELECT", SecurableType.SCHEMA, "sales.reports")],
        "interns": [("SELECT", SecurableType.SCHEMA, "sales.reports")],
    }


def test_walkthrough_company_as_described(teaching):
    """The README's description of the company holds: owners via group, nested analysts, interns short of USE_CATALOG."""
    c = lambda who: teaching.client(TEACHING_TOKENS[who])
    # data-engineering owns engineering: every member (and the ETL service principal) is an owner.
    assert c("acme_admin").catalogs.get("engineering").owner == "data-engineering"
    for who in ("dana", "erin", "etl"):
        assert c(who).catalogs.update("engineering", comment=f"touched by {who}").comment == f"touched by {who}"
    # Analysts (frank directly, grace nested) read sales.reports through the schema-level SELECT.
    for who in ("frank", "grace"):
        assert sorted(t.name for t in c(who).tables.list("sales", "reports")) == ["forecast", "revenue"]
    # Only marketing analysts read sales.pipeline.leads.
    assert [t.name for t in c("grace").tables.list("sales", "pipeline")] == ["leads"]
    with raises(PermissionDenied, status=403, server=teaching):
        c("frank").tables.get("sales.pipeline.leads")
    # Interns: USE_SCHEMA and SELECT on sales.reports, no USE_CATALOG on sales — not enough.
    assert [a.principal for a in c("acme_admin").grants.get("schema", "sales.reports").privilege_assignments] == [
        "analytics", "interns"]
    assert [cat.name for cat in c("henry").catalogs.list()] == []
    with raises(PermissionDenied, status=403, server=teaching):
        list(c("henry").tables.list("sales", "reports"))
    # getMyGroups of grace: transitive.
    assert c("grace").api_client.do("GET", f"{UC}/user-info/my-groups")["group_name"] == ["analytics", "marketing-analysts"]


def test_volume_and_function_story(teaching):
    """Analysts EXECUTE `sales.reports.fiscal_quarter` (interns may not); analysts hold READ_VOLUME
    on `engineering.raw.landing` but no USE_SCHEMA on `engineering.raw`, so they still cannot read
    it until the schema is opened to them."""
    admin = teaching.client(TEACHING_TOKENS["acme_admin"])
    frank = teaching.client(TEACHING_TOKENS["frank"])  # analytics
    henry = teaching.client(TEACHING_TOKENS["henry"])  # interns
    fq = "sales.reports.fiscal_quarter"
    assert frank.functions.get(fq).owner == "data-engineering"
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=teaching):
        henry.functions.get(fq)  # no USE_CATALOG on sales, and no EXECUTE
    out = frank.api_client.do("GET", f"{UC}/explain", query={
        "action": "readVolume", "securable_type": "volume", "full_name": "engineering.raw.landing"})
    assert out["allowed"] is False and "USE_SCHEMA on Schema 'engineering.raw'" in out["explanation"]
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=teaching):
        frank.volumes.read("engineering.raw.landing")
    admin.grants.update("schema", "engineering.raw",
                        changes=[PermissionsChange(principal="analytics", add=[Privilege.USE_SCHEMA])])
    assert frank.volumes.read("engineering.raw.landing").owner == "data-engineering"


def test_reset_returns_the_teaching_database_to_the_fixture(start_server, tmp_path, monkeypatch):
    """`serve --reset` between classes: the database starts again from the fixture's state; the
    teaching fixture's tokens are logged at start-up (it sets `announce_tokens`)."""
    from conftest import TEACHING_FIXTURE, ServerWithArgs

    db = str(tmp_path / "class.db")
    first = start_server(db=db, fixtures=[TEACHING_FIXTURE])
    admin = first.client(TEACHING_TOKENS["acme_admin"])
    admin.grants.update("catalog", "sales", changes=[PermissionsChange(principal="interns", add=[Privilege.USE_CATALOG])])
    admin.catalogs.create(name="scratch")
    assert first.stop() == 0
    # Without --reset the class's changes survive a restart.
    again = start_server(db=db, fixtures=[TEACHING_FIXTURE])
    assert "scratch" in [c.name for c in again.client(TEACHING_TOKENS["acme_admin"]).catalogs.list()]
    assert again.stop() == 0
    log = tmp_path / "reset.log"
    monkeypatch.setenv("RUST_LOG", "info")  # the start-up hints are info lines
    reset = ServerWithArgs(db, [TEACHING_FIXTURE], log, ["--reset"])
    try:
        admin = reset.client(TEACHING_TOKENS["acme_admin"])
        assert sorted(c.name for c in admin.catalogs.list()) == ["engineering", "sales"]
        assert [a.principal for a in admin.grants.get("catalog", "sales").privilege_assignments] == ["analytics"]
        with raises(PermissionDenied, status=403, server=reset):
            reset.client(TEACHING_TOKENS["henry"]).tables.get("sales.reports.revenue")
    finally:
        reset.close_clients()
        assert reset.stop() == 0
    text = log.read_text()
    assert "'dapi-acme-admin' (admin@acme.example)" in text and "'dapi-henry' (henry@acme.example)" in text
    assert "/explorer/" in text
