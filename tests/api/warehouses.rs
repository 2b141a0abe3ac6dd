//! Emulated SQL warehouses and their workspace permissions
//! (`/api/2.0/permissions/warehouses/:id`). Only Partner Connect creates
//! warehouses, so these tests create one through the store, as the connect flow does.

use serde_json::json;
use uc_emulator::authz::{self, AclEntry, Action, Allowed, Caller, PrincipalKind};
use uc_emulator::domain::workspace_object::WorkspaceObject;
use uc_emulator::store::{warehouses, workspace_acls, Store};

use crate::helpers::spawn;

/// The proof Partner Connect provisions with: a workspace admin's `ConnectPartner`.
fn connect_proof() -> Allowed {
    let admin =
        Caller::new("admin@example.com".into(), 1, PrincipalKind::User, 1001, vec!["admins".into()], false, None);
    authz::require(&admin, &Action::ConnectPartner, &[]).expect("a workspace admin may connect partners")
}

/// Creates a warehouse owned by admin@example.com in workspace 1001; returns its id.
fn provision(db: &std::path::Path) -> String {
    let store = Store::open(db.to_str().unwrap()).expect("open store");
    store
        .write_now(|tx| {
            let ok = connect_proof();
            let id = warehouses::insert(tx, &ok, 1001, "ACME_ENDPOINT", "admin@example.com", 0)?;
            let owner = AclEntry { principal: "admin@example.com".into(), level: "IS_OWNER".into() };
            workspace_acls::add(tx, &ok, 1001, &WorkspaceObject::Warehouse(id.clone()), &[owner])?;
            Ok::<_, uc_emulator::error::ApiError>(id)
        })
        .expect("provision a warehouse")
}

#[actix_web::test]
async fn admins_see_warehouses_others_only_with_a_level() {
    let app = spawn().await;
    let id = provision(&app.db);
    assert_eq!(id.len(), 16);
    assert!(id.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));

    let listed = app.admin().get("/api/2.0/sql/warehouses").await.ok("admin lists warehouses");
    assert_eq!(listed["warehouses"].as_array().unwrap().len(), 1);
    let w = app.admin().get(&format!("/api/2.0/sql/warehouses/{id}")).await.ok("admin gets the warehouse");
    assert_eq!(w["name"], "ACME_ENDPOINT");
    assert_eq!(w["state"], "RUNNING");
    assert_eq!(w["cluster_size"], "2X-Small");
    assert_eq!(w["creator_name"], "admin@example.com");
    assert_eq!(w["odbc_params"]["path"], format!("/sql/1.0/warehouses/{id}"));
    assert_eq!(w["odbc_params"]["hostname"], "127.0.0.1");
    assert!(w["jdbc_url"].as_str().unwrap().contains(&format!("httpPath=/sql/1.0/warehouses/{id};")));

    // Alice holds no level: the list leaves it out and a get is refused.
    let listed = app.alice().get("/api/2.0/sql/warehouses").await.ok("alice lists");
    assert_eq!(listed["warehouses"], json!([]));
    app.alice().get(&format!("/api/2.0/sql/warehouses/{id}")).await.error(403, "PERMISSION_DENIED", "alice gets");
    app.alice().get(&format!("/api/2.0/permissions/warehouses/{id}")).await.error(
        403,
        "PERMISSION_DENIED",
        "alice reads the ACL",
    );

    // An admin grants CAN_USE to her group; she sees it at once, but may not manage it.
    let body = json!({"access_control_list": [{"group_name": "analysts", "permission_level": "CAN_USE"}]});
    let acl = app.admin().patch(&format!("/api/2.0/permissions/warehouses/{id}"), body).await.ok("grant CAN_USE");
    assert_eq!(acl["object_id"], format!("/sql/warehouses/{id}"));
    let levels: Vec<String> = acl["access_control_list"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| {
            e["all_permissions"].as_array().unwrap().iter().map(|p| p["permission_level"].as_str().unwrap().to_string())
        })
        .collect();
    assert!(levels.contains(&"IS_OWNER".to_string()) && levels.contains(&"CAN_USE".to_string()), "{acl}");
    app.alice().get(&format!("/api/2.0/sql/warehouses/{id}")).await.ok("alice gets it now");
    let listed = app.alice().get("/api/2.0/sql/warehouses").await.ok("alice lists");
    assert_eq!(listed["warehouses"].as_array().unwrap().len(), 1);
    app.alice().get(&format!("/api/2.0/permissions/warehouses/{id}")).await.ok("a level holder reads the ACL");
    let change = json!({"access_control_list": [{"user_name": "alice@example.com", "permission_level": "CAN_MANAGE"}]});
    app.alice().patch(&format!("/api/2.0/permissions/warehouses/{id}"), change).await.error(
        403,
        "PERMISSION_DENIED",
        "CAN_USE does not manage",
    );

    let levels = app.admin().get(&format!("/api/2.0/permissions/warehouses/{id}/permissionLevels")).await.ok("levels");
    let names: Vec<&str> = levels["permission_levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["permission_level"].as_str().unwrap())
        .collect();
    for l in ["CAN_USE", "CAN_MANAGE", "CAN_VIEW", "IS_OWNER"] {
        assert!(names.contains(&l), "{names:?}");
    }
    let bad = json!({"access_control_list": [{"group_name": "analysts", "permission_level": "CAN_RESTART"}]});
    app.admin()
        .patch(&format!("/api/2.0/permissions/warehouses/{id}"), bad)
        .await
        .invalid("permission_level", "bad level");
}

#[actix_web::test]
async fn unknown_and_deleted_warehouses_are_404() {
    let app = spawn().await;
    app.admin().get("/api/2.0/sql/warehouses/0123456789abcdef").await.error(404, "RESOURCE_DOES_NOT_EXIST", "unknown");
    app.admin().get("/api/2.0/permissions/warehouses/0123456789abcdef").await.error(
        404,
        "RESOURCE_DOES_NOT_EXIST",
        "unknown ACL",
    );
    let id = provision(&app.db);
    let store = Store::open(app.db.to_str().unwrap()).expect("open store");
    store.write_now(|tx| warehouses::delete(tx, &connect_proof(), 1001, &id, 1)).expect("delete");
    app.admin().get(&format!("/api/2.0/sql/warehouses/{id}")).await.error(404, "RESOURCE_DOES_NOT_EXIST", "deleted");
    let listed = app.admin().get("/api/2.0/sql/warehouses").await.ok("list");
    assert_eq!(listed["warehouses"], json!([]));
}
