"""Tokens, token management and workspace object permissions through the real databricks-sdk:
`w.tokens`, `w.token_management`, `w.permissions`."""

import time

from databricks.sdk.errors import (
    BadRequest,
    InvalidParameterValue,
    NotFound,
    PermissionDenied,
    ResourceDoesNotExist,
    Unauthenticated,
)
from databricks.sdk.service.iam import AccessControlRequest, PermissionLevel
from databricks.sdk.service.settings import TokenAccessControlRequest, TokenPermissionLevel

from conftest import ADMIN, ALICE, BOB, SP, raises


def _acl(perms):
    """{principal: [direct levels]} of an ObjectPermissions."""
    out = {}
    for e in perms.access_control_list or []:
        name = e.user_name or e.group_name or e.service_principal_name
        out[name] = sorted(p.permission_level.value for p in e.all_permissions or [] if not p.inherited)
    return out


def test_create_list_delete_and_deleted_token_is_401(uc):
    created = uc.alice.tokens.create(comment="sdk laptop")
    assert created.token_value.startswith("dapi")
    info = created.token_info
    assert info.comment == "sdk laptop"
    assert info.expiry_time == -1
    assert info.creation_time > 1_600_000_000_000

    mine = uc.client(created.token_value)
    assert mine.current_user.me().user_name == ALICE
    list(mine.catalogs.list())  # UC works with the new token

    listed = list(uc.alice.tokens.list())
    assert [t.token_id for t in listed] == [info.token_id]  # fixture tokens are not listed
    assert list(uc.bob.tokens.list()) == []

    with raises(ResourceDoesNotExist, "RESOURCE_DOES_NOT_EXIST", status=404, server=uc):
        uc.bob.tokens.delete(info.token_id)

    mine.tokens.delete(info.token_id)
    with raises(Unauthenticated, "UNAUTHENTICATED", status=401, server=uc):
        mine.current_user.me()
    assert list(uc.alice.tokens.list()) == []
    assert uc.alice.current_user.me().user_name == ALICE


def test_expired_token_is_401(uc):
    created = uc.bob.tokens.create(lifetime_seconds=1)
    assert created.token_info.expiry_time == created.token_info.creation_time + 1000
    short = uc.client(created.token_value)
    assert short.current_user.me().user_name == BOB
    time.sleep(1.2)
    with raises(Unauthenticated, "UNAUTHENTICATED", status=401, mentions="expired", server=uc):
        short.current_user.me()


def test_on_behalf_of_token_acts_as_the_service_principal(uc):
    obo = uc.admin.token_management.create_obo_token(SP, lifetime_seconds=600, comment="etl")
    info = obo.token_info
    assert info.comment == "etl"
    assert info.created_by_username == ADMIN
    assert info.workspace_id == 1001
    sp = uc.client(obo.token_value)
    me = sp.current_user.me()
    assert me.user_name == SP
    assert int(me.id) == info.owner_id
    # The SP may use UC as itself: it holds CREATE_CATALOG on the metastore.
    sp.catalogs.list()
    made = sp.catalogs.create(name="sp_made")
    assert made.owner == SP
    assert [t.token_id for t in sp.tokens.list()] == [info.token_id]

    with raises(ResourceDoesNotExist, "RESOURCE_DOES_NOT_EXIST", status=404, server=uc):
        uc.admin.token_management.create_obo_token("00000000-0000-0000-0000-000000000000")
    with raises(ResourceDoesNotExist, "RESOURCE_DOES_NOT_EXIST", status=404, server=uc):
        uc.admin.token_management.create_obo_token(ALICE)
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
        uc.alice.token_management.create_obo_token(SP)


def test_token_management_as_admin_and_403_otherwise(uc):
    a = uc.alice.tokens.create(comment="a")
    b = uc.bob.tokens.create(comment="b")
    alice_id = int(uc.alice.current_user.me().id)

    for admin in (uc.admin, uc.carol):  # account admin; workspace admin only
        ids = [t.token_id for t in admin.token_management.list()]
        assert ids == [a.token_info.token_id, b.token_info.token_id]
    only_alice = list(uc.admin.token_management.list(created_by_username=ALICE))
    assert [t.token_id for t in only_alice] == [a.token_info.token_id]
    assert only_alice[0].owner_id == alice_id and only_alice[0].created_by_id == alice_id
    assert [t.token_id for t in uc.admin.token_management.list(created_by_id=alice_id)] == [a.token_info.token_id]

    got = uc.admin.token_management.get(b.token_info.token_id).token_info
    assert got.created_by_username == BOB and got.comment == "b" and got.workspace_id == 1001
    with raises(ResourceDoesNotExist, "RESOURCE_DOES_NOT_EXIST", status=404, server=uc):
        uc.admin.token_management.get("no-such-token")

    for who in (uc.alice, uc.bob):
        with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
            list(who.token_management.list())
        with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
            who.token_management.get(a.token_info.token_id)
        with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
            who.token_management.delete(a.token_info.token_id)

    uc.admin.token_management.delete(a.token_info.token_id)
    with raises(Unauthenticated, "UNAUTHENTICATED", status=401, server=uc):
        uc.client(a.token_value).current_user.me()
    assert uc.client(b.token_value).current_user.me().user_name == BOB
    assert [t.token_id for t in uc.admin.token_management.list()] == [b.token_info.token_id]


def test_token_permissions_get_set_update_levels(uc):
    w = uc.admin
    perms = w.permissions.get(request_object_type="authorization", request_object_id="tokens")
    assert perms.object_id == "authorization/tokens"
    assert perms.object_type == "tokens"
    admins = [e for e in perms.access_control_list if e.group_name == "admins"]
    assert admins and admins[0].all_permissions[0].permission_level == PermissionLevel.CAN_MANAGE
    assert admins[0].all_permissions[0].inherited is True

    levels = uc.bob.permissions.get_permission_levels(request_object_type="authorization", request_object_id="tokens")
    assert [l.permission_level for l in levels.permission_levels] == [PermissionLevel.CAN_USE, PermissionLevel.CAN_MANAGE]

    set_ = w.permissions.set(
        request_object_type="authorization",
        request_object_id="tokens",
        access_control_list=[AccessControlRequest(user_name=ALICE, permission_level=PermissionLevel.CAN_USE)],
    )
    assert _acl(set_) == {ALICE: ["CAN_USE"], "admins": []}
    alice_entry = [e for e in set_.access_control_list if e.user_name == ALICE][0]
    assert alice_entry.display_name == "Alice"

    updated = w.permissions.update(
        request_object_type="authorization",
        request_object_id="tokens",
        access_control_list=[
            AccessControlRequest(group_name="analysts", permission_level=PermissionLevel.CAN_MANAGE),
            AccessControlRequest(service_principal_name=SP, permission_level=PermissionLevel.CAN_USE),
        ],
    )
    assert _acl(updated) == {ALICE: ["CAN_USE"], "analysts": ["CAN_MANAGE"], SP: ["CAN_USE"], "admins": []}

    # Alice manages through `analysts`; the token-management flavour of the same endpoints works too.
    tm = uc.alice.token_management.set_permissions(
        access_control_list=[TokenAccessControlRequest(user_name=BOB, permission_level=TokenPermissionLevel.CAN_USE)]
    )
    assert {e.user_name for e in tm.access_control_list if e.user_name} == {BOB}
    assert _acl(uc.bob.permissions.get("authorization", "tokens")) == {BOB: ["CAN_USE"], "admins": []}
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
        uc.alice.permissions.get("authorization", "tokens")

    pw = w.permissions.update(
        "authorization", "passwords",
        access_control_list=[AccessControlRequest(user_name=BOB, permission_level=PermissionLevel.CAN_USE)],
    )
    assert pw.object_id == "authorization/passwords" and _acl(pw) == {BOB: ["CAN_USE"], "admins": []}


def test_permissions_validation_and_non_admin_403(uc):
    w = uc.admin
    before = _acl(w.permissions.get("authorization", "tokens"))

    # Bob holds CAN_USE through `account users` (the default entry), so he may read the list,
    # but not change it.
    assert _acl(uc.bob.permissions.get("authorization", "tokens")) == before
    assert before["account users"] == ["CAN_USE"]
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
        uc.bob.permissions.set(
            "authorization", "tokens",
            access_control_list=[AccessControlRequest(user_name=BOB, permission_level=PermissionLevel.CAN_MANAGE)],
        )

    bad = [
        ([AccessControlRequest(permission_level=PermissionLevel.CAN_USE)], "access_control_list[0]"),
        (
            [AccessControlRequest(user_name=ALICE, group_name="analysts", permission_level=PermissionLevel.CAN_USE)],
            "access_control_list[0]",
        ),
        ([AccessControlRequest(user_name=BOB, permission_level=PermissionLevel.CAN_VIEW)], "permission_level"),
        (
            [
                AccessControlRequest(user_name=BOB, permission_level=PermissionLevel.CAN_USE),
                AccessControlRequest(user_name="nobody@example.com", permission_level=PermissionLevel.CAN_USE),
            ],
            "access_control_list[1].user_name",
        ),
        ([AccessControlRequest(group_name=ALICE, permission_level=PermissionLevel.CAN_USE)], "group_name"),
    ]
    for acl, field in bad:
        for call in (w.permissions.set, w.permissions.update):
            with raises(InvalidParameterValue, "INVALID_PARAMETER_VALUE", status=400, mentions=field, server=uc):
                call("authorization", "tokens", access_control_list=acl)
    with raises(BadRequest, status=400, mentions="permission_level", server=uc):
        w.permissions.set(
            "authorization", "passwords",
            access_control_list=[AccessControlRequest(user_name=BOB, permission_level=PermissionLevel.CAN_MANAGE)],
        )
    assert _acl(w.permissions.get("authorization", "tokens")) == before

    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST", status=404, server=uc):
        w.permissions.get("warehouses", "0123456789abcdef")
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST", status=404, server=uc):
        w.permissions.get_permission_levels("warehouses", "0123456789abcdef")
