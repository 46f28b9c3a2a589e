-- Each process caches signed-in principals (app/web/sessions.go) and forgets
-- them when a 'principal' live event names their user or org. Triggers write
-- those events, in the transaction of the change, for every change the cache
-- depends on, so no code path can forget to: a user's name, e-mail, role,
-- locale or active flag; an org's name, country, currency or time zone; a
-- session deleted (logout, deactivation, expiry sweep) or cut short. Statement-level with
-- transition tables, so a sweep of many sessions costs one INSERT.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION live_principal_users() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO live_events (org_id, topic, entity, entity_id, kind, subject_user_id)
    SELECT n.org_id, 'principal', 'user', n.id, 'updated', n.id
    FROM new_rows n JOIN old_rows o ON o.org_id = n.org_id AND o.id = n.id
    WHERE (o.name, o.email, o.role, o.locale, o.active) IS DISTINCT FROM (n.name, n.email, n.role, n.locale, n.active);
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER users_live_principal AFTER UPDATE ON users
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION live_principal_users();

-- +goose StatementBegin
CREATE FUNCTION live_principal_orgs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO live_events (org_id, topic, entity, entity_id, kind)
    SELECT n.id, 'principal', 'org', n.id, 'updated'
    FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE (o.name, o.country, o.currency, o.time_zone) IS DISTINCT FROM (n.name, n.country, n.currency, n.time_zone);
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER orgs_live_principal AFTER UPDATE ON orgs
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION live_principal_orgs();

-- +goose StatementBegin
CREATE FUNCTION live_principal_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO live_events (org_id, topic, entity, entity_id, kind, subject_user_id)
    SELECT DISTINCT g.org_id, 'principal', 'user', g.user_id, 'signed_out', g.user_id
    FROM gone g;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER sessions_live_principal AFTER DELETE ON sessions
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION live_principal_sessions();

-- Shortening a session's expiry is how an operator revokes it by hand;
-- the sliding touch only lengthens it and publishes nothing.
-- +goose StatementBegin
CREATE FUNCTION live_principal_sessions_cut() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO live_events (org_id, topic, entity, entity_id, kind, subject_user_id)
    SELECT DISTINCT n.org_id, 'principal', 'user', n.user_id, 'signed_out', n.user_id
    FROM new_rows n JOIN old_rows o ON o.token_hash = n.token_hash
    WHERE n.expires_at < o.expires_at;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER sessions_live_principal_cut AFTER UPDATE ON sessions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION live_principal_sessions_cut();

-- +goose Down
DROP TRIGGER sessions_live_principal_cut ON sessions;
DROP FUNCTION live_principal_sessions_cut();
DROP TRIGGER sessions_live_principal ON sessions;
DROP TRIGGER orgs_live_principal ON orgs;
DROP TRIGGER users_live_principal ON users;
DROP FUNCTION live_principal_sessions();
DROP FUNCTION live_principal_orgs();
DROP FUNCTION live_principal_users();
