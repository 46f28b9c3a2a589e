-- The numbers behind dashboards and reports (issue 16, package app/stats).
--
--   - opportunities.source is the origin of a deal: the source of the lead
--     it came from (set by a BEFORE INSERT trigger, backfilled here), else
--     'manual'. opportunities.article_group_id is its product line.
--   - Monthly rollups, kept by triggers in the writing transaction so that
--     no code path (board, form, quote signing, imports, the demo seed, a
--     hand-written UPDATE) can forget them. Months are calendar months in
--     the org's time zone; 0 stands for "no owner / no group" and 'infinity'
--     for "no expected close" so every key column is NOT NULL. Each trigger
--     subtracts what the old row contributed and adds what the new one does,
--     in one statement whose rows are grouped (unchanged keys cancel out and
--     are not written) and ordered by key (two writers take the rollup rows
--     they share in the same order).
--       stats_deal_facts   deals created (by created_at, keyed by the stage
--                          they are in now), won and lost (by the time they
--                          entered ganada / cancelada), with amounts, the
--                          won cycle (seconds from creation) and reasons.
--       stats_deal_open    the open pipeline now, by stage and expected-close
--                          month, with sum(amount × probability).
--       stats_stage_moves  the stage history: moves per month with the
--                          seconds the deal had spent in the stage it left
--                          (from the previous history row).
--       stats_task_facts   tasks done per month, and SLA outcomes: met (at
--                          completion) and not met or still pending (at the
--                          deadline; readers drop the pending ones whose
--                          deadline has not come).
--       stats_lead_facts   leads created per month.
--       stats_quote_facts  one narrow row per sent quote (first sending,
--                          status, total, validity, opening, signature, its
--                          deal's source and group): exact medians.
--     Soft-deleted deals contribute nothing anywhere. A deal's stage moves
--     are keyed by its current owner, source and group: changing them moves
--     the whole history.
--   - stats_rebuild(org) recomputes an org's rollups from the base tables
--     (pulso stats rebuild). A change of an org's time zone needs it.

-- +goose Up
ALTER TABLE opportunities
    ADD COLUMN source text NOT NULL DEFAULT 'manual' CHECK (source IN ('manual', 'import', 'web_form', 'email', 'api')),
    ADD COLUMN article_group_id bigint,
    ADD FOREIGN KEY (org_id, article_group_id) REFERENCES article_groups (org_id, id) ON DELETE SET NULL (article_group_id);

UPDATE opportunities o SET source = l.source
FROM leads l WHERE l.org_id = o.org_id AND l.id = o.source_lead_id AND o.source <> l.source;

-- +goose StatementBegin
CREATE FUNCTION opportunities_lead_source() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.source_lead_id IS NOT NULL THEN
        SELECT l.source INTO NEW.source FROM leads l WHERE l.org_id = NEW.org_id AND l.id = NEW.source_lead_id;
    END IF;
    RETURN NEW;
END $$;
-- +goose StatementEnd

CREATE TRIGGER opportunities_lead_source BEFORE INSERT ON opportunities
    FOR EACH ROW EXECUTE FUNCTION opportunities_lead_source();

CREATE TABLE stats_deal_facts (
    org_id        bigint NOT NULL REFERENCES orgs (id),
    month         date   NOT NULL,
    kind          text   NOT NULL CHECK (kind IN ('created', 'won', 'lost')),
    owner_id      bigint NOT NULL,
    source        text   NOT NULL,
    group_id      bigint NOT NULL,
    stage         text   NOT NULL,
    reason_id     bigint NOT NULL,
    n             bigint NOT NULL,
    from_lead     bigint NOT NULL,
    amount        bigint NOT NULL,
    cycle_seconds bigint NOT NULL,
    PRIMARY KEY (org_id, month, kind, owner_id, source, group_id, stage, reason_id)
);

CREATE TABLE stats_deal_open (
    org_id      bigint NOT NULL REFERENCES orgs (id),
    owner_id    bigint NOT NULL,
    source      text   NOT NULL,
    group_id    bigint NOT NULL,
    stage       text   NOT NULL,
    close_month date   NOT NULL,
    n           bigint NOT NULL,
    amount      bigint NOT NULL,
    -- sum(amount × probability): divided by 100 (half up) when read.
    weighted    bigint NOT NULL,
    PRIMARY KEY (org_id, owner_id, source, group_id, stage, close_month)
);

CREATE TABLE stats_stage_moves (
    org_id     bigint NOT NULL REFERENCES orgs (id),
    month      date   NOT NULL,
    owner_id   bigint NOT NULL,
    source     text   NOT NULL,
    group_id   bigint NOT NULL,
    -- '' for a deal's creation.
    from_stage text   NOT NULL,
    to_stage   text   NOT NULL,
    n          bigint NOT NULL,
    seconds    bigint NOT NULL,
    PRIMARY KEY (org_id, month, owner_id, source, group_id, from_stage, to_stage)
);

CREATE TABLE stats_task_facts (
    org_id      bigint NOT NULL REFERENCES orgs (id),
    month       date   NOT NULL,
    assignee_id bigint NOT NULL,
    type        text   NOT NULL,
    done        bigint NOT NULL,
    sla_met     bigint NOT NULL,
    -- Not met, or pending: counted in the deadline's month.
    sla_open    bigint NOT NULL,
    PRIMARY KEY (org_id, month, assignee_id, type)
);

CREATE TABLE stats_lead_facts (
    org_id   bigint NOT NULL REFERENCES orgs (id),
    month    date   NOT NULL,
    owner_id bigint NOT NULL,
    source   text   NOT NULL,
    n        bigint NOT NULL,
    PRIMARY KEY (org_id, month, owner_id, source)
);

-- One row per quote ever sent: what the funnel and the quote tables read,
-- narrow and in the order they scan it (by first sending, by signature).
-- source and group are the quote's deal's ('' and 0 without one).
CREATE TABLE stats_quote_facts (
    org_id      bigint      NOT NULL REFERENCES orgs (id),
    quote_id    bigint      NOT NULL,
    owner_id    bigint      NOT NULL,
    source      text        NOT NULL,
    group_id    bigint      NOT NULL,
    status      text        NOT NULL,
    sent_at     timestamptz NOT NULL,
    total       bigint      NOT NULL,
    valid_until date        NOT NULL,
    opened_at   timestamptz,
    signed_at   timestamptz,
    deal_id     bigint,
    PRIMARY KEY (org_id, quote_id),
    FOREIGN KEY (org_id, quote_id) REFERENCES quotes (org_id, id) ON DELETE CASCADE
);
CREATE INDEX stats_quote_facts_sent_idx ON stats_quote_facts (org_id, sent_at)
    INCLUDE (owner_id, source, group_id, status, total, valid_until, opened_at, signed_at);
CREATE INDEX stats_quote_facts_signed_idx ON stats_quote_facts (org_id, signed_at)
    INCLUDE (owner_id, source, group_id, status) WHERE signed_at IS NOT NULL;
CREATE INDEX stats_quote_facts_deal_idx ON stats_quote_facts (org_id, deal_id) WHERE deal_id IS NOT NULL;

-- Readers that stay on base tables: billing by issue date, open SLAs by
-- deadline.
CREATE INDEX invoices_billed_idx ON invoices (org_id, issue_date) INCLUDE (total, customer_id, created_by)
    WHERE state = 'issued' AND kind <> 'proforma';
CREATE INDEX tasks_open_deadline_idx ON tasks (org_id, sla_deadline) INCLUDE (assignee_id)
    WHERE status = 'pendiente' AND sla_deadline IS NOT NULL;

-- JIT compilation off for this database: on the stats readers' plans it
-- cost 0.2–10 s of compiling (a year's quote funnel on the bench org: 10.3
-- s of its 14.7 s, see BENCHMARKS.md), and Pulso's queries are short OLTP
-- reads that never repay it. A role that may not
-- alter the database keeps the server's setting (and a notice says so).
-- +goose StatementBegin
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET jit = off', current_database());
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'jit stays as the server has it: this role may not alter database %', current_database();
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION stats_zone(p_org bigint) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT time_zone FROM orgs WHERE id = p_org
$$;
-- +goose StatementEnd

-- +goose StatementBegin
-- What one deal row contributes to stats_deal_facts, times s.
CREATE FUNCTION stats_deal_fact_rows(d opportunities, tz text, s bigint)
RETURNS TABLE (org_id bigint, month date, kind text, owner_id bigint, source text, group_id bigint, stage text,
               reason_id bigint, n bigint, from_lead bigint, amount bigint, cycle_seconds bigint)
LANGUAGE sql IMMUTABLE AS $$
    SELECT d.org_id, x.month, x.kind, coalesce(d.owner_id, 0), d.source, coalesce(d.article_group_id, 0), d.stage,
           x.reason, s, CASE WHEN d.source_lead_id IS NULL THEN 0 ELSE s END, s * d.amount, s * x.cycle
    FROM (VALUES ('created', date_trunc('month', d.created_at AT TIME ZONE tz)::date, 0::bigint, 0::bigint),
                 (CASE d.stage WHEN 'ganada' THEN 'won' ELSE 'lost' END,
                  date_trunc('month', d.stage_entered_at AT TIME ZONE tz)::date,
                  coalesce(d.cancel_reason_id, 0),
                  CASE WHEN d.stage = 'ganada' THEN extract(epoch FROM d.stage_entered_at - d.created_at)::bigint ELSE 0 END))
         AS x (kind, month, reason, cycle)
    WHERE d.id IS NOT NULL AND d.deleted_at IS NULL
      AND (x.kind = 'created' OR d.stage IN ('ganada', 'cancelada'))
$$;
-- +goose StatementEnd

-- +goose StatementBegin
-- What one deal row contributes to stats_deal_open, times s.
CREATE FUNCTION stats_deal_open_rows(d opportunities, s bigint)
RETURNS TABLE (org_id bigint, owner_id bigint, source text, group_id bigint, stage text, close_month date,
               n bigint, amount bigint, weighted bigint)
LANGUAGE sql IMMUTABLE AS $$
    SELECT d.org_id, coalesce(d.owner_id, 0), d.source, coalesce(d.article_group_id, 0), d.stage,
           coalesce(date_trunc('month', d.expected_close)::date, 'infinity'::date), s, s * d.amount, s * d.amount * d.probability
    WHERE d.id IS NOT NULL AND d.deleted_at IS NULL AND d.stage IN ('en_analisis', 'oferta_presentada', 'en_negociacion')
$$;

-- +goose StatementEnd

-- +goose StatementBegin
-- A deal's stage history as it is in the table.
CREATE FUNCTION stats_history_of(p_org bigint, p_opp bigint) RETURNS opportunity_stage_history[] LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(h ORDER BY h.id), '{}') FROM opportunity_stage_history h
    WHERE h.org_id = p_org AND h.opportunity_id = p_opp
$$;
-- +goose StatementEnd

-- +goose StatementBegin
-- What the history rows hist of deal d contribute to stats_stage_moves
-- under d's current keys (owner, source, group, deletion), times s: each
-- move with the seconds since the previous row (by id).
CREATE FUNCTION stats_move_rows(d opportunities, tz text, s bigint, hist opportunity_stage_history[])
RETURNS TABLE (org_id bigint, month date, owner_id bigint, source text, group_id bigint, from_stage text, to_stage text,
               n bigint, seconds bigint)
LANGUAGE sql IMMUTABLE AS $$
    SELECT d.org_id, date_trunc('month', h.changed_at AT TIME ZONE tz)::date, coalesce(d.owner_id, 0), d.source,
           coalesce(d.article_group_id, 0), coalesce(h.from_stage, ''), h.to_stage, s,
           s * coalesce(extract(epoch FROM h.changed_at - h.prev)::bigint, 0)
    FROM (SELECT x.changed_at, x.from_stage, x.to_stage, lag(x.changed_at) OVER (ORDER BY x.id) AS prev
          FROM unnest(hist) x) h
    WHERE d.id IS NOT NULL AND d.deleted_at IS NULL
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION stats_apply_moves(d_old opportunities, h_old opportunity_stage_history[],
                                  d_new opportunities, h_new opportunity_stage_history[], tz text)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO stats_stage_moves AS f (org_id, month, owner_id, source, group_id, from_stage, to_stage, n, seconds)
    SELECT r.org_id, r.month, r.owner_id, r.source, r.group_id, r.from_stage, r.to_stage, sum(r.n), sum(r.seconds)
    FROM (SELECT * FROM stats_move_rows(d_old, tz, -1, h_old) UNION ALL SELECT * FROM stats_move_rows(d_new, tz, 1, h_new)) r
    GROUP BY 1, 2, 3, 4, 5, 6, 7
    HAVING sum(r.n) <> 0 OR sum(r.seconds) <> 0
    ORDER BY 1, 2, 3, 4, 5, 6, 7
    ON CONFLICT (org_id, month, owner_id, source, group_id, from_stage, to_stage) DO UPDATE
    SET n = f.n + excluded.n, seconds = f.seconds + excluded.seconds
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION stats_opportunity() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    tz text;
    o opportunities;
    n opportunities;
    h opportunity_stage_history[];
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN o := OLD; END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN n := NEW; END IF;
    IF TG_OP = 'UPDATE' AND (o.owner_id, o.source, o.article_group_id, o.deleted_at, o.stage, o.amount, o.probability,
            o.expected_close, o.created_at, o.stage_entered_at, o.cancel_reason_id, o.source_lead_id)
        IS NOT DISTINCT FROM (n.owner_id, n.source, n.article_group_id, n.deleted_at, n.stage, n.amount, n.probability,
            n.expected_close, n.created_at, n.stage_entered_at, n.cancel_reason_id, n.source_lead_id) THEN
        RETURN NULL;
    END IF;
    tz := stats_zone(coalesce(n.org_id, o.org_id));

    INSERT INTO stats_deal_facts AS f (org_id, month, kind, owner_id, source, group_id, stage, reason_id, n, from_lead, amount, cycle_seconds)
    SELECT r.org_id, r.month, r.kind, r.owner_id, r.source, r.group_id, r.stage, r.reason_id,
           sum(r.n), sum(r.from_lead), sum(r.amount), sum(r.cycle_seconds)
    FROM (SELECT * FROM stats_deal_fact_rows(o, tz, -1) UNION ALL SELECT * FROM stats_deal_fact_rows(n, tz, 1)) r
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
    HAVING sum(r.n) <> 0 OR sum(r.from_lead) <> 0 OR sum(r.amount) <> 0 OR sum(r.cycle_seconds) <> 0
    ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT (org_id, month, kind, owner_id, source, group_id, stage, reason_id) DO UPDATE
    SET n = f.n + excluded.n, from_lead = f.from_lead + excluded.from_lead, amount = f.amount + excluded.amount,
        cycle_seconds = f.cycle_seconds + excluded.cycle_seconds;

    INSERT INTO stats_deal_open AS f (org_id, owner_id, source, group_id, stage, close_month, n, amount, weighted)
    SELECT r.org_id, r.owner_id, r.source, r.group_id, r.stage, r.close_month, sum(r.n), sum(r.amount), sum(r.weighted)
    FROM (SELECT * FROM stats_deal_open_rows(o, -1) UNION ALL SELECT * FROM stats_deal_open_rows(n, 1)) r
    GROUP BY 1, 2, 3, 4, 5, 6
    HAVING sum(r.n) <> 0 OR sum(r.amount) <> 0 OR sum(r.weighted) <> 0
    ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (org_id, owner_id, source, group_id, stage, close_month) DO UPDATE
    SET n = f.n + excluded.n, amount = f.amount + excluded.amount, weighted = f.weighted + excluded.weighted;

    -- The history follows the deal's keys. A new deal has none yet (its
    -- first row comes from the history trigger, which fires after this one:
    -- "opportunities_0_stats" sorts first), and a stage move adds its row
    -- through the history's own trigger.
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND (o.owner_id, o.source, o.article_group_id, o.deleted_at)
            IS DISTINCT FROM (n.owner_id, n.source, n.article_group_id, n.deleted_at)) THEN
        h := stats_history_of(o.org_id, o.id);
        PERFORM stats_apply_moves(o, h, n, h, tz);
    END IF;
    IF TG_OP = 'UPDATE' AND (o.source, o.article_group_id) IS DISTINCT FROM (n.source, n.article_group_id) THEN
        UPDATE stats_quote_facts SET source = n.source, group_id = coalesce(n.article_group_id, 0)
        WHERE org_id = n.org_id AND deal_id = n.id;
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- Before a deal is erased its contributions go; its history is erased by
-- the cascade after the deal row is gone, when the history trigger finds
-- no deal and does nothing.
CREATE TRIGGER opportunities_0_stats AFTER INSERT OR UPDATE ON opportunities
    FOR EACH ROW EXECUTE FUNCTION stats_opportunity();
CREATE TRIGGER opportunities_0_stats_delete BEFORE DELETE ON opportunities
    FOR EACH ROW EXECUTE FUNCTION stats_opportunity();

-- History rows, per statement: for every deal the statement touched, its
-- moves as they were (the table's rows minus the statement's new rows, plus
-- its old rows) are subtracted and its moves now added; rows that did not
-- change cancel out. The usual statement is the history trigger's one-row
-- INSERT, which adds one move.
-- +goose StatementBegin
CREATE FUNCTION stats_history_changed(p_new opportunity_stage_history[], p_old opportunity_stage_history[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    d opportunities;
    cur opportunity_stage_history[];
    before opportunity_stage_history[];
BEGIN
    FOR d IN
        SELECT o.* FROM opportunities o
        WHERE (o.org_id, o.id) IN (SELECT x.org_id, x.opportunity_id FROM unnest(p_new) x
                                   UNION SELECT x.org_id, x.opportunity_id FROM unnest(p_old) x)
          AND o.deleted_at IS NULL
        ORDER BY o.org_id, o.id
    LOOP
        cur := stats_history_of(d.org_id, d.id);
        SELECT coalesce(array_agg(h ORDER BY h.id), '{}') INTO before
        FROM (SELECT c.* FROM unnest(cur) c WHERE c.id NOT IN (SELECT x.id FROM unnest(p_new) x)
              UNION ALL
              SELECT x.* FROM unnest(p_old) x WHERE x.org_id = d.org_id AND x.opportunity_id = d.id) h;
        PERFORM stats_apply_moves(d, before, d, cur, stats_zone(d.org_id));
    END LOOP;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION stats_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM stats_history_changed(ARRAY(SELECT ROW(x.*)::opportunity_stage_history FROM stats_new x), '{}');
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM stats_history_changed(ARRAY(SELECT ROW(x.*)::opportunity_stage_history FROM stats_new x), ARRAY(SELECT ROW(x.*)::opportunity_stage_history FROM stats_old x));
    ELSE
        PERFORM stats_history_changed('{}', ARRAY(SELECT ROW(x.*)::opportunity_stage_history FROM stats_old x));
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER opportunity_stage_history_stats_insert AFTER INSERT ON opportunity_stage_history
    REFERENCING NEW TABLE AS stats_new FOR EACH STATEMENT EXECUTE FUNCTION stats_history();
CREATE TRIGGER opportunity_stage_history_stats_update AFTER UPDATE ON opportunity_stage_history
    REFERENCING OLD TABLE AS stats_old NEW TABLE AS stats_new FOR EACH STATEMENT EXECUTE FUNCTION stats_history();
CREATE TRIGGER opportunity_stage_history_stats_delete AFTER DELETE ON opportunity_stage_history
    REFERENCING OLD TABLE AS stats_old FOR EACH STATEMENT EXECUTE FUNCTION stats_history();

-- +goose StatementBegin
-- What one task row contributes to stats_task_facts, times s. The SLA
-- outcome is tasks.task_sla's (0020), judged at -infinity so that an open
-- task is "en_plazo" here and counted at its deadline; readers drop the
-- open ones whose deadline has not come.
CREATE FUNCTION stats_task_rows(t tasks, tz text, s bigint)
RETURNS TABLE (org_id bigint, month date, assignee_id bigint, type text, done bigint, sla_met bigint, sla_open bigint)
LANGUAGE sql IMMUTABLE AS $$
    SELECT t.org_id, x.month, t.assignee_id, t.type, x.done * s, x.met * s, x.open * s
    FROM (VALUES (date_trunc('month', t.completed_at AT TIME ZONE tz)::date, 1::bigint,
                  (task_sla(t.status, t.completed_at, t.sla_deadline, '-infinity') = 'cumple')::int::bigint, 0::bigint),
                 (date_trunc('month', t.sla_deadline AT TIME ZONE tz)::date, 0, 0,
                  (task_sla(t.status, t.completed_at, t.sla_deadline, '-infinity') IN ('no_cumple', 'en_plazo'))::int::bigint))
         AS x (month, done, met, open)
    WHERE t.id IS NOT NULL AND x.month IS NOT NULL AND (x.done <> 0 OR x.open <> 0)
      AND (x.done = 0 OR t.status = 'hecha')
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION stats_task() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    o tasks;
    n tasks;
    tz text;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN o := OLD; END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN n := NEW; END IF;
    IF TG_OP = 'UPDATE' AND (o.assignee_id, o.type, o.status, o.completed_at, o.sla_deadline)
            IS NOT DISTINCT FROM (n.assignee_id, n.type, n.status, n.completed_at, n.sla_deadline) THEN
        RETURN NULL;
    END IF;
    tz := stats_zone(coalesce(n.org_id, o.org_id));
    INSERT INTO stats_task_facts AS f (org_id, month, assignee_id, type, done, sla_met, sla_open)
    SELECT r.org_id, r.month, r.assignee_id, r.type, sum(r.done), sum(r.sla_met), sum(r.sla_open)
    FROM (SELECT * FROM stats_task_rows(o, tz, -1) UNION ALL SELECT * FROM stats_task_rows(n, tz, 1)) r
    GROUP BY 1, 2, 3, 4
    HAVING sum(r.done) <> 0 OR sum(r.sla_met) <> 0 OR sum(r.sla_open) <> 0
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (org_id, month, assignee_id, type) DO UPDATE
    SET done = f.done + excluded.done, sla_met = f.sla_met + excluded.sla_met, sla_open = f.sla_open + excluded.sla_open;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER tasks_stats AFTER INSERT OR UPDATE OR DELETE ON tasks
    FOR EACH ROW EXECUTE FUNCTION stats_task();

-- +goose StatementBegin
CREATE FUNCTION stats_lead() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    o leads;
    n leads;
    tz text;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN o := OLD; END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN n := NEW; END IF;
    IF TG_OP = 'UPDATE' AND (o.owner_id, o.source, o.created_at) IS NOT DISTINCT FROM (n.owner_id, n.source, n.created_at) THEN
        RETURN NULL;
    END IF;
    tz := stats_zone(coalesce(n.org_id, o.org_id));
    INSERT INTO stats_lead_facts AS f (org_id, month, owner_id, source, n)
    SELECT r.org_id, r.month, r.owner_id, r.source, sum(r.n)
    FROM (SELECT o.org_id, date_trunc('month', o.created_at AT TIME ZONE tz)::date AS month, coalesce(o.owner_id, 0) AS owner_id,
                 o.source, -1 AS n WHERE o.id IS NOT NULL
          UNION ALL
          SELECT n.org_id, date_trunc('month', n.created_at AT TIME ZONE tz)::date, coalesce(n.owner_id, 0), n.source, 1
          WHERE n.id IS NOT NULL) r
    GROUP BY 1, 2, 3, 4
    HAVING sum(r.n) <> 0
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (org_id, month, owner_id, source) DO UPDATE SET n = f.n + excluded.n;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER leads_stats AFTER INSERT OR UPDATE OR DELETE ON leads
    FOR EACH ROW EXECUTE FUNCTION stats_lead();

-- +goose StatementBegin
-- A quote's facts row recomputed from its rows: first sending (version 1,
-- the first sent: later versions open only after it), the current
-- version's total and validity, the first opening and signature, its deal's
-- source and group. Called on every change of the quote, its versions and
-- events, and of its deal's source or group.
CREATE FUNCTION stats_quote_refresh(p_org bigint, p_quote bigint) RETURNS void LANGUAGE sql AS $$
    DELETE FROM stats_quote_facts WHERE org_id = p_org AND quote_id = p_quote;
    INSERT INTO stats_quote_facts (org_id, quote_id, owner_id, source, group_id, status, sent_at, total, valid_until,
                                   opened_at, signed_at, deal_id)
    SELECT qu.org_id, qu.id, qu.owner_id, coalesce(d.source, ''), coalesce(d.article_group_id, 0), qu.status, v.sent_at,
           cv.total, cv.valid_until, qu.first_opened_at,
           (SELECT min(e.at) FROM quote_events e WHERE e.org_id = qu.org_id AND e.quote_id = qu.id AND e.kind = 'signed'),
           qu.opportunity_id
    FROM quotes qu
    JOIN quote_versions v ON v.org_id = qu.org_id AND v.quote_id = qu.id AND v.n = 1 AND v.sent_at IS NOT NULL
    JOIN quote_versions cv ON cv.org_id = qu.org_id AND cv.quote_id = qu.id AND cv.n = qu.current_version
    LEFT JOIN opportunities d ON d.org_id = qu.org_id AND d.id = qu.opportunity_id
    WHERE qu.org_id = p_org AND qu.id = p_quote;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION stats_quote() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'quotes' THEN
        IF TG_OP = 'DELETE' THEN
            RETURN NULL; -- its facts row goes with it (ON DELETE CASCADE)
        END IF;
        PERFORM stats_quote_refresh(NEW.org_id, NEW.id);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM stats_quote_refresh(OLD.org_id, OLD.quote_id);
    ELSE
        PERFORM stats_quote_refresh(NEW.org_id, NEW.quote_id);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER quotes_stats AFTER INSERT OR UPDATE ON quotes FOR EACH ROW EXECUTE FUNCTION stats_quote();
CREATE TRIGGER quote_versions_stats AFTER INSERT OR UPDATE OR DELETE ON quote_versions FOR EACH ROW EXECUTE FUNCTION stats_quote();
CREATE TRIGGER quote_events_stats AFTER INSERT ON quote_events FOR EACH ROW EXECUTE FUNCTION stats_quote();

-- +goose StatementBegin
-- Every rollup of an org recomputed from the base tables, the same
-- definitions as the triggers' (pulso stats rebuild; app/stats.Rebuild).
CREATE FUNCTION stats_rebuild(p_org bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    tz text := stats_zone(p_org);
BEGIN
    DELETE FROM stats_deal_facts WHERE org_id = p_org;
    DELETE FROM stats_deal_open WHERE org_id = p_org;
    DELETE FROM stats_stage_moves WHERE org_id = p_org;
    DELETE FROM stats_task_facts WHERE org_id = p_org;
    DELETE FROM stats_lead_facts WHERE org_id = p_org;

    INSERT INTO stats_deal_facts (org_id, month, kind, owner_id, source, group_id, stage, reason_id, n, from_lead, amount, cycle_seconds)
    SELECT r.org_id, r.month, r.kind, r.owner_id, r.source, r.group_id, r.stage, r.reason_id,
           sum(r.n), sum(r.from_lead), sum(r.amount), sum(r.cycle_seconds)
    FROM opportunities o, stats_deal_fact_rows(o, tz, 1) r
    WHERE o.org_id = p_org AND o.deleted_at IS NULL
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;

    INSERT INTO stats_deal_open (org_id, owner_id, source, group_id, stage, close_month, n, amount, weighted)
    SELECT r.org_id, r.owner_id, r.source, r.group_id, r.stage, r.close_month, sum(r.n), sum(r.amount), sum(r.weighted)
    FROM opportunities o, stats_deal_open_rows(o, 1) r
    WHERE o.org_id = p_org AND o.deleted_at IS NULL AND o.stage IN ('en_analisis', 'oferta_presentada', 'en_negociacion')
    GROUP BY 1, 2, 3, 4, 5, 6;

    INSERT INTO stats_stage_moves (org_id, month, owner_id, source, group_id, from_stage, to_stage, n, seconds)
    SELECT o.org_id, date_trunc('month', h.changed_at AT TIME ZONE tz)::date, coalesce(o.owner_id, 0), o.source,
           coalesce(o.article_group_id, 0), coalesce(h.from_stage, ''), h.to_stage, count(*),
           sum(coalesce(extract(epoch FROM h.changed_at - h.prev)::bigint, 0))
    FROM (SELECT x.opportunity_id, x.changed_at, x.from_stage, x.to_stage,
                 lag(x.changed_at) OVER (PARTITION BY x.opportunity_id ORDER BY x.id) AS prev
          FROM opportunity_stage_history x WHERE x.org_id = p_org) h
    JOIN opportunities o ON o.org_id = p_org AND o.id = h.opportunity_id AND o.deleted_at IS NULL
    GROUP BY 1, 2, 3, 4, 5, 6, 7;

    INSERT INTO stats_task_facts (org_id, month, assignee_id, type, done, sla_met, sla_open)
    SELECT r.org_id, r.month, r.assignee_id, r.type, sum(r.done), sum(r.sla_met), sum(r.sla_open)
    FROM tasks t, stats_task_rows(t, tz, 1) r
    WHERE t.org_id = p_org AND (t.status = 'hecha' OR t.sla_deadline IS NOT NULL)
    GROUP BY 1, 2, 3, 4;

    INSERT INTO stats_lead_facts (org_id, month, owner_id, source, n)
    SELECT p_org, date_trunc('month', l.created_at AT TIME ZONE tz)::date, coalesce(l.owner_id, 0), l.source, count(*)
    FROM leads l WHERE l.org_id = p_org
    GROUP BY 1, 2, 3, 4;

    DELETE FROM stats_quote_facts WHERE org_id = p_org;
    INSERT INTO stats_quote_facts (org_id, quote_id, owner_id, source, group_id, status, sent_at, total, valid_until,
                                   opened_at, signed_at, deal_id)
    SELECT qu.org_id, qu.id, qu.owner_id, coalesce(d.source, ''), coalesce(d.article_group_id, 0), qu.status, v.sent_at,
           cv.total, cv.valid_until, qu.first_opened_at, s.at, qu.opportunity_id
    FROM quotes qu
    JOIN quote_versions v ON v.org_id = qu.org_id AND v.quote_id = qu.id AND v.n = 1 AND v.sent_at IS NOT NULL
    JOIN quote_versions cv ON cv.org_id = qu.org_id AND cv.quote_id = qu.id AND cv.n = qu.current_version
    LEFT JOIN opportunities d ON d.org_id = qu.org_id AND d.id = qu.opportunity_id
    LEFT JOIN (SELECT e.quote_id, min(e.at) AS at FROM quote_events e WHERE e.org_id = p_org AND e.kind = 'signed'
               GROUP BY e.quote_id) s ON s.quote_id = qu.id
    WHERE qu.org_id = p_org;
END $$;
-- +goose StatementEnd

SELECT stats_rebuild(id) FROM orgs;

-- +goose Down
-- +goose StatementBegin
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I RESET jit', current_database());
EXCEPTION WHEN insufficient_privilege THEN
    NULL;
END $$;
-- +goose StatementEnd
DROP FUNCTION stats_rebuild(bigint);
DROP TRIGGER quote_events_stats ON quote_events;
DROP TRIGGER quote_versions_stats ON quote_versions;
DROP TRIGGER quotes_stats ON quotes;
DROP FUNCTION stats_quote();
DROP FUNCTION stats_quote_refresh(bigint, bigint);
DROP TABLE stats_quote_facts;
DROP TRIGGER leads_stats ON leads;
DROP FUNCTION stats_lead();
DROP TRIGGER tasks_stats ON tasks;
DROP FUNCTION stats_task();
DROP FUNCTION stats_task_rows(tasks, text, bigint);
DROP TRIGGER opportunity_stage_history_stats_insert ON opportunity_stage_history;
DROP TRIGGER opportunity_stage_history_stats_update ON opportunity_stage_history;
DROP TRIGGER opportunity_stage_history_stats_delete ON opportunity_stage_history;
DROP FUNCTION stats_history();
DROP FUNCTION stats_history_changed(opportunity_stage_history[], opportunity_stage_history[]);
DROP TRIGGER opportunities_0_stats ON opportunities;
DROP TRIGGER opportunities_0_stats_delete ON opportunities;
DROP FUNCTION stats_opportunity();
DROP FUNCTION stats_apply_moves(opportunities, opportunity_stage_history[], opportunities, opportunity_stage_history[], text);
DROP FUNCTION stats_move_rows(opportunities, text, bigint, opportunity_stage_history[]);
DROP FUNCTION stats_history_of(bigint, bigint);
DROP FUNCTION stats_deal_open_rows(opportunities, bigint);
DROP FUNCTION stats_deal_fact_rows(opportunities, text, bigint);
DROP FUNCTION stats_zone(bigint);
DROP INDEX tasks_open_deadline_idx;
DROP INDEX invoices_billed_idx;
DROP TABLE stats_lead_facts;
DROP TABLE stats_task_facts;
DROP TABLE stats_stage_moves;
DROP TABLE stats_deal_open;
DROP TABLE stats_deal_facts;
DROP TRIGGER opportunities_lead_source ON opportunities;
DROP FUNCTION opportunities_lead_source();
ALTER TABLE opportunities DROP COLUMN article_group_id, DROP COLUMN source;
