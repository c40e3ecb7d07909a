-- The data model of SPEC 2. Instants are UTC (TEXT, RFC 3339 as sqlx writes chrono values);
-- market dates are New York session dates (TEXT, YYYY-MM-DD).

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE watchlists (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    symbols TEXT NOT NULL,           -- comma-separated normalised symbols
    is_default BOOLEAN NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (user_id, name)
);
CREATE UNIQUE INDEX watchlists_one_default ON watchlists(user_id) WHERE is_default = 1;

CREATE TABLE detections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    symbol TEXT NOT NULL,
    kind TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('long', 'short')),
    confidence INTEGER NOT NULL CHECK (confidence BETWEEN 0 AND 100),
    entry REAL NOT NULL,
    stop REAL NOT NULL,
    target REAL NOT NULL,
    market_date TEXT NOT NULL,
    detected_at TEXT NOT NULL,
    bar_time TEXT NOT NULL,
    dedup_key TEXT NOT NULL,
    rationale TEXT NOT NULL,
    payload_json TEXT NOT NULL DEFAULT '{}',
    UNIQUE (symbol, kind, direction, market_date, dedup_key)
);
CREATE INDEX detections_by_date ON detections(market_date, symbol);

CREATE TABLE tracked_setups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    source_id INTEGER REFERENCES detections(id) ON DELETE SET NULL,
    symbol TEXT NOT NULL,
    kind TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('long', 'short')),
    entry REAL NOT NULL,
    stop REAL NOT NULL,
    target REAL NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'triggered', 'invalidated', 'archived')),
    outcome TEXT CHECK (outcome IN ('open', 'target_hit', 'stopped_out')),
    realised_r REAL,
    multi_day BOOLEAN NOT NULL DEFAULT 0,
    market_date TEXT NOT NULL,
    notes TEXT NOT NULL DEFAULT '',
    tracked_at TEXT NOT NULL,
    triggered_at TEXT,
    invalidated_at TEXT,
    archived_at TEXT,
    resolved_at TEXT,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX tracked_setups_one_active ON tracked_setups(user_id, source_id)
    WHERE status = 'active';
CREATE INDEX tracked_setups_by_user ON tracked_setups(user_id, status);

CREATE TABLE setup_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    setup_id INTEGER NOT NULL REFERENCES tracked_setups(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    from_status TEXT,
    to_status TEXT NOT NULL,
    reason TEXT NOT NULL,
    price REAL,
    actor TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX setup_events_by_setup ON setup_events(setup_id, id);

CREATE TABLE briefs (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    market_date TEXT NOT NULL,
    generated_at TEXT NOT NULL,
    payload_json TEXT NOT NULL,
    viewed BOOLEAN NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, market_date)
);

CREATE TABLE positions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    symbol TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('stock', 'call', 'put')),
    strike REAL,
    expiry TEXT,
    quantity REAL NOT NULL,
    avg_price REAL NOT NULL,
    opened_at TEXT NOT NULL,
    closed_at TEXT
);
CREATE INDEX positions_by_user ON positions(user_id, closed_at);

CREATE TABLE alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    symbol TEXT NOT NULL,
    condition TEXT NOT NULL,
    level REAL NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('armed', 'fired', 'disabled')),
    repeat BOOLEAN NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    fired_at TEXT
);
CREATE INDEX alerts_by_user ON alerts(user_id, status);

CREATE TABLE worker_status (
    worker TEXT NOT NULL,
    instance TEXT NOT NULL,
    state TEXT NOT NULL,
    last_heartbeat TEXT NOT NULL,
    payload_json TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (worker, instance)
);
