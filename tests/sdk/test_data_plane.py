"""The data plane through real engines: polars' Catalog writes and scans managed and external
tables (mapped s3:// through the emulator's S3 endpoint, and file:// in place), deltalake
reads and writes with vended credentials, and pyarrow's S3 filesystem is refused whatever a
credential does not cover."""

import os
import signal
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs
import pytest
import requests
from databricks.sdk.service.catalog import AwsIamRoleRequest, DataSourceFormat, TableOperation, TableType

S3_PREFIX = "uc-emulator s3 endpoint on "


@pytest.fixture(autouse=True)
def _allow_http(monkeypatch):
    # object_store (polars, deltalake) refuses plain http unless allowed.
    monkeypatch.setenv("AWS_ALLOW_HTTP", "true")
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(k, raising=False)


class Plane:
    def __init__(self, server, lake, files):
        self.server, self.lake, self.files = server, lake, files
        line = server.proc.stdout.readline().decode()
        assert line.startswith(S3_PREFIX), line
        self.s3_url = line[len(S3_PREFIX):].strip()
        w = server.admin
        ms = w.metastores.summary()
        w.metastores.update(id=ms.metastore_id, external_access_enabled=True)
        w.schemas.create(name="s", catalog_name="main")
        self.grant("catalog", "main", "admin@example.com", "EXTERNAL_USE_SCHEMA")
        w.storage_credentials.create(name="cred", aws_iam_role=AwsIamRoleRequest(role_arn="arn:aws:iam::1:role/r"))
        w.external_locations.create(name="ext", url="s3://uc-test/ext", credential_name="cred")
        w.external_locations.create(name="local", url=f"file://{files}", credential_name="cred")

    def grant(self, kind, name, principal, *privileges):
        r = self.server.raw(
            "PATCH",
            f"/api/2.1/unity-catalog/permissions/{kind}/{name}",
            json={"changes": [{"principal": principal, "add": list(privileges)}]},
        )
        assert r.status_code == 200, r.text

    def catalog(self, token="dapi-admin"):
        import polars as pl

        return pl.Catalog(self.server.url, bearer_token=token, require_https=False)

    def creds(self, table, operation):
        t = self.server.admin.tables.get(table)
        return self.server.admin.temporary_table_credentials.generate_temporary_table_credentials(
            operation=operation, table_id=t.table_id
        )

    def s3fs(self, c):
        a = c.aws_temp_credentials
        return pafs.S3FileSystem(
            access_key=a.access_key_id,
            secret_key=a.secret_access_key,
            session_token=a.session_token,
            endpoint_override=a.access_point,
            region="us-east-1",
            retry_strategy=pafs.AwsStandardS3RetryStrategy(max_attempts=1),
        )


def _plane_args(lake, files, lifetime=None):
    args = ["--s3-bind", "127.0.0.1:0", "--storage-map", f"s3://uc-test={lake}", "--file-root", str(files)]
    if lifetime:
        args += ["--credential-lifetime", str(lifetime)]
    return args


def _plane(start_server_with_args, tmp_path, lifetime=None):
    lake, files = tmp_path / "lake", tmp_path / "files"
    lake.mkdir()
    files.mkdir()
    files = files.resolve()
    return Plane(start_server_with_args(_plane_args(lake, files, lifetime)), lake, files)


def _boto(endpoint, key, secret, token, **config):
    """A boto3 S3 client (path-style, no retries) on the emulator's endpoint."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id=key, aws_secret_access_key=secret,
        aws_session_token=token, region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1, "mode": "standard"}, **config))


def _boto_of(c, **config):
    a = c.aws_temp_credentials
    return _boto(a.access_point, a.access_key_id, a.secret_access_key, a.session_token, **config)


def _s3_error(excinfo):
    e = excinfo.value.response
    return e["ResponseMetadata"]["HTTPStatusCode"], e["Error"]["Code"]


@pytest.fixture
def plane(start_server_with_args, tmp_path):
    return _plane(start_server_with_args, tmp_path)


def _frame():
    import polars as pl

    return pl.DataFrame({"id": [1, 2, 3], "name": ["a", "b", "c"]})


def _external(plane, name, url):
    plane.server.admin.tables.create(
        name=name,
        catalog_name="main",
        schema_name="s",
        table_type=TableType.EXTERNAL,
        data_source_format=DataSourceFormat.DELTA,
        storage_location=url,
        columns=[],
    )


def test_polars_writes_and_scans_a_managed_table_through_s3(plane):
    import polars as pl

    cat = plane.catalog()
    info = cat.create_table("main", "s", "m", schema=_frame().schema, table_type="MANAGED", data_source_format="DELTA")
    local = plane.lake / info.storage_location.removeprefix("s3://uc-test/")
    assert local.is_dir(), "the managed table's directory exists before anything is written"
    cat.write_table(_frame(), "main", "s", "m", delta_mode="append")
    cat.write_table(_frame(), "main", "s", "m", delta_mode="append")
    got = cat.scan_table("main", "s", "m").collect().sort("id")
    assert got.height == 6
    assert got["name"].to_list() == ["a", "a", "b", "b", "c", "c"]
    logs = sorted(p.name for p in (local / "_delta_log").iterdir())
    assert logs[:2] == ["00000000000000000000.json", "00000000000000000001.json"], logs
    plane.server.admin.tables.delete("main.s.m")
    assert not local.exists(), "deleting the managed table removes its files"


def test_polars_external_tables_s3_and_file(plane):
    _external(plane, "e", "s3://uc-test/ext/e")
    _external(plane, "f", f"file://{plane.files}/f")
    cat = plane.catalog()
    for name in ("e", "f"):
        cat.write_table(_frame(), "main", "s", name, delta_mode="append")
        got = cat.scan_table("main", "s", name).collect().sort("id")
        assert got.equals(_frame()), name
    assert (plane.lake / "ext/e/_delta_log/00000000000000000000.json").is_file()
    assert (plane.files / "f/_delta_log/00000000000000000000.json").is_file()
    c = plane.creds("main.s.f", TableOperation.READ)
    assert c.aws_temp_credentials is None and c.url == f"file://{plane.files}/f"
    plane.server.admin.tables.delete("main.s.e")
    assert (plane.lake / "ext/e/_delta_log").is_dir(), "external data is never touched"


def test_polars_reader_without_privileges_is_refused(plane):
    _external(plane, "e", "s3://uc-test/ext/e")
    plane.catalog().write_table(_frame(), "main", "s", "e", delta_mode="append")
    r = plane.server.raw(
        "POST",
        "/api/2.1/unity-catalog/temporary-table-credentials",
        token="alice",
        params={"table_id": plane.server.admin.tables.get("main.s.e").table_id, "operation": "READ"},
    )
    assert r.status_code == 403 and r.json()["error_code"] == "PERMISSION_DENIED", r.text


def test_deltalake_reads_and_writes_with_vended_credentials(plane):
    from deltalake import DeltaTable, write_deltalake

    _external(plane, "d", "s3://uc-test/ext/d")
    c = plane.creds("main.s.d", TableOperation.READ_WRITE)
    a = c.aws_temp_credentials
    opts = {
        "aws_access_key_id": a.access_key_id,
        "aws_secret_access_key": a.secret_access_key,
        "aws_session_token": a.session_token,
        "aws_endpoint_url": a.access_point,
        "aws_region": "us-east-1",
        "aws_allow_http": "true",
    }
    data = pa.table({"x": [1, 2, 3]})
    write_deltalake(c.url, data, storage_options=opts)
    write_deltalake(c.url, data, storage_options=opts, mode="append")
    dt = DeltaTable(c.url, storage_options=opts)
    assert dt.version() == 1
    assert sorted(dt.to_pyarrow_table()["x"].to_pylist()) == [1, 1, 2, 2, 3, 3]

    # A read credential reads, and its writes are refused.
    r = plane.creds("main.s.d", TableOperation.READ).aws_temp_credentials
    ro = dict(opts, aws_access_key_id=r.access_key_id, aws_secret_access_key=r.secret_access_key,
              aws_session_token=r.session_token)
    assert DeltaTable(c.url, storage_options=ro).version() == 1
    with pytest.raises(Exception):
        write_deltalake(c.url, data, storage_options=ro, mode="append")
    assert DeltaTable(c.url, storage_options=opts).version() == 1, "the refused write changed nothing"


def test_pyarrow_is_refused_outside_each_credential(plane):
    for name in ("t1", "t10"):
        _external(plane, name, f"s3://uc-test/ext/{name}")
    (plane.lake / "ext/t10").mkdir(parents=True)
    (plane.lake / "ext/t10/secret.txt").write_bytes(b"t10 only")
    rw = plane.s3fs(plane.creds("main.s.t1", TableOperation.READ_WRITE))
    ro = plane.s3fs(plane.creds("main.s.t1", TableOperation.READ))

    with rw.open_output_stream("uc-test/ext/t1/a.txt") as f:
        f.write(b"hello")
    with ro.open_input_stream("uc-test/ext/t1/a.txt") as f:
        assert f.read() == b"hello"
    listed = [i.path for i in ro.get_file_info(pafs.FileSelector("uc-test/ext/t1", recursive=True))]
    assert listed == ["uc-test/ext/t1/a.txt"], listed

    # Read credential writing; a neighbour table; a prefix look-alike; listing above the scope.
    with pytest.raises(OSError):
        with ro.open_output_stream("uc-test/ext/t1/b.txt") as f:
            f.write(b"no")
    assert not (plane.lake / "ext/t1/b.txt").exists()
    with pytest.raises(OSError):
        rw.open_input_stream("uc-test/ext/t10/secret.txt").read()
    with pytest.raises(OSError):
        with rw.open_output_stream("uc-test/ext/t10/x.txt") as f:
            f.write(b"no")
    with pytest.raises(OSError):
        ro.get_file_info(pafs.FileSelector("uc-test/ext", recursive=True))
    with pytest.raises(OSError):
        rw.delete_file("uc-test/ext/t10/secret.txt")
    assert (plane.lake / "ext/t10/secret.txt").read_bytes() == b"t10 only"

    # Forged keys, and a real key with another credential's secret.
    c = plane.creds("main.s.t1", TableOperation.READ).aws_temp_credentials
    for key, secret in (("ASIAAAAAAAAAAAAAAAAA", c.secret_access_key), (c.access_key_id, "x" * 40)):
        forged = pafs.S3FileSystem(access_key=key, secret_key=secret, session_token=c.session_token,
                                   endpoint_override=c.access_point, region="us-east-1",
                                   retry_strategy=pafs.AwsStandardS3RetryStrategy(max_attempts=1))
        with pytest.raises(OSError):
            forged.open_input_stream("uc-test/ext/t1/a.txt").read()
    r = requests.get(f"{c.access_point}/uc-test/ext/t1/a.txt", timeout=5)
    assert r.status_code == 403 and "<Code>AccessDenied</Code>" in r.text, r.text


def test_pyarrow_expired_credentials_are_refused(start_server_with_args, tmp_path):
    plane = _plane(start_server_with_args, tmp_path, lifetime=1)
    _external(plane, "t1", "s3://uc-test/ext/t1")
    (plane.lake / "ext/t1").mkdir(parents=True)
    (plane.lake / "ext/t1/a.txt").write_bytes(b"x")
    c = plane.creds("main.s.t1", TableOperation.READ)
    assert c.expiration_time - int(time.time() * 1000) <= 1000
    fs = plane.s3fs(c)
    time.sleep(1.2)
    with pytest.raises(OSError):
        fs.open_input_stream("uc-test/ext/t1/a.txt").read()


def test_path_credentials_through_the_sdk(plane):
    from databricks.sdk.service.catalog import PathOperation

    w = plane.server.admin
    plane.grant("external_location", "ext", "admin@example.com", "EXTERNAL_USE_LOCATION")
    dry = w.temporary_path_credentials.generate_temporary_path_credentials(
        url="s3://uc-test/ext/raw", operation=PathOperation.PATH_READ_WRITE, dry_run=True
    )
    assert dry.aws_temp_credentials is None and dry.url == "s3://uc-test/ext/raw"
    c = w.temporary_path_credentials.generate_temporary_path_credentials(
        url="s3://uc-test/ext/raw", operation=PathOperation.PATH_READ_WRITE
    )
    fs = plane.s3fs(c)
    with fs.open_output_stream("uc-test/ext/raw/part.csv") as f:
        f.write(b"a,b\n")
    assert (plane.lake / "ext/raw/part.csv").read_bytes() == b"a,b\n"
    with pytest.raises(OSError):
        with fs.open_output_stream("uc-test/ext/rawer/x") as f:
            f.write(b"no")


def test_read_only_location_vends_reads_and_refuses_writes(plane):
    from databricks.sdk.errors import PermissionDenied
    from databricks.sdk.service.catalog import PathOperation
    from deltalake import DeltaTable, write_deltalake

    w = plane.server.admin
    plane.grant("external_location", "ext", "admin@example.com", "EXTERNAL_USE_LOCATION")
    _external(plane, "d", "s3://uc-test/ext/d")
    early = plane.creds("main.s.d", TableOperation.READ_WRITE)
    a = early.aws_temp_credentials
    opts = {"aws_access_key_id": a.access_key_id, "aws_secret_access_key": a.secret_access_key,
            "aws_session_token": a.session_token, "aws_endpoint_url": a.access_point,
            "aws_region": "us-east-1", "aws_allow_http": "true"}
    write_deltalake(early.url, pa.table({"x": [1]}), storage_options=opts)

    w.external_locations.update(name="ext", read_only=True)
    with pytest.raises(PermissionDenied, match="read-only"):
        plane.creds("main.s.d", TableOperation.READ_WRITE)
    with pytest.raises(PermissionDenied, match="read-only"):
        w.temporary_path_credentials.generate_temporary_path_credentials(
            url="s3://uc-test/ext/raw", operation=PathOperation.PATH_READ_WRITE)
    reader = plane.creds("main.s.d", TableOperation.READ)
    assert reader.aws_temp_credentials.access_key_id.startswith("ASIA")

    # The credential vended before the switch reads, but its writes are refused by the endpoint.
    assert DeltaTable(early.url, storage_options=opts).version() == 0
    with pytest.raises(Exception):
        write_deltalake(early.url, pa.table({"x": [2]}), storage_options=opts, mode="append")
    with pytest.raises(OSError):
        with plane.s3fs(early).open_output_stream("uc-test/ext/d/extra.parquet") as f:
            f.write(b"no")
    assert not (plane.lake / "ext/d/extra.parquet").exists()
    assert DeltaTable(early.url, storage_options=opts).version() == 0, "nothing was committed"


def test_serve_help_explains_the_data_plane_flags():
    import subprocess

    from conftest import emulator_bin

    out = subprocess.run([str(emulator_bin()), "serve", "--help"], capture_output=True, text=True, timeout=30).stdout
    for flag in ("--s3-bind", "UC_EMULATOR_S3_BIND", "--s3-public-url", "UC_EMULATOR_S3_PUBLIC_URL",
                 "--credential-lifetime", "UC_EMULATOR_CREDENTIAL_LIFETIME"):
        assert flag in out, flag


@pytest.mark.parametrize("bad", [["--s3-bind", "nope"], ["--credential-lifetime", "0"],
                                 ["--credential-lifetime", "43201"], ["--s3-public-url", "http://x/path"]])
def test_bad_data_plane_flags_stop_start_up(bad, tmp_path):
    from conftest import emulator_bin
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.startswith("UC_EMULATOR_")}
    run = subprocess.run([str(emulator_bin()), "serve", "--db", str(tmp_path / "x.db"), "--bind", "127.0.0.1:0", *bad],
                         capture_output=True, text=True, timeout=30, env=env)
    assert run.returncode == 2 and run.stdout == ""
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert not (tmp_path / "x.db").exists(), "nothing applied"


def test_s3_public_url_is_what_credentials_advertise(start_server_with_args, tmp_path):
    lake = tmp_path / "lake"
    lake.mkdir()
    s = start_server_with_args(["--s3-bind", "127.0.0.1:0", "--s3-public-url", "http://s3.example:9000/",
                                "--storage-map", f"s3://uc-test={lake}"])
    line = s.proc.stdout.readline().decode()
    assert line.startswith(S3_PREFIX) and not line.strip().endswith(":0"), line
    w = s.admin
    w.metastores.update(id=w.metastores.summary().metastore_id, external_access_enabled=True)
    w.schemas.create(name="s", catalog_name="main")
    t = w.tables.create(name="m", catalog_name="main", schema_name="s", table_type=TableType.MANAGED,
                        data_source_format=DataSourceFormat.DELTA, storage_location="", columns=[])
    r = s.raw("PATCH", "/api/2.1/unity-catalog/permissions/catalog/main",
              json={"changes": [{"principal": "admin@example.com", "add": ["EXTERNAL_USE_SCHEMA"]}]})
    assert r.status_code == 200, r.text
    c = w.temporary_table_credentials.generate_temporary_table_credentials(
        table_id=t.table_id, operation=TableOperation.READ)
    assert c.aws_temp_credentials.access_point == "http://s3.example:9000"
    assert c.url == t.storage_location


def test_polars_managed_table_under_a_file_root(plane):
    from pathlib import Path

    w = plane.server.admin
    w.catalogs.create(name="local", storage_root=f"file://{plane.files}/managed")
    w.schemas.create(name="s", catalog_name="local")
    plane.grant("catalog", "local", "admin@example.com", "EXTERNAL_USE_SCHEMA")
    cat = plane.catalog()
    info = cat.create_table("local", "s", "m", schema=_frame().schema, table_type="MANAGED", data_source_format="DELTA")
    assert info.storage_location.startswith(f"file://{plane.files}/managed/"), info.storage_location
    local = Path(info.storage_location.removeprefix("file://"))
    assert local.is_dir()
    cat.write_table(_frame(), "local", "s", "m", delta_mode="append")
    assert cat.scan_table("local", "s", "m").collect().sort("id").equals(_frame())
    assert (local / "_delta_log/00000000000000000000.json").is_file()
    w.catalogs.delete("local", force=True)
    assert not local.exists(), "a forced catalog delete removes the managed table's files"


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL])
def test_a_restart_invalidates_every_credential_and_discards_unfinished_uploads(start_server_with_args, tmp_path,
                                                                                stop):
    from botocore.exceptions import ClientError

    plane = _plane(start_server_with_args, tmp_path)
    _external(plane, "t1", "s3://uc-test/ext/t1")
    old = plane.creds("main.s.t1", TableOperation.READ_WRITE)
    with plane.s3fs(old).open_output_stream("uc-test/ext/t1/a.txt") as f:
        f.write(b"before the restart")
    s3 = _boto_of(old)
    upload = s3.create_multipart_upload(Bucket="uc-test", Key="ext/t1/big.bin")["UploadId"]
    part = b"p" * (5 * 1024 * 1024)
    s3.upload_part(Bucket="uc-test", Key="ext/t1/big.bin", UploadId=upload, PartNumber=1, Body=part)
    staging = Path(plane.server.db + "-s3") / "uploads"
    staged = [p for p in staging.rglob("*") if p.is_file()]
    assert [p.stat().st_size for p in staged] == [len(part)], "the part waits in the staging directory"

    # Stopped cleanly or killed: the next start on the same database knows neither.
    plane.server.stop(stop)
    again = start_server_with_args(_plane_args(plane.lake, plane.files), db=plane.server.db)
    line = again.proc.stdout.readline().decode()
    assert line.startswith(S3_PREFIX), line
    endpoint = line[len(S3_PREFIX):].strip()
    assert not [p for p in staging.rglob("*") if p.is_file()], "the unfinished upload's parts are gone from disk"

    # The old credential, on the new endpoint: refused, by pyarrow and by boto3.
    a = old.aws_temp_credentials
    stale = pafs.S3FileSystem(access_key=a.access_key_id, secret_key=a.secret_access_key,
                              session_token=a.session_token, endpoint_override=endpoint, region="us-east-1",
                              retry_strategy=pafs.AwsStandardS3RetryStrategy(max_attempts=1))
    with pytest.raises(OSError, match="ACCESS_DENIED"):
        stale.open_input_stream("uc-test/ext/t1/a.txt").read()
    stale_boto = _boto(endpoint, a.access_key_id, a.secret_access_key, a.session_token)
    with pytest.raises(ClientError) as e:
        stale_boto.get_object(Bucket="uc-test", Key="ext/t1/a.txt")
    assert _s3_error(e) == (403, "AccessDenied")

    # A credential vended by the new process works; the old upload id is unknown to it.
    t = again.admin.tables.get("main.s.t1")
    fresh = again.admin.temporary_table_credentials.generate_temporary_table_credentials(
        operation=TableOperation.READ_WRITE, table_id=t.table_id)
    assert fresh.aws_temp_credentials.access_point == endpoint
    with plane.s3fs(fresh).open_input_stream("uc-test/ext/t1/a.txt") as f:
        assert f.read() == b"before the restart"
    s3 = _boto_of(fresh)
    where = {"Bucket": "uc-test", "Key": "ext/t1/big.bin", "UploadId": upload}
    for call in (lambda: s3.upload_part(**where, PartNumber=2, Body=b"more"),
                 lambda: s3.list_parts(**where),
                 lambda: s3.complete_multipart_upload(
                     **where, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"x"'}]})):
        with pytest.raises(ClientError) as e:
            call()
        assert _s3_error(e) == (404, "NoSuchUpload")
    assert not (plane.lake / "ext/t1/big.bin").exists()
    assert not [p for p in staging.rglob("*") if p.is_file()], "a refused UploadPart stages nothing"


def test_boto3_checksums_are_verified_header_and_trailer(plane, monkeypatch):
    """botocore >= 1.36 computes a CRC32 for every PutObject ("when_supported"); over https it sends
    it as an aws-chunked trailer (STREAMING-UNSIGNED-PAYLOAD-TRAILER), over http as a header. The
    endpoint speaks http, so the test also lets botocore believe it is on https for that choice
    only: the request it then builds is the trailer form it sends to S3."""
    import base64
    import zlib
    import botocore.httpchecksum as hc
    from botocore.exceptions import ClientError
    from urllib.parse import urlparse

    _external(plane, "t1", "s3://uc-test/ext/t1")
    s3 = _boto_of(plane.creds("main.s.t1", TableOperation.READ_WRITE))
    body = os.urandom(300_000)
    target = plane.lake / "ext/t1/obj.bin"

    # Header form (what botocore sends over http).
    s3.put_object(Bucket="uc-test", Key="ext/t1/obj.bin", Body=body)
    assert target.read_bytes() == body
    wrong = base64.b64encode(zlib.crc32(b"other").to_bytes(4, "big")).decode()
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="uc-test", Key="ext/t1/bad.bin", Body=body, ChecksumCRC32=wrong)
    assert _s3_error(e) == (400, "BadDigest")
    assert not (plane.lake / "ext/t1/bad.bin").exists()

    # Trailer form: botocore's own aws-chunked body with the checksum after the data.
    sent = []
    monkeypatch.setattr(hc, "urlparse", lambda u: urlparse(u.replace("http://", "https://", 1)))
    s3 = _boto_of(plane.creds("main.s.t1", TableOperation.READ_WRITE))
    s3.meta.events.register("before-send.s3.PutObject", lambda request, **kw: sent.append(dict(request.headers)))
    body2 = os.urandom(200_000)
    s3.put_object(Bucket="uc-test", Key="ext/t1/trailed.bin", Body=body2)
    assert sent[-1]["X-Amz-Content-SHA256"] == b"STREAMING-UNSIGNED-PAYLOAD-TRAILER", sent[-1]
    assert sent[-1]["X-Amz-Trailer"] == b"x-amz-checksum-crc32"
    assert (plane.lake / "ext/t1/trailed.bin").read_bytes() == body2, "stored byte-exact"

    # The same request with a wrong trailing checksum: refused, nothing written, no directory made.
    class Wrong(hc._CHECKSUM_CLS["crc32"]):
        def b64digest(self):
            return wrong

    monkeypatch.setitem(hc._CHECKSUM_CLS, "crc32", Wrong)
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="uc-test", Key="ext/t1/new/dir/bad.bin", Body=body2)
    assert sent[-1]["X-Amz-Content-SHA256"] == b"STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    assert _s3_error(e) == (400, "BadDigest")
    assert not (plane.lake / "ext/t1/new").exists()
    assert sorted(p.name for p in (plane.lake / "ext/t1").iterdir()) == ["obj.bin", "trailed.bin"]


def test_boto3_objects_multipart_and_batch_delete(plane):
    """boto3 with its defaults (CRC32 on every upload, and on DeleteObjects instead of Content-MD5)."""
    from botocore.exceptions import ClientError

    _external(plane, "t1", "s3://uc-test/ext/t1")
    s3 = _boto_of(plane.creds("main.s.t1", TableOperation.READ_WRITE))
    part = os.urandom(5 * 1024 * 1024)
    upload = s3.create_multipart_upload(Bucket="uc-test", Key="ext/t1/big.bin")["UploadId"]
    etags = [s3.upload_part(Bucket="uc-test", Key="ext/t1/big.bin", UploadId=upload, PartNumber=n,
                            Body=part if n == 1 else b"tail")["ETag"] for n in (1, 2)]
    s3.complete_multipart_upload(Bucket="uc-test", Key="ext/t1/big.bin", UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": n, "ETag": e} for n, e in zip((1, 2), etags)]})
    assert (plane.lake / "ext/t1/big.bin").read_bytes() == part + b"tail"
    s3.put_object(Bucket="uc-test", Key="ext/t1/small.txt", Body=b"x")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="uc-test", Prefix="ext/t1/")["Contents"])
    assert keys == ["ext/t1/big.bin", "ext/t1/small.txt"]
    out = s3.delete_objects(Bucket="uc-test", Delete={"Objects": [{"Key": k} for k in keys]})
    assert sorted(d["Key"] for d in out["Deleted"]) == keys
    assert not list((plane.lake / "ext/t1").iterdir())
    with pytest.raises(ClientError) as e:
        s3.delete_objects(Bucket="uc-test", Delete={"Objects": [{"Key": "ext/t10/x"}]})
    assert _s3_error(e) == (403, "AccessDenied")
