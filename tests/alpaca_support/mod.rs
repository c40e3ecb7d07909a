//! Local stand-ins for Alpaca: the shared HTTP server of the Massive tests (scripted,
//! computed and recorded answers on 127.0.0.1:0) with an Alpaca market data handler that
//! pages stock bars with `next_page_token` as Alpaca does, and the recorded payloads of
//! `../shared/fixtures/alpaca/rest` (each file is `{"url": …, "response": …}`).
#![allow(dead_code)]

// The binaries that hold these tests include massive_support once; a second copy here
// would install a second global log subscriber and one copy's captures would stay empty.
pub(crate) use crate::massive_support as http;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use coach::domain::Bar;
#[allow(unused_imports)]
pub(crate) use http::{Canned, Dynamic, HttpServer, Seen, capture_logs};
use serde_json::{Value, json};

pub mod ws;

pub const KEY_ID: &str = "PKTEST0123456789ABCD";
pub const SECRET_KEY: &str = "sEcReT0123456789abcdefghijKLMNOP";

/// `../shared/fixtures/alpaca`, or `None` with a printed reason (a failure instead when
/// `COACH_REQUIRE_SHARED=1`).
pub fn fixtures_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/alpaca");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("COACH_REQUIRE_SHARED").is_ok_and(|v| v == "1") {
        panic!("COACH_REQUIRE_SHARED=1 but {} is missing", dir.display());
    }
    eprintln!("skipping: {} is missing", dir.display());
    None
}

/// The recorded answer body of `rest/<name>.json`.
pub fn recorded(dir: &std::path::Path, name: &str) -> String {
    let text = std::fs::read_to_string(dir.join("rest").join(format!("{name}.json"))).unwrap();
    let file: Value = serde_json::from_str(&text).unwrap();
    file["response"].to_string()
}

/// The query parameters of a path and query.
pub fn query(path_and_query: &str) -> BTreeMap<String, String> {
    let url = reqwest::Url::parse(&format!("http://x{path_and_query}")).unwrap();
    url.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn wire_bar(b: &Bar) -> Value {
    json!({
        "t": b.start.to_rfc3339_opts(SecondsFormat::Secs, true),
        "o": b.open, "h": b.high, "l": b.low, "c": b.close, "v": b.volume,
        "n": 1, "vw": b.close,
    })
}

/// An Alpaca market holding `bars` per symbol: `GET /v2/stocks/bars` answers the bars of
/// the requested symbols starting in `start ..= end`, at most `page_size` a page (symbol
/// after symbol, as Alpaca pages), with an opaque `next_page_token`. A request without
/// both key headers gets 401.
pub fn market(bars: BTreeMap<String, Vec<Bar>>, page_size: usize) -> Dynamic {
    Arc::new(move |pq: &str| {
        if !pq.starts_with("/v2/stocks/bars?") {
            return None;
        }
        let q = query(pq);
        let when = |k: &str| -> DateTime<Utc> {
            DateTime::parse_from_rfc3339(&q[k])
                .unwrap()
                .with_timezone(&Utc)
        };
        let (start, end) = (when("start"), when("end"));
        let mut all: Vec<(String, &Bar)> = Vec::new();
        for symbol in q["symbols"].split(',') {
            for b in bars.get(symbol).into_iter().flatten() {
                if b.start >= start && b.start <= end {
                    all.push((symbol.to_string(), b));
                }
            }
        }
        let from: usize = q
            .get("page_token")
            .map(|t| t.trim_start_matches("tok:").parse().unwrap())
            .unwrap_or(0);
        let to = (from + page_size).min(all.len());
        let mut page: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for (symbol, b) in &all[from..to] {
            page.entry(symbol.clone()).or_default().push(wire_bar(b));
        }
        let next = (to < all.len()).then(|| format!("tok:{to}"));
        Some(Canned::new(
            200,
            &json!({"bars": page, "next_page_token": next}).to_string(),
        ))
    })
}

/// Whether a request carried the test key pair in Alpaca's headers.
pub fn authenticated(seen: &Seen) -> bool {
    let get = |name: &str| {
        seen.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    get("apca-api-key-id") == Some(KEY_ID) && get("apca-api-secret-key") == Some(SECRET_KEY)
}

/// Panics when `text` holds either key.
pub fn assert_no_keys(what: &str, text: &str) {
    assert!(!text.contains(KEY_ID), "{what} holds the key id: {text}");
    assert!(
        !text.contains(SECRET_KEY),
        "{what} holds the secret key: {text}"
    );
}
