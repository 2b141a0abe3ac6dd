"""Delta Sharing, the recipient's side, through the real clients: `databricks-sdk` creates the
share and the recipient and follows the activation link; the `delta-sharing` connector reads
Delta tables that `deltalake` wrote, through the emulator's sharing server and its pre-signed
file URLs."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import delta_sharing
import pandas as pd
import pyarrow as pa
import pytest
import requests
from databricks.sdk.errors import InvalidParameterValue, NotFound, PermissionDenied
from databricks.sdk.service.catalog import ColumnInfo, ColumnTypeName, DataSourceFormat, TableType
from databricks.sdk.service.catalog import AwsIamRoleRequest, DeltaSharingScopeEnum
from databricks.sdk.service.sharing import (
    AuthenticationType,
    Partition,
    PermissionsChange,
    SecurablePropertiesKvPairs,
    PartitionValue,
    PartitionValueOp,
    SharedDataObject,
    SharedDataObjectHistoryDataSharingStatus,
    SharedDataObjectUpdate,
    SharedDataObjectUpdateAction,
)
from delta_sharing.protocol import DeltaSharingProfile, Share
from delta_sharing.rest_client import DataSharingRestClient
from deltalake import DeltaTable, write_deltalake
from requests.exceptions import HTTPError

from conftest import UC, raises

SCHEMA = [ColumnInfo(name="id", type_name=ColumnTypeName.LONG, type_text="bigint",
                     type_json='{"name":"id","type":"long"}', position=0, nullable=True)]


class Lake:
    """A server with `--file-root` over a directory of Delta tables, an external location on it,
    and Delta Sharing to external recipients switched on."""

    def __init__(self, root: Path, uc):
        self.root, self.uc, self.admin = root, uc, uc.admin
        self.ms = self.admin.metastores.current().metastore_id
        self.admin.metastores.update(self.ms, delta_sharing_scope=DeltaSharingScopeEnum.INTERNAL_AND_EXTERNAL,
                                     delta_sharing_recipient_token_lifetime_in_seconds=86400)
        self.admin.storage_credentials.create("lake_cred", aws_iam_role=AwsIamRoleRequest(role_arn="arn:aws:iam::1:role/l"))
        self.admin.external_locations.create("lake", f"file://{root}", "lake_cred")
        self.admin.schemas.create("sales", "main")

    def table(self, name: str, frames: list[pd.DataFrame], **kw) -> Path:
        """A Delta table written by deltalake (one commit per frame) and registered as EXTERNAL."""
        path = self.root / name
        for i, df in enumerate(frames):
            write_deltalake(str(path), df, mode="append", **(kw if i == 0 else {}))
        self.admin.tables.create(name, "main", "sales", TableType.EXTERNAL, DataSourceFormat.DELTA,
                                 storage_location=f"file://{path}", columns=SCHEMA)
        return path

    def share(self, name: str, *objects: SharedDataObject):
        self.admin.shares.create(name)
        updates = [SharedDataObjectUpdate(action=SharedDataObjectUpdateAction.ADD, data_object=o) for o in objects]
        if updates:
            self.admin.shares.update(name, updates=updates)

    def grant(self, share: str, recipient: str, add=True):
        change = PermissionsChange(principal=recipient, add=["SELECT"] if add else None,
                                   remove=None if add else ["SELECT"])
        self.admin.shares.update_permissions(share, changes=[change])

    def recipient(self, name: str, tmp: Path, **kw) -> str:
        """A TOKEN recipient, activated: the path of its saved profile file."""
        r = self.admin.recipients.create(name, AuthenticationType.TOKEN, **kw)
        return self.activate(r.tokens[-1].activation_url, tmp / f"{name}.share")

    def activate(self, link: str, path: Path) -> str:
        profile = self.admin.recipient_activation.retrieve_token(link)
        path.write_text(json.dumps(profile.as_dict()))
        return str(path)


@pytest.fixture
def lake(tmp_path, start_server_with_args):
    root = tmp_path / "lake"
    root.mkdir()
    return Lake(root, start_server_with_args(["--file-root", str(root)]))


def frame(ids, regions=None):
    d = {"id": pd.array(ids, dtype="int64")}
    if regions is not None:
        d["region"] = regions
    return pd.DataFrame(d)


def sorted_rows(df: pd.DataFrame, cols=None) -> list:
    cols = cols or list(df.columns)
    return sorted(tuple(r) for r in df[cols].astype(object).itertuples(index=False))


def cdf_rows(df: pd.DataFrame) -> list:
    return sorted((int(i), str(c), int(v)) for i, c, v in df[["id", "_change_type", "_commit_version"]].values)


def http_status(fn) -> int:
    try:
        fn()
    except HTTPError as e:
        return e.response.status_code
    raise AssertionError("the call succeeded")


def rest(profile: str) -> DataSharingRestClient:
    return DataSharingRestClient(DeltaSharingProfile.read_from_file(profile), num_retries=0)


# --- activation ---------------------------------------------------------------------------------


def test_activation_link_hands_out_the_profile_exactly_once(lake, tmp_path):
    r = lake.admin.recipients.create("acme", AuthenticationType.TOKEN)
    link = r.tokens[0].activation_url
    assert link == f"{lake.uc.url}/delta_sharing/retrieve_config.html?{link.rsplit('?', 1)[1]}"
    assert r.activation_url == link and r.activated is False
    token = link.rsplit("?", 1)[1]
    assert len(token) == 32
    # The page never consumes the link; the info endpoint answers {} while retrieval would work.
    page = requests.get(link)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert f"/public/data_sharing_activation/{token}" in page.text
    lake.admin.recipient_activation.get_activation_url_info(link)
    lake.admin.recipient_activation.get_activation_url_info(token)

    profile = lake.admin.recipient_activation.retrieve_token(link)
    assert profile.share_credentials_version == 1
    assert profile.endpoint == f"{lake.uc.url}/api/2.0/delta-sharing/metastores/{lake.ms}"
    assert len(profile.bearer_token) == 64 and not profile.bearer_token.startswith("dapi")
    exp = profile.expiration_time
    assert exp.endswith("Z") and len(exp) == len("2026-01-20T03:36:52.591Z"), exp

    # Once only: the link, the info and the page say so; the recipient shows it activated.
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST", status=404, mentions="already retrieved", server=lake.uc):
        lake.admin.recipient_activation.retrieve_token(link)
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST", status=404, server=lake.uc):
        lake.admin.recipient_activation.get_activation_url_info(token)
    assert "cannot be downloaded" in requests.get(link).text
    got = lake.admin.recipients.get("acme")
    assert got.activated is True and got.tokens[0].activation_url == ""
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST", status=404, server=lake.uc):
        lake.admin.recipient_activation.retrieve_token("x" * 32)

    # A recipient bearer token is nobody in the workspace API, and a workspace token is nobody
    # on the sharing server.
    assert requests.get(f"{lake.uc.url}{UC}/catalogs",
                        headers={"Authorization": f"Bearer {profile.bearer_token}"}).status_code == 401
    r = requests.get(f"{profile.endpoint}/shares", headers={"Authorization": "Bearer dapi-admin"})
    assert r.status_code == 401 and r.json()["errorCode"] == "UNAUTHENTICATED" == r.json()["error_code"]
    assert requests.get(f"{profile.endpoint}/shares",
                        headers={"Authorization": f"Bearer {profile.bearer_token}"}).json() == {"items": []}


def test_rotation_keeps_the_old_token_until_its_new_expiry(lake, tmp_path):
    old = lake.recipient("acme", tmp_path)
    lake.share("s")
    lake.grant("s", "acme")
    assert [s.name for s in delta_sharing.SharingClient(old).list_shares()] == ["s"]
    r = lake.admin.recipients.rotate_token("acme", existing_token_expire_in_seconds=3600)
    new = lake.activate(r.tokens[-1].activation_url, tmp_path / "new.share")
    for p in (old, new):  # both live
        assert [s.name for s in delta_sharing.SharingClient(p).list_shares()] == ["s"]
    lake.admin.recipients.rotate_token("acme", existing_token_expire_in_seconds=0)
    assert http_status(lambda: delta_sharing.SharingClient(old).list_shares()) == 401
    assert http_status(lambda: delta_sharing.SharingClient(new).list_shares()) == 401
    # Deleting the recipient ends its links and tokens at once.
    r = lake.admin.recipients.get("acme")
    newest = lake.activate(r.tokens[-1].activation_url, tmp_path / "newest.share")
    assert [s.name for s in delta_sharing.SharingClient(newest).list_shares()] == ["s"]
    lake.admin.recipients.delete("acme")
    assert http_status(lambda: delta_sharing.SharingClient(newest).list_shares()) == 401


def test_tokens_expire_on_their_own(lake, tmp_path):
    """Real short expiries, nothing backdated: a rotated-out token ends when its shortened
    expiry passes, and a recipient token made under a 2-second lifetime ends with it, as does its
    unused activation link."""
    old = lake.recipient("acme", tmp_path)
    lake.share("s")
    lake.grant("s", "acme")
    r = lake.admin.recipients.rotate_token("acme", existing_token_expire_in_seconds=2)
    new = lake.activate(r.tokens[-1].activation_url, tmp_path / "new.share")
    old_expiry = min(t.expiration_time for t in r.tokens)
    assert old_expiry - time.time() * 1000 <= 2000
    for p in (old, new):
        assert [s.name for s in delta_sharing.SharingClient(p).list_shares()] == ["s"]

    lake.admin.metastores.update(lake.ms, delta_sharing_recipient_token_lifetime_in_seconds=2)
    brief = lake.recipient("brief", tmp_path)
    lake.grant("s", "brief")
    expires = pd.Timestamp(json.loads(Path(brief).read_text())["expirationTime"]).timestamp() * 1000
    assert 0 < expires - time.time() * 1000 <= 2000
    assert [s.name for s in delta_sharing.SharingClient(brief).list_shares()] == ["s"]
    unused = lake.admin.recipients.create("unused", AuthenticationType.TOKEN).tokens[0].activation_url
    lake.admin.recipient_activation.get_activation_url_info(unused)

    time.sleep(max(old_expiry, expires) / 1000 - time.time() + 0.3)
    for p in (old, brief):
        assert http_status(lambda: delta_sharing.SharingClient(p).list_shares()) == 401
        prof = DeltaSharingProfile.read_from_file(p)
        got = requests.get(f"{prof.endpoint}/shares", headers={"Authorization": f"Bearer {prof.bearer_token}"})
        assert got.status_code == 401 and got.json()["errorCode"] == "UNAUTHENTICATED"
    assert [s.name for s in delta_sharing.SharingClient(new).list_shares()] == ["s"], "the new token lives on"
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST", status=404, mentions="expired", server=lake.uc):
        lake.admin.recipient_activation.retrieve_token(unused)


# --- reading ------------------------------------------------------------------------------------


def test_load_as_pandas_reads_what_deltalake_wrote_under_shared_as(lake, tmp_path):
    first = frame([1, 2, 3], ["eu", "us", "eu"])
    second = frame([4, 5], ["us", "ap"])
    lake.table("orders", [first, second], partition_by=["region"])
    lake.share("sales_share", SharedDataObject(name="main.sales.orders", shared_as="published.figures"))
    profile = lake.recipient("acme", tmp_path)
    lake.grant("sales_share", "acme")

    client = delta_sharing.SharingClient(profile)
    assert [s.name for s in client.list_shares()] == ["sales_share"]
    assert [s.name for s in client.list_schemas(Share("sales_share"))] == ["published"]
    tables = client.list_all_tables()
    assert [(t.share, t.schema, t.name) for t in tables] == [("sales_share", "published", "figures")]

    url = f"{profile}#sales_share.published.figures"
    got = delta_sharing.load_as_pandas(url)
    want = pd.concat([first, second])
    assert sorted_rows(got, ["id", "region"]) == sorted_rows(want, ["id", "region"])
    # The connector's Delta kernel path (responseformat=delta) reads the same rows over plain http:
    # the file URLs carry the pre-signed query key the kernel recognises.
    kernel = delta_sharing.load_as_pandas(url, use_delta_format=True)
    assert sorted_rows(kernel, ["id", "region"]) == sorted_rows(want, ["id", "region"])
    assert len(delta_sharing.load_as_pandas(url, use_delta_format=True, limit=1)) == 1
    # The delta response format itself: the log's own actions with pre-signed paths.
    c = rest(profile)
    c.set_delta_format_header()
    lines = [json.loads(x) for x in c.list_files_in_table(delta_sharing.protocol.Table("figures", "sales_share",
                                                                                        "published")).lines]
    assert lines[0]["protocol"]["deltaProtocol"]["minReaderVersion"] == 1
    assert lines[1]["metaData"]["deltaMetadata"]["partitionColumns"] == ["region"]
    adds = [x["file"]["deltaSingleAction"]["add"] for x in lines[2:]]
    assert len(adds) == 4 and all(a["path"].startswith(f"{lake.uc.url}/delta-sharing/presigned/") for a in adds)
    assert all(len(requests.get(a["path"]).content) == a["size"] for a in adds)
    assert delta_sharing.get_table_version(url) == 1
    meta = delta_sharing.get_table_metadata(url, use_delta_format=False)
    assert meta.partition_columns == ["region"] and meta.num_files == 4

    # The source name is not reachable; an unknown table or schema is a 404.
    for missing in ("sales.orders", "published.nope"):
        assert http_status(lambda: delta_sharing.load_as_pandas(f"{profile}#sales_share.{missing}")) == 404


def test_limit_and_query_hints(lake, tmp_path):
    lake.table("events", [frame([1, 2]), frame([3, 4]), frame([5, 6])])
    lake.share("s", SharedDataObject(name="main.sales.events"))
    profile = lake.recipient("acme", tmp_path)
    lake.grant("s", "acme")
    url = f"{profile}#s.sales.events"
    assert len(delta_sharing.load_as_pandas(url, limit=3)) == 3
    assert len(delta_sharing.load_as_pandas(url, limit=0)) == 0
    files = rest(profile).list_files_in_table(delta_sharing.protocol.Table("events", "s", "sales"), limitHint=3)
    assert len(files.add_files) == 2, "files until their numRecords reach the hint"
    assert {f.id for f in files.add_files} <= {f.id for f in rest(profile).list_files_in_table(
        delta_sharing.protocol.Table("events", "s", "sales")).add_files}


def test_json_predicate_hints_prune_partitions_through_the_connector(lake, tmp_path):
    rows = frame([1, 2, 3, 4], ["eu", "us", "eu", "ap"])
    lake.table("orders", [rows], partition_by=["region"])
    lake.share("s", SharedDataObject(name="main.sales.orders"))
    profile = lake.recipient("acme", tmp_path)
    lake.grant("s", "acme")
    url = f"{profile}#s.sales.orders"
    col = {"op": "column", "name": "region", "valueType": "string"}
    eu = json.dumps({"op": "equal", "children": [col, {"op": "literal", "value": "eu", "valueType": "string"}]})
    # The connector applies no filter itself: only the server's pruning leaves eu's rows.
    for fmt in (False, True):
        got = delta_sharing.load_as_pandas(url, jsonPredicateHints=eu, use_delta_format=fmt)
        assert sorted(got["id"].tolist()) == [1, 3], fmt
    # A predicate on a data column is unknown for every file: nothing is pruned.
    on_id = json.dumps({"op": "equal", "children": [{"op": "column", "name": "id", "valueType": "long"},
                                                    {"op": "literal", "value": "1", "valueType": "long"}]})
    assert sorted(delta_sharing.load_as_pandas(url, jsonPredicateHints=on_id)["id"].tolist()) == [1, 2, 3, 4]
    assert len(delta_sharing.load_as_pandas(url, jsonPredicateHints="not json")) == 4


def test_a_start_version_beyond_the_tables_version_is_refused(lake, tmp_path):
    path = lake.table("orders", [frame([1]), frame([2])])
    lake.share("s")
    beyond = SharedDataObject(name="main.sales.orders", start_version=2,
                              history_data_sharing_status=SharedDataObjectHistoryDataSharingStatus.ENABLED)
    add = lambda o: [SharedDataObjectUpdate(action=SharedDataObjectUpdateAction.ADD, data_object=o)]
    with raises(InvalidParameterValue, "INVALID_PARAMETER_VALUE", status=400, mentions="start_version",
                server=lake.uc):
        lake.admin.shares.update("s", updates=add(beyond))
    assert not lake.admin.shares.get("s").objects
    # Without start_version the table's version now (1) is its start: version 0 is refused.
    lake.admin.shares.update("s", updates=add(SharedDataObject(
        name="main.sales.orders", history_data_sharing_status=SharedDataObjectHistoryDataSharingStatus.ENABLED)))
    assert lake.admin.shares.get("s").objects[0].start_version is None
    profile = lake.recipient("acme", tmp_path)
    lake.grant("s", "acme")
    url = f"{profile}#s.sales.orders"
    assert http_status(lambda: delta_sharing.load_as_pandas(url, version=0)) == 400
    assert sorted(delta_sharing.load_as_pandas(url, version=1)["id"].tolist()) == [1, 2]
    write_deltalake(str(path), frame([3]), mode="append")
    lake.admin.shares.update("s", updates=[SharedDataObjectUpdate(
        action=SharedDataObjectUpdateAction.UPDATE, data_object=SharedDataObject(name="main.sales.orders",
                                                                               start_version=2))])
    assert sorted(delta_sharing.load_as_pandas(url, version=2)["id"].tolist()) == [1, 2, 3]
    assert http_status(lambda: delta_sharing.load_as_pandas(url, version=1)) == 400


def test_versions_and_timestamps_need_history_sharing(lake, tmp_path):
    v0, v1 = frame([1, 2]), frame([3])
    path = lake.table("orders", [v0])
    lake.share("plain", SharedDataObject(name="main.sales.orders"))
    lake.share("history", SharedDataObject(
        name="main.sales.orders", start_version=0,
        history_data_sharing_status=SharedDataObjectHistoryDataSharingStatus.ENABLED))
    write_deltalake(str(path), v1, mode="append")
    profile = lake.recipient("acme", tmp_path)
    lake.grant("plain", "acme")
    lake.grant("history", "acme")
    hist = f"{profile}#history.sales.orders"
    assert sorted_rows(delta_sharing.load_as_pandas(hist, version=0)) == sorted_rows(v0)
    assert sorted_rows(delta_sharing.load_as_pandas(hist, version=1)) == sorted_rows(pd.concat([v0, v1]))
    ts1 = DeltaTable(str(path)).history()[0]["timestamp"]  # newest first, epoch ms
    iso = pd.Timestamp(ts1, unit="ms", tz="UTC").isoformat()
    assert sorted_rows(delta_sharing.load_as_pandas(hist, timestamp=iso)) == sorted_rows(pd.concat([v0, v1]))
    assert delta_sharing.get_table_version(hist, starting_timestamp=iso) == 1
    assert http_status(lambda: delta_sharing.load_as_pandas(hist, version=7)) == 400
    # Without history sharing only the latest snapshot is served.
    plain = f"{profile}#plain.sales.orders"
    assert sorted_rows(delta_sharing.load_as_pandas(plain)) == sorted_rows(pd.concat([v0, v1]))
    assert http_status(lambda: delta_sharing.load_as_pandas(plain, version=0)) == 400
    assert http_status(lambda: delta_sharing.load_table_changes_as_pandas(plain, starting_version=0)) == 400


def test_change_feed_equals_deltalakes_own(lake, tmp_path):
    path = lake.table("orders", [frame([1, 2, 3], ["eu", "us", "eu"]), frame([4], ["us"])],
                      partition_by=["region"], configuration={"delta.enableChangeDataFeed": "true"})
    DeltaTable(str(path)).delete("id = 1")
    DeltaTable(str(path)).update(updates={"id": "id + 100"}, predicate="id = 4")
    lake.share("s", SharedDataObject(name="main.sales.orders", cdf_enabled=True, start_version=0))
    profile = lake.recipient("acme", tmp_path)
    lake.grant("s", "acme")
    ours = delta_sharing.load_table_changes_as_pandas(f"{profile}#s.sales.orders", starting_version=0)
    theirs = pa.RecordBatchReader.from_stream(DeltaTable(str(path)).load_cdf(starting_version=0)).read_all()
    assert cdf_rows(ours) == cdf_rows(theirs.to_pandas())
    assert {"insert", "delete"} <= set(ours["_change_type"])
    # The same feed through the connector's Delta kernel path (responseformat=delta, cdc files).
    kernel = delta_sharing.load_table_changes_as_pandas(f"{profile}#s.sales.orders", starting_version=0,
                                                        use_delta_format=True)
    assert cdf_rows(kernel) == cdf_rows(theirs.to_pandas())
    # A range, and the feed of a table without change data feed is refused.
    part = delta_sharing.load_table_changes_as_pandas(f"{profile}#s.sales.orders", starting_version=1,
                                                      ending_version=1)
    assert cdf_rows(part) == [(4, "insert", 1)]


def test_partition_filters_and_recipient_properties(lake, tmp_path):
    lake.table("orders", [frame([1, 2, 3, 4], ["eu", "us", "eu", "ap"])], partition_by=["region"])
    eu = Partition(values=[PartitionValue(name="region", op=PartitionValueOp.EQUAL, value="eu")])
    by_prop = Partition(values=[PartitionValue(name="region", op=PartitionValueOp.EQUAL,
                                               recipient_property_key="home")])
    lake.share("eu_only", SharedDataObject(name="main.sales.orders", partitions=[eu]))
    lake.share("own", SharedDataObject(name="main.sales.orders", partitions=[by_prop]))
    us = lake.recipient("us_co", tmp_path, properties_kvpairs=SecurablePropertiesKvPairs(properties={"home": "us"}))
    nohome = lake.recipient("nohome", tmp_path)
    for share in ("eu_only", "own"):
        lake.grant(share, "us_co")
        lake.grant(share, "nohome")
    ids = lambda p, t: sorted(delta_sharing.load_as_pandas(f"{p}#{t}.sales.orders")["id"].tolist())
    assert ids(us, "eu_only") == [1, 3]
    assert ids(us, "own") == [2]
    assert ids(nohome, "own") == [], "a recipient without the property sees nothing"
    meta = delta_sharing.get_table_metadata(f"{us}#eu_only.sales.orders", use_delta_format=False)
    assert meta.num_files == 1


def test_paging_of_shares_and_tables(lake, tmp_path):
    for j in range(3):
        lake.table(f"t{j}", [frame([j])])
    profile = lake.recipient("acme", tmp_path)
    for i in range(3):
        lake.share(f"s{i}", *[SharedDataObject(name=f"main.sales.t{j}", shared_as=f"sch{j}.t") for j in range(3)])
        lake.grant(f"s{i}", "acme")
    c = rest(profile)
    seen, token = [], None
    while True:
        page = c.list_shares(max_results=1, page_token=token)
        seen += [s.name for s in page.shares]
        token = page.next_page_token
        if token is None:
            break
        assert len(page.shares) == 1
    assert seen == ["s0", "s1", "s2"]
    tables, token = [], None
    while True:
        page = c.list_all_tables(Share("s1"), max_results=2, page_token=token)
        tables += [(t.schema, t.name) for t in page.tables]
        token = page.next_page_token
        if token is None:
            break
    assert tables == [("sch0", "t"), ("sch1", "t"), ("sch2", "t")]
    assert [t.schema for t in delta_sharing.SharingClient(profile).list_all_tables()].count("sch0") == 3
    assert delta_sharing.load_as_pandas(f"{profile}#s2.sch1.t")["id"].tolist() == [1]
    with pytest.raises(HTTPError) as e:
        c.list_shares(page_token="forged")
    assert e.value.response.status_code == 400 and "pageToken" in e.value.response.json()["message"]


def test_checkpointed_table_with_its_old_commits_gone(lake, tmp_path):
    frames = [frame([i]) for i in range(5)]
    path = lake.table("t", frames[:3])
    DeltaTable(str(path)).create_checkpoint()
    for f in frames[3:]:
        write_deltalake(str(path), f, mode="append")
    log = path / "_delta_log"
    for v in range(0, 3):  # only the checkpoint of version 2 and the commits after it remain
        (log / f"{v:020}.json").unlink()
    lake.share("s", SharedDataObject(name="main.sales.t"))
    profile = lake.recipient("acme", tmp_path)
    lake.grant("s", "acme")
    url = f"{profile}#s.sales.t"
    assert sorted(delta_sharing.load_as_pandas(url)["id"].tolist()) == [0, 1, 2, 3, 4]
    assert delta_sharing.get_table_version(url) == 4


# --- refusals -----------------------------------------------------------------------------------


def test_grants_revocation_and_the_share_owners_select_take_effect_at_once(lake, tmp_path):
    lake.table("t", [frame([1])])
    lake.share("s", SharedDataObject(name="main.sales.t"))
    profile = lake.recipient("acme", tmp_path)
    url = f"{profile}#s.sales.t"
    r = requests.get(f"{DeltaSharingProfile.read_from_file(profile).endpoint}/shares/s",
                     headers={"Authorization": f"Bearer {DeltaSharingProfile.read_from_file(profile).bearer_token}"})
    assert r.status_code == 403 and r.json()["errorCode"] == "PERMISSION_DENIED"
    assert "does not have SELECT on share s" in r.json()["message"]
    assert http_status(lambda: delta_sharing.load_as_pandas(url)) == 403
    lake.grant("s", "acme")
    assert delta_sharing.load_as_pandas(url)["id"].tolist() == [1]
    lake.grant("s", "acme", add=False)
    assert http_status(lambda: delta_sharing.load_as_pandas(url)) == 403
    lake.grant("s", "acme")
    # The share's owner loses SELECT (here: the share goes to a user without it).
    lake.admin.shares.update("s", owner="bob@example.com")
    assert http_status(lambda: delta_sharing.load_as_pandas(url)) == 403
    assert [t.name for t in delta_sharing.SharingClient(profile).list_all_tables()] == ["t"], "still listed"
    lake.admin.shares.update("s", owner="admin@example.com")
    assert delta_sharing.load_as_pandas(url)["id"].tolist() == [1]
    # The metastore's scope and the recipient's IP access list.
    lake.admin.metastores.update(lake.ms, delta_sharing_scope=DeltaSharingScopeEnum.INTERNAL)
    assert http_status(lambda: delta_sharing.load_as_pandas(url)) == 403
    lake.admin.metastores.update(lake.ms, delta_sharing_scope=DeltaSharingScopeEnum.INTERNAL_AND_EXTERNAL)
    lake.uc.raw("PATCH", f"{UC}/recipients/acme", json={"ip_access_list": {"allowed_ip_addresses": ["10.0.0.0/8"]}})
    assert http_status(lambda: delta_sharing.load_as_pandas(url)) == 403
    lake.uc.raw("PATCH", f"{UC}/recipients/acme", json={"ip_access_list": {"allowed_ip_addresses": ["127.0.0.1"]}})
    assert delta_sharing.load_as_pandas(url)["id"].tolist() == [1]
    # An activation link refused for its address stays unused.
    r = lake.admin.recipients.create("far", AuthenticationType.TOKEN)
    lake.uc.raw("PATCH", f"{UC}/recipients/far", json={"ip_access_list": {"allowed_ip_addresses": ["10.0.0.1"]}})
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, mentions="127.0.0.1", server=lake.uc):
        lake.admin.recipient_activation.retrieve_token(r.tokens[0].activation_url)
    assert requests.get(r.tokens[0].activation_url).status_code == 403


def file_url(profile: str, table: str) -> str:
    share, schema, name = table.split(".")
    files = rest(profile).list_files_in_table(delta_sharing.protocol.Table(name, share, schema))
    return files.add_files[0].url


def test_file_urls_are_signed_expire_and_serve_ranges(lake, tmp_path, start_server_with_args):
    path = lake.table("t", [frame([1, 2, 3])])
    lake.share("s", SharedDataObject(name="main.sales.t"))
    profile = lake.recipient("acme", tmp_path)
    lake.grant("s", "acme")
    url = file_url(profile, "s.sales.t")
    data = [f for f in path.iterdir() if f.suffix == ".parquet"][0].read_bytes()
    whole = requests.get(url)
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["accept-ranges"] == "bytes"
    head = requests.head(url)
    assert head.status_code == 200 and int(head.headers["content-length"]) == len(data)
    part = requests.get(url, headers={"Range": "bytes=4-9"})
    assert part.status_code == 206 and part.content == data[4:10]
    assert part.headers["content-range"] == f"bytes 4-9/{len(data)}"
    assert requests.get(url, headers={"Range": "bytes=-8"}).content == data[-8:]
    beyond = requests.get(url, headers={"Range": f"bytes={len(data)}-"})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{len(data)}"
    # Tampered: another file, a longer life, another signature.
    base, query = url.split("?", 1)
    import base64
    other = base64.urlsafe_b64encode(f"file://{path}/_delta_log/{0:020}.json".encode()).decode().rstrip("=")
    for bad in (f"{base.rsplit('/', 1)[0]}/{other}?{query}",
                url.replace("X-UC-Expires=", "X-UC-Expires=9"),
                url[:-1] + ("0" if url[-1] != "0" else "1"),
                base):
        r = requests.get(bad)
        assert r.status_code == 403 and r.json()["error_code"] == "PERMISSION_DENIED", bad
    # The documented form, plus the same signature under the key the Delta kernel recognises.
    assert re.search(r"\?X-UC-Expires=\d+&X-UC-Signature=([0-9a-f]{64})&X-Databricks-Signature=\1$", url), url
    without_uc = re.sub(r"&X-UC-Signature=[0-9a-f]+", "", url)
    assert requests.get(without_uc).status_code == 403, "the kernel's copy alone is not the signature"
    assert requests.get(re.sub(r"&X-Databricks-Signature=[0-9a-f]+", "", url)).status_code == 200, "the documented form"
    # Grants do not matter to a URL already handed out (like a cloud pre-signed URL).
    lake.grant("s", "acme", add=False)
    assert requests.get(url).status_code == 200


def test_expired_file_urls_are_refused(tmp_path, start_server_with_args):
    root = tmp_path / "lake"
    root.mkdir()
    lake = Lake(root, start_server_with_args(["--file-root", str(root), "--presigned-url-lifetime", "1"]))
    lake.table("t", [frame([1])])
    lake.share("s", SharedDataObject(name="main.sales.t"))
    profile = lake.recipient("acme", tmp_path)
    lake.grant("s", "acme")
    url = file_url(profile, "s.sales.t")
    time.sleep(1.1)
    r = requests.get(url)
    assert r.status_code == 403 and "expired" in r.json()["message"]


# --- protocol details over HTTP on hand-written logs ----------------------------------------------


def write_commit(table: Path, v: int, actions: list) -> None:
    (table / "_delta_log").mkdir(parents=True, exist_ok=True)
    lines = [{"commitInfo": {"timestamp": 1_700_000_000_000 + v}}] + actions
    (table / "_delta_log" / f"{v:020}.json").write_text("\n".join(json.dumps(a) for a in lines) + "\n")


def start_actions(configuration=None, reader_version=1) -> list:
    schema = json.dumps({"type": "struct", "fields": [{"name": "id", "type": "long", "nullable": True,
                                                       "metadata": {}}]})
    return [{"protocol": {"minReaderVersion": reader_version, "minWriterVersion": 2}},
            {"metaData": {"id": "m", "format": {"provider": "parquet", "options": {}}, "schemaString": schema,
                          "partitionColumns": [], "configuration": configuration or {}, "createdTime": 0}}]


def add_action(path: str, **extra) -> dict:
    return {"add": {"path": path, "partitionValues": {}, "size": 5, "modificationTime": 0, "dataChange": True,
                    **extra}}


def test_what_the_protocol_cannot_serve_plainly_and_file_url_edges(lake, tmp_path):
    root = lake.root
    write_commit(root / "escapes", 0, start_actions() + [add_action("../other/x.parquet")])
    write_commit(root / "dv", 0, start_actions() + [add_action("x.parquet", deletionVector={
        "storageType": "u", "pathOrInlineDv": "ab", "sizeInBytes": 1, "cardinality": 1})])
    (root / "feed").mkdir()
    (root / "feed" / "x.parquet").write_bytes(b"12345")
    write_commit(root / "feed", 0, start_actions({"delta.enableChangeDataFeed": "true"}) + [add_action("x.parquet")])
    write_commit(root / "feed", 1, [{"remove": {"path": "x.parquet", "dataChange": True, "deletionTimestamp": 2}}])
    write_commit(root / "feed", 2, start_actions({"delta.enableChangeDataFeed": "false"})[1:])
    write_commit(root / "mapped", 0, start_actions({"delta.columnMapping.mode": "name"}, reader_version=2))
    names = ("escapes", "dv", "feed", "mapped")
    for n in names:
        lake.admin.tables.create(n, "main", "sales", TableType.EXTERNAL, DataSourceFormat.DELTA,
                                 storage_location=f"file://{root / n}", columns=SCHEMA)
    lake.share("s", *[SharedDataObject(name=f"main.sales.{n}", cdf_enabled=True, start_version=0) for n in names])
    prof = DeltaSharingProfile.read_from_file(lake.recipient("acme", tmp_path))
    lake.grant("s", "acme")
    auth = {"Authorization": f"Bearer {prof.bearer_token}"}
    table = lambda n: f"{prof.endpoint}/shares/s/schemas/sales/tables/{n}"

    def refused(r, status, code, *words):
        body = r.json()
        assert (r.status_code, body["error_code"], body["errorCode"]) == (status, code, code), r.text
        assert all(w in body["message"] for w in words), body["message"]

    # A path leaving the table root, deletion vectors: 400 INVALID_STATE naming the shared table.
    refused(requests.post(f"{table('escapes')}/query", headers=auth, data="{}"), 400, "INVALID_STATE", "sales.escapes")
    refused(requests.post(f"{table('dv')}/query", headers=auth, data="{}"), 400, "INVALID_STATE", "deletion vector")
    # A remove without size takes the file's size on disk; the feed needs CDF at every version.
    r = requests.get(f"{table('feed')}/changes?startingVersion=0&endingVersion=1", headers=auth)
    removes = [json.loads(x)["remove"] for x in r.text.splitlines() if "remove" in json.loads(x)]
    assert r.status_code == 200 and [(x["size"], x["version"]) for x in removes] == [(5, 1)], r.text
    refused(requests.get(f"{table('feed')}/changes?startingVersion=0", headers=auth), 400,
            "INVALID_PARAMETER_VALUE", "2")
    # Column mapping needs the delta format: parquet alone is refused, auto-resolution picks delta.
    refused(requests.post(f"{table('mapped')}/query", headers=auth, data="{}"), 400, "INVALID_PARAMETER_VALUE",
            "responseformat")
    r = requests.post(f"{table('mapped')}/query", data="{}",
                      headers={**auth, "delta-sharing-capabilities": "responseformat=delta,parquet"})
    assert r.status_code == 200 and r.headers["delta-sharing-capabilities"] == "responseformat=delta"
    assert json.loads(r.text.splitlines()[0])["protocol"]["deltaProtocol"]["minReaderVersion"] == 2
    # Capabilities and fileidhash headers; the metastore id of the path in any case.
    r = requests.get(f"{table('feed')}/metadata".replace(lake.ms, lake.ms.upper()),
                     headers={**auth, "delta-sharing-capabilities": "responseformat=foo;readerfeatures=x",
                              "fileidhash": "DELTA"})
    assert r.status_code == 200, r.text
    assert r.headers["delta-sharing-capabilities"] == "responseformat=parquet" and r.headers["fileidhash"] == "delta"
    assert r.headers["content-type"] == "application/x-ndjson; charset=utf-8"
    refused(requests.get(f"{table('feed')}/metadata", headers={**auth, "fileidhash": "sha1"}), 400,
            "INVALID_PARAMETER_VALUE", "fileidhash")
    assert "delta-sharing-capabilities" not in requests.get(f"{prof.endpoint}/shares", headers=auth).headers

    # File URL edges: several ranges or another unit → the whole file; -0 → 416; clipped end.
    r = requests.post(f"{table('feed')}/query", headers=auth, data=json.dumps({"version": 0}))
    url = json.loads(r.text.splitlines()[2])["file"]["url"]
    assert requests.get(url, headers={"Range": "bytes=0-1,3-4"}).content == b"12345"
    assert requests.get(url, headers={"Range": "items=1-2"}).status_code == 200
    r = requests.get(url, headers={"Range": "bytes=-0"})
    assert (r.status_code, r.headers["content-range"]) == (416, "bytes */5")
    r = requests.get(url, headers={"Range": "bytes=1-100"})
    assert (r.status_code, r.headers["content-range"], r.content) == (206, "bytes 1-4/5", b"2345")
    assert requests.get(url + "&other=1", headers={"Authorization": "Bearer nonsense"}).status_code == 200
    (root / "feed" / "x.parquet").unlink()
    refused(requests.get(url), 404, "RESOURCE_DOES_NOT_EXIST")
    (root / "feed" / "x.parquet").mkdir()
    refused(requests.get(url), 404, "RESOURCE_DOES_NOT_EXIST")
