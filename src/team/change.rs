//! A change notification from PostgreSQL (`coach_notify_change()` in migration 0005):
//! `{"table": "tracked_setups", "op": "update", "user_id": 3, "id": 17}`. It names the
//! row, never its content: the receiver reads the row back through the user-scoped store.

use serde::Deserialize;

/// Which table changed. Tables a screen does not follow are `Other`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Table {
    Watchlists,
    TrackedSetups,
    Detections,
    Briefs,
    Positions,
    Alerts,
    Other(String),
}

/// One changed row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub table: Table,
    /// `insert`, `update` or `delete`.
    pub deleted: bool,
    /// The owner of the row; `None` for shared rows (detections).
    pub user_id: Option<i64>,
    /// The row's id; `None` for tables keyed otherwise (briefs).
    pub id: Option<i64>,
}

#[derive(Deserialize)]
struct Payload {
    table: String,
    op: String,
    user_id: Option<i64>,
    id: Option<i64>,
}

impl Change {
    /// Parses a notification payload; the error names what is wrong (and quotes at most
    /// 80 characters of it).
    pub fn parse(payload: &str) -> Result<Change, String> {
        let p: Payload = serde_json::from_str(payload).map_err(|e| {
            let shown: String = payload.chars().take(80).collect();
            format!("unreadable change notification {shown:?}: {e}")
        })?;
        let table = match p.table.as_str() {
            "watchlists" => Table::Watchlists,
            "tracked_setups" => Table::TrackedSetups,
            "detections" => Table::Detections,
            "briefs" => Table::Briefs,
            "positions" => Table::Positions,
            "alerts" => Table::Alerts,
            _ => Table::Other(p.table),
        };
        Ok(Change {
            table,
            deleted: p.op == "delete",
            user_id: p.user_id,
            id: p.id,
        })
    }

    /// Whether a screen of `user` should look at this change: its own rows and shared
    /// rows; another user's rows never.
    pub fn concerns(&self, user: i64) -> bool {
        self.user_id.is_none_or(|owner| owner == user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_setup_update_names_its_owner_and_id() {
        let c = Change::parse(r#"{"table":"tracked_setups","op":"update","user_id":3,"id":17}"#)
            .unwrap();
        assert_eq!(c.table, Table::TrackedSetups);
        assert!(!c.deleted);
        assert_eq!((c.user_id, c.id), (Some(3), Some(17)));
        assert!(c.concerns(3));
        assert!(!c.concerns(4), "another trader's setup is not ours");
    }

    #[test]
    fn a_detection_is_shared_and_a_delete_is_marked() {
        let d =
            Change::parse(r#"{"table":"detections","op":"insert","user_id":null,"id":5}"#).unwrap();
        assert_eq!(d.table, Table::Detections);
        assert!(d.concerns(1) && d.concerns(2));
        let gone =
            Change::parse(r#"{"table":"watchlists","op":"delete","user_id":1,"id":2}"#).unwrap();
        assert!(gone.deleted);
    }

    #[test]
    fn garbage_is_refused_with_a_message() {
        let e = Change::parse("not json").unwrap_err();
        assert!(e.contains("unreadable change notification"), "{e}");
        assert!(Change::parse(r#"{"op":"insert"}"#).is_err(), "no table");
    }
}
