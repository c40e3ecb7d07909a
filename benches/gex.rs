//! GEX profile benchmark (SPEC 15): a 15,000-contract SPX-sized chain, full profile with a
//! 201-point zero-gamma sweep and Brent-refined flip, one core.
//!
//! The chain is the simulated SPX chain (`provider::sim_chain`, seed 42, spot 6612.4,
//! 2025-09-23 10:00 New York), its nearest 15,000 contracts by (expiry, strike). The bench
//! writes it to `<target>/gex-bench/chain.json`, reads it back from there (the file
//! `benches/gex_numpy.py` times the numpy version on), and writes the Rust result to
//! `<target>/gex-bench/reference.json` so the numpy script can check it computes the same.
//!
//! Run: `cargo bench --bench gex` then `python3 benches/gex_numpy.py`.

use std::hint::black_box;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use criterion::{Criterion, criterion_group, criterion_main};

use coach::domain::Symbol;
use coach::gex::curve::{GexCurveBuilder, SWEEP_HIGH, SWEEP_LOW, Sweep};
use coach::gex::expiry::{expiry_instant, years_between};
use coach::gex::{Chain, ExpiryFilter, GexParams, compute_profile};
use coach::provider::sim_chain::synthetic_chain;

const CONTRACTS: usize = 15_000;

fn bench_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("gex-bench")
}

/// Builds the bench chain, writes it, and reads it back from the file.
fn bench_chain() -> Chain {
    let symbol = Symbol::parse("SPX").expect("SPX is a symbol");
    let as_of: DateTime<Utc> = DateTime::parse_from_rfc3339("2025-09-23T14:00:00Z")
        .expect("a valid instant")
        .with_timezone(&Utc);
    let mut chain = synthetic_chain(&symbol, 6612.4, as_of, 42);
    chain.contracts.sort_by(|a, b| {
        a.expiry
            .cmp(&b.expiry)
            .then(a.strike.total_cmp(&b.strike))
            .then(a.right.cmp(&b.right))
    });
    chain.contracts.truncate(CONTRACTS);
    assert_eq!(
        chain.contracts.len(),
        CONTRACTS,
        "the simulated SPX chain is large enough"
    );
    let dir = bench_dir();
    std::fs::create_dir_all(&dir).expect("bench output directory");
    let path = dir.join("chain.json");
    std::fs::write(&path, serde_json::to_vec(&chain).expect("chain serialises"))
        .expect("write chain");
    let text = std::fs::read_to_string(&path).expect("read chain back");
    serde_json::from_str(&text).expect("chain deserialises")
}

fn gex(c: &mut Criterion) {
    let chain = bench_chain();
    let params = GexParams::default();
    let profile = compute_profile(&chain, &params, ExpiryFilter::All).expect("profile");
    std::fs::write(
        bench_dir().join("reference.json"),
        serde_json::to_vec_pretty(&serde_json::json!({
            "total_gex": profile.total_gex,
            "zero_gamma": profile.zero_gamma,
            "crossings": profile.crossings,
            "call_wall": profile.call_wall,
            "put_wall": profile.put_wall,
            "max_gex_strike": profile.max_gex_strike,
            "contracts_used": profile.contracts_used,
            "strikes": profile.strikes.len(),
            "sweep_points": params.sweep_points,
        }))
        .expect("reference serialises"),
    )
    .expect("write reference");

    c.bench_function("gex/profile_15k_contracts", |b| {
        b.iter(|| compute_profile(black_box(&chain), black_box(&params), ExpiryFilter::All))
    });

    // The parts: the sweep and the refinement, on the curve the profile builds.
    let mut builder = GexCurveBuilder::with_capacity(chain.contracts.len());
    for c in chain
        .contracts
        .iter()
        .filter(|c| c.open_interest > 0.0 && c.iv > 0.0)
    {
        let t = years_between(chain.as_of, expiry_instant(c.root.as_str(), c.expiry));
        builder.add(
            c.strike,
            t,
            c.iv,
            c.right.dealer_sign() * c.open_interest,
            0.0,
            0.0,
        );
    }
    let curve = builder.build();
    eprintln!(
        "bench chain: {} contracts, {} curve terms after merging identical (strike, expiry, IV)",
        CONTRACTS,
        curve.len()
    );
    let spot = chain.spot;
    let mut sweep = Sweep::default();
    c.bench_function("gex/sweep_201_points", |b| {
        b.iter(|| {
            curve.sweep_into(
                SWEEP_LOW * spot,
                SWEEP_HIGH * spot,
                black_box(201),
                &mut sweep,
            )
        })
    });
    curve.sweep_into(SWEEP_LOW * spot, SWEEP_HIGH * spot, 201, &mut sweep);
    c.bench_function("gex/refine_crossings", |b| {
        b.iter(|| curve.crossings_in(black_box(&sweep)))
    });
    c.bench_function("gex/exact_value_one_spot", |b| {
        b.iter(|| curve.value(black_box(spot)))
    });

    // The real SPY chain (3,716 contracts), when the shared data is present.
    let real = "../shared/data/gex/spy_quotedata_2025-09-25_2105EDT_partial.csv";
    if let Ok(text) = std::fs::read_to_string(real) {
        let chain = coach::gex::formats::parse_chain(
            coach::gex::formats::ChainFormat::CboeCsv,
            &text,
            real,
        )
        .and_then(|r| r.into_chain(None, real))
        .expect("shared chain parses");
        c.bench_function("gex/profile_spy_real_3716", |b| {
            b.iter(|| compute_profile(black_box(&chain), &params, ExpiryFilter::All))
        });
        c.bench_function("gex/parse_spy_real_csv", |b| {
            b.iter(|| coach::gex::formats::cboe_csv::parse(black_box(&text), real))
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(60);
    targets = gex
}
criterion_main!(benches);
