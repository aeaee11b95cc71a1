-- 004: usage analytics. messages.usage_at is when a model call's usage was reported (Claude:
-- the response line; Codex: its token_count event), so rollups group tokens by when they
-- were spent. daily_usage is the rollup the `daily_usage` asset keeps (DESIGN.md).

ALTER TABLE messages ADD COLUMN usage_at TIMESTAMPTZ;
UPDATE messages SET usage_at = "timestamp" WHERE api_call;

CREATE TABLE daily_usage (
    day                    DATE NOT NULL,
    source                 VARCHAR NOT NULL,
    model                  VARCHAR,
    project                VARCHAR,
    sessions               BIGINT NOT NULL,
    api_call_count         BIGINT NOT NULL,
    input_tokens           BIGINT NOT NULL,
    cache_read_tokens      BIGINT NOT NULL,
    cache_creation_tokens  BIGINT NOT NULL,
    output_tokens          BIGINT NOT NULL,
    reasoning_tokens       BIGINT,
    total_tokens           BIGINT NOT NULL,
    cost_usd               DOUBLE,                   -- NULL: the model is not priced
    timezone               VARCHAR NOT NULL,
    price_data_version     VARCHAR NOT NULL
);
