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


# --- the Files API on volumes (`w.files`) -------------------------------------------------------

import hashlib
import http.client
import io
import os
import threading
import time
import urllib.parse

from databricks.sdk.errors import AlreadyExists

FS = "/api/2.0/fs"


@pytest.fixture
def vol(mapped):
    """`mapped` with a managed volume shared.sales.v and its local directory."""
    uc = mapped
    v = uc.admin.volumes.create("shared", "sales", "v", VolumeType.MANAGED)
    uc.vdir = local(uc, v.storage_location)
    return uc


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class RssSampler:
    """The server's peak resident memory while a transfer runs (sampled every 20 ms)."""

    def __init__(self, pid):
        self.pid, self.peak, self.start = pid, 0, rss_kib(pid)
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.02)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()

    @property
    def growth_mib(self):
        return (self.peak - self.start) / 1024


class Pattern(io.RawIOBase):
    """`size` deterministic bytes, produced as they are read (never held whole)."""

    def __init__(self, size, seed=7):
        self.size, self.pos = size, 0
        self.block = hashlib.sha256(str(seed).encode()).digest() * 4096  # 128 KiB

    def readable(self):
        return True

    def seekable(self):
        return True

    def seek(self, offset, whence=0):
        self.pos = offset if whence == 0 else (self.pos + offset if whence == 1 else self.size + offset)
        return self.pos

    def tell(self):
        return self.pos

    def readinto(self, b):
        n = min(len(b), self.size - self.pos)
        if n <= 0:
            return 0
        off = self.pos % len(self.block)
        chunk = (self.block[off:] + self.block)[:n] if n <= len(self.block) else None
        if chunk is None:
            reps = (off + n) // len(self.block) + 1
            chunk = (self.block * reps)[off:off + n]
        b[:n] = chunk
        self.pos += n
        return n

    def digest(self):
        h, self.pos = hashlib.sha256(), 0
        while True:
            data = self.read(1 << 20)
            if not data:
                break
            h.update(data)
        self.pos = 0
        return h.hexdigest()


def test_files_round_trip_through_the_sdk(vol):
    uc = vol
    p = "/Volumes/shared/sales/v/reports/2024/q1.csv"
    uc.admin.files.upload(p, io.BytesIO(b"month,amount\njan,10\n"))
    assert (uc.vdir / "reports/2024/q1.csv").read_bytes() == b"month,amount\njan,10\n"  # parents made
    got = uc.admin.files.download(p)
    assert got.contents.read() == b"month,amount\njan,10\n"
    assert got.content_length == 20 and got.content_type == "application/octet-stream" and got.last_modified
    meta = uc.admin.files.get_metadata("/Volumes/SHARED/Sales/V/reports/2024/q1.csv")  # names lower-cased
    assert meta.content_length == 20 and meta.last_modified == got.last_modified
    # Files put there locally are served too; listings are direct children, ordered by name.
    (uc.vdir / "reports/2024/b.txt").write_bytes(b"")
    uc.admin.files.create_directory("/Volumes/shared/sales/v/reports/2024/sub")
    uc.admin.files.create_directory("/Volumes/shared/sales/v/reports/2024/sub")  # idempotent
    uc.admin.files.get_directory_metadata("/Volumes/shared/sales/v/reports/2024/sub")
    entries = list(uc.admin.files.list_directory_contents("/Volumes/shared/sales/v/reports/2024"))
    assert [(e.name, e.is_directory, e.file_size) for e in entries] == [
        ("b.txt", False, 0), ("q1.csv", False, 20), ("sub", True, None)]
    assert entries[1].path == "/Volumes/shared/sales/v/reports/2024/q1.csv" and entries[1].last_modified > 0
    assert uc.admin.files.download("/Volumes/shared/sales/v/reports/2024/b.txt").contents.read() == b""
    # overwrite=false onto a file: 409, file unchanged; default overwrite replaces it.
    with raises(AlreadyExists, "ALREADY_EXISTS", status=409, server=uc):
        uc.admin.files.upload(p, io.BytesIO(b"other"), overwrite=False)
    assert (uc.vdir / "reports/2024/q1.csv").read_bytes() == b"month,amount\njan,10\n"
    uc.admin.files.upload(p, io.BytesIO(b"replaced"))
    assert uc.admin.files.download(p).contents.read() == b"replaced"
    # Kind conflicts: a directory where a file goes, a file where a directory goes.
    with raises(AlreadyExists, "ALREADY_EXISTS", status=409, server=uc):
        uc.admin.files.upload("/Volumes/shared/sales/v/reports/2024/sub", io.BytesIO(b"x"))
    with raises(AlreadyExists, "ALREADY_EXISTS", status=409, server=uc):
        uc.admin.files.create_directory(p)
    with raises(AlreadyExists, "ALREADY_EXISTS", status=409, server=uc):
        uc.admin.files.upload(p + "/under_a_file", io.BytesIO(b"x"))
    # Deleting: a non-empty directory is refused with the reason the CLI keys on.
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc):
        uc.admin.files.delete_directory("/Volumes/shared/sales/v/reports/2024")
    r = uc.raw("DELETE", f"{FS}/directories/Volumes/shared/sales/v/reports/2024")
    assert r.json()["details"][0]["reason"] == "FILES_API_DIRECTORY_IS_NOT_EMPTY"
    uc.admin.files.delete(p)
    uc.admin.files.delete("/Volumes/shared/sales/v/reports/2024/b.txt")
    uc.admin.files.delete_directory("/Volumes/shared/sales/v/reports/2024/sub")
    uc.admin.files.delete_directory("/Volumes/shared/sales/v/reports/2024")
    assert [e.name for e in uc.admin.files.list_directory_contents("/Volumes/shared/sales/v/reports")] == []
    for call in (lambda: uc.admin.files.download(p).contents.read(), lambda: uc.admin.files.get_metadata(p),
                 lambda: uc.admin.files.delete(p),
                 lambda: list(uc.admin.files.list_directory_contents("/Volumes/shared/sales/v/nope"))):
        with raises(NotFound, status=404, server=uc):
            call()
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc):
        uc.admin.files.delete_directory("/Volumes/shared/sales/v")  # the volume root
    # The files follow a renamed volume.
    uc.admin.files.upload("/Volumes/shared/sales/v/keep.bin", io.BytesIO(b"\x00\x01"))
    uc.admin.volumes.update("shared.sales.v", new_name="w")
    assert uc.admin.files.download("/Volumes/shared/sales/w/keep.bin").contents.read() == b"\x00\x01"


def test_directory_listing_pages(vol):
    uc = vol
    for n in ["e", "a", "d", "c", "b"]:
        (uc.vdir / n).write_bytes(n.encode())
    names_ = [e.name for e in uc.admin.files.list_directory_contents("/Volumes/shared/sales/v", page_size=2)]
    assert names_ == ["a", "b", "c", "d", "e"]
    first = uc.raw("GET", f"{FS}/directories/Volumes/shared/sales/v", params={"page_size": 2}).json()
    assert [e["name"] for e in first["contents"]] == ["a", "b"] and first["next_page_token"]
    (uc.vdir / "bb").write_bytes(b"new")  # added between pages, after the last name returned: listed
    second = uc.raw("GET", f"{FS}/directories/Volumes/shared/sales/v",
                    params={"page_size": 10, "page_token": first["next_page_token"]}).json()
    assert [e["name"] for e in second["contents"]] == ["bb", "c", "d", "e"] and "next_page_token" not in second
    assert uc.raw("GET", f"{FS}/directories/Volumes/shared/sales/v", params={"page_token": "forged"}).status_code == 400
    assert uc.raw("GET", f"{FS}/directories/Volumes/shared/sales/v", params={"page_size": -1}).status_code == 400
    other = uc.raw("GET", f"{FS}/directories/Volumes/shared/sales/v/sub", params={"page_token": first["next_page_token"]})
    assert other.status_code in (400, 404)


def test_range_and_conditional_downloads(vol):
    uc = vol
    (uc.vdir / "r.bin").write_bytes(bytes(range(100)))
    url = f"{FS}/files/Volumes/shared/sales/v/r.bin"
    r = uc.raw("GET", url, headers={"Range": "bytes=10-19"})
    assert r.status_code == 206 and r.content == bytes(range(10, 20))
    assert r.headers["Content-Range"] == "bytes 10-19/100" and r.headers["Content-Length"] == "10"
    assert uc.raw("GET", url, headers={"Range": "bytes=95-"}).content == bytes(range(95, 100))
    assert uc.raw("GET", url, headers={"Range": "bytes=-3"}).content == bytes(range(97, 100))
    r = uc.raw("GET", url, headers={"Range": "bytes=100-"})
    assert r.status_code == 416 and r.headers["Content-Range"] == "bytes */100"
    assert r.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    for ignored in ("bytes=0-1,5-6", "items=0-1", "bytes=5-2"):
        r = uc.raw("GET", url, headers={"Range": ignored})
        assert r.status_code == 200 and len(r.content) == 100, ignored
    lm = uc.raw("HEAD", url).headers["Last-Modified"]
    assert uc.raw("GET", url, headers={"If-Unmodified-Since": lm}).status_code == 200
    r = uc.raw("GET", url, headers={"If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})
    assert r.status_code == 412 and r.json()["error_code"] == "FAILED_PRECONDITION" and not r.content.startswith(b"\x00")
    assert uc.raw("GET", url, headers={"If-Unmodified-Since": "yesterday"}).status_code == 200


def test_traversal_is_impossible_and_writes_nothing(vol, tmp_path):
    uc = vol
    outside_before = sorted(p.name for p in uc.data.rglob("*"))
    host = urllib.parse.urlsplit(uc.url)
    for path in ("/Volumes/shared/sales/v/%2E%2E/escape.txt", "/Volumes/shared/sales/v/a%2F..%2F..%2Fx",
                 "/Volumes/shared/sales/v/%2e%2e/%2e%2e/x", "/Volumes/shared/sales/v/a%5C..%5Cx",
                 "/Volumes/shared/sales/v/a%00b", "/Volumes/shared/sales/v/a//b", "/Volumes/shared/sales",
                 "/Workspace/Users/x"):
        r = uc.raw("PUT", f"{FS}/files{path}", data=b"evil")
        assert r.status_code == 400 and r.json()["error_code"] == "INVALID_PARAMETER_VALUE", (path, r.text)
    # Literal `..` (clients normalise it away, so speak HTTP directly).
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=10)
    conn.request("PUT", f"{FS}/files/Volumes/shared/sales/v/../../../escape.txt", body=b"evil",
                 headers={"Authorization": "Bearer dapi-admin"})
    resp = conn.getresponse()
    assert resp.status == 400, resp.status
    resp.read()
    conn.close()
    # Over 5 GiB declared: 413 before a byte of the body is read, nothing written.
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=10)
    conn.putrequest("PUT", f"{FS}/files/Volumes/shared/sales/v/huge.bin")
    conn.putheader("Authorization", "Bearer dapi-admin")
    conn.putheader("Content-Length", str(6 << 30))
    conn.endheaders()
    resp = conn.getresponse()
    assert resp.status == 413, resp.status
    conn.close()
    assert sorted(p.name for p in uc.data.rglob("*")) == outside_before
    assert not list(uc.vdir.iterdir())
    # A symbolic link inside the volume that leads out of it: 403, nothing read or written outside.
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "key").write_text("s")
    os.symlink(secret, uc.vdir / "link")
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
        uc.admin.files.download("/Volumes/shared/sales/v/link/key").contents.read()
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
        uc.admin.files.upload("/Volumes/shared/sales/v/link/new", io.BytesIO(b"x"))
    assert sorted(p.name for p in secret.iterdir()) == ["key"]
    assert [e.name for e in uc.admin.files.list_directory_contents("/Volumes/shared/sales/v")] == []


def test_files_rules_positive_and_negative(vol):
    uc = vol
    p = "/Volumes/shared/sales/v/f.txt"
    uc.admin.files.upload(p, io.BytesIO(b"data"))
    # alice uses shared.sales (analysts) but holds nothing on the volume.
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc, mentions="READ_VOLUME"):
        uc.alice.files.download(p).contents.read()
    with raises(PermissionDenied, status=403, server=uc):
        list(uc.alice.files.list_directory_contents("/Volumes/shared/sales/v"))
    grant(uc, "volume", "shared.sales.v", "analysts", "READ_VOLUME")
    assert uc.alice.files.download(p).contents.read() == b"data"
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc, mentions="WRITE_VOLUME"):
        uc.alice.files.upload("/Volumes/shared/sales/v/g.txt", io.BytesIO(b"x"))
    with raises(PermissionDenied, status=403, server=uc):
        uc.alice.files.delete(p)
    assert not (uc.vdir / "g.txt").exists()
    grant(uc, "schema", "shared.sales", "analysts", "WRITE_VOLUME")  # inherited from the schema
    uc.alice.files.upload("/Volumes/shared/sales/v/g.txt", io.BytesIO(b"x"))
    uc.alice.files.delete(p)
    # bob cannot use the catalog: 403 whether or not the file exists; BROWSE does not help.
    grant(uc, "catalog", "shared", BOB, "BROWSE")
    grant(uc, "volume", "shared.sales.v", BOB, "READ_VOLUME")
    for path in ("/Volumes/shared/sales/v/g.txt", "/Volumes/shared/sales/v/nope"):
        with raises(PermissionDenied, status=403, server=uc):
            uc.bob.files.get_metadata(path)
    # No metastore-admin bypass: the admin holds nothing on alice's catalog.
    uc.alice.volumes.create("alice_cat", "s", "av", VolumeType.MANAGED)
    uc.alice.files.upload("/Volumes/alice_cat/s/av/mine", io.BytesIO(b"m"))
    with raises(PermissionDenied, status=403, server=uc):
        uc.admin.files.download("/Volumes/alice_cat/s/av/mine").contents.read()
    # Unknown parents and volumes: 404 after the use checks.
    with raises(NotFound, "VOLUME_DOES_NOT_EXIST", status=404, server=uc):
        uc.admin.files.download("/Volumes/shared/sales/nope/x").contents.read()
    with raises(NotFound, "SCHEMA_DOES_NOT_EXIST", status=404, server=uc):
        list(uc.admin.files.list_directory_contents("/Volumes/shared/nope/v"))
    with raises(NotFound, status=404, server=uc):  # HEAD: no body, the status says it
        uc.admin.files.get_metadata("/Volumes/shared/sales/nope/x")


def test_volume_without_a_local_directory(mapped):
    uc = mapped
    uc.admin.external_locations.create("far", "s3://unmapped/area", "cred")
    uc.admin.volumes.create("shared", "sales", "far", VolumeType.EXTERNAL, storage_location="s3://unmapped/area/v")
    with raises(BadRequest, "INVALID_STATE", status=400, server=uc, mentions="--storage-map"):
        uc.admin.files.upload("/Volumes/shared/sales/far/x", io.BytesIO(b"x"))


def test_streamed_upload_past_the_json_limit_and_the_multipart_fallback(vol):
    """8 MiB (over the 4 MiB JSON body limit) in one PUT, then 60 MiB, which the SDK first offers
    as a multipart upload (initiate-upload; no part URLs are served, so it aborts and sends one
    PUT). The server's memory stays bounded: it streams to disk."""
    uc = vol
    for size, name in ((8 << 20, "eight.bin"), (60 << 20, "sixty.bin")):
        src = Pattern(size)
        want = src.digest()
        with RssSampler(uc.proc.pid) as rss:
            uc.admin.files.upload(f"/Volumes/shared/sales/v/{name}", src)
        assert (uc.vdir / name).stat().st_size == size
        got = hashlib.sha256()
        with RssSampler(uc.proc.pid) as rss_down:
            stream = uc.admin.files.download(f"/Volumes/shared/sales/v/{name}").contents
            while chunk := stream.read(1 << 20):
                got.update(chunk)
        assert got.hexdigest() == want
        assert rss.growth_mib < 40 and rss_down.growth_mib < 40, (rss.growth_mib, rss_down.growth_mib)
    assert not [p for p in uc.vdir.iterdir() if p.name.startswith(".uc-upload-")]


@pytest.mark.skipif(os.environ.get("UC_EMULATOR_LARGE_FILES") != "1",
                    reason="large-file benchmark: set UC_EMULATOR_LARGE_FILES=1 (README, Benchmark)")
def test_large_file_upload_and_download_in_bounded_memory(vol, tmp_path):
    """A 256 MiB file through `w.files.upload_from` and `w.files.download_to` (parallel ranges),
    reporting the server's resident memory during each."""
    uc = vol
    size = int(os.environ.get("UC_EMULATOR_LARGE_FILE_MIB", "256")) << 20
    src = tmp_path / "big.bin"
    pattern = Pattern(size)
    with open(src, "wb") as f:
        while chunk := pattern.read(8 << 20):
            f.write(chunk)
    pattern.pos = 0
    want = pattern.digest()
    t0 = time.time()
    with RssSampler(uc.proc.pid) as up:
        uc.admin.files.upload_from("/Volumes/shared/sales/v/big.bin", str(src))
    t1 = time.time()
    dst = tmp_path / "back.bin"
    with RssSampler(uc.proc.pid) as down:
        uc.admin.files.download_to("/Volumes/shared/sales/v/big.bin", str(dst), use_parallel=True)
    t2 = time.time()
    h = hashlib.sha256()
    with open(dst, "rb") as f:
        while chunk := f.read(8 << 20):
            h.update(chunk)
    assert h.hexdigest() == want
    print(f"\n{size >> 20} MiB: upload {t1 - t0:.1f}s, server RSS {up.start // 1024} -> peak {up.peak // 1024} MiB "
          f"(+{up.growth_mib:.1f}); download (parallel ranges) {t2 - t1:.1f}s, server RSS peak "
          f"{down.peak // 1024} MiB (+{down.growth_mib:.1f})")
    assert up.growth_mib < 64 and down.growth_mib < 64


def test_managed_roots_may_not_overlap_external_volumes(mapped):
    uc = mapped
    uc.admin.volumes.create("shared", "sales", "e", VolumeType.EXTERNAL, storage_location="s3://ext/landing/e")
    for root in ("s3://ext/landing/e", "s3://ext/landing/e/inner", "s3://ext/landing"):
        with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, server=uc, mentions="storage_root"):
            uc.admin.catalogs.create("c_" + str(abs(hash(root)) % 1000), storage_root=root)
    # The metastore admin lists every volume of a schema, whoever owns them.
    grant(uc, "schema", "shared.sales", "analysts", "CREATE_VOLUME")
    uc.alice.volumes.create("shared", "sales", "alices", VolumeType.MANAGED)
    assert names(uc.admin.volumes.list("shared", "sales")) == ["alices", "e"]


def test_fixture_volumes_and_functions_are_created_if_missing(start_server_with_args, tmp_path):
    import json as _json
    data = tmp_path / "fxdata"
    data.mkdir()
    fx = tmp_path / "vf.json"
    fx.write_text(_json.dumps({
        "volumes": [{"metastore": "main", "catalog_name": "shared", "schema_name": "sales", "name": "fx_vol",
                     "volume_type": "MANAGED", "owner": ALICE}],
        "functions": [{"metastore": "main", "catalog_name": "shared", "schema_name": "sales", "name": "fx_fn",
                       "input_params": {"parameters": []}, "data_type": "INT", "full_data_type": "int",
                       "routine_body": "SQL", "routine_definition": "1", "parameter_style": "S",
                       "is_deterministic": True, "is_null_call": False, "sql_data_access": "CONTAINS_SQL",
                       "security_type": "DEFINER", "specific_name": "fx_fn"}],
        "grants": [{"metastore": "main", "securable_type": "function", "full_name": "shared.sales.fx_fn",
                    "principal": BOB, "privileges": ["EXECUTE"]}],
    }))
    from conftest import TEST_FIXTURE
    base = tmp_path / "base.json"
    base.write_text(_json.dumps(TEST_FIXTURE))
    uc = start_server_with_args(["--storage-map", f"s3://uc-test={data}"], fixtures=[str(base), str(fx)])
    v = uc.admin.volumes.read("shared.sales.fx_vol")
    assert v.owner == ALICE and local_dir_exists(data, v.storage_location)
    f = uc.admin.functions.get("shared.sales.fx_fn")
    assert [(a.principal, [p.value for p in a.privileges]) for a in uc.admin.grants.get("function", f.full_name).privilege_assignments] == [(BOB, ["EXECUTE"])]
    # A bad entry stops start-up with a message naming it.
    fx.write_text(_json.dumps({"volumes": [{"metastore": "main", "catalog_name": "shared", "schema_name": "sales",
                                            "name": "bad", "volume_type": "TEMPORARY"}]}))
    with pytest.raises(RuntimeError):
        start_server_with_args(["--storage-map", f"s3://uc-test={data}"], fixtures=[str(base), str(fx)])


def local_dir_exists(data, url):
    return Path(data, url[len("s3://uc-test/"):]).is_dir()
