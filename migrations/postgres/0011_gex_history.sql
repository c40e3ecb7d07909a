-- SPEC 20: every refresh of a symbol's all-expirations GEX profile. Market data, not a
-- trader's: no user_id. One row per (symbol, at), so two refreshers on one database (or a
-- repeated refresh from the cache) store one row. Pruned to 30 New York days.
CREATE TABLE gex_history (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    symbol TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    market_date DATE NOT NULL,        -- New York date of `at`
    spot DOUBLE PRECISION NOT NULL,
    total_gex DOUBLE PRECISION NOT NULL,  -- dollars per 1 % move
    zero_gamma DOUBLE PRECISION,
    call_wall DOUBLE PRECISION,
    put_wall DOUBLE PRECISION,
    abs_gamma_strike DOUBLE PRECISION,
    zero_dte_share DOUBLE PRECISION NOT NULL CHECK (zero_dte_share >= 0 AND zero_dte_share <= 1),
    UNIQUE (symbol, at)
);
CREATE INDEX gex_history_by_date ON gex_history(symbol, market_date, at);
CREATE INDEX gex_history_by_age ON gex_history(market_date);
