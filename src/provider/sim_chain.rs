//! A synthetic options chain for the demo (SPEC 10.1): deterministic from a seed, with a
//! volatility smile (higher IV for lower strikes), daily/weekly/monthly/quarterly
//! expirations, and open interest concentrated at round strikes so the GEX profile has
//! walls on round numbers and a zero-gamma flip near spot.
//!
//! Pure: no clock, no I/O. The open-interest layout is anchored to the `spot` passed in,
//! so generate the chain once per session (e.g. from the prior close) and move
//! [`Chain::spot`]/[`Chain::as_of`] as the simulated market moves; regenerating it on every
//! tick would drag the walls along with price.
//!
//! Conventions: index roots follow the listed products (`SPXW` daily/weekly PM-settled,
//! `SPX` the AM-settled third-Friday monthly, likewise `NDXP`/`NDX`, `RUTW`/`RUT`); other
//! symbols use their own root. Exchange holidays are ignored (a demo may list an expiry on
//! one); weekends never carry one.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};

use crate::domain::Symbol;
use crate::gex::chain::{Chain, Contract, Right, Root};
use crate::gex::expiry::{self, expiry_instant};

/// The shape of one underlying's listed options.
#[derive(Clone, Debug, PartialEq)]
struct Listing {
    /// Root of the PM-settled dailies and weeklies.
    weekly_root: Root,
    /// Root of the AM-settled third-Friday monthly, when the product has one.
    am_monthly_root: Option<Root>,
    /// Whether options expire every weekday (indices and the index ETFs) or only Fridays.
    dailies: bool,
    /// Strike spacing near the money, price units.
    spacing: f64,
    /// At-the-money IV of a 30-day option.
    atm_vol: f64,
    /// Open interest of a typical (not round) near-the-money strike of a Friday weekly,
    /// contracts.
    base_oi: f64,
    /// Round-number strikes, each tier stacking more open interest (SPX: 25, 50, 100).
    round_tiers: [f64; 3],
}

fn listing(symbol: &Symbol, spot: f64) -> Listing {
    let s = symbol.as_str();
    let (weekly_root, am_monthly_root) = match s {
        "SPX" => ("SPXW", Some("SPX")),
        "NDX" => ("NDXP", Some("NDX")),
        "RUT" => ("RUTW", Some("RUT")),
        other => (other, None),
    };
    let index_like = matches!(
        s,
        "SPX" | "NDX" | "RUT" | "XSP" | "SPY" | "QQQ" | "IWM" | "DIA"
    );
    let spacing = if spot >= 10_000.0 {
        10.0
    } else if spot >= 1_000.0 {
        5.0
    } else if spot >= 25.0 {
        1.0
    } else {
        0.5
    };
    let atm_vol = match s {
        "SPX" | "SPY" | "XSP" | "DIA" => 0.15,
        "NDX" | "QQQ" => 0.19,
        "RUT" | "IWM" => 0.22,
        _ => 0.30,
    };
    // Calibrated on the shared SPY chain (a few thousand contracts per near-the-money strike
    // of a Friday, tens of thousands at the round ones); an index contract is ~10× an ETF's
    // notional, so SPX strikes hold fewer.
    let base_oi = match s {
        "SPY" => 2_500.0,
        "QQQ" | "IWM" => 1_500.0,
        _ if spot >= 1_000.0 => 600.0,
        _ if index_like => 1_200.0,
        _ => 700.0,
    };
    let round_tiers = if spacing >= 10.0 {
        [50.0, 100.0, 500.0]
    } else if spacing >= 5.0 {
        [25.0, 50.0, 100.0]
    } else if spacing >= 1.0 {
        [5.0, 10.0, 50.0]
    } else {
        [2.5, 5.0, 10.0]
    };
    Listing {
        weekly_root: Root::for_underlying(weekly_root),
        am_monthly_root: am_monthly_root.map(Root::for_underlying),
        dailies: index_like,
        spacing,
        atm_vol,
        base_oi,
        round_tiers,
    }
}

/// SplitMix64: a tiny, well-mixed deterministic generator (no crate needed for a demo).
struct SplitMix(u64);

impl SplitMix {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
}

/// The third Friday of a month.
fn third_friday(year: i32, month: u32) -> Option<NaiveDate> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    let offset =
        (Weekday::Fri.num_days_from_monday() + 7 - first.weekday().num_days_from_monday()) % 7;
    first.checked_add_signed(Duration::days(i64::from(offset) + 14))
}

fn add_months(year: i32, month: u32, n: u32) -> (i32, u32) {
    let m0 = month - 1 + n;
    (year + (m0 / 12) as i32, m0 % 12 + 1)
}

fn is_weekday(d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// One listed series: (root, expiry date, is the AM monthly).
type Series = (Root, NaiveDate);

fn series(listing: &Listing, as_of: DateTime<Utc>) -> Vec<Series> {
    let today = expiry::new_york_date(as_of);
    let live = |root: &Root, d: NaiveDate| expiry_instant(root.as_str(), d) > as_of;
    let mut dates: Vec<NaiveDate> = Vec::new();
    // Dailies: the next five weekdays (today's 0DTE while it is still trading).
    if listing.dailies {
        let mut d = today;
        while dates.len() < 5 {
            if is_weekday(d) && live(&listing.weekly_root, d) {
                dates.push(d);
            }
            d += Duration::days(1);
        }
    }
    // Weeklies: the next five Fridays.
    let mut d = today;
    let mut fridays = 0;
    while fridays < 5 {
        if d.weekday() == Weekday::Fri && live(&listing.weekly_root, d) {
            dates.push(d);
            fridays += 1;
        }
        d += Duration::days(1);
    }
    // Monthlies: the next three third Fridays; quarterlies: the next two March/June/
    // September/December third Fridays beyond them.
    let mut monthlies = Vec::new();
    let mut quarterlies = Vec::new();
    for n in 0..15 {
        let (y, m) = add_months(today.year(), today.month(), n);
        let Some(f) = third_friday(y, m) else {
            continue;
        };
        if !live(&listing.weekly_root, f) {
            continue;
        }
        if monthlies.len() < 3 {
            monthlies.push(f);
        } else if m % 3 == 0 && quarterlies.len() < 2 {
            quarterlies.push(f);
        }
    }
    dates.extend(&monthlies);
    dates.extend(&quarterlies);
    dates.sort_unstable();
    dates.dedup();
    let mut out: Vec<Series> = dates.iter().map(|&d| (listing.weekly_root, d)).collect();
    if let Some(am) = &listing.am_monthly_root {
        for &f in monthlies.iter().chain(&quarterlies) {
            if live(am, f) {
                out.push((*am, f));
            }
        }
    }
    out
}

/// How much open interest a strike attracts for being round: ×2.5, ×1.8 and ×1.6 for each
/// tier it is a multiple of (SPX 25/50/100, a $500 ETF 5/10/50), so a 100 holds ~7×.
fn roundness(strike: f64, tiers: &[f64; 3]) -> f64 {
    let multiple = |m: f64| ((strike / m).round() * m - strike).abs() < 1e-9;
    tiers
        .iter()
        .zip([2.5, 1.8, 1.6])
        .filter(|(m, _)| multiple(**m))
        .map(|(_, w)| w)
        .product()
}

/// A synthetic chain for `symbol` around `spot` at `as_of`, the same for the same seed.
pub fn synthetic_chain(symbol: &Symbol, spot: f64, as_of: DateTime<Utc>, seed: u64) -> Chain {
    let spot = if spot.is_finite() && spot > 0.0 {
        spot
    } else {
        100.0
    };
    let listing = listing(symbol, spot);
    let mut rng =
        SplitMix(seed ^ 0x005E_ED0F_C0AC_u64.wrapping_mul(symbol.as_str().len() as u64 + 1));
    for b in symbol.as_str().bytes() {
        rng.0 = rng.0.rotate_left(5) ^ u64::from(b);
    }
    // Session-level personality: how put-heavy positioning is (sets the regime and where
    // the flip sits) and where the crowds sit.
    let put_heaviness = rng.range(0.85, 1.2);
    let call_centre = 1.0 + rng.range(0.005, 0.02);
    let put_centre = 1.0 - rng.range(0.01, 0.03);

    let mut contracts = Vec::new();
    for (root, date) in series(&listing, as_of) {
        let years = expiry::years_between(as_of, expiry_instant(root.as_str(), date))
            .max(1.0 / (365.0 * 24.0));
        let sqrt_t = years.sqrt();
        let is_monthly = third_friday(date.year(), date.month()) == Some(date);
        let is_quarterly = is_monthly && date.month() % 3 == 0 && years > 0.1;
        // Term structure: short-dated slightly richer, a dash of noise per expiry.
        let atm = listing.atm_vol * (1.0 + 0.15 * (-years * 40.0).exp()) * rng.range(0.95, 1.05);
        // Strike range: ±5σ of the move, at least ±4 % and at most ±35 %.
        let half_width = (5.0 * atm * sqrt_t).clamp(0.04, 0.35);
        let (lo, hi) = (spot * (1.0 - half_width), spot * (1.0 + half_width));
        let spacing = listing.spacing;
        let first = (lo / spacing).ceil() as i64;
        let last = (hi / spacing).floor() as i64;
        // Open interest builds with time listed: dailies thin, Fridays more, monthlies and
        // quarterlies fat (the AM-settled index monthlies fattest).
        let expiry_weight = if is_quarterly {
            2.5
        } else if is_monthly {
            2.0
        } else if date.weekday() == Weekday::Fri {
            1.0
        } else {
            0.3
        };
        let am_weight = if Some(&root) == listing.am_monthly_root.as_ref() {
            1.5
        } else {
            1.0
        };
        let size = listing.base_oi * expiry_weight * am_weight;
        // Crowds spread with the expected move.
        let spread = spot * (atm * sqrt_t).clamp(0.008, 0.03) * 1.3;
        for step in first..=last {
            let strike = step as f64 * spacing;
            let z = (strike / spot).ln() / (atm * sqrt_t);
            let z = z.clamp(-4.0, 4.0);
            // The smile: skew (lower strikes richer) plus a little curvature.
            let iv = (atm * (1.0 - 0.09 * z + 0.012 * z * z)).max(0.04);
            let round = roundness(strike, &listing.round_tiers);
            // Calls crowd above spot, puts below, with one common width so the profile has
            // one clean flip between them; noise and round strikes make the local structure.
            let call_mass = (-((strike - spot * call_centre) / spread).powi(2) / 2.0).exp();
            let put_mass = (-((strike - spot * put_centre) / spread).powi(2) / 2.0).exp();
            for (right, mass) in [
                (Right::Call, call_mass),
                (Right::Put, put_mass * put_heaviness),
            ] {
                let noise = rng.range(0.75, 1.25);
                let tail = 0.03 * (-(z * z) / 18.0).exp();
                let oi = (size * (mass + tail) * round * noise).round();
                contracts.push(Contract {
                    root,
                    expiry: date,
                    right,
                    strike,
                    open_interest: oi.max(0.0),
                    iv,
                    gamma: None,
                });
            }
        }
    }
    Chain {
        symbol: symbol.clone(),
        spot,
        as_of,
        contracts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gex::{ExpiryFilter, GexParams, compute_profile};

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn sym(s: &str) -> Symbol {
        Symbol::parse(s).unwrap()
    }

    /// Tuesday 2025-09-23, 10:00 New York.
    const MORNING: &str = "2025-09-23T14:00:00Z";

    #[test]
    fn the_same_seed_gives_the_same_chain_and_another_seed_another() {
        let a = synthetic_chain(&sym("SPX"), 6600.0, utc(MORNING), 7);
        let b = synthetic_chain(&sym("SPX"), 6600.0, utc(MORNING), 7);
        let c = synthetic_chain(&sym("SPX"), 6600.0, utc(MORNING), 8);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn spx_lists_a_0dte_spxw_weeklies_and_an_am_settled_monthly_on_five_point_strikes() {
        let chain = synthetic_chain(&sym("SPX"), 6600.0, utc(MORNING), 1);
        let today = NaiveDate::from_ymd_opt(2025, 9, 23).unwrap();
        assert!(
            chain
                .contracts
                .iter()
                .any(|c| c.root == "SPXW" && c.expiry == today),
            "0DTE"
        );
        let monthly = NaiveDate::from_ymd_opt(2025, 10, 17).unwrap();
        assert!(
            chain
                .contracts
                .iter()
                .any(|c| c.root == "SPX" && c.expiry == monthly)
        );
        assert!(
            chain
                .contracts
                .iter()
                .any(|c| c.root == "SPXW" && c.expiry == monthly)
        );
        assert!(chain.contracts.iter().all(|c| c.strike % 5.0 == 0.0));
        assert!(
            chain
                .contracts
                .iter()
                .all(|c| c.expiry.weekday() != Weekday::Sat && c.expiry.weekday() != Weekday::Sun)
        );
        let expirations: std::collections::BTreeSet<_> =
            chain.contracts.iter().map(|c| c.expiry).collect();
        assert!(expirations.len() >= 10, "{expirations:?}");
    }

    #[test]
    fn an_etf_near_500_uses_one_dollar_strikes() {
        let chain = synthetic_chain(&sym("SPY"), 512.3, utc(MORNING), 1);
        assert!(
            chain
                .contracts
                .iter()
                .all(|c| c.strike.fract() == 0.0 && c.root == "SPY")
        );
        assert!(chain.contracts.iter().any(|c| c.strike == 511.0));
    }

    #[test]
    fn after_the_close_there_is_no_0dte() {
        let chain = synthetic_chain(&sym("SPX"), 6600.0, utc("2025-09-23T20:30:00Z"), 1);
        let today = NaiveDate::from_ymd_opt(2025, 9, 23).unwrap();
        assert!(chain.contracts.iter().all(|c| c.expiry > today));
        let saturday = synthetic_chain(&sym("SPX"), 6600.0, utc("2025-09-27T15:00:00Z"), 1);
        assert!(
            saturday
                .contracts
                .iter()
                .all(|c| c.expiry.weekday() != Weekday::Sat)
        );
    }

    #[test]
    fn lower_strikes_carry_higher_iv() {
        let chain = synthetic_chain(&sym("SPX"), 6600.0, utc(MORNING), 3);
        let monthly = NaiveDate::from_ymd_opt(2025, 10, 17).unwrap();
        let iv_at = |k: f64| {
            chain
                .contracts
                .iter()
                .find(|c| c.root == "SPXW" && c.expiry == monthly && c.strike == k)
                .unwrap()
                .iv
        };
        assert!(iv_at(6300.0) > iv_at(6600.0));
        assert!(iv_at(6600.0) > iv_at(6800.0));
        assert!(
            chain
                .contracts
                .iter()
                .all(|c| c.iv > 0.0 && c.iv < 1.0 && c.open_interest >= 0.0)
        );
    }

    #[test]
    fn the_demo_profile_has_a_flip_near_spot_and_walls_on_round_strikes() {
        for seed in 0..8 {
            for (s, spot, round) in [
                ("SPX", 6612.4, 25.0),
                ("SPY", 661.2, 5.0),
                ("QQQ", 598.7, 5.0),
            ] {
                let chain = synthetic_chain(&sym(s), spot, utc(MORNING), seed);
                let p = compute_profile(&chain, &GexParams::default(), ExpiryFilter::All).unwrap();
                let flip = p
                    .zero_gamma
                    .unwrap_or_else(|| panic!("{s} seed {seed}: no flip"));
                assert!(
                    (flip / spot - 1.0).abs() < 0.025,
                    "{s} seed {seed}: flip {flip} far from {spot}"
                );
                let (cw, pw) = (p.call_wall.unwrap(), p.put_wall.unwrap());
                assert!(
                    cw % round == 0.0 && pw % round == 0.0,
                    "{s} seed {seed}: walls {cw} {pw}"
                );
                assert!(
                    cw > pw,
                    "{s} seed {seed}: call wall {cw} above put wall {pw}"
                );
                let biggest = p
                    .strikes
                    .iter()
                    .map(|k| k.net_gex.abs())
                    .fold(0.0, f64::max);
                assert!(
                    biggest > 1e8,
                    "{s} seed {seed}: the largest strike holds {biggest} dollars per 1 %"
                );
            }
        }
    }

    #[test]
    fn third_fridays() {
        assert_eq!(
            third_friday(2025, 10),
            NaiveDate::from_ymd_opt(2025, 10, 17)
        );
        assert_eq!(third_friday(2026, 1), NaiveDate::from_ymd_opt(2026, 1, 16));
        assert_eq!(third_friday(2025, 8), NaiveDate::from_ymd_opt(2025, 8, 15));
    }
}
