//! Massive's wire formats, parsed tolerantly and purely (text in, values out).
//!
//! Every vendor field is optional (the live API leaves out fields its spec calls
//! required); numbers may come in exponent form (`1.2e+06`); timestamps are integers in
//! milliseconds (aggregates, stream events) or nanoseconds (snapshots), told apart by
//! magnitude. Nothing here panics on any input.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::domain::{Bar, DailyBar};
use crate::market::calendar;

/// An instant from a Unix timestamp whose unit is told by its magnitude: seconds,
/// milliseconds, microseconds or nanoseconds. `None` for values out of range.
pub fn instant_from_epoch(value: i64) -> Option<DateTime<Utc>> {
    let magnitude = value.unsigned_abs();
    if magnitude >= 100_000_000_000_000_000 {
        Some(DateTime::from_timestamp_nanos(value))
    } else if magnitude >= 100_000_000_000_000 {
        DateTime::from_timestamp_micros(value)
    } else if magnitude >= 100_000_000_000 {
        DateTime::from_timestamp_millis(value)
    } else {
        DateTime::from_timestamp(value, 0)
    }
}

/// An integer that may be written as a float (`1.6e12`) or be absent or `null`.
fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && f.abs() < 9.2e18)
                .map(|f| f as i64)
        }),
        _ => None,
    })
}

/// A number that may also be absent, `null`, or a decimal string (`"123.5"`).
fn lenient_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|f: &f64| f.is_finite()))
}

/// One aggregate bar as the REST API writes it (`o h l c v vw t n`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct AggWire {
    #[serde(default, deserialize_with = "lenient_f64")]
    pub o: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    pub h: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    pub l: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    pub c: Option<f64>,
    /// Volume in shares; a double on the wire, absent for indices.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub v: Option<f64>,
    /// Window start, Unix milliseconds.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub t: Option<i64>,
}

/// The wrapper of aggregates and previous-close answers; every field optional.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct AggsPage {
    pub status: Option<String>,
    pub error: Option<String>,
    pub message: Option<String>,
    /// Missing, `null` and `[]` all mean "no bars"; a lone object (single-contract
    /// snapshots answer so) is one result.
    #[serde(default)]
    pub results: Option<Value>,
    pub next_url: Option<String>,
}

/// A parsed page of bars: the good ones, how many elements were unusable, the next page.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParsedAggs {
    pub bars: Vec<AggWire>,
    pub skipped: usize,
    pub next_url: Option<String>,
}

/// Why an answer body could not be used.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum WireError {
    #[error("{0}")]
    NotJson(String),
    #[error("status {status:?}: {message}")]
    Status { status: String, message: String },
}

/// A body's first characters as one printable line, for error messages.
pub fn excerpt(body: &str) -> String {
    let title = body
        .find("<title>")
        .and_then(|i| body.get(i + 7..))
        .and_then(|rest| rest.find("</title>").and_then(|j| rest.get(..j)));
    let text = title.unwrap_or(body);
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut short: String = line.chars().take(120).collect();
    if line.chars().count() > 120 {
        short.push('…');
    }
    crate::text::printable(&short)
}

/// Parses a JSON body, telling an HTML or empty body apart from broken JSON.
pub fn parse_json<T: for<'de> Deserialize<'de>>(body: &str) -> Result<T, WireError> {
    let trimmed = body.trim_start();
    if trimmed.is_empty() {
        return Err(WireError::NotJson("the body is empty".into()));
    }
    if trimmed.starts_with('<') {
        return Err(WireError::NotJson(format!(
            "the body is HTML, not JSON ({:?})",
            excerpt(body)
        )));
    }
    serde_json::from_str(body)
        .map_err(|e| WireError::NotJson(format!("invalid JSON ({e}) in {:?}", excerpt(body))))
}

fn check_status(
    status: &Option<String>,
    error: &Option<String>,
    message: &Option<String>,
) -> Result<(), WireError> {
    match status.as_deref() {
        None | Some("OK") | Some("DELAYED") => Ok(()),
        Some(other) => Err(WireError::Status {
            status: crate::text::printable(other),
            message: crate::text::printable(error.as_deref().or(message.as_deref()).unwrap_or("")),
        }),
    }
}

/// Parses an aggregates (or previous-close) page. Elements that are not bar objects are
/// skipped and counted, never fatal.
pub fn parse_aggs_page(body: &str) -> Result<ParsedAggs, WireError> {
    let page: AggsPage = parse_json(body)?;
    check_status(&page.status, &page.error, &page.message)?;
    let mut out = ParsedAggs {
        next_url: page.next_url.filter(|u| !u.trim().is_empty()),
        ..ParsedAggs::default()
    };
    let results = match page.results {
        Some(Value::Array(items)) => items,
        Some(object @ Value::Object(_)) => vec![object],
        Some(Value::Null) | None => Vec::new(),
        Some(_) => {
            out.skipped += 1;
            Vec::new()
        }
    };
    for value in results {
        match serde_json::from_value::<AggWire>(value) {
            Ok(agg) => out.bars.push(agg),
            Err(_) => out.skipped += 1,
        }
    }
    Ok(out)
}

/// A grouped daily page (`/v2/aggs/grouped/…/{date}`): one bar per ticker, the ticker in
/// `T`. Rows without a ticker or that are not bar objects are counted in `skipped`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParsedGrouped {
    pub rows: Vec<(String, AggWire)>,
    pub skipped: usize,
}

/// Parses a grouped daily answer, keeping only the tickers `wanted` says yes to (a whole
/// market page has ~12,000 rows; most are not watched).
pub fn parse_grouped_page(
    body: &str,
    wanted: impl Fn(&str) -> bool,
) -> Result<ParsedGrouped, WireError> {
    let page: AggsPage = parse_json(body)?;
    check_status(&page.status, &page.error, &page.message)?;
    let mut out = ParsedGrouped::default();
    let items = match page.results {
        Some(Value::Array(items)) => items,
        Some(Value::Null) | None => Vec::new(),
        Some(_) => {
            out.skipped += 1;
            Vec::new()
        }
    };
    for mut value in items {
        let ticker = match value.get_mut("T").map(Value::take) {
            Some(Value::String(t)) => t,
            _ => {
                out.skipped += 1;
                continue;
            }
        };
        if !wanted(&ticker) {
            continue;
        }
        match serde_json::from_value::<AggWire>(value) {
            Ok(agg) => out.rows.push((ticker, agg)),
            Err(_) => out.skipped += 1,
        }
    }
    Ok(out)
}

/// The error text of a non-2xx JSON body (`error`, else `message`), if it has one.
pub fn error_message(body: &str) -> Option<String> {
    let page: AggsPage = serde_json::from_str(body).ok()?;
    page.error
        .or(page.message)
        .map(|m| crate::text::printable(&m))
        .filter(|m| !m.is_empty())
}

/// The `next_url` of any paged JSON answer (options snapshot pages), if present.
pub fn next_url_of(body: &str) -> Result<Option<String>, WireError> {
    let page: AggsPage = parse_json(body)?;
    check_status(&page.status, &page.error, &page.message)?;
    Ok(page.next_url.filter(|u| !u.trim().is_empty()))
}

/// OHLC made consistent: all finite and positive, high the largest and low the smallest
/// of the four (the replay format and the detectors require `low ≤ open, close ≤ high`).
fn ohlc(agg: &AggWire) -> Option<[f64; 4]> {
    let [o, h, l, c] = [agg.o?, agg.h?, agg.l?, agg.c?];
    if ![o, h, l, c].iter().all(|p| p.is_finite() && *p > 0.0) {
        return None;
    }
    Some([o, h.max(o).max(c).max(l), l.min(o).min(c).min(h), c])
}

fn volume(v: Option<f64>) -> f64 {
    v.filter(|v| v.is_finite() && *v >= 0.0).unwrap_or(0.0)
}

/// A minute (or any intraday) bar keyed by its start; `None` when a price or the start is
/// missing or not a positive finite number.
pub fn to_bar(agg: &AggWire) -> Option<Bar> {
    let [open, high, low, close] = ohlc(agg)?;
    Some(Bar {
        start: instant_from_epoch(agg.t?)?,
        open,
        high,
        low,
        close,
        volume: volume(agg.v),
    })
}

/// A daily bar: Massive stamps daily bars at midnight New York, so the date is the New
/// York date of `t`.
pub fn to_daily_bar(agg: &AggWire) -> Option<DailyBar> {
    let [open, high, low, close] = ohlc(agg)?;
    let date: NaiveDate = calendar::ny_date(instant_from_epoch(agg.t?)?);
    Some(DailyBar {
        date,
        open,
        high,
        low,
        close,
        volume: volume(agg.v),
    })
}

/// `GET /v1/marketstatus/now`: only what the doctor and the header need.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct MarketStatus {
    /// `open`, `closed`, `extended-hours`.
    pub market: Option<String>,
    #[serde(rename = "serverTime")]
    pub server_time: Option<String>,
    #[serde(rename = "earlyHours")]
    pub early_hours: Option<bool>,
    #[serde(rename = "afterHours")]
    pub after_hours: Option<bool>,
}

pub fn parse_market_status(body: &str) -> Result<MarketStatus, WireError> {
    parse_json(body)
}

// ---------------------------------------------------------------------------------------
// WebSocket frames

/// Which aggregate a stream event is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggKind {
    /// `AM`: one minute, final when sent.
    Minute,
    /// `A`: one second.
    Second,
}

/// An `AM` or `A` event. Prices as sent; `volume` absent for indices.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamAgg {
    pub kind: AggKind,
    pub ticker: String,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: Option<f64>,
    /// Window start and end, UTC.
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl StreamAgg {
    /// The minute bar of an `AM` event (volume 0 for an index).
    pub fn bar(&self) -> Bar {
        Bar {
            start: self.start,
            open: self.open,
            high: self.high,
            low: self.low,
            close: self.close,
            volume: volume(self.volume),
        }
    }
}

/// One usable element of a frame.
#[derive(Clone, Debug, PartialEq)]
pub enum StreamMessage {
    /// `{"ev":"status","status":…,"message":…}`.
    Status {
        status: String,
        message: String,
    },
    Agg(StreamAgg),
    /// `V`: an index value (`T` is the ticker, not `sym`).
    Value {
        ticker: String,
        value: f64,
        at: DateTime<Utc>,
    },
}

/// A parsed frame: its usable messages in order, and the elements skipped.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParsedFrame {
    pub messages: Vec<StreamMessage>,
    /// Elements with an event type we do not use (`T`, `Q`, `LULD`…).
    pub unknown: usize,
    /// Elements that are not objects, or whose fields are missing or of the wrong type,
    /// or a frame that is not JSON at all (counted once).
    pub malformed: usize,
}

#[derive(Deserialize)]
struct StatusWire {
    status: Option<String>,
    message: Option<String>,
}

#[derive(Deserialize)]
struct AggEventWire {
    sym: Option<String>,
    #[serde(default, deserialize_with = "lenient_f64")]
    o: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    h: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    l: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    c: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    v: Option<f64>,
    #[serde(default, deserialize_with = "lenient_i64")]
    s: Option<i64>,
    #[serde(default, deserialize_with = "lenient_i64")]
    e: Option<i64>,
}

#[derive(Deserialize)]
struct ValueWire {
    #[serde(rename = "T")]
    ticker: Option<String>,
    #[serde(default, deserialize_with = "lenient_f64")]
    val: Option<f64>,
    #[serde(default, deserialize_with = "lenient_i64")]
    t: Option<i64>,
}

fn agg_event(kind: AggKind, value: Value) -> Option<StreamMessage> {
    let w: AggEventWire = serde_json::from_value(value).ok()?;
    let wire = AggWire {
        o: w.o,
        h: w.h,
        l: w.l,
        c: w.c,
        v: w.v,
        t: w.s,
    };
    let [open, high, low, close] = ohlc(&wire)?;
    let start = instant_from_epoch(w.s?)?;
    let end = instant_from_epoch(w.e?)?;
    let ticker = w.sym.filter(|s| !s.is_empty())?;
    Some(StreamMessage::Agg(StreamAgg {
        kind,
        ticker,
        open,
        high,
        low,
        close,
        volume: w.v.filter(|v| *v >= 0.0),
        start,
        end,
    }))
}

fn element(value: Value, out: &mut ParsedFrame) {
    let ev = value.get("ev").and_then(Value::as_str).map(str::to_owned);
    let message = match ev.as_deref() {
        Some("status") => {
            serde_json::from_value::<StatusWire>(value)
                .ok()
                .map(|s| StreamMessage::Status {
                    status: crate::text::printable(s.status.as_deref().unwrap_or("")),
                    message: crate::text::printable(s.message.as_deref().unwrap_or("")),
                })
        }
        Some("AM") => agg_event(AggKind::Minute, value),
        Some("A") => agg_event(AggKind::Second, value),
        Some("V") => serde_json::from_value::<ValueWire>(value)
            .ok()
            .and_then(|w| {
                Some(StreamMessage::Value {
                    ticker: w.ticker.filter(|t| !t.is_empty())?,
                    value: w.val.filter(|v| *v > 0.0)?,
                    at: instant_from_epoch(w.t?)?,
                })
            }),
        Some(_) => {
            out.unknown += 1;
            return;
        }
        None => None,
    };
    match message {
        Some(m) => out.messages.push(m),
        None => out.malformed += 1,
    }
}

/// Parses one text frame: normally a JSON array of events of mixed types; a lone object
/// is read as a one-element array. Never fails: what cannot be used is counted.
pub fn parse_frame(text: &str) -> ParsedFrame {
    let mut out = ParsedFrame::default();
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => {
            out.messages.reserve(items.len());
            for item in items {
                element(item, &mut out);
            }
        }
        Ok(object @ Value::Object(_)) => element(object, &mut out),
        _ => out.malformed += 1,
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    #[test]
    fn exponent_volumes_and_missing_wrapper_fields_are_read() {
        let body = r#"{"ticker":"AAPL","queryCount":6,"results":[
            {"v":1.12117471e+08,"vw":125.725,"o":130.28,"c":125.07,"h":130.9,"l":124.17,"t":1672722000000,"n":1021065}],
            "status":"OK","request_id":"x","count":1}"#;
        let page = parse_aggs_page(body).unwrap();
        assert_eq!(page.bars.len(), 1);
        let daily = to_daily_bar(&page.bars[0]).unwrap();
        assert_eq!(daily.volume, 112_117_471.0);
        assert_eq!(
            daily.date,
            NaiveDate::from_ymd_opt(2023, 1, 3).unwrap(),
            "midnight New York is 05:00Z"
        );
        assert_eq!(page.next_url, None);
    }

    #[test]
    fn an_index_bar_without_volume_has_zero_volume() {
        let page = parse_aggs_page(
            r#"{"ticker":"I:NDX","status":"OK","results":[{"o":12085.67,"c":12066.27,"h":12156.21,"l":12006.03,"t":1677045600000}]}"#,
        )
        .unwrap();
        let bar = to_bar(&page.bars[0]).unwrap();
        assert_eq!(bar.volume, 0.0);
        assert_eq!(bar.start, utc("2023-02-22T06:00:00Z"));
    }

    #[test]
    fn absent_null_and_empty_results_all_mean_no_bars() {
        for body in [
            r#"{"status":"OK","queryCount":0}"#,
            r#"{"status":"OK","results":null}"#,
            r#"{"status":"OK","results":[]}"#,
            r#"{}"#,
        ] {
            assert_eq!(parse_aggs_page(body).unwrap().bars, vec![], "{body}");
        }
    }

    #[test]
    fn unusable_bars_are_skipped_and_counted() {
        let page = parse_aggs_page(
            r#"{"status":"OK","results":[1,{"o":"x"},{"o":1,"h":2,"l":0.5,"c":1.5,"t":1700000000000},{"o":-1,"h":2,"l":0.5,"c":1.5,"t":1700000000000}]}"#,
        )
        .unwrap();
        assert_eq!(page.skipped, 1, "the bare number is not an object");
        let bars: Vec<_> = page.bars.iter().filter_map(to_bar).collect();
        assert_eq!(
            bars.len(),
            1,
            "missing prices and a negative open are dropped"
        );
    }

    #[test]
    fn an_html_gateway_page_is_named_as_html_not_a_json_error() {
        let err = parse_aggs_page(
            "<html><head><title>504 Gateway Time-out</title></head><body>nginx</body></html>",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the body is HTML, not JSON (\"504 Gateway Time-out\")"
        );
    }

    #[test]
    fn an_error_status_carries_the_api_message() {
        let err = parse_aggs_page(
            r#"{"status":"NOT_AUTHORIZED","request_id":"r","message":"You are not entitled to this data."}"#,
        )
        .unwrap_err();
        assert!(matches!(err, WireError::Status { ref status, .. } if status == "NOT_AUTHORIZED"));
        assert!(err.to_string().contains("not entitled"));
    }

    #[test]
    fn timestamps_in_seconds_milliseconds_and_nanoseconds_are_one_instant() {
        let at = utc("2022-04-29T17:05:48Z");
        assert_eq!(instant_from_epoch(1_651_251_948), Some(at));
        assert_eq!(instant_from_epoch(1_651_251_948_000), Some(at));
        assert_eq!(instant_from_epoch(1_651_251_948_000_000_000), Some(at));
        assert!(instant_from_epoch(i64::MAX).is_some());
    }

    #[test]
    fn a_batched_frame_of_mixed_events_gives_each_usable_one_in_order() {
        let frame = r#"[
            {"ev":"status","status":"success","message":"subscribed to: AM.SPY"},
            {"ev":"AM","sym":"SPY","v":4110,"av":9470157,"op":0.4372,"vw":0.4488,"o":0.4488,"c":0.4486,"h":0.4489,"l":0.4486,"a":0.4352,"z":685,"s":1610144640000,"e":1610144700000},
            {"ev":"T","sym":"MSFT","x":4,"i":"12345","z":3,"p":114.125,"s":100,"c":[0,12],"t":1536036818784,"q":3681328},
            {"ev":"V","val":3988.5,"T":"I:SPX","t":1678220098130},
            {"ev":"AM","sym":"I:SPX","op":3985.67,"o":3985.67,"c":3985.67,"h":3985.67,"l":3985.67,"s":1678220675805,"e":1678220675805},
            {"ev":"AM","sym":"SPY","o":"broken"},
            42,
            {"ev":"A","sym":"SPCE","v":200,"o":25.39,"c":25.39,"h":25.39,"l":25.39,"s":1610144868000,"e":1610144869000}
        ]"#;
        let parsed = parse_frame(frame);
        assert_eq!(parsed.messages.len(), 5);
        assert_eq!(parsed.unknown, 1, "the trade");
        assert_eq!(parsed.malformed, 2, "the broken AM and the bare number");
        let StreamMessage::Agg(am) = &parsed.messages[1] else {
            panic!("{:?}", parsed.messages[1])
        };
        assert_eq!(am.kind, AggKind::Minute);
        assert_eq!(am.bar().volume, 4110.0);
        assert_eq!(am.start, utc("2021-01-08T22:24:00Z"));
        assert!(matches!(
            &parsed.messages[2],
            StreamMessage::Value { ticker, value, .. } if ticker == "I:SPX" && *value == 3988.5
        ));
        let StreamMessage::Agg(index) = &parsed.messages[3] else {
            panic!()
        };
        assert_eq!(index.volume, None);
        assert!(matches!(&parsed.messages[4], StreamMessage::Agg(a) if a.kind == AggKind::Second));
    }

    #[test]
    fn a_frame_that_is_not_json_is_counted_not_fatal() {
        assert_eq!(parse_frame("[{\"ev\":").malformed, 1);
        assert_eq!(parse_frame("").malformed, 1);
        let lone = parse_frame(
            r#"{"ev":"status","status":"connected","message":"Connected Successfully"}"#,
        );
        assert_eq!(lone.messages.len(), 1);
    }

    #[test]
    fn chain_pages_with_empty_greeks_and_a_last_empty_page_are_paged_through() {
        let page = r#"{"status":"OK","request_id":"r","results":[
            {"details":{"contract_type":"call","strike_price":4500,"ticker":"O:SPXW230712C04500000"},
             "greeks":{},"open_interest":4501,"underlying_asset":{"value":4483.78,"ticker":"I:SPX","last_updated":1680814651655000000}}],
            "next_url":"https://api.massive.com/v3/snapshot/options/I:SPX?cursor=abc"}"#;
        assert_eq!(
            next_url_of(page).unwrap().as_deref(),
            Some("https://api.massive.com/v3/snapshot/options/I:SPX?cursor=abc")
        );
        assert_eq!(
            next_url_of("{}").unwrap(),
            None,
            "the Go client's last page"
        );
        let single = parse_aggs_page(
            r#"{"status":"OK","results":{"o":1,"h":1,"l":1,"c":1,"t":1700000000000}}"#,
        )
        .unwrap();
        assert_eq!(single.bars.len(), 1, "a lone object is one result");
    }

    #[test]
    fn excerpts_are_short_single_printable_lines() {
        let long = "x".repeat(500);
        assert_eq!(excerpt(&long).chars().count(), 121);
        assert_eq!(excerpt("a\n\u{1b}[31mb"), "a b");
    }
}
