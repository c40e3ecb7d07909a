#!/usr/bin/env python3
"""Make a large minute-bar input for benchmarking `coach backtest` and `coach replay`
(SPEC 18: >= 1 million bars): the shared SPY sessions (pre-market, regular and after
hours bars) copied one after another onto consecutive NYSE sessions, keeping each bar's
New York time of day and its prices. Early-close sessions are skipped so every copy is
a whole session. Writes OUT_DIR/SPY_1min_bench.csv (naive New York timestamps, the
format `coach replay` reads). Never commit the output.

Usage:
    scripts/make_backtest_bench.py OUT_DIR [--bars N] [--coach PATH]
        [--source ../shared/data/bars/lean_spy_2013-10/SPY_1min_2013-10-04_2013-10-11.csv]

The session dates come from `coach calendar` (the binary given by --coach, default
target/release/coach), so holidays and weekends are never used.
"""

import argparse
import csv
import os
import subprocess
import sys

SOURCE = "../shared/data/bars/lean_spy_2013-10/SPY_1min_2013-10-04_2013-10-11.csv"


def sessions_of(source):
    """The source's rows grouped by New York date, in order: [(date, [(time, rest)])]."""
    sessions = []
    with open(source, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        for row in reader:
            date, time = row[0].split(" ")
            if not sessions or sessions[-1][0] != date:
                sessions.append((date, []))
            sessions[-1][1].append((time, row[1:]))
    return header, sessions


def full_sessions(coach, first, last):
    """NYSE session dates (YYYY-MM-DD) from first to last without early closes."""
    out = subprocess.run(
        [coach, "calendar", "--from", first, "--to", last, "--format", "csv"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rows = list(csv.DictReader(out.splitlines()))
    return [r["date"] for r in rows if r["early_close"] == "0"]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out_dir")
    p.add_argument("--bars", type=int, default=1_000_000)
    p.add_argument("--coach", default="target/release/coach")
    p.add_argument("--source", default=SOURCE)
    a = p.parse_args()
    header, sessions = sessions_of(a.source)
    per_copy = sum(len(rows) for _, rows in sessions)
    copies = -(-a.bars // per_copy)
    needed = copies * len(sessions)
    # about 250 sessions a year; the calendar is verified up to 2035
    dates = full_sessions(a.coach, "2014-01-02", "2035-12-31")
    if len(dates) < needed:
        sys.exit(f"need {needed} sessions, the calendar has {len(dates)}")
    os.makedirs(a.out_dir, exist_ok=True)
    path = os.path.join(a.out_dir, "SPY_1min_bench.csv")
    written = 0
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for i in range(needed):
            _, rows = sessions[i % len(sessions)]
            for time, rest in rows:
                w.writerow([f"{dates[i]} {time}", *rest])
                written += 1
    print(f"{path}: {written} bars in {needed} sessions ({dates[0]} to {dates[needed - 1]})")


if __name__ == "__main__":
    main()
