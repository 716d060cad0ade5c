"""Issue 3: sessions over the built-in mock ACP agent, end to end.

Each test starts its own agentd (fresh data dir) and drives the mock agent
through REST, SSE and WebSocket, checking the universal stream.
"""

import json
import os
import socket
import time

from agentd import Agentd, SSEEvent, check_contiguous, collect_events, \
    cpu_ticks, fetch_events, wait_for

TOKEN = "tk-sessions-5c1d2e"


def _data(ev):
    return ev.data if isinstance(ev, SSEEvent) else ev


def _create(a, sid="s1", **extra):
    body = {"agent": "mock"}
    body.update(extra)
    r = a.http("POST", f"/v1/sessions/{sid}", body)
    assert r.status == 200, f"create: {r.status} {r.body[:300]!r}"
    assert r.json["sessionId"] == sid
    return r.json


def _send(a, sid, text):
    r = a.http("POST", f"/v1/sessions/{sid}/messages", {"message": text})
    assert r.status == 204, f"message: {r.status} {r.body[:300]!r}"


def _types(events):
    return [_data(e)["type"] for e in events]


def _turn_ended(e):
    return _data(e)["type"] == "turn.ended"


def _wait_turn_end(a, sid, n=1, timeout=10):
    def done():
        evs = fetch_events(a, sid)
        return evs if _types(evs).count("turn.ended") >= n else None
    return wait_for(done, timeout, interval=0.05,
        msg=f"{n} turn.ended not seen in {timeout}s")


def _check_turn(events):
    """A full echo turn: started, user item, assistant deltas, ended."""
    t = _types(events)
    assert t[0] == "turn.started", t
    assert t[-1] == "turn.ended", t
    assert "item.delta" in t, t
    started = {_data(e)["data"]["item"]["item_id"] for e in events
        if _data(e)["type"] == "item.started"}
    for e in events:
        d = _data(e)
        if d["type"] == "item.completed":
            assert d["data"]["item"]["item_id"] in started, d
        if d["type"] == "item.delta":
            assert d["data"]["item_id"] in started, d
    return t


def test_turn_on_rest_sse_and_ws(ctx):
    with Agentd(ctx.binary, token=TOKEN) as a:
        _create(a)
        sse = a.sse("/v1/sessions/s1/events/sse", offset=0)
        ws = a.ws("/v1/sessions/s1/events/ws?offset=0")
        first = collect_events(sse, count=1)
        assert _data(first[0])["type"] == "session.started"
        _send(a, "s1", "hello there agent")
        via_sse = first + collect_events(sse, until=_turn_ended)
        via_ws = collect_events(ws, until=_turn_ended)
        via_rest = _wait_turn_end(a, "s1")
        check_contiguous(via_sse)
        check_contiguous(via_ws)
        check_contiguous(via_rest)
        assert [_data(e) for e in via_sse] == via_ws == via_rest
        _check_turn(via_rest[1:])
        text = "".join(e["data"]["delta"] for e in via_rest
            if e["type"] == "item.delta" and e["data"]["item_id"] !=
            via_rest[3]["data"]["item"]["item_id"])
        assert "hello there agent" in text, text
        assert "raw" not in via_rest[-1]
        raw = a.http("GET", "/v1/sessions/s1/events?include_raw=true").json
        assert any("raw" in e for e in raw["events"] if e["source"] == "agent")
        sse.close()
        ws.close()


def test_permission_round_trips(ctx):
    with Agentd(ctx.binary) as a:
        _create(a)
        for reply, status, word in (("once", "accept", "granted"),
                ("reject", "reject", "denied")):
            base = len(fetch_events(a, "s1"))
            _send(a, "s1", "please ask permission")
            req = wait_for(lambda: [e for e in fetch_events(a, "s1", base)
                if e["type"] == "permission.requested"], 10)[0]
            pid = req["data"]["permission_id"]
            assert req["data"]["status"] == "requested"
            r = a.http("POST", f"/v1/sessions/s1/permissions/{pid}/reply",
                {"reply": reply})
            assert r.status == 204, r.body
            r = a.http("POST", f"/v1/sessions/s1/permissions/{pid}/reply",
                {"reply": reply})
            assert r.status == 404, "a permission is answered only once"
            evs = _wait_turn_end(a, "s1", 2 if reply == "reject" else 1)
            evs = [e for e in evs if e["sequence"] > base]
            res = [e for e in evs if e["type"] == "permission.resolved"]
            assert res and res[0]["data"]["status"] == status, res
            text = "".join(e["data"]["delta"] for e in evs
                if e["type"] == "item.delta")
            assert word in text, text


def test_question_round_trip(ctx):
    with Agentd(ctx.binary) as a:
        _create(a)
        ws = a.ws("/v1/sessions/s1/events/ws")
        _send(a, "s1", "a question please")
        q = collect_events(ws, until=lambda e: e["type"] ==
            "question.requested")[-1]
        qs = q["data"]["questions"]
        assert len(qs) == 1 and [o["label"] for o in qs[0]["options"]] == \
            ["Red", "Blue"], qs
        rep = ws.request({"type": "question.reply", "id": "r1",
            "question_id": q["data"]["question_id"], "answers": [["Blue"]]})
        assert rep == {"reply_to": "r1", "status": 204}, rep
        rest = collect_events(ws, until=_turn_ended)
        res = [e for e in rest if e["type"] == "question.resolved"]
        assert res[0]["data"]["status"] == "answered"
        assert res[0]["data"]["answers"] == [["Blue"]]
        assert "Blue" in "".join(e["data"]["delta"] for e in rest
            if e["type"] == "item.delta")
        ws.close()


def test_cancel_slow_turn(ctx):
    with Agentd(ctx.binary) as a:
        _create(a)
        sse = a.sse("/v1/sessions/s1/events/sse")
        _send(a, "s1", "go slow please")
        collect_events(sse, until=lambda e: _data(e)["type"] == "item.delta")
        t0 = time.monotonic()
        r = a.http("POST", "/v1/sessions/s1/cancel")
        assert r.status == 204, r.body
        end = collect_events(sse, until=_turn_ended, timeout=5)[-1]
        assert time.monotonic() - t0 < 2.0
        assert _data(end)["data"]["stop_reason"] == "cancelled", _data(end)
        deltas = [e for e in fetch_events(a, "s1") if e["type"] ==
            "item.delta"]
        assert len(deltas) < 2000, "the slow stream was not cut short"
        r = a.http("POST", "/v1/sessions/s1/cancel")
        assert r.status == 409, "no turn to cancel"
        _send(a, "s1", "still there?")
        _wait_turn_end(a, "s1", 2)
        sse.close()


def test_crash_ends_session_with_exit_code_and_stderr(ctx):
    with Agentd(ctx.binary) as a:
        _create(a)
        _send(a, "s1", "now crash")
        evs = wait_for(lambda: (lambda e: e if e and e[-1]["type"] ==
            "session.ended" else None)(fetch_events(a, "s1")), 10)
        types = _types(evs)
        assert "error" in types, types
        end = evs[-1]["data"]
        assert end["reason"] == "error" and end["terminated_by"] == "agent"
        assert end["exit_code"] == 3, end
        assert "mock agent crashing" in end["stderr"]["tail"], end
        info = a.http("GET", "/v1/sessions/s1").json
        assert info["ended"] is True
        r = a.http("POST", "/v1/sessions/s1/messages", {"message": "x"})
        assert r.status == 409 and r.json["detail"], r.body


def test_client_disconnect_does_not_stop_agent(ctx):
    with Agentd(ctx.binary) as a:
        _create(a)
        sse = a.sse("/v1/sessions/s1/events/sse")
        _send(a, "s1", "slow and steady")
        collect_events(sse, count=5)
        sse.close()
        ws = a.ws("/v1/sessions/s1/events/ws")
        collect_events(ws, count=3)
        ws.conn.close()         # drop without a close handshake
        evs = _wait_turn_end(a, "s1", timeout=15)
        assert evs[-1]["data"]["stop_reason"] == "end_turn"
        assert len([e for e in evs if e["type"] == "item.delta"]) >= 2000


def _streams(a):
    r = a.http("GET", "/v1/metrics")
    for line in r.body.decode().splitlines():
        if line.startswith("agentd_streams "):
            return int(float(line.split()[1]))
    raise AssertionError("no agentd_streams in /v1/metrics")


def _sse_after_a_turn(a):
    """A raw socket on s1's SSE stream, read up to the end of a turn."""
    _create(a)
    _send(a, "s1", "hello")
    _wait_turn_end(a, "s1")
    s = socket.create_connection(("127.0.0.1", a.port), timeout=5)
    s.sendall(b"GET /v1/sessions/s1/events/sse HTTP/1.1\r\n"
        b"Host: localhost\r\n\r\n")
    got = b""
    while b"turn.ended" not in got:
        got += s.recv(65536)
    return s


def test_sse_client_that_hangs_up_is_closed_at_once(ctx):
    """A client that hangs up on an idle SSE stream: agentd closed it only
    at the next heartbeat (15 s), spinning at 100% CPU until then, since
    lws reads nothing from a connection in a transaction. Now the stream
    is gone within a second and agentd idles meanwhile."""
    with Agentd(ctx.binary) as a:
        s = _sse_after_a_turn(a)
        assert _streams(a) == 1
        t0 = cpu_ticks(a.pid)
        s.close()
        end = time.monotonic() + 1
        while _streams(a) != 0 and time.monotonic() < end:
            time.sleep(0.05)
        assert _streams(a) == 0, "the stream outlived its client"
        time.sleep(1)
        # 1 s of a spinning loop is 100 ticks
        assert cpu_ticks(a.pid) - t0 < 20, "agentd busy after the hang-up"


def test_sse_client_that_sends_bytes_is_not_a_spin(ctx):
    """A client that sends bytes on an SSE stream and keeps it open: the
    stream takes no input, and lws reads nothing from a connection in a
    transaction, so its bytes stayed unread and the loop woke for them
    again at once, at 100% CPU, for as long as the client stayed."""
    with Agentd(ctx.binary) as a:
        s = _sse_after_a_turn(a)
        s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        time.sleep(0.2)
        t0 = cpu_ticks(a.pid)
        time.sleep(1)
        # 1 s of a spinning loop is 100 ticks
        assert cpu_ticks(a.pid) - t0 < 20, "agentd busy with the client's bytes"
        assert a.http("GET", "/v1/health").status == 200
        assert _streams(a) == 1
        # past 64 KiB of input the stream is closed: the bytes are bounded
        s.sendall(b"x" * (70 * 1024))
        end = time.monotonic() + 2
        while _streams(a) != 0 and time.monotonic() < end:
            time.sleep(0.05)
        assert _streams(a) == 0, "a stream took 70 KiB of input"
        s.close()


def test_message_stream_client_that_sends_bytes_is_not_a_spin(ctx):
    """POST …/messages/stream answers with the turn's events as SSE and
    ends at its end. A client that sends bytes meanwhile (a pipelined
    request, or garbage) held agentd at 100% CPU for the rest of the
    turn, as a GET stream once did; its bytes are dropped, the stream
    goes on and still ends with the turn."""
    with Agentd(ctx.binary) as a:
        _create(a)
        body = json.dumps({"message": "slow please"}).encode()
        s = socket.create_connection(("127.0.0.1", a.port), timeout=5)
        s.sendall(b"POST /v1/sessions/s1/messages/stream HTTP/1.1\r\n"
            b"Host: localhost\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body) + body)
        got = b""
        while b'"s1 "' not in got:
            b = s.recv(65536)
            assert b, got
            got += b
        assert got.startswith(b"HTTP/1.1 200"), got[:200]
        s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        time.sleep(0.2)
        t0 = cpu_ticks(a.pid)
        time.sleep(1)
        # 1 s of a spinning loop is 100 ticks; the turn's 500 deltas a
        # second to one client take a few
        assert cpu_ticks(a.pid) - t0 < 40, "agentd busy with the client's bytes"
        s.settimeout(10)
        while b"turn.ended" not in got:
            b = s.recv(65536)
            assert b, got[-300:]
            got += b
        s.close()
        # Bytes pipelined with the body are in lws's buffer before the
        # stream starts, out of agentd's reach: that stream is closed at
        # once (the events stay in the log, to be read from an offset).
        s = socket.create_connection(("127.0.0.1", a.port), timeout=5)
        s.sendall(b"POST /v1/sessions/s1/messages/stream HTTP/1.1\r\n"
            b"Host: localhost\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body) + body +
            b"GET /v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        time.sleep(0.2)
        t0 = cpu_ticks(a.pid)
        time.sleep(1)
        assert cpu_ticks(a.pid) - t0 < 40, "agentd busy with pipelined bytes"
        got = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
        s.close()
        assert got.startswith(b"HTTP/1.1 200"), got[:200]
        assert a.http("GET", "/v1/health").status == 200


def test_reconnect_at_any_offset(ctx):
    with Agentd(ctx.binary) as a:
        _create(a)
        _send(a, "s1", "hello with a tool")
        all_ev = _wait_turn_end(a, "s1")
        n = len(all_ev)
        for off in range(0, n + 1):
            evs = fetch_events(a, "s1", offset=off)
            assert evs == all_ev[off:], off
            sse = a.sse("/v1/sessions/s1/events/sse", offset=off)
            got = collect_events(sse, count=n - off, timeout=5)
            assert [_data(e) for e in got] == all_ev[off:]
            sse.close()
            sse = a.sse("/v1/sessions/s1/events/sse", last_event_id=str(off))
            got = collect_events(sse, count=n - off, timeout=5)
            assert [_data(e) for e in got] == all_ev[off:]
            sse.close()
            ws = a.ws(f"/v1/sessions/s1/events/ws?offset={off}")
            assert collect_events(ws, count=n - off) == all_ev[off:]
            ws.close()
        page = a.http("GET", "/v1/sessions/s1/events?offset=2&limit=3").json
        assert [e["sequence"] for e in page["events"]] == [3, 4, 5]
        assert page["hasMore"] is True


def test_kill9_during_slow_turn_then_restart(ctx):
    a = Agentd(ctx.binary)
    try:
        _create(a)
        sse = a.sse("/v1/sessions/s1/events/sse")
        _send(a, "s1", "slow one")
        seen = collect_events(sse, count=300, timeout=10)
        a.kill9()
        sse.close()
        log = os.path.join(a.data_dir, "sessions", "s1", "events.jsonl")
        a.restart()
        with open(log, "rb") as f:
            body = f.read()
        assert body.endswith(b"\n"), "torn last line left in the log"
        evs = fetch_events(a, "s1")
        check_contiguous(evs)
        for e in map(_data, seen):
            assert evs[e["sequence"] - 1] == e
        # The interrupted turn is closed truthfully, then work goes on.
        assert evs[-1]["type"] == "turn.ended"
        assert evs[-1]["data"]["stop_reason"] == "interrupted"
        base = len(evs)
        _send(a, "s1", "are you back")
        after = _wait_turn_end(a, "s1", 2)
        check_contiguous(after)
        assert after[-1]["data"]["stop_reason"] == "end_turn"
        assert any(e["type"] == "item.delta" and "are you back" in
            e["data"]["delta"] for e in after[base:]) or \
            "are you back" in "".join(e["data"]["delta"] for e in after[base:]
            if e["type"] == "item.delta")
    finally:
        a.cleanup()


def test_slow_reader_bounded_memory_fast_reader_unaffected(ctx):
    with Agentd(ctx.binary, log_level="info") as a:
        _create(a)
        # A reader that takes 1 KiB per second and never more.
        slow = socket.create_connection(("127.0.0.1", a.port))
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.sendall(b"GET /v1/sessions/s1/events/sse?offset=0 HTTP/1.1\r\n"
            b"Host: 127.0.0.1:%d\r\n\r\n" % a.port)
        # A refused reader (421 for a foreign Host) would block each
        # recv below until agentd hangs up and slow nothing down.
        head = slow.recv(1024)
        assert head.startswith(b"HTTP/1.1 200"), head[:200]
        rss0 = a.rss_kib()
        fast = a.ws("/v1/sessions/s1/events/ws")
        t0 = time.monotonic()
        _send(a, "s1", "firehose 120000")      # ~53 MB of events
        n = 0
        last = 0
        peak = rss0
        while True:
            ev = fast.next_event(timeout=30)
            assert ev is not None
            assert ev["sequence"] == last + 1 or last == 0
            last = ev["sequence"]
            n += 1
            if n % 20000 == 0:
                slow.recv(1024)
                peak = max(peak, a.rss_kib())
            if ev["type"] == "turn.ended":
                break
        fast_s = time.monotonic() - t0
        peak = max(peak, a.rss_kib())
        size = os.path.getsize(os.path.join(a.data_dir, "sessions", "s1",
            "events.jsonl"))
        assert size > 50e6, f"the stream was only {size} bytes"
        # Under ASan (make test SAN=1) RSS measures the sanitizer's
        # quarantine and shadow memory, not agentd: the bound holds for
        # the shipped binary only.
        if os.environ.get("AGENTD_SAN") != "1":
            assert peak - rss0 < 16 * 1024, f"RSS grew {peak - rss0} KiB"
        assert fast_s < 60, f"the fast client took {fast_s:.1f}s"
        print(f"    streamed {size / 1e6:.0f} MB, {n} events to the fast "
            f"client in {fast_s:.1f}s; RSS {rss0} -> peak {peak} KiB")
        slow.close()
        fast.close()


def test_bad_input_per_route(ctx):
    with Agentd(ctx.binary, token=TOKEN, extra_args=["--max-body", "65536"]) as a:
        _create(a)
        cases = [
            ("POST", "/v1/sessions/s2", "{not json", 400),
            ("POST", "/v1/sessions/s2", "[1,2]", 400),
            ("POST", "/v1/sessions/s2", {"agent": 3}, 400),
            ("POST", "/v1/sessions/s2", {"agent": "nope"}, 400),
            ("POST", "/v1/sessions/s2", {"agent": "mock", "cwd": "rel"}, 400),
            ("POST", "/v1/sessions/s2", {"agent": "mock", "env": [1]}, 400),
            ("POST", "/v1/sessions/..x", {"agent": "mock"}, 400),
            ("POST", "/v1/sessions/s1", {"agent": "mock"}, 409),
            ("GET", "/v1/sessions/zz", None, 404),
            ("DELETE", "/v1/sessions/zz", None, 404),
            ("POST", "/v1/sessions/zz/messages", {"message": "x"}, 404),
            ("POST", "/v1/sessions/s1/messages", "{", 400),
            ("POST", "/v1/sessions/s1/messages", {"msg": "x"}, 400),
            ("POST", "/v1/sessions/s1/messages", {"message": 5}, 400),
            ("POST", "/v1/sessions/s1/permissions/perm_99/reply",
                {"reply": "once"}, 404),
            ("POST", "/v1/sessions/s1/permissions/perm_99/reply",
                {"reply": "maybe"}, 400),
            ("POST", "/v1/sessions/s1/questions/q_9/reply",
                {"answers": [["a"]]}, 404),
            ("POST", "/v1/sessions/s1/questions/q_9/reply",
                {"answers": "a"}, 400),
            ("POST", "/v1/sessions/s1/questions/q_9/reject", None, 404),
            ("GET", "/v1/sessions/s1/events?offset=-1", None, 400),
            ("GET", "/v1/sessions/s1/events?limit=x", None, 400),
            ("GET", "/v1/sessions/s1/events/ws", None, 400),
            ("POST", "/v1/sessions/s1/cancel", None, 409),
            ("PUT", "/v1/sessions/s1", {"agent": "mock"}, 405),
            ("GET", "/v1/sessions/s1/messages", None, 405),
            ("DELETE", "/v1/health", None, 405),
            ("POST", "/v1/sessions/s1/messages",
                {"message": "x" * 70000}, 413),
        ]
        for method, path, body, status in cases:
            r = a.http(method, path, body,
                headers={"Content-Type": "application/json"})
            assert r.status == status, \
                f"{method} {path}: {r.status}, want {status}: {r.body[:200]!r}"
            ct = r.headers.get("content-type", "")
            assert ct.startswith("application/problem+json"), (path, ct)
            assert r.json["status"] == status and r.json["detail"], r.json
            if status == 405:
                assert r.headers.get("allow"), "405 without Allow"
        assert a.http("GET", "/v1/health").status == 200


def test_terminate_and_delete(ctx):
    with Agentd(ctx.binary) as a:
        info = _create(a)
        pid = info["pid"]
        r = a.http("POST", "/v1/sessions/s1/terminate")
        assert r.status == 204
        evs = wait_for(lambda: (lambda e: e if e[-1]["type"] ==
            "session.ended" else None)(fetch_events(a, "s1")), 10)
        assert evs[-1]["data"]["reason"] == "terminated"
        assert evs[-1]["data"]["terminated_by"] == "daemon"
        wait_for(lambda: not os.path.exists(f"/proc/{pid}"), 5)
        sessions = a.http("GET", "/v1/sessions").json["sessions"]
        assert [s["sessionId"] for s in sessions] == ["s1"]
        assert a.http("DELETE", "/v1/sessions/s1").status == 204
        assert a.http("GET", "/v1/sessions/s1").status == 404
        assert not os.path.exists(os.path.join(a.data_dir, "sessions", "s1"))
        _create(a, "s1")        # the id can be used again
