"""Security rules through the real databricks-sdk (README "Security"): no file:// URL without
--file-root, input limits answered with 400s the SDK understands, a plain user's escalation
attempts refused, immutable userName/applicationId, and principals that are identities (a
principal re-created under a deleted one's name inherits nothing)."""

from databricks.sdk.errors import BadRequest, PermissionDenied
from databricks.sdk.service.catalog import PermissionsChange, Privilege
from databricks.sdk.service.iam import Patch, PatchOp, PatchSchema

from conftest import ADMIN, ALICE, SP, UC, raises

SCHEMAS = [PatchSchema.URN_IETF_PARAMS_SCIM_API_MESSAGES_2_0_PATCH_OP]
ROLE = {"role_arn": "arn:aws:iam::123456789012:role/uc"}


def test_file_urls_need_a_file_root_even_for_admins(uc, tmp_path):
    from databricks.sdk.service.catalog import AwsIamRoleRequest

    uc.admin.storage_credentials.create("c", aws_iam_role=AwsIamRoleRequest(role_arn=ROLE["role_arn"]))
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, mentions="--file-root", server=uc):
        uc.admin.external_locations.create("l", f"file://{tmp_path}", "c")
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, mentions="--file-root", server=uc):
        uc.admin.catalogs.create("c2", storage_root="file:///etc")
    assert [x.name for x in uc.admin.external_locations.list()] == []


def test_file_root_admits_its_directory_only(start_server_with_args, tmp_path):
    from databricks.sdk.service.catalog import AwsIamRoleRequest

    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "rootx").mkdir()
    uc = start_server_with_args(["--file-root", str(root)])
    uc.admin.storage_credentials.create("c", aws_iam_role=AwsIamRoleRequest(role_arn=ROLE["role_arn"]))
    assert uc.admin.external_locations.create("l", f"file://{root}/a", "c").url == f"file://{root}/a"
    with raises(BadRequest, status=400, mentions="url", server=uc):
        uc.admin.external_locations.create("x", f"file://{tmp_path}/rootx", "c")


def test_deep_scim_filters_are_a_400_and_the_server_lives_on(uc):
    deep = "(" * 5000 + 'userName eq "a"' + ")" * 5000
    with raises(BadRequest, status=400, server=uc):
        list(uc.alice.users.list(filter=deep))
    assert uc.alice.current_user.me().user_name == ALICE


def test_a_plain_user_cannot_widen_its_rights(uc):
    with raises(PermissionDenied, status=403, server=uc):
        uc.alice.grants.update("catalog", "private", changes=[
            PermissionsChange(principal=ALICE, add=[Privilege.ALL_PRIVILEGES])])
    with raises(PermissionDenied, status=403, server=uc):
        uc.alice.catalogs.update("private", owner=ALICE)
    admins = next(iter(uc.admin.groups.list(filter='displayName eq "admins"'))).id
    me = uc.alice.current_user.me().id
    with raises(PermissionDenied, status=403, server=uc):
        uc.alice.groups.patch(admins, schemas=SCHEMAS,
                              operations=[Patch(op=PatchOp.ADD, value={"members": [{"value": me}]})])
    with raises(PermissionDenied, status=403, server=uc):
        uc.alice.token_management.create_obo_token(application_id=SP)
    assert uc.admin.catalogs.get("private").owner == ADMIN
    assert ALICE not in {m.display for m in uc.admin.groups.get(admins).members or []}


def test_user_name_never_changes(uc):
    alice = uc.alice.current_user.me().id
    uc.admin.users.patch(alice, schemas=SCHEMAS, operations=[
        Patch(op=PatchOp.REPLACE, path="userName", value="mallory@example.com"),
        Patch(op=PatchOp.REPLACE, path="displayName", value="Alice Renamed")])
    me = uc.alice.current_user.me()
    assert (me.user_name, me.display_name) == (ALICE, "Alice Renamed")


def test_a_recreated_service_principal_inherits_nothing(uc):
    w = uc.admin
    app_id = "0f0f0f0f-0000-4000-8000-00000000abcd"
    sp = w.service_principals.create(display_name="tmp", application_id=app_id)
    w.catalogs.create("tmp_cat")
    w.catalogs.update("tmp_cat", owner=app_id)
    w.grants.update("catalog", "shared", changes=[PermissionsChange(principal=app_id, add=[Privilege.USE_CATALOG])])
    w.service_principals.delete(sp.id)
    again = w.service_principals.create(display_name="tmp again", application_id=app_id)
    assert again.id != sp.id
    token = w.token_management.create_obo_token(application_id=app_id).token_value
    new = uc.client(token)
    with raises(PermissionDenied, status=403, server=uc):
        new.catalogs.get("tmp_cat")
    with raises(PermissionDenied, status=403, server=uc):
        new.catalogs.get("shared")
    assert w.catalogs.get("tmp_cat").owner == app_id
    assert app_id not in {a.principal for a in w.grants.get("catalog", "shared").privilege_assignments or []}
