-- 006: the price steps genai-prices gives each model, per price-data version: a cache, so a
-- usage answer need not load the price data (about half a second) when no model is new.
-- priced is false for a model genai-prices does not know (it is not asked again).

CREATE TABLE model_prices (
    source                 VARCHAR NOT NULL,
    model                  VARCHAR NOT NULL,
    price_data_version     VARCHAR NOT NULL,
    priced                 BOOLEAN NOT NULL,
    "input"                STRUCT("start" BIGINT, price DOUBLE)[],
    cache_read             STRUCT("start" BIGINT, price DOUBLE)[],
    cache_write            STRUCT("start" BIGINT, price DOUBLE)[],
    "output"               STRUCT("start" BIGINT, price DOUBLE)[],
    PRIMARY KEY (source, model, price_data_version)
);
