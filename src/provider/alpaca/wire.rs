//! Alpaca's JSON, as sent: stock bar pages and error bodies. Parsing is pure; a bar with
//! a missing or non-positive price is skipped and counted, never guessed.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::domain::{Bar, DailyBar};
use crate::market::calendar;

/// One bar as Alpaca sends it (REST and stream): `t` is the bar start in RFC 3339 UTC;
/// prices in dollars, `v` in shares (IEX shares on the IEX feed).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct BarWire {
    pub t: Option<String>,
    pub o: Option<f64>,
    pub h: Option<f64>,
    pub l: Option<f64>,
    pub c: Option<f64>,
    pub v: Option<f64>,
}

/// `GET /v2/stocks/bars`: bars per symbol and the token of the next page.
#[derive(Clone, Debug, Default, Deserialize)]
struct BarsPageWire {
    #[serde(default)]
    bars: Option<BTreeMap<String, Option<Vec<BarWire>>>>,
    #[serde(default)]
    next_page_token: Option<String>,
}

/// One parsed page: the bars by Alpaca symbol, the next page's token, and how many bars
/// were unusable.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BarsPage {
    pub bars: BTreeMap<String, Vec<Bar>>,
    pub next_page_token: Option<String>,
    pub skipped: usize,
}

/// Parses one page of multi-symbol stock bars.
pub fn parse_bars_page(body: &str) -> Result<BarsPage, String> {
    let page: BarsPageWire = serde_json::from_str(body).map_err(|e| {
        format!(
            "not a page of stock bars ({e}): {:?}",
            crate::text::printable(&excerpt(body))
        )
    })?;
    let mut out = BarsPage {
        next_page_token: page.next_page_token.filter(|t| !t.trim().is_empty()),
        ..BarsPage::default()
    };
    for (symbol, bars) in page.bars.unwrap_or_default() {
        let list = out.bars.entry(symbol).or_default();
        for wire in bars.unwrap_or_default() {
            match to_bar(&wire) {
                Some(bar) => list.push(bar),
                None => out.skipped += 1,
            }
        }
    }
    Ok(out)
}

/// A bar keyed by its start; `None` when the start or a price is missing or not a
/// positive finite number. High and low are widened to hold open and close.
pub fn to_bar(wire: &BarWire) -> Option<Bar> {
    let start = parse_instant(wire.t.as_deref()?)?;
    let [o, h, l, c] = [wire.o?, wire.h?, wire.l?, wire.c?];
    if ![o, h, l, c].iter().all(|p| p.is_finite() && *p > 0.0) {
        return None;
    }
    Some(Bar {
        start,
        open: o,
        high: h.max(o).max(c).max(l),
        low: l.min(o).min(c).min(h),
        close: c,
        volume: wire.v.filter(|v| v.is_finite() && *v >= 0.0).unwrap_or(0.0),
    })
}

/// A daily bar: Alpaca stamps daily bars at midnight New York (in UTC), so the date is
/// the New York date of the start.
pub fn to_daily_bar(bar: &Bar) -> DailyBar {
    DailyBar {
        date: calendar::ny_date(bar.start),
        open: bar.open,
        high: bar.high,
        low: bar.low,
        close: bar.close,
        volume: bar.volume,
    }
}

pub fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The `message` of an error body (`{"code":…,"message":"…"}`), if it has one.
pub fn error_message(body: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct ErrorWire {
        message: Option<String>,
    }
    let e: ErrorWire = serde_json::from_str(body).ok()?;
    e.message
        .map(|m| crate::text::printable(&m))
        .filter(|m| !m.is_empty())
}

/// The first 120 characters of a body, for error texts.
pub fn excerpt(body: &str) -> String {
    body.trim().chars().take(120).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multi_symbol_page_gives_bars_by_symbol_and_the_next_token() {
        let body = r#"{"bars":{"SPY":[{"t":"2026-02-02T14:30:00Z","o":600.1,"h":600.5,"l":599.9,"c":600.2,"v":1200,"n":30,"vw":600.2},
            {"t":"2026-02-02T14:31:00Z","o":600.2,"h":0,"l":600,"c":600.3,"v":10}],
            "QQQ":null},"next_page_token":"UVFRfE18MjAy"}"#;
        let page = parse_bars_page(body).unwrap();
        assert_eq!(page.next_page_token.as_deref(), Some("UVFRfE18MjAy"));
        assert_eq!(page.skipped, 1);
        let spy = &page.bars["SPY"];
        assert_eq!(spy.len(), 1);
        assert_eq!(spy[0].start.to_rfc3339(), "2026-02-02T14:30:00+00:00");
        assert_eq!(
            (spy[0].open, spy[0].close, spy[0].volume),
            (600.1, 600.2, 1200.0)
        );
        assert!(page.bars["QQQ"].is_empty());
    }

    #[test]
    fn a_daily_bar_takes_the_new_york_date_of_its_midnight_stamp() {
        let bar = to_bar(&BarWire {
            t: Some("2022-03-09T05:00:00Z".into()),
            o: Some(161.51),
            h: Some(163.41),
            l: Some(159.41),
            c: Some(162.95),
            v: Some(88_496_480.0),
        })
        .unwrap();
        assert_eq!(to_daily_bar(&bar).date.to_string(), "2022-03-09");
    }

    #[test]
    fn error_bodies_and_non_json_are_described() {
        assert_eq!(
            error_message(r#"{"code":42210000,"message":"invalid start"}"#).as_deref(),
            Some("invalid start")
        );
        assert!(parse_bars_page("<html>").is_err());
    }
}
