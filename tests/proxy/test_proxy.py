#!/usr/bin/env python3
"""tests/proxy/test_proxy.py --agentd BIN: agentd behind nginx with TLS.

What a remote user meets through a sandbox provider's preview URL, here
with Debian's nginx (tests/proxy/proxy.py). Prints `ok - …` lines, the
measured delays, and "N passed, M failed".
"""

import argparse
import http.client
import json
import os
import ssl
import statistics
import sys
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, HERE)

import agentd  # noqa: E402
from agentd import SSEClient, WSClient, check_contiguous  # noqa: E402
from proxy import TOKEN, Proxy  # noqa: E402


def tls(p):
    ctx = ssl.create_default_context(cafile=p.cafile)
    return (ctx, "127.0.0.1")


def via_proxy(p, method, path, body=None, headers=None, token=TOKEN):
    c = http.client.HTTPSConnection("127.0.0.1", p.port, timeout=10,
        context=tls(p)[0])
    h = {"Authorization": "Bearer " + token} if token else {}
    h.update(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    try:
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        raw = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, raw
    finally:
        c.close()


def sse(p, path, proxied, **kw):
    agentd.TLS = tls(p) if proxied else None
    try:
        return SSEClient(p.port if proxied else p.agentd.port, path,
            token=TOKEN, **kw)
    finally:
        agentd.TLS = None


def test_rest(p):
    st, h, body = via_proxy(p, "GET", "/v1/health", token=None)
    assert st == 200 and json.loads(body)["status"] == "ok", (st, body)
    st, _, body = via_proxy(p, "POST", "/v1/sessions/rest", {"agent": "mock"})
    assert st == 200, (st, body)
    st, _, body = via_proxy(p, "GET", "/v1/sessions")
    assert st == 200 and "rest" in body.decode(), body
    st, _, _ = via_proxy(p, "GET", "/v1/sessions", token="wrong")
    assert st == 401
    st, h, body = via_proxy(p, "GET", "/ui/", token=None)
    assert st == 200 and body.startswith(b"<!doctype html>"), body[:40]


def _collect(client, out, until="turn.ended"):
    for ev in client:
        out.append((time.monotonic(), ev.data))
        if ev.data["type"] == until:
            return


def test_sse_streams_through_nginx(p):
    """Each event of a streamed turn arrives through nginx as it happens:
    the delay per event against a direct client, median and p99."""
    assert via_proxy(p, "POST", "/v1/sessions/sse", {"agent": "mock"})[0] == 200
    direct = sse(p, "/v1/sessions/sse/events/sse", False)
    proxied = sse(p, "/v1/sessions/sse/events/sse", True)
    a, b = [], []
    ta = threading.Thread(target=_collect, args=(direct, a))
    tb = threading.Thread(target=_collect, args=(proxied, b))
    ta.start()
    tb.start()
    time.sleep(0.2)
    st, _, body = via_proxy(p, "POST", "/v1/sessions/sse/messages",
        {"message": "slow"})
    assert st == 204, body
    ta.join(60)
    tb.join(60)
    direct.close()
    proxied.close()
    assert [e["sequence"] for _, e in a] == [e["sequence"] for _, e in b], \
        "the two clients saw different events"
    check_contiguous([e for _, e in b])
    when = {e["sequence"]: t for t, e in a}
    delays = sorted((t - when[e["sequence"]]) * 1000 for t, e in b)
    med = statistics.median(delays)
    p99 = delays[int(len(delays) * 0.99) - 1]
    end = when[b[-1][1]["sequence"]]
    first_delta = next(t for t, e in b if e["type"] == "item.delta")
    print(f"    {len(b)} events; delay through nginx vs direct: median "
        f"{med:.2f} ms, p99 {p99:.2f} ms; first delta through nginx "
        f"{(end - first_delta) * 1000:.0f} ms before the turn ended")
    assert first_delta < end - 1.0, "nginx held the events until the end"
    # Buffered by nginx (no X-Accel-Buffering: no), the stream's head and
    # events wait for nginx's buffer to fill: seconds, not milliseconds.
    # The bounds leave room for a machine busy with other work.
    assert med < 50, f"median delay {med:.1f} ms: nginx buffers the stream"
    assert p99 < 500, f"p99 delay {p99:.1f} ms: nginx buffers the stream"


def test_websocket_through_nginx(p):
    assert via_proxy(p, "POST", "/v1/sessions/ws", {"agent": "mock"})[0] == 200
    agentd.TLS = tls(p)
    try:
        ws = WSClient(p.port, "/v1/sessions/ws/events/ws", token=TOKEN,
            token_in_query=True)
    finally:
        agentd.TLS = None
    r = ws.request({"type": "message", "message": "hello", "id": "m1"})
    assert r["reply_to"] == "m1" and r["status"] == 204, r
    seen = [e["type"] for e in ws.pending_events]
    while "turn.ended" not in seen:
        seen.append(ws.next_event(10)["type"])
    r = ws.request({"type": "cancel", "id": "c1"})
    assert r["status"] == 409, r   # no turn runs: the route's answer
    ws.close()


def test_access_token_in_query(p):
    assert via_proxy(p, "POST", "/v1/sessions/q", {"agent": "mock"})[0] == 200
    agentd.TLS = tls(p)
    try:
        c = SSEClient(p.port, "/v1/sessions/q/events/sse?access_token=" + TOKEN)
        assert c.status == 200, c.status
        assert c.next_event(5)["type"] == "session.started"
        c.close()
    finally:
        agentd.TLS = None
    st, _, _ = via_proxy(p, "GET", "/v1/sessions/q/events?access_token=nope",
        token=None)
    assert st == 401, st


def test_reconnect_after_nginx_drops(p):
    """nginx's worker dies in the middle of a turn: the client reconnects
    with Last-Event-ID and misses and repeats nothing."""
    assert via_proxy(p, "POST", "/v1/sessions/rc", {"agent": "mock"})[0] == 200
    c = sse(p, "/v1/sessions/rc/events/sse", True)
    got = [c.next_event(5)]
    assert got[0]["type"] == "session.started"
    st, _, _ = via_proxy(p, "POST", "/v1/sessions/rc/messages",
        {"message": "slow"})
    assert st == 204
    while len(got) < 200:
        got.append(c.next_event(10))
    p.drop()
    try:
        while True:
            ev = c.next_event(3)
            if ev is None:
                break
            got.append(ev)
    except (TimeoutError, EOFError, ConnectionError, OSError):
        pass
    c.close()
    last = got[-1]["sequence"]
    c = None
    for _ in range(50):  # the new worker takes a moment
        try:
            c = sse(p, "/v1/sessions/rc/events/sse", True, last_event_id=last)
            break
        except (OSError, EOFError):
            time.sleep(0.1)
    assert c is not None and c.status == 200
    while got[-1]["type"] != "turn.ended":
        got.append(c.next_event(30))
    c.close()
    seqs = [e["sequence"] for e in got]
    bad = [(i, a, b) for i, (a, b) in enumerate(zip(seqs, seqs[1:]))
        if b != a + 1]
    assert seqs[0] == 1 and not bad, f"lost or repeated events: {bad[:5]}"
    print(f"    dropped after {last} events; {len(seqs)} in all, contiguous")


TESTS = [test_rest, test_sse_streams_through_nginx, test_websocket_through_nginx,
    test_access_token_in_query, test_reconnect_after_nginx_drops]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agentd", required=True)
    args = ap.parse_args()
    passed = failed = 0
    p = Proxy(args.agentd)
    try:
        for t in TESTS:
            t0 = time.monotonic()
            try:
                t(p)
                passed += 1
                print(f"ok - {t.__name__} ({time.monotonic() - t0:.1f}s)")
            except Exception as e:
                failed += 1
                print(f"not ok - {t.__name__}: {e!r}")
                traceback.print_exc(file=sys.stdout)
                print(p.log())
    finally:
        p.stop()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
