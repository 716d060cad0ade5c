"""Issue 9: ACP over HTTP (sandbox-agent 0.2-0.4's transport), raw.

Status codes as sandbox-agent answers them, the SSE stream (event:
message, id:, Last-Event-ID replay from disk, 409 for a cursor we cannot
honour), DELETE idempotence, a prompt that streams for seconds on one
POST, the permission round trip, and the session as universal events.
Issue 12: the stream is a journal (numbered store lines), server.json is
read whole at any size, an unnumbered messages.jsonl is still read, and a
kill -9 in the middle of a turn neither loses nor repeats a chunk.

acp_stream, acp_chunks and universal_chunks are used by
tests/chaos/chaos.py too.
"""

import json
import os
import socket
import threading
import time

from agentd import cpu_ticks, fetch_events, wait_for

TOKEN = "tk-acp-http-9a1f"
JSON = {"Content-Type": "application/json", "Accept": "application/json"}


def _rpc(a, srv, body, agent=None, headers=JSON):
    path = f"/v1/acp/{srv}" + (f"?agent={agent}" if agent else "")
    return a.http("POST", path, body, headers=dict(headers))


def _req(a, srv, rid, method, params, agent=None):
    r = _rpc(a, srv, {"jsonrpc": "2.0", "id": rid, "method": method,
        "params": params}, agent)
    assert r.status == 200, f"{method}: {r.status} {r.body[:300]!r}"
    assert r.json["id"] == rid, r.json
    return r.json


def _open(a, srv="s1", agent="mock"):
    """initialize + session/new: the ACP sessionId."""
    init = _req(a, srv, 0, "initialize", {"protocolVersion": 1}, agent)
    assert init["result"]["protocolVersion"] == 1
    assert init["result"]["agentCapabilities"]["loadSession"] is True
    new = _req(a, srv, 1, "session/new", {"cwd": a.cwd, "mcpServers": []})
    return new["result"]["sessionId"]


def _prompt(a, srv, rid, sid, text):
    return _req(a, srv, rid, "session/prompt", {"sessionId": sid,
        "prompt": [{"type": "text", "text": text}]})


def acp_last(a, srv):
    """The server's lastEventId, None if it does not exist."""
    for s in a.http("GET", "/v1/acp").json["servers"]:
        if s["serverId"] == srv:
            return s["lastEventId"]
    return None


def acp_stream(a, srv, after=0):
    """Every message of the server's stream after `after` (SSE events),
    up to its lastEventId now."""
    last = acp_last(a, srv)
    out = []
    if last is not None and last > after:
        with a.sse(f"/v1/acp/{srv}", last_event_id=after) as c:
            while len(out) < last - after:
                ev = c.next(timeout=10)
                assert ev is not None, f"stream ended at {len(out)} of {last - after}"
                out.append(ev)
    return out


CHUNKS = ("agent_message_chunk", "agent_thought_chunk")


def acp_chunks(msgs, sid):
    """{(chunk kind, messageId): text} of a session's streamed chunks."""
    out = {}
    for m in msgs:
        d = m.data if hasattr(m, "data") else m
        if d.get("method") != "session/update" or d["params"]["sessionId"] != sid:
            continue
        u = d["params"]["update"]
        if u["sessionUpdate"] in CHUNKS:
            k = (u["sessionUpdate"], u.get("messageId"))
            out[k] = out.get(k, "") + u["content"]["text"]
    return out


def universal_chunks(events):
    """What acp_chunks must be for a session's universal events, each
    translated once: an assistant message or reasoning streams its deltas,
    or its completed text when it had none."""
    kinds, deltas, out = {}, {}, {}
    for ev in events:
        d = ev["data"]
        if ev["type"] in ("item.started", "item.completed"):
            it = d["item"]
            k = "agent_thought_chunk" if it["kind"] == "reasoning" else \
                "agent_message_chunk" if it["kind"] == "message" and \
                it.get("role") == "assistant" else None
            if k is None:
                continue
            if ev["type"] == "item.started":
                kinds[it["item_id"]] = k
                continue
            if not deltas.get(it["item_id"]):
                text = "".join(p.get("text", "") for p in it.get("content", [])
                    if isinstance(p.get("text"), str))
                if text:
                    out[(k, it["item_id"])] = out.get((k, it["item_id"]), "") + text
            kinds.pop(it["item_id"], None)
        elif ev["type"] == "item.delta" and d.get("item_id") in kinds and d.get("delta"):
            deltas[d["item_id"]] = True
            key = (kinds[d["item_id"]], d["item_id"])
            out[key] = out.get(key, "") + d["delta"]
    return out


def _is_problem(r, status):
    assert r.status == status, f"want {status}: {r.status} {r.body[:300]!r}"
    assert r.headers["content-type"].startswith("application/problem+json")


def test_acp_status_codes(ctx):
    a = ctx.agentd(token=TOKEN)
    init = {"jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": 1}}
    _is_problem(_rpc(a, "s1", init, "mock",
        headers={"Content-Type": "text/plain"}), 415)
    _is_problem(_rpc(a, "s1", init, "mock",
        headers={"Content-Type": "application/json",
        "Accept": "text/plain"}), 406)
    _is_problem(_rpc(a, "s1", init), 400)             # first POST: ?agent=
    _is_problem(_rpc(a, "s1", "{not json", "mock"), 400)
    _is_problem(_rpc(a, "s1", {"jsonrpc": "1.0", "id": 1}, "mock"), 400)
    _is_problem(_rpc(a, "s1", init, "nosuchagent"), 400)
    _is_problem(a.http("GET", "/v1/acp/s1"), 404)
    assert _rpc(a, "s1", init, "mock").status == 200
    _is_problem(_rpc(a, "s1", init, "claude"), 409)   # bound to mock
    assert _rpc(a, "s1", init).status == 200          # no ?agent= later
    _is_problem(a.http("GET", "/v1/acp/s1",
        headers={"Accept": "application/json"}), 406)
    r = _rpc(a, "s1", {"jsonrpc": "2.0", "id": 5, "method": "nope/x"})
    assert r.status == 200 and r.json["error"]["code"] == -32601, r.json
    r = _rpc(a, "s1", {"jsonrpc": "2.0", "method": "x/note"})
    assert r.status == 202 and r.body == b""
    r = a.http("GET", "/v1/acp")
    assert [s["serverId"] for s in r.json["servers"]] == ["s1"]
    assert r.json["servers"][0]["agent"] == "mock"
    for _ in range(2):                                # idempotent
        assert a.http("DELETE", "/v1/acp/s1").status == 204
    assert a.http("DELETE", "/v1/acp/never").status == 204
    assert a.http("GET", "/v1/acp").json["servers"] == []
    assert a.http("GET", "/v1/acp", token=None).status == 401


def test_acp_sse_ids_replay_and_gap(ctx):
    a = ctx.agentd(token=TOKEN)
    sid = _open(a)
    res = _prompt(a, "s1", 2, sid, "hello")
    assert res["result"]["stopReason"] == "end_turn", res
    with a.sse("/v1/acp/s1") as c:
        evs = []
        while True:
            ev = c.next(timeout=2)
            evs.append(ev)
            if "result" in ev.data:
                break
    assert all(e.event == "message" for e in evs)
    ids = [int(e.id) for e in evs]
    assert ids == list(range(1, len(ids) + 1)), ids
    chunks = "".join(e.data["params"]["update"]["content"]["text"]
        for e in evs if e.data.get("method") == "session/update" and
        e.data["params"]["update"]["sessionUpdate"] ==
        "agent_message_chunk")
    assert chunks == "echo: hello", chunks
    # Last-Event-ID: exactly what followed, also after a restart (disk).
    for restart in (False, True):
        if restart:
            a.restart()
        with a.sse("/v1/acp/s1", last_event_id=2) as c:
            again = [c.next(timeout=2) for _ in range(len(evs) - 2)]
        assert [e.id for e in again] == [e.id for e in evs[2:]]
        assert [e.data for e in again] == [e.data for e in evs[2:]]
    _is_problem(a.http("GET", "/v1/acp/s1",
        headers={"Last-Event-ID": "999"}), 409)
    _is_problem(a.http("GET", "/v1/acp/s1",
        headers={"Last-Event-ID": "x1"}), 400)
    # After the restart the server still knows its session.
    assert a.http("GET", "/v1/acp").json["servers"][0]["sessions"] == [sid]
    res = _prompt(a, "s1", 3, sid, "again")
    assert res["result"]["stopReason"] == "end_turn", res


def test_acp_long_prompt_permission_and_universal_view(ctx):
    a = ctx.agentd(token=TOKEN)
    sid = _open(a)
    # "slow": 2,000 chunks 2 ms apart, several seconds on one POST.
    t0 = time.monotonic()
    res = _prompt(a, "s1", 2, sid, "slow")
    assert res["result"]["stopReason"] == "end_turn", res
    assert time.monotonic() - t0 > 3.0

    # The permission arrives on SSE as a request; the answer is a 202.
    c = a.sse("/v1/acp/s1", last_event_id=a.http("GET", "/v1/acp").json[
        "servers"][0]["lastEventId"])
    out = {}
    th = threading.Thread(target=lambda: out.update(
        r=_prompt(a, "s1", 3, sid, "permission")))
    th.start()
    ask = None
    while ask is None:
        ev = c.next(timeout=10)
        assert ev is not None, "stream ended before the permission"
        if ev.data.get("method") == "session/request_permission":
            ask = ev
    opts = {o["kind"]: o["optionId"] for o in ask.data["params"]["options"]}
    assert set(opts) == {"allow_once", "allow_always", "reject_once"}
    r = _rpc(a, "s1", {"jsonrpc": "2.0", "id": ask.data["id"], "result":
        {"outcome": {"outcome": "selected", "optionId": opts["allow_once"]}}})
    assert r.status == 202, r
    th.join(10)
    c.close()
    assert out["r"]["result"]["stopReason"] == "end_turn", out

    # The same session, universal and read-only there.
    evs = fetch_events(a, sid)
    types = [e["type"] for e in evs]
    assert types.count("turn.ended") == 2, types
    assert any(e["type"] == "permission.resolved" and
        e["data"]["status"] == "accept" for e in evs)
    assert any(s["sessionId"] == sid
        for s in a.http("GET", "/v1/sessions").json["sessions"])
    for path, body in ((f"/v1/sessions/{sid}/messages", {"message": "x"}),
            (f"/v1/sessions/{sid}/cancel", None),
            (f"/v1/sessions/{sid}/terminate", None)):
        _is_problem(a.http("POST", path, body), 409)
    _is_problem(a.http("DELETE", f"/v1/sessions/{sid}"), 409)

    # DELETE answers at once; the agent is stopped in the background.
    t0 = time.monotonic()
    assert a.http("DELETE", "/v1/acp/s1").status == 204
    assert time.monotonic() - t0 < 1.0
    wait_for(lambda: a.http("GET", f"/v1/sessions/{sid}").json["ended"],
        5, interval=0.05, msg="session not ended after DELETE")
    assert fetch_events(a, sid)[-1]["type"] == "session.ended"
    # Released: the universal API may write again (here: delete it).
    assert a.http("DELETE", f"/v1/sessions/{sid}").status == 204


def test_acp_session_load_replays_history(ctx):
    a = ctx.agentd(token=TOKEN)
    sid = _open(a)
    _prompt(a, "s1", 2, sid, "tool")
    last = a.http("GET", "/v1/acp").json["servers"][0]["lastEventId"]
    r = _req(a, "s1", 3, "session/load", {"sessionId": sid, "cwd": a.cwd,
        "mcpServers": []})
    assert "error" not in r, r
    with a.sse("/v1/acp/s1", last_event_id=last) as c:
        kinds = []
        while True:
            try:
                ev = c.next(timeout=0.5)
            except TimeoutError:
                break
            kinds.append(ev.data["params"]["update"]["sessionUpdate"])
    assert kinds[0] == "user_message_chunk", kinds
    assert "tool_call" in kinds and "tool_call_update" in kinds, kinds
    assert kinds[-1] == "agent_message_chunk", kinds
    r = _rpc(a, "s1", {"jsonrpc": "2.0", "id": 4, "method": "session/load",
        "params": {"sessionId": "nope", "cwd": a.cwd, "mcpServers": []}})
    assert r.json["error"]["code"] == -32002, r.json


def test_acp_state_over_64k_survives_restart(ctx):
    """server.json is read whole at any size: 2,000 bound sessions (gone
    ones are skipped at load) with ours last, far over 64 KiB."""
    a = ctx.agentd(token=TOKEN)
    sid = _open(a)
    _prompt(a, "s1", 2, sid, "hello")
    before = acp_stream(a, "s1")
    a.stop()
    path = os.path.join(a.data_dir, "acp", "s1", "server.json")
    with open(path) as f:
        state = json.load(f)
    assert [s["id"] for s in state["sessions"]] == [sid], state
    state["sessions"] = [{"id": f"acp-gone{i:08d}", "cursor": 0}
        for i in range(2000)] + state["sessions"]
    data = json.dumps(state)
    assert len(data) > 65536, len(data)
    with open(path, "w") as f:
        f.write(data)
    a.start()
    srv = a.http("GET", "/v1/acp").json["servers"]
    assert [(s["serverId"], s["sessions"]) for s in srv] == [("s1", [sid])], srv
    # Its cursor was honoured: nothing translated again.
    after = acp_stream(a, "s1")
    assert [(e.id, e.data) for e in after] == [(e.id, e.data) for e in before]
    res = _prompt(a, "s1", 3, sid, "again")
    assert res["result"]["stopReason"] == "end_turn", res
    # Rewritten whole through a temp file, which is gone.
    with open(path) as f:
        assert [s["id"] for s in json.load(f)["sessions"]] == [sid]
    assert not os.path.exists(path + ".new")


def test_acp_unnumbered_log_is_read_at_start(ctx):
    """A messages.jsonl from before its lines were numbered (line N is
    message N, bare; torn last line) is read, and rewritten numbered."""
    a = ctx.agentd(token=TOKEN)
    sid = _open(a)
    _prompt(a, "s1", 2, sid, "tool")
    before = acp_stream(a, "s1")
    a.stop()
    log = os.path.join(a.data_dir, "acp", "s1", "messages.jsonl")
    with open(log) as f:
        lines = [json.loads(line) for line in f]
    assert [line["sequence"] for line in lines] == list(range(1, len(before) + 1))
    assert [line["message"] for line in lines] == [e.data for e in before]
    with open(log, "w") as f:
        for line in lines:
            f.write(json.dumps(line["message"], separators=(",", ":")) + "\n")
        f.write('{"jsonrpc":"2.0","meth')
    path = os.path.join(a.data_dir, "acp", "s1", "server.json")
    with open(path) as f:
        state = json.load(f)
    del state["messages"]
    for s in state["sessions"]:
        del s["settled"]
    with open(path, "w") as f:
        json.dump(state, f)
    a.start()
    after = acp_stream(a, "s1")
    assert [(e.id, e.data) for e in after] == [(e.id, e.data) for e in before]
    with open(log, "rb") as f:
        assert f.read().startswith(b'{"sequence":1,"message":{')
    res = _prompt(a, "s1", 3, sid, "again")
    assert res["result"]["stopReason"] == "end_turn", res
    assert int(acp_stream(a, "s1")[-1].id) > len(before)


def test_acp_kill9_mid_turn_sends_each_chunk_once(ctx):
    """kill -9 while a turn streams: after the restart the stream has every
    chunk of the session's log exactly once (the stored cursors say how
    far translation got; the streaming item is picked up where it was)."""
    a = ctx.agentd(token=TOKEN)
    sid = _open(a)
    _prompt(a, "s1", 2, sid, "hello")     # a turn end: server.json saved
    start = acp_last(a, "s1")

    def slow():
        try:
            _rpc(a, "s1", {"jsonrpc": "2.0", "id": 3, "method":
                "session/prompt", "params": {"sessionId": sid, "prompt":
                [{"type": "text", "text": "slow"}]}})
        except OSError:
            pass                          # the kill cuts the POST
    th = threading.Thread(target=slow, daemon=True)
    th.start()
    wait_for(lambda: acp_last(a, "s1") > start + 200, 10,
        msg="the slow turn did not stream")
    a.kill9()
    th.join(5)
    a.start()
    msgs = acp_stream(a, "s1")
    assert [int(m.id) for m in msgs] == list(range(1, len(msgs) + 1))
    evs = fetch_events(a, sid)
    assert any(e["type"] == "turn.ended" and
        e["data"].get("stop_reason") == "interrupted" for e in evs), \
        [e["type"] for e in evs[-5:]]
    want = universal_chunks(evs)
    got = acp_chunks(msgs, sid)
    assert got.keys() == want.keys(), (got.keys(), want.keys())
    for k in want:
        assert got[k] == want[k], f"{k}: {len(got[k])} chars sent, {len(want[k])} logged"
    res = _prompt(a, "s1", 4, sid, "again")
    assert res["result"]["stopReason"] == "end_turn", res


PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9Q"
       "DwADhgGAWjR9awAAAABJRU5ErkJggg==")


def test_acp_prompt_images_and_files_are_attachments(ctx):
    """Issue 15: a prompt's image block, file link and embedded image blob
    are the message's attachments: recorded as image and file_ref parts of
    the user item, and sent on to the agent (the mock says what it saw)."""
    import base64
    a = ctx.agentd(token=TOKEN)
    init = _req(a, "s1", 0, "initialize", {"protocolVersion": 1}, "mock")
    assert init["result"]["agentCapabilities"]["promptCapabilities"][
        "image"] is True, init
    sid = _req(a, "s1", 1, "session/new", {"cwd": a.cwd,
        "mcpServers": []})["result"]["sessionId"]
    raw = base64.b64decode(PNG)
    with open(os.path.join(a.cwd, "notes one.md"), "w") as f:
        f.write("notes\n")
    notes_uri = "file://" + os.path.join(a.cwd, "notes%20one.md")
    res = _req(a, "s1", 2, "session/prompt", {"sessionId": sid, "prompt": [
        {"type": "text", "text": "look at these"},
        {"type": "image", "data": PNG, "mimeType": "image/png"},
        {"type": "resource_link", "uri": notes_uri, "name": "notes one.md"},
        {"type": "resource", "resource": {"uri": "mem:x", "blob": PNG,
            "mimeType": "image/gif"}}]})
    assert res["result"]["stopReason"] == "end_turn", res
    evs = fetch_events(a, sid)
    user = [e["data"]["item"] for e in evs if e["type"] == "item.completed"
        and e["data"]["item"].get("role") == "user"]
    assert len(user) == 1, user
    parts = user[0]["content"]
    assert [p["type"] for p in parts] == ["text", "image", "file_ref",
        "image"], parts
    assert parts[0]["text"] == "look at these", parts[0]
    assert parts[1] == {"type": "image", "data": PNG, "mime": "image/png"}
    assert parts[2]["path"] == os.path.join(a.cwd, "notes one.md") and \
        parts[2]["action"] == "read", parts[2]
    assert parts[3] == {"type": "image", "data": PNG, "mime": "image/gif"}
    said = "".join(e["data"].get("delta", "") for e in evs
        if e["type"] == "item.delta")
    assert f"saw image image/png, {len(raw)} bytes" in said, said
    assert f"saw image image/gif, {len(raw)} bytes" in said, said

    # Bounded and checked as a native message's attachments: a refusal is
    # the caller's (invalid params) and no turn starts.
    big = base64.b64encode(b"\0" * (5 * 1024 * 1024 + 1)).decode()
    for block, word in (
            ({"type": "image", "data": big, "mimeType": "image/png"}, "over"),
            ({"type": "image", "data": "not base64!", "mimeType":
                "image/png"}, "base64"),
            ({"type": "image", "uri": "https://x/y.png"}, "one of the two"),
            ({"type": "resource_link", "uri": "file:///nope/none.md"},
                "none.md")):
        r = _req(a, "s1", 3, "session/prompt", {"sessionId": sid,
            "prompt": [{"type": "text", "text": "x"}, block]})
        assert "error" in r, (block.get("uri"), str(r)[:300])
        assert r["error"]["code"] == -32602, r
        assert word in r["error"]["message"], r
    assert [e["type"] for e in fetch_events(a, sid)].count("turn.ended") == 1


def _raw_prompt(a, sid, text, after=b""):
    """A session/prompt POST on a socket of its own, `after` sent on it
    right behind the request; with the server's lastEventId from before
    it, which the turn's messages follow (read after the POST, it may
    already be past a quick agent's permission request)."""
    last = acp_last(a, "s1")
    body = json.dumps({"jsonrpc": "2.0", "id": 7, "method":
        "session/prompt", "params": {"sessionId": sid, "prompt": [
            {"type": "text", "text": text}]}}).encode()
    s = socket.create_connection(("127.0.0.1", a.port), timeout=10)
    s.sendall(b"POST /v1/acp/s1 HTTP/1.1\r\nHost: localhost\r\n"
        b"Authorization: Bearer " + TOKEN.encode() + b"\r\n"
        b"Content-Type: application/json\r\nAccept: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" +
        body + after)
    return s, last


def _permission_asked(a, after):
    c = a.sse("/v1/acp/s1", last_event_id=after)
    while True:
        ev = c.next(timeout=10)
        assert ev is not None, "stream ended before the permission"
        if ev.data.get("method") == "session/request_permission":
            c.close()
            return ev.data


def test_acp_prompt_waits_idle_for_a_client_that_pipelines(ctx):
    """A prompt's POST waits for the turn; its client sends the next
    request behind it. lws read that request and, while it sat unparsed
    behind the wait, polled without sleeping: 100% CPU for the whole turn
    (here, a permission nobody answers yet). Now agentd idles, and the
    pipelined request is answered after the prompt's reply, in order."""
    a = ctx.agentd(token=TOKEN)
    sid = _open(a)
    health = (b"GET /v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n")
    s, last = _raw_prompt(a, sid, "permission", health)
    ask = _permission_asked(a, last)
    time.sleep(0.2)
    t0 = cpu_ticks(a.pid)
    time.sleep(1)
    # 1 s of a spinning loop is 100 ticks
    assert cpu_ticks(a.pid) - t0 < 20, "agentd busy while the prompt waits"
    opts = {o["kind"]: o["optionId"] for o in ask["params"]["options"]}
    r = _rpc(a, "s1", {"jsonrpc": "2.0", "id": ask["id"], "result":
        {"outcome": {"outcome": "selected", "optionId": opts["allow_once"]}}})
    assert r.status == 202, r
    got = b""
    end = time.monotonic() + 10
    while got.count(b"HTTP/1.1 ") < 2 and time.monotonic() < end:
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
    s.close()
    first, _, second = got.partition(b"\r\n\r\n")
    assert first.startswith(b"HTTP/1.1 200"), got[:200]
    assert b'"stopReason":"end_turn"' in second, got[:600]
    assert b"HTTP/1.1 200" in second, "the pipelined request got no answer"


def test_acp_prompt_client_that_hangs_up_is_let_go(ctx):
    """The client of a waiting prompt hangs up: its connection goes at
    once (not when the turn ends), agentd idles, the turn goes on."""
    a = ctx.agentd(token=TOKEN)
    sid = _open(a)

    def clients():
        for line in a.http("GET", "/v1/metrics").body.decode().splitlines():
            if line.startswith("agentd_clients "):
                return int(float(line.split()[1]))
        raise AssertionError("no agentd_clients in /v1/metrics")

    # the set-up's connections close when the kernel and agentd's loop
    # get to it (late on a loaded machine): wait till the metrics request
    # itself is the only client
    base = 1
    wait_for(lambda: clients() == base, 2, interval=0.05,
        msg="the set-up's connections stayed")
    s, last = _raw_prompt(a, sid, "permission")
    ask = _permission_asked(a, last)
    # the permission's stream was closed too: wait till it is gone
    wait_for(lambda: clients() == base + 1, 2, interval=0.05,
        msg="the waiting prompt is not a client")
    s.close()
    wait_for(lambda: clients() == base, 2, interval=0.05,
        msg="the hung-up prompt's connection stayed")
    t0 = cpu_ticks(a.pid)
    time.sleep(1)
    assert cpu_ticks(a.pid) - t0 < 20, "agentd busy after the hang-up"
    opts = {o["kind"]: o["optionId"] for o in ask["params"]["options"]}
    assert _rpc(a, "s1", {"jsonrpc": "2.0", "id": ask["id"], "result":
        {"outcome": {"outcome": "selected", "optionId":
            opts["allow_once"]}}}).status == 202
    wait_for(lambda: [e["type"] for e in fetch_events(a, sid)].count(
        "turn.ended") == 1, 10, msg="the turn did not end")
    assert _prompt(a, "s1", 8, sid, "again")["result"][
        "stopReason"] == "end_turn"
