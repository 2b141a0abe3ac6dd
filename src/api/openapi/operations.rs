//! One row per served operation: method, documented path, `operationId`, tag, and the types
//! of its query, body and answer. A route added to the route table without a row here fails
//! `api::openapi::tests::every_served_route_is_documented`.

use serde_json::{json, Value};

use super::{Op, Schemas};

/// Tags, in the order the document lists them, each with its description.
pub(super) const TAGS: &[(&str, &str)] = &[
    ("Metastores", "Metastores and their assignment to workspaces."),
    ("Storage credentials", "Storage credentials: the cloud identities external storage is reached with."),
    ("External locations", "External locations: storage paths combined with a storage credential."),
    ("Files", "Listing files under an external location or storage credential."),
    ("Catalogs", "Catalogs, the first level of the three-level namespace."),
    ("Schemas", "Schemas, the second level of the namespace."),
    ("Tables", "Tables and views, table existence and table summaries."),
    ("Volumes", "Volumes: governed directories of files."),
    ("Functions", "User-defined functions."),
    ("Files API", "Files and directories inside volumes."),
    (
        "Temporary credentials",
        "Short-lived, down-scoped credentials for engines outside Databricks (the S3 endpoint checks them).",
    ),
    ("Permissions", "Grants on securables, direct and effective."),
    ("Explain", "The emulator's own: why a principal may or may not do an action."),
    ("User info", "The caller's metastore admin status and groups."),
    ("Shares", "Delta Sharing shares (provider side)."),
    ("Recipients", "Delta Sharing recipients and their tokens."),
    ("Providers", "Delta Sharing providers (recipient side)."),
    ("SCIM", "Users, groups and service principals (SCIM 2.0)."),
    ("Tokens", "The caller's own personal access tokens."),
    (
        "Token management",
        "Every token of the workspace (workspace admins), and tokens on behalf of service principals.",
    ),
    ("Workspace permissions", "Access control lists of workspace objects (tokens, SQL warehouses)."),
    ("SQL warehouses", "The emulated SQL warehouses (read-only)."),
    ("Partner Connect", "Partner Connect: registering partners and connecting them to the workspace."),
    ("Host metadata", "What the host tells clients about itself."),
    ("Health", "Liveness of the server."),
    ("OpenAPI", "This document."),
];

const UC: &str = "/api/2.1/unity-catalog";

fn uc(p: &str) -> String {
    format!("{UC}{p}")
}

/// An answer whose schema is not yet described: any JSON value.
fn any() -> Value {
    json!({})
}

pub(super) fn all(_s: &mut Schemas) -> Vec<Op> {
    let get = |p: &str, id: &'static str, tag: &'static str| Op::new("GET", p.to_string(), id, tag).ok(any());
    let post = |p: &str, id: &'static str, tag: &'static str| Op::new("POST", p.to_string(), id, tag).ok(any());
    let put = |p: &str, id: &'static str, tag: &'static str| Op::new("PUT", p.to_string(), id, tag).ok(any());
    let patch = |p: &str, id: &'static str, tag: &'static str| Op::new("PATCH", p.to_string(), id, tag).ok(any());
    let delete = |p: &str, id: &'static str, tag: &'static str| Op::new("DELETE", p.to_string(), id, tag).ok(any());
    let head = |p: &str, id: &'static str, tag: &'static str| Op::new("HEAD", p.to_string(), id, tag);

    let mut ops = vec![
        // Metastores
        get(&uc("/metastores"), "listMetastores", "Metastores"),
        post(&uc("/metastores"), "createMetastore", "Metastores"),
        get(&uc("/metastores/{id}"), "getMetastore", "Metastores"),
        patch(&uc("/metastores/{id}"), "updateMetastore", "Metastores"),
        delete(&uc("/metastores/{id}"), "deleteMetastore", "Metastores"),
        get(&uc("/metastore_summary"), "getMetastoreSummary", "Metastores"),
        get(&uc("/current-metastore-assignment"), "getCurrentMetastoreAssignment", "Metastores"),
        put(&uc("/workspaces/{workspace_id}/metastore"), "createMetastoreAssignment", "Metastores"),
        patch(&uc("/workspaces/{workspace_id}/metastore"), "updateMetastoreAssignment", "Metastores"),
        delete(&uc("/workspaces/{workspace_id}/metastore"), "deleteMetastoreAssignment", "Metastores"),
        // Storage credentials, external locations, files
        get(&uc("/storage-credentials"), "listStorageCredentials", "Storage credentials"),
        post(&uc("/storage-credentials"), "createStorageCredential", "Storage credentials"),
        get(&uc("/storage-credentials/{name}"), "getStorageCredential", "Storage credentials"),
        patch(&uc("/storage-credentials/{name}"), "updateStorageCredential", "Storage credentials"),
        delete(&uc("/storage-credentials/{name}"), "deleteStorageCredential", "Storage credentials"),
        post(&uc("/validate-storage-credentials"), "validateStorageCredential", "Storage credentials"),
        get(&uc("/external-locations"), "listExternalLocations", "External locations"),
        post(&uc("/external-locations"), "createExternalLocation", "External locations"),
        get(&uc("/external-locations/{name}"), "getExternalLocation", "External locations"),
        patch(&uc("/external-locations/{name}"), "updateExternalLocation", "External locations"),
        delete(&uc("/external-locations/{name}"), "deleteExternalLocation", "External locations"),
        get(&uc("/files"), "listFiles", "Files"),
        // Catalogs, schemas, tables
        get(&uc("/catalogs"), "listCatalogs", "Catalogs"),
        post(&uc("/catalogs"), "createCatalog", "Catalogs"),
        get(&uc("/catalogs/{name}"), "getCatalog", "Catalogs"),
        patch(&uc("/catalogs/{name}"), "updateCatalog", "Catalogs"),
        delete(&uc("/catalogs/{name}"), "deleteCatalog", "Catalogs"),
        get(&uc("/schemas"), "listSchemas", "Schemas"),
        post(&uc("/schemas"), "createSchema", "Schemas"),
        get(&uc("/schemas/{full_name}"), "getSchema", "Schemas"),
        patch(&uc("/schemas/{full_name}"), "updateSchema", "Schemas"),
        delete(&uc("/schemas/{full_name}"), "deleteSchema", "Schemas"),
        get(&uc("/tables"), "listTables", "Tables"),
        post(&uc("/tables"), "createTable", "Tables"),
        get(&uc("/tables/{full_name}"), "getTable", "Tables"),
        patch(&uc("/tables/{full_name}"), "updateTable", "Tables"),
        delete(&uc("/tables/{full_name}"), "deleteTable", "Tables"),
        get(&uc("/tables/{full_name}/exists"), "tableExists", "Tables"),
        get(&uc("/table-summaries"), "listTableSummaries", "Tables"),
        post(&uc("/table-summaries"), "queryTableSummaries", "Tables"),
        // Volumes and functions
        get(&uc("/volumes"), "listVolumes", "Volumes"),
        post(&uc("/volumes"), "createVolume", "Volumes"),
        get(&uc("/volumes/{full_name}"), "readVolume", "Volumes"),
        patch(&uc("/volumes/{full_name}"), "updateVolume", "Volumes"),
        delete(&uc("/volumes/{full_name}"), "deleteVolume", "Volumes"),
        get(&uc("/functions"), "listFunctions", "Functions"),
        post(&uc("/functions"), "createFunction", "Functions"),
        get(&uc("/functions/{full_name}"), "getFunction", "Functions"),
        patch(&uc("/functions/{full_name}"), "updateFunction", "Functions"),
        delete(&uc("/functions/{full_name}"), "deleteFunction", "Functions"),
        // Files API
        get("/api/2.0/fs/files{file_path}", "download", "Files API"),
        head("/api/2.0/fs/files{file_path}", "getMetadata", "Files API"),
        put("/api/2.0/fs/files{file_path}", "upload", "Files API"),
        delete("/api/2.0/fs/files{file_path}", "deleteFile", "Files API"),
        post("/api/2.0/fs/files{file_path}", "initiateUpload", "Files API"),
        get("/api/2.0/fs/directories{directory_path}", "listDirectoryContents", "Files API"),
        head("/api/2.0/fs/directories{directory_path}", "getDirectoryMetadata", "Files API"),
        put("/api/2.0/fs/directories{directory_path}", "createDirectory", "Files API"),
        delete("/api/2.0/fs/directories{directory_path}", "deleteDirectory", "Files API"),
        // Permissions
        get(&uc("/permissions/{securable_type}/{full_name}"), "getPermissions", "Permissions"),
        patch(&uc("/permissions/{securable_type}/{full_name}"), "updatePermissions", "Permissions"),
        put(&uc("/permissions/{securable_type}/{full_name}"), "replacePermissions", "Permissions"),
        get(&uc("/effective-permissions/{securable_type}/{full_name}"), "getEffectivePermissions", "Permissions"),
        get(&uc("/privilege-assignments/{securable_type}/{full_name}"), "listPrivilegeAssignments", "Permissions"),
        get(
            &uc("/effective-privilege-assignments/{securable_type}/{full_name}"),
            "listEffectivePrivilegeAssignments",
            "Permissions",
        ),
        // Explain, user info
        get(&uc("/explain"), "explain", "Explain"),
        get(&uc("/explain/actions"), "listExplainActions", "Explain"),
        get(&uc("/user-info/me"), "getMyInfo", "User info"),
        get(&uc("/user-info/my-groups"), "getMyGroups", "User info"),
        // Delta Sharing
        get(&uc("/shares"), "listShares", "Shares"),
        post(&uc("/shares"), "createShare", "Shares"),
        get(&uc("/shares/{name}"), "getShare", "Shares"),
        patch(&uc("/shares/{name}"), "updateShare", "Shares"),
        delete(&uc("/shares/{name}"), "deleteShare", "Shares"),
        get(&uc("/shares/{name}/permissions"), "getSharePermissions", "Shares"),
        patch(&uc("/shares/{name}/permissions"), "updateSharePermissions", "Shares"),
        get(&uc("/recipients"), "listRecipients", "Recipients"),
        post(&uc("/recipients"), "createRecipient", "Recipients"),
        get(&uc("/recipients/{name}"), "getRecipient", "Recipients"),
        patch(&uc("/recipients/{name}"), "updateRecipient", "Recipients"),
        delete(&uc("/recipients/{name}"), "deleteRecipient", "Recipients"),
        post(&uc("/recipients/{name}/rotate-token"), "rotateRecipientToken", "Recipients"),
        get(&uc("/recipients/{name}/share-permissions"), "getRecipientSharePermissions", "Recipients"),
        get(&uc("/providers"), "listProviders", "Providers"),
        post(&uc("/providers"), "createProvider", "Providers"),
        get(&uc("/providers/{name}"), "getProvider", "Providers"),
        patch(&uc("/providers/{name}"), "updateProvider", "Providers"),
        delete(&uc("/providers/{name}"), "deleteProvider", "Providers"),
        get(&uc("/providers/{name}/shares"), "listProviderShares", "Providers"),
        // Tokens and token management
        post("/api/2.0/token/create", "createToken", "Tokens"),
        get("/api/2.0/token/list", "listTokens", "Tokens"),
        post("/api/2.0/token/delete", "deleteToken", "Tokens"),
        get("/api/2.0/token-management/tokens", "listWorkspaceTokens", "Token management"),
        get("/api/2.0/token-management/tokens/{token_id}", "getWorkspaceToken", "Token management"),
        delete("/api/2.0/token-management/tokens/{token_id}", "deleteWorkspaceToken", "Token management"),
        post("/api/2.0/token-management/on-behalf-of/tokens", "createOboToken", "Token management"),
        // Workspace object permissions, SQL warehouses
        get(
            "/api/2.0/permissions/{request_object_type}/{request_object_id}",
            "getObjectPermissions",
            "Workspace permissions",
        ),
        put(
            "/api/2.0/permissions/{request_object_type}/{request_object_id}",
            "setObjectPermissions",
            "Workspace permissions",
        ),
        patch(
            "/api/2.0/permissions/{request_object_type}/{request_object_id}",
            "updateObjectPermissions",
            "Workspace permissions",
        ),
        get(
            "/api/2.0/permissions/{request_object_type}/{request_object_id}/permissionLevels",
            "getObjectPermissionLevels",
            "Workspace permissions",
        ),
        get("/api/2.0/sql/warehouses", "listWarehouses", "SQL warehouses"),
        get("/api/2.0/sql/warehouses/{id}", "getWarehouse", "SQL warehouses"),
        // Partner Connect
        post("/api/2.0/partner-connect/partners", "registerPartner", "Partner Connect"),
        get("/api/2.0/partner-connect/partners", "listPartners", "Partner Connect"),
        get("/api/2.0/partner-connect/partners/{partner_id}", "getPartner", "Partner Connect"),
        delete("/api/2.0/partner-connect/partners/{partner_id}", "deletePartner", "Partner Connect"),
        post(
            "/api/2.0/partner-connect/partners/{partner_id}/delete-account",
            "deletePartnerAccount",
            "Partner Connect",
        )
        .also(&[502, 504]),
        post(
            "/api/2.0/partner-connect/partners/{partner_id}/expire-account",
            "expirePartnerAccount",
            "Partner Connect",
        )
        .also(&[502, 504]),
        get("/api/2.0/partner-connect/partners/{partner_id}/connectors", "listPartnerConnectors", "Partner Connect")
            .also(&[502, 504]),
        post("/api/2.0/partner-connect/connections", "connectPartner", "Partner Connect").also(&[502, 504]),
        get("/api/2.0/partner-connect/connections", "listPartnerConnections", "Partner Connect"),
        get("/api/2.0/partner-connect/connections/{id}", "getPartnerConnection", "Partner Connect"),
        post("/api/2.0/partner-connect/connections/{id}/test", "testPartnerConnection", "Partner Connect")
            .also(&[502, 504]),
        delete("/api/2.0/partner-connect/connections/{id}", "deletePartnerConnection", "Partner Connect")
            .also(&[502, 504]),
        // Host metadata, health, this document
        get("/.well-known/databricks-config", "getHostMetadata", "Host metadata").public(),
        get("/healthz", "healthz", "Health").public(),
        get(super::PATH, "getOpenApiDocument", "OpenAPI").public(),
        // Temporary credentials: the OSS paths and the hosted ones (fields in the body or the query).
        post(&uc("/temporary-table-credentials"), "generateTemporaryTableCredentials", "Temporary credentials"),
        post(&uc("/temporary-path-credentials"), "generateTemporaryPathCredentials", "Temporary credentials"),
        post(&uc("/temporary-volume-credentials"), "generateTemporaryVolumeCredentials", "Temporary credentials"),
        post(
            "/api/2.0/unity-catalog/temporary-table-credentials",
            "generateTemporaryTableCredentialsHosted",
            "Temporary credentials",
        ),
        post(
            "/api/2.0/unity-catalog/temporary-path-credentials",
            "generateTemporaryPathCredentialsHosted",
            "Temporary credentials",
        ),
        post(
            "/api/2.0/unity-catalog/temporary-volume-credentials",
            "generateTemporaryVolumeCredentialsHosted",
            "Temporary credentials",
        ),
    ];

    // SCIM: the same six operations on three resource types.
    let scim = |p: &str| format!("/api/2.0/preview/scim/v2{p}");
    ops.push(get(&scim("/Me"), "getMe", "SCIM").scim());
    for (path, list, create, get_id, replace, patch_id, delete_id) in [
        ("Users", "listUsers", "createUser", "getUser", "replaceUser", "patchUser", "deleteUser"),
        ("Groups", "listGroups", "createGroup", "getGroup", "replaceGroup", "patchGroup", "deleteGroup"),
        (
            "ServicePrincipals",
            "listServicePrincipals",
            "createServicePrincipal",
            "getServicePrincipal",
            "replaceServicePrincipal",
            "patchServicePrincipal",
            "deleteServicePrincipal",
        ),
    ] {
        let one = scim(&format!("/{path}/{{id}}"));
        ops.push(get(&scim(&format!("/{path}")), list, "SCIM").scim());
        ops.push(post(&scim(&format!("/{path}")), create, "SCIM").scim().ok_status(201));
        ops.push(get(&one, get_id, "SCIM").scim());
        ops.push(put(&one, replace, "SCIM").scim());
        ops.push(patch(&one, patch_id, "SCIM").scim());
        ops.push(delete(&one, delete_id, "SCIM").scim());
    }
    ops
}
