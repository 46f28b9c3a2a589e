-- A token that opens something without a session (a quote's client link, a
-- calendar feed, a web form's or an inbox's address, an invite) is kept
-- only as what verifies it: the SHA-256 of the token, looked up by, and a
-- random nonce from which the app re-derives the token as
-- HMAC(PULSO_SECRET, purpose, nonce) when it must show it again or put it
-- in an e-mail (app/linktoken). A leaked backup or log of this database
-- therefore opens nothing without the secret, which is never in it.
--
-- Existing tokens keep working: their digest is computed here, and the
-- clear column goes. This migration cannot know the secret, so those rows
-- get no nonce and the app cannot show their token again; it says so where
-- it would have shown it and offers a rotation (or, for a quote, the next
-- version's link). Everything made from now on carries a nonce.
--
-- Stored e-mails keep a placeholder where a token went; link_purpose and
-- link_nonce let the send_email job put the working link back on its way
-- to the SMTP server (app/mail). Bodies stored before this carried links in
-- clear: they are redacted here. A message still queued at this moment
-- goes out with the placeholder (the recipient asks for a new invite, or
-- the rep sends the quote's next version).

-- +goose Up
ALTER TABLE quote_links ADD COLUMN token_nonce bytea, DROP COLUMN token;

ALTER TABLE lead_forms ADD COLUMN token_hash bytea, ADD COLUMN token_nonce bytea;
UPDATE lead_forms SET token_hash = sha256(convert_to(token, 'UTF8'));
ALTER TABLE lead_forms ALTER COLUMN token_hash SET NOT NULL,
    ADD CONSTRAINT lead_forms_token_hash_key UNIQUE (token_hash),
    DROP COLUMN token;

ALTER TABLE calendar_feeds ADD COLUMN token_hash bytea, ADD COLUMN token_nonce bytea;
UPDATE calendar_feeds SET token_hash = sha256(convert_to(token, 'UTF8'));
ALTER TABLE calendar_feeds ALTER COLUMN token_hash SET NOT NULL,
    ADD CONSTRAINT calendar_feeds_token_hash_key UNIQUE (token_hash),
    DROP COLUMN token;

-- The SMTP listener lower-cases the address before hashing, as the
-- constraint on the old column made every token lower-case.
ALTER TABLE inbound_inboxes ADD COLUMN token_hash bytea, ADD COLUMN token_nonce bytea;
UPDATE inbound_inboxes SET token_hash = sha256(convert_to(token, 'UTF8'));
ALTER TABLE inbound_inboxes ALTER COLUMN token_hash SET NOT NULL,
    ADD CONSTRAINT inbound_inboxes_token_hash_key UNIQUE (token_hash),
    DROP COLUMN token;

ALTER TABLE emails
    ADD COLUMN link_purpose text CHECK (link_purpose IN ('quote', 'invite')),
    ADD COLUMN link_nonce   bytea,
    ADD CONSTRAINT emails_link_whole CHECK ((link_purpose IS NULL) = (link_nonce IS NULL));
UPDATE emails SET
    text_body = regexp_replace(text_body, '(/(q|invite)/)[A-Za-z0-9_-]{16,}', '\1[token-oculto]', 'g'),
    html_body = regexp_replace(html_body, '(/(q|invite)/)[A-Za-z0-9_-]{16,}', '\1[token-oculto]', 'g')
WHERE template IN ('invite', 'quote_sent');

-- +goose Down
-- The tokens themselves are gone: going back gives every row a new random
-- one (every address and link is rotated) and leaves e-mails redacted.
ALTER TABLE emails DROP CONSTRAINT emails_link_whole, DROP COLUMN link_nonce, DROP COLUMN link_purpose;

ALTER TABLE inbound_inboxes ADD COLUMN token text;
UPDATE inbound_inboxes SET token = translate(md5(random()::text), '0189', 'qrst');
ALTER TABLE inbound_inboxes ALTER COLUMN token SET NOT NULL, ADD CONSTRAINT inbound_inboxes_token_key UNIQUE (token),
    ADD CONSTRAINT inbound_inboxes_token_check CHECK (token ~ '^[a-z2-7]{16,64}$'),
    DROP COLUMN token_nonce, DROP COLUMN token_hash;

ALTER TABLE calendar_feeds ADD COLUMN token text;
UPDATE calendar_feeds SET token = md5(random()::text) || md5(random()::text);
ALTER TABLE calendar_feeds ALTER COLUMN token SET NOT NULL, ADD CONSTRAINT calendar_feeds_token_key UNIQUE (token),
    ADD CONSTRAINT calendar_feeds_token_check CHECK (length(token) >= 32),
    DROP COLUMN token_nonce, DROP COLUMN token_hash;

ALTER TABLE lead_forms ADD COLUMN token text;
UPDATE lead_forms SET token = md5(random()::text);
ALTER TABLE lead_forms ALTER COLUMN token SET NOT NULL, ADD CONSTRAINT lead_forms_token_key UNIQUE (token),
    DROP COLUMN token_nonce, DROP COLUMN token_hash;

-- A quote link's hash no longer matches the new token: revoke them all.
ALTER TABLE quote_links ADD COLUMN token text;
UPDATE quote_links SET token = md5(random()::text), revoked_at = coalesce(revoked_at, now());
ALTER TABLE quote_links ALTER COLUMN token SET NOT NULL, DROP COLUMN token_nonce;
