"""Delta Sharing through the real SDK: shares, their data objects and permissions, recipients and
their tokens, providers, catalogs from a provider share, and sharing fixtures."""

from __future__ import annotations

import copy
import json
import time
import uuid

from databricks.sdk.errors import BadRequest, NotFound, PermissionDenied
from databricks.sdk.service.catalog import CatalogType, DeltaSharingScopeEnum, Privilege
from databricks.sdk.service.catalog import PermissionsChange as CatalogChange
from databricks.sdk.service.sharing import (
    AuthenticationType,
    IpAccessList,
    Partition,
    PartitionValue,
    PartitionValueOp,
    PermissionsChange,
    SharedDataObject,
    SharedDataObjectHistoryDataSharingStatus,
    SharedDataObjectUpdate,
    SharedDataObjectUpdateAction,
)

from conftest import ADMIN, ALICE, BOB, TEST_FIXTURE, UC, _in_main, raises

LIFETIME = 3600  # seconds: delta_sharing_recipient_token_lifetime_in_seconds set by open_sharing()
PROFILE_SECRET = "dapi-very-secret-bearer-0123456789"
PROFILE = json.dumps({"shareCredentialsVersion": 1, "endpoint": "https://sharing.example.com/delta-sharing/",
                      "bearerToken": PROFILE_SECRET, "expirationTime": "2030-01-01T00:00:00.000Z"})


# --- helpers ------------------------------------------------------------------------------------


def now_ms() -> int:
    return int(time.time() * 1000)


def ms_id_of(uc) -> str:
    return uc.admin.metastores.current().metastore_id


def grant_ms(uc, principal, *privileges):
    uc.admin.grants.update("metastore", ms_id_of(uc),
                           changes=[CatalogChange(principal=principal, add=[Privilege[p] for p in privileges])])


def grant_table(uc, principal, table, *privileges, token="admin"):
    uc.client(token).grants.update("table", table,
                                   changes=[CatalogChange(principal=principal, add=[Privilege[p] for p in privileges])])


def open_sharing(uc, lifetime=LIFETIME):
    uc.admin.metastores.update(ms_id_of(uc), delta_sharing_scope=DeltaSharingScopeEnum.INTERNAL_AND_EXTERNAL,
                               delta_sharing_recipient_token_lifetime_in_seconds=lifetime)


def global_id(cloud="aws", region="us-west-2"):
    return f"{cloud}:{region}:{uuid.uuid4()}"


def dbx_recipient(uc, name, token="admin"):
    return uc.client(token).recipients.create(name, AuthenticationType.DATABRICKS,
                                              data_recipient_global_metastore_id=global_id())


def obj(name, shared_as=None, **kw):
    return SharedDataObject(name=name, shared_as=shared_as, **kw)


def add(name, shared_as=None, **kw):
    return SharedDataObjectUpdate(action=SharedDataObjectUpdateAction.ADD, data_object=obj(name, shared_as, **kw))


def remove(name):
    return SharedDataObjectUpdate(action=SharedDataObjectUpdateAction.REMOVE, data_object=obj(name))


def upd(name, shared_as=None, **kw):
    return SharedDataObjectUpdate(action=SharedDataObjectUpdateAction.UPDATE, data_object=obj(name, shared_as, **kw))


def objects(share):
    return {o.name: o for o in share.objects or []}


def grant_share(uc, share, recipient, token="admin", add_=("SELECT",), remove_=None):
    return uc.client(token).shares.update_permissions(
        share, changes=[PermissionsChange(principal=recipient, add=list(add_) if add_ else None,
                                          remove=list(remove_) if remove_ else None)])


def pv(p):
    return getattr(p, "value", p)


def share_grants(uc, share, token="admin"):
    res = uc.client(token).shares.share_permissions(share)
    return sorted((a.principal, sorted(pv(p) for p in a.privileges or [])) for a in res.privilege_assignments or [])


def recipient_grants(uc, recipient, token="admin"):
    res = uc.client(token).recipients.share_permissions(recipient)
    return sorted((s.share_name, sorted((a.principal, sorted(pv(p) for p in a.privileges or []))
                                        for a in s.privilege_assignments or []))
                  for s in res.permissions_out or [])


def raw_json(uc, path, token="admin"):
    r = uc.raw("GET", UC + path, token=token)
    assert r.status_code == 200, (path, r.status_code, r.text)
    return r.json()


def sharing_state(uc):
    """Everything sharing-related an admin can read (raw JSON), for before/after comparisons."""
    shares = raw_json(uc, "/shares").get("shares", [])
    out = {"shares": {}, "recipients": raw_json(uc, "/recipients").get("recipients", []),
           "providers": raw_json(uc, "/providers").get("providers", []),
           "catalogs": sorted(c["name"] for c in raw_json(uc, "/catalogs").get("catalogs", []))}
    for s in shares:
        out["shares"][s["name"]] = {"share": raw_json(uc, f"/shares/{s['name']}"),
                                    "grants": raw_json(uc, f"/shares/{s['name']}/permissions")}
    for r in out["recipients"]:
        r["share_permissions"] = raw_json(uc, f"/recipients/{r['name']}/share-permissions")
    # Activation links name the server's current address, which changes with its port.
    return json.loads(json.dumps(out).replace(uc.url, "<public>"))


def alice_share(uc, name="as1"):
    """A share owned by alice (who gets CREATE_SHARE); analysts (alice's group) hold SELECT on orders."""
    grant_ms(uc, ALICE, "CREATE_SHARE")
    return uc.alice.shares.create(name)


# --- createShare --------------------------------------------------------------------------------


def test_create_share_admin_or_create_share_privilege(uc):
    t0 = now_ms()
    s = uc.admin.shares.create("s1", comment="first")
    assert (s.name, s.comment, s.owner, s.created_by) == ("s1", "first", ADMIN, ADMIN)
    assert t0 <= s.created_at <= now_ms()
    with raises(PermissionDenied, status=403, server=uc):
        uc.bob.shares.create("s2")
    with raises(PermissionDenied, status=403, server=uc):
        uc.alice.shares.create("s2")
    grant_ms(uc, BOB, "CREATE_SHARE")
    s2 = uc.bob.shares.create("s2")
    assert (s2.owner, s2.created_by) == (BOB, BOB)
    assert sorted(x.name for x in uc.admin.shares.list_shares()) == ["s1", "s2"]


# --- get / list ---------------------------------------------------------------------------------


def test_get_and_list_share_authorization(uc):
    uc.admin.shares.create("adm")
    alice_share(uc, "als")
    assert uc.admin.shares.get("als").owner == ALICE  # admin reads any share
    assert uc.alice.shares.get("als").name == "als"  # owner
    with raises(PermissionDenied, status=403, server=uc):
        uc.alice.shares.get("adm")
    with raises(PermissionDenied, status=403, server=uc):
        uc.bob.shares.get("als")
    with raises(NotFound, status=404, server=uc):
        uc.admin.shares.get("nope")
    # list filters to owned shares; admin sees all
    assert sorted(s.name for s in uc.admin.shares.list_shares()) == ["adm", "als"]
    assert [s.name for s in uc.alice.shares.list_shares()] == ["als"]
    assert list(uc.bob.shares.list_shares()) == []
    # USE_SHARE on the metastore: get any share, list all, read its permissions
    grant_ms(uc, BOB, "USE_SHARE")
    assert uc.bob.shares.get("adm").owner == ADMIN
    assert sorted(s.name for s in uc.bob.shares.list_shares()) == ["adm", "als"]
    assert uc.bob.shares.share_permissions("als").privilege_assignments in (None, [])
    # ... but it changes nothing else
    with raises(PermissionDenied, status=403, server=uc):
        uc.bob.shares.update("adm", comment="x")
    with raises(PermissionDenied, status=403, server=uc):
        uc.bob.shares.delete("adm")


def test_list_shares_never_carries_objects_and_get_honours_include_shared_data(uc):
    s = uc.admin.shares.create("s")
    assert s.objects in (None, [])
    uc.admin.shares.update("s", updates=[add("shared.sales.orders")])
    assert list(objects(uc.admin.shares.get("s"))) == ["shared.sales.orders"]  # default: objects returned
    assert list(objects(uc.admin.shares.get("s", include_shared_data=True))) == ["shared.sales.orders"]
    assert not uc.admin.shares.get("s", include_shared_data=False).objects  # the SDK maps absent to []
    assert "objects" not in raw_json(uc, "/shares/s?include_shared_data=false")
    listed = raw_json(uc, "/shares")["shares"]
    assert [x["name"] for x in listed] == ["s"] and "objects" not in listed[0]


# --- updateShare: metadata ----------------------------------------------------------------------


def test_update_share_owner_admin_and_rename_rules(uc):
    alice_share(uc, "als")
    uc.admin.shares.create("adm")
    # owner changes any non-name field
    assert uc.alice.shares.update("als", comment="mine").comment == "mine"
    # bob: nothing
    with raises(PermissionDenied, status=403, server=uc):
        uc.bob.shares.update("als", comment="bob")
    with raises(PermissionDenied, status=403, server=uc):
        uc.bob.shares.update("als", owner=BOB)
    # admin but not owner: other fields denied, owner alone allowed
    with raises(PermissionDenied, status=403, server=uc):
        uc.admin.shares.update("als", comment="admin")
    with raises(PermissionDenied, status=403, server=uc):
        uc.admin.shares.update("als", comment="admin", owner=BOB)
    assert uc.admin.shares.get("als").comment == "mine"
    assert uc.admin.shares.get("als").owner == ALICE
    # rename: owner AND admin
    with raises(PermissionDenied, status=403, server=uc):
        uc.alice.shares.update("als", new_name="als2")  # owner, not admin
    with raises(PermissionDenied, status=403, server=uc):
        uc.admin.shares.update("als", new_name="als2")  # admin, not owner
    assert uc.admin.shares.get("als").name == "als"
    r = uc.admin.shares.update("adm", new_name="adm2")
    assert r.name == "adm2"
    with raises(NotFound, server=uc):
        uc.admin.shares.get("adm")
    # admin changes only the owner of alice's share
    assert uc.admin.shares.update("als", owner=BOB).owner == BOB
    with raises(PermissionDenied, status=403, server=uc):
        uc.alice.shares.get("als")
    assert uc.bob.shares.get("als").owner == BOB


def test_delete_share_owner_only(uc):
    alice_share(uc, "als")
    uc.admin.shares.create("adm")
    with raises(PermissionDenied, status=403, server=uc):
        uc.admin.shares.delete("als")  # admin, not owner
    with raises(PermissionDenied, status=403, server=uc):
        uc.bob.shares.delete("als")
    with raises(PermissionDenied, status=403, server=uc):
        uc.alice.shares.delete("adm")
    uc.alice.shares.delete("als")
    uc.admin.shares.delete("adm")
    assert list(uc.admin.shares.list_shares()) == []
    with raises(NotFound, status=404, server=uc):
        uc.admin.shares.delete("adm")


# --- updateShare: data objects ------------------------------------------------------------------


def test_add_objects_shared_as_default_and_explicit_with_added_at_by(uc):
    alice_share(uc, "s")
    grant_table(uc, "analysts", "shared.sales.secret", "SELECT")
    t0 = now_ms()
    r = uc.alice.shares.update("s", updates=[add("shared.sales.orders"), add("shared.sales.secret", shared_as="Other.Hidden")])
    t1 = now_ms()
    got = objects(r)
    assert set(got) == {"shared.sales.orders", "shared.sales.secret"}
    o, h = got["shared.sales.orders"], got["shared.sales.secret"]
    assert o.shared_as == "sales.orders"  # default <schema>.<table>
    assert h.shared_as == "other.hidden"  # stored lower-cased
    for x in (o, h):
        assert pv(x.data_object_type) == "TABLE"
        assert x.added_by == ALICE
        assert t0 <= x.added_at <= t1
    assert objects(uc.alice.shares.get("s"))["shared.sales.secret"].shared_as == "other.hidden"
    share = uc.alice.shares.get("s")
    assert share.updated_by == ALICE and share.updated_at >= t0


def test_add_update_remove_with_cdf_start_version_history_and_partitions(uc):
    alice_share(uc, "s")
    part = [Partition(values=[PartitionValue(name="id", op=PartitionValueOp.EQUAL, value="1")]),
            Partition(values=[PartitionValue(name="id", op=PartitionValueOp.LIKE, value="2%")])]
    r = uc.alice.shares.update("s", updates=[add(
        "shared.sales.orders", comment="orders", cdf_enabled=True, start_version=0,
        history_data_sharing_status=SharedDataObjectHistoryDataSharingStatus.ENABLED, partitions=part)])
    o = objects(r)["shared.sales.orders"]
    assert o.comment == "orders"
    assert o.cdf_enabled is True
    assert o.start_version == 0
    assert pv(o.history_data_sharing_status) == "ENABLED"
    assert [[(v.name, pv(v.op), v.value) for v in p.values] for p in o.partitions] == \
        [[("id", "EQUAL", "1")], [("id", "LIKE", "2%")]]
    added_at = o.added_at
    # UPDATE: change fields and shared_as; added_at/added_by stay
    r = uc.alice.shares.update("s", updates=[upd("shared.sales.orders", shared_as="x.y", comment="renamed",
                                                 cdf_enabled=False,
                                                 history_data_sharing_status=SharedDataObjectHistoryDataSharingStatus.DISABLED)])
    o = objects(r)["shared.sales.orders"]
    assert (o.shared_as, o.comment, o.cdf_enabled, pv(o.history_data_sharing_status)) == ("x.y", "renamed", False, "DISABLED")
    assert (o.added_at, o.added_by) == (added_at, ALICE)
    # UPDATE without shared_as keeps the current one
    o = objects(uc.alice.shares.update("s", updates=[upd("shared.sales.orders", comment="c2")]))["shared.sales.orders"]
    assert (o.shared_as, o.comment) == ("x.y", "c2")
    # REMOVE
    r = uc.alice.shares.update("s", updates=[remove("shared.sales.orders")])
    assert objects(r) == {}
    assert objects(uc.alice.shares.get("s")) == {}


def test_partition_specification_wrapper_accepted_and_output_as_partitions(uc):
    uc.admin.shares.create("s")
    body = {"updates": [{"action": "ADD", "data_object": {
        "name": "shared.sales.orders", "data_object_type": "TABLE",
        "partition_specification": {"partitions": [{"values": [{"name": "id", "op": "EQUAL", "value": "7"}]}]}}}]}
    uc.admin.api_client.do("PATCH", f"{UC}/shares/s", body=body)
    raw = raw_json(uc, "/shares/s")["objects"][0]
    assert raw["partitions"] == [{"values": [{"name": "id", "op": "EQUAL", "value": "7"}]}]
    assert "partition_specification" not in raw
    o = objects(uc.admin.shares.get("s"))["shared.sales.orders"]
    assert [(v.name, pv(v.op), v.value) for v in o.partitions[0].values] == [("id", "EQUAL", "7")]


def test_share_owner_must_hold_select_even_when_caller_is_admin(uc):
    # a table the admin (share owner) neither owns nor holds SELECT on, not even through owning its
    # catalog (alice owns alice_cat and alice_cat.s; ownership of a catalog conveys SELECT)
    uc.alice.api_client.do("POST", f"{UC}/tables", body={
        "catalog_name": "alice_cat", "schema_name": "s", "name": "t", "table_type": "MANAGED",
        "data_source_format": "DELTA", "columns": []})
    uc.admin.shares.create("s")
    uc.admin.shares.update("s", updates=[add("shared.sales.orders")])  # admin owns `shared`: fine
    before = sharing_state(uc)
    with raises(PermissionDenied, status=403, server=uc):
        uc.admin.shares.update("s", updates=[add("alice_cat.s.t")])
    with raises(PermissionDenied, status=403, server=uc):  # all-or-nothing with a valid removal
        uc.admin.shares.update("s", updates=[remove("shared.sales.orders"), add("alice_cat.s.t")])
    assert sharing_state(uc) == before
    # SELECT granted to a group the owner belongs to: now allowed
    grant_table(uc, "admins", "alice_cat.s.t", "SELECT", token="alice")
    r = uc.admin.shares.update("s", updates=[add("alice_cat.s.t")])
    assert sorted(objects(r)) == ["alice_cat.s.t", "shared.sales.orders"]
    assert objects(r)["alice_cat.s.t"].shared_as == "s.t"


def test_share_owner_select_is_the_owners_not_the_callers(uc):
    alice_share(uc, "s")
    # alice holds SELECT on orders through `analysts`, not on secret
    with raises(PermissionDenied, status=403, server=uc):
        uc.alice.shares.update("s", updates=[add("shared.sales.secret")])
    r = uc.alice.shares.update("s", updates=[add("shared.sales.orders")])
    assert list(objects(r)) == ["shared.sales.orders"]
    # share owned by a group: the group's SELECT counts, members act as owner
    uc.admin.shares.create("gs")
    uc.admin.shares.update("gs", owner="analysts")
    r = uc.alice.shares.update("gs", updates=[add("shared.sales.orders")])
    assert list(objects(r)) == ["shared.sales.orders"]
    with raises(PermissionDenied, status=403, server=uc):
        uc.alice.shares.update("gs", updates=[add("shared.sales.secret")])
    # admin owns secret; after transferring share `t` to bob, bob lacks SELECT on secret
    uc.admin.shares.create("t")
    uc.admin.shares.update("t", owner=BOB)
    with raises(PermissionDenied, status=403, server=uc):
        uc.bob.shares.update("t", updates=[add("shared.sales.secret")])
    # removal needs no SELECT
    uc.admin.shares.create("u")
    uc.admin.shares.update("u", updates=[add("shared.sales.secret")])
    uc.admin.shares.update("u", owner=BOB)
    assert objects(uc.bob.shares.update("u", updates=[remove("shared.sales.secret")])) == {}


def test_dropping_a_table_removes_it_from_shares(uc):
    uc.admin.shares.create("s1")
    uc.admin.shares.create("s2")
    uc.admin.shares.update("s1", updates=[add("shared.sales.orders"), add("shared.sales.secret")])
    uc.admin.shares.update("s2", updates=[add("shared.sales.orders", shared_as="a.b")])
    uc.admin.tables.delete("shared.sales.orders")
    assert list(objects(uc.admin.shares.get("s1"))) == ["shared.sales.secret"]
    assert objects(uc.admin.shares.get("s2")) == {}
    # a new table of the same name is not silently shared
    uc.admin.api_client.do("POST", f"{UC}/tables", body={
        "catalog_name": "shared", "schema_name": "sales", "name": "orders", "table_type": "MANAGED",
        "data_source_format": "DELTA", "columns": []})
    assert objects(uc.admin.shares.get("s2")) == {}


# --- bad input: nothing changes -----------------------------------------------------------------


def test_bad_share_updates_change_nothing(uc):
    uc.admin.shares.create("s", comment="c0")
    uc.admin.shares.update("s", updates=[add("shared.sales.orders", shared_as="x.y")])
    before = sharing_state(uc)

    with raises(NotFound, status=404, server=uc):  # unknown table in ADD
        uc.admin.shares.update("s", updates=[add("shared.sales.nope")])
    with raises(NotFound, status=404, server=uc):  # ... even after a valid ADD in the same request
        uc.admin.shares.update("s", comment="changed", updates=[add("shared.sales.secret"), add("shared.sales.nope")])
    with raises(BadRequest, status=400, mentions="shared_as", server=uc):  # duplicate shared_as: 400, not 409
        uc.admin.shares.update("s", updates=[add("shared.sales.secret", shared_as="x.y")])
    with raises(BadRequest, status=400, mentions="shared_as", server=uc):  # duplicate, differing only in case
        uc.admin.shares.update("s", updates=[add("shared.sales.secret", shared_as="X.Y")])
    with raises(BadRequest, status=400, server=uc):  # a second ADD of the same table
        uc.admin.shares.update("s", updates=[add("shared.sales.orders", shared_as="other.name")])
    with raises(BadRequest, status=400, server=uc):  # REMOVE of a table not in the share
        uc.admin.shares.update("s", updates=[remove("shared.sales.secret")])
    with raises(BadRequest, status=400, server=uc):  # UPDATE of a table not in the share
        uc.admin.shares.update("s", updates=[upd("shared.sales.secret", comment="x")])
    with raises(BadRequest, status=400, mentions="shared_as", server=uc):  # not <schema>.<table>
        uc.admin.shares.update("s", updates=[add("shared.sales.secret", shared_as="justone")])
    with raises(BadRequest, status=400, mentions="shared_as", server=uc):
        uc.admin.shares.update("s", updates=[add("shared.sales.secret", shared_as="a.b.c")])
    with raises(BadRequest, status=400, mentions="shared_as", server=uc):  # UPDATE onto a used shared_as
        uc.admin.shares.update("s", updates=[add("shared.sales.secret"), upd("shared.sales.orders", shared_as="sales.secret")])
    with raises(BadRequest, status=400, server=uc):  # two ADDs in one request with the same shared_as
        uc.admin.shares.update("s", updates=[remove("shared.sales.orders"), add("shared.sales.secret", shared_as="p.q"),
                                             add("shared.sales.orders", shared_as="p.q")])
    assert sharing_state(uc) == before
    assert uc.admin.shares.get("s").comment == "c0"


# --- share permissions --------------------------------------------------------------------------


def test_share_permissions_select_to_recipients_and_recipient_ownership(uc):
    grant_ms(uc, ALICE, "CREATE_RECIPIENT")
    uc.admin.shares.create("s")
    dbx_recipient(uc, "r_admin")
    dbx_recipient(uc, "r_alice", token="alice")
    # admin (share owner) grants to its own recipient
    res = grant_share(uc, "s", "r_admin")
    assert [(a.principal, [pv(p) for p in a.privileges]) for a in res.privilege_assignments] == [("r_admin", ["SELECT"])]
    # ... but not to a recipient owned by alice
    with raises(PermissionDenied, status=403, server=uc):
        grant_share(uc, "s", "r_alice")
    # alice owns r_alice but is neither share owner nor admin
    with raises(PermissionDenied, status=403, server=uc):
        grant_share(uc, "s", "r_alice", token="alice")
    with raises(PermissionDenied, status=403, server=uc):
        uc.alice.shares.share_permissions("s")
    assert share_grants(uc, "s") == [("r_admin", ["SELECT"])]
    # give alice the share: she may grant to her recipient, not to the admin's
    uc.admin.shares.update("s", owner=ALICE)
    grant_share(uc, "s", "r_alice", token="alice")
    with raises(PermissionDenied, status=403, server=uc):
        grant_share(uc, "s", "r_admin", token="alice")
    assert share_grants(uc, "s", token="alice") == [("r_admin", ["SELECT"]), ("r_alice", ["SELECT"])]
    # revocations need nothing extra: alice revokes the admin's recipient, admin revokes alice's
    grant_share(uc, "s", "r_admin", token="alice", add_=None, remove_=["SELECT"])
    grant_share(uc, "s", "r_alice", token="admin", add_=None, remove_=["SELECT"])
    assert share_grants(uc, "s") == []
    # bob: neither owner nor admin
    with raises(PermissionDenied, status=403, server=uc):
        grant_share(uc, "s", "r_alice", token="bob", add_=None, remove_=["SELECT"])
    with raises(PermissionDenied, status=403, server=uc):
        uc.bob.shares.share_permissions("s")


def test_share_permissions_bad_input_changes_nothing(uc):
    uc.admin.shares.create("s")
    dbx_recipient(uc, "r1")
    grant_share(uc, "s", "r1")
    before = sharing_state(uc)
    with raises(NotFound, status=404, server=uc):
        grant_share(uc, "s", "no_such_recipient")
    with raises(NotFound, status=404, server=uc):  # a user is not a recipient
        grant_share(uc, "s", ALICE)
    with raises(BadRequest, status=400, server=uc):
        grant_share(uc, "s", "r1", add_=["MODIFY"])
    with raises(BadRequest, status=400, server=uc):
        grant_share(uc, "s", "r1", add_=["USE_SHARE"])
    with raises(BadRequest, status=400, server=uc):  # one bad entry rejects the whole request
        uc.admin.shares.update_permissions("s", changes=[
            PermissionsChange(principal="r1", remove=["SELECT"]),
            PermissionsChange(principal="r1", add=["ALL_PRIVILEGES"])])
    with raises(NotFound, status=404, server=uc):
        grant_share(uc, "nope", "r1")
    assert sharing_state(uc) == before


def test_share_permissions_through_permissions_share_path(uc):
    uc.admin.shares.create("s")
    dbx_recipient(uc, "r1")
    res = uc.admin.grants.update("share", "s", changes=[CatalogChange(principal="r1", add=[Privilege.SELECT])])
    assert [(a.principal, [pv(p) for p in a.privileges]) for a in res.privilege_assignments] == [("r1", ["SELECT"])]
    got = uc.admin.grants.get("share", "s")
    assert [(a.principal, [pv(p) for p in a.privileges]) for a in got.privilege_assignments] == [("r1", ["SELECT"])]
    assert uc.admin.grants.get("SHARE", "s").privilege_assignments == got.privilege_assignments
    assert share_grants(uc, "s") == [("r1", ["SELECT"])]
    with raises(BadRequest, status=400, server=uc):
        uc.admin.grants.update("share", "s", changes=[CatalogChange(principal="r1", add=[Privilege.MODIFY])])
    with raises(NotFound, status=404, server=uc):
        uc.admin.grants.update("share", "s", changes=[CatalogChange(principal="ghost", add=[Privilege.SELECT])])
    with raises(PermissionDenied, status=403, server=uc):
        uc.bob.grants.update("share", "s", changes=[CatalogChange(principal="r1", remove=[Privilege.SELECT])])
    uc.admin.grants.update("share", "s", changes=[CatalogChange(principal="r1", remove=[Privilege.SELECT])])
    assert share_grants(uc, "s") == []
    # recipient ownership applies on this path too
    grant_ms(uc, ALICE, "CREATE_RECIPIENT")
    dbx_recipient(uc, "r_alice", token="alice")
    with raises(PermissionDenied, status=403, server=uc):
        uc.admin.grants.update("share", "s", changes=[CatalogChange(principal="r_alice", add=[Privilege.SELECT])])


def test_use_share_and_set_share_permission_admit_updates_for_own_recipients(uc):
    uc.admin.shares.create("s")
    grant_ms(uc, BOB, "CREATE_RECIPIENT", "USE_SHARE")
    dbx_recipient(uc, "r_bob", token="bob")
    dbx_recipient(uc, "r_admin")
    with raises(PermissionDenied, status=403, server=uc):  # USE_SHARE alone is not enough
        grant_share(uc, "s", "r_bob", token="bob")
    grant_ms(uc, BOB, "SET_SHARE_PERMISSION")
    grant_share(uc, "s", "r_bob", token="bob")
    with raises(PermissionDenied, status=403, server=uc):  # still needs to own the recipient
        grant_share(uc, "s", "r_admin", token="bob")
    assert share_grants(uc, "s", token="bob") == [("r_bob", ["SELECT"])]


# --- recipients ---------------------------------------------------------------------------------


def test_token_recipient_needs_external_sharing_scope(uc):
    with raises(BadRequest, status=400, mentions="delta_sharing_scope", server=uc):
        uc.admin.recipients.create("r", AuthenticationType.TOKEN)
    assert list(uc.admin.recipients.list()) == []
    dbx_recipient(uc, "internal_ok")  # DATABRICKS recipients need no scope
    ms = ms_id_of(uc)
    with raises(BadRequest, status=400, server=uc):  # the scope needs the lifetime too
        uc.admin.metastores.update(ms, delta_sharing_scope=DeltaSharingScopeEnum.INTERNAL_AND_EXTERNAL)
    open_sharing(uc)
    t0 = now_ms()
    r = uc.admin.recipients.create("r", AuthenticationType.TOKEN, comment="open")
    t1 = now_ms()
    assert (r.name, pv(r.authentication_type), r.owner, r.comment) == ("r", "TOKEN", ADMIN, "open")
    assert len(r.tokens) == 1
    tok = r.tokens[0]
    assert tok.id and tok.activation_url
    assert t0 + LIFETIME * 1000 <= tok.expiration_time <= t1 + LIFETIME * 1000
    assert r.cloud is None and r.data_recipient_global_metastore_id is None
    assert sorted(x.name for x in uc.admin.recipients.list()) == ["internal_ok", "r"]


def test_databricks_recipient_needs_global_metastore_id(uc):
    with raises(BadRequest, status=400, mentions="data_recipient_global_metastore_id", server=uc):
        uc.admin.recipients.create("d", AuthenticationType.DATABRICKS)
    with raises(BadRequest, status=400, server=uc):
        uc.admin.recipients.create("d", AuthenticationType.DATABRICKS, data_recipient_global_metastore_id="garbage")
    assert list(uc.admin.recipients.list()) == []
    mid = str(uuid.uuid4())
    r = uc.admin.recipients.create("d", AuthenticationType.DATABRICKS,
                                   data_recipient_global_metastore_id=f"azure:westeurope:{mid}")
    assert (r.cloud, r.region, r.metastore_id) == ("azure", "westeurope", mid)
    assert r.data_recipient_global_metastore_id == f"azure:westeurope:{mid}"
    assert not r.tokens
    g = uc.admin.recipients.get("d")
    assert (g.cloud, g.region, g.metastore_id) == ("azure", "westeurope", mid)
    # unknown authentication types are refused
    with raises(BadRequest, status=400, server=uc):
        uc.admin.api_client.do("POST", f"{UC}/recipients", body={"name": "e", "authentication_type": "EMAIL"})


def test_recipient_ip_access_list(uc):
    open_sharing(uc)
    r = uc.admin.recipients.create("r1", AuthenticationType.TOKEN,
                                   ip_access_list=IpAccessList(allowed_ip_addresses=["10.0.0.0/8", "192.168.1.7"]))
    assert r.ip_access_list.allowed_ip_addresses == ["10.0.0.0/8", "192.168.1.7"]
    # the API reference's one-element array is accepted; output is the object
    uc.admin.api_client.do("POST", f"{UC}/recipients", body={
        "name": "r2", "authentication_type": "TOKEN",
        "ip_access_list": [{"allowed_ip_addresses": ["2001:db8::/32"]}]})
    raw = raw_json(uc, "/recipients/r2")
    assert raw["ip_access_list"] == {"allowed_ip_addresses": ["2001:db8::/32"]}
    hundred = [f"10.0.{i}.0/24" for i in range(100)]
    assert len(uc.admin.recipients.create("r3", AuthenticationType.TOKEN,
                                          ip_access_list=IpAccessList(allowed_ip_addresses=hundred))
               .ip_access_list.allowed_ip_addresses) == 100
    before = sharing_state(uc)
    for bad in (hundred + ["10.1.0.0/16"], ["10.0.0.0/33"], ["not-an-ip"], ["300.1.1.1"], ["10.0.0.0/8", "1.2.3"]):
        with raises(BadRequest, status=400, mentions="allowed_ip_addresses", server=uc):
            uc.admin.recipients.create("bad", AuthenticationType.TOKEN,
                                       ip_access_list=IpAccessList(allowed_ip_addresses=bad))
        with raises(BadRequest, status=400, mentions="allowed_ip_addresses", server=uc):
            uc.admin.recipients.update("r1", ip_access_list=IpAccessList(allowed_ip_addresses=bad))
    assert sharing_state(uc) == before
    # a valid update replaces the list
    r = uc.admin.recipients.update("r1", ip_access_list=IpAccessList(allowed_ip_addresses=["1.2.3.4/32"]))
    assert uc.admin.recipients.get("r1").ip_access_list.allowed_ip_addresses == ["1.2.3.4/32"]


def _tokens(info):
    return {t.id: t.expiration_time for t in info.tokens or []}


def test_rotate_token_sequence_against_expiration_times(uc):
    open_sharing(uc)
    t0 = now_ms()
    r = uc.admin.recipients.create("r", AuthenticationType.TOKEN)
    t0e = now_ms()
    (a, a_exp), = _tokens(r).items()
    assert t0 + LIFETIME * 1000 <= a_exp <= t0e + LIFETIME * 1000

    # 1. rotate with 600 s: A shortened to now+600 s, new B with the full lifetime
    t1 = now_ms()
    r = uc.admin.recipients.rotate_token("r", 600)
    t1e = now_ms()
    toks = _tokens(r)
    assert set(toks) >= {a} and len(toks) == 2
    (b,) = set(toks) - {a}
    assert t1 + 600_000 <= toks[a] <= t1e + 600_000
    assert t1 + LIFETIME * 1000 <= toks[b] <= t1e + LIFETIME * 1000
    assert all(t.activation_url for t in r.tokens)
    assert len({t.activation_url for t in r.tokens}) == 2
    a_exp, b_exp = toks[a], toks[b]

    # 2. rotate with 2 h (> every remaining lifetime): nothing is extended, new C
    t2 = now_ms()
    r = uc.admin.recipients.rotate_token("r", 7200)
    t2e = now_ms()
    toks = _tokens(r)
    assert len(toks) == 3 and toks[a] == a_exp and toks[b] == b_exp
    (c,) = set(toks) - {a, b}
    assert t2 + LIFETIME * 1000 <= toks[c] <= t2e + LIFETIME * 1000
    assert _tokens(uc.admin.recipients.get("r")) == toks

    # 3. rotate with 300 s: every live token is shortened to now+300 s (A's 600 s too)
    t3 = now_ms()
    r = uc.admin.recipients.rotate_token("r", 300)
    t3e = now_ms()
    toks = _tokens(r)
    assert len(toks) == 4
    for old in (a, b, c):
        assert t3 + 300_000 <= toks[old] <= t3e + 300_000
    (d,) = set(toks) - {a, b, c}

    # 4. negative: 400, nothing changes
    before = _tokens(uc.admin.recipients.get("r"))
    with raises(BadRequest, status=400, mentions="existing_token_expire_in_seconds", server=uc):
        uc.admin.recipients.rotate_token("r", -1)
    assert _tokens(uc.admin.recipients.get("r")) == before

    # 5. zero: the old tokens expire at once, only the new one is listed
    t5 = now_ms()
    r = uc.admin.recipients.rotate_token("r", 0)
    t5e = now_ms()
    toks = _tokens(r)
    assert len(toks) == 1
    (e,) = toks
    assert e not in (a, b, c, d)
    assert t5 + LIFETIME * 1000 <= toks[e] <= t5e + LIFETIME * 1000
    assert _tokens(uc.admin.recipients.get("r")) == toks
    assert _tokens(next(x for x in uc.admin.recipients.list() if x.name == "r")) == toks


def test_rotate_token_owner_only_and_databricks_recipient_has_no_tokens(uc):
    open_sharing(uc)
    grant_ms(uc, ALICE, "CREATE_RECIPIENT")
    uc.alice.recipients.create("ra", AuthenticationType.TOKEN)
    with raises(PermissionDenied, status=403, server=uc):
        uc.admin.recipients.rotate_token("ra", 0)
    with raises(PermissionDenied, status=403, server=uc):
        uc.bob.recipients.rotate_token("ra", 0)
    assert len(uc.alice.recipients.rotate_token("ra", 60).tokens) == 2
    dbx_recipient(uc, "rd")
    with raises(BadRequest, status=400, server=uc):
        uc.admin.recipients.rotate_token("rd", 0)


def test_recipient_crud_authorization(uc):
    with raises(PermissionDenied, status=403, server=uc):
        dbx_recipient(uc, "rb", token="bob")
    grant_ms(uc, ALICE, "CREATE_RECIPIENT")
    ra = dbx_recipient(uc, "ra", token="alice")
    assert (ra.owner, ra.created_by) == (ALICE, ALICE)
    dbx_recipient(uc, "rz")
    # get: admin / owner; list: admin all, others owned
    assert uc.admin.recipients.get("ra").owner == ALICE
    assert uc.alice.recipients.get("ra").name == "ra"
    with raises(PermissionDenied, status=403, server=uc):
        uc.alice.recipients.get("rz")
    with raises(PermissionDenied, status=403, server=uc):
        uc.bob.recipients.get("ra")
    with raises(PermissionDenied, status=403, server=uc):
        uc.bob.recipients.share_permissions("ra")
    with raises(NotFound, status=404, server=uc):
        uc.admin.recipients.get("nope")
    assert sorted(r.name for r in uc.admin.recipients.list()) == ["ra", "rz"]
    assert [r.name for r in uc.alice.recipients.list()] == ["ra"]
    assert list(uc.bob.recipients.list()) == []
    assert recipient_grants(uc, "ra", token="alice") == []  # the owner reads its share permissions
    # USE_RECIPIENT: get, list all, share permissions
    grant_ms(uc, BOB, "USE_RECIPIENT")
    assert uc.bob.recipients.get("rz").owner == ADMIN
    assert sorted(r.name for r in uc.bob.recipients.list()) == ["ra", "rz"]
    assert recipient_grants(uc, "ra", token="bob") == []
    with raises(PermissionDenied, status=403, server=uc):
        uc.bob.recipients.update("rz", comment="x")
    # update: owner; admin only the owner; rename owner AND admin
    assert uc.alice.recipients.update("ra", comment="mine").comment == "mine"
    with raises(PermissionDenied, status=403, server=uc):
        uc.admin.recipients.update("ra", comment="admin")
    with raises(PermissionDenied, status=403, server=uc):
        uc.alice.recipients.update("ra", new_name="ra2")
    with raises(PermissionDenied, status=403, server=uc):
        uc.admin.recipients.update("ra", new_name="ra2")
    assert uc.admin.recipients.get("ra").comment == "mine"
    assert uc.admin.recipients.update("rz", new_name="rz2").name == "rz2"
    assert uc.admin.recipients.update("ra", owner=BOB).owner == BOB
    # delete: owner only
    with raises(PermissionDenied, status=403, server=uc):
        uc.admin.recipients.delete("ra")
    with raises(PermissionDenied, status=403, server=uc):
        uc.alice.recipients.delete("ra")
    uc.bob.recipients.delete("ra")
    uc.admin.recipients.delete("rz2")
    assert list(uc.admin.recipients.list()) == []


def test_recipient_share_permissions_delete_drops_grants_rename_keeps_them(uc):
    for s in ("s_b", "s_a", "s_c"):
        uc.admin.shares.create(s)
    dbx_recipient(uc, "r1")
    dbx_recipient(uc, "r2")
    grant_share(uc, "s_b", "r1")
    grant_share(uc, "s_a", "r1")
    grant_share(uc, "s_c", "r2")
    assert recipient_grants(uc, "r1") == [("s_a", [("r1", ["SELECT"])]), ("s_b", [("r1", ["SELECT"])])]
    raw = raw_json(uc, "/recipients/r1/share-permissions")
    assert [p["share_name"] for p in raw["permissions_out"]] == ["s_a", "s_b"]  # sorted by share_name
    # rename keeps the grants, under the new name
    uc.admin.recipients.update("r1", new_name="r1x")
    assert recipient_grants(uc, "r1x") == [("s_a", [("r1x", ["SELECT"])]), ("s_b", [("r1x", ["SELECT"])])]
    assert share_grants(uc, "s_a") == [("r1x", ["SELECT"])]
    # delete drops them: a new recipient of the same name starts empty
    uc.admin.recipients.delete("r1x")
    assert share_grants(uc, "s_a") == [] and share_grants(uc, "s_b") == []
    assert share_grants(uc, "s_c") == [("r2", ["SELECT"])]
    dbx_recipient(uc, "r1x")
    assert recipient_grants(uc, "r1x") == []


# --- providers ----------------------------------------------------------------------------------


def _no_secret(text: str):
    assert PROFILE_SECRET not in text
    assert "bearerToken" not in text and "bearer_token" not in text
    assert "recipient_profile_str" not in text


def test_token_provider_profile_validated_and_bearer_token_never_returned(uc):
    p = uc.admin.providers.create("p", AuthenticationType.TOKEN, comment="c", recipient_profile_str=PROFILE)
    assert (p.name, pv(p.authentication_type), p.owner) == ("p", "TOKEN", ADMIN)
    assert p.recipient_profile.endpoint == "https://sharing.example.com/delta-sharing/"
    assert p.recipient_profile.share_credentials_version == 1
    assert p.recipient_profile.bearer_token is None and p.recipient_profile_str is None
    g = uc.admin.providers.get("p")
    assert g.recipient_profile.bearer_token is None and g.recipient_profile_str is None
    for path in ("/providers/p", "/providers"):
        _no_secret(uc.raw("GET", UC + path).text)
    # update: new profile, still redacted
    other = json.dumps({"shareCredentialsVersion": 1, "endpoint": "https://other.example.com/ds", "bearerToken": PROFILE_SECRET})
    u = uc.admin.providers.update("p", recipient_profile_str=other)
    assert u.recipient_profile.endpoint == "https://other.example.com/ds" and u.recipient_profile.bearer_token is None
    r = uc.raw("PATCH", UC + "/providers/p", json={"comment": "c2"})
    assert r.status_code == 200
    _no_secret(r.text)
    r = uc.raw("POST", UC + "/providers", json={"name": "p2", "authentication_type": "TOKEN", "recipient_profile_str": PROFILE})
    assert r.status_code == 200
    _no_secret(r.text)
    _no_secret(uc.raw("GET", UC + "/providers").text)


def test_malformed_provider_profile_is_400_and_changes_nothing(uc):
    uc.admin.providers.create("p", AuthenticationType.TOKEN, recipient_profile_str=PROFILE)
    before = sharing_state(uc)
    for bad in ("not json", json.dumps({"shareCredentialsVersion": 1, "bearerToken": "x"}), "[]",
                json.dumps({"endpoint": ""})):
        with raises(BadRequest, status=400, mentions="recipient_profile_str", server=uc):
            uc.admin.providers.create("q", AuthenticationType.TOKEN, recipient_profile_str=bad)
        with raises(BadRequest, status=400, mentions="recipient_profile_str", server=uc):
            uc.admin.providers.update("p", recipient_profile_str=bad)
    with raises(BadRequest, status=400, mentions="recipient_profile_str", server=uc):  # TOKEN needs a profile
        uc.admin.providers.create("q", AuthenticationType.TOKEN)
    assert sharing_state(uc) == before
    assert uc.admin.providers.get("p").recipient_profile.endpoint == "https://sharing.example.com/delta-sharing/"


def test_databricks_provider_with_global_metastore_id(uc):
    mid = str(uuid.uuid4())
    res = uc.admin.api_client.do("POST", f"{UC}/providers", body={
        "name": "dp", "authentication_type": "DATABRICKS", "data_provider_global_metastore_id": f"gcp:europe-west1:{mid}"})
    assert res["data_provider_global_metastore_id"] == f"gcp:europe-west1:{mid}"
    p = uc.admin.providers.get("dp")
    assert (pv(p.authentication_type), p.cloud, p.region, p.metastore_id) == ("DATABRICKS", "gcp", "europe-west1", mid)
    assert p.recipient_profile is None
    # optional
    assert uc.admin.providers.create("dp2", AuthenticationType.DATABRICKS).name == "dp2"
    with raises(BadRequest, status=400, mentions="data_provider_global_metastore_id", server=uc):
        uc.admin.api_client.do("POST", f"{UC}/providers", body={
            "name": "dp3", "authentication_type": "DATABRICKS", "data_provider_global_metastore_id": "bad"})
    assert sorted(x.name for x in uc.admin.providers.list()) == ["dp", "dp2"]
    assert [x.name for x in uc.admin.providers.list(data_provider_global_metastore_id=f"gcp:europe-west1:{mid}")] == ["dp"]


def test_provider_crud_authorization(uc):
    with raises(PermissionDenied, status=403, server=uc):
        uc.bob.providers.create("pb", AuthenticationType.TOKEN, recipient_profile_str=PROFILE)
    grant_ms(uc, ALICE, "CREATE_PROVIDER")
    assert uc.alice.providers.create("pa", AuthenticationType.TOKEN, recipient_profile_str=PROFILE).owner == ALICE
    uc.admin.providers.create("pz", AuthenticationType.DATABRICKS)
    assert uc.alice.providers.get("pa").name == "pa"
    with raises(PermissionDenied, status=403, server=uc):
        uc.alice.providers.get("pz")
    with raises(PermissionDenied, status=403, server=uc):
        uc.bob.providers.get("pa")
    with raises(PermissionDenied, status=403, server=uc):
        list(uc.bob.providers.list_shares("pa"))
    with raises(NotFound, status=404, server=uc):
        uc.admin.providers.get("nope")
    assert sorted(p.name for p in uc.admin.providers.list()) == ["pa", "pz"]
    assert [p.name for p in uc.alice.providers.list()] == ["pa"]
    assert list(uc.bob.providers.list()) == []
    grant_ms(uc, BOB, "USE_PROVIDER")
    assert uc.bob.providers.get("pz").owner == ADMIN
    assert sorted(p.name for p in uc.bob.providers.list()) == ["pa", "pz"]
    assert list(uc.bob.providers.list_shares("pa")) == []
    with raises(PermissionDenied, status=403, server=uc):
        uc.bob.providers.update("pz", comment="x")
    # update / rename / owner
    assert uc.alice.providers.update("pa", comment="mine").comment == "mine"
    with raises(PermissionDenied, status=403, server=uc):
        uc.admin.providers.update("pa", comment="admin")
    with raises(PermissionDenied, status=403, server=uc):
        uc.alice.providers.update("pa", new_name="pa2")
    with raises(PermissionDenied, status=403, server=uc):
        uc.admin.providers.update("pa", new_name="pa2")
    assert uc.admin.providers.update("pz", new_name="pz2").name == "pz2"
    assert uc.admin.providers.update("pa", owner=BOB).owner == BOB
    # delete: owner only
    with raises(PermissionDenied, status=403, server=uc):
        uc.admin.providers.delete("pa")
    with raises(PermissionDenied, status=403, server=uc):
        uc.alice.providers.delete("pa")
    uc.bob.providers.delete("pa")
    uc.admin.providers.delete("pz2")
    assert list(uc.admin.providers.list()) == []


# --- a fixture with shares, recipients, providers and share grants ------------------------------

FX_PROVIDER_MS = str(uuid.UUID("11111111-2222-4333-8444-555555555555"))
FX_RECIPIENT_MS = str(uuid.UUID("66666666-7777-4888-8999-aaaaaaaaaaaa"))


def sharing_fixture():
    fx = copy.deepcopy(TEST_FIXTURE)
    fx["metastores"][0]["delta_sharing_scope"] = "INTERNAL_AND_EXTERNAL"
    fx["metastores"][0]["delta_sharing_recipient_token_lifetime_in_seconds"] = 86400
    fx["providers"] = [
        _in_main({"name": "acme", "authentication_type": "TOKEN", "recipient_profile_str": PROFILE,
                  "owner": ALICE, "shares": ["sales_share", "hr_share"]}),
        _in_main({"name": "partner", "authentication_type": "DATABRICKS",
                  "data_provider_global_metastore_id": f"aws:us-east-1:{FX_PROVIDER_MS}"}),
    ]
    fx["recipients"] = [
        _in_main({"name": "r_tok", "authentication_type": "TOKEN", "comment": "open",
                  "ip_access_list": {"allowed_ip_addresses": ["10.0.0.0/8"]}}),
        _in_main({"name": "r_dbx", "authentication_type": "DATABRICKS",
                  "data_recipient_global_metastore_id": f"azure:westeurope:{FX_RECIPIENT_MS}"}),
    ]
    fx["shares"] = [
        _in_main({"name": "fx_share", "comment": "from the fixture", "objects": [
            {"name": "shared.sales.orders", "shared_as": "s.o", "cdf_enabled": True},
            {"name": "shared.sales.secret"}]}),
        _in_main({"name": "alice_share", "owner": ALICE}),
    ]
    fx["grants"] = fx["grants"] + [
        _in_main({"securable_type": "share", "full_name": "fx_share", "principal": "r_tok", "privileges": ["SELECT"]}),
        _in_main({"securable_type": "share", "full_name": "fx_share", "principal": "r_dbx", "privileges": ["SELECT"]}),
    ]
    return fx


def _write_fixture(tmp_path, fx, name="sharing.json"):
    p = tmp_path / name
    p.write_text(json.dumps(fx))
    return str(p)


def test_sharing_fixture_applies_and_reapplies_idempotently(start_server, tmp_path):
    path = _write_fixture(tmp_path, sharing_fixture())
    db = str(tmp_path / "sharing.db")
    s1 = start_server(db=db, fixtures=[path])
    a = s1.admin
    assert sorted(p.name for p in a.providers.list()) == ["acme", "partner"]
    assert sorted(x.name for x in a.providers.list_shares("acme")) == ["hr_share", "sales_share"]
    assert list(a.providers.list_shares("partner")) == []
    assert s1.alice.providers.get("acme").owner == ALICE
    assert sorted(x.name for x in s1.alice.providers.list_shares("acme")) == ["hr_share", "sales_share"]
    partner = a.providers.get("partner")
    assert (partner.cloud, partner.region, partner.metastore_id) == ("aws", "us-east-1", FX_PROVIDER_MS)
    _no_secret(s1.raw("GET", UC + "/providers/acme").text)
    _no_secret(s1.raw("GET", UC + "/providers").text)
    rt = a.recipients.get("r_tok")
    assert len(rt.tokens) == 1 and rt.tokens[0].activation_url
    assert rt.tokens[0].expiration_time > now_ms() + 86000 * 1000
    assert rt.ip_access_list.allowed_ip_addresses == ["10.0.0.0/8"]
    rd = a.recipients.get("r_dbx")
    assert (rd.cloud, rd.region, rd.metastore_id) == ("azure", "westeurope", FX_RECIPIENT_MS)
    share = a.shares.get("fx_share")
    got = objects(share)
    assert set(got) == {"shared.sales.orders", "shared.sales.secret"}
    assert got["shared.sales.orders"].shared_as == "s.o" and got["shared.sales.orders"].cdf_enabled is True
    assert got["shared.sales.secret"].shared_as == "sales.secret"
    assert share_grants(s1, "fx_share") == [("r_dbx", ["SELECT"]), ("r_tok", ["SELECT"])]
    assert recipient_grants(s1, "r_tok") == [("fx_share", [("r_tok", ["SELECT"])])]
    assert s1.alice.shares.get("alice_share").owner == ALICE
    state1 = sharing_state(s1)
    assert s1.stop() == 0

    s2 = start_server(db=db, fixtures=[path])
    assert sharing_state(s2) == state1
    assert s2.stop() == 0
    s3 = start_server(db=db, fixtures=[path])
    assert sharing_state(s3) == state1


def test_sharing_fixture_with_token_recipient_needs_external_scope(start_server, tmp_path):
    fx = sharing_fixture()
    del fx["metastores"][0]["delta_sharing_scope"]
    path = _write_fixture(tmp_path, fx, "bad.json")
    try:
        s = start_server(db=str(tmp_path / "bad.db"), fixtures=[path])
    except RuntimeError:
        return  # refused at start-up, as expected
    s.stop()
    raise AssertionError("a TOKEN recipient fixture must be refused while delta_sharing_scope is INTERNAL")


# --- catalogs from a provider share -------------------------------------------------------------


def test_catalog_from_provider_share(start_server, tmp_path):
    uc = start_server(db=str(tmp_path / "c.db"), fixtures=[_write_fixture(tmp_path, sharing_fixture())])
    # admin does not own `acme` (alice does)
    with raises(PermissionDenied, status=403, server=uc):
        uc.admin.catalogs.create("ds_admin", provider_name="acme", share_name="sales_share")
    # alice owns the provider but lacks CREATE_CATALOG
    with raises(PermissionDenied, status=403, server=uc):
        uc.alice.catalogs.create("ds_alice", provider_name="acme", share_name="sales_share")
    grant_ms(uc, ALICE, "CREATE_CATALOG")
    c = uc.alice.catalogs.create("ds_alice", provider_name="acme", share_name="sales_share")
    assert c.catalog_type == CatalogType.DELTASHARING_CATALOG
    assert (c.provider_name, c.share_name, c.owner) == ("acme", "sales_share", ALICE)
    g = uc.alice.catalogs.get("ds_alice")
    assert g.catalog_type == CatalogType.DELTASHARING_CATALOG and g.provider_name == "acme"
    # admin owns `partner`
    c2 = uc.admin.catalogs.create("ds_admin", provider_name="partner", share_name="anything")
    assert c2.catalog_type == CatalogType.DELTASHARING_CATALOG
    # SP holds CREATE_CATALOG but does not own the provider
    with raises(PermissionDenied, status=403, server=uc):
        uc.sp.catalogs.create("ds_sp", provider_name="partner", share_name="x")
    assert uc.sp.catalogs.create("plain_sp").catalog_type == CatalogType.MANAGED_CATALOG
    before = sorted(c.name for c in uc.admin.catalogs.list())
    with raises(BadRequest, status=400, server=uc):
        uc.admin.catalogs.create("half1", provider_name="partner")
    with raises(BadRequest, status=400, server=uc):
        uc.admin.catalogs.create("half2", share_name="sales_share")
    with raises(NotFound, status=404, server=uc):
        uc.admin.catalogs.create("ghost", provider_name="no_such_provider", share_name="s")
    assert sorted(c.name for c in uc.admin.catalogs.list()) == before
