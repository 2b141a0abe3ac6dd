"""Real-client test harness for uc-emulator.

Every test gets a fresh `uc-emulator serve` process (it starts in milliseconds) on a temporary
SQLite database, loaded with the test identities of TEST_FIXTURE below, and talks to it through
the real `databricks-sdk` (`WorkspaceClient(host=url, token=...)`).

The binary is taken from $UC_EMULATOR_BIN, default `target/debug/uc-emulator` at the repo root.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
from pathlib import Path
from typing import Optional

import pytest
import requests
from databricks.sdk import WorkspaceClient
from databricks.sdk.config import Config
from databricks.sdk.errors import DatabricksError

REPO_ROOT = Path(__file__).resolve().parents[2]
LISTEN_PREFIX = "uc-emulator listening on "
UC = "/api/2.1/unity-catalog"

# The SDK must see only what the tests hand it, not the developer's environment.
for _k in list(os.environ):
    if _k.startswith("DATABRICKS_"):
        del os.environ[_k]

ADMIN = "admin@example.com"  # account admin, owner of metastore `main`, in `admins`
ALICE = "alice@example.com"  # plain user, in `analysts` (and so, nested, in `data-eng`)
BOB = "bob@example.com"  # plain user, no groups, no grants
CAROL = "carol@example.com"  # workspace admin (member of `admins`), NOT an account admin
SP = "6f1d1c2e-0000-4000-8000-000000000001"  # service principal etl-bot, CREATE_CATALOG on main

TOKENS = {
    "admin": "dapi-admin",
    "alice": "dapi-alice",
    "bob": "dapi-bob",
    "carol": "dapi-carol",
    "sp": "dapi-sp",
    "admin2": "dapi-admin-ws2",  # the account admin, in workspace 1002 (no metastore assigned)
    "carol2": "dapi-carol-ws2",  # workspace admin of 1002
}

# 409 codes Databricks uses: RESOURCE_ALREADY_EXISTS or the resource-specific *_ALREADY_EXISTS.
ALREADY_EXISTS = (
    "RESOURCE_ALREADY_EXISTS",
    "METASTORE_ALREADY_EXISTS",
    "CATALOG_ALREADY_EXISTS",
    "SCHEMA_ALREADY_EXISTS",
    "TABLE_ALREADY_EXISTS",
)

COLS = [
    {
        "name": "id",
        "type_name": "LONG",
        "type_text": "bigint",
        "type_json": '{"name":"id","type":"long","nullable":false,"metadata":{}}',
        "position": 0,
        "nullable": False,
    }
]


def _table(catalog, schema, name, **kw):
    t = {
        "catalog_name": catalog,
        "schema_name": schema,
        "name": name,
        "table_type": "MANAGED",
        "data_source_format": "DELTA",
        "columns": COLS,
    }
    t.update(kw)
    return _in_main(t)


def _in_main(entry):
    # Objects name their metastore: once a test creates a second metastore through the API, an
    # entry without `metastore` would be ambiguous on the next start-up.
    return {"metastore": "main", **entry}


TEST_FIXTURE = {
    "workspaces": [{"workspace_id": 1001, "name": "dev"}, {"workspace_id": 1002, "name": "staging"}],
    "users": [
        {"user_name": ADMIN, "display_name": "Ada Admin", "account_admin": True},
        {"user_name": ALICE, "display_name": "Alice"},
        {"user_name": BOB, "display_name": "Bob"},
        {"user_name": CAROL, "display_name": "Carol"},
    ],
    "groups": [
        # `data-eng` is declared before the group it contains: nested and forward-referenced.
        {"display_name": "data-eng", "members": ["analysts"]},
        {"display_name": "analysts", "members": [ALICE]},
        {"display_name": "admins", "members": [ADMIN, CAROL]},
    ],
    "service_principals": [{"application_id": SP, "display_name": "etl-bot"}],
    "tokens": [
        {"token": "dapi-admin", "principal": ADMIN, "workspace_id": 1001},
        {"token": "dapi-alice", "principal": ALICE, "workspace_id": 1001},
        {"token": "dapi-bob", "principal": BOB, "workspace_id": 1001},
        {"token": "dapi-carol", "principal": CAROL, "workspace_id": 1001},
        {"token": "dapi-sp", "principal": SP, "workspace_id": 1001},
        {"token": "dapi-admin-ws2", "principal": ADMIN, "workspace_id": 1002},
        {"token": "dapi-carol-ws2", "principal": CAROL, "workspace_id": 1002},
    ],
    "metastores": [
        {
            "name": "main",
            "storage_root": "s3://uc-test/main",
            "owner": ADMIN,
            "assignments": [{"workspace_id": 1001, "default_catalog_name": "main"}],
        }
    ],
    "catalogs": [
        _in_main({"name": "main", "comment": "The default catalog."}),
        _in_main({"name": "shared", "comment": "analysts may use this"}),
        _in_main({"name": "private", "comment": "nobody but the admin"}),
        _in_main({"name": "nested", "comment": "granted to data-eng, which contains analysts"}),
        _in_main({"name": "alice_cat", "owner": ALICE}),
    ],
    "schemas": [
        _in_main({"catalog_name": "shared", "name": "sales"}),
        _in_main({"catalog_name": "alice_cat", "name": "s", "owner": ALICE}),
    ],
    "tables": [
        _table("shared", "sales", "orders"),
        _table("shared", "sales", "secret"),
    ],
    "grants": [
        _in_main({"securable_type": "catalog", "full_name": "shared", "principal": "analysts", "privileges": ["USE_CATALOG"]}),
        _in_main({"securable_type": "schema", "full_name": "shared.sales", "principal": "analysts", "privileges": ["USE_SCHEMA"]}),
        _in_main({"securable_type": "table", "full_name": "shared.sales.orders", "principal": "analysts", "privileges": ["SELECT"]}),
        _in_main({"securable_type": "catalog", "full_name": "nested", "principal": "data-eng", "privileges": ["USE_CATALOG"]}),
        _in_main({"securable_type": "metastore", "full_name": "main", "principal": SP, "privileges": ["CREATE_CATALOG"]}),
    ],
}


def emulator_bin() -> Path:
    p = Path(os.environ.get("UC_EMULATOR_BIN", "target/debug/uc-emulator"))
    if not p.is_absolute():
        p = REPO_ROOT / p
    if not p.exists():
        pytest.exit(f"uc-emulator binary not found at {p}; run `cargo build` or set UC_EMULATOR_BIN", 2)
    return p


class Server:
    """One running `uc-emulator serve` process."""

    def __init__(self, db: str, fixtures: list[str], log: Path, start_timeout: float = 15.0):
        self.db = db
        self.fixtures = fixtures
        env = {k: v for k, v in os.environ.items() if not k.startswith("UC_EMULATOR_")}
        env.setdefault("RUST_LOG", "warn")
        args = [str(emulator_bin()), "serve", "--bind", "127.0.0.1:0", "--db", db]
        for f in fixtures:
            args += ["--fixtures", f]
        with open(log, "ab") as err:
            self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err, env=env)
        self.url = self._read_listening_line(start_timeout)
        self._clients: dict[str, WorkspaceClient] = {}
        self.statuses: list[int] = []

    def _read_listening_line(self, timeout: float) -> str:
        box: dict = {}

        def reader():
            box["line"] = self.proc.stdout.readline().decode()

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        t.join(timeout)
        line = box.get("line", "")
        if not line.startswith(LISTEN_PREFIX):
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError(f"uc-emulator did not start (rc={self.proc.returncode}); stdout line: {line!r}")
        assert line.endswith("\n"), "the listening line must be a whole line"
        url = line[len(LISTEN_PREFIX):].strip()
        assert url.startswith("http://127.0.0.1:"), url
        assert not url.endswith(":0"), "the real port must be printed, not 0"
        return url

    # --- clients -----------------------------------------------------------------------------

    def client(self, token: str) -> WorkspaceClient:
        """A real SDK client for `token` (a key of TOKENS or a literal token)."""
        token = TOKENS.get(token, token)
        if token not in self._clients:
            cfg = Config(
                host=self.url,
                token=token,
                auth_type="pat",
                retry_timeout_seconds=10,
                http_timeout_seconds=15,
            )
            w = WorkspaceClient(config=cfg)
            # Record every HTTP status, so tests can check status codes the exception class
            # does not imply (the SDK maps INVALID_PARAMETER_VALUE to a class whatever the status).
            w.api_client._api_client._session.hooks["response"].append(
                lambda r, *a, **k: self.statuses.append(r.status_code)
            )
            self._clients[token] = w
        return self._clients[token]

    def __getattr__(self, name):
        # uc.admin, uc.alice, ... -> the SDK client of that identity
        if name in TOKENS:
            return self.client(name)
        raise AttributeError(name)

    def raw(self, method: str, path: str, token: Optional[str] = "admin", **kw) -> requests.Response:
        """A plain HTTP request (for what no SDK call can express, e.g. no token at all)."""
        headers = kw.pop("headers", {})
        if token is not None:
            headers["Authorization"] = f"Bearer {TOKENS.get(token, token)}"
        return requests.request(method, self.url + path, headers=headers, timeout=15, **kw)

    # --- lifecycle ---------------------------------------------------------------------------

    def close_clients(self):
        """Drop the clients' keep-alive connections."""
        for w in self._clients.values():
            with contextlib.suppress(Exception):
                w.api_client._api_client._session.close()
        self._clients.clear()

    def stop(self, sig=signal.SIGTERM, timeout: float = 15.0) -> int:
        """Signal the server, wait for it to exit, return its exit status."""
        self.close_clients()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"uc-emulator did not exit within {timeout}s of {sig!r}")
        return self.proc.returncode


@pytest.fixture(scope="session")
def fixture_file(tmp_path_factory) -> str:
    p = tmp_path_factory.mktemp("fixtures") / "test-fixture.json"
    p.write_text(json.dumps(TEST_FIXTURE, indent=2))
    return str(p)


@pytest.fixture(scope="session")
def _reaper():
    """Servers are sent SIGTERM when their test ends and waited for here, all at once at the end
    of the session (graceful shutdown takes a few hundred ms; waiting per test would add up)."""
    stopping: list[Server] = []
    yield stopping
    for s in stopping:
        try:
            s.proc.wait(15)
        except subprocess.TimeoutExpired:
            s.proc.kill()
            s.proc.wait()


@pytest.fixture
def start_server(tmp_path, fixture_file, _reaper):
    """Factory: start(db=None, fixtures=<test fixture>) -> Server. Every server is stopped at the end."""
    servers: list[Server] = []

    def start(db: Optional[str] = None, fixtures: Optional[list[str]] = None) -> Server:
        db = db or str(tmp_path / "uc.db")
        fx = [fixture_file] if fixtures is None else fixtures
        s = Server(db, fx, tmp_path / "server.log")
        servers.append(s)
        return s

    yield start
    for s in servers:
        if s.proc.poll() is None:
            s.close_clients()
            s.proc.send_signal(signal.SIGTERM)
            _reaper.append(s)


@pytest.fixture
def uc(start_server) -> Server:
    """A fresh server on a fresh temporary database, with the test fixture applied."""
    return start_server()


@pytest.fixture
def ms_id(uc) -> str:
    return uc.admin.metastores.current().metastore_id


# --- assertion helpers ------------------------------------------------------------------------


@contextlib.contextmanager
def raises(exc_class, error_code=None, status: Optional[int] = None, mentions=(), server: Optional[Server] = None):
    """Like pytest.raises, and also checks error_code, the HTTP status and words of the message."""
    if isinstance(mentions, str):
        mentions = (mentions,)
    if server is not None:
        server.statuses.clear()
    with pytest.raises(DatabricksError) as info:
        yield info
    e = info.value
    assert isinstance(e, exc_class), f"expected {exc_class.__name__}, got {type(e).__name__}: {e.error_code} {e}"
    if error_code is not None:
        codes = (error_code,) if isinstance(error_code, str) else tuple(error_code)
        assert e.error_code in codes, f"error_code {e.error_code!r} not in {codes}: {e}"
    assert str(e), "the error must carry a message"
    for word in mentions:
        assert word.lower() in str(e).lower(), f"message {str(e)!r} should mention {word!r}"
    if status is not None:
        assert server is not None, "status checks need server="
        assert server.statuses and server.statuses[-1] == status, f"HTTP status {server.statuses[-1:]} != {status}"


# --- the teaching fixture (fixtures/teaching.json; README "Teaching walkthrough") ---------------

TEACHING_FIXTURE = str(REPO_ROOT / "fixtures" / "teaching.json")
TEACHING_TOKENS = {
    "acme_admin": "dapi-acme-admin",  # admin@acme.example: account admin, owner of metastore `acme`
    "dana": "dapi-dana",  # data-engineering
    "erin": "dapi-erin",  # data-engineering
    "frank": "dapi-frank",  # analytics
    "grace": "dapi-grace",  # marketing-analysts, nested in analytics
    "henry": "dapi-henry",  # interns
    "etl": "dapi-etl",  # service principal nightly-etl, in data-engineering
}


@pytest.fixture
def teaching(start_server) -> Server:
    """A fresh server loaded with fixtures/teaching.json only (clients: teaching.client(TEACHING_TOKENS[..]))."""
    return start_server(fixtures=[TEACHING_FIXTURE])


# --- servers with extra `serve` arguments (e.g. --storage-map) ---------------------------------


class ServerWithArgs(Server):
    """A `Server` started with extra `uc-emulator serve` arguments."""

    def __init__(self, db: str, fixtures: list[str], log: Path, extra_args: list[str], start_timeout: float = 15.0):
        self.db = db
        self.fixtures = fixtures
        env = {k: v for k, v in os.environ.items() if not k.startswith("UC_EMULATOR_")}
        env.setdefault("RUST_LOG", "warn")
        args = [str(emulator_bin()), "serve", "--bind", "127.0.0.1:0", "--db", db]
        for f in fixtures:
            args += ["--fixtures", f]
        args += extra_args
        with open(log, "ab") as err:
            self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err, env=env)
        self.url = self._read_listening_line(start_timeout)
        self._clients = {}
        self.statuses = []


@pytest.fixture
def start_server_with_args(tmp_path, fixture_file, _reaper):
    """Factory: start(extra_args, fixtures=<test fixture>, db=None) -> Server, on a fresh database
    unless `db` names one."""
    servers: list[Server] = []

    def start(extra_args: list[str], fixtures: Optional[list[str]] = None, db: Optional[str] = None) -> Server:
        fx = [fixture_file] if fixtures is None else fixtures
        db = db or str(tmp_path / f"uc-{len(servers)}.db")  # a given db: a restart on it
        s = ServerWithArgs(db, fx, tmp_path / "server.log", extra_args)
        servers.append(s)
        return s

    yield start
    for s in servers:
        if s.proc.poll() is None:
            s.close_clients()
            s.proc.send_signal(signal.SIGTERM)
            _reaper.append(s)
