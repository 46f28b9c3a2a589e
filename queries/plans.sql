-- name: ListPlans :many
SELECT * FROM plans ORDER BY rank;

-- name: ListPlanPrices :many
SELECT * FROM plan_prices ORDER BY plan_id, currency;

-- name: GetPlan :one
SELECT * FROM plans WHERE id = @id;

-- name: GetPlanByCode :one
SELECT * FROM plans WHERE code = @code;

-- name: UpdatePlan :one
UPDATE plans SET name = @name, vouchers = sqlc.narg('vouchers'), store_users = @store_users, at_limit = @at_limit,
    active = @active, updated_at = now()
WHERE id = @id
RETURNING *;

-- name: UpsertPlanPrice :exec
INSERT INTO plan_prices (plan_id, currency, monthly, overage) VALUES (@plan_id, @currency, @monthly, @overage)
ON CONFLICT (plan_id, currency) DO UPDATE SET monthly = excluded.monthly, overage = excluded.overage;

-- name: GetSubscription :one
SELECT * FROM subscriptions WHERE org_id = @org_id;

-- name: LockSubscription :one
SELECT * FROM subscriptions WHERE org_id = @org_id FOR UPDATE;

-- name: CreateSubscription :one
INSERT INTO subscriptions (org_id, plan_id, frequency, currency, term_start, term_end, billing_customer_id)
VALUES (@org_id, @plan_id, @frequency, @currency, @term_start, @term_end, sqlc.narg('billing_customer_id'))
RETURNING *;

-- name: SetSubscriptionPlan :one
UPDATE subscriptions SET plan_id = @plan_id, frequency = @frequency, term_start = @term_start, term_end = @term_end,
    pending_plan_id = NULL, pending_from = NULL, updated_at = now()
WHERE org_id = @org_id
RETURNING *;

-- name: SetSubscriptionPending :one
UPDATE subscriptions SET pending_plan_id = sqlc.narg('pending_plan_id'), pending_from = sqlc.narg('pending_from'), updated_at = now()
WHERE org_id = @org_id
RETURNING *;

-- name: SetSubscriptionBillingCustomer :exec
UPDATE subscriptions SET billing_customer_id = @billing_customer_id WHERE org_id = @org_id;

-- name: SubscriptionsDue :many
-- Subscriptions whose term has ended by @today, oldest first.
SELECT org_id FROM subscriptions WHERE term_end <= @today ORDER BY term_end, org_id LIMIT 100;

-- name: OrgsWithoutSubscription :many
-- Orgs that have no plan yet (new ones), the operator's own aside: the
-- periodic pass starts theirs.
SELECT o.id, o.currency FROM orgs o
WHERE NOT o.operator AND NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.org_id = o.id)
ORDER BY o.id LIMIT 100;

-- name: AddSubscriptionEvent :one
INSERT INTO subscription_events (org_id, kind, from_plan, to_plan, reason, amount, invoice_id, user_id, at)
VALUES (@org_id, @kind, sqlc.narg('from_plan'), sqlc.narg('to_plan'), @reason, sqlc.narg('amount'), sqlc.narg('invoice_id'),
    sqlc.narg('user_id'), @at)
RETURNING *;

-- name: ListSubscriptionEvents :many
SELECT * FROM subscription_events WHERE org_id = @org_id ORDER BY at DESC, id DESC LIMIT 50;

-- name: CountVoucher :one
-- One more voucher of the month; the row stays locked until the issuing
-- transaction ends, so concurrent issuers of the org queue here. The org's
-- subscription comes back with the count (no plan_id: none), so the limit
-- costs no second round trip.
WITH u AS (
    INSERT INTO voucher_usage (org_id, month, physical, ecommerce, overage)
    VALUES (@org_id, @month, (@channel::text = 'physical')::int, (@channel::text = 'ecommerce')::int, 0)
    ON CONFLICT (org_id, month) DO UPDATE
    SET physical = voucher_usage.physical + (@channel::text = 'physical')::int,
        ecommerce = voucher_usage.ecommerce + (@channel::text = 'ecommerce')::int
    RETURNING org_id, physical, ecommerce
)
SELECT u.physical, u.ecommerce, s.plan_id, s.pending_plan_id, s.pending_from
FROM u LEFT JOIN subscriptions s ON s.org_id = u.org_id;

-- name: AddVoucherOverage :exec
UPDATE voucher_usage SET overage = overage + 1, overage_plan_id = @plan_id WHERE org_id = @org_id AND month = @month;

-- name: GetVoucherUsage :one
SELECT * FROM voucher_usage WHERE org_id = @org_id AND month = @month;

-- name: AverageVoucherUsage :one
-- The mean vouchers a month over [from, to): what a renewal sizes the plan by.
SELECT coalesce(sum(physical + ecommerce), 0)::bigint AS total, count(*)::bigint AS months
FROM voucher_usage WHERE org_id = @org_id AND month >= @from_month AND month < @to_month;

-- name: RecountVouchers :many
-- The counter's truth, from the invoices themselves (tests and repair):
-- issued sales vouchers (not correctives nor proformas, voided or not) per
-- month of issue and channel.
SELECT date_trunc('month', issue_date)::date AS month, channel, count(*)::bigint AS n
FROM invoices
WHERE org_id = @org_id AND issue_date IS NOT NULL AND state <> 'draft' AND kind IN ('ordinary', 'simplified', 'summary', 'replacement')
GROUP BY 1, 2 ORDER BY 1, 2;

-- name: AddQuotaCrossing :one
-- No row back: this threshold of this plan was crossed this month before.
INSERT INTO quota_crossings (org_id, month, threshold, used, vouchers, plan_id, at)
VALUES (@org_id, @month, @threshold, @used, @vouchers, @plan_id, @at)
ON CONFLICT DO NOTHING
RETURNING *;

-- name: LockQuotaCrossing :one
SELECT * FROM quota_crossings WHERE org_id = @org_id AND month = @month AND plan_id = @plan_id AND threshold = @threshold FOR UPDATE;

-- name: MarkQuotaCrossingAlerted :exec
UPDATE quota_crossings SET alerted_at = @at WHERE org_id = @org_id AND month = @month AND plan_id = @plan_id AND threshold = @threshold;

-- name: PendingQuotaCrossings :many
-- Crossings whose alerts were not raised (issued without a job client, or
-- the job was lost): the sweep raises them.
SELECT * FROM quota_crossings WHERE alerted_at IS NULL AND at < @before ORDER BY at LIMIT 100;

-- name: ListQuotaCrossings :many
SELECT * FROM quota_crossings WHERE org_id = @org_id AND month = @month ORDER BY threshold;

-- name: ListOrgAdmins :many
SELECT * FROM users WHERE org_id = @org_id AND role = 'admin' AND active ORDER BY id;

-- name: GetOperatorOrg :one
-- The operator org that sells in currency (one per currency).
SELECT * FROM orgs WHERE operator AND currency = @currency;

-- name: SetOrgOperator :exec
UPDATE orgs SET operator = true WHERE id = @id;

-- name: CountStoreUsers :one
-- Integrated store users: connected sellers, each once whatever the
-- channels it sells through (Mercado Libre and Mercado Shops are one).
SELECT count(*)::int FROM store_connections WHERE org_id = @org_id AND state <> 'disconnected';

-- name: CreatePlanUpgrade :one
-- An upgrade waiting for its payment; invoice_id is the operator org's
-- draft whose total is the amount charged (NULL without an operator org).
INSERT INTO plan_upgrades (org_id, from_plan, to_plan, amount, currency, method, invoice_id, user_id)
VALUES (@org_id, @from_plan, @to_plan, @amount, @currency, @method, sqlc.narg('invoice_id'), @user_id)
RETURNING *;

-- name: SetPlanUpgradeCheckout :exec
UPDATE plan_upgrades SET checkout_id = @checkout_id WHERE org_id = @org_id AND id = @id;

-- name: LockPlanUpgrade :one
-- The payment of an upgrade is applied under this lock, once.
SELECT * FROM plan_upgrades WHERE org_id = @org_id AND id = @id FOR UPDATE;

-- name: MarkPlanUpgradePaid :exec
UPDATE plan_upgrades SET state = 'paid', payment_id = @payment_id, paid_at = @paid_at, invoice_id = sqlc.narg('invoice_id')
WHERE org_id = @org_id AND id = @id AND state = 'pending';

-- name: CancelPlanUpgrade :exec
-- An upgrade whose checkout could not be created: nothing can pay it.
UPDATE plan_upgrades SET state = 'cancelled' WHERE org_id = @org_id AND id = @id AND state = 'pending' AND checkout_id IS NULL;

-- name: CreatePlan :one
-- The operator's new plan, ranked above every other (an upgrade from all
-- of them); a code already in use returns no row.
INSERT INTO plans (code, name, vouchers, store_users, at_limit, rank, active)
SELECT @code::text, @name::text, sqlc.narg('vouchers')::int, @store_users::int, @at_limit::text, coalesce(max(rank), 0) + 1, @active::boolean
FROM plans
ON CONFLICT (code) DO NOTHING
RETURNING *;

-- name: CountPlanSubscribers :many
-- Orgs subscribed to each plan, for the operator's plan list: a scan of
-- subscriptions (one row per org) on a page only the operator opens.
SELECT plan_id, count(*)::int AS orgs FROM subscriptions GROUP BY plan_id;

-- name: SavePlan :one
-- The operator's edit, from the version the form was loaded with
-- (updated_at): no row when someone else saved the plan since.
UPDATE plans SET name = @name, vouchers = sqlc.narg('vouchers'), store_users = @store_users, at_limit = @at_limit,
    active = @active, updated_at = now()
WHERE id = @id AND updated_at = @loaded_at
RETURNING *;

-- name: MonthlyChargesDue :many
-- Subscriptions whose month (@month, its 1st) may be due and is not
-- charged yet: monthly terms in force on the 1st, and terms ended by then
-- that the charge renews first. A scan of subscriptions (one row per org)
-- and the charges' key.
SELECT s.org_id FROM subscriptions s
WHERE (s.term_end <= @month OR (s.frequency = 'monthly' AND s.term_start <= @month))
  AND NOT EXISTS (SELECT 1 FROM subscription_charges c WHERE c.org_id = s.org_id AND c.month = @month AND c.kind = 'monthly')
ORDER BY s.org_id LIMIT 100;

-- name: ClaimSubscriptionCharge :one
-- The month's charge, written before its invoice in the same transaction:
-- no row back when it exists (a concurrent pass waits here for the other
-- transaction and then finds it).
INSERT INTO subscription_charges (org_id, month, kind, plan_id, amount, currency, reason)
VALUES (@org_id, @month, @kind, @plan_id, @amount, @currency, @reason)
ON CONFLICT DO NOTHING
RETURNING *;

-- name: SetSubscriptionChargeInvoice :exec
UPDATE subscription_charges SET operator_id = sqlc.narg('operator_id'), invoice_id = sqlc.narg('invoice_id'), reason = @reason
WHERE org_id = @org_id AND month = @month AND kind = @kind;

-- name: ListSubscriptionCharges :many
-- The subscriber's charges with the operator's invoice, for its
-- Suscripción page (the invoice is the operator's row, read by its id).
SELECT c.*, i.full_number, i.state AS invoice_state, i.total AS invoice_total
FROM subscription_charges c
LEFT JOIN invoices i ON i.org_id = c.operator_id AND i.id = c.invoice_id
WHERE c.org_id = @org_id
ORDER BY c.month DESC, c.kind LIMIT 24;
