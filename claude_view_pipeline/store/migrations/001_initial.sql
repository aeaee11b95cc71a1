-- 001: the first index schema (v1). Like the index this product grew from, it keyed a
-- session by whatever id it was found under: a raw id (`abc`), or later a prefixed one
-- (`codex:abc`), with source / source_session_id optional. 002 makes identity canonical.
-- Content columns are everything except run_id / indexed_at (bookkeeping).

CREATE TABLE sessions (
    id                     VARCHAR PRIMARY KEY,      -- v1: the session id as found (raw or prefixed)
    source                 VARCHAR,                  -- v1: may be missing (Claude-only era)
    source_session_id      VARCHAR,
    file_path              VARCHAR,
    file_size              BIGINT,
    file_mtime_ns          BIGINT,
    parent_session_id      VARCHAR,
    relation               VARCHAR,                  -- fork | subagent | continuation
    is_sidechain           BOOLEAN,
    is_headless            BOOLEAN,
    cli_version            VARCHAR,
    cwd                    VARCHAR,
    project                VARCHAR,
    git_branch             VARCHAR,
    started_at             TIMESTAMPTZ,
    ended_at               TIMESTAMPTZ,
    primary_model          VARCHAR,
    models                 VARCHAR[],
    message_count          INTEGER,
    user_prompt_count      INTEGER,
    api_call_count         INTEGER,
    tool_call_count        INTEGER,
    input_tokens           BIGINT,
    cache_read_tokens      BIGINT,
    cache_creation_tokens  BIGINT,
    output_tokens          BIGINT,
    reasoning_tokens       BIGINT,
    total_tokens           BIGINT,
    compaction_count       INTEGER,
    microcompaction_count  INTEGER,
    aborted_turn_count     INTEGER,
    inherited_records      INTEGER,
    malformed_lines        INTEGER,
    unknown_types          JSON,
    file_missing           BOOLEAN NOT NULL DEFAULT false,
    run_id                 VARCHAR,
    indexed_at             TIMESTAMPTZ
);

CREATE TABLE messages (
    session_id             VARCHAR NOT NULL,
    source                 VARCHAR NOT NULL,
    ordinal                INTEGER NOT NULL,
    role                   VARCHAR NOT NULL,
    kind                   VARCHAR,
    "timestamp"            TIMESTAMPTZ,
    text                   VARCHAR,
    tool_name              VARCHAR,
    call_id                VARCHAR,
    is_error               BOOLEAN,
    line_no                INTEGER,
    inherited              BOOLEAN NOT NULL DEFAULT false,  -- a copy another session owns
    dedup_key              VARCHAR,                  -- identity of the record across files
    origin_session_id      VARCHAR,                  -- the session a copied line names
    api_call               BOOLEAN NOT NULL DEFAULT false,
    model                  VARCHAR,
    input_tokens           BIGINT,
    cache_read_tokens      BIGINT,
    cache_creation_tokens  BIGINT,
    output_tokens          BIGINT,
    reasoning_tokens       BIGINT,
    run_id                 VARCHAR
);

-- One row per discovered file: its fingerprint at the last parse, and the outcome.
CREATE TABLE indexed_files (
    path                   VARCHAR NOT NULL,
    source                 VARCHAR NOT NULL,
    kind                   VARCHAR,
    size                   BIGINT,
    mtime_ns               BIGINT,
    status                 VARCHAR NOT NULL,         -- indexed | rejected
    reason                 VARCHAR,                  -- rejection reason (empty, source_mismatch, ...)
    detail                 VARCHAR,
    session_ids            VARCHAR[],
    lines_ok               INTEGER,
    lines_malformed        INTEGER,
    missing                BOOLEAN NOT NULL DEFAULT false,
    run_id                 VARCHAR,
    indexed_at             TIMESTAMPTZ,
    PRIMARY KEY (source, path)               -- roots may overlap: each source keeps its own verdict
);

CREATE TABLE index_metrics (
    run_id                 VARCHAR NOT NULL,
    recorded_at            TIMESTAMPTZ NOT NULL,
    source                 VARCHAR NOT NULL,
    stage                  VARCHAR NOT NULL,         -- pass1 | pass2 | live
    result                 VARCHAR NOT NULL,
    metric                 VARCHAR NOT NULL,
    value                  DOUBLE NOT NULL
);
