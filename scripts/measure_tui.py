#!/usr/bin/env python3
"""Measures the dashboard as a trader's terminal sees it (SPEC 15).

Runs the release binary in a pseudo-terminal of COLSxROWS, counts every byte it writes
over a steady window after a warm-up, and reads its CPU time and resident memory from
/proc. Usage:

    cargo build --release
    python3 scripts/measure_tui.py [--seconds 60] [--warmup 5] [--cols 120] [--rows 40]

At scale (SPEC 15, issue 25): `--symbols 500` writes a config whose `[sim] symbols` are
the ten default ones plus generated tickers (S0011, S0012, ...) up to 500, and
`--watchlist 50` sets the trader's watchlist to the first 50 of them (`coach watchlist
set`, same database) before the dashboard starts:

    python3 scripts/measure_tui.py --symbols 500 --watchlist 50 --seconds 60

Memory is the resident set at the end of the window and the peak (VmHWM) over the run.
Prints one line per figure; exit 0. Needs only the Python standard library.
"""
import argparse, fcntl, os, pty, select, signal, struct, sys, tempfile, termios, time

def proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime

def proc_status_mb(pid, key):
    """A memory line of /proc/PID/status (VmRSS: now, VmHWM: peak), in MB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")

DEFAULT_SYMBOLS = ["SPX", "NDX", "SPY", "QQQ", "IWM", "AAPL", "MSFT", "NVDA", "TSLA", "AMZN"]

def universe(n):
    """The ten default symbols, then generated tickers up to `n` in all."""
    extra = [f"S{i:04d}" for i in range(len(DEFAULT_SYMBOLS) + 1, n + 1)]
    return (DEFAULT_SYMBOLS + extra)[:max(n, 1)]

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default="target/release/coach")
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--warmup", type=float, default=5)
    ap.add_argument("--cols", type=int, default=120)
    ap.add_argument("--rows", type=int, default=40)
    ap.add_argument("--symbols", type=int, default=0,
                    help="simulate this many symbols ([sim] symbols); 0: the default config")
    ap.add_argument("--watchlist", type=int, default=0,
                    help="set the watchlist to the first N simulated symbols first")
    ap.add_argument("args", nargs="*", help="extra arguments for coach")
    a = ap.parse_args()

    home = tempfile.mkdtemp(prefix="coach-measure-")
    env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=home + "/config",
               XDG_DATA_HOME=home + "/data", TERM="xterm-256color")
    env.pop("COACH_CONFIG", None)
    db = ["--db", f"sqlite://{home}/coach.db"]
    if a.symbols:
        names = universe(a.symbols)
        config = os.path.join(home, "coach.toml")
        with open(config, "w") as f:
            f.write("[sim]\nsymbols = [" + ", ".join(f'"{s}"' for s in names) + "]\n")
        env["COACH_CONFIG"] = config
    if a.watchlist:
        names = universe(max(a.symbols, a.watchlist))[:a.watchlist]
        import subprocess
        subprocess.run([a.binary, *db, "watchlist", "set", *names], env=env, check=True,
                       stdout=subprocess.DEVNULL)
    argv = [a.binary, *db, *a.args]

    started = time.monotonic()
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(argv[0], argv, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", a.rows, a.cols, 0, 0))
    os.kill(pid, signal.SIGWINCH)

    first_frame = None
    seen = b""
    def pump(until):
        nonlocal first_frame, seen
        total = 0
        while True:
            left = until - time.monotonic()
            if left <= 0:
                return total
            r, _, _ = select.select([fd], [], [], left)
            if fd in r:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    return total
                total += len(chunk)
                if first_frame is None:
                    seen += chunk
                    if b"Logs" in seen:
                        first_frame = time.monotonic() - started

    pump(started + a.warmup)
    cpu0, t0 = proc_cpu_seconds(pid), time.monotonic()
    steady = pump(t0 + a.seconds)
    cpu1, t1 = proc_cpu_seconds(pid), time.monotonic()
    rss = proc_status_mb(pid, "VmRSS")
    peak = proc_status_mb(pid, "VmHWM")
    os.write(fd, b"q")
    pump(time.monotonic() + 1)
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass

    window = t1 - t0
    if a.symbols or a.watchlist:
        print(f"universe: {a.symbols or 10} simulated symbols, watchlist {a.watchlist or 'default'}")
    print(f"terminal: {a.cols}x{a.rows}, window {window:.1f} s after {a.warmup:.0f} s warm-up")
    print(f"first frame: {first_frame * 1000:.0f} ms" if first_frame else "first frame: not seen")
    print(f"bytes written: {steady} ({steady / window:.0f} B/s)")
    print(f"cpu: {(cpu1 - cpu0) / window * 100:.2f} % of one core")
    print(f"resident memory: {rss:.1f} MB at the end, peak {peak:.1f} MB")

if __name__ == "__main__":
    sys.exit(main())
