-- Team mode (SPEC 14): every write to a user's rows (and every new detection) notifies
-- the channel `coach_<schema>` so attached screens and other servers refresh at once.
-- The payload is {"table", "op", "user_id", "id"} only: never a row's content.
-- The channel carries the schema so databases shared by several schemas never mix.
CREATE FUNCTION coach_notify_change() RETURNS trigger AS $$
DECLARE
    changed jsonb;
BEGIN
    IF TG_OP = 'DELETE' THEN
        changed := to_jsonb(OLD);
    ELSE
        changed := to_jsonb(NEW);
    END IF;
    PERFORM pg_notify(
        'coach_' || current_schema(),
        jsonb_build_object(
            'table', TG_TABLE_NAME,
            'op', lower(TG_OP),
            'user_id', changed -> 'user_id',
            'id', changed -> 'id'
        )::text
    );
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER watchlists_notify AFTER INSERT OR UPDATE OR DELETE ON watchlists
    FOR EACH ROW EXECUTE FUNCTION coach_notify_change();
CREATE TRIGGER tracked_setups_notify AFTER INSERT OR UPDATE OR DELETE ON tracked_setups
    FOR EACH ROW EXECUTE FUNCTION coach_notify_change();
CREATE TRIGGER detections_notify AFTER INSERT ON detections
    FOR EACH ROW EXECUTE FUNCTION coach_notify_change();
CREATE TRIGGER briefs_notify AFTER INSERT OR UPDATE OR DELETE ON briefs
    FOR EACH ROW EXECUTE FUNCTION coach_notify_change();
CREATE TRIGGER positions_notify AFTER INSERT OR UPDATE OR DELETE ON positions
    FOR EACH ROW EXECUTE FUNCTION coach_notify_change();

-- Attached screens read the servers' fresh rows; ownership counts live instances.
CREATE INDEX worker_status_by_heartbeat ON worker_status(last_heartbeat);
