"""Functions through the real SDK (`w.functions`, `w.grants`): the full FunctionInfo round trip,
list, get, owner update, delete, bad input, and every privilege rule with a positive and a
negative caller (CREATE_FUNCTION, EXECUTE, ownership, ALL_PRIVILEGES, inheritance)."""

import re

import pytest
from databricks.sdk.errors import BadRequest, NotFound, PermissionDenied, ResourceConflict
from databricks.sdk.service.catalog import (
    ColumnTypeName,
    CreateFunction,
    CreateFunctionParameterStyle,
    CreateFunctionRoutineBody,
    CreateFunctionSecurityType,
    CreateFunctionSqlDataAccess,
    DependencyList,
    Dependency,
    FunctionParameterInfo,
    FunctionParameterInfos,
    FunctionParameterMode,
    FunctionParameterType,
    PermissionsChange,
    Privilege,
    TableDependency,
)

from conftest import ADMIN, ALICE, BOB, UC, raises

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def param(name, position, type_name=ColumnTypeName.INT, type_text="int", **kw):
    return FunctionParameterInfo(name=name, type_name=type_name, type_text=type_text, position=position, **kw)


def fn(name="add_one", catalog="shared", schema="sales", **kw):
    base = dict(
        name=name,
        catalog_name=catalog,
        schema_name=schema,
        input_params=FunctionParameterInfos(parameters=[param("x", 0)]),
        data_type=ColumnTypeName.INT,
        full_data_type="int",
        routine_body=CreateFunctionRoutineBody.SQL,
        routine_definition="x + 1",
        parameter_style=CreateFunctionParameterStyle.S,
        is_deterministic=True,
        sql_data_access=CreateFunctionSqlDataAccess.CONTAINS_SQL,
        is_null_call=False,
        security_type=CreateFunctionSecurityType.DEFINER,
        specific_name=name,
    )
    base.update(kw)
    return CreateFunction(**base)


def grant(uc, sec_type, name, principal, *privs):
    uc.admin.grants.update(sec_type, name, changes=[PermissionsChange(principal=principal, add=[Privilege[p] for p in privs])])


def names(items):
    return [f.name for f in items]


def test_full_function_info_round_trip(uc, ms_id):
    deps = DependencyList(dependencies=[Dependency(table=TableDependency(table_full_name="shared.sales.orders"))])
    created = uc.admin.functions.create(fn(
        name="Clamp",
        input_params=FunctionParameterInfos(parameters=[
            # Given out of position order; names keep their case.
            param("Hi", 2, ColumnTypeName.DOUBLE, "double", parameter_default="1.0"),
            param("x", 0, ColumnTypeName.DOUBLE, "double", comment="the value",
                  parameter_mode=FunctionParameterMode.IN, parameter_type=FunctionParameterType.PARAM),
            param("lo", 1, ColumnTypeName.DECIMAL, "decimal(10,2)", type_precision=10, type_scale=2),
        ]),
        data_type=ColumnTypeName.DOUBLE, full_data_type="double",
        routine_definition="least(greatest(x, lo), hi)", routine_dependencies=deps,
        comment="clamps x", properties='{"owner_team": "analytics"}', sql_path="shared.sales",
        specific_name="clamp_v1",
    ))
    assert created.name == "clamp" and created.full_name == "shared.sales.clamp"
    assert re.fullmatch(UUID, created.function_id) and created.metastore_id == ms_id
    assert created.owner == ADMIN and created.created_by == ADMIN and created.updated_by == ADMIN
    assert created.created_at and created.created_at == created.updated_at
    assert [p.name for p in created.input_params.parameters] == ["x", "lo", "Hi"]
    assert created.input_params.parameters[1].type_precision == 10
    assert created.input_params.parameters[0].parameter_mode == FunctionParameterMode.IN
    assert created.input_params.parameters[2].parameter_default == "1.0"
    assert created.routine_dependencies.dependencies[0].table.table_full_name == "shared.sales.orders"
    assert created.properties == '{"owner_team": "analytics"}'
    assert (created.comment, created.sql_path, created.specific_name) == ("clamps x", "shared.sales", "clamp_v1")
    assert created.routine_body.value == "SQL" and created.security_type.value == "DEFINER"
    got = uc.admin.functions.get("SHARED.Sales.CLAMP")
    assert got.as_dict() == created.as_dict()
    # A table and a volume may share the name: functions are their own namespace.
    uc.admin.functions.create(fn(name="orders"))
    assert uc.admin.functions.get("shared.sales.orders").name == "orders"


def test_external_and_table_functions(uc):
    py = uc.admin.functions.create(fn(
        name="py_len", routine_body=CreateFunctionRoutineBody.EXTERNAL, external_language="PYTHON",
        routine_definition="return len(s)", sql_data_access=CreateFunctionSqlDataAccess.NO_SQL,
        input_params=FunctionParameterInfos(parameters=[param("s", 0, ColumnTypeName.STRING, "string")]),
    ))
    assert py.external_language == "PYTHON"
    tf = uc.admin.functions.create(fn(
        name="ranges", data_type=ColumnTypeName.TABLE_TYPE, full_data_type="struct<n:int>",
        routine_definition="SELECT * FROM range(x)",
        return_params=FunctionParameterInfos(parameters=[param("n", 0, type_name=ColumnTypeName.INT)]),
    ))
    assert [p.name for p in tf.return_params.parameters] == ["n"]
    # No parameters at all is fine (`input_params` present, empty).
    none = uc.admin.functions.create(fn(name="pi", input_params=FunctionParameterInfos(parameters=[]),
                                        data_type=ColumnTypeName.DOUBLE, full_data_type="double",
                                        routine_definition="3.14159"))
    assert none.input_params is not None and not none.input_params.parameters


@pytest.mark.parametrize("change,field", [
    (dict(data_type=None), "data_type"),
    (dict(routine_definition=""), "routine_definition"),
    (dict(specific_name=None), "specific_name"),
    (dict(routine_body=CreateFunctionRoutineBody.EXTERNAL), "external_language"),
    (dict(routine_body=CreateFunctionRoutineBody.EXTERNAL, external_language="PYTHON"), "sql_data_access"),
    (dict(data_type=ColumnTypeName.TABLE_TYPE), "return_params"),
    (dict(return_params=FunctionParameterInfos(parameters=[param("n", 0)])), "return_params"),
    (dict(input_params=FunctionParameterInfos(parameters=[param("x", 0), param("X", 1)])), "input_params.parameters[1].name"),
    (dict(input_params=FunctionParameterInfos(parameters=[param("x", 0), param("y", 2)])), "position"),
    (dict(properties="not json"), "properties"),
    (dict(schema_name="information_schema"), "schema_name"),
])
def test_bad_input_is_400_naming_the_field_and_creates_nothing(uc, change, field):
    body = fn(**{k: v for k, v in change.items() if v is not None}).as_dict()
    for k, v in change.items():
        if v is None:
            body.pop(k, None)
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc, mentions=field):
        uc.admin.api_client.do("POST", f"{UC}/functions", body={"function_info": body})
    assert names(uc.admin.functions.list("shared", "sales")) == []


def test_unknown_enum_and_wrong_type_name_the_field(uc):
    body = fn().as_dict()
    body["sql_data_access"] = "WRITES_EVERYTHING"
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc, mentions="sql_data_access"):
        uc.admin.api_client.do("POST", f"{UC}/functions", body={"function_info": body})
    body = fn().as_dict()
    body["is_deterministic"] = "yes"
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc, mentions="is_deterministic"):
        uc.admin.api_client.do("POST", f"{UC}/functions", body={"function_info": body})
    # The bare CreateFunction (no `function_info` wrapper) is accepted too.
    out = uc.admin.api_client.do("POST", f"{UC}/functions", body=fn(name="bare").as_dict())
    assert out["full_name"] == "shared.sales.bare"


def test_duplicates_missing_parents_and_missing_functions(uc):
    uc.admin.functions.create(fn())
    with raises(ResourceConflict, "FUNCTION_ALREADY_EXISTS", status=409, server=uc):
        uc.admin.functions.create(fn(name="ADD_ONE"))
    with raises(NotFound, "SCHEMA_DOES_NOT_EXIST", status=404, server=uc):
        uc.admin.functions.create(fn(schema="nope"))
    with raises(NotFound, "CATALOG_DOES_NOT_EXIST", status=404, server=uc):
        uc.admin.functions.create(fn(catalog="nope"))
    with raises(NotFound, "FUNCTION_DOES_NOT_EXIST", status=404, server=uc):
        uc.admin.functions.get("shared.sales.nope")
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc, mentions="full_name"):
        uc.admin.functions.get("shared.sales")


def test_list_is_ordered_and_paged(uc):
    for n in ["c", "a", "e", "b", "d"]:
        uc.admin.functions.create(fn(name=n))
    assert names(uc.admin.functions.list("shared", "sales")) == ["a", "b", "c", "d", "e"]
    first = uc.admin.api_client.do("GET", f"{UC}/functions",
                                   query={"catalog_name": "shared", "schema_name": "sales", "max_results": 2})
    assert [f["name"] for f in first["functions"]] == ["a", "b"] and first["next_page_token"]
    second = uc.admin.api_client.do("GET", f"{UC}/functions", query={
        "catalog_name": "shared", "schema_name": "sales", "max_results": 10, "page_token": first["next_page_token"]})
    assert [f["name"] for f in second["functions"]] == ["c", "d", "e"] and "next_page_token" not in second
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc, mentions="schema_name"):
        uc.admin.api_client.do("GET", f"{UC}/functions", query={"catalog_name": "shared"})
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc, mentions="page_token"):
        uc.admin.api_client.do("GET", f"{UC}/functions",
                               query={"catalog_name": "shared", "schema_name": "sales", "page_token": "forged"})


def test_create_function_needs_create_function_and_use(uc):
    # alice (analysts) uses shared and shared.sales, but lacks CREATE_FUNCTION.
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc, mentions="CREATE_FUNCTION"):
        uc.alice.functions.create(fn())
    grant(uc, "schema", "shared.sales", "analysts", "CREATE_FUNCTION")
    made = uc.alice.functions.create(fn())
    assert made.owner == ALICE
    # bob holds CREATE_FUNCTION but cannot use the catalog.
    grant(uc, "schema", "shared.sales", BOB, "CREATE_FUNCTION")
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc, mentions="USE_CATALOG"):
        uc.bob.functions.create(fn(name="b"))
    # Legacy CREATE on the schema counts as CREATE_FUNCTION; ALL_PRIVILEGES on the catalog too.
    grant(uc, "catalog", "shared", BOB, "USE_CATALOG")
    grant(uc, "schema", "shared.sales", BOB, "USE_SCHEMA")
    uc.admin.grants.update("schema", "shared.sales", changes=[PermissionsChange(principal=BOB, remove=[Privilege.CREATE_FUNCTION])])
    with raises(PermissionDenied, status=403, server=uc):
        uc.bob.functions.create(fn(name="b"))
    grant(uc, "catalog", "shared", BOB, "ALL_PRIVILEGES")
    assert uc.bob.functions.create(fn(name="b")).owner == BOB


def test_execute_gates_get_and_list(uc):
    uc.admin.functions.create(fn(name="f1"))
    uc.admin.functions.create(fn(name="f2"))
    # alice may use the schema but executes nothing: get is 403, the list is empty.
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc, mentions="EXECUTE"):
        uc.alice.functions.get("shared.sales.f1")
    assert names(uc.alice.functions.list("shared", "sales")) == []
    grant(uc, "function", "shared.sales.f1", "analysts", "EXECUTE")
    assert uc.alice.functions.get("shared.sales.f1").name == "f1"
    assert names(uc.alice.functions.list("shared", "sales")) == ["f1"]
    # EXECUTE on the schema is inherited by every function in it.
    grant(uc, "schema", "shared.sales", "analysts", "EXECUTE")
    assert names(uc.alice.functions.list("shared", "sales")) == ["f1", "f2"]
    # bob cannot use the catalog: 403, also for a function that does not exist.
    with raises(PermissionDenied, status=403, server=uc):
        list(uc.bob.functions.list("shared", "sales"))
    with raises(PermissionDenied, status=403, server=uc):
        uc.bob.functions.get("shared.sales.nope")
    # include_browse with BROWSE on the catalog: selective metadata, no body.
    grant(uc, "catalog", "shared", BOB, "BROWSE")
    seen = uc.bob.functions.get("shared.sales.f1", include_browse=True)
    assert seen.browse_only is True and seen.routine_definition is None
    assert names(uc.bob.functions.list("shared", "sales", include_browse=True)) == ["f1", "f2"]


def test_owner_update_and_delete_rules(uc):
    grant(uc, "schema", "shared.sales", "analysts", "CREATE_FUNCTION")
    uc.alice.functions.create(fn(name="mine"))
    # Only `owner` changes; bob (no ownership) may not; alice may give it to a group she is in.
    with raises(PermissionDenied, status=403, server=uc):
        uc.bob.functions.update("shared.sales.mine", owner=BOB)
    with raises(PermissionDenied, status=403, server=uc, mentions="new owner"):
        uc.alice.functions.update("shared.sales.mine", owner=BOB)
    with raises(NotFound, "PRINCIPAL_DOES_NOT_EXIST", status=404, server=uc):
        uc.alice.functions.update("shared.sales.mine", owner="ghost@example.com")
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc, mentions="owner"):
        uc.alice.api_client.do("PATCH", f"{UC}/functions/shared.sales.mine", body={"comment": "x"})
    moved = uc.alice.functions.update("shared.sales.mine", owner="analysts")
    assert moved.owner == "analysts" and moved.updated_by == ALICE
    # Deleting: alice owns it through `analysts` and uses the schema; bob may not.
    with raises(PermissionDenied, status=403, server=uc):
        uc.bob.functions.delete("shared.sales.mine")
    uc.alice.functions.delete("shared.sales.mine", force=True)
    with raises(NotFound, "FUNCTION_DOES_NOT_EXIST", status=404, server=uc):
        uc.admin.functions.get("shared.sales.mine")


def test_metastore_admin_has_no_delete_bypass(uc):
    # carol is a workspace admin; the metastore admin is admin@. A function in alice's catalog:
    uc.alice.functions.create(fn(name="f", catalog="alice_cat", schema="s"))
    uc.alice.functions.update("alice_cat.s.f", owner=ALICE)
    # The metastore admin reads it (MA) and may change its owner, but not delete it.
    assert uc.admin.functions.get("alice_cat.s.f").owner == ALICE
    with raises(PermissionDenied, status=403, server=uc):
        uc.admin.functions.delete("alice_cat.s.f")
    uc.admin.functions.update("alice_cat.s.f", owner=BOB)
    uc.alice.functions.delete("alice_cat.s.f")  # the catalog's owner may


def test_permissions_api_and_effective_permissions(uc):
    uc.admin.functions.create(fn(name="f"))
    grant(uc, "function", "shared.sales.f", BOB, "EXECUTE")
    got = uc.admin.grants.get("function", "shared.sales.f")
    assert [(a.principal, [p.value for p in a.privileges]) for a in got.privilege_assignments] == [(BOB, ["EXECUTE"])]
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc, mentions="SELECT"):
        grant(uc, "function", "shared.sales.f", BOB, "SELECT")
    grant(uc, "schema", "shared.sales", BOB, "EXECUTE", "USE_SCHEMA")
    eff = uc.admin.grants.get_effective("function", "shared.sales.f", principal=BOB)
    privs = sorted((p.privilege.value, p.inherited_from_type.value if p.inherited_from_type else "",
                    p.inherited_from_name or "") for a in eff.privilege_assignments for p in a.privileges)
    # USE_SCHEMA is not valid on a function, so it is not listed as inherited.
    assert privs == [("EXECUTE", "", ""), ("EXECUTE", "SCHEMA", "shared.sales")]
    # Only the owner or a metastore admin reads others' grants and changes them.
    with raises(PermissionDenied, "UNAUTHORIZED", status=403, server=uc):
        uc.alice.grants.update("function", "shared.sales.f", changes=[PermissionsChange(principal=ALICE, add=[Privilege.EXECUTE])])
    # The grants go with the function.
    uc.admin.functions.delete("shared.sales.f")
    uc.admin.functions.create(fn(name="f"))
    assert not uc.admin.grants.get("function", "shared.sales.f").privilege_assignments
    with raises(NotFound, "FUNCTION_DOES_NOT_EXIST", status=404, server=uc):
        uc.admin.grants.get("function", "shared.sales.nope")


def test_schema_not_empty_and_force_cascade(uc):
    uc.admin.schemas.create("fx", "main")
    uc.admin.functions.create(fn(catalog="main", schema="fx"))
    with raises(BadRequest, "SCHEMA_NOT_EMPTY", status=400, server=uc):
        uc.admin.schemas.delete("main.fx")
    assert uc.admin.functions.get("main.fx.add_one")
    uc.admin.schemas.delete("main.fx", force=True)
    uc.admin.schemas.create("fx", "main")
    with raises(NotFound, "FUNCTION_DOES_NOT_EXIST", status=404, server=uc):
        uc.admin.functions.get("main.fx.add_one")


def test_explain_function_actions(uc):
    uc.admin.functions.create(fn(name="f"))
    out = uc.alice.api_client.do("GET", f"{UC}/explain", query={
        "action": "getFunction", "securable_type": "function", "full_name": "shared.sales.f"})
    assert out["allowed"] is False and out["securable_type"] == "FUNCTION" and "EXECUTE" in out["explanation"]
    grant(uc, "function", "shared.sales.f", "analysts", "EXECUTE")
    out = uc.alice.api_client.do("GET", f"{UC}/explain", query={
        "action": "EXECUTE", "securable_type": "FUNCTION", "full_name": "shared.sales.f"})
    assert out["allowed"] is True and "analysts" in out["explanation"]
    out = uc.alice.api_client.do("GET", f"{UC}/explain", query={
        "action": "createFunction", "securable_type": "schema", "full_name": "shared.sales"})
    assert out["allowed"] is False and "CREATE_FUNCTION" in out["explanation"]
