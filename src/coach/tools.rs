//! The coach's tools (SPEC 16): their definitions as the model sees them (JSON schema),
//! and the validation of the arguments the model sends (pure). A bad argument becomes an
//! error text for the model, never a panic and never an action.

use serde_json::{Value, json};

use crate::domain::{SetupKind, Symbol};
use crate::gex::ExpiryFilter;
use crate::llm::ToolDef;
use crate::setups::StatusFilter;
use crate::stats::HourBucket;

/// A validated tool call.
#[derive(Clone, Debug, PartialEq)]
pub enum ToolRequest {
    GammaExposure {
        symbol: Symbol,
        filter: ExpiryFilter,
    },
    /// `None`: the trader's watchlist.
    ScanOpportunities {
        symbols: Option<Vec<Symbol>>,
    },
    MorningBrief,
    ListTrackedSetups {
        filter: StatusFilter,
    },
    KeyLevels {
        symbol: Symbol,
    },
    TrackSetup {
        detection_id: i64,
    },
    /// Setup statistics (SPEC 18), narrowed to a kind, a symbol and an hour bucket.
    SetupStats {
        kind: Option<SetupKind>,
        symbol: Option<Symbol>,
        hour: Option<HourBucket>,
    },
}

pub const GET_GAMMA_EXPOSURE: &str = "get_gamma_exposure";
pub const SCAN_OPPORTUNITIES: &str = "scan_opportunities";
pub const GET_MORNING_BRIEF: &str = "get_morning_brief";
pub const LIST_TRACKED_SETUPS: &str = "list_tracked_setups";
pub const GET_KEY_LEVELS: &str = "get_key_levels";
pub const TRACK_SETUP: &str = "track_setup";
pub const GET_SETUP_STATS: &str = "get_setup_stats";

/// Every tool, as sent in each request.
pub fn definitions() -> Vec<ToolDef> {
    vec![
        ToolDef {
            name: GET_GAMMA_EXPOSURE,
            description: "The live options gamma-exposure (GEX) profile of a symbol: spot, \
                total GEX (dollars per 1% move), regime (positive or negative gamma), the \
                zero-gamma flip nearest spot and all crossings, call wall, put wall, max-GEX \
                strike, the top key levels and the net GEX of the strikes nearest spot.",
            parameters: json!({
                "type": "object",
                "properties": {
                    "symbol": {"type": "string", "description": "Ticker, e.g. SPX, SPY, QQQ"},
                    "expiry": {"type": "string", "description": "Expirations included: all (default), 0dte, next:N or max-dte:N"}
                },
                "required": ["symbol"],
                "additionalProperties": false
            }),
        },
        ToolDef {
            name: SCAN_OPPORTUNITIES,
            description: "Today's setup detections (with id, score, entry, stop, target and \
                rationale) and price-at-level signals, best first, for the given symbols or \
                the trader's watchlist. Use a detection's id with track_setup.",
            parameters: json!({
                "type": "object",
                "properties": {
                    "symbols": {"type": "array", "items": {"type": "string"}, "description": "Tickers; omit for the watchlist"}
                },
                "additionalProperties": false
            }),
        },
        ToolDef {
            name: GET_MORNING_BRIEF,
            description: "Today's morning brief: session, levels per watchlist symbol, \
                economic events, open-position risk and watch items.",
            parameters: json!({"type": "object", "properties": {}, "additionalProperties": false}),
        },
        ToolDef {
            name: LIST_TRACKED_SETUPS,
            description: "The trader's tracked setups, newest first: id, symbol, setup, \
                direction, entry, stop, target, status, outcome, note.",
            parameters: json!({
                "type": "object",
                "properties": {
                    "status": {"type": "string", "enum": ["active", "triggered", "invalidated", "archived", "all"]}
                },
                "additionalProperties": false
            }),
        },
        ToolDef {
            name: GET_KEY_LEVELS,
            description: "A symbol's key price levels now: prior day high/low/close, \
                pre-market high/low, opening range, pivots, round numbers, VWAP, gamma walls \
                and flip, with the last price.",
            parameters: json!({
                "type": "object",
                "properties": {"symbol": {"type": "string"}},
                "required": ["symbol"],
                "additionalProperties": false
            }),
        },
        ToolDef {
            name: TRACK_SETUP,
            description: "Track a detection (by its id from scan_opportunities) as a setup. \
                The trader is asked to confirm first; the result says whether it was tracked.",
            parameters: json!({
                "type": "object",
                "properties": {"detection_id": {"type": "integer"}},
                "required": ["detection_id"],
                "additionalProperties": false
            }),
        },
        ToolDef {
            name: GET_SETUP_STATS,
            description: "Does a setup pay? Statistics of the trader's own closed tracked \
                setups (journal) and, when stored, of the backtest over history: per group \
                n (filled trades), win rate with its 95% interval, average R with its 95% \
                interval, profit factor, max drawdown in R. Always quote n with a rate.",
            parameters: json!({
                "type": "object",
                "properties": {
                    "kind": {"type": "string", "enum": SetupKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>()},
                    "symbol": {"type": "string", "description": "Ticker, e.g. SPY"},
                    "hour": {"type": "string", "enum": HourBucket::ALL.map(HourBucket::as_str), "description": "New York time bucket of the signal"}
                },
                "additionalProperties": false
            }),
        },
    ]
}

/// Validates a call: the tool's name and its JSON arguments.
pub fn parse(name: &str, arguments: &str) -> Result<ToolRequest, String> {
    let args: Value = if arguments.trim().is_empty() {
        json!({})
    } else {
        serde_json::from_str(arguments)
            .map_err(|e| format!("arguments of {name} are not JSON: {e}"))?
    };
    let Some(args) = args.as_object() else {
        return Err(format!("arguments of {name} must be a JSON object"));
    };
    let known: &[&str] = match name {
        GET_GAMMA_EXPOSURE => &["symbol", "expiry"],
        SCAN_OPPORTUNITIES => &["symbols"],
        GET_MORNING_BRIEF => &[],
        LIST_TRACKED_SETUPS => &["status"],
        GET_KEY_LEVELS => &["symbol"],
        TRACK_SETUP => &["detection_id"],
        GET_SETUP_STATS => &["kind", "symbol", "hour"],
        other => {
            return Err(format!(
                "there is no tool {:?}; the tools are {}",
                crate::text::printable(other),
                definitions()
                    .iter()
                    .map(|d| d.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    };
    if let Some(extra) = args.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(format!(
            "{name} has no argument {:?}",
            crate::text::printable(extra)
        ));
    }
    let optional_str = |key: &str| -> Result<Option<&str>, String> {
        match args.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(format!("{name}: {key} must be a string")),
        }
    };
    let symbol = |key: &str| -> Result<Symbol, String> {
        let text = optional_str(key)?.ok_or_else(|| format!("{name} needs {key}"))?;
        parse_symbol(text).map_err(|e| format!("{name}: {e}"))
    };
    match name {
        GET_GAMMA_EXPOSURE => Ok(ToolRequest::GammaExposure {
            symbol: symbol("symbol")?,
            filter: match optional_str("expiry")? {
                None => ExpiryFilter::All,
                Some(text) => text.parse().map_err(|e| format!("{name}: {e}"))?,
            },
        }),
        SCAN_OPPORTUNITIES => Ok(ToolRequest::ScanOpportunities {
            symbols: match args.get("symbols") {
                None | Some(Value::Null) => None,
                Some(Value::Array(items)) if items.is_empty() => None,
                Some(Value::Array(items)) => Some(
                    items
                        .iter()
                        .map(|v| match v {
                            Value::String(s) => parse_symbol(s),
                            _ => Err("symbols must be strings".into()),
                        })
                        .collect::<Result<_, _>>()
                        .map_err(|e| format!("{name}: {e}"))?,
                ),
                Some(_) => return Err(format!("{name}: symbols must be an array of tickers")),
            },
        }),
        GET_MORNING_BRIEF => Ok(ToolRequest::MorningBrief),
        LIST_TRACKED_SETUPS => Ok(ToolRequest::ListTrackedSetups {
            filter: match optional_str("status")? {
                None => StatusFilter::All,
                Some(text) => text.parse().map_err(|e| format!("{name}: {e}"))?,
            },
        }),
        GET_KEY_LEVELS => Ok(ToolRequest::KeyLevels {
            symbol: symbol("symbol")?,
        }),
        GET_SETUP_STATS => Ok(ToolRequest::SetupStats {
            kind: optional_str("kind")?
                .map(|k| {
                    k.trim()
                        .parse::<SetupKind>()
                        .map_err(|e| format!("{name}: {e}"))
                })
                .transpose()?,
            symbol: optional_str("symbol")?
                .map(|s| parse_symbol(s).map_err(|e| format!("{name}: {e}")))
                .transpose()?,
            hour: optional_str("hour")?
                .map(|h| {
                    HourBucket::ALL
                        .into_iter()
                        .find(|b| b.as_str() == h.trim())
                        .ok_or_else(|| {
                            format!(
                                "{name}: hour {:?} is not one of {}",
                                crate::text::printable(h),
                                HourBucket::ALL.map(HourBucket::as_str).join(", ")
                            )
                        })
                })
                .transpose()?,
        }),
        _ => {
            let id = match args.get("detection_id") {
                Some(Value::Number(n)) => n.as_i64(),
                Some(Value::String(s)) => s.trim().parse().ok(),
                _ => None,
            };
            match id {
                Some(id) if id > 0 => Ok(ToolRequest::TrackSetup { detection_id: id }),
                _ => Err(format!(
                    "{name} needs detection_id, a positive integer from scan_opportunities"
                )),
            }
        }
    }
}

fn parse_symbol(text: &str) -> Result<Symbol, String> {
    Symbol::parse(text.trim().to_ascii_uppercase().as_str())
        .map_err(|e| crate::text::printable(&e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_arguments_become_requests() {
        assert_eq!(
            parse(GET_GAMMA_EXPOSURE, r#"{"symbol":"spx","expiry":"0dte"}"#),
            Ok(ToolRequest::GammaExposure {
                symbol: Symbol::parse("SPX").unwrap(),
                filter: ExpiryFilter::ZeroDte
            })
        );
        assert_eq!(
            parse(SCAN_OPPORTUNITIES, ""),
            Ok(ToolRequest::ScanOpportunities { symbols: None })
        );
        assert_eq!(
            parse(LIST_TRACKED_SETUPS, r#"{"status":"active"}"#),
            Ok(ToolRequest::ListTrackedSetups {
                filter: StatusFilter::Active
            })
        );
        assert_eq!(
            parse(TRACK_SETUP, r#"{"detection_id":"42"}"#),
            Ok(ToolRequest::TrackSetup { detection_id: 42 })
        );
    }

    #[test]
    fn bad_arguments_name_the_tool_and_the_problem() {
        let err = |n: &str, a: &str| parse(n, a).unwrap_err();
        assert!(err("rm_rf", "{}").contains("there is no tool \"rm_rf\""));
        assert!(err(GET_GAMMA_EXPOSURE, "{").contains("not JSON"));
        assert!(err(GET_GAMMA_EXPOSURE, "{}").contains("needs symbol"));
        assert!(
            err(GET_GAMMA_EXPOSURE, r#"{"symbol":"SPX","expiry":"weekly"}"#)
                .contains("expiry filter")
        );
        assert!(err(GET_KEY_LEVELS, r#"{"symbol":"$$$ bad"}"#).starts_with("get_key_levels: "));
        assert!(err(GET_KEY_LEVELS, r#"{"symbol":"SPY","x":1}"#).contains("no argument \"x\""));
        assert!(err(TRACK_SETUP, r#"{"detection_id":-3}"#).contains("positive integer"));
        assert!(err(SCAN_OPPORTUNITIES, r#"{"symbols":"SPY"}"#).contains("array"));
        assert!(err(LIST_TRACKED_SETUPS, "[1]").contains("JSON object"));
    }

    #[test]
    fn setup_stats_takes_an_optional_kind_symbol_and_hour_bucket() {
        assert_eq!(
            parse(GET_SETUP_STATS, ""),
            Ok(ToolRequest::SetupStats {
                kind: None,
                symbol: None,
                hour: None
            })
        );
        assert_eq!(
            parse(
                GET_SETUP_STATS,
                r#"{"kind":"orb_breakout","symbol":"spy","hour":"10:00-11:00"}"#
            ),
            Ok(ToolRequest::SetupStats {
                kind: Some(SetupKind::OrbBreakout),
                symbol: Some(Symbol::parse("SPY").unwrap()),
                hour: Some(HourBucket::Morning)
            })
        );
        let err = |a: &str| parse(GET_SETUP_STATS, a).unwrap_err();
        assert!(err(r#"{"kind":"moonshot"}"#).starts_with("get_setup_stats: "));
        assert!(err(r#"{"hour":"10-11"}"#).contains("is not one of 09:30-10:00"));
        assert!(err(r#"{"symbol":"$$$"}"#).starts_with("get_setup_stats: "));
    }

    #[test]
    fn every_definition_has_an_object_schema() {
        for d in definitions() {
            assert_eq!(d.parameters["type"], "object", "{}", d.name);
            assert_eq!(d.to_json()["function"]["name"], d.name);
        }
    }
}
