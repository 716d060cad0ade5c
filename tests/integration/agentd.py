"""Drivers for agentd integration tests (Python 3.11 stdlib only).

Agentd          one `agentd serve` process on a free port with a fresh data dir
Response        (status, headers, body, json) of one HTTP request
raw_request     bytes in, bytes out, on a plain socket (malformed requests)
SSEClient       streaming reader of text/event-stream responses
WSClient        small RFC 6455 client (masked client frames, fragmentation,
                automatic pong, close handshake)
wait_for, collect_events, check_contiguous

Every Agentd started registers itself in LIVE; tests/integration/run.py
prints their stderr tails when a test fails and reaps them afterwards.
"""

import base64
import hashlib
import http.client as hc
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import urllib.parse
from collections import namedtuple

HOST = "127.0.0.1"
HTTP_TIMEOUT = 10.0
START_TIMEOUT = 5.0
START_POLL = 0.002

LIVE = []        # every Agentd constructed since the last reset
_DEFAULT = object()    # "use the instance's token"


def unpatched_lws():
    """True when the agentd under test links Debian's lws, without the
    patches in toolchain/patches: agentd-dev (make test SAN=1) and
    agentd-vg (valgrind). Tests of what a patch fixes run on the shipped
    build only."""
    return os.environ.get("AGENTD_SAN") == "1" or \
        os.environ.get("AGENTD_VALGRIND") == "1"


def free_port():
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def clean_env(env=None):
    """os.environ without AGENTD_* variables, then `env` on top. AGENTD_VG_*
    stay: they steer tests/chaos/valgrind.sh (where its logs go), not
    agentd."""
    e = {k: v for k, v in os.environ.items()
        if not k.startswith("AGENTD_") or k.startswith("AGENTD_VG_")}
    if env:
        e.update(env)
    return e


def run_cli(binary, args, timeout=10, env=None, input=None):
    """Run `binary args…` to completion: (rc, stdout str, stderr str)."""
    p = subprocess.run([binary, *args], capture_output=True, timeout=timeout,
        env=clean_env(env), input=input, stdin=None if input is not None
        else subprocess.DEVNULL)
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
        p.stderr.decode("utf-8", "replace"))


def tail(text, lines=30):
    return "\n".join(text.splitlines()[-lines:])


# --------------------------------------------------------------------------
# HTTP

Response = namedtuple("Response", "status headers body json")


def _auth_headers(token, headers):
    h = {}
    if token is not None:
        h["Authorization"] = "Bearer " + token
    if headers:
        h.update(headers)
    return h


def _encode_body(body, h):
    if body is None or isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    if not any(k.lower() == "content-type" for k in h):
        h["Content-Type"] = "application/json"
    return json.dumps(body).encode()


def parse_json(body):
    try:
        return json.loads(body)
    except ValueError:
        return None


def http(port, method, path, body=None, headers=None, token=None,
    timeout=HTTP_TIMEOUT, conn=None):
    """One request to 127.0.0.1:port. `body`: dict/list (sent as JSON),
    str or bytes. `token`: sent as `Authorization: Bearer`, None for none.
    `conn`: reuse this HTTPConnection (keep-alive). Returns a Response
    whose `json` is the parsed body or None when it is not JSON."""
    h = _auth_headers(token, headers)
    data = _encode_body(body, h)
    c = conn or hc.HTTPConnection(HOST, port, timeout=timeout)
    try:
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        raw = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        return Response(r.status, hdrs, raw, parse_json(raw))
    finally:
        if conn is None:
            c.close()


RawResult = namedtuple("RawResult", "data closed elapsed")


def raw_request(port, data, read_timeout=5.0, shutdown_write=False):
    """Send `data` on a fresh connection and read until the server closes
    or `read_timeout` passes. RawResult(data=bytes received, closed=True if
    the server closed (EOF or reset), elapsed=seconds from the send to
    close or timeout)."""
    s = socket.create_connection((HOST, port), timeout=HTTP_TIMEOUT)
    try:
        if data:
            s.sendall(data)
        if shutdown_write:
            s.shutdown(socket.SHUT_WR)
        t0 = time.monotonic()
        got = bytearray()
        closed = False
        while True:
            left = read_timeout - (time.monotonic() - t0)
            if left <= 0:
                break
            s.settimeout(left)
            try:
                b = s.recv(65536)
            except socket.timeout:
                break
            except (ConnectionResetError, BrokenPipeError):
                closed = True
                break
            if not b:
                closed = True
                break
            got += b
        return RawResult(bytes(got), closed, time.monotonic() - t0)
    finally:
        s.close()


def problem(r, status):
    """Assert that Response r is an RFC 7807 error with this status.

    Expected shape (DESIGN.md section 5, RFC 7807):
        HTTP <status>, content-type: application/problem+json,
        {"status": <status>, "detail": "<non-empty string>", "title"?: str,
         "type"?: str}
    """
    ct = r.headers.get("content-type", "")
    assert r.status == status, f"status {r.status}, want {status}: {r.body[:300]!r}"
    assert ct.split(";")[0].strip() == "application/problem+json", \
        f"content-type {ct!r}, want application/problem+json"
    assert isinstance(r.json, dict), f"problem body is not a JSON object: {r.body[:300]!r}"
    assert r.json.get("status") == status, f"problem status {r.json.get('status')!r}, want {status}"
    d = r.json.get("detail")
    assert isinstance(d, str) and d, f"problem detail missing or empty: {r.json!r}"
    for k in ("title", "type"):
        if k in r.json:
            assert isinstance(r.json[k], str), f"problem {k} not a string: {r.json!r}"
    return r.json


# --------------------------------------------------------------------------
# The daemon

class Agentd:
    """`binary serve` on 127.0.0.1:<free port> with a fresh data dir.

    token:    passed as --token (and used by .http() by default)
    host:    --host value (default 127.0.0.1; health is always polled on
        127.0.0.1)
    extra_args: appended after the standard arguments
    env:    added to the environment (AGENTD_* of the caller's env removed)
    start:    False to construct without starting (call .start())
    """

    def __init__(self, binary, token=None, extra_args=(), env=None,
        host=HOST, port=None, data_dir=None, log_level="debug",
        start=True):
        self.binary = os.path.abspath(binary)
        self.token = token
        self.extra_args = list(extra_args)
        self.env = env
        self.host = host
        self.port = port or free_port()
        self.log_level = log_level
        self.tmp = tempfile.mkdtemp(prefix="agentd-it-")
        self.data_dir = os.path.abspath(data_dir or os.path.join(self.tmp, "data"))
        os.makedirs(self.data_dir, exist_ok=True)
        # agentd's cwd, so sessions created without "cwd" work in here
        self.cwd = os.path.join(self.tmp, "cwd")
        os.makedirs(self.cwd, exist_ok=True)
        self.stderr_path = os.path.join(self.tmp, "stderr.log")
        self.stdout_path = os.path.join(self.tmp, "stdout.log")
        self.proc = None
        self.returncode = None
        self.starts = 0
        LIVE.append(self)
        if start:
            self.start()

    # -- lifecycle

    @property
    def url(self):
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def argv(self):
        a = [self.binary, "serve", "--host", self.host, "--port",
            str(self.port), "--data-dir", self.data_dir]
        if self.token is not None:
            a += ["--token", self.token]
        if self.log_level:
            a += ["--log-level", self.log_level]
        return a + self.extra_args

    def start(self, timeout=START_TIMEOUT):
        """Start and wait for GET /v1/health to answer 200."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        if not os.path.exists(self.binary):
            raise AssertionError(f"agentd binary not found: {self.binary}")
        self.starts += 1
        # Append: a restart keeps the earlier stderr for failure reports.
        err = open(self.stderr_path, "ab")
        out = open(self.stdout_path, "ab")
        try:
            self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL,
                stdout=out, stderr=err, env=clean_env(self.env),
                cwd=self.cwd, start_new_session=True)
        finally:
            err.close()
            out.close()
        self.returncode = None
        t0 = time.monotonic()
        self.startup_s = None
        while True:
            rc = self.proc.poll()
            if rc is not None:
                self.returncode = rc
                raise AssertionError(f"agentd exited with {rc} during startup; "
                    f"stderr tail:\n{tail(self.stderr_text())}")
            if self._health_once():
                self.startup_s = time.monotonic() - t0
                return self
            if time.monotonic() - t0 > timeout:
                self.kill9()
                raise AssertionError(f"agentd did not answer /v1/health within "
                    f"{timeout}s; stderr tail:\n{tail(self.stderr_text())}")
            time.sleep(START_POLL)

    def _health_once(self):
        try:
            c = hc.HTTPConnection(HOST, self.port, timeout=0.5)
            try:
                c.request("GET", "/v1/health")
                r = c.getresponse()
                r.read()
                return r.status == 200
            finally:
                c.close()
        except (OSError, hc.HTTPException):
            return False

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout):
        """Exit code, or raise AssertionError if still running after timeout."""
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"agentd (pid {self.pid}) still running after "
                f"{timeout}s") from None
        return self.returncode

    def stop(self, sig=signal.SIGTERM, timeout=5):
        """Send sig, wait up to timeout; return the exit code (negative:
        killed by that signal). If it does not exit, SIGKILL it and raise."""
        if self.proc is None:
            return None
        if self.proc.poll() is not None:
            self.returncode = self.proc.returncode
            return self.returncode
        self.proc.send_signal(sig)
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            raise AssertionError(f"agentd did not exit within {timeout}s of "
                f"{signal.Signals(sig).name}") from None
        return self.returncode

    def kill9(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.kill()
            self.returncode = self.proc.wait()
        return self.returncode

    def restart(self, sig=signal.SIGTERM, timeout=5):
        """Stop (if running) and start again on the same port and data dir."""
        if self.running():
            self.stop(sig, timeout)
        return self.start()

    def cleanup(self):
        """Kill if running and remove the temp dir (unless AGENTD_KEEP_TMP)."""
        self.kill9()
        if self in LIVE:
            LIVE.remove(self)
        if not os.environ.get("AGENTD_KEEP_TMP"):
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.running():
            try:
                self.stop(timeout=5)
            except AssertionError:
                pass
        self.kill9()
        return False

    # -- observation

    def stderr_text(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def stdout_text(self):
        try:
            with open(self.stdout_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_lines(self):
        """stderr parsed line by line; raises AssertionError on a line that
        is not one JSON object."""
        out = []
        for i, line in enumerate(self.stderr_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                o = json.loads(line)
            except ValueError:
                raise AssertionError(f"stderr line {i} is not JSON: {line[:300]!r}") from None
            assert isinstance(o, dict), f"stderr line {i} is not a JSON object: {line[:300]!r}"
            out.append(o)
        return out

    def rss_kib(self, pid=None):
        """VmRSS of the process (or of pid) in KiB, from /proc/PID/status."""
        with open(f"/proc/{pid or self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS in /proc status")

    # -- clients

    def http(self, method, path, body=None, headers=None, token=_DEFAULT,
        timeout=HTTP_TIMEOUT, conn=None):
        """See http(); token defaults to this daemon's token."""
        if token is _DEFAULT:
            token = self.token
        return http(self.port, method, path, body, headers, token, timeout, conn)

    def connection(self, timeout=HTTP_TIMEOUT):
        """A keep-alive hc.HTTPConnection to this daemon."""
        return hc.HTTPConnection(HOST, self.port, timeout=timeout)

    def raw_request(self, data, read_timeout=5.0, shutdown_write=False):
        return raw_request(self.port, data, read_timeout, shutdown_write)

    def sse(self, path, token=_DEFAULT, **kw):
        return SSEClient(self.port, path, self.token if token is _DEFAULT else token, **kw)

    def ws(self, path, token=_DEFAULT, **kw):
        return WSClient(self.port, path, self.token if token is _DEFAULT else token, **kw)


# --------------------------------------------------------------------------
# A buffered socket with per-read deadlines (shared by SSE and WS)

# (ssl.SSLContext, server_hostname) to speak TLS, as to a proxy in front
# of agentd (tests/proxy); None for plain TCP.
TLS = None


class _Conn:
    def __init__(self, port, timeout):
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if TLS is not None:
            self.sock = TLS[0].wrap_socket(self.sock, server_hostname=TLS[1])
        self.buf = bytearray()
        self.eof = False

    def _fill(self, deadline):
        """Read once more into buf. False on EOF; TimeoutError at deadline."""
        if self.eof:
            return False
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("read timed out")
        self.sock.settimeout(left)
        try:
            b = self.sock.recv(65536)
        except socket.timeout:
            raise TimeoutError("read timed out") from None
        except ConnectionResetError:
            b = b""
        if not b:
            self.eof = True
            return False
        self.buf += b
        return True

    def read_exact(self, n, deadline):
        while len(self.buf) < n:
            if not self._fill(deadline):
                raise EOFError(f"connection closed ({len(self.buf)} of {n} bytes)")
        b = bytes(self.buf[:n])
        del self.buf[:n]
        return b

    def read_until(self, sep, deadline, limit=1 << 20):
        while True:
            i = self.buf.find(sep)
            if i >= 0:
                b = bytes(self.buf[:i + len(sep)])
                del self.buf[:i + len(sep)]
                return b
            if len(self.buf) > limit:
                raise AssertionError(f"no {sep!r} within {limit} bytes")
            if not self._fill(deadline):
                raise EOFError("connection closed")

    def read_some(self, deadline):
        """Whatever is buffered, or one recv; b'' on EOF."""
        if not self.buf:
            self._fill(deadline)
        b = bytes(self.buf)
        self.buf.clear()
        return b

    def read_head(self, deadline):
        """Status line and headers: (status, reason, {lowercased: value})."""
        head = self.read_until(b"\r\n\r\n", deadline).decode("latin-1")
        lines = head.split("\r\n")
        parts = lines[0].split(" ", 2)
        assert parts[0].startswith("HTTP/1."), f"bad status line {lines[0]!r}"
        hdrs = {}
        for line in lines[1:]:
            if line:
                k, _, v = line.partition(":")
                hdrs[k.strip().lower()] = v.strip()
        return int(parts[1]), (parts[2] if len(parts) > 2 else ""), hdrs

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def _request_head(method, path, port, headers, body):
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def with_query(path, **params):
    """path with the non-None params appended as a query string."""
    q = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
    if not q:
        return path
    return path + ("&" if "?" in path else "?") + q


# --------------------------------------------------------------------------
# Server-Sent Events

SSEEvent = namedtuple("SSEEvent", "id event data raw")


class SSEClient:
    """GET (or POST with body) a text/event-stream and read it as it comes.

    c = SSEClient(port, "/v1/sessions/s/events/sse", token, offset=0)
    ev = c.next(timeout=5)  -> SSEEvent(id, event, data, raw) or None at EOF
        data is the parsed JSON (or the text when not JSON), raw the text.
    c.comments / c.heartbeats: count of comment lines (": ...") seen.
    c.status, c.headers: the response head (a non-200 answer keeps the
    body in c.body and yields no event).
    """

    def __init__(self, port, path, token=None, offset=None, last_event_id=None,
        method="GET", body=None, headers=None, timeout=HTTP_TIMEOUT,
        token_in_query=False):
        if offset is not None:
            path = with_query(path, offset=offset)
        if token is not None and token_in_query:
            path = with_query(path, access_token=token)
            token = None
        h = _auth_headers(token, {"Accept": "text/event-stream"})
        if last_event_id is not None:
            h["Last-Event-ID"] = str(last_event_id)
        if headers:
            h.update(headers)
        data = _encode_body(body, h)
        self.comments = 0
        self.comment_lines = []
        self.events = []
        self.last_id = None
        self.body = b""
        self.conn = _Conn(port, timeout)
        self.conn.sock.sendall(_request_head(method, path, port, h, data) + (data or b""))
        deadline = time.monotonic() + timeout
        self.status, self.reason, self.headers = self.conn.read_head(deadline)
        self.chunked = "chunked" in self.headers.get("transfer-encoding", "").lower()
        self._chunk_left = 0
        n = self.headers.get("content-length")
        self._length = None if self.chunked or n is None else int(n)
        self._text = ""        # decoded, not yet parsed
        self._pending = b""    # undecoded tail of a split UTF-8 char
        self._done = False
        self._field = {}
        self._data = []
        if self.status != 200:
            self.body = self._read_all(deadline)
            self._done = True

    @property
    def heartbeats(self):
        return self.comments

    def _read_all(self, deadline):
        out = bytearray()
        try:
            while True:
                b = self._body_bytes(deadline)
                if not b:
                    break
                out += b
        except TimeoutError:
            pass
        return bytes(out)

    def _body_bytes(self, deadline):
        """Next body bytes after transfer decoding; b'' at the end."""
        if not self.chunked:
            if self._length is None:
                return self.conn.read_some(deadline)
            if self._length == 0:
                return b""
            b = self.conn.read_some(deadline)[:self._length]
            self._length -= len(b)
            return b
        if self._chunk_left == 0:
            line = self.conn.read_until(b"\r\n", deadline)
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                self.conn.read_until(b"\r\n", deadline)    # trailer end
                return b""
            self._chunk_left = size
        if not self.conn.buf:
            self.conn._fill(deadline)
        b = bytes(self.conn.buf[:self._chunk_left])
        del self.conn.buf[:len(b)]
        self._chunk_left -= len(b)
        if self._chunk_left == 0:
            self.conn.read_exact(2, deadline)    # CRLF after the chunk
        return b

    def _line(self):
        """Pop one complete line (any of \\r\\n, \\n, \\r) or None."""
        t = self._text
        for i, ch in enumerate(t):
            if ch == "\n":
                self._text = t[i + 1:]
                return t[:i]
            if ch == "\r":
                if i + 1 == len(t):
                    return None    # could be \r\n split across reads
                self._text = t[i + 2:] if t[i + 1] == "\n" else t[i + 1:]
                return t[:i]
        return None

    def _dispatch(self):
        data = "\n".join(self._data)
        ev = None
        if self._data:
            obj = parse_json(data)
            ev = SSEEvent(self._field.get("id", self.last_id),
                self._field.get("event", "message"),
                data if obj is None else obj, data)
            self.events.append(ev)
        self._field = {}
        self._data = []
        return ev

    def next(self, timeout=5.0):
        """The next event; None when the stream ended; TimeoutError if none
        arrives within timeout."""
        deadline = time.monotonic() + timeout
        while True:
            while True:
                line = self._line()
                if line is None:
                    break
                if line == "":
                    ev = self._dispatch()
                    if ev is not None:
                        return ev
                    continue
                if line.startswith(":"):
                    self.comments += 1
                    self.comment_lines.append(line)
                    continue
                name, _, value = line.partition(":")
                if value.startswith(" "):
                    value = value[1:]
                if name == "data":
                    self._data.append(value)
                elif name == "id":
                    self._field["id"] = value
                    self.last_id = value
                elif name in ("event", "retry"):
                    self._field[name] = value
            if self._done:
                return None
            b = self._body_bytes(deadline)
            if not b:
                self._done = True
                continue
            self._pending += b
            try:
                self._text += self._pending.decode("utf-8")
                self._pending = b""
            except UnicodeDecodeError as e:
                if e.start < len(self._pending) - 3:
                    raise
                self._text += self._pending[:e.start].decode("utf-8")
                self._pending = self._pending[e.start:]

    def next_event(self, timeout=5.0):
        ev = self.next(timeout)
        return None if ev is None else ev.data

    def __iter__(self):
        while True:
            ev = self.next()
            if ev is None:
                return
            yield ev

    def close(self):
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# --------------------------------------------------------------------------
# WebSocket (RFC 6455)

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10


class WSHandshakeError(AssertionError):
    def __init__(self, status, headers, body):
        super().__init__(f"websocket handshake answered {status}: {body[:300]!r}")
        self.status, self.headers, self.body = status, headers, body
        self.json = parse_json(body)


class WSClosed(Exception):
    def __init__(self, code, reason):
        super().__init__(f"websocket closed by server: {code} {reason!r}")
        self.code, self.reason = code, reason


class WSClient:
    """ws = WSClient(port, "/v1/sessions/s/events/ws?offset=0", token)
    ws.send_json({...}); ws.recv_json(timeout) -> object
    ws.recv(timeout) -> (opcode, payload bytes) of one whole message
    Pings are answered with pongs as they arrive (counted in ws.pings).
    A close frame from the server raises WSClosed (ws.close_code set)."""

    def __init__(self, port, path, token=None, offset=None, headers=None,
        timeout=HTTP_TIMEOUT, token_in_query=False, auto_pong=True):
        if offset is not None:
            path = with_query(path, offset=offset)
        if token is not None and token_in_query:
            path = with_query(path, access_token=token)
            token = None
        key = base64.b64encode(os.urandom(16)).decode()
        h = _auth_headers(token, {"Upgrade": "websocket", "Connection": "Upgrade",
            "Sec-WebSocket-Key": key, "Sec-WebSocket-Version": "13"})
        if headers:
            h.update(headers)
        self.auto_pong = auto_pong
        self.pings = 0
        self.pongs = []
        self.replies = []    # {"reply_to"...} messages skipped by next_event
        self.pending_events = []    # events read by request()
        self.close_code = None
        self.close_reason = None
        self._sent_close = False
        self.conn = _Conn(port, timeout)
        self.conn.sock.sendall(_request_head("GET", path, port, h, None))
        deadline = time.monotonic() + timeout
        self.status, _, self.headers = self.conn.read_head(deadline)
        if self.status != 101:
            body = b""
            n = self.headers.get("content-length")
            try:
                body = self.conn.read_exact(int(n), deadline) if n else b""
            except (EOFError, TimeoutError):
                pass
            self.conn.close()
            raise WSHandshakeError(self.status, self.headers, body)
        want = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        assert self.headers.get("upgrade", "").lower() == "websocket", \
            f"101 without Upgrade: websocket: {self.headers}"
        assert "upgrade" in self.headers.get("connection", "").lower(), \
            f"101 without Connection: Upgrade: {self.headers}"
        assert self.headers.get("sec-websocket-accept") == want, \
            f"Sec-WebSocket-Accept {self.headers.get('sec-websocket-accept')!r}, want {want!r}"

    # -- frames

    def send_frame(self, opcode, payload=b"", fin=True):
        n = len(payload)
        head = bytearray([(0x80 if fin else 0) | opcode])
        if n < 126:
            head.append(0x80 | n)
        elif n < 65536:
            head.append(0x80 | 126)
            head += struct.pack("!H", n)
        else:
            head.append(0x80 | 127)
            head += struct.pack("!Q", n)
        mask = os.urandom(4)
        head += mask
        # XOR with the mask, a whole int at a time
        m = (mask * (n // 4 + 1))[:n]
        masked = (int.from_bytes(payload, "big") ^ int.from_bytes(m, "big")).to_bytes(n, "big")
        self.conn.sock.sendall(bytes(head) + masked)

    def send_text(self, text):
        self.send_frame(OP_TEXT, text.encode())

    def send_json(self, obj):
        self.send_text(json.dumps(obj))

    def ping(self, payload=b""):
        self.send_frame(OP_PING, payload)

    def _read_frame(self, deadline):
        b0, b1 = self.conn.read_exact(2, deadline)
        fin, rsv, op = b0 & 0x80, b0 & 0x70, b0 & 0x0F
        assert not rsv, f"RSV bits set without an extension: {b0:#x}"
        assert not b1 & 0x80, "server frame is masked (RFC 6455 5.1 forbids it)"
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self.conn.read_exact(2, deadline))[0]
        elif n == 127:
            n = struct.unpack("!Q", self.conn.read_exact(8, deadline))[0]
        if op >= 8:
            assert fin and n <= 125, f"bad control frame op={op} fin={fin} len={n}"
        return bool(fin), op, self.conn.read_exact(n, deadline)

    def recv(self, timeout=5.0):
        """One whole data message: (OP_TEXT|OP_BINARY, bytes). Answers pings
        meanwhile. Raises WSClosed on a close frame, TimeoutError, EOFError."""
        deadline = time.monotonic() + timeout
        msg_op, parts = None, []
        while True:
            fin, op, payload = self._read_frame(deadline)
            if op == OP_PING:
                self.pings += 1
                if self.auto_pong and not self._sent_close:
                    self.send_frame(OP_PONG, payload)
                continue
            if op == OP_PONG:
                self.pongs.append(payload)
                continue
            if op == OP_CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                self.close_code, self.close_reason = code, payload[2:].decode("utf-8", "replace")
                if not self._sent_close:
                    self._sent_close = True
                    try:
                        self.send_frame(OP_CLOSE, payload[:2])
                    except OSError:
                        pass
                raise WSClosed(code, self.close_reason)
            if op == OP_CONT:
                assert msg_op is not None, "continuation frame without a start"
                parts.append(payload)
            elif op in (OP_TEXT, OP_BINARY):
                assert msg_op is None, "new data frame inside a fragmented message"
                msg_op, parts = op, [payload]
            else:
                raise AssertionError(f"unknown opcode {op}")
            if fin:
                data = b"".join(parts)
                if msg_op == OP_TEXT:
                    data.decode("utf-8")    # must be valid UTF-8
                return msg_op, data

    def recv_text(self, timeout=5.0):
        op, data = self.recv(timeout)
        assert op == OP_TEXT, f"expected a text message, got opcode {op}"
        return data.decode("utf-8")

    def recv_json(self, timeout=5.0):
        t = self.recv_text(timeout)
        try:
            return json.loads(t)
        except ValueError:
            raise AssertionError(f"text frame is not JSON: {t[:300]!r}") from None

    def next_event(self, timeout=5.0):
        """The next message that is not a command reply (those go to
        self.replies); None after the server closed."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                m = self.recv_json(max(0.0, deadline - time.monotonic()))
            except (WSClosed, EOFError):
                return None
            if isinstance(m, dict) and "reply_to" in m:
                self.replies.append(m)
                continue
            return m

    def request(self, obj, timeout=5.0):
        """Send a command and wait for the {"reply_to": ...} answering it.
        Events read meanwhile are kept in self.pending_events."""
        self.send_json(obj)
        deadline = time.monotonic() + timeout
        while True:
            m = self.recv_json(max(0.0, deadline - time.monotonic()))
            if isinstance(m, dict) and "reply_to" in m:
                return m
            self.pending_events.append(m)

    def close(self, code=1000, reason="", timeout=5.0):
        """Close handshake: send close, wait for the server's close (data
        frames read meanwhile are dropped), then close the socket. Returns
        the server's close code or None if it did not answer."""
        try:
            if not self._sent_close:
                self._sent_close = True
                self.send_frame(OP_CLOSE, struct.pack("!H", code) + reason.encode())
            if self.close_code is None:
                deadline = time.monotonic() + timeout
                while True:
                    fin, op, payload = self._read_frame(deadline)
                    if op == OP_CLOSE:
                        self.close_code = struct.unpack("!H", payload[:2])[0] \
                            if len(payload) >= 2 else 1005
                        break
        except (OSError, EOFError, TimeoutError):
            pass
        finally:
            self.conn.close()
        return self.close_code

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.conn.close()


# --------------------------------------------------------------------------
# Helpers

def cpu_ticks(pid):
    """CPU time pid has used, user and system, in clock ticks (100 a
    second here): a loop spinning for 1 s adds 100."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def wait_for(pred, timeout=5.0, interval=0.01, msg=None):
    """Call pred until it returns something truthy; return that. Raise
    AssertionError after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(msg or f"condition not met within {timeout}s: "
                f"{getattr(pred, '__name__', pred)}")
        time.sleep(interval)


def collect_events(client, count=None, until=None, timeout=10.0):
    """Read events from an SSEClient or WSClient (anything with
    next_event(timeout)) until `count` events were read, or an event for
    which until(event) is true was read (it is included), or the stream
    ended. AssertionError when the deadline passes first.

    Returns the event dicts (for SSE the parsed `data:`; the SSEEvent
    records with their `id:` stay in sse_client.events; WS command replies
    go to ws_client.replies), so SSE and WS results compare equal."""
    deadline = time.monotonic() + timeout
    out = []
    while True:
        if count is not None and len(out) >= count:
            return out
        left = deadline - time.monotonic()
        try:
            if left <= 0:
                raise TimeoutError
            ev = client.next_event(left)
        except TimeoutError:
            raise AssertionError(f"timed out after {timeout}s with {len(out)} events; "
                f"last: {[e.get('type') if isinstance(e, dict) else e for e in out[-5:]]}") from None
        if ev is None:
            if count is None and until is None:
                return out
            raise AssertionError(f"stream ended after {len(out)} events "
                f"(wanted count={count}, until={until})")
        out.append(ev)
        if until is not None and until(ev):
            return out


def fetch_events(agentd, session, offset=0, limit=None, token=_DEFAULT):
    """All events after offset through GET /v1/sessions/{id}/events, paging
    while hasMore. Shape: {"events": [event…], "hasMore": bool}."""
    out = []
    while True:
        path = with_query(f"/v1/sessions/{session}/events", offset=offset, limit=limit)
        r = agentd.http("GET", path, token=token)
        assert r.status == 200, f"GET {path}: {r.status} {r.body[:300]!r}"
        assert isinstance(r.json, dict) and isinstance(r.json.get("events"), list) \
            and isinstance(r.json.get("hasMore"), bool), f"bad events page: {r.body[:300]!r}"
        out += r.json["events"]
        if not r.json["hasMore"]:
            return out
        assert r.json["events"], "hasMore with an empty page"
        offset = r.json["events"][-1]["sequence"]


def check_contiguous(events, offset=0):
    """Assert that the events' sequences are offset+1 … offset+N with no gap
    or duplicate. Accepts event dicts or SSEEvent (data is used; when the
    SSE id is set it must equal the sequence)."""
    want = offset + 1
    for i, ev in enumerate(events):
        if isinstance(ev, SSEEvent):
            assert isinstance(ev.data, dict), f"SSE event #{i} data is not a JSON object: {ev.raw[:200]!r}"
            if ev.id is not None and ev.id != "":
                assert ev.id == str(ev.data.get("sequence")), \
                    f"SSE id {ev.id!r} != sequence {ev.data.get('sequence')!r}"
            ev = ev.data
        seq = ev.get("sequence") if isinstance(ev, dict) else None
        assert seq == want, (f"event #{i}: sequence {seq!r}, want {want} "
            f"(type {ev.get('type') if isinstance(ev, dict) else ev!r})")
        want += 1
    return want - 1
