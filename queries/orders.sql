-- name: CreateOrder :one
-- No row back: the quote version has its order already.
INSERT INTO orders (org_id, number, quote_id, quote_version, customer_id, currency, base, tax, surcharge, withheld, total, created_by)
VALUES (@org_id, @number, @quote_id, @quote_version, @customer_id, @currency, @base, @tax, @surcharge, @withheld, @total, @created_by)
ON CONFLICT (org_id, quote_id, quote_version) DO NOTHING
RETURNING *;

-- name: CopyQuoteLinesToOrder :exec
INSERT INTO order_lines (org_id, order_id, position, product_id, description, unit, quantity, unit_price, discount_pct,
                         tax_rate_id, tax_rate, surcharge, withholding, amount)
SELECT l.org_id, @order_id::bigint, l.position, l.product_id, l.description, l.unit, l.quantity, l.unit_price, l.discount_pct,
       l.tax_rate_id, l.tax_rate, l.surcharge, l.withholding, l.amount
FROM quote_lines l WHERE l.org_id = @org_id AND l.quote_id = @quote_id AND l.version_n = @version_n;

-- name: GetOrderForQuote :one
SELECT * FROM orders WHERE org_id = @org_id AND quote_id = @quote_id AND quote_version = @quote_version;

-- name: GetOrder :one
SELECT o.*, c.legal_name AS customer_name, q.owner_id, q.number AS quote_number
FROM orders o
JOIN customers c ON c.org_id = o.org_id AND c.id = o.customer_id
JOIN quotes q ON q.org_id = o.org_id AND q.id = o.quote_id
WHERE o.org_id = @org_id AND o.id = @id;

-- name: ListOrders :many
SELECT o.id, o.number, o.total, o.currency, o.created_at, c.legal_name AS customer_name, q.owner_id,
       (SELECT coalesce(sum(l.quantity), 0) FROM order_lines l WHERE l.org_id = o.org_id AND l.order_id = o.id)::numeric AS ordered,
       (SELECT coalesce(sum(d.quantity), 0) FROM delivery_note_lines d WHERE d.org_id = o.org_id AND d.order_id = o.id)::numeric AS delivered
FROM orders o
JOIN customers c ON c.org_id = o.org_id AND c.id = o.customer_id
JOIN quotes q ON q.org_id = o.org_id AND q.id = o.quote_id
WHERE o.org_id = @org_id
  AND (sqlc.narg('owner_scope')::bigint[] IS NULL OR q.owner_id = ANY (sqlc.narg('owner_scope')::bigint[]))
  AND (sqlc.narg('before_id')::bigint IS NULL OR o.id < sqlc.narg('before_id'))
ORDER BY o.id DESC
LIMIT @page_size;

-- name: ListOrderLines :many
-- Each line with what its delivery notes have delivered so far.
SELECT l.*, coalesce((SELECT sum(d.quantity) FROM delivery_note_lines d
                      WHERE d.org_id = l.org_id AND d.order_id = l.order_id AND d.order_position = l.position), 0)::numeric AS delivered
FROM order_lines l WHERE l.org_id = @org_id AND l.order_id = @order_id ORDER BY l.position;

-- name: CreateDeliveryNote :one
INSERT INTO delivery_notes (org_id, number, order_id, delivered_on, notes, created_by)
VALUES (@org_id, @number, @order_id, @delivered_on, @notes, @created_by)
RETURNING *;

-- name: InsertDeliveryNoteLine :exec
INSERT INTO delivery_note_lines (org_id, delivery_note_id, order_id, order_position, quantity)
VALUES (@org_id, @delivery_note_id, @order_id, @order_position, @quantity);

-- name: ListDeliveryNotes :many
SELECT * FROM delivery_notes WHERE org_id = @org_id AND order_id = @order_id ORDER BY id;

-- name: GetDeliveryNote :one
SELECT * FROM delivery_notes WHERE org_id = @org_id AND id = @id;

-- name: ListDeliveryNoteLines :many
SELECT d.quantity, l.position, l.description, l.unit
FROM delivery_note_lines d
JOIN order_lines l ON l.org_id = d.org_id AND l.order_id = d.order_id AND l.position = d.order_position
WHERE d.org_id = @org_id AND d.delivery_note_id = @delivery_note_id
ORDER BY l.position;
