-- File bytes live in PostgreSQL (app/files): import uploads, their error
-- files and documents. A `pulso work` node on another machine reads what a
-- web node received; nodes share nothing but the database.
--
-- A file is stored once per content per org (its SHA-256 is unique in the
-- org) as ordered chunks of bytea. What refers to one (a document, an
-- import, an import's error file) holds a foreign key to it, so bytes still
-- referenced cannot be deleted; deleting the last reference leaves the
-- caller to delete the file.
--
-- Documents and imports made before this migration kept their bytes under
-- PULSO_DATA_DIR, which nothing reads any more: they are deleted (there was
-- no production data), and the way back deletes those made after it.

-- +goose Up
CREATE TABLE files (
    org_id     bigint      NOT NULL REFERENCES orgs (id),
    id         bigint      GENERATED ALWAYS AS IDENTITY,
    -- Both set by the statement that seals the file, in the transaction
    -- that wrote its chunks: a committed file always has them.
    size_bytes bigint      NOT NULL DEFAULT 0 CHECK (size_bytes >= 0),
    sha256     text        CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    CONSTRAINT files_content_key UNIQUE (org_id, sha256)
);

-- The bytes, in order (seq from 0). Each chunk is written as the upload
-- streams in and read back one at a time, so neither side holds a whole
-- file. EXTERNAL: out of line without compression — most files are already
-- compressed (PDF, images, Office, XLSX), and pglz would spend CPU finding
-- that out on every chunk.
CREATE TABLE file_chunks (
    org_id  bigint  NOT NULL,
    file_id bigint  NOT NULL,
    seq     integer NOT NULL CHECK (seq >= 0),
    data    bytea   NOT NULL CHECK (length(data) BETWEEN 1 AND 1048576),
    PRIMARY KEY (org_id, file_id, seq),
    FOREIGN KEY (org_id, file_id) REFERENCES files (org_id, id) ON DELETE CASCADE
);
ALTER TABLE file_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

DELETE FROM documents;
ALTER TABLE documents
    ADD COLUMN file_id bigint NOT NULL,
    ADD CONSTRAINT documents_file_fkey FOREIGN KEY (org_id, file_id) REFERENCES files (org_id, id);
-- Serves "does another document still use these bytes?" and the foreign
-- key's check when a file is deleted.
CREATE INDEX documents_file_idx ON documents (org_id, file_id);

DELETE FROM imports;
ALTER TABLE imports
    DROP COLUMN path,
    DROP COLUMN error_path,
    -- The uploaded file.
    ADD COLUMN file_id bigint NOT NULL,
    -- The bad rows as CSV, once the import is done with errors.
    ADD COLUMN error_file_id bigint,
    ADD CONSTRAINT imports_file_fkey FOREIGN KEY (org_id, file_id) REFERENCES files (org_id, id),
    ADD CONSTRAINT imports_error_file_fkey FOREIGN KEY (org_id, error_file_id) REFERENCES files (org_id, id);
CREATE INDEX imports_file_idx ON imports (org_id, file_id);
CREATE INDEX imports_error_file_idx ON imports (org_id, error_file_id) WHERE error_file_id IS NOT NULL;

-- +goose Down
DELETE FROM imports;
ALTER TABLE imports
    DROP COLUMN file_id,
    DROP COLUMN error_file_id,
    ADD COLUMN path text NOT NULL CHECK (path <> '' AND path NOT LIKE '/%' AND path NOT LIKE '%..%'),
    ADD COLUMN error_path text NOT NULL DEFAULT '';
DELETE FROM documents;
ALTER TABLE documents DROP COLUMN file_id;
DROP TABLE file_chunks;
DROP TABLE files;
