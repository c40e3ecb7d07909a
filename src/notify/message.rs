//! What a notice says: a Discord embed and a one-line text for the screen and the log
//! (pure). Ages are shown as `45s`, `4m 12s`, `2h 05m`, `3d 4h`; instants in UTC.

use chrono::{DateTime, Utc};

use super::discord::{Embed, EmbedField, EmbedFooter};
use super::incidents::{Incident, IncidentKind, OpsNotice, Recovery};
use super::{AlertKind, TradingAlert};
use crate::worker_health::WorkerState;

const AMBER: u32 = 0xF0_8C_00;
const RED: u32 = 0xE0_31_31;
const GREEN: u32 = 0x2F_9E_44;
const BLUE: u32 = 0x1C_7E_D6;
const GREY: u32 = 0x86_8E_96;

/// A duration in seconds as `45s`, `4m 12s`, `2h 05m`, `3d 4h` (negative counts as 0).
pub fn human(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        3600..86_400 => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d {}h", s / 86_400, (s % 86_400) / 3600),
    }
}

fn ago(then: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    match then {
        Some(t) => format!("{} ago", human((now - t).num_seconds())),
        None => "never".into(),
    }
}

fn state_text(i: &Incident) -> String {
    match (i.state, i.kind) {
        (WorkerState::Running, IncidentKind::Stale) => "running, stale".into(),
        (WorkerState::Running, IncidentKind::Failing) => "restarted, not yet recovered".into(),
        (WorkerState::Failed, _) => "failed, waiting to restart".into(),
        (state, _) => state.as_str().into(),
    }
}

fn incident_title(i: &Incident) -> String {
    let still = if i.repeat { "still " } else { "" };
    format!("🚨 {} is {still}{}", i.worker, i.kind.as_str())
}

fn incident_summary(i: &Incident) -> String {
    match i.kind {
        IncidentKind::Stale => format!(
            "No completed cycle for {} (stale after {}).",
            human((i.at - i.last_success.or(i.started_at).unwrap_or(i.since)).num_seconds()),
            human(i.stale_after.as_secs() as i64),
        ),
        IncidentKind::Failing => format!(
            "Its last {} runs failed; it restarts with backoff.",
            i.consecutive_failures
        ),
    }
}

fn last_error_text(i: &Incident) -> String {
    match &i.last_error {
        Some(e) => format!("{}: {e}", ago(i.last_error_at, i.at)),
        None => "none".into(),
    }
}

/// The embed of an operational notice.
pub fn ops_embed(notice: &OpsNotice) -> Embed {
    match notice {
        OpsNotice::Incident(i) => Embed {
            title: incident_title(i),
            description: Some(incident_summary(i)),
            color: match i.kind {
                IncidentKind::Stale => AMBER,
                IncidentKind::Failing => RED,
            },
            fields: vec![
                field("Worker", &i.worker, true),
                field("State", &state_text(i), true),
                field("Last success", &ago(i.last_success, i.at), true),
                field(
                    "Failures in a row",
                    &i.consecutive_failures.to_string(),
                    true,
                ),
                field("Restarts", &i.restarts.to_string(), true),
                field("Last error", &last_error_text(i), false),
            ],
            footer: Some(EmbedFooter {
                text: format!(
                    "coach · in trouble since {}",
                    i.since.format("%Y-%m-%d %H:%M:%S UTC")
                ),
            }),
            timestamp: Some(rfc3339(i.at)),
        },
        OpsNotice::Recovered(r) => Embed {
            title: format!("✅ {} recovered", r.worker),
            description: Some(recovery_summary(r)),
            color: GREEN,
            fields: vec![
                field("Worker", &r.worker, true),
                field("Status", "healthy", true),
            ],
            footer: Some(EmbedFooter {
                text: "coach".into(),
            }),
            timestamp: Some(rfc3339(r.at)),
        },
    }
}

fn recovery_summary(r: &Recovery) -> String {
    format!(
        "Healthy again after being {} for {}.",
        r.from.as_str(),
        human((r.at - r.since).num_seconds())
    )
}

/// One line for the screen and the log.
pub fn ops_text(notice: &OpsNotice) -> String {
    match notice {
        OpsNotice::Incident(i) => format!(
            "{}: {} Last error: {}",
            incident_title(i).trim_start_matches("🚨 "),
            incident_summary(i),
            last_error_text(i)
        ),
        OpsNotice::Recovered(r) => format!("{} recovered: {}", r.worker, recovery_summary(r)),
    }
}

fn trading_title(a: &TradingAlert) -> String {
    format!("{} {} · {}", a.kind.emoji(), a.symbol, a.kind.label())
}

/// The embed of a trading alert.
pub fn trading_embed(alert: &TradingAlert, at: DateTime<Utc>) -> Embed {
    Embed {
        title: trading_title(alert),
        description: Some(alert.text.clone()),
        color: match alert.kind {
            AlertKind::Detected => BLUE,
            AlertKind::Triggered => AMBER,
            AlertKind::Invalidated => GREY,
            AlertKind::TargetHit => GREEN,
            AlertKind::StoppedOut => RED,
            AlertKind::PriceAlert => AMBER,
        },
        fields: Vec::new(),
        footer: Some(EmbedFooter {
            text: match alert.kind {
                AlertKind::PriceAlert => format!("coach · alert #{}", alert.setup_id),
                _ => format!("coach · setup #{}", alert.setup_id),
            },
        }),
        timestamp: Some(rfc3339(at)),
    }
}

/// One line for the screen and the log: `SPY triggered: …`.
pub fn trading_text(alert: &TradingAlert) -> String {
    format!("{} {}: {}", alert.symbol, alert.kind.label(), alert.text)
}

fn field(name: &str, value: &str, inline: bool) -> EmbedField {
    EmbedField {
        name: name.into(),
        value: value.into(),
        inline,
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::TimeZone;

    use super::*;
    use crate::domain::Symbol;

    fn t(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, h, m, s).unwrap()
    }

    #[test]
    fn ages_read_like_a_person_would_say_them() {
        assert_eq!(human(-3), "0s");
        assert_eq!(human(45), "45s");
        assert_eq!(human(252), "4m 12s");
        assert_eq!(human(7500), "2h 05m");
        assert_eq!(human(3 * 86_400 + 4 * 3600 + 59), "3d 4h");
    }

    #[test]
    fn a_stale_incident_shows_worker_state_age_and_last_error() {
        let i = Incident {
            worker: "feed".into(),
            kind: IncidentKind::Stale,
            state: WorkerState::Running,
            started_at: Some(t(14, 0, 0)),
            last_success: Some(t(14, 30, 0)),
            last_error: Some("provider closed the stream".into()),
            last_error_at: Some(t(14, 20, 0)),
            consecutive_failures: 0,
            restarts: 1,
            stale_after: Duration::from_secs(30),
            since: t(14, 30, 31),
            at: t(14, 34, 12),
            repeat: false,
        };
        let e = ops_embed(&OpsNotice::Incident(i.clone()));
        assert_eq!(e.title, "🚨 feed is stale");
        assert_eq!(
            e.description.as_deref(),
            Some("No completed cycle for 4m 12s (stale after 30s).")
        );
        let value = |name: &str| {
            e.fields
                .iter()
                .find(|f| f.name == name)
                .map(|f| f.value.clone())
                .unwrap()
        };
        assert_eq!(value("Worker"), "feed");
        assert_eq!(value("State"), "running, stale");
        assert_eq!(value("Last success"), "4m 12s ago");
        assert_eq!(
            value("Last error"),
            "14m 12s ago: provider closed the stream"
        );
        assert_eq!(e.timestamp.as_deref(), Some("2026-11-24T14:34:12Z"));
        let repeat = ops_embed(&OpsNotice::Incident(Incident { repeat: true, ..i }));
        assert_eq!(repeat.title, "🚨 feed is still stale");
    }

    #[test]
    fn a_recovery_says_how_long_the_trouble_lasted() {
        let r = OpsNotice::Recovered(Recovery {
            worker: "detector".into(),
            from: IncidentKind::Failing,
            since: t(14, 0, 0),
            at: t(14, 3, 10),
        });
        assert_eq!(
            ops_text(&r),
            "detector recovered: Healthy again after being failing for 3m 10s."
        );
        assert_eq!(ops_embed(&r).color, GREEN);
    }

    #[test]
    fn a_trading_alert_names_symbol_kind_and_setup() {
        let a = TradingAlert {
            kind: AlertKind::TargetHit,
            symbol: Symbol::parse("SPY").unwrap(),
            setup_id: 42,
            text: "ORB long hit 683.20 (+2.1R)".into(),
        };
        let e = trading_embed(&a, t(15, 0, 0));
        assert_eq!(e.title, "🎯 SPY · target hit");
        assert_eq!(e.footer.unwrap().text, "coach · setup #42");
        assert_eq!(
            trading_text(&a),
            "SPY target hit: ORB long hit 683.20 (+2.1R)"
        );
    }
}
