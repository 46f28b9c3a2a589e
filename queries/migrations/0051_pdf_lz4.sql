-- Issued invoices and sent quote versions keep their PDF. One-page PDFs
-- are written uncompressed now (app/printing.finish), so PostgreSQL
-- compresses them when it stores them: pglz took ≈ 0.17 ms of the 0.44 ms
-- an invoice's issue UPDATE costs, lz4 a fifth of that for a similar
-- ratio (BENCHMARKS.md, Invoicing). Existing values stay as they are
-- until rewritten. A server built without lz4 keeps pglz.

-- +goose Up
-- +goose StatementBegin
DO $$
BEGIN
    IF 'lz4' = ANY (SELECT unnest(enumvals) FROM pg_settings WHERE name = 'default_toast_compression') THEN
        ALTER TABLE invoices ALTER COLUMN pdf SET COMPRESSION lz4;
        ALTER TABLE quote_versions ALTER COLUMN pdf SET COMPRESSION lz4;
    END IF;
END $$;
-- +goose StatementEnd

-- +goose Down
ALTER TABLE invoices ALTER COLUMN pdf SET COMPRESSION default;
ALTER TABLE quote_versions ALTER COLUMN pdf SET COMPRESSION default;
