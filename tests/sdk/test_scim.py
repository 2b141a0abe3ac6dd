"""The SCIM identity API through the real databricks-sdk: `w.users`, `w.groups`,
`w.service_principals`, `w.current_user`, and their live effect on Unity Catalog.

SCIM errors carry `detail` / `status`, which the SDK turns into error_code `SCIM_<status>` and an
exception class chosen by the HTTP status; the raw error shape is checked with plain HTTP."""

import pytest
from databricks.sdk.errors import BadRequest, NotFound, PermissionDenied, ResourceConflict, Unauthenticated
from databricks.sdk.service.catalog import PermissionsChange, Privilege
from databricks.sdk.service.iam import ComplexValue, ListSortOrder, Patch, PatchOp, PatchSchema

from conftest import ADMIN, ALICE, BOB, CAROL, SP, UC, raises

SCIM = "/api/2.0/preview/scim/v2"
PATCH_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error"
SCHEMAS = [PatchSchema.URN_IETF_PARAMS_SCIM_API_MESSAGES_2_0_PATCH_OP]
FIXTURE_USERS = {ADMIN, ALICE, BOB, CAROL}


def op(kind, path=None, value=None):
    return Patch(op=PatchOp[kind.upper()], path=path, value=value)


def uid(uc, user_name):
    """The SCIM id of a user, looked up through the SDK."""
    found = list(uc.admin.users.list(filter=f'userName eq "{user_name}"'))
    assert len(found) == 1, (user_name, found)
    return found[0].id


def gid(uc, name):
    found = list(uc.admin.groups.list(filter=f'displayName eq "{name}"'))
    assert len(found) == 1, (name, found)
    return found[0].id


def user_names(users):
    return [u.user_name for u in users]


def member_names(group):
    return sorted(m.display for m in group.members or [])


def group_names(principal):
    return sorted(g.display for g in principal.groups or [])


def grant(uc, sec_type, name, principal, *privs):
    uc.admin.grants.update(sec_type, name, changes=[
        PermissionsChange(principal=principal, add=[Privilege[p] for p in privs])])


def principals_of(uc, sec_type, name):
    return {a.principal: sorted(p.value for p in a.privileges or [])
            for a in uc.admin.grants.get(sec_type, name).privilege_assignments or []}


def scim_json(uc, method, path, token="admin", **kw):
    r = uc.raw(method, SCIM + path, token=token, **kw)
    return r.status_code, (r.json() if r.content else None)


def assert_scim_error(r, status, error_code=None, scim_type=None):
    """SCIM's error shape (RFC 7644 §3.12) and the emulator's keys."""
    assert r.status_code == status, r.text
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    body = r.json()
    assert body["schemas"] == [ERROR_URN], body
    assert body["status"] == str(status), body
    assert isinstance(body["detail"], str) and body["detail"], body
    assert isinstance(body["message"], str) and body["message"], body
    if error_code:
        assert body["error_code"] == error_code, body
    if scim_type:
        assert body.get("scimType") == scim_type, body
    return body


# --- CRUD per kind ----------------------------------------------------------------------------


def test_users_create_get_list_replace_patch_delete(uc):
    w = uc.admin
    u = w.users.create(user_name="dave@example.com", display_name="Dave",
                       emails=[ComplexValue(value="dave@example.com", primary=True)])
    assert u.id and u.id.isdigit() and int(u.id) > 0
    assert u.user_name == "dave@example.com" and u.display_name == "Dave" and u.active is True
    assert u.groups in (None, [])

    got = w.users.get(u.id)
    assert (got.id, got.user_name, got.display_name, got.active) == (u.id, "dave@example.com", "Dave", True)
    assert "dave@example.com" in user_names(w.users.list())
    ids = [x.id for x in w.users.list()] + [g.id for g in w.groups.list()] + [s.id for s in w.service_principals.list()]
    assert len(ids) == len(set(ids)), "ids are unique across the three kinds"

    # PUT replaces the object.
    w.users.update(u.id, user_name="dave@example.com", display_name="David")
    assert w.users.get(u.id).display_name == "David"

    # PATCH: displayName, emails / name / entitlements kept verbatim.
    w.users.patch(u.id, schemas=SCHEMAS, operations=[
        op("replace", value={"displayName": "Dave D."}),
        op("add", path="entitlements", value=[{"value": "allow-cluster-create"}]),
        op("replace", path="name", value={"givenName": "Dave", "familyName": "D."}),
    ])
    got = w.users.get(u.id)
    assert got.display_name == "Dave D."
    assert [e.value for e in got.entitlements or []] == ["allow-cluster-create"]
    assert got.name.given_name == "Dave" and got.name.family_name == "D."
    assert got.user_name == "dave@example.com"

    w.users.delete(u.id)
    with raises(NotFound, status=404, server=uc):
        w.users.get(u.id)
    assert "dave@example.com" not in user_names(w.users.list())
    with raises(NotFound, status=404, server=uc):
        w.users.delete(u.id)


def test_groups_create_get_list_replace_patch_delete(uc):
    w = uc.admin
    alice, bob = uid(uc, ALICE), uid(uc, BOB)
    g = w.groups.create(display_name="readers", members=[ComplexValue(value=alice)])
    assert g.id and g.id.isdigit()
    assert g.display_name == "readers"
    assert [(m.value, m.display) for m in g.members] == [(alice, "Alice")]
    assert "readers" in group_names(w.users.get(alice))
    assert "readers" in [x.display_name for x in w.groups.list()]

    # add a user and a group as members
    analysts = gid(uc, "analysts")
    w.groups.patch(g.id, schemas=SCHEMAS, operations=[
        op("add", value={"members": [{"value": bob}, {"value": analysts}]})])
    assert member_names(w.groups.get(g.id)) == ["Alice", "Bob", "analysts"]
    assert "readers" in group_names(w.groups.get(analysts))

    # remove one by path
    w.groups.patch(g.id, schemas=SCHEMAS, operations=[op("remove", path=f'members[value eq "{bob}"]')])
    assert member_names(w.groups.get(g.id)) == ["Alice", "analysts"]
    assert "readers" not in group_names(w.users.get(bob))

    # PUT replaces name and members
    w.groups.update(g.id, display_name="readers2", members=[ComplexValue(value=bob)])
    got = w.groups.get(g.id)
    assert got.display_name == "readers2" and member_names(got) == ["Bob"]
    assert "readers2" in group_names(w.users.get(bob))
    assert group_names(w.users.get(alice)) == ["analysts"]

    w.groups.delete(g.id)
    with raises(NotFound, status=404, server=uc):
        w.groups.get(g.id)
    assert group_names(w.users.get(bob)) == []
    assert "readers2" not in [x.display_name for x in w.groups.list()]


def test_service_principals_create_get_list_replace_patch_delete(uc):
    w = uc.admin
    auto = w.service_principals.create(display_name="auto-bot")
    assert auto.id and auto.id.isdigit()
    assert auto.display_name == "auto-bot" and auto.active is True
    # a new UUID when no applicationId is given
    assert len(auto.application_id) == 36 and auto.application_id.count("-") == 4

    app = "11111111-2222-4333-8444-555555555555"
    sp = w.service_principals.create(application_id=app, display_name="fixed-bot")
    assert sp.application_id == app
    got = w.service_principals.get(sp.id)
    assert (got.application_id, got.display_name, got.active) == (app, "fixed-bot", True)
    assert [s.display_name for s in w.service_principals.list(filter=f'applicationId eq "{app}"')] == ["fixed-bot"]
    assert {s.application_id for s in w.service_principals.list()} == {SP, app, auto.application_id}

    w.service_principals.update(sp.id, application_id=app, display_name="renamed-bot")
    got = w.service_principals.get(sp.id)
    assert (got.application_id, got.display_name) == (app, "renamed-bot")

    w.service_principals.patch(sp.id, schemas=SCHEMAS, operations=[op("replace", value={"active": False})])
    assert w.service_principals.get(sp.id).active is False
    assert [s.application_id for s in w.service_principals.list(filter="active eq false")] == [app]
    w.service_principals.patch(sp.id, schemas=SCHEMAS, operations=[op("replace", path="active", value=True)])
    assert w.service_principals.get(sp.id).active is True

    w.service_principals.delete(sp.id)
    with raises(NotFound, status=404, server=uc):
        w.service_principals.get(sp.id)
    assert {s.application_id for s in w.service_principals.list()} == {SP, auto.application_id}


def test_delete_answers_empty_object(uc):
    u = uc.admin.users.create(user_name="temp@example.com")
    assert u.display_name == "temp@example.com"  # displayName defaults to the userName
    r = uc.raw("DELETE", f"{SCIM}/Users/{u.id}")
    assert r.status_code == 200 and r.json() == {}, r.text


# --- lists: paging, filters, sorting, trimming ------------------------------------------------


def test_users_list_pages_with_filter_and_returns_each_match_once(uc):
    made = [uc.admin.users.create(user_name=f"pager{i}@example.com", display_name=f"Pager {i}").user_name
            for i in range(6)]
    uc.statuses.clear()
    got = user_names(uc.admin.users.list(filter='userName sw "pager"', count=2))
    assert sorted(got) == sorted(made) and len(got) == 6
    # 3 full pages and the empty page that ends the SDK's loop
    assert len(uc.statuses) == 4, uc.statuses

    everyone = user_names(uc.admin.users.list(count=2))
    assert sorted(everyone) == sorted(made + list(FIXTURE_USERS))

    # count=3 over 6 matches with a sort: same set, in order
    ordered = user_names(uc.admin.users.list(filter='userName sw "pager"', count=4, sort_by="userName",
                                             sort_order=ListSortOrder.DESCENDING))
    assert ordered == sorted(made, reverse=True)


def test_list_response_shape_and_start_index(uc):
    for i in range(3):
        uc.admin.users.create(user_name=f"shape{i}@example.com")
    status, body = scim_json(uc, "GET", "/Users", params={"filter": 'userName sw "shape"', "count": 2})
    assert status == 200
    assert body["totalResults"] == 3 and body["startIndex"] == 1 and body["itemsPerPage"] == 2
    assert len(body["Resources"]) == 2
    first_two = [r["id"] for r in body["Resources"]]
    assert first_two == sorted(first_two, key=int), "lists are ordered by id"
    _, page2 = scim_json(uc, "GET", "/Users", params={"filter": 'userName sw "shape"', "count": 2, "startIndex": 3})
    assert page2["totalResults"] == 3 and page2["startIndex"] == 3 and page2["itemsPerPage"] == 1
    assert int(page2["Resources"][0]["id"]) > int(first_two[1])
    _, past = scim_json(uc, "GET", "/Users", params={"filter": 'userName sw "shape"', "startIndex": 10})
    assert past["Resources"] == [] and past["totalResults"] == 3
    _, all_ = scim_json(uc, "GET", "/Users")
    assert all_["totalResults"] == 7 and len(all_["Resources"]) == 7  # count defaults to all


def test_filters_eq_co_sw_and_or_parentheses_active(uc):
    w = uc.admin

    def users(f):
        return sorted(user_names(w.users.list(filter=f)))

    # eq on userName is case-sensitive
    assert users(f'userName eq "{ALICE}"') == [ALICE]
    assert users('userName eq "ALICE@example.com"') == []
    # co / sw ignore case
    assert users('displayName co "LIC"') == [ALICE]
    assert users('userName sw "BO"') == [BOB]
    assert users('emails.value co "CAROL@"') == [CAROL]
    # eq on displayName ignores case
    assert users('displayName eq "bob"') == [BOB]
    # and / or / parentheses
    assert users('userName sw "a" or userName sw "b"') == [ADMIN, ALICE, BOB]
    assert users('userName sw "a" and displayName co "min"') == [ADMIN]
    assert users('(userName sw "a" or userName sw "b") and displayName co "o"') == [BOB]
    assert users('userName sw "c" or (userName sw "a" and displayName eq "alice")') == [ALICE, CAROL]
    # active
    w.users.create(user_name="gone@example.com", active=False)
    assert users("active eq false") == ["gone@example.com"]
    assert users("active eq true") == sorted(FIXTURE_USERS)
    # groups and service principals
    assert sorted(g.display_name for g in w.groups.list(filter='displayName co "ENG"')) == ["data-eng"]
    assert [g.display_name for g in w.groups.list(filter='displayName sw "ANAL"')] == ["analysts"]
    assert [s.display_name for s in w.service_principals.list(filter=f'applicationId eq "{SP}"')] == ["etl-bot"]
    assert list(w.service_principals.list(filter=f'applicationId eq "{SP.upper()}"')) == []
    assert [s.application_id for s in w.service_principals.list(filter='displayName co "ETL"')] == [SP]


def test_sort_by_and_sort_order(uc):
    w = uc.admin
    w.users.create(user_name="zed@example.com", display_name="aaron")
    asc = user_names(w.users.list(sort_by="userName", sort_order=ListSortOrder.ASCENDING))
    assert asc == sorted(FIXTURE_USERS | {"zed@example.com"})
    desc = user_names(w.users.list(sort_by="userName", sort_order=ListSortOrder.DESCENDING))
    assert desc == list(reversed(asc))
    by_display = [u.display_name for u in w.users.list(sort_by="displayName")]
    assert by_display == ["aaron", "Ada Admin", "Alice", "Bob", "Carol"]
    groups = [g.display_name for g in w.groups.list(sort_by="displayName", sort_order=ListSortOrder.DESCENDING)]
    assert groups == ["data-eng", "analysts", "admins"]


def test_attributes_and_excluded_attributes_trim_but_keep_id(uc):
    w = uc.admin
    only = list(w.users.list(attributes="userName"))
    assert len(only) == 4
    for u in only:
        assert u.id and u.user_name in FIXTURE_USERS
        # (the SDK reads a missing list as [])
        assert u.display_name is None and not u.groups and not u.emails and u.active is None

    _, body = scim_json(uc, "GET", "/Users", params={"attributes": "userName,displayName"})
    for r in body["Resources"]:
        assert {"id", "userName", "displayName"} <= set(r)
        assert not {"emails", "groups", "active", "entitlements"} & set(r), r

    _, body = scim_json(uc, "GET", "/Groups", params={"excludedAttributes": "members,groups"})
    for r in body["Resources"]:
        assert "id" in r and "displayName" in r
        assert "members" not in r and "groups" not in r, r

    # `id` is kept even when excluded
    _, body = scim_json(uc, "GET", "/ServicePrincipals", params={"excludedAttributes": "id,displayName"})
    assert body["Resources"][0]["id"] and "displayName" not in body["Resources"][0]
    assert body["Resources"][0]["applicationId"] == SP

    alice = uid(uc, ALICE)
    got = w.users.get(alice, attributes="displayName")
    assert got.id == alice and got.display_name == "Alice" and got.user_name is None
    got = w.users.get(alice, excluded_attributes="groups")
    assert got.user_name == ALICE and not got.groups


# --- conflicts, account users, authorization --------------------------------------------------


def test_duplicates_conflict_across_kinds(uc):
    w = uc.admin
    cases = [
        lambda: w.users.create(user_name=ALICE),
        lambda: w.groups.create(display_name="analysts"),
        lambda: w.groups.create(display_name=ALICE),  # a group named like a user
        lambda: w.users.create(user_name="analysts"),  # a user named like a group
        lambda: w.groups.create(display_name=SP),  # a group named like a service principal
        lambda: w.service_principals.create(application_id=SP, display_name="again"),
    ]
    for create in cases:
        with raises(ResourceConflict, status=409, server=uc):
            create()
    # Renaming into a taken name conflicts too.
    g = w.groups.create(display_name="fresh")
    with raises(ResourceConflict, status=409, server=uc):
        w.groups.patch(g.id, schemas=SCHEMAS, operations=[op("replace", value={"displayName": BOB})])
    assert w.groups.get(g.id).display_name == "fresh"
    assert sorted(g.display_name for g in w.groups.list()) == ["admins", "analysts", "data-eng", "fresh"]
    assert len(list(w.users.list())) == 4

    r = uc.raw("POST", f"{SCIM}/Groups", json={"displayName": ALICE})
    body = assert_scim_error(r, 409, "RESOURCE_ALREADY_EXISTS", "uniqueness")


def test_account_users_is_implicit(uc):
    w = uc.admin
    with pytest.raises((ResourceConflict, BadRequest)):
        w.groups.create(display_name="account users")
    assert uc.statuses[-1] in (400, 409)
    assert "account users" not in [g.display_name for g in w.groups.list()]
    assert list(w.groups.list(filter='displayName eq "account users"')) == []
    for u in w.users.list():
        assert "account users" not in group_names(u)
    assert "account users" not in group_names(uc.alice.current_user.me())
    # and renaming a group to it is refused
    g = gid(uc, "analysts")
    with pytest.raises((ResourceConflict, BadRequest)):
        w.groups.patch(g, schemas=SCHEMAS, operations=[op("replace", value={"displayName": "account users"})])
    assert w.groups.get(g).display_name == "analysts"
    # UC grants to it work as everywhere else
    grant(uc, "catalog", "main", "account users", "USE_CATALOG")
    assert uc.bob.catalogs.get("main").name == "main"


def test_non_admin_writes_denied_reads_allowed(uc):
    alice, analysts = uid(uc, ALICE), gid(uc, "analysts")
    sp_id = next(iter(uc.admin.service_principals.list())).id
    for who in ("alice", "bob", "sp"):
        w = uc.client(who)
        assert len(list(w.users.list())) == 4
        assert w.users.get(alice).user_name == ALICE
        assert member_names(w.groups.get(analysts)) == ["Alice"]
        assert [s.application_id for s in w.service_principals.list()] == [SP]
        assert w.current_user.me().id
        writes = [
            lambda: w.users.create(user_name="x@example.com"),
            lambda: w.groups.create(display_name="x"),
            lambda: w.service_principals.create(display_name="x"),
            lambda: w.users.update(alice, user_name=ALICE, display_name="Hacked"),
            lambda: w.users.patch(alice, schemas=SCHEMAS, operations=[op("replace", value={"active": False})]),
            lambda: w.groups.patch(analysts, schemas=SCHEMAS, operations=[
                op("add", value={"members": [{"value": uid(uc, BOB)}]})]),
            lambda: w.groups.update(analysts, display_name="analysts"),
            lambda: w.service_principals.patch(sp_id, schemas=SCHEMAS, operations=[
                op("replace", value={"displayName": "x"})]),
            lambda: w.users.delete(alice),
            lambda: w.groups.delete(analysts),
            lambda: w.service_principals.delete(sp_id),
        ]
        for write in writes:
            with raises(PermissionDenied, status=403, server=uc):
                write()
    assert member_names(uc.admin.groups.get(analysts)) == ["Alice"]
    assert uc.admin.users.get(alice).display_name == "Alice"
    assert uc.alice.current_user.me().active is True
    assert len(list(uc.admin.users.list())) == 4 and len(list(uc.admin.groups.list())) == 3

    # A workspace admin who is not an account admin may write.
    made = uc.carol.groups.create(display_name="carols")
    uc.carol.groups.delete(made.id)

    assert_scim_error(uc.raw("POST", f"{SCIM}/Groups", token="bob", json={"displayName": "x"}), 403,
                      "PERMISSION_DENIED")


# --- errors and rejected input ----------------------------------------------------------------


def test_scim_error_shape(uc):
    assert_scim_error(uc.raw("GET", f"{SCIM}/Users/123"), 404, "RESOURCE_DOES_NOT_EXIST")
    assert_scim_error(uc.raw("GET", f"{SCIM}/Groups/not-a-number"), 404, "RESOURCE_DOES_NOT_EXIST")
    # a user's id is not a group's
    assert_scim_error(uc.raw("GET", f"{SCIM}/Groups/{uid(uc, ALICE)}"), 404, "RESOURCE_DOES_NOT_EXIST")
    assert_scim_error(uc.raw("GET", f"{SCIM}/Users", params={"filter": 'userName eq "x'}), 400,
                      scim_type="invalidFilter")
    assert_scim_error(uc.raw("GET", f"{SCIM}/Users", params={"filter": 'title eq "x"'}), 400,
                      scim_type="invalidFilter")
    assert_scim_error(uc.raw("POST", f"{SCIM}/Users", json={"userName": BOB}), 409,
                      "RESOURCE_ALREADY_EXISTS", "uniqueness")


def test_bad_filters_are_400(uc):
    bad = [
        ("users", 'userName eq "x'),  # unterminated string
        ("users", 'userName eq'),  # no value
        ("users", '(userName eq "x"'),  # unbalanced parenthesis
        ("users", 'userName xx "x"'),  # unknown operator
        ("users", 'userName eq "a" and'),  # dangling and
        ("users", 'title eq "x"'),  # unsupported attribute
        ("groups", f'userName eq "{ALICE}"'),  # not an attribute of groups
        ("service_principals", f'userName eq "{ALICE}"'),
    ]
    for api, f in bad:
        with raises(BadRequest, status=400, server=uc):
            list(getattr(uc.admin, api).list(filter=f))


def test_rejected_patches_change_nothing(uc):
    w = uc.admin
    analysts, alice = gid(uc, "analysts"), uid(uc, ALICE)
    path = f"{SCIM}/Groups/{analysts}"
    before = uc.raw("GET", path).json()
    user_before = uc.raw("GET", f"{SCIM}/Users/{alice}").json()

    def rejected(body, target=path):
        r = uc.raw("PATCH", target, json=body)
        assert_scim_error(r, 400)
        assert uc.raw("GET", path).json() == before
        assert uc.raw("GET", f"{SCIM}/Users/{alice}").json() == user_before

    rename = {"op": "replace", "value": {"displayName": "renamed"}}
    rejected({"schemas": [PATCH_URN], "Operations": [rename, {"op": "move", "path": "members"}]})
    rejected({"schemas": [PATCH_URN], "Operations": [rename, {"op": "replace", "path": "nickName", "value": "x"}]})
    rejected({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "Operations": [rename]})
    rejected({"schemas": [PATCH_URN], "Operations": [rename, {"op": "add", "value": {"members": [{"value": "999"}]}}]})
    rejected({"schemas": [PATCH_URN], "Operations": [rename, {"op": "remove", "path": 'members[value eq "999"]'}]})
    rejected({"schemas": [PATCH_URN], "Operations": [
        {"op": "replace", "value": {"displayName": "Alicia"}}, {"op": "jump"}]},
        target=f"{SCIM}/Users/{alice}")

    # the same through the SDK: unknown member id -> 400
    with raises(BadRequest, status=400, server=uc):
        w.groups.patch(analysts, schemas=SCHEMAS, operations=[op("add", value={"members": [{"value": "424242"}]})])
    with raises(BadRequest, status=400, server=uc):
        w.groups.create(display_name="ghosts", members=[ComplexValue(value="424242")])
    assert "ghosts" not in [g.display_name for g in w.groups.list()]
    assert uc.raw("GET", path).json() == before

    # A body without `schemas` is accepted, and `op` may be in any case.
    r = uc.raw("PATCH", path, json={"Operations": [{"op": "Replace", "value": {"displayName": "analysts2"}}]})
    assert r.status_code == 200, r.text
    assert w.groups.get(analysts).display_name == "analysts2"


def test_group_cycles_are_400_and_change_nothing(uc):
    w = uc.admin
    a = w.groups.create(display_name="A")
    b = w.groups.create(display_name="B", members=[ComplexValue(value=a.id)])  # A in B
    c = w.groups.create(display_name="C", members=[ComplexValue(value=b.id)])  # B in C
    snapshot = {g: uc.raw("GET", f"{SCIM}/Groups/{g}").json() for g in (a.id, b.id, c.id)}

    for target, member in [(a.id, b.id), (a.id, c.id), (a.id, a.id)]:
        with raises(BadRequest, status=400, server=uc):
            w.groups.patch(target, schemas=SCHEMAS, operations=[op("add", value={"members": [{"value": member}]})])
        assert {g: uc.raw("GET", f"{SCIM}/Groups/{g}").json() for g in snapshot} == snapshot
    with raises(BadRequest, status=400, server=uc):
        w.groups.update(a.id, display_name="A", members=[ComplexValue(value=c.id)])
    assert {g: uc.raw("GET", f"{SCIM}/Groups/{g}").json() for g in snapshot} == snapshot
    # The fixture's nesting: data-eng contains analysts.
    with raises(BadRequest, status=400, server=uc):
        w.groups.patch(gid(uc, "analysts"), schemas=SCHEMAS,
                       operations=[op("add", value={"members": [{"value": gid(uc, "data-eng")}]})])
    assert member_names(w.groups.get(gid(uc, "analysts"))) == ["Alice"]


# --- live effect on Unity Catalog -------------------------------------------------------------


def test_group_membership_changes_uc_access_on_the_next_request(uc):
    w = uc.admin
    readers = w.groups.create(display_name="readers")
    grant(uc, "catalog", "main", "readers", "USE_CATALOG")
    with raises(PermissionDenied, status=403, server=uc):
        uc.bob.catalogs.get("main")
    bob = uid(uc, BOB)
    w.groups.patch(readers.id, schemas=SCHEMAS, operations=[op("add", value={"members": [{"value": bob}]})])
    assert uc.bob.catalogs.get("main").name == "main"
    assert "readers" in group_names(uc.bob.current_user.me())
    w.groups.patch(readers.id, schemas=SCHEMAS, operations=[op("remove", path=f'members[value eq "{bob}"]')])
    with raises(PermissionDenied, status=403, server=uc):
        uc.bob.catalogs.get("main")
    # nested: bob in `inner`, `inner` in readers
    inner = w.groups.create(display_name="inner", members=[ComplexValue(value=bob)])
    w.groups.patch(readers.id, schemas=SCHEMAS, operations=[op("add", value={"members": [{"value": inner.id}]})])
    assert uc.bob.catalogs.get("main").name == "main"


def test_deactivated_user_token_is_401_at_once_and_reactivation_restores_it(uc):
    w = uc.admin
    bob = uid(uc, BOB)
    assert uc.bob.current_user.me().user_name == BOB
    w.users.update(bob, user_name=BOB, display_name="Bob", active=False)
    assert w.users.get(bob).active is False
    with raises(Unauthenticated, status=401, server=uc):
        uc.bob.current_user.me()
    with raises(Unauthenticated, status=401, server=uc):
        list(uc.bob.catalogs.list())
    assert user_names(w.users.list(filter="active eq false")) == [BOB]

    w.users.update(bob, user_name=BOB, display_name="Bob", active=True)
    assert uc.bob.current_user.me().user_name == BOB
    list(uc.bob.catalogs.list())

    # the same through PATCH (the SDK drops a falsy value: path "active" with no value)
    w.users.patch(bob, schemas=SCHEMAS, operations=[op("replace", path="active", value=False)])
    with raises(Unauthenticated, status=401, server=uc):
        uc.bob.current_user.me()
    w.users.patch(bob, schemas=SCHEMAS, operations=[op("replace", value={"active": True})])
    assert uc.bob.current_user.me().active is True


def test_deleting_a_user_revokes_tokens_membership_and_grants_but_keeps_ownerships(uc):
    w = uc.admin
    bob = uid(uc, BOB)
    w.groups.patch(gid(uc, "analysts"), schemas=SCHEMAS, operations=[op("add", value={"members": [{"value": bob}]})])
    api_token = uc.bob.tokens.create(comment="bob's").token_value
    w.catalogs.update("private", owner=BOB)
    grant(uc, "catalog", "shared", BOB, "BROWSE")
    assert uc.client(api_token).current_user.me().user_name == BOB

    w.users.delete(bob)
    for token in ("bob", api_token):
        with raises(Unauthenticated, status=401, server=uc):
            uc.client(token).current_user.me()
    assert member_names(w.groups.get(gid(uc, "analysts"))) == ["Alice"]
    assert BOB not in user_names(w.users.list())
    assert w.catalogs.get("private").owner == BOB  # owned objects keep the name ...
    assert BOB not in principals_of(uc, "catalog", "shared")  # ... its grants go
    # A user created later under the same name is someone else: it owns nothing of bob's.
    new_bob = w.users.create(user_name=BOB)
    assert new_bob.id != bob
    assert w.catalogs.get("private").owner == BOB


def test_renaming_a_group_keeps_its_grants_and_ownerships(uc):
    w = uc.admin
    analysts = gid(uc, "analysts")
    w.catalogs.update("private", owner="analysts")
    assert uc.alice.tables.get("shared.sales.orders").name == "orders"

    # PUT with the new displayName (and the same members)
    w.groups.update(analysts, display_name="analysts-v2", members=[ComplexValue(value=uid(uc, ALICE))])
    assert principals_of(uc, "catalog", "shared") == {"analysts-v2": ["USE_CATALOG"]}
    assert principals_of(uc, "table", "shared.sales.orders") == {"analysts-v2": ["SELECT"]}
    assert w.catalogs.get("private").owner == "analysts-v2"
    assert uc.alice.tables.get("shared.sales.orders").name == "orders"
    assert uc.alice.catalogs.get("private").owner == "analysts-v2"  # alice owns it through the group
    assert uc.alice.catalogs.get("nested").name == "nested"  # still nested in data-eng
    assert member_names(w.groups.get(gid(uc, "data-eng"))) == ["analysts-v2"]

    # PATCH replace displayName
    w.groups.patch(analysts, schemas=SCHEMAS, operations=[op("replace", value={"displayName": "analysts-v3"})])
    assert principals_of(uc, "schema", "shared.sales") == {"analysts-v3": ["USE_SCHEMA"]}
    assert w.catalogs.get("private").owner == "analysts-v3"
    assert uc.alice.tables.get("shared.sales.orders").name == "orders"
    assert "analysts-v2" not in principals_of(uc, "catalog", "shared")
    # the old name is free again, and a fresh group of that name holds nothing
    w.groups.create(display_name="analysts")
    assert principals_of(uc, "catalog", "shared") == {"analysts-v3": ["USE_CATALOG"]}


def test_scim_created_principals_get_grants_and_own_objects_at_once(uc):
    w = uc.admin
    sp = w.service_principals.create(display_name="new-bot")
    app = sp.application_id
    grant(uc, "catalog", "main", app, "USE_CATALOG", "CREATE_SCHEMA")
    w.catalogs.update("private", owner=app)
    assert w.catalogs.get("private").owner == app
    assert principals_of(uc, "catalog", "main")[app] == ["CREATE_SCHEMA", "USE_CATALOG"]

    obo = w.token_management.create_obo_token(app, lifetime_seconds=600)
    bot = uc.client(obo.token_value)
    me = bot.current_user.me()
    assert me.user_name == app and me.id == sp.id and me.display_name == "new-bot" and me.active is True
    assert bot.schemas.create(name="bots", catalog_name="main").owner == app
    assert bot.catalogs.get("private").owner == app

    user = w.users.create(user_name="erin@example.com")
    grant(uc, "catalog", "shared", "erin@example.com", "USE_CATALOG")
    w.schemas.update("shared.sales", owner="erin@example.com")
    assert w.schemas.get("shared.sales").owner == "erin@example.com"
    assert principals_of(uc, "catalog", "shared")["erin@example.com"] == ["USE_CATALOG"]
    assert user.id


def test_fixture_and_api_principals_are_listed_and_patched_alike(uc):
    w = uc.admin
    new = w.users.create(user_name="frank@example.com", display_name="Frank")
    listed = {u.user_name: u for u in w.users.list()}
    assert set(listed) == FIXTURE_USERS | {"frank@example.com"}
    _, body = scim_json(uc, "GET", "/Users")
    keys = {r["userName"]: set(r) for r in body["Resources"]}
    assert keys[ALICE] == keys["frank@example.com"], "the same attributes for fixture and API users"

    alice = uid(uc, ALICE)
    for user_id, name in [(alice, "Alice 2"), (new.id, "Frank 2")]:
        w.users.patch(user_id, schemas=SCHEMAS, operations=[op("replace", value={"displayName": name})])
        assert w.users.get(user_id).display_name == name
    # a fixture group takes an API user; an API group takes a fixture user
    w.groups.patch(gid(uc, "analysts"), schemas=SCHEMAS, operations=[op("add", value={"members": [{"value": new.id}]})])
    g = w.groups.create(display_name="api-group", members=[ComplexValue(value=alice)])
    assert "api-group" in group_names(w.users.get(alice))
    assert "analysts" in group_names(w.users.get(new.id))
    # and fixture service principals patch like API ones
    sp_id = next(iter(w.service_principals.list(filter=f'applicationId eq "{SP}"'))).id
    w.service_principals.patch(sp_id, schemas=SCHEMAS, operations=[op("replace", value={"displayName": "etl-bot-2"})])
    assert w.service_principals.get(sp_id).display_name == "etl-bot-2"
    w.groups.patch(g.id, schemas=SCHEMAS, operations=[op("add", value={"members": [{"value": sp_id}]})])
    assert member_names(w.groups.get(g.id)) == ["Alice 2", "etl-bot-2"]


def test_me_for_users_and_service_principals(uc):
    me = uc.alice.current_user.me()
    assert me.user_name == ALICE and me.display_name == "Alice" and me.active is True
    assert me.id == uid(uc, ALICE)
    assert group_names(me) == ["analysts"]  # direct groups only (data-eng is through analysts)
    assert group_names(uc.admin.current_user.me()) == ["admins"]
    sp_me = uc.sp.current_user.me()
    assert sp_me.user_name == SP and sp_me.display_name == "etl-bot"

    sp = uc.admin.service_principals.create(display_name="me-bot")
    token = uc.admin.token_management.create_obo_token(sp.application_id).token_value
    me = uc.client(token).current_user.me()
    assert me.user_name == sp.application_id
    assert me.id == sp.id
    _, raw = scim_json(uc, "GET", "/Me", token=token)
    assert raw["userName"] == sp.application_id and raw["active"] is True
