-- Outgoing e-mail. A row is written in the same transaction as the change
-- that asks for the message (an invite, a sent quote), together with its
-- send_email job; the worker delivers it and records the outcome here.
--
-- The row is rendered when it is written: what the outbox shows is exactly
-- what was (or will be) sent, and a retry sends the same bytes. Bodies may
-- carry one-time links (invites), so access is admin-only and per org.

-- +goose Up
CREATE TABLE emails (
    org_id     bigint      NOT NULL REFERENCES orgs (id),
    id         bigint      GENERATED ALWAYS AS IDENTITY,
    -- Natural key of the message (e.g. "invite:42:<hash>"): enqueueing the
    -- same key twice creates nothing, and the Message-ID header is derived
    -- from it so a receiving server can drop a resend.
    key        text        NOT NULL CHECK (key <> '' AND length(key) <= 200),
    to_address text        NOT NULL CHECK (to_address LIKE '%_@_%'),
    to_name    text        NOT NULL DEFAULT '',
    subject    text        NOT NULL CHECK (btrim(subject) <> ''),
    text_body  text        NOT NULL,
    html_body  text        NOT NULL DEFAULT '',
    template   text        NOT NULL,
    locale     text        NOT NULL CHECK (locale IN ('es', 'en')),
    -- queued: waiting for its job; sent: the SMTP server accepted it;
    -- outboxed: no SMTP_URL, kept for /admin/outbox instead; failed: a
    -- permanent rejection or the last retry failed.
    status     text        NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'outboxed', 'failed')),
    sent_at    timestamptz CHECK ((sent_at IS NOT NULL) = (status IN ('sent', 'outboxed'))),
    -- Last delivery error (the SMTP server's reply), for the admin; never credentials.
    error      text        NOT NULL DEFAULT '',
    attempts   integer     NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, key)
);
-- The outbox lists an org's messages newest first through the primary key
-- (org_id, id); no other index is needed yet.

-- +goose Down
DROP TABLE emails;
