-- Tracked setups remember when they last became active (tracked or reopened): price
-- updates at or before that instant are not evaluated (src/setups/evaluate.rs).
-- Rows written before this migration were armed when they were tracked.
ALTER TABLE tracked_setups ADD COLUMN armed_at TEXT;
UPDATE tracked_setups SET armed_at = tracked_at WHERE armed_at IS NULL;
-- The evaluator loads every user's live setups at start.
CREATE INDEX tracked_setups_live ON tracked_setups(status, outcome);
-- The auto-tracker's "one per symbol per 5 minutes" looks setups up by symbol.
CREATE INDEX tracked_setups_by_symbol ON tracked_setups(user_id, symbol, tracked_at);
