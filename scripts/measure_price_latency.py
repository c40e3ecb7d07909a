#!/usr/bin/env python3
"""Measures how long a price sent on the Massive WebSocket takes to reach the screen
(SPEC 15: p99 <= 60 ms with 500 background symbols streaming).

Starts, on 127.0.0.1, a REST stand-in (every history request answers "no bars") and a
WebSocket server speaking Massive's stream protocol (status `connected`, `auth`,
`subscribe`, then JSON arrays of events). Runs the dashboard in a pseudo-terminal of
COLSxROWS with `--provider massive` against them and a universe of N background symbols
(`[sim] symbols`), each sent one `A` (per-second aggregate) a second, spread evenly over
the second in frames of 10 ms. Every INTERVAL seconds (jittered) it sends SPY, which the
default watchlist shows, a price no other cell shows: the integer part is four equal
digits (1111.xx, 2222.xx, ...) and changes every digit from one probe to the next, so the
screen diff writes it out whole. Latency is from just before the frame is written to the
socket until those four digits appear in the terminal's output.

Usage:

    cargo build --release
    python3 scripts/measure_price_latency.py [--symbols 500] [--samples 300]
        [--interval 0.2] [--warmup 5] [--max-fps N] [--binary target/release/coach]

Prints p50, p90, p99 and max in milliseconds, and how many probes never appeared; exit
0. Needs only the Python standard library.
"""
import argparse, base64, fcntl, hashlib, json, os, pty, random, select, signal, socket
import struct, sys, tempfile, termios, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Rest(BaseHTTPRequestHandler):
    """Every aggregate request: OK, no bars. Anything else: 404 in Massive's shape."""

    def do_GET(self):
        if self.path.startswith("/v2/aggs/"):
            body = {"status": "OK", "request_id": "m", "queryCount": 0, "resultsCount": 0}
            code = 200
        else:
            body = {"status": "NOT_FOUND", "request_id": "m", "message": "not served here"}
            code = 404
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def ws_send(conn, lock, text):
    """One unmasked text frame (server to client)."""
    data = text.encode()
    n = len(data)
    if n < 126:
        head = struct.pack("!BB", 0x81, n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x81, 126, n)
    else:
        head = struct.pack("!BBQ", 0x81, 127, n)
    with lock:
        conn.sendall(head + data)


def recv_exact(conn, n):
    out = b""
    while len(out) < n:
        chunk = conn.recv(n - len(out))
        if not chunk:
            raise ConnectionError("closed")
        out += chunk
    return out


def ws_recv(conn):
    """One client frame (masked), as (opcode, payload)."""
    b1, b2 = recv_exact(conn, 2)
    n = b2 & 0x7F
    if n == 126:
        n = struct.unpack("!H", recv_exact(conn, 2))[0]
    elif n == 127:
        n = struct.unpack("!Q", recv_exact(conn, 8))[0]
    mask = recv_exact(conn, 4) if b2 & 0x80 else b"\0\0\0\0"
    payload = bytes(c ^ mask[i % 4] for i, c in enumerate(recv_exact(conn, n)))
    return b1 & 0x0F, payload


def status(state, message):
    return json.dumps([{"ev": "status", "status": state, "message": message}])


class Stream:
    """The WebSocket server: one thread per connection; the stocks connection is kept for
    the senders."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.stocks = None
        self.lock = threading.Lock()
        self.ready = threading.Event()
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            conn, _ = self.sock.accept()
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        try:
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(4096)
            lines = request.decode(errors="replace").split("\r\n")
            path = lines[0].split()[1]
            key = next(l.split(":", 1)[1].strip() for l in lines
                       if l.lower().startswith("sec-websocket-key:"))
            accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
            conn.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                          "Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept +
                          "\r\n\r\n").encode())
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            lock = threading.Lock()
            ws_send(conn, lock, status("connected", "Connected Successfully"))
            while True:
                op, payload = ws_recv(conn)
                if op == 0x8:
                    return
                if op == 0x9:  # ping: pong
                    with lock:
                        conn.sendall(struct.pack("!BB", 0x8A, len(payload)) + payload)
                    continue
                if op != 0x1:
                    continue
                action = json.loads(payload)
                if action.get("action") == "auth":
                    ws_send(conn, lock, status("auth_success", "authenticated"))
                elif action.get("action") == "subscribe":
                    ws_send(conn, lock, status("success", "subscribed"))
                    if path.endswith("/stocks"):
                        self.stocks = (conn, lock)
                        self.ready.set()
        except (ConnectionError, OSError, StopIteration, ValueError):
            return

    def send(self, events):
        conn, lock = self.stocks
        ws_send(conn, lock, json.dumps(events))


def second_agg(sym, price, now_ms):
    return {"ev": "A", "sym": sym, "o": price, "h": price, "l": price, "c": price,
            "v": 100, "s": now_ms - 1000, "e": now_ms}


def background(stream, symbols, stop):
    """Each symbol one `A` a second, in frames every 10 ms."""
    prices = {s: random.uniform(20, 90) for s in symbols}
    slices = 100
    per = max(1, (len(symbols) + slices - 1) // slices)
    i = 0
    next_at = time.monotonic()
    while not stop.is_set():
        chunk = symbols[(i % slices) * per:(i % slices + 1) * per]
        i += 1
        now_ms = int(time.time() * 1000)
        events = []
        for s in chunk:
            prices[s] = max(10.0, min(99.0, prices[s] * (1 + random.gauss(0, 0.001))))
            events.append(second_agg(s, round(prices[s], 2), now_ms))
        if events:
            try:
                stream.send(events)
            except OSError:
                return
        next_at += 0.01
        time.sleep(max(0.0, next_at - time.monotonic()))


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, int(round(p / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default="target/release/coach")
    ap.add_argument("--symbols", type=int, default=500)
    ap.add_argument("--samples", type=int, default=300)
    ap.add_argument("--interval", type=float, default=0.2,
                    help="seconds between probes (each one 0.75-1.25 times this)")
    ap.add_argument("--warmup", type=float, default=5)
    ap.add_argument("--max-fps", type=int, default=None)
    ap.add_argument("--cols", type=int, default=120)
    ap.add_argument("--rows", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start-limit", type=float, default=120,
                    help="seconds to wait for the dashboard to subscribe")
    a = ap.parse_args()
    random.seed(a.seed)

    rest = ThreadingHTTPServer(("127.0.0.1", 0), Rest)
    threading.Thread(target=rest.serve_forever, daemon=True).start()
    stream = Stream()

    symbols = [f"B{i:04d}" for i in range(a.symbols)]
    home = tempfile.mkdtemp(prefix="coach-latency-")
    os.makedirs(home + "/config/coach", exist_ok=True)
    config = home + "/config/coach/config.toml"
    with open(config, "w") as f:
        f.write('[general]\nprovider = "massive"\n')
        f.write(f'[massive]\nrest_url = "http://127.0.0.1:{rest.server_address[1]}"\n')
        f.write(f'ws_url = "ws://127.0.0.1:{stream.port}"\n')
        f.write("[sim]\nsymbols = [" + ", ".join(f'"{s}"' for s in symbols) + "]\n")
        if a.max_fps:
            f.write(f"[ui]\nmax_fps = {a.max_fps}\n")
    env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=home + "/config",
               XDG_DATA_HOME=home + "/data", TERM="xterm-256color",
               MASSIVE_API_KEY="LATENCYKEY_0123456789", COACH_CONFIG=config)
    argv = [a.binary, "--db", f"sqlite://{home}/coach.db"]

    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(argv[0], argv, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", a.rows, a.cols, 0, 0))
    os.kill(pid, signal.SIGWINCH)

    output = bytearray()
    lock = threading.Lock()
    stop = threading.Event()
    # (marker bytes, sent at, position in the output when sent)
    waiting = []
    latencies = []

    def reader():
        while not stop.is_set():
            r, _, _ = select.select([fd], [], [], 0.1)
            if fd not in r:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return
            now = time.monotonic()
            with lock:
                output.extend(chunk)
                for item in list(waiting):
                    marker, sent, start = item
                    if output.find(marker, max(0, start - len(marker))) >= 0:
                        latencies.append((now - sent) * 1000)
                        waiting.remove(item)

    threading.Thread(target=reader, daemon=True).start()
    if not stream.ready.wait(a.start_limit):
        print("the dashboard never subscribed to the stocks stream; its screen said:",
              file=sys.stderr)
        with lock:
            print(output[-3000:].decode(errors="replace"), file=sys.stderr)
        os.kill(pid, signal.SIGTERM)
        return 1
    threading.Thread(target=background, args=(stream, symbols, stop), daemon=True).start()
    time.sleep(a.warmup)

    lost = 0
    for n in range(a.samples):
        digit = n % 9 + 1
        price = float(f"{str(digit) * 4}.{random.randint(10, 99)}")
        marker = str(digit).encode() * 4
        with lock:
            # the previous probe must have been seen, or is counted lost
            lost += len(waiting)
            waiting.clear()
            waiting.append((marker, time.monotonic(), len(output)))
        stream.send([second_agg("SPY", price, int(time.time() * 1000))])
        time.sleep(a.interval * random.uniform(0.75, 1.25))
    time.sleep(0.5)
    with lock:
        lost += len(waiting)
        waiting.clear()
    stop.set()
    os.write(fd, b"q")
    time.sleep(0.5)
    try:
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)
    except OSError:
        pass

    values = sorted(latencies)
    print(f"price -> screen, {a.symbols} background symbols, {len(values)} probes"
          f" ({lost} never seen):")
    print(f"  p50 {percentile(values, 50):.1f} ms  p90 {percentile(values, 90):.1f} ms"
          f"  p99 {percentile(values, 99):.1f} ms  max {max(values, default=float('nan')):.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
