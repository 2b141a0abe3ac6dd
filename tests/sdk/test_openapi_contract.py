"""The OpenAPI document says what the server really requires and accepts.

For every operation with a JSON request body, a body the server accepts is sent:
- whole: it passes validation (any status but 400);
- without each field the document marks `required` (at the top and in nested objects): 400,
  and the message names the field;
- without each other field it contains: not 400 (the field really is optional), except the
  few fields listed in the case's `conditional` with the rule the schema cannot express;
- with each enumerated field set to a value outside its `enum`: 400; and set to each value of
  its `enum`: no 400 naming the field (the value is accepted);
- with no body at all: 400 when `requestBody.required`, not 400 otherwise.

Every answer these requests get must conform to the schema documented for its status (with
each enumerated value sent, this shows the answers' enums hold every value the requests
accept). Every operation with a JSON body must have a case here (or an entry in NOT_CHECKED with its
reason), so a new body cannot go unchecked. Query parameters marked `required` are checked the
same way: the request without each of them is a 400 naming it.
"""

from __future__ import annotations

import copy
import itertools
import json
import uuid

import pytest
import requests

ADMIN = "dapi-admin"
UC = "/api/2.1/unity-catalog"
SCIM = "/api/2.0/preview/scim/v2"
ACCOUNT = "/api/2.0/accounts/00000000-0000-4000-8000-000000000000"
SP_APP = "6f1d1c2e-0000-4000-8000-000000000001"
PROFILE = json.dumps(
    {"shareCredentialsVersion": 1, "bearerToken": "x" * 20, "endpoint": "https://sharing.example/api"}
)

# operationId: why its body is not checked here.
NOT_CHECKED: dict[str, str] = {
    "deltaSharingQueryTable": "a recipient's bearer token and a shared Delta table are needed; "
    "test_sharing_data.py covers its body",
    "requestToken": "a form body (RFC 6749); test_account_oauth.py covers grant_type and the client fields",
    "requestAccountToken": "a form body (RFC 6749); test_account_oauth.py covers grant_type and the client fields",
    "deleteMetastoreAssignment": "its one field is optional (it may come in the query); unassigning the "
    "workspace would leave the other cases without a metastore; test_metastores.py covers it",
    "registerPartner": "the whole partner configuration is validated field by field; "
    "tests/partner covers each rule",
}

_counter = itertools.count(1)


def fresh(value):
    """Replaces `{n}` in every string of a body with a new number (names stay unique)."""
    n = next(_counter)
    if isinstance(value, str):
        return value.replace("{n}", str(n)).replace("{uuid}", str(uuid.uuid4()))
    if isinstance(value, list):
        return [fresh(v) for v in value]
    if isinstance(value, dict):
        return {k: fresh(v) for k, v in value.items()}
    return value


class Case:
    def __init__(self, body, *, conditional=(), path=None, enum_values_business=(), query_alternative=False,
                 refused_by=None):
        self.body = body
        # The body's fields may come in the query string instead: without a body, the same
        # fields as query parameters pass validation.
        self.query_alternative = query_alternative
        # A business rule refuses even the case's body (400 naming this field): the checks then
        # tell the other refusals from that one by their message.
        self.refused_by = refused_by
        # Fields whose absence is a 400 by a rule between fields (one of several; required for
        # some values of another field): not `required` in the schema.
        self.conditional = set(conditional)
        self.path = path  # the concrete path; None: the template with the setup's values
        # Enumerated fields whose individual values may be refused by a business rule
        # (a permission level valid on another kind of object).
        self.enum_values_business = set(enum_values_business)


def column(name="id", position=0):
    return {"name": name, "type_name": "INT", "type_text": "int", "position": position,
            "type_json": json.dumps({"name": name, "type": "integer", "nullable": True, "metadata": {}}),
            "nullable": True}


FUNCTION = {
    "name": "f{n}", "catalog_name": "main", "schema_name": "s_u",
    "input_params": {"parameters": [{"name": "x", "type_name": "INT", "type_text": "int", "position": 0}]},
    "data_type": "INT", "full_data_type": "int", "routine_body": "SQL", "routine_definition": "x + 1",
    "parameter_style": "S", "is_deterministic": True, "is_null_call": False,
    "sql_data_access": "CONTAINS_SQL", "security_type": "DEFINER", "specific_name": "f{n}",
}

CASES: dict[str, Case] = {
    "createMetastore": Case({"name": "m{n}", "storage_root": "s3://bucket-{n}/root", "region": "us-east-1"}),
    "updateMetastore": Case({"delta_sharing_scope": "INTERNAL_AND_EXTERNAL", "external_access_enabled": True,
                             "delta_sharing_recipient_token_lifetime_in_seconds": 0},
                            conditional={"delta_sharing_recipient_token_lifetime_in_seconds"}),
    "createMetastoreAssignment": Case({"metastore_id": "{metastore_id}", "default_catalog_name": "main"}),
    "updateMetastoreAssignment": Case({"metastore_id": "{metastore_id}", "default_catalog_name": "main"}),
    "createStorageCredential": Case(
        {"name": "cred{n}", "aws_iam_role": {"role_arn": "arn:aws:iam::123456789012:role/r{n}"}, "comment": "x"},
        conditional={"aws_iam_role"},
    ),
    "updateStorageCredential": Case({"comment": "x", "read_only": False}),
    "validateStorageCredential": Case({"storage_credential_name": "cred_u", "url": "s3://lake-u/x"},
                                      conditional={"storage_credential_name"}),
    "createExternalLocation": Case({"name": "loc{n}", "url": "s3://lake-{n}/x", "credential_name": "cred_u",
                                    "comment": "x", "skip_validation": True}),
    "updateExternalLocation": Case({"comment": "x", "isolation_mode": "ISOLATION_MODE_OPEN"}),
    "createCatalog": Case({"name": "c{n}", "comment": "x", "properties": {"k": "v"}}),
    "updateCatalog": Case({"comment": "x", "isolation_mode": "OPEN"}),
    "createSchema": Case({"name": "s{n}", "catalog_name": "main", "comment": "x"}),
    "updateSchema": Case({"comment": "x"}),
    "createTable": Case(
        {"name": "t{n}", "catalog_name": "main", "schema_name": "s_u", "table_type": "MANAGED",
         "data_source_format": "DELTA", "columns": [column()], "comment": "x"},
        conditional={"data_source_format"},
    ),
    "updateTable": Case({"comment": "x"}),
    "queryTableSummaries": Case({"catalog_name": "main", "max_results": 10}),
    "createVolume": Case({"name": "v{n}", "catalog_name": "main", "schema_name": "s_u", "volume_type": "MANAGED",
                          "comment": "x"}),
    "updateVolume": Case({"comment": "x"}),
    # The SDK's wrapper; a bare CreateFunction is accepted too.
    "createFunction": Case({"function_info": FUNCTION}, conditional={"function_info"}),
    "updateFunction": Case({"owner": "admin@example.com"}),
    # A change names `principal`, or (to remove what a deleted principal held) `principal_id`.
    "updatePermissions": Case({"changes": [{"principal": "alice@example.com", "add": ["USE_CATALOG"]}]},
                              conditional={"principal"}),
    "replacePermissions": Case({"privilege_assignments": [{"principal": "alice@example.com",
                                                           "privileges": ["USE_CATALOG"]}]}),
    "createShare": Case({"name": "sh{n}", "comment": "x"}),
    "updateShare": Case({"comment": "x"}),
    "updateSharePermissions": Case({"changes": [{"principal": "r_u", "add": ["SELECT"]}]}, conditional={"principal"}),
    "createRecipient": Case({"name": "r{n}", "authentication_type": "TOKEN", "comment": "x"}),
    "updateRecipient": Case({"comment": "x"}),
    "rotateRecipientToken": Case({"existing_token_expire_in_seconds": 0}),
    "createProvider": Case({"name": "p{n}", "authentication_type": "TOKEN", "recipient_profile_str": PROFILE},
                           conditional={"recipient_profile_str"}),
    "updateProvider": Case({"comment": "x"}),
    "generateTemporaryTableCredentials": Case({"table_id": "{table_id}", "operation": "READ"},
                                              conditional={"table_id", "operation"}, query_alternative=True),
    "generateTemporaryTableCredentialsHosted": Case({"table_id": "{table_id}", "operation": "READ"},
                                                    conditional={"table_id", "operation"}, query_alternative=True),
    "generateTemporaryVolumeCredentials": Case({"volume_id": "{volume_id}", "operation": "READ_VOLUME"},
                                               conditional={"volume_id", "operation"}, query_alternative=True),
    "generateTemporaryVolumeCredentialsHosted": Case({"volume_id": "{volume_id}", "operation": "READ_VOLUME"},
                                                     conditional={"volume_id", "operation"}, query_alternative=True),
    "generateTemporaryPathCredentials": Case({"url": "s3://lake-u/x", "operation": "PATH_READ", "dry_run": True},
                                             conditional={"url", "operation"}, query_alternative=True),
    "generateTemporaryPathCredentialsHosted": Case(
        {"url": "s3://lake-u/x", "operation": "PATH_READ", "dry_run": True}, conditional={"url", "operation"}, query_alternative=True),
    "createToken": Case({"comment": "x", "lifetime_seconds": 3600}),
    "deleteToken": Case({"token_id": "does-not-exist"}),
    "createOboToken": Case({"application_id": SP_APP, "comment": "x", "lifetime_seconds": 3600}),
    "setObjectPermissions": Case({"access_control_list": [{"user_name": "alice@example.com",
                                                           "permission_level": "CAN_USE"}]},
                                 conditional={"user_name"}, enum_values_business={"permission_level"}),
    "updateObjectPermissions": Case({"access_control_list": [{"user_name": "alice@example.com",
                                                              "permission_level": "CAN_USE"}]},
                                    conditional={"user_name"}, enum_values_business={"permission_level"}),
    "connectPartner": Case({"partner_id": "{uuid}", "cloud_provider": "aws", "demo": False}),
    "deletePartnerAccount": Case({"domain": "acme.cloud.databricks.com", "cloud_provider": "aws"}),
    "expirePartnerAccount": Case({"email": "a@acme.cloud.databricks.com", "cloud_provider": "aws"}),
    # SCIM, workspace and account
    "createUser": Case({"userName": "u{n}@example.com", "displayName": "U"}),
    "replaceUser": Case({"userName": "alice@example.com", "displayName": "Alice"}),
    "patchUser": Case({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                       "Operations": [{"op": "replace", "path": "displayName", "value": "Alice"}]}),
    "createGroup": Case({"displayName": "g{n}"}),
    "replaceGroup": Case({"displayName": "g_u"}),
    "patchGroup": Case({"Operations": [{"op": "replace", "path": "displayName", "value": "g_u"}]}),
    "createServicePrincipal": Case({"applicationId": "{uuid}", "displayName": "sp"}),
    "replaceServicePrincipal": Case({"applicationId": SP_APP, "displayName": "etl-bot"}),
    "patchServicePrincipal": Case({"Operations": [{"op": "replace", "path": "displayName", "value": "etl-bot"}]}),
    "createAccountUser": Case({"userName": "au{n}@example.com", "displayName": "U"}),
    "replaceAccountUser": Case({"userName": "alice@example.com", "displayName": "Alice"}),
    "patchAccountUser": Case({"Operations": [{"op": "replace", "path": "displayName", "value": "Alice"}]}),
    "createAccountGroup": Case({"displayName": "ag{n}"}),
    "replaceAccountGroup": Case({"displayName": "g_u"}),
    "patchAccountGroup": Case({"Operations": [{"op": "replace", "path": "displayName", "value": "g_u"}]}),
    "createAccountServicePrincipal": Case({"applicationId": "{uuid}", "displayName": "sp"}),
    "replaceAccountServicePrincipal": Case({"applicationId": SP_APP, "displayName": "etl-bot"}),
    "patchAccountServicePrincipal": Case({"Operations": [{"op": "replace", "path": "displayName",
                                                          "value": "etl-bot"}]}),
    # Account
    "updateWorkspaceAssignment": Case({"permissions": ["USER"]}),
    # Every group of the emulator is an account group: there is never a workspace-local group to
    # migrate, so even a complete body is refused naming from_workspace_group_name.
    "migratePermissions": Case({"workspace_id": 1001, "from_workspace_group_name": "analysts",
                                "to_account_group_name": "analysts", "size": 10},
                               refused_by="from_workspace_group_name"),
    "updateRuleSet": Case({"name": "{rule_set}", "rule_set": {"name": "{rule_set}", "etag": "{etag}",
                                                               "grant_rules": []}}),
    "updateRuleSetProxy": Case({"name": "{rule_set}", "rule_set": {"name": "{rule_set}", "etag": "{etag}",
                                                                    "grant_rules": []}}),
    "createServicePrincipalSecret": Case({"lifetime": "3600s"}),
    "createServicePrincipalSecretProxy": Case({"lifetime": "3600s"}),
    "createAccountMetastore": Case({"metastore_info": {"name": "am{n}", "storage_root": "s3://bucket-a{n}/r",
                                                       "region": "us-east-1"}}),
    "updateAccountMetastore": Case({"metastore_info": {"comment": "x"}}),
    "createAccountMetastoreAssignment": Case({"metastore_assignment": {"default_catalog_name": "main"}}),
    "updateAccountMetastoreAssignment": Case({"metastore_assignment": {"default_catalog_name": "main"}}),
    "createAccountStorageCredential": Case(
        {"credential_info": {"name": "acred{n}", "aws_iam_role": {"role_arn": "arn:aws:iam::123456789012:role/a{n}"}}},
        conditional={"aws_iam_role"},
    ),
    "updateAccountStorageCredential": Case({"credential_info": {"comment": "x"}}),
}

# A PatchOp names a `path` with a `value`, or only a `value` object of attributes.
for _op in ("patchUser", "patchGroup", "patchServicePrincipal", "patchAccountUser", "patchAccountGroup",
            "patchAccountServicePrincipal"):
    CASES[_op].conditional |= {"path", "value"}
# An access control entry names exactly one of user_name, group_name, service_principal_name.


class Api:
    def __init__(self, url: str, doc: dict):
        self.url = url
        self.doc = doc
        self.values: dict[str, str] = {}

    def call(self, method, path, body=None, *, raw_body=None, params=None):
        headers = {"Authorization": f"Bearer {ADMIN}"}
        kw = {}
        if raw_body is not None:
            kw["data"] = raw_body
            headers["Content-Type"] = "application/json"
        elif body is not None:
            kw["json"] = body
        return requests.request(method, self.url + path, headers=headers, params=params, timeout=30, **kw)

    def ok(self, method, path, body=None):
        r = self.call(method, path, body)
        assert r.status_code < 300, (method, path, r.status_code, r.text)
        return r.json() if r.content else {}

    def nonconforming(self, op: dict, r: requests.Response) -> list[str]:
        import jsonschema_rs

        documented = op["responses"].get(str(r.status_code)) or op["responses"]["default"]
        schema = documented.get("content", {}).get("application/json", {}).get("schema")
        if schema is None or not r.content:
            return []
        validator = jsonschema_rs.Draft202012Validator({**schema, "components": self.doc["components"]})
        errors = [f"{e.instance_path}: {e.message}" for e in validator.iter_errors(r.json())]
        return [f"answer {r.status_code} does not conform: {errors[:3]} {r.text[:300]}"] if errors else []

    def resolve(self, schema: dict) -> dict:
        while "$ref" in schema:
            schema = self.doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        return schema

    def object_schema(self, schema: dict) -> tuple[dict, list]:
        """(properties, required) of an object schema, through $ref, allOf and nullable oneOf."""
        schema = self.resolve(schema)
        if "oneOf" in schema:
            branches = [b for b in schema["oneOf"] if b.get("type") != "null"]
            if len(branches) == 1:
                return self.object_schema(branches[0])
        props = dict(schema.get("properties", {}))
        required = list(schema.get("required", []))
        for branch in schema.get("allOf", []):
            p, r = self.object_schema(branch)
            props.update(p)
            required += r
        return props, required


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    from conftest import Server

    log = tmp_path_factory.mktemp("contract") / "server.log"
    server = Server(":memory:", [], log)
    try:
        doc = requests.get(server.url + "/api/openapi.json", timeout=10).json()
        a = Api(server.url, doc)
        setup(a)
        yield a
    finally:
        server.stop()


def setup(a: Api):
    """The objects the cases refer to, and the values their paths and bodies name."""
    ms = a.ok("GET", UC + "/current-metastore-assignment")["metastore_id"]
    a.ok("PATCH", f"{UC}/metastores/{ms}", {"external_access_enabled": True, "delta_sharing_scope": "INTERNAL_AND_EXTERNAL",
                                            "delta_sharing_recipient_token_lifetime_in_seconds": 0})
    a.ok("POST", UC + "/storage-credentials",
         {"name": "cred_u", "aws_iam_role": {"role_arn": "arn:aws:iam::123456789012:role/u"}})
    a.ok("POST", UC + "/external-locations",
         {"name": "loc_u", "url": "s3://lake-u", "credential_name": "cred_u", "skip_validation": True})
    a.ok("POST", UC + "/schemas", {"name": "s_u", "catalog_name": "main"})
    table = a.ok("POST", UC + "/tables", {"name": "t_u", "catalog_name": "main", "schema_name": "s_u",
                                          "table_type": "MANAGED", "data_source_format": "DELTA",
                                          "columns": [column()]})
    volume = a.ok("POST", UC + "/volumes", {"name": "v_u", "catalog_name": "main", "schema_name": "s_u",
                                            "volume_type": "MANAGED"})
    a.ok("POST", UC + "/functions", {"function_info": {**FUNCTION, "name": "f_u", "specific_name": "f_u"}})
    a.ok("POST", UC + "/shares", {"name": "sh_u"})
    a.ok("POST", UC + "/recipients", {"name": "r_u", "authentication_type": "TOKEN"})
    a.ok("POST", UC + "/providers", {"name": "p_u", "authentication_type": "TOKEN", "recipient_profile_str": PROFILE})
    users = a.ok("GET", SCIM + "/Users", None)["Resources"]
    alice = next(u["id"] for u in users if u["userName"] == "alice@example.com")
    sp = a.ok("GET", SCIM + "/ServicePrincipals")["Resources"][0]["id"]
    group = a.ok("POST", SCIM + "/Groups", {"displayName": "g_u"})["id"]
    rule_set = f"accounts/00000000-0000-4000-8000-000000000000/servicePrincipals/{SP_APP}/ruleSets/default"
    r = a.call("GET", "/api/2.0/preview/accounts/00000000-0000-4000-8000-000000000000/access-control/rule-sets",
               params={"name": rule_set, "etag": ""})
    assert r.status_code == 200, r.text
    etag = r.json()["etag"]
    a.values.update({
        "metastore_id": ms, "id": ms, "table_id": table["table_id"], "volume_id": volume["volume_id"],
        "workspace_id": "1001", "account_id": "00000000-0000-4000-8000-000000000000",
        "principal_id": alice, "service_principal_id": sp, "rule_set": rule_set, "etag": etag,
        "request_object_type": "authorization", "request_object_id": "tokens", "partner_id": str(uuid.uuid4()),
    })
    # The object each path names, by the operation's path template.
    a.paths = {
        "/storage-credentials/{name}": "cred_u", "/external-locations/{name}": "loc_u", "/catalogs/{name}": "main",
        "/schemas/{full_name}": "main.s_u", "/tables/{full_name}": "main.s_u.t_u",
        "/volumes/{full_name}": "main.s_u.v_u", "/functions/{full_name}": "main.s_u.f_u",
        "/permissions/{securable_type}/{full_name}": "catalog/main", "/shares/{name}": "sh_u",
        "/recipients/{name}": "r_u", "/providers/{name}": "p_u", "/Users/{id}": alice, "/Groups/{id}": group,
        "/ServicePrincipals/{id}": sp, "/storage-credentials/{name}": "cred_u",
    }


def concrete(a: Api, template: str) -> str:
    path = template
    for key, value in sorted(a.paths.items(), key=lambda kv: -len(kv[0])):
        head = key.split("{", 1)[0]
        if head in path and key.split("}", 1)[0] + "}" in path:
            params = [p.split("}", 1)[0] for p in key.split("{")[1:]]
            if key == "/permissions/{securable_type}/{full_name}":
                path = path.replace("{securable_type}/{full_name}", value)
            elif key.startswith("/storage-credentials") and "/metastores/" in path:
                path = path.replace("{name}", "acred_u")
            else:
                path = path.replace("{" + params[0] + "}", value, 1)
    for key, value in a.values.items():
        path = path.replace("{" + key + "}", str(value))
    assert "{" not in path, path
    return path


def operations_with_bodies(doc):
    for template, item in doc["paths"].items():
        for method, op in item.items():
            body = op.get("requestBody")
            if body and "application/json" in body["content"]:
                yield op["operationId"], method.upper(), template, op


def substitute(a: Api, body):
    text = json.dumps(body)
    for key, value in a.values.items():
        text = text.replace("{" + key + "}", str(value))
    return json.loads(text)


def test_every_operation_with_a_body_has_a_case(api):
    missing = [op_id for op_id, *_ in operations_with_bodies(api.doc) if op_id not in CASES and op_id not in NOT_CHECKED]
    assert not missing, f"add a Case to CASES (or a reason to NOT_CHECKED) for: {missing}"
    stale = [op_id for op_id in CASES if op_id not in {o for o, *_ in operations_with_bodies(api.doc)}]
    assert not stale, f"cases for operations without a JSON body in the document: {stale}"


def walk(a: Api, schema: dict, body, at: str = ""):
    """(path in the body, properties, required, value) for the body and each nested object in it."""
    props, required = a.object_schema(schema)
    yield at, props, required, body
    for key, value in body.items():
        if key not in props:
            continue
        sub = a.resolve(props[key])
        if isinstance(value, dict) and (sub.get("properties") or "allOf" in sub or "oneOf" in sub):
            yield from walk(a, props[key], value, f"{at}{key}.")
        elif isinstance(value, list) and value and isinstance(value[0], dict) and "items" in sub:
            yield from walk(a, sub["items"], value[0], f"{at}{key}[0].")


def get_in(body, dotted: str):
    """The object at `a.b[0].` (the parent of a nested field)."""
    target = body
    for part in [p for p in dotted.split(".") if p]:
        if part.endswith("[0]"):
            target = target[part[:-3]][0]
        else:
            target = target[part]
    return target


def enum_of(a: Api, schema: dict):
    s = a.resolve(schema)
    if "enum" in s:
        return [v for v in s["enum"] if v is not None], False
    items = s.get("items")
    if items is not None and "enum" in a.resolve(items):
        return [v for v in a.resolve(items)["enum"] if v is not None], True
    return None, False


@pytest.mark.parametrize("op_id", sorted(CASES))
def test_the_body_schema_is_what_the_server_requires(api, op_id):
    found = [(m, t, op) for o, m, t, op in operations_with_bodies(api.doc) if o == op_id]
    assert found, f"{op_id} has no JSON body in the document"
    method, template, op = found[0]
    case = CASES[op_id]
    path = concrete(api, case.path or template)
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    good = substitute(api, case.body)

    answers = []

    def send(body):
        r = api.call(method, path, fresh(body))
        answers.append(r)
        return r

    business = None

    def refused(r):
        """A 400 for the body's fields (not the case's business rule)."""
        return r.status_code == 400 and r.json()["message"] != business

    r = send(good)
    if case.refused_by:
        assert r.status_code == 400 and r.json()["message"].startswith(case.refused_by + ":"), r.text
        business = r.json()["message"]
    assert not refused(r), f"{op_id}: the case's body is refused: {r.text}"
    assert r.status_code < 500, r.text
    problems = []
    for at, props, required, value in walk(api, schema, good):
        for field in required:
            if field not in value:
                problems.append(f"the case's body has no {at}{field}, which the document requires")
                continue
            body = copy.deepcopy(good)
            del get_in(body, at)[field]
            r = send(body)
            if not refused(r):
                problems.append(f"without required {at}{field}: {r.status_code} (expected 400)")
            elif field not in r.json().get("message", "") and field not in r.json().get("detail", ""):
                problems.append(f"without required {at}{field}: 400 not naming it: {r.text}")
        for field in value:
            if field in required or field not in props or field in case.conditional:
                continue
            body = copy.deepcopy(good)
            del get_in(body, at)[field]
            r = send(body)
            if refused(r):
                problems.append(f"without optional {at}{field}: 400 {r.text} (mark it required?)")
        for field, fs in props.items():
            values, is_list = enum_of(api, fs)
            if values is None or field not in value:
                continue
            body = copy.deepcopy(good)
            get_in(body, at)[field] = ["NOT_A_VALUE"] if is_list else "NOT_A_VALUE"
            r = send(body)
            if not refused(r):
                problems.append(f"{at}{field} outside its enum: {r.status_code} (expected 400)")
            if field in case.enum_values_business:
                continue
            for v in values:
                body = copy.deepcopy(good)
                get_in(body, at)[field] = [v] if is_list else v
                r = send(body)
                if r.status_code == 400 and r.json().get("message", "").startswith(f"{at}{field}"):
                    problems.append(f"{at}{field} = {v!r} (in the enum) refused: {r.text}")
    # No body at all.
    r = api.call(method, path, raw_body=b"")
    if op["requestBody"].get("required"):
        if r.status_code != 400:
            problems.append(f"no body: {r.status_code}, but requestBody.required")
    elif case.query_alternative:
        query = {k: str(v).lower() if isinstance(v, bool) else v for k, v in fresh(good).items()}
        r = api.call(method, path, raw_body=b"", params=query)
        if refused(r):
            problems.append(f"no body, the fields in the query: 400 {r.text}")
    elif refused(r):
        problems.append(f"no body: 400 {r.text} (mark requestBody required?)")
    # Every answer these requests got conforms to the schema documented for its status.
    for r in answers:
        problems += api.nonconforming(op, r)
    assert not problems, f"{op_id} ({method} {template}):\n  " + "\n  ".join(problems)


def test_required_query_parameters_are_required(api):
    problems = []
    for template, item in api.doc["paths"].items():
        for method, op in item.items():
            params = [p for p in op.get("parameters", []) if p["in"] == "query"]
            required = [p["name"] for p in params if p.get("required")]
            if not required or method != "get":
                continue
            path = concrete(api, template)
            full = {"catalog_name": "main", "schema_name": "s_u", "action": "getTable", "securable_type": "table",
                    "full_name": "main.s_u.t_u", "resource": "accounts/00000000-0000-4000-8000-000000000000",
                    "name": api.values["rule_set"], "url": "s3://lake-u/x"}
            query = {p["name"]: full[p["name"]] for p in params if p["name"] in full}
            r = api.call("GET", path, params=query)
            if r.status_code == 400:
                problems.append(f"{op['operationId']}: 400 with every required parameter: {r.text}")
            for name in required:
                r = api.call("GET", path, params={k: v for k, v in query.items() if k != name})
                if r.status_code != 400 or name not in r.json().get("message", ""):
                    problems.append(f"{op['operationId']} without {name}: {r.status_code} {r.text[:200]}")
    assert not problems, "\n".join(problems)


def test_each_operation_enforces_the_security_it_documents(api):
    """A bearer-secured operation called without a token answers 401 with its error schema; an
    unauthenticated one never answers 401."""
    problems = []
    for template, item in api.doc["paths"].items():
        for method, op in item.items():
            path = template
            for p in op.get("parameters", []):
                if p["in"] == "path":
                    value = "1" if p["schema"].get("type") == "integer" else "x"
                    if p["name"] in ("file_path", "directory_path"):
                        value = "/Volumes/main/s_u/v_u/f"
                    path = path.replace("{" + p["name"] + "}", value)
            kw = {}
            if "application/json" in op.get("requestBody", {}).get("content", {}):
                kw["json"] = {}
            r = requests.request(method.upper(), api.url + path, timeout=30, **kw)
            security = op.get("security", api.doc["security"])
            if security == []:
                if r.status_code == 401:
                    problems.append(f"{op['operationId']}: 401 without a token, but documented without security")
            elif {} not in security:
                if r.status_code != 401:
                    problems.append(f"{op['operationId']}: {r.status_code} without a token (expected 401)")
                elif method != "head":
                    problems += [f"{op['operationId']}: {p}" for p in api.nonconforming(op, r)]
    assert not problems, "\n".join(problems)
