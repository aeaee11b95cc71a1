-- 009: one rule decides a session's project, here in the database, so every table and
-- command (and an analyst in DuckDB) uses the same: the macros below read the recorded cwd
-- (and Codex's git repository URL) and give
--   project_root(cwd):  the repository's directory, written with / (Windows \ too), with no
--                       trailing / or /. and with worktrees folded into their repository
--                       (.claude/worktrees/<name>, .git/worktrees/<name>, <repo>-worktrees/<name>);
--   project_key(cwd):   what usage groups by: project_root, lower-cased for Windows paths
--                       (drive letters and names are not case-sensitive there);
--   project_name(cwd, repository_url): the display name: the root's last part; for a home
--                       directory itself, the repository's name when the log records one,
--                       else the user's name.
-- A subagent's session takes its parent's project (applied by the writer on every write).
-- Existing rows are recomputed here.

CREATE OR REPLACE MACRO project_root(cwd) AS
    regexp_replace(regexp_replace(regexp_replace(
        regexp_replace(regexp_replace(replace(cwd, '\', '/'), '/(\./)+', '/', 'g'), '(/\.|/)+$', ''),
        '/\.claude/worktrees/[^/]+(/.*)?$', ''),
        '/\.git/worktrees/[^/]+(/.*)?$', ''),
        '^(.*)/([^/]+)-worktrees/[^/]+(/.*)?$', '\1/\2');

CREATE OR REPLACE MACRO project_key(cwd) AS
    CASE WHEN cwd IS NULL THEN NULL
         WHEN project_root(cwd) = '' THEN '/'
         WHEN regexp_matches(project_root(cwd), '^([A-Za-z]:|//)') THEN lower(project_root(cwd))
         ELSE project_root(cwd) END;

CREATE OR REPLACE MACRO project_name(cwd, repository_url) AS
    CASE WHEN cwd IS NULL THEN NULL
         WHEN regexp_matches(project_root(cwd), '^(/home/[^/]+|/Users/[^/]+|/root|[A-Za-z]:/[Uu]sers/[^/]+)$')
              AND coalesce(regexp_extract(regexp_replace(repository_url, '(\.git)?/*$', ''), '([^/:]+)$', 1), '') <> ''
             THEN regexp_extract(regexp_replace(repository_url, '(\.git)?/*$', ''), '([^/:]+)$', 1)
         WHEN regexp_extract(project_root(cwd), '([^/]+)$', 1) <> '' THEN regexp_extract(project_root(cwd), '([^/]+)$', 1)
         ELSE coalesce(nullif(project_root(cwd), ''), '/') END;

ALTER TABLE sessions ADD COLUMN git_repository_url VARCHAR;
ALTER TABLE sessions ADD COLUMN project_key VARCHAR;
UPDATE sessions SET project = project_name(cwd, git_repository_url), project_key = project_key(cwd);
UPDATE sessions SET project = p.project, project_key = p.project_key
FROM sessions p WHERE sessions.relation = 'subagent' AND sessions.parent_session_id = p.id;

ALTER TABLE daily_usage ADD COLUMN project_key VARCHAR;

COMMENT ON COLUMN sessions.project IS 'The project''s display name: the repository directory''s last part (worktrees and subagents belong to their repository); see project_name().';
COMMENT ON COLUMN sessions.project_key IS 'What usage groups projects by: the repository directory, normalised (Windows paths lower-cased, / separators); see project_key().';
COMMENT ON COLUMN sessions.git_repository_url IS 'The git remote the log records (Codex session_meta.git.repository_url).';
COMMENT ON COLUMN daily_usage.project_key IS 'The project''s key (sessions.project_key); rows are per project key.';
