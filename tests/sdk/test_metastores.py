"""Metastore CRUD, summary, current assignment and workspace assignments."""

import re

from databricks.sdk.errors import BadRequest, InvalidParameterValue, NotFound, PermissionDenied, ResourceConflict
from databricks.sdk.service.catalog import DeltaSharingScopeEnum

from conftest import ADMIN, ALICE, ALREADY_EXISTS, UC, raises

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def test_create_metastore_output_fields(uc):
    m = uc.admin.metastores.create(name="Second", storage_root="s3://bucket/second/")
    assert UUID.match(m.metastore_id)
    assert m.name == "second"  # lower-cased
    assert m.storage_root == f"s3://bucket/second/{m.metastore_id}"  # trailing '/' dropped, id appended
    assert m.owner == ADMIN
    assert m.cloud == "aws" and m.region == "us-west-2"
    assert m.global_metastore_id == f"aws:us-west-2:{m.metastore_id}"
    assert m.privilege_model_version == "1.0"
    assert m.delta_sharing_scope == DeltaSharingScopeEnum.INTERNAL
    assert m.created_by == ADMIN and m.updated_by == ADMIN
    assert m.created_at and m.created_at == m.updated_at
    got = uc.admin.metastores.get(m.metastore_id)
    assert got.as_dict() == m.as_dict()


def test_create_metastore_requires_storage_root(uc):
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, mentions="storage_root", server=uc):
        uc.admin.metastores.create(name="nostorage")


def test_create_metastore_requires_account_admin(uc):
    # carol is a workspace admin but not an account admin
    for who in ("alice", "carol", "sp"):
        with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
            uc.client(who).metastores.create(name=f"by_{who}", storage_root="s3://b/x")
    names = [m.name for m in uc.admin.metastores.list()]
    assert names == ["main"]


def test_create_metastore_duplicate_name_conflicts(uc):
    uc.admin.metastores.create(name="dup", storage_root="s3://b/dup")
    with raises(ResourceConflict, ALREADY_EXISTS, status=409, server=uc):
        uc.admin.metastores.create(name="DUP", storage_root="s3://b/dup2")


def test_list_metastores_is_the_assigned_one(uc, ms_id):
    # A second metastore exists, but only the workspace's assigned one is listed.
    uc.admin.metastores.create(name="other", storage_root="s3://b/other")
    ms = list(uc.admin.metastores.list())
    assert [m.metastore_id for m in ms] == [ms_id]
    assert ms[0].name == "main" and ms[0].storage_root == f"s3://uc-test/main/{ms_id}"
    # Workspace 1002 has no assignment: empty list, not an error.
    assert list(uc.admin2.metastores.list()) == []
    # Not a metastore admin of the assigned metastore: 403.
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
        list(uc.alice.metastores.list())


def test_get_metastore_authorization_and_missing(uc, ms_id):
    assert uc.admin.metastores.get(ms_id).name == "main"
    with raises(PermissionDenied, "PERMISSION_DENIED", server=uc):
        uc.alice.metastores.get(ms_id)
    with raises(PermissionDenied, "PERMISSION_DENIED", server=uc):
        uc.carol.metastores.get(ms_id)
    with raises(NotFound, status=404, server=uc):
        uc.admin.metastores.get("00000000-0000-4000-8000-000000000000")


def test_update_metastore_rename_and_audit(uc, ms_id):
    before = uc.admin.metastores.get(ms_id)
    m = uc.admin.metastores.update(ms_id, new_name="Renamed_MS")
    assert m.name == "renamed_ms"
    assert m.metastore_id == ms_id
    assert m.updated_by == ADMIN and m.updated_at >= before.updated_at
    assert m.created_at == before.created_at
    assert uc.admin.metastores.get(ms_id).name == "renamed_ms"
    assert uc.admin.metastores.summary().name == "renamed_ms"


def test_update_metastore_rename_by_name_field(uc, ms_id):
    # The Unity Catalog API renames through the body `name` field.
    r = uc.admin.api_client.do("PATCH", f"{UC}/metastores/{ms_id}", body={"name": "SeedName"})
    assert r["name"] == "seedname"
    assert uc.admin.metastores.get(ms_id).name == "seedname"


def test_update_metastore_storage_root_is_rejected(uc, ms_id):
    with raises(BadRequest, status=400, mentions="storage_root", server=uc):
        uc.admin.api_client.do("PATCH", f"{UC}/metastores/{ms_id}", body={"storage_root": "s3://elsewhere/x"})
    assert uc.admin.metastores.get(ms_id).storage_root == f"s3://uc-test/main/{ms_id}"


def test_update_metastore_owner_moves_admin_role(uc, ms_id):
    # Hand the metastore to the group `data-eng`, which contains `analysts`, which contains alice.
    m = uc.admin.metastores.update(ms_id, owner="data-eng")
    assert m.owner == "data-eng"
    # alice is now a metastore admin (transitive member of the owner group)...
    assert uc.alice.metastores.get(ms_id).owner == "data-eng"
    assert [x.metastore_id for x in uc.alice.metastores.list()] == [ms_id]
    # ...and the account admin no longer is (account admin != metastore admin).
    with raises(PermissionDenied, "PERMISSION_DENIED", server=uc):
        uc.admin.metastores.get(ms_id)
    # The new metastore admin can give it back.
    assert uc.alice.metastores.update(ms_id, owner=ADMIN).owner == ADMIN
    assert uc.admin.metastores.get(ms_id).updated_by == ALICE


def test_update_metastore_unknown_owner(uc, ms_id):
    with raises(NotFound, "PRINCIPAL_DOES_NOT_EXIST", status=404, mentions="nobody@example.com", server=uc):
        uc.admin.metastores.update(ms_id, owner="nobody@example.com")
    assert uc.admin.metastores.get(ms_id).owner == ADMIN


def test_update_metastore_by_non_admin_denied(uc, ms_id):
    with raises(PermissionDenied, "PERMISSION_DENIED", server=uc):
        uc.alice.metastores.update(ms_id, new_name="hijacked")
    assert uc.admin.metastores.get(ms_id).name == "main"


def test_delta_sharing_scope_needs_token_lifetime(uc, ms_id):
    with raises(InvalidParameterValue, "INVALID_PARAMETER_VALUE", status=400,
                mentions="delta_sharing_recipient_token_lifetime_in_seconds", server=uc):
        uc.admin.metastores.update(ms_id, delta_sharing_scope=DeltaSharingScopeEnum.INTERNAL_AND_EXTERNAL,
                                   delta_sharing_organization_name="acme")
    m = uc.admin.metastores.get(ms_id)
    assert m.delta_sharing_scope == DeltaSharingScopeEnum.INTERNAL  # nothing changed
    assert m.delta_sharing_organization_name is None

    m = uc.admin.metastores.update(ms_id, delta_sharing_scope=DeltaSharingScopeEnum.INTERNAL_AND_EXTERNAL,
                                   delta_sharing_recipient_token_lifetime_in_seconds=3600,
                                   delta_sharing_organization_name="acme")
    assert m.delta_sharing_scope == DeltaSharingScopeEnum.INTERNAL_AND_EXTERNAL
    assert m.delta_sharing_recipient_token_lifetime_in_seconds == 3600
    assert m.delta_sharing_organization_name == "acme"
    # Back and forth: the stored lifetime now satisfies the rule.
    uc.admin.metastores.update(ms_id, delta_sharing_scope=DeltaSharingScopeEnum.INTERNAL)
    m = uc.admin.metastores.update(ms_id, delta_sharing_scope=DeltaSharingScopeEnum.INTERNAL_AND_EXTERNAL)
    assert m.delta_sharing_scope == DeltaSharingScopeEnum.INTERNAL_AND_EXTERNAL
    assert m.delta_sharing_recipient_token_lifetime_in_seconds == 3600


def test_summary(uc, ms_id):
    s = uc.admin.metastores.summary()
    assert s.metastore_id == ms_id
    assert s.name == "main"
    assert s.cloud == "aws" and s.region == "us-west-2"
    assert s.global_metastore_id == f"aws:us-west-2:{ms_id}"
    assert s.owner == ADMIN
    assert s.storage_root == f"s3://uc-test/main/{ms_id}"
    # Any authenticated user of the workspace may ask.
    assert uc.alice.metastores.summary().metastore_id == ms_id
    assert uc.bob.metastores.summary().metastore_id == ms_id


def test_summary_without_assignment(uc):
    with raises(NotFound, "METASTORE_DOES_NOT_EXIST", status=404,
                mentions="No metastore assigned for the current workspace", server=uc):
        uc.admin2.metastores.summary()


def test_current_assignment(uc, ms_id):
    for who in ("admin", "alice", "sp"):
        a = uc.client(who).metastores.current()
        assert (a.workspace_id, a.metastore_id, a.default_catalog_name) == (1001, ms_id, "main")


def test_assign_update_unassign_lifecycle(uc, ms_id):
    m2 = uc.admin.metastores.create(name="staging_ms", storage_root="s3://b/staging")
    # carol is a workspace admin of 1002 but not an account admin: cannot create assignments.
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
        uc.carol2.metastores.assign(1002, m2.metastore_id, "main")
    with raises(PermissionDenied, "PERMISSION_DENIED", server=uc):
        uc.alice.metastores.assign(1002, m2.metastore_id, "main")

    uc.admin.metastores.assign(1002, m2.metastore_id, "main")
    a = uc.admin2.metastores.current()
    assert (a.workspace_id, a.metastore_id, a.default_catalog_name) == (1002, m2.metastore_id, "main")
    assert uc.admin2.metastores.summary().name == "staging_ms"
    # Workspace 1001 is untouched.
    assert uc.admin.metastores.current().metastore_id == ms_id

    # Workspace admin may change only the default catalog...
    uc.carol2.metastores.update_assignment(1002, default_catalog_name="hive_metastore")
    assert uc.admin2.metastores.current().default_catalog_name == "hive_metastore"
    # ...but not the metastore.
    with raises(PermissionDenied, "PERMISSION_DENIED", server=uc):
        uc.carol2.metastores.update_assignment(1002, metastore_id=ms_id)
    assert uc.admin2.metastores.current().metastore_id == m2.metastore_id
    # A plain user may do neither.
    with raises(PermissionDenied, "PERMISSION_DENIED", server=uc):
        uc.bob.metastores.update_assignment(1002, default_catalog_name="x")
    # The account admin may change the metastore.
    uc.admin.metastores.update_assignment(1002, metastore_id=ms_id)
    a = uc.admin2.metastores.current()
    assert (a.metastore_id, a.default_catalog_name) == (ms_id, "hive_metastore")

    # Unassign: non-matching metastore_id -> 400; workspace admin -> 403; account admin -> ok.
    with raises(BadRequest, status=400, server=uc):
        uc.admin.metastores.unassign(1002, m2.metastore_id)
    with raises(PermissionDenied, "PERMISSION_DENIED", server=uc):
        uc.carol2.metastores.unassign(1002, ms_id)
    assert uc.admin2.metastores.current().metastore_id == ms_id
    uc.admin.metastores.unassign(1002, ms_id)
    with raises(NotFound, "METASTORE_DOES_NOT_EXIST", server=uc):
        uc.admin2.metastores.summary()
    assert list(uc.admin2.metastores.list()) == []


def test_assign_overwrites_existing(uc, ms_id):
    m2 = uc.admin.metastores.create(name="m2", storage_root="s3://b/m2")
    uc.admin.metastores.assign(1002, ms_id, "main")
    uc.admin.metastores.assign(1002, m2.metastore_id, "other_default")
    a = uc.admin2.metastores.current()
    assert (a.metastore_id, a.default_catalog_name) == (m2.metastore_id, "other_default")


def test_assignment_errors(uc, ms_id):
    missing = "00000000-0000-4000-8000-000000000000"
    with raises(NotFound, status=404, server=uc):
        uc.admin.metastores.assign(1002, missing, "main")
    with raises(NotFound, status=404, server=uc):
        uc.admin.metastores.assign(999999, ms_id, "main")  # unknown workspace
    with raises(NotFound, status=404, server=uc):  # nothing assigned to 1002 yet
        uc.admin.metastores.update_assignment(1002, default_catalog_name="main")
    with raises(BadRequest, status=400, mentions="workspace_id", server=uc):
        uc.admin.api_client.do("PUT", f"{UC}/workspaces/notanumber/metastore",
                               body={"metastore_id": ms_id, "default_catalog_name": "main"})
    with raises(NotFound, "METASTORE_DOES_NOT_EXIST", server=uc):
        uc.admin2.metastores.summary()


def test_delete_metastore_force_and_unassigns(uc):
    m2 = uc.admin.metastores.create(name="doomed", storage_root="s3://b/doomed")
    uc.admin.metastores.assign(1002, m2.metastore_id, "main")
    # A catalog makes it non-empty.
    c = uc.admin2.catalogs.create("in_doomed")
    assert c.metastore_id == m2.metastore_id
    with raises(BadRequest, "INVALID_STATE", status=400, server=uc):
        uc.admin.metastores.delete(m2.metastore_id)
    assert uc.admin.metastores.get(m2.metastore_id).name == "doomed"
    assert uc.admin2.catalogs.get("in_doomed").name == "in_doomed"
    # A non-admin may not delete it.
    with raises(PermissionDenied, "PERMISSION_DENIED", server=uc):
        uc.alice.metastores.delete(m2.metastore_id, force=True)

    uc.admin.metastores.delete(m2.metastore_id, force=True)
    with raises(NotFound, status=404, server=uc):
        uc.admin.metastores.get(m2.metastore_id)
    # Its assignment went with it.
    with raises(NotFound, "METASTORE_DOES_NOT_EXIST", server=uc):
        uc.admin2.metastores.summary()
    with raises(NotFound, "METASTORE_DOES_NOT_EXIST", server=uc):
        uc.admin2.catalogs.get("in_doomed")


def test_delete_empty_assigned_metastore_without_force(uc):
    # Assignments do not make a metastore non-empty.
    m2 = uc.admin.metastores.create(name="empty_ms", storage_root="s3://b/empty")
    uc.admin.metastores.assign(1002, m2.metastore_id, "main")
    r = uc.admin.api_client.do("DELETE", f"{UC}/metastores/{m2.metastore_id}")
    assert r == {}
    with raises(NotFound, server=uc):
        uc.admin.metastores.get(m2.metastore_id)
    assert list(uc.admin2.metastores.list()) == []


def test_delete_metastore_force_in_body(uc):
    # The legacy CLI sends delete options as a JSON body.
    m2 = uc.admin.metastores.create(name="bodyforce", storage_root="s3://b/bf")
    uc.admin.metastores.assign(1002, m2.metastore_id, "main")
    uc.admin2.catalogs.create("c1")
    uc.admin.api_client.do("DELETE", f"{UC}/metastores/{m2.metastore_id}", body={"force": True})
    with raises(NotFound, server=uc):
        uc.admin.metastores.get(m2.metastore_id)
