//! Massive (formerly Polygon.io) options chain snapshot, `GET /v3/snapshot/options/{underlying}`.
//!
//! Tolerant of what the API leaves out: `greeks` may be missing or `{}`, `implied_volatility`
//! and `open_interest` may be absent (the contract then carries no gamma), `underlying_asset`
//! has `price` for stocks and `value` for indices. Contract fields come from `details`, with
//! the OCC `details.ticker` (`O:SPXW…`) supplying the root and anything `details` lacks.
//! The snapshot time is the latest `underlying_asset.last_updated` (ns since the epoch);
//! when no contract has one, `--at` must supply it.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

use super::{ChainReadError, RawChain, json_error, symbol_from_roots};
use crate::domain::Symbol;
use crate::gex::chain::{Contract, Right, Root};
use crate::gex::occ::parse_occ;

#[derive(Deserialize)]
struct Page {
    status: Option<String>,
    message: Option<String>,
    error: Option<String>,
    results: Option<Vec<Snapshot>>,
    next_url: Option<String>,
}

#[derive(Deserialize)]
struct Snapshot {
    details: Option<Details>,
    greeks: Option<Greeks>,
    implied_volatility: Option<f64>,
    open_interest: Option<f64>,
    underlying_asset: Option<Underlying>,
}

#[derive(Deserialize)]
struct Details {
    contract_type: Option<String>,
    expiration_date: Option<String>,
    strike_price: Option<f64>,
    ticker: Option<String>,
}

#[derive(Deserialize)]
struct Greeks {
    gamma: Option<f64>,
}

#[derive(Deserialize)]
struct Underlying {
    price: Option<f64>,
    value: Option<f64>,
    ticker: Option<String>,
    last_updated: Option<i64>,
}

/// One page of a (possibly paged) snapshot.
#[derive(Clone, Debug, PartialEq)]
pub struct MassivePage {
    pub symbol: Option<Symbol>,
    /// The underlying's price (`price`, or `value` for an index), from the first contract that has it.
    pub spot: Option<f64>,
    /// Latest `underlying_asset.last_updated` on the page.
    pub as_of: Option<DateTime<Utc>>,
    pub contracts: Vec<Contract>,
    /// The next page to fetch, when the API paged the result.
    pub next_url: Option<String>,
}

/// Reads one snapshot page. An error status (`"status": "ERROR"`, `"NOT_AUTHORIZED"`) is an error.
pub fn parse_page(text: &str, file: &str) -> Result<MassivePage, ChainReadError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let page: Page = serde_path_to_error::deserialize(&mut de).map_err(|e| json_error(file, e))?;
    let err = |field: String, problem: String| ChainReadError::new(file, None, field, problem);
    let status = page.status.as_deref().unwrap_or("OK");
    if !matches!(status, "OK" | "DELAYED") {
        let why = page.error.or(page.message).unwrap_or_default();
        return Err(err(
            "status".into(),
            format!("the API answered {status:?}: {why}"),
        ));
    }
    let results = page.results.unwrap_or_default();
    let mut out = MassivePage {
        symbol: None,
        spot: None,
        as_of: None,
        contracts: Vec::with_capacity(results.len()),
        next_url: page.next_url,
    };
    for (i, snap) in results.into_iter().enumerate() {
        let at = |field: &str| format!("results[{i}].{field}");
        if let Some(u) = &snap.underlying_asset {
            if out.spot.is_none() {
                out.spot = u.price.or(u.value).filter(|p| *p > 0.0 && p.is_finite());
            }
            if out.symbol.is_none()
                && let Some(t) = u.ticker.as_deref()
            {
                let t = t.strip_prefix("I:").unwrap_or(t);
                out.symbol = Some(
                    Symbol::parse(t)
                        .map_err(|e| err(at("underlying_asset.ticker"), e.to_string()))?,
                );
            }
            if let Some(ns) = u.last_updated {
                let t = DateTime::from_timestamp_nanos(ns);
                out.as_of = Some(out.as_of.map_or(t, |prev| prev.max(t)));
            }
        }
        out.contracts.push(contract(&snap, i, file)?);
    }
    Ok(out)
}

fn contract(snap: &Snapshot, i: usize, file: &str) -> Result<Contract, ChainReadError> {
    let at = |field: &str| format!("results[{i}].{field}");
    let err = |field: &str, problem: String| ChainReadError::new(file, None, at(field), problem);
    let details = snap
        .details
        .as_ref()
        .ok_or_else(|| err("details", "missing: the contract is not identified".into()))?;
    let occ = match details.ticker.as_deref() {
        Some(t) => Some(parse_occ(t).map_err(|e| err("details.ticker", e.to_string()))?),
        None => None,
    };
    let right = match (details.contract_type.as_deref(), &occ) {
        (Some("call"), _) => Right::Call,
        (Some("put"), _) => Right::Put,
        (Some(other), _) => {
            return Err(err(
                "details.contract_type",
                format!("{other:?} is not call or put"),
            ));
        }
        (None, Some(o)) => o.right,
        (None, None) => {
            return Err(err(
                "details.contract_type",
                "missing, and there is no ticker".into(),
            ));
        }
    };
    let expiry = match (details.expiration_date.as_deref(), &occ) {
        (Some(d), _) => NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
            err(
                "details.expiration_date",
                format!("{d:?} is not YYYY-MM-DD"),
            )
        })?,
        (None, Some(o)) => o.expiry,
        (None, None) => {
            return Err(err(
                "details.expiration_date",
                "missing, and there is no ticker".into(),
            ));
        }
    };
    let strike = match (details.strike_price, &occ) {
        (Some(k), _) if k > 0.0 && k.is_finite() => k,
        (Some(k), _) => {
            return Err(err(
                "details.strike_price",
                format!("{k} is not a positive strike"),
            ));
        }
        (None, Some(o)) => o.strike,
        (None, None) => {
            return Err(err(
                "details.strike_price",
                "missing, and there is no ticker".into(),
            ));
        }
    };
    let root = match &occ {
        Some(o) => o.root,
        None => snap
            .underlying_asset
            .as_ref()
            .and_then(|u| u.ticker.as_deref())
            .map(|t| Root::for_underlying(t.strip_prefix("I:").unwrap_or(t)))
            .ok_or_else(|| {
                err(
                    "details.ticker",
                    "missing, and there is no underlying ticker".into(),
                )
            })?,
    };
    let open_interest = match snap.open_interest {
        None => 0.0,
        Some(v) if v >= 0.0 && v.is_finite() => v,
        Some(v) => return Err(err("open_interest", format!("{v} is not a count"))),
    };
    let iv = match snap.implied_volatility {
        None => 0.0,
        Some(v) if v >= 0.0 && v.is_finite() => v,
        Some(v) => {
            return Err(err(
                "implied_volatility",
                format!("{v} is not a volatility"),
            ));
        }
    };
    Ok(Contract {
        root,
        expiry,
        right,
        strike,
        open_interest,
        iv,
        gamma: snap
            .greeks
            .as_ref()
            .and_then(|g| g.gamma)
            .filter(|g| g.is_finite()),
    })
}

/// Joins the pages of one snapshot into a chain (spot and symbol from the first page that
/// has them, the latest snapshot time of all).
pub fn chain_from_pages(pages: Vec<MassivePage>, file: &str) -> Result<RawChain, ChainReadError> {
    let mut symbol = None;
    let mut spot = None;
    let mut as_of: Option<DateTime<Utc>> = None;
    let mut contracts = Vec::new();
    for page in pages {
        symbol = symbol.or(page.symbol);
        spot = spot.or(page.spot);
        as_of = match (as_of, page.as_of) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        contracts.extend(page.contracts);
    }
    let spot = spot.ok_or_else(|| {
        ChainReadError::new(
            file,
            None,
            "results[].underlying_asset.price",
            "no contract carries the underlying's price or value",
        )
    })?;
    let symbol = match symbol.or_else(|| symbol_from_roots(&contracts)) {
        Some(s) => s,
        None => {
            return Err(ChainReadError::new(
                file,
                None,
                "results",
                "empty: no contracts",
            ));
        }
    };
    Ok(RawChain {
        symbol,
        spot,
        as_of,
        contracts,
    })
}

/// Reads a single-page snapshot file.
pub fn parse(text: &str, file: &str) -> Result<RawChain, ChainReadError> {
    chain_from_pages(vec![parse_page(text, file)?], file)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL_INDEX: &str = r#"{"status":"OK","results":[
      {"details":{"contract_type":"call","exercise_style":"european","expiration_date":"2023-07-12",
                  "shares_per_contract":100,"strike_price":4500,"ticker":"O:SPXW230712C04500000"},
       "greeks":{"delta":0.17,"gamma":0.0152,"theta":-5.99,"vega":0.38},
       "implied_volatility":0.1186,"open_interest":4501,
       "underlying_asset":{"last_updated":1680814651655000000,"value":4483.78,"ticker":"I:SPX","timeframe":"REAL-TIME"}},
      {"details":{"ticker":"O:SPX230721P04400000"},"greeks":{},
       "underlying_asset":{"value":4483.78,"ticker":"I:SPX"}}],
      "next_url":"https://api.massive.com/v3/snapshot/options/I:SPX?cursor=abc"}"#;

    #[test]
    fn an_index_page_with_value_empty_greeks_and_missing_fields() {
        let page = parse_page(MINIMAL_INDEX, "spx.json").unwrap();
        assert_eq!(
            page.next_url.as_deref(),
            Some("https://api.massive.com/v3/snapshot/options/I:SPX?cursor=abc")
        );
        let raw = chain_from_pages(vec![page], "spx.json").unwrap();
        assert_eq!(raw.symbol.as_str(), "SPX");
        assert_eq!(raw.spot, 4483.78);
        assert_eq!(raw.as_of.unwrap().timestamp(), 1_680_814_651);
        let (a, b) = (&raw.contracts[0], &raw.contracts[1]);
        assert_eq!(
            (a.root.as_str(), a.strike, a.iv, a.open_interest, a.gamma),
            ("SPXW", 4500.0, 0.1186, 4501.0, Some(0.0152))
        );
        // The second contract is known only by its ticker: root SPX (AM-settled), no IV, no OI.
        assert_eq!(
            (
                b.root.as_str(),
                b.right,
                b.strike,
                b.iv,
                b.open_interest,
                b.gamma
            ),
            ("SPX", Right::Put, 4400.0, 0.0, 0.0, None)
        );
        assert_eq!(b.expiry.to_string(), "2023-07-21");
    }

    #[test]
    fn error_statuses_and_bad_fields_are_named() {
        let e = parse(r#"{"status":"NOT_AUTHORIZED","message":"plan"}"#, "x.json").unwrap_err();
        assert_eq!(e.field, "status");
        assert!(e.problem.contains("NOT_AUTHORIZED"));
        let e = parse(
            r#"{"status":"OK","results":[{"details":{"ticker":"O:SPY1"}}]}"#,
            "x.json",
        )
        .unwrap_err();
        assert_eq!(e.field, "results[0].details.ticker");
        let e = parse(r#"{"status":"OK","results":[{"details":{"contract_type":"swap","ticker":"O:SPY251001C00500000"}}]}"#, "x.json").unwrap_err();
        assert_eq!(e.field, "results[0].details.contract_type");
        let e = parse(r#"{"status":"OK","results":[{"details":{"ticker":"O:SPY251001C00500000"},"open_interest":"x"}]}"#, "x.json").unwrap_err();
        assert_eq!(e.field, "results[0].open_interest");
        assert_eq!(e.line, Some(1));
        let e = parse(
            r#"{"status":"OK","results":[{"details":{"ticker":"O:SPY251001C00500000"}}]}"#,
            "x.json",
        )
        .unwrap_err();
        assert!(e.field.contains("underlying_asset"), "{e}");
        let e = parse(r#"{"status":"OK","results":[]}"#, "x.json").unwrap_err();
        assert!(e.problem.contains("price"), "{e}");
    }

    #[test]
    fn pages_join_into_one_chain() {
        let first = parse_page(MINIMAL_INDEX, "p1").unwrap();
        let second = parse_page(r#"{"status":"OK","results":[{"details":{"ticker":"O:SPXW230712P04450000"},"open_interest":10,"implied_volatility":0.2}]}"#, "p2").unwrap();
        let raw = chain_from_pages(vec![first, second], "spx").unwrap();
        assert_eq!(raw.contracts.len(), 3);
        assert_eq!(raw.spot, 4483.78);
    }
}
