"""Load: many WebSocket clients over streaming sessions, and a flood of
malformed HTTP requests.

LOAD_SECONDS (default 10; `make chaos` uses 60) sets how long the
streaming part runs; LOAD_CLIENTS (200) and LOAD_SESSIONS (20) its size.
Figures (events, rates, RSS) are printed.
"""

import os
import random
import socket
import threading
import time

# ASan's shadow memory and quarantine inflate RSS (make test SAN=1).
RSS_SCALE = 4 if os.environ.get("AGENTD_SAN") == "1" else 1

from agentd import HOST, Agentd, check_contiguous, wait_for

SECONDS = float(os.environ.get("LOAD_SECONDS", 10))
CLIENTS = int(os.environ.get("LOAD_CLIENTS", 200))
SESSIONS = int(os.environ.get("LOAD_SESSIONS", 20))
TOKEN = "tk-load-7f3e"


class WSReader(threading.Thread):
    def __init__(self, a, sid):
        super().__init__(daemon=True)
        self.a, self.sid = a, sid
        self.n = 0
        self.last = 0
        self.error = None
        self.stop = False

    def run(self):
        try:
            ws = self.a.ws(f"/v1/sessions/{self.sid}/events/ws?offset=0")
            while not self.stop:
                try:
                    ev = ws.next_event(timeout=1)
                except TimeoutError:
                    continue
                if ev is None:
                    raise AssertionError("stream ended")
                if ev["sequence"] != self.last + 1:
                    raise AssertionError(f"{self.sid}: sequence {ev['sequence']} "
                        f"after {self.last}")
                self.last = ev["sequence"]
                self.n += 1
            ws.close(timeout=1)
        except Exception as e:  # noqa: BLE001
            self.error = e


def test_many_ws_clients_while_streaming(ctx):
    with Agentd(ctx.binary, token=TOKEN, log_level="info") as a:
        for i in range(SESSIONS):
            r = a.http("POST", f"/v1/sessions/l{i}", {"agent": "mock"})
            assert r.status == 200, r.body
        rss0 = a.rss_kib()
        readers = [WSReader(a, f"l{i % SESSIONS}") for i in range(CLIENTS)]
        for r in readers:
            r.start()
        t0 = time.monotonic()
        rss_max = rss0
        posted = 0
        rnd = random.Random(7)
        while time.monotonic() - t0 < SECONDS:
            for i in range(SESSIONS):
                info = a.http("GET", f"/v1/sessions/l{i}").json
                if info["queuedMessages"] < 2:
                    a.http("POST", f"/v1/sessions/l{i}/messages",
                        {"message": rnd.choice(["firehose 400", "hello there",
                            "tool please"])})
                    posted += 1
            rss_max = max(rss_max, a.rss_kib())
            time.sleep(0.2)
        took = time.monotonic() - t0
        # let the clients catch up with what is in the logs
        lasts = {f"l{i}": a.http("GET", f"/v1/sessions/l{i}").json["eventCount"]
            for i in range(SESSIONS)}
        wait_for(lambda: all(r.error or r.last >= lasts[r.sid] for r in readers), 30,
            msg="clients did not catch up")
        for r in readers:
            r.stop = True
        for r in readers:
            r.join(5)
        errs = [r.error for r in readers if r.error]
        assert not errs, f"{len(errs)} clients failed: {errs[:3]}"
        total = sum(r.n for r in readers)
        events = sum(lasts.values())
        print(f"    load: {CLIENTS} WS clients, {SESSIONS} sessions, {took:.0f}s, "
            f"{posted} messages, {events} events stored, {total} delivered "
            f"({total / took:.0f}/s), RSS {rss0} -> max {rss_max} KiB")
        assert rss_max < 256 * 1024 * RSS_SCALE, f"RSS {rss_max} KiB"
        assert a.running()


# --------------------------------------------------------------------------
# Malformed requests

def _bad_requests(port, token):
    good = f"Authorization: Bearer {token}\r\n"
    # The bound address: a foreign Host is refused (421) before the
    # request's own fault is reached, which test_security covers.
    host = f"{HOST}:{port}"
    bodies = [b"{", b"[]", b"null", b'{"agent":', b'{"message":1}', b"\xff\xfe",
        b'{"a":' * 100, b"{}" * 1000, b'{"message":"x"}' + b"junk",
        b'{"agent":"mock","cwd":1}', b'{"answers":[[1]]}', b'{"reply":"maybe"}']
    paths = ["/v1/sessions/x", "/v1/sessions/ld/messages", "/v1/sessions/..",
        "/v1/sessions/%01", "/v1/sessions/ld/permissions/p/reply",
        "/v1/sessions/ld/questions/q/reply", "/v1/sessions/ld/events?offset=-1",
        "/v1/sessions/ld/events?limit=x", "/v1/nope", "/v1/sessions/" + "a" * 200]
    heads = [
        lambda p, b: f"POST {p} HTTP/1.1\r\nHost: {host}\r\n{good}Content-Length: {len(b)}\r\n\r\n".encode() + b,
        lambda p, b: f"POST {p} HTTP/1.1\r\nHost: {host}\r\n{good}Content-Length: -3\r\n\r\n".encode() + b,
        lambda p, b: f"POST {p} HTTP/1.1\r\nHost: {host}\r\n{good}Transfer-Encoding: chunked\r\n\r\nzz\r\n".encode() + b,
        lambda p, b: f"GET {p} HTTP/1.1\r\nHost: {host}\r\n{good}Last-Event-ID: abc\r\n\r\n".encode(),
        lambda p, b: f"BREW {p} HTTP/1.1\r\nHost: {host}\r\n{good}\r\n".encode(),
        lambda p, b: f"GET {p} HTTP/9.9\r\n{good}\r\n".encode(),
        lambda p, b: b"GET " + p.encode() + b"\x00\x01 HTTP/1.1\r\n\r\n",
        lambda p, b: f"GET {p} HTTP/1.1\r\nHost: {host}\r\nBad Header Line\r\n\r\n".encode(),
        lambda p, b: f"GET {p} HTTP/1.1\r\nHost: {host}\r\nX: {'y' * 9000}\r\n\r\n".encode(),
        lambda p, b: f"GET {p} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n{good}\r\n".encode(),
        lambda p, b: bytes(random.Random(len(p) + len(b)).getrandbits(8) for _ in range(200)),
        lambda p, b: f"POST {p} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer wrong\r\nContent-Length: {len(b)}\r\n\r\n".encode() + b,
    ]
    out = []
    for h in heads:
        for p in paths:
            for b in bodies:
                out.append(h(p, b))
    return out


def _one(port, data):
    """Send, read the status line; None if closed without an answer.
    (A NUL in the path is tested apart: test_security.py.)"""
    s = socket.create_connection((HOST, port), timeout=5)
    try:
        s.sendall(data)
        try:    # nothing more comes: agentd answers or closes
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        got = b""
        while b"\r\n" not in got:
            b = s.recv(4096)
            if not b:
                break
            got += b
    except (ConnectionResetError, BrokenPipeError, socket.timeout):
        return None
    finally:
        s.close()
    if not got.startswith(b"HTTP/1."):
        return None
    return int(got.split()[1])


def test_malformed_requests_flood(ctx):
    n = int(os.environ.get("LOAD_BAD_REQUESTS", 10000))
    with Agentd(ctx.binary, token=TOKEN, log_level="warn") as a:
        assert a.http("POST", "/v1/sessions/ld", {"agent": "mock"}).status == 200
        reqs = _bad_requests(a.port, TOKEN)
        rss0 = a.rss_kib()
        counts = {}
        t0 = time.monotonic()
        lock = threading.Lock()
        idx = iter(range(n))

        def worker():
            for i in idx:
                st = _one(a.port, reqs[i % len(reqs)])
                with lock:
                    counts[st] = counts.get(st, 0) + 1

        ths = [threading.Thread(target=worker) for _ in range(8)]
        for t in ths:
            t.start()
        for t in ths:
            t.join()
        took = time.monotonic() - t0
        assert a.running(), "agentd died under malformed requests"
        bad = {k: v for k, v in counts.items() if k is not None and not 400 <= k < 500}
        print(f"    {n} malformed requests in {took:.1f}s: statuses {dict(sorted(counts.items(), key=str))}, "
            f"RSS {rss0} -> {a.rss_kib()} KiB")
        assert not bad, f"non-4xx answers to malformed requests: {bad}"
        r = a.http("GET", "/v1/sessions/ld")
        assert r.status == 200
        if RSS_SCALE == 1:    # ASan's quarantine keeps freed memory
            assert a.rss_kib() < rss0 + 32 * 1024, "RSS grew with bad requests"
