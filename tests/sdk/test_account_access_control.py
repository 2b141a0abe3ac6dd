"""Account access control through the real SDK: assignable roles, rule sets with etags (account
API and the workspace proxy), and the roles they grant being enforced."""

from __future__ import annotations

from databricks.sdk.errors import BadRequest, NotFound, PermissionDenied, ResourceConflict
from databricks.sdk.service.iam import ComplexValue, GrantRule, Patch, PatchOp, PatchSchema, RuleSetUpdateRequest

from conftest import ADMIN, ALICE, BOB, SP, raises
from test_account import ACCOUNT, account

SCHEMAS = [PatchSchema.URN_IETF_PARAMS_SCIM_API_MESSAGES_2_0_PATCH_OP]
MANAGER = "roles/group.manager"


def rules(rs):
    return {g.role: g.principals for g in (rs.grant_rules or [])}


def put(client, name, etag, grant_rules):
    return client.update_rule_set(name=name, rule_set=RuleSetUpdateRequest(
        name=name, etag=etag, grant_rules=[GrantRule(role=r, principals=p) for r, p in grant_rules.items()]))


def test_assignable_roles(uc):
    a = account(uc)
    roles = lambda r: [x.name for x in a.access_control.get_assignable_roles_for_resource(r).roles]  # noqa: E731
    assert roles(f"accounts/{ACCOUNT}") == ["roles/billing.admin", "roles/group.manager", "roles/marketplace.admin",
                                            "roles/servicePrincipal.manager", "roles/servicePrincipal.user"]
    g = next(iter(a.groups.list(filter='displayName eq "analysts"')))
    assert roles(f"accounts/{ACCOUNT}/groups/{g.id}") == [MANAGER]
    assert roles(f"accounts/{ACCOUNT}/servicePrincipals/{SP}") == ["roles/servicePrincipal.manager",
                                                                   "roles/servicePrincipal.user"]
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, mentions="resource", server=uc):
        a.access_control.get_assignable_roles_for_resource("groups/1")
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST", status=404, server=uc):
        a.access_control.get_assignable_roles_for_resource(f"accounts/{ACCOUNT}/groups/12345")
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST", status=404, server=uc):
        a.access_control.get_assignable_roles_for_resource(f"accounts/{ACCOUNT}/tagPolicies/1")
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST", status=404, server=uc):
        a.access_control.get_assignable_roles_for_resource("accounts/11111111-1111-4111-8111-111111111111")
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
        account(uc, "bob").access_control.get_assignable_roles_for_resource(f"accounts/{ACCOUNT}/groups/12345")
    # The workspace proxy: any principal of the acting workspace reads them.
    proxy = uc.alice.account_access_control_proxy
    assert [x.name for x in proxy.get_assignable_roles_for_resource(f"accounts/{ACCOUNT}/groups/{g.id}").roles] == [
        MANAGER]
    assert len(proxy.get_assignable_roles_for_resource(f"accounts/{ACCOUNT}").roles) == 5


def test_group_rule_set_etag_and_managers(uc):
    a = account(uc)
    users = {u.user_name: u.id for u in a.users.list()}
    g = a.groups.create(display_name="squad")
    name = f"accounts/{ACCOUNT}/groups/{g.id}/ruleSets/default"
    first = a.access_control.get_rule_set(name, "")
    assert first.name == name and first.etag and rules(first) == {MANAGER: [f"users/{ADMIN}"]}, "creator grant"
    assert a.access_control.get_rule_set(name, "").etag == first.etag, "stable until written"

    second = put(a.access_control, name, first.etag, {MANAGER: [f"users/{BOB}", f"users/{ADMIN}", f"users/{BOB}"]})
    assert second.etag != first.etag and rules(second) == {MANAGER: [f"users/{ADMIN}", f"users/{BOB}"]}
    # A stale etag: 409 RESOURCE_CONFLICT, nothing changes.
    with raises(ResourceConflict, "RESOURCE_CONFLICT", status=409, mentions=first.etag, server=uc):
        put(a.access_control, name, first.etag, {})
    assert rules(a.access_control.get_rule_set(name, "")) == rules(second)
    # Even an unchanged update makes a new etag.
    third = put(a.access_control, name, second.etag, rules(second))
    assert third.etag not in (first.etag, second.etag)

    # Bob manages the group now: account SCIM on it, and its rule set (through either path).
    b = account(uc, "bob")
    b.groups.patch(g.id, schemas=SCHEMAS, operations=[Patch(op=PatchOp.ADD, path="members",
                                                            value=[{"value": users[ALICE]}])])
    assert [m.value for m in a.groups.get(g.id).members] == [users[ALICE]]
    with raises(PermissionDenied, server=None):
        b.groups.patch(g.id, schemas=SCHEMAS, operations=[Patch(op=PatchOp.ADD, path="roles",
                                                                value=[{"value": "account_admin"}])])
    rs = b.access_control.get_rule_set(name, "")
    fourth = put(uc.bob.account_access_control_proxy, name, rs.etag, {MANAGER: [f"users/{BOB}"]})
    assert rules(fourth) == {MANAGER: [f"users/{BOB}"]}
    # Alice, a plain user of the workspace, reads through the proxy but may not change or use the
    # account path.
    assert rules(uc.alice.account_access_control_proxy.get_rule_set(name, "")) == {MANAGER: [f"users/{BOB}"]}
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
        put(uc.alice.account_access_control_proxy, name, fourth.etag, {MANAGER: [f"users/{ALICE}"]})
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
        account(uc, "alice").access_control.get_rule_set(name, "")
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
        account(uc, "carol").access_control.get_rule_set(name, "")  # a workspace admin is no account admin

    # Renames and deletions are reflected.
    a.groups.patch(g.id, schemas=SCHEMAS, operations=[Patch(op=PatchOp.REPLACE, path="displayName", value="squad2")])
    helpers = a.groups.create(display_name="helpers")
    rs = a.access_control.get_rule_set(name, "")
    put(a.access_control, name, rs.etag, {MANAGER: [f"users/{BOB}", "groups/helpers"]})
    a.groups.patch(helpers.id, schemas=SCHEMAS, operations=[Patch(op=PatchOp.REPLACE, path="displayName",
                                                                  value="helpers2")])
    assert rules(a.access_control.get_rule_set(name, "")) == {MANAGER: ["groups/helpers2", f"users/{BOB}"]}
    a.groups.delete(helpers.id)
    assert rules(a.access_control.get_rule_set(name, "")) == {MANAGER: [f"users/{BOB}"]}
    a.groups.delete(g.id)
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST", status=404, server=uc):
        a.access_control.get_rule_set(name, "")


def test_rule_set_validation(uc):
    a = account(uc)
    g = a.groups.create(display_name="v")
    name = f"accounts/{ACCOUNT}/groups/{g.id}/ruleSets/default"
    etag = a.access_control.get_rule_set(name, "").etag
    cases = [
        (dict(name=f"accounts/{ACCOUNT}/groups/{g.id}/ruleSets/other", etag=etag), "name"),
        (dict(name=name, etag=etag, rules={"roles/billing.admin": [f"users/{BOB}"]}), "grant_rules[0].role"),
        (dict(name=name, etag=etag, rules={MANAGER: ["bob@example.com"]}), "principals[0]"),
        (dict(name=name, etag=etag, rules={MANAGER: ["users/nobody@example.com"]}), "principals[0]"),
        (dict(name=name, etag=etag, rules={MANAGER: ["groups/account users"]}), "principals[0]"),
        (dict(name=name, etag="", rules={}), "rule_set.etag"),
    ]
    for c, field in cases:
        with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, mentions=field, server=uc):
            put(a.access_control, c["name"], c["etag"], c.get("rules", {}))
    r = uc.raw("PUT", "/api/2.0/preview/accounts/access-control/rule-sets",
               json={"name": name, "rule_set": {"name": f"accounts/{ACCOUNT}", "etag": etag}})
    assert r.status_code == 400 and "rule_set.name" in r.json()["message"]
    assert a.access_control.get_rule_set(name, "").etag == etag, "refused updates change nothing"
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST", status=404, server=uc):
        a.access_control.get_rule_set(f"accounts/{ACCOUNT}/groups/999/ruleSets/default", "")
    with raises(BadRequest, status=400, mentions="name", server=uc):
        a.access_control.get_rule_set("nonsense", "")


def test_service_principal_and_account_rule_sets(uc):
    a = account(uc)
    sp = next(iter(a.service_principals.list(filter=f'applicationId eq "{SP}"')))
    # The numeric id is accepted; answers name the application id.
    rs = a.access_control.get_rule_set(f"accounts/{ACCOUNT}/servicePrincipals/{sp.id}/ruleSets/default", "")
    assert rs.name == f"accounts/{ACCOUNT}/servicePrincipals/{SP}/ruleSets/default" and rules(rs) == {}
    rs = put(a.access_control, rs.name, rs.etag, {"roles/servicePrincipal.user": [f"users/{ALICE}"],
                                                  "roles/servicePrincipal.manager": [f"users/{BOB}"]})
    assert list(rules(rs)) == ["roles/servicePrincipal.manager", "roles/servicePrincipal.user"]
    # A service principal manager reads and changes its rule set, but not its secrets.
    b = account(uc, "bob")
    assert rules(b.access_control.get_rule_set(rs.name, "")) == rules(rs)
    with raises(PermissionDenied, server=uc):
        b.service_principal_secrets.create(sp.id)

    # The account rule set: only account admins change it; group.manager there manages every group.
    acc = f"accounts/{ACCOUNT}/ruleSets/default"
    base = a.access_control.get_rule_set(acc, "")
    assert rules(base) == {}
    with raises(PermissionDenied, status=403, server=uc):
        put(uc.bob.account_access_control_proxy, acc, base.etag, {MANAGER: [f"users/{BOB}"]})
    put(a.access_control, acc, base.etag, {MANAGER: [f"users/{ALICE}"]})
    analysts = next(iter(a.groups.list(filter='displayName eq "analysts"')))
    assert account(uc, "alice").groups.get(analysts.id).display_name == "analysts"
    assert rules(uc.alice.account_access_control_proxy.get_rule_set(acc, "")) == {MANAGER: [f"users/{ALICE}"]}
