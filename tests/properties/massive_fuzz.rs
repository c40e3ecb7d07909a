//! Fuzzing by property: the WebSocket frame parser, the REST wire parsing, the CBOE chain
//! check and the replay CSV readers never panic, whatever bytes or JSON they are given,
//! and what they accept is sane (finite positive prices, ordered bars).
//!
//! `COACH_FUZZ_CASES` sets the cases per property (default 1,000); each property checks
//! that every case ran and prints how many inputs it saw. BENCHMARKS.md records a long run.

use std::sync::atomic::{AtomicU64, Ordering};

use coach::provider::cboe::check_chain;
use coach::provider::massive::wire::{
    StreamMessage, instant_from_epoch, parse_aggs_page, parse_frame, parse_market_status, to_bar,
    to_daily_bar,
};
use coach::provider::replay::{parse_daily_bars, parse_minute_bars};
use proptest::prelude::*;
use proptest::test_runner::{TestCaseResult, TestRunner};
use serde_json::{Value, json};

fn cases() -> u32 {
    std::env::var("COACH_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Runs `property` on `cases()` inputs drawn from `strategy`: fails with the shrunk input
/// when the property fails, checks that every case ran (a strategy that rejected its inputs
/// would test nothing), and prints how many inputs the property saw.
fn fuzz<S: Strategy>(name: &str, strategy: S, property: impl Fn(S::Value) -> TestCaseResult)
where
    S::Value: std::fmt::Debug,
{
    let ran = AtomicU64::new(0);
    let mut runner = TestRunner::new(config());
    let outcome = runner.run(&strategy, |value| {
        ran.fetch_add(1, Ordering::Relaxed);
        property(value)
    });
    if let Err(failure) = outcome {
        panic!("fuzz {name}: {failure}");
    }
    let ran = ran.into_inner();
    assert!(
        ran >= u64::from(cases()),
        "fuzz {name}: {ran} inputs ran, {} expected",
        cases()
    );
    eprintln!("fuzz {name}: {ran} inputs");
}

/// Any JSON value, biased toward the shapes the parsers look at.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop_oneof![
            Just("AM"),
            Just("A"),
            Just("V"),
            Just("status"),
            Just("T"),
            Just("auth_failed"),
            Just("1.2e+06"),
            Just("I:SPX"),
            Just(""),
            Just("\u{1b}[31m")
        ]
        .prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 48, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::vec(
                (
                    prop_oneof![
                        Just("ev"),
                        Just("sym"),
                        Just("T"),
                        Just("o"),
                        Just("h"),
                        Just("l"),
                        Just("c"),
                        Just("v"),
                        Just("s"),
                        Just("e"),
                        Just("t"),
                        Just("val"),
                        Just("status"),
                        Just("message"),
                        Just("results"),
                        Just("next_url"),
                        Just("data"),
                        Just("options")
                    ]
                    .prop_map(str::to_string),
                    inner
                ),
                0..10
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// A stream element close to a real aggregate, with any field possibly broken.
fn aggregate_like() -> impl Strategy<Value = Value> {
    (
        prop_oneof![Just("AM"), Just("A"), Just("V"), Just("status")],
        proptest::option::of(any::<f64>()),
        proptest::option::of(any::<i64>()),
        proptest::option::of(json_value()),
    )
        .prop_map(|(ev, price, t, extra)| {
            let p = price.map_or(Value::Null, |f| {
                serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
            });
            json!({"ev": ev, "sym": "SPY", "T": "I:SPX", "o": p, "h": p, "l": p, "c": p,
                   "v": extra, "s": t, "e": t, "t": t, "val": p})
        })
}

fn check_frame(text: &str) {
    let parsed = parse_frame(text);
    for message in parsed.messages {
        match message {
            StreamMessage::Agg(a) => {
                assert!(a.low > 0.0 && a.low <= a.open && a.open <= a.high, "{a:?}");
                assert!(
                    a.low <= a.close && a.close <= a.high && a.high.is_finite(),
                    "{a:?}"
                );
                assert!(a.volume.is_none_or(|v| v.is_finite() && v >= 0.0));
            }
            StreamMessage::Value { value, .. } => assert!(value.is_finite() && value > 0.0),
            StreamMessage::Status { .. } => {}
        }
    }
}

fn check_rest(text: &str) {
    if let Ok(page) = parse_aggs_page(text) {
        for agg in &page.bars {
            if let Some(b) = to_bar(agg) {
                assert!(
                    b.low > 0.0 && b.low <= b.open.min(b.close) && b.high >= b.open.max(b.close)
                );
                assert!(b.volume.is_finite() && b.volume >= 0.0);
            }
            let _ = to_daily_bar(agg);
        }
    }
    let _ = parse_market_status(text);
    let _ = check_chain("X", text);
}

#[test]
fn the_frame_parser_survives_arbitrary_bytes() {
    let bytes = proptest::collection::vec(any::<u8>(), 0..400);
    fuzz("ws frame, arbitrary bytes", bytes, |bytes| {
        check_frame(&String::from_utf8_lossy(&bytes));
        Ok(())
    });
}

#[test]
fn the_frame_parser_survives_random_json() {
    let items = proptest::collection::vec(prop_oneof![json_value(), aggregate_like()], 0..12);
    fuzz(
        "ws frame, random JSON",
        (items, any::<usize>()),
        |(items, cut)| {
            let text = Value::Array(items).to_string();
            check_frame(&text);
            // and the same frame cut anywhere (a truncated read)
            let mut at = cut % (text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            check_frame(&text[..at]);
            Ok(())
        },
    );
}

#[test]
fn rest_parsing_survives_arbitrary_bytes() {
    let bytes = proptest::collection::vec(any::<u8>(), 0..400);
    fuzz("rest pages, arbitrary bytes", bytes, |bytes| {
        check_rest(&String::from_utf8_lossy(&bytes));
        Ok(())
    });
}

#[test]
fn rest_parsing_survives_random_json() {
    let results = proptest::collection::vec(prop_oneof![json_value(), aggregate_like()], 0..10);
    let status = prop_oneof![
        Just("OK"),
        Just("DELAYED"),
        Just("ERROR"),
        Just("NOT_AUTHORIZED")
    ];
    let next = proptest::option::of(json_value());
    fuzz(
        "rest pages, random JSON",
        (results, status, next),
        |(results, status, next)| {
            let body =
                json!({"status": status, "results": results, "next_url": next, "error": "e"});
            check_rest(&body.to_string());
            Ok(())
        },
    );
}

#[test]
fn the_replay_csv_readers_survive_anything() {
    let lines = proptest::collection::vec(
        prop_oneof![
            ".{0,60}",
            "(20[0-9]{2}-[01][0-9]-[0-3][0-9]( [0-2][0-9]:[0-5][0-9](:[0-5][0-9])?)?|[^,]{0,6}),[-0-9.eE]{0,8},[-0-9.eEnaNif]{0,8},[-0-9.]{0,8},[-0-9.]{0,8}(,[-0-9.e+]{0,10})?",
        ],
        0..8,
    );
    let header = prop_oneof![
        Just("timestamp,open,high,low,close,volume"),
        Just("date,open,high,low,close"),
        Just("Time,Close,Low,High,Open"),
        Just(""),
    ];
    fuzz("replay csv", (lines, header), |(lines, header)| {
        let text = format!("{header}\n{}", lines.join("\n"));
        if let Ok(bars) = parse_minute_bars("f", &text) {
            prop_assert!(bars.windows(2).all(|w| w[0].start < w[1].start));
            prop_assert!(
                bars.iter()
                    .all(|b| b.low > 0.0 && b.low <= b.high && b.volume >= 0.0)
            );
        }
        if let Ok(bars) = parse_daily_bars("f", &text) {
            prop_assert!(bars.windows(2).all(|w| w[0].date < w[1].date));
        }
        Ok(())
    });
}

#[test]
fn any_epoch_integer_is_an_instant_or_none() {
    fuzz("epoch timestamps", any::<i64>(), |value| {
        let _ = instant_from_epoch(value);
        Ok(())
    });
}
