//! The CBOE delayed-quotes client against a local server: the chain text comes back,
//! a symbol is fetched at most once per five minutes, an index gets its underscore, and a
//! blocked (HTML) answer is a clear error.

use crate::massive_support;

use std::sync::Arc;

use chrono::{DateTime, Duration};
use coach::domain::Symbol;
use coach::provider::cboe::{CboeClient, CboeError};
use massive_support::{Canned, HttpServer};

const CHAIN: &str = r#"{"timestamp":"2026-11-24 15:45:01","data":{"symbol":"_SPX","current_price":6832.54,
  "options":[{"option":"SPXW261124C06830000","bid":4.1,"ask":4.3,"iv":0.1123,"open_interest":1520.0,"volume":8832.0,
  "delta":0.52,"gamma":0.0291,"vega":0.9,"theta":-6.1,"rho":0.0,"theo":4.2,"last_trade_time":"2026-11-24T15:44:58"}]}}"#;

#[tokio::test]
async fn a_chain_is_fetched_once_per_five_minutes_per_symbol() {
    let dynamic: massive_support::Dynamic = Arc::new(|pq: &str| match pq {
        "/api/options/_SPX.json" => Some(Canned::new(200, CHAIN)),
        "/api/options/SPY.json" => Some(
            Canned::new(
                403,
                "<html><head><title>Attention Required! | Cloudflare</title></head></html>",
            )
            .header("content-type", "text/html"),
        ),
        _ => None,
    });
    let server = HttpServer::start(None, Some(dynamic)).await;
    let client = CboeClient::new(&format!("{}/api/options/", server.base)).unwrap();
    let spx = Symbol::parse("SPX").unwrap();
    let t0 = DateTime::from_timestamp(1_764_000_000, 0).unwrap();

    let (at, body) = client.chain_json(&spx, true, t0).await.unwrap();
    assert_eq!(at, t0);
    assert!(body.contains("SPXW261124C06830000"));
    let (at, _) = client
        .chain_json(&spx, true, t0 + Duration::minutes(4))
        .await
        .unwrap();
    assert_eq!(at, t0, "served from the cache");
    assert_eq!(server.seen().len(), 1);
    let (at, _) = client
        .chain_json(&spx, true, t0 + Duration::minutes(5))
        .await
        .unwrap();
    assert_eq!(at, t0 + Duration::minutes(5));
    assert_eq!(server.seen().len(), 2);

    let spy = Symbol::parse("SPY").unwrap();
    let err = client.chain_json(&spy, false, t0).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "CBOE answered HTTP 403 for SPY: Attention Required! | Cloudflare"
    );
    let again = client
        .chain_json(&spy, false, t0 + Duration::minutes(1))
        .await
        .unwrap_err();
    assert!(matches!(again, CboeError::TooSoon { .. }), "{again}");
    assert_eq!(
        server.seen().len(),
        3,
        "no second request within five minutes"
    );
    assert!(CboeClient::new("ftp://nope").is_err());
}
