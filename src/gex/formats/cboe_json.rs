//! CBOE delayed-quotes JSON (`https://cdn.cboe.com/api/global/delayed_quotes/options/_SPX.json`).
//!
//! `{"timestamp": "YYYY-MM-DD HH:MM:SS" (UTC, when the file was generated),
//!   "data": {"symbol": "_SPX", "current_price": …, "options": [{"option": "SPXW…",
//!   "iv": …, "open_interest": …, "gamma": …, …}, …]}}`.
//! Strike, expiry, right and root exist only inside the OCC `option` string. All numbers
//! are floats; `iv == 0` means unknown (the contract then carries no gamma).

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;

use super::{ChainReadError, RawChain, json_error, symbol_from_roots};
use crate::domain::Symbol;
use crate::gex::chain::Contract;
use crate::gex::occ::parse_occ;

#[derive(Deserialize)]
struct Document {
    timestamp: Option<String>,
    data: Data,
}

#[derive(Deserialize)]
struct Data {
    symbol: Option<String>,
    current_price: Option<f64>,
    #[serde(default)]
    options: Vec<OptionRow>,
}

#[derive(Deserialize)]
struct OptionRow {
    option: String,
    iv: Option<f64>,
    open_interest: Option<f64>,
    gamma: Option<f64>,
}

/// Reads a CBOE delayed-quotes options document.
pub fn parse(text: &str, file: &str) -> Result<RawChain, ChainReadError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let doc: Document =
        serde_path_to_error::deserialize(&mut de).map_err(|e| json_error(file, e))?;
    let err = |field: String, problem: String| ChainReadError::new(file, None, field, problem);

    let as_of = match doc.timestamp.as_deref() {
        None => None,
        Some(t) => Some(parse_utc_stamp(t).ok_or_else(|| {
            err(
                "timestamp".into(),
                format!("{t:?} is not \"YYYY-MM-DD HH:MM:SS\" (UTC)"),
            )
        })?),
    };
    let spot = doc
        .data
        .current_price
        .ok_or_else(|| err("data.current_price".into(), "missing: no spot price".into()))?;
    if !(spot > 0.0 && spot.is_finite()) {
        return Err(err(
            "data.current_price".into(),
            format!("{spot} is not a positive price"),
        ));
    }

    let mut contracts = Vec::with_capacity(doc.data.options.len());
    for (i, row) in doc.data.options.iter().enumerate() {
        let at = |field: &str| format!("data.options[{i}].{field}");
        let occ = parse_occ(&row.option).map_err(|e| err(at("option"), e.to_string()))?;
        let open_interest = non_negative(row.open_interest).ok_or_else(|| {
            err(
                at("open_interest"),
                format!("{:?} is not a count", row.open_interest),
            )
        })?;
        let iv = non_negative(row.iv)
            .ok_or_else(|| err(at("iv"), format!("{:?} is not a volatility", row.iv)))?;
        contracts.push(Contract {
            root: occ.root,
            expiry: occ.expiry,
            right: occ.right,
            strike: occ.strike,
            open_interest,
            iv,
            gamma: row.gamma.filter(|g| g.is_finite() && *g != 0.0),
        });
    }

    let symbol = match doc
        .data
        .symbol
        .as_deref()
        .map(|s| s.trim_start_matches('_'))
    {
        Some(s) if !s.is_empty() => {
            Symbol::parse(s).map_err(|e| err("data.symbol".into(), e.to_string()))?
        }
        _ => symbol_from_roots(&contracts).ok_or_else(|| {
            err(
                "data.symbol".into(),
                "missing and there are no options to name the underlying".into(),
            )
        })?,
    };
    Ok(RawChain {
        symbol,
        spot,
        as_of,
        contracts,
    })
}

/// An absent value reads as 0 (unknown); a present one must be finite and ≥ 0.
fn non_negative(v: Option<f64>) -> Option<f64> {
    match v {
        None => Some(0.0),
        Some(x) if x.is_finite() && x >= 0.0 => Some(x),
        Some(_) => None,
    }
}

fn parse_utc_stamp(text: &str) -> Option<DateTime<Utc>> {
    let t = text.trim();
    NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S"))
        .ok()
        .map(|n| n.and_utc())
        .or_else(|| {
            DateTime::parse_from_rfc3339(t)
                .ok()
                .map(|d| d.with_timezone(&Utc))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gex::chain::Right;

    const SAMPLE: &str = include_str!("../../../tests/fixtures/cboe_spx_delayed.json");

    #[test]
    fn the_hand_written_spx_document_reads_with_roots_from_the_occ_symbols() {
        let raw = parse(SAMPLE, "_SPX.json").unwrap();
        assert_eq!(raw.symbol.as_str(), "SPX");
        assert_eq!(raw.spot, 6688.46);
        assert_eq!(raw.as_of.unwrap().to_rfc3339(), "2025-09-26T20:15:02+00:00");
        let roots: std::collections::BTreeSet<&str> =
            raw.contracts.iter().map(|c| c.root.as_str()).collect();
        assert_eq!(roots.into_iter().collect::<Vec<_>>(), vec!["SPX", "SPXW"]);
        let c = raw
            .contracts
            .iter()
            .find(|c| c.root == "SPXW" && c.strike == 6700.0 && c.right == Right::Call)
            .unwrap();
        assert_eq!(c.expiry.to_string(), "2025-09-29");
        assert!(c.iv > 0.0 && c.open_interest > 0.0);
        // iv 0 is CBOE's "unknown" sentinel; it is kept as 0 and contributes nothing.
        assert!(raw.contracts.iter().any(|c| c.iv == 0.0));
    }

    #[test]
    fn errors_name_the_json_path() {
        let bad = SAMPLE.replacen("SPXW250929C06700000", "SPXW250929Q06700000", 1);
        let e = parse(&bad, "_SPX.json").unwrap_err();
        assert!(
            e.field.starts_with("data.options[") && e.field.ends_with("].option"),
            "{e}"
        );
        assert!(e.problem.contains("right"), "{e}");

        let e = parse("{\"timestamp\":\"2025-09-26 20:15:02\",\"data\":{\"current_price\":1,\"options\":[{\"option\":\"SPY251001C00500000\",\"open_interest\":\"many\"}]}}", "x.json").unwrap_err();
        assert_eq!(e.field, "data.options[0].open_interest");
        assert_eq!(e.line, Some(1));

        let e = parse("{\"data\":{\"options\":[]}}", "x.json").unwrap_err();
        assert_eq!(e.field, "data.current_price");
        let e = parse(
            "{\"timestamp\":\"today\",\"data\":{\"current_price\":1}}",
            "x.json",
        )
        .unwrap_err();
        assert_eq!(e.field, "timestamp");
        let e = parse("{\"data\":", "x.json").unwrap_err();
        assert!(e.line.is_some());
        let e = parse("{\"timestamp\":\"2025-09-26 20:15:02\",\"data\":{\"current_price\":1,\"options\":[{\"option\":\"SPY251001C00500000\",\"iv\":-0.2}]}}", "x.json").unwrap_err();
        assert_eq!(e.field, "data.options[0].iv");
    }
}
