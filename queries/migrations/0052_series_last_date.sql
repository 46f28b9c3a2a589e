-- Each series keeps the latest date it has numbered in a year, written by
-- the same upsert that takes the number (TakeNumber). Issuing refuses an
-- invoice dated before its series' last (numbers follow dates, RD
-- 1619/2012 art. 6.1.a): it read that date from the invoices as a second
-- statement under the series' lock; now the lock hands it back.
--
-- invoices_list_idx (org_id, id DESC) repeats the primary key (org_id,
-- id), which PostgreSQL scans backwards for the same pages; every invoice
-- written paid for both.

-- +goose Up
ALTER TABLE number_series ADD COLUMN last_date date;
UPDATE number_series s SET last_date = i.last_date
FROM (SELECT org_id, series, year, max(issue_date) AS last_date FROM invoices WHERE number IS NOT NULL GROUP BY 1, 2, 3) i
WHERE s.org_id = i.org_id AND s.code = i.series AND s.year = i.year;
DROP INDEX invoices_list_idx;

-- +goose Down
CREATE INDEX invoices_list_idx ON invoices (org_id, id DESC);
ALTER TABLE number_series DROP COLUMN last_date;
