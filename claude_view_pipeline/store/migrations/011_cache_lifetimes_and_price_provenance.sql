-- 011: what a call costs, traceable. Claude bills a cache write by its lifetime (5 minutes at
-- 1.25x the input price, 1 hour at 2x), so the writes are kept apart; a call keeps the
-- provider its agent recorded (Codex model_provider) and whether its model was assumed (a
-- rollout that never names one); daily_usage says which genai-prices model and provider
-- priced each row. Rows already indexed have no split: their writes count as 5-minute until
-- their file is read again, which the next run does for every file still on disk.

ALTER TABLE messages ADD COLUMN model_provider VARCHAR;
ALTER TABLE messages ADD COLUMN model_assumed BOOLEAN;
ALTER TABLE messages ADD COLUMN cache_creation_5m_tokens BIGINT;
ALTER TABLE messages ADD COLUMN cache_creation_1h_tokens BIGINT;
UPDATE messages SET cache_creation_5m_tokens = cache_creation_tokens, cache_creation_1h_tokens = 0
WHERE cache_creation_tokens IS NOT NULL;

ALTER TABLE sessions ADD COLUMN model_assumed BOOLEAN;
ALTER TABLE sessions ADD COLUMN cache_creation_5m_tokens BIGINT;
ALTER TABLE sessions ADD COLUMN cache_creation_1h_tokens BIGINT;
UPDATE sessions SET cache_creation_5m_tokens = cache_creation_tokens, cache_creation_1h_tokens = 0, model_assumed = false;

ALTER TABLE daily_usage ADD COLUMN cache_creation_5m_tokens BIGINT;
ALTER TABLE daily_usage ADD COLUMN cache_creation_1h_tokens BIGINT;
ALTER TABLE daily_usage ADD COLUMN unpriced_tokens BIGINT;
ALTER TABLE daily_usage ADD COLUMN model_assumed BOOLEAN;
ALTER TABLE daily_usage ADD COLUMN price_model VARCHAR;
ALTER TABLE daily_usage ADD COLUMN price_provider VARCHAR;
UPDATE daily_usage SET cache_creation_5m_tokens = cache_creation_tokens, cache_creation_1h_tokens = 0, model_assumed = false,
       unpriced_tokens = CASE WHEN cost_usd IS NULL THEN total_tokens ELSE 0 END;

-- the price cache gains the 1-hour write rate and the provider a model is asked for under;
-- it is a cache, so it starts empty
DROP TABLE model_prices;
CREATE TABLE model_prices (
    source                 VARCHAR NOT NULL,
    provider               VARCHAR NOT NULL,        -- as the call recorded it; '' for none
    model                  VARCHAR NOT NULL,
    price_data_version     VARCHAR NOT NULL,
    priced                 BOOLEAN NOT NULL,
    price_provider         VARCHAR,
    price_model            VARCHAR,
    "input"                STRUCT("start" BIGINT, price DOUBLE)[],
    cache_read             STRUCT("start" BIGINT, price DOUBLE)[],
    cache_write_5m         STRUCT("start" BIGINT, price DOUBLE)[],
    cache_write_1h         STRUCT("start" BIGINT, price DOUBLE)[],
    "output"               STRUCT("start" BIGINT, price DOUBLE)[],
    PRIMARY KEY (source, provider, model, price_data_version)
);

COMMENT ON COLUMN messages.model_provider IS 'The provider the agent recorded for the call (Codex model_provider), as written; NULL where none.';
COMMENT ON COLUMN messages.model_assumed IS 'The log never named the model: model is the one its agent''s release used by default.';
COMMENT ON COLUMN messages.cache_creation_tokens IS 'That call''s input tokens written to cache (5-minute + 1-hour writes).';
COMMENT ON COLUMN messages.cache_creation_5m_tokens IS 'That call''s cache writes that live 5 minutes (Claude: billed at 1.25x input; a write reported without lifetimes counts here).';
COMMENT ON COLUMN messages.cache_creation_1h_tokens IS 'That call''s cache writes that live 1 hour (Claude: billed at 2x input).';
COMMENT ON COLUMN sessions.model_assumed IS 'Some call''s model was assumed (the log never named it).';
COMMENT ON COLUMN sessions.cache_creation_tokens IS 'Input tokens written to cache (5-minute + 1-hour writes; 0 for Codex).';
COMMENT ON COLUMN sessions.cache_creation_5m_tokens IS 'Cache writes that live 5 minutes.';
COMMENT ON COLUMN sessions.cache_creation_1h_tokens IS 'Cache writes that live 1 hour.';
COMMENT ON COLUMN daily_usage.cache_creation_5m_tokens IS 'Cache writes that live 5 minutes.';
COMMENT ON COLUMN daily_usage.cache_creation_1h_tokens IS 'Cache writes that live 1 hour.';
COMMENT ON COLUMN daily_usage.unpriced_tokens IS 'Tokens of calls genai-prices has no price for (the row''s cost is then NULL).';
COMMENT ON COLUMN daily_usage.model_assumed IS 'Some call of the row had no model in its log (the model is the assumed default).';
COMMENT ON COLUMN daily_usage.price_model IS 'The genai-prices model that priced the row (several, comma-separated, if its calls differ); NULL when unpriced.';
COMMENT ON COLUMN daily_usage.price_provider IS 'The genai-prices provider of that price; NULL when unpriced.';
COMMENT ON TABLE model_prices IS 'Cache: each model''s genai-prices price steps per price-data version.';
COMMENT ON COLUMN model_prices.source IS 'The source whose calls named the model.';
COMMENT ON COLUMN model_prices.provider IS 'The provider the calls recorded; empty for none.';
COMMENT ON COLUMN model_prices.model IS 'The model as the calls named it.';
COMMENT ON COLUMN model_prices.price_data_version IS 'The genai-prices release the steps come from.';
COMMENT ON COLUMN model_prices.priced IS 'genai-prices knows the model (false: it is not asked again).';
COMMENT ON COLUMN model_prices.price_provider IS 'The genai-prices provider that priced it.';
COMMENT ON COLUMN model_prices.price_model IS 'The genai-prices model id that priced it.';
COMMENT ON COLUMN model_prices."input" IS 'USD per million uncached input tokens, as (start, price) steps by request input.';
COMMENT ON COLUMN model_prices.cache_read IS 'The same for cache reads.';
COMMENT ON COLUMN model_prices.cache_write_5m IS 'The same for 5-minute cache writes.';
COMMENT ON COLUMN model_prices.cache_write_1h IS 'The same for 1-hour cache writes.';
COMMENT ON COLUMN model_prices."output" IS 'The same for output tokens.';

-- read every file still on disk again, so the calls indexed before get their split, their
-- provider and their assumed model
UPDATE indexed_files SET size = -1 WHERE status = 'indexed';
