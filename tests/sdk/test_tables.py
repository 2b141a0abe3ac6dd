"""Tables and table summaries."""

import json
import re

import pytest

from databricks.sdk.errors import BadRequest, NotFound, PermissionDenied, ResourceConflict
from databricks.sdk.service.catalog import ColumnInfo, ColumnTypeName, DataSourceFormat, TableType

from conftest import ADMIN, ALICE, ALREADY_EXISTS, BOB, UC, raises

TABLE_MISSING = ("TABLE_DOES_NOT_EXIST", "NOT_FOUND", "RESOURCE_DOES_NOT_EXIST")
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def tj(name, typ, nullable=True):
    return json.dumps({"name": name, "type": typ, "nullable": nullable, "metadata": {}})


# Every ColumnInfo field, deliberately given out of position order.
COLUMNS = [
    ColumnInfo(name="Region", type_name=ColumnTypeName.STRING, type_text="string", type_json=tj("Region", "string"),
               position=3, nullable=True, partition_index=0, comment="partition column"),
    ColumnInfo(name="id", type_name=ColumnTypeName.LONG, type_text="bigint", type_json=tj("id", "long", False),
               position=0, nullable=False, comment="primary key"),
    ColumnInfo(name="tags", type_name=ColumnTypeName.ARRAY, type_text="array<string>",
               type_json=tj("tags", {"type": "array", "elementType": "string", "containsNull": True}), position=4),
    ColumnInfo(name="Amount", type_name=ColumnTypeName.DECIMAL, type_text="decimal(10,2)",
               type_json=tj("Amount", "decimal(10,2)"), type_precision=10, type_scale=2, position=1, nullable=True),
    ColumnInfo(name="Wait", type_name=ColumnTypeName.INTERVAL, type_text="interval day to second",
               type_json=tj("Wait", "interval day to second"), type_interval_type="DAY TO SECOND", position=2),
]


def create_table(uc, catalog, schema, name, table_type="MANAGED", token="admin", columns=(), **extra):
    body = {"catalog_name": catalog, "schema_name": schema, "name": name, "table_type": table_type,
            "columns": [c.as_dict() if isinstance(c, ColumnInfo) else c for c in columns]}
    if table_type != "VIEW":
        body["data_source_format"] = "DELTA"
    body.update(extra)
    return uc.client(token).api_client.do("POST", f"{UC}/tables", body=body)


def test_create_managed_table_full_round_trip(uc, ms_id):
    t = uc.admin.tables.create("Orders_2024", "main", "default", TableType.MANAGED, DataSourceFormat.DELTA,
                               storage_location=None, columns=COLUMNS, properties={"delta.appendOnly": "true"})
    assert t.name == "orders_2024"
    assert t.full_name == "main.default.orders_2024"
    assert (t.catalog_name, t.schema_name) == ("main", "default")
    assert t.table_type == TableType.MANAGED
    assert t.data_source_format == DataSourceFormat.DELTA
    assert re.fullmatch(UUID, t.table_id)
    assert t.metastore_id == ms_id
    assert t.owner == ADMIN and t.created_by == ADMIN and t.updated_by == ADMIN
    assert t.created_at and t.created_at == t.updated_at
    assert t.properties == {"delta.appendOnly": "true"}
    # Managed location generated under the metastore root (neither catalog nor schema has one).
    assert t.storage_location == f"s3://uc-test/main/{ms_id}/tables/{t.table_id}"

    # nullable defaults to true
    expected = sorted(({"nullable": True, **c.as_dict()} for c in COLUMNS), key=lambda c: c["position"])
    got = uc.admin.tables.get("main.default.orders_2024")
    assert [c.as_dict() for c in got.columns] == expected
    assert [c.name for c in got.columns] == ["id", "Amount", "Wait", "Region", "tags"]  # case kept
    assert [c.as_dict() for c in t.columns] == expected
    assert got.storage_location == t.storage_location and got.table_id == t.table_id
    # Lookup is case-insensitive.
    assert uc.admin.tables.get("MAIN.Default.ORDERS_2024").table_id == t.table_id


def test_managed_tables_get_distinct_locations(uc, ms_id):
    a = create_table(uc, "main", "default", "a")
    b = create_table(uc, "main", "default", "b")
    assert a["storage_location"] != b["storage_location"]
    for t in (a, b):
        assert t["storage_location"] == f"s3://uc-test/main/{ms_id}/tables/{t['table_id']}"


def test_columns_required_but_may_be_empty(uc):
    t = create_table(uc, "main", "default", "nocols")
    assert t.get("columns") in (None, [])
    body = {"catalog_name": "main", "schema_name": "default", "name": "missing_cols",
            "table_type": "MANAGED", "data_source_format": "DELTA"}
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, mentions="columns", server=uc):
        uc.admin.api_client.do("POST", f"{UC}/tables", body=body)
    assert uc.admin.tables.exists("main.default.missing_cols").table_exists is False


def test_duplicate_column_positions_rejected(uc):
    cols = [COLUMNS[1].as_dict(), dict(COLUMNS[3].as_dict(), position=0)]
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, mentions="position", server=uc):
        create_table(uc, "main", "default", "dups", columns=cols)


def test_column_type_alias_rejected(uc):
    col = dict(COLUMNS[1].as_dict(), type_name="BIGINT")
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, mentions="type_name", server=uc):
        create_table(uc, "main", "default", "alias", columns=[col])


def test_bad_table_type_and_format(uc):
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, mentions="table_type", server=uc):
        create_table(uc, "main", "default", "mv", table_type="MATERIALIZED_VIEW")
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, mentions="data_source_format", server=uc):
        create_table(uc, "main", "default", "ice", data_source_format="ICEBERG")
    assert [t.name for t in uc.admin.tables.list("main", "default")] == []


def test_external_table_requires_storage_location(uc):
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, mentions="storage_location", server=uc):
        create_table(uc, "main", "default", "ext", table_type="EXTERNAL")
    assert uc.admin.tables.exists("main.default.ext").table_exists is False


def test_external_table_overlapping_managed_location(uc):
    m = create_table(uc, "main", "default", "managed_one")
    loc = m["storage_location"]
    for i, bad in enumerate((loc, loc + "/", loc + "/part=1", loc.rsplit("/", 1)[0])):
        # equal / equal with slash / inside / containing: all 400 naming storage_location, never 409.
        with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, mentions="storage_location", server=uc):
            create_table(uc, "main", "default", f"ext{i}", table_type="EXTERNAL", storage_location=bad)
    assert [t.name for t in uc.admin.tables.list("main", "default")] == ["managed_one"]


def test_external_table_outside_any_external_location_rejected(uc):
    # without storage_credential_name, a location that no external location covers -> 400
    # naming storage_location; being a metastore admin does not lift it. No external location exists.
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, mentions="storage_location", server=uc):
        create_table(uc, "main", "default", "uncovered", table_type="EXTERNAL",
                     storage_location="s3://somewhere-else/data/uncovered")
    assert uc.admin.tables.exists("main.default.uncovered").table_exists is False


def test_external_tables_under_an_external_location(uc):
    # under an external location, by path segment.
    from databricks.sdk.service.catalog import AwsIamRoleRequest

    uc.admin.storage_credentials.create("cred", aws_iam_role=AwsIamRoleRequest(role_arn="arn:aws:iam::1:role/r"))
    uc.admin.external_locations.create("landing", "s3://landing/zone", "cred")
    t = create_table(uc, "main", "default", "ext_a", table_type="EXTERNAL", storage_location="s3://landing/zone/a",
                     columns=[COLUMNS[1]])
    assert t["storage_location"] == "s3://landing/zone/a" and t["table_type"] == "EXTERNAL"
    assert uc.admin.tables.get("main.default.ext_a").storage_location == "s3://landing/zone/a"
    # A sibling whose name merely starts the same is not inside it.
    assert create_table(uc, "main", "default", "ext_ab", table_type="EXTERNAL",
                        storage_location="s3://landing/zone/ab")["name"] == "ext_ab"
    for i, bad in enumerate(("s3://landing/zone/a", "s3://landing/zone/a/inner", "s3://landing/zone")):
        with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, mentions="storage_location", server=uc):
            create_table(uc, "main", "default", f"ext_bad{i}", table_type="EXTERNAL", storage_location=bad)
    assert [x.name for x in uc.admin.tables.list("main", "default")] == ["ext_a", "ext_ab"]


def test_external_table_unknown_storage_credential(uc):
    with raises(NotFound, status=404, server=uc):
        create_table(uc, "main", "default", "withcred", table_type="EXTERNAL",
                     storage_location="s3://bucket/x", storage_credential_name="no_such_cred")


def test_view_with_storage_location_rejected(uc):
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, mentions="storage_location", server=uc):
        create_table(uc, "main", "default", "v_loc", table_type="VIEW", view_definition="SELECT 1",
                     storage_location="s3://bucket/view")


def test_view(uc):
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, mentions="view_definition", server=uc):
        create_table(uc, "main", "default", "v_nodef", table_type="VIEW")
    v = create_table(uc, "main", "default", "My_View", table_type="VIEW",
                     view_definition="SELECT id FROM main.default.base", columns=[COLUMNS[1]],
                     comment="a view", sql_path="main.default")
    assert v["name"] == "my_view" and v["table_type"] == "VIEW"
    assert v.get("storage_location") is None
    got = uc.admin.tables.get("main.default.my_view")
    assert got.view_definition == "SELECT id FROM main.default.base"
    assert got.comment == "a view"
    assert got.table_type == TableType.VIEW
    assert got.storage_location is None
    assert [c.name for c in got.columns] == ["id"]


def test_list_tables_paging(uc):
    uc.admin.schemas.create("many", "main")
    names = [f"t{i:02d}" for i in range(7)]
    for n in reversed(names):
        create_table(uc, "main", "many", n, columns=[COLUMNS[1]])
    # The SDK iterator follows next_page_token across pages of 3.
    listed = list(uc.admin.tables.list("main", "many", max_results=3))
    assert [t.name for t in listed] == names
    assert all(t.full_name == f"main.many.{t.name}" for t in listed)
    assert listed[0].columns[0].name == "id"
    # The raw pages: 3 + 3 + 1, the last one without next_page_token.
    pages, token = [], None
    while True:
        q = {"catalog_name": "main", "schema_name": "many", "max_results": 3}
        if token:
            q["page_token"] = token
        r = uc.admin.api_client.do("GET", f"{UC}/tables", query=q)
        pages.append([t["name"] for t in r.get("tables", [])])
        token = r.get("next_page_token")
        assert token != "", "the last page has no next_page_token key, never an empty string"
        if "next_page_token" not in r:
            break
        assert len(pages) < 10
    assert [n for p in pages for n in p] == names
    assert [len(p) for p in pages if p] == [3, 3, 1]
    # Without max_results: everything at once.
    r = uc.admin.api_client.do("GET", f"{UC}/tables", query={"catalog_name": "main", "schema_name": "many"})
    assert [t["name"] for t in r["tables"]] == names and "next_page_token" not in r


def test_list_tables_requires_catalog_and_schema(uc):
    with raises(BadRequest, status=400, mentions="schema_name", server=uc):
        uc.admin.api_client.do("GET", f"{UC}/tables", query={"catalog_name": "main"})
    with raises(NotFound, status=404, server=uc):
        list(uc.admin.tables.list("main", "nope"))


def _summaries_setup(uc):
    uc.admin.catalogs.create("sumcat")
    for s in ("s_1", "s_2", "sx1", "other"):
        uc.admin.schemas.create(s, "sumcat")
    for s, t in [("s_1", "t1"), ("s_1", "tab"), ("s_2", "t2"), ("sx1", "t3"), ("other", "u1"), ("other", "t_4")]:
        create_table(uc, "sumcat", s, t)
    create_table(uc, "sumcat", "s_1", "v1", table_type="VIEW", view_definition="SELECT 1")


def test_list_summaries_patterns(uc):
    _summaries_setup(uc)
    s = lambda **kw: [(x.full_name, x.table_type.value) for x in uc.admin.tables.list_summaries("sumcat", **kw)]
    all_ = s()
    assert all_ == sorted(all_)
    assert len(all_) == 7
    assert ("sumcat.s_1.v1", "VIEW") in all_ and ("sumcat.s_1.t1", "MANAGED") in all_
    # `_` is exactly one character: "s_1" matches s_1 and sx1, not s_2.
    assert [n for n, _ in s(schema_name_pattern="s_1")] == ["sumcat.s_1.t1", "sumcat.s_1.tab", "sumcat.s_1.v1",
                                                             "sumcat.sx1.t3"]
    assert [n for n, _ in s(schema_name_pattern="s%")] == ["sumcat.s_1.t1", "sumcat.s_1.tab", "sumcat.s_1.v1",
                                                           "sumcat.s_2.t2", "sumcat.sx1.t3"]
    # Two characters starting with t: t1, t2, t3 but not tab or t_4.
    assert [n for n, _ in s(table_name_pattern="t_")] == ["sumcat.s_1.t1", "sumcat.s_2.t2", "sumcat.sx1.t3"]
    assert [n for n, _ in s(schema_name_pattern="OTHER", table_name_pattern="%")] == ["sumcat.other.t_4",
                                                                                      "sumcat.other.u1"]
    assert [n for n, _ in s(table_name_pattern="t%", schema_name_pattern="s%2")] == ["sumcat.s_2.t2"]
    assert s(table_name_pattern="zzz%") == []


def test_list_summaries_paging_get_and_post(uc):
    _summaries_setup(uc)
    every = [x.full_name for x in uc.admin.tables.list_summaries("sumcat")]
    assert [x.full_name for x in uc.admin.tables.list_summaries("sumcat", max_results=2)] == every
    # POST with a JSON body (the API reference's form), paged by hand.
    seen, token, pages = [], None, 0
    while True:
        body = {"catalog_name": "sumcat", "max_results": 3}
        if token:
            body["page_token"] = token
        r = uc.admin.api_client.do("POST", f"{UC}/table-summaries", body=body)
        pages += 1
        assert len(r.get("tables", [])) <= 3
        seen += [t["full_name"] for t in r.get("tables", [])]
        if "next_page_token" not in r:
            break
        token = r["next_page_token"]
        assert pages < 10
    assert seen == every and pages >= 3
    r = uc.admin.api_client.do("POST", f"{UC}/table-summaries",
                               body={"catalog_name": "sumcat", "table_name_pattern": "u%"})
    assert r["tables"] == [{"full_name": "sumcat.other.u1", "table_type": "MANAGED"}]


def test_exists(uc):
    create_table(uc, "main", "default", "here")
    assert uc.admin.tables.exists("main.default.here").table_exists is True
    assert uc.admin.tables.exists("main.default.HERE").table_exists is True
    assert uc.admin.tables.exists("main.default.not_here").table_exists is False


def test_update_owner_and_delete(uc):
    t = create_table(uc, "main", "default", "owned")
    assert uc.admin.tables.update("main.default.owned", owner=BOB) is None  # SDK returns nothing
    got = uc.admin.tables.get("main.default.owned")
    assert got.owner == BOB and got.updated_by == ADMIN and got.updated_at >= t["updated_at"]
    with raises(NotFound, "PRINCIPAL_DOES_NOT_EXIST", status=404, server=uc):
        uc.admin.tables.update("main.default.owned", owner="ghost@example.com")
    uc.admin.tables.delete("main.default.owned")
    assert uc.admin.tables.exists("main.default.owned").table_exists is False
    with raises(NotFound, TABLE_MISSING, status=404, server=uc):
        uc.admin.tables.get("main.default.owned")
    with raises(NotFound, TABLE_MISSING, status=404, server=uc):
        uc.admin.tables.delete("main.default.owned")


def test_update_table_fields_and_rename(uc):
    create_table(uc, "main", "default", "upd", columns=[COLUMNS[1]], comment="c1", properties={"a": "1"})
    r = uc.admin.api_client.do("PATCH", f"{UC}/tables/main.default.upd",
                               body={"comment": "c2", "properties": {"b": "2"}, "columns": [COLUMNS[3].as_dict()]})
    assert r["comment"] == "c2" and r["properties"] == {"b": "2"}
    assert [c["name"] for c in r["columns"]] == ["Amount"]  # replaced wholesale
    r = uc.admin.api_client.do("PATCH", f"{UC}/tables/main.default.upd", body={"new_name": "Renamed"})
    assert r["full_name"] == "main.default.renamed"
    assert uc.admin.tables.exists("main.default.upd").table_exists is False
    assert uc.admin.tables.get("main.default.renamed").comment == "c2"


def test_managed_location_change_rejected(uc):
    create_table(uc, "main", "default", "fixed")
    with raises(BadRequest, status=400, mentions="storage_location", server=uc):
        uc.admin.api_client.do("PATCH", f"{UC}/tables/main.default.fixed",
                               body={"storage_location": "s3://elsewhere/x"})


def test_lowercase_conflict(uc):
    create_table(uc, "main", "default", "foobar")
    with raises(ResourceConflict, ALREADY_EXISTS, status=409, server=uc):
        create_table(uc, "main", "default", "FooBar")
    assert [t.name for t in uc.admin.tables.list("main", "default")] == ["foobar"]


def test_unicode_names_round_trip(uc):
    uc.admin.catalogs.create("SomeCÄt")
    uc.admin.schemas.create("SømeSchëma", "SomeCÄt")
    t = create_table(uc, "SomeCÄt", "SømeSchëma", "テーブル", columns=[COLUMNS[1]])
    assert t["full_name"] == "somecät.sømeschëma.テーブル"
    # Through the SDK (its HTTP library percent-encodes the path)...
    g = uc.admin.tables.get("SomeCÄt.SømeSchëma.テーブル")
    assert g.full_name == "somecät.sømeschëma.テーブル" and g.name == "テーブル"
    # ...and with the API reference's exact percent-encoded URI, in both hex cases.
    enc = "SomeC%C3%84t.S%C3%B8meSch%C3%ABma.%E3%83%86%E3%83%BC%E3%83%96%E3%83%AB"
    assert uc.admin.api_client.do("GET", f"{UC}/tables/{enc}")["table_id"] == t["table_id"]
    assert uc.admin.api_client.do("GET", f"{UC}/tables/{enc.lower()}")["table_id"] == t["table_id"]
    assert [x.name for x in uc.admin.tables.list("somecät", "sømeschëma")] == ["テーブル"]
    assert [x.full_name for x in uc.admin.tables.list_summaries("SomeCÄt")] == ["somecät.sømeschëma.テーブル"]


def test_invalid_table_names(uc):
    for bad in ("a.b", "x" * 256, "sl/ash"):
        with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, mentions="name", server=uc):
            create_table(uc, "main", "default", bad)
    assert create_table(uc, "main", "default", "t" * 255)["name"] == "t" * 255
    for path in ("only_one_part", "main.default", "a.b.c.d", "a..b"):
        with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc):
            uc.admin.tables.get(path)


def test_missing_parents(uc):
    with raises(NotFound, status=404, server=uc):
        create_table(uc, "main", "nope", "t")
    with raises(NotFound, status=404, server=uc):
        create_table(uc, "nope", "default", "t")
    with raises(NotFound, TABLE_MISSING, status=404, server=uc):
        uc.admin.tables.get("main.default.nope")


def test_table_authorization_plain_user(uc):
    # alice: USE_CATALOG shared, USE_SCHEMA shared.sales, SELECT on orders only.
    assert uc.alice.tables.get("shared.sales.orders").full_name == "shared.sales.orders"
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
        uc.alice.tables.get("shared.sales.secret")
    assert [t.name for t in uc.alice.tables.list("shared", "sales")] == ["orders"]
    assert [t.full_name for t in uc.alice.tables.list_summaries("shared")] == ["shared.sales.orders"]
    assert uc.alice.tables.exists("shared.sales.orders").table_exists is True
    # No CREATE_TABLE on shared.sales.
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
        create_table(uc, "shared", "sales", "mine", token="alice")
    # Not the owner: no update, no delete.
    with raises(PermissionDenied, "PERMISSION_DENIED", server=uc):
        uc.alice.tables.update("shared.sales.orders", owner=ALICE)
    with raises(PermissionDenied, "PERMISSION_DENIED", server=uc):
        uc.alice.tables.delete("shared.sales.orders")
    # bob cannot use the catalog at all.
    for call in (lambda: uc.bob.tables.get("shared.sales.orders"),
                 lambda: list(uc.bob.tables.list("shared", "sales"))):
        with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
            call()
    assert list(uc.bob.tables.list_summaries("shared")) == []
    assert uc.admin.tables.get("shared.sales.orders").owner == ADMIN


def test_metastore_admin_no_create_bypass(uc):
    # createTable needs use of catalog and schema plus CREATE_TABLE/ownership, regardless of
    # metastore-admin status. alice owns alice_cat and alice_cat.s; the admin has no grants there.
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
        create_table(uc, "alice_cat", "s", "by_admin")
    t = create_table(uc, "alice_cat", "s", "by_alice", token="alice")
    assert t["owner"] == ALICE
    # The metastore admin can still read it (getTable bypass)...
    assert uc.admin.tables.get("alice_cat.s.by_alice").owner == ALICE
    # ...but not delete it (no metastore-admin bypass for deleteTable).
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
        uc.admin.tables.delete("alice_cat.s.by_alice")
    uc.alice.tables.delete("alice_cat.s.by_alice")
    assert uc.admin.tables.exists("alice_cat.s.by_alice").table_exists is False


def test_view_owner_change_needs_membership_of_new_owner(uc):
    create_table(uc, "main", "default", "v", table_type="VIEW", view_definition="SELECT 1")
    # The admin is not bob, nor a member of `analysts`.
    for new_owner in (BOB, "analysts"):
        with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
            uc.admin.tables.update("main.default.v", owner=new_owner)
    uc.admin.tables.update("main.default.v", owner="admins")  # a group the admin belongs to
    assert uc.admin.tables.get("main.default.v").owner == "admins"
    # A plain table has no such rule.
    create_table(uc, "main", "default", "plain")
    uc.admin.tables.update("main.default.plain", owner=BOB)
    assert uc.admin.tables.get("main.default.plain").owner == BOB


def test_list_tables_without_schema_use_is_refused(uc):
    # alice may use catalog `shared` but holds nothing on shared.default.
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
        list(uc.alice.tables.list("shared", "default"))
