"""`agentd mock-agent`: the built-in ACP agent, driven over its pipes.

No daemon here: the test speaks ACP to the mock agent directly, the way
the acp adapter does, so a mock regression shows up apart from the
adapter's. Keywords in the prompt choose the behaviour (see
supervisor/fake/mockagent.c): permission, question, slow, error, crash, tool,
firehose N, else an echo.

Standalone: python3 tests/integration/test_mockagent.py build/agentd
"""

import json
import os
import select
import subprocess
import sys
import time


class Mock:
    """One mock-agent process and a line reader over its stdout."""

    def __init__(self, binary):
        self.p = subprocess.Popen([binary, "mock-agent"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.buf = b""
        self.next_id = 1

    def send(self, obj):
        self.p.stdin.write((json.dumps(obj) + "\n").encode())
        self.p.stdin.flush()

    def send_raw(self, data):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def request(self, method, params):
        rid = self.next_id
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        return rid

    def recv(self, timeout=10):
        """The next message, or None at EOF; fails on timeout."""
        deadline = time.monotonic() + timeout
        fd = self.p.stdout.fileno()
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            assert left > 0, "mock agent: no line within %ss" % timeout
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        msg = json.loads(line)
        assert msg.get("jsonrpc") == "2.0", msg
        return msg

    def until_response(self, rid, timeout=10):
        """(messages before it, the response to rid)."""
        seen = []
        while True:
            m = self.recv(timeout)
            assert m is not None, "EOF before the response to %s" % rid
            if m.get("id") == rid and "method" not in m:
                return seen, m
            seen.append(m)

    def until_request(self, method, timeout=10):
        seen = []
        while True:
            m = self.recv(timeout)
            assert m is not None, "EOF before %s" % method
            if m.get("method") == method and "id" in m:
                return seen, m
            seen.append(m)

    def reply(self, req, result):
        self.send({"jsonrpc": "2.0", "id": req["id"], "result": result})

    def open(self):
        _, r = self.until_response(self.request("initialize", {
            "protocolVersion": 1, "clientCapabilities": {},
            "clientInfo": {"name": "test", "version": "0"}}))
        assert r["result"]["agentInfo"]["name"] == "agentd-mock", r
        assert r["result"]["agentCapabilities"]["loadSession"] is True, r
        _, r = self.until_response(self.request("session/new",
                                                {"cwd": "/tmp", "mcpServers": []}))
        self.sid = r["result"]["sessionId"]
        assert self.sid.startswith("mock-"), r
        return self

    def prompt(self, text):
        return self.request("session/prompt", {
            "sessionId": self.sid, "prompt": [{"type": "text", "text": text}]})

    def close(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        try:
            return self.p.wait(10)
        finally:
            self.p.stdout.close()
            self.p.stderr.close()


def updates(msgs, kind=None):
    out = [m["params"]["update"] for m in msgs if m.get("method") == "session/update"]
    return [u for u in out if kind is None or u["sessionUpdate"] == kind]


def text_of(msgs, kind="agent_message_chunk"):
    return "".join(u["content"]["text"] for u in updates(msgs, kind))


def _binary(ctx):
    return getattr(ctx, "binary", None) or ctx.agentd


def test_echo_and_eof(ctx):
    m = Mock(_binary(ctx)).open()
    seen, r = m.until_response(m.prompt("hello there world"))
    assert r["result"]["stopReason"] == "end_turn", r
    assert r["result"]["usage"]["inputTokens"] > 0, r
    kinds = [u["sessionUpdate"] for u in updates(seen)]
    assert kinds[0] == "agent_thought_chunk", kinds
    assert text_of(seen) == "echo: hello there world", text_of(seen)
    assert len(updates(seen, "agent_message_chunk")) >= 4, kinds
    cost = updates(seen, "usage_update")[0]["cost"]
    assert cost["currency"] == "USD" and cost["amount"] > 0, cost
    assert m.close() == 0


def test_tool(ctx):
    m = Mock(_binary(ctx)).open()
    seen, r = m.until_response(m.prompt("run a tool"))
    assert r["result"]["stopReason"] == "end_turn", r
    call, done = updates(seen, "tool_call")[0], updates(seen, "tool_call_update")[-1]
    assert call["kind"] == "execute" and call["rawInput"] == {"command": "echo hi"}, call
    assert done["toolCallId"] == call["toolCallId"] and done["status"] == "completed", done
    assert done["content"][0]["content"]["text"] == "hi\n", done
    m.close()


def _permission(ctx, option, outcome="selected", cancel=False):
    m = Mock(_binary(ctx)).open()
    rid = m.prompt("ask permission please")
    seen, req = m.until_request("session/request_permission")
    call = updates(seen, "tool_call")[0]
    assert call["status"] == "pending" and call["kind"] == "edit", call
    tc = req["params"]["toolCall"]
    assert tc["toolCallId"] == call["toolCallId"], req
    kinds = [o["kind"] for o in req["params"]["options"]]
    assert kinds == ["allow_once", "allow_always", "reject_once"], kinds
    if cancel:
        m.send({"jsonrpc": "2.0", "method": "session/cancel",
                "params": {"sessionId": m.sid}})
    res = {"outcome": {"outcome": outcome}}
    if option:
        res["outcome"]["optionId"] = option
    m.reply(req, res)
    seen, r = m.until_response(rid)
    m.close()
    return seen, r


def test_permission_allow(ctx):
    seen, r = _permission(ctx, "allow")
    assert r["result"]["stopReason"] == "end_turn", r
    done = updates(seen, "tool_call_update")[0]
    assert done["status"] == "completed", done
    assert done["content"][0] == {"type": "diff", "path": "mock.txt",
                                  "oldText": None, "newText": "mock\n"}, done
    assert text_of(seen) == "permission granted"


def test_permission_reject(ctx):
    seen, r = _permission(ctx, "reject")
    assert r["result"]["stopReason"] == "end_turn", r
    assert updates(seen, "tool_call_update")[0]["status"] == "failed"
    assert text_of(seen) == "permission denied"


def test_permission_cancelled(ctx):
    seen, r = _permission(ctx, None, outcome="cancelled", cancel=True)
    assert r["result"]["stopReason"] == "cancelled", r


def _question(ctx, result):
    m = Mock(_binary(ctx)).open()
    rid = m.prompt("a question for you")
    _, req = m.until_request("elicitation/create")
    p = req["params"]
    assert p["mode"] == "form" and p["sessionId"] == m.sid, p
    assert p["requestedSchema"]["properties"]["color"]["enum"] == ["Red", "Blue"], p
    m.reply(req, result)
    seen, r = m.until_response(rid)
    m.close()
    assert r["result"]["stopReason"] == "end_turn", r
    return text_of(seen)


def test_question(ctx):
    assert _question(ctx, {"action": "accept", "content": {"color": "Red"}}) == "you chose Red"
    assert _question(ctx, {"action": "decline"}) == "question declined"


def test_slow_cancel(ctx):
    m = Mock(_binary(ctx)).open()
    rid = m.prompt("go slow")
    for _ in range(20):
        assert m.recv()["method"] == "session/update"
    t0 = time.monotonic()
    m.send({"jsonrpc": "2.0", "method": "session/cancel", "params": {"sessionId": m.sid}})
    seen, r = m.until_response(rid)
    assert r["result"]["stopReason"] == "cancelled", r
    assert time.monotonic() - t0 < 1.0
    assert len(updates(seen, "agent_message_chunk")) < 500, len(seen)
    m.close()


def test_error(ctx):
    m = Mock(_binary(ctx)).open()
    seen, r = m.until_response(m.prompt("make an error"))
    assert r["error"]["code"] == -32603, r
    assert r["error"]["message"].startswith("mock agent error"), r
    assert text_of(seen) == "about to fail"
    m.close()


def test_crash(ctx):
    m = Mock(_binary(ctx)).open()
    m.prompt("crash now")
    u = m.recv()
    assert u["params"]["update"]["sessionUpdate"] == "agent_message_chunk", u
    assert m.recv() is None
    assert m.p.wait(10) == 3
    assert b"mock agent crashing" in m.p.stderr.read()
    m.close()


def test_firehose(ctx):
    m = Mock(_binary(ctx)).open()
    seen, r = m.until_response(m.prompt("firehose 5000"))
    assert r["result"]["stopReason"] == "end_turn", r
    assert len(updates(seen, "agent_message_chunk")) == 5000
    m.close()


def test_protocol_errors_and_load(ctx):
    m = Mock(_binary(ctx))
    m.send_raw(b"this is not json\n")
    r = m.recv()
    assert r["id"] is None and r["error"]["code"] == -32700, r
    _, r = m.until_response(m.request("no/such/method", {}))
    assert r["error"]["code"] == -32601, r
    _, r = m.until_response(m.request("initialize", {"protocolVersion": 1}))
    _, r = m.until_response(m.request("session/load", {
        "sessionId": "mock-0123", "cwd": "/tmp", "mcpServers": []}))
    # nothing to replay; the answer tells the session's settings
    assert r["result"]["modes"]["currentModeId"] == "default", r
    assert r["result"]["models"]["currentModelId"] == "mock-fast", r
    m.sid = "mock-0123"
    seen, r = m.until_response(m.prompt("again"))
    assert updates(seen)[0].get("sessionUpdate") and r["result"]["stopReason"] == "end_turn"
    assert all(x["params"]["sessionId"] == "mock-0123" for x in seen)
    assert m.close() == 0


if __name__ == "__main__":
    class _Ctx:
        binary = sys.argv[1]
    failed = 0
    for name, fn in list(globals().items()):
        if name.startswith("test_") and callable(fn):
            try:
                fn(_Ctx())
                print("ok -", name)
            except Exception as e:  # noqa: BLE001
                failed += 1
                print("not ok -", name, repr(e))
    sys.exit(1 if failed else 0)
