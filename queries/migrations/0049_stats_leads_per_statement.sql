-- The leads rollup (stats_lead_facts) was kept by a row-level trigger: an
-- import's one INSERT … SELECT of 100 000 leads upserted the same
-- (org, month, owner, source) row 100 000 times in one transaction, and
-- each upsert had to walk the row's growing chain of versions to find the
-- live one — quadratic: 20 000 leads took 4.8 s instead of 0.5 s, the
-- 100 000-row import 92 s instead of 6 (BENCHMARKS.md, Imports). Now one
-- statement-level trigger per event adds up what the statement's rows
-- contribute (transition tables) and upserts each rollup row once.

-- +goose Up
DROP TRIGGER leads_stats ON leads;
DROP FUNCTION stats_lead();

-- +goose StatementBegin
-- What a statement's old rows take from and its new rows add to the
-- rollup, netted per row of it; an update that keeps owner, source and
-- creation nets to nothing and writes nothing.
CREATE FUNCTION stats_leads() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO stats_lead_facts AS f (org_id, month, owner_id, source, n)
        SELECT r.org_id, r.month, r.owner_id, r.source, sum(r.n)
        FROM (SELECT l.org_id, date_trunc('month', l.created_at AT TIME ZONE g.time_zone)::date AS month,
                     coalesce(l.owner_id, 0) AS owner_id, l.source, 1 AS n
              FROM new_rows l JOIN orgs g ON g.id = l.org_id) r
        GROUP BY 1, 2, 3, 4
        ORDER BY 1, 2, 3, 4
        ON CONFLICT (org_id, month, owner_id, source) DO UPDATE SET n = f.n + excluded.n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO stats_lead_facts AS f (org_id, month, owner_id, source, n)
        SELECT r.org_id, r.month, r.owner_id, r.source, sum(r.n)
        FROM (SELECT l.org_id, date_trunc('month', l.created_at AT TIME ZONE g.time_zone)::date AS month,
                     coalesce(l.owner_id, 0) AS owner_id, l.source, -1 AS n
              FROM old_rows l JOIN orgs g ON g.id = l.org_id) r
        GROUP BY 1, 2, 3, 4
        ORDER BY 1, 2, 3, 4
        ON CONFLICT (org_id, month, owner_id, source) DO UPDATE SET n = f.n + excluded.n;
    ELSE
        INSERT INTO stats_lead_facts AS f (org_id, month, owner_id, source, n)
        SELECT r.org_id, r.month, r.owner_id, r.source, sum(r.n)
        FROM (SELECT l.org_id, date_trunc('month', l.created_at AT TIME ZONE g.time_zone)::date AS month,
                     coalesce(l.owner_id, 0) AS owner_id, l.source, -1 AS n
              FROM old_rows l JOIN orgs g ON g.id = l.org_id
              UNION ALL
              SELECT l.org_id, date_trunc('month', l.created_at AT TIME ZONE g.time_zone)::date,
                     coalesce(l.owner_id, 0), l.source, 1
              FROM new_rows l JOIN orgs g ON g.id = l.org_id) r
        GROUP BY 1, 2, 3, 4
        HAVING sum(r.n) <> 0
        ORDER BY 1, 2, 3, 4
        ON CONFLICT (org_id, month, owner_id, source) DO UPDATE SET n = f.n + excluded.n;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- A trigger with transition tables has one event (PostgreSQL's rule).
CREATE TRIGGER leads_stats_insert AFTER INSERT ON leads
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_leads();
CREATE TRIGGER leads_stats_update AFTER UPDATE ON leads
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_leads();
CREATE TRIGGER leads_stats_delete AFTER DELETE ON leads
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_leads();

-- +goose Down
DROP TRIGGER leads_stats_insert ON leads;
DROP TRIGGER leads_stats_update ON leads;
DROP TRIGGER leads_stats_delete ON leads;
DROP FUNCTION stats_leads();

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
