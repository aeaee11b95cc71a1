-- 010: Codex's reports of the plan's rate-limit windows (token_count events): one row per
-- event and window, so the history of how full each window was survives in the index.

CREATE TABLE rate_limits (
    source                 VARCHAR NOT NULL,
    session_id             VARCHAR NOT NULL,
    "at"                   TIMESTAMPTZ NOT NULL,
    "window"               VARCHAR NOT NULL,
    used_percent           DOUBLE NOT NULL,
    window_minutes         INTEGER,
    resets_at              TIMESTAMPTZ,
    line_no                INTEGER,
    run_id                 VARCHAR
);

COMMENT ON TABLE rate_limits IS 'The plan''s rate-limit windows as Codex reported them with each call (token_count events).';
COMMENT ON COLUMN rate_limits.source IS 'codex.';
COMMENT ON COLUMN rate_limits.session_id IS 'The session whose log reported it (sessions.id).';
COMMENT ON COLUMN rate_limits."at" IS 'When it was reported, UTC.';
COMMENT ON COLUMN rate_limits."window" IS 'primary (the short window, 5 hours on most plans) or secondary (the weekly one).';
COMMENT ON COLUMN rate_limits.used_percent IS 'How full the window was, in percent.';
COMMENT ON COLUMN rate_limits.window_minutes IS 'The window''s length in minutes; NULL where not reported.';
COMMENT ON COLUMN rate_limits.resets_at IS 'When the window resets, UTC (from resets_at, or the event time plus resets_in_seconds); NULL where not reported.';
COMMENT ON COLUMN rate_limits.line_no IS 'The line of the file it came from.';
COMMENT ON COLUMN rate_limits.run_id IS 'The run that wrote the row.';

-- Codex files indexed before this version are read again by the next run (size -1: "parse
-- again"), so their rate-limit reports (and, from 009, their git remote) reach the index.
UPDATE indexed_files SET size = -1 WHERE source = 'codex' AND status = 'indexed';
