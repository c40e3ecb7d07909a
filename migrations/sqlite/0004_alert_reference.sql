-- Price alerts (SPEC 17) remember the price they were set at (the base of a ± X % move,
-- and the previous price before the evaluator saw one) and the price they last fired at.
ALTER TABLE alerts ADD COLUMN reference REAL;
ALTER TABLE alerts ADD COLUMN fired_price REAL;
-- The evaluator loads every user's armed alerts at start.
CREATE INDEX alerts_armed ON alerts(status, symbol);
