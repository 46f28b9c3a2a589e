-- The stage-history trigger found the deals its statement touched with
-- (org_id, id) IN (the statement's keys), which the planner may answer by
-- reading every live deal of every org and hashing them against the keys:
-- on a table whose statistics are stale (a freshly seeded database, a
-- bulk load) each one-row history insert scanned the whole table, and the
-- demo's seed grew slower with every org (0.5 s of deals for the first
-- org, 1.5 s for the thirteenth). Now each key is looked up by the primary
-- key, whatever the statistics say.

-- +goose Up
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION stats_history_changed(p_new opportunity_stage_history[], p_old opportunity_stage_history[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    k record;
    d opportunities;
    cur opportunity_stage_history[];
    before opportunity_stage_history[];
BEGIN
    FOR k IN
        SELECT x.org_id, x.opportunity_id FROM unnest(p_new) x
        UNION SELECT x.org_id, x.opportunity_id FROM unnest(p_old) x
        ORDER BY 1, 2
    LOOP
        SELECT o.* INTO d FROM opportunities o WHERE o.org_id = k.org_id AND o.id = k.opportunity_id AND o.deleted_at IS NULL;
        CONTINUE WHEN NOT FOUND;
        cur := stats_history_of(d.org_id, d.id);
        SELECT coalesce(array_agg(h ORDER BY h.id), '{}') INTO before
        FROM (SELECT c.* FROM unnest(cur) c WHERE c.id NOT IN (SELECT x.id FROM unnest(p_new) x)
              UNION ALL
              SELECT x.* FROM unnest(p_old) x WHERE x.org_id = d.org_id AND x.opportunity_id = d.id) h;
        PERFORM stats_apply_moves(d, before, d, cur, stats_zone(d.org_id));
    END LOOP;
END $$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION stats_history_changed(p_new opportunity_stage_history[], p_old opportunity_stage_history[])
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
