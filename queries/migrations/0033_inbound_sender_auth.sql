-- Inbound e-mail says who sent it; this records whether that was proven.
-- Each message keeps the client that delivered it and the SPF, DKIM and
-- DMARC results (app/inbound/senderauth). Only a message whose From domain
-- was authenticated is trusted as the lead or customer it names; the rest
-- still arrive, flagged, so a person can judge: the lead it created, its
-- timeline entry and its attachments carry sender_unverified.

-- +goose Up
ALTER TABLE inbound_messages
    -- The TCP peer of the SMTP conversation and what it said in HELO;
    -- empty for uploads.
    ADD COLUMN remote_ip       text NOT NULL DEFAULT '' CHECK (length(remote_ip) <= 45),
    ADD COLUMN helo            text NOT NULL DEFAULT '' CHECK (length(helo) <= 255),
    -- The Authentication-Results value: "host; spf=…; dkim=…; dmarc=…".
    ADD COLUMN auth_results    text NOT NULL DEFAULT '' CHECK (length(auth_results) <= 2000),
    -- The From domain the checks authenticated; '' = not authenticated
    -- (including every message received before this migration).
    ADD COLUMN verified_domain text NOT NULL DEFAULT '' CHECK (length(verified_domain) <= 255);
-- The hourly caps of the SMTP listener count here (an org's messages, one
-- client's messages), so every instance sees the same numbers.
CREATE INDEX inbound_messages_org_received_idx ON inbound_messages (org_id, received_at) WHERE via = 'smtp';
CREATE INDEX inbound_messages_ip_received_idx ON inbound_messages (remote_ip, received_at) WHERE remote_ip <> '';

ALTER TABLE leads ADD COLUMN sender_unverified boolean NOT NULL DEFAULT false;
ALTER TABLE activities ADD COLUMN sender_unverified boolean NOT NULL DEFAULT false;
ALTER TABLE documents ADD COLUMN sender_unverified boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE documents DROP COLUMN sender_unverified;
ALTER TABLE activities DROP COLUMN sender_unverified;
ALTER TABLE leads DROP COLUMN sender_unverified;
DROP INDEX inbound_messages_ip_received_idx;
DROP INDEX inbound_messages_org_received_idx;
ALTER TABLE inbound_messages DROP COLUMN verified_domain, DROP COLUMN auth_results, DROP COLUMN helo, DROP COLUMN remote_ip;
