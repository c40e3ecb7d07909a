//! The Alpaca REST client against a local stand-in: recorded payloads, multi-symbol
//! paging with `next_page_token`, 429 with and without `Retry-After`, 5xx retries,
//! rejected keys and refused parameters; the keys never reach a URL, an error or a log.

use crate::alpaca_support;

use std::collections::BTreeMap;
use std::time::Duration;

use alpaca_support::{
    Canned, HttpServer, KEY_ID, SECRET_KEY, assert_no_keys, authenticated, capture_logs,
    fixtures_dir, market, query, recorded,
};
use chrono::{NaiveDate, TimeZone, Utc};
use chrono_tz::America::New_York;
use coach::domain::{Bar, Symbol};
use coach::provider::alpaca::rest::{RestClient, Timeframe};
use coach::provider::alpaca::{AlpacaConnection, AlpacaError, Feed, Secret};
use coach::provider::backoff::RetryPolicy;

fn connection(base: &str) -> AlpacaConnection {
    AlpacaConnection {
        data_url: base.into(),
        stream_url: "ws://127.0.0.1:9".into(),
        trading_url: base.into(),
        feed: Feed::Iex,
        key_id: Secret::new(KEY_ID),
        secret_key: Secret::new(SECRET_KEY),
    }
}

fn client(base: &str) -> RestClient {
    RestClient::new(&connection(base))
        .unwrap()
        .with_retry(RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
            max_retry_after: Duration::from_millis(50),
        })
}

fn symbol(s: &str) -> Symbol {
    Symbol::parse(s).unwrap()
}

/// A regular-looking minute bar of `price` at New York `h:m` on 2026-02-02.
fn bar(h: u32, m: u32, price: f64) -> Bar {
    Bar {
        start: New_York
            .with_ymd_and_hms(2026, 2, 2, h, m, 0)
            .unwrap()
            .with_timezone(&Utc),
        open: price,
        high: price + 0.25,
        low: price - 0.25,
        close: price + 0.1,
        volume: 1000.0 + f64::from(m),
    }
}

fn session(price: f64) -> Vec<Bar> {
    (0..390)
        .map(|i| {
            bar(
                9 + (30 + i) / 60,
                (30 + i) % 60,
                price + f64::from(i) * 0.01,
            )
        })
        .collect()
}

#[tokio::test]
async fn the_recorded_multi_symbol_daily_bars_are_read_by_symbol() {
    let Some(dir) = fixtures_dir() else {
        return;
    };
    let server = HttpServer::start(None, None).await;
    server.script([Canned::new(
        200,
        &recorded(&dir, "historical_stock_data__multisymbol_get_bars"),
    )]);
    let c = client(&server.base);
    let day = New_York.with_ymd_and_hms(2022, 3, 9, 0, 0, 0).unwrap();
    let bars = c
        .stock_bars(
            &[symbol("AAPL"), symbol("TSLA")],
            Timeframe::Day,
            day.with_timezone(&Utc),
            day.with_timezone(&Utc),
        )
        .await
        .unwrap();
    let aapl = &bars[&symbol("AAPL")];
    assert_eq!(aapl.len(), 1);
    assert_eq!(
        (
            aapl[0].open,
            aapl[0].high,
            aapl[0].low,
            aapl[0].close,
            aapl[0].volume
        ),
        (161.51, 163.41, 159.41, 162.95, 88_496_480.0)
    );
    assert_eq!(bars[&symbol("TSLA")][0].close, 858.97);
    let seen = server.seen();
    assert!(
        authenticated(&seen[0]),
        "the keys travel in Alpaca's headers"
    );
    let q = query(&seen[0].path_and_query);
    assert_eq!(q["symbols"], "AAPL,TSLA");
    assert_eq!(q["timeframe"], "1Day");
    assert_eq!(q["feed"], "iex");
    assert_eq!(q["adjustment"], "raw");
    assert_no_keys("the URL", &seen[0].path_and_query);
}

#[tokio::test]
async fn a_recorded_page_token_is_sent_back_until_the_last_page() {
    let Some(dir) = fixtures_dir() else {
        return;
    };
    let server = HttpServer::start(None, None).await;
    // The recorded first page ends with a token; the second (the empty answer) has none.
    server.script([
        Canned::new(200, &recorded(&dir, "historical_stock_data__get_bars")),
        Canned::new(200, r#"{"bars":{},"next_page_token":null}"#),
    ]);
    let from = NaiveDate::from_ymd_opt(2022, 2, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(2022, 2, 2).unwrap();
    let daily = client(&server.base)
        .daily_bars(&symbol("AAPL"), from, to)
        .await
        .unwrap();
    assert_eq!(daily.len(), 2);
    assert_eq!((daily[0].date, daily[0].close), (from, 174.61));
    assert_eq!((daily[1].date, daily[1].close), (to, 175.84));
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        query(&seen[1].path_and_query)["page_token"],
        "QUFQTHxEfDIwMjItMDItMDJUMDU6MDA6MDAuMDAwMDAwMDAwWg=="
    );
}

#[tokio::test]
async fn paging_through_two_symbols_loses_and_duplicates_nothing() {
    let mut bars = BTreeMap::new();
    bars.insert("SPY".to_string(), session(600.0));
    bars.insert("QQQ".to_string(), session(500.0));
    let server = HttpServer::start(None, Some(market(bars.clone(), 170))).await;
    let got = client(&server.base)
        .stock_bars(
            &[symbol("SPY"), symbol("QQQ")],
            Timeframe::Minute,
            bar(9, 30, 0.0).start,
            bar(15, 59, 0.0).start,
        )
        .await
        .unwrap();
    assert_eq!(got[&symbol("SPY")], bars["SPY"]);
    assert_eq!(got[&symbol("QQQ")], bars["QQQ"]);
    // 780 bars at 170 a page: 5 pages, each after the first naming the previous token.
    let seen = server.seen();
    assert_eq!(seen.len(), 5);
    assert!(seen.iter().all(authenticated));
    assert_eq!(query(&seen[4].path_and_query)["page_token"], "tok:680");
}

#[tokio::test]
async fn minute_bars_of_new_york_dates_keep_extended_hours_and_nothing_else() {
    let mut day = vec![bar(3, 59, 10.0), bar(4, 0, 10.0)];
    day.extend(session(11.0));
    day.extend([bar(19, 59, 12.0), bar(20, 0, 12.0)]);
    let mut bars = BTreeMap::new();
    bars.insert("SPY".to_string(), day.clone());
    let server = HttpServer::start(None, Some(market(bars, 10_000))).await;
    let date = NaiveDate::from_ymd_opt(2026, 2, 2).unwrap();
    let got = client(&server.base)
        .minute_bars(&symbol("SPY"), date, date)
        .await
        .unwrap();
    assert_eq!(got.first().unwrap().start, bar(4, 0, 0.0).start);
    assert_eq!(got.last().unwrap().start, bar(19, 59, 0.0).start);
    assert_eq!(got.len(), 392);
    let q = query(&server.seen()[0].path_and_query);
    assert_eq!(q["start"], "2026-02-02T09:00:00Z", "04:00 New York (EST)");
    assert_eq!(q["end"], "2026-02-03T00:59:00Z", "19:59 New York");
}

#[tokio::test]
async fn a_429_is_retried_after_the_servers_wait_and_a_5xx_after_a_backoff() {
    let (logs, _) = capture_logs();
    let mut bars = BTreeMap::new();
    bars.insert("SPY".to_string(), session(600.0));
    let server = HttpServer::start(None, Some(market(bars.clone(), 10_000))).await;
    server.script([
        Canned::new(429, r#"{"message":"too many requests"}"#).header("retry-after", "0"),
        Canned::new(503, "<html><title>busy</title></html>"),
    ]);
    let got = client(&server.base)
        .stock_bars(
            &[symbol("SPY")],
            Timeframe::Minute,
            bar(9, 30, 0.0).start,
            bar(15, 59, 0.0).start,
        )
        .await
        .unwrap();
    assert_eq!(got[&symbol("SPY")], bars["SPY"]);
    assert_eq!(server.seen().len(), 3);
    let text = logs.text();
    assert!(
        text.contains("HTTP 429 (too many requests); retrying"),
        "{text}"
    );
    assert!(text.contains("HTTP 503"), "{text}");
    assert_no_keys("the log", &text);
}

#[tokio::test]
async fn rate_limits_that_never_end_give_up_naming_the_attempts() {
    let server = HttpServer::start(None, None).await;
    server.script((0..3).map(|_| Canned::new(429, r#"{"message":"too many requests"}"#)));
    let e = client(&server.base)
        .minute_bars(
            &symbol("SPY"),
            NaiveDate::from_ymd_opt(2026, 2, 2).unwrap(),
            NaiveDate::from_ymd_opt(2026, 2, 2).unwrap(),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, AlpacaError::Http { status: 429, .. }), "{e:?}");
    assert!(e.to_string().contains("after 3 attempts"), "{e}");
    assert!(!e.is_fatal());
}

#[tokio::test]
async fn rejected_keys_are_fatal_at_once_and_never_echoed() {
    let server = HttpServer::start(None, None).await;
    server.script([Canned::new(
        401,
        &format!(r#"{{"message":"forbidden: key {KEY_ID} unknown"}}"#),
    )]);
    let e = client(&server.base)
        .stock_bars(
            &[symbol("SPY")],
            Timeframe::Day,
            bar(9, 30, 0.0).start,
            bar(9, 30, 0.0).start,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, AlpacaError::BadKeys { status: 401, .. }),
        "{e:?}"
    );
    assert!(e.is_fatal());
    let text = e.to_string();
    assert!(text.starts_with("Alpaca rejected the API keys"), "{text}");
    assert!(text.contains("APCA_API_KEY_ID"), "{text}");
    assert_no_keys("the error", &text);
    assert_no_keys("the error's Debug", &format!("{e:?}"));
    assert_eq!(server.seen().len(), 1, "no retry");

    server.script([Canned::new(403, "")]);
    let e = client(&server.base)
        .stock_bars(
            &[symbol("SPY")],
            Timeframe::Day,
            bar(9, 30, 0.0).start,
            bar(9, 30, 0.0).start,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, AlpacaError::BadKeys { status: 403, .. }),
        "{e:?}"
    );
}

#[tokio::test]
async fn refused_parameters_say_so_with_alpacas_message() {
    let server = HttpServer::start(None, None).await;
    server.script([Canned::new(
        422,
        r#"{"code":42210000,"message":"invalid end: end should not be before start"}"#,
    )]);
    let e = client(&server.base)
        .stock_bars(
            &[symbol("SPY")],
            Timeframe::Day,
            bar(9, 31, 0.0).start,
            bar(9, 30, 0.0).start,
        )
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Alpaca refused the parameters of the 1Day bars of SPY (HTTP 422: invalid end: end should not be before start)"
    );
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn a_page_that_is_not_json_is_a_decode_error() {
    let server = HttpServer::start(None, None).await;
    server.script([Canned::new(200, "<html>maintenance</html>")]);
    let e = client(&server.base)
        .stock_bars(
            &[symbol("SPY")],
            Timeframe::Day,
            bar(9, 30, 0.0).start,
            bar(9, 30, 0.0).start,
        )
        .await
        .unwrap_err();
    assert!(matches!(e, AlpacaError::Decode { .. }), "{e:?}");
    assert!(e.to_string().contains("not a page of stock bars"), "{e}");
}
