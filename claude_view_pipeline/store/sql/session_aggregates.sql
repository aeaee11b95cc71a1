-- Per-session counters, models and token totals of the sessions in `sess` (id, source),
-- derived from their rows in `msgs` (relations with the sessions / messages columns). The
-- one definition used by the index writer and by the parser tests. Rows marked `inherited`
-- (history another session owns) never count.
WITH own AS (
    SELECT * FROM msgs WHERE NOT inherited
),
calls AS (
    SELECT session_id, model, count(*) AS n, max(ordinal) AS last_ordinal
    FROM own WHERE api_call AND model IS NOT NULL
    GROUP BY session_id, model
),
models AS (
    -- most calls; a tie goes to the model of the latest of those calls
    SELECT session_id,
           arg_max(model, (n, last_ordinal)) AS primary_model,
           list(model ORDER BY model) AS models
    FROM calls GROUP BY session_id
),
counts AS (
    SELECT session_id,
           count(*) FILTER (WHERE role = 'user' AND kind IN ('prompt', 'command')) AS user_prompt_count,
           count(*) FILTER (WHERE api_call) AS api_call_count,
           count(*) FILTER (WHERE role = 'tool_use') AS tool_call_count,
           coalesce(sum(input_tokens) FILTER (WHERE api_call), 0) AS input_tokens,
           coalesce(sum(cache_read_tokens) FILTER (WHERE api_call), 0) AS cache_read_tokens,
           coalesce(sum(cache_creation_tokens) FILTER (WHERE api_call), 0) AS cache_creation_tokens,
           coalesce(sum(cache_creation_5m_tokens) FILTER (WHERE api_call), 0) AS cache_creation_5m_tokens,
           coalesce(sum(cache_creation_1h_tokens) FILTER (WHERE api_call), 0) AS cache_creation_1h_tokens,
           coalesce(sum(output_tokens) FILTER (WHERE api_call), 0) AS output_tokens,
           coalesce(sum(reasoning_tokens) FILTER (WHERE api_call), 0) AS reasoning_sum,
           sum(agent_cost_usd) FILTER (WHERE api_call) AS agent_cost_usd,
           -- a call whose input the log does not give (a Copilot session that ended without
           -- its usage summary), or not even its output (Copilot's flat logs): the session's
           -- input, or all its tokens, are unknown, never 0
           bool_or(api_call AND input_tokens IS NULL) AS input_unknown,
           bool_or(api_call AND output_tokens IS NULL) AS output_unknown,
           coalesce(bool_or(model_assumed) FILTER (WHERE api_call), false) AS model_assumed,
           -- Claude: compact_boundary lines; Codex: `compacted` lines, else context_compacted events
           count(*) FILTER (WHERE kind = 'compact_boundary')
             + coalesce(nullif(count(*) FILTER (WHERE kind = 'compacted'), 0),
                        count(*) FILTER (WHERE kind = 'context_compacted')) AS compaction_count,
           count(*) FILTER (WHERE kind = 'microcompact_boundary') AS microcompaction_count,
           count(*) FILTER (WHERE kind = 'turn_aborted') AS aborted_turn_count
    FROM own GROUP BY session_id
),
everything AS (
    SELECT s.id AS session_id, s.source, count(m.session_id) AS message_count,
           count(*) FILTER (WHERE m.inherited) AS inherited_records
    FROM sess s LEFT JOIN msgs m ON m.session_id = s.id
    GROUP BY s.id, s.source
)
SELECT e.session_id,
       e.message_count::INTEGER AS message_count,
       coalesce(c.user_prompt_count, 0)::INTEGER AS user_prompt_count,
       coalesce(c.api_call_count, 0)::INTEGER AS api_call_count,
       coalesce(c.tool_call_count, 0)::INTEGER AS tool_call_count,
       CASE WHEN NOT coalesce(c.input_unknown, false) THEN coalesce(c.input_tokens, 0) END::BIGINT AS input_tokens,
       CASE WHEN NOT coalesce(c.input_unknown, false) THEN coalesce(c.cache_read_tokens, 0) END::BIGINT AS cache_read_tokens,
       CASE WHEN NOT coalesce(c.input_unknown, false) THEN coalesce(c.cache_creation_tokens, 0) END::BIGINT AS cache_creation_tokens,
       CASE WHEN NOT coalesce(c.input_unknown, false) THEN coalesce(c.cache_creation_5m_tokens, 0) END::BIGINT AS cache_creation_5m_tokens,
       CASE WHEN NOT coalesce(c.input_unknown, false) THEN coalesce(c.cache_creation_1h_tokens, 0) END::BIGINT AS cache_creation_1h_tokens,
       CASE WHEN NOT coalesce(c.output_unknown, false) THEN coalesce(c.output_tokens, 0) END::BIGINT AS output_tokens,
       -- NULL for a source whose logs do not report reasoning (SourceSpec.reports_reasoning)
       CASE WHEN list_contains($reasoning_sources, e.source) AND NOT coalesce(c.output_unknown, false) THEN coalesce(c.reasoning_sum, 0) END::BIGINT AS reasoning_tokens,
       CASE WHEN NOT coalesce(c.input_unknown OR c.output_unknown, false) THEN coalesce(c.input_tokens, 0) + coalesce(c.cache_read_tokens, 0)
        + coalesce(c.cache_creation_tokens, 0) + coalesce(c.output_tokens, 0) END::BIGINT AS total_tokens,
       c.agent_cost_usd,
       m.primary_model,
       coalesce(c.model_assumed, false) AS model_assumed,
       coalesce(m.models, []::VARCHAR[]) AS models,
       coalesce(c.compaction_count, 0)::INTEGER AS compaction_count,
       coalesce(c.microcompaction_count, 0)::INTEGER AS microcompaction_count,
       coalesce(c.aborted_turn_count, 0)::INTEGER AS aborted_turn_count,
       e.inherited_records::INTEGER AS inherited_records
FROM everything e
LEFT JOIN counts c USING (session_id)
LEFT JOIN models m USING (session_id)
