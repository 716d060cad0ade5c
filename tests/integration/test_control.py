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


# -- what the agent offers, and changing it live

def _config(a, sid, body, status=204):
    r = a.http("POST", f"/v1/sessions/{sid}/config", body)
    assert r.status == status, f"config: {r.status} {r.body[:300]!r}"
    return r


def _say(a, sid, text, n):
    """Send text, wait for the n-th turn, return the reply's text."""
    _post(a, sid, {"message": text})
    return _assistant_text(_wait_turns(a, sid, n), text).split("\n")[-1]


def _whoami(a, sid, n):
    evs = None
    _post(a, sid, {"message": "whoami"})
    evs = _wait_turns(a, sid, n)
    replies = []
    inside = 0
    for e in evs:
        if e["type"] == "item.completed" and e["data"]["item"]["role"] == "user":
            inside = 1
            replies.append("")
        elif e["type"] == "item.delta" and inside:
            replies[-1] += e["data"]["delta"]
        elif e["type"] == "turn.ended":
            inside = 0
    return replies[-1]


def _ids(opt):
    return [c["id"] for c in opt.get("available", [])]


def test_agent_and_session_options(ctx):
    with Agentd(ctx.binary) as a:
        info = a.http("GET", "/v1/agents/mock").json
        o = info["options"]
        assert _ids(o["model"]) == ["mock-fast", "mock-smart"], o
        assert _ids(o["mode"]) == ["default", "acceptEdits", "plan"], o
        assert _ids(o["effort"]) == ["low", "medium", "high"], o
        assert all(o[k]["settable"] for k in o), o
        amp = a.http("GET", "/v1/agents/amp").json["options"]
        assert not any(amp[k]["settable"] for k in amp), amp
        claude = a.http("GET", "/v1/agents/claude").json["options"]
        assert claude["model"]["settable"] and claude["mode"]["settable"]
        assert "bypassPermissions" in _ids(claude["mode"]), claude
        _create(a)
        s = wait_for(lambda: (lambda s: s if s.get("nativeSessionId")
            else None)(a.http("GET", "/v1/sessions/s1").json), 5)
        opts = s["options"]
        assert opts["model"]["current"] == "mock-fast", opts
        assert opts["mode"]["current"] == "default", opts
        assert opts["effort"]["current"] == "medium", opts
        assert _ids(opts["model"]) == ["mock-fast", "mock-smart"], opts
        assert s["model"] == "mock-fast" and s["effort"] == "medium", s
        assert s["permissionMode"] == "default", s


def test_config_changes_the_next_turn_and_is_logged(ctx):
    with Agentd(ctx.binary) as a:
        _create(a)
        assert _whoami(a, "s1", 1) == "model=mock-fast mode=default effort=medium"
        _config(a, "s1", {"model": "mock-smart", "effort": "high"})
        _config(a, "s1", {"permissionMode": "plan"})
        assert _whoami(a, "s1", 2) == "model=mock-smart mode=plan effort=high"
        s = a.http("GET", "/v1/sessions/s1").json
        assert (s["model"], s["permissionMode"], s["effort"]) == \
            ("mock-smart", "plan", "high"), s
        assert s["options"]["model"]["current"] == "mock-smart", s
        items = [e["data"]["item"] for e in fetch_events(a, "s1")
            if e["type"] == "item.completed"
            and e["data"]["item"]["kind"] == "status"
            and e["data"]["item"]["content"][0]["label"] == "config"]
        assert [i["content"][1]["json"] for i in items] == [
            {"model": "mock-smart", "effort": "high"}, {"mode": "plan"}], items
        assert items[0]["content"][0]["detail"] == "model mock-smart, effort high"
        # over the WebSocket, the same command
        ws = a.ws("/v1/sessions/s1/events/ws?offset=0")
        rep = ws.request({"type": "config", "id": "c1", "mode": "default"})
        assert rep == {"reply_to": "c1", "status": 204}, rep
        rep = ws.request({"type": "config", "id": "c2", "effort": "huge"})
        assert rep["status"] == 422 and "low, medium, high" in rep["error"], rep
        ws.close()
        assert _whoami(a, "s1", 3) == "model=mock-smart mode=default effort=high"


def test_config_refusals(ctx):
    with Agentd(ctx.binary) as a:
        _create(a)
        wait_for(lambda: a.http("GET", "/v1/sessions/s1").json.get(
            "nativeSessionId"), 5)
        for body, status, word in (
                ({}, 400, "nothing to change"),
                ({"model": ""}, 400, "model"),
                ({"model": 5}, 400, "model"),
                ({"colour": "red"}, 400, "colour"),
                ({"mode": "plan", "permissionMode": "default"}, 400, "differ"),
                ({"model": "gpt-9"}, 422, "mock-fast, mock-smart"),
                ({"mode": "yolo", "model": "mock-smart"}, 422, "yolo")):
            r = _config(a, "s1", body, status)
            assert word in problem(r, status)["detail"], (body, r.json)
        assert a.http("GET", "/v1/sessions/s1").json["model"] == "mock-fast"
        assert not [e for e in fetch_events(a, "s1")
            if e["type"] == "item.completed"
            and e["data"]["item"]["kind"] == "status"], "a refusal was logged"
        r = _config(a, "nope", {"model": "x"}, 404)
        # an ACP agent whose session offers no settings: 409, said why
        from test_faults import _create as _create_fake
        _create_fake(a, "f", "ok")
        _post(a, "f", {"message": "hi"})
        _wait_turns(a, "f", 1)
        r = _config(a, "f", {"model": "m1"}, 409)
        assert "no way to change its model" in problem(r, 409)["detail"]
        assert a.http("POST", "/v1/sessions/s1/terminate").status == 204
        wait_for(lambda: a.http("GET", "/v1/sessions/s1").json["ended"], 5)
        _config(a, "s1", {"model": "mock-smart"}, 409)


def test_config_mode_gates_permissions(ctx):
    """acceptEdits lets the mock's edit through; a stricter mode set live
    makes the next one ask."""
    with Agentd(ctx.binary) as a:
        _create(a, permissionMode="acceptEdits")
        _post(a, "s1", {"message": "permission please"})
        evs = _wait_turns(a, "s1", 1)
        assert "permission.requested" not in [e["type"] for e in evs]
        _config(a, "s1", {"mode": "default"})
        _post(a, "s1", {"message": "permission please"})
        req = wait_for(lambda: [e for e in fetch_events(a, "s1")
            if e["type"] == "permission.requested"], 5)[0]
        r = a.http("POST", "/v1/sessions/s1/permissions/"
            f"{req['data']['permission_id']}/reply", {"reply": "once"})
        assert r.status == 204
        _wait_turns(a, "s1", 2)


def test_config_during_a_turn_and_across_restart(ctx):
    with Agentd(ctx.binary) as a:
        _create(a, effort="low")
        assert _whoami(a, "s1", 1) == "model=mock-fast mode=default effort=low"
        sse = a.sse("/v1/sessions/s1/events/sse", offset=0)
        _post(a, "s1", {"message": "go slow please"})
        collect_events(sse, until=lambda e: e["type"] == "item.delta")
        _config(a, "s1", {"model": "mock-smart"})
        assert a.http("POST", "/v1/sessions/s1/cancel").status == 204
        _wait_turns(a, "s1", 2)
        sse.close()
        assert _whoami(a, "s1", 3) == "model=mock-smart mode=default effort=low"
        a.restart()
        # idle now: the change waits for the agent's next start
        assert a.http("GET", "/v1/sessions/s1").json["state"] == "idle"
        _config(a, "s1", {"mode": "plan"})
        # a new agent process: its settings come from session.json
        assert _whoami(a, "s1", 4) == "model=mock-smart mode=plan effort=low"
        s = a.http("GET", "/v1/sessions/s1").json
        assert (s["model"], s["permissionMode"], s["effort"]) == \
            ("mock-smart", "plan", "low"), s


# -- the ACP-over-HTTP facade: set_mode, set_model, set_config_option

ACP_JSON = {"Content-Type": "application/json", "Accept": "application/json"}


def _acp(a, srv, rid, method, params, agent=None):
    path = f"/v1/acp/{srv}" + (f"?agent={agent}" if agent else "")
    r = a.http("POST", path, {"jsonrpc": "2.0", "id": rid, "method": method,
        "params": params}, headers=dict(ACP_JSON))
    assert r.status == 200, f"{method}: {r.status} {r.body[:300]!r}"
    return r.json


def _cfg(result, category):
    return [o for o in result["configOptions"] if o["category"] == category][0]


def test_acp_facade_settings_on_the_mock(ctx):
    with Agentd(ctx.binary) as a:
        _acp(a, "x", 0, "initialize", {"protocolVersion": 1}, "mock")
        new = _acp(a, "x", 1, "session/new", {"cwd": a.cwd,
            "mcpServers": []})["result"]
        sid = new["sessionId"]
        assert [o["value"] for o in _cfg(new, "model")["options"]] == \
            ["mock-fast", "mock-smart"], new
        assert _cfg(new, "thought_level")["id"] == "effort", new
        assert [m["id"] for m in new["modes"]["availableModes"]] == \
            ["default", "acceptEdits", "plan"], new
        r = _acp(a, "x", 2, "session/set_mode", {"sessionId": sid,
            "modeId": "plan"})
        assert r["result"] == {}, r
        r = _acp(a, "x", 3, "session/set_config_option", {"sessionId": sid,
            "configId": "effort", "value": "high"})
        assert _cfg(r["result"], "thought_level")["currentValue"] == "high"
        r = _acp(a, "x", 4, "session/set_model", {"sessionId": sid,
            "modelId": "mock-smart"})
        assert r["result"] == {}, r
        r = _acp(a, "x", 5, "session/set_config_option", {"sessionId": sid,
            "configId": "model", "value": "gpt-9"})
        assert r["error"]["code"] == -32602 and "mock-fast" in \
            r["error"]["message"], r
        r = _acp(a, "x", 6, "session/set_mode", {"sessionId": "nope",
            "modeId": "plan"})
        assert r["error"]["code"] == -32002, r
        r = _acp(a, "x", 7, "session/prompt", {"sessionId": sid,
            "prompt": [{"type": "text", "text": "whoami"}]})
        assert r["result"]["stopReason"] == "end_turn", r
        text = _assistant_text(fetch_events(a, sid), "whoami")
        assert text == "model=mock-smart mode=plan effort=high", text
        a.http("DELETE", "/v1/acp/x")


def test_acp_facade_settings_on_claude(ctx):
    """Claude (a native agent; here a stand-in that reads its stdin and
    says nothing, with agentd recording what it is sent) through the
    facade: set_config_option and set_mode become Claude's control
    requests set_model and set_permission_mode; effort is refused with
    the reason."""
    import json
    import os
    import tempfile
    bindir = tempfile.mkdtemp(prefix="agentd-fakeclaude-")
    record = tempfile.mkdtemp(prefix="agentd-record-")
    with open(os.path.join(bindir, "claude"), "w") as f:
        f.write("#!/bin/sh\nexec cat >/dev/null\n")
    os.chmod(os.path.join(bindir, "claude"), 0o755)
    with Agentd(ctx.binary, extra_args=["--record", record],
            env={"PATH": bindir + ":" + os.environ["PATH"]}) as a:
        _acp(a, "c", 0, "initialize", {"protocolVersion": 1}, "claude")
        new = _acp(a, "c", 1, "session/new", {"cwd": a.cwd, "mcpServers": [],
            "_meta": {"agentd": {"agentCommand": [
            os.path.join(bindir, "claude")]}}})["result"]
        sid = new["sessionId"]
        assert "plan" in [o["value"] for o in _cfg(new, "mode")["options"]]
        assert _cfg(new, "model")["options"] == [], new
        assert [o["category"] for o in new["configOptions"]] == \
            ["model", "mode"], "claude has no effort to set"
        r = _acp(a, "c", 3, "session/set_config_option", {"sessionId": sid,
            "configId": "model", "value": "claude-sonnet-4-5"})
        assert "result" in r, r
        assert _cfg(r["result"], "model")["currentValue"] == \
            "claude-sonnet-4-5", r
        r = _acp(a, "c", 4, "session/set_mode", {"sessionId": sid,
            "modeId": "plan"})
        assert r["result"] == {}, r
        r = _acp(a, "c", 5, "session/set_config_option", {"sessionId": sid,
            "configId": "effort", "value": "high"})
        assert r["error"]["code"] == -32602 and \
            "reasoning effort" in r["error"]["message"], r
        r = _acp(a, "c", 6, "session/set_mode", {"sessionId": sid,
            "modeId": "yolo"})
        assert r["error"]["code"] == -32602 and "yolo" in \
            r["error"]["message"], r
        info = a.http("GET", f"/v1/sessions/{sid}").json
        assert (info["model"], info["permissionMode"]) == \
            ("claude-sonnet-4-5", "plan"), info

        def sent():
            out = []
            with open(os.path.join(record, sid + ".jsonl")) as f:
                for line in f:
                    e = json.loads(line)
                    if e.get("d") == ">":
                        out.append(json.loads(e["l"]))
            return out
        reqs = wait_for(lambda: (lambda s: s if len(s) >= 3 else None)(
            [m["request"] for m in sent()
            if m.get("type") == "control_request"]), 5)
        # initialize at start (for Claude's models), then the two changes
        assert reqs == [{"subtype": "initialize"},
            {"subtype": "set_model", "model": "claude-sonnet-4-5"},
            {"subtype": "set_permission_mode", "mode": "plan"}], reqs
        a.http("DELETE", "/v1/acp/c")


# -- attachments

# A 1x1 PNG (67 bytes).
PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9Q"
    "DwADhgGAWjR9awAAAABJRU5ErkJggg==")


def _user_item(evs, text):
    for e in evs:
        if e["type"] == "item.completed" and \
                e["data"]["item"]["role"] == "user" and \
                e["data"]["item"]["content"][0].get("text") == text:
            return e["data"]["item"]
    raise AssertionError(f"no user item {text!r}")


def test_attachments_recorded_and_sent(ctx):
    import base64
    import os
    with Agentd(ctx.binary) as a:
        _create(a, cwd=a.cwd)
        raw = base64.b64decode(PNG)
        with open(os.path.join(a.cwd, "shot.png"), "wb") as f:
            f.write(raw)
        with open(os.path.join(a.cwd, "notes.txt"), "w") as f:
            f.write("some notes\n")
        _post(a, "s1", {"message": "look at these", "attachments": [
            {"data": PNG, "mime": "image/png", "name": "inline.png"},
            {"path": "shot.png"},
            {"path": "notes.txt"}]})
        evs = _wait_turns(a, "s1", 1)
        parts = _user_item(evs, "look at these")["content"]
        assert [p["type"] for p in parts] == ["text", "image", "image",
            "file_ref"], parts
        assert parts[1] == {"type": "image", "data": PNG,
            "mime": "image/png"}, parts[1]
        assert parts[2] == {"type": "image", "mime": "image/png",
            "path": os.path.join(a.cwd, "shot.png")}, parts[2]
        assert parts[3]["path"] == os.path.join(a.cwd, "notes.txt") and \
            parts[3]["action"] == "read", parts[3]
        said = _assistant_text(evs, "look at these")
        assert said.count(f"saw image image/png, {len(raw)} bytes") == 2, said
        assert "notes.txt" in said, "the file reached the agent as a link"


def test_attachments_refused(ctx):
    import base64
    import os
    with Agentd(ctx.binary) as a:
        _create(a, cwd=a.cwd)
        big = os.path.join(a.cwd, "big.png")
        with open(big, "wb") as f:
            f.write(b"\0" * (5 * 1024 * 1024 + 1))
        for atts, status, word in (
                ("x", 400, "array"),
                ([5], 400, "object"),
                ([{}], 400, "one of the two"),
                ([{"path": "a", "data": PNG, "mime": "image/png"}], 400,
                    "one of the two"),
                ([{"data": PNG}], 400, "mime"),
                ([{"data": "aGk=", "mime": "text/plain"}], 400, "images"),
                ([{"data": "not base64!", "mime": "image/png"}], 400,
                    "base64"),
                ([{"path": "nope.txt"}], 400, "nope.txt"),
                ([{"path": "big.png"}], 413, "over"),
                # one byte over, inline: its base64 is within the padding
                ([{"data": base64.b64encode(b"\0" * (5 * 1024 * 1024 + 1))
                    .decode(), "mime": "image/png"}], 413, "over"),
                ([{"path": "big.png", "mime": "text/plain"}] * 17, 413,
                    "at most 16")):
            r = _post(a, "s1", {"message": "x", "attachments": atts}, status)
            assert word in problem(r, status)["detail"], (atts, r.json)
        # a file that is no image is not read: its size does not matter
        _post(a, "s1", {"message": "x", "attachments": [
            {"path": "big.png", "mime": "application/octet-stream"}]})
        assert len(_turns(_wait_turns(a, "s1", 1))) == 1
