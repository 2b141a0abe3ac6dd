//! Names: lower-cased on create, rename and lookup, column names keep their case, full names in
//! paths are percent-decoded UTF-8.

use serde_json::json;

use crate::helpers::{enc, names, spawn, UC};

const DOC_PATH: &str = "SomeC%C3%84t.S%C3%B8meSch%C3%ABma.%E3%83%86%E3%83%BC%E3%83%96%E3%83%AB";

#[actix_web::test]
async fn names_are_lower_cased_on_create_and_lookup() {
    let app = spawn().await;
    let admin = app.admin();
    let c = admin.create_catalog("MixedCase").await;
    assert_eq!(c["name"], "mixedcase");
    assert_eq!(c["full_name"], "mixedcase");
    for path in ["MixedCase", "MIXEDCASE", "mixedcase"] {
        let got = admin.get(&format!("{UC}/catalogs/{path}")).await.ok(path);
        assert_eq!(got["name"], "mixedcase", "{path}");
    }
    // A name differing only in case is the same name.
    let res = admin.post(&format!("{UC}/catalogs"), json!({"name": "MIXEDcase"})).await;
    let msg = res.error(409, "CATALOG_ALREADY_EXISTS", "case-insensitive duplicate catalog");
    assert!(msg.contains("mixedcase"), "{msg}");

    let s = admin
        .post(&format!("{UC}/schemas"), json!({"name": "MySchema", "catalog_name": "MIXEDCASE"}))
        .await
        .ok("create schema");
    assert_eq!(s["name"], "myschema");
    assert_eq!(s["catalog_name"], "mixedcase");
    assert_eq!(s["full_name"], "mixedcase.myschema");
    admin.get(&format!("{UC}/schemas/MixedCase.MYSCHEMA")).await.ok("get schema by other case");
    admin.post(&format!("{UC}/schemas"), json!({"name": "myschema", "catalog_name": "mixedcase"})).await.error(
        409,
        "SCHEMA_ALREADY_EXISTS",
        "case-insensitive duplicate schema",
    );

    let mut body = crate::helpers::table_body("MixedCase", "MySchema", "MyTable");
    body["columns"] = json!([
        {"name": "CamelCol", "type_name": "STRING", "type_text": "string", "type_json": "{}", "position": 0},
        {"name": "lower_col", "type_name": "INT", "type_text": "int", "type_json": "{}", "position": 1}
    ]);
    let t = admin.post(&format!("{UC}/tables"), body.clone()).await.ok("create table");
    assert_eq!(t["name"], "mytable");
    assert_eq!(t["catalog_name"], "mixedcase");
    assert_eq!(t["schema_name"], "myschema");
    assert_eq!(t["full_name"], "mixedcase.myschema.mytable");
    let cols: Vec<&str> = t["columns"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(cols, vec!["CamelCol", "lower_col"], "column names keep their case");
    let got = admin.get(&format!("{UC}/tables/MIXEDCASE.MySchema.MYTABLE")).await.ok("get table by other case");
    assert_eq!(got["full_name"], "mixedcase.myschema.mytable");
    assert_eq!(got["columns"][0]["name"], "CamelCol");
    body["name"] = json!("MYTABLE");
    admin.post(&format!("{UC}/tables"), body).await.error(
        409,
        "TABLE_ALREADY_EXISTS",
        "case-insensitive duplicate table",
    );

    // Query parameters are lower-cased too.
    let list = admin.get(&format!("{UC}/tables?catalog_name=MixedCase&schema_name=MYSCHEMA")).await.ok("list tables");
    assert_eq!(names(&list, "tables"), vec!["mytable"]);
    let list = admin.get(&format!("{UC}/schemas?catalog_name=MIXEDCASE")).await.ok("list schemas");
    assert!(names(&list, "schemas").contains(&"myschema".to_string()), "{list}");

    // Renames are lower-cased.
    let renamed = admin.patch(&format!("{UC}/catalogs/MixedCase"), json!({"new_name": "ReNamed"})).await.ok("rename");
    assert_eq!(renamed["name"], "renamed");
    admin.get(&format!("{UC}/catalogs/RENAMED")).await.ok("get renamed");
    admin.get(&format!("{UC}/tables/renamed.myschema.mytable")).await.ok("table follows its catalog's rename");
    admin.get(&format!("{UC}/catalogs/mixedcase")).await.error(404, "CATALOG_DOES_NOT_EXIST", "old name");
}

#[actix_web::test]
async fn the_reference_unicode_full_name_round_trips() {
    let app = spawn().await;
    let admin = app.admin();
    let c = admin.create_catalog("SomeCÄt").await;
    assert_eq!(c["name"], "somecät");
    let s = admin.create_schema("SomeCÄt", "SømeSchëma").await;
    assert_eq!(s["full_name"], "somecät.sømeschëma");
    let t = admin.create_table("somecät", "SØMESCHËMA", "テーブル").await;
    assert_eq!(t["full_name"], "somecät.sømeschëma.テーブル");

    // The API reference's byte-exact path, upper-case hex.
    let got = admin.get(&format!("{UC}/tables/{DOC_PATH}")).await.ok("GET the API reference's path");
    assert_eq!(got["full_name"], "somecät.sømeschëma.テーブル");
    assert_eq!(got["name"], "テーブル");
    assert_eq!(got["catalog_name"], "somecät");
    assert_eq!(got["schema_name"], "sømeschëma");
    // Hex digits in either case.
    let lower_hex = "SomeC%c3%84t.S%c3%b8meSch%c3%abma.%e3%83%86%e3%83%bc%e3%83%96%e3%83%ab";
    let got = admin.get(&format!("{UC}/tables/{lower_hex}")).await.ok("lower-case hex");
    assert_eq!(got["full_name"], "somecät.sømeschëma.テーブル");
    // The dots may be encoded too.
    let dots = DOC_PATH.replace('.', "%2E");
    admin.get(&format!("{UC}/tables/{dots}")).await.ok("encoded dots");
    // Everything encoded, as a client that quotes the whole segment would.
    admin.get(&format!("{UC}/tables/{}", enc("somecät.sømeschëma.テーブル"))).await.ok("fully encoded");
    let exists = admin.get(&format!("{UC}/tables/{DOC_PATH}/exists")).await.ok("exists");
    assert_eq!(exists["table_exists"], true);

    // Schemas and catalogs by encoded path, and in query parameters.
    admin.get(&format!("{UC}/schemas/SomeC%C3%84t.S%C3%B8meSch%C3%ABma")).await.ok("schema by encoded path");
    let got = admin.get(&format!("{UC}/catalogs/SomeC%C3%84t")).await.ok("catalog by encoded path");
    assert_eq!(got["name"], "somecät");
    let list = admin
        .get(&format!("{UC}/tables?catalog_name={}&schema_name={}", enc("SomeCÄt"), enc("SømeSchëma")))
        .await
        .ok("list by encoded query");
    assert_eq!(names(&list, "tables"), vec!["テーブル"]);

    // Update and delete through the encoded path.
    let updated = admin.patch(&format!("{UC}/tables/{DOC_PATH}"), json!({"comment": "テスト"})).await.ok("patch");
    assert_eq!(updated["comment"], "テスト");
    admin.delete(&format!("{UC}/tables/{DOC_PATH}")).await.ok("delete");
    admin.get(&format!("{UC}/tables/{DOC_PATH}")).await.error(404, "TABLE_DOES_NOT_EXIST", "after delete");
}

#[actix_web::test]
async fn spaces_and_other_unicode_are_allowed_but_separators_are_not() {
    let app = spawn().await;
    let admin = app.admin();
    let c = admin.create_catalog("My Catalog €").await;
    assert_eq!(c["name"], "my catalog €");
    admin.get(&format!("{UC}/catalogs/My%20Catalog%20%E2%82%AC")).await.ok("encoded space");
    admin.create_schema("my catalog €", "😀 emoji").await;
    admin.get(&format!("{UC}/schemas/{}", enc("my catalog €.😀 emoji"))).await.ok("emoji schema");

    let before = app.dump_state().await;
    for bad in ["a.b", "a/b", "line\nbreak", "nul\u{0}byte", "del\u{7f}", ""] {
        admin.post(&format!("{UC}/catalogs"), json!({"name": bad})).await.invalid("name", &format!("catalog {bad:?}"));
        admin
            .post(&format!("{UC}/schemas"), json!({"name": bad, "catalog_name": "main"}))
            .await
            .invalid("name", &format!("schema {bad:?}"));
    }
    assert_eq!(app.dump_state().await, before);
}

#[actix_web::test]
async fn percent_and_plus_in_names_are_decoded_exactly_once() {
    let app = spawn().await;
    let admin = app.admin();
    for name in ["a%41", "100%", "a+b", "50%25"] {
        let created = admin.create_catalog(name).await;
        assert_eq!(created["name"], name);
        let got =
            admin.get(&format!("{UC}/catalogs/{}", enc(name))).await.ok(&format!("get {name:?} by its encoded path"));
        assert_eq!(got["name"], name, "the path was decoded more or less than once");
    }
    // A literal `+` in a path is a plus, not a space.
    let got = admin.get(&format!("{UC}/catalogs/a+b")).await.ok("literal plus");
    assert_eq!(got["name"], "a+b");
}

#[actix_web::test]
async fn invalid_utf8_in_a_path_is_400() {
    // Path segments are percent-decoded as UTF-8; a path that is not
    // UTF-8 is a bad path (400), not silently replaced with U+FFFD.
    let app = spawn().await;
    let admin = app.admin();
    admin.create_schema("main", "s").await;
    admin.create_table("main", "s", "\u{FFFD}\u{FFFD}").await;
    let before = app.dump_state().await;
    let mut failures = Vec::new();
    for (method, path) in [
        ("GET", format!("{UC}/tables/main.s.%FF%FE")),
        ("GET", format!("{UC}/catalogs/%C3")),
        ("GET", format!("{UC}/schemas/main.%80")),
        ("DELETE", format!("{UC}/tables/main.s.%FF%FE")),
    ] {
        let res = admin.send(method, &path, None).await;
        let code = serde_json::from_str::<serde_json::Value>(&res.text).ok().map(|b| b["error_code"].clone());
        if res.status != 400 || code != Some(json!("INVALID_PARAMETER_VALUE")) {
            failures.push(format!("{method} {path}: got {} {}", res.status, res.text));
        }
    }
    if app.dump_state().await != before {
        failures.push("a request with an invalid path changed state".to_string());
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
