use chrono::TimeZone;

use super::*;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 14, 0, 0).unwrap()
}

fn at(secs: i64) -> DateTime<Utc> {
    start() + chrono::Duration::seconds(secs)
}

fn policy() -> IncidentPolicy {
    IncidentPolicy {
        startup_grace: Duration::from_secs(300),
        cooldown: Duration::from_secs(900),
        failures_in_a_row: 3,
        retry_delay: Duration::from_secs(60),
    }
}

/// A running worker with a 1 s cadence, stale 30 s after `last_success`.
fn feed(last_success: i64) -> WorkerRecord {
    WorkerRecord {
        name: "feed".into(),
        state: WorkerState::Running,
        expected_interval: Duration::from_secs(1),
        stale_after: Duration::from_secs(30),
        started_at: Some(start()),
        last_cycle_start: Some(at(last_success)),
        last_cycle_end: Some(at(last_success)),
        last_success: Some(at(last_success)),
        last_error_at: None,
        last_error: None,
        cycles: 100,
        errors: 0,
        consecutive_failures: 0,
        restarts: 0,
        note: None,
    }
}

fn failing(record: WorkerRecord, failures: u32, message: &str, when: i64) -> WorkerRecord {
    WorkerRecord {
        state: WorkerState::Failed,
        consecutive_failures: failures,
        errors: u64::from(failures),
        last_error: Some(message.into()),
        last_error_at: Some(at(when)),
        ..record
    }
}

/// Evaluates and delivers every notice successfully, returning them.
fn tick(incidents: &mut Incidents, records: &[WorkerRecord], now: i64) -> Vec<OpsNotice> {
    let out = incidents.evaluate(records, at(now));
    for n in &out {
        incidents.delivered(n.worker(), true, at(now));
    }
    out
}

fn incident(n: &OpsNotice) -> &Incident {
    match n {
        OpsNotice::Incident(i) => i,
        other => panic!("expected an incident, got {other:?}"),
    }
}

#[test]
fn a_worker_stale_during_the_start_up_grace_is_announced_once_the_grace_ends() {
    let mut inc = Incidents::new(policy(), start(), &["health"]);
    // The feed stops at 10 s and is stale from 41 s on, inside the 5-minute grace.
    for now in [41, 120, 299] {
        assert!(
            tick(&mut inc, &[feed(10)], now).is_empty(),
            "{now}s is in grace"
        );
    }
    let out = tick(&mut inc, &[feed(10)], 300);
    assert_eq!(out.len(), 1);
    let i = incident(&out[0]);
    assert_eq!((i.worker.as_str(), i.kind), ("feed", IncidentKind::Stale));
    assert_eq!(i.since, at(41), "the trouble began when it was first seen");
    assert_eq!(i.last_success, Some(at(10)));
    assert!(!i.repeat);
}

#[test]
fn trouble_that_clears_within_the_grace_is_never_announced() {
    let mut inc = Incidents::new(policy(), start(), &[]);
    assert!(tick(&mut inc, &[feed(10)], 60).is_empty());
    assert!(tick(&mut inc, &[feed(200)], 205).is_empty());
    assert!(
        tick(&mut inc, &[feed(400)], 401).is_empty(),
        "healthy: nothing to recover from"
    );
}

#[test]
fn an_ongoing_incident_repeats_once_per_cooldown_then_recovers_once() {
    let mut inc = Incidents::new(policy(), start(), &[]);
    let stalled = [feed(400)];
    assert_eq!(tick(&mut inc, &stalled, 431).len(), 1, "stale after 30 s");
    for now in (436..1331).step_by(5) {
        assert!(
            tick(&mut inc, &stalled, now).is_empty(),
            "{now}s is in the cooldown"
        );
    }
    let again = tick(&mut inc, &stalled, 1331);
    assert_eq!(again.len(), 1, "15 minutes after the first message");
    assert!(incident(&again[0]).repeat);
    assert_eq!(incident(&again[0]).since, at(431));

    let back = tick(&mut inc, &[feed(1400)], 1401);
    assert_eq!(
        back,
        vec![OpsNotice::Recovered(Recovery {
            worker: "feed".into(),
            from: IncidentKind::Stale,
            since: at(431),
            at: at(1401),
        })]
    );
    assert!(
        tick(&mut inc, &[feed(1405)], 1406).is_empty(),
        "one recovery only"
    );
}

#[test]
fn a_changing_error_message_does_not_bypass_the_cooldown() {
    let mut inc = Incidents::new(policy(), start(), &[]);
    let first = failing(feed(400), 3, "HTTP 502 from provider", 410);
    let out = tick(&mut inc, &[first], 410);
    assert_eq!(incident(&out[0]).kind, IncidentKind::Failing);
    assert_eq!(
        incident(&out[0]).last_error.as_deref(),
        Some("HTTP 502 from provider")
    );
    for (n, message) in ["timeout after 10s", "HTTP 503", "connection reset"]
        .iter()
        .enumerate()
    {
        let now = 420 + 10 * n as i64;
        let r = failing(feed(400), 4 + n as u32, message, now);
        assert!(tick(&mut inc, &[r], now).is_empty(), "{message}");
    }
}

#[test]
fn failing_wins_over_stale_and_is_a_new_incident_recovered_once() {
    let mut inc = Incidents::new(policy(), start(), &[]);
    let out = tick(&mut inc, &[feed(400)], 440);
    assert_eq!(incident(&out[0]).kind, IncidentKind::Stale);
    // Still stale, and now its runs fail too.
    let both = WorkerRecord {
        state: WorkerState::Running,
        ..failing(feed(400), 3, "boom", 450)
    };
    let out = tick(&mut inc, &[both], 450);
    assert_eq!(out.len(), 1);
    assert_eq!(incident(&out[0]).kind, IncidentKind::Failing);
    assert!(
        !incident(&out[0]).repeat,
        "a different kind is a new incident"
    );
    assert_eq!(incident(&out[0]).since, at(440), "the same trouble");
    let out = tick(&mut inc, &[feed(460)], 461);
    assert!(
        matches!(&out[..], [OpsNotice::Recovered(r)] if r.from == IncidentKind::Failing),
        "{out:?}"
    );
}

#[test]
fn fewer_failures_in_a_row_than_configured_are_no_incident() {
    let mut inc = Incidents::new(policy(), start(), &[]);
    let r = failing(feed(400), 2, "once more", 401);
    assert!(tick(&mut inc, &[r], 401).is_empty());
}

#[test]
fn a_flapping_worker_is_not_re_announced_within_the_cooldown() {
    let mut inc = Incidents::new(policy(), start(), &[]);
    assert_eq!(tick(&mut inc, &[feed(400)], 431).len(), 1);
    assert_eq!(tick(&mut inc, &[feed(440)], 441).len(), 1, "recovered");
    // Stale again a minute later: the stale incident was sent 1 minute ago.
    assert!(tick(&mut inc, &[feed(441)], 500).is_empty());
    assert!(
        tick(&mut inc, &[feed(600)], 601).is_empty(),
        "no recovery for an incident never told"
    );
    // Stale again after the cooldown: announced.
    assert_eq!(tick(&mut inc, &[feed(1300)], 1340).len(), 1);
}

#[test]
fn a_failed_delivery_is_not_counted_as_told_and_is_retried_later() {
    let mut inc = Incidents::new(policy(), start(), &[]);
    let out = inc.evaluate(&[feed(400)], at(431));
    assert_eq!(out.len(), 1);
    assert!(
        inc.evaluate(&[feed(400)], at(436)).is_empty(),
        "nothing new while one is on its way"
    );
    assert_eq!(inc.in_flight(), ["feed"]);
    inc.delivered("feed", false, at(440));
    assert!(
        inc.evaluate(&[feed(400)], at(470)).is_empty(),
        "waits the retry delay"
    );
    let retry = inc.evaluate(&[feed(400)], at(500));
    assert_eq!(retry.len(), 1);
    assert!(!incident(&retry[0]).repeat, "the first one never arrived");
    inc.delivered("feed", true, at(501));
    assert!(
        inc.evaluate(&[feed(400)], at(600)).is_empty(),
        "now in cooldown"
    );
}

#[test]
fn a_failed_recovery_is_sent_again() {
    let mut inc = Incidents::new(policy(), start(), &[]);
    assert_eq!(tick(&mut inc, &[feed(400)], 431).len(), 1);
    let out = inc.evaluate(&[feed(440)], at(441));
    assert!(matches!(&out[..], [OpsNotice::Recovered(_)]));
    inc.delivered("feed", false, at(442));
    let again = inc.evaluate(&[feed(500)], at(502));
    assert!(matches!(&again[..], [OpsNotice::Recovered(_)]), "{again:?}");
}

#[test]
fn the_monitor_never_reports_itself_and_vanished_workers_are_forgotten() {
    let mut inc = Incidents::new(policy(), start(), &["health"]);
    let monitor = WorkerRecord {
        name: "health".into(),
        ..feed(10)
    };
    assert!(tick(&mut inc, &[monitor], 400).is_empty());
    inc.evaluate(&[feed(10)], at(400));
    assert_eq!(inc.in_flight(), ["feed"]);
    inc.evaluate(&[], at(401));
    assert!(inc.in_flight().is_empty());
}

#[test]
fn a_stopped_worker_is_no_incident() {
    let mut inc = Incidents::new(policy(), start(), &[]);
    let stopped = WorkerRecord {
        state: WorkerState::Stopped,
        ..feed(10)
    };
    assert!(tick(&mut inc, &[stopped], 1000).is_empty());
}
