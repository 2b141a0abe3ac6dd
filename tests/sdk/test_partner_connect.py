"""Partner Connect end to end.

A real partner process (the reference fake partner of tests/partner) is registered with a fresh
emulator, a workspace admin connects it to a catalog they own, and the PAT the partner receives is
then used through the real `databricks-sdk` exactly as a partner product would use it. Every
misbehaviour switch of the fake partner must end in the documented error and leave nothing behind.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from databricks.sdk.errors import NotFound, PermissionDenied

from conftest import ADMIN, ALICE, CAROL, COLS, TEST_FIXTURE, TOKENS, UC, emulator_bin, raises

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "partner"))
import fake_partner  # noqa: E402  (tests/partner/fake_partner.py)

PC = "/api/2.0/partner-connect"
USER = "pc-partner"
PASSWORD = "s3cret-Partner-Pw"
SP_NAME = "FAKE_PARTNER_USER"
WH_NAME = "FAKE_PARTNER_ENDPOINT"
FAST = {"timeout_ms": 3000, "max_retries": 0, "retry_backoff_ms": 0}
GRANTED = {"USE_CATALOG", "USE_SCHEMA", "SELECT", "CREATE_SCHEMA", "CREATE_TABLE"}
CONNECTION_KEYS = {
    "id", "partner_id", "partner_name", "workspace_id", "connection_id", "created_by", "created_at",
    "service_principal_id", "service_principal_name", "token_id", "warehouse_id", "cluster_id",
    "http_path", "catalog_name", "destination_location", "cloud_provider", "cloud_provider_region",
    "demo", "is_free_trial", "resources", "data_permissions", "object_permissions",
    "skipped_permissions",
}


# --- helpers -------------------------------------------------------------------------------------


@pytest.fixture
def partner():
    p = fake_partner.start(basic_user=USER, basic_password=PASSWORD, slow_seconds=1.5)
    yield p
    p.stop()


def register(uc, p, token="admin", options=None, **config_kwargs):
    doc = p.registration(**config_kwargs)
    doc["options"] = dict(FAST if options is None else options)
    r = uc.raw("POST", f"{PC}/partners", token=token, json=doc)
    assert r.status_code == 200, r.text
    return r.json()


def connect(uc, partner_id, token="carol", **body):
    return uc.raw("POST", f"{PC}/connections", token=token, json={"partner_id": partner_id, **body})


def err(r, status, code, *mentions):
    assert r.status_code == status, f"expected {status} {code}, got {r.status_code}: {r.text}"
    j = r.json()
    assert j.get("error_code") == code, j
    for m in mentions:
        assert m.lower() in j.get("message", "").lower(), f"message {j.get('message')!r} should mention {m!r}"
    return j


def make_table(uc, catalog, schema, name, token="admin"):
    return uc.client(token).api_client.do("POST", f"{UC}/tables", body={
        "catalog_name": catalog, "schema_name": schema, "name": name, "table_type": "MANAGED",
        "data_source_format": "DELTA", "columns": COLS})


def setup_catalog(uc):
    """`pc_cat` (owned by carol, a workspace admin who is not an account admin) with raw.events."""
    a = uc.admin
    a.catalogs.create("pc_cat")
    a.schemas.create("raw", "pc_cat")
    make_table(uc, "pc_cat", "raw", "events")
    a.catalogs.update("pc_cat", owner=CAROL)


def no_nulls(value, path="body"):
    if isinstance(value, dict):
        for k, v in value.items():
            no_nulls(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            no_nulls(v, f"{path}[{i}]")
    else:
        assert value is not None, f"{path} was sent as null (omitted, never null)"


def grants_of(uc, catalog):
    pa = uc.admin.grants.get("catalog", catalog).privilege_assignments or []
    return {g.principal: sorted(p.value for p in g.privileges or []) for g in pa}


def acl(perms, inherited=False):
    """{principal: [levels]} of an ObjectPermissions (direct levels only unless `inherited`)."""
    out = {}
    for e in perms.access_control_list or []:
        name = e.user_name or e.group_name or e.service_principal_name
        out[name] = sorted(p.permission_level.value for p in e.all_permissions or [] if inherited or not p.inherited)
    return out


def snapshot(uc, catalogs=("pc_cat", "main", "shared")):
    """Everything a connect may create, as seen by the admin."""
    a = uc.admin
    existing = {c.name for c in a.catalogs.list()}
    r = uc.raw("GET", f"{PC}/connections")
    assert r.status_code == 200, r.text
    return {
        "service_principals": sorted(s.application_id for s in a.service_principals.list()),
        "warehouses": sorted(w.id for w in a.warehouses.list()),
        "tokens": sorted(t.token_id for t in a.token_management.list()),
        "grants": {c: grants_of(uc, c) for c in catalogs if c in existing},
        "token_acl": acl(a.permissions.get("authorization", "tokens")),
        "connections": r.json()["connections"],
    }


def pat_is_dead(uc, pat):
    r = uc.raw("GET", "/api/2.0/preview/scim/v2/Me", token=pat)
    assert r.status_code == 401, f"the partner's PAT must be revoked (401), got {r.status_code}: {r.text}"


def connected(uc, p, **reg):
    """Set up pc_cat, register the partner, connect as carol; (partner_id, response json, PAT)."""
    setup_catalog(uc)
    pid = register(uc, p, **reg)["partner_id"]
    r = connect(uc, pid, catalog_name="pc_cat")
    assert r.status_code == 200, r.text
    pat = p.calls_for("connect")[-1]["json"]["user_info"]["auth"]["personal_access_token"]
    return pid, r.json(), pat


def wait_for(pred, timeout=5.0, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


# --- registry -----------------------------------------------------------------------------------


def test_register_list_get_and_password_never_returned(uc, partner, tmp_path):
    # 401 first; then account admins only: carol is a workspace admin but not an account admin.
    assert uc.raw("POST", f"{PC}/partners", token=None, json=partner.registration()).status_code == 401
    err(uc.raw("POST", f"{PC}/partners", token="carol", json=partner.registration()), 403, "PERMISSION_DENIED")
    err(uc.raw("POST", f"{PC}/partners", token="alice", json=partner.registration()), 403, "PERMISSION_DENIED")
    assert uc.raw("GET", f"{PC}/partners").json()["partners"] == []

    r = uc.raw("POST", f"{PC}/partners", json={**partner.registration(), "options": {"timeout_ms": 2000}})
    assert r.status_code == 200, r.text
    assert PASSWORD not in r.text
    info = r.json()
    uuid.UUID(info["partner_id"])
    assert info["name"] == "Fake Partner"
    assert info["config"] == partner.config()
    assert info["basic_auth"] == {"username": USER}
    assert info["options"] == {"timeout_ms": 2000, "max_retries": 3, "retry_backoff_ms": 1000}
    assert info["created_by"] == ADMIN
    assert abs(info["created_at"] - time.time() * 1000) < 60_000

    # Readable by every principal, from every workspace; never with the password.
    for token in ("alice", "bob", "sp", "admin2"):
        r = uc.raw("GET", f"{PC}/partners", token=token)
        assert r.status_code == 200 and PASSWORD not in r.text
        assert [x["partner_id"] for x in r.json()["partners"]] == [info["partner_id"]]
        r = uc.raw("GET", f"{PC}/partners/{info['partner_id']}", token=token)
        assert r.status_code == 200 and PASSWORD not in r.text and r.json() == info
    err(uc.raw("GET", f"{PC}/partners/{uuid.uuid4()}"), 404, "RESOURCE_DOES_NOT_EXIST")
    err(uc.raw("GET", f"{PC}/partners/not-a-uuid"), 400, "INVALID_PARAMETER_VALUE", "partner_id")

    # No basic_auth: null.
    other = uc.raw("POST", f"{PC}/partners", json={"config": partner.config(name="Zeta Tool")}).json()
    assert other["basic_auth"] is None
    names = [x["name"] for x in uc.raw("GET", f"{PC}/partners").json()["partners"]]
    assert names == sorted(names) == ["Fake Partner", "Zeta Tool"]

    # Delete: account admins only.
    err(uc.raw("DELETE", f"{PC}/partners/{other['partner_id']}", token="carol"), 403, "PERMISSION_DENIED")
    r = uc.raw("DELETE", f"{PC}/partners/{other['partner_id']}")
    assert r.status_code == 200 and r.json() == {}
    err(uc.raw("DELETE", f"{PC}/partners/{other['partner_id']}"), 404, "RESOURCE_DOES_NOT_EXIST")
    # the password is never logged.
    assert PASSWORD not in (tmp_path / "server.log").read_text(errors="replace")


def test_register_invalid_config_is_400_listing_every_violation_and_stores_nothing(uc, partner):
    doc = partner.registration()
    cfg = doc["config"]
    del cfg["hostnames"]
    cfg["category"] = "NOPE"
    cfg["data_permissions"] = [{"permission": "SELEKT"}]
    cfg["object_permissions"] = [{"name": "SQL_Endpoint", "level": "CAN_RESTART"}]
    del cfg["endpoints"]["connect_path"]
    # Validation comes before the account-admin check: carol gets the 400 too.
    for token in ("carol", "admin"):
        j = err(uc.raw("POST", f"{PC}/partners", token=token, json=doc), 400, "INVALID_PARAMETER_VALUE",
                "config.hostnames", "config.category", "config.data_permissions[0].permission",
                "config.object_permissions[0].level", "config.endpoints.connect_path")
        assert j["message"].count("; ") >= 4, j["message"]
    bad_opts = {**partner.registration(), "options": {"timeout_ms": 5}}
    err(uc.raw("POST", f"{PC}/partners", json=bad_opts), 400, "INVALID_PARAMETER_VALUE", "options.timeout_ms")
    bad_major = partner.registration(api_version="3.0.0")
    err(uc.raw("POST", f"{PC}/partners", json=bad_major), 400, "INVALID_PARAMETER_VALUE", "api_version")
    assert uc.raw("GET", f"{PC}/partners").json()["partners"] == []


def test_duplicate_normalised_name_is_409(uc, partner):
    register(uc, partner)
    for name in ("Fake Partner", "fake-partner", "  FAKE__partner!! "):
        err(uc.raw("POST", f"{PC}/partners", json=partner.registration(name=name)), 409,
            "RESOURCE_ALREADY_EXISTS", "name")
    assert len(uc.raw("GET", f"{PC}/partners").json()["partners"]) == 1


def test_fixture_partners_are_create_if_missing_across_restarts(start_server, partner, tmp_path):
    fx = tmp_path / "with-partner.json"
    reg = partner.registration()
    reg["options"] = {"timeout_ms": 5000}
    fx.write_text(json.dumps({**TEST_FIXTURE, "partner_connect": {"partners": [reg]}}))
    db = str(tmp_path / "fx.db")

    s1 = start_server(db=db, fixtures=[str(fx)])
    r = s1.raw("GET", f"{PC}/partners")
    assert PASSWORD not in r.text
    [p1] = r.json()["partners"]
    assert p1["created_by"] == "fixture" and p1["basic_auth"] == {"username": USER}
    assert p1["options"] == {"timeout_ms": 5000, "max_retries": 3, "retry_backoff_ms": 1000}
    assert s1.stop() == 0

    s2 = start_server(db=db, fixtures=[str(fx)])
    assert s2.raw("GET", f"{PC}/partners").json()["partners"] == [p1], "same partner_id, not duplicated"
    # Deleted through the API, it comes back at the next start-up.
    assert s2.raw("DELETE", f"{PC}/partners/{p1['partner_id']}").status_code == 200
    assert s2.stop() == 0
    s3 = start_server(db=db, fixtures=[str(fx)])
    [p3] = s3.raw("GET", f"{PC}/partners").json()["partners"]
    assert p3["name"] == "Fake Partner" and p3["created_by"] == "fixture"
    # The fixture partner is usable: basic auth from the fixture reaches the partner.
    s3.admin.catalogs.create("pc_cat")
    r = connect(s3, p3["partner_id"], token="admin", catalog_name="pc_cat")
    assert r.status_code == 200, r.text
    assert s3.stop() == 0

    # An invalid entry stops start-up with exit status 2 and names file, position, name and field.
    bad = partner.registration()
    del bad["config"]["hostnames"]
    badfx = tmp_path / "bad-partner.json"
    badfx.write_text(json.dumps({**TEST_FIXTURE, "partner_connect": {"partners": [bad]}}))
    proc = subprocess.run([str(emulator_bin()), "serve", "--bind", "127.0.0.1:0", "--db", str(tmp_path / "bad.db"),
                           "--fixtures", str(badfx)], capture_output=True, timeout=20)
    assert proc.returncode == 2, proc
    assert b"listening" not in proc.stdout
    msg = proc.stderr.decode()
    for part in ("bad-partner.json", "partner_connect.partners[0]", '"Fake Partner"', "config.hostnames"):
        assert part in msg, msg


# --- connect, and the PAT through the SDK --------------------------------------------


def test_connect_sends_the_connect_request_and_provisions_real_objects(uc, partner):
    setup_catalog(uc)
    pid = register(uc, partner)["partner_id"]
    before = snapshot(uc)
    r = connect(uc, pid, catalog_name="pc_cat")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["flow"] == "NEW_CONNECTION"
    conn = body["connection"]
    assert set(conn) == CONNECTION_KEYS
    assert body["partner_response"]["status_code"] == 200
    answer = body["partner_response"]["body"]
    assert answer["configured_resources"] is True

    # What the partner received.
    [call] = partner.calls_for("connect")
    assert call["method"] == "POST" and call["path"] == "/connect"
    h = call["headers"]
    assert h["user-agent"] == "databricks"
    assert h["authorization"] == "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert h["accept"] == "application/json" and h["accept-language"] == "en-US"
    assert h["content-type"].lower().replace(" ", "") == "application/json;charset=utf-8"
    assert "transfer-encoding" not in h and int(h["content-length"]) == len(call["body"].encode())
    req = call["json"]
    no_nulls(req)
    pat = req["user_info"]["auth"]["personal_access_token"]
    assert isinstance(pat, str) and pat
    assert pat not in r.text, "the PAT never appears in an emulator response"
    carol_id = next(iter(uc.admin.users.list(filter=f'userName eq "{CAROL}"'))).id
    u = urlsplit(uc.url)
    wid = conn["warehouse_id"]
    http_path = f"/sql/1.0/warehouses/{wid}"
    assert req["user_info"] == {
        "email": CAROL, "first_name": "Carol", "last_name": "", "databricks_user_id": int(carol_id),
        "databricks_organization_id": 1001, "is_connection_established": False, "auth": {"personal_access_token": pat},
    }
    expected = {
        "hostname": u.hostname, "port": u.port, "workspace_url": f"http://{u.hostname}:{u.port}/?o=1001",
        "workspace_id": 1001, "demo": False, "is_free_trial": False, "cloud_provider": "aws",
        "cloud_provider_region": "us-west-2", "catalog_name": "pc_cat", "cluster_id": wid,
        "is_sql_endpoint": True, "is_sql_warehouse": True, "http_path": http_path,
        "jdbc_url": f"jdbc:spark://{u.hostname}:{u.port}/default;transportMode=http;ssl=0;AuthMech=3;httpPath={http_path};",
        "databricks_jdbc_url": f"jdbc:databricks://{u.hostname}:{u.port}/default;transportMode=http;ssl=0;AuthMech=3;httpPath={http_path};",
        "service_principal_id": conn["service_principal_id"], "connection_scope": "workspace",
    }
    for k, v in expected.items():
        assert req.get(k) == v, f"ConnectRequest.{k}: {req.get(k)!r} != {v!r}"
    for k in ("connection_id", "database_name", "staging_location", "data_source_connector", "destination_location"):
        assert k not in req, f"{k} must not be sent"

    # The ConnectionInfo.
    app_id = conn["service_principal_id"]
    uuid.UUID(app_id)
    uuid.UUID(conn["id"])
    assert conn["id"] != answer["connection_id"] and conn["connection_id"] == answer["connection_id"]
    assert answer["connection_id"] in partner.connections()
    assert conn["partner_id"] == pid and conn["partner_name"] == "Fake Partner"
    assert conn["workspace_id"] == 1001 and conn["created_by"] == CAROL
    assert conn["service_principal_name"] == SP_NAME
    assert conn["token_id"] and conn["token_id"] != pat
    assert len(wid) == 16 and all(c in "0123456789abcdef" for c in wid)
    assert conn["cluster_id"] == wid and conn["http_path"] == http_path and conn["catalog_name"] == "pc_cat"
    assert conn["destination_location"] is None
    assert (conn["cloud_provider"], conn["cloud_provider_region"], conn["demo"], conn["is_free_trial"]) == \
        ("aws", "us-west-2", False, False)
    assert conn["resources"] == ["PAT", "SqlEndpoint"]
    assert {d["permission"] for d in conn["data_permissions"]} == GRANTED
    for d in conn["data_permissions"]:
        assert d["securable_type"] == "catalog" and d["full_name"] == "pc_cat" and d["privileges"] == [d["permission"]]
    assert conn["object_permissions"] == [
        {"name": "SQL_Endpoint", "level": "CAN_USE", "object_type": "warehouses", "object_id": wid}]
    assert conn["skipped_permissions"] == []

    # Listing: every principal of the workspace sees it; another workspace does not.
    for token in ("alice", "bob", "carol"):
        listed = uc.raw("GET", f"{PC}/connections", token=token).json()["connections"]
        assert [c["id"] for c in listed] == [conn["id"]]
        assert uc.raw("GET", f"{PC}/connections/{conn['id']}", token=token).json() == conn
    assert uc.raw("GET", f"{PC}/connections", token="admin2").json()["connections"] == []
    err(uc.raw("GET", f"{PC}/connections/{conn['id']}", token="admin2"), 404, "RESOURCE_DOES_NOT_EXIST")
    err(uc.raw("GET", f"{PC}/connections/nope"), 400, "INVALID_PARAMETER_VALUE", "id")

    # --- the partner product uses its PAT through the real SDK -----------------------------------
    sp = uc.client(pat)
    me = sp.current_user.me()
    assert me.user_name == app_id and me.display_name == SP_NAME
    assert sp.catalogs.get("pc_cat").name == "pc_cat"
    assert "pc_cat" in {c.name for c in sp.catalogs.list()}
    assert {"private", "shared", "alice_cat"}.isdisjoint({c.name for c in sp.catalogs.list()})
    assert "raw" in {s.name for s in sp.schemas.list("pc_cat")}
    assert sp.tables.get("pc_cat.raw.events").full_name == "pc_cat.raw.events"
    assert [t.name for t in sp.tables.list("pc_cat", "raw")] == ["events"]
    made = sp.schemas.create("partner_data", "pc_cat")
    assert made.owner == app_id
    assert make_table(uc, "pc_cat", "partner_data", "loaded", token=pat)["owner"] == app_id
    # Everything else: Unity Catalog rules.
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
        sp.catalogs.get("shared")
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
        sp.tables.get("shared.sales.orders")
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
        sp.schemas.create("nope", "main")
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
        sp.catalogs.delete("pc_cat", force=True)
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
        sp.catalogs.create("partner_own")
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
        sp.schemas.delete("pc_cat.raw")
    assert sp.catalogs.get("pc_cat").owner == CAROL

    # --- the admin sees what was provisioned through the SDK -------------------------------------
    a = uc.admin
    [sp_entry] = [s for s in a.service_principals.list() if s.application_id == app_id]
    assert sp_entry.display_name == SP_NAME and sp_entry.active is True
    assert grants_of(uc, "pc_cat")[app_id] == sorted(GRANTED)
    for c in ("main", "shared"):
        assert app_id not in grants_of(uc, c)
    assert not (a.grants.get("schema", "pc_cat.raw").privilege_assignments or [])
    wh = a.warehouses.get(wid)
    assert wh.id == wid and wh.name == WH_NAME and wh.state.value == "RUNNING"
    assert wh.cluster_size == "2X-Small" and wh.creator_name == CAROL
    assert (wh.min_num_clusters, wh.max_num_clusters, wh.num_clusters, wh.auto_stop_mins) == (1, 1, 1, 10)
    assert wh.warehouse_type.value == "PRO" and wh.enable_serverless_compute is False
    assert wh.odbc_params.path == http_path and wh.odbc_params.port == u.port and wh.odbc_params.hostname == u.hostname
    assert wh.jdbc_url == expected["databricks_jdbc_url"]
    assert wid in {w.id for w in a.warehouses.list()}
    # the connecting admin IS_OWNER, `admins` CAN_MANAGE (direct or inherited), the SP's entry.
    perms = a.permissions.get("warehouses", wid)
    assert acl(perms, inherited=True) == {CAROL: ["IS_OWNER"], "admins": ["CAN_MANAGE"], app_id: ["CAN_USE"]}
    assert acl(perms)[CAROL] == ["IS_OWNER"] and acl(perms)[app_id] == ["CAN_USE"]
    # Warehouse visibility: the SP (CAN_USE) sees it; bob (no permission) does not.
    assert sp.warehouses.get(wid).name == WH_NAME
    assert wid not in {w.id for w in uc.bob.warehouses.list()}
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
        uc.bob.warehouses.get(wid)
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST", status=404, server=uc):
        uc.admin2.warehouses.get(wid)

    # Exactly one SP, one token and one warehouse were added.
    after = snapshot(uc)
    assert after["service_principals"] == sorted(before["service_principals"] + [app_id])
    assert after["warehouses"] == sorted(before["warehouses"] + [wid])
    assert after["tokens"] == sorted(before["tokens"] + [conn["token_id"]])


def test_connect_refusals_call_nobody_and_create_nothing(uc, partner):
    setup_catalog(uc)
    pid = register(uc, partner)["partner_id"]
    before = snapshot(uc)
    assert connect(uc, pid, token=None).status_code == 401
    err(uc.raw("POST", f"{PC}/connections", token="carol", data="{nope", headers={"Content-Type": "application/json"}),
        400, "INVALID_PARAMETER_VALUE")
    err(connect(uc, "not-a-uuid"), 400, "INVALID_PARAMETER_VALUE", "partner_id")
    err(connect(uc, pid, catalog_name="pc_cat", demo="yes"), 400, "INVALID_PARAMETER_VALUE", "demo")
    err(connect(uc, pid, catalog_name="pc_cat", cloud_provider="ibm"), 400, "INVALID_PARAMETER_VALUE", "cloud_provider")
    err(connect(uc, str(uuid.uuid4()), catalog_name="pc_cat"), 404, "RESOURCE_DOES_NOT_EXIST")
    err(connect(uc, pid, token="alice", catalog_name="alice_cat"), 403, "PERMISSION_DENIED")
    err(connect(uc, pid, token="sp", catalog_name="pc_cat"), 403, "PERMISSION_DENIED")
    err(connect(uc, pid), 400, "INVALID_PARAMETER_VALUE", "catalog_name")
    err(connect(uc, pid, catalog_name="hive_metastore"), 400, "INVALID_PARAMETER_VALUE", "hive_metastore")
    err(connect(uc, pid, catalog_name="pc_cat", destination_location="s3://b/p"), 400, "INVALID_PARAMETER_VALUE",
        "destination_location")
    err(connect(uc, pid, catalog_name="no_such_cat"), 404, "CATALOG_DOES_NOT_EXIST")
    # carol is a workspace admin but does not own `main` and is not a metastore admin.
    err(connect(uc, pid, catalog_name="main"), 403, "PERMISSION_DENIED", "main")
    # Workspace 1002 has no metastore.
    r = connect(uc, pid, token="carol2", catalog_name="pc_cat")
    assert r.status_code in (400, 404), r.text
    assert partner.calls == [], "a refused connect calls no partner"
    assert snapshot(uc) == before


def test_sign_in_by_a_plain_user_reuses_the_connection(uc, partner):
    pid, first, pat = connected(uc, partner)
    conn = first["connection"]
    sps = snapshot(uc)["service_principals"]
    r = connect(uc, pid, token="alice")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["flow"] == "SIGN_IN" and body["connection"] == conn
    assert "connection_id" not in body["partner_response"]["body"]
    req = partner.calls_for("connect")[-1]["json"]
    no_nulls(req)
    assert req["user_info"]["is_connection_established"] is True and "auth" not in req["user_info"]
    assert req["user_info"]["email"] == ALICE
    assert req["connection_id"] == conn["connection_id"]
    assert req["service_principal_id"] == conn["service_principal_id"]
    assert (req["cluster_id"], req["catalog_name"], req["cloud_provider"]) == (conn["warehouse_id"], "pc_cat", "aws")
    assert pat not in r.text
    # Repeating the stored values is fine; a differing one is a 400 naming it.
    assert connect(uc, pid, token="bob", catalog_name="pc_cat", cloud_provider="aws").status_code == 200
    err(connect(uc, pid, token="bob", catalog_name="main"), 400, "INVALID_PARAMETER_VALUE", "catalog_name")
    err(connect(uc, pid, token="bob", cloud_provider="azure"), 400, "INVALID_PARAMETER_VALUE", "cloud_provider")
    # A service principal cannot sign in, not even the connection's own.
    err(connect(uc, pid, token=pat), 403, "PERMISSION_DENIED")
    err(connect(uc, pid, token="sp"), 403, "PERMISSION_DENIED")
    assert snapshot(uc)["service_principals"] == sps, "a sign-in provisions nothing"
    assert len(partner.calls_for("connect")) == 3


def test_second_connect_while_one_is_in_flight_is_409(uc, partner):
    setup_catalog(uc)
    pid = register(uc, partner, options={"timeout_ms": 5000, "max_retries": 0, "retry_backoff_ms": 0})["partner_id"]
    partner.set_switches("slow", slow_seconds=1.5)
    box = {}
    t = threading.Thread(target=lambda: box.setdefault("r", connect(uc, pid, catalog_name="pc_cat")))
    t.start()
    wait_for(lambda: partner.calls_for("connect"), what="the partner to receive the connect")
    # Pending: not listed; a second connect (same admin or another) is refused, not sent.
    t0 = time.monotonic()
    for token in ("carol", "admin"):
        err(connect(uc, pid, token=token, catalog_name="pc_cat"), 409, "RESOURCE_ALREADY_EXISTS")
    assert uc.raw("GET", f"{PC}/connections").json()["connections"] == []
    # Other requests are served meanwhile, and the PAT already works (committed first).
    assert "pc_cat" in {c.name for c in uc.admin.catalogs.list()}
    pat = partner.calls_for("connect")[0]["json"]["user_info"]["auth"]["personal_access_token"]
    assert uc.client(pat).current_user.me().display_name == SP_NAME
    assert time.monotonic() - t0 < 1.2, "requests must not wait for the partner"
    t.join(10)
    r = box["r"]
    assert r.status_code == 200 and r.json()["flow"] == "NEW_CONNECTION", r.text
    assert len(partner.calls_for("connect")) == 1, "the second connect must not reach the partner"
    assert len(uc.raw("GET", f"{PC}/connections").json()["connections"]) == 1
    assert [s.display_name for s in uc.admin.service_principals.list()].count(SP_NAME) == 1
    assert [w.name for w in uc.admin.warehouses.list()].count(WH_NAME) == 1


# --- test and delete ------------------------------------------------------------------


def test_test_connection(uc, partner):
    pid, body, _ = connected(uc, partner)
    cid = body["connection"]["id"]
    err(uc.raw("POST", f"{PC}/connections/{cid}/test", token="alice"), 403, "PERMISSION_DENIED")
    err(uc.raw("POST", f"{PC}/connections/{uuid.uuid4()}/test", token="carol"), 404, "RESOURCE_DOES_NOT_EXIST")
    r = uc.raw("POST", f"{PC}/connections/{cid}/test", token="carol")
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["partner_status"] == 200 and j["test_results"]
    assert all(x["status"] == "PASS" for x in j["test_results"])
    [call] = partner.calls_for("test_connection")
    assert call["method"] == "POST" and call["headers"]["user-agent"] == "databricks"
    assert call["json"] == {"connection_id": body["connection"]["connection_id"], "cloud_provider": "aws",
                            "databricks_organization_id": 1001}
    # The partner forgot the connection: 404 PARTNER_CONNECTION_NOT_FOUND, the connection stays.
    partner_cid = body["connection"]["connection_id"]
    requests.post(partner.url + "/delete-connection", auth=(USER, PASSWORD), headers={"User-Agent": "databricks"},
                  json={"connection_id": partner_cid, "cloud_provider": "aws", "databricks_organization_id": 1001})
    j = err(uc.raw("POST", f"{PC}/connections/{cid}/test", token="carol"), 404, "PARTNER_CONNECTION_NOT_FOUND")
    assert j["partner_status"] == 404 and j["partner_error"]["error_reason"] == "connection_not_found"
    assert uc.raw("GET", f"{PC}/connections/{cid}").json() == body["connection"]
    # No test_connection_path: 400 INVALID_STATE.
    other = register(uc, partner, name="Other Tool", omit_endpoints=["test_connection"])["partner_id"]
    r = connect(uc, other, catalog_name="pc_cat")
    assert r.status_code == 200, r.text
    err(uc.raw("POST", f"{PC}/connections/{r.json()['connection']['id']}/test", token="carol"), 400,
        "INVALID_STATE", "test_connection_path")


def test_delete_connection_revokes_everything_and_notifies_the_partner(uc, partner):
    setup_catalog(uc)
    pid = register(uc, partner)["partner_id"]
    before = snapshot(uc)
    r = connect(uc, pid, catalog_name="pc_cat")
    assert r.status_code == 200, r.text
    conn = r.json()["connection"]
    cid, app_id, wid = conn["id"], conn["service_principal_id"], conn["warehouse_id"]
    pat = partner.calls_for("connect")[0]["json"]["user_info"]["auth"]["personal_access_token"]
    sp = uc.client(pat)
    sp.schemas.create("partner_data", "pc_cat")
    make_table(uc, "pc_cat", "partner_data", "loaded", token=pat)

    # The partner registration cannot go while a connection remains.
    err(uc.raw("DELETE", f"{PC}/partners/{pid}"), 400, "INVALID_STATE", "1001")
    err(uc.raw("DELETE", f"{PC}/connections/{cid}", token="alice"), 403, "PERMISSION_DENIED")
    err(uc.raw("DELETE", f"{PC}/connections/{cid}", token="admin2"), 404, "RESOURCE_DOES_NOT_EXIST")
    assert not partner.calls_for("delete_connection")

    r = uc.raw("DELETE", f"{PC}/connections/{cid}", token="carol")
    assert r.status_code == 200, r.text
    assert r.json() == {"partner_notification": {"status": "OK", "partner_status": 200,
                                                 "resource_status": "resources_deleted"}}
    # The partner was told, with the API's DeleteConnectionRequest.
    [call] = partner.calls_for("delete_connection")
    assert call["method"] == "POST" and call["headers"]["user-agent"] == "databricks"
    assert call["headers"]["authorization"].startswith("Basic ")
    assert call["json"] == {"connection_id": conn["connection_id"], "cloud_provider": "aws",
                            "databricks_organization_id": 1001}
    assert conn["connection_id"] not in partner.connections()

    # Databricks side: all gone.
    pat_is_dead(uc, pat)
    a = uc.admin
    assert app_id not in {s.application_id for s in a.service_principals.list()}
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST", status=404, server=uc):
        a.warehouses.get(wid)
    with raises(NotFound, server=uc):
        a.permissions.get("warehouses", wid)
    assert wid not in {w.id for w in a.warehouses.list()}
    assert app_id not in grants_of(uc, "pc_cat")
    assert app_id not in grants_of(uc, "pc_cat") and not (a.grants.get("schema", "pc_cat.partner_data").privilege_assignments or [])
    # The partner's data stays, handed to the connection's creator.
    assert a.schemas.get("pc_cat.partner_data").owner == CAROL
    assert a.tables.get("pc_cat.partner_data.loaded").owner == CAROL
    err(uc.raw("GET", f"{PC}/connections/{cid}"), 404, "RESOURCE_DOES_NOT_EXIST")
    err(uc.raw("DELETE", f"{PC}/connections/{cid}", token="carol"), 404, "RESOURCE_DOES_NOT_EXIST")
    after = snapshot(uc)
    for k in ("service_principals", "warehouses", "tokens", "token_acl", "connections"):
        assert after[k] == before[k], k
    assert after["grants"]["main"] == before["grants"]["main"]

    # Connect again: a new connection with a new SP, PAT and warehouse.
    r = connect(uc, pid, catalog_name="pc_cat")
    assert r.status_code == 200 and r.json()["flow"] == "NEW_CONNECTION", r.text
    again = r.json()["connection"]
    assert again["service_principal_id"] != app_id and again["warehouse_id"] != wid and again["id"] != cid
    # Delete without notification path: SKIPPED; then the partner can be unregistered.
    assert uc.raw("DELETE", f"{PC}/connections/{again['id']}", token="carol").status_code == 200
    assert uc.raw("DELETE", f"{PC}/partners/{pid}").status_code == 200
    other = register(uc, partner, name="Quiet Tool", omit_endpoints=["delete_connection"])["partner_id"]
    r = connect(uc, other, catalog_name="pc_cat")
    assert r.status_code == 200, r.text
    n = len(partner.calls_for("delete_connection"))
    r = uc.raw("DELETE", f"{PC}/connections/{r.json()['connection']['id']}", token="carol")
    assert r.status_code == 200 and r.json()["partner_notification"]["status"] == "SKIPPED", r.text
    assert len(partner.calls_for("delete_connection")) == n


def test_failed_delete_notification_still_deletes(uc, partner):
    pid, body, pat = connected(uc, partner)
    conn = body["connection"]
    partner.set_switches("status_500")
    r = uc.raw("DELETE", f"{PC}/connections/{conn['id']}", token="carol")
    assert r.status_code == 200, r.text
    note = r.json()["partner_notification"]
    assert note["status"] == "FAILED" and note["error_code"] == "PARTNER_REJECTED" and note["partner_status"] == 500
    assert note["message"]
    pat_is_dead(uc, pat)
    assert uc.raw("GET", f"{PC}/connections").json()["connections"] == []


# --- misbehaving partners leave nothing behind ------------------------------

INVALID = {
    "wrong_enum": "user_status",
    "missing_connection_id": "connection_id: required",
    "string_for_bool": "configured_resources: must be a json boolean",
    "foreign_redirect_host": "redirect_uri: host evil.example.net is not in hostnames",
    "html_instead_of_json": "body: not json",
}


def assert_rolled_back(uc, partner, before):
    after = snapshot(uc)
    assert after == before, f"something was left behind:\nbefore={before}\nafter={after}"
    for call in partner.calls_for("connect"):
        pat = ((call["json"] or {}).get("user_info") or {}).get("auth", {}).get("personal_access_token")
        if pat:
            pat_is_dead(uc, pat)
    assert not partner.calls_for("delete_connection"), "a rolled-back connect is not notified"
    assert [s.display_name for s in uc.admin.service_principals.list()].count(SP_NAME) == 0
    assert [w.name for w in uc.admin.warehouses.list()].count(WH_NAME) == 0


@pytest.mark.parametrize("switch", sorted(INVALID))
def test_invalid_partner_answer_is_502_with_violations_and_rolls_back(uc, partner, switch):
    setup_catalog(uc)
    pid = register(uc, partner)["partner_id"]
    before = snapshot(uc)
    partner.set_switches(switch)
    j = err(connect(uc, pid, catalog_name="pc_cat"), 502, "PARTNER_RESPONSE_INVALID")
    assert j["partner_status"] == 200
    assert isinstance(j["violations"], list) and j["violations"]
    assert all(isinstance(v, str) for v in j["violations"])
    assert any(INVALID[switch] in v.lower() for v in j["violations"]), j["violations"]
    assert INVALID[switch] in j["message"].lower(), j["message"]
    assert_rolled_back(uc, partner, before)
    # The connect can simply be repeated once the partner behaves.
    partner.set_switches()
    assert connect(uc, pid, catalog_name="pc_cat").status_code == 200


@pytest.mark.parametrize("switch,status", [("refuse", 400), ("status_500", 500)])
def test_partner_error_answer_is_502_rejected_and_rolls_back(uc, partner, switch, status):
    setup_catalog(uc)
    pid = register(uc, partner)["partner_id"]
    before = snapshot(uc)
    partner.set_switches(switch)
    j = err(connect(uc, pid, catalog_name="pc_cat"), 502, "PARTNER_REJECTED", f"partner answered {status}")
    assert j["partner_status"] == status and j["attempts"] == 1
    assert j["partner_error"]["error_reason"] == ("bad_request" if status == 400 else "general_error")
    assert_rolled_back(uc, partner, before)


def test_wrong_partner_credentials_are_502_not_401(uc, partner):
    setup_catalog(uc)
    doc = partner.registration()
    doc["basic_auth"]["password"] = "wrong"
    doc["options"] = FAST
    pid = uc.raw("POST", f"{PC}/partners", json=doc).json()["partner_id"]
    before = snapshot(uc)
    j = err(connect(uc, pid, catalog_name="pc_cat"), 502, "PARTNER_REJECTED", "partner answered 401 unauthorized")
    assert j["partner_status"] == 401 and j["partner_error"]["error_reason"] == "unauthorized"
    assert_rolled_back(uc, partner, before)


def test_slow_partner_is_504_timeout_not_retried(uc, partner):
    setup_catalog(uc)
    pid = register(uc, partner, options={"timeout_ms": 300, "max_retries": 3, "retry_backoff_ms": 0})["partner_id"]
    before = snapshot(uc)
    partner.set_switches("slow", slow_seconds=1.0)
    t0 = time.monotonic()
    j = err(connect(uc, pid, catalog_name="pc_cat"), 504, "PARTNER_TIMEOUT")
    assert time.monotonic() - t0 < 0.95, "the timeout must cut the call short"
    assert j["attempts"] == 1
    assert len(partner.calls_for("connect")) == 1, "timeouts are not retried"
    assert_rolled_back(uc, partner, before)


def test_unreachable_partner_is_502_at_once(uc, partner):
    setup_catalog(uc)
    pid = register(uc, partner, options={"timeout_ms": 8000, "max_retries": 3, "retry_backoff_ms": 500})["partner_id"]
    before = snapshot(uc)
    partner.stop()
    t0 = time.monotonic()
    j = err(connect(uc, pid, catalog_name="pc_cat"), 502, "PARTNER_UNREACHABLE")
    assert time.monotonic() - t0 < 3, "no waiting for the timeout, no retries"
    assert j["attempts"] == 1
    assert snapshot(uc) == before


def test_decline_is_200_with_null_connection_and_rolls_back(uc, partner):
    setup_catalog(uc)
    pid = register(uc, partner)["partner_id"]
    before = snapshot(uc)
    partner.set_switches("decline")
    r = connect(uc, pid, catalog_name="pc_cat")
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["flow"] == "NEW_CONNECTION" and "connection" in j and j["connection"] is None
    assert j["partner_response"]["status_code"] == 200
    assert j["partner_response"]["body"]["configured_resources"] is False
    assert_rolled_back(uc, partner, before)


def test_retries_honour_max_retries_and_backoff(uc, partner):
    setup_catalog(uc)
    # status_500_once with max_retries 1: succeeds, the partner saw 2 identical calls.
    pid = register(uc, partner, options={"timeout_ms": 3000, "max_retries": 1, "retry_backoff_ms": 150})["partner_id"]
    partner.set_switches("status_500_once", fail_times=1)
    r = connect(uc, pid, catalog_name="pc_cat")
    assert r.status_code == 200, r.text
    calls = partner.calls_for("connect")
    assert [c["status"] for c in calls] == [500, 200]
    assert calls[0]["body"] == calls[1]["body"], "a retry resends the same request"
    assert calls[1]["time"] - calls[0]["time"] >= 0.13
    assert uc.raw("DELETE", f"{PC}/connections/{r.json()['connection']['id']}", token="carol").status_code == 200
    assert uc.raw("DELETE", f"{PC}/partners/{pid}").status_code == 200

    # max_retries 0: fails after one attempt, rolled back.
    pid = register(uc, partner, options={"timeout_ms": 3000, "max_retries": 0, "retry_backoff_ms": 150})["partner_id"]
    partner.clear_calls()
    before = snapshot(uc)
    partner.set_switches("status_500_once", fail_times=1)
    j = err(connect(uc, pid, catalog_name="pc_cat"), 502, "PARTNER_REJECTED", "partner answered 500 general_error")
    assert j["attempts"] == 1 and len(partner.calls_for("connect")) == 1
    assert_rolled_back(uc, partner, before)
    assert uc.raw("DELETE", f"{PC}/partners/{pid}").status_code == 200

    # Backoff doubles: 200 ms, then 400 ms; status_500 with max_retries 2 → 3 attempts.
    pid = register(uc, partner, options={"timeout_ms": 3000, "max_retries": 2, "retry_backoff_ms": 200})["partner_id"]
    partner.clear_calls()
    partner.set_switches("status_500")
    j = err(connect(uc, pid, catalog_name="pc_cat"), 502, "PARTNER_REJECTED")
    assert j["attempts"] == 3 and j["partner_status"] == 500
    times = [c["time"] for c in partner.calls_for("connect")]
    assert len(times) == 3
    gap1, gap2 = times[1] - times[0], times[2] - times[1]
    assert 0.18 <= gap1 < 1.0, gap1
    assert 0.36 <= gap2 < 1.4, gap2
    assert gap2 > gap1 * 1.4, (gap1, gap2)
    assert_rolled_back(uc, partner, before)


# --- account hooks and connectors ---------------------------------------------------------

TESS = "tess@pc.databricks-test.com"


def test_account_hooks_only_for_test_domains(start_server, partner, tmp_path):
    fx = dict(TEST_FIXTURE)
    fx["users"] = TEST_FIXTURE["users"] + [{"user_name": TESS, "display_name": "Tess Tester", "account_admin": True}]
    fx["tokens"] = TEST_FIXTURE["tokens"] + [{"token": "dapi-tess", "principal": TESS, "workspace_id": 1001}]
    path = tmp_path / "tess.json"
    path.write_text(json.dumps(fx))
    uc = start_server(fixtures=[str(path)])
    # No data permissions: no catalog needed.
    pid = register(uc, partner, data_permissions=[])["partner_id"]
    r = connect(uc, pid, token="dapi-tess")
    assert r.status_code == 200, r.text
    assert r.json()["connection"]["catalog_name"] is None and r.json()["connection"]["data_permissions"] == []

    # Non-test domains: 400 before any call.
    n = len(partner.calls)
    for domain in ("example.com", "evil-databricks-test.com", "databricks-test.com.evil.net"):
        err(uc.raw("POST", f"{PC}/partners/{pid}/delete-account", json={"domain": domain}), 400,
            "INVALID_PARAMETER_VALUE", "domain")
    err(uc.raw("POST", f"{PC}/partners/{pid}/expire-account", json={"email": ALICE}), 400,
        "INVALID_PARAMETER_VALUE", "email")
    err(uc.raw("POST", f"{PC}/partners/{pid}/delete-account", token="alice", json={"domain": "pc.databricks-test.com"}),
        403, "PERMISSION_DENIED")
    err(uc.raw("POST", f"{PC}/partners/{uuid.uuid4()}/delete-account", json={"domain": "pc.databricks-test.com"}),
        404, "RESOURCE_DOES_NOT_EXIST")
    assert len(partner.calls) == n, "refused hooks call no partner"

    # expire-account: PUT with AccountUserInfo; the sign-in then shows the expiry.
    tess_id = int(next(iter(uc.admin.users.list(filter=f'userName eq "{TESS}"'))).id)
    r = uc.raw("POST", f"{PC}/partners/{pid}/expire-account", json={"email": TESS})
    assert r.status_code == 200 and r.json() == {"partner_status": 200}, r.text
    [call] = partner.calls_for("expire_account")
    assert call["method"] == "PUT" and call["headers"]["user-agent"] == "databricks"
    assert call["json"] == {"email": TESS, "databricks_user_id": tess_id, "cloud_provider": "aws",
                            "databricks_organization_id": 1001}
    r = connect(uc, pid, token="dapi-tess")
    assert r.status_code == 200 and r.json()["flow"] == "SIGN_IN", r.text
    pb = r.json()["partner_response"]["body"]
    assert pb["account_status"] == "expired" and pb["redirect_value"] == "purchase_product"

    # delete-account: DELETE with AccountInfo (upper case and trailing dot are the same domain).
    r = uc.raw("POST", f"{PC}/partners/{pid}/delete-account", json={"domain": "PC.Databricks-Test.com."})
    assert r.status_code == 200 and r.json() == {"partner_status": 200}, r.text
    [call] = partner.calls_for("delete_account")
    assert call["method"] == "DELETE"
    assert call["json"]["cloud_provider"] == "aws" and call["json"]["databricks_organization_id"] == 1001
    assert call["json"]["domain"].lower().rstrip(".") == "pc.databricks-test.com"
    # The partner forgot the account: sign-in is 404 PARTNER_CONNECTION_NOT_FOUND; the connection stays.
    j = err(connect(uc, pid, token="dapi-tess"), 404, "PARTNER_CONNECTION_NOT_FOUND")
    assert j["partner_status"] == 404
    assert len(uc.raw("GET", f"{PC}/connections").json()["connections"]) == 1
    # Again: the partner has no such account now.
    j = err(uc.raw("POST", f"{PC}/partners/{pid}/delete-account", json={"domain": "pc.databricks-test.com"}),
            404, "PARTNER_ACCOUNT_NOT_FOUND")
    assert j["partner_error"]["error_reason"] == "account_not_found"

    # A config without the hook path: 400 INVALID_STATE naming it.
    other = register(uc, partner, name="No Hooks", omit_endpoints=["delete_account", "expire_account"])["partner_id"]
    err(uc.raw("POST", f"{PC}/partners/{other}/delete-account", json={"domain": "pc.databricks-test.com"}), 400,
        "INVALID_STATE", "delete_account_path")
    err(uc.raw("POST", f"{PC}/partners/{other}/expire-account", json={"email": TESS}), 400,
        "INVALID_STATE", "expire_account_path")


def test_connectors_are_paged_through_the_partner_token(uc, partner):
    pid = register(uc, partner)["partner_id"]
    err(uc.raw("GET", f"{PC}/partners/{pid}/connectors", token="alice"), 403, "PERMISSION_DENIED")
    seen, token, tokens = [], None, []
    while True:
        q = {"page_token": token} if token else {}
        r = uc.raw("GET", f"{PC}/partners/{pid}/connectors", token="carol", params=q)
        assert r.status_code == 200, r.text
        j = r.json()
        assert j["connectors"]
        seen += j["connectors"]
        token = j.get("next_page_token")
        if not token:
            assert "next_page_token" not in j, "omitted when the partner's token is absent or empty"
            break
        assert token not in tokens and len(tokens) < 10
        tokens.append(token)
    assert len(tokens) == 2 and len(seen) == 5 and len({c["identifier"] for c in seen}) == 5
    assert {c["type"] for c in seen} == {"source", "target"}
    # One emulator page = one partner GET, with pagination_token = the caller's page_token.
    calls = partner.calls_for("connectors")
    assert [c["method"] for c in calls] == ["GET"] * 3
    assert calls[0]["query"] == {}
    assert [c["query"] for c in calls[1:]] == [{"pagination_token": t} for t in tokens]
    assert all(c["headers"]["user-agent"] == "databricks" for c in calls)
    # An unknown token: the partner's 400 → 502 PARTNER_REJECTED.
    j = err(uc.raw("GET", f"{PC}/partners/{pid}/connectors", params={"page_token": "bogus"}), 502, "PARTNER_REJECTED")
    assert j["partner_status"] == 400
    assert partner.calls_for("connectors")[-1]["query"] == {"pagination_token": "bogus"}
    # An invalid connector → 502 PARTNER_RESPONSE_INVALID naming it.
    partner.set_switches("wrong_enum")
    j = err(uc.raw("GET", f"{PC}/partners/{pid}/connectors"), 502, "PARTNER_RESPONSE_INVALID", "type")
    assert any(v.startswith("connectors[") and ".type" in v for v in j["violations"]), j["violations"]
    partner.set_switches()
    other = register(uc, partner, name="No Connectors", omit_endpoints=["connectors"])["partner_id"]
    err(uc.raw("GET", f"{PC}/partners/{other}/connectors"), 400, "INVALID_STATE", "get_connectors_path")


# --- crash recovery ----------------------------------------------------------------------------


def test_server_killed_mid_connect_cleans_up_at_next_start(start_server, partner, tmp_path):
    db = str(tmp_path / "crash.db")
    uc = start_server(db=db)
    setup_catalog(uc)
    pid = register(uc, partner, options={"timeout_ms": 10000, "max_retries": 0, "retry_backoff_ms": 0})["partner_id"]
    before = snapshot(uc)
    partner.set_switches("slow", slow_seconds=3)

    def run():
        try:
            connect(uc, pid, catalog_name="pc_cat")
        except requests.RequestException:
            pass  # the server dies under it

    t = threading.Thread(target=run, daemon=True)
    t.start()
    wait_for(lambda: partner.calls_for("connect"), what="the partner to receive the connect")
    req = partner.calls_for("connect")[0]["json"]
    pat, app_id, wid = req["user_info"]["auth"]["personal_access_token"], req["service_principal_id"], req["cluster_id"]
    # Provisioning was committed before the call: the PAT works while the call is in flight.
    assert uc.client(pat).current_user.me().user_name == app_id
    uc.close_clients()
    uc.proc.kill()  # SIGKILL
    uc.proc.wait()
    t.join(5)

    uc2 = start_server(db=db)
    # First requests after the listening line: the pending connection is already rolled back.
    pat_is_dead(uc2, pat)
    a = uc2.admin
    assert app_id not in {s.application_id for s in a.service_principals.list()}
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST", status=404, server=uc2):
        a.warehouses.get(wid)
    assert app_id not in grants_of(uc2, "pc_cat")
    assert snapshot(uc2) == before
    assert not partner.calls_for("delete_connection")
    # Nothing blocks a new connect (no stale pending record → no 409).
    partner.set_switches()
    r = connect(uc2, pid, catalog_name="pc_cat")
    assert r.status_code == 200 and r.json()["flow"] == "NEW_CONNECTION", r.text


# --- more of connect and rollback ---------------------------------------------------------------------


def test_permission_translation_object_permissions_and_their_rollback(uc, partner):
    setup_catalog(uc)
    cfg = dict(
        data_permissions=[{"permission": p} for p in
                          ("USAGE", "USE_CATALOG", "CREATE", "READ_METADATA", "MODIFY_CLASSPATH", "SELECT")],
        object_permissions=[{"name": "SQL_Endpoint", "level": "IS_OWNER"}, {"name": "Token", "level": "CAN_USE"},
                            {"name": "Cluster", "level": "CAN_MANAGE"}],
    )
    pid = register(uc, partner, **cfg)["partner_id"]
    before = snapshot(uc)
    # Declined first: the token ACL entry and the grants are rolled back too.
    partner.set_switches("decline")
    r = connect(uc, pid, catalog_name="pc_cat")
    assert r.status_code == 200 and r.json()["connection"] is None, r.text
    assert_rolled_back(uc, partner, before)

    partner.set_switches()
    r = connect(uc, pid, catalog_name="pc_cat")
    assert r.status_code == 200, r.text
    conn = r.json()["connection"]
    app_id, wid = conn["service_principal_id"], conn["warehouse_id"]
    # item 4: 1.0 names, union granted once, on the catalog only; MODIFY_CLASSPATH skipped.
    assert grants_of(uc, "pc_cat")[app_id] == sorted(
        {"USE_CATALOG", "USE_SCHEMA", "CREATE_SCHEMA", "CREATE_TABLE", "BROWSE", "SELECT"})
    by_perm = {d["permission"]: d["privileges"] for d in conn["data_permissions"]}
    assert sorted(by_perm["USAGE"]) == ["USE_CATALOG", "USE_SCHEMA"]
    assert sorted(by_perm["CREATE"]) == ["CREATE_SCHEMA", "CREATE_TABLE"]
    assert by_perm["READ_METADATA"] == ["BROWSE"] and "MODIFY_CLASSPATH" not in by_perm
    skipped = conn["skipped_permissions"]
    assert {s.get("permission") or s.get("name") for s in skipped} == {"MODIFY_CLASSPATH", "Cluster"}
    assert all(s["reason"] for s in skipped)
    # item 5: IS_OWNER makes the SP the owner, the admin keeps CAN_MANAGE; Token → tokens ACL.
    perms = acl(uc.admin.permissions.get("warehouses", wid))
    assert perms[app_id] == ["IS_OWNER"] and perms[CAROL] == ["CAN_MANAGE"]
    assert acl(uc.admin.permissions.get("authorization", "tokens"))[app_id] == ["CAN_USE"]
    assert {(o["name"], o["object_type"], o["object_id"]) for o in conn["object_permissions"]} == {
        ("SQL_Endpoint", "warehouses", wid), ("Token", "authorization", "tokens")}
    # Delete removes the object-permission entries again.
    assert uc.raw("DELETE", f"{PC}/connections/{conn['id']}", token="carol").status_code == 200
    after = snapshot(uc)
    assert after["token_acl"] == before["token_acl"] and after["grants"] == before["grants"]


def test_one_connection_per_workspace_two_workspaces_two_service_principals(uc, partner):
    pid = register(uc, partner, data_permissions=[])["partner_id"]
    r1 = connect(uc, pid, token="carol")
    r2 = connect(uc, pid, token="carol2")  # workspace 1002 (no metastore; no catalog needed)
    assert r1.status_code == 200 and r2.status_code == 200, (r1.text, r2.text)
    c1, c2 = r1.json()["connection"], r2.json()["connection"]
    assert (c1["workspace_id"], c2["workspace_id"]) == (1001, 1002)
    assert c1["service_principal_name"] == c2["service_principal_name"] == SP_NAME
    assert c1["service_principal_id"] != c2["service_principal_id"]
    assert c1["warehouse_id"] != c2["warehouse_id"]
    assert [c["id"] for c in uc.raw("GET", f"{PC}/connections", token="carol").json()["connections"]] == [c1["id"]]
    assert [c["id"] for c in uc.raw("GET", f"{PC}/connections", token="carol2").json()["connections"]] == [c2["id"]]
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST", status=404, server=uc):
        uc.admin.warehouses.get(c2["warehouse_id"])  # another workspace's warehouse
    # The second connect in 1001 is a sign-in, not a second connection.
    assert connect(uc, pid, token="carol").json()["flow"] == "SIGN_IN"
    j = err(uc.raw("DELETE", f"{PC}/partners/{pid}"), 400, "INVALID_STATE", "1001", "1002")
    assert "2" in j["message"]


def test_a_client_that_disconnects_does_not_cancel_the_connect(uc, partner):
    setup_catalog(uc)
    pid = register(uc, partner, options={"timeout_ms": 5000, "max_retries": 0, "retry_backoff_ms": 0})["partner_id"]
    partner.set_switches("slow", slow_seconds=1.0)
    with pytest.raises(requests.exceptions.Timeout):
        requests.post(uc.url + f"{PC}/connections", headers={"Authorization": f"Bearer {TOKENS['carol']}"},
                      json={"partner_id": pid, "catalog_name": "pc_cat"}, timeout=0.3)
    wait_for(lambda: uc.raw("GET", f"{PC}/connections").json()["connections"], timeout=6,
             what="the connection to become active without its client")
    [conn] = uc.raw("GET", f"{PC}/connections").json()["connections"]
    assert conn["connection_id"] in partner.connections()
