-- Sending VERI*FACTU records to the AEAT (app/verifactu/sending): the
-- org's certificate, each issuer's sending state, a log of every exchange,
-- and on each record the time its answer arrived and, for a corrected
-- resubmission, the rejected record it corrects.
--
--   - A record leaves its chain's queue only with the AEAT's answer stored:
--     'pending' (never handed over) and 'sent' (handed over, no answer
--     stored: the exchange failed or the process died) are both sent again,
--     in chain order; the AEAT answers what it already holds as a duplicate
--     (3000), which is stored as the state it holds. So a crash between
--     sending and storing never loses a record nor counts it twice.
--   - A rejected record is never sent again: its correction is a new record
--     of the chain (Subsanacion = S, RechazoPrevio = S) naming it in
--     corrects_id, at most one per rejected record.

-- +goose Up
CREATE TABLE verifactu_certificates (
    org_id          bigint      NOT NULL REFERENCES orgs (id),
    -- The PKCS#12 file and its password, each sealed by app/sealed for
    -- this org and its own purpose: the database never holds either in
    -- clear.
    p12_sealed      bytea       NOT NULL CHECK (length(p12_sealed) > 0),
    password_sealed bytea       NOT NULL CHECK (length(password_sealed) > 0),
    -- Public facts of the certificate, for the admin page only.
    subject         text        NOT NULL CHECK (length(subject) <= 500),
    nif             text        NOT NULL DEFAULT '' CHECK (nif = '' OR nif ~ '^[0-9A-Z]{9}$'),
    not_after       timestamptz NOT NULL,
    uploaded_by     bigint,
    uploaded_at     timestamptz NOT NULL DEFAULT now(),
    -- One certificate per org: an upload replaces the previous one.
    PRIMARY KEY (org_id),
    FOREIGN KEY (org_id, uploaded_by) REFERENCES users (org_id, id)
);

-- One row per chain that has ever been sent: the flow control and the lease
-- that keeps two workers from sending one issuer's records at once.
CREATE TABLE verifactu_senders (
    org_id        bigint      NOT NULL,
    issuer_nif    text        NOT NULL,
    -- TiempoEsperaEnvio: no request of this issuer before this time
    -- (unless a full batch of 1,000 is waiting).
    not_before    timestamptz,
    -- The lease: whoever holds lease_id until lease_until is the only one
    -- sending this chain; a lease past lease_until is free again (a dead
    -- worker).
    lease_id      bigint      NOT NULL DEFAULT 0 CHECK (lease_id >= 0),
    lease_until   timestamptz,
    -- The last exchange's outcome, shown to admins; '' before the first.
    last_outcome  text        NOT NULL DEFAULT ''
        CHECK (last_outcome IN ('', 'answered', 'faulted', 'retry-later', 'refused', 'no-certificate')),
    last_error    text        NOT NULL DEFAULT '' CHECK (length(last_error) <= 2000),
    last_attempt_at timestamptz,
    -- Exchanges failed in a row since the last answer: the pause before
    -- the next one grows with it.
    failures      integer     NOT NULL DEFAULT 0 CHECK (failures >= 0),
    PRIMARY KEY (org_id, issuer_nif),
    FOREIGN KEY (org_id, issuer_nif) REFERENCES verifactu_chains (org_id, issuer_nif)
);

-- Every exchange with the AEAT, kept for audit: which records went (a
-- range of the chain), what came back, as received.
CREATE TABLE verifactu_sends (
    org_id        bigint      NOT NULL,
    id            bigint      GENERATED ALWAYS AS IDENTITY,
    issuer_nif    text        NOT NULL,
    first_seq     bigint      NOT NULL CHECK (first_seq >= 1),
    last_seq      bigint      NOT NULL,
    records       integer     NOT NULL CHECK (records BETWEEN 1 AND 1000),
    -- '' while the exchange is under way (or its process died during it).
    outcome       text        NOT NULL DEFAULT ''
        CHECK (outcome IN ('', 'answered', 'faulted', 'retry-later', 'refused')),
    http_status   integer     NOT NULL DEFAULT 0,
    fault_code    integer     NOT NULL DEFAULT 0,
    csv           text        NOT NULL DEFAULT '',
    error         text        NOT NULL DEFAULT '' CHECK (length(error) <= 2000),
    answer        bytea,
    started_at    timestamptz NOT NULL,
    finished_at   timestamptz,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, issuer_nif) REFERENCES verifactu_chains (org_id, issuer_nif),
    CHECK (last_seq >= first_seq),
    CHECK ((outcome = '') = (finished_at IS NULL))
);
CREATE INDEX verifactu_sends_chain_idx ON verifactu_sends (org_id, issuer_nif, id);

ALTER TABLE verifactu_records
    -- When the answer stored was received.
    ADD COLUMN answered_at timestamptz,
    -- The rejected record this one resubmits corrected; set when written,
    -- frozen like the rest.
    ADD COLUMN corrects_id bigint,
    ADD FOREIGN KEY (org_id, corrects_id) REFERENCES verifactu_records (org_id, id),
    ADD CONSTRAINT verifactu_records_one_correction UNIQUE (org_id, corrects_id),
    -- Only an answered record has the time of its answer.
    ADD CONSTRAINT verifactu_records_answered CHECK (answered_at IS NULL OR status NOT IN ('pending', 'sent'));

-- The sending queue: records without a stored answer, in chain order.
CREATE INDEX verifactu_records_unanswered_idx ON verifactu_records (org_id, issuer_nif, seq) WHERE status IN ('pending', 'sent');

-- The sending state now includes answered_at.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION verifactu_records_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        RAISE EXCEPTION 'VERI*FACTU records cannot be deleted' USING ERRCODE = 'check_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'VERI*FACTU record % cannot be deleted', OLD.id USING ERRCODE = 'check_violation';
    END IF;
    IF to_jsonb(NEW) - ARRAY['status', 'answer_code', 'answer_text', 'sent_at', 'answered_at']
       = to_jsonb(OLD) - ARRAY['status', 'answer_code', 'answer_text', 'sent_at', 'answered_at'] THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'VERI*FACTU record % cannot change', OLD.id USING ERRCODE = 'check_violation';
END $$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION verifactu_records_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        RAISE EXCEPTION 'VERI*FACTU records cannot be deleted' USING ERRCODE = 'check_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'VERI*FACTU record % cannot be deleted', OLD.id USING ERRCODE = 'check_violation';
    END IF;
    IF to_jsonb(NEW) - ARRAY['status', 'answer_code', 'answer_text', 'sent_at']
       = to_jsonb(OLD) - ARRAY['status', 'answer_code', 'answer_text', 'sent_at'] THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'VERI*FACTU record % cannot change', OLD.id USING ERRCODE = 'check_violation';
END $$;
-- +goose StatementEnd
DROP INDEX verifactu_records_unanswered_idx;
ALTER TABLE verifactu_records DROP CONSTRAINT verifactu_records_answered,
    DROP CONSTRAINT verifactu_records_one_correction, DROP COLUMN corrects_id, DROP COLUMN answered_at;
DROP TABLE verifactu_sends;
DROP TABLE verifactu_senders;
DROP TABLE verifactu_certificates;
