//! Options chains for GEX from Alpaca (pure): the trading API's option contracts carry
//! open interest (numbers as strings), the market data option snapshots carry implied
//! volatility (keyed by OCC symbol, no open interest). Joined by OCC symbol into the
//! project's [`Chain`].

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

use crate::domain::Symbol;
use crate::gex::chain::{Chain, Contract};
use crate::gex::occ::parse_occ;

/// One contract of `GET /v2/options/contracts` (what GEX needs of it).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ContractWire {
    pub symbol: Option<String>,
    /// Contracts, as a decimal string ("1234"); `null` when Alpaca has none yet.
    pub open_interest: Option<String>,
    pub open_interest_date: Option<String>,
}

#[derive(Deserialize)]
struct ContractsPage {
    #[serde(default)]
    option_contracts: Option<Vec<ContractWire>>,
    next_page_token: Option<String>,
}

/// One page of option contracts and its next token.
pub fn parse_contracts_page(
    body: &str,
    out: &mut Vec<ContractWire>,
) -> Result<Option<String>, String> {
    let page: ContractsPage =
        serde_json::from_str(body).map_err(|e| format!("not a page of option contracts ({e})"))?;
    out.extend(page.option_contracts.unwrap_or_default());
    Ok(page.next_page_token.filter(|t| !t.trim().is_empty()))
}

/// What a snapshot gives GEX: implied volatility (annual decimal) and the published gamma.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SnapshotGreeks {
    pub iv: Option<f64>,
    pub gamma: Option<f64>,
}

#[derive(Deserialize)]
struct GreeksWire {
    gamma: Option<f64>,
}

#[derive(Deserialize)]
struct SnapshotWire {
    #[serde(rename = "impliedVolatility")]
    implied_volatility: Option<f64>,
    greeks: Option<GreeksWire>,
}

#[derive(Deserialize)]
struct SnapshotsPage {
    #[serde(default)]
    snapshots: Option<BTreeMap<String, SnapshotWire>>,
    next_page_token: Option<String>,
}

/// One page of option snapshots (by OCC symbol) and its next token.
pub fn parse_snapshots_page(
    body: &str,
    out: &mut BTreeMap<String, SnapshotGreeks>,
) -> Result<Option<String>, String> {
    let page: SnapshotsPage =
        serde_json::from_str(body).map_err(|e| format!("not a page of option snapshots ({e})"))?;
    for (occ, s) in page.snapshots.unwrap_or_default() {
        out.insert(
            occ,
            SnapshotGreeks {
                iv: s.implied_volatility.filter(|v| v.is_finite() && *v > 0.0),
                gamma: s.greeks.and_then(|g| g.gamma).filter(|g| g.is_finite()),
            },
        );
    }
    Ok(page.next_page_token.filter(|t| !t.trim().is_empty()))
}

/// The latest trade price of `symbol` in `GET /v2/stocks/trades/latest` (dollars).
pub fn parse_latest_trade(body: &str, symbol: &str) -> Result<Option<(f64, String)>, String> {
    #[derive(Deserialize)]
    struct TradeWire {
        p: Option<f64>,
        t: Option<String>,
    }
    #[derive(Deserialize)]
    struct Latest {
        trades: Option<BTreeMap<String, TradeWire>>,
    }
    let latest: Latest =
        serde_json::from_str(body).map_err(|e| format!("not a latest-trades answer ({e})"))?;
    Ok(latest
        .trades
        .and_then(|mut t| t.remove(symbol))
        .and_then(|t| Some((t.p.filter(|p| p.is_finite() && *p > 0.0)?, t.t?))))
}

/// How the join went, for the trader.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JoinCounts {
    /// Contracts with open interest and implied volatility.
    pub joined: usize,
    /// Contracts without a usable snapshot IV (kept with IV unknown: no gamma).
    pub without_iv: usize,
    /// Contracts whose symbol or open interest could not be read (left out).
    pub unreadable: usize,
}

/// The chain of `symbol` at `as_of` with `spot`: every readable contract with its open
/// interest, and its IV and gamma from the snapshot of the same OCC symbol.
pub fn join_chain(
    symbol: &Symbol,
    spot: f64,
    as_of: DateTime<Utc>,
    contracts: &[ContractWire],
    snapshots: &BTreeMap<String, SnapshotGreeks>,
) -> (Chain, JoinCounts) {
    let mut counts = JoinCounts::default();
    let mut out = Vec::with_capacity(contracts.len());
    for wire in contracts {
        let occ = wire.symbol.as_deref().map(parse_occ);
        let oi = wire
            .open_interest
            .as_deref()
            .map(|t| t.trim().parse::<f64>());
        let (Some(Ok(occ)), Some(Ok(open_interest))) = (occ, oi) else {
            counts.unreadable += 1;
            continue;
        };
        if !(open_interest.is_finite() && open_interest >= 0.0) {
            counts.unreadable += 1;
            continue;
        }
        let greeks = wire
            .symbol
            .as_deref()
            .and_then(|s| snapshots.get(s.trim()))
            .copied()
            .unwrap_or_default();
        match greeks.iv {
            Some(_) => counts.joined += 1,
            None => counts.without_iv += 1,
        }
        out.push(Contract {
            root: occ.root,
            expiry: occ.expiry,
            right: occ.right,
            strike: occ.strike,
            open_interest,
            iv: greeks.iv.unwrap_or(0.0),
            gamma: greeks.gamma,
        });
    }
    out.sort_by(|a, b| {
        a.expiry
            .cmp(&b.expiry)
            .then(a.strike.total_cmp(&b.strike))
            .then(a.right.as_str().cmp(b.right.as_str()))
    });
    (
        Chain {
            symbol: symbol.clone(),
            spot,
            as_of,
            contracts: out,
        },
        counts,
    )
}

/// The last expiration asked for: `days` calendar days after `today`.
pub fn expiry_horizon(today: NaiveDate, days: u32) -> NaiveDate {
    today + chrono::Duration::days(i64::from(days))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gex::chain::Right;

    #[test]
    fn contracts_and_snapshots_join_by_occ_symbol() {
        let mut contracts = Vec::new();
        parse_contracts_page(
            r#"{"option_contracts":[
              {"symbol":"SPY260220C00600000","type":"call","strike_price":"600","open_interest":"1234","open_interest_date":"2026-02-19"},
              {"symbol":"SPY260220P00590000","type":"put","strike_price":"590","open_interest":"800"},
              {"symbol":"SPY260220P00580000","type":"put","strike_price":"580","open_interest":null},
              {"symbol":"bad","open_interest":"5"}],"next_page_token":"abc"}"#,
            &mut contracts,
        )
        .map(|next| assert_eq!(next.as_deref(), Some("abc")))
        .unwrap();
        let mut snaps = BTreeMap::new();
        parse_snapshots_page(
            r#"{"snapshots":{"SPY260220C00600000":{"greeks":{"gamma":0.012},"impliedVolatility":0.21},
                "SPY260220P00590000":{"latestQuote":{}}},"next_page_token":null}"#,
            &mut snaps,
        )
        .unwrap();
        let spy = Symbol::parse("SPY").unwrap();
        let (chain, counts) = join_chain(&spy, 601.5, Utc::now(), &contracts, &snaps);
        assert_eq!(
            counts,
            JoinCounts {
                joined: 1,
                without_iv: 1,
                unreadable: 2
            }
        );
        let call = chain
            .contracts
            .iter()
            .find(|c| c.right == Right::Call)
            .unwrap();
        assert_eq!(
            (call.strike, call.open_interest, call.iv, call.gamma),
            (600.0, 1234.0, 0.21, Some(0.012))
        );
        assert_eq!(call.expiry, NaiveDate::from_ymd_opt(2026, 2, 20).unwrap());
        let put = chain
            .contracts
            .iter()
            .find(|c| c.right == Right::Put)
            .unwrap();
        assert_eq!((put.strike, put.open_interest, put.iv), (590.0, 800.0, 0.0));
    }

    #[test]
    fn the_latest_trade_gives_the_spot() {
        let body =
            r#"{"trades":{"AAPL":{"t":"2022-03-18T14:02:09.722539521Z","p":161.2958,"s":100}}}"#;
        assert_eq!(
            parse_latest_trade(body, "AAPL").unwrap(),
            Some((161.2958, "2022-03-18T14:02:09.722539521Z".into()))
        );
        assert_eq!(parse_latest_trade(body, "SPY").unwrap(), None);
    }
}
