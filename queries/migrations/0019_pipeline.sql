-- The live pipeline: stage settings per org (default probability, how long a
-- deal may sit in a stage before it is flagged), cancel reasons, and the
-- stage history reports are built from. The history is written by the
-- database itself (a row trigger), so no code path — the board, the form,
-- lead conversion, the demo seed — can move a deal without leaving a row.

-- +goose Up
CREATE TABLE pipeline_stages (
    org_id      bigint  NOT NULL REFERENCES orgs (id),
    stage       text    NOT NULL CHECK (stage IN ('en_analisis', 'oferta_presentada', 'en_negociacion', 'ganada', 'cancelada')),
    position    integer NOT NULL,
    probability integer NOT NULL CHECK (probability BETWEEN 0 AND 100),
    -- Days a deal may stay in this stage before an "idle" alert; NULL: never.
    idle_days   integer CHECK (idle_days BETWEEN 1 AND 365),
    PRIMARY KEY (org_id, stage)
);

-- +goose StatementBegin
CREATE FUNCTION pipeline_default_stages() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO pipeline_stages (org_id, stage, position, probability, idle_days)
    VALUES (NEW.id, 'en_analisis', 1, 10, 14), (NEW.id, 'oferta_presentada', 2, 40, 10),
           (NEW.id, 'en_negociacion', 3, 70, 7), (NEW.id, 'ganada', 4, 100, NULL),
           (NEW.id, 'cancelada', 5, 0, NULL);
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER orgs_pipeline_stages AFTER INSERT ON orgs
    FOR EACH ROW EXECUTE FUNCTION pipeline_default_stages();

INSERT INTO pipeline_stages (org_id, stage, position, probability, idle_days)
SELECT o.id, s.stage, s.position, s.probability, s.idle_days
FROM orgs o CROSS JOIN (VALUES ('en_analisis', 1, 10, 14), ('oferta_presentada', 2, 40, 10),
    ('en_negociacion', 3, 70, 7), ('ganada', 4, 100, NULL::integer), ('cancelada', 5, 0, NULL::integer))
    AS s (stage, position, probability, idle_days);

CREATE TABLE cancel_reasons (
    org_id   bigint  NOT NULL REFERENCES orgs (id),
    id       bigint  GENERATED ALWAYS AS IDENTITY,
    name     text    NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 120),
    active   boolean NOT NULL DEFAULT true,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, name)
);

ALTER TABLE opportunities
    ADD COLUMN probability      integer     NOT NULL DEFAULT 10 CHECK (probability BETWEEN 0 AND 100),
    ADD COLUMN cancel_reason_id bigint,
    ADD COLUMN stage_entered_at timestamptz NOT NULL DEFAULT now(),
    -- Who made the last change: the history trigger records it as the mover.
    ADD COLUMN updated_by       bigint,
    ADD FOREIGN KEY (org_id, cancel_reason_id) REFERENCES cancel_reasons (org_id, id),
    ADD FOREIGN KEY (org_id, updated_by) REFERENCES users (org_id, id),
    ADD CHECK ((stage = 'cancelada') = (cancel_reason_id IS NOT NULL));

-- The board reads open deals per stage, newest first.
CREATE INDEX opportunities_stage_idx ON opportunities (org_id, stage, id DESC);

-- A deleted deal leaves the lead it came from without one.
ALTER TABLE leads DROP CONSTRAINT leads_org_id_opportunity_id_fkey;
ALTER TABLE leads ADD FOREIGN KEY (org_id, opportunity_id) REFERENCES opportunities (org_id, id)
    ON DELETE SET NULL (opportunity_id);

CREATE TABLE opportunity_stage_history (
    org_id         bigint      NOT NULL REFERENCES orgs (id),
    id             bigint      GENERATED ALWAYS AS IDENTITY,
    opportunity_id bigint      NOT NULL,
    from_stage     text,
    to_stage       text        NOT NULL,
    changed_by     bigint,
    changed_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, opportunity_id) REFERENCES opportunities (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, changed_by) REFERENCES users (org_id, id)
);
CREATE INDEX opportunity_stage_history_opp_idx ON opportunity_stage_history (org_id, opportunity_id, id);

-- +goose StatementBegin
CREATE FUNCTION opportunity_stage_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO opportunity_stage_history (org_id, opportunity_id, from_stage, to_stage, changed_by, changed_at)
        VALUES (NEW.org_id, NEW.id, NULL, NEW.stage, coalesce(NEW.updated_by, NEW.created_by), NEW.stage_entered_at);
    ELSIF NEW.stage IS DISTINCT FROM OLD.stage THEN
        INSERT INTO opportunity_stage_history (org_id, opportunity_id, from_stage, to_stage, changed_by, changed_at)
        VALUES (NEW.org_id, NEW.id, OLD.stage, NEW.stage, NEW.updated_by, NEW.stage_entered_at);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER opportunities_stage_history AFTER INSERT OR UPDATE OF stage ON opportunities
    FOR EACH ROW EXECUTE FUNCTION opportunity_stage_history();

INSERT INTO opportunity_stage_history (org_id, opportunity_id, from_stage, to_stage, changed_by, changed_at)
SELECT org_id, id, NULL, stage, created_by, created_at FROM opportunities;

-- +goose Down
DROP TRIGGER opportunities_stage_history ON opportunities;
DROP FUNCTION opportunity_stage_history();
DROP TABLE opportunity_stage_history;
ALTER TABLE leads DROP CONSTRAINT leads_org_id_opportunity_id_fkey;
ALTER TABLE leads ADD FOREIGN KEY (org_id, opportunity_id) REFERENCES opportunities (org_id, id);
DROP INDEX opportunities_stage_idx;
ALTER TABLE opportunities DROP COLUMN updated_by, DROP COLUMN stage_entered_at, DROP COLUMN cancel_reason_id,
    DROP COLUMN probability;
DROP TABLE cancel_reasons;
DROP TRIGGER orgs_pipeline_stages ON orgs;
DROP FUNCTION pipeline_default_stages();
DROP TABLE pipeline_stages;
