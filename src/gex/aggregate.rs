//! From a chain to what the profile is made of: per-strike call/put GEX at spot and the
//! merged terms of the curve G(x) (SPEC 7), in one pass over the contracts.
//!
//! Contracts are grouped without sorting: a series table (settlement style and expiry date
//! share T, so chrono-tz runs once per series), a strike table (one ln K per strike; the
//! next row is tried before the hash, since every series lists its strikes in the same
//! order), and a contract merged into its series' latest entry when strike and IV are the
//! same (a call and its put, as chains list them). Entries are written straight into the
//! input columns of a [`TermBatch`] and become curve terms a batch at a time (computed in
//! vectorised loops, their GEX at spot scattered to their strike rows), so nothing the size
//! of the chain is built besides the curve itself: with whole-chain columns the pass spent
//! most of its time waiting on memory.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use chrono::{DateTime, NaiveDate, Utc};

use super::chain::{Chain, Contract, Right, Root};
use super::curve::GexCurve;
use super::curve::term_batch::{BATCH, TermBatch};
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
    /// Still trading at the snapshot and kept by the expiry filter.
    selected: bool,
    /// The number of this series' latest merged entry ([`Pending`] counts them all), the one
    /// its next contract may merge into; `u32::MAX` while no contract of it carries gamma.
    latest: u32,
}

/// A strike with a contributing contract, and its GEX at spot.
#[derive(Clone, Copy, Debug)]
struct StrikeRow {
    key: i64,
    ln_strike: f64,
    call_gex: f64,
    put_gex: f64,
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

/// Entries kept open when a full batch becomes terms, so that a contract just after the
/// batch boundary can still merge into its series' latest entry.
const KEPT_OPEN: usize = 4;

/// Strikes are grouped on exact thousandths (OCC precision). `strike` > 0; rounds half up
/// without a libm call.
pub(crate) fn strike_key(strike: f64) -> i64 {
    (strike * 1000.0 + 0.5) as i64
}

/// Aggregates `chain` at its spot and snapshot time. Contracts at or past expiry, outside
/// the filter, or without OI, IV or a valid strike are skipped.
pub(crate) fn aggregate(chain: &Chain, params: &GexParams, filter: ExpiryFilter) -> Aggregate {
    let mut series = SeriesTable::new(chain, params.dividend_yield, filter);
    let mut rows = StrikeRows::new(chain.contracts.len());
    let mut terms = Terms::new(chain, params);
    let mut pending = Pending::new();
    let mut contracts_used = 0;
    for c in &chain.contracts {
        let si = series.index_of(c.root, c.expiry);
        let s = &mut series.series[si as usize];
        if !(s.selected && carries_gamma(c)) {
            continue;
        }
        contracts_used += 1;
        let row = rows.index_of(c.strike);
        if pending.merge(row, s, &rows.rows, c) {
            let settled = pending.settled();
            terms.add(&mut pending, settled, &mut rows.rows);
            pending.keep_open();
        }
    }
    let all = pending.len;
    terms.add(&mut pending, all, &mut rows.rows);

    let series = series.series;
    let live = live_dates(&series);
    let mut expirations_used: Vec<NaiveDate> = series
        .iter()
        .filter(|s| s.latest != u32::MAX)
        .map(|s| s.date)
        .collect();
    expirations_used.sort_unstable();
    expirations_used.dedup();
    let mut rows = rows.rows;
    // Rows come in order of first appearance: one ascending run per series that lists new
    // strikes, which the stable sort merges instead of sorting from scratch.
    rows.sort_by_key(|r| r.key);
    let strikes = rows
        .iter()
        .map(|r| StrikeGex {
            strike: r.key as f64 / 1000.0,
            call_gex: r.call_gex,
            put_gex: r.put_gex,
            net_gex: r.call_gex + r.put_gex,
            vanna: 0.0,
            charm: 0.0,
        })
        .collect();
    Aggregate {
        strikes,
        curve: terms.curve,
        contracts_used,
        expirations_used,
        live,
    }
}

/// OI and IV positive and finite (NaN fails every comparison; a sum of positives is finite
/// only if each is), strike in (0, [`MAX_STRIKE`]); `&` keeps it one branch.
pub(crate) fn carries_gamma(c: &Contract) -> bool {
    (c.open_interest > 0.0)
        & (c.iv > 0.0)
        & (c.strike > 0.0)
        & (c.strike < MAX_STRIKE)
        & (c.open_interest + c.iv < f64::INFINITY)
}

/// Strikes at or above this (no listed option comes near) carry no gamma, so that every
/// strike key the aggregate computes fits an i64 without a saturating conversion.
const MAX_STRIKE: f64 = 1e15;

/// [`strike_key`] of a strike in (0, [`MAX_STRIKE`]) (checked by [`carries_gamma`]).
#[inline(always)]
fn valid_strike_key(strike: f64) -> i64 {
    debug_assert!(strike > 0.0 && strike < MAX_STRIKE);
    // SAFETY: strike·1000 + 0.5 is finite and within (0, 1e18], inside i64's range.
    unsafe { (strike * 1000.0 + 0.5).to_int_unchecked::<i64>() }
}

/// The chain's series, each decided by the expiry filter when first seen (`next:N`, which
/// ranks every live date, has them all found first).
struct SeriesTable {
    /// The snapshot instant T is measured from.
    as_of: DateTime<Utc>,
    q: f64,
    filter: ExpiryFilter,
    today: NaiveDate,
    /// The dates `next:N` keeps, once every series is known.
    ranked: Option<Vec<NaiveDate>>,
    series: Vec<Series>,
    /// The last two (root, date) seen and their series: SPX and SPXW monthlies often
    /// alternate row by row.
    recent: [Option<(Root, NaiveDate, u32)>; 2],
}

impl SeriesTable {
    fn new(chain: &Chain, q: f64, filter: ExpiryFilter) -> Self {
        let today = expiry::new_york_date(chain.as_of);
        let mut table = SeriesTable {
            as_of: chain.as_of,
            q,
            filter,
            today,
            ranked: None,
            series: Vec::new(),
            recent: [None, None],
        };
        if filter.keeps(today, today).is_none() {
            for c in &chain.contracts {
                table.index_of(c.root, c.expiry);
            }
            let ranked = filter.select(&live_dates(&table.series), today);
            for s in &mut table.series {
                s.selected = s.years > 0.0 && ranked.binary_search(&s.date).is_ok();
            }
            table.ranked = Some(ranked);
        }
        table
    }

    /// The index of the series of `root` expiring `date`.
    #[inline(always)]
    fn index_of(&mut self, root: Root, date: NaiveDate) -> u32 {
        match self.recent {
            [Some((r, d, i)), _] if d == date && r == root => i,
            [_, Some((r, d, i))] if d == date && r == root => i,
            _ => {
                let i = self.find_or_add(root, date);
                self.recent = [Some((root, date, i)), self.recent[0]];
                i
            }
        }
    }

    /// The (settlement, date) series of `root` expiring `date`, added when new (T from the
    /// chain's snapshot, chrono-tz once; selected by the filter).
    fn find_or_add(&mut self, root: Root, date: NaiveDate) -> u32 {
        let settlement = expiry::settlement(root.as_str());
        if let Some(i) = self
            .series
            .iter()
            .position(|s| s.date == date && s.settlement == settlement)
        {
            return i as u32;
        }
        let years = expiry::years_between(self.as_of, expiry::expiry_instant(root.as_str(), date));
        let kept = match &self.ranked {
            Some(ranked) => ranked.binary_search(&date).is_ok(),
            None => self.filter.keeps(date, self.today).unwrap_or(false),
        };
        self.series.push(Series {
            settlement,
            date,
            years,
            sqrt_years: years.max(0.0).sqrt(),
            discount: (-self.q * years).exp(),
            selected: years > 0.0 && kept,
            latest: u32::MAX,
        });
        (self.series.len() - 1) as u32
    }
}

/// The expiration dates of `series` still trading at the snapshot, ascending, once each.
fn live_dates(series: &[Series]) -> Vec<NaiveDate> {
    let mut live: Vec<NaiveDate> = series
        .iter()
        .filter(|s| s.years > 0.0)
        .map(|s| s.date)
        .collect();
    live.sort_unstable();
    live.dedup();
    live
}

/// The strikes seen so far, one row each, in order of first appearance.
struct StrikeRows {
    rows: Vec<StrikeRow>,
    row_of: FastMap<i64, u32>,
    /// The last (key, row) looked up; key [`NO_KEY`] and row `u32::MAX` before the first.
    last: (i64, u32),
}

/// A key no strike has (keys are positive).
const NO_KEY: i64 = i64::MIN;

impl StrikeRows {
    fn new(contracts: usize) -> Self {
        StrikeRows {
            rows: Vec::new(),
            row_of: FastMap::with_capacity_and_hasher(contracts / 4, Default::default()),
            last: (NO_KEY, u32::MAX),
        }
    }

    /// The row of `strike` (as [`carries_gamma`] requires), added when new.
    #[inline(always)]
    fn index_of(&mut self, strike: f64) -> u32 {
        let key = valid_strike_key(strike);
        // A strike's call and put come together, and a series lists its strikes in the
        // order an earlier series did: try the last row and the row after it before the table.
        let (last_key, last_row) = self.last;
        let next = last_row.wrapping_add(1) as usize;
        let row = if key == last_key {
            last_row
        } else if self.rows.get(next).is_some_and(|r| r.key == key) {
            next as u32
        } else {
            *self.row_of.entry(key).or_insert_with(|| {
                self.rows.push(StrikeRow {
                    key,
                    ln_strike: (key as f64 / 1000.0).ln(),
                    call_gex: 0.0,
                    put_gex: 0.0,
                });
                (self.rows.len() - 1) as u32
            })
        };
        self.last = (key, row);
        row
    }
}

/// Merged entries not yet turned into terms: up to a batch, written straight into the
/// input columns of the batch that computes them (entry number `flushed + i` is column
/// position i), with the strike row of each.
struct Pending {
    batch: TermBatch,
    rows: [u32; BATCH],
    len: usize,
    /// Entries already turned into terms.
    flushed: u32,
}

impl Pending {
    fn new() -> Self {
        Pending {
            batch: TermBatch::new(),
            rows: [0; BATCH],
            len: 0,
            flushed: 0,
        }
    }

    /// Adds contract `c` (carrying gamma) of strike row `row` and series `s`, merged into
    /// the series' latest entry (updated here) when it is still open and has the same
    /// strike and IV; true when the batch is full.
    ///
    /// Merging is an optimisation (identical terms add linearly), so only that one entry is
    /// tried: chains list a strike's call and put together (an index's AM and PM roots may
    /// interleave, each series keeps its own latest), and a hash table per contract costs
    /// more than the duplicate terms it would save.
    #[inline(always)]
    fn merge(&mut self, row: u32, s: &mut Series, rows: &[StrikeRow], c: &Contract) -> bool {
        let batch = &mut self.batch;
        // Before the batch (or none): wraps to a position past its end.
        let open = s.latest.wrapping_sub(self.flushed) as usize;
        if open < self.len && self.rows[open] == row && batch.vols[open].to_bits() == c.iv.to_bits()
        {
            match c.right {
                Right::Call => batch.call_ois[open] += c.open_interest,
                Right::Put => batch.put_ois[open] += c.open_interest,
            }
            return false;
        }
        // `len` < BATCH (a full batch is flushed first); `% BATCH` shows the compiler so.
        let i = self.len % BATCH;
        let (call_oi, put_oi) = match c.right {
            Right::Call => (c.open_interest, 0.0),
            Right::Put => (0.0, c.open_interest),
        };
        batch.ln_strikes[i] = rows[row as usize].ln_strike;
        batch.years[i] = s.years;
        batch.sqrt_years[i] = s.sqrt_years;
        batch.vols[i] = c.iv;
        batch.discounts[i] = s.discount;
        batch.call_ois[i] = call_oi;
        batch.put_ois[i] = put_oi;
        self.rows[i] = row;
        s.latest = self.flushed + i as u32;
        self.len = i + 1;
        self.len == BATCH
    }

    /// The number of entries no later contract will merge into: all but the latest
    /// [`KEPT_OPEN`].
    fn settled(&self) -> usize {
        self.len - KEPT_OPEN.min(self.len)
    }

    /// Drops the settled entries (turned into terms), keeping the latest open.
    fn keep_open(&mut self) {
        let (start, end) = (self.settled(), self.len);
        let b = &mut self.batch;
        for column in [
            &mut b.ln_strikes,
            &mut b.years,
            &mut b.sqrt_years,
            &mut b.vols,
            &mut b.discounts,
            &mut b.call_ois,
            &mut b.put_ois,
        ] {
            column.copy_within(start..end, 0);
        }
        self.rows.copy_within(start..end, 0);
        self.len -= start;
        self.flushed += start as u32;
    }
}

/// The curve under construction.
struct Terms {
    curve: GexCurve,
    /// r − q.
    drift: f64,
    spot: f64,
}

impl Terms {
    fn new(chain: &Chain, params: &GexParams) -> Self {
        Terms {
            curve: GexCurve::with_capacity(chain.contracts.len()),
            drift: params.rate - params.dividend_yield,
            spot: chain.spot,
        }
    }

    /// Turns the first `n` pending entries into curve terms, adding each one's GEX at spot
    /// to its strike row.
    fn add(&mut self, pending: &mut Pending, n: usize, rows: &mut [StrikeRow]) {
        let batch = &mut pending.batch;
        batch.compute(n, self.drift, self.spot);
        for (i, &r) in pending.rows[..n].iter().enumerate() {
            let row = &mut rows[r as usize];
            row.call_gex += batch.call_gex[i];
            row.put_gex += batch.put_gex[i];
        }
        let (centers, inv_widths, weights) = batch.curve_columns(n);
        self.curve.extend(centers, inv_widths, weights);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Symbol;
    use crate::gex::curve::{CurveTerm, GexCurveBuilder};
    use crate::gex::profile::tests::contract;

    /// An SPX-like chain of several batches: a monthly listed under both SPX (AM) and SPXW
    /// (PM) with their rows interleaved, two weeklies, calls and puts together, most puts
    /// sharing their call's IV and some not, and a few contracts without OI or IV.
    fn interleaved_chain() -> Chain {
        let as_of: DateTime<Utc> = "2025-09-23T14:00:00Z".parse().unwrap();
        let day = |d: u32| NaiveDate::from_ymd_opt(2025, 9, d).unwrap();
        let mut contracts = Vec::new();
        let mut push = |root, expiry, right, strike, oi, iv| {
            contracts.push(contract(root, expiry, right, strike, oi, iv))
        };
        let (monthly, weeklies) = (day(26), [day(24), day(25)]);
        for i in 0..300u32 {
            let (strike, k) = (6000.0 + 5.0 * f64::from(i), f64::from(i));
            let iv = 0.12 + 0.0004 * k;
            let put_iv = if i % 5 == 0 { iv + 0.01 } else { iv };
            for r in ["SPX", "SPXW"] {
                push(r, monthly, Right::Call, strike, 10.0 + k % 7.0, iv);
            }
            for r in ["SPX", "SPXW"] {
                push(r, monthly, Right::Put, strike, 30.0 - k % 11.0, put_iv);
            }
            for expiry in weeklies {
                push("SPXW", expiry, Right::Call, strike, k % 4.0, iv);
                push("SPXW", expiry, Right::Put, strike, 5.0, iv * 1.1);
            }
        }
        Chain {
            symbol: Symbol::parse("SPX").unwrap(),
            spot: 6612.4,
            as_of,
            contracts,
        }
    }

    #[test]
    fn batched_terms_and_strike_sums_equal_the_contract_by_contract_arithmetic() {
        let chain = interleaved_chain();
        let params = GexParams::default();
        let agg = aggregate(&chain, &params, ExpiryFilter::All);
        let (mut builder, mut used) = (GexCurveBuilder::default(), 0);
        let mut by_strike: HashMap<i64, (f64, f64)> = HashMap::new();
        for c in chain.contracts.iter().filter(|c| carries_gamma(c)) {
            let years = expiry::years_between(
                chain.as_of,
                expiry::expiry_instant(c.root.as_str(), c.expiry),
            );
            let signed = c.right.dealer_sign() * c.open_interest;
            builder.add(c.strike, years, c.iv, signed, 0.0, 0.0);
            let term = CurveTerm::new(c.strike, years, c.iv, 0.0, 0.0).unwrap();
            let gex = term.gex_at(chain.spot, chain.spot.ln(), signed);
            let sums = by_strike.entry(strike_key(c.strike)).or_default();
            match c.right {
                Right::Call => sums.0 += gex,
                Right::Put => sums.1 += gex,
            }
            used += 1;
        }
        assert!(agg.curve.len() > 4 * BATCH, "{} terms", agg.curve.len());
        assert_eq!(agg.contracts_used, used);
        assert_eq!(agg.strikes.len(), 300);
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-11 * b.abs().max(1.0);
        for s in &agg.strikes {
            let (call, put) = by_strike[&strike_key(s.strike)];
            assert!(close(s.call_gex, call) && close(s.put_gex, put), "{s:?}");
        }
        let reference = builder.build();
        assert_eq!(
            agg.curve.len(),
            reference.len(),
            "each call merged with its put, AM and PM roots interleaved, across batch boundaries"
        );
        for x in [5800.0, 6300.0, 6612.4, 7100.0, 7500.0] {
            let (ours, theirs) = (agg.curve.value(x), reference.value(x));
            assert!(close(ours, theirs), "{x}: {ours} vs {theirs}");
        }
    }

    #[test]
    fn a_contract_with_an_absurd_or_broken_strike_carries_no_gamma() {
        let mut chain = interleaved_chain();
        let expiry = chain.contracts[0].expiry;
        let good = aggregate(&chain, &GexParams::default(), ExpiryFilter::All);
        for strike in [1e15, 1e300, f64::INFINITY, f64::NAN, -5.0, 0.0] {
            chain
                .contracts
                .push(contract("SPXW", expiry, Right::Call, strike, 10.0, 0.2));
        }
        let agg = aggregate(&chain, &GexParams::default(), ExpiryFilter::All);
        assert_eq!(agg.contracts_used, good.contracts_used);
        assert_eq!(agg.strikes.len(), good.strikes.len());
        assert_eq!(agg.curve.len(), good.curve.len());
    }

    #[test]
    fn next_n_ranks_every_live_date_before_keeping_any() {
        let chain = interleaved_chain();
        let params = GexParams::default();
        let next = aggregate(&chain, &params, ExpiryFilter::Next(1));
        let all = aggregate(&chain, &params, ExpiryFilter::All);
        let day = |d: u32| NaiveDate::from_ymd_opt(2025, 9, d).unwrap();
        assert_eq!(all.live, vec![day(24), day(25), day(26)]);
        assert_eq!(next.live, all.live);
        assert_eq!(next.expirations_used, vec![day(24)]);
        assert_eq!(next.contracts_used, 300 + 225);
    }
}
