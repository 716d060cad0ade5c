#!/usr/bin/env python3
"""Checks the drivers in agentd.py against fake_agentd.py.

    python3 tests/integration/selftest.py            # the drivers
    python3 tests/integration/run.py --agentd tests/integration/fake_agentd.py
                                                     # the tests, on the fake
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import agentd  # noqa: E402
from agentd import (OP_BINARY, SSEEvent, WSClosed, WSHandshakeError,  # noqa: E402
                    check_contiguous, collect_events, wait_for)

FAKE = os.path.join(HERE, "fake_agentd.py")


def main():
    with agentd.Agentd(FAKE, token="t0k") as a:
        # SSE: chunked, split UTF-8, CRLF split across chunks, comments
        with a.sse("/fake/sse", offset=3) as c:
            assert c.status == 200, c.status
            evs = [c.next(5) for _ in range(5)]
            assert all(isinstance(e, SSEEvent) for e in evs), evs
            assert check_contiguous(evs, offset=3) == 8
            assert evs[0].event == "status" and evs[0].data["data"]["text"] == "é" * 4
            multi = c.next(5)
            assert multi.data == "line1\nline2" and multi.id == "8", multi
            assert c.comments == 2, c.comment_lines
            assert c.next(5) is None
        with a.sse("/fake/sse", last_event_id=1, token_in_query=True) as c:
            assert collect_events(c, count=2)[0]["sequence"] == 2
        c = a.sse("/fake/sse", token="bad")
        assert c.status == 401 and agentd.parse_json(c.body)["status"] == 401, (c.status, c.body)
        try:
            check_contiguous([{"sequence": 1}, {"sequence": 3}])
            raise SystemExit("check_contiguous missed a gap")
        except AssertionError:
            pass
        # WS: fragmented text with an interleaved ping, binary, echo, reply
        with a.ws("/fake/ws") as w:
            m = w.recv_json(5)
            assert m["sequence"] == 1 and w.pings == 1, (m, w.pings)
            assert w.recv(5) == (OP_BINARY, b"\x00\x01")
            assert w.recv_json(5) == {"pong": "pp"}  # server saw our pong
            big = {"x": "y" * 70000}
            w.send_json(big)
            assert w.recv_json(5) == big
            w.send_json({"a": 1})
            assert w.recv_json(5) == {"a": 1}
            r = w.request({"type": "cancel"})
            assert r == {"reply_to": "cancel", "status": 204} and w.pending_events[0]["sequence"] == 2
            assert w.close() == 1000
        with a.ws("/fake/ws", token_in_query=True) as w:
            w.recv_json(5)
            w.send_json({"type": "close-me"})
            try:
                while True:
                    w.recv(5)
            except WSClosed as e:
                assert e.code == 1001 and e.reason == "bye", e
        try:
            a.ws("/fake/ws", token=None)
            raise SystemExit("handshake without token accepted")
        except WSHandshakeError as e:
            assert e.status == 401 and e.json["status"] == 401
        # misc
        r = a.raw_request(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n", 0.5)
        assert r.data.startswith(b"HTTP/1.1 200") and not r.closed, r
        assert a.rss_kib() > 0
        wait_for(lambda: a.running(), 1)
        port = a.port
        a.restart()
        assert a.port == port and a.http("GET", "/v1/health").status == 200
        assert a.stop() == 0
    print("selftest ok")


if __name__ == "__main__":
    main()
