-- app/stats: the fast readers (rollups of migration 0040, or base tables
-- through the indexes 0040 adds) and their naive twins (plain GROUP BY over
-- the base tables: the equality test's reference and the benchmark's
-- baseline). Spans are months [@from_month, @to_month) in the org's zone;
-- owners NULL is everyone (unowned included), @source '' and @group_id 0
-- are any. Weighted amounts are sum(amount × probability) / 100, rounded
-- half up once per sum.

-- name: StatsPipeline :many
SELECT s.stage, coalesce(sum(o.n), 0)::bigint AS n, coalesce(sum(o.amount), 0)::bigint AS amount,
       floor((coalesce(sum(o.weighted), 0) + 50) / 100)::bigint AS weighted
FROM pipeline_stages s
LEFT JOIN stats_deal_open o ON o.org_id = s.org_id AND o.stage = s.stage
     AND (sqlc.narg('owners')::bigint[] IS NULL OR o.owner_id = ANY (sqlc.narg('owners')::bigint[]))
     AND (@source::text = '' OR o.source = @source::text)
     AND (@group_id::bigint = 0 OR o.group_id = @group_id::bigint)
WHERE s.org_id = @org_id AND s.stage IN ('en_analisis', 'oferta_presentada', 'en_negociacion')
GROUP BY s.stage, s.position
ORDER BY s.position;

-- name: StatsPipelineNaive :many
SELECT s.stage, count(o.id)::bigint AS n, coalesce(sum(o.amount), 0)::bigint AS amount,
       floor((coalesce(sum(o.amount * o.probability), 0) + 50) / 100)::bigint AS weighted
FROM pipeline_stages s
LEFT JOIN opportunities o ON o.org_id = s.org_id AND o.stage = s.stage AND o.deleted_at IS NULL
     AND (sqlc.narg('owners')::bigint[] IS NULL OR o.owner_id = ANY (sqlc.narg('owners')::bigint[]))
     AND (@source::text = '' OR o.source = @source::text)
     AND (@group_id::bigint = 0 OR o.article_group_id = @group_id::bigint)
WHERE s.org_id = @org_id AND s.stage IN ('en_analisis', 'oferta_presentada', 'en_negociacion')
GROUP BY s.stage, s.position
ORDER BY s.position;

-- name: StatsOutcomes :many
SELECT kind, sum(n)::bigint AS n, sum(amount)::bigint AS amount, sum(from_lead)::bigint AS from_lead,
       sum(cycle_seconds)::bigint AS cycle_seconds
FROM stats_deal_facts
WHERE org_id = @org_id AND month >= @from_month::date AND month < @to_month::date
  AND (sqlc.narg('owners')::bigint[] IS NULL OR owner_id = ANY (sqlc.narg('owners')::bigint[]))
  AND (@source::text = '' OR source = @source::text)
  AND (@group_id::bigint = 0 OR group_id = @group_id::bigint)
GROUP BY kind;

-- name: StatsOutcomesNaive :one
WITH b AS (
    SELECT (@from_month::date)::timestamp AT TIME ZONE o.time_zone AS lo, (@to_month::date)::timestamp AT TIME ZONE o.time_zone AS hi
    FROM orgs o WHERE o.id = @org_id
)
SELECT count(*) FILTER (WHERE d.created_at >= b.lo AND d.created_at < b.hi)::bigint AS created_n,
       coalesce(sum(d.amount) FILTER (WHERE d.created_at >= b.lo AND d.created_at < b.hi), 0)::bigint AS created_amount,
       count(d.source_lead_id) FILTER (WHERE d.created_at >= b.lo AND d.created_at < b.hi)::bigint AS created_from_leads,
       count(*) FILTER (WHERE d.stage = 'ganada' AND d.stage_entered_at >= b.lo AND d.stage_entered_at < b.hi)::bigint AS won_n,
       coalesce(sum(d.amount) FILTER (WHERE d.stage = 'ganada' AND d.stage_entered_at >= b.lo AND d.stage_entered_at < b.hi), 0)::bigint AS won_amount,
       coalesce(sum(extract(epoch FROM d.stage_entered_at - d.created_at)::bigint)
                FILTER (WHERE d.stage = 'ganada' AND d.stage_entered_at >= b.lo AND d.stage_entered_at < b.hi), 0)::bigint AS cycle_seconds,
       count(*) FILTER (WHERE d.stage = 'cancelada' AND d.stage_entered_at >= b.lo AND d.stage_entered_at < b.hi)::bigint AS lost_n,
       coalesce(sum(d.amount) FILTER (WHERE d.stage = 'cancelada' AND d.stage_entered_at >= b.lo AND d.stage_entered_at < b.hi), 0)::bigint AS lost_amount
FROM b, opportunities d
WHERE d.org_id = @org_id AND d.deleted_at IS NULL
  AND (sqlc.narg('owners')::bigint[] IS NULL OR d.owner_id = ANY (sqlc.narg('owners')::bigint[]))
  AND (@source::text = '' OR d.source = @source::text)
  AND (@group_id::bigint = 0 OR d.article_group_id = @group_id::bigint);

-- name: StatsLeadsCreated :one
SELECT coalesce(sum(n), 0)::bigint FROM stats_lead_facts
WHERE org_id = @org_id AND month >= @from_month::date AND month < @to_month::date
  AND (sqlc.narg('owners')::bigint[] IS NULL OR owner_id = ANY (sqlc.narg('owners')::bigint[]))
  AND (@source::text = '' OR source = @source::text);

-- name: StatsLeadsCreatedNaive :one
SELECT count(*)::bigint FROM leads l, orgs o
WHERE o.id = @org_id AND l.org_id = @org_id
  AND l.created_at >= (@from_month::date)::timestamp AT TIME ZONE o.time_zone
  AND l.created_at < (@to_month::date)::timestamp AT TIME ZONE o.time_zone
  AND (sqlc.narg('owners')::bigint[] IS NULL OR l.owner_id = ANY (sqlc.narg('owners')::bigint[]))
  AND (@source::text = '' OR l.source = @source::text);

-- name: StatsActivities :many
-- Overdue: open tasks due before @now, counted per user on tasks_assignee_idx.
SELECT u.id, u.name, coalesce(t.done, 0)::bigint AS done, coalesce(t.calls, 0)::bigint AS calls,
       coalesce(t.visits, 0)::bigint AS visits,
       (SELECT count(*) FROM tasks x WHERE x.org_id = u.org_id AND x.assignee_id = u.id AND x.status = 'pendiente'
          AND x.due_at < @now::timestamptz)::bigint AS overdue
FROM users u
LEFT JOIN (SELECT f.assignee_id, sum(f.done) AS done, sum(f.done) FILTER (WHERE f.type = 'llamada') AS calls,
                  sum(f.done) FILTER (WHERE f.type = 'visita') AS visits
           FROM stats_task_facts f
           WHERE f.org_id = @org_id AND f.month >= @from_month::date AND f.month < @to_month::date
             AND (sqlc.narg('owners')::bigint[] IS NULL OR f.assignee_id = ANY (sqlc.narg('owners')::bigint[]))
           GROUP BY f.assignee_id) t ON t.assignee_id = u.id
WHERE u.org_id = @org_id
  AND ((sqlc.narg('owners')::bigint[] IS NULL AND u.active) OR u.id = ANY (sqlc.narg('owners')::bigint[]))
ORDER BY u.name, u.id;

-- name: StatsActivitiesNaive :many
WITH b AS (
    SELECT (@from_month::date)::timestamp AT TIME ZONE o.time_zone AS lo, (@to_month::date)::timestamp AT TIME ZONE o.time_zone AS hi
    FROM orgs o WHERE o.id = @org_id
)
SELECT u.id, u.name,
       count(t.id) FILTER (WHERE t.status = 'hecha' AND t.completed_at >= b.lo AND t.completed_at < b.hi)::bigint AS done,
       count(t.id) FILTER (WHERE t.status = 'hecha' AND t.type = 'llamada' AND t.completed_at >= b.lo AND t.completed_at < b.hi)::bigint AS calls,
       count(t.id) FILTER (WHERE t.status = 'hecha' AND t.type = 'visita' AND t.completed_at >= b.lo AND t.completed_at < b.hi)::bigint AS visits,
       count(t.id) FILTER (WHERE t.status = 'pendiente' AND t.due_at < @now::timestamptz)::bigint AS overdue
FROM b, users u
LEFT JOIN tasks t ON t.org_id = u.org_id AND t.assignee_id = u.id
WHERE u.org_id = @org_id
  AND ((sqlc.narg('owners')::bigint[] IS NULL AND u.active) OR u.id = ANY (sqlc.narg('owners')::bigint[]))
GROUP BY u.id, u.name
ORDER BY u.name, u.id;

-- name: StatsTaskSLA :one
-- Open tasks count at their deadline in the rollup; those whose deadline
-- has not come yet are "en plazo" and come off here.
SELECT coalesce((SELECT sum(f.sla_met) FROM stats_task_facts f
                 WHERE f.org_id = @org_id AND f.month >= @from_month::date AND f.month < @to_month::date
                   AND (sqlc.narg('owners')::bigint[] IS NULL OR f.assignee_id = ANY (sqlc.narg('owners')::bigint[]))), 0)::bigint AS met,
       (coalesce((SELECT sum(f.sla_met + f.sla_open) FROM stats_task_facts f
                 WHERE f.org_id = @org_id AND f.month >= @from_month::date AND f.month < @to_month::date
                   AND (sqlc.narg('owners')::bigint[] IS NULL OR f.assignee_id = ANY (sqlc.narg('owners')::bigint[]))), 0)::bigint
       - (SELECT count(*) FROM tasks t, orgs o
          WHERE o.id = @org_id AND t.org_id = @org_id AND t.status = 'pendiente' AND t.sla_deadline IS NOT NULL
            AND t.sla_deadline > now()
            AND t.sla_deadline >= (@from_month::date)::timestamp AT TIME ZONE o.time_zone
            AND t.sla_deadline < (@to_month::date)::timestamp AT TIME ZONE o.time_zone
            AND (sqlc.narg('owners')::bigint[] IS NULL OR t.assignee_id = ANY (sqlc.narg('owners')::bigint[])))::bigint)::bigint AS with_sla;

-- name: StatsTaskSLANaive :one
-- A task's SLA is decided when it is met (done in time: at completion) or
-- missed (at the deadline), by tasks.task_sla.
SELECT count(*) FILTER (WHERE x.sla = 'cumple')::bigint AS met, count(*)::bigint AS with_sla
FROM (SELECT task_sla(t.status, t.completed_at, t.sla_deadline, now()) AS sla, t.completed_at, t.sla_deadline
      FROM tasks t
      WHERE t.org_id = @org_id
        AND (sqlc.narg('owners')::bigint[] IS NULL OR t.assignee_id = ANY (sqlc.narg('owners')::bigint[]))) x,
     orgs o
WHERE o.id = @org_id AND x.sla IN ('cumple', 'no_cumple')
  AND CASE WHEN x.sla = 'cumple' THEN x.completed_at ELSE x.sla_deadline END >= (@from_month::date)::timestamp AT TIME ZONE o.time_zone
  AND CASE WHEN x.sla = 'cumple' THEN x.completed_at ELSE x.sla_deadline END < (@to_month::date)::timestamp AT TIME ZONE o.time_zone;

-- name: StatsQuotes :one
-- Quotes first sent in the span, from stats_quote_facts (an index-only
-- scan of stats_quote_facts_sent_idx). Source and group are the deal's.
WITH b AS (
    SELECT (@from_month::date)::timestamp AT TIME ZONE o.time_zone AS lo, (@to_month::date)::timestamp AT TIME ZONE o.time_zone AS hi
    FROM orgs o WHERE o.id = @org_id
), q AS (
    SELECT f.status, f.opened_at, f.sent_at, f.total, f.valid_until, CASE WHEN f.status = 'signed' THEN f.signed_at END AS signed_at
    FROM b, stats_quote_facts f
    WHERE f.org_id = @org_id AND f.sent_at >= b.lo AND f.sent_at < b.hi
      AND (sqlc.narg('owners')::bigint[] IS NULL OR f.owner_id = ANY (sqlc.narg('owners')::bigint[]))
      AND (@source::text = '' OR f.source = @source::text)
      AND (@group_id::bigint = 0 OR f.group_id = @group_id::bigint)
)
SELECT count(*)::bigint AS sent_n, coalesce(sum(total), 0)::bigint AS sent_amount,
       count(opened_at)::bigint AS opened,
       count(*) FILTER (WHERE status = 'signed')::bigint AS signed_n,
       coalesce(sum(total) FILTER (WHERE status = 'signed'), 0)::bigint AS signed_amount,
       count(*) FILTER (WHERE status = 'rejected')::bigint AS rejected,
       count(*) FILTER (WHERE status = 'sent' AND valid_until < @today::date)::bigint AS expired,
       coalesce(percentile_disc(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM opened_at - sent_at)), 0)::float8 AS median_open,
       coalesce(percentile_disc(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM signed_at - sent_at)), 0)::float8 AS median_sign
FROM q;

-- name: StatsQuotesNaive :one
WITH first AS (
    SELECT v.quote_id, min(v.sent_at) AS sent_at FROM quote_versions v WHERE v.org_id = @org_id AND v.sent_at IS NOT NULL
    GROUP BY v.quote_id
), signed AS (
    SELECT e.quote_id, min(e.at) AS at FROM quote_events e WHERE e.org_id = @org_id AND e.kind = 'signed' GROUP BY e.quote_id
), q AS (
    SELECT qu.status, qu.first_opened_at, f.sent_at, cv.total, cv.valid_until,
           CASE WHEN qu.status = 'signed' THEN s.at END AS signed_at
    FROM orgs o
    JOIN first f ON f.sent_at >= (@from_month::date)::timestamp AT TIME ZONE o.time_zone
                AND f.sent_at < (@to_month::date)::timestamp AT TIME ZONE o.time_zone
    JOIN quotes qu ON qu.org_id = o.id AND qu.id = f.quote_id
    JOIN quote_versions cv ON cv.org_id = qu.org_id AND cv.quote_id = qu.id AND cv.n = qu.current_version
    LEFT JOIN signed s ON s.quote_id = qu.id
    LEFT JOIN opportunities d ON d.org_id = qu.org_id AND d.id = qu.opportunity_id
    WHERE o.id = @org_id
      AND (sqlc.narg('owners')::bigint[] IS NULL OR qu.owner_id = ANY (sqlc.narg('owners')::bigint[]))
      AND (@source::text = '' OR d.source = @source::text)
      AND (@group_id::bigint = 0 OR d.article_group_id = @group_id::bigint)
)
SELECT count(*)::bigint AS sent_n, coalesce(sum(total), 0)::bigint AS sent_amount,
       count(first_opened_at)::bigint AS opened,
       count(*) FILTER (WHERE status = 'signed')::bigint AS signed_n,
       coalesce(sum(total) FILTER (WHERE status = 'signed'), 0)::bigint AS signed_amount,
       count(*) FILTER (WHERE status = 'rejected')::bigint AS rejected,
       count(*) FILTER (WHERE status = 'sent' AND valid_until < @today::date)::bigint AS expired,
       coalesce(percentile_disc(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM first_opened_at - sent_at)), 0)::float8 AS median_open,
       coalesce(percentile_disc(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM signed_at - sent_at)), 0)::float8 AS median_sign
FROM q;

-- name: StatsBilled :one
-- Issued invoices (correctives included, proformas and voided never) by
-- issue date, on invoices_billed_idx.
SELECT count(*)::bigint AS n, coalesce(sum(total), 0)::bigint AS amount FROM invoices
WHERE org_id = @org_id AND state = 'issued' AND kind <> 'proforma'
  AND issue_date >= @from_month::date AND issue_date < @to_month::date;

-- name: StatsBilledNaive :one
SELECT count(*)::bigint AS n, coalesce(sum(i.total), 0)::bigint AS amount FROM invoices i, orgs o
WHERE o.id = @org_id AND i.org_id = @org_id AND i.state = 'issued' AND i.kind <> 'proforma'
  AND date_trunc('month', i.issue_date)::date >= @from_month::date AND date_trunc('month', i.issue_date)::date < @to_month::date;

-- name: StatsOwed :one
-- What customers owe on @today: issued invoices whose allocations fall
-- short of the total (invoices_web's "unpaid"), overdue when past due.
SELECT coalesce(sum(i.total - a.paid), 0)::bigint AS outstanding,
       coalesce(sum(i.total - a.paid) FILTER (WHERE i.due_date < @today::date), 0)::bigint AS overdue,
       count(DISTINCT i.customer_id) FILTER (WHERE i.due_date < @today::date)::bigint AS debtors
FROM invoices i
CROSS JOIN LATERAL (SELECT coalesce(sum(x.amount), 0) AS paid FROM invoice_allocations x
                    WHERE x.org_id = i.org_id AND x.invoice_id = i.id) a
WHERE i.org_id = @org_id AND i.state = 'issued' AND i.kind <> 'proforma' AND i.total > a.paid;

-- name: StatsOwedNaive :one
WITH paid AS (SELECT a.invoice_id, sum(a.amount) AS paid FROM invoice_allocations a WHERE a.org_id = @org_id::bigint GROUP BY a.invoice_id),
owed AS (
    SELECT i.customer_id, i.due_date, i.total - coalesce(p.paid, 0) AS owed FROM invoices i
    LEFT JOIN paid p ON p.invoice_id = i.id
    WHERE i.org_id = @org_id::bigint AND i.state = 'issued' AND i.kind <> 'proforma'
)
SELECT coalesce(sum(owed), 0)::bigint AS outstanding,
       coalesce(sum(owed) FILTER (WHERE due_date < @today::date), 0)::bigint AS overdue,
       count(DISTINCT customer_id) FILTER (WHERE due_date < @today::date)::bigint AS debtors
FROM owed WHERE owed > 0;

-- name: StatsTransitions :many
SELECT from_stage, to_stage, sum(n)::bigint AS n, sum(seconds)::bigint AS seconds
FROM stats_stage_moves
WHERE org_id = @org_id AND month >= @from_month::date AND month < @to_month::date
  AND (sqlc.narg('owners')::bigint[] IS NULL OR owner_id = ANY (sqlc.narg('owners')::bigint[]))
  AND (@source::text = '' OR source = @source::text)
  AND (@group_id::bigint = 0 OR group_id = @group_id::bigint)
GROUP BY from_stage, to_stage
HAVING sum(n) <> 0
ORDER BY from_stage, to_stage;

-- name: StatsTransitionsNaive :many
-- Seconds in the stage left: since the deal's previous history row.
SELECT coalesce(h.from_stage, '')::text AS from_stage, h.to_stage, count(*)::bigint AS n,
       sum(coalesce(extract(epoch FROM h.changed_at - h.prev)::bigint, 0))::bigint AS seconds
FROM (SELECT x.opportunity_id, x.from_stage, x.to_stage, x.changed_at,
             lag(x.changed_at) OVER (PARTITION BY x.opportunity_id ORDER BY x.id) AS prev
      FROM opportunity_stage_history x WHERE x.org_id = @org_id) h
JOIN opportunities d ON d.org_id = @org_id AND d.id = h.opportunity_id AND d.deleted_at IS NULL
JOIN orgs o ON o.id = @org_id
WHERE h.changed_at >= (@from_month::date)::timestamp AT TIME ZONE o.time_zone
  AND h.changed_at < (@to_month::date)::timestamp AT TIME ZONE o.time_zone
  AND (sqlc.narg('owners')::bigint[] IS NULL OR d.owner_id = ANY (sqlc.narg('owners')::bigint[]))
  AND (@source::text = '' OR d.source = @source::text)
  AND (@group_id::bigint = 0 OR d.article_group_id = @group_id::bigint)
GROUP BY 1, 2
ORDER BY 1, 2;

-- name: StatsLostReasons :many
SELECT f.reason_id, coalesce(c.name, '')::text AS name, sum(f.n)::bigint AS n, sum(f.amount)::bigint AS amount
FROM stats_deal_facts f
LEFT JOIN cancel_reasons c ON c.org_id = f.org_id AND c.id = f.reason_id
WHERE f.org_id = @org_id AND f.kind = 'lost' AND f.month >= @from_month::date AND f.month < @to_month::date
  AND (sqlc.narg('owners')::bigint[] IS NULL OR f.owner_id = ANY (sqlc.narg('owners')::bigint[]))
  AND (@source::text = '' OR f.source = @source::text)
  AND (@group_id::bigint = 0 OR f.group_id = @group_id::bigint)
GROUP BY f.reason_id, c.name
HAVING sum(f.n) <> 0
ORDER BY 3 DESC, 4 DESC, 1;

-- name: StatsLostReasonsNaive :many
SELECT coalesce(d.cancel_reason_id, 0)::bigint AS reason_id, coalesce(c.name, '')::text AS name, count(*)::bigint AS n,
       sum(d.amount)::bigint AS amount
FROM opportunities d
JOIN orgs o ON o.id = d.org_id
LEFT JOIN cancel_reasons c ON c.org_id = d.org_id AND c.id = d.cancel_reason_id
WHERE d.org_id = @org_id AND d.deleted_at IS NULL AND d.stage = 'cancelada'
  AND d.stage_entered_at >= (@from_month::date)::timestamp AT TIME ZONE o.time_zone
  AND d.stage_entered_at < (@to_month::date)::timestamp AT TIME ZONE o.time_zone
  AND (sqlc.narg('owners')::bigint[] IS NULL OR d.owner_id = ANY (sqlc.narg('owners')::bigint[]))
  AND (@source::text = '' OR d.source = @source::text)
  AND (@group_id::bigint = 0 OR d.article_group_id = @group_id::bigint)
GROUP BY 1, 2
ORDER BY 3 DESC, 4 DESC, 1;

-- name: StatsForecast :many
SELECT close_month::date AS month, sum(n)::bigint AS deals, floor((sum(weighted) + 50) / 100)::bigint AS weighted
FROM stats_deal_open
WHERE org_id = @org_id AND close_month >= @from_month::date AND close_month < @to_month::date
  AND (sqlc.narg('owners')::bigint[] IS NULL OR owner_id = ANY (sqlc.narg('owners')::bigint[]))
  AND (@source::text = '' OR source = @source::text)
  AND (@group_id::bigint = 0 OR group_id = @group_id::bigint)
GROUP BY close_month
HAVING sum(n) <> 0
ORDER BY close_month;

-- name: StatsForecastNaive :many
SELECT date_trunc('month', expected_close)::date AS month, count(*)::bigint AS deals,
       floor((sum(amount * probability) + 50) / 100)::bigint AS weighted
FROM opportunities
WHERE org_id = @org_id AND deleted_at IS NULL AND stage IN ('en_analisis', 'oferta_presentada', 'en_negociacion')
  AND expected_close >= @from_month::date AND expected_close < @to_month::date
  AND (sqlc.narg('owners')::bigint[] IS NULL OR owner_id = ANY (sqlc.narg('owners')::bigint[]))
  AND (@source::text = '' OR source = @source::text)
  AND (@group_id::bigint = 0 OR article_group_id = @group_id::bigint)
GROUP BY 1
ORDER BY 1;

-- name: StatsRecurringTemplates :many
-- Active templates with a period left, and what each period bills before
-- tax (each line rounded half up to the minor unit). A template belongs to
-- its customer's owner, like its invoices.
SELECT sqlc.embed(t),
       (SELECT coalesce(sum(round(l.quantity * l.unit_price * (100 - l.discount_pct) / 100)), 0)
        FROM recurring_invoice_lines l WHERE l.org_id = t.org_id AND l.template_id = t.id)::bigint AS amount
FROM recurring_invoices t
JOIN customers c ON c.org_id = t.org_id AND c.id = t.customer_id
WHERE t.org_id = @org_id AND t.active AND t.next_period IS NOT NULL AND t.next_period < @to_month::date
  AND (sqlc.narg('owners')::bigint[] IS NULL OR coalesce(c.owner_id, t.created_by) = ANY (sqlc.narg('owners')::bigint[]))
ORDER BY t.id;

-- name: StatsTableDeals :many
-- Measure rows of stats_deal_facts (kind created, won or lost) per month
-- and dimension key ('' for none).
SELECT f.month, coalesce(CASE @dim::text
           WHEN 'rep' THEN nullif(f.owner_id, 0)::text
           WHEN 'team' THEN u.manager_id::text
           WHEN 'source' THEN f.source
           WHEN 'group' THEN nullif(f.group_id, 0)::text
           WHEN 'stage' THEN f.stage
       END, '')::text AS key,
       sum(CASE WHEN @amount::boolean THEN f.amount ELSE f.n END)::bigint AS value
FROM stats_deal_facts f
LEFT JOIN users u ON u.org_id = f.org_id AND u.id = f.owner_id
WHERE f.org_id = @org_id AND f.kind = @kind::text AND f.month >= @from_month::date AND f.month < @to_month::date
  AND (sqlc.narg('owners')::bigint[] IS NULL OR f.owner_id = ANY (sqlc.narg('owners')::bigint[]))
  AND (@source::text = '' OR f.source = @source::text)
  AND (@group_id::bigint = 0 OR f.group_id = @group_id::bigint)
GROUP BY 1, 2
HAVING sum(f.n) <> 0
ORDER BY 1, 2;

-- name: StatsTableDealsNaive :many
SELECT date_trunc('month', x.at AT TIME ZONE o.time_zone)::date AS month,
       coalesce(CASE @dim::text
           WHEN 'rep' THEN d.owner_id::text
           WHEN 'team' THEN u.manager_id::text
           WHEN 'source' THEN d.source
           WHEN 'group' THEN d.article_group_id::text
           WHEN 'stage' THEN d.stage
       END, '')::text AS key,
       sum(CASE WHEN @amount::boolean THEN d.amount ELSE 1 END)::bigint AS value
FROM opportunities d
JOIN orgs o ON o.id = d.org_id
CROSS JOIN LATERAL (SELECT CASE WHEN @kind::text = 'created' THEN d.created_at ELSE d.stage_entered_at END AS at) x
LEFT JOIN users u ON u.org_id = d.org_id AND u.id = d.owner_id
WHERE d.org_id = @org_id AND d.deleted_at IS NULL
  AND (@kind::text = 'created' OR d.stage = CASE @kind::text WHEN 'won' THEN 'ganada' ELSE 'cancelada' END)
  AND x.at >= (@from_month::date)::timestamp AT TIME ZONE o.time_zone
  AND x.at < (@to_month::date)::timestamp AT TIME ZONE o.time_zone
  AND (sqlc.narg('owners')::bigint[] IS NULL OR d.owner_id = ANY (sqlc.narg('owners')::bigint[]))
  AND (@source::text = '' OR d.source = @source::text)
  AND (@group_id::bigint = 0 OR d.article_group_id = @group_id::bigint)
GROUP BY 1, 2
ORDER BY 1, 2;

-- name: StatsTableStageEntries :many
SELECT f.month, coalesce(CASE @dim::text
           WHEN 'rep' THEN nullif(f.owner_id, 0)::text
           WHEN 'team' THEN u.manager_id::text
           WHEN 'source' THEN f.source
           WHEN 'group' THEN nullif(f.group_id, 0)::text
           WHEN 'stage' THEN f.to_stage
       END, '')::text AS key,
       sum(f.n)::bigint AS value
FROM stats_stage_moves f
LEFT JOIN users u ON u.org_id = f.org_id AND u.id = f.owner_id
WHERE f.org_id = @org_id AND f.month >= @from_month::date AND f.month < @to_month::date
  AND (sqlc.narg('owners')::bigint[] IS NULL OR f.owner_id = ANY (sqlc.narg('owners')::bigint[]))
  AND (@source::text = '' OR f.source = @source::text)
  AND (@group_id::bigint = 0 OR f.group_id = @group_id::bigint)
GROUP BY 1, 2
HAVING sum(f.n) <> 0
ORDER BY 1, 2;

-- name: StatsTableStageEntriesNaive :many
SELECT date_trunc('month', h.changed_at AT TIME ZONE o.time_zone)::date AS month,
       coalesce(CASE @dim::text
           WHEN 'rep' THEN d.owner_id::text
           WHEN 'team' THEN u.manager_id::text
           WHEN 'source' THEN d.source
           WHEN 'group' THEN d.article_group_id::text
           WHEN 'stage' THEN h.to_stage
       END, '')::text AS key,
       count(*)::bigint AS value
FROM opportunity_stage_history h
JOIN opportunities d ON d.org_id = h.org_id AND d.id = h.opportunity_id AND d.deleted_at IS NULL
JOIN orgs o ON o.id = h.org_id
LEFT JOIN users u ON u.org_id = d.org_id AND u.id = d.owner_id
WHERE h.org_id = @org_id
  AND h.changed_at >= (@from_month::date)::timestamp AT TIME ZONE o.time_zone
  AND h.changed_at < (@to_month::date)::timestamp AT TIME ZONE o.time_zone
  AND (sqlc.narg('owners')::bigint[] IS NULL OR d.owner_id = ANY (sqlc.narg('owners')::bigint[]))
  AND (@source::text = '' OR d.source = @source::text)
  AND (@group_id::bigint = 0 OR d.article_group_id = @group_id::bigint)
GROUP BY 1, 2
ORDER BY 1, 2;

-- name: StatsTableQuotes :many
-- Quotes sent (by first sending) or signed (by the signature) per month,
-- from stats_quote_facts' months (in the org's calendar, kept by a
-- trigger); "stage" is the quote's status; source and group are its
-- deal's ('' without one).
WITH x AS (
    SELECT f.sent_month AS month, f.owner_id, f.source, f.group_id, f.status FROM stats_quote_facts f
    WHERE NOT @signed::boolean AND f.org_id = @org_id AND f.sent_month >= @from_month::date AND f.sent_month < @to_month::date
    UNION ALL
    SELECT f.signed_month, f.owner_id, f.source, f.group_id, f.status FROM stats_quote_facts f
    WHERE @signed::boolean AND f.org_id = @org_id AND f.signed_month >= @from_month::date AND f.signed_month < @to_month::date
)
SELECT x.month::date AS month,
       coalesce(CASE @dim::text
           WHEN 'rep' THEN x.owner_id::text
           WHEN 'team' THEN u.manager_id::text
           WHEN 'source' THEN x.source
           WHEN 'group' THEN nullif(x.group_id, 0)::text
           WHEN 'stage' THEN x.status
       END, '')::text AS key,
       count(*)::bigint AS value
FROM x
LEFT JOIN users u ON u.org_id = @org_id AND u.id = x.owner_id
WHERE (sqlc.narg('owners')::bigint[] IS NULL OR x.owner_id = ANY (sqlc.narg('owners')::bigint[]))
  AND (@source::text = '' OR x.source = @source::text)
  AND (@group_id::bigint = 0 OR x.group_id = @group_id::bigint)
GROUP BY 1, 2
ORDER BY 1, 2;

-- name: StatsTableQuotesNaive :many
WITH x AS (
    SELECT v.quote_id, min(v.sent_at) AS at FROM quote_versions v
    WHERE @signed::boolean = false AND v.org_id = @org_id AND v.sent_at IS NOT NULL GROUP BY v.quote_id
    UNION ALL
    SELECT e.quote_id, e.at FROM quote_events e WHERE @signed::boolean AND e.org_id = @org_id AND e.kind = 'signed'
)
SELECT date_trunc('month', x.at AT TIME ZONE o.time_zone)::date AS month,
       coalesce(CASE @dim::text
           WHEN 'rep' THEN qu.owner_id::text
           WHEN 'team' THEN u.manager_id::text
           WHEN 'source' THEN d.source
           WHEN 'group' THEN d.article_group_id::text
           WHEN 'stage' THEN qu.status
       END, '')::text AS key,
       count(*)::bigint AS value
FROM x
JOIN orgs o ON o.id = @org_id
JOIN quotes qu ON qu.org_id = o.id AND qu.id = x.quote_id
LEFT JOIN opportunities d ON d.org_id = qu.org_id AND d.id = qu.opportunity_id
LEFT JOIN users u ON u.org_id = qu.org_id AND u.id = qu.owner_id
WHERE x.at >= (@from_month::date)::timestamp AT TIME ZONE o.time_zone
  AND x.at < (@to_month::date)::timestamp AT TIME ZONE o.time_zone
  AND (sqlc.narg('owners')::bigint[] IS NULL OR qu.owner_id = ANY (sqlc.narg('owners')::bigint[]))
  AND (@source::text = '' OR d.source = @source::text)
  AND (@group_id::bigint = 0 OR d.article_group_id = @group_id::bigint)
GROUP BY 1, 2
ORDER BY 1, 2;

-- name: StatsTableBilled :many
-- Billing per month of issue; an invoice belongs to its customer's owner,
-- else to whoever drafted it (as the invoice list scopes it); "stage" is
-- its kind; it has no source or group ('').
SELECT date_trunc('month', i.issue_date)::date AS month,
       coalesce(CASE @dim::text
           WHEN 'rep' THEN coalesce(c.owner_id, i.created_by)::text
           WHEN 'team' THEN u.manager_id::text
           WHEN 'stage' THEN i.kind
       END, '')::text AS key,
       sum(i.total)::bigint AS value
FROM invoices i
LEFT JOIN customers c ON c.org_id = i.org_id AND c.id = i.customer_id
LEFT JOIN users u ON u.org_id = i.org_id AND u.id = coalesce(c.owner_id, i.created_by)
WHERE i.org_id = @org_id AND i.state = 'issued' AND i.kind <> 'proforma'
  AND i.issue_date >= @from_month::date AND i.issue_date < @to_month::date
  AND (sqlc.narg('owners')::bigint[] IS NULL OR coalesce(c.owner_id, i.created_by) = ANY (sqlc.narg('owners')::bigint[]))
GROUP BY 1, 2
ORDER BY 1, 2;

-- name: StatsUserNames :many
SELECT id, name FROM users WHERE org_id = @org_id;

-- name: StatsGroupNames :many
SELECT id, name FROM article_groups WHERE org_id = @org_id;

-- name: StatsOrgIDs :many
SELECT id FROM orgs WHERE (@org_id::bigint = 0 OR id = @org_id::bigint) ORDER BY id;

-- name: StatsRebuild :exec
SELECT stats_rebuild(@org_id::bigint);
