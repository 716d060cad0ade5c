"""Issue 15: live control of a running session, over the mock agent.

Interrupt-and-send: a message with "interrupt": true cancels the running
turn and is the next turn, before anything queued. Options and config:
what the agent offers (models, modes, effort) and changing it live.
"""

import time

from agentd import Agentd, collect_events, fetch_events, problem, wait_for


def _create(a, sid="s1", **extra):
    body = {"agent": "mock"}
    body.update(extra)
    r = a.http("POST", f"/v1/sessions/{sid}", body)
    assert r.status == 200, f"create: {r.status} {r.body[:300]!r}"
    return r.json


def _post(a, sid, body, status=204):
    r = a.http("POST", f"/v1/sessions/{sid}/messages", body)
    assert r.status == status, f"message: {r.status} {r.body[:300]!r}"
    return r


def _turns(events):
    """[(user text, stop_reason)] of every turn, in log order."""
    out, text = [], None
    for e in events:
        if e["type"] == "item.completed":
            item = e["data"]["item"]
            if item["role"] == "user":
                text = "".join(p.get("text", "") for p in item["content"])
        elif e["type"] == "turn.ended":
            out.append((text, e["data"].get("stop_reason")))
            text = None
    return out


def _wait_turns(a, sid, n, timeout=15):
    def done():
        evs = fetch_events(a, sid, limit=10000)
        return evs if len(_turns(evs)) >= n else None
    return wait_for(done, timeout, interval=0.05,
        msg=f"{n} turns not ended in {timeout}s")


def _assistant_text(events, user_text):
    """The assistant's text in the turn of user_text."""
    out, inside = [], False
    for e in events:
        if e["type"] == "item.completed":
            item = e["data"]["item"]
            if item["role"] == "user":
                inside = "".join(p.get("text", "")
                    for p in item["content"]) == user_text
        elif e["type"] == "item.delta" and inside:
            out.append(e["data"]["delta"])
        elif e["type"] == "turn.ended":
            inside = False
    return "".join(out)


def test_interrupt_and_send_keeps_the_queue(ctx):
    """A slow turn, three queued, then an interrupting message: the slow
    turn ends cancelled, the interrupting message runs next, the three
    follow in order, nothing lost."""
    with Agentd(ctx.binary) as a:
        _create(a)
        sse = a.sse("/v1/sessions/s1/events/sse")
        _post(a, "s1", {"message": "go slow please"})
        collect_events(sse, until=lambda e: e["type"] == "item.delta")
        for t in ("queued one", "queued two", "queued three"):
            _post(a, "s1", {"message": t})
        info = a.http("GET", "/v1/sessions/s1").json
        assert info["queuedMessages"] == 3, info
        t0 = time.monotonic()
        _post(a, "s1", {"message": "urgent now", "interrupt": True})
        evs = _wait_turns(a, "s1", 5)
        assert time.monotonic() - t0 < 5, "the interrupt waited for the turn"
        turns = _turns(evs)
        assert turns == [("go slow please", "cancelled"),
            ("urgent now", "end_turn"), ("queued one", "end_turn"),
            ("queued two", "end_turn"), ("queued three", "end_turn")], turns
        assert "echo: urgent now" in _assistant_text(evs, "urgent now")
        deltas = [e for e in evs if e["type"] == "item.delta"
            and e["data"]["delta"].startswith("s")]
        assert len(deltas) < 2000, "the slow turn was not cut short"
        assert a.http("GET", "/v1/sessions/s1").json["queuedMessages"] == 0
        sse.close()


def test_interrupt_over_websocket_and_order_of_two(ctx):
    """The WS "message" command takes interrupt too; two interrupting
    messages keep their order, both before the ordinary queue."""
    with Agentd(ctx.binary) as a:
        _create(a)
        ws = a.ws("/v1/sessions/s1/events/ws")
        rep = ws.request({"type": "message", "id": "m1",
            "message": "go slow please"})
        assert rep == {"reply_to": "m1", "status": 204}, rep
        collect_events(ws, until=lambda e: e["type"] == "item.delta")
        _post(a, "s1", {"message": "plain later"})
        for i, t in enumerate(("first urgent", "second urgent")):
            rep = ws.request({"type": "message", "id": f"u{i}",
                "message": t, "interrupt": True})
            assert rep == {"reply_to": f"u{i}", "status": 204}, rep
        turns = _turns(_wait_turns(a, "s1", 4))
        assert turns == [("go slow please", "cancelled"),
            ("first urgent", "end_turn"), ("second urgent", "end_turn"),
            ("plain later", "end_turn")], turns
        ws.close()


def test_interrupt_without_a_turn_is_a_message(ctx):
    with Agentd(ctx.binary) as a:
        _create(a)
        _post(a, "s1", {"message": "hello", "interrupt": True})
        _post(a, "s1", {"message": "again", "interrupt": False})
        assert _turns(_wait_turns(a, "s1", 2)) == [("hello", "end_turn"),
            ("again", "end_turn")]
        r = _post(a, "s1", {"message": "x", "interrupt": "yes"}, 400)
        assert "interrupt" in problem(r, 400)["detail"]
        ws = a.ws("/v1/sessions/s1/events/ws?offset=0")
        rep = ws.request({"type": "message", "id": "b", "message": "x",
            "interrupt": 1})
        assert rep["status"] == 400 and "interrupt" in rep["error"], rep
        ws.close()
        assert len(_turns(fetch_events(a, "s1"))) == 2, "nothing was sent"


def test_interrupt_through_the_cancel_fallback(ctx):
    """An agent that ignores the cancel is restarted (--cancel-grace); the
    interrupting message is still the first the new agent gets."""
    from test_faults import _create as _create_fake
    with Agentd(ctx.binary, extra_args=["--cancel-grace", "1",
            "--kill-grace", "1"]) as a:
        _create_fake(a, "c", "hang")
        _post(a, "c", {"message": "hello"})
        wait_for(lambda: [e for e in fetch_events(a, "c")
            if e["type"] == "item.delta"], 5)
        _post(a, "c", {"message": "plain later"})
        _post(a, "c", {"message": "urgent now", "interrupt": True})
        evs = wait_for(lambda: (lambda evs: evs if
            [e for e in evs if e["type"] == "turn.started"][1:] and
            len([e for e in evs if e["type"] == "item.completed" and
                e["data"]["item"]["role"] == "user"]) >= 2 else None)(
            fetch_events(a, "c")), 8, msg="no second turn")
        ended = [e for e in evs if e["type"] == "turn.ended"]
        assert ended[0]["data"]["stop_reason"] == "cancelled", ended
        assert [e for e in evs if e["type"] == "error"
            and e["data"].get("code") == "cancel_ignored"]
        users = ["".join(p.get("text", "") for p in e["data"]["item"]["content"])
            for e in evs if e["type"] == "item.completed"
            and e["data"]["item"]["role"] == "user"]
        assert users == ["hello", "urgent now"], users
        assert a.http("GET", "/v1/sessions/c").json["queuedMessages"] == 1
