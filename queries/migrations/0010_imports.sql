-- Imports: a file of leads (CSV/XLSX) or a smart portfolio (cartera
-- inteligente) uploaded by an admin, worked by an import job. Rows stream
-- from the file into import_rows (COPY), are checked and deduplicated in
-- SQL, and the good ones are written to leads (or customers) in one
-- transaction that also marks the import done: a retried job either finds
-- it done or starts the staging over, so nothing is inserted twice.

-- +goose Up
CREATE TABLE imports (
    org_id        bigint      NOT NULL REFERENCES orgs (id),
    id            bigint      GENERATED ALWAYS AS IDENTITY,
    kind          text        NOT NULL CHECK (kind IN ('leads', 'portfolio')),
    filename      text        NOT NULL CHECK (btrim(filename) <> '' AND length(filename) <= 255),
    -- Relative to PULSO_DATA_DIR, so a `pulso work` process finds the file.
    path          text        NOT NULL CHECK (path <> '' AND path NOT LIKE '/%' AND path NOT LIKE '%..%'),
    size_bytes    bigint      NOT NULL CHECK (size_bytes >= 0),
    format        text        NOT NULL CHECK (format IN ('csv', 'xlsx')),
    -- CSV only: '' = detect; utf-8, windows-1252 or iso-8859-1.
    charset       text        NOT NULL DEFAULT '' CHECK (charset IN ('', 'utf-8', 'windows-1252', 'iso-8859-1')),
    -- Lead field → 0-based column of the file, chosen on the preview screen.
    mapping       jsonb       NOT NULL DEFAULT '{}',
    status        text        NOT NULL DEFAULT 'draft'
                  CHECK (status IN ('draft', 'queued', 'running', 'done', 'failed')),
    -- A catalog message id when the whole file was refused (failed).
    failure       text        NOT NULL DEFAULT '',
    failure_line  integer     NOT NULL DEFAULT 0,
    -- Percent done, as the live bar shows it.
    progress      integer     NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    rows_read     integer     NOT NULL DEFAULT 0,
    inserted      integer     NOT NULL DEFAULT 0,
    merged        integer     NOT NULL DEFAULT 0,
    skipped       integer     NOT NULL DEFAULT 0,
    errors        integer     NOT NULL DEFAULT 0,
    -- Relative path of the error file (the bad rows with an errors column).
    error_path    text        NOT NULL DEFAULT '',
    created_by    bigint      NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id)
);
CREATE INDEX imports_org_idx ON imports (org_id, id DESC);

-- The staging area of one import. Rows carry the normalised values (Go
-- normalises while streaming, with app/ident) and, once checked, their
-- outcome. Keyed by import and line: a retry deletes and restages. No other
-- index, so COPY runs at full speed; the checks are set-based joins.
-- UNLOGGED: staging writes no WAL (the checks rewrite every row several
-- times). A database crash empties it, which costs nothing: the job's
-- retry restages from the file.
CREATE UNLOGGED TABLE import_rows (
    org_id       bigint  NOT NULL,
    import_id    bigint  NOT NULL,
    line         integer NOT NULL,
    name         text    NOT NULL DEFAULT '',
    contact_name text    NOT NULL DEFAULT '',
    email        text    NOT NULL DEFAULT '',
    phone        text    NOT NULL DEFAULT '',
    tax_id       text    NOT NULL DEFAULT '',
    country      text    NOT NULL DEFAULT '',
    province     text    NOT NULL DEFAULT '',
    city         text    NOT NULL DEFAULT '',
    tags         text[]  NOT NULL DEFAULT '{}',
    notes        text    NOT NULL DEFAULT '',
    owner_email  text    NOT NULL DEFAULT '',
    owner_id     bigint,
    -- Portfolio rows: Agente personalizado (overrides Agente) and figures.
    custom_email        text   NOT NULL DEFAULT '',
    billing_initial     bigint,
    billing_recommended bigint,
    billing_final       bigint,
    -- A bad row: the file's column header and a catalog message id.
    error_column text    NOT NULL DEFAULT '',
    error_id     text    NOT NULL DEFAULT '',
    -- '' (a new row), merge, skip or error, set by the checks.
    outcome      text    NOT NULL DEFAULT '',
    match_id     bigint,
    PRIMARY KEY (org_id, import_id, line),
    FOREIGN KEY (org_id, import_id) REFERENCES imports (org_id, id) ON DELETE CASCADE
);

-- Attachments of outgoing e-mail (the error file of an import). Bytes live
-- in the row: the worker that sends may run on another machine.
CREATE TABLE email_attachments (
    org_id       bigint NOT NULL,
    id           bigint GENERATED ALWAYS AS IDENTITY,
    email_id     bigint NOT NULL,
    filename     text   NOT NULL CHECK (btrim(filename) <> '' AND length(filename) <= 255),
    content_type text   NOT NULL,
    content      bytea  NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, email_id) REFERENCES emails (org_id, id) ON DELETE CASCADE
);
CREATE INDEX email_attachments_email_idx ON email_attachments (org_id, email_id, id);

-- +goose Down
DROP TABLE email_attachments;
DROP TABLE import_rows;
DROP TABLE imports;
