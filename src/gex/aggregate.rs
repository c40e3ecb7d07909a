//! From a chain to what the profile is made of: per-strike call/put GEX at spot and the
//! merged terms of the curve G(x) (SPEC 7), in one pass over the contracts.
//!
//! Contracts are grouped without sorting: a series table (settlement style and expiry date
//! share T, so chrono-tz runs once per series), a hashed strike table (one ln K per strike),
//! and neighbouring contracts of the same strike, series and IV (a call and its put, as
//! chains list them) merged into one curve term. Each term then costs one exponential for
//! its GEX at spot.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use chrono::NaiveDate;

use super::chain::{Chain, Right, Root};
use super::curve::CurveTerm;
use super::expiry::{self, Settlement};
use super::filter::ExpiryFilter;
use super::profile::{GexParams, StrikeGex};

/// What [`aggregate`] found.
#[derive(Clone, Debug, Default)]
pub(crate) struct Aggregate {
    /// Per-strike GEX at spot, ascending by strike.
    pub strikes: Vec<StrikeGex>,
    /// Curve terms with their net signed open interest.
    pub terms: Vec<(CurveTerm, f64)>,
    pub contracts_used: usize,
    /// Expiration dates with a contributing contract, ascending.
    pub expirations_used: Vec<NaiveDate>,
    /// Every expiration date still trading at the snapshot, ascending.
    pub live: Vec<NaiveDate>,
}

/// One listed series: contracts sharing a settlement style and expiry date share T.
#[derive(Clone, Copy, Debug)]
struct Series {
    settlement: Settlement,
    date: NaiveDate,
    years: f64,
    sqrt_years: f64,
    /// e^(−qT).
    discount: f64,
    selected: bool,
    used: bool,
}

/// A strike row under construction.
#[derive(Clone, Copy, Debug)]
struct StrikeRow {
    key: i64,
    ln_strike: f64,
    call_gex: f64,
    put_gex: f64,
}

/// Open interest of one (strike, series, IV), waiting to become a curve term.
#[derive(Clone, Copy, Debug)]
struct Merged {
    row: u32,
    series: u32,
    iv: f64,
    call_oi: f64,
    put_oi: f64,
}

/// FxHash's multiply-rotate: the keys are small integers from our own arithmetic (no
/// adversary), so a one-multiply hash is enough and several times cheaper than SipHash.
#[derive(Default)]
struct FastHasher(u64);

impl Hasher for FastHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u32(&mut self, v: u32) {
        self.write_u64(u64::from(v));
    }
    fn write_i64(&mut self, v: i64) {
        self.write_u64(v as u64);
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// How many of the latest terms a contract may merge into.
const MERGE_WINDOW: usize = 4;

/// Strikes are grouped on exact thousandths (OCC precision). `strike` > 0; rounds half up
/// without a libm call.
fn strike_key(strike: f64) -> i64 {
    (strike * 1000.0 + 0.5) as i64
}

/// Aggregates `chain` at its spot and snapshot time. Contracts at or past expiry, outside
/// the filter, or without OI, IV or a valid strike are skipped.
pub(crate) fn aggregate(chain: &Chain, params: &GexParams, filter: ExpiryFilter) -> Aggregate {
    let (rate, q) = (params.rate, params.dividend_yield);
    let (spot, ln_spot) = (chain.spot, chain.spot.ln());

    // Series first (cheap, and the filter needs every live date).
    let mut series: Vec<Series> = Vec::new();
    let mut series_of: Vec<u32> = Vec::with_capacity(chain.contracts.len());
    // The last two (root, date) seen: SPX and SPXW monthlies often alternate row by row.
    let mut recent: [Option<(Root, NaiveDate, u32)>; 2] = [None, None];
    for c in &chain.contracts {
        let hit = recent
            .iter()
            .flatten()
            .find(|(root, date, _)| *date == c.expiry && *root == c.root)
            .map(|&(_, _, i)| i);
        let index = match hit {
            Some(i) => i,
            None => {
                let settlement = expiry::settlement(c.root.as_str());
                let found = series
                    .iter()
                    .position(|s| s.date == c.expiry && s.settlement == settlement);
                let i = found.unwrap_or_else(|| {
                    let years = expiry::years_between(
                        chain.as_of,
                        expiry::expiry_instant(c.root.as_str(), c.expiry),
                    );
                    series.push(Series {
                        settlement,
                        date: c.expiry,
                        years,
                        sqrt_years: years.max(0.0).sqrt(),
                        discount: (-q * years).exp(),
                        selected: false,
                        used: false,
                    });
                    series.len() - 1
                }) as u32;
                recent = [Some((c.root, c.expiry, i)), recent[0]];
                i
            }
        };
        series_of.push(index);
    }
    let mut live: Vec<NaiveDate> = series
        .iter()
        .filter(|s| s.years > 0.0)
        .map(|s| s.date)
        .collect();
    live.sort_unstable();
    live.dedup();
    let selected = filter.select(&live, expiry::new_york_date(chain.as_of));
    for s in &mut series {
        s.selected = s.years > 0.0 && selected.binary_search(&s.date).is_ok();
    }

    // Group contracts into strikes and merged terms.
    let mut rows: Vec<StrikeRow> = Vec::new();
    let mut row_of: FastMap<i64, u32> = FastMap::default();
    let mut merged: Vec<Merged> = Vec::with_capacity(chain.contracts.len());
    let mut contracts_used = 0;
    let mut last_row: Option<(i64, u32)> = None;
    for (c, &si) in chain.contracts.iter().zip(&series_of) {
        let carries_gamma = series[si as usize].selected
            && c.open_interest > 0.0
            && c.open_interest.is_finite()
            && c.iv > 0.0
            && c.iv.is_finite()
            && c.strike > 0.0
            && c.strike.is_finite();
        if !carries_gamma {
            continue;
        }
        contracts_used += 1;
        series[si as usize].used = true;
        let key = strike_key(c.strike);
        // A strike's call and put come together: skip the table for the second one.
        let row = match last_row {
            Some((k, r)) if k == key => r,
            _ => *row_of.entry(key).or_insert_with(|| {
                rows.push(StrikeRow {
                    key,
                    ln_strike: (key as f64 / 1000.0).ln(),
                    call_gex: 0.0,
                    put_gex: 0.0,
                });
                (rows.len() - 1) as u32
            }),
        };
        last_row = Some((key, row));
        let (call_oi, put_oi) = match c.right {
            Right::Call => (c.open_interest, 0.0),
            Right::Put => (0.0, c.open_interest),
        };
        // Merging is an optimisation (identical terms add linearly), so only near neighbours
        // are merged: chains list a strike's call and put together (an index's AM and PM
        // roots may interleave), and a hash table per contract costs more than the duplicate
        // terms it would save.
        let recent = merged.len().saturating_sub(MERGE_WINDOW);
        let same = |m: &Merged| m.row == row && m.series == si && m.iv.to_bits() == c.iv.to_bits();
        match merged[recent..].iter_mut().rev().find(|m| same(m)) {
            Some(m) => {
                m.call_oi += call_oi;
                m.put_oi += put_oi;
            }
            None => merged.push(Merged {
                row,
                series: si,
                iv: c.iv,
                call_oi,
                put_oi,
            }),
        }
    }

    // One term (and one exponential) per merged entry.
    let mut terms = Vec::with_capacity(merged.len());
    for m in &merged {
        let s = &series[m.series as usize];
        let row = &mut rows[m.row as usize];
        let Some(term) = CurveTerm::from_parts(
            row.ln_strike,
            s.years,
            s.sqrt_years,
            m.iv,
            rate,
            q,
            s.discount,
        ) else {
            continue;
        };
        let per_contract = term.gex_at(spot, ln_spot, 1.0);
        row.call_gex += per_contract * m.call_oi;
        row.put_gex -= per_contract * m.put_oi;
        terms.push((term, m.call_oi - m.put_oi));
    }
    rows.sort_unstable_by_key(|r| r.key);
    let strikes = rows
        .iter()
        .map(|r| StrikeGex {
            strike: r.key as f64 / 1000.0,
            call_gex: r.call_gex,
            put_gex: r.put_gex,
            net_gex: r.call_gex + r.put_gex,
        })
        .collect();
    let mut expirations_used: Vec<NaiveDate> =
        series.iter().filter(|s| s.used).map(|s| s.date).collect();
    expirations_used.sort_unstable();
    expirations_used.dedup();
    Aggregate {
        strikes,
        terms,
        contracts_used,
        expirations_used,
        live,
    }
}
