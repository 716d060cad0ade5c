#!/usr/bin/env python3
"""The Python client (clients/python) against a real agentd.

    python3 tests/pyclient/run.py --agentd build/agentd [-k NAME]

Run by tests/pyclient/suite.sh with the python of a fresh venv that has
agentd_client pip-installed (so the package is tested as installed);
given PYTHONPATH=clients/python it tests the source tree. Every test_*
function below is called in order with a Ctx; output: `ok - name (1.2s)`
or `not ok - name: reason`, an expected failure as `not ok - name # TODO
reason` (counted neither way), and last `N passed, M failed`.
"""

import argparse
import asyncio
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from typing import Any, Callable, Dict, List, Optional, Tuple

import agentd_client
from agentd_client import AgentdError, AsyncClient, Client

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from daemon import TOKEN, Agentd  # noqa: E402


class XFail(Exception):
    """An expected failure: the feature is not in agentd yet."""


class Ctx:
    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.agentd = Agentd(binary).up()

    @property
    def url(self) -> str:
        return self.agentd.url

    def client(self, **kw: Any) -> Client:
        return Client(self.url, TOKEN, **kw)

    def aclient(self, **kw: Any) -> AsyncClient:
        return AsyncClient(self.url, TOKEN, **kw)


def check_sequences(evs: List[Dict[str, Any]], first: int = 1) -> None:
    seqs = [e["sequence"] for e in evs]
    assert seqs == list(range(first, first + len(seqs))), \
        "a gap or a repeat: %s" % seqs


# -- basics ------------------------------------------------------------------

def test_installed_package(ctx: Ctx) -> None:
    """The package under test is the one pip installed (unless the suite
    fell back to the source tree), typed, and its version is set."""
    where = os.path.dirname(agentd_client.__file__)
    assert os.path.exists(os.path.join(where, "py.typed")), where
    assert agentd_client.__version__ == "0.1.0"
    if os.environ.get("PYCLIENT_EXPECT_INSTALLED"):
        assert "site-packages" in where, where


def test_health_agents_sessions(ctx: Ctx) -> None:
    c = agentd_client.connect(ctx.url, TOKEN)
    assert c.health()["status"] == "ok"
    ids = [a["id"] for a in c.list_agents()]
    assert "mock" in ids and "acp" in ids, ids
    assert c.get_agent("mock")["installed"] is True
    s = c.create_session("mock", "basics-1", model="m1",
                         permission_mode="default", cwd="/tmp",
                         env={"A_KEY": "secret"}, mcp=[])
    assert s.id == "basics-1" and s.info is not None
    assert s.info["healthy"] is True and s.info["envKeys"] == ["A_KEY"]
    assert s.info["directory"] == "/tmp" and s.info["model"] == "m1"
    assert "secret" not in json.dumps(s.info)
    assert any(x["sessionId"] == "basics-1" for x in c.list_sessions())
    auto = c.create_session("mock")
    assert re.match(r"^s-[0-9a-f]{16}$", auto.id), auto.id
    assert c.get_session(auto.id)["agent"] == "mock"
    s.delete()
    auto.delete()
    try:
        s.refresh()
        raise AssertionError("a deleted session answered")
    except AgentdError as e:
        assert e.status == 404 and e.code == "session_not_found", e


def test_async_basics(ctx: Ctx) -> None:
    async def main() -> None:
        c = await agentd_client.connect_async(ctx.url, TOKEN)
        async with c:
            assert (await c.health())["status"] == "ok"
            assert "mock" in [a["id"] for a in await c.list_agents()]
            s = await c.create_session("acp", "async-basics",
                                       agent_command=["@self", "mock-agent"])
            assert (await s.refresh())["agent"] == "acp"
            assert any(x["sessionId"] == s.id
                       for x in await c.list_sessions())
            r = await s.run("hello from asyncio")
            assert r.ok and r.text == "echo: hello from asyncio", r
            await s.terminate()
            evs = [e async for e in s.events()]
            assert evs[-1]["type"] == "session.ended"
            assert evs[-1]["data"]["reason"] == "terminated"
            check_sequences(evs)
            await s.delete()
    asyncio.run(main())


# -- a full turn with permission and question round trips -------------------

def _check_permission_turn(r: agentd_client.TurnResult, status: str,
                           text: str) -> None:
    types = [e["type"] for e in r.events]
    assert types[0] == "turn.started" and types[-1] == "turn.ended", types
    assert "permission.requested" in types, types
    res = [e for e in r.events if e["type"] == "permission.resolved"]
    assert len(res) == 1 and res[0]["data"]["status"] == status, res
    assert r.text == text and r.stop_reason == "end_turn", (r.text, r)
    assert r.usage is not None and r.cost_usd is not None, r
    check_sequences(r.events, r.events[0]["sequence"])


def test_sync_permission_and_question_round_trips(ctx: Ctx) -> None:
    s = ctx.client().create_session("mock")
    asked: List[str] = []

    def on_permission(ev: Any) -> str:
        asked.append(ev["data"]["permission_id"])
        assert ev["data"]["metadata"]["input"]["path"] == "mock.txt"
        return "always"
    r = s.run("permission please", on_permission=on_permission)
    assert len(asked) == 1
    _check_permission_turn(r, "accept_for_session", "permission granted")
    r = s.run("permission again", on_permission=lambda ev: False)
    _check_permission_turn(r, "reject", "permission denied")

    def on_question(ev: Any) -> List[List[str]]:
        q = ev["data"]["questions"]
        assert [o["label"] for o in q[0]["options"]] == ["Red", "Blue"], q
        return [["Blue"]]
    r = s.run("a question", on_question=on_question)
    res = [e for e in r.events if e["type"] == "question.resolved"]
    assert res[0]["data"]["status"] == "answered", res
    assert res[0]["data"]["answers"] == [["Blue"]], res
    assert r.text == "you chose Blue", r.text
    r = s.run("another question", on_question=lambda ev: None)
    res = [e for e in r.events if e["type"] == "question.resolved"]
    assert res[0]["data"]["status"] == "rejected", res
    assert r.text == "question declined", r.text
    # The whole log: four turns, no gap, nothing pending.
    log = s.events_since(0).events
    check_sequences(log)
    assert sum(e["type"] == "turn.ended" for e in log) == 4
    info = s.refresh()
    assert info["pendingPermissions"] == [] and info["pendingQuestions"] == []
    s.delete()


def test_async_permission_and_question_round_trips(ctx: Ctx) -> None:
    async def main() -> None:
        c = ctx.aclient()
        s = await c.create_session("mock")

        async def on_permission(ev: Any) -> str:
            await asyncio.sleep(0.01)
            return "once"
        r = await s.run("permission please", on_permission=on_permission)
        _check_permission_turn(r, "accept", "permission granted")
        seen: List[str] = []
        r = await s.run("a question", on_event=lambda e: seen.append(
            e["type"]), on_question=lambda ev: [["Red"]])
        assert r.text == "you chose Red", r.text
        assert seen == [e["type"] for e in r.events]
        # stream(): the same turn's events one by one.
        got = []
        async for ev in s.stream("permission via stream",
                                 on_permission=lambda ev: "reject"):
            got.append(ev)
        assert got[-1]["type"] == "turn.ended"
        assert any(e["type"] == "permission.resolved" and
                   e["data"]["status"] == "reject" for e in got)
        await s.delete()
    asyncio.run(main())


def test_run_skips_turns_queued_before(ctx: Ctx) -> None:
    c = ctx.client()
    s = c.create_session("mock")
    s.send("tool first")
    s.send("hello first")
    r = s.run("hello second")
    assert r.text == "echo: hello second", r.text
    user = [e for e in r.events if e["type"] == "item.completed" and
            e["data"]["item"]["role"] == "user"]
    assert len(user) == 1, user
    assert sum(e["type"] == "turn.started" for e in r.events) == 1
    s.delete()


def test_pending_without_callback_and_manual_reply(ctx: Ctx) -> None:
    """Without on_permission the request stays pending; answering it by
    hand (as the inspector would) lets the turn end."""
    c = ctx.client()
    s = c.create_session("mock")
    it = s.stream("permission for someone else")
    for ev in it:
        if ev["type"] == "permission.requested":
            pid = ev["data"]["permission_id"]
            assert s.refresh()["pendingPermissions"] == [pid]
            s.reply_permission(pid, "once")
            try:
                s.reply_permission(pid, "once")
                raise AssertionError("answered twice")
            except AgentdError as e:
                assert e.status == 404, e
        if ev["type"] == "turn.ended":
            break
    assert ev["data"]["stop_reason"] == "end_turn", ev
    s.delete()


# -- a stream that survives kill -9 and a restart of agentd -----------------

def _kill_and_restart(ctx: Ctx) -> None:
    ctx.agentd.kill9()

    def later() -> None:
        time.sleep(0.3)
        ctx.agentd.up()
    threading.Thread(target=later, daemon=True).start()


def _after_restart(c: Client, sid: str, evs: List[Dict[str, Any]]) -> None:
    check_sequences(evs)
    log = c.events_since(sid, 0).events
    assert [e["event_id"] for e in log[:len(evs)]] == \
        [e["event_id"] for e in evs], "the stream and the log differ"
    assert evs[-1]["type"] == "turn.ended", evs[-1]
    assert evs[-1]["data"]["stop_reason"] == "interrupted", evs[-1]
    r = c.run(sid, "after the restart")
    assert r.text == "echo: after the restart", r.text
    assert r.events[0]["sequence"] == evs[-1]["sequence"] + 1


def test_sync_stream_survives_kill9(ctx: Ctx) -> None:
    c = ctx.client()
    s = c.create_session("mock", "kill9-sync")
    s.send("slow")
    evs: List[Dict[str, Any]] = []
    reconnects: List[int] = []
    deltas = 0
    for ev in s.events(0, reconnect_delay=0.05,
                       on_reconnect=lambda at, e: reconnects.append(at)):
        evs.append(ev)
        if ev["type"] == "item.delta":
            deltas += 1
            if deltas == 100:
                _kill_and_restart(ctx)
        if ev["type"] == "turn.ended":
            break
    assert deltas >= 100 and reconnects, (deltas, reconnects)
    # It resumed after the last event it had (>= 100 deltas in).
    assert reconnects[0] > 100, reconnects
    _after_restart(c, s.id, evs)
    s.delete()


def test_async_stream_survives_kill9(ctx: Ctx) -> None:
    async def main() -> List[Dict[str, Any]]:
        s = await ctx.aclient().create_session("mock", "kill9-async")
        await s.send("slow")
        evs: List[Dict[str, Any]] = []
        reconnects: List[int] = []
        deltas = 0
        async for ev in s.events(0, reconnect_delay=0.05,
                                 on_reconnect=lambda at, e:
                                 reconnects.append(at)):
            evs.append(ev)
            if ev["type"] == "item.delta":
                deltas += 1
                if deltas == 100:
                    _kill_and_restart(ctx)
            if ev["type"] == "turn.ended":
                break
        assert deltas >= 100 and reconnects, (deltas, reconnects)
        return evs
    evs = asyncio.run(main())
    c = ctx.client()
    _after_restart(c, "kill9-async", evs)
    c.delete_session("kill9-async")


def _sse_connections(port: int) -> int:
    """Established TCP connections to 127.0.0.1:port, from /proc."""
    n = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            # remote address:port (hex), state 01 = ESTABLISHED
            if cols[2].endswith(":%04X" % port) and cols[3] == "01":
                n += 1
    return n


def test_leaving_a_stream_closes_its_connection(ctx: Ctx) -> None:
    c = ctx.client()
    s = c.create_session("mock")
    before = _sse_connections(ctx.agentd.port)
    for ev in s.events(0):
        assert _sse_connections(ctx.agentd.port) == before + 1
        break

    async def leave() -> None:
        async for ev in ctx.aclient().events(s.id):
            assert _sse_connections(ctx.agentd.port) == before + 1
            break
    asyncio.run(leave())
    deadline = time.monotonic() + 2
    while _sse_connections(ctx.agentd.port) > before:
        assert time.monotonic() < deadline, "a stream was left open"
        time.sleep(0.01)
    s.delete()


def test_stream_gives_up_after_max_reconnects(ctx: Ctx) -> None:
    c = Client("http://127.0.0.1:%d" % _closed_port(), TOKEN)
    tries: List[int] = []
    t0 = time.monotonic()
    try:
        for _ in c.events("x", 5, max_reconnects=3, reconnect_delay=0.01,
                          on_reconnect=lambda at, e: tries.append(at)):
            pass
        raise AssertionError("no error")
    except ConnectionRefusedError:
        pass
    assert tries == [5, 5, 5], tries
    assert time.monotonic() - t0 < 2


def _closed_port() -> int:
    from daemon import free_port
    return free_port()


# -- interrupt-and-send ------------------------------------------------------

class Recorder(http.server.BaseHTTPRequestHandler):
    """Records each request and answers what the test queued."""
    requests: List[Tuple[str, str, Dict[str, str], bytes]] = []
    answers: List[Tuple[int, str, bytes]] = []

    def _any(self) -> None:
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        Recorder.requests.append((self.command, self.path,
                                  dict(self.headers.items()), body))
        status, ctype, out = (Recorder.answers.pop(0) if Recorder.answers
                              else (204, "", b""))
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = do_DELETE = _any

    def log_message(self, *a: Any) -> None:
        pass


def _recorder() -> Tuple[http.server.ThreadingHTTPServer, str]:
    Recorder.requests = []
    Recorder.answers = []
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, "http://127.0.0.1:%d/prefix/" % srv.server_address[1]


def test_interrupt_and_attachments_are_sent(ctx: Ctx) -> None:
    """What send(interrupt=True, attachments=...) puts on the wire, for
    both clients, and that an error answer to it surfaces as AgentdError."""
    srv, url = _recorder()
    try:
        att = [{"path": "/tmp/a.png", "mime": "image/png"}]
        Client(url, "T").send("s/1", "now", interrupt=True, attachments=att)
        asyncio.run(AsyncClient(url, "T").send("s/1", "now", interrupt=True,
                                               attachments=att))
        Client(url, "T").send("s/1", "plain")
        for method, path, hdrs, body in Recorder.requests:
            assert method == "POST", method
            assert path == "/prefix/v1/sessions/s%2F1/messages", path
            assert hdrs["Content-Type"] == "application/json", hdrs
            assert hdrs["Authorization"] == "Bearer T", hdrs
        bodies = [json.loads(r[3]) for r in Recorder.requests]
        assert bodies[0] == {"message": "now", "interrupt": True,
                             "attachments": att}, bodies[0]
        assert bodies[1] == bodies[0], bodies[1]
        assert bodies[2] == {"message": "plain"}, bodies[2]
        # The server's refusal is what the caller gets.
        problem = json.dumps({"type": "urn:agentd:error:invalid_request",
                              "title": "Bad Request", "status": 400,
                              "detail": "'interrupt' is not supported"})
        for call in ("sync", "async"):
            Recorder.answers.append((400, "application/problem+json",
                                     problem.encode()))
            try:
                if call == "sync":
                    Client(url).send("s", "x", interrupt=True)
                else:
                    asyncio.run(AsyncClient(url).send("s", "x",
                                                      interrupt=True))
                raise AssertionError("no error")
            except AgentdError as e:
                assert e.status == 400 and e.code == "invalid_request", e
                assert e.detail == "'interrupt' is not supported", e
    finally:
        srv.shutdown()
        srv.server_close()


def _turns(evs: List[Dict[str, Any]]) -> List[Tuple[str, str]]:
    """(user message, stop_reason) of each turn that ended in evs."""
    out: List[Tuple[str, str]] = []
    user = ""
    for e in evs:
        item = e["data"].get("item") or {}
        if e["type"] == "turn.started":
            user = ""
        elif e["type"] == "item.completed" and item.get("role") == "user":
            user = "".join(p.get("text", "") for p in item["content"])
        elif e["type"] == "turn.ended":
            out.append((user, e["data"]["stop_reason"]))
    return out


def _slow_running(s: Any) -> None:
    """Post "slow" and wait for its first delta: the turn is running."""
    s.send("slow")
    for ev in s.events(0):
        if ev["type"] == "item.delta":
            break


def _wait_turns(s: Any, count: int, seconds: float
                ) -> List[Tuple[str, str]]:
    deadline = time.monotonic() + seconds
    while True:
        got = _turns(s.events_since(0).events)
        if len(got) >= count or time.monotonic() > deadline:
            return got
        time.sleep(0.02)


def test_interrupt_and_send_against_agentd(ctx: Ctx) -> None:
    """send("...", interrupt=True) during a slow turn: the slow turn ends
    cancelled at once (it alone runs for seconds) and the new message runs
    next; without a running turn the flag changes nothing."""
    s = ctx.client().create_session("mock")
    _slow_running(s)
    s.send("interrupting", interrupt=True)
    got = _wait_turns(s, 2, 2.0)
    assert got == [("slow", "cancelled"), ("interrupting", "end_turn")], got
    r = s.run("after", interrupt=True)
    assert r.ok and r.text == "echo: after", r
    s.delete()


def test_interrupt_with_three_queued_loses_nothing(ctx: Ctx) -> None:
    """Three messages queued behind a slow turn, then an interrupting one:
    the slow turn is cancelled, the interrupting message runs, then the
    three in the order they were posted; nothing is lost or reordered.
    With the async client."""
    async def main() -> List[Dict[str, Any]]:
        s = await ctx.aclient().create_session("mock")
        await s.send("slow")
        async for ev in s.events(0):
            if ev["type"] == "item.delta":
                break
        for m in ("q1", "q2", "q3"):
            await s.send(m)
        assert (await s.refresh())["queuedMessages"] == 3
        await s.send("now", interrupt=True)
        evs: List[Dict[str, Any]] = []
        async for ev in s.events(0):
            evs.append(ev)
            if len(_turns(evs)) == 5:
                break
        await s.delete()
        return evs
    evs = asyncio.run(asyncio.wait_for(main(), 20))
    check_sequences(evs)
    assert _turns(evs) == [("slow", "cancelled"), ("now", "end_turn"),
                           ("q1", "end_turn"), ("q2", "end_turn"),
                           ("q3", "end_turn")], _turns(evs)
    texts = [agentd_client.TurnResult.from_events("", [e]).text for e in evs
             if e["type"] == "item.completed"
             and e["data"]["item"]["kind"] == "message"
             and e["data"]["item"]["role"] == "assistant"]
    assert texts[-4:] == ["echo: now", "echo: q1", "echo: q2", "echo: q3"], \
        texts


# -- errors ----------------------------------------------------------------

def _expect(call: Callable[[], Any], status: int, code: str,
            detail: str) -> AgentdError:
    try:
        call()
    except AgentdError as e:
        assert e.status == status, "%s: wanted %d" % (e, status)
        assert e.problem.get("status") == status, e.problem
        assert e.type == "urn:agentd:error:" + code, "%s: %s" % (e, e.type)
        assert re.search(detail, e.detail), "%r !~ %r" % (e.detail, detail)
        assert e.title and e.detail in str(e) and e.method and e.path, e
        return e
    raise AssertionError("no AgentdError (wanted %d)" % status)


def _error_cases(c: Any, bad: Any, foreign: Any, wrong_host: Any,
                 sid: str) -> List[Tuple[Callable[[], Any], int, str, str]]:
    """(call, status, code, detail regex) for each 4xx the client can meet;
    c is a sync client or a wrapper that runs the async one."""
    long_id = "x" * 600
    return [
        (lambda: c.get_events(sid, 10 ** 6), 400, "invalid_request",
         "past the last event"),
        (lambda: c.reply_permission(sid, "perm_1", "maybe"), 400,
         "invalid_request", "'reply' must be one of"),
        (lambda: c.reply_question(sid, "q_1", [[1]]), 400,
         "invalid_request", "answers"),
        (lambda: c.create_session("mock", "bad id!"), 400, "invalid_request",
         "session id"),
        (lambda: bad.list_sessions(), 401, "unauthorized", "token"),
        (lambda: foreign.list_sessions(), 403, "origin_refused", "Origin"),
        (lambda: c.get_session("no-such"), 404, "session_not_found",
         "no session 'no-such'"),
        (lambda: c.reply_permission(sid, "perm_9", "once"), 404, "not_found",
         "perm_9"),
        (lambda: c.create_session("mock", sid), 409, "conflict", sid),
        (lambda: c.cancel(sid), 409, "conflict", "turn"),
        (lambda: c.create_session("no-such-agent"), 400,
         "invalid_request", "unknown agent 'no-such-agent'"),
        (lambda: c.send(sid, "x" * 8192), 413, "payload_too_large",
         "--max-body"),
        (lambda: c.get_session(long_id), 414, "uri_too_long", ""),
        (lambda: wrong_host.health(), 421, "host_refused", "Host not allowed"),
    ]


def test_errors_are_agentd_errors_with_the_problem(ctx: Ctx) -> None:
    small = Agentd(ctx.binary, "--max-body", "4096").up()
    try:
        c = Client(small.url, TOKEN)
        sid = c.create_session("mock").id
        cases = _error_cases(
            c, Client(small.url, "wrong"),
            Client(small.url, TOKEN, headers={"Origin": "http://evil.test"}),
            Client(small.url, TOKEN, headers={"Host": "evil.test"}), sid)
        for call, status, code, detail in cases:
            _expect(call, status, code, detail)

        class Sync:
            """The async client's methods, run to completion."""
            def __init__(self, a: AsyncClient) -> None:
                self.a = a

            def __getattr__(self, name: str) -> Callable[..., Any]:
                return lambda *x, **k: asyncio.run(getattr(self.a, name)(
                    *x, **k))
        cases = _error_cases(
            Sync(AsyncClient(small.url, TOKEN)),
            Sync(AsyncClient(small.url, "wrong")),
            Sync(AsyncClient(small.url, TOKEN,
                             headers={"Origin": "http://evil.test"})),
            Sync(AsyncClient(small.url, TOKEN,
                             headers={"Host": "evil.test"})), sid)
        for call, status, code, detail in cases:
            _expect(call, status, code, detail)
        # A stream refused with a 4xx raises at once, without retrying.
        tries: List[int] = []
        _expect(lambda: list(c.events("no-such", on_reconnect=lambda a, e:
                                      tries.append(a))), 404,
                "session_not_found", "no-such")

        async def astream() -> None:
            async for _ in AsyncClient(small.url, "wrong").events(sid):
                pass
        _expect(lambda: asyncio.run(astream()), 401, "unauthorized", "")
        assert tries == []
    finally:
        small.cleanup()


def test_5xx_errors_and_stream_retries(ctx: Ctx) -> None:
    srv, url = _recorder()
    try:
        Recorder.answers = [(502, "text/html", b"<h1>Bad Gateway</h1>"),
                            (502, "text/html", b"<h1>Bad Gateway</h1>")]
        for call in (lambda: Client(url).health(),
                     lambda: asyncio.run(AsyncClient(url).health())):
            try:
                call()
                raise AssertionError("no error")
            except AgentdError as e:
                assert e.status == 502 and e.title == "Bad Gateway", e
                assert e.detail == "<h1>Bad Gateway</h1>", e
                assert e.problem == {}, e.problem

        # A stream answered 502 (a proxy while agentd restarts) is retried.
        def sse(seq: int, typ: str, data: Dict[str, Any]) -> bytes:
            return ("id: %d\ndata: %s\n\n" % (seq, json.dumps({
                "event_id": "evt_%d" % seq, "sequence": seq, "time": "",
                "session_id": "p", "source": "daemon", "synthetic": True,
                "type": typ, "data": data}))).encode()
        body = sse(1, "turn.started", {"turn_id": "t"}) + sse(
            2, "session.ended", {"reason": "terminated",
                                 "terminated_by": "daemon"})
        html = (502, "text/html", b"<h1>Bad Gateway</h1>")
        for kind in ("sync", "async"):
            Recorder.requests = []
            Recorder.answers = [html, html, (200, "text/event-stream", body)]
            retries: List[int] = []
            if kind == "sync":
                got = [e["sequence"] for e in Client(url).events(
                    "p", reconnect_delay=0.01,
                    on_reconnect=lambda at, e: retries.append(at))]
            else:
                async def collect() -> List[int]:
                    return [e["sequence"] async for e in AsyncClient(
                        url).events("p", reconnect_delay=0.01,
                                    on_reconnect=lambda at, e:
                                    retries.append(at))]
                got = asyncio.run(collect())
            assert got == [1, 2] and retries == [0, 0], (kind, got, retries)
            assert len(Recorder.requests) == 3, Recorder.requests
    finally:
        srv.shutdown()
        srv.server_close()


# -- the cursor helper ------------------------------------------------------

def test_events_since_cursor(ctx: Ctx) -> None:
    c = ctx.client()
    s = c.create_session("mock")
    r = s.run("hello cursor world")
    last = r.events[-1]["sequence"]
    got: List[Dict[str, Any]] = []
    cursor = 0
    while True:
        b = s.events_since(cursor, limit=3)
        assert len(b.events) <= 3
        got += b.events
        cursor = b.cursor
        if not b.has_more:
            break
    check_sequences(got)
    assert cursor == last == got[-1]["sequence"]
    b = s.events_since(cursor)
    assert b.events == [] and b.cursor == cursor and not b.has_more
    b = asyncio.run(ctx.aclient().events_since(s.id, 2))
    assert [e["sequence"] for e in b.events] == list(range(3, last + 1))
    raw = s.get_events(0, 2, include_raw=True)
    assert raw["hasMore"] and len(raw["events"]) == 2
    s.delete()


# -- the README and the examples --------------------------------------------

def _run_py(args: List[str], timeout: float = 60,
            env: Optional[Dict[str, str]] = None,
            ) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([sys.executable] + args, capture_output=True,
                          text=True, timeout=timeout, env=e)


def test_readme_examples_run(ctx: Ctx) -> None:
    path = os.path.join(ROOT, "clients/python/README.md")
    with open(path) as f:
        blocks = re.findall(r"^```python\n(.*?)^```$", f.read(), re.M | re.S)
    assert len(blocks) >= 9, len(blocks)
    with tempfile.TemporaryDirectory() as tmp:
        for i, code in enumerate(blocks, 1):
            p = os.path.join(tmp, "example%d.py" % i)
            with open(p, "w") as f:
                f.write(code)
            r = _run_py([p], env={"AGENTD_URL": ctx.url,
                                  "AGENTD_TOKEN": TOKEN}, timeout=60)
            assert r.returncode == 0, "README block %d:\n%s\n%s" % (
                i, code, r.stderr[-2000:])


def test_batch_runner_example(ctx: Ctx) -> None:
    with tempfile.TemporaryDirectory() as out:
        r = _run_py([os.path.join(ROOT, "examples/batch_runner.py"),
                     "--url", ctx.url, "--out", out, "--sessions", "6",
                     "--agent", "mock", "--agent", "acp:@self,mock-agent",
                     "--prompt", "hello batch", "--prompt", "tool",
                     "--prompt", "permission"],
                    env={"AGENTD_TOKEN": TOKEN}, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        with open(os.path.join(out, "summary.json")) as f:
            summary = json.load(f)
        assert len(summary) == 6, summary
        agents = sorted({x["agent"] for x in summary})
        assert agents == ["acp", "mock"], agents
        for x in summary:
            assert [t["stop_reason"] for t in x["turns"]] == \
                ["end_turn"] * 3, x
            with open(os.path.join(out, x["session"] + ".jsonl")) as f:
                evs = [json.loads(line) for line in f]
            check_sequences(evs)
            assert sum(e["type"] == "turn.ended" for e in evs) == 3
            with open(os.path.join(out, x["session"] + ".md")) as f:
                md = f.read()
            assert "echo: hello batch" in md and "permission granted" in md, md
            assert "the command printed hi" in md, md


# -- files and processes (/v1/fs, /v1/processes) ----------------------------

def _problem(call: Callable[[], Any], status: int) -> AgentdError:
    """call() raises AgentdError with status and a detail that says why."""
    try:
        call()
    except AgentdError as e:
        assert e.status == status, "%s: wanted %d" % (e, status)
        assert e.detail and e.detail != e.title, e
        assert e.detail in str(e), e
        return e
    raise AssertionError("no AgentdError (wanted %d)" % status)


# Every byte value, and sequences that are not UTF-8.
_BYTES = bytes([0xff, 0xfe, 0xc3, 0x28, 0x80, 0x00]) + bytes(
    (i * 131 + 7) & 0xff for i in range(4101))


def test_fs_write_read_back_equal(ctx: Ctx) -> None:
    c = ctx.client()
    top = tempfile.mkdtemp(prefix="agentd-pyclient-fs-")
    try:
        p = os.path.join(top, "new parent", "bin \u00e4rger.dat")
        w = c.write_fs_file(p, _BYTES)
        assert w == {"path": p, "bytesWritten": len(_BYTES)}, w
        assert c.read_fs_file(p) == _BYTES
        assert c.read_fs_file(p, offset=10, length=10) == _BYTES[10:20]
        assert c.read_fs_file(p, offset=4000) == _BYTES[4000:]
        assert c.read_fs_file(p, last=5) == _BYTES[-5:]
        _problem(lambda: c.read_fs_file(p, offset=len(_BYTES) + 1), 416)
        st = c.stat_fs(p)
        assert st["entryType"] == "file" and st["size"] == len(_BYTES), st
        assert re.match(r"^\d{4}-\d\d-\d\dT.*Z$", st["modified"]), st
        c.write_fs_file(p, "h\u00e9llo")  # replaced; a str is UTF-8
        assert c.read_fs_file(p) == "h\u00e9llo".encode()
        ents = c.list_fs_entries(os.path.dirname(p))
        assert [(e["name"], e["entryType"], e["size"]) for e in ents] == \
            [("bin \u00e4rger.dat", "file", 6)], ents
        _problem(lambda: c.write_fs_file(os.path.join(top, "no", "x"), b"x",
                                         parents=False), 404)
        _problem(lambda: c.stat_fs(os.path.join(top, "missing")), 404)
        _problem(lambda: c.read_fs_file(top), 409)
        _problem(lambda: c.list_fs_entries(top + "/../etc"), 400)
        # The async client reads and writes the same bytes.

        async def main() -> None:
            a = ctx.aclient()
            q = os.path.join(top, "async", "b.bin")
            assert (await a.write_fs_file(q, _BYTES))["bytesWritten"] == \
                len(_BYTES)
            assert await a.read_fs_file(q) == _BYTES
            assert await a.read_fs_file(q, last=3) == _BYTES[-3:]
            assert (await a.stat_fs(q))["size"] == len(_BYTES)
            try:
                await a.read_fs_file(os.path.join(top, "missing"))
                raise AssertionError("no 404")
            except AgentdError as e:
                assert e.status == 404 and e.detail, e
        asyncio.run(main())
    finally:
        shutil.rmtree(top, ignore_errors=True)


def test_fs_mkdir_move_delete(ctx: Ctx) -> None:
    c = ctx.client()
    top = tempfile.mkdtemp(prefix="agentd-pyclient-fs-")
    try:
        a = os.path.join(top, "m", "a", "b")
        assert c.mkdir_fs(a) == {"path": a}
        c.mkdir_fs(a)  # an existing one is fine
        c.write_fs_file(os.path.join(a, "f.txt"), "one")
        c.write_fs_file(os.path.join(top, "m", "g.txt"), "two")
        c.write_fs_file(os.path.join(top, "m", "h.txt"), "three")
        to = os.path.join(top, "m", "moved")
        r = c.move_fs(os.path.join(top, "m", "a"), to)
        assert r == {"from": os.path.join(top, "m", "a"), "to": to}, r
        assert c.read_fs_file(os.path.join(to, "b", "f.txt")) == b"one"
        _problem(lambda: c.move_fs(os.path.join(top, "m", "g.txt"),
                                   os.path.join(top, "m", "h.txt")), 409)
        c.move_fs(os.path.join(top, "m", "g.txt"),
                  os.path.join(top, "m", "h.txt"), overwrite=True)
        assert c.read_fs_file(os.path.join(top, "m", "h.txt")) == b"two"
        _problem(lambda: c.delete_fs_entry(to), 409)
        assert c.delete_fs_entry(to, recursive=True) == {"path": to}
        c.delete_fs_entry(os.path.join(top, "m", "h.txt"))
        assert c.list_fs_entries(os.path.join(top, "m")) == []
        _problem(lambda: c.delete_fs_entry(to), 404)

        async def main() -> None:
            x = ctx.aclient()
            d = os.path.join(top, "am", "d")
            await x.mkdir_fs(d)
            await x.write_fs_file(os.path.join(d, "f"), b"\x00\xff")
            await x.move_fs(d, os.path.join(top, "am", "e"))
            ents = await x.list_fs_entries(os.path.join(top, "am"))
            assert [e["name"] for e in ents] == ["e"], ents
            await x.delete_fs_entry(os.path.join(top, "am"), recursive=True)
        asyncio.run(main())
        assert not os.path.exists(os.path.join(top, "am"))
    finally:
        shutil.rmtree(top, ignore_errors=True)


def test_fs_tar_uploads_whole(ctx: Ctx) -> None:
    import io
    import tarfile
    files = {"d%d/sub/file-%d.bin" % (i % 4, i):
             bytes((i + j * 7) & 0xff for j in range(i * 97 + 1))
             for i in range(40)}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    tar = buf.getvalue()
    c = ctx.client()
    top = tempfile.mkdtemp(prefix="agentd-pyclient-tar-")
    try:
        r = c.upload_fs_batch(top, tar)
        assert r["truncated"] is False, r
        assert sorted(r["paths"]) == sorted(os.path.join(top, n)
                                            for n in files), r
        for name, data in files.items():
            assert c.read_fs_file(os.path.join(top, name)) == data, name
        _problem(lambda: c.upload_fs_batch(top, tar[:700]), 400)
        r2 = asyncio.run(ctx.aclient().upload_fs_batch(
            os.path.join(top, "again"), tar))
        assert len(r2["paths"]) == len(files), r2
    finally:
        shutil.rmtree(top, ignore_errors=True)


def test_run_process_exit_code_stdout_stderr(ctx: Ctx) -> None:
    c = ctx.client()
    r = c.run_process("sh", ["-c", "echo out; echo err >&2; exit 3"])
    assert (r["exitCode"], r["stdout"], r["stderr"]) == (3, "out\n",
                                                        "err\n"), r
    assert r["timedOut"] is False and r["stdoutTruncated"] is False, r
    t = c.run_process("sleep", ["5"], timeout_ms=200)
    assert t["timedOut"] is True and t["exitCode"] is None, t
    _problem(lambda: c.run_process("true", cwd="/no/such/dir"), 400)
    a = asyncio.run(ctx.aclient().run_process(
        "sh", ["-c", "printf out; printf err >&2; exit 3"], env={"X": "1"}))
    assert (a["exitCode"], a["stdout"], a["stderr"]) == (3, "out", "err"), a


def test_process_logs_followed_live(ctx: Ctx) -> None:
    c = ctx.client()
    p = c.create_process("sh", ["-c", "for i in 1 2 3 4 5; do echo line$i; "
                                "sleep 0.3; done; echo bye >&2"])
    assert p["status"] == "running", p
    assert any(x["id"] == p["id"] for x in c.list_processes())
    seen: List[Any] = []
    running_at_first = None
    for e in c.follow_process_logs(p["id"]):
        if not seen:
            running_at_first = c.get_process(p["id"])["status"]
        seen.append(e)
    assert running_at_first == "running", "the log was not live"
    assert agentd_client.log_text(
        e for e in seen if e["stream"] == "stdout") == \
        "line1\nline2\nline3\nline4\nline5\n", seen
    assert agentd_client.log_text(
        e for e in seen if e["stream"] == "stderr") == "bye\n", seen
    info = c.get_process(p["id"])
    assert info["status"] == "exited" and info["exitCode"] == 0, info
    assert c.get_process_logs(p["id"])["entries"] == seen
    assert c.get_process_logs(p["id"], tail=1)["entries"] == seen[-1:]
    again = list(c.follow_process_logs(p["id"], seen[0]["sequence"]))
    assert again == seen[1:], again

    async def main() -> List[Any]:
        a = ctx.aclient()
        q = await a.create_process("sh", ["-c", "echo a; sleep 0.3; echo b"])
        got = [e async for e in a.follow_process_logs(q["id"],
                                                      stream="stdout")]
        assert (await a.get_process(q["id"]))["exitCode"] == 0
        await a.delete_process(q["id"])
        return got
    assert agentd_client.log_text(asyncio.run(main())) == "a\nb\n"
    c.delete_process(p["id"])
    _problem(lambda: c.get_process(p["id"]), 404)


def test_process_input_stop_kill_remove(ctx: Ctx) -> None:
    c = ctx.client()
    cat = c.create_process("cat", interactive=True)
    assert c.send_process_input(cat["id"], "hello\n") == {"bytesWritten": 6}
    assert c.send_process_input(cat["id"], b"\xff\x00\n") == \
        {"bytesWritten": 3}
    got = b""
    for e in c.follow_process_logs(cat["id"]):
        got += agentd_client.log_bytes(e)
        if len(got) >= 9:
            break
    assert got == b"hello\n\xff\x00\n", got
    _problem(lambda: c.delete_process(cat["id"]), 409)
    assert c.stop_process(cat["id"])["status"] == "exited"
    _problem(lambda: c.send_process_input(cat["id"], "late"), 409)
    c.delete_process(cat["id"])

    async def main() -> None:
        a = ctx.aclient()
        sl = await a.create_process("sleep", ["100"])
        k = await a.kill_process(sl["id"])
        assert k["status"] == "exited" and k["exitCode"] is None, k
        await a.delete_process(sl["id"])
        cfg = await a.get_process_config()
        assert cfg["maxConcurrentProcesses"] >= 1, cfg
    asyncio.run(main())
    _problem(lambda: c.stop_process("proc_999999"), 404)
    _problem(lambda: c.create_process(""), 400)
    t = c.create_process("sh", tty=True)
    assert t["tty"] is True, t
    assert c.resize_process_terminal(t["id"], 100, 30) == {"cols": 100,
                                                           "rows": 30}
    c.kill_process(t["id"])
    c.delete_process(t["id"])


def test_process_terminal_over_websocket(ctx: Ctx) -> None:
    """The client's own WebSocket: a shell on a terminal, resized, typed
    into, its output read, its exit code; two viewers at once; a viewer
    that reconnects sees the recent output again; refusals raise the
    problem agentd answered."""
    c = ctx.client()
    p = c.create_process("sh", tty=True)
    with c.connect_process_terminal(p["id"]) as t, \
            c.connect_process_terminal(p["id"]) as other:
        assert t.ready and t.process_id == p["id"]
        t.resize(100, 30)
        t.input("stty size; echo mark-$((6*7))\n")
        out = t.read_until(b"mark-42\r\n")
        assert b"30 100" in out, out
        assert b"mark-42" in other.read_until(b"mark-42\r\n")
        t.input(b"echo \xc3\xa9t\xc3\xa9\n")
        assert "\u00e9t\u00e9".encode() in t.read_until(
            "\u00e9t\u00e9\r\n".encode())
    with c.connect_process_terminal(p["id"]) as again:
        assert b"mark-42" in again.read_until(b"mark-42"), "no scrollback"
        again.input("exit 4\n")
        assert again.wait() == 4 and again.exit_code == 4
        assert again.read() is None
    c.delete_process(p["id"])
    plain = c.create_process("sleep", ["10"])
    _problem(lambda: c.connect_process_terminal(plain["id"]), 409)
    c.kill_process(plain["id"])
    _problem(lambda: c.connect_process_terminal("proc_999999"), 404)
    _problem(lambda: Client(ctx.url, "wrong").connect_process_terminal(
        plain["id"]), 401)

    async def main() -> Optional[int]:
        a = ctx.aclient()
        q = await a.create_process("sh", tty=True)
        async with await a.connect_process_terminal(q["id"]) as at:
            await at.resize(90, 20)
            await at.input("stty size\n")
            assert b"20 90" in await at.read_until(b"20 90")
            await at.input(b"exit 5\n")
            code = await at.wait()
        try:
            await a.connect_process_terminal(plain["id"])
            raise AssertionError("no 409")
        except AgentdError as e:
            assert e.status == 409 and "tty" in e.detail, e
        await a.delete_process(q["id"])
        return code
    assert asyncio.run(main()) == 5
    c.delete_process(plain["id"])


def test_process_logs_follow_survives_kill9(ctx: Ctx) -> None:
    """agentd killed while a follower waits for the next entry: it
    reconnects after the last sequence it yielded and ends once the
    restarted agentd reports the process ended; every entry the log kept
    came once, in order."""
    c = ctx.client()
    p = c.create_process("sh", ["-c", "i=0; while :; do i=$((i+1)); "
                                "echo n$i; sleep 0.05; done"])
    seen: List[Any] = []
    retries: List[int] = []
    for e in c.follow_process_logs(p["id"], reconnect_delay=0.05,
                                   on_reconnect=lambda at, err:
                                   retries.append(at)):
        seen.append(e)
        if len(seen) == 5:
            _kill_and_restart(ctx)
    assert retries and all(at >= 5 for at in retries), retries
    seqs = [e["sequence"] for e in seen]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs
    assert c.get_process_logs(p["id"])["entries"] == seen
    lines = agentd_client.log_text(seen).split()
    assert lines == ["n%d" % (i + 1) for i in range(len(lines))], lines
    assert c.get_process(p["id"])["status"] == "exited"
    c.delete_process(p["id"])


# -- runner ------------------------------------------------------------------

def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--agentd", required=True)
    ap.add_argument("-k", default="")
    a = ap.parse_args()
    binary = os.path.abspath(a.agentd)
    tests = [(n, f) for n, f in globals().items()
             if n.startswith("test_") and callable(f) and a.k in n]
    passed = failed = 0
    ctx = Ctx(binary)
    try:
        for name, fn in tests:
            t0 = time.monotonic()
            try:
                fn(ctx)
                print("ok - %s (%.1fs)" % (name, time.monotonic() - t0))
                passed += 1
            except XFail as e:
                # Reported, counted neither way (node's "todo").
                print("not ok - %s # TODO %s" % (name, e))
            except BaseException as e:  # noqa: BLE001
                if isinstance(e, KeyboardInterrupt):
                    raise
                failed += 1
                print("not ok - %s: %s" % (name, e or type(e).__name__))
                for line in traceback.format_exc().splitlines()[-12:]:
                    print("    " + line)
                for line in ctx.agentd.log_tail(800).splitlines()[-5:]:
                    print("    agentd: " + line)
            sys.stdout.flush()
            # A test that killed agentd may leave it down: bring it back.
            if ctx.agentd.proc is None or ctx.agentd.proc.poll() is not None:
                time.sleep(0.5)
                if ctx.agentd.proc is None or \
                        ctx.agentd.proc.poll() is not None:
                    ctx.agentd.up()
    finally:
        ctx.agentd.cleanup()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
