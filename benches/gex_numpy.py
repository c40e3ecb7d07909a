#!/usr/bin/env python3
"""The GEX profile of SPEC 7 in vectorised numpy, timed on the chain `cargo bench --bench gex`
wrote, and checked against the Rust result written beside it.

Same computation as src/gex: BSM gamma from IV with r = q = 0, T in calendar seconds to
16:00 New York (09:30 for AM-settled SPX/NDX/RUT/DJX), dollars per 1 % move, per-strike
call/put/net sums, total, walls, key levels, a 201-point sweep over [0.8 S, 1.2 S] uniform
in ln x (the grid the Rust sweep uses), and every sign change refined with scipy's brentq on
the exact function to 1e-10 relative.

Two variants are timed:
- naive: the textbook numpy version, one (contracts × 201) matrix for the sweep;
- tuned: what a careful numpy programmer does next: identical (strike, expiry, IV) terms
  merged first (as the Rust code does), the sweep in cache-sized chunks of 256 terms with
  in-place operations.
Parsing the file into arrays (roots as strings, expiry dates, rights, strikes, OI, IV) is
not timed, as the Rust bench times the profile from an in-memory chain; everything after
(settlement from the root, T, gamma, grouping, sweep, refinement, walls, levels) is. BLAS is pinned to one thread: the comparison is one core.

Wall time on a shared machine swings with the other builders' load, so besides wall time
the script records thread CPU time (time.thread_time), and with --with-rust it runs
`cargo run --release --example gex_profile_time` on the same file, alternating languages
round by round, and prints the ratio of CPU-time medians.

Run: cargo bench --bench gex   (writes <target>/gex-bench/chain.json and reference.json)
     python3 benches/gex_numpy.py [--dir <target>/gex-bench] [--runs 30] [--with-rust]
Needs: pip install numpy scipy
"""

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse
import datetime as dt
import json
import statistics
import subprocess
import sys
import time
from zoneinfo import ZoneInfo

import numpy as np
from scipy.optimize import brentq

NY = ZoneInfo("America/New_York")
AM_ROOTS = {"SPX", "NDX", "RUT", "DJX"}
INV_SQRT_2PI = 0.3989422804014327
POINTS = 201


def expiry_instant(root, date):
    d = dt.date.fromisoformat(date)
    if d.weekday() == 5:
        d -= dt.timedelta(days=1)
    hh, mm = (9, 30) if root in AM_ROOTS else (16, 0)
    return dt.datetime(d.year, d.month, d.day, hh, mm, tzinfo=NY)


def load(path):
    with open(path) as f:
        chain = json.load(f)
    as_of = dt.datetime.fromisoformat(chain["as_of"].replace("Z", "+00:00"))
    cs = chain["contracts"]
    return {
        "spot": chain["spot"],
        "as_of": as_of,
        "root": np.array([c["root"] for c in cs]),
        "expiry": np.array([c["expiry"] for c in cs], dtype="datetime64[D]"),
        "call": np.array([c["right"] == "call" for c in cs]),
        "strike": np.array([c["strike"] for c in cs], dtype=float),
        "oi": np.array([c["open_interest"] for c in cs], dtype=float),
        "iv": np.array([c["iv"] for c in cs], dtype=float),
    }


def profile(ch, tuned):
    spot, as_of = ch["spot"], ch["as_of"]
    # T per series (settlement, expiry day): numpy finds the few distinct series, Python
    # converts each one's New York expiry instant.
    am = np.isin(ch["root"], list(AM_ROOTS))
    day = ch["expiry"].astype(np.int64)
    key = day * 2 + am
    series, inverse = np.unique(key, return_inverse=True)
    years = np.empty(len(series))
    for i, k in enumerate(series):
        d = str(np.datetime64(int(k) // 2, "D"))
        root = "SPX" if k % 2 else "SPY"
        years[i] = (expiry_instant(root, d) - as_of).total_seconds() / (365 * 86400)
    t = years[inverse]
    k, oi, iv = ch["strike"], ch["oi"], ch["iv"]
    keep = (t > 0) & (oi > 0) & (iv > 0)
    k, oi, iv, t, call = k[keep], oi[keep], iv[keep], t[keep], ch["call"][keep]
    sign = np.where(call, 1.0, -1.0)

    a = iv * np.sqrt(t)
    d1 = (np.log(spot / k) + 0.5 * iv * iv * t) / a
    gamma = INV_SQRT_2PI * np.exp(-0.5 * d1 * d1) / (spot * a)
    gex = sign * gamma * oi * 100.0 * spot * spot * 0.01

    strikes, idx = np.unique(np.round(k * 1000).astype(np.int64), return_inverse=True)
    call_gex = np.bincount(idx, weights=np.where(call, gex, 0.0), minlength=len(strikes))
    put_gex = np.bincount(idx, weights=np.where(call, 0.0, gex), minlength=len(strikes))
    net = call_gex + put_gex
    strikes = strikes / 1000.0
    total = net.sum()

    # Curve terms: G(x) = x · Σ w exp(−((ln x − c)/a)²/2).
    center = np.log(k) - 0.5 * iv * iv * t
    inv_a = 1.0 / a
    weight = 100.0 * 0.01 * inv_a * INV_SQRT_2PI * sign * oi
    x = np.exp(np.linspace(np.log(0.8 * spot), np.log(1.2 * spot), POINTS))
    lx = np.log(x)
    if tuned:
        order = np.lexsort((iv, t, k))
        ks, ts, ivs = k[order], t[order], iv[order]
        new = np.ones(len(order), dtype=bool)
        new[1:] = (ks[1:] != ks[:-1]) | (ts[1:] != ts[:-1]) | (ivs[1:] != ivs[:-1])
        group = np.cumsum(new) - 1
        w_ = np.bincount(group, weights=weight[order])
        first = np.nonzero(new)[0]
        c_, ia_ = center[order][first], inv_a[order][first]
        nz = w_ != 0
        c_, ia_, w_ = c_[nz], ia_[nz], w_[nz]
        acc = np.zeros(POINTS)
        for s0 in range(0, len(c_), 256):
            d = lx[None, :] - c_[s0:s0 + 256, None]
            d *= ia_[s0:s0 + 256, None]
            d *= d
            d *= -0.5
            np.exp(d, out=d)
            acc += w_[s0:s0 + 256] @ d
        g = x * acc
    else:
        c_, ia_, w_ = center, inv_a, weight
        d = (lx[None, :] - c_[:, None]) * ia_[:, None]
        g = x * (w_ @ np.exp(-0.5 * d * d))

    def f(s):
        dd = (np.log(s) - c_) * ia_
        return s * np.dot(w_, np.exp(-0.5 * dd * dd))

    nzg = np.nonzero(g)[0]
    sg = g[nzg] > 0
    flips = nzg[1:][sg[1:] != sg[:-1]]
    prev = nzg[:-1][sg[1:] != sg[:-1]]
    crossings = [brentq(f, x[i], x[j], xtol=1e-12, rtol=1e-10) for i, j in zip(prev, flips)]
    zero_gamma = min(crossings, key=lambda z: abs(z - spot)) if crossings else None

    def best(score, valid):
        if not valid.any():
            return None
        s = np.where(valid, score, -np.inf)
        top = s.max()
        ties = np.nonzero(s == top)[0]
        i = min(ties, key=lambda j: (abs(strikes[j] - spot), strikes[j]))
        return float(strikes[i])

    call_wall = best(net, net > 0)
    put_wall = best(-net, net < 0)
    max_gex = best(np.abs(net), net != 0)
    mag = np.abs(net)
    threshold = mag.mean() + mag.std()
    cand = np.nonzero((mag >= threshold) & (net != 0))[0]
    chosen = sorted(cand, key=lambda j: (-mag[j], abs(strikes[j] - spot), strikes[j]))[:10]
    key_levels = [
        (float(strikes[j]), float(net[j]),
         "magnet" if strikes[j] == max_gex else ("support" if net[j] >= 0 else "resistance"))
        for j in chosen
    ]
    return {
        "total_gex": float(total),
        "zero_gamma": zero_gamma,
        "crossings": crossings,
        "call_wall": call_wall,
        "put_wall": put_wall,
        "max_gex_strike": max_gex,
        "key_levels": key_levels,
        "contracts_used": int(keep.sum()),
        "strikes": len(strikes),
        "terms": len(w_),
    }


def main():
    default_dir = os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "gex-bench")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default=default_dir)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=3, help="alternations with --with-rust")
    ap.add_argument("--with-rust", action="store_true")
    args = ap.parse_args()
    chain_path = os.path.join(args.dir, "chain.json")
    if not os.path.exists(chain_path):
        sys.exit(f"{chain_path} not found: run `cargo bench --bench gex` first")
    ch = load(chain_path)
    ref = None
    ref_path = os.path.join(args.dir, "reference.json")
    if os.path.exists(ref_path):
        with open(ref_path) as f:
            ref = json.load(f)
    failed = False
    cpu = {"naive": [], "tuned": [], "rust": []}
    wall = {"naive": [], "tuned": [], "rust": []}
    # Per round: numpy's CPU-time median over Rust's, each language timed back to back, so
    # a drift of the machine's speed between rounds cancels out of the ratio.
    round_ratios = {"naive": [], "tuned": []}
    for _round in range(args.rounds if args.with_rust else 1):
        for tuned in (False, True):
            name = "tuned" if tuned else "naive"
            result = profile(ch, tuned)  # warm-up
            for _ in range(args.runs):
                t0, c0 = time.perf_counter(), time.thread_time()
                result = profile(ch, tuned)
                cpu[name].append(time.thread_time() - c0)
                wall[name].append(time.perf_counter() - t0)
            if ref is not None and _round == 0:
                rel = abs(result["total_gex"] - ref["total_gex"]) / abs(ref["total_gex"])
                same = (
                    rel < 1e-9
                    and len(result["crossings"]) == len(ref["crossings"])
                    and all(abs(a - b) <= 1e-8 * b for a, b in zip(result["crossings"], ref["crossings"]))
                    and (result["call_wall"], result["put_wall"], result["max_gex_strike"])
                    == (ref["call_wall"], ref["put_wall"], ref["max_gex_strike"])
                    and result["contracts_used"] == ref["contracts_used"]
                )
                print(f"{name}: {result['terms']} terms, total {result['total_gex']:.9e} "
                      f"(Rust {ref['total_gex']:.9e}), crossings {[round(c, 6) for c in result['crossings']]} "
                      f"(Rust {[round(c, 6) for c in ref['crossings']]}): "
                      f"{'same result as Rust' if same else 'DIFFERENT from Rust'}")
                failed |= not same
        if args.with_rust:
            run = subprocess.run(
                ["cargo", "run", "--release", "-q", "--example", "gex_profile_time", "--",
                 chain_path, str(args.runs)],
                capture_output=True, text=True, check=False,
            )
            if run.returncode != 0:
                sys.exit(f"gex_profile_time failed: {run.stderr}")
            r = json.loads(run.stdout)
            cpu["rust"].append(r["cpu_ms_median"] / 1e3)
            wall["rust"].append(r["wall_ms_median"] / 1e3)
            for name in ("naive", "tuned"):
                this_round = statistics.median(cpu[name][-args.runs:])
                round_ratios[name].append(this_round / cpu["rust"][-1])
    print(f"numpy {np.__version__}, {len(ch['strike'])} contracts, {POINTS}-point sweep, medians:")
    for name in ("naive", "tuned", "rust"):
        if cpu[name]:
            print(f"  {name:5}: cpu {statistics.median(cpu[name]) * 1e3:8.3f} ms   "
                  f"wall {statistics.median(wall[name]) * 1e3:8.3f} ms")
    if cpu["rust"]:
        rust = statistics.median(cpu["rust"])
        for name in ("naive", "tuned"):
            print(f"  Rust is {statistics.median(cpu[name]) / rust:.0f}x faster than numpy {name} (CPU time)")
        for name in ("naive", "tuned"):
            ratios = round_ratios[name]
            print(f"  per round vs {name}: {', '.join(f'{x:.0f}x' for x in ratios)} "
                  f"(median {statistics.median(ratios):.0f}x)")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
