-- Every record issuing writes went into six indexes. Two did not earn it:
-- verifactu_records_pending_idx has served no query since 0037's
-- unanswered index (pending or sent) became the sending queue, and the
-- one-correction rule only concerns corrections, so its unique index now
-- holds those alone (NULLs never collided anyway).

-- +goose Up
DROP INDEX verifactu_records_pending_idx;
ALTER TABLE verifactu_records DROP CONSTRAINT verifactu_records_one_correction;
CREATE UNIQUE INDEX verifactu_records_one_correction ON verifactu_records (org_id, corrects_id) WHERE corrects_id IS NOT NULL;

-- +goose Down
DROP INDEX verifactu_records_one_correction;
ALTER TABLE verifactu_records ADD CONSTRAINT verifactu_records_one_correction UNIQUE (org_id, corrects_id);
CREATE INDEX verifactu_records_pending_idx ON verifactu_records (org_id, issuer_nif, seq) WHERE status = 'pending';
