"""Error shapes, SDK exception classes, authentication, authorization first layer, and pagination."""

import base64

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.config import Config
from databricks.sdk.errors import (
    BadRequest,
    DatabricksError,
    InvalidParameterValue,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)

from conftest import UC, raises

FIXTURE_CATALOGS = ["alice_cat", "main", "nested", "private", "shared"]


def pages(uc, path, query, token="admin", key=None):
    """Every raw page of a list: [(items, response)]."""
    w = uc.client(token)
    out, page_token = [], None
    for _ in range(50):
        q = dict(query)
        if page_token:
            q["page_token"] = page_token
        r = w.api_client.do("GET", path, query=q)
        out.append((r.get(key, []), r))
        if "next_page_token" not in r:
            return out
        page_token = r["next_page_token"]
        assert page_token, "next_page_token must be absent, not empty, on the last page"
    raise AssertionError("paging did not end")


# --- authentication ---------------------------------------------------------------------------


def test_bad_token_is_unauthenticated(uc):
    bad = uc.client("dapi-not-a-token")
    for call in (lambda: list(bad.catalogs.list()), bad.metastores.summary, bad.metastores.current,
                 lambda: bad.catalogs.get("no_such_catalog"), lambda: bad.catalogs.create("x")):
        with raises(Unauthenticated, "UNAUTHENTICATED", status=401, server=uc):
            call()
    assert "x" not in [c.name for c in uc.admin.catalogs.list()]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic " + base64.b64encode(b"a:b").decode()},
                                     {"Authorization": "Bearer "}])
def test_missing_or_other_scheme_is_401(uc, headers):
    r = uc.raw("GET", f"{UC}/catalogs", token=None, headers=headers)
    assert r.status_code == 401
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json()["error_code"] == "UNAUTHENTICATED" and r.json()["message"]


def test_healthz_needs_no_token(uc):
    r = uc.raw("GET", "/healthz", token=None)
    assert r.status_code == 200 and r.json() == {"status": "ok"}


# --- error shapes -----------------------------------------------------------------------------


def test_unknown_endpoint(uc):
    with raises(NotFound, "ENDPOINT_NOT_FOUND", status=404, server=uc):
        uc.admin.api_client.do("GET", f"{UC}/no-such-thing")
    r = uc.raw("GET", "/.well-known/openid-configuration", token=None)
    assert r.status_code == 404 and r.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    assert r.headers["Content-Type"].startswith("application/json")


def test_method_not_allowed(uc):
    r = uc.raw("PUT", f"{UC}/catalogs", json={"name": "x"})
    assert r.status_code == 405
    assert r.json()["error_code"] == "METHOD_NOT_ALLOWED"
    allow = {m.strip() for m in r.headers["Allow"].split(",")}
    assert {"GET", "POST"} <= allow and "PUT" not in allow


def test_error_body_shape(uc):
    r = uc.raw("GET", f"{UC}/catalogs/does_not_exist")
    assert r.status_code == 404
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert set(body) >= {"error_code", "message"}
    assert body["error_code"].endswith("DOES_NOT_EXIST") or body["error_code"] == "NOT_FOUND"


def test_malformed_and_wrong_type_bodies(uc):
    r = uc.raw("POST", f"{UC}/catalogs", data="{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error_code"] in ("INVALID_PARAMETER_VALUE", "BAD_REQUEST", "MALFORMED_REQUEST")
    # A body that is JSON but not an object.
    r = uc.raw("POST", f"{UC}/catalogs", json=["name", "x"])
    assert r.status_code == 400
    # A field of the wrong type: 400 naming the field, nothing created.
    with raises(BadRequest, status=400, mentions="name", server=uc):
        uc.admin.api_client.do("POST", f"{UC}/catalogs", body={"name": 42})
    with raises(BadRequest, status=400, mentions="properties", server=uc):
        uc.admin.api_client.do("POST", f"{UC}/catalogs", body={"name": "typed", "properties": ["a"]})
    assert sorted(c.name for c in uc.admin.catalogs.list()) == FIXTURE_CATALOGS
    # Bodies are JSON whatever the Content-Type says (the legacy CLI sends text/json).
    r = uc.raw("POST", f"{UC}/catalogs", data='{"name": "texty"}', headers={"Content-Type": "text/json"})
    assert r.status_code == 200 and r.json()["name"] == "texty"


def test_bad_query_values(uc):
    uc.admin.catalogs.create("qcat")
    with raises(BadRequest, status=400, mentions="force", server=uc):
        uc.admin.api_client.do("DELETE", f"{UC}/catalogs/qcat", query={"force": "yes"})
    with raises(BadRequest, status=400, mentions="max_results", server=uc):
        uc.admin.api_client.do("GET", f"{UC}/catalogs", query={"max_results": "ten"})
    with raises(InvalidParameterValue, "INVALID_PARAMETER_VALUE", status=400, mentions="max_results", server=uc):
        list(uc.admin.catalogs.list(max_results=-1))
    assert uc.admin.catalogs.get("qcat").name == "qcat"


def test_trailing_slash_ignored(uc):
    r = uc.admin.api_client.do("GET", f"{UC}/catalogs/")
    assert sorted(c["name"] for c in r["catalogs"]) == FIXTURE_CATALOGS


def test_exception_classes(uc):
    uc.admin.catalogs.create("exists_already")
    from databricks.sdk.errors import ResourceConflict

    cases = [
        (lambda: uc.admin.catalogs.get("nope"), NotFound, 404),
        (lambda: uc.admin.catalogs.create("exists_already"), ResourceConflict, 409),
        (lambda: uc.alice.catalogs.create("nope2"), PermissionDenied, 403),
        (lambda: uc.admin.catalogs.create("bad.name"), InvalidParameterValue, 400),
        (lambda: uc.client("wrong").catalogs.get("main"), Unauthenticated, 401),
    ]
    for call, cls, status in cases:
        with raises(cls, status=status, server=uc) as info:
            call()
        assert isinstance(info.value, DatabricksError) and info.value.error_code


# --- authorization, first layer ---------------------------------------------------------------


def test_metastore_admin_only_endpoints_refuse_others(uc, ms_id):
    for who in ("alice", "bob", "sp", "carol"):
        w = uc.client(who)
        for call in (lambda: list(w.metastores.list()), lambda: w.metastores.get(ms_id),
                     lambda: w.metastores.update(ms_id, new_name="taken"),
                     lambda: w.metastores.update(ms_id, owner=w.current_user.me().user_name),
                     lambda: w.metastores.delete(ms_id, force=True)):
            with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
                call()
    m = uc.admin.metastores.get(ms_id)
    assert (m.name, m.owner) == ("main", "admin@example.com")


def test_account_admin_only_endpoints_refuse_others(uc, ms_id):
    for who in ("alice", "carol", "sp"):
        w = uc.client(who)
        for call in (lambda: w.metastores.create(name="x", storage_root="s3://b/x"),
                     lambda: w.metastores.assign(1002, ms_id, "main"),
                     lambda: w.metastores.unassign(1001, ms_id)):
            with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
                call()
    assert uc.admin.metastores.current().metastore_id == ms_id
    assert list(uc.admin2.metastores.list()) == []


def test_no_existence_leak_without_parent_access(uc):
    # bob cannot use `private`: he learns nothing about what is inside it.
    for call in (lambda: uc.bob.schemas.get("private.default"), lambda: uc.bob.schemas.get("private.nope"),
                 lambda: uc.bob.tables.get("shared.sales.orders"), lambda: uc.bob.tables.get("shared.sales.nope")):
        with raises(PermissionDenied, "PERMISSION_DENIED", status=403, server=uc):
            call()


# --- pagination -------------------------------------------------------------------------------


def test_catalog_paging(uc):
    extra = [f"cat_{i}" for i in range(6)]
    for n in extra:
        uc.admin.catalogs.create(n)
    every = sorted(FIXTURE_CATALOGS + extra)
    got = pages(uc, f"{UC}/catalogs", {"max_results": 4}, key="catalogs")
    names = [c["name"] for items, _ in got for c in items]
    assert sorted(names) == every and len(names) == len(every)
    assert all(len(items) <= 4 for items, _ in got)
    assert len([1 for items, _ in got if items]) >= 3
    # SDK iterator
    assert sorted(c.name for c in uc.admin.catalogs.list(max_results=3)) == every
    # Without max_results: one page.
    r = uc.admin.api_client.do("GET", f"{UC}/catalogs")
    assert sorted(c["name"] for c in r["catalogs"]) == every and "next_page_token" not in r


def test_schema_paging(uc):
    for i in range(5):
        uc.admin.schemas.create(f"s{i}", "main")
    every = sorted(["default", "information_schema"] + [f"s{i}" for i in range(5)])
    got = pages(uc, f"{UC}/schemas", {"catalog_name": "main", "max_results": 2}, key="schemas")
    assert sorted(s["name"] for items, _ in got for s in items) == every
    assert all(len(items) <= 2 for items, _ in got)
    assert sorted(s.name for s in uc.admin.schemas.list("main", max_results=2)) == every


def test_paging_survives_writes(uc):
    for n in ("p_b", "p_d", "p_f", "p_h"):
        uc.admin.catalogs.create(n)
    first = uc.admin.api_client.do("GET", f"{UC}/catalogs", query={"max_results": 3})
    seen = [c["name"] for c in first["catalogs"]]
    token = first["next_page_token"]
    # Writes between pages: a row before the cursor, one after it, and a deletion of an unseen row.
    uc.admin.catalogs.create("aaa_new")
    uc.admin.catalogs.create("zzz_new")
    everything_before = sorted(FIXTURE_CATALOGS + ["p_b", "p_d", "p_f", "p_h"])
    unseen = [n for n in everything_before if n not in seen]
    uc.admin.catalogs.delete(unseen[0], force=True)
    rest = pages(uc, f"{UC}/catalogs", {"max_results": 3, "page_token": token}, key="catalogs")
    seen += [c["name"] for items, _ in rest for c in items]
    assert len(seen) == len(set(seen)), f"repeated rows: {seen}"
    there_throughout = set(everything_before) - {unseen[0]}
    assert there_throughout <= set(seen), f"skipped rows: {there_throughout - set(seen)}"
    assert unseen[0] not in seen


@pytest.mark.parametrize("forged", ["garbage", "AAAA", "eyJvZmZzZXQiOjB9", "%%%", "0"])
def test_forged_page_token(uc, forged):
    for path, q in ((f"{UC}/catalogs", {}), (f"{UC}/schemas", {"catalog_name": "main"}),
                    (f"{UC}/tables", {"catalog_name": "shared", "schema_name": "sales"}),
                    (f"{UC}/table-summaries", {"catalog_name": "shared"})):
        with raises(InvalidParameterValue, "INVALID_PARAMETER_VALUE", status=400, mentions="page_token", server=uc):
            uc.admin.api_client.do("GET", path, query=dict(q, page_token=forged, max_results=1))


def test_tampered_and_foreign_page_tokens(uc):
    for i in range(3):
        uc.admin.schemas.create(f"x{i}", "main")
    cat_token = uc.admin.api_client.do("GET", f"{UC}/catalogs", query={"max_results": 1})["next_page_token"]
    sch_token = uc.admin.api_client.do("GET", f"{UC}/schemas",
                                       query={"catalog_name": "main", "max_results": 1})["next_page_token"]
    # The genuine token works where it was issued.
    ok = uc.admin.api_client.do("GET", f"{UC}/catalogs", query={"max_results": 1, "page_token": cat_token})
    assert len(ok["catalogs"]) <= 1
    # Issued for another list.
    with raises(InvalidParameterValue, "INVALID_PARAMETER_VALUE", status=400, mentions="page_token", server=uc):
        uc.admin.api_client.do("GET", f"{UC}/schemas",
                               query={"catalog_name": "main", "max_results": 1, "page_token": cat_token})
    with raises(InvalidParameterValue, "INVALID_PARAMETER_VALUE", status=400, mentions="page_token", server=uc):
        uc.admin.api_client.do("GET", f"{UC}/catalogs", query={"max_results": 1, "page_token": sch_token})
    # For another catalog's schema list.
    with raises(InvalidParameterValue, "INVALID_PARAMETER_VALUE", status=400, mentions="page_token", server=uc):
        uc.admin.api_client.do("GET", f"{UC}/schemas",
                               query={"catalog_name": "shared", "max_results": 1, "page_token": sch_token})
    # Truncated and tampered.
    for bad in (cat_token[:-3], cat_token[:-1] + ("A" if cat_token[-1] != "A" else "B")):
        with raises(InvalidParameterValue, "INVALID_PARAMETER_VALUE", status=400, mentions="page_token", server=uc):
            uc.admin.api_client.do("GET", f"{UC}/catalogs", query={"max_results": 1, "page_token": bad})


def test_sdk_client_for_unassigned_workspace_sees_404(uc):
    cfg = Config(host=uc.url, token="dapi-admin-ws2", auth_type="pat", retry_timeout_seconds=10)
    w = WorkspaceClient(config=cfg)
    with pytest.raises(NotFound) as info:
        list(w.schemas.list("main"))
    assert info.value.error_code == "METASTORE_DOES_NOT_EXIST"
