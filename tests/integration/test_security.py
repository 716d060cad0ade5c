"""Security: auth on every route, the token kept secret, CORS, size limits.

The routes come from supervisor/http/api.c's route table (parsed here), so a
new route is covered without editing this file.
"""

import os
import re
import socket
import time

from agentd import HOST, Agentd, WSClosed, WSHandshakeError, cpu_ticks, \
    unpatched_lws, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FAKE = os.path.join(ROOT, "tests", "chaos", "agents", "fakeacp.py")
TOKEN = "tk-SECRET-4a9c1e77d2"
# Routes that need no token, by design: health, and the inspector page
# (it asks for the token itself, docs/api.md).
PUBLIC = {"/v1/health", "/ui", "/ui/", "/ui/*"}


def routes():
    with open(os.path.join(ROOT, "supervisor", "http", "api.c")) as f:
        src = f.read()
    table = src[src.index("api_routes[] = {"):]
    table = table[:table.index("};")]
    out = re.findall(r'\{\s*HTTP_(\w+),\s*"([^"]+)"', table)
    assert len(out) >= 15, out
    return out


def concrete(pattern):
    parts = pattern.split("/")
    out = []
    for i, p in enumerate(parts):
        if p != "*":
            out.append(p)
        elif parts[i - 1] == "sessions":
            out.append("sec")
        elif parts[i - 1] == "agents":
            out.append("mock")
        elif parts[i - 1] == "ui":
            out.append("index.html")
        else:
            out.append("x1")
    return "/".join(out)


def status_line(port, method, path, headers=None, body=b""):
    """Send one request; return (status, head text) without reading a
    streaming body to its end."""
    h = {"Host": f"{HOST}:{port}", "Content-Length": str(len(body))}
    h.update(headers or {})
    req = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items()) + "\r\n"
    s = socket.create_connection((HOST, port), timeout=5)
    try:
        s.sendall(req.encode() + body)
        got = b""
        while b"\r\n\r\n" not in got:
            b = s.recv(65536)
            if not b:
                break
            got += b
    finally:
        s.close()
    if not got.startswith(b"HTTP/1."):
        return None, got.decode("latin-1")
    head = got.split(b"\r\n\r\n")[0].decode("latin-1")
    return int(head.split()[1]), head


def _hdr(head, name):
    for line in head.split("\r\n")[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == name.lower():
            return v.strip()
    return None


def test_every_route_needs_the_token(ctx):
    with Agentd(ctx.binary, token=TOKEN) as a:
        assert a.http("POST", "/v1/sessions/sec", {"agent": "mock"}).status == 200
        body = b'{"message":"hi","reply":"once","answers":[["Red"]]}'
        rts = routes()
        rts.sort(key=lambda r: r[0] == "DELETE" or r[1].endswith("terminate"))
        for method, pattern in rts:
            path = concrete(pattern)
            ws = {"Upgrade": "websocket", "Connection": "Upgrade",
                "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                "Sec-WebSocket-Version": "13"} if path.endswith("/ws") else {}
            for label, auth in (("none", {}), ("wrong", {"Authorization": "Bearer " + TOKEN + "x"}),
                    ("prefix", {"Authorization": "Bearer " + TOKEN[:-1]}),
                    ("basic", {"Authorization": "Basic " + TOKEN})):
                st, head = status_line(a.port, method, path, {**ws, **auth}, body)
                if pattern in PUBLIC:
                    assert st not in (None, 401), f"{method} {path} ({label}): {st}"
                    continue
                if ws and st is None:
                    continue    # lws closes a refused upgrade without an answer
                assert st == 401, f"{method} {path} with {label} token: {st}, want 401"
                assert (_hdr(head, "WWW-Authenticate") or "").startswith("Bearer"), head
            st, head = status_line(a.port, method, path,
                {**ws, "Authorization": "Bearer " + TOKEN}, body)
            assert st not in (None, 401), f"{method} {path} with the right token: {st}"
            # the query-string form, as a browser's EventSource uses
            st, _ = status_line(a.port, method, path + "?access_token=" + TOKEN, ws, body)
            assert st not in (None, 401), f"{method} {path}?access_token: {st}"
            st, _ = status_line(a.port, method, path + "?access_token=nope", ws, body)
            if pattern not in PUBLIC:
                assert st == 401 or (ws and st is None), \
                    f"{method} {path}?access_token=nope: {st}"


def _environ(pid):
    with open(f"/proc/{pid}/environ", "rb") as f:
        return f.read()


def test_token_not_logged_nor_given_to_agents(ctx):
    pidfile = os.path.join(ctx.agentd().tmp, "pids")
    with Agentd(ctx.binary, token=TOKEN, env={"AGENTD_TOKEN": TOKEN,
            "FAKEACP_PIDFILE": pidfile}, log_level="debug") as a:
        assert a.http("POST", "/v1/sessions/m", {"agent": "mock"}).status == 200
        r = a.http("POST", "/v1/sessions/f", {"agent": "acp",
            "agentCommand": ["python3", FAKE, "ok"], "env": {"X_SAFE": "1"}})
        assert r.status == 200, r.body
        pids = []
        for sid in ("m", "f"):
            pids.append(wait_for(lambda: a.http("GET", f"/v1/sessions/{sid}").json.get("pid"), 5))
        for sid in ("m", "f"):
            assert a.http("POST", f"/v1/sessions/{sid}/messages", {"message": "hi " + TOKEN[:4]}).status == 204
        status_line(a.port, "GET", "/v1/sessions?access_token=" + TOKEN)
        status_line(a.port, "GET", "/v1/sessions", {"Authorization": "Bearer " + TOKEN + "wrong"})
        status_line(a.port, "GET", "/v1/sessions/m/events/sse?access_token=" + TOKEN)
        time.sleep(0.3)
        agent_pids = set(pids)
        if os.path.exists(pidfile):
            agent_pids |= {int(x) for x in open(pidfile).read().split()}
        for pid in agent_pids:
            env = _environ(pid)
            assert TOKEN.encode() not in env, f"the token is in agent {pid}'s environment"
            assert b"AGENTD_TOKEN" not in env, f"AGENTD_TOKEN in agent {pid}'s environment"
        # Under valgrind (tests/valgrind) /proc/PID shows valgrind's own
        # copy of the environment and arguments, which agentd cannot
        # scrub; the agents' environments above are checked all the same.
        if os.environ.get("AGENTD_VALGRIND") != "1":
            assert TOKEN.encode() not in _environ(a.pid), "token left in agentd's environment"
            with open(f"/proc/{a.pid}/cmdline", "rb") as f:
                cmdline = f.read()
            assert TOKEN.encode() not in cmdline, "token left in agentd's command line"
            # Nor its length: a mask as long as the token tells it.
            masks = (b"*" * len(TOKEN), b"x" * len(TOKEN))
            assert not any(m in cmdline for m in masks), cmdline
            assert not any(m in _environ(a.pid) for m in masks), \
                "a mask of the token's length in agentd's environment"
            assert b"--token-fd" in cmdline, cmdline
        a.stop()
        assert TOKEN not in a.stderr_text(), "the token is in agentd's log"
        assert TOKEN not in a.stdout_text()


def test_cors_closed_by_default(ctx):
    with Agentd(ctx.binary, token=TOKEN) as a:
        st, head = status_line(a.port, "OPTIONS", "/v1/sessions", {
            "Origin": "http://evil.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type"})
        assert _hdr(head, "Access-Control-Allow-Origin") is None, head
        assert _hdr(head, "Access-Control-Allow-Credentials") is None, head
        # A foreign Origin is refused outright, even with the token
        # (issue 13: a page may not drive agentd through the user's browser).
        st, head = status_line(a.port, "GET", "/v1/sessions", {
            "Origin": "http://evil.example", "Authorization": "Bearer " + TOKEN})
        assert st == 403 and _hdr(head, "Access-Control-Allow-Origin") is None, head


def test_cors_open_only_to_listed_origins(ctx):
    ok = "http://ok.example:8080"
    with Agentd(ctx.binary, token=TOKEN, extra_args=["--cors-origin", ok,
            "--cors-origin", "https://two.example"]) as a:
        for origin in (ok, "https://two.example"):
            st, head = status_line(a.port, "OPTIONS", "/v1/sessions/s/messages", {
                "Origin": origin, "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type"})
            assert st == 204, f"preflight from {origin}: {st}\n{head}"
            assert _hdr(head, "Access-Control-Allow-Origin") == origin, head
            methods = (_hdr(head, "Access-Control-Allow-Methods") or "").upper()
            assert "POST" in methods, head
            allowed = (_hdr(head, "Access-Control-Allow-Headers") or "").lower()
            assert "authorization" in allowed, head
            st, head = status_line(a.port, "GET", "/v1/sessions", {
                "Origin": origin, "Authorization": "Bearer " + TOKEN})
            assert st == 200 and _hdr(head, "Access-Control-Allow-Origin") == origin, head
        for origin in ("http://evil.example", "http://ok.example", "http://ok.example:8080.evil",
                "null", ok + "/"):
            st, head = status_line(a.port, "OPTIONS", "/v1/sessions", {
                "Origin": origin, "Access-Control-Request-Method": "GET"})
            assert _hdr(head, "Access-Control-Allow-Origin") is None, f"{origin}: {head}"
            st, head = status_line(a.port, "GET", "/v1/sessions", {
                "Origin": origin, "Authorization": "Bearer " + TOKEN})
            assert _hdr(head, "Access-Control-Allow-Origin") is None, f"{origin}: {head}"
        # a 401 to an allowed origin still carries CORS, so the page can read it
        st, head = status_line(a.port, "GET", "/v1/sessions", {"Origin": ok})
        assert st == 401, st


def test_oversized_headers_refused(ctx):
    with Agentd(ctx.binary, token=TOKEN) as a:
        for size in (9 * 1024, 64 * 1024):
            st, head = status_line(a.port, "GET", "/v1/sessions", {
                "Authorization": "Bearer " + TOKEN, "X-Big": "b" * size})
            assert st is None or 400 <= st < 500, f"{size}-byte header: {st}"
        many = {f"X-H{i}": "v" * 100 for i in range(100)}
        many["Authorization"] = "Bearer " + TOKEN
        st, _ = status_line(a.port, "GET", "/v1/sessions", many)
        assert st is None or 400 <= st < 500, f"100 headers of 100 bytes: {st}"
        assert a.http("GET", "/v1/health").status == 200


def test_oversized_body_refused(ctx):
    with Agentd(ctx.binary, token=TOKEN, extra_args=["--max-body", "4096"]) as a:
        assert a.http("POST", "/v1/sessions/s", {"agent": "mock"}).status == 200
        r = a.http("POST", "/v1/sessions/s/messages", {"message": "m" * 5000})
        assert r.status == 413, f"{r.status} {r.body[:200]!r}"
        r = a.http("POST", "/v1/sessions/s/messages", {"message": "m" * 3000})
        assert r.status == 204, r.status
        # a lying Content-Length over the cap is refused before the body
        st, _ = status_line(a.port, "POST", "/v1/sessions/s/messages",
            {"Authorization": "Bearer " + TOKEN, "Content-Length": str(1 << 30)})
        assert st in (None, 413), st
        assert a.http("GET", "/v1/health").status == 200


def test_websocket_needs_token_in_handshake(ctx):
    with Agentd(ctx.binary, token=TOKEN) as a:
        assert a.http("POST", "/v1/sessions/s", {"agent": "mock"}).status == 200
        for tok in (None, "wrong"):
            try:
                a.ws("/v1/sessions/s/events/ws", token=tok)
                raise AssertionError(f"WebSocket accepted with token {tok!r}")
            except WSHandshakeError as e:
                assert e.status == 401, e.status
            except EOFError:
                pass    # closed without an answer: refused all the same
        ws = a.ws("/v1/sessions/s/events/ws", token_in_query=True)
        assert ws.next_event(5)["type"] == "session.started"
        ws.close()


def test_nul_in_path_refused(ctx):
    """%00 in the path must not cut it short: /v1/sessions/victim%00/x is
    not /v1/sessions/victim (a proxy that allows only some paths could be
    walked around)."""
    with Agentd(ctx.binary) as a:
        assert a.http("POST", "/v1/sessions/victim", {"agent": "mock"}).status == 200
        st, _ = status_line(a.port, "DELETE", "/v1/sessions/victim%00/events")
        assert a.http("GET", "/v1/sessions/victim").status == 200, \
            "DELETE /v1/sessions/victim%00/events deleted session victim"
        assert st in (None, 400, 404), st
        st, _ = status_line(a.port, "GET", "/v1/sessions/%00")
        assert st != 200, "GET /v1/sessions/%00 answered as GET /v1/sessions"
        st, _ = status_line(a.port, "POST", "/v1/sessions/new%00/cancel",
            body=b'{"agent":"mock"}')
        assert a.http("GET", "/v1/sessions/new").status == 404, \
            "POST /v1/sessions/new%00/cancel created session new"


def test_invalid_utf8_body_refused(ctx):
    """A JSON body that is not UTF-8 is refused (RFC 8259 8.1), and a
    WebSocket text frame that is not UTF-8 closes the connection with 1007
    (RFC 6455 8.1), so no invalid UTF-8 reaches the log and clients' text
    frames."""
    with Agentd(ctx.binary) as a:
        assert a.http("POST", "/v1/sessions/s", {"agent": "mock"}).status == 200
        r = a.http("POST", "/v1/sessions/s/messages", b'{"message":"bad \xff\xfe"}',
            headers={"Content-Type": "application/json"})
        assert r.status == 400, r.status
        ws = a.ws("/v1/sessions/s/events/ws")
        ws.send_frame(1, b'{"type":"message","message":"\xff","id":"u"}')
        _expect_ws_close(ws, 1007)
        with open(os.path.join(a.data_dir, "sessions", "s", "events.jsonl"), "rb") as f:
            text = f.read().decode("utf-8")
        assert '"user"' not in text, "the invalid frame became a message"


def _expect_ws_close(ws, code):
    """The server closes ws with this code (or drops it) and runs nothing."""
    try:
        while True:
            m = ws.recv_json(5)
            assert "reply_to" not in m, f"the bad frame was answered: {m}"
    except WSClosed as e:
        assert e.code == code, f"closed with {e.code}, want {code}"
    except (EOFError, ConnectionError):
        pass


def _raw_frame(ws, first, payload, masked=True):
    head = bytearray([first])
    mask = os.urandom(4) if masked else b""
    head.append((0x80 if masked else 0) | len(payload))
    data = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) \
        if masked else payload
    ws.conn.sock.sendall(bytes(head) + mask + data)


def test_websocket_protocol_errors_close(ctx):
    """RFC 6455: an unmasked client frame (5.1) and RSV1 without a
    negotiated extension (5.2) close the connection with 1002; neither is
    run as a command."""
    if unpatched_lws():
        return
    with Agentd(ctx.binary) as a:
        assert a.http("POST", "/v1/sessions/s", {"agent": "mock"}).status == 200
        cmd = b'{"type":"message","message":"hi"}'
        for first, masked in ((0x81, False), (0xC1, True)):
            ws = a.ws("/v1/sessions/s/events/ws")
            assert ws.next_event(5)["type"] == "session.started"
            _raw_frame(ws, first, cmd, masked)
            _expect_ws_close(ws, 1002)
            ws.conn.close()
        time.sleep(0.3)
        info = a.http("GET", "/v1/sessions/s").json
        assert info["eventCount"] == 1, f"a bad frame was run: {info}"


def test_no_token_with_a_body_is_refused(ctx):
    """Regression: a 401 decided at the headers was overwritten when the
    request had a body (server_dispatch ran at BODY_COMPLETION), so any
    POST with a body skipped auth: a tokenless create could run any
    agentCommand."""
    with Agentd(ctx.binary, token=TOKEN) as a:
        marker = os.path.join(a.tmp, "pwned")
        body = ('{"agent":"acp","agentCommand":["sh","-c","touch %s"]}' % marker).encode()
        st, _ = status_line(a.port, "POST", "/v1/sessions/evil", body=body)
        assert st == 401, st
        st, _ = status_line(a.port, "GET", "/v1/sessions", body=b"{}")
        assert st == 401, st
        time.sleep(0.3)
        assert not os.path.exists(marker), "an agent ran without the token"
        assert a.http("GET", "/v1/sessions/evil").status == 404


# --------------------------------------------------------------------------
# Issue 13: what an adversarial pass broke. Each test failed before.

PWN = '{"agent":"acp","agentCommand":["sh","-c","touch %s"]}'
# A page on a long (valid) DNS name: its Origin does not fit agentd's
# buffer for it, and was once taken for no Origin at all.
LONG_ORIGIN = "http://" + ".".join(["a" * 60] * 4) + ".evil.example"


def _pwn_attempts(a, marker, token):
    """The cross-site requests a page in the user's browser can make with
    no preflight (a form, fetch no-cors, text/plain), or with a foreign
    Origin: none may create a session or run its command."""
    auth = {"Authorization": "Bearer " + token} if token else {}
    body = (PWN % marker).encode()
    evil = "http://evil.example"
    cases = [
        ({"Content-Type": "text/plain", "Origin": evil}, 403),
        ({"Content-Type": "text/plain", "Origin": LONG_ORIGIN}, 403),
        ({"Content-Type": "text/plain"}, 415),
        ({"Content-Type": "application/x-www-form-urlencoded"}, 415),
        ({"Content-Type": "multipart/form-data; boundary=x"}, 415),
        ({}, 415),
        ({"Content-Type": "application/json", "Origin": evil}, 403),
        ({"Content-Type": "application/json", "Origin": "null"}, 403),
        ({"Content-Type": "application/json", "Host": "attacker.example"}, 421),
        ({"Content-Type": "application/json",
          "Host": f"rebind.attacker.example:{a.port}"}, 421),
    ]
    for i, (h, want) in enumerate(cases):
        st, head = status_line(a.port, "POST", f"/v1/sessions/x{i}",
            {**auth, **h}, body)
        assert st == want, f"{h}: {st}, want {want}\n{head}"
    time.sleep(0.3)
    assert not os.path.exists(marker), "a cross-site request ran a command"
    for i in range(len(cases)):
        assert a.http("GET", f"/v1/sessions/x{i}").status == 404


def test_cross_site_requests_refused_without_token(ctx):
    with Agentd(ctx.binary) as a:
        _pwn_attempts(a, os.path.join(a.tmp, "pwned"), None)
        # The page's own origin (the inspector at /ui/) still works.
        r = a.http("POST", "/v1/sessions/own", {"agent": "mock"},
            headers={"Origin": f"http://{HOST}:{a.port}"})
        assert r.status == 200, r.body


def test_cross_site_requests_refused_with_token(ctx):
    with Agentd(ctx.binary, token=TOKEN) as a:
        _pwn_attempts(a, os.path.join(a.tmp, "pwned"), TOKEN)


def test_foreign_origin_websocket_refused(ctx):
    with Agentd(ctx.binary) as a:
        assert a.http("POST", "/v1/sessions/s", {"agent": "mock"}).status == 200
        for origin in ("http://evil.example", "null",
                f"http://localhost.evil.example:{a.port}"):
            try:
                ws = a.ws("/v1/sessions/s/events/ws",
                    headers={"Origin": origin})
            except (WSHandshakeError, OSError, EOFError):
                continue
            ws.close()
            raise AssertionError(f"WebSocket from Origin {origin} accepted")
        try:
            a.ws("/v1/sessions/s/events/ws",
                headers={"Host": "rebind.example"}).close()
            raise AssertionError("WebSocket with a foreign Host accepted")
        except (WSHandshakeError, OSError, EOFError):
            pass
        ws = a.ws("/v1/sessions/s/events/ws",
            headers={"Origin": f"http://{HOST}:{a.port}"})
        assert ws.next_event(5)["type"] == "session.started"
        ws.close()


def test_long_origin_is_foreign(ctx):
    """An Origin too long to compare is refused like any foreign one, on
    a GET, a body-less POST and a WebSocket upgrade; the page's own
    origin still passes."""
    with Agentd(ctx.binary) as a:
        assert a.http("POST", "/v1/sessions/s", {"agent": "mock"}).status == 200
        state = a.http("GET", "/v1/sessions/s").json["state"]
        for method, path in (("GET", "/v1/sessions"),
                ("GET", "/v1/sessions/s/events?offset=0"),
                ("POST", "/v1/sessions/s/terminate")):
            st, head = status_line(a.port, method, path,
                {"Origin": LONG_ORIGIN})
            assert st == 403, f"{method} {path}: {st}\n{head}"
        try:
            ws = a.ws("/v1/sessions/s/events/ws",
                headers={"Origin": LONG_ORIGIN})
        except (WSHandshakeError, OSError, EOFError):
            pass
        else:
            ws.close()
            raise AssertionError("WebSocket from a long Origin accepted")
        assert a.http("GET", "/v1/sessions/s").json["state"] == state
        st, _ = status_line(a.port, "GET", "/v1/sessions",
            {"Origin": f"http://{HOST}:{a.port}"})
        assert st == 200


def test_cross_site_loads_without_origin_refused(ctx):
    """A page's <img>, <script> or <iframe> source, or a no-cors GET, has
    no Origin; the browser marks it with Sec-Fetch-Site. One from another
    site (or another port of this host) is refused, so an export (which
    pauses the session's agent) cannot be set off blindly; the user
    opening a URL (a top-level navigation) and clients that send no
    Sec-Fetch-* pass."""
    with Agentd(ctx.binary) as a:
        assert a.http("POST", "/v1/sessions/s", {"agent": "mock"}).status == 200
        before = a.http("GET", "/v1/sessions/s").json
        for site in ("cross-site", "same-site"):
            for mode, dest in (("no-cors", "image"), ("no-cors", "script"),
                    ("navigate", "iframe"), ("cors", "empty")):
                h = {"Sec-Fetch-Site": site, "Sec-Fetch-Mode": mode,
                    "Sec-Fetch-Dest": dest}
                for path in ("/v1/sessions/s/export", "/v1/health", "/ui/"):
                    st, head = status_line(a.port, "GET", path, h)
                    assert st == 403, f"{path} {h}: {st}\n{head}"
        time.sleep(0.3)
        after = a.http("GET", "/v1/sessions/s").json
        assert (after["state"], after.get("pid")) == \
            (before["state"], before.get("pid")), (before, after)
        for h in ({"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate",
                   "Sec-Fetch-Dest": "document"},
                  {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "no-cors",
                   "Sec-Fetch-Dest": "image"},
                  {"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate"},
                  {"Sec-Fetch-Mode": "cors"}, {}):
            st, head = status_line(a.port, "GET", "/v1/sessions", h)
            assert st == 200, f"{h}: {st}\n{head}"


def test_allowed_hosts_and_origins(ctx):
    with Agentd(ctx.binary, extra_args=["--allow-host", "box.example",
            "--cors-origin", "https://app.example"]) as a:
        for host in ("box.example", f"box.example:{a.port}",
                f"localhost:{a.port}", f"[::1]:{a.port}", "10.1.2.3"):
            st, head = status_line(a.port, "GET", "/v1/sessions",
                {"Host": host})
            assert st == 200, f"Host {host}: {st}"
        for host in ("other.example", "box.example.evil", "box.example:x",
                "a b"):
            st, _ = status_line(a.port, "GET", "/v1/sessions", {"Host": host})
            assert st in (400, 421), f"Host {host}: {st}"
        st, head = status_line(a.port, "GET", "/v1/sessions",
            {"Origin": "https://app.example"})
        assert st == 200 and _hdr(head, "Access-Control-Allow-Origin") == \
            "https://app.example", head
        # health stays reachable through any proxy, but not by a rebound name
        st, _ = status_line(a.port, "GET", "/v1/health")
        assert st == 200


def test_request_smuggling_refused(ctx):
    """RFC 9112 6.3: Content-Length with Transfer-Encoding, or two
    Content-Lengths, is answered 400 and the connection closed, so the
    leftover bytes are never answered as a second request."""
    with Agentd(ctx.binary) as a:
        second = (b"GET /v1/sessions HTTP/1.1\r\nHost: localhost\r\n\r\n")
        body = b'{"agent":"mock"}'
        heads = [
            b"Content-Length: 16\r\nTransfer-Encoding: chunked\r\n",
            b"Transfer-Encoding: chunked\r\nContent-Length: 16\r\n",
            b"Content-Length: 16\r\nContent-Length: 60\r\n",
            b"Content-Length: 16\r\nContent-Length: 16\r\n",
        ]
        for i, h in enumerate(heads):
            req = (b"POST /v1/sessions/sm%d HTTP/1.1\r\nHost: localhost\r\n"
                b"Content-Type: application/json\r\n" % i + h + b"\r\n" +
                body + second)
            r = a.raw_request(req, read_timeout=3)
            assert r.data.startswith(b"HTTP/1.1 400"), (h, r.data[:200])
            assert r.data.count(b"HTTP/1.1 ") == 1, \
                f"leftover answered as a request: {r.data!r}"
            assert r.closed, "connection left open after a smuggling attempt"
            assert a.http("GET", f"/v1/sessions/sm{i}").status == 404


def test_content_length_forms(ctx):
    """Spaces or a tab around Content-Length's value are allowed (RFC 9110
    5.5) and were refused as "not a number"; a number too big for any
    body is 413, not "not a number"; words and signs stay 400."""
    with Agentd(ctx.binary) as a:
        body = b'{"agent":"mock"}'
        cases = ((b"Content-Length: 16 ", 200), (b"Content-Length:\t16", 200),
            (b"Content-Length: \t16\t ", 200),
            (b"Content-Length: 9223372036854775807", 413),
            (b"Content-Length: 1 6", 400), (b"Content-Length: -16", 400),
            (b"Content-Length: +16", 400), (b"Content-Length: 0x10", 400))
        for i, (h, want) in enumerate(cases):
            req = (b"POST /v1/sessions/cl%d HTTP/1.1\r\nHost: localhost\r\n"
                b"Content-Type: application/json\r\n" % i + h + b"\r\n\r\n" +
                body)
            r = a.raw_request(req, read_timeout=3)
            assert r.data.startswith(b"HTTP/1.1 %d" % want), (h, r.data[:300])
            assert a.http("GET", f"/v1/sessions/cl{i}").status == \
                (200 if want == 200 else 404), h


def test_unparseable_requests_are_answered(ctx):
    """lws closed a request line or headers too big for its buffer without
    a word, left a folded header line (obs-fold) unparsed until its idle
    timeout, and ran a header name that begins a known one ("Ho", "Auth")
    on through the next lines, losing the Host or Authorization after
    it. Now: 414, 431, 400 at once, and the name ends at its ':'."""
    if unpatched_lws():
        return
    with Agentd(ctx.binary, token="tk") as a:
        host = b"Host: localhost\r\n"
        cases = (
            (b"GET /v1/health?x=" + b"a" * 9000 + b" HTTP/1.1\r\n" + host, 414),
            (b"GET /v1/health HTTP/1.1\r\n" + host + b"X-B: " + b"b" * 9000 +
                b"\r\n", 431),
            (b"GET /v1/health HTTP/1.1\r\n" + host + b"Accept: a\r\n b\r\n", 400),
            (b"GET /v1/health HTTP/1.1\r\n" + host + b"X-A: a\r\n\tb\r\n", 400),
            (b"GET /v1/health HTTP/1.1\r\n \r\n" + host, 400),
            (b"GET /v1/sessions HTTP/1.1\r\nHo: a\r\n" + host +
                b"Auth: x\r\nAuthorization: Bearer tk\r\n"
                b"Connection: close\r\n", 200),
            (b"GET /v1/health HTTP/1.1\r\n" + host + b"X-A: a\r\n"
                b"Connection: close\r\n", 200),
        )
        for req, want in cases:
            r = a.raw_request(req + b"\r\n", read_timeout=3)
            assert re.match(rb"HTTP/1\.[01] %d " % want, r.data), \
                (req[:80], want, r.data[:200])
            if want != 200:                     # answered, then closed
                assert r.closed and r.elapsed < 2, (req[:80], r.elapsed)
        # Wherever the buffer runs out (here in an unknown header's
        # entry, for some of the pads), one answer, not one per byte.
        for pad in range(40):
            req = (b"GET /v1/health HTTP/1.1\r\n" + host + b"X-P: " +
                b"p" * (7900 + pad) + b"\r\n" +
                b"".join(b"X-%03d: v\r\n" % i for i in range(800)))
            r = a.raw_request(req + b"\r\n", read_timeout=3)
            assert r.data.count(b"HTTP/1.") == 1 and b" 431 " in r.data, \
                (pad, r.data[:300])
        assert a.http("GET", "/v1/health").status == 200


def read_to_close(s, timeout=5.0):
    """What the peer sent until it closed, and how: "fin" (recv gave EOF)
    or "reset" (ECONNRESET: it closed with our bytes unread, and a remote
    client may then lose the answer too)."""
    s.settimeout(timeout)
    got = bytearray()
    while True:
        try:
            b = s.recv(65536)
        except ConnectionResetError:
            return bytes(got), "reset"
        if not b:
            return bytes(got), "fin"
        got += b


def test_refused_requests_end_with_fin(ctx):
    """A request refused for its size is answered and the connection then
    ends with a FIN, not a reset, even with a lot of it unread when the
    answer goes: a reset can reach a remote client before the answer it
    follows, and its kernel then drops the answer."""
    if unpatched_lws():
        return
    with Agentd(ctx.binary, token="tk") as a:
        host = b"Host: localhost\r\n"
        cases = (
            (b"GET /v1/health?x=" + b"a" * 300000 + b" HTTP/1.1\r\n" +
                host + b"\r\n", 414),
            (b"GET /v1/health HTTP/1.1\r\n" + host + b"X-B: " +
                b"b" * 300000 + b"\r\n\r\n", 431),
            (b"GET /v1/health HTTP/1.1\r\n" + host + b"X-B: " +
                b"b" * 9000 + b"\r\n\r\n" + b"x" * 200000, 431),
        )
        for req, want in cases:
            s = socket.create_connection((HOST, a.port), timeout=5)
            try:
                try:
                    s.sendall(req)
                except (BrokenPipeError, ConnectionResetError):
                    pass                        # answered before the end
                data, how = read_to_close(s)
            finally:
                s.close()
            assert re.match(rb"HTTP/1\.[01] %d " % want, data), \
                (want, data[:200])
            assert how == "fin", (want, how)
        assert a.http("GET", "/v1/health").status == 200


def test_chunked_body_answered_411(ctx):
    with Agentd(ctx.binary) as a:
        req = (b"POST /v1/sessions/ch HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
            b"\r\n10\r\n{\"agent\":\"mock\"}\r\n0\r\n\r\n")
        r = a.raw_request(req, read_timeout=3)
        assert r.data.startswith(b"HTTP/1.1 411"), r.data[:200]
        assert b"Content-Length" in r.data, r.data
        assert r.closed


def test_slow_body_is_cut(ctx):
    """A body dribbled one byte a second is cut at --body-timeout plus a
    second per 64 KiB, token or not, not held open for minutes."""
    for token in (None, TOKEN):
        with Agentd(ctx.binary, token=token,
                extra_args=["--body-timeout", "2"]) as a:
            s = socket.create_connection((HOST, a.port), timeout=10)
            auth = f"Authorization: Bearer {token}\r\n" if token else ""
            s.sendall(("POST /v1/sessions/slow HTTP/1.1\r\nHost: localhost\r\n"
                "Content-Type: application/json\r\nContent-Length: 1000\r\n"
                f"{auth}\r\n").encode())
            t0 = time.monotonic()
            closed = None
            try:
                while time.monotonic() - t0 < 20:
                    s.sendall(b" ")
                    s.settimeout(1.0)
                    try:
                        if s.recv(4096) == b"":
                            closed = time.monotonic() - t0
                            break
                    except socket.timeout:
                        pass
            except (BrokenPipeError, ConnectionResetError):
                closed = time.monotonic() - t0
            s.close()
            assert closed is not None, "slow body still open after 20 s"
            assert closed < 6, f"slow body cut after {closed:.1f} s"


class _Limited(Agentd):
    """agentd under a descriptor limit (prlimit execs it: same pid)."""

    def __init__(self, binary, nofile, **kw):
        self.nofile = nofile
        super().__init__(binary, **kw)

    def argv(self):
        return ["prlimit", f"--nofile={self.nofile}:{self.nofile}", "--"] + \
            super().argv()


def _health_ms(port):
    t0 = time.monotonic()
    s = socket.create_connection((HOST, port), timeout=5)
    try:
        s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        got = b""
        while b"\r\n\r\n" not in got:
            b = s.recv(4096)
            if not b:
                break
            got += b
    finally:
        s.close()
    assert got.startswith(b"HTTP/1.1 200"), got[:100]
    return (time.monotonic() - t0) * 1000


def test_descriptor_attack_keeps_health_answering(ctx):
    """ulimit -n 256 and 300 connections that announce a large body and
    send a byte now and then: health answers within 100 ms throughout,
    agentd is idle between the attacker's bytes (no accept() spin), and
    its log grows by a few lines only."""
    with _Limited(ctx.binary, 256, log_level="info") as a:
        lines0 = len(a.log_lines())
        socks = []
        head = (b"POST /v1/sessions/a HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: application/json\r\nContent-Length: 4000000\r\n\r\n")
        for _ in range(300):
            try:
                s = socket.create_connection((HOST, a.port), timeout=2)
                s.setblocking(False)
                s.sendall(head)
                socks.append(s)
            except OSError:
                pass
        took = []
        t_end = time.monotonic() + 6
        ticks0 = cpu_ticks(a.pid)
        while time.monotonic() < t_end:
            for s in socks:
                try:
                    s.send(b" ")
                except OSError:
                    pass
            took.append(_health_ms(a.port))
            time.sleep(0.5)
        ticks = cpu_ticks(a.pid) - ticks0
        for s in socks:
            s.close()
        took.sort()
        worst, p90 = took[-1], took[int(len(took) * 0.9) - 1]
        print(f"    health under attack: median {took[len(took) // 2]:.1f} ms, "
            f"p90 {p90:.1f} ms, worst {worst:.1f} ms; {ticks} CPU ticks in "
            f"6 s; {len(a.log_lines()) - lines0} log lines")
        # Under valgrind every request is some 30 times slower: there,
        # health must answer, not within the bound.
        if os.environ.get("AGENTD_VALGRIND") != "1":
            # Before the fix health timed out for 48 s. 100 ms is the bound;
            # the worst sample may also carry a busy machine's scheduling
            # delay (other suites, a loaded CI), so it gets 1 s. Under ASan
            # agentd takes in the 300 connections several times slower
            # (worst 0.70-0.73 s on a quiet machine, 1.01-1.07 s in loaded
            # CI runs, against 0.07 s for the shipped build): 3 s there.
            worst_max = 3000 if os.environ.get("AGENTD_SAN") == "1" else 1000
            assert p90 < 100, f"health took {p90:.0f} ms (p90) under attack"
            assert worst < worst_max, \
                f"health took {worst:.0f} ms under attack"
            # 6 s at 100 Hz is 600 ticks; a spinning accept() burns them all
            assert ticks < 150, f"agentd used {ticks} ticks in 6 s"
        assert len(a.log_lines()) - lines0 < 40, a.stderr_text()[-2000:]
        _health_ms(a.port)


def test_nul_in_a_string_refused(ctx):
    """"a\\u0000b" was silently cut to "a": refused over HTTP and WS; an
    escaped backslash followed by u0000 is text and passes."""
    with Agentd(ctx.binary) as a:
        assert a.http("POST", "/v1/sessions/s", {"agent": "mock"}).status == 200
        r = a.http("POST", "/v1/sessions/s/messages",
            b'{"message":"a\\u0000b"}', headers={"Content-Type": "application/json"})
        assert r.status == 400 and "NUL" in r.json["detail"], r.body
        r = a.http("POST", "/v1/sessions/n\\u0000", {"agent": "mock"})
        assert r.status in (400, 404), r.status
        ws = a.ws("/v1/sessions/s/events/ws")
        m = ws.request({"type": "message", "message": "a\x00b", "id": "z"})
        assert m["status"] == 400 and "NUL" in m["error"], m
        ws.close()
        r = a.http("POST", "/v1/sessions/s/messages",
            b'{"message":"a\\\\u0000b"}', headers={"Content-Type": "application/json"})
        assert r.status == 204, r.body


def test_offsets_and_limits_are_checked(ctx):
    with Agentd(ctx.binary) as a:
        assert a.http("POST", "/v1/sessions/s", {"agent": "mock"}).status == 200
        r = a.http("GET", "/v1/sessions/s/events?limit=0")
        assert r.status == 400, (r.status, r.body[:200])
        r = a.http("GET", "/v1/sessions/s/events?offset=5")
        assert r.status == 400 and "past the last" in r.json["detail"], r.body
        assert a.http("GET", "/v1/sessions/s/events?offset=1").status == 200
        for lei in ("-1", "5", "1x", "99999999999999999999999"):
            st, head = status_line(a.port, "GET", "/v1/sessions/s/events/sse",
                {"Last-Event-ID": lei})
            assert st == 400, f"Last-Event-ID {lei}: {st}"
        for off in ("-1", "5"):
            st, _ = status_line(a.port, "GET",
                f"/v1/sessions/s/events/sse?offset={off}")
            assert st == 400, f"?offset={off}: {st}"
        st, _ = status_line(a.port, "GET", "/v1/sessions/s/events/sse",
            {"Last-Event-ID": "1"})
        assert st == 200, st
