-- Team mode runs on PostgreSQL (notifications, advisory locks: migrations/postgres);
-- SQLite gets the same index so `worker_status` reads alike on both.
CREATE INDEX worker_status_by_heartbeat ON worker_status(last_heartbeat);
