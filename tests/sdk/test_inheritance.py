"""Privilege inheritance and the authorization rules it feeds, seen through the real SDK
."""

from databricks.sdk.errors import NotFound, PermissionDenied
from databricks.sdk.service.catalog import PermissionsChange, Privilege

from conftest import ADMIN, ALICE, BOB, COLS, UC, raises


def grant(uc, sec_type, name, principal, *privs, token="admin"):
    uc.client(token).grants.update(sec_type, name, changes=[PermissionsChange(principal=principal, add=[Privilege[p] for p in privs])])


def revoke(uc, sec_type, name, principal, *privs, token="admin"):
    uc.client(token).grants.update(sec_type, name, changes=[PermissionsChange(principal=principal, remove=[Privilege[p] for p in privs])])


def make_table(uc, catalog, schema, name, token="admin"):
    return uc.client(token).api_client.do("POST", f"{UC}/tables", body={
        "catalog_name": catalog, "schema_name": schema, "name": name, "table_type": "MANAGED",
        "data_source_format": "DELTA", "columns": COLS})


def denied(uc):
    return raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc)


def test_catalog_grant_reaches_objects_created_after_it(uc):
    uc.admin.catalogs.create("lake")
    grant(uc, "catalog", "lake", BOB, "USE_CATALOG", "USE_SCHEMA", "SELECT")
    # Schema and tables are created after the grant.
    uc.admin.schemas.create("later", "lake")
    make_table(uc, "lake", "later", "t1")
    assert uc.bob.schemas.get("lake.later").full_name == "lake.later"
    t = uc.bob.tables.get("lake.later.t1")
    assert t.full_name == "lake.later.t1" and t.owner == ADMIN
    make_table(uc, "lake", "later", "t2")
    assert sorted(x.name for x in uc.bob.tables.list("lake", "later")) == ["t1", "t2"]
    # Nothing was copied to the children: their direct grants stay empty.
    assert not uc.admin.grants.get("table", "lake.later.t2").privilege_assignments
    assert not uc.admin.grants.get("schema", "lake.later").privilege_assignments
    # A schema-level grant reaches later tables as well.
    uc.admin.schemas.create("s2", "lake")
    grant(uc, "schema", "lake.s2", ALICE, "USE_SCHEMA", "SELECT")
    grant(uc, "catalog", "lake", ALICE, "USE_CATALOG")
    make_table(uc, "lake", "s2", "fresh")
    assert uc.alice.tables.get("lake.s2.fresh").name == "fresh"
    with denied(uc):
        uc.alice.tables.get("lake.later.t1")  # no USE_SCHEMA / SELECT there


def test_revocation_takes_effect_on_the_next_request(uc):
    assert uc.alice.tables.get("shared.sales.orders").name == "orders"
    revoke(uc, "table", "shared.sales.orders", "analysts", "SELECT")
    with denied(uc):
        uc.alice.tables.get("shared.sales.orders")
    # A catalog-level SELECT restores it; revoking the catalog grant takes it away again.
    grant(uc, "catalog", "shared", "analysts", "SELECT")
    assert uc.alice.tables.get("shared.sales.orders").name == "orders"
    assert uc.alice.tables.get("shared.sales.secret").name == "secret"
    revoke(uc, "catalog", "shared", "analysts", "SELECT")
    with denied(uc):
        uc.alice.tables.get("shared.sales.secret")
    # Revoking the traversal privilege hides the whole catalog.
    revoke(uc, "catalog", "shared", "analysts", "USE_CATALOG")
    with denied(uc):
        uc.alice.catalogs.get("shared")
    with denied(uc):
        uc.alice.schemas.get("shared.sales")


def test_nested_groups(uc):
    # `nested` is granted to data-eng, which contains analysts, which contains alice.
    assert uc.alice.catalogs.get("nested").name == "nested"
    with denied(uc):
        uc.bob.catalogs.get("nested")
    uc.admin.schemas.create("n", "nested")
    make_table(uc, "nested", "n", "deep")
    grant(uc, "schema", "nested.n", "data-eng", "USE_SCHEMA")
    grant(uc, "table", "nested.n.deep", "data-eng", "SELECT")
    assert uc.alice.tables.get("nested.n.deep").full_name == "nested.n.deep"
    assert [t.name for t in uc.alice.tables.list("nested", "n")] == ["deep"]
    # Ownership through a nested group is ownership.
    uc.admin.catalogs.update("nested", owner="data-eng")
    assert uc.alice.catalogs.update("nested", comment="alice owns it via data-eng").comment == "alice owns it via data-eng"
    with denied(uc):
        uc.bob.catalogs.update("nested", comment="no")


def test_grant_to_account_users_reaches_everyone(uc):
    for who in ("bob", "alice", "sp", "carol"):
        with denied(uc):
            uc.client(who).catalogs.get("private")
    grant(uc, "catalog", "private", "account users", "USE_CATALOG")
    for who in ("bob", "alice", "sp", "carol"):
        assert uc.client(who).catalogs.get("private").name == "private", who
        assert "private" in [c.name for c in uc.client(who).catalogs.list()], who
    revoke(uc, "catalog", "private", "account users", "USE_CATALOG")
    with denied(uc):
        uc.sp.catalogs.get("private")


def test_select_on_catalog_without_use_catalog_is_not_enough(uc):
    grant(uc, "catalog", "private", BOB, "SELECT", "USE_SCHEMA")
    uc.admin.schemas.create("p", "private")
    make_table(uc, "private", "p", "t")
    with denied(uc):
        uc.bob.tables.get("private.p.t")
    with denied(uc):
        uc.bob.catalogs.get("private")
    with denied(uc):
        list(uc.bob.tables.list("private", "p"))
    assert list(uc.bob.tables.list_summaries("private")) == []
    grant(uc, "catalog", "private", BOB, "USE_CATALOG")
    assert uc.bob.tables.get("private.p.t").full_name == "private.p.t"
    assert [t.full_name for t in uc.bob.tables.list_summaries("private")] == ["private.p.t"]
    # USE_CATALOG + USE_SCHEMA without SELECT is not enough for the table either.
    revoke(uc, "catalog", "private", BOB, "SELECT")
    with denied(uc):
        uc.bob.tables.get("private.p.t")
    assert list(uc.bob.tables.list("private", "p")) == []


def test_ownership_transfer_takes_effect_at_once(uc):
    uc.admin.catalogs.create("handover")
    c = uc.admin.catalogs.update("handover", owner=BOB)
    assert c.owner == BOB
    # The old owner (still a metastore admin) may no longer change anything but the owner, nor delete.
    with denied(uc):
        uc.admin.catalogs.update("handover", comment="mine?")
    with denied(uc):
        uc.admin.catalogs.delete("handover", force=True)
    # The new owner holds every privilege at once: read, comment, grant, create inside.
    assert uc.bob.catalogs.update("handover", comment="bob's").comment == "bob's"
    grant(uc, "catalog", "handover", ALICE, "USE_CATALOG", token="bob")
    assert uc.alice.catalogs.get("handover").owner == BOB
    assert uc.bob.schemas.create("s", "handover").owner == BOB
    uc.bob.catalogs.delete("handover", force=True)
    with raises(NotFound, ("CATALOG_DOES_NOT_EXIST", "RESOURCE_DOES_NOT_EXIST", "NOT_FOUND"), status=404, server=uc):
        uc.admin.catalogs.get("handover")


def test_table_ownership_transfer(uc):
    uc.admin.catalogs.create("own")
    uc.admin.schemas.create("s", "own")
    for who in (ALICE, BOB):
        grant(uc, "catalog", "own", who, "USE_CATALOG")
        grant(uc, "schema", "own.s", who, "USE_SCHEMA")
    grant(uc, "schema", "own.s", ALICE, "CREATE_TABLE")
    assert make_table(uc, "own", "s", "t", token="alice")["owner"] == ALICE
    with denied(uc):
        uc.bob.tables.get("own.s.t")  # neither owner nor SELECT
    uc.alice.tables.update("own.s.t", owner=BOB)
    # The new owner reads and deletes at once; the old one can do neither.
    assert uc.bob.tables.get("own.s.t").owner == BOB
    with denied(uc):
        uc.alice.tables.get("own.s.t")
    with denied(uc):
        uc.alice.tables.update("own.s.t", owner=ALICE)
    with denied(uc):
        uc.alice.tables.delete("own.s.t")
    uc.bob.tables.delete("own.s.t")
    with raises(NotFound, ("TABLE_DOES_NOT_EXIST", "RESOURCE_DOES_NOT_EXIST", "NOT_FOUND"), status=404, server=uc):
        uc.admin.tables.get("own.s.t")


def test_list_filtering_shows_exactly_what_the_caller_may_see(uc):
    uc.admin.catalogs.create("zzz_hidden")
    uc.admin.schemas.create("extra", "shared")
    make_table(uc, "shared", "extra", "x")
    every_catalog = sorted(c.name for c in uc.admin.catalogs.list())
    assert {"main", "shared", "private", "nested", "alice_cat", "zzz_hidden"} <= set(every_catalog)

    expected = {
        "alice": ["alice_cat", "nested", "shared"],
        "bob": [],
        "carol": [],
        "sp": [],
        "admin": every_catalog,
    }
    for who, cats in expected.items():
        w = uc.client(who)
        assert sorted(c.name for c in w.catalogs.list()) == cats, who
        uc.statuses.clear()
        assert sorted(c.name for c in w.catalogs.list(max_results=1)) == cats, who  # paging terminates
        assert len(uc.statuses) <= len(every_catalog) + 2

    # Schemas of shared: alice holds USE_SCHEMA on sales only.
    assert [s.name for s in uc.alice.schemas.list("shared")] == ["sales"]
    assert [s.name for s in uc.alice.schemas.list("shared", max_results=1)] == ["sales"]
    assert set(s.name for s in uc.admin.schemas.list("shared")) >= {"sales", "extra", "default"}
    # alice owns alice_cat: she sees every schema of it.
    assert {s.name for s in uc.alice.schemas.list("alice_cat")} == {s.name for s in uc.admin.schemas.list("alice_cat")}
    with denied(uc):
        list(uc.bob.schemas.list("shared"))

    # Tables: alice has SELECT on orders only.
    assert [t.name for t in uc.alice.tables.list("shared", "sales")] == ["orders"]
    assert [t.name for t in uc.alice.tables.list("shared", "sales", max_results=1)] == ["orders"]
    assert [t.name for t in uc.admin.tables.list("shared", "sales", max_results=1)] == ["orders", "secret"]
    with denied(uc):
        list(uc.bob.tables.list("shared", "sales"))
    with denied(uc):
        list(uc.alice.tables.list("shared", "extra"))  # no USE_SCHEMA on extra

    # Summaries: only what alice may read; none for bob.
    assert [t.full_name for t in uc.alice.tables.list_summaries("shared")] == ["shared.sales.orders"]
    assert [t.full_name for t in uc.alice.tables.list_summaries("shared", max_results=1)] == ["shared.sales.orders"]
    assert [t.full_name for t in uc.admin.tables.list_summaries("shared", max_results=1)] == \
        ["shared.extra.x", "shared.sales.orders", "shared.sales.secret"]
    assert list(uc.bob.tables.list_summaries("shared")) == []

    # Granting widens the lists at once.
    grant(uc, "schema", "shared.extra", "analysts", "USE_SCHEMA", "SELECT")
    assert [s.name for s in uc.alice.schemas.list("shared")] == ["extra", "sales"]
    assert [t.full_name for t in uc.alice.tables.list_summaries("shared")] == ["shared.extra.x", "shared.sales.orders"]


def test_missing_table_without_use_catalog_is_permission_denied(uc):
    # bob cannot use `shared`: asking for a table that does not exist must not reveal that.
    with denied(uc):
        uc.bob.tables.get("shared.sales.nope")
    with denied(uc):
        uc.bob.tables.get("shared.sales.orders")
    with denied(uc):
        uc.bob.tables.get("private.nope.nope")
    # alice may use catalog and schema: for her it is a plain 404.
    with raises(NotFound, ("TABLE_DOES_NOT_EXIST", "RESOURCE_DOES_NOT_EXIST", "NOT_FOUND"), status=404, server=uc):
        uc.alice.tables.get("shared.sales.nope")


def test_include_browse_returns_browse_only_objects(uc):
    uc.admin.schemas.create("ps", "private")
    make_table(uc, "private", "ps", "pt")
    grant(uc, "catalog", "private", BOB, "BROWSE")
    # Without include_browse, BROWSE grants nothing.
    with denied(uc):
        uc.bob.catalogs.get("private")
    with denied(uc):
        uc.bob.tables.get("private.ps.pt")
    assert "private" not in [c.name for c in uc.bob.catalogs.list()]

    c = uc.bob.catalogs.get("private", include_browse=True)
    assert c.name == "private" and c.browse_only is True
    cats = {c.name: c.browse_only for c in uc.bob.catalogs.list(include_browse=True)}
    assert cats == {"private": True}
    s = uc.bob.schemas.get("private.ps", include_browse=True)
    assert s.full_name == "private.ps" and s.browse_only is True
    assert "ps" in {s.name: s.browse_only for s in uc.bob.schemas.list("private", include_browse=True)}
    assert all(s.browse_only for s in uc.bob.schemas.list("private", include_browse=True))
    t = uc.bob.tables.get("private.ps.pt", include_browse=True)
    assert t.full_name == "private.ps.pt" and t.browse_only is True
    assert not t.columns and not t.storage_location  # metadata only
    assert [(t.name, t.browse_only) for t in uc.bob.tables.list("private", "ps", include_browse=True)] == [("pt", True)]
    # Full access is not browse_only; the admin sees it all without the flag.
    full = uc.admin.tables.get("private.ps.pt", include_browse=True)
    assert not full.browse_only and full.columns
    # BROWSE never satisfies a write rule.
    with denied(uc):
        uc.bob.catalogs.update("private", comment="no")
    with denied(uc):
        uc.bob.schemas.create("nope", "private")
    # A caller without BROWSE still sees nothing with include_browse.
    with denied(uc):
        uc.sp.catalogs.get("private", include_browse=True)
    assert "private" not in [c.name for c in uc.sp.catalogs.list(include_browse=True)]


def test_all_privileges_on_a_catalog_is_expanded_at_check_time(uc):
    uc.admin.catalogs.create("allc")
    grant(uc, "catalog", "allc", BOB, "ALL_PRIVILEGES")
    # Objects created after the grant are covered: ALL_PRIVILEGES stands for USE_CATALOG, CREATE_SCHEMA,
    # USE_SCHEMA, CREATE_TABLE, SELECT, ... on everything inside.
    assert uc.bob.catalogs.get("allc").name == "allc"
    uc.admin.schemas.create("s", "allc")
    make_table(uc, "allc", "s", "t")
    assert uc.bob.tables.get("allc.s.t").owner == ADMIN
    assert uc.bob.schemas.create("mine", "allc").owner == BOB
    assert make_table(uc, "allc", "s", "bobs", token="bob")["owner"] == BOB
    # It never makes bob an owner: no delete of the catalog, no grants on it.
    with denied(uc):
        uc.bob.catalogs.delete("allc", force=True)
    with raises(PermissionDenied, "UNAUTHORIZED", status=403, server=uc):
        grant(uc, "catalog", "allc", ALICE, "USE_CATALOG", token="bob")
    # Revoking it removes everything it conveyed, at once.
    revoke(uc, "catalog", "allc", BOB, "ALL_PRIVILEGES")
    with denied(uc):
        uc.bob.tables.get("allc.s.t")
    with denied(uc):
        uc.bob.catalogs.get("allc")


def test_catalog_owner_holds_everything_inside_and_admin_has_no_create_table_bypass(uc):
    # The metastore admin creates a schema and a table in alice's catalog.
    uc.admin.schemas.create("adm", "alice_cat")
    # createTable: no metastore-admin bypass of USE_CATALOG.
    with denied(uc):
        make_table(uc, "alice_cat", "adm", "t")
    grant(uc, "catalog", "alice_cat", ADMIN, "USE_CATALOG", token="alice")
    assert make_table(uc, "alice_cat", "adm", "t")["owner"] == ADMIN  # owner of the schema: USE_SCHEMA + CREATE_TABLE
    # alice owns the catalog: she reads, lists and deletes what the admin made inside it.
    assert uc.alice.schemas.get("alice_cat.adm").owner == ADMIN
    assert uc.alice.tables.get("alice_cat.adm.t").owner == ADMIN
    assert [t.name for t in uc.alice.tables.list("alice_cat", "adm")] == ["t"]
    # bob, with USE_CATALOG only, sees neither.
    grant(uc, "catalog", "alice_cat", BOB, "USE_CATALOG", token="alice")
    with denied(uc):
        uc.bob.schemas.get("alice_cat.adm")
    with denied(uc):
        uc.bob.tables.delete("alice_cat.adm.t")
    uc.alice.tables.delete("alice_cat.adm.t")
    uc.alice.schemas.delete("alice_cat.adm")
    assert "adm" not in [s.name for s in uc.admin.schemas.list("alice_cat")]
