-- Stored setup statistics (SPEC 18, "In the product"): the latest backtest run, from
-- `coach backtest --store` or the scheduled run after each close over `[backtest] bars`,
-- and its groups per kind, per (kind, symbol), per symbol (all kinds) and in total.
-- Shared by every user, like detections: they are measured on market history, not on a
-- trader's actions. A new run replaces every earlier one (src/store/backtest.rs).
CREATE TABLE backtest_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ran_at TEXT NOT NULL,
    from_date TEXT,                  -- first and last session backtested (New York dates)
    to_date TEXT,
    symbols TEXT NOT NULL,           -- comma-separated
    bars INTEGER NOT NULL,           -- regular-session minute bars backtested
    sessions INTEGER NOT NULL,       -- symbol-sessions backtested
    slippage REAL NOT NULL,          -- price units per side
    version TEXT NOT NULL,           -- the coach version that ran it
    source TEXT NOT NULL             -- 'cli' (coach backtest --store) or 'scheduled'
);

CREATE TABLE backtest_groups (
    run_id INTEGER NOT NULL REFERENCES backtest_runs(id) ON DELETE CASCADE,
    kind TEXT,                       -- NULL: all kinds
    symbol TEXT,                     -- NULL: all symbols
    detections INTEGER NOT NULL,
    triggered INTEGER NOT NULL,
    target_hit INTEGER NOT NULL,
    stopped_out INTEGER NOT NULL,
    time_exit INTEGER NOT NULL,
    expired INTEGER NOT NULL,
    invalidated INTEGER NOT NULL,
    wins INTEGER NOT NULL,
    win_rate REAL,                   -- fraction in [0, 1]
    win_rate_lo REAL,                -- Wilson 95 % interval
    win_rate_hi REAL,
    avg_r REAL,
    avg_r_lo REAL,                   -- mean ± 1.96·s/√n
    avg_r_hi REAL,
    total_r REAL NOT NULL,
    profit_factor REAL,
    max_drawdown_r REAL NOT NULL,
    avg_mfe_r REAL,
    avg_mae_r REAL
);
CREATE INDEX backtest_groups_by_run ON backtest_groups(run_id);
