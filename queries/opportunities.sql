-- name: GetOpportunity :one
SELECT o.*, c.legal_name AS customer_name, coalesce(u.name, '')::text AS owner_name,
       coalesce(e.name, '')::text AS editor_name, coalesce(r.name, '')::text AS cancel_reason,
       coalesce(l.name, '')::text AS source_lead_name,
       coalesce((SELECT CASE WHEN qb.status = 'sent' AND qb.first_opened_at IS NOT NULL THEN 'opened' ELSE qb.status END
                 FROM quotes qb WHERE qb.org_id = o.org_id AND qb.opportunity_id = o.id AND qb.status <> 'draft'
                 ORDER BY qb.id DESC LIMIT 1), '')::text AS quote_badge
FROM opportunities o
JOIN customers c ON c.org_id = o.org_id AND c.id = o.customer_id
LEFT JOIN users u ON u.org_id = o.org_id AND u.id = o.owner_id
LEFT JOIN users e ON e.org_id = o.org_id AND e.id = o.updated_by
LEFT JOIN cancel_reasons r ON r.org_id = o.org_id AND r.id = o.cancel_reason_id
LEFT JOIN leads l ON l.org_id = o.org_id AND l.id = o.source_lead_id
WHERE o.org_id = @org_id AND o.id = @id AND o.deleted_at IS NULL;

-- name: BoardColumns :many
-- Count and total per stage under the board's filters. Closed stages show
-- only deals closed since closed_since, so the board does not grow forever.
SELECT s.stage, s.position, s.probability,
       count(o.id)::bigint AS deals, coalesce(sum(o.amount), 0)::bigint AS total
FROM pipeline_stages s
LEFT JOIN opportunities o ON o.org_id = s.org_id AND o.stage = s.stage AND o.deleted_at IS NULL
    AND (sqlc.narg('owner_scope')::bigint[] IS NULL OR o.owner_id = ANY (sqlc.narg('owner_scope')::bigint[]))
    AND (sqlc.narg('owner_id')::bigint IS NULL OR o.owner_id = sqlc.narg('owner_id'))
    AND (sqlc.narg('close_from')::date IS NULL OR o.expected_close >= sqlc.narg('close_from'))
    AND (sqlc.narg('close_to')::date IS NULL OR o.expected_close < sqlc.narg('close_to'))
    AND (sqlc.narg('amount_min')::bigint IS NULL OR o.amount >= sqlc.narg('amount_min'))
    AND (sqlc.narg('amount_max')::bigint IS NULL OR o.amount <= sqlc.narg('amount_max'))
    AND (o.stage NOT IN ('ganada', 'cancelada') OR o.stage_entered_at >= @closed_since)
WHERE s.org_id = @org_id
GROUP BY s.stage, s.position, s.probability
ORDER BY s.position;

-- name: BoardCards :many
-- The newest per_column cards of each stage under the same filters, each
-- stage read from the (org_id, stage, id) index.
SELECT card.*
FROM pipeline_stages s
CROSS JOIN LATERAL (
    SELECT o.id, o.version, o.stage, o.title, o.amount, o.probability, o.expected_close, o.owner_id,
           o.customer_id, c.legal_name AS customer_name, coalesce(u.name, '')::text AS owner_name,
           (s.idle_days IS NOT NULL AND o.stage_entered_at + make_interval(days => s.idle_days) <= now())::boolean AS idle
    FROM opportunities o
    JOIN customers c ON c.org_id = o.org_id AND c.id = o.customer_id
    LEFT JOIN users u ON u.org_id = o.org_id AND u.id = o.owner_id
    WHERE o.org_id = s.org_id AND o.stage = s.stage AND o.deleted_at IS NULL
      AND (sqlc.narg('owner_scope')::bigint[] IS NULL OR o.owner_id = ANY (sqlc.narg('owner_scope')::bigint[]))
      AND (sqlc.narg('owner_id')::bigint IS NULL OR o.owner_id = sqlc.narg('owner_id'))
      AND (sqlc.narg('close_from')::date IS NULL OR o.expected_close >= sqlc.narg('close_from'))
      AND (sqlc.narg('close_to')::date IS NULL OR o.expected_close < sqlc.narg('close_to'))
      AND (sqlc.narg('amount_min')::bigint IS NULL OR o.amount >= sqlc.narg('amount_min'))
      AND (sqlc.narg('amount_max')::bigint IS NULL OR o.amount <= sqlc.narg('amount_max'))
      AND (o.stage NOT IN ('ganada', 'cancelada') OR o.stage_entered_at >= @closed_since)
    ORDER BY o.id DESC
    LIMIT @per_column
) card
WHERE s.org_id = @org_id
ORDER BY s.position, card.id DESC;

-- name: ListOpportunities :many
-- One keyset page of the list view, newest first, same filters as the board
-- plus a stage.
SELECT o.id, o.version, o.stage, o.title, o.amount, o.probability, o.expected_close, o.owner_id,
       o.customer_id, c.legal_name AS customer_name, coalesce(u.name, '')::text AS owner_name
FROM opportunities o
JOIN customers c ON c.org_id = o.org_id AND c.id = o.customer_id
LEFT JOIN users u ON u.org_id = o.org_id AND u.id = o.owner_id
WHERE o.org_id = @org_id AND o.deleted_at IS NULL
  AND (sqlc.narg('owner_scope')::bigint[] IS NULL OR o.owner_id = ANY (sqlc.narg('owner_scope')::bigint[]))
  AND (sqlc.narg('owner_id')::bigint IS NULL OR o.owner_id = sqlc.narg('owner_id'))
  AND (sqlc.narg('stage')::text IS NULL OR o.stage = sqlc.narg('stage'))
  AND (sqlc.narg('close_from')::date IS NULL OR o.expected_close >= sqlc.narg('close_from'))
  AND (sqlc.narg('close_to')::date IS NULL OR o.expected_close < sqlc.narg('close_to'))
  AND (sqlc.narg('amount_min')::bigint IS NULL OR o.amount >= sqlc.narg('amount_min'))
  AND (sqlc.narg('amount_max')::bigint IS NULL OR o.amount <= sqlc.narg('amount_max'))
  AND (sqlc.narg('before_id')::bigint IS NULL OR o.id < sqlc.narg('before_id'))
ORDER BY o.id DESC
LIMIT @page_size;

-- name: CreateOpportunityFull :one
INSERT INTO opportunities (org_id, customer_id, title, amount, stage, probability, expected_close, owner_id,
                           notes, created_by, updated_by, article_group_id)
VALUES (@org_id, @customer_id, @title, @amount, 'en_analisis', @probability, sqlc.narg('expected_close'),
        sqlc.narg('owner_id'), @notes, @created_by, @created_by, sqlc.narg('article_group_id'))
RETURNING *;

-- name: UpdateOpportunity :one
-- The form's fields; the stage moves only through MoveOpportunity. Matches
-- only the version the editor loaded.
UPDATE opportunities SET
    customer_id = @customer_id, title = @title, amount = @amount, probability = @probability,
    expected_close = sqlc.narg('expected_close'), owner_id = sqlc.narg('owner_id'), notes = @notes,
    article_group_id = sqlc.narg('article_group_id'),
    updated_by = @updated_by, updated_at = now(), version = version + 1
WHERE org_id = @org_id AND id = @id AND version = @version AND deleted_at IS NULL
RETURNING *;

-- name: MoveOpportunity :one
-- A move takes the stage's default probability; the history trigger
-- records from, to, who and when. Matches only the version the mover saw.
UPDATE opportunities o SET
    stage = @stage, cancel_reason_id = sqlc.narg('cancel_reason_id'),
    probability = (SELECT s.probability FROM pipeline_stages s WHERE s.org_id = o.org_id AND s.stage = @stage),
    stage_entered_at = now(), updated_by = @updated_by, updated_at = now(), version = o.version + 1
WHERE o.org_id = @org_id AND o.id = @id AND o.version = @version AND o.deleted_at IS NULL
RETURNING o.*;

-- name: DeleteOpportunity :one
-- A soft delete, from the version the deleter saw: the deal leaves every
-- list, count and lookup, its stage history and timeline stay.
UPDATE opportunities SET deleted_at = now(), deleted_by = @deleted_by, updated_by = @deleted_by, updated_at = now(),
    version = version + 1
WHERE org_id = @org_id AND id = @id AND version = @version AND deleted_at IS NULL
RETURNING id;

-- name: ListStageHistory :many
SELECT h.*, coalesce(u.name, '')::text AS changed_by_name
FROM opportunity_stage_history h
LEFT JOIN users u ON u.org_id = h.org_id AND u.id = h.changed_by
WHERE h.org_id = @org_id AND h.opportunity_id = @opportunity_id
ORDER BY h.id;

-- name: ListPipelineStages :many
SELECT * FROM pipeline_stages WHERE org_id = @org_id ORDER BY position;

-- name: UpdatePipelineStage :exec
UPDATE pipeline_stages SET probability = @probability, idle_days = sqlc.narg('idle_days')
WHERE org_id = @org_id AND stage = @stage;

-- name: ListCancelReasons :many
SELECT * FROM cancel_reasons WHERE org_id = @org_id ORDER BY active DESC, name;

-- name: CreateCancelReason :one
INSERT INTO cancel_reasons (org_id, name) VALUES (@org_id, @name)
ON CONFLICT (org_id, name) DO NOTHING
RETURNING *;

-- name: ToggleCancelReason :execrows
UPDATE cancel_reasons SET active = NOT active WHERE org_id = @org_id AND id = @id;

-- name: GetActiveCancelReason :one
SELECT * FROM cancel_reasons WHERE org_id = @org_id AND id = @id AND active;

-- name: ListCustomerChoices :many
-- Customers a deal can be for, within the viewer's scope.
SELECT id, legal_name FROM customers
WHERE org_id = @org_id
  AND (sqlc.narg('owner_scope')::bigint[] IS NULL OR owner_id = ANY (sqlc.narg('owner_scope')::bigint[]))
ORDER BY legal_name, id
LIMIT 1000;

-- name: SeedMoveOpportunity :one
-- Demo data only: a move dated in the past, so the seeded history and idle
-- times look lived in. The history trigger records it like any move.
UPDATE opportunities o SET
    stage = @stage, cancel_reason_id = sqlc.narg('cancel_reason_id'),
    probability = (SELECT s.probability FROM pipeline_stages s WHERE s.org_id = o.org_id AND s.stage = @stage),
    stage_entered_at = @at, updated_by = @updated_by, updated_at = @at, version = o.version + 1
WHERE o.org_id = @org_id AND o.id = @id
RETURNING o.*;

-- name: SeedBackdateOpportunity :exec
-- Demo data only: when a seeded deal began.
UPDATE opportunities SET created_at = @at, stage_entered_at = @at, updated_at = @at
WHERE org_id = @org_id AND id = @id;

-- name: SeedBackdateFirstStage :exec
-- Demo data only: its first history row, dated the same.
UPDATE opportunity_stage_history SET changed_at = @at
WHERE org_id = @org_id AND opportunity_id = @opportunity_id AND from_stage IS NULL;

-- name: OrgHasCancelReasons :one
SELECT EXISTS (SELECT 1 FROM cancel_reasons WHERE org_id = @org_id);

-- name: QuoteBadges :many
-- The state of each deal's latest quote, for the board's cards. A query of
-- its own: as a subquery of BoardCards it made PostgreSQL's generic plan
-- for the board four times slower.
SELECT DISTINCT ON (q.opportunity_id) q.opportunity_id::bigint AS opportunity_id,
       (CASE WHEN q.status = 'sent' AND q.first_opened_at IS NOT NULL THEN 'opened' ELSE q.status END)::text AS badge
FROM quotes q
WHERE q.org_id = @org_id AND q.opportunity_id = ANY (@ids::bigint[]) AND q.status <> 'draft'
ORDER BY q.opportunity_id, q.id DESC;

-- name: SeedHasDealHistory :one
-- Demo data only: whether the org's deals already reach back months.
SELECT EXISTS (SELECT 1 FROM opportunities WHERE org_id = @org_id AND created_at < now() - interval '90 days');

-- name: SeedOpportunityOrigin :exec
-- Demo data only: where a seeded deal came from and its product line.
UPDATE opportunities SET source = @source, article_group_id = sqlc.narg('article_group_id')
WHERE org_id = @org_id AND id = @id;
