"""The account half of identity through the real `databricks.sdk.AccountClient`: account SCIM,
workspace assignments and what they change in the workspaces, account admins and the last-admin
rule. Workspace clients (`uc.admin`, `uc.bob`, ...) see the effects."""

from __future__ import annotations

import os

import pytest
from databricks.sdk import AccountClient
from databricks.sdk.config import Config
from databricks.sdk.errors import (
    BadRequest,
    InvalidParameterValue,
    NotFound,
    PermissionDenied,
    ResourceAlreadyExists,
    ResourceConflict,
)
from databricks.sdk.service.iam import ComplexValue, ListSortOrder, Patch, PatchOp, PatchSchema, WorkspacePermission

from conftest import ADMIN, ALICE, BOB, CAROL, SP, TOKENS
from conftest import raises as _raises

ACCOUNT = "00000000-0000-4000-8000-000000000000"
SCHEMAS = [PatchSchema.URN_IETF_PARAMS_SCIM_API_MESSAGES_2_0_PATCH_OP]
ROLE_ADMIN = [ComplexValue(value="account_admin")]


def account(uc, token="admin", account_id=ACCOUNT) -> AccountClient:
    """A real AccountClient on the emulator, authenticated with a PAT."""
    cfg = Config(host=uc.url, account_id=account_id, token=TOKENS.get(token, token), auth_type="pat",
                 retry_timeout_seconds=10, http_timeout_seconds=15)
    a = AccountClient(config=cfg)
    a.api_client._api_client._session.hooks["response"].append(lambda r, *x, **k: uc.statuses.append(r.status_code))
    return a


def raises(exc_class, error_code=None, status=None, **kw):
    """conftest's `raises`, for paths that may answer in SCIM's error shape too: the SDK then
    reports `SCIM_<status>` as the code and BadRequest for every 400 (the raw body carries both
    shapes; see test_account_scim_bad_input)."""
    if exc_class is InvalidParameterValue:
        exc_class = BadRequest
    if exc_class is ResourceAlreadyExists:
        exc_class = ResourceConflict
    if error_code is not None and status is not None:
        error_code = (error_code, f"SCIM_{status}")
    return _raises(exc_class, error_code, status=status, **kw)


def op(kind, path=None, value=None):
    return Patch(op=PatchOp(kind), path=path, value=value)


def ids_of(items):
    return [i.id for i in items]


def user_names(w):
    return sorted(u.user_name for u in w.users.list())


# --- account SCIM: users ------------------------------------------------------------------------


def test_account_users_every_method_and_the_workspace_view(uc):
    a = account(uc)
    u = a.users.create(user_name="dora@example.com", display_name="Dora", roles=None)
    assert u.id and u.user_name == "dora@example.com" and u.display_name == "Dora" and u.active
    assert u.roles == [] and not u.entitlements
    got = a.users.get(u.id)
    assert got.user_name == "dora@example.com" and got.id == u.id

    # The account lists every user; the workspace only those assigned to it.
    assert "dora@example.com" in [x.user_name for x in a.users.list()]
    assert "dora@example.com" not in user_names(uc.admin)
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST", status=404, server=uc):
        uc.admin.users.get(u.id)

    # filter (with `ne`), attributes, sort, paging.
    assert [x.user_name for x in a.users.list(filter='userName eq "dora@example.com"')] == ["dora@example.com"]
    everyone = {x.user_name for x in a.users.list()}
    assert {x.user_name for x in a.users.list(filter='userName ne "dora@example.com"')} == everyone - {"dora@example.com"}
    names = [x.user_name for x in a.users.list(sort_by="userName", sort_order=ListSortOrder.DESCENDING)]
    assert names == sorted(everyone, reverse=True)
    slim = list(a.users.list(attributes="userName", filter='userName sw "dora"'))
    assert slim[0].id == u.id and slim[0].user_name == "dora@example.com" and slim[0].display_name is None
    page = uc.raw("GET", f"/api/2.0/accounts/{ACCOUNT}/scim/v2/Users?startIndex=2&count=2&sortBy=userName").json()
    assert page["totalResults"] == len(everyone) and page["itemsPerPage"] == 2 and page["startIndex"] == 2
    assert [r["userName"] for r in page["Resources"]] == sorted(everyone)[1:3]

    # PUT replaces (userName changes are ignored); PATCH renames and deactivates.
    a.users.update(u.id, user_name="other@example.com", display_name="Dora D")
    got = a.users.get(u.id)
    assert got.user_name == "dora@example.com" and got.display_name == "Dora D" and got.active
    a.users.patch(u.id, schemas=SCHEMAS, operations=[op("replace", "displayName", "D."), op("replace", "active", False)])
    got = a.users.get(u.id)
    assert got.display_name == "D." and got.active is False

    a.users.delete(u.id)
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST", status=404, server=uc):
        a.users.get(u.id)
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST", status=404, server=uc):
        a.users.delete(u.id)


def test_account_scim_bad_input(uc):
    a = account(uc)
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST", status=404, server=uc):
        a.users.get("123456")
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST", status=404, server=uc):
        a.groups.get("not-a-number")
    alice_id = next(iter(a.users.list(filter=f'userName eq "{ALICE}"'))).id
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST", status=404, server=uc):
        a.groups.get(alice_id)  # an id of another kind
    with raises(InvalidParameterValue, "INVALID_PARAMETER_VALUE", status=400, mentions="filter", server=uc):
        list(a.users.list(filter="userName eq"))
    with raises(InvalidParameterValue, "INVALID_PARAMETER_VALUE", status=400, mentions="filter", server=uc):
        list(a.users.list(filter='nickName eq "x"'))
    with raises(InvalidParameterValue, "INVALID_PARAMETER_VALUE", status=400, mentions="sortBy", server=uc):
        list(a.groups.list(sort_by="userName"))
    with raises(ResourceAlreadyExists, "RESOURCE_ALREADY_EXISTS", status=409, server=uc):
        a.users.create(user_name=ALICE)
    with raises(ResourceAlreadyExists, status=409, server=uc):
        a.groups.create(display_name="account users")
    with raises(InvalidParameterValue, status=400, mentions="roles", server=uc):
        a.users.create(user_name="x@example.com", roles=[ComplexValue(value="superuser")])
    assert "x@example.com" not in [u.user_name for u in a.users.list()]
    # SCIM error shape on account paths.
    r = uc.raw("GET", f"/api/2.0/accounts/{ACCOUNT}/scim/v2/Users?filter=userName%20eq")
    body = r.json()
    assert r.status_code == 400 and body["scimType"] == "invalidFilter" and body["status"] == "400"
    assert body["error_code"] == "INVALID_PARAMETER_VALUE" and body["schemas"]


def test_another_account_id_is_404_and_401_comes_first(uc):
    other = "11111111-1111-4111-8111-111111111111"
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST", status=404, mentions=other, server=uc):
        list(account(uc, account_id=other).users.list())
    # Case-insensitive match of the account id.
    r = uc.raw("GET", f"/api/2.0/accounts/{ACCOUNT.upper()}/scim/v2/Groups")
    assert r.status_code == 200, r.text
    r = uc.raw("GET", f"/api/2.0/accounts/{other}/scim/v2/Groups", token=None)
    assert r.status_code == 401 and r.json()["error_code"] == "UNAUTHENTICATED"
    r = uc.raw("GET", f"/api/2.0/accounts/{other}/scim/v2/Groups", token="dapi-nope")
    assert r.status_code == 401


def test_only_account_admins_use_account_scim(uc):
    for who in ("bob", "carol"):  # a plain user; a workspace admin who is not an account admin
        a = account(uc, who)
        with raises(PermissionDenied, "PERMISSION_DENIED", status=403, mentions="account admin", server=uc):
            list(a.users.list())
        with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
            a.users.create(user_name="sneaky@example.com")
        with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
            a.service_principals.create(display_name="sneaky")
        with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
            a.groups.get("123")  # unknown id: 403, not 404, for callers who manage nothing
    bob_id = next(iter(uc.admin.users.list(filter=f'userName eq "{BOB}"'))).id
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
        account(uc, "carol").users.patch(bob_id, schemas=SCHEMAS, operations=[op("replace", "active", False)])
    assert account(uc).users.get(bob_id).active
    assert "sneaky@example.com" not in [u.user_name for u in account(uc).users.list()]


# --- account admins and the last-admin rule ------------------------------------------------------


def test_account_admin_role_grant_revoke_and_last_admin(uc):
    a = account(uc)
    admin = next(iter(a.users.list(filter=f'userName eq "{ADMIN}"')))
    assert [r.value for r in admin.roles] == ["account_admin"]
    bob_id = next(iter(a.users.list(filter=f'userName eq "{BOB}"'))).id
    assert a.users.get(bob_id).roles == []
    with raises(PermissionDenied, server=uc):
        list(account(uc, "bob").users.list())

    # Grant bob the role: he is an account admin at once.
    a.users.patch(bob_id, schemas=SCHEMAS, operations=[op("add", "roles", [{"value": "account_admin"}])])
    assert [r.value for r in a.users.get(bob_id).roles] == ["account_admin"]
    assert ADMIN in [u.user_name for u in account(uc, "bob").users.list()]

    # The fixture admin's role may go while bob holds one ...
    a.users.patch(admin.id, schemas=SCHEMAS, operations=[op("remove", 'roles[value eq "account_admin"]')])
    assert account(uc, "admin").users.get  # noqa: B018 - the client object still exists
    with raises(PermissionDenied, server=uc):
        list(account(uc, "admin").users.list())
    b = account(uc, "bob")
    # ... but the last one may not: not by removing the role, deactivating or deleting.
    for change in (
        lambda: b.users.patch(bob_id, schemas=SCHEMAS, operations=[op("remove", 'roles[value eq "account_admin"]')]),
        lambda: b.users.patch(bob_id, schemas=SCHEMAS, operations=[op("replace", "active", False)]),
        lambda: b.users.update(bob_id, user_name=BOB, display_name="Bob", roles=[]),
        lambda: b.users.delete(bob_id),
    ):
        with raises(InvalidParameterValue, "INVALID_PARAMETER_VALUE", status=400, mentions="account admin", server=uc):
            change()
    assert [r.value for r in b.users.get(bob_id).roles] == ["account_admin"] and b.users.get(bob_id).active
    # A group carrying the role makes its members account admins.
    g = b.groups.create(display_name="account-admins", members=[ComplexValue(value=admin.id)], roles=ROLE_ADMIN)
    assert [r.value for r in g.roles] == ["account_admin"]
    assert ALICE in [u.user_name for u in account(uc, "admin").users.list()]
    b.users.patch(bob_id, schemas=SCHEMAS, operations=[op("remove", 'roles[value eq "account_admin"]')])
    with raises(PermissionDenied, server=uc):
        list(account(uc, "bob").users.list())


# --- account SCIM: groups and service principals -------------------------------------------------


def test_account_groups_every_method_and_group_managers(uc):
    a = account(uc)
    users = {u.user_name: u.id for u in a.users.list()}
    g = a.groups.create(display_name="ops", members=[ComplexValue(value=users[ALICE])])
    assert g.display_name == "ops" and [m.value for m in g.members] == [users[ALICE]] and g.roles == []
    assert a.groups.get(g.id).display_name == "ops"
    assert [x.display_name for x in a.groups.list(filter='displayName eq "ops"')] == ["ops"]
    assert "ops" not in [x.display_name for x in uc.admin.groups.list()], "an account group not assigned to 1001"

    # Carol (a workspace admin, not an account admin) creates a group through workspace SCIM:
    # she manages it, so account SCIM lets her read and edit it, but not its roles ...
    mine = uc.carol.groups.create(display_name="carols")
    c = account(uc, "carol")
    assert c.groups.get(mine.id).display_name == "carols"
    c.groups.patch(mine.id, schemas=SCHEMAS, operations=[op("add", "members", [{"value": users[BOB]}])])
    assert [m.value for m in a.groups.get(mine.id).members] == [users[BOB]]
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, mentions="roles", server=uc):
        c.groups.patch(mine.id, schemas=SCHEMAS, operations=[op("add", "roles", [{"value": "account_admin"}])])
    assert a.groups.get(mine.id).roles == []
    # ... and not other groups.
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
        c.groups.get(g.id)
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
        c.groups.delete(g.id)
    c.groups.delete(mine.id)

    a.groups.update(g.id, display_name="ops2", members=[])
    got = a.groups.get(g.id)
    assert got.display_name == "ops2" and not got.members
    a.groups.patch(g.id, schemas=SCHEMAS, operations=[op("add", "members", [{"value": users[CAROL]}]),
                                                      op("remove", f'members[value eq "{users[CAROL]}"]')])
    assert not a.groups.get(g.id).members
    with raises(InvalidParameterValue, status=400, server=uc):
        a.groups.patch(g.id, schemas=SCHEMAS, operations=[op("add", "members", [{"value": "999"}])])
    a.groups.delete(g.id)
    with raises(NotFound, status=404, server=uc):
        a.groups.get(g.id)


def test_account_service_principals_every_method(uc):
    a = account(uc)
    sp = a.service_principals.create(display_name="robot")
    assert sp.application_id and sp.display_name == "robot" and sp.active and sp.roles == []
    assert a.service_principals.get(sp.id).application_id == sp.application_id
    assert [x.id for x in a.service_principals.list(filter=f'applicationId eq "{sp.application_id}"')] == [sp.id]
    names = [x.application_id for x in a.service_principals.list(sort_by="applicationId")]
    assert names == sorted(names) and SP in names
    a.service_principals.update(sp.id, display_name="robot2", application_id=sp.application_id)
    assert a.service_principals.get(sp.id).display_name == "robot2"
    a.service_principals.patch(sp.id, schemas=SCHEMAS, operations=[op("replace", "active", False)])
    assert a.service_principals.get(sp.id).active is False
    with raises(InvalidParameterValue, status=400, mentions="applicationId", server=uc):
        a.service_principals.create(application_id="not-a-uuid")
    a.service_principals.delete(sp.id)
    with raises(NotFound, status=404, server=uc):
        a.service_principals.get(sp.id)


# --- workspace assignments -------------------------------------------------------------------------


def test_workspace_assignment_every_method_and_cross_effects(uc):
    a = account(uc)
    bob_id = int(next(iter(a.users.list(filter=f'userName eq "{BOB}"'))).id)
    levels = a.workspace_assignment.get(1001)
    assert [p.permission_level.value for p in levels.permissions] == ["USER", "ADMIN"]
    listed = {x.principal.principal_id: x for x in a.workspace_assignment.list(1001)}
    assert listed[bob_id].principal.user_name == BOB and listed[bob_id].permissions == [WorkspacePermission.USER]
    admins = next(x for x in listed.values() if x.principal.group_name == "admins")
    assert admins.permissions == [WorkspacePermission.ADMIN]
    sp = next(x for x in listed.values() if x.principal.service_principal_name == SP)
    assert sp.principal.display_name == "etl-bot"

    # Unassigning bob: gone from workspace SCIM, his token refused there (kept, not deleted).
    assert BOB in user_names(uc.admin) and uc.bob.current_user.me().user_name == BOB
    a.workspace_assignment.delete(1001, bob_id)
    assert BOB not in user_names(uc.admin)
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, mentions="not assigned to workspace 1001", server=uc):
        uc.bob.current_user.me()
    with raises(PermissionDenied, status=403, server=uc):
        list(uc.bob.catalogs.list())
    assert bob_id not in [x.principal.principal_id for x in a.workspace_assignment.list(1001)]
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST", status=404, server=uc):
        a.workspace_assignment.delete(1001, bob_id)

    # Reassigning restores both; ADMIN makes a workspace admin.
    r = a.workspace_assignment.update(1001, bob_id, permissions=[WorkspacePermission.ADMIN])
    assert r.permissions == [WorkspacePermission.ADMIN] and r.principal.user_name == BOB
    assert uc.bob.current_user.me().user_name == BOB and BOB in user_names(uc.admin)
    uc.bob.users.patch(uc.bob.current_user.me().id, schemas=SCHEMAS, operations=[op("replace", "displayName", "B")])
    r = a.workspace_assignment.update(1001, bob_id, permissions=[WorkspacePermission.USER])
    assert r.permissions == [WorkspacePermission.USER]
    with raises(PermissionDenied, status=403, server=uc):
        uc.bob.users.patch(uc.bob.current_user.me().id, schemas=SCHEMAS, operations=[op("replace", "displayName", "C")])
    # An emptying update deletes the assignment.
    r = a.workspace_assignment.update(1001, bob_id, permissions=[])
    assert r.permissions in (None, [])
    with raises(PermissionDenied, status=403, server=uc):
        uc.bob.current_user.me()

    # A group's assignment brings its members.
    group = a.groups.create(display_name="bobs", members=[ComplexValue(value=str(bob_id))])
    a.workspace_assignment.update(1001, int(group.id), permissions=[WorkspacePermission.USER])
    assert uc.bob.current_user.me().user_name == BOB
    assert "bobs" in [g.display_name for g in uc.admin.groups.list()]
    a.workspace_assignment.delete(1001, int(group.id))
    with raises(PermissionDenied, status=403, server=uc):
        uc.bob.current_user.me()


def test_workspace_assignment_errors_and_authorization(uc):
    a = account(uc)
    bob_id = int(next(iter(a.users.list(filter=f'userName eq "{BOB}"'))).id)
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST", status=404, mentions="9999", server=uc):
        list(a.workspace_assignment.list(9999))
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST", status=404, server=uc):
        a.workspace_assignment.get(9999)
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST", status=404, mentions="Principal not found", server=uc):
        a.workspace_assignment.update(1001, 424242, permissions=[WorkspacePermission.USER])
    r = uc.raw("GET", f"/api/2.0/accounts/{ACCOUNT}/workspaces/abc/permissionassignments")
    assert r.status_code == 400 and "workspace_id" in r.json()["message"]
    r = uc.raw("PUT", f"/api/2.0/accounts/{ACCOUNT}/workspaces/1001/permissionassignments/principals/{bob_id}",
               json={"permissions": "ADMIN"})
    assert r.status_code == 400 and "permissions" in r.json()["message"]
    for who in ("bob", "carol"):
        w = account(uc, who)
        with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
            list(w.workspace_assignment.list(1001))
        with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
            w.workspace_assignment.update(1001, bob_id, permissions=[WorkspacePermission.ADMIN])
    assert [x.permissions for x in a.workspace_assignment.list(1001) if x.principal.principal_id == bob_id] == [
        [WorkspacePermission.USER]]
    # Workspaces, read-only.
    ws = {w.workspace_id: w for w in a.workspaces.list()}
    assert sorted(ws) == [1001, 1002] and ws[1001].workspace_name == "dev"
    assert a.workspaces.get(1002).workspace_name == "staging"
    with raises(NotFound, status=404, server=uc):
        a.workspaces.get(5)
    with raises(PermissionDenied, status=403, server=uc):
        list(account(uc, "carol").workspaces.list())


def test_workspace_scim_create_adds_an_account_principal_to_the_workspace(uc):
    a = account(uc)
    u = a.users.create(user_name="erin@example.com")
    assert "erin@example.com" not in user_names(uc.admin)
    again = uc.admin.users.create(user_name="erin@example.com")
    assert again.id == u.id, "the account principal is added to the workspace, not created twice"
    assert "erin@example.com" in user_names(uc.admin)
    assert [x.permissions for x in a.workspace_assignment.list(1001) if x.principal.user_name == "erin@example.com"] == [
        [WorkspacePermission.USER]]
    with raises(ResourceAlreadyExists, status=409, server=uc):
        uc.admin.users.create(user_name="erin@example.com")
    # Workspace SCIM never shows the account admin role.
    admin = next(iter(uc.admin.users.list(filter=f'userName eq "{ADMIN}"')))
    assert not any(r.value == "account_admin" for r in (admin.roles or []))
    # A workspace-SCIM user is assigned USER in the workspace where it was created.
    w = uc.admin.users.create(user_name="fred@example.com")
    assert [x.permissions for x in a.workspace_assignment.list(1001) if x.principal.principal_id == int(w.id)] == [
        [WorkspacePermission.USER]]
    assert not [x for x in a.workspace_assignment.list(1002) if x.principal.principal_id == int(w.id)]


def test_permission_migration_answers_with_the_reason(uc):
    from databricks.sdk.service.iam import MigratePermissionsResponse  # noqa: F401 - the SDK knows the API

    w = uc.admin
    with raises(InvalidParameterValue, "INVALID_PARAMETER_VALUE", status=400, mentions="from_workspace_group_name",
                server=uc):
        w.permission_migration.migrate_permissions(workspace_id=1001, from_workspace_group_name="old",
                                                   to_account_group_name="analysts")
    with raises(InvalidParameterValue, status=400, mentions="workspace_id", server=uc):
        w.permission_migration.migrate_permissions(workspace_id=1002, from_workspace_group_name="old",
                                                   to_account_group_name="analysts")
    with raises(InvalidParameterValue, status=400, mentions="size", server=uc):
        w.permission_migration.migrate_permissions(workspace_id=1001, from_workspace_group_name="old",
                                                   to_account_group_name="analysts", size=-1)
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST", status=404, server=uc):
        w.permission_migration.migrate_permissions(workspace_id=1001, from_workspace_group_name="old",
                                                   to_account_group_name="nope")
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
        uc.bob.permission_migration.migrate_permissions(workspace_id=1001, from_workspace_group_name="old",
                                                        to_account_group_name="analysts")


def test_token_creation_needs_can_use_on_the_token_acl(uc):
    from databricks.sdk.service.iam import AccessControlRequest, PermissionLevel

    # The default entry: `account users` -> CAN_USE, so every user creates tokens.
    acl = uc.admin.permissions.get("authorization", "tokens")
    entry = next(e for e in acl.access_control_list if e.group_name == "account users")
    assert [(p.permission_level.value, p.inherited) for p in entry.all_permissions] == [("CAN_USE", False)]
    t = uc.bob.tokens.create(comment="mine", lifetime_seconds=600)
    uc.bob.tokens.delete(t.token_info.token_id)
    # PATCH keeps the default; PUT without it removes it.
    uc.admin.permissions.update("authorization", "tokens", access_control_list=[
        AccessControlRequest(user_name=ALICE, permission_level=PermissionLevel.CAN_USE)])
    assert uc.bob.tokens.create(comment="still").token_value
    uc.admin.permissions.set("authorization", "tokens", access_control_list=[
        AccessControlRequest(user_name=ALICE, permission_level=PermissionLevel.CAN_USE)])
    before = [x.token_id for x in uc.bob.tokens.list()]
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, mentions="CAN_USE", server=uc):
        uc.bob.tokens.create(comment="denied")
    assert [x.token_id for x in uc.bob.tokens.list()] == before, "nothing was created"
    assert uc.alice.tokens.create(comment="granted").token_value
    assert uc.carol.tokens.create(comment="workspace admin").token_value
    # Existing tokens keep working (only creation is gated).
    assert uc.bob.current_user.me().user_name == BOB
    # Through a group.
    uc.admin.permissions.update("authorization", "tokens", access_control_list=[
        AccessControlRequest(group_name="analysts", permission_level=PermissionLevel.CAN_USE)])
    assert uc.alice.tokens.create(comment="via analysts").token_value


OTHER_ACCOUNT = "22222222-2222-4222-8222-222222222222"
FIXTURE = {
    "account_id": OTHER_ACCOUNT,
    "workspaces": [{"workspace_id": 7, "name": "seven"}, {"workspace_id": 8}],
    "users": [
        {"user_name": "root@example.com", "account_admin": True},
        {"user_name": "seven@example.com", "workspaces": [7]},
        {"user_name": "nowhere@example.com", "workspaces": []},
    ],
    "service_principals": [{"application_id": "7e000000-0000-4000-8000-000000000007", "display_name": "bot",
                            "oauth_secrets": ["dose-fixture-secret-7"]}],
    "tokens": [
        {"token": "dapi-root", "principal": "root@example.com", "workspace_id": 7},
        {"token": "dapi-seven", "principal": "seven@example.com", "workspace_id": 7},
        {"token": "dapi-seven-8", "principal": "seven@example.com", "workspace_id": 8},
        {"token": "dapi-nowhere", "principal": "nowhere@example.com", "workspace_id": 7},
    ],
}


def test_fixture_account_id_assignments_and_secrets(start_server, tmp_path):
    import json
    import subprocess

    import requests

    from conftest import emulator_bin

    fx = tmp_path / "acct.json"
    fx.write_text(json.dumps(FIXTURE))
    db = str(tmp_path / "acct.db")
    s = start_server(db=db, fixtures=[str(fx)])
    assert requests.get(s.url + "/.well-known/databricks-config", timeout=15).json()["account_id"] == OTHER_ACCOUNT
    a = account(s, "dapi-root", account_id=OTHER_ACCOUNT)
    assert {w.workspace_id: w.workspace_name for w in a.workspaces.list()} == {7: "seven", 8: "8"}
    perms = {x.principal.user_name: x.permissions for x in a.workspace_assignment.list(7) if x.principal.user_name}
    assert perms == {"root@example.com": [WorkspacePermission.ADMIN], "seven@example.com": [WorkspacePermission.USER]}
    assert "seven@example.com" not in [x.principal.user_name for x in a.workspace_assignment.list(8)]
    assert s.raw("GET", "/api/2.0/preview/scim/v2/Me", token="dapi-seven").status_code == 200
    assert s.raw("GET", "/api/2.0/preview/scim/v2/Me", token="dapi-seven-8").status_code == 403
    assert s.raw("GET", "/api/2.0/preview/scim/v2/Me", token="dapi-nowhere").status_code == 403
    assert "nowhere@example.com" in [u.user_name for u in a.users.list()], "an account-only principal"
    r = requests.post(s.url + "/oidc/v1/token", data={"grant_type": "client_credentials"},
                      auth=("7e000000-0000-4000-8000-000000000007", "dose-fixture-secret-7"), timeout=15)
    assert r.status_code == 200
    # Create-if-missing: an assignment deleted through the API comes back at the next start.
    seven = int(next(iter(a.users.list(filter='userName eq "seven@example.com"'))).id)
    a.workspace_assignment.delete(7, seven)
    assert s.stop() == 0
    s = start_server(db=db, fixtures=[str(fx)])
    a = account(s, "dapi-root", account_id=OTHER_ACCOUNT)
    assert seven in [x.principal.principal_id for x in a.workspace_assignment.list(7)]
    assert s.stop() == 0
    # Another account id for the same database: refused, naming the stored id.
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"account_id": ACCOUNT}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("UC_EMULATOR_")}
    run = subprocess.run([str(emulator_bin()), "serve", "--db", db, "--fixtures", str(bad), "--bind", "127.0.0.1:0"],
                         capture_output=True, text=True, timeout=30, env=env)
    assert run.returncode == 2 and OTHER_ACCOUNT in run.stderr and "account_id" in run.stderr, run.stderr
    # Two files of one start-up naming different ids: refused the same way.
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"account_id": "33333333-3333-4333-8333-333333333333"}))
    run = subprocess.run([str(emulator_bin()), "serve", "--db", str(tmp_path / "two.db"), "--fixtures", str(fx),
                          "--fixtures", str(other), "--bind", "127.0.0.1:0"],
                         capture_output=True, text=True, timeout=30, env=env)
    assert run.returncode == 2 and "account_id" in run.stderr and OTHER_ACCOUNT in run.stderr, run.stderr
    # The start-up log names the account id.
    proc = subprocess.Popen([str(emulator_bin()), "serve", "--db", db, "--fixtures", str(fx), "--bind", "127.0.0.1:0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**env, "RUST_LOG": "info"})
    assert proc.stdout.readline().startswith("uc-emulator listening on ")
    proc.terminate()
    assert f"account_id={OTHER_ACCOUNT}" in proc.communicate(timeout=15)[1]
    bad.write_text(json.dumps({"account_id": "not-a-uuid"}))
    run = subprocess.run([str(emulator_bin()), "serve", "--db", str(tmp_path / "new.db"), "--fixtures", str(bad),
                          "--bind", "127.0.0.1:0"], capture_output=True, text=True, timeout=30, env=env)
    assert run.returncode == 2 and "account_id" in run.stderr, run.stderr
