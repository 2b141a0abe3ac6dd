-- Version 3 -> 4: owners deleted with their principal.

-- Objects whose owner was deleted (README "Security": deleting a principal): the object keeps
-- showing the deleted principal's name as `owner`, and no principal acts as that owner, not even
-- one created later under the same name. A row holds while the owner is unchanged; handing the
-- object on (any change of `owner`) or deleting it drops the row.
CREATE TABLE IF NOT EXISTS orphaned_owners (
    securable_id  TEXT NOT NULL,
    deleted_owner TEXT NOT NULL,
    PRIMARY KEY (securable_id, deleted_owner)
);
CREATE INDEX IF NOT EXISTS orphaned_owners_by_deleted_owner ON orphaned_owners(deleted_owner);
CREATE TRIGGER IF NOT EXISTS metastores_owner_handed_on AFTER UPDATE OF owner ON metastores WHEN old.owner IS NOT new.owner
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS metastores_drop_orphan AFTER DELETE ON metastores
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS catalogs_owner_handed_on AFTER UPDATE OF owner ON catalogs WHEN old.owner IS NOT new.owner
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS catalogs_drop_orphan AFTER DELETE ON catalogs
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS schemas_owner_handed_on AFTER UPDATE OF owner ON schemas WHEN old.owner IS NOT new.owner
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS schemas_drop_orphan AFTER DELETE ON schemas
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS tables_owner_handed_on AFTER UPDATE OF owner ON tables WHEN old.owner IS NOT new.owner
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS tables_drop_orphan AFTER DELETE ON tables
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS volumes_owner_handed_on AFTER UPDATE OF owner ON volumes WHEN old.owner IS NOT new.owner
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS volumes_drop_orphan AFTER DELETE ON volumes
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS functions_owner_handed_on AFTER UPDATE OF owner ON functions WHEN old.owner IS NOT new.owner
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS functions_drop_orphan AFTER DELETE ON functions
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS storage_credentials_owner_handed_on AFTER UPDATE OF owner ON storage_credentials WHEN old.owner IS NOT new.owner
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS storage_credentials_drop_orphan AFTER DELETE ON storage_credentials
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS external_locations_owner_handed_on AFTER UPDATE OF owner ON external_locations WHEN old.owner IS NOT new.owner
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS external_locations_drop_orphan AFTER DELETE ON external_locations
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS shares_owner_handed_on AFTER UPDATE OF owner ON shares WHEN old.owner IS NOT new.owner
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS shares_drop_orphan AFTER DELETE ON shares
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS recipients_owner_handed_on AFTER UPDATE OF owner ON recipients WHEN old.owner IS NOT new.owner
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS recipients_drop_orphan AFTER DELETE ON recipients
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS providers_owner_handed_on AFTER UPDATE OF owner ON providers WHEN old.owner IS NOT new.owner
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS providers_drop_orphan AFTER DELETE ON providers
BEGIN DELETE FROM orphaned_owners WHERE securable_id = old.id; END;
