//! From a chain to what the profile is made of: per-strike call/put GEX at spot and the
//! merged terms of the curve G(x) (SPEC 7), in one pass over the contracts.
//!
//! Contracts are grouped without sorting: a series table (settlement style and expiry date
//! share T, so chrono-tz runs once per series), a strike table (one ln K per strike; the
//! next row is tried before the hash, since every series lists its strikes in the same
//! order), and neighbouring contracts of the same strike, series and IV (a call and its put,
//! as chains list them) merged into one curve term. The terms and their GEX at spot are
//! then computed column by column in vectorised loops ([`TermColumns`]).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use chrono::NaiveDate;

use super::chain::{Chain, Right, Root};
use super::curve::{GexCurve, TermColumns, TermInputs};
use super::expiry::{self, Settlement};
use super::filter::ExpiryFilter;
use super::profile::{GexParams, StrikeGex};

/// What [`aggregate`] found.
#[derive(Clone, Debug, Default)]
pub(crate) struct Aggregate {
    /// Per-strike GEX at spot, ascending by strike.
    pub strikes: Vec<StrikeGex>,
    /// The curve G(x) of the selected contracts.
    pub curve: GexCurve,
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
    /// Contracts of this series that carry gamma (live or not, before the filter).
    carrying: usize,
    selected: bool,
}

/// A strike row under construction.
#[derive(Clone, Copy, Debug)]
struct StrikeRow {
    key: i64,
    ln_strike: f64,
    call_gex: f64,
    put_gex: f64,
    /// A contract of a selected series contributed (rows of filtered-out series are dropped).
    used: bool,
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
    let Grouped {
        mut series,
        mut rows,
        merged,
    } = group(chain, q);

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
    let contracts_used = series
        .iter()
        .filter(|s| s.selected)
        .map(|s| s.carrying)
        .sum();
    let mut expirations_used: Vec<NaiveDate> = series
        .iter()
        .filter(|s| s.selected && s.carrying > 0)
        .map(|s| s.date)
        .collect();
    expirations_used.sort_unstable();
    expirations_used.dedup();

    let curve = curve_terms(chain.spot, &merged, &series, &mut rows, rate, q);
    rows.retain(|r| r.used);
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
    Aggregate {
        strikes,
        curve,
        contracts_used,
        expirations_used,
        live,
    }
}

/// The chain grouped into series, strike rows and merged open interest.
struct Grouped {
    series: Vec<Series>,
    rows: Vec<StrikeRow>,
    merged: Vec<Merged>,
}

/// One pass over the contracts: each one that carries gamma (OI, IV and strike positive
/// and finite) is counted in its series, given its strike row, and merged into a
/// neighbouring identical (strike, series, IV) entry or appended. The expiry filter is
/// applied afterwards, per series, since it needs every live date first.
fn group(chain: &Chain, q: f64) -> Grouped {
    let mut series: Vec<Series> = Vec::new();
    let mut rows: Vec<StrikeRow> = Vec::new();
    let mut row_of: FastMap<i64, u32> =
        FastMap::with_capacity_and_hasher(chain.contracts.len() / 4, Default::default());
    let mut merged: Vec<Merged> = Vec::with_capacity(chain.contracts.len());
    // The last two (root, date) seen and their series: SPX and SPXW monthlies often
    // alternate row by row.
    let mut recent: [Option<(Root, NaiveDate, u32)>; 2] = [None, None];
    let mut last_row: Option<(i64, u32)> = None;
    for c in &chain.contracts {
        let si = match recent {
            [Some((root, date, i)), _] if date == c.expiry && root == c.root => i,
            [_, Some((root, date, i))] if date == c.expiry && root == c.root => i,
            _ => {
                let i = series_index(&mut series, chain, c.root, c.expiry, q);
                recent = [Some((c.root, c.expiry, i)), recent[0]];
                i
            }
        };
        // Positive (NaN fails every comparison) and finite (a sum of positives is finite only
        // if each is); `&` keeps it one branch.
        let carries_gamma = (c.open_interest > 0.0)
            & (c.iv > 0.0)
            & (c.strike > 0.0)
            & (c.open_interest + c.iv + c.strike < f64::INFINITY);
        if !carries_gamma {
            continue;
        }
        series[si as usize].carrying += 1;
        let key = strike_key(c.strike);
        // A strike's call and put come together, and a series lists its strikes in the
        // order an earlier series did: try the last row and the row after it before the table.
        let next = last_row.map_or(0, |(_, r)| r as usize + 1);
        let row = match last_row {
            Some((k, r)) if k == key => r,
            _ if rows.get(next).is_some_and(|r| r.key == key) => next as u32,
            _ => *row_of.entry(key).or_insert_with(|| {
                rows.push(StrikeRow {
                    key,
                    ln_strike: (key as f64 / 1000.0).ln(),
                    call_gex: 0.0,
                    put_gex: 0.0,
                    used: false,
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
        let window = merged.len().saturating_sub(MERGE_WINDOW);
        let same =
            |m: &&mut Merged| m.row == row && m.series == si && m.iv.to_bits() == c.iv.to_bits();
        match merged[window..].iter_mut().rev().find(same) {
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
    Grouped {
        series,
        rows,
        merged,
    }
}

/// The index of the (settlement, date) series of `root` expiring `date`, added (T from
/// the chain's snapshot, chrono-tz once) when new.
fn series_index(
    series: &mut Vec<Series>,
    chain: &Chain,
    root: Root,
    date: NaiveDate,
    q: f64,
) -> u32 {
    let settlement = expiry::settlement(root.as_str());
    if let Some(i) = series
        .iter()
        .position(|s| s.date == date && s.settlement == settlement)
    {
        return i as u32;
    }
    let years = expiry::years_between(chain.as_of, expiry::expiry_instant(root.as_str(), date));
    series.push(Series {
        settlement,
        date,
        years,
        sqrt_years: years.max(0.0).sqrt(),
        discount: (-q * years).exp(),
        carrying: 0,
        selected: false,
    });
    (series.len() - 1) as u32
}

/// Turns the merged entries of selected series into curve terms, adding each one's GEX at
/// spot to its strike row: gather the inputs column by column, compute every term in
/// vectorised loops, then scatter.
fn curve_terms(
    spot: f64,
    merged: &[Merged],
    series: &[Series],
    rows: &mut [StrikeRow],
    rate: f64,
    q: f64,
) -> GexCurve {
    let live: Vec<Merged> = merged
        .iter()
        .filter(|m| series[m.series as usize].selected)
        .copied()
        .collect();
    let n = live.len();
    let mut inputs = TermInputs::zeroed(n);
    for (i, m) in live.iter().enumerate() {
        let s = &series[m.series as usize];
        inputs.ln_strikes[i] = rows[m.row as usize].ln_strike;
        inputs.years[i] = s.years;
        inputs.sqrt_years[i] = s.sqrt_years;
        inputs.vols[i] = m.iv;
        inputs.discounts[i] = s.discount;
    }
    let columns = TermColumns::compute(&inputs, rate, q, spot);
    let mut curve = GexCurve::with_capacity(n);
    for (i, m) in live.iter().enumerate() {
        let row = &mut rows[m.row as usize];
        row.used = true;
        let Some((term, per_contract)) = columns.term(i, &inputs) else {
            continue;
        };
        row.call_gex += per_contract * m.call_oi;
        row.put_gex -= per_contract * m.put_oi;
        curve.push(
            term.center,
            term.inv_width,
            term.scale * (m.call_oi - m.put_oi),
        );
    }
    curve
}
