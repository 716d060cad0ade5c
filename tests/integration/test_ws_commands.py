"""Issue 12 item 5, issue 13 item 10: a WebSocket command is its route.

Every WebSocket command ({"type": "message" | "permission.reply" |
"question.reply" | "question.reject" | "cancel" | "terminate"}) is sent
valid, with a member missing and with members of the wrong type, and the
same command goes to its HTTP route (POST /v1/sessions/{id}/…): the WS
reply's status is the route's HTTP status, and its "error" the problem's
detail. A refused reply must leave the permission or question pending:
nothing resolved in the log, nothing said to the agent (the mock agent
says what it was answered).
"""

import json

from agentd import Agentd, fetch_events, problem, wait_for

# Wrong shapes of a question's answers: one array of labels per question.
BAD_ANSWERS = ("Red", None, 5, {"0": ["Red"]}, [[1]], ["Red"], [[None]],
    [["Red"], 2], [[["Red"]]])


def _create(a, sid):
    r = a.http("POST", f"/v1/sessions/{sid}", {"agent": "mock"})
    assert r.status == 200, f"create {sid}: {r.status} {r.body[:300]!r}"


def _reply(ws, frame):
    """Send a frame (an object, or raw text) and return its reply, checked
    for shape: {"reply_to", "status": int, "error" iff not 2xx}."""
    if isinstance(frame, str):
        ws.send_text(frame)
        rep = ws.request_reply()
    else:
        rep = ws.request(frame)
    assert isinstance(rep.get("reply_to"), str), rep
    assert isinstance(rep.get("status"), int) and \
        not isinstance(rep["status"], bool), f"status not a number: {rep}"
    if 200 <= rep["status"] < 300:
        assert set(rep) == {"reply_to", "status"}, rep
    else:
        assert set(rep) == {"reply_to", "status", "error"}, rep
        assert isinstance(rep["error"], str) and rep["error"], rep
    return rep


def _same(a, ws, sid, ctype, fields, want, path, target=None, tid=None,
        body=True):
    """Send {"type": ctype, **fields} over WS (target: the member naming
    the path's id) and the same to POST path (fields as body): both must
    answer `want`, with the same problem detail."""
    frame = {"type": ctype, "id": f"c-{ctype}"}
    frame.update(fields)
    if target is not None:
        frame[target] = tid
    rep = _reply(ws, frame)
    assert rep["reply_to"] == f"c-{ctype}", rep
    r = a.http("POST", f"/v1/sessions/{sid}/{path}",
        fields if body else None)
    assert rep["status"] == r.status == want, \
        f"{ctype} {json.dumps(fields)}: WS {rep}, HTTP {r.status} " \
        f"{r.body[:300]!r}, want {want}"
    if want >= 400:
        problem(r, want)
        assert rep["error"] == r.json["detail"], (rep, r.json)
    return rep


def _wait_event(a, sid, etype, base=0):
    return wait_for(lambda: [e for e in fetch_events(a, sid, base)
        if e["type"] == etype], 10, interval=0.05,
        msg=f"no {etype} on {sid}")[-1]


def _info(a, sid):
    r = a.http("GET", f"/v1/sessions/{sid}")
    assert r.status == 200, r.body
    return r.json


def _said(a, sid, base=0):
    """What the agent said (its deltas) since base."""
    return "".join(e["data"]["delta"] for e in fetch_events(a, sid, base)
        if e["type"] == "item.delta")


def _types(a, sid, base=0):
    return [e["type"] for e in fetch_events(a, sid, base)]


def _ws(a, sid):
    ws = a.ws(f"/v1/sessions/{sid}/events/ws")
    ws.request_reply = lambda: _next_reply(ws)
    return ws


def _next_reply(ws, timeout=5.0):
    while True:
        m = ws.recv_json(timeout)
        if isinstance(m, dict) and "reply_to" in m:
            return m
        ws.pending_events.append(m)


def test_ws_frames_that_are_no_command(ctx):
    """Frames no route could take: 400, with reply_to the id, the type,
    or "" when there is neither."""
    with Agentd(ctx.binary) as a:
        _create(a, "s1")
        ws = _ws(a, "s1")
        for frame, to in (("not json", ""), ("[1, 2]", ""), ('"message"', ""),
                ({"id": "x1"}, "x1"), ({"type": 5, "id": "x2"}, "x2"),
                ({"type": None}, ""), ({"type": "nope"}, "nope"),
                ({"type": "message.send", "id": "x3", "message": "hi"}, "x3")):
            rep = _reply(ws, frame)
            assert rep["status"] == 400 and rep["reply_to"] == to, (frame, rep)
        assert "turn.started" not in _types(a, "s1"), "a refused frame ran"
        ws.close()


def test_message_ws_equals_http(ctx):
    with Agentd(ctx.binary) as a:
        _create(a, "m")
        ws = _ws(a, "m")
        for fields in ({}, {"message": None}, {"message": 5},
                {"message": ["hi"]}, {"message": {"text": "hi"}},
                {"message": True}, {"text": "hi"}):
            _same(a, ws, "m", "message", fields, 400, "messages")
        assert "turn.started" not in _types(a, "m"), \
            "a refused message reached the agent"
        _same(a, ws, "m", "message", {"message": "hello both"}, 204,
            "messages")
        wait_for(lambda: _types(a, "m").count("turn.ended") == 2, 10,
            interval=0.05, msg="two echo turns")
        users = [e["data"]["item"] for e in fetch_events(a, "m")
            if e["type"] == "item.completed" and
            e["data"]["item"]["role"] == "user"]
        assert [i["content"][0]["text"] for i in users] == \
            ["hello both", "hello both"], users
        ws.close()


def test_permission_reply_ws_equals_http(ctx):
    with Agentd(ctx.binary) as a:
        _create(a, "p")
        ws = _ws(a, "p")
        r = a.http("POST", "/v1/sessions/p/messages",
            {"message": "please ask permission"})
        assert r.status == 204, r.body
        pid = _wait_event(a, "p", "permission.requested")["data"][
            "permission_id"]
        path = f"permissions/{pid}/reply"
        for fields in ({}, {"reply": None}, {"reply": 1}, {"reply": "maybe"},
                {"reply": "ONCE"}, {"reply": ["once"]}, {"reply": "accept"},
                {"reply": "cancelled"}, {"reply": ""}):
            _same(a, ws, "p", "permission.reply", fields, 400, path,
                "permission_id", pid)
        # The route's path id, as the frame's member: missing or not a
        # string is the frame's own 400; an unknown one is 404 for both.
        for bad in (None, 5, ["x"]):
            frame = {"type": "permission.reply", "reply": "once"}
            if bad is not None:
                frame["permission_id"] = bad
            assert _reply(ws, frame)["status"] == 400, frame
        _same(a, ws, "p", "permission.reply", {"reply": "once"}, 404,
            "permissions/perm_nope/reply", "permission_id", "perm_nope")
        # Nothing of that was taken: still pending, nothing resolved, the
        # agent still waits.
        assert _info(a, "p")["pendingPermissions"] == [pid]
        assert "permission.resolved" not in _types(a, "p")
        assert "turn.ended" not in _types(a, "p")

        # Valid over WS; then the same again is 404 on both.
        rep = _reply(ws, {"type": "permission.reply", "permission_id": pid,
            "reply": "reject"})
        assert rep == {"reply_to": "permission.reply", "status": 204}, rep
        res = _wait_event(a, "p", "permission.resolved")
        assert res["data"]["status"] == "reject", res
        _wait_event(a, "p", "turn.ended")
        assert "permission denied" in _said(a, "p")
        _same(a, ws, "p", "permission.reply", {"reply": "once"}, 404, path,
            "permission_id", pid)

        # Valid over HTTP, on a second permission.
        base = fetch_events(a, "p")[-1]["sequence"]
        a.http("POST", "/v1/sessions/p/messages",
            {"message": "ask permission again"})
        pid2 = _wait_event(a, "p", "permission.requested", base)["data"][
            "permission_id"]
        r = a.http("POST", f"/v1/sessions/p/permissions/{pid2}/reply",
            {"reply": "always"})
        assert r.status == 204, r.body
        res = _wait_event(a, "p", "permission.resolved", base)
        assert res["data"]["status"] == "accept_for_session", res
        ws.close()


def test_question_reply_ws_equals_http(ctx):
    with Agentd(ctx.binary) as a:
        _create(a, "q")
        ws = _ws(a, "q")
        a.http("POST", "/v1/sessions/q/messages", {"message": "a question"})
        qid = _wait_event(a, "q", "question.requested")["data"]["question_id"]
        path = f"questions/{qid}/reply"
        _same(a, ws, "q", "question.reply", {}, 400, path, "question_id",
            qid)
        for answers in BAD_ANSWERS:
            _same(a, ws, "q", "question.reply", {"answers": answers}, 400,
                path, "question_id", qid)
        for bad in (None, 7):
            frame = {"type": "question.reply", "answers": [["Red"]]}
            if bad is not None:
                frame["question_id"] = bad
            assert _reply(ws, frame)["status"] == 400, frame
        _same(a, ws, "q", "question.reply", {"answers": [["Red"]]}, 404,
            "questions/q_nope/reply", "question_id", "q_nope")
        # None of it reached the agent or the log.
        assert _info(a, "q")["pendingQuestions"] == [qid]
        assert "question.resolved" not in _types(a, "q")
        assert "turn.ended" not in _types(a, "q")
        assert "chose" not in _said(a, "q") and \
            "declined" not in _said(a, "q")

        rep = _reply(ws, {"type": "question.reply", "id": "ok1",
            "question_id": qid, "answers": [["Blue"]]})
        assert rep == {"reply_to": "ok1", "status": 204}, rep
        res = _wait_event(a, "q", "question.resolved")
        assert res["data"]["status"] == "answered" and \
            res["data"]["answers"] == [["Blue"]], res
        _wait_event(a, "q", "turn.ended")
        assert "you chose Blue" in _said(a, "q")
        _same(a, ws, "q", "question.reply", {"answers": [["Red"]]}, 404,
            path, "question_id", qid)

        base = fetch_events(a, "q")[-1]["sequence"]
        a.http("POST", "/v1/sessions/q/messages", {"message": "question 2"})
        qid2 = _wait_event(a, "q", "question.requested", base)["data"][
            "question_id"]
        r = a.http("POST", f"/v1/sessions/q/questions/{qid2}/reply",
            {"answers": [["Red"]]})
        assert r.status == 204, r.body
        _wait_event(a, "q", "turn.ended", base)
        assert "you chose Red" in _said(a, "q", base)
        ws.close()


def test_question_reject_ws_equals_http(ctx):
    with Agentd(ctx.binary) as a:
        _create(a, "r")
        ws = _ws(a, "r")
        a.http("POST", "/v1/sessions/r/messages", {"message": "a question"})
        qid = _wait_event(a, "r", "question.requested")["data"]["question_id"]
        _same(a, ws, "r", "question.reject", {}, 404,
            "questions/q_nope/reject", "question_id", "q_nope", body=False)
        for bad in (None, 7, [qid]):
            frame = {"type": "question.reject"}
            if bad is not None:
                frame["question_id"] = bad
            assert _reply(ws, frame)["status"] == 400, frame
        assert _info(a, "r")["pendingQuestions"] == [qid]
        assert "question.resolved" not in _types(a, "r")

        rep = _reply(ws, {"type": "question.reject", "question_id": qid})
        assert rep == {"reply_to": "question.reject", "status": 204}, rep
        res = _wait_event(a, "r", "question.resolved")
        assert res["data"]["status"] == "rejected", res
        _wait_event(a, "r", "turn.ended")
        assert "question declined" in _said(a, "r")
        _same(a, ws, "r", "question.reject", {}, 404,
            f"questions/{qid}/reject", "question_id", qid, body=False)
        ws.close()


def test_cancel_and_terminate_ws_equal_http(ctx):
    with Agentd(ctx.binary) as a:
        _create(a, "c")
        ws = _ws(a, "c")
        _same(a, ws, "c", "cancel", {}, 409, "cancel", body=False)
        for who in ("ws", "http"):
            base = fetch_events(a, "c")[-1]["sequence"] \
                if fetch_events(a, "c") else 0
            a.http("POST", "/v1/sessions/c/messages", {"message": "go slow"})
            _wait_event(a, "c", "item.delta", base)
            if who == "ws":
                rep = _reply(ws, {"type": "cancel", "id": "stop"})
                assert rep == {"reply_to": "stop", "status": 204}, rep
            else:
                r = a.http("POST", "/v1/sessions/c/cancel")
                assert r.status == 204, r.body
            end = _wait_event(a, "c", "turn.ended", base)
            assert end["data"]["stop_reason"] == "cancelled", (who, end)

        # terminate: one session each way (the socket closes after the
        # session ended, so no second command on it).
        _create(a, "t2")
        rep = _reply(ws, {"type": "terminate"})
        assert rep == {"reply_to": "terminate", "status": 204}, rep
        r = a.http("POST", "/v1/sessions/t2/terminate")
        assert r.status == 204, r.body
        for sid in ("c", "t2"):
            wait_for(lambda: _info(a, sid)["ended"], 10, interval=0.05,
                msg=f"{sid} not ended by terminate")
            assert fetch_events(a, sid)[-1]["type"] == "session.ended"
        ws.close()


def test_driven_session_is_read_only_on_ws_too(ctx):
    """A session an ACP server drives answers 409 to every command, over
    WebSocket as over HTTP, and runs none."""
    with Agentd(ctx.binary) as a:
        hdr = {"Content-Type": "application/json",
            "Accept": "application/json"}
        r = a.http("POST", "/v1/acp/srv?agent=mock", {"jsonrpc": "2.0",
            "id": 0, "method": "initialize", "params": {"protocolVersion": 1}},
            headers=hdr)
        assert r.status == 200, r.body
        r = a.http("POST", "/v1/acp/srv", {"jsonrpc": "2.0", "id": 1,
            "method": "session/new", "params": {"cwd": a.cwd,
            "mcpServers": []}}, headers=hdr)
        sid = r.json["result"]["sessionId"]
        n = len(fetch_events(a, sid))
        ws = _ws(a, sid)
        for ctype, fields, path, target in (
                ("message", {"message": "hi"}, "messages", None),
                ("message", {"message": 5}, "messages", None),
                ("permission.reply", {"reply": "once"},
                    "permissions/p1/reply", "permission_id"),
                ("question.reply", {"answers": [["x"]]},
                    "questions/q1/reply", "question_id"),
                ("cancel", {}, "cancel", None),
                ("terminate", {}, "terminate", None)):
            _same(a, ws, sid, ctype, fields, 409, path, target,
                path.split("/")[1] if target else None)
        assert len(fetch_events(a, sid)) == n, "a refused command ran"
        assert not _info(a, sid)["ended"]
        ws.close()


def test_every_command_answered_when_sent_faster_than_read(ctx):
    """Commands sent in one burst, faster than their replies go out: each
    is answered, in order. Past 32 replies waiting, the rest were thrown
    away without a word (a client matching replies by id waited forever);
    now agentd stops reading commands until the replies have gone out."""
    with Agentd(ctx.binary) as a:
        _create(a, "s")
        ws = a.ws("/v1/sessions/s/events/ws")
        n = 400
        burst = [json.dumps({"type": "cancel", "id": "c%04d" % i})
            for i in range(n)]
        # one write, so that agentd reads many commands at once (a zero
        # mask key leaves each payload as it is; each is under 126 bytes)
        ws.conn.sock.sendall(b"".join(
            bytes([0x81, 0x80 | len(t)]) + b"\0\0\0\0" + t.encode()
            for t in burst))
        got = []
        while len(got) < n:
            m = ws.recv_json(10)
            if isinstance(m, dict) and "reply_to" in m:
                got.append(m["reply_to"])
        assert got == ["c%04d" % i for i in range(n)], got[:40]
        ws.close()
