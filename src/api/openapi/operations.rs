//! One row per served operation: method, documented path, `operationId`, tag, and the types
//! of its query, body and answer. A route added to the route table without a row here fails
//! `api::openapi::tests::every_served_route_is_documented`.

use serde_json::{json, Value};

use super::{schemas, Op, Schemas};
use crate::api::access_control::{
    AssignableRoles, GrantRule, RolesQuery, RuleSetIn, RuleSetQuery, RuleSetResponse, UpdateRuleSet,
};
use crate::api::account::{MigrationRequest, PermissionAssignment, UpdateAssignment, WorkspaceInfo};
use crate::api::catalogs::{BrowseParams, CatalogInfo, ListParams};
use crate::api::explain::{ActionsParams, ExplainParams};
use crate::api::external_locations::ExternalLocationInfo;
use crate::api::files::{ListFilesParams, ListFilesResponse};
use crate::api::fs::ListParams as DirectoryListParams;
use crate::api::fs::{DirectoryContents, InitiateUpload, UploadParams};
use crate::api::functions::ListFunctionsParams;
use crate::api::host_metadata::HostMetadata;
use crate::api::metastores::ForceOpts;
use crate::api::metastores::{
    AssignmentBody, ListMetastoresParams, MetastoreAssignment, MetastoreInfo, UnassignParams,
};
use crate::api::oauth::{CreateSecret, ListQuery as SecretsQuery, SecretInfo};
use crate::api::partner_connect::{ConnectorsParams, DeleteAccountBody, ExpireAccountBody};
use crate::api::permissions::{GetParams, PermissionsList, ReplacePermissions, UpdatePermissions};
use crate::api::providers::{ListProvidersParams, ProviderInfo, ProviderShare};
use crate::api::recipients::{ListRecipientsParams, RecipientInfo, ShareToPrivilegeAssignment};
use crate::api::schemas::{ListSchemasParams, SchemaInfo};
use crate::api::shares::{GetShareParams, PageParams, ShareInfo};
use crate::api::storage_credentials::{StorageCredentialInfo, ValidateResponse};
use crate::api::tables::{ListTablesParams, SummariesBody, SummariesRequest, TableExists, TableInfo};
use crate::api::temporary_credentials::{PathQuery, PathRequest, TableRequest, TemporaryCredentials, VolumeRequest};
use crate::api::tokens::{CreateOboToken, CreateToken, DeleteToken, PublicTokenInfo, TokenInfo};
use crate::api::user_info::ForAccountLevel;
use crate::api::volumes::{ListVolumesParams, VolumeInfo};
use crate::api::warehouses::WarehouseInfo;
use crate::api::workspace_permissions::{ObjectPermissions, PermissionsDescription};
use crate::ops::catalogs::{CreateCatalog, UpdateCatalog};
use crate::ops::external_locations::{CreateExternalLocation, UpdateExternalLocation};
use crate::ops::functions::{CreateFunction, UpdateFunction};
use crate::ops::metastores::{CreateMetastore, UpdateMetastore};
use crate::ops::permissions::EffectiveAssignment;
use crate::ops::providers::{CreateProvider, UpdateProvider};
use crate::ops::recipients::{CreateRecipient, RotateToken, UpdateRecipient};
use crate::ops::schemas::{CreateSchema, UpdateSchema};
use crate::ops::shares::{CreateShare, UpdateShare};
use crate::ops::storage_credentials::{CreateStorageCredential, UpdateStorageCredential, ValidateStorageCredential};
use crate::ops::tables::{CreateTable, TableSummary, UpdateTable};
use crate::ops::temporary_credentials::{PATH_OPERATIONS, TABLE_OPERATIONS, VOLUME_OPERATIONS};
use crate::ops::volumes::{CreateVolume, UpdateVolume};
use crate::ops::workspace_acls::PermissionsRequest;
use crate::partner_connect::requests::ConnectBody;
use crate::partner_connect::ConnectionInfo;

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
    (
        "Recipient activation",
        "Public Delta Sharing activation: the activation page, its info, and the one-time credential download.",
    ),
    (
        "Delta Sharing",
        "The Delta Sharing open protocol for recipients (recipient bearer tokens; errors also carry `errorCode`), \
         and the pre-signed file URLs it hands out.",
    ),
    ("SCIM", "Users, groups and service principals (SCIM 2.0)."),
    ("Tokens", "The caller's own personal access tokens."),
    (
        "Token management",
        "Every token of the workspace (workspace admins), and tokens on behalf of service principals.",
    ),
    ("Workspace permissions", "Access control lists of workspace objects (tokens, SQL warehouses)."),
    ("SQL warehouses", "The emulated SQL warehouses (read-only)."),
    ("Partner Connect", "Partner Connect: registering partners and connecting them to the workspace."),
    ("Account SCIM", "The account's users, groups and service principals (SCIM 2.0, account admins)."),
    ("Account", "The account's workspaces and who is assigned to them; permission migration."),
    ("Account access control", "Assignable roles and rule sets (account API and workspace proxy)."),
    ("Account Unity Catalog", "Metastores, metastore assignments and storage credentials through the account API."),
    ("OAuth", "Service principal secrets, and the OAuth discovery and token endpoints (machine-to-machine)."),
    ("Host metadata", "What the host tells clients about itself."),
    ("Health", "Liveness of the server."),
    ("OpenAPI", "This document."),
];

const UC: &str = "/api/2.1/unity-catalog";

fn uc(p: &str) -> String {
    format!("{UC}{p}")
}

/// The Delta Sharing server's paths.
fn ds(p: &str) -> String {
    format!("/api/2.0/delta-sharing/metastores/{{metastore_id}}{p}")
}

/// A Delta Sharing list answer: `items` of objects with these string fields, `nextPageToken`.
fn ds_list(fields: &[&str]) -> Value {
    let props: serde_json::Map<String, Value> =
        fields.iter().map(|f| (f.to_string(), json!({"type": "string"}))).collect();
    json!({"type": "object", "properties": {
        "items": {"type": "array", "items": {"type": "object", "properties": props}},
        "nextPageToken": {"type": "string"}
    }})
}

fn int64() -> Value {
    json!({"type": "integer", "format": "int64"})
}

/// `{"<key>": [EffectivePrivilegeAssignment], "next_page_token"}`.
fn effective_list(name: &str, key: &str, s: &mut Schemas) -> Value {
    let item = s.of::<EffectiveAssignment>();
    s.named(
        name,
        json!({"type": "object", "properties": {
            key: {"type": "array", "items": item},
            "next_page_token": {"type": "string"}
        }}),
    )
}

/// The `{}` answer.
fn empty() -> Value {
    json!({"type": "object", "additionalProperties": false})
}

pub(super) fn all(s: &mut Schemas) -> Vec<Op> {
    let get = |p: &str, id: &'static str, tag: &'static str| Op::new("GET", p.to_string(), id, tag);
    let post = |p: &str, id: &'static str, tag: &'static str| Op::new("POST", p.to_string(), id, tag);
    let put = |p: &str, id: &'static str, tag: &'static str| Op::new("PUT", p.to_string(), id, tag);
    let patch = |p: &str, id: &'static str, tag: &'static str| Op::new("PATCH", p.to_string(), id, tag);
    let delete = |p: &str, id: &'static str, tag: &'static str| Op::new("DELETE", p.to_string(), id, tag);
    let head = |p: &str, id: &'static str, tag: &'static str| Op::new("HEAD", p.to_string(), id, tag);

    // FunctionInfo: the stored CreateFunction fields and the server's own.
    let function_info = s.extended::<CreateFunction>(
        "FunctionInfo",
        json!({
            "full_name": {"type": "string"},
            "function_id": {"type": "string"},
            "metastore_id": {"type": "string"},
            "owner": {"type": "string"},
            "created_at": {"type": "integer", "format": "int64"},
            "created_by": {"type": "string"},
            "updated_at": {"type": "integer", "format": "int64"},
            "updated_by": {"type": "string"},
            "browse_only": {"type": "boolean"}
        }),
        &["name", "catalog_name", "schema_name", "full_name", "function_id", "owner"],
    );
    let function_list = {
        let mut l = json!({"type": "object", "properties": {
            "functions": {"type": "array", "items": function_info.clone()},
            "next_page_token": {"type": "string"}
        }, "additionalProperties": false});
        l["properties"]["functions"]["items"] = function_info.clone();
        l
    };
    let create_function = {
        let inner = s.of::<CreateFunction>();
        s.named(
            "CreateFunctionRequest",
            json!({"type": "object", "description": "The SDK's wrapper; a bare CreateFunction is accepted too.",
                   "properties": {"function_info": inner}}),
        )
    };

    let partner_info = schemas::partner_info(s);
    let partner_status = schemas::partner_status(s);
    let connection = s.of::<ConnectionInfo>();

    // The Delta Sharing credential profile file.
    let profile = json!({"type": "object", "properties": {
        "shareCredentialsVersion": {"type": "integer"},
        "bearerToken": {"type": "string"},
        "endpoint": {"type": "string"},
        "expirationTime": {"type": "string"}
    }});

    // One body type, two operations: a create names the metastore, an update may leave it out.
    let assignment = s.of::<AssignmentBody>();
    s.format(&assignment, "metastore_id", "uuid");
    let create_assignment = s.copy(&assignment, "CreateMetastoreAssignment");
    s.require(&create_assignment, &["metastore_id"]);

    let mut ops = vec![
        // Metastores
        get(&uc("/metastores"), "listMetastores", "Metastores")
            .query::<ListMetastoresParams>()
            .ok(s.list::<MetastoreInfo>("metastores")),
        post(&uc("/metastores"), "createMetastore", "Metastores")
            .body(s.of::<CreateMetastore>(), true)
            .ok(s.of::<MetastoreInfo>()),
        get(&uc("/metastores/{id}"), "getMetastore", "Metastores").ok(s.of::<MetastoreInfo>()),
        patch(&uc("/metastores/{id}"), "updateMetastore", "Metastores")
            .body(s.of::<UpdateMetastore>(), false)
            .ok(s.of::<MetastoreInfo>()),
        delete(&uc("/metastores/{id}"), "deleteMetastore", "Metastores").query::<ForceOpts>().ok(empty()),
        get(&uc("/metastore_summary"), "getMetastoreSummary", "Metastores").ok(s.of::<MetastoreInfo>()),
        get(&uc("/current-metastore-assignment"), "getCurrentMetastoreAssignment", "Metastores")
            .ok(s.of::<MetastoreAssignment>()),
        put(&uc("/workspaces/{workspace_id}/metastore"), "createMetastoreAssignment", "Metastores")
            .path_type("workspace_id", int64())
            .body(create_assignment, true)
            .ok(empty()),
        patch(&uc("/workspaces/{workspace_id}/metastore"), "updateMetastoreAssignment", "Metastores")
            .path_type("workspace_id", int64())
            .body(assignment, false)
            .ok(empty()),
        delete(&uc("/workspaces/{workspace_id}/metastore"), "deleteMetastoreAssignment", "Metastores")
            .path_type("workspace_id", int64())
            .query::<UnassignParams>()
            .param_schema("metastore_id", json!({"type": "string", "format": "uuid"}))
            .body(
                json!({"type": "object", "description": "the metastore_id may come here instead of the query",
                       "properties": {"metastore_id": {"type": "string", "format": "uuid"}}}),
                false,
            )
            .ok(empty()),
        // Storage credentials, external locations, files
        get(&uc("/storage-credentials"), "listStorageCredentials", "Storage credentials")
            .query::<ListParams>()
            .ok(s.list::<StorageCredentialInfo>("storage_credentials")),
        post(&uc("/storage-credentials"), "createStorageCredential", "Storage credentials")
            .body(s.of::<CreateStorageCredential>(), true)
            .ok(s.of::<StorageCredentialInfo>()),
        get(&uc("/storage-credentials/{name}"), "getStorageCredential", "Storage credentials")
            .ok(s.of::<StorageCredentialInfo>()),
        patch(&uc("/storage-credentials/{name}"), "updateStorageCredential", "Storage credentials")
            .body(s.of::<UpdateStorageCredential>(), false)
            .ok(s.of::<StorageCredentialInfo>()),
        delete(&uc("/storage-credentials/{name}"), "deleteStorageCredential", "Storage credentials")
            .query::<ForceOpts>()
            .ok(empty()),
        post(&uc("/validate-storage-credentials"), "validateStorageCredential", "Storage credentials")
            .body(s.of::<ValidateStorageCredential>(), true)
            .ok(s.of::<ValidateResponse>()),
        get(&uc("/external-locations"), "listExternalLocations", "External locations")
            .query::<ListParams>()
            .ok(s.list::<ExternalLocationInfo>("external_locations")),
        post(&uc("/external-locations"), "createExternalLocation", "External locations")
            .body(s.of::<CreateExternalLocation>(), true)
            .ok(s.of::<ExternalLocationInfo>()),
        get(&uc("/external-locations/{name}"), "getExternalLocation", "External locations")
            .ok(s.of::<ExternalLocationInfo>()),
        patch(&uc("/external-locations/{name}"), "updateExternalLocation", "External locations")
            .body(s.of::<UpdateExternalLocation>(), false)
            .ok(s.of::<ExternalLocationInfo>()),
        delete(&uc("/external-locations/{name}"), "deleteExternalLocation", "External locations")
            .query::<ForceOpts>()
            .ok(empty()),
        get(&uc("/files"), "listFiles", "Files")
            .query::<ListFilesParams>()
            .required(&["url"])
            .ok(s.of::<ListFilesResponse>()),
        // Catalogs, schemas, tables
        get(&uc("/catalogs"), "listCatalogs", "Catalogs").query::<ListParams>().ok(s.list::<CatalogInfo>("catalogs")),
        post(&uc("/catalogs"), "createCatalog", "Catalogs")
            .body(s.of::<CreateCatalog>(), true)
            .ok(s.of::<CatalogInfo>()),
        get(&uc("/catalogs/{name}"), "getCatalog", "Catalogs").query::<BrowseParams>().ok(s.of::<CatalogInfo>()),
        patch(&uc("/catalogs/{name}"), "updateCatalog", "Catalogs")
            .body(s.of::<UpdateCatalog>(), false)
            .ok(s.of::<CatalogInfo>()),
        delete(&uc("/catalogs/{name}"), "deleteCatalog", "Catalogs").query::<ForceOpts>().ok(empty()),
        get(&uc("/schemas"), "listSchemas", "Schemas")
            .query::<ListSchemasParams>()
            .query::<ListParams>()
            .required(&["catalog_name"])
            .ok(s.list::<SchemaInfo>("schemas")),
        post(&uc("/schemas"), "createSchema", "Schemas").body(s.of::<CreateSchema>(), true).ok(s.of::<SchemaInfo>()),
        get(&uc("/schemas/{full_name}"), "getSchema", "Schemas").query::<BrowseParams>().ok(s.of::<SchemaInfo>()),
        patch(&uc("/schemas/{full_name}"), "updateSchema", "Schemas")
            .body(s.of::<UpdateSchema>(), false)
            .ok(s.of::<SchemaInfo>()),
        delete(&uc("/schemas/{full_name}"), "deleteSchema", "Schemas").query::<ForceOpts>().ok(empty()),
        get(&uc("/tables"), "listTables", "Tables")
            .query::<ListTablesParams>()
            .query::<ListParams>()
            .required(&["catalog_name", "schema_name"])
            .ok(s.list::<TableInfo>("tables")),
        post(&uc("/tables"), "createTable", "Tables").body(s.of::<CreateTable>(), true).ok(s.of::<TableInfo>()),
        get(&uc("/tables/{full_name}"), "getTable", "Tables").query::<BrowseParams>().ok(s.of::<TableInfo>()),
        patch(&uc("/tables/{full_name}"), "updateTable", "Tables")
            .body(s.of::<UpdateTable>(), false)
            .ok(s.of::<TableInfo>()),
        delete(&uc("/tables/{full_name}"), "deleteTable", "Tables").ok(empty()),
        get(&uc("/tables/{full_name}/exists"), "tableExists", "Tables").ok(s.of::<TableExists>()),
        get(&uc("/table-summaries"), "listTableSummaries", "Tables")
            .query::<SummariesRequest>()
            .required(&["catalog_name"])
            .ok(s.list::<TableSummary>("tables")),
        post(&uc("/table-summaries"), "queryTableSummaries", "Tables")
            .body(s.of::<SummariesBody>(), true)
            .ok(s.list::<TableSummary>("tables")),
        // Volumes and functions
        get(&uc("/volumes"), "listVolumes", "Volumes")
            .query::<ListVolumesParams>()
            .query::<ListParams>()
            .required(&["catalog_name", "schema_name"])
            .ok(s.list::<VolumeInfo>("volumes")),
        post(&uc("/volumes"), "createVolume", "Volumes").body(s.of::<CreateVolume>(), true).ok(s.of::<VolumeInfo>()),
        get(&uc("/volumes/{full_name}"), "readVolume", "Volumes").query::<BrowseParams>().ok(s.of::<VolumeInfo>()),
        patch(&uc("/volumes/{full_name}"), "updateVolume", "Volumes")
            .body(s.of::<UpdateVolume>(), false)
            .ok(s.of::<VolumeInfo>()),
        delete(&uc("/volumes/{full_name}"), "deleteVolume", "Volumes").ok(empty()),
        get(&uc("/functions"), "listFunctions", "Functions")
            .query::<ListFunctionsParams>()
            .query::<ListParams>()
            .required(&["catalog_name", "schema_name"])
            .ok(function_list),
        post(&uc("/functions"), "createFunction", "Functions").body(create_function, true).ok(function_info.clone()),
        get(&uc("/functions/{full_name}"), "getFunction", "Functions")
            .query::<BrowseParams>()
            .ok(function_info.clone()),
        patch(&uc("/functions/{full_name}"), "updateFunction", "Functions")
            .body(s.of::<UpdateFunction>(), true)
            .ok(function_info),
        delete(&uc("/functions/{full_name}"), "deleteFunction", "Functions").query::<ForceOpts>().ok(empty()),
        // Files API
        get("/api/2.0/fs/files{file_path}", "download", "Files API")
            .ok_media("application/octet-stream")
            .also_ok(206)
            .also(&[412, 416]),
        head("/api/2.0/fs/files{file_path}", "getMetadata", "Files API"),
        put("/api/2.0/fs/files{file_path}", "upload", "Files API")
            .query::<UploadParams>()
            .ignores("action")
            .bytes_body()
            .ok_status(204),
        delete("/api/2.0/fs/files{file_path}", "deleteFile", "Files API").ok_status(204),
        post("/api/2.0/fs/files{file_path}", "initiateUpload", "Files API")
            .query::<UploadParams>()
            .required(&["action"])
            .param_schema("action", json!({"type": "string", "enum": ["initiate-upload", "abort-upload"]}))
            .ok(json!({"oneOf": [s.of::<InitiateUpload>(), empty()]})),
        get("/api/2.0/fs/directories{directory_path}", "listDirectoryContents", "Files API")
            .query::<DirectoryListParams>()
            .ok(s.of::<DirectoryContents>()),
        head("/api/2.0/fs/directories{directory_path}", "getDirectoryMetadata", "Files API"),
        put("/api/2.0/fs/directories{directory_path}", "createDirectory", "Files API").ok_status(204),
        delete("/api/2.0/fs/directories{directory_path}", "deleteDirectory", "Files API").ok_status(204),
        // Permissions
        get(&uc("/permissions/{securable_type}/{full_name}"), "getPermissions", "Permissions")
            .query::<GetParams>()
            .ok(s.of::<PermissionsList>()),
        patch(&uc("/permissions/{securable_type}/{full_name}"), "updatePermissions", "Permissions")
            .body(s.of::<UpdatePermissions>(), true)
            .ok(json!({"oneOf": [s.of::<PermissionsList>(), empty()]})),
        put(&uc("/permissions/{securable_type}/{full_name}"), "replacePermissions", "Permissions")
            .body(s.of::<ReplacePermissions>(), false)
            .ok(empty()),
        get(&uc("/effective-permissions/{securable_type}/{full_name}"), "getEffectivePermissions", "Permissions")
            .query::<GetParams>()
            .ok(effective_list("EffectivePermissionsList", "privilege_assignments", s)),
        get(&uc("/privilege-assignments/{securable_type}/{full_name}"), "listPrivilegeAssignments", "Permissions")
            .query::<GetParams>()
            .ok(s.of::<PermissionsList>()),
        get(
            &uc("/effective-privilege-assignments/{securable_type}/{full_name}"),
            "listEffectivePrivilegeAssignments",
            "Permissions",
        )
        .query::<GetParams>()
        .ok(effective_list("ListEffectivePrivilegeAssignmentsResponse", "effective_privilege_assignments", s)),
        // Explain, user info
        get(&uc("/explain"), "explain", "Explain")
            .query::<ExplainParams>()
            .required(&["action", "securable_type"])
            .ok(schemas::explanation(s)),
        get(&uc("/explain/actions"), "listExplainActions", "Explain")
            .query::<ActionsParams>()
            .ok(schemas::explain_actions(s)),
        get(&uc("/user-info/me"), "getMyInfo", "User info").query::<ForAccountLevel>().ok(s.named(
            "MyInfo",
            json!({"type": "object", "required": ["is_metastore_admin"], "properties": {"is_metastore_admin": {"type": "boolean"}}}),
        )),
        get(&uc("/user-info/my-groups"), "getMyGroups", "User info").query::<ForAccountLevel>().ok(s.named(
            "MyGroups",
            json!({"type": "object", "required": ["group_name", "group_names"], "properties": {
                "group_name": {"type": "array", "items": {"type": "string"}},
                "group_names": {"type": "array", "items": {"type": "string"}}
            }}),
        )),
        // Delta Sharing
        get(&uc("/shares"), "listShares", "Shares").query::<PageParams>().ok(s.list::<ShareInfo>("shares")),
        post(&uc("/shares"), "createShare", "Shares").body(s.of::<CreateShare>(), true).ok(s.of::<ShareInfo>()),
        get(&uc("/shares/{name}"), "getShare", "Shares").query::<GetShareParams>().ok(s.of::<ShareInfo>()),
        patch(&uc("/shares/{name}"), "updateShare", "Shares").body(s.of::<UpdateShare>(), false).ok(s.of::<ShareInfo>()),
        delete(&uc("/shares/{name}"), "deleteShare", "Shares").ok(empty()),
        get(&uc("/shares/{name}/permissions"), "getSharePermissions", "Shares")
            .query::<GetParams>()
            .ok(s.of::<PermissionsList>()),
        patch(&uc("/shares/{name}/permissions"), "updateSharePermissions", "Shares")
            .body(s.of::<UpdatePermissions>(), true)
            .ok(json!({"oneOf": [s.of::<PermissionsList>(), empty()]})),
        get(&uc("/recipients"), "listRecipients", "Recipients")
            .query::<PageParams>()
            .query::<ListRecipientsParams>()
            .ok(s.list::<RecipientInfo>("recipients")),
        post(&uc("/recipients"), "createRecipient", "Recipients").body(s.of::<CreateRecipient>(), true).ok(s.of::<RecipientInfo>()),
        get(&uc("/recipients/{name}"), "getRecipient", "Recipients").ok(s.of::<RecipientInfo>()),
        patch(&uc("/recipients/{name}"), "updateRecipient", "Recipients")
            .body(s.of::<UpdateRecipient>(), false)
            .ok(s.of::<RecipientInfo>()),
        delete(&uc("/recipients/{name}"), "deleteRecipient", "Recipients").ok(empty()),
        post(&uc("/recipients/{name}/rotate-token"), "rotateRecipientToken", "Recipients")
            .body(s.of::<RotateToken>(), true)
            .ok(s.of::<RecipientInfo>()),
        get(&uc("/recipients/{name}/share-permissions"), "getRecipientSharePermissions", "Recipients")
            .query::<PageParams>()
            .ok(s.list::<ShareToPrivilegeAssignment>("permissions_out")),
        get(&uc("/providers"), "listProviders", "Providers")
            .query::<PageParams>()
            .query::<ListProvidersParams>()
            .ok(s.list::<ProviderInfo>("providers")),
        post(&uc("/providers"), "createProvider", "Providers").body(s.of::<CreateProvider>(), true).ok(s.of::<ProviderInfo>()),
        get(&uc("/providers/{name}"), "getProvider", "Providers").ok(s.of::<ProviderInfo>()),
        patch(&uc("/providers/{name}"), "updateProvider", "Providers").body(s.of::<UpdateProvider>(), false).ok(s.of::<ProviderInfo>()),
        delete(&uc("/providers/{name}"), "deleteProvider", "Providers").ok(empty()),
        get(&uc("/providers/{name}/shares"), "listProviderShares", "Providers")
            .query::<PageParams>()
            .ok(s.list::<ProviderShare>("shares")),
        // Tokens and token management
        post("/api/2.0/token/create", "createToken", "Tokens")
            .body(s.of::<CreateToken>(), false)
            .ok(schemas::token_created::<PublicTokenInfo>(s, "CreateTokenResponse")),
        get("/api/2.0/token/list", "listTokens", "Tokens").ok(schemas::token_list::<PublicTokenInfo>(s, "ListPublicTokensResponse")),
        post("/api/2.0/token/delete", "deleteToken", "Tokens").body(s.of::<DeleteToken>(), true).ok(empty()),
        get("/api/2.0/token-management/tokens", "listWorkspaceTokens", "Token management")
            .query::<crate::api::tokens::ListParams>()
            .ok(schemas::token_list::<TokenInfo>(s, "ListTokensResponse")),
        get("/api/2.0/token-management/tokens/{token_id}", "getWorkspaceToken", "Token management").ok({
            let info = s.of::<TokenInfo>();
            s.named("GetTokenResponse", json!({"type": "object", "required": ["token_info"], "properties": {"token_info": info}}))
        }),
        delete("/api/2.0/token-management/tokens/{token_id}", "deleteWorkspaceToken", "Token management").ok(empty()),
        post("/api/2.0/token-management/on-behalf-of/tokens", "createOboToken", "Token management")
            .body(s.of::<CreateOboToken>(), true)
            .ok(schemas::token_created::<TokenInfo>(s, "CreateOboTokenResponse")),
        // Workspace object permissions, SQL warehouses
        get("/api/2.0/permissions/{request_object_type}/{request_object_id}", "getObjectPermissions", "Workspace permissions")
            .ok(s.of::<ObjectPermissions>()),
        put("/api/2.0/permissions/{request_object_type}/{request_object_id}", "setObjectPermissions", "Workspace permissions")
            .body(s.of::<PermissionsRequest>(), false)
            .ok(s.of::<ObjectPermissions>()),
        patch(
            "/api/2.0/permissions/{request_object_type}/{request_object_id}",
            "updateObjectPermissions",
            "Workspace permissions",
        )
        .body(s.of::<PermissionsRequest>(), false)
        .ok(s.of::<ObjectPermissions>()),
        get(
            "/api/2.0/permissions/{request_object_type}/{request_object_id}/permissionLevels",
            "getObjectPermissionLevels",
            "Workspace permissions",
        )
        .ok({
            let level = s.of::<PermissionsDescription>();
            s.named(
                "GetPermissionLevelsResponse",
                json!({"type": "object", "required": ["permission_levels"],
                       "properties": {"permission_levels": {"type": "array", "items": level}}}),
            )
        }),
        get("/api/2.0/sql/warehouses", "listWarehouses", "SQL warehouses").ok({
            let w = s.of::<WarehouseInfo>();
            s.named(
                "ListWarehousesResponse",
                json!({"type": "object", "required": ["warehouses"], "properties": {"warehouses": {"type": "array", "items": w}}}),
            )
        }),
        get("/api/2.0/sql/warehouses/{id}", "getWarehouse", "SQL warehouses").ok(s.of::<WarehouseInfo>()),
        // Partner Connect
        post("/api/2.0/partner-connect/partners", "registerPartner", "Partner Connect")
            .body(json!({"type": "object", "properties": {
                "config": {"type": "object"},
                "basic_auth": {"type": "object", "properties": {"username": {"type": "string"}, "password": {"type": "string"}}},
                "options": {"type": "object", "properties": {
                    "timeout_ms": {"type": "integer"}, "max_retries": {"type": "integer"}, "retry_backoff_ms": {"type": "integer"}
                }}
            }}), true)
            .ok(partner_info.clone()),
        get("/api/2.0/partner-connect/partners", "listPartners", "Partner Connect").ok(json!({
            "type": "object", "required": ["partners"],
            "properties": {"partners": {"type": "array", "items": partner_info.clone()}}
        })),
        get("/api/2.0/partner-connect/partners/{partner_id}", "getPartner", "Partner Connect").ok(partner_info),
        delete("/api/2.0/partner-connect/partners/{partner_id}", "deletePartner", "Partner Connect").ok(empty()),
        post("/api/2.0/partner-connect/partners/{partner_id}/delete-account", "deletePartnerAccount", "Partner Connect")
            .body(s.of::<DeleteAccountBody>(), true)
            .ok(partner_status.clone())
            .also(&[502, 504]),
        post("/api/2.0/partner-connect/partners/{partner_id}/expire-account", "expirePartnerAccount", "Partner Connect")
            .body(s.of::<ExpireAccountBody>(), true)
            .ok(partner_status)
            .also(&[502, 504]),
        get("/api/2.0/partner-connect/partners/{partner_id}/connectors", "listPartnerConnectors", "Partner Connect")
            .query::<ConnectorsParams>()
            .ok(json!({"type": "object", "properties": {
                "connectors": {"description": "the partner's connectors, as it answered them"},
                "next_page_token": {"type": "string"}
            }}))
            .also(&[502, 504]),
        post("/api/2.0/partner-connect/connections", "connectPartner", "Partner Connect")
            .body(s.of::<ConnectBody>(), true)
            .ok(json!({"type": "object", "required": ["flow", "connection", "partner_response"], "properties": {
                "flow": {"type": "string", "enum": ["NEW_CONNECTION", "SIGN_IN"]},
                "connection": {"oneOf": [{"type": "null"}, connection.clone()]},
                "partner_response": {"type": "object", "properties": {
                    "status_code": {"type": "integer"},
                    "body": {"description": "the partner's answer"}
                }}
            }}))
            .also(&[502, 504]),
        get("/api/2.0/partner-connect/connections", "listPartnerConnections", "Partner Connect").ok(json!({
            "type": "object", "required": ["connections"],
            "properties": {"connections": {"type": "array", "items": connection.clone()}}
        })),
        get("/api/2.0/partner-connect/connections/{id}", "getPartnerConnection", "Partner Connect").ok(connection),
        post("/api/2.0/partner-connect/connections/{id}/test", "testPartnerConnection", "Partner Connect")
            .ok(json!({"type": "object", "properties": {
                "test_results": {"description": "the partner's test results"},
                "partner_status": {"type": "integer"}
            }}))
            .also(&[502, 504]),
        delete("/api/2.0/partner-connect/connections/{id}", "deletePartnerConnection", "Partner Connect")
            .ok(json!({"type": "object", "required": ["partner_notification"], "properties": {
                "partner_notification": {"type": "object", "required": ["status"], "properties": {
                    "status": {"type": "string", "enum": ["OK", "SKIPPED", "FAILED"]},
                    "partner_status": {"type": "integer"},
                    "resource_status": {},
                    "error_code": {"type": "string"},
                    "message": {"type": "string"}
                }, "additionalProperties": true}
            }}))
            .also(&[502, 504]),
        // Delta Sharing, the recipient's side
        get("/delta_sharing/retrieve_config.html", "getActivationPage", "Recipient activation")
            .public()
            .ok_media("text/html"),
        get(
            &uc("/public/data_sharing_activation_info/{activation_url}"),
            "getActivationUrlInfo",
            "Recipient activation",
        )
        .public()
        .also(&[403])
        .ok(empty()),
        get(&uc("/public/data_sharing_activation/{activation_url}"), "retrieveToken", "Recipient activation")
            .public()
            .also(&[403])
            .ok(profile.clone()),
        get(
            "/api/2.0/unity-catalog/public/data_sharing_activation_info/{activation_url}",
            "getActivationUrlInfo2_0",
            "Recipient activation",
        )
        .public()
        .also(&[403])
        .ok(empty()),
        get(
            "/api/2.0/unity-catalog/public/data_sharing_activation/{activation_url}",
            "retrieveToken2_0",
            "Recipient activation",
        )
        .public()
        .also(&[403])
        .ok(profile),
        get(&ds("/shares"), "deltaSharingListShares", "Delta Sharing")
            .sharing()
            .ok(ds_list(&["name", "id"]))
            .param("maxResults", json!({"type": "integer"}), false, "page size (500 by default, 1000 at most)")
            .param("pageToken", json!({"type": "string"}), false, ""),
        get(&ds("/shares/{share}"), "deltaSharingGetShare", "Delta Sharing")
            .sharing().ok(json!({"type": "object",
            "properties": {"share": {"type": "object", "properties": {"name": {"type": "string"}, "id": {"type": "string"}}}}})),
        get(&ds("/shares/{share}/schemas"), "deltaSharingListSchemas", "Delta Sharing")
            .sharing()
            .ok(ds_list(&["name", "share"]))
            .param("maxResults", json!({"type": "integer"}), false, "")
            .param("pageToken", json!({"type": "string"}), false, ""),
        get(&ds("/shares/{share}/schemas/{schema}/tables"), "deltaSharingListTables", "Delta Sharing")
            .sharing()
            .ok(ds_list(&["name", "schema", "share", "shareId", "id"]))
            .param("maxResults", json!({"type": "integer"}), false, "")
            .param("pageToken", json!({"type": "string"}), false, ""),
        get(&ds("/shares/{share}/all-tables"), "deltaSharingListAllTables", "Delta Sharing")
            .sharing()
            .ok(ds_list(&["name", "schema", "share", "shareId", "id"]))
            .param("maxResults", json!({"type": "integer"}), false, "")
            .param("pageToken", json!({"type": "string"}), false, ""),
        head(&ds("/shares/{share}/schemas/{schema}/tables/{table}"), "deltaSharingHeadTableVersion", "Delta Sharing")
            .sharing(),
        get(
            &ds("/shares/{share}/schemas/{schema}/tables/{table}/version"),
            "deltaSharingGetTableVersion",
            "Delta Sharing",
        )
            .sharing()
        .ok_media("text/plain")
        .param("startingTimestamp", json!({"type": "string"}), false, "ISO 8601 instant"),
        get(
            &ds("/shares/{share}/schemas/{schema}/tables/{table}/metadata"),
            "deltaSharingGetTableMetadata",
            "Delta Sharing",
        )
            .sharing()
        .ok_media("application/x-ndjson")
        .param("version", json!({"type": "integer"}), false, "")
        .param("timestamp", json!({"type": "string"}), false, ""),
        post(&ds("/shares/{share}/schemas/{schema}/tables/{table}/query"), "deltaSharingQueryTable", "Delta Sharing")
            .sharing()
            .ok_media("application/x-ndjson")
            .body(json!({"type": "object"}), false),
        get(
            &ds("/shares/{share}/schemas/{schema}/tables/{table}/changes"),
            "deltaSharingGetTableChanges",
            "Delta Sharing",
        )
            .sharing()
        .ok_media("application/x-ndjson")
        .param("startingVersion", json!({"type": "integer"}), false, "")
        .param("startingTimestamp", json!({"type": "string"}), false, "")
        .param("endingVersion", json!({"type": "integer"}), false, "")
        .param("endingTimestamp", json!({"type": "string"}), false, "")
        .param("includeHistoricalMetadata", json!({"type": "boolean"}), false, ""),
        get("/delta-sharing/presigned/{key}", "getPresignedFile", "Delta Sharing")
            .public()
            .ok_media("application/octet-stream")
            .also(&[403, 416]),
        head("/delta-sharing/presigned/{key}", "headPresignedFile", "Delta Sharing").public().also(&[403, 416]),
        // Host metadata, health, this document
        get("/.well-known/databricks-config", "getHostMetadata", "Host metadata").public().ok(s.of::<HostMetadata>()),
        get("/healthz", "healthz", "Health").public().ok(s.named(
            "Health",
            json!({"type": "object", "required": ["status"], "properties": {"status": {"const": "ok"}}}),
        )),
        get(super::PATH, "getOpenApiDocument", "OpenAPI").public().ok(json!({"type": "object", "additionalProperties": true})),
        // Temporary credentials: the OSS paths and the hosted ones (fields in the body or the query).
        post(&uc("/temporary-table-credentials"), "generateTemporaryTableCredentials", "Temporary credentials")
            .query::<TableRequest>()
            .param_schema("table_id", json!({"type": "string", "format": "uuid"}))
            .param_schema("operation", json!({"type": "string", "enum": TABLE_OPERATIONS}))
        .param_schema("table_id", json!({"type": "string", "format": "uuid"}))
        .param_schema("operation", json!({"type": "string", "enum": TABLE_OPERATIONS}))
            .body(s.of::<TableRequest>(), false)
            .ok(s.of::<TemporaryCredentials>()),
        post(&uc("/temporary-path-credentials"), "generateTemporaryPathCredentials", "Temporary credentials")
            .query::<PathQuery>()
            .param_schema("operation", json!({"type": "string", "enum": PATH_OPERATIONS}))
            .param_schema("dry_run", json!({"type": "boolean"}))
        .param_schema("operation", json!({"type": "string", "enum": PATH_OPERATIONS}))
        .param_schema("dry_run", json!({"type": "boolean"}))
            .body(s.of::<PathRequest>(), false)
            .ok(s.of::<TemporaryCredentials>()),
        post(&uc("/temporary-volume-credentials"), "generateTemporaryVolumeCredentials", "Temporary credentials")
            .query::<VolumeRequest>()
            .param_schema("volume_id", json!({"type": "string", "format": "uuid"}))
            .param_schema("operation", json!({"type": "string", "enum": VOLUME_OPERATIONS}))
        .param_schema("volume_id", json!({"type": "string", "format": "uuid"}))
        .param_schema("operation", json!({"type": "string", "enum": VOLUME_OPERATIONS}))
            .body(s.of::<VolumeRequest>(), false)
            .ok(s.of::<TemporaryCredentials>()),
        post(
            "/api/2.0/unity-catalog/temporary-table-credentials",
            "generateTemporaryTableCredentialsHosted",
            "Temporary credentials",
        )
        .query::<TableRequest>()
        .param_schema("table_id", json!({"type": "string", "format": "uuid"}))
        .param_schema("operation", json!({"type": "string", "enum": TABLE_OPERATIONS}))
        .body(s.of::<TableRequest>(), false)
        .ok(s.of::<TemporaryCredentials>()),
        post(
            "/api/2.0/unity-catalog/temporary-path-credentials",
            "generateTemporaryPathCredentialsHosted",
            "Temporary credentials",
        )
        .query::<PathQuery>()
        .param_schema("operation", json!({"type": "string", "enum": PATH_OPERATIONS}))
        .param_schema("dry_run", json!({"type": "boolean"}))
        .body(s.of::<PathRequest>(), false)
        .ok(s.of::<TemporaryCredentials>()),
        post(
            "/api/2.0/unity-catalog/temporary-volume-credentials",
            "generateTemporaryVolumeCredentialsHosted",
            "Temporary credentials",
        )
        .query::<VolumeRequest>()
        .param_schema("volume_id", json!({"type": "string", "format": "uuid"}))
        .param_schema("operation", json!({"type": "string", "enum": VOLUME_OPERATIONS}))
        .body(s.of::<VolumeRequest>(), false)
        .ok(s.of::<TemporaryCredentials>()),
    ];

    // SCIM: the same six operations on three resource types.
    let scim = |p: &str| format!("/api/2.0/preview/scim/v2{p}");
    let user = schemas::scim_resource(s, "User");
    ops.push(get(&scim("/Me"), "getMe", "SCIM").scim().ok(user));
    let attributes = |op: Op| {
        op.param("attributes", json!({"type": "string"}), false, "comma-separated attributes to return").param(
            "excludedAttributes",
            json!({"type": "string"}),
            false,
            "comma-separated attributes to leave out",
        )
    };
    for (kind, path, list_name, [list, create, get_id, replace, patch_id, delete_id]) in [
        (
            "User",
            "Users",
            "ListUsersResponse",
            ["listUsers", "createUser", "getUser", "replaceUser", "patchUser", "deleteUser"],
        ),
        (
            "Group",
            "Groups",
            "ListGroupsResponse",
            ["listGroups", "createGroup", "getGroup", "replaceGroup", "patchGroup", "deleteGroup"],
        ),
        (
            "ServicePrincipal",
            "ServicePrincipals",
            "ListServicePrincipalResponse",
            [
                "listServicePrincipals",
                "createServicePrincipal",
                "getServicePrincipal",
                "replaceServicePrincipal",
                "patchServicePrincipal",
                "deleteServicePrincipal",
            ],
        ),
    ] {
        let resource = schemas::scim_resource(s, kind);
        let listed = schemas::scim_list(s, list_name, resource.clone());
        let body = schemas::scim_body(s, kind);
        let patch_body = schemas::scim_patch(s);
        // A service principal needs nothing: its application id is generated when not given.
        let body_required = kind != "ServicePrincipal";
        let one = scim(&format!("/{path}/{{id}}"));
        ops.push(scim_list_params(attributes(get(&scim(&format!("/{path}")), list, "SCIM").scim()), kind).ok(listed));
        ops.push(
            post(&scim(&format!("/{path}")), create, "SCIM")
                .scim()
                .body(body.clone(), body_required)
                .ok_status(201)
                .ok(resource.clone()),
        );
        ops.push(attributes(get(&one, get_id, "SCIM").scim()).ok(resource.clone()));
        ops.push(put(&one, replace, "SCIM").scim().body(body, body_required).ok(resource.clone()));
        ops.push(patch(&one, patch_id, "SCIM").scim().body(patch_body, true).ok(resource));
        ops.push(delete(&one, delete_id, "SCIM").scim().ok(empty()));
    }
    account_operations(s, &mut ops);
    ops
}

/// The query of a SCIM list (workspace and account alike).
fn scim_list_params(op: Op, kind: &str) -> Op {
    let sort_by = if kind == "User" { json!(["userName", "displayName"]) } else { json!(["displayName"]) };
    op.param(
        "filter",
        json!({"type": "string", "maxLength": crate::domain::scim_filter::MAX_CHARS}),
        false,
        "a SCIM filter (eq, ne, co, sw, ew, pr, gt, ge, lt, le, and, or, not)",
    )
    .param("startIndex", json!({"type": "integer", "minimum": 1}), false, "1-based index of the first result")
    .param("count", json!({"type": "integer", "minimum": 0}), false, "page size")
    .param("sortBy", json!({"type": "string", "enum": sort_by}), false, "")
    .param("sortOrder", json!({"type": "string", "enum": ["ascending", "descending"]}), false, "")
}

/// The account half: account SCIM, workspaces, workspace assignments, permission migration,
/// access control, service principal secrets, the OAuth endpoints and account Unity Catalog.
fn account_operations(s: &mut Schemas, ops: &mut Vec<Op>) {
    let get = |p: &str, id: &'static str, tag: &'static str| Op::new("GET", p.to_string(), id, tag);
    let post = |p: &str, id: &'static str, tag: &'static str| Op::new("POST", p.to_string(), id, tag);
    let put = |p: &str, id: &'static str, tag: &'static str| Op::new("PUT", p.to_string(), id, tag);
    let patch = |p: &str, id: &'static str, tag: &'static str| Op::new("PATCH", p.to_string(), id, tag);
    let delete = |p: &str, id: &'static str, tag: &'static str| Op::new("DELETE", p.to_string(), id, tag);
    let object = |props: Value| json!({"type": "object", "properties": props});
    let array = |items: Value| json!({"type": "array", "items": items});
    let string = || json!({"type": "string"});
    let acc = |p: &str| format!("/api/2.0/accounts/{{account_id}}{p}");
    let kinds: [(&str, &str, &str, [&'static str; 6]); 3] = [
        (
            "User",
            "Users",
            "ListUsersResponse",
            [
                "listAccountUsers",
                "createAccountUser",
                "getAccountUser",
                "replaceAccountUser",
                "patchAccountUser",
                "deleteAccountUser",
            ],
        ),
        (
            "Group",
            "Groups",
            "ListGroupsResponse",
            [
                "listAccountGroups",
                "createAccountGroup",
                "getAccountGroup",
                "replaceAccountGroup",
                "patchAccountGroup",
                "deleteAccountGroup",
            ],
        ),
        (
            "ServicePrincipal",
            "ServicePrincipals",
            "ListServicePrincipalResponse",
            [
                "listAccountServicePrincipals",
                "createAccountServicePrincipal",
                "getAccountServicePrincipal",
                "replaceAccountServicePrincipal",
                "patchAccountServicePrincipal",
                "deleteAccountServicePrincipal",
            ],
        ),
    ];
    for (kind, path, list_name, names) in kinds {
        let resource = schemas::scim_resource(s, kind);
        let listed = schemas::scim_list(s, list_name, resource.clone());
        let body = schemas::scim_body(s, kind);
        let patch_body = schemas::scim_patch(s);
        let all = acc(&format!("/scim/v2/{path}"));
        let one = acc(&format!("/scim/v2/{path}/{{id}}"));
        ops.push(scim_list_params(get(&all, names[0], "Account SCIM").scim(), kind).ok(listed));
        ops.push(
            post(&all, names[1], "Account SCIM")
                .scim()
                .body(body.clone(), kind != "ServicePrincipal")
                .ok_status(201)
                .ok(resource.clone()),
        );
        ops.push(get(&one, names[2], "Account SCIM").scim().ok(resource.clone()));
        ops.push(
            put(&one, names[3], "Account SCIM").scim().body(body, kind != "ServicePrincipal").ok(resource.clone()),
        );
        ops.push(patch(&one, names[4], "Account SCIM").scim().body(patch_body, true).ok(resource));
        ops.push(delete(&one, names[5], "Account SCIM").scim().ok(empty()));
    }
    let workspace = s.of::<WorkspaceInfo>();
    let assignment = s.of::<PermissionAssignment>();
    let levels = object(json!({"permissions": array(object(json!({
        "permission_level": string(), "description": string()
    })))}));
    let rule_set = s.of::<RuleSetResponse>();
    let roles = s.of::<AssignableRoles>();
    // `secret` only in the answer of a create.
    let secret_created = s.of::<SecretInfo>();
    let secrets = object(json!({"secrets": array(secret_created.clone()), "next_page_token": string()}));
    let discovery = object(json!({
        "issuer": string(), "token_endpoint": string(), "grant_types_supported": array(string()),
        "token_endpoint_auth_methods_supported": array(string()), "scopes_supported": array(string()),
        "response_types_supported": array(string()),
    }));
    let token = object(json!({
        "access_token": string(), "token_type": string(), "expires_in": int64(), "scope": string()
    }));
    let metastore = s.of::<MetastoreInfo>();
    let credential = s.of::<StorageCredentialInfo>();
    let metastore_info = object(json!({ "metastore_info": metastore.clone() }));
    let credential_info = object(json!({ "credential_info": credential.clone() }));
    let ms_assignment = object(json!({"metastore_assignment": object(json!({
        "workspace_id": int64(), "metastore_id": string(), "default_catalog_name": string()
    }))}));
    let assignments = "/workspaces/{workspace_id}/permissionassignments";
    let principal = format!("{assignments}/principals/{{principal_id}}");
    let secrets_path = "/servicePrincipals/{service_principal_id}/credentials/secrets";
    let secret_path = format!("{secrets_path}/{{secret_id}}");
    let proxy = |p: &str| format!("/api/2.0/accounts{p}");
    let ac = |p: &str| format!("/api/2.0/preview/accounts/{{account_id}}/access-control{p}");
    let ac_proxy = |p: &str| format!("/api/2.0/preview/accounts/access-control{p}");
    let uc_tag = "Account Unity Catalog";
    let ms_one = "/metastores/{metastore_id}";
    let ws_ms = "/workspaces/{workspace_id}/metastores/{metastore_id}";
    let creds = "/metastores/{metastore_id}/storage-credentials";
    let cred = "/metastores/{metastore_id}/storage-credentials/{name}";
    let token_request = s.named(
        "OAuthTokenRequest",
        json!({"type": "object", "required": ["grant_type"], "properties": {
            "grant_type": {"type": "string", "enum": ["client_credentials"]},
            "scope": {"type": "string"},
            "client_id": {"type": "string", "description": "when not sent with HTTP Basic authentication"},
            "client_secret": {"type": "string", "description": "when not sent with HTTP Basic authentication"}
        }}),
    );
    let migration = s.of::<MigrationRequest>();
    s.require(&migration, &["workspace_id", "from_workspace_group_name", "to_account_group_name"]);
    let update_rule_set = s.of::<UpdateRuleSet>();
    s.require(&update_rule_set, &["name", "rule_set"]);
    let rule_set_in = s.of::<RuleSetIn>();
    s.require(&rule_set_in, &["name", "etag"]);
    let grant_rule = s.of::<GrantRule>();
    s.require(&grant_rule, &["role"]);
    let create_secret = s.of::<CreateSecret>();
    let metastore_in = s.named(
        "CreateAccountsMetastore",
        json!({"type": "object", "required": ["name"], "properties": {
            "name": {"type": "string"},
            "storage_root": {"type": ["string", "null"]},
            "region": {"type": ["string", "null"]},
            "external_access_enabled": {"type": ["boolean", "null"]}
        }}),
    );
    let create_account_metastore = s.named(
        "AccountsCreateMetastore",
        json!({"type": "object", "required": ["metastore_info"], "properties": {"metastore_info": metastore_in}}),
    );
    let update = s.of::<UpdateMetastore>();
    let update_account_metastore =
        s.named("AccountsUpdateMetastore", json!({"type": "object", "properties": {"metastore_info": update}}));
    let account_assignment = s.named(
        "AccountsMetastoreAssignment",
        json!({"type": "object", "properties": {"metastore_assignment": {"type": "object", "properties": {
            "workspace_id": {"type": "integer", "format": "int64", "description": "must equal the path's"},
            "metastore_id": {"type": "string", "format": "uuid", "description": "must equal the path's"},
            "default_catalog_name": {"type": "string"}
        }}}}),
    );
    let create = s.of::<CreateStorageCredential>();
    let create_account_credential = s.named(
        "AccountsCreateStorageCredential",
        json!({"type": "object", "required": ["credential_info"], "properties": {"credential_info": create}}),
    );
    let update = s.of::<UpdateStorageCredential>();
    let update_account_credential = s
        .named("AccountsUpdateStorageCredential", json!({"type": "object", "properties": {"credential_info": update}}));
    ops.extend([
        get(&acc("/workspaces"), "listWorkspaces", "Account").ok(array(workspace.clone())),
        get(&acc("/workspaces/{workspace_id}"), "getWorkspace", "Account")
            .path_type("workspace_id", int64())
            .ok(workspace),
        get(&acc(assignments), "listWorkspaceAssignments", "Account")
            .path_type("workspace_id", int64())
            .ok(object(json!({ "permission_assignments": array(assignment.clone()) }))),
        get(&acc(&format!("{assignments}/permissions")), "getWorkspaceAssignmentLevels", "Account")
            .path_type("workspace_id", int64())
            .ok(levels),
        put(&acc(&principal), "updateWorkspaceAssignment", "Account")
            .path_type("workspace_id", int64())
            .path_type("principal_id", int64())
            .body(s.of::<UpdateAssignment>(), false)
            .ok(assignment),
        delete(&acc(&principal), "deleteWorkspaceAssignment", "Account")
            .path_type("workspace_id", int64())
            .path_type("principal_id", int64())
            .ok(empty()),
        post("/api/2.0/permissionmigration", "migratePermissions", "Account").body(migration, true).ok(empty()),
        get(&ac("/assignable-roles"), "getAssignableRolesForResource", "Account access control")
            .query::<RolesQuery>()
            .required(&["resource"])
            .ok(roles.clone()),
        get(&ac("/rule-sets"), "getRuleSet", "Account access control")
            .query::<RuleSetQuery>()
            .ignores("etag")
            .required(&["name"])
            .ok(rule_set.clone()),
        put(&ac("/rule-sets"), "updateRuleSet", "Account access control")
            .body(update_rule_set.clone(), true)
            .ok(rule_set.clone()),
        get(&ac_proxy("/assignable-roles"), "getAssignableRolesForResourceProxy", "Account access control")
            .query::<RolesQuery>()
            .required(&["resource"])
            .ok(roles),
        get(&ac_proxy("/rule-sets"), "getRuleSetProxy", "Account access control")
            .query::<RuleSetQuery>()
            .ignores("etag")
            .required(&["name"])
            .ok(rule_set.clone()),
        put(&ac_proxy("/rule-sets"), "updateRuleSetProxy", "Account access control")
            .body(update_rule_set, true)
            .ok(rule_set),
        post(&acc(secrets_path), "createServicePrincipalSecret", "OAuth")
            .path_type("service_principal_id", int64())
            .body(create_secret.clone(), false)
            .ok(secret_created.clone()),
        get(&acc(secrets_path), "listServicePrincipalSecrets", "OAuth")
            .path_type("service_principal_id", int64())
            .query::<SecretsQuery>()
            .ok(secrets.clone()),
        delete(&acc(&secret_path), "deleteServicePrincipalSecret", "OAuth")
            .path_type("service_principal_id", int64())
            .ok(empty()),
        post(&proxy(secrets_path), "createServicePrincipalSecretProxy", "OAuth")
            .path_type("service_principal_id", int64())
            .body(create_secret, false)
            .ok(secret_created),
        get(&proxy(secrets_path), "listServicePrincipalSecretsProxy", "OAuth")
            .path_type("service_principal_id", int64())
            .query::<SecretsQuery>()
            .ok(secrets),
        delete(&proxy(&secret_path), "deleteServicePrincipalSecretProxy", "OAuth")
            .path_type("service_principal_id", int64())
            .ok(empty()),
        get("/oidc/.well-known/oauth-authorization-server", "getOidcDiscovery", "OAuth").public().ok(discovery.clone()),
        get("/oidc/accounts/{account_id}/.well-known/oauth-authorization-server", "getAccountOidcDiscovery", "OAuth")
            .public()
            .ok(discovery),
        post("/oidc/v1/token", "requestToken", "OAuth").oauth_token(token_request.clone()).ok(token.clone()),
        post("/oidc/accounts/{account_id}/v1/token", "requestAccountToken", "OAuth")
            .oauth_token(token_request)
            .ok(token),
        post(&acc("/metastores"), "createAccountMetastore", uc_tag)
            .body(create_account_metastore, true)
            .ok(metastore_info.clone()),
        get(&acc("/metastores"), "listAccountMetastores", uc_tag).ok(object(json!({ "metastores": array(metastore) }))),
        get(&acc(ms_one), "getAccountMetastore", uc_tag).ok(metastore_info.clone()),
        put(&acc(ms_one), "updateAccountMetastore", uc_tag).body(update_account_metastore, false).ok(metastore_info),
        delete(&acc(ms_one), "deleteAccountMetastore", uc_tag).ok(empty()),
        get(&acc("/metastores/{metastore_id}/workspaces"), "listAccountMetastoreAssignments", uc_tag)
            .ok(object(json!({ "workspace_ids": array(int64()) }))),
        post(&acc(ws_ms), "createAccountMetastoreAssignment", uc_tag)
            .path_type("workspace_id", int64())
            .body(account_assignment.clone(), false)
            .ok(empty()),
        put(&acc(ws_ms), "updateAccountMetastoreAssignment", uc_tag)
            .path_type("workspace_id", int64())
            .body(account_assignment, false)
            .ok(empty()),
        delete(&acc(ws_ms), "deleteAccountMetastoreAssignment", uc_tag).path_type("workspace_id", int64()).ok(empty()),
        get(&acc("/workspaces/{workspace_id}/metastore"), "getAccountMetastoreAssignment", uc_tag)
            .path_type("workspace_id", int64())
            .ok(ms_assignment),
        post(&acc(creds), "createAccountStorageCredential", uc_tag)
            .body(create_account_credential, true)
            .ok(credential_info.clone()),
        get(&acc(creds), "listAccountStorageCredentials", uc_tag)
            .ok(object(json!({ "storage_credentials": array(credential) }))),
        get(&acc(cred), "getAccountStorageCredential", uc_tag).ok(credential_info.clone()),
        put(&acc(cred), "updateAccountStorageCredential", uc_tag)
            .body(update_account_credential, false)
            .ok(credential_info),
        delete(&acc(cred), "deleteAccountStorageCredential", uc_tag).ok(empty()),
    ]);
}
