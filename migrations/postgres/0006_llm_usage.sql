-- Tokens the AI coach used per user and New York calendar day (SPEC 16's daily budget).
CREATE TABLE llm_usage (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    day DATE NOT NULL,
    tokens BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, day)
);
