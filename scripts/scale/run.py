#!/usr/bin/env python3
"""The scale harness (issue 25 item 4): coach against a local market of N symbols.

What it starts, in a fresh temp dir (its own HOME, config file and SQLite database):
  1. `examples/scale_feed.rs`: a local server speaking Massive's protocol (REST history,
     grouped daily bars, and a WebSocket streaming `AM` minute aggregates for every
     symbol at each minute's end, `A` second aggregates for the watched symbols, and
     unique "probe" prices for the first watched symbol);
  2. coach (`coach serve`, or the dashboard in a 120x40 pseudo-terminal) with
     `provider = "massive"` pointed at it, under libfaketime (`apt-get install faketime`)
     so that coach's clock reads the server's market time: by default 09:45 New York of
     the last session before today, at market pace (`--speed 1`).
  With `--sim`, no server: coach's own simulated market with `[sim] symbols` of the same
  size (the demo path), measured the same way (no probes, no detector lag).

What it prints (one `name: value` line each, and with --json one JSON object):
  - peak RSS (VmHWM) and steady RSS (median over the steady window) of coach, from /proc;
  - CPU of coach, of the market server and of this harness, in % of one core (they share
    the machine's cores), over the steady window and over the whole run;
  - start-up: launch to the stream subscribed (the server's `client` line), launch to the
    whole history loaded (serve: coach's log line "history loaded: N symbols in T s"; coach
    streams and detects the symbols loaded so far meanwhile), launch to the first detection
    stored and to the first detection of a streamed minute, launch to the first frame
    (dashboard: the first output that contains "Logs", like scripts/measure_tui.py);
  - detector lag p50/p99 in market seconds: for each detection stored for a minute the
    server streamed, the instant it was first seen in coach's SQLite detections table
    (polled every 0.2 s, read-only) minus the instant the server finished sending that
    minute's `AM` burst, times --speed. The 0.2 s poll adds 0–0.2 s (0.1 s on average).
    Printed twice: over the whole run (the minutes streamed while the history loaded
    included: a symbol loaded late has its first minutes detected when its history is
    in), and in the steady state, the minutes whose burst was sent after coach's history
    was loaded.
    If coach's `/metrics` has a detector-lag metric (`coach_detector_lag…`), serve mode
    prints those lines too;
  - dashboard: bytes/s written to the terminal over the steady window, and price→screen
    latency p50/p99: each probe price is unique, the server stamps when it sent it, and
    the harness keeps a screen model of the pty output (cursor moves applied) and stamps
    when the price first shows on it. Probes overtaken by a newer one before showing are
    counted as "superseded" (a UI that coalesces may skip them, which is fine).

Usage (from the repository root; builds the release binary and the example first):
    python3 scripts/scale/run.py --mode serve --symbols 8000 --minutes 3
    python3 scripts/scale/run.py --mode dashboard --symbols 500 --watchlist 50
    python3 scripts/scale/run.py --mode both --symbols 2000
    python3 scripts/scale/run.py --sim --mode dashboard --symbols 500
    python3 scripts/scale/run.py --table          # the BENCHMARKS.md table, about 35 min

Options: --minutes K market minutes measured after the stream is live (serve on the
Massive path: after coach's history is loaded) (default 3),
--speed X market seconds per real second (default 1; above 1 libfaketime also shortens
coach's own sleeps and timeouts by X, so coach runs X times faster as a whole), --rss-limit-mb
(default 6000: coach is stopped there and peak RSS is reported as "> limit"),
--startup-timeout seconds (default 600), --no-build, --keep (keep the temp dir),
--wrap "CMD ARGS" (run coach under a tool), --massif (run coach under valgrind's massif,
keep the file in --profile-dir and print the top allocation sites at the heap's peak, see
massif_sites.py), --heaptrack (the same with heaptrack; --sim only: heaptrack's preload
and libfaketime crash together).
Needs Python 3 (standard library only), cargo, and libfaketime for the Massive path.
"""
import argparse, codecs, fcntl, json, os, pty, re, select, signal, socket, sqlite3, statistics
import shlex, shutil, struct, subprocess, sys, tempfile, termios, time, urllib.request
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")

FAKETIME_LIBS = [
    "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/faketime/libfaketime.so.1",
    "/usr/local/lib/faketime/libfaketime.so.1",
]
TICKS = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- /proc readings
def proc_cpu_seconds(pid):
    """utime + stime of a process, seconds; None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS
    except (OSError, IndexError, ValueError):
        return None


def proc_status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def pct(values, p):
    """The p-th percentile (nearest rank) of a list; None when empty."""
    if not values:
        return None
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100 * len(s) + 0.5)) - 1))
    return s[k]


# ---------------------------------------------------------------- the screen model
class Screen:
    """Just enough of a terminal to know what text is on screen: printable characters
    at the cursor, CUP/CUU/CUD/CUF/CUB/CHA/VPA moves, ED/EL/ECH erases; colours and
    modes are skipped."""

    CSI = re.compile(rb"\x1b\[([0-9;?<=>]*)([ -/]*)([@-~])")

    def __init__(self, cols, rows):
        self.cols, self.rows = cols, rows
        self.cells = [[" "] * cols for _ in range(rows)]
        self.r = self.c = 0
        self.pending = b""
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")

    def text_rows(self):
        return ["".join(row) for row in self.cells]

    def put(self, text):
        for ch in text:
            if ch == "\r":
                self.c = 0
            elif ch == "\n":
                self.r = min(self.rows - 1, self.r + 1)
            elif ch == "\b":
                self.c = max(0, self.c - 1)
            elif ch >= " ":
                if self.c < self.cols and self.r < self.rows:
                    self.cells[self.r][self.c] = ch
                self.c += 1

    def csi(self, params, final):
        nums = [int(p) if p.isdigit() else 0 for p in params.split(";")] if params else []
        n = lambda i, d=1: (nums[i] if i < len(nums) and nums[i] > 0 else d)
        if params.startswith("?"):
            return
        if final in "Hf":
            self.r, self.c = min(self.rows - 1, n(0) - 1), min(self.cols - 1, n(1) - 1)
        elif final == "A":
            self.r = max(0, self.r - n(0))
        elif final == "B":
            self.r = min(self.rows - 1, self.r + n(0))
        elif final == "C":
            self.c = min(self.cols - 1, self.c + n(0))
        elif final == "D":
            self.c = max(0, self.c - n(0))
        elif final == "G":
            self.c = min(self.cols - 1, n(0) - 1)
        elif final == "d":
            self.r = min(self.rows - 1, n(0) - 1)
        elif final == "J":
            mode = nums[0] if nums else 0
            if mode in (2, 3):
                self.cells = [[" "] * self.cols for _ in range(self.rows)]
            elif mode == 0:
                self.cells[self.r][self.c:] = [" "] * (self.cols - self.c)
                for row in self.cells[self.r + 1:]:
                    row[:] = [" "] * self.cols
        elif final == "K":
            mode = nums[0] if nums else 0
            row = self.cells[self.r]
            if mode == 0:
                row[self.c:] = [" "] * (self.cols - self.c)
            elif mode == 1:
                row[: self.c + 1] = [" "] * (self.c + 1)
            else:
                row[:] = [" "] * self.cols
        elif final == "X":
            for i in range(self.c, min(self.cols, self.c + n(0))):
                self.cells[self.r][i] = " "

    def feed(self, data):
        data = self.pending + data
        self.pending = b""
        i, end = 0, len(data)
        while i < end:
            j = data.find(b"\x1b", i)
            if j < 0:
                self.put(self.decoder.decode(data[i:]))
                return
            if j > i:
                self.put(self.decoder.decode(data[i:j]))
            if j + 1 >= end:
                self.pending = data[j:]
                return
            nxt = data[j + 1 : j + 2]
            if nxt == b"[":
                m = self.CSI.match(data, j)
                if not m:
                    if end - j < 64:
                        self.pending = data[j:]
                        return
                    i = j + 2
                    continue
                self.csi(m.group(1).decode("ascii", "replace"), m.group(3).decode())
                i = m.end()
            elif nxt == b"]":  # OSC … BEL or ST
                k = data.find(b"\x07", j)
                k2 = data.find(b"\x1b\\", j)
                ends = [x for x in (k + 1 if k >= 0 else -1, k2 + 2 if k2 >= 0 else -1) if x > 0]
                if not ends:
                    self.pending = data[j:]
                    return
                i = min(ends)
            elif nxt in (b"(", b")"):
                i = j + 3
            else:
                i = j + 2


# ---------------------------------------------------------------- helpers
def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def symbols_for(n):
    width = max(4, len(str(n)))
    return [f"S{i:0{width}d}" for i in range(1, n + 1)]


def children_of(pid):
    """The pids whose parent is `pid` (every thread's children, from /proc)."""
    kids = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                kids += [int(k) for k in f.read().split()]
    except OSError:
        pass
    return kids


def find_descendant(root, exe, timeout):
    """The first process under `root` (itself included) running the binary `exe`: coach
    started by a wrapper (heaptrack's script forks it). None after `timeout` seconds."""
    want = os.path.realpath(exe)
    deadline = time.time() + timeout
    while time.time() < deadline:
        todo, seen = [root], set()
        while todo:
            p = todo.pop()
            if p in seen:
                continue
            seen.add(p)
            try:
                if os.path.realpath(f"/proc/{p}/exe") == want:
                    return p
            except OSError:
                pass
            todo += children_of(p)
        time.sleep(0.02)
    return None


def toml_list(items):
    return "[" + ", ".join(f'"{s}"' for s in items) + "]"


def parse_db_time(text):
    """A detection's `detected_at` as stored by sqlx (RFC 3339 or `YYYY-MM-DD HH:MM:SS…`)."""
    t = text.strip().replace(" ", "T", 1)
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    m = re.match(r"^(.*T\d\d:\d\d:\d\d)(\.\d+)?(.*)$", t)
    if m:  # Python < 3.11 reads at most six fractional digits
        frac = (m.group(2) or "")[:7]
        t = m.group(1) + frac + m.group(3)
    dt = datetime.fromisoformat(t)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


class LineReader:
    """Non-blocking line reader of a pipe."""

    def __init__(self, fd):
        self.fd, self.buf = fd, b""
        os.set_blocking(fd, False)

    def lines(self):
        try:
            while True:
                chunk = os.read(self.fd, 65536)
                if not chunk:
                    break
                self.buf += chunk
        except BlockingIOError:
            pass
        *done, self.buf = self.buf.split(b"\n")
        return [d.decode("utf-8", "replace") for d in done]


# ---------------------------------------------------------------- one run
def run_once(a, mode, bins):
    """One measurement: `mode` is "serve" or "dashboard". Returns the figures as a dict."""
    home = tempfile.mkdtemp(prefix=f"coach-scale-{mode}-")
    symbols = symbols_for(a.symbols)
    watch = symbols[: min(a.watchlist, 50, len(symbols))]
    db_path = f"{home}/coach.db"
    http_port = free_port()
    res = {"mode": mode, "path": "sim" if a.sim else "massive", "symbols": a.symbols,
           "watchlist": len(watch), "speed": a.speed,
           "minutes": a.minutes, "load_before": loadavg(), "home": home}
    env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=f"{home}/config",
               XDG_DATA_HOME=f"{home}/data", TERM="xterm-256color", COACH_LOG="info")
    for k in list(env):
        if k.startswith("COACH_") and k != "COACH_LOG" or k in ("MASSIVE_API_KEY",):
            env.pop(k)

    server = None
    server_lines = None
    if not a.sim:
        anchor = time.time() + 1.0
        server = subprocess.Popen(
            [bins["feed"], "--symbols", str(a.symbols), "--watch", str(len(watch) or 1),
             "--speed", str(a.speed), "--anchor", f"{anchor:.6f}"]
            + (["--start", a.start] if a.start else []),
            stdout=subprocess.PIPE, stderr=open(f"{home}/server.err", "w"))
        server_lines = LineReader(server.stdout.fileno())
        ready = None
        deadline = time.time() + 30
        while ready is None and time.time() < deadline:
            for line in server_lines.lines():
                if line.startswith("ready "):
                    ready = dict(kv.split("=", 1) for kv in line.split()[1:])
            time.sleep(0.02)
        if ready is None:
            server.kill()
            raise SystemExit(f"the market server did not start; see {home}/server.err")
        res["session"] = ready["session"]
        res["start_ny"] = datetime.fromtimestamp(int(ready["start"]), NEW_YORK).strftime("%H:%M")
        start_epoch, anchor = int(ready["start"]), float(ready["anchor"])
        provider = f"""[general]
provider = "massive"

[massive]
rest_url = "{ready['rest']}"
ws_url = "{ready['ws']}"
api_key = "scale-harness-not-a-secret"
"""
    else:
        provider = f"""[general]
provider = "sim"
"""
    config = provider + f"""
[sim]
symbols = {toml_list(symbols)}
{"speed = " + repr(float(a.sim_speed)) if a.sim else ""}

[serve]
http = "127.0.0.1:{http_port}"
"""
    cfg = f"{home}/config.toml"
    with open(cfg, "w") as f:
        f.write(config)
    os.chmod(cfg, 0o600)
    common = [bins["coach"], "--config", cfg, "--db", f"sqlite://{db_path}"]
    wrap, profile_out = wrapper_for(a, mode)
    # serve too: a server keeps GEX up to date for its users' watchlists (`[gex]`)
    subprocess.run(common + ["watchlist", "set", *watch], env=env, check=True,
                   stdout=subprocess.DEVNULL)

    if not a.sim:
        lib = next((p for p in FAKETIME_LIBS if os.path.exists(p)), None)
        if lib is None:
            raise SystemExit("libfaketime is needed for the Massive path: apt-get install faketime")
        when = datetime.fromtimestamp(start_epoch, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        rate = f" x{a.speed:g}" if a.speed != 1 else ""
        env.update(LD_PRELOAD=lib, FAKETIME=f"@{when}{rate}", TZ="UTC",
                   FAKETIME_DONT_FAKE_MONOTONIC="1")
        while time.time() < anchor:
            time.sleep(0.001)

    launched = time.time()
    log = open(f"{home}/coach.log", "wb")
    fd = None
    if mode == "serve":
        proc = subprocess.Popen(wrap + common + ["serve"], env=env, stdout=log, stderr=log,
                                stdin=subprocess.DEVNULL)
        launched_pid = proc.pid
    else:
        launched_pid, fd = pty.fork()
        if launched_pid == 0:
            argv = wrap + common
            os.execvpe(argv[0], argv, env)
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", a.rows, a.cols, 0, 0))
    # Under a wrapper, coach is a descendant of what was launched (heaptrack forks it):
    # measure and stop coach. A tool that runs it in its own process (valgrind) is coach.
    pid = find_descendant(launched_pid, bins["coach"], 3) if wrap else launched_pid
    pid = pid or launched_pid
    if fd is not None:
        os.kill(pid, signal.SIGWINCH)
    screen = Screen(a.cols, a.rows) if fd is not None else None

    minutes_sent = {}      # bar end (Unix s) -> real instant the AM burst was sent
    probes = {}            # price text -> real instant sent
    probe_order = []
    probe_lat, superseded = [], 0
    det_lag, det_history, det_late_unknown = [], 0, 0
    last_det_id = 0
    first_frame = live_at = stream_at = history_at = None
    first_detection = first_streamed_detection = None
    log_reader = None
    log_tail = b""
    rss_samples, peak_rss_kb, over_limit = [], 0, False
    steady_t0 = steady_t1 = None
    cpu0 = {}
    steady_bytes = total_bytes = 0
    seen_start = b""
    db = None
    next_poll = next_sample = time.time()
    ended_early = None
    duration = a.minutes * 60 / a.speed
    harness_pid = os.getpid()

    def cpu_now():
        return {"coach": proc_cpu_seconds(pid), "harness": proc_cpu_seconds(harness_pid),
                "server": proc_cpu_seconds(server.pid) if server else None, "t": time.time()}

    start_cpu = cpu_now()
    while True:
        now = time.time()
        if live_at is None and now - launched > a.startup_timeout:
            ended_early = f"not live after {a.startup_timeout:.0f} s"
            break
        if steady_t0 is not None and now >= steady_t0 + duration:
            break
        rlist = [fd] if fd is not None else []
        if server is not None:
            rlist.append(server.stdout.fileno())
        try:
            r, _, _ = select.select(rlist, [], [], 0.05)
        except InterruptedError:
            r = []
        now = time.time()
        if fd is not None and fd in r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                ended_early = "coach exited"
                break
            total_bytes += len(chunk)
            if steady_t0 is not None:
                steady_bytes += len(chunk)
            if first_frame is None:
                seen_start += chunk
                if b"Logs" in seen_start:
                    first_frame = now - launched
                    seen_start = b""
            screen.feed(chunk)
            if probe_order:
                rows = screen.text_rows()
                for i, price in enumerate(probe_order):
                    if any(price in row for row in rows):
                        probe_lat.append(now - probes.pop(price))
                        superseded += i  # older ones never shown
                        for old in probe_order[:i]:
                            probes.pop(old, None)
                        del probe_order[: i + 1]
                        break
        if server is not None:
            for line in server_lines.lines():
                parts = line.split()
                if parts[:1] == ["minute"]:
                    minutes_sent[int(parts[1]) // 1000] = int(parts[2]) / 1e6
                elif parts[:1] == ["probe"] and steady_t0 is not None and screen is not None:
                    probes[parts[1]] = int(parts[2]) / 1e6
                    probe_order.append(parts[1])
                elif parts[:1] == ["client"] and stream_at is None:
                    stream_at = now - launched
                    if mode != "serve":
                        live_at = stream_at
        if mode == "serve" and not a.sim and history_at is None:
            # coach's log says when the last symbol's history is in.
            if log_reader is None and os.path.exists(f"{home}/coach.log"):
                log_reader = open(f"{home}/coach.log", "rb")
            if log_reader is not None:
                log_tail += log_reader.read()
                if b"history loaded:" in log_tail:
                    history_at = live_at = now - launched
                log_tail = log_tail[-200:]
        if a.sim and live_at is None and first_frame is not None:
            live_at = first_frame
        if a.sim and mode == "serve" and live_at is None and now - launched > 2:
            live_at = now - launched
        if live_at is not None and steady_t0 is None:
            # The first streamed minute's burst settles the start-up; measure from there.
            steady_t0 = now + a.warmup
        if steady_t0 is not None and steady_t1 is None and now >= steady_t0 and not cpu0:
            cpu0 = cpu_now()
        if now >= next_sample:
            next_sample = now + 0.5
            rss = proc_status_kb(pid, "VmRSS")
            hwm = proc_status_kb(pid, "VmHWM")
            if rss is None:
                ended_early = "coach exited"
                break
            peak_rss_kb = max(peak_rss_kb, hwm or rss)
            if cpu0:
                rss_samples.append(rss)
            if peak_rss_kb > a.rss_limit_mb * 1024:
                over_limit = True
                ended_early = f"RSS passed {a.rss_limit_mb} MB"
                break
        if now >= next_poll and not a.sim:
            next_poll = now + 0.2
            try:
                if db is None and os.path.exists(db_path):
                    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=0.1)
                if db is not None:
                    rows = db.execute(
                        "SELECT id, detected_at FROM detections WHERE id > ? ORDER BY id",
                        (last_det_id,)).fetchall()
                    for det_id, detected_at in rows:
                        last_det_id = max(last_det_id, det_id)
                        if first_detection is None:
                            first_detection = now - launched
                        end = int(round(parse_db_time(detected_at)))
                        sent = minutes_sent.get(end)
                        if sent is not None:
                            if first_streamed_detection is None:
                                first_streamed_detection = now - launched
                            det_lag.append((sent, (now - sent) * a.speed))
                        elif not minutes_sent or end < min(minutes_sent):
                            det_history += 1
                        else:
                            det_late_unknown += 1
            except sqlite3.Error:
                pass  # locked or not migrated yet: next poll
    cpu1 = cpu_now()
    steady_t1 = time.time()
    metrics_lines = []
    if mode == "serve" and not ended_early:
        try:
            body = urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=5).read()
            metrics_lines = [l for l in body.decode().splitlines()
                             if "lag" in l and not l.startswith("#")]
        except OSError as e:
            metrics_lines = [f"(no /metrics: {e})"]
    # Stop coach (a quit key for the dashboard, SIGTERM for serve), then the server.
    if fd is not None:
        try:
            os.write(fd, b"q")
            time.sleep(0.3)
            os.write(fd, b"y")
        except OSError:
            pass
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    # A profiler writes its data after coach exits (heaptrack: minutes at 2,000 symbols).
    for _ in range(50 if not wrap else 3000):
        try:
            done, _ = os.waitpid(launched_pid, os.WNOHANG)
        except ChildProcessError:
            break
        if done:
            break
        time.sleep(0.1)
    else:
        os.kill(launched_pid, signal.SIGKILL)
        if pid != launched_pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    if server is not None:
        server.terminate()
        server.wait(timeout=5)
    if db is not None:
        db.close()
    if log_reader is not None:
        log_reader.close()

    def cpu_pct(k, c0, c1):
        if c0.get(k) is None or c1.get(k) is None or c1["t"] <= c0["t"]:
            return None
        return (c1[k] - c0[k]) / (c1["t"] - c0["t"]) * 100

    steady = cpu0 or start_cpu
    lags = [lag for _, lag in det_lag]
    # The steady state: minutes whose burst went out once coach's history was loaded.
    history_real = launched + history_at if history_at is not None else None
    steady_lags = [lag for sent, lag in det_lag
                   if history_real is not None and sent >= history_real]
    window = steady_t1 - (steady["t"])
    res.update({
        "ended_early": ended_early,
        "peak_rss_mb": round(peak_rss_kb / 1024, 1),
        "peak_rss_over_limit": over_limit,
        "steady_rss_mb": round(statistics.median(rss_samples) / 1024, 1) if rss_samples else None,
        "cpu_coach_pct": cpu_pct("coach", steady, cpu1),
        "cpu_server_pct": cpu_pct("server", steady, cpu1),
        "cpu_harness_pct": cpu_pct("harness", steady, cpu1),
        "cpu_coach_whole_run_pct": cpu_pct("coach", start_cpu, cpu1),
        "steady_window_s": round(window, 1),
        "live_after_s": round(live_at, 2) if live_at is not None else None,
        "stream_after_s": round(stream_at, 2) if stream_at is not None else None,
        "history_loaded_after_s": round(history_at, 2) if history_at is not None else None,
        "first_detection_after_s":
            round(first_detection, 2) if first_detection is not None else None,
        "first_streamed_detection_after_s":
            round(first_streamed_detection, 2) if first_streamed_detection is not None else None,
        "first_frame_ms": round(first_frame * 1000) if first_frame is not None else None,
        "bytes_per_s": round(steady_bytes / window) if fd is not None and window > 0 else None,
        "detections_streamed": len(lags),
        "detections_from_history": det_history,
        "detector_lag_p50_s": pct(lags, 50), "detector_lag_p99_s": pct(lags, 99),
        "detector_lag_max_s": max(lags) if lags else None,
        "detections_steady": len(steady_lags),
        "detector_lag_steady_p50_s": pct(steady_lags, 50),
        "detector_lag_steady_p99_s": pct(steady_lags, 99),
        "detector_lag_steady_max_s": max(steady_lags) if steady_lags else None,
        "probes_shown": len(probe_lat), "probes_superseded": superseded,
        "probes_never_shown": len(probe_order),
        "price_to_screen_p50_ms": round(pct(probe_lat, 50) * 1000, 1) if probe_lat else None,
        "price_to_screen_p99_ms": round(pct(probe_lat, 99) * 1000, 1) if probe_lat else None,
        "metrics_lag_lines": metrics_lines,
        "load_after": loadavg(),
        "wrapped_in": " ".join(wrap) or None,
    })
    if a.heaptrack:
        res.update(heaptrack_summary(profile_out, a.heaptrack_top))
    if a.massif:
        res.update(massif_summary(profile_out, a.symbols, a.heaptrack_top))
    if not a.keep:
        subprocess.run(["rm", "-rf", home])
        res["home"] = "(removed)"
    return res


# ---------------------------------------------------------------- profiling
def wrapper_for(a, mode):
    """The command coach runs under (empty for none) and heaptrack's output path stem."""
    if a.heaptrack:
        if shutil.which("heaptrack") is None:
            raise SystemExit("--heaptrack needs heaptrack: apt-get install heaptrack")
        if not a.sim:
            # heaptrack 1.4's preload and libfaketime's crash any program they share
            # (a segfault before main, even /bin/date), so no heaptrack on the Massive path
            raise SystemExit("--heaptrack works with --sim only (libfaketime and heaptrack's "
                             "preload crash together); on the Massive path use "
                             "--wrap \"valgrind --tool=massif --massif-out-file=FILE\"")
        out_dir = os.path.abspath(a.profile_dir)
        os.makedirs(out_dir, exist_ok=True)
        stem = f"{out_dir}/heaptrack.coach.{'sim' if a.sim else 'massive'}-{mode}-{a.symbols}.{os.getpid()}"
        return ["heaptrack", "-o", stem], stem
    if a.massif:
        if shutil.which("valgrind") is None:
            raise SystemExit("--massif needs valgrind: apt-get install valgrind")
        out_dir = os.path.abspath(a.profile_dir)
        os.makedirs(out_dir, exist_ok=True)
        stem = f"{out_dir}/massif.coach.{'sim' if a.sim else 'massive'}-{mode}-{a.symbols}.{os.getpid()}"
        return ["valgrind", "--tool=massif", "--depth=40", "--threshold=0.5",
                f"--massif-out-file={stem}.out"], stem
    return (shlex.split(a.wrap) if a.wrap else []), None


def massif_summary(stem, symbols, top):
    """The top sites at the heap's peak of a massif run (see massif_sites.py)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import massif_sites
    path = f"{stem}.out"
    if not os.path.exists(path):
        return {"massif_file": None, "massif_sites": []}
    totals, peak = massif_sites.sites(massif_sites.peak_tree(path))
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])[:top]
    return {"massif_file": path, "massif_peak_heap_mb": round(peak / 1e6, 1),
            "massif_sites": [(round(n / 1e6, 1), site) for site, n in ranked]}


PEAK_SITE = re.compile(r"^(\d+(?:\.\d+)?)([KMGT]?)B? peak memory consumed over (\d+) calls from$")
UNITS = {"": 1, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}


def demangle(name):
    """A legacy-mangled Rust symbol as heaptrack prints it, made readable (no hash)."""
    name = re.sub(r"::h[0-9a-f]{16}$", "", name)
    for code, text in (("$LT$", "<"), ("$GT$", ">"), ("$u20$", " "), ("$C$", ","),
                       ("$RF$", "&"), ("$BP$", "*"), ("..", "::"), ("_<", "<")):
        name = name.replace(code, text)
    return name


def heaptrack_summary(stem, top):
    """Runs `heaptrack_print` on the run's data file: the whole report goes next to it
    (.txt) and the `top` allocation sites by peak come back as (MB at the peak, site),
    a site being the first frames of its backtrace that are coach's own code."""
    data = next((f"{stem}{ext}" for ext in (".zst", ".gz", "") if os.path.exists(f"{stem}{ext}")), None)
    if data is None:
        return {"heaptrack_file": None, "heaptrack_sites": []}
    text = subprocess.run(
        ["heaptrack_print", "-f", data, "--print-peaks", "1", "--print-allocators", "0",
         "--print-temporary", "0", "--print-leaks", "0", "-n", str(top), "-s", "0"],
        capture_output=True, text=True).stdout
    with open(f"{stem}.txt", "w") as f:
        f.write(text)
    sites, current, frames = [], None, []

    def close():
        if current is not None:
            own = [fr for fr in frames if "coach::" in fr] or frames
            sites.append((round(current / 1e6, 1), " <- ".join(own[:3]) or "(unresolved frames)"))

    in_peaks = False
    for line in text.splitlines():
        if line.startswith("PEAK MEMORY CONSUMERS"):
            in_peaks = True
            continue
        if not in_peaks:
            continue
        if line.startswith("MOST ") or line.startswith("total runtime"):
            break
        m = PEAK_SITE.match(line.strip())
        if m:
            close()
            current, frames = float(m.group(1)) * UNITS[m.group(2)], []
        elif current is not None and line.strip() and not line.strip().startswith(("0x", "in ", "at ", "and ")):
            frames.append(demangle(line.strip()))
    close()
    total = re.search(r"peak heap memory consumption: (\S+)", text)
    return {"heaptrack_file": data, "heaptrack_report": f"{stem}.txt",
            "heaptrack_peak_heap": total.group(1) if total else None, "heaptrack_sites": sites}


def fmt(v, unit="", digits=1):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.{digits}f}{unit}"
    return f"{v}{unit}"


def report(r):
    over = "> " if r["peak_rss_over_limit"] else ""
    lines = [
        f"run: {r['path']} {r['mode']}, {r['symbols']} symbols"
        + f", watchlist {r['watchlist']}"
        + f", {r['minutes']} market minutes at speed {r['speed']:g}"
        + (f", session {r['session']}" if r.get("session") else "")
        + (f" from {r['start_ny']} New York" if r.get("start_ny") else ""),
        f"load (1/5/15 min): before {r['load_before']}, after {r['load_after']}",
    ]
    if r["ended_early"]:
        lines.append(f"ended early: {r['ended_early']}")
    lines += [
        f"peak RSS: {over}{fmt(r['peak_rss_mb'], ' MB')}",
        f"steady RSS (median): {fmt(r['steady_rss_mb'], ' MB')}",
        f"CPU over {fmt(r['steady_window_s'], ' s')} steady: coach {fmt(r['cpu_coach_pct'], ' %')}, "
        f"market server {fmt(r['cpu_server_pct'], ' %')}, harness {fmt(r['cpu_harness_pct'], ' %')} (of one core)",
        f"CPU of coach over the whole run: {fmt(r['cpu_coach_whole_run_pct'], ' %')}",
        f"stream subscribed after: {fmt(r['stream_after_s'], ' s', 2)}",
    ]
    if r["mode"] == "serve" and r["path"] == "massive":
        lines += [
            f"history loaded after: {fmt(r['history_loaded_after_s'], ' s', 2)}",
            f"first detection stored after: {fmt(r['first_detection_after_s'], ' s', 2)}; "
            f"first detection of a streamed minute after: "
            f"{fmt(r['first_streamed_detection_after_s'], ' s', 2)}",
        ]
    if r["mode"] == "dashboard":
        lines += [
            f"start to first frame: {fmt(r['first_frame_ms'], ' ms')}",
            f"bytes to the terminal: {fmt(r['bytes_per_s'], ' B/s')}",
        ]
        if r["path"] == "massive":
            lines.append(
                f"price -> screen: p50 {fmt(r['price_to_screen_p50_ms'], ' ms')}, "
                f"p99 {fmt(r['price_to_screen_p99_ms'], ' ms')} ({r['probes_shown']} probes shown, "
                f"{r['probes_superseded']} superseded, {r['probes_never_shown']} pending at the end)")
    if r["path"] == "massive":
        lines.append(
            f"detector lag over the whole run (market s, from the SQLite detections): p50 {fmt(r['detector_lag_p50_s'], ' s', 2)}, "
            f"p99 {fmt(r['detector_lag_p99_s'], ' s', 2)}, max {fmt(r['detector_lag_max_s'], ' s', 2)} "
            f"({r['detections_streamed']} detections of streamed minutes, "
            f"{r['detections_from_history']} from history)")
    if r["path"] == "massive" and r["mode"] == "serve":
        lines.append(
            f"detector lag in the steady state (minutes sent after the history loaded): "
            f"p50 {fmt(r['detector_lag_steady_p50_s'], ' s', 2)}, "
            f"p99 {fmt(r['detector_lag_steady_p99_s'], ' s', 2)}, "
            f"max {fmt(r['detector_lag_steady_max_s'], ' s', 2)} "
            f"({r['detections_steady']} detections)")
    for l in r["metrics_lag_lines"]:
        lines.append(f"/metrics: {l}")
    if r.get("wrapped_in"):
        lines.append(f"coach ran under: {r['wrapped_in']} (RSS includes the tool's own)")
    if "heaptrack_file" in r:
        lines.append(f"heaptrack data: {r['heaptrack_file']} (report {r.get('heaptrack_report')}), "
                     f"peak heap {r.get('heaptrack_peak_heap')}")
        per = 1e3 / r["symbols"]
        for mb, site in r["heaptrack_sites"]:
            lines.append(f"  {mb:8.1f} MB at peak ({mb * per:6.1f} KB/symbol)  {site}")
    if "massif_file" in r:
        peak = r.get("massif_peak_heap_mb")
        lines.append(f"massif data: {r['massif_file']}, peak heap {fmt(peak, ' MB')}"
                     + (f" ({peak * 1e3 / r['symbols']:.1f} KB/symbol)" if peak else ""))
        for mb, site in r["massif_sites"]:
            lines.append(f"  {mb:8.1f} MB at peak ({mb * 1e3 / r['symbols']:6.1f} KB/symbol)  {site}")
    return "\n".join(lines)


def build(a):
    target = os.environ.get("CARGO_TARGET_DIR", "target")
    out = a.bin_dir or f"{target}/release"
    bins = {"coach": f"{out}/coach", "feed": f"{out}/examples/scale_feed"}
    if not a.no_build and not a.bin_dir:
        subprocess.run(["cargo", "build", "--release", "--bin", "coach", "--example", "scale_feed"],
                       check=True)
    for k, path in bins.items():
        if not os.path.exists(path):
            raise SystemExit(f"{path} is missing: build it (cargo build --release --example scale_feed)")
    return bins


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mode", choices=["serve", "dashboard", "both"], default="serve")
    ap.add_argument("--symbols", type=int, default=500)
    ap.add_argument("--watchlist", type=int, default=50)
    ap.add_argument("--minutes", type=float, default=3)
    ap.add_argument("--speed", type=float, default=1.0)
    ap.add_argument("--sim", action="store_true", help="coach's simulated market instead of the server")
    ap.add_argument("--sim-speed", type=float, default=60.0, help="[sim] speed in --sim runs")
    ap.add_argument("--start", help="market time at start: HH:MM New York of the last session (default "
                    "09:45: a restart mid-morning; 09:28: started before the open) or RFC 3339")
    ap.add_argument("--warmup", type=float, default=5,
                    help="real seconds after the stream is live (serve: the history loaded) before the steady window")
    ap.add_argument("--rss-limit-mb", type=float, default=6000)
    ap.add_argument("--startup-timeout", type=float, default=600)
    ap.add_argument("--cols", type=int, default=120)
    ap.add_argument("--rows", type=int, default=40)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--bin-dir", help="take coach and examples/scale_feed from here, unbuilt (e.g. target/debug)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (logs, database)")
    ap.add_argument("--json", action="store_true", help="also print each run as one JSON line")
    ap.add_argument("--wrap", help="run coach under this command (e.g. \"valgrind --tool=massif\")")
    ap.add_argument("--heaptrack", action="store_true",
                    help="run coach under heaptrack; keep the data file, print the top sites by peak")
    ap.add_argument("--profile-dir", default=".", help="where --heaptrack keeps its data (default .)")
    ap.add_argument("--massif", action="store_true",
                    help="run coach under valgrind's massif; keep the file, print the top sites at the peak")
    ap.add_argument("--heaptrack-top", type=int, default=15,
                    help="allocation sites --heaptrack and --massif print")
    ap.add_argument("--table", action="store_true",
                    help="the BENCHMARKS.md table: dashboard 500/50 (Massive and sim), serve 500, 2000, 8000")
    a = ap.parse_args()
    if sum(map(bool, (a.heaptrack, a.massif, a.wrap))) > 1:
        raise SystemExit("--heaptrack, --massif and --wrap: choose one")
    if a.symbols < 1 or a.speed <= 0 or a.minutes <= 0:
        raise SystemExit("--symbols, --speed and --minutes must be positive")
    bins = build(a)
    print(f"machine: {os.cpu_count()} cores, load {loadavg()}", flush=True)
    runs = []
    if a.table:
        # serve 8,000 twice on the Massive path: restarted mid-morning (09:45: the first
        # streamed minutes wait on 8,000 per-symbol history requests) and started before
        # the open (09:28: the history is in before the first regular minute; measured
        # over 12 minutes, since the detectors' first signals of a day need a few bars).
        for sim, mode, n, start, minutes in [
                (False, "dashboard", 500, None, a.minutes), (True, "dashboard", 500, None, a.minutes),
                (False, "serve", 500, None, a.minutes), (False, "serve", 2000, None, a.minutes),
                (False, "serve", 8000, None, a.minutes), (False, "serve", 8000, "09:28", 12),
                (True, "serve", 8000, None, a.minutes)]:
            runs.append((argparse.Namespace(**{**vars(a), "sim": sim, "symbols": n,
                                               "start": start or a.start, "minutes": minutes}), mode))
    else:
        modes = ["serve", "dashboard"] if a.mode == "both" else [a.mode]
        runs = [(a, m) for m in modes]
    for args, mode in runs:
        r = run_once(args, mode, bins)
        print(report(r), flush=True)
        if a.json:
            print(json.dumps(r), flush=True)
        print(flush=True)


if __name__ == "__main__":
    sys.exit(main())
