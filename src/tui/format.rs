//! Shared text formatting for the screen: prices, volumes, durations, ages and the
//! session line. Pure functions of their inputs (the market clock is passed in).

use chrono::{DateTime, Utc};

use crate::market::calendar::{self, NEW_YORK, Phase};

/// A price in dollars with two decimals; above 10 000 (an index, in points) with one.
pub fn price(v: f64) -> String {
    if v.abs() >= 10_000.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// A volume in shares: `1.2M`, `350k`, `—` for none (an index has none).
pub fn volume(v: f64) -> String {
    match v {
        v if v.is_nan() || v <= 0.0 => "—".into(),
        v if v >= 1e6 => format!("{:.1}M", v / 1e6),
        v if v >= 1e3 => format!("{:.0}k", v / 1e3),
        v => format!("{v:.0}"),
    }
}

/// A duration to the minute: `5h29m`, `12m`, `2d3h` (negative counts as zero).
pub fn span(d: chrono::Duration) -> String {
    let mins = d.num_minutes().max(0);
    let (days, hours, minutes) = (mins / 1440, (mins % 1440) / 60, mins % 60);
    match (days, hours) {
        (0, 0) => format!("{minutes}m"),
        (0, h) => format!("{h}h{minutes:02}m"),
        (d, h) => format!("{d}d{h}h"),
    }
}

/// How long ago `since` was, in its largest unit: `3s`, `4m`, `2h`; `—` for never.
pub fn age(since: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    let Some(t) = since else { return "—".into() };
    let s = (now - t).num_seconds().max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        _ => format!("{}h", s / 3600),
    }
}

/// `Tue 24 Nov 10:31 ET · OPEN · closes 16:00 in 5h29m`, from the market clock.
pub fn session_line(market_now: Option<DateTime<Utc>>) -> String {
    session_text(market_now, false)
}

/// `10:31 ET · OPEN · closes 16:00 in 5h29m`: the header's form on narrow terminals.
pub fn session_line_compact(market_now: Option<DateTime<Utc>>) -> String {
    session_text(market_now, true)
}

fn session_text(market_now: Option<DateTime<Utc>>, compact: bool) -> String {
    let Some(now) = market_now else {
        return "waiting for market data".into();
    };
    let local = now.with_timezone(&NEW_YORK);
    let clock = local.format(if compact {
        "%H:%M ET"
    } else {
        "%a %d %b %H:%M ET"
    });
    let today = calendar::session(local.date_naive());
    let (state, countdown) = match (calendar::phase(now), today) {
        (Phase::PreMarket, Some(s)) => ("PRE-MARKET", format!("opens in {}", span(s.open - now))),
        (Phase::Regular, Some(s)) => (
            if s.early_close {
                "OPEN (early close)"
            } else {
                "OPEN"
            },
            format!(
                "closes {} in {}",
                s.close.with_timezone(&NEW_YORK).format("%H:%M"),
                span(s.close - now)
            ),
        ),
        (Phase::AfterHours, _) => ("AFTER-HOURS", "closed for the day".to_string()),
        _ => {
            let next = calendar::next_session(local.date_naive());
            (
                "CLOSED",
                format!(
                    "opens {} in {}",
                    next.open.with_timezone(&NEW_YORK).format("%a %H:%M"),
                    span(next.open - now)
                ),
            )
        }
    };
    format!("{clock} · {state} · {countdown}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn prices_keep_two_decimals_and_index_points_one() {
        assert_eq!(price(412.5), "412.50");
        assert_eq!(price(5987.123), "5987.12");
        assert_eq!(price(21034.56), "21034.6");
        assert_eq!(price(-3.0), "-3.00");
    }

    #[test]
    fn volumes_use_k_and_m_and_a_dash_for_none() {
        assert_eq!(volume(0.0), "—");
        assert_eq!(volume(f64::NAN), "—");
        assert_eq!(volume(950.0), "950");
        assert_eq!(volume(350_000.0), "350k");
        assert_eq!(volume(1_250_000.0), "1.2M");
    }

    #[test]
    fn spans_count_minutes_hours_and_days() {
        assert_eq!(span(chrono::Duration::minutes(12)), "12m");
        assert_eq!(span(chrono::Duration::minutes(5 * 60 + 29)), "5h29m");
        assert_eq!(
            span(chrono::Duration::minutes(2 * 1440 + 3 * 60 + 7)),
            "2d3h"
        );
        assert_eq!(span(chrono::Duration::minutes(-5)), "0m");
    }

    #[test]
    fn ages_use_their_largest_unit_and_a_dash_for_never() {
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 15, 30, 0).unwrap();
        assert_eq!(age(None, now), "—");
        assert_eq!(age(Some(now - chrono::Duration::seconds(3)), now), "3s");
        assert_eq!(age(Some(now - chrono::Duration::seconds(250)), now), "4m");
        assert_eq!(age(Some(now - chrono::Duration::hours(2)), now), "2h");
        assert_eq!(age(Some(now + chrono::Duration::seconds(9)), now), "0s");
    }

    #[test]
    fn the_session_line_reads_the_market_clock() {
        // 10:31 ET on Tuesday 2026-11-24 (EST)
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 15, 31, 0).unwrap();
        assert_eq!(
            session_line(Some(now)),
            "Tue 24 Nov 10:31 ET · OPEN · closes 16:00 in 5h29m"
        );
        assert_eq!(
            session_line_compact(Some(now)),
            "10:31 ET · OPEN · closes 16:00 in 5h29m"
        );
        assert_eq!(session_line(None), "waiting for market data");
    }
}
