-- Version 1 -> 2: indexes for every column a write filters on (owners, credentials, principals,
-- foreign keys), so that renames and deletes never scan whole tables.
CREATE INDEX IF NOT EXISTS tokens_by_principal ON tokens(principal_id);
CREATE INDEX IF NOT EXISTS tokens_by_workspace ON tokens(workspace_id);
CREATE INDEX IF NOT EXISTS workspace_acls_by_principal ON workspace_acls(principal);
CREATE INDEX IF NOT EXISTS warehouses_by_workspace ON warehouses(workspace_id);
CREATE INDEX IF NOT EXISTS pc_connections_by_workspace ON pc_connections(workspace_id);
CREATE INDEX IF NOT EXISTS metastores_by_owner ON metastores(owner);
CREATE INDEX IF NOT EXISTS metastores_by_credential ON metastores(storage_root_credential_id);
CREATE INDEX IF NOT EXISTS metastore_assignments_by_metastore ON metastore_assignments(metastore_id);
CREATE INDEX IF NOT EXISTS catalogs_by_owner ON catalogs(owner);
CREATE INDEX IF NOT EXISTS schemas_by_owner ON schemas(owner);
CREATE INDEX IF NOT EXISTS tables_by_owner ON tables(owner);
CREATE INDEX IF NOT EXISTS tables_by_credential ON tables(storage_credential_name) WHERE storage_credential_name IS NOT NULL;
CREATE INDEX IF NOT EXISTS storage_credentials_by_owner ON storage_credentials(owner);
CREATE INDEX IF NOT EXISTS external_locations_by_credential_name ON external_locations(credential_name);
CREATE INDEX IF NOT EXISTS external_locations_by_owner ON external_locations(owner);
CREATE INDEX IF NOT EXISTS shares_by_owner ON shares(owner);
CREATE INDEX IF NOT EXISTS share_objects_by_table ON share_objects(table_id);
CREATE INDEX IF NOT EXISTS recipients_by_owner ON recipients(owner);
CREATE INDEX IF NOT EXISTS providers_by_owner ON providers(owner);
