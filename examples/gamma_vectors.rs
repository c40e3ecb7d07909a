//! Reads JSON lines `{"s":…, "k":…, "v":…, "t":…, "r":…, "q":…}` on stdin and prints, for each,
//! `{"gamma": Γ from gex::bs::gamma, "curve_gamma": Γ recovered from the profile's curve term}`
//! so `scripts/check_gamma.py` can compare both with an independent implementation.

use std::io::{self, BufRead, Write};

use coach::gex::bs::gamma;
use coach::gex::curve::{CurveTerm, MULTIPLIER, ONE_PERCENT};

#[derive(serde::Deserialize)]
struct Input {
    s: f64,
    k: f64,
    v: f64,
    t: f64,
    r: f64,
    q: f64,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    for (n, line) in io::stdin().lock().lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let i: Input =
            serde_json::from_str(&line).map_err(|e| format!("stdin line {}: {e}", n + 1))?;
        let direct = gamma(i.s, i.k, i.v, i.t, i.r, i.q);
        // The profile's path: GEX of one call at spot s, divided back into gamma.
        let curve = CurveTerm::new(i.k, i.t, i.v, i.r, i.q)
            .map(|term| term.gex_at(i.s, i.s.ln(), 1.0) / (MULTIPLIER * ONE_PERCENT * i.s * i.s))
            .unwrap_or(0.0);
        writeln!(
            out,
            "{}",
            serde_json::json!({ "gamma": direct, "curve_gamma": curve })
        )?;
    }
    Ok(())
}
