#!/usr/bin/env bash
# Whole-process `coach replay` on minute-bar files, measured from outside with
# /usr/bin/time -v: wall time, bars per second and peak RSS, the median of ROUNDS runs.
# For comparing builds of the bar-file reader (issues 21 and 25: the timestamp parser was
# 42 % of replay's time).
#
# Usage: benches/bar_reader.sh BINARY [ROWS] [ROUNDS]
#   BINARY  a release build of coach (cargo build --release --bin coach; copy it away to
#           compare two builds)
#   ROWS    rows of the generated file (default 1000000)
#   ROUNDS  runs per input (default 5)
# Inputs: a generated SPY-like file of ROWS regular-session minutes (the LEAN layout,
# naive New York timestamps, which every build reads), the shared SPY week
# (../shared/data/bars/lean_spy_2013-10, 4,839 rows) and, when the build reads it, the
# shared market-data_2024 folder (265,433 rows, ';' and epoch milliseconds).
set -euo pipefail
bin=$(realpath "$1")
rows=${2:-1000000}
rounds=${3:-5}
here=$(dirname "$(realpath "$0")")
shared=$here/../../shared/data/bars
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 - "$rows" > "$work/SPY_1min_generated.csv" <<'EOF'
import datetime as dt, sys
rows = int(sys.argv[1])
out = sys.stdout
out.write("timestamp,open,high,low,close,volume\n")
day, price, seed, n = dt.date(2000, 1, 3), 150.0, 42, 0
while n < rows:
    if day.weekday() < 5:
        for m in range(390):
            if n == rows:
                break
            seed = (seed * 6364136223846793005 + 1442695040888963407) % 2**64
            step = ((seed >> 33) / 2**31 - 0.5) * 0.2
            o, c = price, max(1.0, price + step)
            h, l = max(o, c) + 0.02, min(o, c) - 0.02
            t = dt.datetime.combine(day, dt.time(9, 30)) + dt.timedelta(minutes=m)
            out.write(f"{t:%Y-%m-%d %H:%M:%S},{o:.2f},{h:.2f},{l:.2f},{c:.2f},{1000 + seed % 5000}\n")
            price, n = c, n + 1
    day += dt.timedelta(days=1)
EOF

measure() { # label, bars, args…
  local label=$1 bars=$2
  shift 2
  if ! "$bin" replay "$@" > /dev/null 2> "$work/err.txt"; then
    echo "$label: this build cannot read it ($(grep -m1 coach: "$work/err.txt"))"
    return
  fi
  for _ in $(seq "$rounds"); do
    /usr/bin/time -v "$bin" replay "$@" > /dev/null 2> "$work/time.txt"
    awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = p[n] + (n > 1 ? p[n-1] * 60 : 0); print s}
                /Maximum resident set size/ {print $2}' "$work/time.txt" | paste -sd' '
  done | python3 -c "
import statistics as st, sys
runs = [tuple(map(float, l.split())) for l in sys.stdin if l.strip()]
wall = st.median(r[0] for r in runs)
rss = st.median(r[1] for r in runs) / 1024
print(f'$label: $bars bars, median wall {wall:.3f} s, {$bars / wall / 1e6:.2f} M bars/s, peak RSS {rss:.0f} MB ({len(runs)} runs)')
"
}

measure "generated SPY minutes" "$rows" --bars "$work/SPY_1min_generated.csv"
measure "SPY week (lean_spy_2013-10)" 4839 --bars "$shared/lean_spy_2013-10/SPY_1min_2013-10-04_2013-10-11.csv"
measure "market-data_2024 folder" 265433 --bars "$shared/market-data_2024"
