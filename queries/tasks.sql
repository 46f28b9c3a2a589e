-- name: GetBusinessCalendar :one
SELECT * FROM business_calendars WHERE org_id = @org_id;

-- name: SaveBusinessCalendar :exec
INSERT INTO business_calendars (org_id, hours) VALUES (@org_id, @hours)
ON CONFLICT (org_id) DO UPDATE SET hours = excluded.hours, updated_at = now();

-- name: ListHolidays :many
SELECT * FROM business_holidays WHERE org_id = @org_id AND day >= @from_day ORDER BY day;

-- name: AddHoliday :execrows
INSERT INTO business_holidays (org_id, day, name) VALUES (@org_id, @day, @name)
ON CONFLICT (org_id, day) DO NOTHING;

-- name: DeleteHoliday :execrows
DELETE FROM business_holidays WHERE org_id = @org_id AND day = @day;

-- name: ListTaskReasons :many
SELECT r.*, coalesce(u.name, '')::text AS manager_user_name
FROM task_reasons r LEFT JOIN users u ON u.org_id = r.org_id AND u.id = r.manager_user_id
WHERE r.org_id = @org_id ORDER BY r.active DESC, r.name;

-- name: GetTaskReason :one
SELECT * FROM task_reasons WHERE org_id = @org_id AND id = @id;

-- name: CreateTaskReason :one
INSERT INTO task_reasons (org_id, name, applies_in, sla_minutes, sla_business, manager_kind, manager_user_id, manager_role)
VALUES (@org_id, @name, @applies_in, sqlc.narg('sla_minutes'), @sla_business, @manager_kind, sqlc.narg('manager_user_id'), sqlc.narg('manager_role'))
ON CONFLICT (org_id, name) DO NOTHING
RETURNING *;

-- name: ToggleTaskReason :execrows
UPDATE task_reasons SET active = NOT active WHERE org_id = @org_id AND id = @id;

-- name: CreateTask :one
INSERT INTO tasks (org_id, title, type, due_at, reason_id, lead_id, customer_id, opportunity_id, quote_id, assignee_id,
                   managed_by_id, managed_by_role, created_by, created_by_rule_id, rule_key, sla_deadline)
VALUES (@org_id, @title, @type, @due_at, sqlc.narg('reason_id'), sqlc.narg('lead_id'), sqlc.narg('customer_id'),
        sqlc.narg('opportunity_id'), sqlc.narg('quote_id'), @assignee_id, sqlc.narg('managed_by_id'), sqlc.narg('managed_by_role'),
        sqlc.narg('created_by'), sqlc.narg('created_by_rule_id'), sqlc.narg('rule_key'), sqlc.narg('sla_deadline'))
ON CONFLICT (org_id, created_by_rule_id, rule_key) WHERE rule_key IS NOT NULL DO NOTHING
RETURNING *;

-- name: GetTask :one
SELECT t.*, a.name AS assignee_name, a.manager_id AS assignee_manager_id,
       coalesce(m.name, '')::text AS managed_by_name, coalesce(r.name, '')::text AS reason_name,
       coalesce(c.legal_name, '')::text AS customer_name, coalesce(o.title, '')::text AS opportunity_title,
       coalesce(l.name, '')::text AS lead_name,
       task_sla(t.status, t.completed_at, t.sla_deadline, now())::text AS sla
FROM tasks t
JOIN users a ON a.org_id = t.org_id AND a.id = t.assignee_id
LEFT JOIN users m ON m.org_id = t.org_id AND m.id = t.managed_by_id
LEFT JOIN task_reasons r ON r.org_id = t.org_id AND r.id = t.reason_id
LEFT JOIN customers c ON c.org_id = t.org_id AND c.id = t.customer_id
LEFT JOIN opportunities o ON o.org_id = t.org_id AND o.id = t.opportunity_id AND o.deleted_at IS NULL
LEFT JOIN leads l ON l.org_id = t.org_id AND l.id = t.lead_id
WHERE t.org_id = @org_id AND t.id = @id;

-- name: ListTasks :many
-- One keyset page, newest first, within the viewer's scope (assignees).
SELECT t.id, t.title, t.type, t.due_at, t.status, t.version, t.assignee_id, t.sla_deadline, t.completed_at,
       t.customer_id, t.opportunity_id, t.lead_id,
       a.name AS assignee_name, coalesce(r.name, '')::text AS reason_name,
       coalesce(c.legal_name, '')::text AS customer_name,
       task_sla(t.status, t.completed_at, t.sla_deadline, now())::text AS sla
FROM tasks t
JOIN users a ON a.org_id = t.org_id AND a.id = t.assignee_id
LEFT JOIN task_reasons r ON r.org_id = t.org_id AND r.id = t.reason_id
LEFT JOIN customers c ON c.org_id = t.org_id AND c.id = t.customer_id
WHERE t.org_id = @org_id
  AND (sqlc.narg('assignee_scope')::bigint[] IS NULL OR t.assignee_id = ANY (sqlc.narg('assignee_scope')::bigint[]))
  AND (sqlc.narg('assignee_id')::bigint IS NULL OR t.assignee_id = sqlc.narg('assignee_id'))
  AND (sqlc.narg('status')::text IS NULL OR t.status = sqlc.narg('status'))
  AND (sqlc.narg('type')::text IS NULL OR t.type = sqlc.narg('type'))
  AND (sqlc.narg('sla')::text IS NULL OR task_sla(t.status, t.completed_at, t.sla_deadline, now()) = sqlc.narg('sla'))
  AND (sqlc.narg('customer_id')::bigint IS NULL OR t.customer_id = sqlc.narg('customer_id'))
  AND (sqlc.narg('opportunity_id')::bigint IS NULL OR t.opportunity_id = sqlc.narg('opportunity_id'))
  AND (sqlc.narg('before_id')::bigint IS NULL OR t.id < sqlc.narg('before_id'))
ORDER BY t.id DESC
LIMIT @page_size;

-- name: ListOpenTasksDue :many
-- A user's open tasks due before until, soonest first (My day: overdue,
-- today, the next days).
SELECT t.id, t.title, t.type, t.due_at, t.status, t.version, t.sla_deadline, t.completed_at,
       t.customer_id, t.opportunity_id, t.lead_id, coalesce(r.name, '')::text AS reason_name,
       coalesce(c.legal_name, '')::text AS customer_name,
       task_sla(t.status, t.completed_at, t.sla_deadline, now())::text AS sla
FROM tasks t
LEFT JOIN task_reasons r ON r.org_id = t.org_id AND r.id = t.reason_id
LEFT JOIN customers c ON c.org_id = t.org_id AND c.id = t.customer_id
WHERE t.org_id = @org_id AND t.assignee_id = @assignee_id AND t.status = 'pendiente' AND t.due_at < @until
ORDER BY t.due_at, t.id
LIMIT 200;

-- name: ListAgenda :many
-- A user's tasks (not cancelled) due in [from, to), for the agenda and the
-- ICS feed.
SELECT t.id, t.title, t.type, t.due_at, t.status, t.version, t.updated_at,
       coalesce(c.legal_name, '')::text AS customer_name
FROM tasks t
LEFT JOIN customers c ON c.org_id = t.org_id AND c.id = t.customer_id
WHERE t.org_id = @org_id AND t.assignee_id = @assignee_id AND t.status <> 'cancelada'
  AND t.due_at >= @from_at AND t.due_at < @to_at
ORDER BY t.due_at, t.id
LIMIT 1000;

-- name: CompleteTask :one
UPDATE tasks SET status = 'hecha', result_note = @result_note, completed_at = now(), updated_at = now(), version = version + 1
WHERE org_id = @org_id AND id = @id AND version = @version AND status = 'pendiente'
RETURNING *;

-- name: CancelTask :one
UPDATE tasks SET status = 'cancelada', result_note = @result_note, updated_at = now(), version = version + 1
WHERE org_id = @org_id AND id = @id AND version = @version AND status = 'pendiente'
RETURNING *;

-- name: RescheduleTask :one
UPDATE tasks SET due_at = @due_at, updated_at = now(), version = version + 1
WHERE org_id = @org_id AND id = @id AND version = @version AND status = 'pendiente'
RETURNING *;

-- name: InsertAlert :one
-- No row back: this recipient already has the alert for this breach.
INSERT INTO alerts (org_id, kind, severity, user_id, object_type, object_id, breach_key, title, subject_user_id)
VALUES (@org_id, @kind, @severity, @user_id, @object_type, @object_id, @breach_key, @title, sqlc.narg('subject_user_id'))
ON CONFLICT (org_id, user_id, kind, breach_key) DO NOTHING
RETURNING *;

-- name: ListAlerts :many
SELECT * FROM alerts
WHERE org_id = @org_id AND user_id = @user_id
  AND (sqlc.narg('kind')::text IS NULL OR kind = sqlc.narg('kind'))
  AND (sqlc.narg('severity')::text IS NULL OR severity = sqlc.narg('severity'))
  AND (sqlc.narg('unread')::boolean IS NULL OR (read_at IS NULL) = sqlc.narg('unread'))
  AND (sqlc.narg('subject_user_id')::bigint IS NULL OR subject_user_id = sqlc.narg('subject_user_id'))
  AND (sqlc.narg('before_id')::bigint IS NULL OR id < sqlc.narg('before_id'))
ORDER BY id DESC
LIMIT @page_size;

-- name: MarkAlertRead :execrows
UPDATE alerts SET read_at = now() WHERE org_id = @org_id AND user_id = @user_id AND id = @id AND read_at IS NULL;

-- name: MarkAllAlertsRead :execrows
UPDATE alerts SET read_at = now() WHERE org_id = @org_id AND user_id = @user_id AND read_at IS NULL;

-- name: GetAlert :one
SELECT * FROM alerts WHERE org_id = @org_id AND user_id = @user_id AND id = @id;

-- name: ListBreachedTasks :many
-- Open tasks past their SLA whose assignee has no alert for it yet, for the
-- sweep (all orgs: the job is the system's).
SELECT t.org_id, t.id FROM tasks t
WHERE t.status = 'pendiente' AND t.sla_deadline IS NOT NULL AND t.sla_deadline <= @now
  AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.org_id = t.org_id AND a.user_id = t.assignee_id AND a.kind = 'task_sla'
                  AND a.breach_key = 'task:' || t.id || ':' || extract(epoch FROM t.sla_deadline)::bigint)
ORDER BY t.sla_deadline
LIMIT 500;

-- name: ListIdleOpportunities :many
-- Open deals that have sat in their stage past the stage's limit with no
-- alert for that stay yet.
SELECT o.org_id, o.id, o.title, o.owner_id, o.stage, o.stage_entered_at, s.idle_days, u.manager_id AS owner_manager_id
FROM opportunities o
JOIN pipeline_stages s ON s.org_id = o.org_id AND s.stage = o.stage
JOIN users u ON u.org_id = o.org_id AND u.id = o.owner_id
WHERE s.idle_days IS NOT NULL AND o.stage NOT IN ('ganada', 'cancelada') AND o.deleted_at IS NULL
  AND o.stage_entered_at + make_interval(days => s.idle_days) <= @now
  AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.org_id = o.org_id AND a.user_id = o.owner_id AND a.kind = 'opportunity_idle'
                  AND a.breach_key = 'opp:' || o.id || ':' || extract(epoch FROM o.stage_entered_at)::bigint)
ORDER BY o.stage_entered_at
LIMIT 500;

-- name: ListTaskRules :many
SELECT tr.*, r.name AS reason_name FROM task_rules tr
JOIN task_reasons r ON r.org_id = tr.org_id AND r.id = tr.reason_id
WHERE tr.org_id = @org_id ORDER BY tr.id;

-- name: CreateTaskRule :one
INSERT INTO task_rules (org_id, event, stage, wait_days, reason_id, title, task_type, due_hours)
VALUES (@org_id, @event, sqlc.narg('stage'), sqlc.narg('wait_days'), @reason_id, @title, @task_type, @due_hours)
RETURNING *;

-- name: ToggleTaskRule :execrows
UPDATE task_rules SET active = NOT active WHERE org_id = @org_id AND id = @id;

-- name: MatchingTaskRules :many
SELECT * FROM task_rules
WHERE org_id = @org_id AND active AND event = @event AND (sqlc.narg('stage')::text IS NULL OR stage = sqlc.narg('stage'))
ORDER BY id;

-- name: GetCalendarFeed :one
SELECT * FROM calendar_feeds WHERE org_id = @org_id AND user_id = @user_id;

-- name: GetCalendarFeedByToken :one
-- By the digest of the presented token (see migration 0031).
SELECT f.*, u.name AS user_name, u.active AS user_active, o.time_zone
FROM calendar_feeds f
JOIN users u ON u.org_id = f.org_id AND u.id = f.user_id
JOIN orgs o ON o.id = f.org_id
WHERE f.token_hash = @token_hash;

-- name: SaveCalendarFeed :exec
INSERT INTO calendar_feeds (org_id, user_id, token_hash, token_nonce) VALUES (@org_id, @user_id, @token_hash, @token_nonce)
ON CONFLICT (org_id, user_id) DO UPDATE SET token_hash = excluded.token_hash, token_nonce = excluded.token_nonce, created_at = now();

-- name: GetUserManager :one
SELECT manager_id FROM users WHERE org_id = @org_id AND id = @id;

-- name: SeedTaskPast :exec
-- Demo data only: when a seeded task was created and, if done, when.
UPDATE tasks SET created_at = @created_at, updated_at = @created_at,
    status = CASE WHEN sqlc.narg('completed_at')::timestamptz IS NULL THEN status ELSE 'hecha' END,
    completed_at = sqlc.narg('completed_at'), result_note = @result_note
WHERE org_id = @org_id AND id = @id;

-- name: ListTasksDoneSince :many
-- A user's tasks done since a moment (My day's "done today", with their
-- follow-up links).
SELECT id, title FROM tasks
WHERE org_id = @org_id AND assignee_id = @assignee_id AND status = 'hecha' AND completed_at >= @since
ORDER BY completed_at DESC, id DESC
LIMIT 50;
