-- 013: sources come from the registry (claude_view_pipeline/sources.py), not from the schema. The
-- sessions table was created (002) with CHECK (source IN ('claude', 'codex')), which DuckDB
-- cannot drop: the table is built again without it, with every row and its other
-- constraints, and its comments. The integrity check sessions_source_valid holds `source` to
-- the registered sources instead.

CREATE TABLE sessions_v13 (
    id                         VARCHAR NOT NULL,
    source                     VARCHAR NOT NULL,
    source_session_id          VARCHAR NOT NULL,
    file_path                  VARCHAR,
    file_size                  BIGINT,
    file_mtime_ns              BIGINT,
    parent_session_id          VARCHAR,
    relation                   VARCHAR,
    is_sidechain               BOOLEAN,
    is_headless                BOOLEAN,
    cli_version                VARCHAR,
    cwd                        VARCHAR,
    project                    VARCHAR,
    git_branch                 VARCHAR,
    started_at                 TIMESTAMP WITH TIME ZONE,
    ended_at                   TIMESTAMP WITH TIME ZONE,
    primary_model              VARCHAR,
    models                     VARCHAR[],
    message_count              INTEGER,
    user_prompt_count          INTEGER,
    api_call_count             INTEGER,
    tool_call_count            INTEGER,
    input_tokens               BIGINT,
    cache_read_tokens          BIGINT,
    cache_creation_tokens      BIGINT,
    output_tokens              BIGINT,
    reasoning_tokens           BIGINT,
    total_tokens               BIGINT,
    compaction_count           INTEGER,
    microcompaction_count      INTEGER,
    aborted_turn_count         INTEGER,
    inherited_records          INTEGER,
    malformed_lines            INTEGER,
    unknown_types              JSON,
    file_missing               BOOLEAN NOT NULL DEFAULT false,
    run_id                     VARCHAR,
    indexed_at                 TIMESTAMP WITH TIME ZONE,
    git_repository_url         VARCHAR,
    project_key                VARCHAR,
    model_assumed              BOOLEAN,
    cache_creation_5m_tokens   BIGINT,
    cache_creation_1h_tokens   BIGINT,
    UNIQUE (source, source_session_id),
    CHECK (length(source_session_id) > 0),
    PRIMARY KEY (id)
);
INSERT INTO sessions_v13 BY NAME SELECT * FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_v13 RENAME TO sessions;

COMMENT ON TABLE sessions IS 'One row per session of every source.';
COMMENT ON COLUMN sessions.id IS 'Canonical id `<source>:<source_session_id>`; the primary key.';
COMMENT ON COLUMN sessions.source IS 'The registered source (agent) the session is from: claude, codex, gemini, qwen, copilot, opencode, ...';
COMMENT ON COLUMN sessions.source_session_id IS 'The session''s id inside its agent (Claude sessionId or `agent-<id>`; Codex session_meta.id; see docs/parsing-rules.md for each).';
COMMENT ON COLUMN sessions.file_path IS 'Absolute path of the file the session was read from.';
COMMENT ON COLUMN sessions.file_size IS 'Size of that file when it was read, bytes.';
COMMENT ON COLUMN sessions.file_mtime_ns IS 'Modification time of that file when it was read, ns since the epoch.';
COMMENT ON COLUMN sessions.parent_session_id IS 'The session this one belongs to (see relation).';
COMMENT ON COLUMN sessions.relation IS 'subagent, fork or continuation (a resumed Claude session); NULL for a top-level session.';
COMMENT ON COLUMN sessions.is_sidechain IS 'A subagent''s transcript.';
COMMENT ON COLUMN sessions.is_headless IS 'A run with no person at the keyboard (Codex exec, a scripted prompt).';
COMMENT ON COLUMN sessions.cli_version IS 'The tool''s version as recorded.';
COMMENT ON COLUMN sessions.cwd IS 'Working directory as recorded.';
COMMENT ON COLUMN sessions.project IS 'The project''s display name: the repository directory''s last part (worktrees and subagents belong to their repository); see project_name().';
COMMENT ON COLUMN sessions.git_branch IS 'Git branch as recorded.';
COMMENT ON COLUMN sessions.started_at IS 'Earliest line timestamp, UTC.';
COMMENT ON COLUMN sessions.ended_at IS 'Latest line timestamp, UTC.';
COMMENT ON COLUMN sessions.primary_model IS 'The model with the most API calls (a tie: the model of the latest).';
COMMENT ON COLUMN sessions.models IS 'Every model the session called.';
COMMENT ON COLUMN sessions.message_count IS 'Rows in messages.';
COMMENT ON COLUMN sessions.user_prompt_count IS 'Prompts a person typed (slash commands included).';
COMMENT ON COLUMN sessions.api_call_count IS 'Model responses counted here (a copy owned by another session is not).';
COMMENT ON COLUMN sessions.tool_call_count IS 'Tool invocations of any kind.';
COMMENT ON COLUMN sessions.input_tokens IS 'Input tokens not served from cache.';
COMMENT ON COLUMN sessions.cache_read_tokens IS 'Input tokens served from cache.';
COMMENT ON COLUMN sessions.cache_creation_tokens IS 'Input tokens written to cache (5-minute + 1-hour writes; 0 where the agent reports none).';
COMMENT ON COLUMN sessions.output_tokens IS 'Output tokens, reasoning included.';
COMMENT ON COLUMN sessions.reasoning_tokens IS 'The reasoning part of the output; NULL where the tool does not report it.';
COMMENT ON COLUMN sessions.total_tokens IS 'input + cache read + cache creation + output tokens.';
COMMENT ON COLUMN sessions.compaction_count IS 'Context compactions.';
COMMENT ON COLUMN sessions.microcompaction_count IS 'Claude micro-compactions.';
COMMENT ON COLUMN sessions.aborted_turn_count IS 'Turns the person interrupted.';
COMMENT ON COLUMN sessions.inherited_records IS 'Messages copied from another session, kept but not counted.';
COMMENT ON COLUMN sessions.malformed_lines IS 'Lines of the file that were not JSON objects.';
COMMENT ON COLUMN sessions.unknown_types IS 'Line and event types the parser does not know, with counts (JSON).';
COMMENT ON COLUMN sessions.file_missing IS 'The file is gone from disk; the rows are kept.';
COMMENT ON COLUMN sessions.run_id IS 'The run that wrote the row.';
COMMENT ON COLUMN sessions.indexed_at IS 'When that run wrote it.';
COMMENT ON COLUMN sessions.git_repository_url IS 'The git remote the log records (Codex session_meta.git.repository_url).';
COMMENT ON COLUMN sessions.project_key IS 'What usage groups projects by: the repository directory, normalised (Windows paths lower-cased, / separators); see project_key().';
COMMENT ON COLUMN sessions.model_assumed IS 'Some call''s model was assumed (the log never named it).';
COMMENT ON COLUMN sessions.cache_creation_5m_tokens IS 'Cache writes that live 5 minutes.';
COMMENT ON COLUMN sessions.cache_creation_1h_tokens IS 'Cache writes that live 1 hour.';

COMMENT ON COLUMN messages.source IS 'The session''s source.';
COMMENT ON COLUMN indexed_files.source IS 'The source whose root it was found under.';
COMMENT ON COLUMN index_metrics.source IS 'The source the figure is of.';
COMMENT ON COLUMN daily_usage.source IS 'The sessions'' source.';
COMMENT ON COLUMN rate_limits.source IS 'The source whose log reported it (Codex).';
