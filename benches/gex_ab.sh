#!/usr/bin/env bash
# A/B of two builds of the GEX profile on a machine whose speed drifts: alternates two
# `gex_profile_time` binaries round by round (each round: 5 samples of 200 profiles, thread
# CPU time or wall time) and prints both medians and the median of the per-round ratios.
#
# Usage: [MEASURE=wall] benches/gex_ab.sh OLD_BINARY NEW_BINARY [ROUNDS] [CHAIN.json]
# Build each side with `cargo build --release --example gex_profile_time` and copy
# target/release/examples/gex_profile_time away; the chain is the one
# `cargo bench --bench gex` writes. MEASURE=wall compares wall time instead of CPU time.
set -euo pipefail
old=$1
new=$2
rounds=${3:-12}
chain=${4:-${CARGO_TARGET_DIR:-target}/gex-bench/chain.json}
field=${MEASURE:-cpu}_ms_median
time_of() { "$1" "$chain" 5 | python3 -c "import json, sys; print(json.load(sys.stdin)['$field'])"; }
for _ in $(seq "$rounds"); do
  echo "$(time_of "$old") $(time_of "$new")"
done | python3 -c "
import statistics as st, sys
pairs = [tuple(map(float, line.split())) for line in sys.stdin]
old, new = [a for a, _ in pairs], [b for _, b in pairs]
print(f'old: median {st.median(old):.3f} ms, min {min(old):.3f} ms')
print(f'new: median {st.median(new):.3f} ms, min {min(new):.3f} ms')
print(f'old/new: ratio of medians {st.median(old) / st.median(new):.2f}, '
      f'median of per-round ratios {st.median([a / b for a, b in pairs]):.2f} ({len(pairs)} rounds)')
"
