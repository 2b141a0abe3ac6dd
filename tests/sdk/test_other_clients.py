"""uc-emulator against real clients other than databricks-sdk.

- the legacy `databricks-cli==0.18.0` (`databricks unity-catalog ...`), its command-line entry
  point run with DATABRICKS_HOST / DATABRICKS_TOKEN in its environment. It drops the port from the host (it builds
  `scheme://hostname/api/`), so it gets its own server on `127.0.0.N:80`;
- the open-source Unity Catalog's generated Python client `unitycatalog-client` (async, aiohttp,
  strict pydantic models), base URL `<host>/api/2.1/unity-catalog`;
- `polars.Catalog`, polars' Unity Catalog client (Rust, serde: it needs e.g. `created_at` and
  `updated_at` on every CatalogInfo / SchemaInfo / TableInfo).

Each test drives one client through what a user does with it and checks what the server stored
(through the SDK or a plain request) as well as what the client returned.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import pytest
from databricks.sdk.errors import NotFound

from conftest import ADMIN, ALICE, LISTEN_PREFIX, TOKENS, UC, Server, emulator_bin

# ------------------------------------------------------------------------------------------------
# databricks-cli 0.18 (legacy CLI)
# ------------------------------------------------------------------------------------------------


class Port80Server(Server):
    """A `uc-emulator serve` on 127.0.0.N:80 (N random in 2..250), for the legacy CLI, which
    ignores any port in DATABRICKS_HOST."""

    def __init__(self, tmp_path: Path, fixtures: list[str], start_timeout: float = 15.0):
        env = {k: v for k, v in os.environ.items() if not k.startswith("UC_EMULATOR_")}
        env.setdefault("RUST_LOG", "warn")
        log = tmp_path / "server80.log"
        self._clients = {}
        self.statuses = []
        last = ""
        for attempt in range(10):
            host = f"127.0.0.{random.randint(2, 250)}"
            self.db = str(tmp_path / f"uc80-{attempt}.db")
            self.fixtures = fixtures
            args = [str(emulator_bin()), "serve", "--bind", f"{host}:80", "--db", self.db]
            for f in fixtures:
                args += ["--fixtures", f]
            start = log.stat().st_size if log.exists() else 0
            with open(log, "ab") as err:
                self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err, env=env)
            line = self._first_line(start_timeout)
            if line.startswith(LISTEN_PREFIX):
                self.url = line[len(LISTEN_PREFIX):].strip()
                assert self.url == f"http://{host}:80", self.url
                self.cli_host = f"http://{host}"  # what a user would configure: no port
                return
            self.proc.wait(5)
            last = log.read_bytes()[start:].decode(errors="replace")
            if "Permission denied" in last or "os error 13" in last:
                pytest.skip(f"databricks-cli 0.18 needs a server on port 80, and binding {host}:80 failed: {last.strip()}")
            if "in use" not in last:
                break
        raise RuntimeError(f"uc-emulator did not start on port 80: {last.strip()}")

    def _first_line(self, timeout: float) -> str:
        box: dict = {}

        def reader():
            box["line"] = self.proc.stdout.readline().decode()

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        t.join(timeout)
        if "line" not in box:
            self.proc.kill()
        return box.get("line", "")


@pytest.fixture
def uc80(tmp_path, fixture_file, _reaper):
    pytest.importorskip("databricks_cli", reason="databricks-cli==0.18.0 is in tests/sdk/requirements.txt")
    s = Port80Server(tmp_path, [fixture_file])
    yield s
    if s.proc.poll() is None:
        s.close_clients()
        s.proc.send_signal(signal.SIGTERM)
        _reaper.append(s)


def _cli(server: Port80Server, *args, token: str = "admin") -> subprocess.CompletedProcess:
    """`databricks unity-catalog <args>` as `token`, configured through the environment only.

    The CLI's own entry point runs in this process (click's test runner gives it its own argv,
    environment, stdout and stderr), which saves a Python start-up and the CLI's imports per
    call; what it sends and parses is the same code as `databricks unity-catalog ...`."""
    from click.testing import CliRunner
    from databricks_cli.cli import cli as databricks

    env = {k: None for k in os.environ if k.startswith("DATABRICKS_")}
    home = Path(server.db).parent / "cli-home"  # no ~/.databrickscfg of the developer
    home.mkdir(exist_ok=True)
    env.update(HOME=str(home), DATABRICKS_HOST=server.cli_host, DATABRICKS_TOKEN=TOKENS.get(token, token))
    result = CliRunner().invoke(databricks, ["unity-catalog", *args], env=env, prog_name="databricks")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def cli(server: Port80Server, *args, token: str = "admin"):
    """Run the CLI, expect success, return its JSON output (None when it printed nothing)."""
    p = _cli(server, *args, token=token)
    assert p.returncode == 0, f"databricks unity-catalog {' '.join(args)} -> rc={p.returncode}\n{p.stdout}{p.stderr}"
    out = p.stdout.strip()
    return json.loads(out) if out.startswith("{") else (out or None)


def cli_fails(server: Port80Server, *args, token: str = "admin") -> str:
    """Run the CLI, expect failure (exit status 1), return what it printed."""
    p = _cli(server, *args, token=token)
    assert p.returncode == 1, f"expected failure, rc={p.returncode}\n{p.stdout}{p.stderr}"
    assert "Traceback" not in p.stderr, p.stderr
    return p.stdout + p.stderr


def _table_spec(catalog, schema, name):
    return {
        "name": name,
        "catalog_name": catalog,
        "schema_name": schema,
        "table_type": "MANAGED",
        "data_source_format": "DELTA",
        "comment": "made by the legacy CLI",
        "columns": [
            {"name": "id", "type_name": "LONG", "type_text": "bigint", "position": 0, "nullable": False,
             "type_json": '{"name":"id","type":"long","nullable":false,"metadata":{}}'},
            {"name": "amount", "type_name": "DECIMAL", "type_text": "decimal(10,2)", "position": 1,
             "type_precision": 10, "type_scale": 2,
             "type_json": '{"name":"amount","type":"decimal(10,2)","nullable":true,"metadata":{}}'},
        ],
    }


def test_cli_catalog_schema_table_lifecycle(uc80):
    # catalogs
    names = {c["name"] for c in cli(uc80, "catalogs", "list")["catalogs"]}
    assert {"main", "shared", "private", "nested", "alice_cat"} <= names
    created = cli(uc80, "catalogs", "create", "--name", "cli_cat", "--comment", "from the CLI")
    assert created["name"] == "cli_cat" and created["comment"] == "from the CLI" and created["owner"] == ADMIN
    updated = cli(uc80, "catalogs", "update", "--name", "cli_cat",
                  "--json", json.dumps({"comment": "changed", "properties": {"team": "data"}}))
    assert updated["comment"] == "changed" and updated["properties"] == {"team": "data"}
    got = cli(uc80, "catalogs", "get", "--name", "cli_cat")
    assert got["comment"] == "changed" and got["properties"] == {"team": "data"}

    # schemas
    s = cli(uc80, "schemas", "create", "--catalog-name", "cli_cat", "--name", "s1", "--comment", "sc")
    assert s["full_name"] == "cli_cat.s1" and s["comment"] == "sc"
    s = cli(uc80, "schemas", "update", "--full-name", "cli_cat.s1", "--json", json.dumps({"comment": "sc2"}))
    assert s["comment"] == "sc2"
    listed = {x["name"] for x in cli(uc80, "schemas", "list", "--catalog-name", "cli_cat")["schemas"]}
    assert listed == {"default", "information_schema", "s1"}

    # tables (the CLI posts the table spec as it is given)
    spec = _table_spec("cli_cat", "s1", "t1")
    t = cli(uc80, "tables", "create", "--json", json.dumps(spec))
    assert t["full_name"] == "cli_cat.s1.t1" and t["table_type"] == "MANAGED" and t["table_id"]
    stored = uc80.raw("GET", f"{UC}/tables/cli_cat.s1.t1").json()
    for sent, back in zip(spec["columns"], stored["columns"], strict=True):
        assert {k: back.get(k) for k in sent} == sent
    t = cli(uc80, "tables", "update", "--full-name", "cli_cat.s1.t1", "--json", json.dumps({"owner": ALICE}))
    assert t["owner"] == ALICE
    assert [x["name"] for x in cli(uc80, "tables", "list", "--catalog-name", "cli_cat", "--schema-name", "s1")["tables"]] == ["t1"]
    summaries = cli(uc80, "tables", "list-summaries", "--catalog-name", "cli_cat")["tables"]
    assert {"full_name": "cli_cat.s1.t1", "table_type": "MANAGED"} in summaries
    assert cli(uc80, "tables", "get", "--full-name", "cli_cat.s1.t1")["comment"] == "made by the legacy CLI"

    # deletes: the CLI sends DELETE with a `{}` body, Content-Type text/json
    assert cli(uc80, "tables", "delete", "--full-name", "cli_cat.s1.t1") is None
    assert uc80.raw("GET", f"{UC}/tables/cli_cat.s1.t1").status_code == 404
    cli(uc80, "tables", "create", "--json", json.dumps(_table_spec("cli_cat", "s1", "t2")))
    # `default` is still there: a plain delete is refused, --purge drops tables and schemas first
    assert "CATALOG_NOT_EMPTY" in cli_fails(uc80, "catalogs", "delete", "--name", "cli_cat")
    out = cli(uc80, "catalogs", "delete", "--name", "cli_cat", "--purge")
    assert "Deleting table: cli_cat.s1.t2" in out and "Purging schema: cli_cat.default" in out
    assert uc80.raw("GET", f"{UC}/catalogs/cli_cat").status_code == 404


def test_cli_permissions(uc80):
    got = cli(uc80, "permissions", "get", "--catalog", "shared")
    assert got == {"privilege_assignments": [{"principal": "analysts", "privileges": ["USE_CATALOG"]}]}
    got = cli(uc80, "permissions", "update", "--catalog", "shared", "--json", json.dumps(
        {"changes": [{"principal": ALICE, "add": ["USE_CATALOG", "CREATE_SCHEMA"]},
                     {"principal": "analysts", "remove": ["USE_CATALOG"]}]}))
    assert got == {"privilege_assignments": [{"principal": ALICE, "privileges": ["CREATE_SCHEMA", "USE_CATALOG"]}]}
    sdk = uc80.admin.grants.get("catalog", "shared").privilege_assignments
    assert [(a.principal, sorted(p.value for p in a.privileges)) for a in sdk] == [(ALICE, ["CREATE_SCHEMA", "USE_CATALOG"])]

    # effective permissions on a table: its own grants, and those inherited from the schema
    cli(uc80, "permissions", "update", "--schema", "shared.sales",
        "--json", json.dumps({"changes": [{"principal": ALICE, "add": ["SELECT"]}]}))
    eff = cli(uc80, "permissions", "get", "--table", "shared.sales.orders", "--effective")
    by_principal = {a["principal"]: a["privileges"] for a in eff["privilege_assignments"]}
    assert by_principal["analysts"] == [{"privilege": "SELECT"}]
    assert by_principal[ALICE] == [
        {"privilege": "SELECT", "inherited_from_type": "SCHEMA", "inherited_from_name": "shared.sales"}]

    # --metastore takes the metastore id; --storage-credential goes to /permissions/storage-credential/...
    ms_id = cli(uc80, "metastores", "get-summary")["metastore_id"]
    got = cli(uc80, "permissions", "get", "--metastore", ms_id)
    assert {"principal": "6f1d1c2e-0000-4000-8000-000000000001", "privileges": ["CREATE_CATALOG"]} in got["privilege_assignments"]
    uc80.raw("POST", f"{UC}/storage-credentials",
             json={"name": "cred", "aws_iam_role": {"role_arn": "arn:aws:iam::123456789012:role/uc"}}).raise_for_status()
    got = cli(uc80, "permissions", "update", "--storage-credential", "cred", "--json", json.dumps(
        {"changes": [{"principal": "analysts", "add": ["CREATE_EXTERNAL_LOCATION"]}]}))
    assert got == {"privilege_assignments": [{"principal": "analysts", "privileges": ["CREATE_EXTERNAL_LOCATION"]}]}


def test_cli_metastores_and_sharing(uc80):
    ms = cli(uc80, "metastores", "list")["metastores"]
    assert [m["name"] for m in ms] == ["main"]
    ms_id = ms[0]["metastore_id"]
    assert cli(uc80, "metastores", "get", "--id", ms_id)["owner"] == ADMIN
    assert cli(uc80, "metastores", "get-assignment") == {
        "workspace_id": 1001, "metastore_id": ms_id, "default_catalog_name": "main"}
    assert cli(uc80, "shares", "list") == {"shares": []}
    assert cli(uc80, "recipients", "list") == {"recipients": []}
    assert cli(uc80, "providers", "list") == {"providers": []}

    # a share with a table in it
    assert cli(uc80, "shares", "create", "--name", "sh")["name"] == "sh"
    sh = cli(uc80, "shares", "update", "--name", "sh", "--add-table", "shared.sales.orders")
    assert [(o["name"], o["data_object_type"]) for o in sh["objects"]] == [("shared.sales.orders", "TABLE")]
    assert [s["name"] for s in cli(uc80, "shares", "list")["shares"]] == ["sh"]

    # TOKEN recipients need open sharing on the metastore
    m = cli(uc80, "metastores", "update", "--id", ms_id, "--delta-sharing-scope", "INTERNAL_AND_EXTERNAL",
            "--delta-sharing-recipient-token-lifetime-in-seconds", "3600", "--delta-sharing-organization-name", "acme")
    assert m["delta_sharing_scope"] == "INTERNAL_AND_EXTERNAL"
    r = cli(uc80, "recipients", "create", "--name", "rcp", "--comment", "partner")
    assert r["authentication_type"] == "TOKEN" and r["tokens"] and r["tokens"][0]["activation_url"]
    perms = cli(uc80, "shares", "update-permissions", "--name", "sh",
                "--json", json.dumps({"changes": [{"principal": "rcp", "add": ["SELECT"]}]}))
    assert perms == {"privilege_assignments": [{"principal": "rcp", "privileges": ["SELECT"]}]}
    assert [r["name"] for r in cli(uc80, "recipients", "list")["recipients"]] == ["rcp"]
    assert cli(uc80, "recipients", "list-permissions", "--name", "rcp")["permissions_out"] == [
        {"share_name": "sh", "privilege_assignments": [{"principal": "rcp", "privileges": ["SELECT"]}]}]

    # a provider from a recipient profile (the CLI posts to `/providers/`, with a trailing slash)
    p = cli(uc80, "providers", "create", "--name", "prov", "--comment", "theirs", "--recipient-profile-json",
            json.dumps({"shareCredentialsVersion": 1, "bearerToken": "t0k", "endpoint": "https://sharing.example.com/ds/"}))
    assert p["name"] == "prov" and p["authentication_type"] == "TOKEN"
    assert [x["name"] for x in cli(uc80, "providers", "list")["providers"]] == ["prov"]
    # a Delta Sharing catalog from one of the provider's shares
    dc = cli(uc80, "catalogs", "create", "--name", "from_prov", "--provider", "prov", "--share", "their_share")
    assert (dc["catalog_type"], dc["provider_name"], dc["share_name"]) == ("DELTASHARING_CATALOG", "prov", "their_share")


def test_cli_metastore_lifecycle(uc80):
    ms = cli(uc80, "metastores", "create", "--name", "second", "--storage-root", "s3://uc-test/second", "--region", "us-west-2")
    assert ms["name"] == "second" and ms["owner"] == ADMIN
    ms_id = ms["metastore_id"]
    # workspace 1002 has no metastore; its admin assigns the new one
    cli(uc80, "metastores", "assign", "--workspace-id", "1002", "--metastore-id", ms_id,
        "--default-catalog-name", "main", token="admin2")
    assert cli(uc80, "metastores", "get-assignment", token="admin2") == {
        "workspace_id": 1002, "metastore_id": ms_id, "default_catalog_name": "main"}
    cli(uc80, "metastores", "unassign", "--workspace-id", "1002", "--metastore-id", ms_id, token="admin2")
    cli(uc80, "metastores", "delete", "--id", ms_id, "--force")
    assert uc80.raw("GET", f"{UC}/metastores/{ms_id}").status_code == 404


def test_cli_errors(uc80):
    out = cli_fails(uc80, "catalogs", "get", "--name", "nope")
    assert "CATALOG_DOES_NOT_EXIST" in out and "nope" in out
    assert "TABLE_DOES_NOT_EXIST" in cli_fails(uc80, "tables", "get", "--full-name", "shared.sales.nope")
    # the CLI turns 403 and 401 into its own messages
    assert "Authorization failed" in cli_fails(uc80, "catalogs", "get", "--name", "private", token="bob")
    assert "authentication information may be incorrect" in cli_fails(uc80, "catalogs", "list", token="dapi-wrong")


# ------------------------------------------------------------------------------------------------
# unitycatalog-client (OSS Unity Catalog's generated client)
# ------------------------------------------------------------------------------------------------


def _oss():
    return pytest.importorskip("unitycatalog.client", reason="unitycatalog-client is in tests/sdk/requirements.txt")


def oss_run(server: Server, body, token: str = "admin"):
    """asyncio.run(body(api)) with an ApiClient for `token` (the client sends no auth header by
    itself: its Configuration has no bearer scheme, so the header is set on the ApiClient)."""
    ucc = _oss()

    async def main():
        cfg = ucc.Configuration(host=server.url + UC)
        async with ucc.ApiClient(cfg, header_name="Authorization", header_value=f"Bearer {TOKENS.get(token, token)}") as api:
            return await body(api)

    return asyncio.run(main())


OSS_COLS = [
    {"name": "id", "type_text": "bigint", "type_json": '{"name":"id","type":"long","nullable":false,"metadata":{}}',
     "type_name": "LONG", "position": 0, "comment": "key", "nullable": False},
    {"name": "amount", "type_text": "decimal(10,2)",
     "type_json": '{"name":"amount","type":"decimal(10,2)","nullable":true,"metadata":{}}',
     "type_name": "DECIMAL", "type_precision": 10, "type_scale": 2, "position": 1, "nullable": True, "partition_index": 0},
    {"name": "tags", "type_text": "array<string>",
     "type_json": '{"name":"tags","type":{"type":"array","elementType":"string","containsNull":true},"nullable":true,"metadata":{}}',
     "type_name": "ARRAY", "position": 2, "nullable": True},
]


def test_oss_client_browse(uc):
    ucc = _oss()
    ms_id = uc.admin.metastores.current().metastore_id

    async def body(api):
        summary = await ucc.MetastoresApi(api).summary()
        assert summary.metastore_id == ms_id
        cats = ucc.CatalogsApi(api)
        everything = [c.name for c in (await cats.list_catalogs()).catalogs]
        assert everything == ["alice_cat", "main", "nested", "private", "shared"]
        paged, token = [], None
        while True:
            page = await cats.list_catalogs(max_results=2, page_token=token)
            assert len(page.catalogs) <= 2
            paged += [c.name for c in page.catalogs]
            token = page.next_page_token
            if not token:
                break
        assert paged == everything
        c = await cats.get_catalog("shared")
        assert (c.name, c.comment, c.owner) == ("shared", "analysts may use this", ADMIN)
        assert isinstance(c.created_at, int) and c.created_by == ADMIN and c.updated_at >= c.created_at

        s = await ucc.SchemasApi(api).get_schema("shared.sales")
        assert (s.full_name, s.catalog_name, s.owner) == ("shared.sales", "shared", ADMIN) and s.schema_id
        names = [x.name for x in (await ucc.SchemasApi(api).list_schemas("shared")).schemas]
        assert names == ["default", "information_schema", "sales"]

        tables = await ucc.TablesApi(api).list_tables("shared", "sales")
        assert [t.name for t in tables.tables] == ["orders", "secret"]
        t = await ucc.TablesApi(api).get_table("shared.sales.orders")
        assert t.table_type == ucc.models.TableType.MANAGED
        assert t.data_source_format == ucc.models.DataSourceFormat.DELTA
        assert [(col.name, col.type_name, col.type_text, col.position, col.nullable) for col in t.columns] == [
            ("id", ucc.models.ColumnTypeName.LONG, "bigint", 0, False)]
        assert t.table_id and t.storage_location

    oss_run(uc, body)


def test_oss_client_create_update_delete(uc):
    ucc = _oss()
    m = ucc.models
    # an external location, so that an EXTERNAL table can be made too (the OSS client has no
    # Databricks-style storage credential model; set it up with plain requests)
    uc.raw("POST", f"{UC}/storage-credentials",
           json={"name": "cred", "aws_iam_role": {"role_arn": "arn:aws:iam::123456789012:role/uc"}}).raise_for_status()
    uc.raw("POST", f"{UC}/external-locations",
           json={"name": "ext", "url": "s3://uc-ext/data", "credential_name": "cred"}).raise_for_status()

    async def body(api):
        cats, schemas, tables = ucc.CatalogsApi(api), ucc.SchemasApi(api), ucc.TablesApi(api)
        c = await cats.create_catalog(m.CreateCatalog(name="oss_cat", comment="c", properties={"a": "1"}))
        assert (c.name, c.comment, c.properties, c.owner) == ("oss_cat", "c", {"a": "1"}, ADMIN)
        c = await cats.update_catalog("oss_cat", m.UpdateCatalog(comment="c2", properties={"b": "2"}))
        assert (c.comment, c.properties) == ("c2", {"b": "2"}) and c.updated_at >= c.created_at
        c = await cats.update_catalog("oss_cat", m.UpdateCatalog(new_name="oss_cat2"))
        assert c.name == "oss_cat2"

        s = await schemas.create_schema(m.CreateSchema(name="s", catalog_name="oss_cat2", comment="sc", properties={"p": "q"}))
        assert (s.full_name, s.comment, s.properties) == ("oss_cat2.s", "sc", {"p": "q"})
        s = await schemas.update_schema("oss_cat2.s", m.UpdateSchema(comment="sc2", new_name="s2"))
        assert (s.full_name, s.comment) == ("oss_cat2.s2", "sc2")

        cols = [m.ColumnInfo.from_dict(col) for col in OSS_COLS]
        made = await tables.create_table(m.CreateTable(
            name="t", catalog_name="oss_cat2", schema_name="s2", table_type=m.TableType.MANAGED,
            data_source_format=m.DataSourceFormat.DELTA, columns=cols, comment="tc", properties={"k": "v"}))
        # every column field the client sent comes back as sent
        assert [col.to_dict() for col in made.columns] == OSS_COLS
        assert (made.name, made.comment, made.properties, made.owner) == ("t", "tc", {"k": "v"}, ADMIN)
        got = await tables.get_table("oss_cat2.s2.t")
        assert [col.to_dict() for col in got.columns] == OSS_COLS and got.table_id == made.table_id

        ext = await tables.create_table(m.CreateTable(
            name="e", catalog_name="oss_cat2", schema_name="s2", table_type=m.TableType.EXTERNAL,
            data_source_format=m.DataSourceFormat.PARQUET, columns=cols[:1], storage_location="s3://uc-ext/data/e"))
        assert (ext.table_type, ext.data_source_format, ext.storage_location) == (
            m.TableType.EXTERNAL, m.DataSourceFormat.PARQUET, "s3://uc-ext/data/e")

        page1 = await tables.list_tables("oss_cat2", "s2", max_results=1)
        assert len(page1.tables) == 1 and page1.next_page_token
        page2 = await tables.list_tables("oss_cat2", "s2", max_results=1, page_token=page1.next_page_token)
        assert {page1.tables[0].name, page2.tables[0].name} == {"e", "t"} and not page2.next_page_token

        await tables.delete_table("oss_cat2.s2.t")
        with pytest.raises(ucc.exceptions.NotFoundException):
            await tables.get_table("oss_cat2.s2.t")
        with pytest.raises(ucc.exceptions.BadRequestException) as e:
            await schemas.delete_schema("oss_cat2.s2")
        assert "SCHEMA_NOT_EMPTY" in e.value.body
        await schemas.delete_schema("oss_cat2.s2", force=True)
        await cats.delete_catalog("oss_cat2", force=True)
        with pytest.raises(ucc.exceptions.NotFoundException):
            await cats.get_catalog("oss_cat2")

    oss_run(uc, body)
    with pytest.raises(NotFound):
        uc.admin.catalogs.get("oss_cat2")


def test_oss_client_errors(uc):
    ucc = _oss()
    exc = ucc.exceptions

    async def admin(api):
        for call in (ucc.CatalogsApi(api).get_catalog("nope"),
                     ucc.SchemasApi(api).get_schema("shared.nope"),
                     ucc.TablesApi(api).get_table("shared.sales.nope"),
                     ucc.CatalogsApi(api).delete_catalog("nope")):
            with pytest.raises(exc.NotFoundException) as e:
                await call
            assert e.value.status == 404 and json.loads(e.value.body)["error_code"].endswith("DOES_NOT_EXIST")
        with pytest.raises(exc.ApiException) as e:
            await ucc.CatalogsApi(api).create_catalog(ucc.models.CreateCatalog(name="shared"))
        assert e.value.status == 409 and "ALREADY_EXISTS" in json.loads(e.value.body)["error_code"]

    async def bob(api):
        with pytest.raises(exc.ForbiddenException) as e:
            await ucc.CatalogsApi(api).get_catalog("private")
        assert json.loads(e.value.body)["error_code"] == "PERMISSION_DENIED"

    async def nobody(api):
        with pytest.raises(exc.UnauthorizedException):
            await ucc.CatalogsApi(api).list_catalogs()

    oss_run(uc, admin)
    oss_run(uc, bob, token="bob")
    oss_run(uc, nobody, token="dapi-wrong")


def test_oss_client_grants_request(uc):
    """The OSS client writes privileges with spaces (`USE CATALOG`) and securable types in lower
    case; Unity Catalog accepts that and stores the canonical `USE_CATALOG`."""
    ucc = _oss()
    m = ucc.models

    async def body(api):
        change = m.UpdatePermissions(changes=[m.PermissionsChange(
            principal=ALICE, add=[m.Privilege.USE_CATALOG, m.Privilege.CREATE_SCHEMA], remove=[])])
        resp = await ucc.GrantsApi(api).update_without_preload_content(m.SecurableType.CATALOG, "nested", change)
        assert resp.status == 200, await resp.read()
        return json.loads(await resp.read())

    out = oss_run(uc, body)
    assert {"principal": ALICE, "privileges": ["CREATE_SCHEMA", "USE_CATALOG"]} in out["privilege_assignments"]
    sdk = {a.principal: sorted(p.value for p in a.privileges) for a in uc.admin.grants.get("catalog", "nested").privilege_assignments}
    assert sdk[ALICE] == ["CREATE_SCHEMA", "USE_CATALOG"]


def test_oss_client_reads_grants_raw_because_its_model_rejects_databricks_names(uc):
    """Databricks Unity Catalog (and so the emulator) answers the canonical `USE_CATALOG`; the OSS
    client's typed model only knows `USE CATALOG`, so its typed `get` fails and a user of that
    client reads grants through the raw variant, which works."""
    ucc = _oss()
    from pydantic import ValidationError

    async def body(api):
        grants = ucc.GrantsApi(api)
        raw = await grants.get_without_preload_content(ucc.models.SecurableType.CATALOG, "shared")
        assert raw.status == 200
        data = json.loads(await raw.read())
        with pytest.raises(ValidationError) as e:
            await grants.get(ucc.models.SecurableType.CATALOG, "shared")
        return data, str(e.value)

    data, error = oss_run(uc, body)
    assert data == {"privilege_assignments": [{"principal": "analysts", "privileges": ["USE_CATALOG"]}]}
    assert "USE_CATALOG" in error, error


# ------------------------------------------------------------------------------------------------
# polars.Catalog
# ------------------------------------------------------------------------------------------------


def _catalog(server: Server, token: str = "admin"):
    pl = pytest.importorskip("polars", reason="polars is in tests/sdk/requirements.txt")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "`Catalog` functionality is considered unstable."
        return pl, pl.Catalog(server.url, bearer_token=TOKENS.get(token, token), require_https=False)


@pytest.fixture(autouse=True)
def _quiet_unstable_warnings():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*considered unstable.*")
        yield


def test_polars_browse(uc):
    pl, c = _catalog(uc)
    cats = c.list_catalogs()
    assert [x.name for x in cats] == ["alice_cat", "main", "nested", "private", "shared"]
    shared = next(x for x in cats if x.name == "shared")
    assert shared.comment == "analysts may use this" and shared.created_by == ADMIN
    assert shared.created_at is not None and shared.updated_at is not None
    assert [n.name for n in c.list_namespaces("shared")] == ["default", "information_schema", "sales"]
    assert [t.name for t in c.list_tables("shared", "sales")] == ["orders", "secret"]
    t = c.get_table_info("shared", "sales", "orders")
    assert (t.table_type, t.data_source_format) == ("MANAGED", "DELTA")
    assert t.table_id and t.storage_location and t.created_at is not None
    assert t.get_polars_schema() == pl.Schema({"id": pl.Int64})

    # what each identity may see
    _, bob = _catalog(uc, "bob")
    assert bob.list_catalogs() == []
    _, alice = _catalog(uc, "alice")
    assert [x.name for x in alice.list_catalogs()] == ["alice_cat", "nested", "shared"]
    assert [t.name for t in alice.list_tables("shared", "sales")] == ["orders"]


def test_polars_create_round_trip(uc):
    pl, c = _catalog(uc)
    cat = c.create_catalog("pl_cat", comment="from polars")
    assert (cat.name, cat.comment, cat.created_by) == ("pl_cat", "from polars", ADMIN) and cat.created_at is not None
    ns = c.create_namespace("pl_cat", "ns", comment="n")
    assert (ns.name, ns.comment) == ("ns", "n")

    schema = {
        "i8": pl.Int8, "i16": pl.Int16, "i32": pl.Int32, "i64": pl.Int64,
        "f32": pl.Float32, "f64": pl.Float64, "s": pl.String, "bin": pl.Binary, "b": pl.Boolean,
        "d": pl.Date, "ts": pl.Datetime("us"), "dec": pl.Decimal(10, 2),
        "l": pl.List(pl.Int32), "st": pl.Struct({"x": pl.Float64, "y": pl.String}),
    }
    t = c.create_table("pl_cat", "ns", "t", schema=schema, table_type="MANAGED", data_source_format="DELTA",
                       comment="tc", properties={"k": "v", "delta.appendOnly": "true"})
    assert (t.name, t.comment, t.table_type, t.data_source_format) == ("t", "tc", "MANAGED", "DELTA")
    assert t.properties == {"k": "v", "delta.appendOnly": "true"}
    assert t.get_polars_schema() == pl.Schema(schema)
    got = c.get_table_info("pl_cat", "ns", "t")
    assert got.table_id == t.table_id and got.get_polars_schema() == pl.Schema(schema)

    # what polars sent (its own Spark-style names), stored as sent
    stored = {col["name"]: col for col in uc.raw("GET", f"{UC}/tables/pl_cat.ns.t").json()["columns"]}
    assert [stored[n]["position"] for n in schema] == list(range(len(schema)))
    assert {n: (stored[n]["type_name"], stored[n]["type_text"]) for n in schema} == {
        "i8": ("BYTE", "tinyint"), "i16": ("SHORT", "smallint"), "i32": ("INT", "int"), "i64": ("LONG", "bigint"),
        "f32": ("FLOAT", "float"), "f64": ("DOUBLE", "double"), "s": ("STRING", "string"), "bin": ("BINARY", "binary"),
        "b": ("BOOLEAN", "boolean"), "d": ("DATE", "date"), "ts": ("TIMESTAMP_NTZ", "timestamp_ntz"),
        "dec": ("DECIMAL", "decimal(10,2)"), "l": ("ARRAY", "array<int>"), "st": ("STRUCT", "struct<x:double,y:string>"),
    }
    for n in schema:
        assert json.loads(stored[n]["type_json"])["name"] == n
    sdk_cols = uc.admin.tables.get("pl_cat.ns.t").columns
    assert [col.name for col in sdk_cols] == list(schema)

    assert [x.name for x in c.list_tables("pl_cat", "ns")] == ["t"]
    # deletes, and what non-empty containers say
    with pytest.raises(pl.exceptions.ComputeError, match="SCHEMA_NOT_EMPTY"):
        c.delete_namespace("pl_cat", "ns")
    c.delete_table("pl_cat", "ns", "t")
    assert c.list_tables("pl_cat", "ns") == []
    with pytest.raises(pl.exceptions.ComputeError, match="CATALOG_NOT_EMPTY"):
        c.delete_catalog("pl_cat")  # `default` is still in it
    c.delete_namespace("pl_cat", "ns")
    c.delete_catalog("pl_cat", force=True)
    assert "pl_cat" not in [x.name for x in c.list_catalogs()]


def test_polars_errors(uc):
    pl, c = _catalog(uc)
    ComputeError = pl.exceptions.ComputeError
    with pytest.raises(ComputeError, match=r"404 Not Found.*TABLE_DOES_NOT_EXIST"):
        c.get_table_info("shared", "sales", "nope")
    with pytest.raises(ComputeError, match=r"404 Not Found.*SCHEMA_DOES_NOT_EXIST"):
        c.list_tables("shared", "nope")
    with pytest.raises(ComputeError, match=r"404 Not Found.*CATALOG_DOES_NOT_EXIST"):
        c.list_namespaces("nope")
    with pytest.raises(ComputeError, match=r"404 Not Found.*CATALOG_DOES_NOT_EXIST"):
        c.delete_catalog("nope")
    with pytest.raises(ComputeError, match=r"409 Conflict.*ALREADY_EXISTS"):
        c.create_catalog("shared")
    _, bob = _catalog(uc, "bob")
    with pytest.raises(ComputeError, match=r"403 Forbidden.*PERMISSION_DENIED"):
        bob.get_table_info("shared", "sales", "orders")
    _, nobody = _catalog(uc, "dapi-wrong")
    with pytest.raises(ComputeError, match=r"401 Unauthorized.*UNAUTHENTICATED"):
        nobody.list_catalogs()
