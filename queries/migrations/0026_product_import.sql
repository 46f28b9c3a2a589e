-- Products come in through the import machinery built for leads: the same
-- upload, mapping screen, live progress and error file. The staging table
-- gets the product columns (name and notes serve as name and description).

-- +goose Up
ALTER TABLE imports DROP CONSTRAINT imports_kind_check;
ALTER TABLE imports ADD CONSTRAINT imports_kind_check CHECK (kind IN ('leads', 'portfolio', 'products'));
ALTER TABLE import_rows
    ADD COLUMN code       text         NOT NULL DEFAULT '',
    ADD COLUMN unit       text         NOT NULL DEFAULT '',
    ADD COLUMN group_name text         NOT NULL DEFAULT '',
    ADD COLUMN price      bigint,
    ADD COLUMN rate       numeric(5,2),
    ADD COLUMN rate_id    bigint;

-- +goose Down
ALTER TABLE import_rows DROP COLUMN code, DROP COLUMN unit, DROP COLUMN group_name, DROP COLUMN price, DROP COLUMN rate, DROP COLUMN rate_id;
ALTER TABLE imports DROP CONSTRAINT imports_kind_check;
ALTER TABLE imports ADD CONSTRAINT imports_kind_check CHECK (kind IN ('leads', 'portfolio'));
