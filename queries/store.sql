-- name: CreateStoreOAuthState :exec
INSERT INTO store_oauth_states (state_hash, org_id, user_id) VALUES (@state_hash, @org_id, @user_id);

-- name: TakeStoreOAuthState :one
-- A state works once, for ten minutes, for the org and user that began it.
DELETE FROM store_oauth_states
WHERE state_hash = @state_hash AND org_id = @org_id AND user_id = @user_id AND created_at > now() - interval '10 minutes'
RETURNING *;

-- name: CreateStoreConnection :one
INSERT INTO store_connections (org_id, provider, seller_id, nickname, access_token, refresh_token, expires_at, connected_by)
VALUES (@org_id, 'mercadolibre', @seller_id, @nickname, @access_token, @refresh_token, @expires_at, @connected_by)
RETURNING *;

-- name: ReconnectStoreConnection :one
-- The seller authorised again (after a broken refresh): fresh tokens.
UPDATE store_connections SET access_token = @access_token, refresh_token = @refresh_token, expires_at = @expires_at,
    token_version = token_version + 1, state = 'active', problem = '', nickname = @nickname
WHERE org_id = @org_id AND id = @id
RETURNING *;

-- name: GetStoreConnectionBySeller :one
SELECT * FROM store_connections WHERE provider = 'mercadolibre' AND seller_id = @seller_id AND state <> 'disconnected';

-- name: GetStoreConnection :one
SELECT * FROM store_connections WHERE org_id = @org_id AND id = @id;

-- name: LockStoreConnection :one
SELECT * FROM store_connections WHERE org_id = @org_id AND id = @id FOR UPDATE;

-- name: ListStoreConnections :many
SELECT * FROM store_connections WHERE org_id = @org_id AND state <> 'disconnected' ORDER BY id;

-- name: ActiveStoreConnections :many
-- Every connection the catch-up visits.
SELECT org_id, id FROM store_connections WHERE state = 'active' ORDER BY org_id, id;

-- name: SetStoreTokens :one
UPDATE store_connections SET access_token = @access_token, refresh_token = @refresh_token, expires_at = @expires_at,
    token_version = token_version + 1
WHERE org_id = @org_id AND id = @id
RETURNING *;

-- name: BreakStoreConnection :exec
UPDATE store_connections SET state = 'broken', problem = @problem WHERE org_id = @org_id AND id = @id AND state = 'active';

-- name: DisconnectStoreConnection :one
UPDATE store_connections SET state = 'disconnected', disconnected_at = now(), access_token = '', refresh_token = ''
WHERE org_id = @org_id AND id = @id AND state <> 'disconnected'
RETURNING *;

-- name: AddStoreChannel :exec
UPDATE store_connections SET channels = array_append(channels, @channel::text)
WHERE org_id = @org_id AND id = @id AND NOT (@channel::text = ANY (channels));

-- name: SetStoreSynced :exec
UPDATE store_connections SET synced_to = greatest(coalesce(synced_to, @synced_to), @synced_to), last_sync_at = @at
WHERE org_id = @org_id AND id = @id;

-- name: LockStoreOrder :one
SELECT * FROM store_orders WHERE org_id = @org_id AND connection_id = @connection_id AND order_id = @order_id FOR UPDATE;

-- name: InsertStoreOrder :one
-- No row back: another transaction saw the order first (the caller locks it).
INSERT INTO store_orders (org_id, connection_id, order_id, pack_id, status, channel, total, last_updated, state)
VALUES (@org_id, @connection_id, @order_id, sqlc.narg('pack_id'), @status, @channel, @total, @last_updated, 'pending')
ON CONFLICT DO NOTHING
RETURNING *;

-- name: UpdateStoreOrder :one
UPDATE store_orders SET status = @status, total = @total, last_updated = @last_updated, state = @state,
    invoice_id = sqlc.narg('invoice_id'), error = @error, error_params = @error_params, refunded_cents = @refunded_cents, updated_at = now()
WHERE org_id = @org_id AND connection_id = @connection_id AND order_id = @order_id
RETURNING *;

-- name: ListStoreOrderProblems :many
-- Orders held back or refused, and invoiced ones whose refund could not be
-- credited yet (state invoiced with an error).
SELECT * FROM store_orders WHERE org_id = @org_id AND (state IN ('blocked', 'failed') OR state = 'invoiced' AND error <> '')
ORDER BY updated_at DESC LIMIT 50;

-- name: ListBlockedStoreOrders :many
-- Orders to apply again: held back by the plan, or invoiced with a refund
-- whose credit note was refused.
SELECT connection_id, order_id FROM store_orders WHERE org_id = @org_id AND (state = 'blocked' OR state = 'invoiced' AND error <> '')
ORDER BY order_id LIMIT 1000;

-- name: CountStoreOrders :one
SELECT count(*) FILTER (WHERE state IN ('invoiced', 'voided'))::int AS invoiced,
       count(*) FILTER (WHERE state IN ('blocked', 'failed'))::int AS problems
FROM store_orders WHERE org_id = @org_id AND connection_id = @connection_id;

-- name: StartStoreSync :one
INSERT INTO store_syncs (org_id, connection_id) VALUES (@org_id, @connection_id) RETURNING *;

-- name: ProgressStoreSync :one
UPDATE store_syncs SET total = @total, seen = @seen, imported = @imported, failed = @failed
WHERE org_id = @org_id AND id = @id
RETURNING *;

-- name: FinishStoreSync :one
UPDATE store_syncs SET finished_at = now(), error = @error WHERE org_id = @org_id AND id = @id RETURNING *;

-- name: LastStoreSync :one
SELECT * FROM store_syncs WHERE org_id = @org_id AND connection_id = @connection_id ORDER BY id DESC LIMIT 1;

-- name: GetProductByCode :one
SELECT * FROM products WHERE org_id = @org_id AND code = @code AND active;

-- name: FindCustomerByTag :one
SELECT * FROM customers WHERE org_id = @org_id AND tags @> ARRAY[@tag::text] ORDER BY id LIMIT 1;

-- name: SetInvoiceChannel :exec
-- Before issuing: where the sale was made (plans count by it).
UPDATE invoices SET channel = @channel WHERE org_id = @org_id AND id = @id AND state = 'draft';

-- name: GetStoreSync :one
SELECT * FROM store_syncs WHERE org_id = @org_id AND id = @id;

-- name: OrgsWithBlockedStoreOrders :many
-- Orgs some of whose orders a plan's limit held back (the sweep retries
-- them: the month may have turned, or the plan changed), or whose refund's
-- credit note was refused (retried likewise).
SELECT DISTINCT org_id FROM store_orders WHERE state = 'blocked' OR state = 'invoiced' AND error <> '' ORDER BY org_id;

-- name: CreditedAmount :one
-- What the issued correctives of an invoice add up to (negative: given back).
SELECT coalesce(sum(i.total), 0)::bigint FROM invoice_corrections c
JOIN invoices i ON i.org_id = c.org_id AND i.id = c.invoice_id
WHERE c.org_id = @org_id AND c.corrected_id = @corrected_id AND i.state = 'issued';
