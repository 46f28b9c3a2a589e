-- E-mail capture: each org has an inbox address (leads+<token>@<domain>);
-- messages sent there (SMTP) or uploaded as .eml files become leads, or
-- activities on the lead or customer who sent them.

-- +goose Up
-- One inbox per org. The token is the secret part of the address; rotating
-- it stops mail to the old address (spam, a leaked address).
CREATE TABLE inbound_inboxes (
    org_id     bigint      NOT NULL REFERENCES orgs (id),
    -- Lower-case base32: mail systems may change the case of local parts.
    token      text        NOT NULL UNIQUE CHECK (token ~ '^[a-z2-7]{16,64}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    rotated_at timestamptz,
    PRIMARY KEY (org_id)
);

-- Every message received, kept raw so processing can be retried (or
-- redone after a fix) and nothing is lost if it fails. Processing is
-- idempotent by (org_id, message_id): a redelivered or re-uploaded message
-- finds its row and creates nothing twice.
CREATE TABLE inbound_messages (
    org_id       bigint      NOT NULL REFERENCES orgs (id),
    id           bigint      GENERATED ALWAYS AS IDENTITY,
    -- The Message-ID header without angle brackets, or "sha256:<hex>" of
    -- the raw bytes when the message has none.
    message_id   text        NOT NULL CHECK (message_id <> '' AND length(message_id) <= 1000),
    via          text        NOT NULL CHECK (via IN ('smtp', 'upload')),
    envelope_from text       NOT NULL DEFAULT '' CHECK (length(envelope_from) <= 1000),
    raw          bytea       NOT NULL,
    size_bytes   bigint      NOT NULL CHECK (size_bytes >= 0),
    uploaded_by  bigint,
    -- pending → lead (a lead was created) | activity (on a known sender) |
    -- rejected (reason is a message id saying why).
    status       text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'lead', 'activity', 'rejected')),
    reason       text        NOT NULL DEFAULT '',
    from_addr    text        NOT NULL DEFAULT '',
    from_name    text        NOT NULL DEFAULT '',
    subject      text        NOT NULL DEFAULT '' CHECK (length(subject) <= 500),
    lead_id      bigint,
    customer_id  bigint,
    received_at  timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, message_id),
    FOREIGN KEY (org_id, uploaded_by) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, lead_id) REFERENCES leads (org_id, id) ON DELETE SET NULL (lead_id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE SET NULL (customer_id),
    CHECK (status <> 'rejected' OR reason <> '')
);
CREATE INDEX inbound_messages_org_idx ON inbound_messages (org_id, id DESC);

-- +goose Down
DROP TABLE inbound_messages;
DROP TABLE inbound_inboxes;
