"""Schema CRUD, and information_schema."""

from databricks.sdk.errors import BadRequest, NotFound, PermissionDenied, ResourceConflict

from conftest import ADMIN, ALICE, ALREADY_EXISTS, BOB, UC, raises

SCHEMA_MISSING = ("SCHEMA_DOES_NOT_EXIST", "NOT_FOUND", "RESOURCE_DOES_NOT_EXIST")
CATALOG_MISSING = ("CATALOG_DOES_NOT_EXIST", "NOT_FOUND", "RESOURCE_DOES_NOT_EXIST")


def managed_table(uc, catalog, schema, name, token="admin"):
    return uc.client(token).api_client.do("POST", f"{UC}/tables", body={
        "catalog_name": catalog, "schema_name": schema, "name": name, "table_type": "MANAGED",
        "data_source_format": "DELTA", "columns": []})


def test_create_schema_output(uc, ms_id):
    s = uc.admin.schemas.create("Raw_Data", "MAIN", comment="landing", properties={"k": "v"})
    assert s.name == "raw_data"
    assert s.catalog_name == "main"
    assert s.full_name == "main.raw_data"
    assert s.comment == "landing" and s.properties == {"k": "v"}
    assert s.owner == ADMIN and s.created_by == ADMIN and s.updated_by == ADMIN
    assert s.created_at and s.created_at == s.updated_at
    assert s.metastore_id == ms_id
    g = uc.admin.schemas.get("Main.RAW_DATA")
    assert g.as_dict() == s.as_dict()


def test_list_schemas(uc):
    uc.admin.schemas.create("b_schema", "main")
    uc.admin.schemas.create("a_schema", "main")
    names = [s.name for s in uc.admin.schemas.list("main")]
    assert sorted(names) == ["a_schema", "b_schema", "default", "information_schema"]
    assert all(s.catalog_name == "main" for s in uc.admin.schemas.list("main"))


def test_list_schemas_missing_catalog(uc):
    with raises(NotFound, CATALOG_MISSING, status=404, server=uc):
        list(uc.admin.schemas.list("no_such_catalog"))
    with raises(NotFound, CATALOG_MISSING, status=404, server=uc):
        uc.admin.schemas.create("x", "no_such_catalog")


def test_get_missing_schema(uc):
    with raises(NotFound, SCHEMA_MISSING, status=404, server=uc):
        uc.admin.schemas.get("main.missing")


def test_update_schema_fields(uc):
    s = uc.admin.schemas.create("upd", "main", comment="c1", properties={"a": "1", "b": "2"})
    u = uc.admin.schemas.update("main.upd", comment="c2", properties={"z": "26"})
    assert (u.comment, u.properties) == ("c2", {"z": "26"})
    assert u.updated_at >= s.updated_at and u.created_at == s.created_at
    u = uc.admin.schemas.update("main.upd", owner=ALICE)
    assert u.owner == ALICE
    g = uc.admin.schemas.get("main.upd")
    assert (g.comment, g.properties, g.owner) == ("c2", {"z": "26"}, ALICE)
    # A metastore admin who is not the owner may change only the owner.
    with raises(PermissionDenied, "PERMISSION_DENIED", server=uc):
        uc.admin.schemas.update("main.upd", comment="c3")
    with raises(NotFound, "PRINCIPAL_DOES_NOT_EXIST", server=uc):
        uc.admin.schemas.update("main.upd", owner="ghost")


def test_rename_schema(uc):
    uc.admin.schemas.create("before", "main")
    managed_table(uc, "main", "before", "t1")
    r = uc.admin.schemas.update("main.before", new_name="After")
    assert r.name == "after" and r.full_name == "main.after"
    with raises(NotFound, SCHEMA_MISSING, server=uc):
        uc.admin.schemas.get("main.before")
    t = uc.admin.tables.get("main.after.t1")
    assert t.full_name == "main.after.t1" and t.schema_name == "after"
    # The API reference's style: a differing body `name`.
    r = uc.admin.api_client.do("PATCH", f"{UC}/schemas/main.after", body={"name": "again"})
    assert r["full_name"] == "main.again"
    assert uc.admin.schemas.get("main.again").name == "again"


def test_rename_schema_conflict(uc):
    uc.admin.schemas.create("s1", "main")
    with raises(ResourceConflict, ALREADY_EXISTS, status=409, server=uc):
        uc.admin.schemas.update("main.s1", new_name="DEFAULT")
    assert uc.admin.schemas.get("main.s1").name == "s1"


def test_duplicate_schema_lowercase(uc):
    uc.admin.schemas.create("foobar", "main")
    with raises(ResourceConflict, ALREADY_EXISTS, status=409, server=uc):
        uc.admin.schemas.create("FooBar", "main")
    # Same name in another catalog is fine.
    assert uc.admin.schemas.create("FooBar", "private").full_name == "private.foobar"


def test_invalid_schema_names(uc):
    for bad in ("a.b", "a/b", "s" * 256):
        with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, mentions="name", server=uc):
            uc.admin.schemas.create(bad, "main")
    assert uc.admin.schemas.create("s" * 255, "main").name == "s" * 255
    # Full names in paths need exactly two parts.
    for path in ("main", "main.default.extra", "main..x"):
        with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc):
            uc.admin.schemas.get(path)


def test_information_schema_is_read_only(uc):
    info = uc.admin.schemas.get("main.information_schema")
    assert info.owner == "System user"
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc):
        uc.admin.schemas.create("information_schema", "private")
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc):
        uc.admin.schemas.update("main.information_schema", comment="hi")
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc):
        uc.admin.schemas.update("main.information_schema", new_name="info2")
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc):
        uc.admin.schemas.update("main.information_schema", owner=ADMIN)
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc):
        uc.admin.schemas.delete("main.information_schema")
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc):
        uc.admin.schemas.delete("main.information_schema", force=True)
    after = uc.admin.schemas.get("main.information_schema")
    assert after.as_dict() == info.as_dict()


def test_information_schema_holds_no_tables(uc):
    # information_schema is read-only and "holds no tables in the emulator".
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc):
        managed_table(uc, "main", "information_schema", "t")
    assert list(uc.admin.tables.list("main", "information_schema")) == []


def test_delete_schema_not_empty_then_force(uc):
    uc.admin.schemas.create("full", "main")
    managed_table(uc, "main", "full", "t1")
    managed_table(uc, "main", "full", "t2")
    with raises(BadRequest, "SCHEMA_NOT_EMPTY", status=400, server=uc):
        uc.admin.schemas.delete("main.full")
    assert uc.admin.tables.exists("main.full.t1").table_exists is True
    uc.admin.schemas.delete("main.full", force=True)
    with raises(NotFound, SCHEMA_MISSING, server=uc):
        uc.admin.schemas.get("main.full")
    with raises(NotFound, server=uc):
        uc.admin.tables.get("main.full.t1")
    # Recreating gives an empty schema.
    uc.admin.schemas.create("full", "main")
    assert list(uc.admin.tables.list("main", "full")) == []


def test_delete_empty_schema(uc):
    uc.admin.schemas.create("empty", "main")
    assert uc.admin.api_client.do("DELETE", f"{UC}/schemas/main.empty") == {}
    assert "empty" not in [s.name for s in uc.admin.schemas.list("main")]


def test_schema_authorization(uc):
    # alice: USE_CATALOG on shared, USE_SCHEMA on shared.sales; nothing on shared.default.
    names = [s.name for s in uc.alice.schemas.list("shared")]
    assert "sales" in names and "default" not in names
    assert uc.alice.schemas.get("shared.sales").full_name == "shared.sales"
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
        uc.alice.schemas.get("shared.default")
    # No CREATE_SCHEMA on shared.
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
        uc.alice.schemas.create("mine", "shared")
    # Not the schema's owner.
    with raises(PermissionDenied, "PERMISSION_DENIED", server=uc):
        uc.alice.schemas.update("shared.sales", comment="x")
    with raises(PermissionDenied, "PERMISSION_DENIED", server=uc):
        uc.alice.schemas.delete("shared.sales", force=True)
    # Catalog precondition: without use of the catalog even listing is refused.
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
        list(uc.alice.schemas.list("private"))
    with raises(PermissionDenied, "PERMISSION_DENIED", server=uc):
        list(uc.bob.schemas.list("shared"))
    with raises(PermissionDenied, "PERMISSION_DENIED", server=uc):
        uc.bob.schemas.get("shared.sales")
    assert uc.admin.schemas.get("shared.sales").comment is None


def test_catalog_owner_manages_schemas(uc):
    # alice owns alice_cat: she sees every schema of it, creates and deletes schemas there.
    assert {s.name for s in uc.alice.schemas.list("alice_cat")} == {"default", "information_schema", "s"}
    s = uc.alice.schemas.create("new_one", "alice_cat")
    assert s.owner == ALICE
    uc.admin.schemas.update("alice_cat.new_one", owner=BOB)
    # The catalog owner may delete a schema she does not own.
    uc.alice.schemas.delete("alice_cat.new_one")
    with raises(NotFound, SCHEMA_MISSING, server=uc):
        uc.alice.schemas.get("alice_cat.new_one")


def test_unicode_schema(uc):
    uc.admin.catalogs.create("SomeCÄt")
    s = uc.admin.schemas.create("SømeSchëma", "SomeCÄt")
    assert s.full_name == "somecät.sømeschëma"
    assert uc.admin.schemas.get("SomeCÄt.SømeSchëma").name == "sømeschëma"
