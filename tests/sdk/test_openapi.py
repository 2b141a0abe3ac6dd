"""The served OpenAPI document: valid OpenAPI 3.1, and the whole surface fuzzed against it.

schemathesis generates requests from `GET /api/openapi.json` for every operation and checks
two things of every answer: it is not a server error (no 5xx, except the documented 502 / 504 of
Partner Connect operations that call a partner), and its body conforms to the schema documented
for its status. It runs once as an account and metastore admin (`dapi-admin`) and once as a
plain user without grants (`dapi-alice`), each against a fresh server on `--db :memory:`.

The run here is short (a few examples per operation, a fixed seed). The long run:

    UC_FUZZ_EXAMPLES=100 UC_FUZZ_PHASES=examples,coverage,fuzzing,stateful \
        UC_EMULATOR_BIN=$PWD/target/debug/uc-emulator .venv/bin/python -m pytest tests/sdk/test_openapi.py -q

(`UC_FUZZ_SEED` changes the seed; schemathesis' report is written under the test's tmp_path and
its path printed on failure.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from openapi_spec_validator import validate

from conftest import emulator_bin

# No operation is excluded from fuzzing. An exclusion would go here with its reason.
EXCLUDED_OPERATION_IDS: dict[str, str] = {}

EXAMPLES = int(os.environ.get("UC_FUZZ_EXAMPLES", "4"))
PHASES = os.environ.get("UC_FUZZ_PHASES", "examples,coverage,fuzzing")
SEED = os.environ.get("UC_FUZZ_SEED", "20260101")


@pytest.fixture
def memory_server(start_server):
    # The built-in default fixture (dapi-admin, dapi-alice) on a database that lives in memory.
    return start_server(db=":memory:", fixtures=[])


def test_the_document_is_valid_openapi_31(memory_server):
    r = requests.get(memory_server.url + "/api/openapi.json", timeout=10)
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.1.")
    validate(doc)  # the OpenAPI 3.1 meta-schema (openapi-spec-validator)
    assert doc["servers"] == [{"url": memory_server.url}]
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    # Every operation documents its failures with the error schema, and `default`.
    for path, item in doc["paths"].items():
        for method, op in item.items():
            responses = op["responses"]
            assert "default" in responses, (method, path)
            if op.get("security") != []:
                assert "401" in responses, (method, path)
    # Every example validates against its schema.
    import jsonschema_rs

    def check(schema, where):
        for example in schema.get("examples", []):
            validator = jsonschema_rs.Draft202012Validator({**schema, "components": doc["components"]})
            errors = [f"{e.instance_path}: {e.message}" for e in validator.iter_errors(example)]
            assert not errors, (where, example, errors)

    for name, schema in doc["components"]["schemas"].items():
        check(schema, name)
    examples = 0
    for path, item in doc["paths"].items():
        for method, op in item.items():
            for p in op.get("parameters", []):
                check(p["schema"], (method, path, p["name"]))
                examples += "examples" in p["schema"]
    assert examples > 10
    # The version is the binary's.
    out = subprocess.run([str(emulator_bin()), "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"uc-emulator {doc['info']['version']}"


@pytest.mark.parametrize("token", ["dapi-admin", "dapi-alice"])
def test_fuzz_every_operation(memory_server, token, tmp_path):
    url = memory_server.url + "/api/openapi.json"
    cli = Path(sys.executable).with_name("schemathesis")
    args = [
        str(cli),
        "run",
        url,
        "--checks",
        "not_a_server_error,response_schema_conformance",
        "--header",
        f"Authorization: Bearer {token}",
        # Positive data (what the document allows) and negative data (what it does not): both
        # must get a documented answer, never a 5xx.
        "--mode",
        "all",
        "--phases",
        PHASES,
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        SEED,
        "--workers",
        "1",
        "--no-shrink",
        "--request-timeout",
        "30",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path / "report"),
    ]
    for op_id in EXCLUDED_OPERATION_IDS:
        args += ["--exclude-operation-id", op_id]
    env = {**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": ""}
    run = subprocess.run(args, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600)
    out = run.stdout + run.stderr
    assert "Tested: 0" not in out, out[-3000:]
    assert run.returncode == 0, f"schemathesis found failures as {token}:\n{out[-12000:]}"


# Concrete objects of the teaching company, read back and checked against the documented
# schemas: random fuzzing rarely names an existing table, volume or function, so the answers
# richest in fields are checked here directly. Each entry: path, the operation's documented path.
TEACHING_READS = [
    ("/api/2.1/unity-catalog/metastores", "/api/2.1/unity-catalog/metastores"),
    ("/api/2.1/unity-catalog/metastore_summary", "/api/2.1/unity-catalog/metastore_summary"),
    ("/api/2.1/unity-catalog/current-metastore-assignment", "/api/2.1/unity-catalog/current-metastore-assignment"),
    ("/api/2.1/unity-catalog/catalogs", "/api/2.1/unity-catalog/catalogs"),
    ("/api/2.1/unity-catalog/catalogs/sales", "/api/2.1/unity-catalog/catalogs/{name}"),
    ("/api/2.1/unity-catalog/schemas?catalog_name=sales", "/api/2.1/unity-catalog/schemas"),
    ("/api/2.1/unity-catalog/schemas/sales.reports", "/api/2.1/unity-catalog/schemas/{full_name}"),
    ("/api/2.1/unity-catalog/tables?catalog_name=sales&schema_name=reports", "/api/2.1/unity-catalog/tables"),
    ("/api/2.1/unity-catalog/tables/sales.reports.revenue", "/api/2.1/unity-catalog/tables/{full_name}"),
    ("/api/2.1/unity-catalog/tables/sales.reports.revenue/exists", "/api/2.1/unity-catalog/tables/{full_name}/exists"),
    ("/api/2.1/unity-catalog/table-summaries?catalog_name=sales", "/api/2.1/unity-catalog/table-summaries"),
    ("/api/2.1/unity-catalog/volumes?catalog_name=engineering&schema_name=raw", "/api/2.1/unity-catalog/volumes"),
    ("/api/2.1/unity-catalog/volumes/engineering.raw.landing", "/api/2.1/unity-catalog/volumes/{full_name}"),
    ("/api/2.1/unity-catalog/functions?catalog_name=sales&schema_name=reports", "/api/2.1/unity-catalog/functions"),
    ("/api/2.1/unity-catalog/functions/sales.reports.fiscal_quarter", "/api/2.1/unity-catalog/functions/{full_name}"),
    ("/api/2.1/unity-catalog/storage-credentials", "/api/2.1/unity-catalog/storage-credentials"),
    ("/api/2.1/unity-catalog/storage-credentials/acme-lake-role", "/api/2.1/unity-catalog/storage-credentials/{name}"),
    ("/api/2.1/unity-catalog/external-locations", "/api/2.1/unity-catalog/external-locations"),
    ("/api/2.1/unity-catalog/external-locations/acme-data", "/api/2.1/unity-catalog/external-locations/{name}"),
    (
        "/api/2.1/unity-catalog/permissions/schema/sales.reports",
        "/api/2.1/unity-catalog/permissions/{securable_type}/{full_name}",
    ),
    (
        "/api/2.1/unity-catalog/effective-permissions/table/sales.reports.revenue",
        "/api/2.1/unity-catalog/effective-permissions/{securable_type}/{full_name}",
    ),
    (
        "/api/2.1/unity-catalog/effective-privilege-assignments/table/sales.reports.revenue",
        "/api/2.1/unity-catalog/effective-privilege-assignments/{securable_type}/{full_name}",
    ),
    (
        "/api/2.1/unity-catalog/explain?action=getTable&securable_type=table&full_name=sales.reports.revenue"
        "&principal=henry@acme.example",
        "/api/2.1/unity-catalog/explain",
    ),
    # Each kind of reason: admin roles, ownership, grants (inherited), a missing link.
    (
        "/api/2.1/unity-catalog/explain?action=getTable&securable_type=table&full_name=sales.reports.revenue",
        "/api/2.1/unity-catalog/explain",
    ),
    *[
        (
            "/api/2.1/unity-catalog/explain?action=" + action + "&securable_type=table"
            "&full_name=sales.reports.revenue&principal=" + who + "@acme.example",
            "/api/2.1/unity-catalog/explain",
        )
        for who in ("dana", "erin", "frank", "grace")
        for action in ("SELECT", "MODIFY", "updateTable", "deleteTable")
    ],
    ("/api/2.1/unity-catalog/explain/actions?securable_type=table", "/api/2.1/unity-catalog/explain/actions"),
    ("/api/2.1/unity-catalog/user-info/me", "/api/2.1/unity-catalog/user-info/me"),
    ("/api/2.1/unity-catalog/user-info/my-groups", "/api/2.1/unity-catalog/user-info/my-groups"),
    ("/api/2.0/preview/scim/v2/Me", "/api/2.0/preview/scim/v2/Me"),
    ("/api/2.0/preview/scim/v2/Users", "/api/2.0/preview/scim/v2/Users"),
    ("/api/2.0/preview/scim/v2/Groups", "/api/2.0/preview/scim/v2/Groups"),
    ("/api/2.0/preview/scim/v2/ServicePrincipals", "/api/2.0/preview/scim/v2/ServicePrincipals"),
    ("/api/2.0/token/list", "/api/2.0/token/list"),
    ("/api/2.0/token-management/tokens", "/api/2.0/token-management/tokens"),
    ("/api/2.0/sql/warehouses", "/api/2.0/sql/warehouses"),
    ("/.well-known/databricks-config", "/.well-known/databricks-config"),
    ("/healthz", "/healthz"),
]


def test_teaching_objects_conform_to_the_document(start_server):
    import jsonschema_rs

    server = start_server(fixtures=[str(Path(__file__).resolve().parents[2] / "fixtures" / "teaching.json")])
    doc = requests.get(server.url + "/api/openapi.json", timeout=10).json()
    headers = {"Authorization": "Bearer dapi-acme-admin"}
    for path, template in TEACHING_READS:
        r = requests.get(server.url + path, headers=headers, timeout=10)
        assert r.status_code == 200, (path, r.text)
        schema = doc["paths"][template]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        validator = jsonschema_rs.Draft202012Validator({**schema, "components": doc["components"]})
        errors = [f"{e.instance_path}: {e.message}" for e in validator.iter_errors(r.json())]
        assert not errors, (path, errors[:5], r.text[:2000])
