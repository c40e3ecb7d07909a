-- Stored setup statistics (SPEC 18, "In the product"): the latest backtest run, from
-- `coach backtest --store` or the scheduled run after each close over `[backtest] bars`,
-- and its groups per kind, per (kind, symbol), per symbol (all kinds) and in total.
-- Shared by every user, like detections: they are measured on market history, not on a
-- trader's actions. A new run replaces every earlier one (src/store/backtest.rs).
CREATE TABLE backtest_runs (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ran_at TIMESTAMPTZ NOT NULL,
    from_date DATE,                   -- first and last session backtested (New York dates)
    to_date DATE,
    symbols TEXT NOT NULL,           -- comma-separated
    bars BIGINT NOT NULL,           -- regular-session minute bars backtested
    sessions BIGINT NOT NULL,       -- symbol-sessions backtested
    slippage DOUBLE PRECISION NOT NULL,          -- price units per side
    version TEXT NOT NULL,           -- the coach version that ran it
    source TEXT NOT NULL             -- 'cli' (coach backtest --store) or 'scheduled'
);

CREATE TABLE backtest_groups (
    run_id BIGINT NOT NULL REFERENCES backtest_runs(id) ON DELETE CASCADE,
    kind TEXT,                       -- NULL: all kinds
    symbol TEXT,                     -- NULL: all symbols
    detections BIGINT NOT NULL,
    triggered BIGINT NOT NULL,
    target_hit BIGINT NOT NULL,
    stopped_out BIGINT NOT NULL,
    time_exit BIGINT NOT NULL,
    expired BIGINT NOT NULL,
    invalidated BIGINT NOT NULL,
    wins BIGINT NOT NULL,
    win_rate DOUBLE PRECISION,                   -- fraction in [0, 1]
    win_rate_lo DOUBLE PRECISION,                -- Wilson 95 % interval
    win_rate_hi DOUBLE PRECISION,
    avg_r DOUBLE PRECISION,
    avg_r_lo DOUBLE PRECISION,                   -- mean ± 1.96·s/√n
    avg_r_hi DOUBLE PRECISION,
    total_r DOUBLE PRECISION NOT NULL,
    profit_factor DOUBLE PRECISION,
    max_drawdown_r DOUBLE PRECISION NOT NULL,
    avg_mfe_r DOUBLE PRECISION,
    avg_mae_r DOUBLE PRECISION
);
CREATE INDEX backtest_groups_by_run ON backtest_groups(run_id);
