"""Unity Catalog set up through AccountClient: account metastores, metastore assignments and
storage credentials, seen at once through the workspace API."""

from __future__ import annotations

from databricks.sdk.errors import BadRequest, NotFound, PermissionDenied
from databricks.sdk.service.catalog import (
    AwsIamRoleRequest,
    CreateAccountsMetastore,
    CreateAccountsStorageCredential,
    CreateMetastoreAssignment,
    UpdateAccountsMetastore,
    UpdateAccountsStorageCredential,
    UpdateMetastoreAssignment,
)

from conftest import ADMIN, raises
from test_account import account

ROLE = "arn:aws:iam::123456789012:role/uc-account"


def test_account_metastores_every_method(uc):
    a = account(uc)
    main = uc.admin.metastores.current().metastore_id
    listed = [m.name for m in a.metastores.list()]
    assert listed == ["main"]
    m = a.metastores.create(metastore_info=CreateAccountsMetastore(name="second", region="eu-west-1")).metastore_info
    assert m.name == "second" and m.owner == ADMIN and m.region == "eu-west-1" and m.storage_root is None
    assert [x.name for x in a.metastores.list()] == ["main", "second"]
    assert a.metastores.get(m.metastore_id).metastore_info.name == "second"
    got = a.metastores.update(m.metastore_id, metastore_info=UpdateAccountsMetastore(
        owner="admins", delta_sharing_organization_name="acme")).metastore_info
    assert got.owner == "admins" and got.delta_sharing_organization_name == "acme"
    # An account admin administers every metastore, whoever owns it (main too).
    assert a.metastores.get(main).metastore_info.name == "main"
    with raises(NotFound, "METASTORE_DOES_NOT_EXIST", status=404, server=uc):
        a.metastores.get("00000000-0000-0000-0000-00000000dead")
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, mentions="metastore_info.name", server=uc):
        a.metastores.create(metastore_info=None)

    # Assign workspace 1002 to it: the workspace API sees it at once.
    a.metastore_assignments.create(1002, m.metastore_id, metastore_assignment=CreateMetastoreAssignment(
        workspace_id=1002, metastore_id=m.metastore_id, default_catalog_name="x"))
    assert uc.admin2.metastores.current().metastore_id == m.metastore_id
    got = a.metastore_assignments.get(1002).metastore_assignment
    assert (got.workspace_id, got.metastore_id, got.default_catalog_name) == (1002, m.metastore_id, "x")
    assert list(a.metastore_assignments.list(m.metastore_id)) == [1002]
    assert list(a.metastore_assignments.list(main)) == [1001]
    a.metastore_assignments.update(1002, m.metastore_id, metastore_assignment=UpdateMetastoreAssignment(
        workspace_id=1002, default_catalog_name="y"))
    assert a.metastore_assignments.get(1002).metastore_assignment.default_catalog_name == "y"
    with raises(NotFound, status=404, server=uc):
        a.metastore_assignments.update(1002, main, metastore_assignment=UpdateMetastoreAssignment(
            workspace_id=1002, default_catalog_name="z"))
    # Without a storage root, a catalog needs its own.
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, mentions="storage_root", server=uc):
        uc.admin2.catalogs.create(name="rootless")
    assert uc.admin2.catalogs.create(name="rooted", storage_root="s3://acct/rooted").name == "rooted"

    a.metastore_assignments.delete(1002, m.metastore_id)
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST", status=404, server=uc):
        a.metastore_assignments.get(1002)
    with raises(NotFound, status=404, server=uc):
        a.metastore_assignments.delete(1002, m.metastore_id)
    with raises(NotFound, status=404, server=uc):
        a.metastore_assignments.create(77, m.metastore_id)
    a.metastores.delete(m.metastore_id, force=True)
    assert [x.name for x in a.metastores.list()] == ["main"]


def test_account_storage_credentials_every_method(uc):
    a = account(uc)
    main = uc.admin.metastores.current().metastore_id
    c = a.storage_credentials.create(main, credential_info=CreateAccountsStorageCredential(
        name="acct_cred", aws_iam_role=AwsIamRoleRequest(role_arn=ROLE), comment="from the account")).credential_info
    assert c.name == "acct_cred" and c.owner == ADMIN and c.aws_iam_role.role_arn == ROLE
    # The workspace API sees it.
    assert uc.admin.storage_credentials.get("acct_cred").comment == "from the account"
    assert "acct_cred" in [x.name for x in a.storage_credentials.list(main)]
    assert a.storage_credentials.get(main, "acct_cred").credential_info.name == "acct_cred"
    u = a.storage_credentials.update(main, "acct_cred", credential_info=UpdateAccountsStorageCredential(
        comment="changed", owner="admins")).credential_info
    assert u.comment == "changed" and u.owner == "admins"
    with raises(NotFound, ("STORAGE_CREDENTIAL_DOES_NOT_EXIST", "RESOURCE_DOES_NOT_EXIST"), status=404, server=uc):
        a.storage_credentials.get(main, "nope")
    with raises(NotFound, "METASTORE_DOES_NOT_EXIST", status=404, server=uc):
        list(a.storage_credentials.list("00000000-0000-0000-0000-00000000dead"))
    with raises(BadRequest, status=400, mentions="credential_info.name", server=uc):
        a.storage_credentials.create(main)
    a.storage_credentials.delete(main, "acct_cred")
    with raises(NotFound, status=404, server=uc):
        uc.admin.storage_credentials.get("acct_cred")


def test_account_uc_is_for_account_admins_only(uc):
    main = uc.admin.metastores.current().metastore_id
    for who in ("bob", "carol"):
        a = account(uc, who)
        with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
            list(a.metastores.list())
        with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
            a.metastores.create(metastore_info=CreateAccountsMetastore(name="nope"))
        with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
            a.metastore_assignments.delete(1001, main)
        with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
            list(a.storage_credentials.list(main))
    assert uc.admin.metastores.current().metastore_id == main
    assert [m.name for m in account(uc).metastores.list()] == ["main"]
