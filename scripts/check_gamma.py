#!/usr/bin/env python3
"""Cross-check coach's Black-Scholes-Merton gamma against py_vollib (an independent
implementation of the vollib family, `pip install py_vollib`) on random inputs.

Both of coach's paths are checked: `gex::bs::gamma` and the gamma implied by the profile's
curve term (`CurveTerm::gex_at`, which uses the vectorisable exp). Inputs cover index and
equity prices, IV 5–150 %, T from 10 minutes to 2 years, r and q from 0 to 6 %, strikes
mostly within ±6 standard deviations of spot (ln K/S = z·σ√T) and a fifth anywhere within
±40 %; cases whose gamma is below 1e-12 of the at-the-money value are checked absolutely
(relative error is meaningless there).

Run:  pip install py_vollib
      python3 scripts/check_gamma.py [--n 500] [--seed 1]
Exit status 1 when the largest relative error exceeds 1e-9.
"""

import argparse
import json
import math
import random
import subprocess
import sys

try:
    from vollib.black_scholes_merton.greeks.analytical import gamma as bsm_gamma
except ImportError:  # older installs ship only the py_vollib name
    from py_vollib.black_scholes_merton.greeks.analytical import gamma as bsm_gamma


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    cases = []
    for _ in range(args.n):
        s = math.exp(rng.uniform(math.log(5), math.log(25000)))
        v = rng.uniform(0.05, 1.5)
        t = math.exp(rng.uniform(math.log(10 / (365 * 24 * 60)), math.log(2.0)))
        if rng.random() < 0.8:
            log_moneyness = rng.uniform(-6, 6) * v * math.sqrt(t)
        else:
            log_moneyness = rng.uniform(-0.4, 0.4)
        cases.append({
            "s": s,
            "k": s * math.exp(log_moneyness),
            "v": v,
            "t": t,
            "r": rng.uniform(0.0, 0.06),
            "q": rng.uniform(0.0, 0.06),
        })
    payload = "".join(json.dumps(c) + "\n" for c in cases)
    run = subprocess.run(
        ["cargo", "run", "-q", "--example", "gamma_vectors"],
        input=payload, capture_output=True, text=True, check=False,
    )
    if run.returncode != 0:
        sys.exit(f"cargo run --example gamma_vectors failed:\n{run.stderr}")
    results = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
    if len(results) != len(cases):
        sys.exit(f"expected {len(cases)} results, got {len(results)}")

    worst = {"gamma": (0.0, None), "curve_gamma": (0.0, None)}
    tiny = 0
    for c, res in zip(cases, results):
        ref = bsm_gamma("c", c["s"], c["k"], c["t"], c["r"], c["v"], c["q"])
        atm = 1.0 / (c["s"] * c["v"] * math.sqrt(c["t"]) * math.sqrt(2 * math.pi))
        if ref < 1e-12 * atm:
            tiny += 1
            for key in worst:
                if abs(res[key] - ref) > 1e-12 * atm:
                    sys.exit(f"{key} {res[key]} vs {ref} for a deep out-of-the-money case {c}")
            continue
        for key in worst:
            err = abs(res[key] - ref) / ref
            if err > worst[key][0]:
                worst[key] = (err, c)
    print(f"{len(cases)} random cases ({tiny} with gamma below 1e-12 of at-the-money, checked absolutely)")
    for key, (err, case) in worst.items():
        print(f"largest relative error, {key:11}: {err:.2e}  at {case}")
    if max(err for err, _ in worst.values()) > 1e-9:
        sys.exit(1)


if __name__ == "__main__":
    main()
