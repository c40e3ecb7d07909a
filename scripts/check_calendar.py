#!/usr/bin/env python3
"""Compare `coach calendar` with exchange_calendars' XNYS (NYSE) calendar, day by day.

Usage:
    pip install exchange_calendars
    python3 scripts/check_calendar.py [--coach PATH] [--from 2000-01-01] [--to 2035-12-31]

Runs `coach calendar --from FROM --to TO --format csv`, loads XNYS for the same range and
prints every date where the two disagree: a session on one side only, or a different open
or close instant. Exits 0 when they agree (apart from the documented KNOWN_DIFFERENCES),
1 otherwise.
"""

import argparse
import csv
import io
import subprocess
import sys

# Dates where coach deliberately differs from exchange_calendars, with the reason and the
# published NYSE source. Empty: for 2000-2035 the two agree on every day.
KNOWN_DIFFERENCES: dict[str, str] = {}


def coach_sessions(coach: str, start: str, end: str) -> dict[str, tuple[str, str]]:
    out = subprocess.run(
        [coach, "calendar", "--from", start, "--to", end, "--format", "csv"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rows = csv.DictReader(io.StringIO(out))
    if rows.fieldnames != ["date", "open_utc", "close_utc", "early_close"]:
        sys.exit(f"unexpected CSV header: {rows.fieldnames}")
    sessions = {}
    for row in rows:
        early = row["early_close"] == "1"
        hour_utc = int(row["close_utc"][11:13])  # sanity: early closes end before 19:00Z
        if early != (hour_utc < 19):
            print(f"{row['date']}: early_close={row['early_close']} but close {row['close_utc']}")
        sessions[row["date"]] = (row["open_utc"], row["close_utc"])
    return sessions


def xnys_sessions(start: str, end: str) -> dict[str, tuple[str, str]]:
    import exchange_calendars as xc

    cal = xc.get_calendar("XNYS", start=start, end=end)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    return {
        day.strftime("%Y-%m-%d"): (row.open.strftime(fmt), row.close.strftime(fmt))
        for day, row in cal.schedule.iterrows()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--coach", default="target/debug/coach", help="path to the coach binary")
    parser.add_argument("--from", dest="start", default="2000-01-01")
    parser.add_argument("--to", dest="end", default="2035-12-31")
    args = parser.parse_args()

    ours = coach_sessions(args.coach, args.start, args.end)
    theirs = xnys_sessions(args.start, args.end)
    differences = 0
    for date in sorted(set(ours) | set(theirs)):
        a, b = ours.get(date), theirs.get(date)
        if a == b:
            continue
        note = KNOWN_DIFFERENCES.get(date)
        status = f"known: {note}" if note else "DIFFERENT"
        print(f"{date}: coach={a} xnys={b} [{status}]")
        if not note:
            differences += 1
    print(
        f"{len(ours)} coach sessions, {len(theirs)} XNYS sessions, "
        f"{args.start}..{args.end}: {differences} unexplained difference(s)"
    )
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
