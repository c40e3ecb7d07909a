//! Times `gex::compute_profile` on a chain file written by `cargo bench --bench gex`, in
//! thread CPU time (Linux `/proc/thread-self/schedstat`) as well as wall time, so
//! `benches/gex_numpy.py --with-rust` can compare both languages on one measure that the
//! other builders on a shared machine disturb less than wall time.
//!
//! `cargo run --release --example gex_profile_time -- CHAIN.json [SAMPLES]` prints one JSON
//! line. The kernel updates a running thread's CPU time only every few milliseconds, so each
//! sample times a batch of 200 profiles and reports the per-profile mean.

use std::time::Instant;

use coach::gex::{Chain, ExpiryFilter, GexParams, compute_profile};

fn thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: gex_profile_time CHAIN.json [RUNS]")?;
    let samples: usize = args.next().map(|r| r.parse()).transpose()?.unwrap_or(20);
    const BATCH: usize = 200;
    let chain: Chain = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
    let params = GexParams::default();
    let mut wall = Vec::with_capacity(samples);
    let mut cpu = Vec::with_capacity(samples);
    compute_profile(&chain, &params, ExpiryFilter::All)?;
    for _ in 0..samples.max(1) {
        let (c0, t0) = (thread_cpu_ns(), Instant::now());
        for _ in 0..BATCH {
            std::hint::black_box(compute_profile(
                std::hint::black_box(&chain),
                &params,
                ExpiryFilter::All,
            )?);
        }
        wall.push(t0.elapsed().as_secs_f64() * 1e3 / BATCH as f64);
        if let (Some(a), Some(b)) = (c0, thread_cpu_ns()) {
            cpu.push((b - a) as f64 * 1e-6 / BATCH as f64);
        }
    }
    let cpu_median = if cpu.is_empty() {
        f64::NAN
    } else {
        median(cpu)
    };
    println!(
        "{}",
        serde_json::json!({
            "samples": samples,
            "batch": BATCH,
            "wall_ms_median": median(wall),
            "cpu_ms_median": cpu_median,
        })
    );
    Ok(())
}
