-- 005: the roots each source was last indexed from. `usage` brings the index up to date
-- before it answers; it rescans these roots, so an index built from explicit directories
-- (--claude-dir, --codex-dir) is refreshed from the same ones, never from the defaults.

CREATE TABLE source_roots (
    source                 VARCHAR PRIMARY KEY,
    roots                  VARCHAR[] NOT NULL,
    recorded_at            TIMESTAMPTZ NOT NULL
);
