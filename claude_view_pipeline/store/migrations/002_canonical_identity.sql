-- 002: canonical session identity, id = source || ':' || source_session_id.
--
-- Backfills rows written under v1, whose id may be raw (`abc`) or already prefixed
-- (`codex:abc`) and whose source / source_session_id may be NULL or empty:
--   source            = the source column when valid, else the id's prefix, else a Codex
--                       rollout file name, else claude (v1 indexed Claude only);
--   source_session_id = the column when non-empty, else the id without its source prefix.
-- Two v1 rows that name the same session keep the most recently indexed one; the other's
-- messages go with it. A row whose identity cannot be recovered is moved, with its
-- messages, to legacy_unresolved_sessions / legacy_unresolved_messages, never deleted.
-- The runner takes a backup of the file before this migration (migrate.py).

CREATE TEMP TABLE v2_identity AS
WITH resolved AS (
    SELECT id AS old_id, indexed_at, file_path,
           CASE
               WHEN source IN ('claude', 'codex') THEN source
               WHEN id LIKE 'claude:%' THEN 'claude'
               WHEN id LIKE 'codex:%' THEN 'codex'
               WHEN file_path LIKE '%/rollout-%.jsonl' THEN 'codex'
               ELSE 'claude'
           END AS new_source,
           nullif(trim(source_session_id), '') AS given_ssid
    FROM sessions
),
named AS (
    SELECT *, coalesce(given_ssid,
                       nullif(trim(CASE WHEN starts_with(old_id, new_source || ':') THEN substr(old_id, length(new_source) + 2)
                                        ELSE old_id END), '')) AS new_ssid
    FROM resolved
)
SELECT old_id, new_source, new_ssid,
       CASE WHEN new_ssid IS NULL THEN NULL ELSE new_source || ':' || new_ssid END AS new_id,
       new_ssid IS NOT NULL
         AND row_number() OVER (PARTITION BY new_source, new_ssid
                                ORDER BY indexed_at DESC NULLS LAST, (old_id = new_source || ':' || new_ssid) DESC, old_id) = 1
         AS keep
FROM named;

CREATE TABLE IF NOT EXISTS legacy_unresolved_sessions AS SELECT * FROM sessions WHERE false;
CREATE TABLE IF NOT EXISTS legacy_unresolved_messages AS SELECT * FROM messages WHERE false;
INSERT INTO legacy_unresolved_sessions SELECT * FROM sessions WHERE id IN (SELECT old_id FROM v2_identity WHERE new_id IS NULL);
INSERT INTO legacy_unresolved_messages SELECT * FROM messages WHERE session_id IN (SELECT old_id FROM v2_identity WHERE new_id IS NULL);
DELETE FROM messages WHERE session_id IN (SELECT old_id FROM v2_identity WHERE new_id IS NULL);

CREATE TABLE sessions_v2 (
    id                     VARCHAR PRIMARY KEY,      -- '<source>:<source_session_id>'
    source                 VARCHAR NOT NULL,
    source_session_id      VARCHAR NOT NULL,
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
    indexed_at             TIMESTAMPTZ,
    UNIQUE (source, source_session_id),
    CHECK (source IN ('claude', 'codex')),
    CHECK (length(source_session_id) > 0)
);

INSERT INTO sessions_v2 BY NAME
SELECT i.new_id AS id, i.new_source AS source, i.new_ssid AS source_session_id,
       s.file_path, s.file_size, s.file_mtime_ns, s.parent_session_id, s.relation, s.is_sidechain, s.is_headless, s.cli_version, s.cwd, s.project, s.git_branch, s.started_at, s.ended_at, s.primary_model, s.models, s.message_count, s.user_prompt_count, s.api_call_count, s.tool_call_count, s.input_tokens, s.cache_read_tokens, s.cache_creation_tokens, s.output_tokens, s.reasoning_tokens, s.total_tokens, s.compaction_count, s.microcompaction_count, s.aborted_turn_count, s.inherited_records, s.malformed_lines, s.unknown_types, s.file_missing, s.run_id, s.indexed_at
FROM sessions s JOIN v2_identity i ON i.old_id = s.id
WHERE i.keep;

DELETE FROM messages WHERE session_id IN (SELECT old_id FROM v2_identity WHERE NOT keep);
UPDATE messages SET session_id = i.new_id, source = i.new_source
FROM v2_identity i
WHERE messages.session_id = i.old_id AND i.keep AND (messages.session_id <> i.new_id OR messages.source IS DISTINCT FROM i.new_source);
UPDATE sessions_v2 SET parent_session_id = i.new_id
FROM v2_identity i
WHERE sessions_v2.parent_session_id = i.old_id AND i.new_id IS NOT NULL AND i.old_id <> i.new_id;

DROP TABLE sessions;
ALTER TABLE sessions_v2 RENAME TO sessions;
DROP TABLE v2_identity;
