-- The quote tables group sent and signed quotes by month in the org's
-- calendar. Converting every timestamp to the org's time zone while
-- grouping cost 338 ms for a year of a 500,000-quote org (BENCHMARKS.md,
-- issue 16); the month is now worked out once, when the fact row is
-- written, and the tables read it from a narrow index.
--
-- The month follows the org's time zone at write time, like every other
-- rollup: after a time-zone change `pulso stats rebuild` recomputes it.

-- +goose Up
ALTER TABLE stats_quote_facts ADD COLUMN sent_month date, ADD COLUMN signed_month date;

UPDATE stats_quote_facts f
SET sent_month = date_trunc('month', f.sent_at AT TIME ZONE o.time_zone)::date,
    signed_month = date_trunc('month', f.signed_at AT TIME ZONE o.time_zone)::date
FROM orgs o WHERE o.id = f.org_id;

ALTER TABLE stats_quote_facts ALTER COLUMN sent_month SET NOT NULL,
    ADD CONSTRAINT stats_quote_facts_signed_month_check CHECK ((signed_at IS NULL) = (signed_month IS NULL));

-- +goose StatementBegin
CREATE FUNCTION stats_quote_facts_months() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    tz text;
BEGIN
    SELECT o.time_zone INTO STRICT tz FROM orgs o WHERE o.id = NEW.org_id;
    NEW.sent_month := date_trunc('month', NEW.sent_at AT TIME ZONE tz)::date;
    NEW.signed_month := date_trunc('month', NEW.signed_at AT TIME ZONE tz)::date;
    RETURN NEW;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER stats_quote_facts_months BEFORE INSERT OR UPDATE OF sent_at, signed_at ON stats_quote_facts
    FOR EACH ROW EXECUTE FUNCTION stats_quote_facts_months();

CREATE INDEX stats_quote_facts_sent_month_idx ON stats_quote_facts (org_id, sent_month)
    INCLUDE (owner_id, source, group_id, status);
CREATE INDEX stats_quote_facts_signed_month_idx ON stats_quote_facts (org_id, signed_month)
    INCLUDE (owner_id, source, group_id, status) WHERE signed_month IS NOT NULL;

-- +goose Down
DROP INDEX stats_quote_facts_signed_month_idx;
DROP INDEX stats_quote_facts_sent_month_idx;
DROP TRIGGER stats_quote_facts_months ON stats_quote_facts;
DROP FUNCTION stats_quote_facts_months();
ALTER TABLE stats_quote_facts DROP CONSTRAINT stats_quote_facts_signed_month_check,
    DROP COLUMN signed_month, DROP COLUMN sent_month;
