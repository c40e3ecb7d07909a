//! Snoozes (SPEC 20) on both backends: kept per target, replaced by a newer one, kept
//! across a reopen (a restart), pruned once over.

use crate::support;

use chrono::{TimeZone, Utc};
use coach::notify::snooze::{SnoozeFor, SnoozeTarget, is_snoozed};

#[tokio::test]
async fn a_snooze_survives_a_restart_is_replaced_by_a_newer_one_and_is_pruned_when_over() {
    let now = Utc.with_ymd_and_hms(2026, 12, 7, 15, 0, 0).unwrap();
    for t in support::stores().await {
        let alert = SnoozeTarget::Alert(3);
        let setup = SnoozeTarget::Setup(3);
        assert_eq!(
            t.store.snoozed_until(alert).await.unwrap(),
            None,
            "{}",
            t.name
        );
        t.store
            .snooze(alert, SnoozeFor::Hour.until(now))
            .await
            .unwrap();
        t.store
            .snooze(setup, SnoozeFor::RestOfSession.until(now))
            .await
            .unwrap();
        // A shorter snooze chosen later replaces the longer one.
        t.store
            .snooze(alert, SnoozeFor::Minutes15.until(now))
            .await
            .unwrap();

        let reopened = t.reopen().await;
        let until = reopened.snoozed_until(alert).await.unwrap();
        assert_eq!(
            until,
            Some(Utc.with_ymd_and_hms(2026, 12, 7, 15, 15, 0).unwrap()),
            "{}",
            t.name
        );
        assert!(is_snoozed(until, now));
        assert_eq!(
            reopened.snoozed_until(setup).await.unwrap(),
            Some(Utc.with_ymd_and_hms(2026, 12, 7, 21, 0, 0).unwrap()),
            "the alert and the setup with the same id are apart: {}",
            t.name
        );
        let later = Utc.with_ymd_and_hms(2026, 12, 7, 16, 0, 0).unwrap();
        assert_eq!(
            reopened.prune_snoozes(later).await.unwrap(),
            1,
            "{}",
            t.name
        );
        assert_eq!(reopened.snoozed_until(alert).await.unwrap(), None);
        assert!(reopened.snoozed_until(setup).await.unwrap().is_some());
    }
}
