-- SQLite has no change notifications (team mode is PostgreSQL); this keeps both backends'
-- migrations numbered alike.
SELECT 1;
