-- Deleting a deal hides it instead of erasing it: its stage history (what
-- pipeline reports are built from) and its timeline stay, and who deleted
-- it and when is kept. Every list, count and lookup of deals skips rows
-- with deleted_at set.

-- +goose Up
ALTER TABLE opportunities
    ADD COLUMN deleted_at timestamptz,
    ADD COLUMN deleted_by bigint,
    ADD FOREIGN KEY (org_id, deleted_by) REFERENCES users (org_id, id);

-- The board reads live deals per stage, newest first.
DROP INDEX opportunities_stage_idx;
CREATE INDEX opportunities_stage_idx ON opportunities (org_id, stage, id DESC) WHERE deleted_at IS NULL;

-- +goose Down
DROP INDEX opportunities_stage_idx;
CREATE INDEX opportunities_stage_idx ON opportunities (org_id, stage, id DESC);
ALTER TABLE opportunities DROP COLUMN deleted_by, DROP COLUMN deleted_at;
