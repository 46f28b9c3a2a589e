-- name: EnsureInbox :one
-- Creates the org's inbox on first use; returns the current one either way
-- without rewriting it (the SELECT does not see the row the INSERT adds, so
-- exactly one row comes back).
WITH created AS (
    INSERT INTO inbound_inboxes (org_id, token_hash, token_nonce) VALUES (@org_id, @token_hash, @token_nonce)
    ON CONFLICT (org_id) DO NOTHING
    RETURNING org_id, token_nonce, created_at, rotated_at
)
SELECT org_id, token_nonce, created_at, rotated_at FROM created
UNION ALL
SELECT org_id, token_nonce, created_at, rotated_at FROM inbound_inboxes WHERE org_id = @org_id;

-- name: RotateInbox :one
UPDATE inbound_inboxes SET token_hash = @token_hash, token_nonce = @token_nonce, rotated_at = now()
WHERE org_id = @org_id
RETURNING *;

-- name: GetInboxByTokenHash :one
-- By the digest of the lower-cased token of the address (migration 0031).
SELECT i.org_id FROM inbound_inboxes i WHERE i.token_hash = @token_hash;

-- name: ReceiveInboundMessage :one
-- No row back: this org already has the message (a redelivery or a second
-- upload), and nothing more is to be done.
INSERT INTO inbound_messages (org_id, message_id, via, envelope_from, raw, size_bytes, uploaded_by,
                              remote_ip, helo, auth_results, verified_domain)
VALUES (@org_id, @message_id, @via, @envelope_from, @raw, @size_bytes, sqlc.narg('uploaded_by'),
        @remote_ip, @helo, @auth_results, @verified_domain)
ON CONFLICT (org_id, message_id) DO NOTHING
RETURNING id;

-- name: GetInboundMessageByMessageID :one
SELECT id, status, reason, lead_id, customer_id FROM inbound_messages
WHERE org_id = @org_id AND message_id = @message_id;

-- name: LockInboundMessage :one
SELECT * FROM inbound_messages WHERE org_id = @org_id AND id = @id FOR UPDATE;

-- name: FinishInboundMessage :exec
UPDATE inbound_messages
SET status = @status, reason = @reason, from_addr = @from_addr, from_name = @from_name,
    subject = @subject, lead_id = sqlc.narg('lead_id'), customer_id = sqlc.narg('customer_id'),
    processed_at = now()
WHERE org_id = @org_id AND id = @id;

-- name: ListInboundMessages :many
SELECT m.id, m.message_id, m.via, m.status, m.reason, m.from_addr, m.from_name, m.subject,
       m.lead_id, m.customer_id, m.size_bytes, m.received_at, m.auth_results, m.verified_domain,
       coalesce(l.name, '')::text AS lead_name, coalesce(c.legal_name, '')::text AS customer_name
FROM inbound_messages m
LEFT JOIN leads l ON l.org_id = m.org_id AND l.id = m.lead_id
LEFT JOIN customers c ON c.org_id = m.org_id AND c.id = m.customer_id
WHERE m.org_id = @org_id
ORDER BY m.id DESC
LIMIT @page_size;

-- name: FindSenderCustomer :one
-- A customer is known by its own e-mail or one of its contacts'.
SELECT c.id FROM customers c
WHERE c.org_id = @org_id AND (c.email = @email OR EXISTS (
    SELECT 1 FROM customer_contacts cc WHERE cc.org_id = c.org_id AND cc.customer_id = c.id AND cc.email = @email))
ORDER BY c.id DESC
LIMIT 1;

-- name: FindSenderLead :one
-- The newest lead with the address; a converted one hands over to its customer.
SELECT id, customer_id FROM leads
WHERE org_id = @org_id AND email = @email
ORDER BY id DESC
LIMIT 1;


-- name: CountInboundForOrg :one
-- Messages the SMTP listener stored for the org since a moment (its hourly cap).
SELECT count(*) FROM inbound_messages
WHERE org_id = @org_id AND via = 'smtp' AND received_at > @since;

-- name: CountInboundFromIP :one
-- Messages one client delivered since a moment, to any org: a client's cap
-- is about the client, so this is the one inbound count without org_id.
SELECT count(*) FROM inbound_messages
WHERE remote_ip = @remote_ip::text AND remote_ip <> '' AND received_at > @since;

-- name: FlagLeadSenderUnverified :one
-- A lead made from an e-mail whose sender could not be authenticated.
UPDATE leads SET sender_unverified = true
WHERE org_id = @org_id AND id = @id
RETURNING *;
