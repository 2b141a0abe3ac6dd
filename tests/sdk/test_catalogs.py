"""Catalog CRUD."""

from databricks.sdk.errors import BadRequest, NotFound, PermissionDenied, ResourceConflict
from databricks.sdk.service.catalog import CatalogIsolationMode, CatalogType

from conftest import ADMIN, ALICE, ALREADY_EXISTS, BOB, SP, UC, raises

CATALOG_MISSING = ("CATALOG_DOES_NOT_EXIST", "NOT_FOUND", "RESOURCE_DOES_NOT_EXIST")


def test_create_catalog_output(uc, ms_id):
    c = uc.admin.catalogs.create("Sales_Cat", comment="quarterly numbers", properties={"team": "finance", "tier": "1"})
    assert c.name == "sales_cat" and c.full_name == "sales_cat"
    assert c.comment == "quarterly numbers"
    assert c.properties == {"team": "finance", "tier": "1"}
    assert c.owner == ADMIN
    assert c.metastore_id == ms_id
    assert c.catalog_type == CatalogType.MANAGED_CATALOG
    assert c.isolation_mode == CatalogIsolationMode.OPEN
    assert c.created_by == ADMIN and c.updated_by == ADMIN
    assert c.created_at and c.created_at == c.updated_at
    got = uc.admin.catalogs.get("SALES_CAT")  # lookups are lower-cased too
    assert got.as_dict() == c.as_dict()


def test_new_catalog_gets_default_and_information_schema(uc):
    uc.admin.catalogs.create("fresh")
    schemas = {s.name: s for s in uc.admin.schemas.list("fresh")}
    assert set(schemas) == {"default", "information_schema"}
    assert schemas["default"].owner == ADMIN
    assert schemas["default"].full_name == "fresh.default"
    assert schemas["information_schema"].owner == "System user"


def test_get_missing_catalog(uc):
    with raises(NotFound, CATALOG_MISSING, status=404, mentions="nope", server=uc):
        uc.admin.catalogs.get("nope")


def test_list_catalogs_admin_sees_all(uc):
    uc.admin.catalogs.create("zeta")
    names = [c.name for c in uc.admin.catalogs.list()]
    assert set(names) == {"main", "shared", "private", "nested", "alice_cat", "zeta"}
    assert len(names) == len(set(names))


def test_update_comment_and_properties_replace(uc):
    c = uc.admin.catalogs.create("props", properties={"a": "1", "b": "2"})
    u = uc.admin.catalogs.update("props", comment="new comment", properties={"c": "3"})
    assert u.comment == "new comment"
    assert u.properties == {"c": "3"}  # replaced wholesale, not merged
    assert u.updated_at >= c.updated_at and u.updated_by == ADMIN
    assert u.created_at == c.created_at
    g = uc.admin.catalogs.get("props")
    assert (g.comment, g.properties) == ("new comment", {"c": "3"})
    # Absent fields are left unchanged.
    u2 = uc.admin.catalogs.update("props", properties={"d": "4"})
    assert u2.comment == "new comment" and u2.properties == {"d": "4"}


def test_update_owner_gives_access(uc):
    uc.admin.catalogs.create("handover")
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
        uc.bob.catalogs.get("handover")
    u = uc.admin.catalogs.update("handover", owner=BOB)
    assert u.owner == BOB
    assert uc.bob.catalogs.get("handover").owner == BOB
    assert "handover" in [c.name for c in uc.bob.catalogs.list()]
    # The new owner may now change the comment; the old owner (a metastore admin) may only change the owner.
    assert uc.bob.catalogs.update("handover", comment="mine now").comment == "mine now"
    with raises(PermissionDenied, "PERMISSION_DENIED", server=uc):
        uc.admin.catalogs.update("handover", comment="not yours")
    assert uc.admin.catalogs.update("handover", owner="analysts").owner == "analysts"
    # alice is in `analysts`, so she now owns it through the group.
    assert uc.alice.catalogs.update("handover", comment="group owned").comment == "group owned"


def test_update_unknown_owner(uc):
    with raises(NotFound, "PRINCIPAL_DOES_NOT_EXIST", status=404, mentions="ghost@example.com", server=uc):
        uc.admin.catalogs.update("shared", owner="ghost@example.com")
    assert uc.admin.catalogs.get("shared").owner == ADMIN


def test_rename_catalog(uc):
    uc.admin.catalogs.create("oldname")
    uc.admin.schemas.create("inner", "oldname")
    r = uc.admin.catalogs.update("oldname", new_name="NewName")
    assert r.name == "newname" and r.full_name == "newname"
    with raises(NotFound, CATALOG_MISSING, server=uc):
        uc.admin.catalogs.get("oldname")
    assert uc.admin.catalogs.get("newname").name == "newname"
    # Children follow the rename.
    s = uc.admin.schemas.get("newname.inner")
    assert s.catalog_name == "newname" and s.full_name == "newname.inner"


def test_rename_catalog_by_name_field(uc):
    uc.admin.catalogs.create("seedold")
    r = uc.admin.api_client.do("PATCH", f"{UC}/catalogs/seedold", body={"name": "SeedNew"})
    assert r["name"] == "seednew"
    assert uc.admin.catalogs.get("seednew").name == "seednew"
    with raises(NotFound, server=uc):
        uc.admin.catalogs.get("seedold")


def test_rename_onto_existing_conflicts(uc):
    uc.admin.catalogs.create("one")
    with raises(ResourceConflict, ALREADY_EXISTS, status=409, server=uc):
        uc.admin.catalogs.update("one", new_name="Shared")
    assert uc.admin.catalogs.get("one").name == "one"
    assert uc.admin.catalogs.get("shared").comment == "analysts may use this"


def test_rename_needs_owner_and_metastore_admin(uc):
    # alice owns alice_cat but is not a metastore admin.
    with raises(PermissionDenied, "PERMISSION_DENIED", server=uc):
        uc.alice.catalogs.update("alice_cat", new_name="alice_renamed")
    # The metastore admin is not the owner.
    with raises(PermissionDenied, "PERMISSION_DENIED", server=uc):
        uc.admin.catalogs.update("alice_cat", new_name="admin_renamed")
    # As owner she may still change the comment; the metastore admin may change the owner.
    assert uc.alice.catalogs.update("alice_cat", comment="ok").comment == "ok"
    with raises(PermissionDenied, "PERMISSION_DENIED", server=uc):
        uc.admin.catalogs.update("alice_cat", comment="no")
    assert uc.admin.catalogs.update("alice_cat", owner=BOB).owner == BOB
    assert uc.admin.catalogs.get("alice_cat").comment == "ok"


def test_delete_catalog_not_empty_then_force(uc):
    uc.admin.catalogs.create("todelete")
    with raises(BadRequest, "CATALOG_NOT_EMPTY", status=400, server=uc):
        uc.admin.catalogs.delete("todelete")
    assert uc.admin.catalogs.get("todelete").name == "todelete"
    uc.admin.catalogs.delete("todelete", force=True)
    with raises(NotFound, CATALOG_MISSING, server=uc):
        uc.admin.catalogs.get("todelete")
    with raises(NotFound, server=uc):
        uc.admin.schemas.get("todelete.default")


def test_delete_catalog_after_dropping_default(uc):
    uc.admin.catalogs.create("cleanup")
    uc.admin.schemas.delete("cleanup.default")
    # Only information_schema is left: not "non-empty".
    r = uc.admin.api_client.do("DELETE", f"{UC}/catalogs/cleanup")
    assert r == {}
    assert "cleanup" not in [c.name for c in uc.admin.catalogs.list()]


def test_force_delete_catalog_removes_tables(uc):
    uc.admin.catalogs.create("deep")
    uc.admin.schemas.create("s1", "deep")
    uc.admin.api_client.do("POST", f"{UC}/tables", body={
        "catalog_name": "deep", "schema_name": "s1", "name": "t", "table_type": "MANAGED",
        "data_source_format": "DELTA", "columns": []})
    with raises(BadRequest, "CATALOG_NOT_EMPTY", server=uc):
        uc.admin.catalogs.delete("deep")
    assert uc.admin.tables.exists("deep.s1.t").table_exists is True
    uc.admin.catalogs.delete("deep", force=True)
    # A new catalog of the same name starts empty.
    uc.admin.catalogs.create("deep")
    assert {s.name for s in uc.admin.schemas.list("deep")} == {"default", "information_schema"}
    with raises(NotFound, server=uc):
        uc.admin.tables.get("deep.s1.t")


def test_delete_catalog_force_in_body(uc):
    uc.admin.catalogs.create("bodydel")
    uc.admin.api_client.do("DELETE", f"{UC}/catalogs/bodydel", body={"force": True})
    with raises(NotFound, server=uc):
        uc.admin.catalogs.get("bodydel")


def test_delete_catalog_query_wins_over_body(uc):
    uc.admin.catalogs.create("qwins")
    with raises(BadRequest, "CATALOG_NOT_EMPTY", server=uc):
        uc.admin.api_client.do("DELETE", f"{UC}/catalogs/qwins", query={"force": "false"}, body={"force": True})
    assert uc.admin.catalogs.get("qwins").name == "qwins"


def test_lowercase_conflict(uc):
    uc.admin.catalogs.create("foobar")
    with raises(ResourceConflict, ALREADY_EXISTS, status=409, server=uc):
        uc.admin.catalogs.create("FooBar")
    assert [c.name for c in uc.admin.catalogs.list() if c.name.lower() == "foobar"] == ["foobar"]


def test_invalid_catalog_names(uc):
    for bad in ("a.b", "a/b", "x" * 256, "", "tab\there"):
        with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, mentions="name", server=uc):
            uc.admin.catalogs.create(bad)
    ok = "y" * 255
    assert uc.admin.catalogs.create(ok).name == ok
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, mentions="new_name", server=uc):
        uc.admin.catalogs.update(ok, new_name="with.dot")
    names = {c.name for c in uc.admin.catalogs.list()}
    assert names == {"main", "shared", "private", "nested", "alice_cat", ok}


def test_unicode_and_space_names(uc):
    c = uc.admin.catalogs.create("SomeCÄt")
    assert c.name == "somecät"
    assert uc.admin.catalogs.get("SomeCÄt").name == "somecät"
    assert uc.admin.api_client.do("GET", f"{UC}/catalogs/SomeC%C3%84t")["name"] == "somecät"
    assert uc.admin.catalogs.create("with space").name == "with space"
    assert uc.admin.catalogs.get("with space").full_name == "with space"


def test_plain_user_cannot_create_catalog(uc):
    for who in ("alice", "bob", "carol"):
        with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
            uc.client(who).catalogs.create(f"by_{who}")
    assert {c.name for c in uc.admin.catalogs.list()} == {"main", "shared", "private", "nested", "alice_cat"}


def test_create_catalog_privilege_holder(uc):
    # The service principal holds CREATE_CATALOG on the metastore; it owns what it creates.
    c = uc.sp.catalogs.create("etl_cat")
    assert c.owner == SP and c.created_by == SP
    assert [x.name for x in uc.sp.catalogs.list()] == ["etl_cat"]
    # The metastore admin sees it too.
    assert "etl_cat" in {x.name for x in uc.admin.catalogs.list()}


def test_list_catalogs_filtered_for_plain_users(uc):
    # alice: USE_CATALOG on `shared` (via analysts), on `nested` (via data-eng > analysts), owns alice_cat.
    assert sorted(c.name for c in uc.alice.catalogs.list()) == ["alice_cat", "nested", "shared"]
    # bob has nothing.
    assert list(uc.bob.catalogs.list()) == []


def test_get_catalog_authorization(uc):
    assert uc.alice.catalogs.get("shared").comment == "analysts may use this"
    assert uc.alice.catalogs.get("nested").name == "nested"
    for name in ("private", "main"):
        with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
            uc.alice.catalogs.get(name)
    with raises(PermissionDenied, "PERMISSION_DENIED", server=uc):
        uc.bob.catalogs.get("shared")


def test_non_owner_cannot_update_or_delete(uc):
    with raises(PermissionDenied, "PERMISSION_DENIED", server=uc):
        uc.alice.catalogs.update("shared", comment="vandalised")
    with raises(PermissionDenied, "PERMISSION_DENIED", server=uc):
        uc.alice.catalogs.update("shared", owner=ALICE)
    with raises(PermissionDenied, "PERMISSION_DENIED", server=uc):
        uc.alice.catalogs.delete("shared", force=True)
    c = uc.admin.catalogs.get("shared")
    assert (c.comment, c.owner) == ("analysts may use this", ADMIN)


def test_null_fields_are_absent(uc):
    r = uc.admin.api_client.do("POST", f"{UC}/catalogs", body={"name": "nulls", "comment": None, "properties": None})
    assert r["name"] == "nulls"
    assert r.get("comment") is None
    r = uc.admin.api_client.do("PATCH", f"{UC}/catalogs/nulls", body={"comment": "set", "owner": None})
    assert r["comment"] == "set" and r["owner"] == ADMIN


def test_catalog_in_unassigned_workspace(uc):
    with raises(NotFound, "METASTORE_DOES_NOT_EXIST", status=404, server=uc):
        uc.admin2.catalogs.create("nowhere")
    with raises(NotFound, "METASTORE_DOES_NOT_EXIST", server=uc):
        list(uc.admin2.catalogs.list())
