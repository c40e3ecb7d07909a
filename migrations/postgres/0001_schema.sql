-- The data model of SPEC 2, the same as migrations/sqlite. Instants are TIMESTAMPTZ (UTC);
-- market dates are New York session dates (DATE).

CREATE TABLE users (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE watchlists (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    symbols TEXT NOT NULL,           -- comma-separated normalised symbols
    is_default BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (user_id, name)
);
CREATE UNIQUE INDEX watchlists_one_default ON watchlists(user_id) WHERE is_default;

CREATE TABLE detections (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    symbol TEXT NOT NULL,
    kind TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('long', 'short')),
    confidence SMALLINT NOT NULL CHECK (confidence BETWEEN 0 AND 100),
    entry DOUBLE PRECISION NOT NULL,
    stop DOUBLE PRECISION NOT NULL,
    target DOUBLE PRECISION NOT NULL,
    market_date DATE NOT NULL,
    detected_at TIMESTAMPTZ NOT NULL,
    bar_time TIMESTAMPTZ NOT NULL,
    dedup_key TEXT NOT NULL,
    rationale TEXT NOT NULL,
    payload_json TEXT NOT NULL DEFAULT '{}',
    UNIQUE (symbol, kind, direction, market_date, dedup_key)
);
CREATE INDEX detections_by_date ON detections(market_date, symbol);

CREATE TABLE tracked_setups (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    source_id BIGINT REFERENCES detections(id) ON DELETE SET NULL,
    symbol TEXT NOT NULL,
    kind TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('long', 'short')),
    entry DOUBLE PRECISION NOT NULL,
    stop DOUBLE PRECISION NOT NULL,
    target DOUBLE PRECISION NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'triggered', 'invalidated', 'archived')),
    outcome TEXT CHECK (outcome IN ('open', 'target_hit', 'stopped_out')),
    realised_r DOUBLE PRECISION,
    multi_day BOOLEAN NOT NULL DEFAULT FALSE,
    market_date DATE NOT NULL,
    notes TEXT NOT NULL DEFAULT '',
    tracked_at TIMESTAMPTZ NOT NULL,
    triggered_at TIMESTAMPTZ,
    invalidated_at TIMESTAMPTZ,
    archived_at TIMESTAMPTZ,
    resolved_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX tracked_setups_one_active ON tracked_setups(user_id, source_id)
    WHERE status = 'active';
CREATE INDEX tracked_setups_by_user ON tracked_setups(user_id, status);

CREATE TABLE setup_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    setup_id BIGINT NOT NULL REFERENCES tracked_setups(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    from_status TEXT,
    to_status TEXT NOT NULL,
    reason TEXT NOT NULL,
    price DOUBLE PRECISION,
    actor TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL
);
CREATE INDEX setup_events_by_setup ON setup_events(setup_id, id);

CREATE TABLE briefs (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    market_date DATE NOT NULL,
    generated_at TIMESTAMPTZ NOT NULL,
    payload_json TEXT NOT NULL,
    viewed BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (user_id, market_date)
);

CREATE TABLE positions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    symbol TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('stock', 'call', 'put')),
    strike DOUBLE PRECISION,
    expiry DATE,
    quantity DOUBLE PRECISION NOT NULL,
    avg_price DOUBLE PRECISION NOT NULL,
    opened_at TIMESTAMPTZ NOT NULL,
    closed_at TIMESTAMPTZ
);
CREATE INDEX positions_by_user ON positions(user_id, closed_at);

CREATE TABLE alerts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    symbol TEXT NOT NULL,
    condition TEXT NOT NULL,
    level DOUBLE PRECISION NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('armed', 'fired', 'disabled')),
    repeat BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL,
    fired_at TIMESTAMPTZ
);
CREATE INDEX alerts_by_user ON alerts(user_id, status);

CREATE TABLE worker_status (
    worker TEXT NOT NULL,
    instance TEXT NOT NULL,
    state TEXT NOT NULL,
    last_heartbeat TIMESTAMPTZ NOT NULL,
    payload_json TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (worker, instance)
);
