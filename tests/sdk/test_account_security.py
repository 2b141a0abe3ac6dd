"""Account-level privilege escalation through the real SDK: a plain user (bob) and a workspace
admin who is no account admin (carol) try every account-level way to gain rights — the account
admin role, joining groups through account SCIM or rule sets, secrets of a service principal they
may "use", assigning themselves to a workspace as ADMIN, the role through workspace SCIM — and are
refused with the right status and error code, while a full snapshot of the account's identity
state stays the same."""

from __future__ import annotations

from databricks.sdk.errors import BadRequest, PermissionDenied
from databricks.sdk.service.iam import ComplexValue, Patch, PatchOp, PatchSchema, WorkspacePermission

from conftest import ALICE, BOB, CAROL, SP
from test_account import account, raises
from test_account_access_control import MANAGER, put, rules

ACCOUNT = "00000000-0000-4000-8000-000000000000"
SCHEMAS = [PatchSchema.URN_IETF_PARAMS_SCIM_API_MESSAGES_2_0_PATCH_OP]
ROLE = [{"value": "account_admin"}]


def snapshot(uc):
    """Everything an escalation could change, read by the account admin."""
    a = account(uc)
    users = sorted((u.user_name, u.active, [r.value for r in u.roles or []], sorted(g.value for g in u.groups or []))
                   for u in a.users.list())
    groups = sorted((g.display_name, [r.value for r in g.roles or []], sorted(m.value for m in g.members or []))
                    for g in a.groups.list())
    sps = sorted((s.application_id, s.active, [r.value for r in s.roles or []]) for s in a.service_principals.list())
    assignments = {ws: sorted((x.principal.principal_id, [p.value for p in x.permissions or []])
                              for x in a.workspace_assignment.list(ws)) for ws in (1001, 1002)}
    rule_sets = {}
    for g in a.groups.list():
        rs = a.access_control.get_rule_set(f"accounts/{ACCOUNT}/groups/{g.id}/ruleSets/default", "")
        rule_sets[g.display_name] = (rs.etag, rules(rs))
    for name in (f"accounts/{ACCOUNT}/ruleSets/default", f"accounts/{ACCOUNT}/servicePrincipals/{SP}/ruleSets/default"):
        rs = a.access_control.get_rule_set(name, "")
        rule_sets[name] = (rs.etag, rules(rs))
    sp = next(iter(a.service_principals.list(filter=f'applicationId eq "{SP}"')))
    secrets = sorted(s.id for s in a.service_principal_secrets.list(sp.id))
    return users, groups, sps, assignments, rule_sets, secrets


def test_no_account_level_way_to_gain_rights(uc):
    a = account(uc)
    ids = {u.user_name: u.id for u in a.users.list()}
    groups = {g.display_name: g.id for g in a.groups.list()}
    sp = next(iter(a.service_principals.list(filter=f'applicationId eq "{SP}"')))
    # bob may "use" and "manage" the service principal (rule set): neither gives its secrets.
    name = f"accounts/{ACCOUNT}/servicePrincipals/{SP}/ruleSets/default"
    put(a.access_control, name, a.access_control.get_rule_set(name, "").etag,
        {"roles/servicePrincipal.user": [f"users/{BOB}"], "roles/servicePrincipal.manager": [f"users/{BOB}"]})
    before = snapshot(uc)

    for who, me, w in (("bob", BOB, uc.bob), ("carol", CAROL, uc.carol)):
        acct = account(uc, who)
        attempts = [
            # the account admin role, for itself or for a group it is in
            lambda: acct.users.patch(ids[me], schemas=SCHEMAS, operations=[Patch(op=PatchOp.ADD, path="roles",
                                                                                 value=ROLE)]),
            lambda: acct.users.update(ids[me], user_name=me, roles=[ComplexValue(value="account_admin")]),
            lambda: acct.groups.patch(groups["admins"], schemas=SCHEMAS,
                                      operations=[Patch(op=PatchOp.ADD, path="roles", value=ROLE)]),
            lambda: acct.service_principals.create(display_name="mine", roles=[ComplexValue(value="account_admin")]),
            # joining a group it does not manage through account SCIM
            lambda: acct.groups.patch(groups["admins"], schemas=SCHEMAS, operations=[
                Patch(op=PatchOp.ADD, path="members", value=[{"value": ids[me]}])]),
            lambda: acct.groups.update(groups["analysts"], display_name="analysts",
                                       members=[ComplexValue(value=ids[me])]),
            # ... or by making itself its manager (rule sets, both paths), or manager of every group
            lambda: put(acct.access_control, f"accounts/{ACCOUNT}/groups/{groups['admins']}/ruleSets/default",
                        before[4]["admins"][0], {MANAGER: [f"users/{me}"]}),
            lambda: put(w.account_access_control_proxy,
                        f"accounts/{ACCOUNT}/groups/{groups['admins']}/ruleSets/default",
                        before[4]["admins"][0], {MANAGER: [f"users/{me}"]}),
            lambda: put(w.account_access_control_proxy, f"accounts/{ACCOUNT}/ruleSets/default",
                        before[4][f"accounts/{ACCOUNT}/ruleSets/default"][0], {MANAGER: [f"users/{me}"]}),
            # secrets of a service principal (account path; the proxy is for workspace admins)
            lambda: acct.service_principal_secrets.create(sp.id),
            lambda: list(acct.service_principal_secrets.list(sp.id)),
            # assigning itself (or its group) to a workspace as ADMIN
            lambda: acct.workspace_assignment.update(1001, int(ids[me]), permissions=[WorkspacePermission.ADMIN]),
            lambda: acct.workspace_assignment.update(1002, int(ids[me]), permissions=[WorkspacePermission.ADMIN]),
            lambda: acct.workspace_assignment.update(1002, int(groups["admins"]),
                                                     permissions=[WorkspacePermission.ADMIN]),
        ]
        if who == "bob":
            attempts.append(lambda: w.service_principal_secrets_proxy.create(sp.id))
        for i, attempt in enumerate(attempts):
            with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
                attempt()
            assert snapshot(uc) == before, f"{who}: refused attempt {i} changed something"

    # Workspace SCIM cannot grant the role, even for a workspace admin (carol).
    for attempt in (
        lambda: uc.carol.users.patch(ids[CAROL], schemas=SCHEMAS, operations=[Patch(op=PatchOp.ADD, path="roles",
                                                                                    value=ROLE)]),
        lambda: uc.carol.users.create(user_name="eve@example.com", roles=[ComplexValue(value="account_admin")]),
    ):
        with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, mentions="account_admin", server=uc):
            attempt()
        assert snapshot(uc) == before
    # Control: the account admin could do each of these.
    a.groups.patch(groups["analysts"], schemas=SCHEMAS, operations=[
        Patch(op=PatchOp.ADD, path="members", value=[{"value": ids[BOB]}])])
    assert ids[BOB] in [m.value for m in a.groups.get(groups["analysts"]).members]
    assert ALICE in [u.user_name for u in a.users.list()]


def test_a_principal_deleted_through_account_scim_is_gone_for_good(uc):
    import requests
    from databricks.sdk.service.catalog import PermissionsChange, Privilege

    a = account(uc)
    app_id = "11111111-2222-4333-8444-555555555555"
    sp = a.service_principals.create(display_name="temp", application_id=app_id,
                                     roles=[ComplexValue(value="account_admin")])
    a.workspace_assignment.update(1001, int(sp.id), permissions=[WorkspacePermission.ADMIN])
    secret = a.service_principal_secrets.create(sp.id).secret
    g = a.groups.create(display_name="guarded")
    name = f"accounts/{ACCOUNT}/groups/{g.id}/ruleSets/default"
    put(a.access_control, name, a.access_control.get_rule_set(name, "").etag, {MANAGER: [f"servicePrincipals/{app_id}"]})
    uc.admin.grants.update("catalog", "main", changes=[PermissionsChange(principal=app_id, add=[Privilege.USE_CATALOG])])
    token = requests.post(uc.url + "/oidc/v1/token", data={"grant_type": "client_credentials"},
                          auth=(app_id, secret), timeout=15).json()["access_token"]
    assert uc.raw("GET", "/api/2.0/preview/scim/v2/Me", token=token).status_code == 200

    a.service_principals.delete(sp.id)
    assert uc.raw("GET", "/api/2.0/preview/scim/v2/Me", token=token).status_code == 401
    again = a.service_principals.create(display_name="temp again", application_id=app_id)
    assert again.id != sp.id and again.roles == []
    assert int(again.id) not in [x.principal.principal_id for x in a.workspace_assignment.list(1001)]
    assert app_id not in [x.principal.service_principal_name for x in a.workspace_assignment.list(1001)]
    assert rules(a.access_control.get_rule_set(name, "")) == {}
    assert list(a.service_principal_secrets.list(again.id)) == []
    r = requests.post(uc.url + "/oidc/v1/token", data={"grant_type": "client_credentials"}, auth=(app_id, secret),
                      timeout=15)
    assert r.status_code == 401 and secret not in r.text
    assert uc.raw("GET", "/api/2.0/preview/scim/v2/Me", token=token).status_code == 401
    assert app_id not in {x.principal for x in uc.admin.grants.get("catalog", "main").privilege_assignments or []}


def test_renames_follow_and_file_urls_are_confined_at_account_level(uc):
    a = account(uc)
    g = a.groups.create(display_name="before")
    a.workspace_assignment.update(1001, int(g.id), permissions=[WorkspacePermission.USER])
    a.groups.patch(g.id, schemas=SCHEMAS, operations=[Patch(op=PatchOp.REPLACE, path="displayName", value="after")])
    [p] = [x.principal for x in a.workspace_assignment.list(1001) if x.principal.principal_id == int(g.id)]
    assert (p.group_name, p.display_name) == ("after", "after")
    from databricks.sdk.service.catalog import CreateAccountsMetastore

    before = [m.name for m in a.metastores.list()]
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, mentions="--file-root", server=uc):
        a.metastores.create(metastore_info=CreateAccountsMetastore(name="local", storage_root="file:///etc"))
    assert [m.name for m in a.metastores.list()] == before
