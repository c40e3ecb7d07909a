#!/usr/bin/env bash
# Whole-process `coach backtest` and `coach replay` on one core over the SPEC 18 input
# (scripts/make_backtest_bench.py: the shared SPY sessions moved onto consecutive
# sessions), measured from outside with /usr/bin/time: bars per CPU-second (user + sys),
# bars per wall second, and peak RSS, at 1x and 4x the bars, so a flat memory shows as
# the same RSS at both sizes. Each line is the median of ROUNDS runs.
#
# Usage: benches/backtest_stream.sh BINARY [BARS] [ROUNDS]
#   BINARY  a release build of coach (copy builds away to compare them back to back)
#   BARS    bars of the 1x input (default 1000000; the 4x input has 4x as many)
#   ROUNDS  runs per command and input (default 3)
set -euo pipefail
bin=$(realpath "$1")
bars=${2:-1000000}
rounds=${3:-3}
here=$(dirname "$(realpath "$0")")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$here/.."
python3 scripts/make_backtest_bench.py "$work/x1" --bars "$bars" --coach "$bin"
python3 scripts/make_backtest_bench.py "$work/x4" --bars $((bars * 4)) --coach "$bin"

measure() { # label, input dir, command and args…
  local label=$1 dir=$2
  shift 2
  local n
  n=$(($(wc -l < "$dir/SPY_1min_bench.csv") - 1))
  for _ in $(seq "$rounds"); do
    /usr/bin/time -f '%U %S %e %M' taskset -c 0 "$bin" "$@" --bars "$dir" --config /dev/null \
      > /dev/null 2> "$work/err.txt"
    tail -1 "$work/err.txt"
  done | python3 -c "
import statistics as st, sys
runs = [tuple(map(float, l.split())) for l in sys.stdin if l.strip()]
cpu = st.median(r[0] + r[1] for r in runs)
wall = st.median(r[2] for r in runs)
rss = st.median(r[3] for r in runs) / 1024
print(f'$label: $n bars, {$n / cpu / 1e6:.2f} M bars per CPU-s ({cpu:.2f} s), {$n / wall / 1e6:.2f} M bars per wall-s ({wall:.2f} s), peak RSS {rss:.0f} MB ({len(runs)} runs)')
"
}

for size in x1 x4; do
  measure "backtest $size" "$work/$size" backtest --slippage 0.01 --format json --trades "$work/trades.jsonl"
  measure "replay   $size" "$work/$size" replay
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
