-- SPEC 20: every refresh of a symbol's all-expirations GEX profile. Market data, not a
-- trader's: no user_id. One row per (symbol, at), so two refreshers on one database (or a
-- repeated refresh from the cache) store one row. Pruned to 30 New York days.
CREATE TABLE gex_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    symbol TEXT NOT NULL,
    at TEXT NOT NULL,                 -- the profile's snapshot instant, UTC
    market_date TEXT NOT NULL,        -- its New York date
    spot REAL NOT NULL,
    total_gex REAL NOT NULL,          -- dollars per 1 % move
    zero_gamma REAL,
    call_wall REAL,
    put_wall REAL,
    abs_gamma_strike REAL,
    zero_dte_share REAL NOT NULL CHECK (zero_dte_share >= 0 AND zero_dte_share <= 1),
    UNIQUE (symbol, at)
);
CREATE INDEX gex_history_by_date ON gex_history(symbol, market_date, at);
CREATE INDEX gex_history_by_age ON gex_history(market_date);
