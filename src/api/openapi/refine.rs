//! What the wire types alone cannot say: which request fields an operation requires (their
//! absence is a 400), the fixed sets of values fields take, and the formats of ids. Every set
//! comes from the constant the code validates against or renders from, so the document follows
//! the code; `tests/sdk/test_openapi_contract.py` sends each body without each required field,
//! and each enumerated field with a value outside its set, and expects 400.

use serde_json::{json, Value};
use utoipa::ToSchema;

use super::Schemas;
use crate::domain::privilege::KNOWN as PRIVILEGES;
use crate::domain::securable::SecurableKind;
use crate::domain::workspace_object::WorkspaceObject;
use crate::ops;

/// `SecurableKind`s as answers spell them (`TABLE`, `STORAGE_CREDENTIAL`).
pub(crate) fn securable_types() -> Vec<&'static str> {
    SecurableKind::ALL.iter().map(|k| k.upper()).collect()
}

fn r<T: ToSchema>(s: &mut Schemas) -> Value {
    s.of::<T>()
}

/// Examples of parameters that name the built-in fixture's objects (catalog `main`, workspace
/// 1001), so that the fuzzer's examples phase reaches real objects.
pub(crate) fn parameter_example(path: &str, name: &str) -> Option<Value> {
    Some(match name {
        "workspace_id" => json!(1001),
        "account_id" => json!(crate::domain::ACCOUNT_ID),
        "catalog_name" => json!("main"),
        "schema_name" => json!("default"),
        "name" if path.ends_with("/catalogs/{name}") => json!("main"),
        "full_name" if path.contains("/schemas/") => json!("main.default"),
        "full_name" if path.contains("/permissions/") || path.contains("privilege-assignments/") => json!("main"),
        "securable_type" => json!("catalog"),
        "principal" => json!("alice@example.com"),
        _ => return None,
    })
}

/// Examples of request bodies, naming the built-in fixture's objects.
fn examples(s: &mut Schemas) {
    use crate::api;
    let column = json!({"name": "id", "type_name": "LONG", "type_text": "bigint", "position": 0,
        "type_json": "{\"name\":\"id\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}}"});
    let x = r::<ops::catalogs::CreateCatalog>(s);
    s.example(&x, json!({"name": "fuzz_catalog", "comment": "made by an example"}));
    let x = r::<ops::schemas::CreateSchema>(s);
    s.example(&x, json!({"name": "fuzz_schema", "catalog_name": "main"}));
    let x = r::<ops::tables::CreateTable>(s);
    s.example(
        &x,
        json!({"name": "fuzz_table", "catalog_name": "main", "schema_name": "default", "table_type": "MANAGED",
               "data_source_format": "DELTA", "columns": [column]}),
    );
    let x = r::<ops::volumes::CreateVolume>(s);
    s.example(
        &x,
        json!({"name": "fuzz_volume", "catalog_name": "main", "schema_name": "default", "volume_type": "MANAGED"}),
    );
    let x = r::<ops::storage_credentials::CreateStorageCredential>(s);
    s.example(
        &x,
        json!({"name": "fuzz_credential", "aws_iam_role": {"role_arn": "arn:aws:iam::123456789012:role/fuzz"}}),
    );
    let x = r::<ops::external_locations::CreateExternalLocation>(s);
    s.example(
        &x,
        json!({"name": "fuzz_location", "url": "s3://fuzz-bucket/location", "credential_name": "fuzz_credential",
               "skip_validation": true}),
    );
    let x = r::<ops::metastores::CreateMetastore>(s);
    s.example(&x, json!({"name": "fuzz_metastore", "storage_root": "s3://fuzz-bucket/metastore"}));
    let x = r::<ops::shares::CreateShare>(s);
    s.example(&x, json!({"name": "fuzz_share"}));
    let x = r::<ops::recipients::CreateRecipient>(s);
    s.example(&x, json!({"name": "fuzz_recipient", "authentication_type": "TOKEN"}));
    let x = r::<api::permissions::UpdatePermissions>(s);
    s.example(&x, json!({"changes": [{"principal": "alice@example.com", "add": ["USE_CATALOG"]}]}));
    let x = r::<api::tables::SummariesBody>(s);
    s.example(&x, json!({"catalog_name": "main"}));
    let x = r::<api::tokens::CreateToken>(s);
    s.example(&x, json!({"comment": "made by an example", "lifetime_seconds": 3600}));
    let x = s.named("UserRequest", json!({}));
    s.example(&x, json!({"userName": "fuzz@example.com", "displayName": "Fuzz"}));
    let x = s.named("GroupRequest", json!({}));
    s.example(&x, json!({"displayName": "fuzzers"}));
}

/// Applied once every operation has registered its schemas.
pub(crate) fn all(s: &mut Schemas) {
    use crate::api;
    examples(s);

    // Request bodies: required fields and enumerated values.
    let x = r::<ops::metastores::CreateMetastore>(s);
    s.require(&x, &["name", "storage_root"]);
    let x = r::<ops::metastores::UpdateMetastore>(s);
    s.enumerate(&x, "delta_sharing_scope", ops::metastores::SCOPES);
    s.format(&x, "storage_root_credential_id", "uuid");

    let x = r::<ops::catalogs::CreateCatalog>(s);
    s.require(&x, &["name"]);
    let x = r::<ops::catalogs::UpdateCatalog>(s);
    s.enumerate(&x, "isolation_mode", ops::catalogs::ISOLATION_MODES);

    let x = r::<ops::schemas::CreateSchema>(s);
    s.require(&x, &["name", "catalog_name"]);

    let x = r::<ops::tables::CreateTable>(s);
    s.require(&x, &["name", "catalog_name", "schema_name", "table_type", "columns"]);
    s.enumerate(&x, "table_type", ops::tables::TABLE_TYPES);
    s.enumerate(&x, "data_source_format", ops::tables::DATA_SOURCE_FORMATS);
    let x = r::<ops::tables::UpdateTable>(s);
    s.enumerate(&x, "data_source_format", ops::tables::DATA_SOURCE_FORMATS);
    let x = r::<ops::tables::ColumnInfo>(s);
    s.require(&x, &["name", "type_name", "type_text", "type_json", "position"]);
    s.enumerate(&x, "type_name", ops::tables::COLUMN_TYPES);
    let x = r::<api::tables::SummariesBody>(s);
    s.require(&x, &["catalog_name"]);

    let x = r::<ops::volumes::CreateVolume>(s);
    s.require(&x, &["name", "catalog_name", "schema_name", "volume_type"]);
    s.enumerate(&x, "volume_type", ops::volumes::VOLUME_TYPES);

    let x = r::<ops::functions::CreateFunction>(s);
    s.require(
        &x,
        &[
            "name",
            "catalog_name",
            "schema_name",
            "input_params",
            "data_type",
            "full_data_type",
            "routine_body",
            "routine_definition",
            "parameter_style",
            "is_deterministic",
            "is_null_call",
            "sql_data_access",
            "security_type",
            "specific_name",
        ],
    );
    s.enumerate(&x, "data_type", ops::functions::TYPE_NAMES);
    s.enumerate(&x, "routine_body", ops::functions::ROUTINE_BODIES);
    s.enumerate(&x, "parameter_style", ops::functions::PARAMETER_STYLES);
    s.enumerate(&x, "sql_data_access", ops::functions::SQL_DATA_ACCESS);
    s.enumerate(&x, "security_type", ops::functions::SECURITY_TYPES);
    let x = r::<ops::functions::ParameterInfo>(s);
    s.require(&x, &["name", "type_name", "type_text", "position"]);
    s.enumerate(&x, "type_name", ops::functions::TYPE_NAMES);
    s.enumerate(&x, "parameter_mode", ops::functions::PARAMETER_MODES);
    s.enumerate(&x, "parameter_type", ops::functions::PARAMETER_TYPES);
    let x = r::<ops::functions::UpdateFunction>(s);
    s.require(&x, &["owner"]);

    let x = r::<ops::storage_credentials::CreateStorageCredential>(s);
    s.require(&x, &["name"]);
    let x = r::<ops::storage_credentials::UpdateStorageCredential>(s);
    s.enumerate(&x, "isolation_mode", ops::storage_credentials::ISOLATION_MODES);

    let x = r::<ops::external_locations::CreateExternalLocation>(s);
    s.require(&x, &["name", "url", "credential_name"]);
    let x = r::<ops::external_locations::UpdateExternalLocation>(s);
    s.enumerate(&x, "isolation_mode", ops::external_locations::ISOLATION_MODES);

    let x = r::<ops::shares::CreateShare>(s);
    s.require(&x, &["name"]);
    let x = r::<ops::recipients::CreateRecipient>(s);
    s.require(&x, &["name", "authentication_type"]);
    s.enumerate(&x, "authentication_type", ops::recipients::AUTHENTICATION_TYPES);
    let x = r::<ops::recipients::RotateToken>(s);
    s.require(&x, &["existing_token_expire_in_seconds"]);
    let x = r::<ops::providers::CreateProvider>(s);
    s.require(&x, &["name", "authentication_type"]);
    s.enumerate(&x, "authentication_type", ops::recipients::AUTHENTICATION_TYPES);

    let x = r::<api::permissions::UpdatePermissions>(s);
    s.require(&x, &["changes"]);
    let x = r::<api::permissions::PermissionsChange>(s);
    s.enumerate(&x, "add", PRIVILEGES);
    s.enumerate(&x, "remove", PRIVILEGES);
    let x = r::<api::permissions::ReplaceAssignment>(s);
    s.require(&x, &["principal"]);
    s.enumerate(&x, "privileges", PRIVILEGES);

    let x = r::<api::tokens::DeleteToken>(s);
    s.require(&x, &["token_id"]);
    let x = r::<api::tokens::CreateOboToken>(s);
    s.require(&x, &["application_id"]);
    let x = r::<ops::workspace_acls::AccessControlRequest>(s);
    s.require(&x, &["permission_level"]);
    s.enumerate(&x, "permission_level", &WorkspaceObject::all_level_names());

    let x = r::<api::temporary_credentials::TableRequest>(s);
    s.enumerate(&x, "operation", ops::temporary_credentials::TABLE_OPERATIONS);
    s.format(&x, "table_id", "uuid");
    let x = r::<api::temporary_credentials::VolumeRequest>(s);
    s.enumerate(&x, "operation", ops::temporary_credentials::VOLUME_OPERATIONS);
    s.format(&x, "volume_id", "uuid");
    let x = r::<api::temporary_credentials::PathRequest>(s);
    s.enumerate(&x, "operation", ops::temporary_credentials::PATH_OPERATIONS);

    for kind in ["User", "Group", "ServicePrincipal"] {
        let x = s.named(&format!("{kind}Request"), json!({}));
        match kind {
            "User" => s.require(&x, &["userName"]),
            "Group" => s.require(&x, &["displayName"]),
            _ => {}
        }
    }
    let x = s.named("PatchRequest", json!({}));
    s.require(&x, &["Operations"]);

    let x = r::<api::partner_connect::DeleteAccountBody>(s);
    s.require(&x, &["domain"]);
    let x = r::<api::partner_connect::ExpireAccountBody>(s);
    s.require(&x, &["email"]);
    let x = r::<crate::partner_connect::requests::ConnectBody>(s);
    s.require(&x, &["partner_id"]);
    s.format(&x, "partner_id", "uuid");

    // Answers: the values the emulator sends, and id formats.
    let kinds = securable_types();
    let x = r::<api::metastores::MetastoreInfo>(s);
    s.enumerate(&x, "delta_sharing_scope", ops::metastores::SCOPES);
    s.format(&x, "metastore_id", "uuid");
    s.format(&x, "storage_root_credential_id", "uuid");
    let x = r::<api::metastores::MetastoreAssignment>(s);
    s.format(&x, "metastore_id", "uuid");
    let x = r::<api::catalogs::CatalogInfo>(s);
    s.enumerate(&x, "catalog_type", &["MANAGED_CATALOG", "DELTASHARING_CATALOG"]);
    s.enumerate(&x, "isolation_mode", ops::catalogs::ISOLATION_MODES);
    s.enumerate(&x, "securable_type", &[SecurableKind::Catalog.upper()]);
    s.format(&x, "metastore_id", "uuid");
    let x = r::<api::schemas::SchemaInfo>(s);
    s.enumerate(&x, "catalog_type", &["MANAGED_CATALOG", "DELTASHARING_CATALOG"]);
    s.format(&x, "metastore_id", "uuid");
    s.format(&x, "schema_id", "uuid");
    let x = r::<api::tables::TableInfo>(s);
    s.enumerate(&x, "table_type", ops::tables::TABLE_TYPES);
    s.enumerate(&x, "data_source_format", ops::tables::DATA_SOURCE_FORMATS);
    s.format(&x, "metastore_id", "uuid");
    s.format(&x, "table_id", "uuid");
    let x = r::<ops::tables::TableSummary>(s);
    s.enumerate(&x, "table_type", ops::tables::TABLE_TYPES);
    let x = r::<api::volumes::VolumeInfo>(s);
    s.enumerate(&x, "volume_type", ops::volumes::VOLUME_TYPES);
    s.format(&x, "metastore_id", "uuid");
    s.format(&x, "volume_id", "uuid");
    let x = s.named("FunctionInfo", json!({}));
    s.format(&x, "metastore_id", "uuid");
    s.format(&x, "function_id", "uuid");
    let x = r::<api::storage_credentials::StorageCredentialInfo>(s);
    s.enumerate(&x, "isolation_mode", ops::storage_credentials::ISOLATION_MODES);
    s.enumerate(&x, "securable_type", &[SecurableKind::StorageCredential.upper()]);
    s.format(&x, "metastore_id", "uuid");
    s.format(&x, "id", "uuid");
    let x = r::<api::external_locations::ExternalLocationInfo>(s);
    s.enumerate(&x, "isolation_mode", ops::external_locations::ISOLATION_MODES);
    s.format(&x, "metastore_id", "uuid");
    s.format(&x, "credential_id", "uuid");
    let x = r::<api::recipients::RecipientInfo>(s);
    s.enumerate(&x, "authentication_type", ops::recipients::AUTHENTICATION_TYPES);
    s.format(&x, "id", "uuid");
    s.format(&x, "metastore_id", "uuid");
    let x = r::<api::providers::ProviderInfo>(s);
    s.enumerate(&x, "authentication_type", ops::recipients::AUTHENTICATION_TYPES);
    s.format(&x, "metastore_id", "uuid");
    let x = r::<ops::permissions::PrivilegeAssignment>(s);
    s.enumerate(&x, "privileges", PRIVILEGES);
    let x = r::<ops::permissions::EffectivePrivilege>(s);
    s.enumerate(&x, "privilege", PRIVILEGES);
    s.enumerate(&x, "inherited_from_type", &kinds);
    let x = r::<api::workspace_permissions::Permission>(s);
    s.enumerate(&x, "permission_level", &WorkspaceObject::all_level_names());
    let x = r::<crate::partner_connect::ConnectionInfo>(s);
    s.format(&x, "id", "uuid");
    s.format(&x, "partner_id", "uuid");
    let x = r::<api::account::WorkspaceInfo>(s);
    s.enumerate(&x, "workspace_status", &["RUNNING"]);
    let x = r::<api::account::PermissionAssignment>(s);
    s.enumerate(&x, "permissions", &["USER", "ADMIN"]);
    let x = r::<api::oauth::SecretInfo>(s);
    s.enumerate(&x, "status", &["ACTIVE", "EXPIRED"]);
    let x = r::<api::workspace_permissions::PermissionsDescription>(s);
    s.enumerate(&x, "permission_level", &WorkspaceObject::all_level_names());
}
