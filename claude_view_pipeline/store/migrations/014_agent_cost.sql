-- 014: what an agent itself recorded a call cost (OpenCode keeps its own estimate with every
-- model response), kept beside the cost estimated from genai-prices, never in its place.

ALTER TABLE messages ADD COLUMN agent_cost_usd DOUBLE;
ALTER TABLE sessions ADD COLUMN agent_cost_usd DOUBLE;
ALTER TABLE daily_usage ADD COLUMN agent_cost_usd DOUBLE;

COMMENT ON COLUMN messages.agent_cost_usd IS 'What the agent itself recorded the call cost, USD (OpenCode); NULL where it records none.';
COMMENT ON COLUMN sessions.agent_cost_usd IS 'The sum of what the agent recorded its calls cost, USD (OpenCode); NULL where it records none.';
COMMENT ON COLUMN daily_usage.agent_cost_usd IS 'The sum of what the agent recorded the calls of the row cost, USD (OpenCode); NULL where it records none.';
