-- Header mappings an admin confirmed with a change, remembered per
-- organization and import kind for files with the same header row.
CREATE TABLE remembered_mappings (
    id BIGSERIAL PRIMARY KEY,
    organization_id BIGINT NOT NULL REFERENCES organizations(id),
    -- The import kind's name (invites, learners, ...).
    kind TEXT NOT NULL,
    -- SHA-256 (hex) of the header row, each header as the engine compares
    -- them (header_key), in order: "E-mail" and "email" are the same header.
    headers_hash TEXT NOT NULL,
    -- JSON: the header row as it was, and what each column was mapped to
    -- (the engine's MappingOverrides).
    headers TEXT NOT NULL,
    overrides TEXT NOT NULL,
    -- Where it was confirmed: the import (no foreign key: an import may be
    -- deleted one day, the mapping stays) and its file name.
    import_id BIGINT,
    source_name TEXT NOT NULL,
    created_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    UNIQUE (organization_id, kind, headers_hash)
);
