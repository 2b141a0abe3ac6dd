"""The Permissions API through the real SDK: getPermissions / updatePermissions / PUT, effective
permissions and their paged forms, securable-type spellings, legacy names, and the User Info API
."""

from databricks.sdk.errors import BadRequest, NotFound, PermissionDenied
from databricks.sdk.service.catalog import PermissionsChange, Privilege, SecurableType

from conftest import ADMIN, ALICE, BOB, CAROL, SP, UC, raises

READ_DENIED = "Only admin users or the owner of the securable can read other users' permissions."


def ch(principal, add=(), remove=()):
    return PermissionsChange(principal=principal, add=[Privilege[p] for p in add] or None,
                             remove=[Privilege[p] for p in remove] or None)


def as_list(assignments):
    """[(principal, [privilege, ...])] exactly in the order the server answered."""
    return [(a.principal, [p.value for p in a.privileges or []]) for a in assignments or []]


def _k(entry):
    return tuple(v or "" for v in entry)


def eff(assignments):
    """{principal: sorted [(privilege, inherited_from_type, inherited_from_name)]} of effective permissions."""
    out = {}
    for a in assignments or []:
        out[a.principal] = sorted(
            ((p.privilege.value, p.inherited_from_type.value if p.inherited_from_type else None, p.inherited_from_name)
             for p in a.privileges or []), key=_k)
    return out


def direct(uc, sec_type, name, token="admin", **q):
    return as_list(uc.client(token).grants.get(sec_type, name, **q).privilege_assignments)


def patch_raw(uc, sec_type, name, changes, token="admin"):
    return uc.client(token).api_client.do("PATCH", f"{UC}/permissions/{sec_type}/{name}", body={"changes": changes})


def put_raw(uc, sec_type, name, body, token="admin"):
    return uc.client(token).api_client.do("PUT", f"{UC}/permissions/{sec_type}/{name}", body=body)


def make_view(uc, name="v", catalog="shared", schema="sales"):
    uc.admin.api_client.do("POST", f"{UC}/tables", body={
        "catalog_name": catalog, "schema_name": schema, "name": name, "table_type": "VIEW",
        "view_definition": "SELECT 1", "columns": []})
    return f"{catalog}.{schema}.{name}"


# --- getPermissions ---------------------------------------------------------------------------


def test_get_permissions_admin_sees_all_and_filters_by_principal(uc):
    uc.admin.grants.update("table", "shared.sales.orders", changes=[ch(BOB, add=["MODIFY", "SELECT"])])
    assert direct(uc, "table", "shared.sales.orders") == [
        ("analysts", ["SELECT"]), (BOB, ["MODIFY", "SELECT"])]
    assert direct(uc, "table", "shared.sales.orders", principal="analysts") == [("analysts", ["SELECT"])]
    assert direct(uc, "table", "shared.sales.orders", principal=BOB) == [(BOB, ["MODIFY", "SELECT"])]
    # The filter does not expand groups: alice is in analysts but holds nothing directly.
    assert direct(uc, "table", "shared.sales.orders", principal=ALICE) == []
    # Only direct grants: the catalog-level USE_CATALOG of analysts is not on the table.
    assert direct(uc, "catalog", "shared") == [("analysts", ["USE_CATALOG"])]
    # An object with no grants answers an empty list.
    assert direct(uc, "catalog", "private") == []


def test_get_permissions_owner_sees_all(uc):
    uc.alice.grants.update("catalog", "alice_cat", changes=[ch(BOB, add=["USE_CATALOG"]), ch("analysts", add=["BROWSE"])])
    assert direct(uc, "catalog", "alice_cat", token="alice") == [("analysts", ["BROWSE"]), (BOB, ["USE_CATALOG"])]
    assert direct(uc, "catalog", "alice_cat", token="alice", principal=BOB) == [(BOB, ["USE_CATALOG"])]
    # ... and the metastore admin sees the same.
    assert direct(uc, "catalog", "alice_cat") == [("analysts", ["BROWSE"]), (BOB, ["USE_CATALOG"])]


def test_get_permissions_non_owner_only_own_principal(uc):
    # No filter, a group the caller is in, or another user: 403 UNAUTHORIZED.
    for q in ({}, {"principal": "analysts"}, {"principal": BOB}):
        with raises(PermissionDenied, "UNAUTHORIZED", status=403, server=uc) as info:
            uc.alice.grants.get("table", "shared.sales.orders", **q)
        assert str(info.value).startswith(READ_DENIED)
    # Her own name: her (empty) direct grants.
    assert direct(uc, "table", "shared.sales.orders", token="alice", principal=ALICE) == []
    uc.admin.grants.update("table", "shared.sales.orders", changes=[ch(ALICE, add=["MODIFY"])])
    assert direct(uc, "table", "shared.sales.orders", token="alice", principal=ALICE) == [(ALICE, ["MODIFY"])]
    # A workspace admin (not a metastore admin) is an ordinary caller here.
    with raises(PermissionDenied, "UNAUTHORIZED", status=403, server=uc):
        uc.carol.grants.get("table", "shared.sales.orders")
    assert direct(uc, "table", "shared.sales.orders", token="carol", principal=CAROL) == []
    # Effective permissions follow the same rule.
    with raises(PermissionDenied, "UNAUTHORIZED", status=403, server=uc):
        uc.bob.grants.get_effective("table", "shared.sales.orders")
    assert uc.bob.grants.get_effective("table", "shared.sales.orders", principal=BOB).privilege_assignments in (None, [])


# --- updatePermissions ------------------------------------------------------------------------


def test_update_answers_full_sorted_list_remove_then_add(uc):
    r = uc.admin.grants.update("schema", "shared.sales", changes=[ch(BOB, add=["USE_SCHEMA", "CREATE_TABLE"])])
    assert as_list(r.privilege_assignments) == [("analysts", ["USE_SCHEMA"]), (BOB, ["CREATE_TABLE", "USE_SCHEMA"])]
    # The same privilege in remove and add: remove runs first, so it ends up granted.
    r = uc.admin.grants.update("schema", "shared.sales",
                               changes=[ch(BOB, add=["CREATE_TABLE", "SELECT"], remove=["CREATE_TABLE", "USE_SCHEMA"])])
    assert as_list(r.privilege_assignments) == [("analysts", ["USE_SCHEMA"]), (BOB, ["CREATE_TABLE", "SELECT"])]
    # Removing what is not held and adding what is held are no-ops.
    r = uc.admin.grants.update("schema", "shared.sales", changes=[ch(BOB, add=["SELECT"], remove=["MODIFY"])])
    assert as_list(r.privilege_assignments) == [("analysts", ["USE_SCHEMA"]), (BOB, ["CREATE_TABLE", "SELECT"])]
    # A principal whose set becomes empty disappears.
    r = uc.admin.grants.update("schema", "shared.sales", changes=[ch(BOB, remove=["CREATE_TABLE", "SELECT"])])
    assert as_list(r.privilege_assignments) == [("analysts", ["USE_SCHEMA"])]
    assert direct(uc, "schema", "shared.sales") == [("analysts", ["USE_SCHEMA"])]
    # omit_permissions_in_response: the change happens, the list is omitted.
    r = uc.admin.grants.update("schema", "shared.sales", changes=[ch(BOB, add=["MODIFY"])],
                               omit_permissions_in_response=True)
    assert not r.privilege_assignments
    assert direct(uc, "schema", "shared.sales", principal=BOB) == [(BOB, ["MODIFY"])]


def test_privilege_names_are_normalised(uc):
    r = patch_raw(uc, "catalog", "private", [{"principal": BOB, "add": ["use catalog", " Create_Schema ", "all  privileges"]}])
    assert r["privilege_assignments"] == [{"principal": BOB, "privileges": ["ALL_PRIVILEGES", "CREATE_SCHEMA", "USE_CATALOG"]}]


def test_revoking_all_privileges_removes_covered_but_not_manage(uc):
    uc.admin.grants.update("catalog", "private", changes=[
        ch(BOB, add=["ALL_PRIVILEGES", "USE_CATALOG", "USAGE", "SELECT", "CREATE_SCHEMA", "MANAGE", "EXTERNAL_USE_SCHEMA"]),
        ch(ALICE, add=["ALL_PRIVILEGES", "USE_CATALOG"]),
    ])
    r = uc.admin.grants.update("catalog", "private", changes=[ch(BOB, remove=["ALL_PRIVILEGES"])])
    assert as_list(r.privilege_assignments) == [(ALICE, ["ALL_PRIVILEGES", "USE_CATALOG"]),
                                                (BOB, ["EXTERNAL_USE_SCHEMA", "MANAGE"])]
    # On a table as well.
    uc.admin.grants.update("table", "shared.sales.secret", changes=[ch(BOB, add=["ALL_PRIVILEGES", "SELECT", "MODIFY", "MANAGE", "APPLY_TAG"])])
    r = uc.admin.grants.update("table", "shared.sales.secret", changes=[ch(BOB, remove=["ALL_PRIVILEGES"])])
    assert as_list(r.privilege_assignments) == [(BOB, ["MANAGE"])]


def test_privilege_not_valid_on_the_type_is_rejected(uc):
    view = make_view(uc)
    cases = [
        ("schema", "shared.sales", "CREATE_CATALOG"),
        ("table", view, "MODIFY"),  # valid on a table, not on a view
        ("view", view, "MODIFY"),
        ("table", "shared.sales.orders", "USAGE"),
        ("table", "shared.sales.orders", "USE_SCHEMA"),
        ("catalog", "shared", "CREATE_CATALOG"),
        ("metastore", uc.admin.metastores.current().metastore_id, "SELECT"),
        ("metastore", uc.admin.metastores.current().metastore_id, "ALL_PRIVILEGES"),
    ]
    before = {(t, n): direct(uc, t, n) for t, n, _ in cases}
    for t, n, priv in cases:
        with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc, mentions=priv):
            ok = "CREATE_CATALOG" if t == "metastore" else "SELECT"
            uc.admin.grants.update(t, n, changes=[ch(ALICE, add=[ok]), ch(BOB, add=[priv])])
        with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc):
            put_raw(uc, t, n, {"privilege_assignments": [{"principal": BOB, "privileges": [priv]}]})
    assert {(t, n): direct(uc, t, n) for t, n, _ in cases} == before
    # Valid under privilege model 1.0: SELECT on a schema, MODIFY on a table, SELECT on a view.
    assert as_list(uc.admin.grants.update("schema", "shared.sales", changes=[ch(BOB, add=["SELECT"])]).privilege_assignments) \
        == [("analysts", ["USE_SCHEMA"]), (BOB, ["SELECT"])]
    assert direct(uc, "table", "shared.sales.orders", principal=BOB) == []
    uc.admin.grants.update("table", "shared.sales.orders", changes=[ch(BOB, add=["MODIFY"])])
    uc.admin.grants.update("table", view, changes=[ch(BOB, add=["SELECT"])])
    assert direct(uc, "table", "shared.sales.orders", principal=BOB) == [(BOB, ["MODIFY"])]
    assert direct(uc, "table", view, principal=BOB) == [(BOB, ["SELECT"])]


def test_unknown_privilege_name_is_rejected(uc):
    for bad in ("FOO", "OWN", "CREATE_MOUNT", "SELECT_ALL", ""):
        with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc):
            patch_raw(uc, "catalog", "shared", [{"principal": BOB, "add": ["USE_CATALOG", bad]}])
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc, mentions="FOO"):
        patch_raw(uc, "catalog", "shared", [{"principal": "analysts", "remove": ["FOO"]}])
    assert direct(uc, "catalog", "shared") == [("analysts", ["USE_CATALOG"])]


def test_unknown_principal_is_not_found_and_nothing_changes(uc):
    with raises(NotFound, "PRINCIPAL_DOES_NOT_EXIST", status=404, server=uc, mentions="nobody@example.com"):
        uc.admin.grants.update("catalog", "shared", changes=[ch(BOB, add=["USE_CATALOG"]),
                                                               ch("nobody@example.com", add=["USE_CATALOG"])])
    with raises(NotFound, "PRINCIPAL_DOES_NOT_EXIST", status=404, server=uc):
        put_raw(uc, "catalog", "shared", {"privilege_assignments": [{"principal": "no-such-group", "privileges": ["USE_CATALOG"]}]})
    assert direct(uc, "catalog", "shared") == [("analysts", ["USE_CATALOG"])]
    # Principal names are case-sensitive.
    with raises(NotFound, "PRINCIPAL_DOES_NOT_EXIST", status=404, server=uc):
        uc.admin.grants.update("catalog", "shared", changes=[ch("Analysts", add=["USE_CATALOG"])])
    # Groups, service principals and `account users` are principals.
    r = uc.admin.grants.update("catalog", "shared", changes=[ch("data-eng", add=["BROWSE"]), ch(SP, add=["BROWSE"]),
                                                              ch("account users", add=["BROWSE"])])
    assert as_list(r.privilege_assignments) == [(SP, ["BROWSE"]), ("account users", ["BROWSE"]),
                                                ("analysts", ["USE_CATALOG"]), ("data-eng", ["BROWSE"])]


def test_non_owner_non_admin_cannot_change_permissions(uc):
    denied = "Only admin users or the owner of the securable can grant or revoke permissions."
    # alice holds SELECT on orders, carol is a workspace admin, the SP may create catalogs: none owns it.
    for who in ("alice", "carol", "bob", "sp"):
        with raises(PermissionDenied, "UNAUTHORIZED", status=403, server=uc) as info:
            uc.client(who).grants.update("table", "shared.sales.orders", changes=[ch(BOB, add=["SELECT"])])
        assert str(info.value).startswith(denied)
        with raises(PermissionDenied, "UNAUTHORIZED", status=403, server=uc):
            put_raw(uc, "table", "shared.sales.orders", {"privilege_assignments": []}, token=who)
    with raises(PermissionDenied, "UNAUTHORIZED", status=403, server=uc):
        uc.alice.grants.update("catalog", "shared", changes=[ch("analysts", remove=["USE_CATALOG"])])
    assert direct(uc, "table", "shared.sales.orders") == [("analysts", ["SELECT"])]
    assert direct(uc, "catalog", "shared") == [("analysts", ["USE_CATALOG"])]
    # The owner of the schema may grant on the schema, but (not owning the catalog) not on the catalog.
    r = uc.alice.grants.update("schema", "alice_cat.s", changes=[ch(BOB, add=["USE_SCHEMA"])])
    assert as_list(r.privilege_assignments) == [(BOB, ["USE_SCHEMA"])]
    uc.admin.catalogs.create("admins_cat")
    with raises(PermissionDenied, "UNAUTHORIZED", status=403, server=uc):
        uc.alice.grants.update("catalog", "admins_cat", changes=[ch(ALICE, add=["USE_CATALOG"])])
    assert direct(uc, "catalog", "admins_cat") == []


def test_put_replaces_all_direct_grants(uc):
    uc.admin.grants.update("catalog", "shared", changes=[ch(BOB, add=["USE_CATALOG", "BROWSE"])])
    r = put_raw(uc, "catalog", "shared", {"privilege_assignments": [
        {"principal": ALICE, "privileges": ["USE_CATALOG"]},
        {"principal": "data-eng", "privileges": ["SELECT"]},
        {"principal": ALICE, "privileges": ["CREATE_SCHEMA"]},  # listed twice: the union
    ]})
    assert r == {}
    assert direct(uc, "catalog", "shared") == [(ALICE, ["CREATE_SCHEMA", "USE_CATALOG"]), ("data-eng", ["SELECT"])]
    # The owner (not just the metastore admin) may PUT.
    assert put_raw(uc, "catalog", "alice_cat", {"privilege_assignments": [{"principal": BOB, "privileges": ["USE_CATALOG"]}]},
                   token="alice") == {}
    assert direct(uc, "catalog", "alice_cat") == [(BOB, ["USE_CATALOG"])]
    # An empty or missing list clears every direct grant.
    assert put_raw(uc, "catalog", "shared", {"privilege_assignments": []}) == {}
    assert direct(uc, "catalog", "shared") == []
    assert put_raw(uc, "catalog", "alice_cat", {}, token="alice") == {}
    assert direct(uc, "catalog", "alice_cat") == []
    # ... with immediate effect: analysts lost USE_CATALOG on shared.
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
        uc.alice.tables.get("shared.sales.orders")


# --- securable-type spellings -----------------------------------------------------------------


def test_every_securable_type_spelling(uc):
    ms_id = uc.admin.metastores.current().metastore_id
    for t in ("catalog", "CATALOG", "Catalog", SecurableType.CATALOG, "SecurableType.CATALOG"):
        assert direct(uc, t, "shared") == [("analysts", ["USE_CATALOG"])], t
    for t in ("schema", "SCHEMA", SecurableType.SCHEMA):
        assert direct(uc, t, "shared.sales") == [("analysts", ["USE_SCHEMA"])], t
    for t in ("table", "TABLE", "view", "VIEW", SecurableType.TABLE):
        assert direct(uc, t, "shared.sales.orders") == [("analysts", ["SELECT"])], t
    for t in ("metastore", "METASTORE", SecurableType.METASTORE):
        assert direct(uc, t, ms_id) == [(SP, ["CREATE_CATALOG"])], t
    # PATCH through a spelling changes the one securable all spellings address.
    uc.admin.grants.update(SecurableType.SCHEMA, "shared.sales", changes=[ch(BOB, add=["USE_SCHEMA"])])
    uc.admin.grants.update("Schema", "shared.sales", changes=[ch(BOB, add=["SELECT"])])
    assert direct(uc, "SCHEMA", "shared.sales", principal=BOB) == [(BOB, ["SELECT", "USE_SCHEMA"])]
    # storage-credential style: `-` and `_` are the same, any case (the securable itself is absent here).
    for t in ("storage-credential", "storage_credential", "STORAGE_CREDENTIAL", "Storage-Credential"):
        with raises(NotFound, status=404, server=uc, mentions="x"):
            uc.admin.grants.get(t, "x")
    for t in ("external-location", "external_location", "EXTERNAL_LOCATION"):
        with raises(NotFound, status=404, server=uc):
            uc.admin.grants.get(t, "x")


def test_unmodelled_privilegeless_and_unknown_types(uc):
    # Volumes are modelled: a table's name is no volume (separate namespaces).
    for t in ("volume", "VOLUME", SecurableType.VOLUME):
        with raises(NotFound, "VOLUME_DOES_NOT_EXIST", status=404, server=uc):
            uc.admin.grants.get(t, "shared.sales.orders")
    for t in ("connection", SecurableType.CONNECTION):
        with raises(NotFound, status=404, server=uc):
            uc.admin.grants.get(t, "shared.sales.orders")
        with raises(NotFound, status=404, server=uc):
            uc.admin.grants.update(t, "shared.sales.orders", changes=[ch(BOB, add=["SELECT"])])
    for t in ("recipient", "RECIPIENT", "provider", "tabel", "tables", "catalogs", "SecurableType.TABEL"):
        with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc):
            uc.admin.grants.get(t, "shared.sales.orders")
        with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc):
            uc.admin.grants.update(t, "shared.sales.orders", changes=[ch(BOB, add=["SELECT"])])
    assert direct(uc, "table", "shared.sales.orders") == [("analysts", ["SELECT"])]
    # A missing securable of a modelled type is a 404.
    with raises(NotFound, ("TABLE_DOES_NOT_EXIST", "RESOURCE_DOES_NOT_EXIST", "NOT_FOUND"), status=404, server=uc):
        uc.admin.grants.get("table", "shared.sales.nope")
    with raises(NotFound, ("CATALOG_DOES_NOT_EXIST", "RESOURCE_DOES_NOT_EXIST", "NOT_FOUND"), status=404, server=uc):
        uc.admin.grants.update("catalog", "nope", changes=[ch(BOB, add=["USE_CATALOG"])])


# --- effective permissions ----------------------------------------------------------------------


def test_effective_permissions_name_where_each_privilege_comes_from(uc):
    uc.admin.grants.update("catalog", "shared", changes=[ch(BOB, add=["USE_CATALOG", "USE_SCHEMA", "SELECT", "CREATE_SCHEMA"])])
    uc.admin.grants.update("schema", "shared.sales", changes=[ch(BOB, add=["CREATE_TABLE", "MODIFY", "SELECT"])])
    uc.admin.grants.update("table", "shared.sales.orders", changes=[ch(BOB, add=["MODIFY"]), ch("data-eng", add=["ALL_PRIVILEGES"])])
    uc.admin.grants.update("catalog", "shared", changes=[ch("data-eng", add=["ALL_PRIVILEGES"])])

    t = eff(uc.admin.grants.get_effective("table", "shared.sales.orders").privilege_assignments)
    assert t == {
        "analysts": [("SELECT", None, None)],  # USE_CATALOG (catalog) and USE_SCHEMA (schema) are not valid on a table
        BOB: sorted([("MODIFY", None, None), ("MODIFY", "SCHEMA", "shared.sales"),
                     ("SELECT", "CATALOG", "shared"), ("SELECT", "SCHEMA", "shared.sales")], key=_k),
        "data-eng": [("ALL_PRIVILEGES", None, None), ("ALL_PRIVILEGES", "CATALOG", "shared")],
    }
    s = eff(uc.admin.grants.get_effective("schema", "shared.sales").privilege_assignments)
    assert s == {
        "analysts": [("USE_SCHEMA", None, None)],
        BOB: sorted([("CREATE_TABLE", None, None), ("MODIFY", None, None), ("SELECT", None, None),
                     ("SELECT", "CATALOG", "shared"), ("USE_SCHEMA", "CATALOG", "shared")], key=_k),
        "data-eng": [("ALL_PRIVILEGES", "CATALOG", "shared")],
    }
    c = eff(uc.admin.grants.get_effective("catalog", "shared").privilege_assignments)
    assert c[BOB] == [("CREATE_SCHEMA", None, None), ("SELECT", None, None), ("USE_CATALOG", None, None),
                      ("USE_SCHEMA", None, None)]
    # principal filter: the grantee itself, groups are not expanded.
    assert eff(uc.admin.grants.get_effective("table", "shared.sales.orders", principal="analysts").privilege_assignments) \
        == {"analysts": [("SELECT", None, None)]}
    assert not uc.admin.grants.get_effective("table", "shared.sales.orders", principal=ALICE).privilege_assignments
    # A caller may read their own effective grants.
    assert eff(uc.bob.grants.get_effective("table", "shared.sales.orders", principal=BOB).privilege_assignments) == {BOB: t[BOB]}
    # The paged form has the same content.
    assert eff(list(uc.admin.grants.list_effective("table", "shared.sales.orders"))) == t
    # Revocation on the catalog disappears from the table's effective list at once.
    uc.admin.grants.update("catalog", "shared", changes=[ch(BOB, remove=["SELECT"])])
    t2 = eff(uc.admin.grants.get_effective("table", "shared.sales.orders").privilege_assignments)
    assert ("SELECT", "CATALOG", "shared") not in t2[BOB] and ("SELECT", "SCHEMA", "shared.sales") in t2[BOB]


# --- paging -----------------------------------------------------------------------------------


def _many_grants(uc):
    principals = [ADMIN, ALICE, BOB, CAROL, SP, "admins", "analysts", "data-eng", "account users"]
    uc.admin.grants.update("catalog", "private", changes=[ch(p, add=["USE_CATALOG", "BROWSE"]) for p in principals])
    return sorted(principals)


def test_paged_forms_return_everything_and_never_split_a_principal(uc):
    names = _many_grants(uc)
    expected = [(p, ["BROWSE", "USE_CATALOG"]) for p in names]
    assert direct(uc, "catalog", "private") == expected
    for size in (None, 0, 1, 2, 150, 5000):
        kw = {} if size is None else {"page_size": size}
        uc.statuses.clear()
        got = as_list(uc.admin.grants.list("catalog", "private", **kw))
        assert got == expected, size
        if size in (1, 2):
            assert len(uc.statuses) == -(-len(names) // size) or len(uc.statuses) == -(-len(names) // size) + 1, uc.statuses
        eff_got = list(uc.admin.grants.list_effective("catalog", "private", **kw))
        assert [(a.principal, sorted(p.privilege.value for p in a.privileges)) for a in eff_got] == expected, size
    # principal filter on the paged form.
    assert as_list(uc.admin.grants.list("catalog", "private", principal=BOB, page_size=1)) == [(BOB, ["BROWSE", "USE_CATALOG"])]
    # Raw: page_size=1 gives one whole assignment and a continuation token.
    first = uc.admin.api_client.do("GET", f"{UC}/privilege-assignments/catalog/private", query={"page_size": 1})
    assert first["privilege_assignments"] == [{"principal": names[0], "privileges": ["BROWSE", "USE_CATALOG"]}]
    assert first["next_page_token"]
    first_eff = uc.admin.api_client.do("GET", f"{UC}/effective-privilege-assignments/catalog/private", query={"page_size": 1})
    assert len(first_eff["effective_privilege_assignments"]) == 1 and first_eff["next_page_token"]
    # Negative page_size -> 400.
    for path in ("privilege-assignments", "effective-privilege-assignments"):
        with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc):
            uc.admin.api_client.do("GET", f"{UC}/{path}/catalog/private", query={"page_size": -1})
    # Non-owners get the paged forms under the same rule as getPermissions.
    with raises(PermissionDenied, "UNAUTHORIZED", status=403, server=uc):
        list(uc.bob.grants.list("catalog", "private"))
    with raises(PermissionDenied, "UNAUTHORIZED", status=403, server=uc):
        list(uc.bob.grants.list_effective("catalog", "private"))
    assert as_list(uc.bob.grants.list("catalog", "private", principal=BOB)) == [(BOB, ["BROWSE", "USE_CATALOG"])]


def test_max_results_rules(uc):
    names = _many_grants(uc)
    for get in (uc.admin.grants.get, uc.admin.grants.get_effective):
        for bad in (1, 2, 100, 149, -1):
            with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc):
                get("catalog", "private", max_results=bad)
        for ok in (0, 150, 1000, 100000):
            r = get("catalog", "private", max_results=ok)
            assert [a.principal for a in r.privilege_assignments] == names
            assert not r.next_page_token
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc):
        uc.admin.grants.get("catalog", "private", page_token="not-a-token")


# --- legacy names -----------------------------------------------------------------------------


def test_legacy_usage_and_create_are_accepted_and_effective(uc):
    uc.admin.catalogs.create("legacy")
    # Without grants bob can do nothing there.
    with raises(PermissionDenied, status=403, server=uc):
        uc.bob.catalogs.get("legacy")
    r = uc.admin.grants.update("catalog", "legacy", changes=[ch(BOB, add=["USAGE", "CREATE"])])
    assert as_list(r.privilege_assignments) == [(BOB, ["CREATE", "USAGE"])]  # stored as sent
    assert uc.bob.catalogs.get("legacy").name == "legacy"  # USAGE = USE_CATALOG
    s = uc.bob.schemas.create("ls", "legacy")  # CREATE = CREATE_SCHEMA
    assert s.owner == BOB
    uc.admin.schemas.create("adm", "legacy")
    with raises(PermissionDenied, status=403, server=uc):
        uc.bob.schemas.get("legacy.adm")
    uc.admin.grants.update("schema", "legacy.adm", changes=[ch(BOB, add=["USAGE", "CREATE"])])
    assert uc.bob.schemas.get("legacy.adm").full_name == "legacy.adm"  # USAGE = USE_SCHEMA
    t = uc.bob.api_client.do("POST", f"{UC}/tables", body={  # CREATE on a schema = CREATE_TABLE
        "catalog_name": "legacy", "schema_name": "adm", "name": "t", "table_type": "MANAGED",
        "data_source_format": "DELTA", "columns": []})
    assert t["owner"] == BOB and t["full_name"] == "legacy.adm.t"
    assert direct(uc, "schema", "legacy.adm") == [(BOB, ["CREATE", "USAGE"])]
    # Revoking the legacy name revokes its effect.
    uc.admin.grants.update("catalog", "legacy", changes=[ch(BOB, remove=["USAGE"])])
    with raises(PermissionDenied, status=403, server=uc):
        uc.bob.catalogs.get("legacy")
    # Legacy names are valid only on catalogs and schemas.
    for t_, n, p in (("table", "legacy.adm.t", "USAGE"), ("table", "legacy.adm.t", "CREATE"),
                     ("metastore", uc.admin.metastores.current().metastore_id, "USAGE")):
        with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc):
            uc.admin.grants.update(t_, n, changes=[ch(BOB, add=[p])])


# --- user info --------------------------------------------------------------------------------


def me(uc, token, **q):
    return uc.client(token).api_client.do("GET", f"{UC}/user-info/me", query=q or None)


def my_groups(uc, token, **q):
    return uc.client(token).api_client.do("GET", f"{UC}/user-info/my-groups", query=q or None)


def test_user_info_me(uc):
    assert me(uc, "admin") == {"is_metastore_admin": True}
    for who in ("alice", "bob", "carol", "sp"):  # carol: workspace admin, not a metastore admin
        assert me(uc, who) == {"is_metastore_admin": False}, who
    assert me(uc, "admin2") == {"is_metastore_admin": False}  # no metastore assigned to workspace 1002
    assert me(uc, "admin", for_account_level="true") == {"is_metastore_admin": True}
    assert me(uc, "admin", for_account_level="false") == {"is_metastore_admin": True}
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc):
        me(uc, "admin", for_account_level="maybe")
    # Handing the metastore to a group makes its members metastore admins at once.
    uc.admin.metastores.update(uc.admin.metastores.current().metastore_id, owner="analysts")
    assert me(uc, "alice") == {"is_metastore_admin": True}
    assert me(uc, "admin") == {"is_metastore_admin": False}
    assert direct(uc, "catalog", "shared", token="alice") == [("analysts", ["USE_CATALOG"])]


def test_user_info_my_groups(uc):
    def groups(token, **q):
        r = my_groups(uc, token, **q)
        assert r["group_name"] == r["group_names"]
        return r["group_name"]

    assert groups("alice") == ["analysts", "data-eng"]  # transitive, sorted, no `account users`
    assert groups("admin") == ["admins"]
    assert groups("carol") == ["admins"]
    assert groups("bob") == []
    assert groups("sp") == []
    assert groups("admin2") == ["admins"]  # needs no metastore
    assert groups("alice", for_account_level="true") == ["analysts", "data-eng"]
