"""Storage credentials, external locations, external tables and listFiles through the real SDK
."""

import os
from urllib.parse import quote

import pytest

from databricks.sdk.errors import BadRequest, NotFound, PermissionDenied, ResourceConflict
from databricks.sdk.service.catalog import (
    AwsIamRoleRequest,
    AzureManagedIdentityRequest,
    AzureServicePrincipal,
    PermissionsChange,
    Privilege,
)

from conftest import ADMIN, ALICE, BOB, CAROL, UC, raises

SECRET = "S3CR3T-VALUE"
ROLE = AwsIamRoleRequest(role_arn="arn:aws:iam::123456789012:role/uc")


def azure():
    return AzureServicePrincipal(directory_id="dir", application_id="app", client_secret=SECRET)


def make_carol_metastore_admin(uc, ms_id):
    # `admins` = {admin, carol}: carol becomes a metastore admin without being an account admin.
    uc.admin.metastores.update(ms_id, owner="admins")


def grant(uc, sec_type, name, principal, *privileges):
    uc.admin.grants.update(sec_type, name, changes=[PermissionsChange(principal=principal, add=list(privileges))])


def ext_table(uc, name, location, token="admin", **extra):
    body = {"catalog_name": "main", "schema_name": "default", "name": name, "table_type": "EXTERNAL",
            "data_source_format": "DELTA", "columns": [], "storage_location": location, **extra}
    return uc.raw("POST", f"{UC}/tables", token=token, json=body)


def list_files(uc, url, token="admin", **params):
    q = "&".join([f"url={quote(url, safe='')}"] + [f"{k}={v}" for k, v in params.items()])
    return uc.raw("GET", f"{UC}/files?{q}", token=token)


# --- storage credentials -----------------------------------------------------------------


def test_credential_secrets_never_returned(uc):
    created = uc.admin.storage_credentials.create("Cred_A", azure_service_principal=azure(), comment="c")
    assert created.name == "cred_a" and created.owner == ADMIN
    assert created.azure_service_principal.application_id == "app"
    assert created.azure_service_principal.client_secret is None
    assert uc.admin.storage_credentials.get("cred_a").azure_service_principal.client_secret is None
    uc.admin.storage_credentials.update("cred_a", comment="new")
    for path in ("/storage-credentials", "/storage-credentials/cred_a"):
        assert SECRET not in uc.raw("GET", UC + path).text
    gcp = {"name": "gcp", "gcp_service_account_key": {"email": "sa@x", "private_key_id": "k1", "private_key": SECRET}}
    r = uc.raw("POST", f"{UC}/storage-credentials", json=gcp)
    assert r.status_code == 200 and SECRET not in r.text and "private_key\"" not in r.text
    assert [c.name for c in uc.admin.storage_credentials.list()] == ["cred_a", "gcp"]


def test_credential_kinds_and_generated_outputs(uc):
    aws = uc.admin.storage_credentials.create("aws", aws_iam_role=ROLE)
    assert aws.aws_iam_role.role_arn == ROLE.role_arn
    assert aws.aws_iam_role.unity_catalog_iam_arn.startswith("arn:aws:iam::")
    assert aws.aws_iam_role.external_id
    mi = uc.admin.storage_credentials.create(
        "mi", azure_managed_identity=AzureManagedIdentityRequest(access_connector_id="/subscriptions/x/ac"))
    assert mi.azure_managed_identity.access_connector_id == "/subscriptions/x/ac"
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc):
        uc.admin.storage_credentials.create("none")
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc):
        uc.admin.storage_credentials.create("both", aws_iam_role=ROLE, azure_service_principal=azure())
    with raises(ResourceConflict, status=409, server=uc):
        uc.admin.storage_credentials.create("AWS", aws_iam_role=ROLE)


def test_create_credential_account_admin_or_privilege(uc, ms_id):
    make_carol_metastore_admin(uc, ms_id)
    with raises(PermissionDenied, status=403, server=uc):
        uc.carol.storage_credentials.create("c1", aws_iam_role=ROLE)  # metastore admin alone: no
    with raises(PermissionDenied, status=403, server=uc):
        uc.alice.storage_credentials.create("c1", aws_iam_role=ROLE)
    grant(uc, "metastore", ms_id, ALICE, Privilege.CREATE_STORAGE_CREDENTIAL)
    assert uc.alice.storage_credentials.create("c1", aws_iam_role=ROLE).owner == ALICE


def test_get_and_list_credentials_owner_admin_or_some_privilege(uc, ms_id):
    uc.admin.storage_credentials.create("c1", aws_iam_role=ROLE)
    uc.admin.storage_credentials.create("c2", aws_iam_role=ROLE)
    with raises(PermissionDenied, status=403, server=uc):
        uc.bob.storage_credentials.get("c1")
    assert list(uc.bob.storage_credentials.list()) == []
    grant(uc, "storage_credential", "c1", BOB, Privilege.READ_FILES)
    assert uc.bob.storage_credentials.get("c1").name == "c1"
    assert [c.name for c in uc.bob.storage_credentials.list()] == ["c1"]
    make_carol_metastore_admin(uc, ms_id)
    assert [c.name for c in uc.carol.storage_credentials.list()] == ["c1", "c2"]
    with raises(NotFound, status=404, server=uc):
        uc.admin.storage_credentials.get("nope")


def test_update_credential_rules(uc, ms_id):
    uc.admin.storage_credentials.create("c", azure_service_principal=azure())
    make_carol_metastore_admin(uc, ms_id)
    with raises(PermissionDenied, status=403, server=uc):
        uc.carol.storage_credentials.update("c", comment="not the owner field")
    assert uc.carol.storage_credentials.update("c", owner=ALICE).owner == ALICE
    with raises(PermissionDenied, status=403, server=uc):
        uc.alice.storage_credentials.update("c", comment="owner may not")
    with raises(PermissionDenied, status=403, server=uc):
        uc.bob.storage_credentials.update("c", owner=BOB)
    assert uc.alice.storage_credentials.update("c", owner=BOB).owner == BOB
    renamed = uc.admin.storage_credentials.update("c", new_name="c2", comment="account admin may")
    assert (renamed.name, renamed.comment) == ("c2", "account admin may")
    with raises(NotFound, status=404, server=uc):
        uc.admin.storage_credentials.update("c2", owner="nobody@example.com")


def test_delete_credential_owner_or_account_admin_and_force(uc, ms_id):
    uc.admin.storage_credentials.create("c", aws_iam_role=ROLE)
    uc.admin.external_locations.create("loc", "s3://dep/loc", "c")
    make_carol_metastore_admin(uc, ms_id)
    with raises(PermissionDenied, status=403, server=uc):
        uc.carol.storage_credentials.delete("c")
    with raises(BadRequest, "INVALID_STATE", status=400, server=uc):
        uc.admin.storage_credentials.delete("c")
    uc.admin.storage_credentials.delete("c", force=True)
    assert uc.admin.external_locations.get("loc").credential_name == "c"  # dependents stay
    grant(uc, "metastore", ms_id, ALICE, Privilege.CREATE_STORAGE_CREDENTIAL)
    uc.alice.storage_credentials.create("mine", aws_iam_role=ROLE)
    uc.alice.storage_credentials.delete("mine")


def test_validate_storage_credential(uc, start_server_with_args, tmp_path):
    # Without --file-root no file:// URL is accepted, not even from an admin.
    uc.admin.storage_credentials.create("c", aws_iam_role=ROLE)
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, mentions="--file-root", server=uc):
        uc.admin.storage_credentials.validate(storage_credential_name="c", url=f"file://{tmp_path}")
    uc = start_server_with_args(["--file-root", str(tmp_path)])
    uc.admin.storage_credentials.create("c", aws_iam_role=ROLE)
    res = uc.admin.storage_credentials.validate(storage_credential_name="c", url="s3://somewhere/x")
    assert {r.operation.value for r in res.results} >= {"PATH_EXISTS", "LIST", "READ"}
    local = uc.admin.storage_credentials.validate(storage_credential_name="c", url=f"file://{tmp_path}")
    assert local.is_dir is True
    assert all(r.result.value == "PASS" for r in local.results)
    with raises(NotFound, status=404, server=uc):
        uc.admin.storage_credentials.validate(storage_credential_name="nope")
    with raises(PermissionDenied, status=403, server=uc):
        uc.bob.storage_credentials.validate(storage_credential_name="c")


# --- external locations ------------------------------------------------------------------


def test_location_overlap_near_misses(uc):
    uc.admin.storage_credentials.create("c", aws_iam_role=ROLE)
    a = uc.admin.external_locations.create("a", "s3://b/a/", "c")
    assert a.url == "s3://b/a" and a.credential_name == "c" and a.owner == ADMIN
    uc.admin.external_locations.create("ab", "s3://b/ab", "c")  # not inside s3://b/a
    for i, bad in enumerate(("s3://b/a", "s3://B/a/x", "s3://b")):
        with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, mentions="url", server=uc):
            uc.admin.external_locations.create(f"bad{i}", bad, "c")
    with raises(BadRequest, status=400, mentions="url", server=uc):
        uc.admin.external_locations.update("ab", url="s3://b/a/inner")
    assert uc.admin.external_locations.get("ab").url == "s3://b/ab"
    with raises(NotFound, status=404, server=uc):
        uc.admin.external_locations.create("x", "s3://x", "no_such_cred")
    with raises(BadRequest, status=400, mentions="url", server=uc):
        uc.admin.external_locations.create("y", "http://x/y", "c")
    assert [x.name for x in uc.admin.external_locations.list()] == ["a", "ab"]


def test_location_authorization(uc, ms_id):
    uc.admin.storage_credentials.create("c", aws_iam_role=ROLE)
    with raises(PermissionDenied, status=403, server=uc):
        uc.alice.external_locations.create("al", "s3://alice", "c")
    grant(uc, "metastore", ms_id, ALICE, Privilege.CREATE_EXTERNAL_LOCATION)
    # ... and on the storage credential too (SDK docstring of ExternalLocationsAPI.create).
    with raises(PermissionDenied, status=403, server=uc):
        uc.alice.external_locations.create("al", "s3://alice", "c")
    grant(uc, "storage_credential", "c", ALICE, Privilege.CREATE_EXTERNAL_LOCATION)
    assert uc.alice.external_locations.create("al", "s3://alice", "c").owner == ALICE
    with raises(PermissionDenied, status=403, server=uc):
        uc.bob.external_locations.get("al")
    assert list(uc.bob.external_locations.list()) == []
    grant(uc, "external_location", "al", BOB, Privilege.READ_FILES)
    assert uc.bob.external_locations.get("al").url == "s3://alice"
    assert [x.name for x in uc.bob.external_locations.list()] == ["al"]
    make_carol_metastore_admin(uc, ms_id)
    with raises(PermissionDenied, status=403, server=uc):
        uc.carol.external_locations.update("al", comment="admin may change only the owner")
    with raises(PermissionDenied, status=403, server=uc):
        uc.bob.external_locations.update("al", comment="bob")
    assert uc.alice.external_locations.update("al", comment="mine", read_only=True).read_only is True
    assert uc.carol.external_locations.update("al", owner=CAROL).owner == CAROL
    with raises(PermissionDenied, status=403, server=uc):
        uc.alice.external_locations.delete("al")
    uc.carol.external_locations.delete("al")
    with raises(NotFound, status=404, server=uc):
        uc.admin.external_locations.get("al")


# --- external tables ----------------------------------------------------------


def test_external_table_privileges(uc):
    uc.admin.storage_credentials.create("c", aws_iam_role=ROLE)
    uc.admin.external_locations.create("land", "s3://land/zone", "c")
    uc.admin.catalogs.update("main", owner=ALICE)  # alice may use and create in main.default
    r = ext_table(uc, "t1", "s3://land/zone/t1", token="alice")
    assert r.status_code == 403, r.text
    grant(uc, "external_location", "land", ALICE, Privilege.CREATE_EXTERNAL_TABLE)
    r = ext_table(uc, "t1", "s3://land/zone/t1", token="alice")
    assert r.status_code == 200 and r.json()["storage_location"] == "s3://land/zone/t1", r.text
    r = ext_table(uc, "t2", "s3://elsewhere/t2", token="alice", storage_credential_name="c")
    assert r.status_code == 403, r.text
    grant(uc, "storage_credential", "c", ALICE, Privilege.CREATE_EXTERNAL_TABLE)
    r = ext_table(uc, "t2", "s3://elsewhere/t2", token="alice", storage_credential_name="c")
    assert r.status_code == 200 and r.json()["storage_credential_name"] == "c", r.text
    assert uc.admin.tables.get("main.default.t2").storage_credential_name == "c"
    # No external location strictly inside a new table; no location inside an external table.
    r = ext_table(uc, "t3", "s3://land", token="alice", storage_credential_name="c")
    assert r.status_code == 400 and "storage_location" in r.text, r.text
    with raises(BadRequest, status=400, mentions="url", server=uc):
        uc.admin.external_locations.create("in_table", "s3://land/zone/t1/x", "c")
    # Dependents: the location has a table under it, the credential a table created with it.
    with raises(BadRequest, "INVALID_STATE", status=400, server=uc):
        uc.admin.external_locations.delete("land")
    with raises(BadRequest, "INVALID_STATE", status=400, server=uc):
        uc.admin.storage_credentials.delete("c")


# --- permissions API on the storage securables --------------------------------------


def test_grants_on_storage_securables(uc):
    uc.admin.storage_credentials.create("c", aws_iam_role=ROLE)
    uc.admin.external_locations.create("l", "s3://l", "c")
    grant(uc, "storage_credential", "c", "analysts", Privilege.CREATE_EXTERNAL_TABLE, Privilege.READ_FILES)
    got = uc.admin.grants.get("storage_credential", "c")
    assert [(p.principal, sorted(x.value for x in p.privileges)) for p in got.privilege_assignments] == [
        ("analysts", ["CREATE_EXTERNAL_TABLE", "READ_FILES"])]
    with raises(BadRequest, status=400, server=uc):
        grant(uc, "external_location", "l", BOB, Privilege.SELECT)
    with raises(NotFound, status=404, server=uc):
        uc.admin.grants.get("external_location", "nope")
    assert uc.alice.storage_credentials.get("c").name == "c"  # some privilege via analysts


# --- listFiles --------------------------------------------------------------------------


def _tree(root):
    os.makedirs(root / "zone" / "sub")
    (root / "zone" / "b.csv").write_text("1,2\n")
    (root / "zone" / "a.csv").write_text("x")
    (root / "top-secret.txt").write_text("outside the location")
    (root.parent / "outside").mkdir()
    os.symlink(root.parent / "outside", root / "zone" / "escape")


def test_list_files_of_a_file_url(uc, start_server_with_args, tmp_path):
    data = tmp_path / "data"
    _tree(data)
    assert list_files(uc, f"file://{data}/zone/").status_code == 400  # no --file-root
    uc = start_server_with_args(["--file-root", str(data)])
    r = list_files(uc, f"file://{data}/zone/")
    assert r.status_code == 200, r.text
    files = r.json()["files"]
    assert [f["name"] for f in files] == ["a.csv", "b.csv", "escape", "sub"]
    b = files[1]
    assert b["path"] == f"file://{data}/zone/b.csv" and b["size"] == 4 and b["is_dir"] is False and b["mtime"] > 0
    assert files[3]["is_dir"] is True
    assert len(list_files(uc, f"file://{data}/zone", max_results=1).json()["files"]) == 1
    assert list_files(uc, f"file://{data}/missing").status_code == 404


def test_list_files_of_a_mapped_url_and_traversal(start_server_with_args, tmp_path):
    bucket = tmp_path / "bucket"
    _tree(bucket)
    uc = start_server_with_args(["--storage-map", f"s3://mapped={bucket}"])
    uc.admin.storage_credentials.create("c", aws_iam_role=ROLE)
    uc.admin.external_locations.create("zone", "s3://mapped/zone", "c")
    r = list_files(uc, "s3://mapped/zone")
    assert r.status_code == 200, r.text
    assert [f["name"] for f in r.json()["files"]] == ["a.csv", "b.csv", "escape", "sub"]
    assert r.json()["files"][0]["path"] == "s3://mapped/zone/a.csv"
    # alice: READ_FILES on the covering location, and only under it.
    assert list_files(uc, "s3://mapped/zone", token="alice").status_code == 403
    grant(uc, "external_location", "zone", ALICE, Privilege.READ_FILES)
    assert list_files(uc, "s3://mapped/zone/sub", token="alice").json() == {"files": []}
    assert list_files(uc, "s3://mapped", token="alice").status_code == 403
    # Traversal attempts never leave the mapped directory.
    for bad in ("s3://mapped/zone/../top-secret.txt", "s3://mapped/zone/./a.csv", "s3://mapped/zone/..%2Ftop-secret.txt"):
        r = list_files(uc, bad, token="alice")
        assert r.status_code == 400 and r.json()["error_code"] == "INVALID_PARAMETER_VALUE", (bad, r.text)
    r = list_files(uc, "s3://mapped/zone/escape", token="alice")
    assert r.status_code == 403 and r.json()["error_code"] == "PERMISSION_DENIED", r.text
    assert list_files(uc, "s3://mapped/zone/missing", token="alice").status_code == 404
    assert list_files(uc, "s3://unmapped/x").json() == {"files": []}
    assert list_files(uc, "s3://mapped/zone", max_results=-1).status_code == 400
    assert uc.raw("GET", f"{UC}/files").status_code == 400
