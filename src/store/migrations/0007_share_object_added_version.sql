-- Version 6 -> 7: a shared table's default start version, recorded when it is added.

-- The table's latest Delta version when it was added to the share (0 when its log could not be
-- read then). NULL on objects added before this version: their default start version is the
-- newest version committed at or before `added_at`.
ALTER TABLE share_objects ADD COLUMN added_version INTEGER;
