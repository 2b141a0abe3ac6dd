"""Volumes through the real SDK (`w.volumes`, `w.grants`): MANAGED and EXTERNAL volumes, their
local directories (through `--storage-map`), list paging and visibility, rename/owner/comment,
delete, the overlap rules with tables and external locations, and every privilege rule with a
positive and a negative caller (CREATE_VOLUME, CREATE_EXTERNAL_VOLUME, READ_VOLUME, ownership,
ALL_PRIVILEGES, inheritance)."""

import re
from pathlib import Path

import pytest
from databricks.sdk.errors import BadRequest, NotFound, PermissionDenied, ResourceConflict
from databricks.sdk.service.catalog import (
    AwsIamRoleRequest,
    ColumnInfo,
    ColumnTypeName,
    DataSourceFormat,
    PermissionsChange,
    Privilege,
    TableType,
    VolumeType,
)

from conftest import ADMIN, ALICE, BOB, UC, raises

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
COLS = [ColumnInfo(name="id", type_name=ColumnTypeName.LONG, type_text="bigint",
                   type_json='{"name":"id","type":"long","nullable":true,"metadata":{}}', position=0)]


def grant(uc, sec_type, name, principal, *privs):
    uc.admin.grants.update(sec_type, name, changes=[PermissionsChange(principal=principal, add=[Privilege[p] for p in privs])])


def names(items):
    return [v.name for v in items]


@pytest.fixture
def mapped(start_server_with_args, tmp_path):
    """A server whose s3://uc-test and s3://ext buckets live in local directories."""
    data, ext = tmp_path / "data", tmp_path / "ext"
    data.mkdir()
    ext.mkdir()
    uc = start_server_with_args(["--storage-map", f"s3://uc-test={data}", "--storage-map", f"s3://ext={ext}"])
    uc.data, uc.ext = data, ext
    uc.admin.storage_credentials.create("cred", aws_iam_role=AwsIamRoleRequest(role_arn="arn:aws:iam::1:role/x"))
    uc.admin.external_locations.create("landing", "s3://ext/landing", "cred")
    return uc


def local(uc, url):
    """The local directory a mapped s3:// URL lives in."""
    for prefix, root in (("s3://uc-test", uc.data), ("s3://ext", uc.ext)):
        if url.startswith(prefix + "/"):
            return Path(root, url[len(prefix) + 1:])
    raise AssertionError(url)


def test_managed_volume_round_trip_and_directory(mapped, ms_id=None):
    uc = mapped
    ms_id = uc.admin.metastores.current().metastore_id
    v = uc.admin.volumes.create("shared", "sales", "Raw_Files", VolumeType.MANAGED, comment="landing zone")
    assert v.name == "raw_files" and v.full_name == "shared.sales.raw_files"
    assert v.volume_type == VolumeType.MANAGED and re.fullmatch(UUID, v.volume_id) and v.metastore_id == ms_id
    assert v.owner == ADMIN and v.created_by == ADMIN and v.updated_by == ADMIN and v.created_at == v.updated_at
    assert v.comment == "landing zone"
    # Managed storage: under the metastore root (no catalog or schema root), by volume id.
    assert v.storage_location == f"s3://uc-test/main/{ms_id}/volumes/{v.volume_id}"
    assert local(uc, v.storage_location).is_dir()
    assert uc.admin.volumes.read("SHARED.sales.RAW_FILES").as_dict() == v.as_dict()
    # Rename keeps the id, location, files and grants; the old name is gone.
    (local(uc, v.storage_location) / "kept.txt").write_text("kept")
    grant(uc, "volume", "shared.sales.raw_files", BOB, "READ_VOLUME")
    r = uc.admin.volumes.update("shared.sales.raw_files", new_name="Cooked", comment="", owner="analysts")
    assert (r.name, r.volume_id, r.storage_location, r.owner) == ("cooked", v.volume_id, v.storage_location, "analysts")
    assert r.comment in ("", None) and r.updated_at >= v.updated_at
    assert (local(uc, v.storage_location) / "kept.txt").read_text() == "kept"
    assert uc.admin.grants.get("volume", "shared.sales.cooked").privilege_assignments[0].principal == BOB
    with raises(NotFound, "VOLUME_DOES_NOT_EXIST", status=404, server=uc):
        uc.admin.volumes.read("shared.sales.raw_files")
    # Delete removes a managed volume's directory and its grants.
    uc.admin.volumes.delete("shared.sales.cooked")
    assert not local(uc, v.storage_location).exists()
    with raises(NotFound, "VOLUME_DOES_NOT_EXIST", status=404, server=uc):
        uc.admin.grants.get("volume", "shared.sales.cooked")


def test_external_volume_keeps_its_files_and_needs_a_location(mapped):
    uc = mapped
    v = uc.admin.volumes.create("shared", "sales", "ext_v", VolumeType.EXTERNAL,
                                storage_location="s3://ext/landing/v1/")
    assert v.storage_location == "s3://ext/landing/v1"  # trailing / removed
    d = local(uc, v.storage_location)
    assert d.is_dir()
    (d / "data.csv").write_text("a,b\n")
    uc.admin.volumes.delete("shared.sales.ext_v")
    assert (d / "data.csv").read_text() == "a,b\n"  # external: files stay
    # The location is a dependent: a location with a volume under it is not deleted without force.
    uc.admin.volumes.create("shared", "sales", "ext_v", VolumeType.EXTERNAL, storage_location="s3://ext/landing/v1")
    with raises(BadRequest, "INVALID_STATE", status=400, server=uc, mentions="shared.sales.ext_v"):
        uc.admin.external_locations.delete("landing")


@pytest.mark.parametrize("body,field", [
    ({"volume_type": "TEMPORARY"}, "volume_type"),
    ({"volume_type": None}, "volume_type"),
    ({"volume_type": "EXTERNAL"}, "storage_location"),
    ({"volume_type": "MANAGED", "storage_location": "s3://ext/landing/m"}, "storage_location"),
    ({"volume_type": "EXTERNAL", "storage_location": "s3://ext/elsewhere/x"}, "storage_location"),
    ({"volume_type": "EXTERNAL", "storage_location": "http://ext/landing/x"}, "storage_location"),
    ({"volume_type": "MANAGED", "name": "a.b"}, "name"),
    ({"volume_type": "MANAGED", "schema_name": "information_schema"}, "schema_name"),
])
def test_bad_input_is_400_and_creates_nothing(mapped, body, field):
    uc = mapped
    full = {"catalog_name": "shared", "schema_name": "sales", "name": "bad", **body}
    full = {k: v for k, v in full.items() if v is not None}
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc, mentions=field):
        uc.admin.api_client.do("POST", f"{UC}/volumes", body=full)
    assert names(uc.admin.volumes.list("shared", "sales")) == []
    assert not any(uc.ext.rglob("*x")), "nothing written"


def test_overlap_rules_both_ways(mapped):
    uc = mapped
    uc.admin.tables.create("t", "shared", "sales", TableType.EXTERNAL, DataSourceFormat.DELTA,
                           storage_location="s3://ext/landing/tables/t", columns=COLS)
    for url in ("s3://ext/landing/tables/t", "s3://ext/landing/tables/t/in", "s3://ext/landing/tables"):
        with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc, mentions="shared.sales.t"):
            uc.admin.volumes.create("shared", "sales", "v", VolumeType.EXTERNAL, storage_location=url)
    v = uc.admin.volumes.create("shared", "sales", "v", VolumeType.EXTERNAL, storage_location="s3://ext/landing/vol")
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc, mentions="shared.sales.v"):
        uc.admin.volumes.create("shared", "sales", "w", VolumeType.EXTERNAL, storage_location="s3://ext/landing/vol/sub")
    # Tables may not land on a volume, nor may external locations lie inside one.
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc, mentions="shared.sales.v"):
        uc.admin.tables.create("t2", "shared", "sales", TableType.EXTERNAL, DataSourceFormat.DELTA,
                               storage_location="s3://ext/landing/vol/t2", columns=COLS)
    uc.admin.catalogs.create("c2", storage_root="s3://ext/croot")
    uc.admin.schemas.create("s", "c2")
    mv = uc.admin.volumes.create("c2", "s", "mv", VolumeType.MANAGED)
    assert mv.storage_location.startswith("s3://ext/croot/")  # under the catalog's root
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc, mentions="c2.s.mv"):
        uc.admin.external_locations.create("inner", mv.storage_location + "/inner", "cred")
    # External volumes may not overlap managed storage (the metastore root here).
    uc.admin.external_locations.create("managed_area", "s3://uc-test/other", "cred")
    ms_root = uc.admin.metastores.summary().storage_root
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc, mentions="storage_location"):
        uc.admin.volumes.create("shared", "sales", "m", VolumeType.EXTERNAL, storage_location=ms_root + "/vols/x")
    assert v.name == "v"


def test_names_conflicts_and_namespaces(mapped):
    uc = mapped
    uc.admin.volumes.create("shared", "sales", "FooVol", VolumeType.MANAGED)
    with raises(ResourceConflict, "VOLUME_ALREADY_EXISTS", status=409, server=uc):
        uc.admin.volumes.create("shared", "sales", "foovol", VolumeType.MANAGED)
    # A volume may share its name with a table (separate namespaces).
    assert uc.admin.volumes.create("shared", "sales", "orders", VolumeType.MANAGED).name == "orders"
    with raises(ResourceConflict, "VOLUME_ALREADY_EXISTS", status=409, server=uc):
        uc.admin.volumes.update("shared.sales.orders", new_name="FOOVOL")
    with raises(NotFound, "SCHEMA_DOES_NOT_EXIST", status=404, server=uc):
        uc.admin.volumes.create("shared", "nope", "v", VolumeType.MANAGED)
    with raises(NotFound, "PRINCIPAL_DOES_NOT_EXIST", status=404, server=uc):
        uc.admin.volumes.update("shared.sales.orders", owner="ghost@example.com")


def test_list_paging_and_visibility(mapped):
    uc = mapped
    for n in ["c", "a", "e", "b", "d"]:
        uc.admin.volumes.create("shared", "sales", n, VolumeType.MANAGED)
    assert names(uc.admin.volumes.list("shared", "sales")) == ["a", "b", "c", "d", "e"]
    page = uc.admin.api_client.do("GET", f"{UC}/volumes",
                                  query={"catalog_name": "shared", "schema_name": "sales", "max_results": 3})
    assert [v["name"] for v in page["volumes"]] == ["a", "b", "c"] and page["next_page_token"]
    rest = uc.admin.api_client.do("GET", f"{UC}/volumes", query={
        "catalog_name": "shared", "schema_name": "sales", "max_results": 3, "page_token": page["next_page_token"]})
    assert [v["name"] for v in rest["volumes"]] == ["d", "e"] and "next_page_token" not in rest
    # alice uses the schema; she sees only what she may read.
    assert names(uc.alice.volumes.list("shared", "sales")) == []
    grant(uc, "volume", "shared.sales.b", "analysts", "READ_VOLUME")
    assert names(uc.alice.volumes.list("shared", "sales")) == ["b"]
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc, mentions="READ_VOLUME"):
        uc.alice.volumes.read("shared.sales.a")
    assert uc.alice.volumes.read("shared.sales.b").name == "b"
    grant(uc, "schema", "shared.sales", "analysts", "READ_VOLUME")  # inherited by every volume
    assert names(uc.alice.volumes.list("shared", "sales")) == ["a", "b", "c", "d", "e"]
    # bob cannot use the catalog: 403 (also for a volume that does not exist), unless browsing.
    with raises(PermissionDenied, status=403, server=uc):
        list(uc.bob.volumes.list("shared", "sales"))
    with raises(PermissionDenied, status=403, server=uc):
        uc.bob.volumes.read("shared.sales.nope")
    grant(uc, "catalog", "shared", BOB, "BROWSE")
    seen = uc.bob.volumes.read("shared.sales.a", include_browse=True)
    assert seen.browse_only is True and seen.storage_location is None
    assert len(list(uc.bob.volumes.list("shared", "sales", include_browse=True))) == 5
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc, mentions="schema_name"):
        uc.admin.api_client.do("GET", f"{UC}/volumes", query={"catalog_name": "shared"})


def test_create_volume_privileges(mapped):
    uc = mapped
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc, mentions="CREATE_VOLUME"):
        uc.alice.volumes.create("shared", "sales", "v", VolumeType.MANAGED)
    grant(uc, "schema", "shared.sales", "analysts", "CREATE_VOLUME")
    assert uc.alice.volumes.create("shared", "sales", "v", VolumeType.MANAGED).owner == ALICE
    # Legacy CREATE on a schema is not CREATE_VOLUME.
    grant(uc, "catalog", "shared", BOB, "USE_CATALOG")
    grant(uc, "schema", "shared.sales", BOB, "USE_SCHEMA", "CREATE")
    with raises(PermissionDenied, status=403, server=uc, mentions="CREATE_VOLUME"):
        uc.bob.volumes.create("shared", "sales", "b", VolumeType.MANAGED)
    # EXTERNAL also needs CREATE_EXTERNAL_VOLUME on the covering location.
    with raises(PermissionDenied, status=403, server=uc, mentions="CREATE_EXTERNAL_VOLUME"):
        uc.alice.volumes.create("shared", "sales", "e", VolumeType.EXTERNAL, storage_location="s3://ext/landing/e")
    grant(uc, "external_location", "landing", "analysts", "CREATE_EXTERNAL_VOLUME")
    e = uc.alice.volumes.create("shared", "sales", "e", VolumeType.EXTERNAL, storage_location="s3://ext/landing/e")
    assert e.owner == ALICE
    # ALL_PRIVILEGES on the catalog conveys CREATE_VOLUME.
    grant(uc, "catalog", "shared", BOB, "ALL_PRIVILEGES")
    assert uc.bob.volumes.create("shared", "sales", "b", VolumeType.MANAGED).owner == BOB


def test_update_and_delete_need_ownership(mapped):
    uc = mapped
    grant(uc, "schema", "shared.sales", "analysts", "CREATE_VOLUME", "READ_VOLUME")
    uc.alice.volumes.create("shared", "sales", "mine", VolumeType.MANAGED)
    uc.admin.volumes.create("shared", "sales", "theirs", VolumeType.MANAGED)
    with raises(PermissionDenied, status=403, server=uc):
        uc.alice.volumes.update("shared.sales.theirs", comment="x")
    with raises(PermissionDenied, status=403, server=uc):
        uc.alice.volumes.delete("shared.sales.theirs")
    assert uc.alice.volumes.update("shared.sales.mine", comment="mine").comment == "mine"
    uc.alice.volumes.delete("shared.sales.mine")
    # The metastore admin may update and delete any volume.
    uc.admin.volumes.update("shared.sales.theirs", owner=BOB)
    uc.admin.volumes.delete("shared.sales.theirs")
    assert names(uc.admin.volumes.list("shared", "sales")) == []


def test_permissions_effective_and_explain(mapped):
    uc = mapped
    uc.admin.volumes.create("shared", "sales", "v", VolumeType.MANAGED)
    grant(uc, "volume", "shared.sales.v", BOB, "READ_VOLUME", "WRITE_VOLUME")
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc, mentions="EXECUTE"):
        grant(uc, "volume", "shared.sales.v", BOB, "EXECUTE")
    grant(uc, "catalog", "shared", BOB, "READ_VOLUME", "USE_CATALOG")
    eff = uc.admin.grants.get_effective("volume", "shared.sales.v", principal=BOB)
    privs = sorted((p.privilege.value, p.inherited_from_type.value if p.inherited_from_type else "",
                    p.inherited_from_name or "") for a in eff.privilege_assignments for p in a.privileges)
    assert privs == [("READ_VOLUME", "", ""), ("READ_VOLUME", "CATALOG", "shared"), ("WRITE_VOLUME", "", "")]
    with raises(PermissionDenied, "UNAUTHORIZED", status=403, server=uc):
        uc.alice.grants.update("volume", "shared.sales.v",
                               changes=[PermissionsChange(principal=ALICE, add=[Privilege.READ_VOLUME])])
    out = uc.alice.api_client.do("GET", f"{UC}/explain", query={
        "action": "readVolume", "securable_type": "volume", "full_name": "shared.sales.v"})
    assert out["allowed"] is False and out["securable_type"] == "VOLUME" and "READ_VOLUME" in out["explanation"]
    out = uc.admin.api_client.do("GET", f"{UC}/explain", query={
        "principal": BOB, "action": "writeVolumeFiles", "securable_type": "VOLUME", "full_name": "shared.sales.v"})
    assert out["allowed"] is False and "USE_SCHEMA" in out["explanation"]
    grant(uc, "schema", "shared.sales", BOB, "USE_SCHEMA")
    out = uc.admin.api_client.do("GET", f"{UC}/explain", query={
        "principal": BOB, "action": "writeVolumeFiles", "securable_type": "VOLUME", "full_name": "shared.sales.v"})
    assert out["allowed"] is True


def test_schema_not_empty_and_forced_cascade_removes_managed_files(mapped):
    uc = mapped
    uc.admin.schemas.create("vx", "main")
    v = uc.admin.volumes.create("main", "vx", "v", VolumeType.MANAGED)
    with raises(BadRequest, "SCHEMA_NOT_EMPTY", status=400, server=uc):
        uc.admin.schemas.delete("main.vx")
    assert local(uc, v.storage_location).is_dir()
    uc.admin.schemas.delete("main.vx", force=True)
    assert not local(uc, v.storage_location).exists()
    uc.admin.schemas.create("vx2", "main")
    v2 = uc.admin.volumes.create("main", "vx2", "v", VolumeType.MANAGED)
    uc.admin.catalogs.delete("main", force=True)
    assert not local(uc, v2.storage_location).exists()
