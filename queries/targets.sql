-- name: UpsertSalesTarget :one
-- One target per user and month: setting it again changes it (the alerts
-- it raised stay, keyed by its id).
INSERT INTO sales_targets (org_id, user_id, month, won_amount, deals, visits, set_by)
VALUES (@org_id, @user_id, @month, @won_amount, sqlc.narg('deals'), sqlc.narg('visits'), @set_by)
ON CONFLICT (org_id, user_id, month) DO UPDATE SET
    won_amount = EXCLUDED.won_amount, deals = EXCLUDED.deals, visits = EXCLUDED.visits,
    set_by = EXCLUDED.set_by, updated_at = now()
RETURNING *;

-- name: SeedSalesTarget :exec
-- The demo's targets: only where none is set.
INSERT INTO sales_targets (org_id, user_id, month, won_amount, deals, visits, set_by)
VALUES (@org_id, @user_id, @month, @won_amount, sqlc.narg('deals'), sqlc.narg('visits'), @set_by)
ON CONFLICT (org_id, user_id, month) DO NOTHING;

-- name: GetSalesTarget :one
SELECT t.*, u.name AS user_name, u.manager_id AS user_manager_id
FROM sales_targets t JOIN users u ON u.org_id = t.org_id AND u.id = t.user_id
WHERE t.org_id = @org_id AND t.user_id = @user_id AND t.month = @month;

-- name: ListTargetRows :many
-- The people a targets page lists for a month, with their target if set:
-- active reps and managers, and anyone who has a target that month; only
-- the users given when users is not NULL (the viewer's scope).
SELECT u.id, u.name, u.role, u.manager_id,
       t.id AS target_id, t.won_amount, t.deals, t.visits
FROM users u
LEFT JOIN sales_targets t ON t.org_id = u.org_id AND t.user_id = u.id AND t.month = @month
WHERE u.org_id = @org_id
  AND (sqlc.narg('users')::bigint[] IS NULL OR u.id = ANY (sqlc.narg('users')::bigint[]))
  AND ((u.active AND u.role IN ('rep', 'manager')) OR t.id IS NOT NULL)
ORDER BY u.name, u.id;

-- name: GetTargetUser :one
-- Whom a target may be set for: a user of the org.
SELECT id, name, role, manager_id, active FROM users WHERE org_id = @org_id AND id = @id;

-- name: OrgMonth :one
-- The first day of the month `at` falls in, in the org's time zone.
SELECT date_trunc('month', timezone(time_zone, @at::timestamptz))::date AS month, time_zone
FROM orgs WHERE id = @org_id;

-- name: ListCurrentTargets :many
-- The pace job's page of targets of the current month (each org's own
-- month) not yet reached as far as the alerts know, after the key given
-- (all orgs: the job is the system's).
SELECT t.org_id, t.id, t.user_id, t.month
FROM sales_targets t JOIN orgs o ON o.id = t.org_id
WHERE t.month = date_trunc('month', timezone(o.time_zone, @now::timestamptz))::date
  AND (t.org_id, t.id) > (@after_org::bigint, @after_id::bigint)
  AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.org_id = t.org_id AND a.user_id = t.user_id
                  AND a.kind = 'target_reached' AND a.breach_key = 'target:' || t.id || ':reached')
ORDER BY t.org_id, t.id
LIMIT 500;
