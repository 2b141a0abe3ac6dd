"""Tests of the reference fake partner (tests/partner/fake_partner.py).

They prove that the well-behaved partner answers every endpoint of the Partner Connect API
2.0 the way the emulator's answer checks accept, and that every misbehaviour switch changes the answer as its name
says, i.e. that it breaks exactly the rule the emulator and `certify` must catch.

Run: .venv/bin/python -m pytest tests/partner -q   (stdlib + pytest only; tests/run makes .venv)
"""

from __future__ import annotations

import base64
import json
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fake_partner  # noqa: E402

HERE = Path(__file__).resolve().parent
USER, PASSWORD = "pc-partner", "s3cret"
WS = 6051921418418893  # a workspace id

# --------------------------------------------------------------------------------------------------
# A minimal Databricks-side client and the emulator's answer checks, written independently of the partner
# --------------------------------------------------------------------------------------------------

OPENER = fake_partner._no_proxy_opener()


class Answer:
    def __init__(self, status: int, headers: dict, raw: bytes):
        self.status, self.headers, self.raw = status, headers, raw
        try:
            self.json = json.loads(raw.decode())
        except (UnicodeDecodeError, json.JSONDecodeError):
            self.json = None


def call(partner, op, body=None, *, auth=(USER, PASSWORD), user_agent="databricks", query=None,
         timeout=10.0, raw_body=None, content_type="application/json; charset=utf-8",
         method=None, path=None):
    """Call an operation as the emulator does."""
    cfg = partner.config()
    op_method, key, _ = fake_partner.OPERATIONS[op]
    url = cfg["base_url"].rstrip("/") + (path or cfg["endpoints"][key])
    if query:
        url += "?" + urllib.parse.urlencode(query)
    headers = {"Accept": "application/json", "Accept-Language": "en-US"}
    if user_agent is not None:
        headers["User-Agent"] = user_agent
    if auth is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    data = raw_body if raw_body is not None else (
        json.dumps(body).encode() if body is not None else None)
    if data is not None:
        headers["Content-Type"] = content_type
    req = urllib.request.Request(url, data=data, headers=headers, method=method or op_method)
    try:
        with OPENER.open(req, timeout=timeout) as resp:
            return Answer(resp.status, dict(resp.headers), resp.read())
    except urllib.error.HTTPError as e:
        return Answer(e.code, dict(e.headers), e.read())


ENUMS = {
    "redirect_value": {"create_trial", "purchase_product", "sign_in", "contact_admin", "not_applicable"},
    "user_status": {"new", "existing", "not_applicable"},
    "account_status": {"new", "active", "expired", "not_applicable"},
    "error_reason": {"unauthorized", "bad_request", "account_not_found", "connection_not_found",
                     "general_error"},
}


def violations(op, ans: Answer, config, *, new_connection=True):
    """The rules the emulator applies to a partner's answer. [] = valid."""
    out = []
    allowed = {200, 201, 400, 401, 404, 500} if op == "connect" else {200, 400, 401, 404, 500}
    if ans.status not in allowed:
        return [f"status: {ans.status} not allowed"]
    if ans.status == 200 and op in ("delete_account", "expire_account"):
        return []  # body not inspected
    body = ans.json
    if body is None or not isinstance(body, dict):
        return ["body: not JSON"]
    if ans.status >= 400:
        if body.get("error_reason") not in ENUMS["error_reason"]:
            out.append("error_reason: invalid")
        if ans.status == 404:
            if body.get("error_reason") not in ("account_not_found", "connection_not_found"):
                out.append("error_reason: 404 needs *_not_found")
            if op == "connect" and new_connection:
                out.append("status: 404 on a new connection")
        return out
    if op == "connect":
        uri = body.get("redirect_uri")
        if not isinstance(uri, str):
            out.append("redirect_uri: required")
        else:
            p = urllib.parse.urlsplit(uri)
            host = (p.hostname or "").lower()
            if p.scheme not in ("http", "https") or not any(
                    host == h.lower() or host.endswith("." + h.lower()) for h in config["hostnames"]):
                out.append(f"redirect_uri: host {host} is not in hostnames")
        for k in ("redirect_value", "user_status", "account_status"):
            if body.get(k) not in ENUMS[k]:
                out.append(f"{k}: {body.get(k)!r} is not in the enum")
        configured = body.get("configured_resources")
        if not isinstance(configured, bool):
            out.append("configured_resources: must be a JSON boolean")
        cid = body.get("connection_id")
        if new_connection and configured is True:
            if not isinstance(cid, str) or not cid:
                out.append("connection_id: required when configured_resources is true")
        elif "connection_id" in body and isinstance(configured, bool):
            out.append("connection_id: must be absent")
    elif op == "test_connection":
        results = body.get("test_results")
        if not isinstance(results, list):
            out.append("test_results: required")
        else:
            for i, r in enumerate(results):
                if not (isinstance(r.get("test_name"), str) and r["test_name"]):
                    out.append(f"test_results[{i}].test_name")
                if r.get("status") not in ("PASS", "FAIL", "UNKNOWN"):
                    out.append(f"test_results[{i}].status")
    elif op == "delete_connection":
        if body.get("resource_status") not in ("resources_deleted", "resources_pending_deletion",
                                               "deletion_acknowledged"):
            out.append("resource_status: invalid")
    elif op == "connectors":
        cons = body.get("connectors")
        if not isinstance(cons, list):
            out.append("connectors: required")
        else:
            for i, c in enumerate(cons):
                for k in ("identifier", "name"):
                    if not (isinstance(c.get(k), str) and c[k]):
                        out.append(f"connectors[{i}].{k}")
                if c.get("type") not in ("source", "target"):
                    out.append(f"connectors[{i}].type: {c.get('type')!r}")
        if "pagination_token" in body and not isinstance(body["pagination_token"], str):
            out.append("pagination_token: must be a string")
    return out


# --------------------------------------------------------------------------------------------------
# Request builders (what the emulator sends)
# --------------------------------------------------------------------------------------------------

_user_ids: dict[str, int] = {}


def connect_body(email, *, workspace_id=WS, connection_id=None, pat="dapi-test-pat", demo=False,
                 cloud="aws", workspace_url=None):
    established = connection_id is not None
    user_info = {
        "email": email, "first_name": email.split("@")[0], "last_name": "",
        "databricks_user_id": _user_ids.setdefault(email, 1000 + len(_user_ids)),
        "databricks_organization_id": workspace_id, "is_connection_established": established,
    }
    if not established:
        user_info["auth"] = {"personal_access_token": pat}
    body = {
        "user_info": user_info, "hostname": "127.0.0.1", "port": 8080,
        "workspace_url": workspace_url or f"http://127.0.0.1:8080/?o={workspace_id}",
        "workspace_id": workspace_id, "demo": demo, "cloud_provider": cloud,
        "cloud_provider_region": "us-west-2", "is_free_trial": False, "catalog_name": "main",
        "cluster_id": "0123456789abcdef", "is_sql_endpoint": True, "is_sql_warehouse": True,
        "http_path": "/sql/1.0/warehouses/0123456789abcdef",
        "service_principal_id": str(uuid.uuid4()), "connection_scope": "workspace",
    }
    if established:
        body["connection_id"] = connection_id
    return body


def domain():
    return f"{uuid.uuid4().hex[:8]}.databricks-test.com"


def connect(p, email, **kw):
    return call(p, "connect", connect_body(email, **kw))


def sign_in(p, email, connection_id, **kw):
    return call(p, "connect", connect_body(email, connection_id=connection_id, **kw))


def conn_info(cid, ws=WS):
    return {"connection_id": cid, "cloud_provider": "aws", "databricks_organization_id": ws}


def fetch(url):
    req = urllib.request.Request(url, headers={"User-Agent": "databricks"})
    try:
        with OPENER.open(req, timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


@pytest.fixture
def partner():
    p = fake_partner.start(basic_user=USER, basic_password=PASSWORD, slow_seconds=1.0)
    yield p
    p.stop()


@pytest.fixture
def make_partner():
    started = []

    def make(*switches, **kw):
        kw.setdefault("basic_user", USER)
        kw.setdefault("basic_password", PASSWORD)
        p = fake_partner.start(switches, **kw)
        started.append(p)
        return p

    yield make
    for p in started:
        p.stop()


# --------------------------------------------------------------------------------------------------
# Start-up, config, call log
# --------------------------------------------------------------------------------------------------

REQUIRED_CONFIG = [  # PartnerConfig.required
    "api_version", "name", "description_blurb", "category", "base_url", "endpoints",
    "sign_up_page", "privacy_policy", "terms_of_service", "logo_file", "icon_file",
    "allow_editable_email", "resources_to_provision", "supported_clouds", "hostnames",
    "new_user_action",
]


def test_config_is_a_valid_partner_config(partner):
    cfg = partner.config()
    for key in REQUIRED_CONFIG:
        assert key in cfg, key
    assert re.fullmatch(r"2\.\d+\.\d+", cfg["api_version"])
    assert cfg["category"] in {"INGEST", "DATA_PREP_AND_TRANSFORM", "SECURITY_AND_GOVERNANCE",
                               "BI_AND_VIZ", "ML", "DATA_QUALITY", "REVERSE_ETL",
                               "SEMANTIC_LAYER", "DATA_GOVERNANCE"}
    assert cfg["base_url"] == partner.url
    assert set(cfg["endpoints"]) == {"connect_path", "test_connection_path",
                                     "delete_connection_path", "delete_account_path",
                                     "expire_account_path", "get_connectors_path"}
    assert all(v.startswith("/") for v in cfg["endpoints"].values())
    assert urllib.parse.urlsplit(partner.url).hostname in cfg["hostnames"]
    assert all(":" not in h and "/" not in h for h in cfg["hostnames"])
    for key in ("sign_up_page", "privacy_policy", "terms_of_service"):
        assert fetch(cfg[key]) == 200
    assert cfg["logo_file"].endswith(".png") and cfg["icon_file"].endswith(".svg")
    assert cfg["new_user_action"] == "auto_add" and cfg["trial_type"] == "account"
    assert cfg["supports_demo"] is True and cfg["require_manual_signup"] is False
    assert set(cfg["supported_clouds"]) <= {"aws", "azure", "gcp"}
    json.dumps(cfg)  # serialisable


def test_config_options_and_registration(make_partner):
    p = make_partner(prefix="/partner-api", name="Acme Ingest", new_user_action="invite",
                     trial_type="user", omit_endpoints=["connectors", "expire_account"])
    cfg = p.config()
    assert cfg["base_url"] == p.url + "/partner-api" and cfg["name"] == "Acme Ingest"
    assert "get_connectors_path" not in cfg["endpoints"]
    assert "expire_account_path" not in cfg["endpoints"]
    assert cfg["new_user_action"] == "invite" and cfg["trial_type"] == "user"
    assert p.config(omit_endpoints=[], category="ML")["category"] == "ML"
    assert "get_connectors_path" in p.config(omit_endpoints=[])["endpoints"]
    # the API lives under the prefix only
    assert call(p, "connectors", path="/connectors").status == 200  # still served
    req = urllib.request.Request(p.url + "/connectors", headers={"User-Agent": "databricks"})
    with pytest.raises(urllib.error.HTTPError) as e:
        OPENER.open(req, timeout=5)
    assert e.value.code == 404
    reg = p.registration()
    assert reg["basic_auth"] == {"username": USER, "password": PASSWORD}
    assert reg["config"] == cfg
    assert "basic_auth" not in make_partner(basic_user=None, basic_password=None).registration()


def test_cli_prints_one_line_and_writes_config(tmp_path):
    cfg_file, reg_file = tmp_path / "partner.json", tmp_path / "registration.json"
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "fake_partner.py"), "--port", "0", "--switch", "decline",
         "--basic-user", USER, "--basic-password", PASSWORD, "--config-out", str(cfg_file),
         "--registration-out", str(reg_file), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        m = re.fullmatch(r"fake-partner listening on (http://127\.0\.0\.1:(\d+))\n", line)
        assert m, line
        cfg = json.loads(cfg_file.read_text())
        assert cfg["base_url"] == m.group(1)
        assert json.loads(reg_file.read_text())["basic_auth"]["username"] == USER

        class Remote:  # the `call` helper only needs .config()
            def config(self):
                return cfg
        ans = call(Remote(), "connect", connect_body("a@" + domain()))
        assert ans.status == 200 and ans.json["configured_resources"] is False  # --switch decline
        # control routes steer a running process
        req = urllib.request.Request(m.group(1) + "/_fake/switches", method="PUT",
                                     data=json.dumps({"switches": ["status_500"]}).encode())
        assert json.loads(OPENER.open(req, timeout=5).read())["switches"] == ["status_500"]
        assert call(Remote(), "connectors").status == 500
        state = json.loads(OPENER.open(m.group(1) + "/_fake/calls", timeout=5).read())
        assert [c["operation"] for c in state["calls"]] == ["connect", "connectors"]
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
    assert proc.stdout.read() == ""  # nothing but the one line


def test_cli_usage_errors():
    for args in (["--basic-user", "u"], ["--switch", "no_such_switch"]):
        r = subprocess.run([sys.executable, str(HERE / "fake_partner.py"), "--port", "0", *args],
                           capture_output=True, text=True, timeout=10)
        assert r.returncode == 2 and r.stdout == ""


def test_calls_are_logged_with_headers_and_body(partner):
    body = connect_body("log@" + domain())
    call(partner, "connect", body)
    call(partner, "connectors", query={"pagination_token": "page-2"})
    connect_call, list_call = partner.calls
    assert connect_call["method"] == "POST" and connect_call["path"] == "/connect"
    assert connect_call["operation"] == "connect" and connect_call["status"] == 200
    assert connect_call["json"] == body
    assert connect_call["headers"]["user-agent"] == "databricks"
    assert connect_call["headers"]["authorization"].startswith("Basic ")
    assert list_call["query"] == {"pagination_token": "page-2"}
    assert list_call["method"] == "GET" and list_call["json"] is None
    assert len(partner.calls_for("connect")) == 1
    partner.clear_calls()
    assert partner.calls == []


def test_calls_log_is_thread_safe(partner):
    def worker():
        for _ in range(10):
            call(partner, "connectors")
    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    calls = partner.calls
    assert len(calls) == 80 and all(c["status"] == 200 for c in calls)


def test_unknown_switch_is_rejected(partner):
    with pytest.raises(ValueError):
        partner.set_switches("no_such_switch")
    with pytest.raises(ValueError):
        fake_partner.start(["nope"])


# --------------------------------------------------------------------------------------------------
# Authentication and headers
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("op", list(fake_partner.OPERATIONS))
def test_every_endpoint_requires_basic_auth_and_user_agent(partner, op):
    body = None if op == "connectors" else {}
    for auth in (None, (USER, "wrong"), ("someone", PASSWORD)):
        ans = call(partner, op, body, auth=auth)
        assert ans.status == 401 and ans.json["error_reason"] == "unauthorized", auth
        assert violations(op, ans, partner.config()) == []
    for ua in (None, "Mozilla/5.0", "Databricks"):
        ans = call(partner, op, body, user_agent=ua)
        assert ans.status == 400 and ans.json["error_reason"] == "bad_request", ua
        assert "User-Agent" in ans.json["debugging_message"]


def test_without_configured_credentials_no_auth_is_needed(make_partner):
    p = make_partner(basic_user=None, basic_password=None)
    assert call(p, "connectors", auth=None).status == 200
    assert call(p, "connectors", auth=("any", "thing")).status == 200
    assert call(p, "connectors", auth=None, user_agent="curl/8").status == 400


def test_wrong_method_unknown_path_and_pages(partner):
    assert call(partner, "connect", {}, method="GET").status == 405
    assert call(partner, "connectors", path="/nope").status == 404
    # redirect pages need no auth and no User-Agent
    req = urllib.request.Request(partner.url + "/app/create_trial?email=x")
    assert OPENER.open(req, timeout=5).status == 200


# --------------------------------------------------------------------------------------------------
# connect: new connection and sign-in (well-behaved)
# --------------------------------------------------------------------------------------------------


def test_new_connection_creates_account_and_user(partner):
    email = "user1@" + domain()
    ans = connect(partner, email, pat="dapi-abc")
    assert ans.status == 200
    assert violations("connect", ans, partner.config()) == []
    b = ans.json
    assert (b["user_status"], b["account_status"], b["redirect_value"]) == ("new", "new",
                                                                           "create_trial")
    assert b["configured_resources"] is True
    uuid.UUID(b["connection_id"])
    assert fetch(b["redirect_uri"]) == 200  # reachable, as certify checks
    conn = partner.connections()[b["connection_id"]]
    assert conn["personal_access_token"] == "dapi-abc" and conn["workspace_id"] == WS
    assert conn["created_by"] == email
    (account,) = [a for a in partner.accounts() if a["domain"] == email.split("@")[1]]
    assert account["users"] == [email]
    # every new connection gets a fresh connection_id
    again = connect(partner, email)
    assert again.json["connection_id"] != b["connection_id"]


def test_sign_in_returns_existing_connection(partner):
    email = "user1@" + domain()
    cid = connect(partner, email).json["connection_id"]
    ans = sign_in(partner, email, cid)
    assert ans.status == 200
    assert violations("connect", ans, partner.config(), new_connection=False) == []
    assert "connection_id" not in ans.json
    assert (ans.json["user_status"], ans.json["account_status"],
            ans.json["redirect_value"]) == ("existing", "active", "sign_in")
    assert fetch(ans.json["redirect_uri"]) == 200
    assert len(partner.connections()) == 1  # a sign-in creates no connection


def test_sign_in_unknown_or_other_workspace_connection_is_404(partner):
    email = "user1@" + domain()
    cid = connect(partner, email).json["connection_id"]
    for ans in (sign_in(partner, email, str(uuid.uuid4())),
                sign_in(partner, email, cid, workspace_id=WS + 1)):
        assert ans.status == 404 and ans.json["error_reason"] == "connection_not_found"
        assert violations("connect", ans, partner.config(), new_connection=False) == []


def test_second_user_of_same_domain_joins_existing_account(partner):
    d = domain()
    connect(partner, "user1@" + d)
    ans = connect(partner, "user2@" + d, workspace_id=WS + 7)
    assert violations("connect", ans, partner.config()) == []
    assert (ans.json["user_status"], ans.json["account_status"]) == ("new", "active")
    assert ans.json["redirect_value"] == "sign_in"
    ans = connect(partner, "user2@" + d, workspace_id=WS + 8)  # now a member
    assert ans.json["user_status"] == "existing"


def test_same_user_in_a_second_workspace(partner):  # P600
    email = "user1@" + domain()
    for ws in (WS, WS + 1):
        new = connect(partner, email, workspace_id=ws)
        assert violations("connect", new, partner.config()) == []
        ans = sign_in(partner, email, new.json["connection_id"], workspace_id=ws)
        assert violations("connect", ans, partner.config(), new_connection=False) == []


@pytest.mark.parametrize("action, expect", [
    ("auto_add", (200, "new", "sign_in")),
    ("invite", (200, "not_applicable", "contact_admin")),
    ("not_found", (404, "account_not_found", None)),
    ("error", (500, "general_error", None)),
])
def test_new_user_action_on_sign_in(make_partner, action, expect):  # P302
    p = make_partner(new_user_action=action)
    d = domain()
    cid = connect(p, "user1@" + d).json["connection_id"]
    ans = sign_in(p, "user2@" + d, cid)
    assert violations("connect", ans, p.config(), new_connection=False) == []
    assert ans.status == expect[0]
    if ans.status == 200:
        assert (ans.json["user_status"], ans.json["redirect_value"]) == expect[1:]
    else:
        assert ans.json["error_reason"] == expect[1]
    members = [a for a in p.accounts() if a["domain"] == d][0]["users"]
    assert ("user2@" + d in members) == (action == "auto_add")


@pytest.mark.parametrize("action, status, configured", [
    ("auto_add", 200, True), ("invite", 200, True), ("not_found", 200, False),
    ("error", 500, None),
])
def test_new_user_action_on_new_connection(make_partner, action, status, configured):
    p = make_partner(new_user_action=action)
    d = domain()
    connect(p, "user1@" + d)
    ans = connect(p, "user2@" + d, workspace_id=WS + 1)
    assert ans.status == status
    assert violations("connect", ans, p.config()) == []  # never a 404 on a new connection
    if status == 200:
        assert ans.json["configured_resources"] is configured
        assert ("connection_id" in ans.json) is configured
    assert len(p.connections()) == (2 if configured else 1)


def test_demo_connects_are_fresh_trials(partner):  # P700
    d = domain()
    for email in ("user1@" + d, "user2@" + d, "user1@" + d):
        ans = connect(partner, email, demo=True)
        assert violations("connect", ans, partner.config()) == []
        assert (ans.json["redirect_value"], ans.json["user_status"],
                ans.json["account_status"]) == ("create_trial", "new", "new")
        s = sign_in(partner, email, ans.json["connection_id"], demo=True)
        assert violations("connect", s, partner.config(), new_connection=False) == []
    # without supports_demo the flag is ignored: the second connect sees the account
    assert connect(partner, "user1@" + d).json["account_status"] == "new"
    assert connect(partner, "user2@" + d).json["account_status"] == "active"


def test_demo_flag_ignored_without_supports_demo(make_partner):
    p = make_partner(supports_demo=False)
    d = domain()
    connect(p, "user1@" + d, demo=True)
    assert connect(p, "user2@" + d, demo=True).json["account_status"] == "active"


def test_manual_signup(make_partner):
    p = make_partner(require_manual_signup=True)
    email = "user1@" + domain()
    cid = connect(p, email).json["connection_id"]
    ans = sign_in(p, email, cid)
    assert ans.status == 404 and ans.json["error_reason"] == "account_not_found"
    p.complete_manual_signup(email)
    assert sign_in(p, email, cid).status == 200


@pytest.mark.parametrize("mutate, field", [
    (lambda b: b.pop("workspace_url"), "workspace_url: required"),
    (lambda b: b.update(demo="false"), "demo: must be a JSON boolean"),
    (lambda b: b.update(port="8080"), "port: must be a JSON integer"),
    (lambda b: b.update(catalog_name=None), "catalog_name: must not be null"),
    (lambda b: b["user_info"].pop("auth"), "user_info.auth: required"),
    (lambda b: b["user_info"].update(email="nobody"), "user_info.email"),
    (lambda b: b["user_info"].update(databricks_user_id="7"), "user_info.databricks_user_id"),
    (lambda b: b.update(workspace_id=1), "workspace_id: must equal"),
    (lambda b: b.update(cloud_provider="ibm"), "cloud_provider"),
    (lambda b: b.update(connection_id="x"), "connection_id: must be absent"),
])
def test_bad_connect_request_is_400_naming_the_field(partner, mutate, field):
    body = connect_body("user1@" + domain())
    mutate(body)
    ans = call(partner, "connect", body)
    assert ans.status == 400 and ans.json["error_reason"] == "bad_request"
    assert field in ans.json["debugging_message"]
    assert partner.connections() == {}


def test_bad_sign_in_request_is_400(partner):
    email = "user1@" + domain()
    cid = connect(partner, email).json["connection_id"]
    body = connect_body(email, connection_id=cid)
    body["user_info"]["auth"] = {"personal_access_token": "x"}
    assert "user_info.auth: must be absent" in call(partner, "connect", body).json["debugging_message"]
    body = connect_body(email, connection_id=cid)
    del body["connection_id"]
    body["user_info"]["is_connection_established"] = True
    assert "connection_id: required" in call(partner, "connect", body).json["debugging_message"]


def test_non_json_and_wrong_content_type_are_400(partner):
    for kw in ({"raw_body": b"{not json"}, {"raw_body": b"[1]"},
               {"raw_body": b"{}", "content_type": "text/plain"}):
        ans = call(partner, "connect", **kw)
        assert ans.status == 400 and ans.json["error_reason"] == "bad_request", kw


# --------------------------------------------------------------------------------------------------
# test-connection, delete-connection
# --------------------------------------------------------------------------------------------------


def test_test_connection(partner):  # P800
    cid = connect(partner, "user1@" + domain()).json["connection_id"]
    ans = call(partner, "test_connection", conn_info(cid))
    assert ans.status == 200 and violations("test_connection", ans, partner.config()) == []
    assert all(r["status"] == "PASS" and r["message"] for r in ans.json["test_results"])
    assert call(partner, "test_connection", {"connection_id": cid}).status == 200  # the API's minimum
    for body, status, reason in (
            (conn_info(str(uuid.uuid4())), 404, "connection_not_found"),
            (conn_info(cid, ws=WS + 1), 404, "connection_not_found"),
            ({}, 400, "bad_request"), ({"connection_id": 7}, 400, "bad_request")):
        ans = call(partner, "test_connection", body)
        assert (ans.status, ans.json["error_reason"]) == (status, reason), body
        assert violations("test_connection", ans, partner.config()) == []


def test_delete_connection(partner):  # P401, P402, P801
    email = "user1@" + domain()
    cid = connect(partner, email).json["connection_id"]
    ans = call(partner, "delete_connection", conn_info(cid))
    assert ans.status == 200 and ans.json == {"resource_status": "resources_deleted"}
    assert violations("delete_connection", ans, partner.config()) == []
    assert cid not in partner.connections()
    for ans in (call(partner, "delete_connection", conn_info(cid)),
                call(partner, "test_connection", conn_info(cid)),
                sign_in(partner, email, cid)):
        assert ans.status == 404 and ans.json["error_reason"] == "connection_not_found"
    # connect again after the deletion: a valid new connection (the account still exists)
    again = connect(partner, email)
    assert violations("connect", again, partner.config()) == []
    assert again.json["user_status"] == "existing"
    bad = call(partner, "delete_connection", {"connection_id": cid})
    assert bad.status == 400 and "cloud_provider: required" in bad.json["debugging_message"]


# --------------------------------------------------------------------------------------------------
# delete-account, expire-account (test hooks)
# --------------------------------------------------------------------------------------------------


def account_info(d):
    return {"domain": d, "cloud_provider": "azure", "databricks_organization_id": WS}


def account_user(email):
    return {"email": email, "databricks_user_id": 1234, "cloud_provider": "azure",
            "databricks_organization_id": WS}


def test_test_domains():
    yes = ["databricks-test.com", "abc123.databricks-test.com", "X.Databricks-Demo.COM.",
           "databricks-demo.com"]
    no = ["example.com", "databricks.com", "notdatabricks-test.com", "databricks-test.com.evil.io"]
    assert all(fake_partner.is_test_domain(d) for d in yes)
    assert not any(fake_partner.is_test_domain(d) for d in no)


def test_delete_account(partner):  # P403, P404
    d = domain()
    cid = connect(partner, "user1@" + d, cloud="azure").json["connection_id"]
    ans = call(partner, "delete_account", account_info(d.upper()))
    assert ans.status == 200
    assert [a for a in partner.accounts() if a["domain"] == d] == []
    s = sign_in(partner, "user1@" + d, cid, cloud="azure")
    assert s.status == 404 and s.json["error_reason"] == "connection_not_found"
    again = connect(partner, "user1@" + d, cloud="azure")
    assert (again.json["user_status"], again.json["account_status"]) == ("new", "new")
    assert call(partner, "delete_account", account_info(domain())).json["error_reason"] == \
        "account_not_found"


def test_hooks_refuse_non_test_domains(partner):  # P405
    d = f"{uuid.uuid4().hex[:8]}.example.com"
    connect(partner, "user1@" + d, cloud="azure")
    for op, body in (("delete_account", account_info(d)),
                     ("expire_account", account_user("user1@" + d))):
        ans = call(partner, op, body)
        assert ans.status == 400 and ans.json["error_reason"] == "bad_request", op
        assert violations(op, ans, partner.config()) == []
    assert [a for a in partner.accounts() if a["domain"] == d]  # untouched


def test_expire_account_trial_type_account(partner):  # P501, P502 (account)
    d = domain()
    cid = connect(partner, "user1@" + d, cloud="azure").json["connection_id"]
    sign_in(partner, "user2@" + d, cid, cloud="azure")  # auto-added
    assert call(partner, "expire_account", account_user("user1@" + d)).status == 200
    for email in ("user1@" + d, "user2@" + d):
        ans = sign_in(partner, email, cid, cloud="azure")
        assert violations("connect", ans, partner.config(), new_connection=False) == []
        assert (ans.json["account_status"], ans.json["redirect_value"]) == ("expired",
                                                                            "purchase_product")
    new = connect(partner, "user1@" + d, workspace_id=WS + 1)
    assert new.json["account_status"] == "expired"
    ans = call(partner, "expire_account", account_user("x@" + domain()))
    assert ans.status == 404 and ans.json["error_reason"] == "account_not_found"
    bad = call(partner, "expire_account", {"email": "user1@" + d})
    assert bad.status == 400 and "databricks_user_id: required" in bad.json["debugging_message"]


def test_expire_account_trial_type_user(make_partner):  # P502 (user)
    p = make_partner(trial_type="user")
    d = domain()
    cid = connect(p, "user1@" + d).json["connection_id"]
    assert call(p, "expire_account", account_user("user1@" + d)).status == 200
    assert sign_in(p, "user1@" + d, cid).json["account_status"] == "expired"
    u2 = sign_in(p, "user2@" + d, cid)
    assert (u2.json["account_status"], u2.json["user_status"]) == ("active", "new")
    ans = call(p, "expire_account", account_user("stranger@" + d))
    assert ans.status == 404 and ans.json["error_reason"] == "account_not_found"


# --------------------------------------------------------------------------------------------------
# connectors
# --------------------------------------------------------------------------------------------------


def test_connectors_are_paged(partner):  # P900
    seen, tokens, token = [], [], None
    for _ in range(100):
        ans = call(partner, "connectors", query={"pagination_token": token} if token else None)
        assert ans.status == 200 and violations("connectors", ans, partner.config()) == []
        assert ans.json["connectors"]
        seen += [c["identifier"] for c in ans.json["connectors"]]
        token = ans.json.get("pagination_token")
        if not token:
            break
        assert token not in tokens
        tokens.append(token)
    assert seen == [c["identifier"] for c in fake_partner.CONNECTORS]
    assert len(tokens) == 2  # 5 connectors, 2 per page
    ans = call(partner, "connectors", query={"pagination_token": "bogus"})
    assert ans.status == 400 and "pagination_token" in ans.json["debugging_message"]


def test_connectors_page_size(make_partner):
    p = make_partner(page_size=10)
    ans = call(p, "connectors")
    assert len(ans.json["connectors"]) == 5 and "pagination_token" not in ans.json


# --------------------------------------------------------------------------------------------------
# Misbehaviour switches
# --------------------------------------------------------------------------------------------------


def test_switch_catalogue_is_documented():
    readme = (HERE / "README.md").read_text()
    for name in fake_partner.SWITCHES:
        assert f"`{name}`" in readme, name


def test_wrong_enum(make_partner):
    p = make_partner("wrong_enum")
    cid = connect(p, "user1@" + domain()).json["connection_id"]
    ans = connect(p, "user2@" + domain())
    assert ans.json["user_status"] == "returning"
    assert violations("connect", ans, p.config()) == ["user_status: 'returning' is not in the enum"]
    t = call(p, "test_connection", conn_info(cid))
    assert violations("test_connection", t, p.config()) == ["test_results[0].status"]
    c = call(p, "connectors")
    assert violations("connectors", c, p.config()) == ["connectors[0].type: 'sink'",
                                                        "connectors[1].type: 'sink'"]
    d = call(p, "delete_connection", conn_info(cid))
    assert violations("delete_connection", d, p.config()) == ["resource_status: invalid"]


def test_missing_connection_id(make_partner):
    p = make_partner("missing_connection_id")
    ans = connect(p, "user1@" + domain())
    assert ans.json["configured_resources"] is True and "connection_id" not in ans.json
    assert violations("connect", ans, p.config()) == [
        "connection_id: required when configured_resources is true"]


def test_string_for_bool(make_partner):
    p = make_partner("string_for_bool")
    ans = connect(p, "user1@" + domain())
    assert ans.json["configured_resources"] == "true"
    assert violations("connect", ans, p.config()) == ["configured_resources: must be a JSON boolean"]


def test_foreign_redirect_host(make_partner):
    p = make_partner("foreign_redirect_host")
    ans = connect(p, "user1@" + domain())
    assert urllib.parse.urlsplit(ans.json["redirect_uri"]).hostname == "evil.example.net"
    assert violations("connect", ans, p.config()) == [
        "redirect_uri: host evil.example.net is not in hostnames"]


def test_html_instead_of_json(make_partner):
    p = make_partner("html_instead_of_json")
    for op, body in (("connect", connect_body("user1@" + domain())),
                     ("test_connection", conn_info("x")), ("connectors", None)):
        ans = call(p, op, body)
        assert ans.status == 200 and ans.headers["Content-Type"].startswith("text/html")
        assert violations(op, ans, p.config()) == ["body: not JSON"]
    assert p.connections() == {}  # nothing processed
    assert call(p, "connectors", auth=None).status == 401  # auth still checked first


def test_status_500(make_partner):
    p = make_partner("status_500")
    for _ in range(3):
        for op, body in (("connect", connect_body("user1@" + domain())), ("connectors", None),
                         ("delete_account", account_info(domain()))):
            ans = call(p, op, body)
            assert ans.status == 500 and ans.json["error_reason"] == "general_error"
            assert violations(op, ans, p.config()) == []
    assert p.connections() == {}
    p.set_switches()
    assert call(p, "connectors").status == 200


def test_status_500_once_then_ok(make_partner):
    p = make_partner("status_500_once")
    body = connect_body("user1@" + domain())
    first, second = call(p, "connect", body), call(p, "connect", body)
    assert (first.status, second.status) == (500, 200)
    assert first.json["error_reason"] == "general_error"
    assert len(p.connections()) == 1  # the failed attempt changed nothing
    assert [c["status"] for c in p.calls_for("connect")] == [500, 200]
    p.set_switches("status_500_once", fail_times=3)  # re-armed, 3 failures
    assert [call(p, "connectors").status for _ in range(5)] == [500, 500, 500, 200, 200]
    # 401s do not consume the failures
    p.set_switches("status_500_once", fail_times=1)
    assert call(p, "connectors", auth=None).status == 401
    assert [call(p, "connectors").status for _ in range(2)] == [500, 200]


def test_slow(make_partner):
    p = make_partner("slow", slow_seconds=1.5)
    with pytest.raises((TimeoutError, socket.timeout, urllib.error.URLError)):
        call(p, "connectors", timeout=0.5)
    t0 = time.monotonic()
    assert call(p, "connectors", timeout=5).status == 200
    assert time.monotonic() - t0 >= 1.4
    p.set_switches("slow", slow_seconds=0.2)
    t0 = time.monotonic()
    call(p, "connectors")
    assert time.monotonic() - t0 < 1.0


def test_slow_partner_serves_requests_concurrently_and_stops_promptly(make_partner):
    p = make_partner("slow", slow_seconds=2.0)
    results = []
    threads = [threading.Thread(target=lambda: results.append(call(p, "connectors").status))
               for _ in range(5)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 5 and time.monotonic() - t0 < 4.0  # in parallel, not 10 s
    threading.Thread(target=lambda: call(p, "connectors", timeout=10), daemon=True).start()
    time.sleep(0.3)
    t0 = time.monotonic()
    p.stop()
    assert time.monotonic() - t0 < 2.0


def test_decline(make_partner):
    p = make_partner("decline")
    ans = connect(p, "user1@" + domain())
    assert ans.status == 200 and ans.json["configured_resources"] is False
    assert "connection_id" not in ans.json
    assert violations("connect", ans, p.config()) == []  # a decline is a valid answer
    assert p.connections() == {} and p.accounts() == []


def test_refuse(make_partner):
    p = make_partner("refuse")
    ans = connect(p, "user1@" + domain())
    assert ans.status == 400 and ans.json["error_reason"] == "bad_request"
    assert ans.json["display_message"]
    assert violations("connect", ans, p.config()) == []
    assert p.connections() == {}


def test_accept_wrong_credentials(make_partner):
    p = make_partner("accept_wrong_credentials")
    for auth in ((USER, "wrong"), None):
        ans = connect(p, "user1@" + domain()) if auth is None else call(
            p, "connect", connect_body("user1@" + domain()), auth=auth)
        assert ans.status == 200
    assert call(p, "connectors", auth=("x", "y")).status == 200


def test_hooks_accept_any_domain(make_partner):
    p = make_partner("hooks_accept_any_domain")
    d = f"{uuid.uuid4().hex[:8]}.example.com"
    connect(p, "user1@" + d)
    assert call(p, "expire_account", account_user("user1@" + d)).status == 200
    assert call(p, "delete_account", account_info(d)).status == 200
    assert p.accounts() == []


def test_wrong_user_status(make_partner):
    p = make_partner("wrong_user_status")
    email = "user1@" + domain()
    new = connect(p, email)
    assert violations("connect", new, p.config()) == []  # valid enum ...
    assert new.json["user_status"] == "existing"  # ... but the user is brand new
    s = sign_in(p, email, new.json["connection_id"])
    assert s.json["user_status"] == "new"  # ... and now they are known


def test_deleted_connection_still_200(make_partner):
    p = make_partner("deleted_connection_still_200")
    email = "user1@" + domain()
    cid = connect(p, email).json["connection_id"]
    assert call(p, "delete_connection", conn_info(cid)).status == 200
    t = call(p, "test_connection", conn_info(cid))
    assert t.status == 200 and t.json["test_results"][0]["status"] == "PASS"
    assert sign_in(p, email, cid).status == 200
    assert call(p, "test_connection", conn_info(str(uuid.uuid4()))).status == 404  # never existed


class _FakeWorkspace:
    """Stands in for the emulator: answers SCIM Me for one bearer token."""

    def __init__(self, token):
        seen = self.seen = []

        class H(BaseHTTPRequestHandler):
            def do_GET(self):
                seen.append((self.path, self.headers.get("Authorization")))
                ok = self.headers.get("Authorization") == f"Bearer {token}"
                body = json.dumps({"userName": "sp"} if ok else {"error_code": "UNAUTHENTICATED"})
                self.send_response(200 if ok else 401)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def test_callback_uses_the_pat(make_partner):
    ws = _FakeWorkspace("dapi-good")
    try:
        p = make_partner("callback")
        ok = connect(p, "user1@" + domain(), pat="dapi-good", workspace_url=ws.url + "/?o=1")
        connect(p, "user1@" + domain(), pat="dapi-revoked", workspace_url=ws.url + "/?o=1")
        assert ok.status == 200
        first, second = p.callbacks
        assert first["url"] == ws.url + "/api/2.0/preview/scim/v2/Me"
        assert (first["status"], first["body"]) == (200, {"userName": "sp"})
        assert first["connection_id"] == ok.json["connection_id"]
        assert second["status"] == 401
        assert ws.seen[0] == ("/api/2.0/preview/scim/v2/Me", "Bearer dapi-good")
        # test-connection repeats the call and reports it
        t = call(p, "test_connection", conn_info(ok.json["connection_id"]))
        assert [r["status"] for r in t.json["test_results"]] == ["PASS", "PASS"]
        ws.stop()
        t = call(p, "test_connection", conn_info(ok.json["connection_id"]))
        assert [r["status"] for r in t.json["test_results"]] == ["PASS", "FAIL"]
        assert p.callbacks[-1]["status"] is None and p.callbacks[-1]["error"]
    finally:
        ws.stop()


def test_no_callback_without_the_switch(partner):
    connect(partner, "user1@" + domain())
    assert partner.callbacks == []


def test_switches_can_be_combined_and_cleared(partner):
    partner.set_switches("foreign_redirect_host", "string_for_bool")
    ans = connect(partner, "user1@" + domain())
    assert len(violations("connect", ans, partner.config())) == 2
    partner.set_switches(["decline"])
    assert partner.switches == {"decline"}
    partner.set_switches()
    assert violations("connect", connect(partner, "user1@" + domain()), partner.config()) == []
