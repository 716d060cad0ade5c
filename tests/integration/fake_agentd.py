#!/usr/bin/env python3
"""A stand-in for agentd, for checking the test drivers themselves.

    python3 tests/integration/selftest.py

It implements what DESIGN.md sections 5 and 7 say about serve, health,
auth, logs and signals, plus two streams for the drivers:
GET /fake/sse?offset=N (events N+1..N+5, a heartbeat comment, chunked,
CRLF line ends, then end) and GET /fake/ws (sends a fragmented text
message, a ping, a binary message, echoes text, answers {"type":"cancel"}
with a reply, closes on close). Not used by run.py.
"""

import base64
import hashlib
import json
import os
import signal
import socket
import socketserver
import struct
import sys
import time
import urllib.parse

VERSION = "0.1.0"
FLAGS = ["--host", "--port", "--token", "--no-token", "--data-dir", "--log-level", "--cors-origin"]
START = time.monotonic()
opts = {"host": "127.0.0.1", "port": 2468, "token": None, "no_token": False, "data_dir": None,
        "log_level": "info"}


def log(level, msg):
    if ["debug", "info", "warn", "error"].index(level) < \
            ["debug", "info", "warn", "error"].index(opts["log_level"]):
        return
    sys.stderr.write(json.dumps({"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                 "level": level, "msg": msg}) + "\n")
    sys.stderr.flush()


def event(seq):
    return {"event_id": f"evt_{seq}", "sequence": seq, "session_id": "s", "source": "daemon",
            "synthetic": False, "type": "status", "data": {"text": "é" * seq}}


class H(socketserver.StreamRequestHandler):
    def send(self, status, body, ctype="application/json", extra=""):
        b = json.dumps(body).encode()
        self.wfile.write(f"HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: {len(b)}"
                         f"\r\n{extra}\r\n".encode() + b)

    def problem(self, status, detail):
        self.send(status, {"type": "about:blank", "title": "error", "status": status,
                           "detail": detail}, "application/problem+json")

    def handle(self):
        self.connection.settimeout(10)
        while True:
            try:
                line = self.rfile.readline()
                if not line:
                    return
                hdrs = {}
                while True:
                    h = self.rfile.readline()
                    if not h:
                        return
                    if h in (b"\r\n", b"\n"):
                        break
                    k, _, v = h.decode().partition(":")
                    hdrs[k.strip().lower()] = v.strip()
            except (socket.timeout, OSError):
                log("debug", "header timeout")
                return
            parts = line.decode().split()
            if len(parts) != 3:
                self.problem(400, "bad request line")
                return
            method, target, _ = parts
            n = int(hdrs.get("content-length", 0))
            if n:
                self.rfile.read(n)
            u = urllib.parse.urlsplit(target)
            q = dict(urllib.parse.parse_qsl(u.query))
            log("debug", f"{method} {u.path}")
            if u.path == "/v1/health":
                self.send(200, {"status": "ok", "version": VERSION,
                                "uptime_ms": int((time.monotonic() - START) * 1000)})
                continue
            tok = opts["token"]
            if tok is not None:
                got = hdrs.get("authorization", "")
                got = got[7:] if got.startswith("Bearer ") else q.get("access_token")
                if got != tok:
                    log("info", "unauthorized request")
                    self.problem(401, "missing or wrong token")
                    continue
            if u.path == "/v1/sessions" and method == "GET":
                self.send(200, {"sessions": []})
            elif u.path == "/fake/sse":
                self.sse(int(q.get("offset", hdrs.get("last-event-id", 0))))
                return
            elif u.path == "/fake/ws":
                self.ws(hdrs)
                return
            else:
                self.problem(404, f"no route {u.path}")

    def sse(self, offset):
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n")

        def chunk(b):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(b), b))
            self.wfile.flush()
        chunk(b": hello\r\n\r\n")
        for seq in range(offset + 1, offset + 6):
            body = f"id: {seq}\r\nevent: status\r\ndata: {json.dumps(event(seq), ensure_ascii=False)}\r\n\r\n"
            b = body.encode()
            # split inside a UTF-8 character and between \r and \n
            cut = b.index(b"\xc3") + 1
            chunk(b[:cut])
            time.sleep(0.01)
            chunk(b[cut:-1])
            chunk(b[-1:])
        chunk(b":heartbeat\n\n")
        chunk(b"data: line1\ndata: line2\n\n")
        chunk(b"")

    def ws(self, hdrs):
        acc = base64.b64encode(hashlib.sha1((hdrs["sec-websocket-key"] +
                               "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
        self.wfile.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                         b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + acc + b"\r\n\r\n")

        def frame(op, payload, fin=True):
            n = len(payload)
            hd = bytes([(0x80 if fin else 0) | op])
            hd += bytes([n]) if n < 126 else (bytes([126]) + struct.pack("!H", n) if n < 65536
                                             else bytes([127]) + struct.pack("!Q", n))
            self.wfile.write(hd + payload)
            self.wfile.flush()
        msg = json.dumps(event(1)).encode() + b" " * 70000
        frame(1, msg[:10], fin=False)
        frame(9, b"pp")
        frame(0, msg[10:300], fin=False)
        frame(0, msg[300:])
        frame(2, b"\x00\x01")
        self.connection.settimeout(30)
        while True:
            b0, b1 = self.rfile.read(2)
            assert b1 & 0x80, "client frame not masked"
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self.rfile.read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self.rfile.read(8))[0]
            mask = self.rfile.read(4)
            p = bytes(c ^ mask[i % 4] for i, c in enumerate(self.rfile.read(n)))
            op = b0 & 0x0F
            if op == 10:
                frame(1, json.dumps({"pong": p.decode()}).encode())
            elif op == 8:
                frame(8, p[:2])
                return
            elif op == 1:
                m = json.loads(p)
                if m.get("type") == "cancel":
                    frame(1, json.dumps(event(2)).encode())
                    frame(1, json.dumps({"reply_to": "cancel", "status": 204}).encode())
                elif m.get("type") == "close-me":
                    frame(8, struct.pack("!H", 1001) + b"bye")
                else:
                    frame(1, p)


class S(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main(argv):
    if len(argv) < 1:
        return 2
    if argv[0] in ("--help", "help"):
        print("usage: agentd serve " + " ".join(FLAGS))
        return 0
    if argv[0] == "version":
        print(f"agentd {VERSION}")
        return 0
    if argv[0] != "serve":
        print("unknown command", file=sys.stderr)
        return 2
    a = argv[1:]
    i = 0
    while i < len(a):
        f = a[i]
        if f == "--no-token":
            opts["no_token"] = True
            i += 1
            continue
        if f not in FLAGS or i + 1 >= len(a):
            print(f"bad flag {f}", file=sys.stderr)
            return 2
        v = a[i + 1]
        i += 2
        if f == "--port":
            if not v.isdigit():
                print("bad port", file=sys.stderr)
                return 2
            opts["port"] = int(v)
        elif f == "--log-level":
            if v not in ("debug", "info", "warn", "error"):
                print("bad level", file=sys.stderr)
                return 2
            opts["log_level"] = v
        elif f != "--cors-origin":
            opts[f[2:].replace("-", "_")] = v
    if opts["token"] is None and os.environ.get("AGENTD_TOKEN"):
        opts["token"] = os.environ["AGENTD_TOKEN"]
    if opts["token"] is not None and opts["no_token"]:
        log("error", "--token and --no-token are exclusive")
        return 1
    if opts["token"] is None and not opts["no_token"] and not opts["host"].startswith("127."):
        log("error", f"refusing to serve {opts['host']} without a token")
        return 1
    srv = S((opts["host"], opts["port"]), H)

    def stop(signo, frame):
        log("info", f"signal {signo}")
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log("info", f"listening on {opts['host']}:{opts['port']}")
    try:
        srv.serve_forever()
    finally:
        srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
