-- Tokens the AI coach used per user and New York calendar day (SPEC 16's daily budget).
CREATE TABLE llm_usage (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    tokens INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, day)
);
