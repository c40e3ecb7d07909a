//! Times `gex::compute_profile` on a chain file written by `cargo bench --bench gex`, in
//! thread CPU time (`CLOCK_THREAD_CPUTIME_ID`, the clock Python's `time.thread_time` reads)
//! as well as wall time, so `benches/gex_numpy.py --with-rust` can compare both languages
//! on one measure that the other builders on a shared machine disturb less than wall time.
//!
//! `cargo run --release --example gex_profile_time -- CHAIN.json [SAMPLES]` prints one JSON
//! line. Each sample times a batch of 200 profiles and reports the per-profile mean.
//! (`/proc/thread-self/schedstat`, read before, advances only at the scheduler's tick: on a
//! 250 Hz kernel its batches came out in steps of 0.02 ms, 8 % of a profile.)

use std::time::Instant;

use coach::gex::{Chain, ExpiryFilter, GexParams, compute_profile};

/// This thread's CPU time in nanoseconds.
fn thread_cpu_ns() -> Option<u64> {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec for the duration of the call.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    if status != 0 {
        return None;
    }
    Some(u64::try_from(now.tv_sec).ok()? * 1_000_000_000 + u64::try_from(now.tv_nsec).ok()?)
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
