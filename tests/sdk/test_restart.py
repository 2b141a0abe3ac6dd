"""Persistence across restarts and clean shutdown, and fixtures applied at
every start."""

import signal
import time

from databricks.sdk.errors import NotFound, Unauthenticated
from databricks.sdk.service.catalog import ColumnInfo, ColumnTypeName, DataSourceFormat, TableType

from conftest import ADMIN, ALICE, BOB, UC, raises


def snapshot(uc, ms_ids):
    """Everything the API shows, as plain dicts."""
    a = uc.admin
    out = {"metastores": {m: a.metastores.get(m).as_dict() for m in ms_ids},
           "summary": a.metastores.summary().as_dict(),
           "current": a.metastores.current().as_dict(),
           "current2": uc.admin2.metastores.current().as_dict(),
           "catalogs": sorted((c.as_dict() for c in a.catalogs.list()), key=lambda c: c["name"])}
    out["schemas"] = {c["name"]: sorted((s.as_dict() for s in a.schemas.list(c["name"])), key=lambda s: s["name"])
                      for c in out["catalogs"]}
    out["tables"] = {f"{c}.{s['name']}": [t.as_dict() for t in a.tables.list(c, s["name"])]
                     for c, ss in out["schemas"].items() for s in ss if s["name"] != "information_schema"}
    out["alice_catalogs"] = sorted(c.name for c in uc.alice.catalogs.list())
    return out


def test_restart_keeps_everything(start_server, tmp_path):
    db = str(tmp_path / "persist.db")
    uc = start_server(db=db)
    a = uc.admin
    ms_id = a.metastores.current().metastore_id
    a.metastores.update(ms_id, delta_sharing_organization_name="acme", owner=ADMIN)
    m2 = a.metastores.create(name="second", storage_root="s3://b/second")
    a.metastores.assign(1002, m2.metastore_id, "landing")
    uc.admin2.catalogs.create("landing", comment="in the second metastore")

    a.catalogs.create("Persisted", comment="keep me", properties={"k": "v"})
    a.schemas.create("s", "persisted", comment="schema comment")
    cols = [ColumnInfo(name="Id", type_name=ColumnTypeName.LONG, type_text="bigint", type_json='{"t":"long"}',
                       position=0, nullable=False, comment="pk"),
            ColumnInfo(name="price", type_name=ColumnTypeName.DECIMAL, type_text="decimal(5,2)",
                       type_json='{"t":"decimal"}', type_precision=5, type_scale=2, position=1)]
    t = a.tables.create("t", "persisted", "s", TableType.MANAGED, DataSourceFormat.DELTA, storage_location=None,
                        columns=cols, properties={"p": "1"})
    a.api_client.do("POST", f"{UC}/tables", body={
        "catalog_name": "persisted", "schema_name": "s", "name": "v", "table_type": "VIEW",
        "view_definition": "SELECT * FROM persisted.s.t", "columns": []})
    a.tables.update("persisted.s.t", owner=BOB)
    a.catalogs.update("persisted", owner=ALICE)
    # Changes to fixture-declared objects must survive the fixture being applied again.
    a.catalogs.update("shared", comment="changed through the API")
    a.schemas.delete("private.default")
    a.tables.delete("shared.sales.secret")

    before = snapshot(uc, [ms_id, m2.metastore_id])
    assert before["tables"]["persisted.s"][0]["table_id"] == t.table_id
    assert uc.stop() == 0

    # Same db, same fixture.
    uc2 = start_server(db=db)
    after = snapshot(uc2, [ms_id, m2.metastore_id])
    # An entry deleted through the API comes back (it is missing, so the fixture re-creates it).
    assert uc2.admin.tables.exists("shared.sales.secret").table_exists is True
    restored = after["tables"]["shared.sales"]
    after["tables"]["shared.sales"] = [x for x in restored if x["name"] != "secret"]
    before["tables"]["shared.sales"] = [x for x in before["tables"]["shared.sales"] if x["name"] != "secret"]
    assert after == before
    assert next(c for c in after["catalogs"] if c["name"] == "shared")["comment"] == "changed through the API"
    # private.default is not a fixture entry (catalog creation made it): it stays deleted.
    assert {s["name"] for s in after["schemas"]["private"]} == {"information_schema"}
    assert after["tables"]["persisted.s"][0]["owner"] == BOB
    assert after["tables"]["persisted.s"][0]["storage_location"] == t.storage_location
    assert [c["name"] for c in after["tables"]["persisted.s"][0]["columns"]] == ["Id", "price"]
    assert uc2.admin2.catalogs.get("landing").metastore_id == m2.metastore_id
    assert uc2.stop() == 0

    # Same db without any fixture: not new, so the default fixture is not applied; the db's own
    # identities and tokens keep working.
    uc3 = start_server(db=db, fixtures=[])
    assert uc3.bob.current_user.me().user_name == BOB
    assert uc3.alice.catalogs.get("persisted").owner == ALICE
    assert sorted(c.name for c in uc3.admin.catalogs.list()) == sorted(c["name"] for c in after["catalogs"])
    assert uc3.stop() == 0


def test_restart_without_fixture_keeps_default_fixture_state(start_server, tmp_path):
    db = str(tmp_path / "default.db")
    uc = start_server(db=db, fixtures=[])  # new db, no fixture: the built-in default applies
    assert uc.admin.metastores.current().default_catalog_name == "main"
    assert uc.alice.metastores.summary().name == "main"
    assert [c.name for c in uc.admin.catalogs.list()] == ["main"]
    uc.admin.catalogs.create("added")
    uc.admin.catalogs.update("main", comment="edited")
    assert uc.stop() == 0
    uc2 = start_server(db=db, fixtures=[])
    assert sorted(c.name for c in uc2.admin.catalogs.list()) == ["added", "main"]
    assert uc2.admin.catalogs.get("main").comment == "edited"
    # dapi-bob belongs to the test fixture only, which was never applied here.
    with raises(Unauthenticated, "UNAUTHENTICATED", status=401, server=uc2):
        list(uc2.bob.catalogs.list())
    assert uc2.stop() == 0


def test_kill_9_keeps_acknowledged_writes(start_server, tmp_path):
    db = str(tmp_path / "k9.db")
    uc = start_server(db=db)
    uc.admin.catalogs.create("durable", comment="acknowledged")
    uc.admin.schemas.create("s", "durable")
    uc.admin.catalogs.update("durable", properties={"x": "y"})
    uc.proc.kill()
    uc.proc.wait(10)
    uc2 = start_server(db=db)
    c = uc2.admin.catalogs.get("durable")
    assert (c.comment, c.properties) == ("acknowledged", {"x": "y"})
    assert uc2.admin.schemas.get("durable.s").full_name == "durable.s"


def test_memory_db_is_always_new(start_server):
    uc = start_server(db=":memory:")
    uc.admin.catalogs.create("ephemeral")
    assert uc.stop() == 0
    uc2 = start_server(db=":memory:")
    with raises(NotFound, status=404, server=uc2):
        uc2.admin.catalogs.get("ephemeral")
    assert [c.name for c in uc2.admin.catalogs.list()] == ["alice_cat", "main", "nested", "private", "shared"]


def test_sigterm_and_sigint_exit_cleanly(start_server, tmp_path):
    for sig in (signal.SIGTERM, signal.SIGINT):
        uc = start_server(db=str(tmp_path / f"sig{int(sig)}.db"))
        assert uc.admin.catalogs.get("main").name == "main"
        t0 = time.monotonic()
        assert uc.stop(sig) == 0
        assert time.monotonic() - t0 < 15


def test_sigterm_right_after_listening_line(start_server, tmp_path):
    # The listening line means the server is up; a SIGTERM from then on must shut it down cleanly
    # (exit status 0), not kill it by the signal's default action.
    for i in range(3):
        uc = start_server(db=str(tmp_path / f"early{i}.db"))
        assert uc.stop() == 0
