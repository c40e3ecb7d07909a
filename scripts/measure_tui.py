#!/usr/bin/env python3
"""Measures the dashboard as a trader's terminal sees it (SPEC 15).

Runs the release binary in a pseudo-terminal of COLSxROWS, counts every byte it writes
over a steady window after a warm-up, and reads its CPU time and resident memory from
/proc. Usage:

    cargo build --release
    python3 scripts/measure_tui.py [--seconds 60] [--warmup 5] [--cols 120] [--rows 40]

Prints one line per figure; exit 0. Needs only the Python standard library.
"""
import argparse, fcntl, os, pty, select, signal, struct, sys, tempfile, termios, time

def proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime

def proc_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default="target/release/coach")
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--warmup", type=float, default=5)
    ap.add_argument("--cols", type=int, default=120)
    ap.add_argument("--rows", type=int, default=40)
    ap.add_argument("args", nargs="*", help="extra arguments for coach")
    a = ap.parse_args()

    home = tempfile.mkdtemp(prefix="coach-measure-")
    env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=home + "/config",
               XDG_DATA_HOME=home + "/data", TERM="xterm-256color")
    env.pop("COACH_CONFIG", None)
    argv = [a.binary, "--db", f"sqlite://{home}/coach.db", *a.args]

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
    rss = proc_rss_mb(pid)
    os.write(fd, b"q")
    pump(time.monotonic() + 1)
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass

    window = t1 - t0
    print(f"terminal: {a.cols}x{a.rows}, window {window:.1f} s after {a.warmup:.0f} s warm-up")
    print(f"first frame: {first_frame * 1000:.0f} ms" if first_frame else "first frame: not seen")
    print(f"bytes written: {steady} ({steady / window:.0f} B/s)")
    print(f"cpu: {(cpu1 - cpu0) / window * 100:.2f} % of one core")
    print(f"resident memory: {rss:.1f} MB")

if __name__ == "__main__":
    sys.exit(main())
