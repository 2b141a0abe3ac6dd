"""OAuth machine-to-machine through the real SDK: service principal secrets (account API and the
workspace proxy), the discovery and token endpoints behind `oauth-m2m`, and what a service
principal signed in that way may do."""

from __future__ import annotations

import time

import requests
from databricks.sdk import AccountClient, WorkspaceClient
from databricks.sdk.config import Config
from databricks.sdk.errors import BadRequest, NotFound, PermissionDenied
from databricks.sdk.service.iam import ComplexValue, Patch, PatchOp, PatchSchema, WorkspacePermission

from conftest import BOB, SP, raises
from test_account import ACCOUNT, account

SCHEMAS = [PatchSchema.URN_IETF_PARAMS_SCIM_API_MESSAGES_2_0_PATCH_OP]


def sp_id(uc, app_id=SP) -> str:
    return next(iter(account(uc).service_principals.list(filter=f'applicationId eq "{app_id}"'))).id


def m2m_workspace(uc, client_id, secret, **kw) -> WorkspaceClient:
    cfg = Config(host=uc.url, client_id=client_id, client_secret=secret, auth_type="oauth-m2m",
                 retry_timeout_seconds=10, http_timeout_seconds=15, **kw)
    return WorkspaceClient(config=cfg)


def m2m_account(uc, client_id, secret) -> AccountClient:
    cfg = Config(host=uc.url, account_id=ACCOUNT, client_id=client_id, client_secret=secret, auth_type="oauth-m2m",
                 retry_timeout_seconds=10, http_timeout_seconds=15)
    return AccountClient(config=cfg)


def token_request(uc, data=None, auth=None, path="/oidc/v1/token", **kw):
    return requests.post(uc.url + path, data=data, auth=auth, timeout=15, **kw)


def test_secrets_every_method_and_the_sdk_signs_in_with_one(uc):
    a = account(uc)
    sid = sp_id(uc)
    created = a.service_principal_secrets.create(sid, lifetime="3600s")
    assert created.secret.startswith("dose") and len(created.secret) >= 36
    assert len(created.id) == 32 and created.status == "ACTIVE" and created.secret_hash
    assert created.secret_hash not in created.secret and created.create_time.endswith("Z")
    assert created.expire_time > created.create_time
    listed = list(a.service_principal_secrets.list(sid))
    assert [s.id for s in listed] == [created.id] and listed[0].status == "ACTIVE"
    raw = uc.raw("GET", f"/api/2.0/accounts/{ACCOUNT}/servicePrincipals/{sid}/credentials/secrets").json()
    assert "secret" not in raw["secrets"][0] and "next_page_token" not in raw

    # WorkspaceClient(host, client_id, client_secret): the SDK reads host metadata, discovery,
    # then the token endpoint; the service principal is who it says.
    w = m2m_workspace(uc, SP, created.secret)
    me = w.current_user.me()
    assert me.user_name == SP and me.id == sid
    info = w.api_client.do("GET", "/api/2.1/unity-catalog/user-info/me")
    assert info == {"is_metastore_admin": False}
    # Exactly its grants: CREATE_CATALOG on the metastore, nothing on `private`.
    w.catalogs.create(name="from_oauth")
    assert w.catalogs.get("from_oauth").owner == SP
    with raises(PermissionDenied, server=None):
        w.catalogs.get("private")
    # With the workspace named explicitly, too.
    assert m2m_workspace(uc, SP, created.secret, workspace_id="1001").current_user.me().user_name == SP
    # user-info/me is evaluated for the service principal itself: once it owns the metastore, it
    # is a metastore admin.
    ms = uc.admin.metastores.summary().metastore_id
    uc.admin.metastores.update(ms, owner=SP)
    assert w.api_client.do("GET", "/api/2.1/unity-catalog/user-info/me") == {"is_metastore_admin": True}
    w.metastores.update(ms, owner="admin@example.com")
    assert w.api_client.do("GET", "/api/2.1/unity-catalog/user-info/me") == {"is_metastore_admin": False}

    # Deleting the secret: tokens already minted keep working, new ones are refused.
    a.service_principal_secrets.delete(sid, created.id)
    assert w.current_user.me().user_name == SP
    r = token_request(uc, {"grant_type": "client_credentials", "scope": "all-apis"}, auth=(SP, created.secret))
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    assert list(a.service_principal_secrets.list(sid)) == []
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST", status=404, server=uc):
        a.service_principal_secrets.delete(sid, created.id)


def test_account_client_with_oauth_acts_as_the_service_principal(uc):
    a = account(uc)
    robot = a.service_principals.create(display_name="robot", roles=[ComplexValue(value="account_admin")])
    secret = a.service_principal_secrets.create(robot.id).secret
    ra = m2m_account(uc, robot.application_id, secret)
    assert robot.application_id in [s.application_id for s in ra.service_principals.list()]
    # The robot belongs to no workspace: workspace APIs refuse it, account APIs work.
    w = m2m_workspace(uc, robot.application_id, secret)
    with raises(PermissionDenied, server=None):
        w.current_user.me()
    a.workspace_assignment.update(1002, int(robot.id), permissions=[WorkspacePermission.USER])
    assert w.current_user.me().user_name == robot.application_id
    # Without the role, account APIs answer 403.
    a.service_principals.patch(robot.id, schemas=SCHEMAS,
                               operations=[Patch(op=PatchOp.REMOVE, path='roles[value eq "account_admin"]')])
    with raises(PermissionDenied, server=None):
        list(ra.users.list())
    # Deactivated: its token stops at once (401), and no new token is minted.
    a.service_principals.patch(robot.id, schemas=SCHEMAS, operations=[Patch(op=PatchOp.REPLACE, path="active", value=False)])
    r = token_request(uc, {"grant_type": "client_credentials"}, auth=(robot.application_id, secret))
    assert r.status_code == 401


def test_access_tokens_expire(uc):
    a = account(uc)
    secret = a.service_principal_secrets.create(sp_id(uc)).secret
    r = token_request(uc, {"grant_type": "client_credentials", "scope": "all-apis"}, auth=(SP, secret))
    body = r.json()
    assert r.status_code == 200 and body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["scope"] == "all-apis" and len(body["access_token"]) >= 32
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["Content-Type"].startswith("application/json")
    tok = body["access_token"]
    me = uc.raw("GET", "/api/2.0/preview/scim/v2/Me", token=tok)
    assert me.status_code == 200 and me.json()["userName"] == SP
    # Deleting the service principal stops its tokens at once.
    a.service_principals.delete(sp_id(uc))
    assert uc.raw("GET", "/api/2.0/preview/scim/v2/Me", token=tok).status_code == 401


def test_access_tokens_really_expire_and_the_sdk_fetches_new_ones(start_server_with_args):
    # --oauth-token-lifetime 2: tokens expire for real (no clock or database tricks).
    s = start_server_with_args(["--oauth-token-lifetime", "2"])
    secret = account(s).service_principal_secrets.create(sp_id(s)).secret
    r = token_request(s, {"grant_type": "client_credentials"}, auth=(SP, secret))
    assert r.status_code == 200 and r.json()["expires_in"] == 2
    old = r.json()["access_token"]
    w = m2m_workspace(s, SP, secret)
    assert w.current_user.me().user_name == SP
    time.sleep(2.5)
    r = s.raw("GET", "/api/2.0/preview/scim/v2/Me", token=old)
    assert r.status_code == 401 and r.json()["error_code"] == "UNAUTHENTICATED" and old not in r.text
    # The SDK knows the lifetime (expires_in) and signs in again by itself.
    assert w.current_user.me().user_name == SP
    assert [c.name for c in w.catalogs.list()] is not None


def test_token_endpoint_errors_and_discovery(uc):
    a = account(uc)
    secret = a.service_principal_secrets.create(sp_id(uc), scopes=["sql"]).secret
    ok = {"grant_type": "client_credentials", "scope": "sql"}
    assert token_request(uc, ok, auth=(SP, secret)).status_code == 200
    cases = [
        (dict(data=ok), 401, "invalid_client"),
        (dict(data=ok, auth=(SP, "dose-wrong")), 401, "invalid_client"),
        (dict(data=ok, auth=("6f1d1c2e-0000-4000-8000-000000000999", secret)), 401, "invalid_client"),
        (dict(data={"scope": "sql"}, auth=(SP, secret)), 400, "invalid_request"),
        (dict(data={"grant_type": "password"}, auth=(SP, secret)), 400, "unsupported_grant_type"),
        (dict(data={"grant_type": "client_credentials", "scope": "all-apis"}, auth=(SP, secret)), 400, "invalid_scope"),
        (dict(data={**ok, "client_id": SP, "client_secret": "other"}, auth=(SP, secret)), 400, "invalid_request"),
    ]
    for kw, status, error in cases:
        r = token_request(uc, **kw)
        body = r.json()
        assert (r.status_code, body["error"]) == (status, error), (kw, r.text)
        assert body["error_description"] and body["message"] and body["error_code"] in (
            "UNAUTHENTICATED", "INVALID_PARAMETER_VALUE")
    # The account token endpoint mints the same kind of token; another account id is 404.
    r = token_request(uc, ok, auth=(SP, secret), path=f"/oidc/accounts/{ACCOUNT}/v1/token")
    assert r.status_code == 200
    assert token_request(uc, ok, auth=(SP, secret), path="/oidc/accounts/nope/v1/token").status_code == 404

    for path, issuer in [("/oidc", "/oidc"), (f"/oidc/accounts/{ACCOUNT}", f"/oidc/accounts/{ACCOUNT}")]:
        d = requests.get(uc.url + path + "/.well-known/oauth-authorization-server", timeout=15).json()
        assert d["issuer"] == uc.url + issuer and d["token_endpoint"] == uc.url + issuer + "/v1/token"
        assert d["grant_types_supported"] == ["client_credentials"] and "authorization_endpoint" not in d
    assert requests.get(uc.url + "/oidc/accounts/x/.well-known/oauth-authorization-server", timeout=15).status_code == 404
    meta = requests.get(uc.url + "/.well-known/databricks-config", timeout=15).json()
    assert meta["oidc_endpoint"] == uc.url + "/oidc" and meta["account_id"] == ACCOUNT


def test_secrets_authorization_and_bad_input(uc):
    a = account(uc)
    sid = sp_id(uc)
    # Carol (workspace admin of 1001) uses the workspace proxy; not the account path.
    s = uc.carol.service_principal_secrets_proxy.create(sid)
    assert s.secret and [x.id for x in uc.carol.service_principal_secrets_proxy.list(sid)] == [s.id]
    with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
        account(uc, "carol").service_principal_secrets.create(sid)
    for client in (uc.bob.service_principal_secrets_proxy, account(uc, "bob").service_principal_secrets):
        with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
            client.create(sid)
        with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
            list(client.list(sid))
    uc.carol.service_principal_secrets_proxy.delete(sid, s.id)
    # The proxy only reaches service principals of the acting workspace.
    other = a.service_principals.create(display_name="elsewhere")
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST", status=404, server=uc):
        uc.carol.service_principal_secrets_proxy.create(other.id)
    assert a.service_principal_secrets.create(other.id).secret
    # Bad input.
    with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, mentions="service_principal_id", server=uc):
        a.service_principal_secrets.create(SP)
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST", status=404, server=uc):
        a.service_principal_secrets.create("123")
    bob_id = next(iter(a.users.list(filter=f'userName eq "{BOB}"'))).id
    with raises(NotFound, status=404, server=uc):
        a.service_principal_secrets.create(bob_id)  # a user is no service principal
    for bad in ("0", "-5", "soon", "63072001"):
        with raises(BadRequest, "INVALID_PARAMETER_VALUE", status=400, mentions="lifetime", server=uc):
            a.service_principal_secrets.create(sid, lifetime=bad)
    # Paging.
    ids = [a.service_principal_secrets.create(sid).id for _ in range(3)]
    page = uc.raw("GET", f"/api/2.0/accounts/{ACCOUNT}/servicePrincipals/{sid}/credentials/secrets?page_size=2").json()
    assert len(page["secrets"]) == 2 and page["next_page_token"]
    assert sorted(x.id for x in a.service_principal_secrets.list(sid, page_size=2)) == sorted(ids)
    r = uc.raw("GET", f"/api/2.0/accounts/{ACCOUNT}/servicePrincipals/{sid}/credentials/secrets?page_token=junk")
    assert r.status_code == 400 and "page_token" in r.json()["message"]
