#!/usr/bin/env python3
"""A reference fake partner for uc-emulator's Partner Connect.

It implements Databricks' Partner Connect API 2.0 (version 2.1.1) the
way a well-behaved partner product does, so that the emulator (which plays Databricks) has something
real to call: `connect` (new connection and sign-in), `test-connection`, `delete-connection`,
`delete-account`, `expire-account` and `connectors`. Named *switches* make it misbehave in the ways
the emulator's validation, rollback and `certify` must catch (see SWITCHES below and README.md).

Python 3.11 standard library only. Two ways to use it:

* as a process::

      python3 tests/partner/fake_partner.py --port 0 [--switch NAME]... \
          [--basic-user U --basic-password P] [--config-out FILE]

  prints exactly one line ``fake-partner listening on http://127.0.0.1:PORT`` to stdout (after
  ``--config-out`` has been written) and serves until SIGTERM/SIGINT. A process can be steered at
  run time through the unauthenticated control routes under ``/_fake/`` (see README.md).

* as a module::

      import fake_partner
      p = fake_partner.start(switches=["slow"], basic_user="u", basic_password="p")
      p.url, p.config(), p.calls, p.set_switches("status_500"), p.stop()

Behaviour of the well-behaved partner (what the switches deviate from):

* Accounts are keyed by the e-mail domain of the user. The first connect of a domain creates the
  account and its first user (``account_status: new``, ``user_status: new``, ``create_trial``).
* A connect by a user the account already has is ``existing``/``active`` (``sign_in``); a user the
  account does not know is handled by ``new_user_action`` (auto_add / invite / not_found / error).
* A sign-in (``is_connection_established: true``) must name a known ``connection_id``; it never
  returns a ``connection_id`` and creates nothing except an auto-added user.
* ``expire-account`` expires the trial of the account (``trial_type: account``) or of one user
  (``trial_type: user``); expired users get ``account_status: expired`` and ``purchase_product``.
* A connect with ``demo: true`` (and ``supports_demo``) is always a fresh demo account.
* ``delete-account``/``expire-account`` accept only the Databricks test domains
  (databricks-test.com, databricks-demo.com and their subdomains); others are 400 ``bad_request``.
* ``connectors`` pages a fixed list of connectors through ``pagination_token``.
* Every API request must carry ``User-Agent: databricks`` (else 400 ``bad_request``) and, when
  credentials are configured, the right HTTP basic auth (else 401 ``unauthorized``).
* Every request body is checked against the API; a bad one is a 400 ``bad_request`` whose
  ``debugging_message`` names the field (so an emulator bug shows up as a clear partner answer).
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
import signal
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterable, Optional

# --------------------------------------------------------------------------------------------------
# Constants taken from the API
# --------------------------------------------------------------------------------------------------

#: Every misbehaviour switch, with what it does. Anything not listed is a ValueError.
SWITCHES: dict[str, str] = {
    "wrong_enum": "enum values outside the API: connect user_status 'returning', test-connection "
    "status 'PASSED', delete-connection resource_status 'deleted', connector type 'sink'",
    "missing_connection_id": "a new connection is accepted (configured_resources true) but the "
    "answer has no connection_id",
    "string_for_bool": "connect answers configured_resources as the string \"true\"/\"false\"",
    "foreign_redirect_host": "connect answers a redirect_uri on evil.example.net, not in hostnames",
    "html_instead_of_json": "every API call answers 200 text/html (nothing is processed)",
    "status_500": "every API call answers 500 general_error (nothing is processed)",
    "status_500_once": "the first fail_times (default 1) API calls after the switch is set answer "
    "500 general_error, later ones are normal (tests retries)",
    "slow": "every API call waits slow_seconds (default 3) before it is processed",
    "decline": "a new connection is declined: 200 with configured_resources false and no "
    "connection_id; nothing is stored",
    "refuse": "a new connection is refused with 400 bad_request (ErrorResponse with display_message)",
    "accept_wrong_credentials": "basic auth is not checked: any or no Authorization is accepted",
    "hooks_accept_any_domain": "delete-account and expire-account accept non-test domains",
    "wrong_user_status": "user_status is a valid enum but wrong: new <-> existing, "
    "not_applicable -> existing",
    "deleted_connection_still_200": "a deleted connection still answers: test-connection 200 PASS "
    "and sign-in 200",
    "callback": "after a new connection, GET <workspace_url host>/api/2.0/preview/scim/v2/Me with "
    "the received PAT and record the status (see .callbacks); test-connection repeats that call",
}

#: operation -> (HTTP method from the API, PartnerConfig.endpoints key, default path)
OPERATIONS: dict[str, tuple[str, str, str]] = {
    "connect": ("POST", "connect_path", "/connect"),
    "test_connection": ("POST", "test_connection_path", "/test-connection"),
    "delete_connection": ("POST", "delete_connection_path", "/delete-connection"),
    "delete_account": ("DELETE", "delete_account_path", "/delete-account"),
    "expire_account": ("PUT", "expire_account_path", "/expire-account"),
    "connectors": ("GET", "get_connectors_path", "/connectors"),
}

NEW_USER_ACTIONS = ("auto_add", "invite", "not_found", "error")
TRIAL_TYPES = ("user", "account")
CLOUDS = ("aws", "azure", "gcp", "gpc")  # `gpc` is the API's typo, accepted as an alias
TEST_DOMAINS = ("databricks-test.com", "databricks-demo.com")
FOREIGN_HOST = "evil.example.net"

#: The connector list served by `connectors` (`Connector`: identifier, name, type, description).
CONNECTORS: list[dict[str, str]] = [
    {"identifier": "postgres", "name": "PostgreSQL", "type": "source",
     "description": "PostgreSQL databases"},
    {"identifier": "mysql", "name": "MySQL", "type": "source", "description": "MySQL databases"},
    {"identifier": "salesforce", "name": "Salesforce", "type": "source",
     "description": "Salesforce objects"},
    {"identifier": "s3", "name": "Amazon S3", "type": "source", "description": "Files in S3"},
    {"identifier": "databricks", "name": "Databricks", "type": "target",
     "description": "Delta tables in Unity Catalog"},
]


def is_test_domain(domain: str) -> bool:
    """True for databricks-test.com, databricks-demo.com and their subdomains (case-insensitive,
    a trailing dot ignored), as the API's `delete-account`/`expire-account` descriptions require."""
    d = domain.strip().lower().rstrip(".")
    return any(d == t or d.endswith("." + t) for t in TEST_DOMAINS)


def _no_proxy_opener() -> urllib.request.OpenerDirector:
    """urllib opener that ignores http_proxy & co (callbacks go to a local emulator)."""
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


# --------------------------------------------------------------------------------------------------
# Partner state
# --------------------------------------------------------------------------------------------------


@dataclass
class Account:
    """A partner account: one per e-mail domain (plus throw-away demo accounts)."""

    account_id: str
    domain: str
    demo: bool = False
    users: set[str] = field(default_factory=set)  # e-mails of members
    invited: set[str] = field(default_factory=set)  # e-mails invited under new_user_action=invite
    expired: bool = False  # trial_type account: the whole account's trial expired
    expired_users: set[str] = field(default_factory=set)  # trial_type user: expired members
    signed_up: bool = True  # False while require_manual_signup waits for the manual step

    def snapshot(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id, "domain": self.domain, "demo": self.demo,
            "users": sorted(self.users), "invited": sorted(self.invited),
            "expired": self.expired, "expired_users": sorted(self.expired_users),
            "signed_up": self.signed_up,
        }


@dataclass
class Connection:
    """What the partner stores for a Databricks connection it configured."""

    connection_id: str
    account_id: str
    workspace_id: int
    created_by: str
    personal_access_token: Optional[str]
    workspace_url: str
    cloud_provider: str
    request: dict[str, Any]  # the ConnectRequest as received (PAT included: this is a test tool)
    created_at: float = field(default_factory=time.time)

    def snapshot(self) -> dict[str, Any]:
        return {
            "connection_id": self.connection_id, "account_id": self.account_id,
            "workspace_id": self.workspace_id, "created_by": self.created_by,
            "personal_access_token": self.personal_access_token,
            "workspace_url": self.workspace_url, "cloud_provider": self.cloud_provider,
            "created_at": self.created_at, "request": copy.deepcopy(self.request),
        }


class PartnerError(Exception):
    """An answer in the API's ErrorResponse shape; raised to leave a handler early."""

    def __init__(self, status: int, reason: str, debugging: str = "", display: str = ""):
        super().__init__(f"{status} {reason}: {debugging or display}")
        self.status, self.reason, self.debugging, self.display = status, reason, debugging, display

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error_reason": self.reason}
        if self.display:
            out["display_message"] = self.display
        if self.debugging:
            out["debugging_message"] = self.debugging
        return out


def _bad_request(*violations: str) -> PartnerError:
    return PartnerError(400, "bad_request", debugging="; ".join(violations),
                        display="The request from Databricks was not understood.")


# --------------------------------------------------------------------------------------------------
# Request-body checks (the API's schemas)
# --------------------------------------------------------------------------------------------------

_KINDS = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
}


def _check(obj: dict, key: str, kind: str, where: str, problems: list[str], required: bool) -> Any:
    """Check one field; append `<path>: <problem>` to `problems`. Returns the value (or None)."""
    path = f"{where}{key}"
    if key not in obj:
        if required:
            problems.append(f"{path}: required")
        return None
    value = obj[key]
    if value is None:  # fields without a value are omitted, never null
        problems.append(f"{path}: must not be null")
        return None
    if not _KINDS[kind](value):
        problems.append(f"{path}: must be a JSON {kind}, got {json.dumps(value)}")
        return None
    return value


def _check_fields(obj: dict, spec: Iterable[tuple[str, str, bool]], where: str = "") -> dict:
    """Check (key, kind, required) triples; raise 400 bad_request listing every violation."""
    problems: list[str] = []
    values = {key: _check(obj, key, kind, where, problems, req) for key, kind, req in spec}
    if problems:
        raise _bad_request(*problems)
    return values


def _email_domain(email: str, path: str) -> str:
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain or "." not in domain:
        raise _bad_request(f"{path}: {json.dumps(email)} is not an e-mail address")
    return domain.lower().rstrip(".")


def validate_connect_request(body: dict) -> None:
    """The API's ConnectRequest (+ UserInfo, Auth) and its presence rules."""
    top = _check_fields(body, [
        ("user_info", "object", True), ("hostname", "string", True), ("port", "integer", True),
        ("workspace_id", "integer", True), ("workspace_url", "string", True),
        ("demo", "boolean", True), ("cloud_provider", "string", True),
        ("is_free_trial", "boolean", True), ("connection_id", "string", False),
        ("http_path", "string", False), ("jdbc_url", "string", False),
        ("databricks_jdbc_url", "string", False), ("cloud_provider_region", "string", False),
        ("destination_location", "string", False), ("catalog_name", "string", False),
        ("database_name", "string", False), ("cluster_id", "string", False),
        ("is_sql_endpoint", "boolean", False), ("is_sql_warehouse", "boolean", False),
        ("data_source_connector", "string", False), ("service_principal_id", "string", False),
        ("connection_scope", "string", False),
    ])
    ui = _check_fields(top["user_info"], [
        ("email", "string", True), ("first_name", "string", True), ("last_name", "string", True),
        ("databricks_user_id", "integer", True), ("databricks_organization_id", "integer", True),
        ("is_connection_established", "boolean", True), ("auth", "object", False),
    ], "user_info.")
    problems: list[str] = []
    _email_domain(ui["email"], "user_info.email")
    if top["cloud_provider"] not in CLOUDS:
        problems.append(f"cloud_provider: {json.dumps(top['cloud_provider'])} is not one of aws, azure, gcp (gpc)")
    if top["connection_scope"] is not None and top["connection_scope"] not in ("workspace", "user"):
        problems.append("connection_scope: must be workspace or user")
    if ui["databricks_organization_id"] != top["workspace_id"]:
        problems.append("workspace_id: must equal user_info.databricks_organization_id")
    if not (1 <= top["port"] <= 65535):
        problems.append("port: must be 1-65535")
    url = urllib.parse.urlsplit(top["workspace_url"])
    if url.scheme not in ("http", "https") or not url.hostname:
        problems.append("workspace_url: must be an absolute http(s) URL")
    if ui["is_connection_established"]:
        if top["connection_id"] is None:
            problems.append("connection_id: required when is_connection_established is true")
        if ui["auth"] is not None:
            problems.append("user_info.auth: must be absent when is_connection_established is true")
    else:
        if top["connection_id"] is not None:
            problems.append("connection_id: must be absent when is_connection_established is false")
        if ui["auth"] is None:
            problems.append("user_info.auth: required when is_connection_established is false")
        else:
            _check_fields(ui["auth"], [("personal_access_token", "string", True)],
                          "user_info.auth.")
    if problems:
        raise _bad_request(*problems)


# --------------------------------------------------------------------------------------------------
# The fake partner
# --------------------------------------------------------------------------------------------------


class FakePartner:
    """One running fake partner. Create it with `start(...)`; all methods are thread-safe."""

    def __init__(
        self,
        switches: Iterable[str] = (),
        *,
        basic_user: Optional[str] = None,
        basic_password: Optional[str] = None,
        host: str = "127.0.0.1",
        port: int = 0,
        public_url: Optional[str] = None,
        prefix: str = "",
        name: str = "Fake Partner",
        new_user_action: str = "auto_add",
        trial_type: Optional[str] = "account",
        supports_demo: bool = True,
        require_manual_signup: bool = False,
        slow_seconds: float = 3.0,
        fail_times: int = 1,
        page_size: int = 2,
        omit_endpoints: Iterable[str] = (),
        config_overrides: Optional[dict[str, Any]] = None,
        callback_timeout: float = 5.0,
        verbose: bool = False,
    ):
        if (basic_user is None) != (basic_password is None):
            raise ValueError("give both basic_user and basic_password, or neither")
        if new_user_action not in NEW_USER_ACTIONS:
            raise ValueError(f"new_user_action must be one of {NEW_USER_ACTIONS}")
        if trial_type is not None and trial_type not in TRIAL_TYPES:
            raise ValueError(f"trial_type must be one of {TRIAL_TYPES} or None")
        if page_size < 1:
            raise ValueError("page_size must be >= 1")
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise ValueError("prefix must start with '/' and not end with '/'")
        for key in omit_endpoints:
            if key not in OPERATIONS:
                raise ValueError(f"unknown operation {key!r}; one of {sorted(OPERATIONS)}")

        self.basic_user, self.basic_password = basic_user, basic_password
        self.prefix = prefix
        self.name = name
        self.new_user_action = new_user_action
        self.trial_type = trial_type
        self.supports_demo = supports_demo
        self.require_manual_signup = require_manual_signup
        self.page_size = page_size
        self.omit_endpoints = tuple(omit_endpoints)
        self.config_overrides = dict(config_overrides or {})
        self.callback_timeout = callback_timeout
        self.verbose = verbose

        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._switches: frozenset[str] = frozenset()
        self._slow_seconds = slow_seconds
        self._fail_times = fail_times
        self._failures_left = 0
        self._accounts: dict[str, Account] = {}
        self._connections: dict[str, Connection] = {}
        self._deleted: dict[str, Connection] = {}  # tombstones: deleted connections by id
        self._calls: list[dict[str, Any]] = []
        self._callbacks: list[dict[str, Any]] = []
        self.set_switches(switches)

        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._server.daemon_threads = True
        self._server.partner = self  # type: ignore[attr-defined]
        bound_host, bound_port = self._server.server_address[:2]
        self.url = f"http://{bound_host}:{bound_port}"
        #: the address the partner tells Databricks about (base_url, redirect_uri, hostnames)
        self.public_url = (public_url or self.url).rstrip("/")
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name="fake-partner", daemon=True)  # quick shutdown
        self._thread.start()

    # ---- lifecycle --------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop serving; wakes up requests sleeping under `slow`. Idempotent."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "FakePartner":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ---- switches ---------------------------------------------------------------------------

    def set_switches(self, *names: Any, slow_seconds: Optional[float] = None,
                     fail_times: Optional[int] = None) -> None:
        """Replace the active switches: `set_switches("slow", "decline")`, `set_switches(["slow"])`
        or `set_switches()` for a well-behaved partner. Setting `status_500_once` (again) re-arms
        its failure counter."""
        flat: list[str] = []
        for n in names:
            flat.extend([n] if isinstance(n, str) else list(n))
        unknown = [n for n in flat if n not in SWITCHES]
        if unknown:
            raise ValueError(f"unknown switch(es) {unknown}; known: {sorted(SWITCHES)}")
        with self._lock:
            if slow_seconds is not None:
                self._slow_seconds = float(slow_seconds)
            if fail_times is not None:
                self._fail_times = int(fail_times)
            self._switches = frozenset(flat)
            self._failures_left = self._fail_times if "status_500_once" in flat else 0

    @property
    def switches(self) -> frozenset[str]:
        return self._switches

    def _on(self, name: str) -> bool:
        return name in self._switches

    # ---- what tests look at ---------------------------------------------------------------------

    @property
    def calls(self) -> list[dict[str, Any]]:
        """Snapshot of every request received (control routes under /_fake/ excluded), oldest first.
        Each entry: time, method, path (prefix included, no query), query (dict of str), headers
        (dict, lower-case names), body (text), json (parsed body or None), operation (an OPERATIONS
        key, 'page' for the HTML pages, or None), status (the answer's status, None while running)."""
        with self._lock:
            return copy.deepcopy(self._calls)

    def calls_for(self, operation: str) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["operation"] == operation]

    def clear_calls(self) -> None:
        with self._lock:
            self._calls.clear()
            self._callbacks.clear()

    @property
    def callbacks(self) -> list[dict[str, Any]]:
        """Call-backs made under the `callback` switch: url, connection_id, status (None when the
        emulator could not be reached), body, error, time."""
        with self._lock:
            return copy.deepcopy(self._callbacks)

    def connections(self) -> dict[str, dict[str, Any]]:
        """The partner's live connections by connection_id (snapshots)."""
        with self._lock:
            return {cid: c.snapshot() for cid, c in self._connections.items()}

    def accounts(self) -> list[dict[str, Any]]:
        with self._lock:
            return [a.snapshot() for a in self._accounts.values()]

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {
                "switches": sorted(self._switches), "slow_seconds": self._slow_seconds,
                "fail_times": self._fail_times, "failures_left": self._failures_left,
                "accounts": self.accounts(), "connections": self.connections(),
                "deleted_connections": sorted(self._deleted), "callbacks": self.callbacks,
            }

    def complete_manual_signup(self, email_or_domain: str) -> None:
        """The manual sign-up step of `require_manual_signup`: after it, sign-ins of the domain work."""
        domain = email_or_domain.rpartition("@")[2].lower().rstrip(".")
        with self._lock:
            for account in self._accounts.values():
                if account.domain == domain:
                    account.signed_up = True

    # ---- configuration for registering the partner -------------------------------------------

    def config(self, *, omit_endpoints: Optional[Iterable[str]] = None, **overrides: Any) -> dict:
        """A PartnerConfig (the API's schema) describing this partner. `omit_endpoints` drops
        operations from `endpoints` (the server still serves them); keyword overrides replace
        top-level keys (after `config_overrides` given to `start`)."""
        omit = self.omit_endpoints if omit_endpoints is None else tuple(omit_endpoints)
        host = urllib.parse.urlsplit(self.public_url).hostname or "127.0.0.1"
        hostnames = [host] + (["localhost"] if host == "127.0.0.1" else [])
        cfg: dict[str, Any] = {
            "api_version": "2.1.1",
            "name": self.name,
            "description_blurb": "A reference partner for uc-emulator's Partner Connect tests.",
            "category": "INGEST",
            "base_url": self.public_url + self.prefix,
            "endpoints": {key: path for op, (_m, key, path) in OPERATIONS.items() if op not in omit},
            "sign_up_page": self.public_url + "/signup",
            "privacy_policy": self.public_url + "/privacy",
            "terms_of_service": self.public_url + "/terms",
            "logo_file": "fake-partner-logo.png",
            "icon_file": "fake-partner-icon.svg",
            "allow_editable_email": False,
            "resources_to_provision": [{"resource_type": "PAT"}, {"resource_type": "SqlEndpoint"}],
            "data_permissions": [{"permission": p} for p in
                                 ("USE_CATALOG", "USE_SCHEMA", "SELECT", "CREATE_SCHEMA",
                                  "CREATE_TABLE")],
            "object_permissions": [{"name": "SQL_Endpoint", "level": "CAN_USE"}],
            "supported_clouds": ["aws", "azure", "gcp"],
            "hostnames": hostnames,
            "new_user_action": self.new_user_action,
            "require_manual_signup": self.require_manual_signup,
            "supports_demo": self.supports_demo,
        }
        if self.trial_type is not None:
            cfg["trial_type"] = self.trial_type
        cfg.update(copy.deepcopy(self.config_overrides))
        cfg.update(copy.deepcopy(overrides))
        return cfg

    def registration(self, **config_kwargs: Any) -> dict:
        """A registration document for `POST /api/2.0/partner-connect/partners` or the
        fixture key `partner_connect.partners`."""
        doc: dict[str, Any] = {"config": self.config(**config_kwargs)}
        if self.basic_user is not None:
            doc["basic_auth"] = {"username": self.basic_user, "password": self.basic_password}
        return doc

    # ---- request processing (called by _Handler) ------------------------------------------------

    def _route(self, path: str) -> tuple[Optional[str], str]:
        """Map a path to (operation, kind) where kind is 'api', 'page', 'control' or 'none'."""
        if path.startswith("/_fake/"):
            return None, "control"
        if path in ("/signup", "/privacy", "/terms") or path.startswith("/app/"):
            return "page", "page"
        if self.prefix:
            if not path.startswith(self.prefix + "/"):
                return None, "none"
            path = path[len(self.prefix):]
        for op, (_method, _key, op_path) in OPERATIONS.items():
            if path == op_path:
                return op, "api"
        return None, "none"

    def _log_call(self, entry: dict[str, Any]) -> int:
        with self._lock:
            self._calls.append(entry)
            return len(self._calls) - 1

    def _log_status(self, index: int, status: int) -> None:
        with self._lock:
            if index < len(self._calls):
                self._calls[index]["status"] = status

    def _check_auth(self, headers: dict[str, str]) -> None:
        if self.basic_user is None or self._on("accept_wrong_credentials"):
            return
        expected = "Basic " + base64.b64encode(
            f"{self.basic_user}:{self.basic_password}".encode()).decode()
        got = headers.get("authorization")
        if got is None:
            raise PartnerError(401, "unauthorized", debugging="no Authorization header",
                               display="Databricks could not authenticate with the partner.")
        if got.strip() != expected:
            raise PartnerError(401, "unauthorized", debugging="wrong basic-auth credentials",
                               display="Databricks could not authenticate with the partner.")

    def handle_api(self, op: str, method: str, headers: dict[str, str], query: dict[str, str],
                   raw: bytes) -> tuple[int, bytes, str]:
        """Answer one API request: returns (status, body bytes, content type)."""
        try:
            expected_method = OPERATIONS[op][0]
            if method != expected_method:
                raise PartnerError(405, "bad_request",
                                   debugging=f"{op} takes {expected_method}, not {method}")
            if self._on("slow"):
                self._stopping.wait(self._slow_seconds)
            self._check_auth(headers)
            if headers.get("user-agent") != "databricks":
                raise _bad_request(
                    f"User-Agent: must be 'databricks', got {json.dumps(headers.get('user-agent'))}")
            # Fault injection happens before anything is processed, so it changes no state.
            if self._on("html_instead_of_json"):
                page = "<!DOCTYPE html><html><body><h1>Welcome to Fake Partner</h1></body></html>"
                return 200, page.encode(), "text/html; charset=utf-8"
            with self._lock:
                fail = self._on("status_500") or self._failures_left > 0
                if self._failures_left > 0:
                    self._failures_left -= 1
            if fail:
                raise PartnerError(500, "general_error", debugging="injected failure (switch)",
                                   display="The partner had a problem. Please try again.")
            body = self._parse_body(op, headers, raw)
            handler = getattr(self, f"_op_{op}")
            status, answer = handler(body, query) if op == "connectors" else handler(body)
        except PartnerError as e:
            status, answer = e.status, e.body()
        return status, json.dumps(answer).encode(), "application/json; charset=utf-8"

    def _parse_body(self, op: str, headers: dict[str, str], raw: bytes) -> dict:
        if op == "connectors":  # GET, no body
            return {}
        ctype = headers.get("content-type", "")
        if not ctype.lower().startswith("application/json"):
            raise _bad_request(f"Content-Type: must be application/json, got {json.dumps(ctype)}")
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise _bad_request(f"body: not JSON ({e})")
        if not isinstance(body, dict):
            raise _bad_request("body: must be a JSON object")
        return body

    # ---- connect ----------------------------------------------------------------------------------

    def _redirect(self, value: str, email: str, connection_id: Optional[str]) -> str:
        base = f"https://{FOREIGN_HOST}" if self._on("foreign_redirect_host") else self.public_url
        q = {"email": email}
        if connection_id:
            q["connection_id"] = connection_id
        return f"{base}/app/{value}?{urllib.parse.urlencode(q)}"

    def _connection_answer(self, *, email: str, redirect_value: str, user_status: str,
                           account_status: str, configured: bool,
                           connection_id: Optional[str]) -> tuple[int, dict]:
        """Build the API's Connection object, then apply the answer-shaping switches."""
        if self._on("wrong_user_status"):
            user_status = {"new": "existing", "existing": "new"}.get(user_status, "existing")
        if self._on("wrong_enum"):
            user_status = "returning"
        answer: dict[str, Any] = {
            "redirect_uri": self._redirect(redirect_value, email, connection_id),
            "redirect_value": redirect_value,
            "user_status": user_status,
            "account_status": account_status,
            "configured_resources": configured,
        }
        if connection_id is not None and not self._on("missing_connection_id"):
            answer["connection_id"] = connection_id
        if self._on("string_for_bool"):
            answer["configured_resources"] = "true" if configured else "false"
        return 200, answer

    def _status_of(self, account: Account, email: str) -> tuple[str, bool]:
        """(account_status, expired?) of a member."""
        expired = account.expired or email in account.expired_users
        return ("expired" if expired else "active"), expired

    def _account_for_domain(self, domain: str) -> Optional[Account]:
        for account in self._accounts.values():
            if account.domain == domain and not account.demo:
                return account
        return None

    def _op_connect(self, body: dict) -> tuple[int, dict]:
        validate_connect_request(body)
        if body["user_info"]["is_connection_established"]:
            return self._sign_in(body)
        return self._new_connection(body)

    def _new_connection(self, body: dict) -> tuple[int, dict]:
        ui = body["user_info"]
        email = ui["email"]
        domain = _email_domain(email, "user_info.email")
        if self._on("refuse"):
            raise PartnerError(400, "bad_request", debugging="refused by switch 'refuse'",
                               display="Fake Partner cannot accept new connections right now.")
        if self._on("decline"):
            return self._connection_answer(email=email, redirect_value="contact_admin",
                                           user_status="not_applicable",
                                           account_status="not_applicable", configured=False,
                                           connection_id=None)
        callback_pat: Optional[str] = None
        with self._lock:
            demo = body["demo"] and self.supports_demo
            account = None if demo else self._account_for_domain(domain)
            if account is None:
                # A new account (always for a demo connect): its first user starts a trial.
                account = Account(account_id=str(uuid.uuid4()), domain=domain, demo=demo,
                                  users={email}, signed_up=not self.require_manual_signup)
                self._accounts[account.account_id] = account
                user_status, account_status, redirect = "new", "new", "create_trial"
            elif email in account.users:
                user_status = "existing"
                account_status, expired = self._status_of(account, email)
                redirect = "purchase_product" if expired else "sign_in"
            else:
                # A new user tries to join an existing account: new_user_action decides.
                action = self.new_user_action
                if action == "error":
                    raise PartnerError(500, "general_error",
                                       debugging="new_user_action is error",
                                       display="Please ask your account admin to add you.")
                if action == "not_found":
                    # A 404 is not allowed on a new connection (the API): decline instead.
                    account_status, _ = self._status_of(account, email)
                    return self._connection_answer(
                        email=email, redirect_value="contact_admin", user_status="not_applicable",
                        account_status=account_status, configured=False, connection_id=None)
                if action == "auto_add":
                    account.users.add(email)
                    user_status = "new"
                    account_status, expired = self._status_of(account, email)
                    redirect = "purchase_product" if expired else "sign_in"
                else:  # invite: the account's admin must accept the user
                    account.invited.add(email)
                    user_status, redirect = "not_applicable", "contact_admin"
                    account_status, _ = self._status_of(account, email)
            conn = Connection(
                connection_id=str(uuid.uuid4()), account_id=account.account_id,
                workspace_id=body["workspace_id"], created_by=email,
                personal_access_token=ui["auth"]["personal_access_token"],
                workspace_url=body["workspace_url"], cloud_provider=body["cloud_provider"],
                request=copy.deepcopy(body))
            self._connections[conn.connection_id] = conn
            if self._on("callback"):
                callback_pat = conn.personal_access_token
        if callback_pat is not None:
            # Outside the lock: the emulator may take a while, and may call us meanwhile.
            self._call_back(conn, callback_pat)
        return self._connection_answer(email=email, redirect_value=redirect,
                                       user_status=user_status, account_status=account_status,
                                       configured=True, connection_id=conn.connection_id)

    def _sign_in(self, body: dict) -> tuple[int, dict]:
        email = body["user_info"]["email"]
        cid = body["connection_id"]
        with self._lock:
            conn = self._connections.get(cid)
            if conn is None or conn.workspace_id != body["workspace_id"]:
                if self._on("deleted_connection_still_200") and cid in self._deleted:
                    return self._connection_answer(
                        email=email, redirect_value="sign_in", user_status="existing",
                        account_status="active", configured=True, connection_id=None)
                raise PartnerError(404, "connection_not_found",
                                   debugging=f"no connection {cid} in workspace "
                                             f"{body['workspace_id']}",
                                   display="Please delete the connection in Databricks and "
                                           "connect again.")
            account = self._accounts[conn.account_id]
            if not account.signed_up:
                raise PartnerError(404, "account_not_found",
                                   debugging="manual sign-up not completed",
                                   display="Please complete the sign-up first.")
            if email in account.users:
                user_status = "existing"
            elif self.new_user_action == "auto_add":
                account.users.add(email)
                user_status = "new"
            elif self.new_user_action == "invite":
                account.invited.add(email)
                account_status, _ = self._status_of(account, email)
                return self._connection_answer(
                    email=email, redirect_value="contact_admin", user_status="not_applicable",
                    account_status=account_status, configured=True, connection_id=None)
            elif self.new_user_action == "not_found":
                raise PartnerError(404, "account_not_found",
                                   debugging=f"{email} is not a member of the account",
                                   display="Please ask your account admin to add you.")
            else:
                raise PartnerError(500, "general_error",
                                   debugging=f"{email} is not a member of the account",
                                   display="Please ask your account admin to add you.")
            account_status, expired = self._status_of(account, email)
        return self._connection_answer(
            email=email, redirect_value="purchase_product" if expired else "sign_in",
            user_status=user_status, account_status=account_status, configured=True,
            connection_id=None)

    def _call_back(self, conn: Connection, pat: Optional[str]) -> dict[str, Any]:
        """GET SCIM Me on the workspace with the PAT, as a partner product would. Recorded."""
        parts = urllib.parse.urlsplit(conn.workspace_url)
        url = f"{parts.scheme}://{parts.netloc}/api/2.0/preview/scim/v2/Me"
        record: dict[str, Any] = {"url": url, "connection_id": conn.connection_id,
                                  "status": None, "body": None, "error": None, "time": time.time()}
        req = urllib.request.Request(url, headers={"Authorization": f"Bearer {pat}",
                                                   "User-Agent": "fake-partner/1.0"})
        try:
            with _no_proxy_opener().open(req, timeout=self.callback_timeout) as resp:
                record["status"], text = resp.status, resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            record["status"], text = e.code, e.read().decode("utf-8", "replace")
        except (urllib.error.URLError, OSError) as e:
            text, record["error"] = None, str(e)
        if text is not None:
            try:
                record["body"] = json.loads(text)
            except json.JSONDecodeError:
                record["body"] = text
        with self._lock:
            self._callbacks.append(record)
        return record

    # ---- test-connection, delete-connection ----------------------------------------------------

    def _find_connection(self, body: dict) -> Optional[Connection]:
        conn = self._connections.get(body["connection_id"])
        org = body.get("databricks_organization_id")
        if conn is not None and org is not None and org != conn.workspace_id:
            return None
        return conn

    def _op_test_connection(self, body: dict) -> tuple[int, dict]:
        _check_fields(body, [("connection_id", "string", True), ("cloud_provider", "string", False),
                             ("databricks_organization_id", "integer", False)])
        status_pass = "PASSED" if self._on("wrong_enum") else "PASS"
        with self._lock:
            conn = self._find_connection(body)
            still = self._on("deleted_connection_still_200") and body["connection_id"] in self._deleted
            if conn is None and not still:
                raise PartnerError(404, "connection_not_found",
                                   debugging=f"no connection {body['connection_id']}")
        results = [{"test_name": "Connection lookup", "status": status_pass,
                    "message": "The partner has this connection."}]
        if conn is not None and self._on("callback"):
            rec = self._call_back(conn, conn.personal_access_token)
            ok = rec["status"] == 200
            results.append({"test_name": "Databricks API call with the PAT",
                            "status": status_pass if ok else "FAIL",
                            "message": f"SCIM Me answered {rec['status'] or rec['error']}"})
        return 200, {"test_results": results}

    def _op_delete_connection(self, body: dict) -> tuple[int, dict]:
        _check_fields(body, [("connection_id", "string", True), ("cloud_provider", "string", True),
                             ("databricks_organization_id", "integer", True)])
        with self._lock:
            conn = self._find_connection(body)
            if conn is None:
                raise PartnerError(404, "connection_not_found",
                                   debugging=f"no connection {body['connection_id']}")
            self._deleted[conn.connection_id] = self._connections.pop(conn.connection_id)
        return 200, {"resource_status": "deleted" if self._on("wrong_enum") else "resources_deleted"}

    # ---- test hooks ---------------------------------------------------------------------------

    def _require_test_domain(self, domain: str, field_name: str) -> None:
        if not is_test_domain(domain) and not self._on("hooks_accept_any_domain"):
            raise PartnerError(400, "bad_request",
                               debugging=f"{field_name}: {domain} is not a Databricks test domain "
                                         f"({', '.join(TEST_DOMAINS)})")

    def _op_delete_account(self, body: dict) -> tuple[int, dict]:
        v = _check_fields(body, [("domain", "string", True), ("cloud_provider", "string", True),
                                 ("databricks_organization_id", "integer", True)])
        domain = v["domain"].strip().lower().rstrip(".")
        self._require_test_domain(domain, "domain")
        with self._lock:
            doomed = [a for a in self._accounts.values() if a.domain == domain]
            if not doomed:
                raise PartnerError(404, "account_not_found", debugging=f"no account for {domain}")
            ids = {a.account_id for a in doomed}
            for cid, conn in list(self._connections.items()):
                if conn.account_id in ids:
                    self._deleted[cid] = self._connections.pop(cid)
            for account_id in ids:
                del self._accounts[account_id]
        return 200, {}

    def _op_expire_account(self, body: dict) -> tuple[int, dict]:
        v = _check_fields(body, [("email", "string", True), ("databricks_user_id", "integer", True),
                                 ("cloud_provider", "string", True),
                                 ("databricks_organization_id", "integer", True)])
        email = v["email"]
        domain = _email_domain(email, "email")
        self._require_test_domain(domain, "email")
        with self._lock:
            affected = 0
            for account in self._accounts.values():
                if account.domain != domain:
                    continue
                if self.trial_type == "user":
                    if email in account.users:
                        account.expired_users.add(email)
                        affected += 1
                else:  # account-level trials (also when trial_type is not declared)
                    account.expired = True
                    affected += 1
            if not affected:
                raise PartnerError(404, "account_not_found",
                                   debugging=f"no account (or no user {email}) for {domain}")
        return 200, {}

    # ---- connectors -----------------------------------------------------------------------------

    def _op_connectors(self, _body: dict, query: dict[str, str]) -> tuple[int, dict]:
        token = query.get("pagination_token", "")
        start = 0
        if token:
            try:
                start = int(token.removeprefix("page-"))
            except ValueError:
                start = -1
            if not token.startswith("page-") or not (0 < start < len(CONNECTORS)):
                raise _bad_request(f"pagination_token: unknown token {json.dumps(token)}")
        page = copy.deepcopy(CONNECTORS[start:start + self.page_size])
        if self._on("wrong_enum"):
            for c in page:
                c["type"] = "sink"
        answer: dict[str, Any] = {"connectors": page}
        if start + self.page_size < len(CONNECTORS):
            answer["pagination_token"] = f"page-{start + self.page_size}"
        return 200, answer

    # ---- control routes (/_fake/...) for a partner running as a process --------------------------

    def handle_control(self, method: str, path: str, raw: bytes) -> tuple[int, dict]:
        if path == "/_fake/state" and method == "GET":
            return 200, self.state()
        if path == "/_fake/calls" and method == "GET":
            return 200, {"calls": self.calls}
        if path == "/_fake/calls" and method == "DELETE":
            self.clear_calls()
            return 200, {}
        if path == "/_fake/switches" and method == "PUT":
            try:
                body = json.loads(raw.decode() or "{}")
                self.set_switches(body.get("switches", []),
                                  slow_seconds=body.get("slow_seconds"),
                                  fail_times=body.get("fail_times"))
            except (ValueError, TypeError, AttributeError) as e:
                return 400, {"error": str(e)}
            return 200, {"switches": sorted(self.switches)}
        if path == "/_fake/complete-signup" and method == "POST":
            try:
                self.complete_manual_signup(json.loads(raw.decode())["email"])
            except (ValueError, KeyError, TypeError) as e:
                return 400, {"error": str(e)}
            return 200, {}
        return 404, {"error": f"no control route {method} {path}"}


# --------------------------------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every answer carries Content-Length
    server_version = "FakePartner/1.0"
    timeout = 60  # drop idle keep-alive connections

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status: int, body: bytes, ctype: str, extra: Optional[dict] = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the caller gave up (e.g. its timeout under `slow`)

    def _dispatch(self) -> None:
        partner: FakePartner = self.server.partner  # type: ignore[attr-defined]
        raw = self._read_body()
        split = urllib.parse.urlsplit(self.path)
        path = split.path
        query = dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True))
        op, kind = partner._route(path)

        if kind == "control":
            status, answer = partner.handle_control(self.command, path, raw)
            return self._send(status, json.dumps(answer).encode(), "application/json")

        text = raw.decode("utf-8", "replace")
        try:
            parsed = json.loads(text) if text else None
        except json.JSONDecodeError:
            parsed = None
        index = partner._log_call({
            "time": time.time(), "method": self.command, "path": path, "query": query,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": text, "json": parsed, "operation": op, "status": None,
        })

        if kind == "page":
            # Redirect targets and the config's web pages: plain HTML, no auth (certify GETs them).
            status, extra = (200, None) if self.command in ("GET", "HEAD") else (405, {"Allow": "GET"})
            title = path.rsplit("/", 1)[-1] or "page"
            body = f"<!DOCTYPE html><html><body><h1>Fake Partner: {title}</h1></body></html>"
            payload, ctype = body.encode(), "text/html; charset=utf-8"
        elif kind == "api":
            assert op is not None
            status, payload, ctype = partner.handle_api(
                op, self.command, {k.lower(): v for k, v in self.headers.items()}, query, raw)
            extra = {"Allow": OPERATIONS[op][0]} if status == 405 else None
        else:
            status, extra, ctype = 404, None, "application/json"
            payload = json.dumps({"error_reason": "bad_request",
                                  "debugging_message": f"no route {path}"}).encode()
        partner._log_status(index, status)  # before answering: a caller never sees status None
        self._send(status, payload, ctype, extra)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _dispatch  # type: ignore

    def log_message(self, fmt: str, *args: Any) -> None:
        if self.server.partner.verbose:  # type: ignore[attr-defined]
            sys.stderr.write("fake-partner: %s\n" % (fmt % args))


def start(switches: Iterable[str] = (), **kwargs: Any) -> FakePartner:
    """Start a fake partner on a background thread (port 0 = any free port). See FakePartner."""
    return FakePartner(switches, **kwargs)


# --------------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------------


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(
        description="Reference fake partner for uc-emulator Partner Connect.",
        epilog="switches: " + "; ".join(f"{k}: {v}" for k, v in SWITCHES.items()))
    ap.add_argument("--port", type=int, default=0, help="port to listen on (0 = any free port)")
    ap.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    ap.add_argument("--public-url", help="address the partner advertises (base_url, redirect_uri, "
                    "hostnames); default the bound address")
    ap.add_argument("--prefix", default="", help="path prefix of the API, e.g. /partner-api")
    ap.add_argument("--switch", action="append", default=[], choices=sorted(SWITCHES),
                    metavar="NAME", help="misbehaviour switch (repeatable): " + ", ".join(SWITCHES))
    ap.add_argument("--slow-seconds", type=float, default=3.0, help="delay of the slow switch")
    ap.add_argument("--fail-times", type=int, default=1, help="500s of the status_500_once switch")
    ap.add_argument("--basic-user")
    ap.add_argument("--basic-password")
    ap.add_argument("--name", default="Fake Partner", help="config.name")
    ap.add_argument("--new-user-action", default="auto_add", choices=NEW_USER_ACTIONS)
    ap.add_argument("--trial-type", default="account", choices=[*TRIAL_TYPES, "none"])
    ap.add_argument("--no-demo", action="store_true", help="supports_demo false")
    ap.add_argument("--require-manual-signup", action="store_true")
    ap.add_argument("--page-size", type=int, default=2, help="connectors per page")
    ap.add_argument("--omit-endpoint", action="append", default=[], choices=sorted(OPERATIONS),
                    help="leave this operation out of the config's endpoints (repeatable)")
    ap.add_argument("--config-out", help="write the PartnerConfig JSON here before listening")
    ap.add_argument("--registration-out",
                    help="write a registration document (config + basic_auth) here")
    ap.add_argument("--quiet", action="store_true", help="do not log requests to stderr")
    args = ap.parse_args(argv)
    if (args.basic_user is None) != (args.basic_password is None):
        ap.error("give both --basic-user and --basic-password, or neither")

    try:
        partner = start(
            args.switch, basic_user=args.basic_user, basic_password=args.basic_password,
            host=args.host, port=args.port, public_url=args.public_url, prefix=args.prefix,
            name=args.name, new_user_action=args.new_user_action,
            trial_type=None if args.trial_type == "none" else args.trial_type,
            supports_demo=not args.no_demo, require_manual_signup=args.require_manual_signup,
            slow_seconds=args.slow_seconds, fail_times=args.fail_times, page_size=args.page_size,
            omit_endpoints=args.omit_endpoint, verbose=not args.quiet)
    except (ValueError, OSError) as e:
        print(f"fake-partner: {e}", file=sys.stderr)
        return 2
    if args.config_out:
        with open(args.config_out, "w", encoding="utf-8") as f:
            json.dump(partner.config(), f, indent=2)
    if args.registration_out:
        with open(args.registration_out, "w", encoding="utf-8") as f:
            json.dump(partner.registration(), f, indent=2)

    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    print(f"fake-partner listening on {partner.url}", flush=True)
    done.wait()
    partner.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
