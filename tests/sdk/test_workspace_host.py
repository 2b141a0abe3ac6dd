"""What a workspace host tells its clients about itself, as hosted Databricks does: host metadata
(`/.well-known/databricks-config`), the acting workspace in `X-Databricks-Org-Id`, SCIM filters
with bare values. Checked through the real databricks-sdk, whose own integration tests rely on
these."""

import logging

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.config import Config

from conftest import ALICE, UC

ACCOUNT_ID = "00000000-0000-4000-8000-000000000000"


def _client(url, token, **kw):
    return WorkspaceClient(config=Config(host=url, token=token, auth_type="pat", retry_timeout_seconds=10, **kw))


# --- host metadata ----------------------------------------------------------------------------


def test_host_metadata_answers_without_a_token(uc):
    r = uc.raw("GET", "/.well-known/databricks-config", token=None)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    # Two workspaces (1001, 1002) share this address: no single workspace id to give.
    assert body == {"oidc_endpoint": f"{uc.url}/oidc", "account_id": ACCOUNT_ID}
    # The base is the address the client used.
    r = uc.raw("GET", "/.well-known/databricks-config", token=None, headers={"Host": "uc.example.test:9999"})
    assert r.json()["oidc_endpoint"] == "http://uc.example.test:9999/oidc"
    # A Host header that is no host[:port] is not echoed into URLs.
    r = uc.raw("GET", "/.well-known/databricks-config", token=None, headers={"Host": "evil.test/x?y"})
    assert r.status_code == 200 and r.json()["oidc_endpoint"] == f"{uc.url}/oidc"


def test_host_metadata_names_the_only_workspace(start_server):
    s = start_server(fixtures=[])  # the built-in fixture: workspace 1001 only
    body = s.raw("GET", "/.well-known/databricks-config", token=None).json()
    assert body == {"oidc_endpoint": f"{s.url}/oidc", "account_id": ACCOUNT_ID, "workspace_id": "1001"}
    w = _client(s.url, "dapi-admin")
    # The SDK took the account and workspace from the metadata.
    assert w.config.account_id == ACCOUNT_ID
    assert w.config.workspace_id == "1001"
    assert w.get_workspace_id() == 1001
    assert w.current_user.me().user_name == "admin@example.com"


def test_sdk_logs_no_warning_when_configured(uc, caplog):
    with caplog.at_level(logging.DEBUG, logger="databricks.sdk"):
        w = _client(uc.url, "dapi-admin")
        assert w.current_user.me().user_name == "admin@example.com"
        assert [c.name for c in w.catalogs.list()]
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [], [r.getMessage() for r in warnings]
    # The metadata was read: the account id came from it.
    assert w.config.account_id == ACCOUNT_ID


def test_sdk_warning_is_observable_where_metadata_is_missing(uc, caplog):
    # The check above can fail: on a host without metadata the SDK logs a warning on the same
    # logger (here: a path prefix the emulator does not serve answers 404).
    with caplog.at_level(logging.WARNING, logger="databricks.sdk"):
        Config(host=uc.url + "/no-such-prefix", token="dapi-admin", auth_type="pat", retry_timeout_seconds=5)
    assert any("host metadata" in r.getMessage() for r in caplog.records), [r.getMessage() for r in caplog.records]


# --- X-Databricks-Org-Id ------------------------------------------------------------------------


def test_get_workspace_id_reads_the_acting_workspace(uc):
    # With two workspaces the metadata names none, so the SDK asks the server.
    assert uc.admin.get_workspace_id() == 1001
    assert uc.client("admin2").get_workspace_id() == 1002
    assert uc.client("carol2").get_workspace_id() == 1002


@pytest.mark.parametrize(
    "method,path,token,status",
    [
        ("GET", "/api/2.0/preview/scim/v2/Me", "alice", 200),
        ("GET", f"{UC}/catalogs", "alice", 200),
        ("GET", f"{UC}/catalogs/private", "alice", 403),
        ("GET", f"{UC}/catalogs/no_such", "admin", 404),
        ("PUT", f"{UC}/catalogs", "admin", 405),
        ("GET", "/api/2.0/no/such/api", "admin", 404),
        ("POST", f"{UC}/catalogs", "admin", 400),
        ("GET", f"{UC}/catalogs", "admin2", 404),  # workspace 1002 has no metastore
    ],
)
def test_every_workspace_api_response_names_the_workspace(uc, method, path, token, status):
    r = uc.raw(method, path, token=token, data="[]" if method == "POST" else None)
    assert r.status_code == status, r.text
    assert r.headers["X-Databricks-Org-Id"] == ("1002" if token == "admin2" else "1001")


def test_no_workspace_without_a_credential(uc):
    # Before authentication there is no acting workspace to name.
    assert "X-Databricks-Org-Id" not in uc.raw("GET", f"{UC}/catalogs", token="dapi-nope").headers
    assert "X-Databricks-Org-Id" not in uc.raw("GET", "/healthz", token=None).headers


# --- SCIM filters with bare values --------------------------------------------------------------


def test_scim_filters_accept_unquoted_values(uc):
    w = uc.admin
    groups = list(w.groups.list(filter="displayName eq analysts"))
    assert [g.display_name for g in groups] == ["analysts"]
    users = list(w.users.list(filter=f"userName eq {ALICE}"))
    assert [u.user_name for u in users] == [ALICE]
    users = list(w.users.list(filter="userName sw alice and active eq true"))
    assert [u.user_name for u in users] == [ALICE]
    sps = list(w.service_principals.list(filter="displayName eq etl-bot"))
    assert [s.display_name for s in sps] == ["etl-bot"]
    # Quoted values work as before, and a bare value still has to be one word.
    assert [g.display_name for g in w.groups.list(filter='displayName eq "analysts"')] == ["analysts"]
    r = uc.raw("GET", "/api/2.0/preview/scim/v2/Groups", params={"filter": "displayName eq two words"})
    assert r.status_code == 400 and r.json()["scimType"] == "invalidFilter"
