-- Sending invoices to customers: now, at a chosen minute, or again later,
-- each send with its own client link (/i/{token}) and the visits to it.
--
--   - A send is one e-mail of one invoice to one address, with the issued
--     PDF attached and the link. "Send now" writes the row already sent; a
--     scheduled one waits as 'scheduled' until its minute, when the
--     invoice_send job (or the sweep under it) sends it under the row's lock
--     and marks it sent in the same transaction. So there is no 'sending'
--     state: nothing is ever half-sent in the table, and a row changed or
--     cancelled before its minute is what the job finds.
--   - The link is kept as what verifies it (linktoken): the SHA-256 of the
--     token, looked up by, and the nonce the app derives the token from
--     again with PULSO_SECRET. A scheduled send has neither until it goes.
--   - 'failed' is a scheduled send that could not go when its minute came
--     (the invoice was voided meanwhile); failure says why.

-- +goose Up

-- Stored e-mails may now carry an invoice's link, redacted like the others.
ALTER TABLE emails DROP CONSTRAINT emails_link_purpose_check,
    ADD CONSTRAINT emails_link_purpose_check CHECK (link_purpose IN ('quote', 'invite', 'invoice'));

CREATE TABLE invoice_sends (
    org_id       bigint      NOT NULL,
    id           bigint      GENERATED ALWAYS AS IDENTITY,
    invoice_id   bigint      NOT NULL,
    to_address   text        NOT NULL CHECK (to_address LIKE '%_@_%' AND length(to_address) <= 254),
    to_name      text        NOT NULL DEFAULT '' CHECK (length(to_name) <= 200),
    -- The minute a scheduled send goes (stored UTC, chosen in the org's
    -- zone); for a send now, when it was asked.
    scheduled_at timestamptz NOT NULL,
    state        text        NOT NULL CHECK (state IN ('scheduled', 'sent', 'cancelled', 'failed')),
    -- A resend of an invoice already sent (said in the e-mail's subject).
    resend       boolean     NOT NULL DEFAULT false,
    -- The language the e-mail is written in (the sender's).
    locale       text        NOT NULL CHECK (locale IN ('es', 'en')),
    created_by   bigint,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_by   bigint,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz,
    email_id     bigint,
    token_hash   bytea       UNIQUE CHECK (length(token_hash) = 32),
    token_nonce  bytea,
    cancelled_at timestamptz,
    cancelled_by bigint,
    failure      text        NOT NULL DEFAULT '' CHECK (length(failure) <= 200),
    first_opened_at timestamptz,
    last_opened_at  timestamptz,
    PRIMARY KEY (org_id, id),
    -- Opens name their send and its invoice through this key, so an open
    -- can never point at one invoice's send and another invoice.
    UNIQUE (org_id, invoice_id, id),
    FOREIGN KEY (org_id, invoice_id) REFERENCES invoices (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, email_id) REFERENCES emails (org_id, id),
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, updated_by) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, cancelled_by) REFERENCES users (org_id, id),
    -- Sent exactly when it has its time, its e-mail and its link.
    CONSTRAINT invoice_sends_sent CHECK ((state = 'sent')
        = (sent_at IS NOT NULL AND email_id IS NOT NULL AND token_hash IS NOT NULL)),
    CONSTRAINT invoice_sends_token_whole CHECK ((token_hash IS NULL) = (token_nonce IS NULL)),
    CONSTRAINT invoice_sends_cancelled CHECK ((state = 'cancelled') = (cancelled_at IS NOT NULL)),
    CONSTRAINT invoice_sends_failed CHECK ((state = 'failed') = (btrim(failure) <> '')),
    -- Only a link that went out can have been opened.
    CONSTRAINT invoice_sends_opened CHECK (first_opened_at IS NULL OR (state = 'sent' AND last_opened_at >= first_opened_at))
);
-- "Due sends": the sweep asks, across orgs, for scheduled rows whose minute
-- has come; the partial index holds only what still waits, so it stays
-- small however many sends an org has made.
CREATE INDEX invoice_sends_due_idx ON invoice_sends (scheduled_at) WHERE state = 'scheduled';

-- A visit to a send's client link: once per send, client address and hour
-- (reloads are not news), as quote links count them.
CREATE TABLE invoice_opens (
    org_id     bigint      NOT NULL,
    id         bigint      GENERATED ALWAYS AS IDENTITY,
    invoice_id bigint      NOT NULL,
    send_id    bigint      NOT NULL,
    at         timestamptz NOT NULL DEFAULT now(),
    ip         inet,
    user_agent text        NOT NULL DEFAULT '' CHECK (length(user_agent) <= 500),
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, invoice_id, send_id) REFERENCES invoice_sends (org_id, invoice_id, id) ON DELETE CASCADE
);
-- The invoice's opens, newest first, and the hourly check of one send.
CREATE INDEX invoice_opens_invoice_idx ON invoice_opens (org_id, invoice_id, at DESC);
CREATE INDEX invoice_opens_send_idx ON invoice_opens (org_id, send_id, at DESC);

-- +goose Down
DROP TABLE invoice_opens;
DROP TABLE invoice_sends;
-- Their bodies stay redacted; the link cannot be put back without 0038.
UPDATE emails SET link_purpose = NULL, link_nonce = NULL WHERE link_purpose = 'invoice';
ALTER TABLE emails DROP CONSTRAINT emails_link_purpose_check,
    ADD CONSTRAINT emails_link_purpose_check CHECK (link_purpose IN ('quote', 'invite'));
