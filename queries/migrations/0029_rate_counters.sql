-- Request counters for throttles that must hold across every app instance
-- behind a balancer (the client quote links' per-address limit, app/web
-- Throttle): one row per scope and client, counting hits in a window that
-- starts at the client's first hit. UNLOGGED: counters lost in a crash
-- only forgive a minute of requests, and skipping the WAL keeps a counter
-- bump cheap. Old rows are swept by the session cleanup job.

-- +goose Up
CREATE UNLOGGED TABLE rate_counters (
    scope        text        NOT NULL,
    key          text        NOT NULL,
    window_start timestamptz NOT NULL,
    hits         integer     NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX rate_counters_window_idx ON rate_counters (window_start);

-- +goose Down
DROP TABLE rate_counters;
