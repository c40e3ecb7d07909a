//! The Massive REST client against a local server replaying the recorded payloads and
//! scripted failures: paging, retries, bad keys, HTML gateway pages, and the key never
//! showing in a URL, an error or a log line.

use crate::massive_support;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate};
use coach::domain::Symbol;
use coach::provider::massive::rest::{AggBound, ChainFilter, RestClient, RetryPolicy, Timespan};
use coach::provider::massive::{MassiveConfig, MassiveError, Secret};
use massive_support::{Canned, HttpServer, capture_logs, fixtures_dir};

const KEY: &str = "TESTKEY_s3cr3t_9f8e7d";

fn client(base: &str) -> RestClient {
    RestClient::new(&MassiveConfig {
        rest_url: base.into(),
        ws_url: "ws://127.0.0.1:9".into(),
        api_key: Secret::new(KEY),
    })
    .unwrap()
    .with_retry(RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        max_retry_after: Duration::from_secs(2),
    })
}

fn sym(s: &str) -> Symbol {
    Symbol::parse(s).unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn assert_no_key(server: &HttpServer, texts: &[String]) {
    for seen in server.seen() {
        assert!(
            !seen.path_and_query.contains(KEY),
            "key in a URL: {}",
            seen.path_and_query
        );
        assert_eq!(
            seen.authorization.as_deref(),
            Some(format!("Bearer {KEY}").as_str()),
            "the key travels in the Authorization header"
        );
    }
    for text in texts {
        assert!(!text.contains(KEY), "key leaked: {text}");
    }
}

#[tokio::test]
async fn recorded_daily_bars_previous_close_status_and_chain_are_read() {
    let Some(fixtures) = fixtures_dir() else {
        return;
    };
    let server = HttpServer::start(Some(fixtures), None).await;
    let c = client(&server.base);
    let aapl = sym("AAPL");

    let daily = c
        .daily_bars(&aapl, false, date(2005, 4, 1), date(2005, 4, 4))
        .await
        .unwrap();
    assert_eq!(daily.len(), 2);
    assert_eq!(daily[0].date, date(2005, 4, 1), "midnight New York stamps");
    assert_eq!(daily[1].date, date(2005, 4, 4));
    assert_eq!(
        (daily[0].open, daily[0].high, daily[0].low, daily[0].close),
        (1.5032, 1.5064, 1.4489, 1.4604)
    );
    assert_eq!(daily[1].volume, 578_172_308.0);

    let prev = c.previous_close(&aapl, false).await.unwrap().unwrap();
    assert_eq!(prev.close, 156.8);
    assert_eq!(prev.date, date(2022, 4, 26));

    let status = c.market_status().await.unwrap();
    assert_eq!(status.market.as_deref(), Some("extended-hours"));
    assert_eq!(status.after_hours, Some(true));

    let pages = c
        .options_chain_pages(
            &aapl,
            false,
            &ChainFilter {
                expiry_from: Some(date(2023, 6, 1)),
                expiry_to: Some(date(2023, 7, 1)),
                strike_min: Some(140.0),
                strike_max: Some(160.0),
            },
        )
        .await
        .unwrap();
    assert_eq!(pages.len(), 1);
    assert!(pages[0].contains("O:AAPL230616C00150000"));
    let chain_request = server
        .seen()
        .into_iter()
        .find(|s| s.path_and_query.starts_with("/v3/snapshot/options/AAPL"))
        .unwrap();
    assert_eq!(
        chain_request.path_and_query,
        "/v3/snapshot/options/AAPL?expiration_date.gte=2023-06-01&expiration_date.lte=2023-07-01&strike_price.gte=140&strike_price.lte=160&limit=250"
    );
    assert_no_key(&server, &[]);
}

/// A two-page minute-bar answer whose `next_url` names the real host: the client must
/// fetch the second page from the local server, and stop on a last page that is `{}`.
#[tokio::test]
async fn pages_are_followed_on_the_configured_host_until_next_url_is_absent() {
    let dynamic: massive_support::Dynamic = Arc::new(|pq: &str| {
        if !pq.starts_with("/v2/aggs/ticker/I:SPX/range/1/minute/") {
            return None;
        }
        let body = if pq.contains("cursor=page2") {
            r#"{"ticker":"I:SPX","status":"OK","results":[{"o":4001,"h":4003,"l":4000,"c":4002,"t":1700000060000}],
                "next_url":"https://api.massive.com/v2/aggs/ticker/I:SPX/range/1/minute/a/b?cursor=page3"}"#
        } else if pq.contains("cursor=page3") {
            "{}"
        } else {
            r#"{"ticker":"I:SPX","queryCount":2,"status":"OK","results":[{"o":4000,"h":4002,"l":3999,"c":4001,"t":1700000000000},{"o":4000,"h":4002,"l":3999,"c":4001,"t":1700000060000}],
                "next_url":"https://api.massive.com/v2/aggs/ticker/I:SPX/range/1/minute/a/b?cursor=page2"}"#
        };
        Some(Canned::new(200, body))
    });
    let server = HttpServer::start(None, Some(dynamic)).await;
    let from = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
    let to = DateTime::from_timestamp(1_700_000_600, 0).unwrap();
    let bars = client(&server.base)
        .minute_bars(
            &sym("SPX"),
            true,
            AggBound::Instant(from),
            AggBound::Instant(to),
        )
        .await
        .unwrap();
    assert_eq!(bars.len(), 2, "the repeated minute is kept once");
    assert_eq!(
        bars[1].close, 4001.0,
        "a minute answered twice is kept as first read"
    );
    let seen: Vec<String> = server
        .seen()
        .into_iter()
        .map(|s| s.path_and_query)
        .collect();
    assert_eq!(seen.len(), 3);
    assert_eq!(
        seen[0],
        "/v2/aggs/ticker/I:SPX/range/1/minute/1700000000000/1700000600000?adjusted=true&sort=asc&limit=50000"
    );
    assert_eq!(
        seen[1],
        "/v2/aggs/ticker/I:SPX/range/1/minute/a/b?cursor=page2"
    );
    assert_eq!(bars[0].volume, 0.0, "an index has no volume");
}

#[tokio::test]
async fn a_429_then_success_honours_retry_after_and_logs_without_the_key() {
    let (logs, _guard) = capture_logs();
    let server = HttpServer::start(fixtures_dir(), None).await;
    server.script([
        Canned::new(
            429,
            r#"{"status":"ERROR","request_id":"r","error":"You've exceeded the maximum requests per minute"}"#,
        )
        .header("retry-after", "1"),
        Canned::new(503, ""),
    ]);
    server.script([Canned::new(
        200,
        r#"{"market":"open","serverTime":"2026-11-24T10:00:00-05:00"}"#,
    )]);
    let started = std::time::Instant::now();
    let status = client(&server.base).market_status().await.unwrap();
    assert_eq!(status.market.as_deref(), Some("open"));
    assert_eq!(server.seen().len(), 3, "429, 503, then the answer");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "Retry-After: 1 was waited out"
    );
    let text = logs.text();
    assert!(text.contains("HTTP 429"), "{text}");
    assert!(text.contains("HTTP 503"), "{text}");
    assert_no_key(&server, &[text]);
}

#[tokio::test]
async fn a_bad_key_is_not_retried_and_says_which_setting_to_fix() {
    let server = HttpServer::start(None, None).await;
    server.script([Canned::new(
        401,
        r#"{"status":"ERROR","request_id":"r","error":"Unknown API Key"}"#,
    )]);
    let err = client(&server.base).market_status().await.unwrap_err();
    assert!(
        matches!(err, MassiveError::BadKey { status: 401, .. }),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("Unknown API Key") && text.contains("MASSIVE_API_KEY"),
        "{text}"
    );
    assert!(err.is_fatal());
    assert_eq!(server.seen().len(), 1, "no retry on 401");
    assert_no_key(&server, &[text]);
}

#[tokio::test]
async fn a_plan_without_the_data_is_named_not_entitled() {
    let server = HttpServer::start(None, None).await;
    server.script([Canned::new(
        403,
        r#"{"status":"NOT_AUTHORIZED","request_id":"r","message":"You are not entitled to this data. Please upgrade your plan at https://massive.com/pricing"}"#,
    )]);
    let err = client(&server.base)
        .options_chain_pages(&sym("SPX"), true, &ChainFilter::default())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the Massive plan is not entitled to the options chain of I:SPX (HTTP 403: You are not entitled to this data. Please upgrade your plan at https://massive.com/pricing)"
    );
    assert_eq!(server.seen().len(), 1, "no retry on 403");
}

#[tokio::test]
async fn a_504_html_page_gives_a_clear_error_after_the_retries() {
    let server = HttpServer::start(None, None).await;
    let html = "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n<center><h1>504 Gateway Time-out</h1></center>\r\n</body>\r\n</html>\r\n";
    server.script((0..3).map(|_| Canned::new(504, html).header("content-type", "text/html")));
    let err = client(&server.base)
        .daily_bars(&sym("SPY"), false, date(2026, 1, 2), date(2026, 1, 9))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, MassiveError::Http { status: 504, .. }),
        "{text}"
    );
    assert!(text.contains("HTTP 504"), "{text}");
    assert!(text.contains("504 Gateway Time-out"), "{text}");
    assert!(text.contains("after 3 attempts"), "{text}");
    assert!(
        !text.to_lowercase().contains("json"),
        "not a parse error: {text}"
    );
    assert_eq!(server.seen().len(), 3);
}

#[tokio::test]
async fn malformed_json_on_a_200_is_a_decode_error_naming_the_request() {
    let server = HttpServer::start(None, None).await;
    server.script([Canned::new(200, r#"{"status":"OK","results":[{"o":1,"#)]);
    let err = client(&server.base)
        .aggregates(
            "SPY",
            Timespan::Day,
            AggBound::Date(date(2026, 1, 2)),
            AggBound::Date(date(2026, 1, 9)),
        )
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, MassiveError::Decode { .. }), "{text}");
    assert!(
        text.contains("day aggregates of SPY") && text.contains("invalid JSON"),
        "{text}"
    );
}

#[tokio::test]
async fn an_unreachable_server_is_a_transport_error_without_the_key() {
    // A port nobody listens on: bind, note it, close.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (logs, _guard) = capture_logs();
    let err = client(&format!("http://127.0.0.1:{port}"))
        .market_status()
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, MassiveError::Transport { .. }), "{text}");
    assert!(text.contains("after 3 attempts"), "{text}");
    assert!(!text.contains(KEY) && !logs.text().contains(KEY));
}

#[test]
fn the_key_is_masked_in_every_debug_output() {
    let config = MassiveConfig {
        rest_url: "https://api.massive.com".into(),
        ws_url: "wss://socket.massive.com".into(),
        api_key: Secret::new(KEY),
    };
    let c = RestClient::new(&config).unwrap();
    for text in [format!("{config:?}"), format!("{c:?}")] {
        assert!(!text.contains(KEY), "{text}");
    }
}
