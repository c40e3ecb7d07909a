-- Honest fills (SPEC 5): a setup keeps the price it was filled at and the price it was
-- closed at, and its realised R is measured between them (src/setups/lifecycle.rs).
ALTER TABLE tracked_setups ADD COLUMN fill_price REAL;
ALTER TABLE tracked_setups ADD COLUMN exit_price REAL;
-- Rows written before booked their R at the plan's levels: filled at the entry, closed at
-- the target or the stop.
UPDATE tracked_setups SET fill_price = entry WHERE outcome IS NOT NULL;
UPDATE tracked_setups SET exit_price = target WHERE outcome = 'target_hit';
UPDATE tracked_setups SET exit_price = stop WHERE outcome = 'stopped_out';
-- The journal keeps every attempt's result: a reopened setup starts a new attempt, and the
-- R of the earlier one stays on its `target_hit` / `stopped_out` event. Events written
-- before get the R that was booked then (the plan's levels): this brings back the results
-- an earlier reopen wiped from the setup row.
ALTER TABLE setup_events ADD COLUMN realised_r REAL;
UPDATE setup_events SET realised_r = -1 WHERE reason = 'stopped_out';
UPDATE setup_events SET realised_r = (
    SELECT abs(s.target - s.entry) / abs(s.entry - s.stop)
    FROM tracked_setups s
    WHERE s.id = setup_events.setup_id AND s.entry <> s.stop
) WHERE reason = 'target_hit';
