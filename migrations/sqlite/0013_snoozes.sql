-- Snoozed notifications (SPEC 20): nothing about this price alert or setup goes to a
-- delivery channel or the desktop before `until` (UTC). One row per target; a new
-- snooze replaces the old one.
CREATE TABLE snoozes (
    target TEXT NOT NULL CHECK (target IN ('alert', 'setup')),
    target_id INTEGER NOT NULL,
    until TEXT NOT NULL,
    PRIMARY KEY (target, target_id)
);
