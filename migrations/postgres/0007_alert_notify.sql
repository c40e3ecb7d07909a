-- Team mode (SPEC 14, 17): alerts notify like the other rows of a trader, so an attached
-- screen hears its trader's alerts fire on the server and follows alerts set elsewhere.
CREATE TRIGGER alerts_notify AFTER INSERT OR UPDATE OR DELETE ON alerts
    FOR EACH ROW EXECUTE FUNCTION coach_notify_change();
