"""The end-to-end scenarios, and the one client that drives them.

The same code drives every agent through agentd's public API (create,
WebSocket stream, message, permission and question replies, cancel): the
e2e suite runs it against the real CLIs and the mock model server, the
golden tests run it against recorded fixtures played back by
`agentd replay-agent`. A scenario's prompt carries the keyword that
tests/mockmodel/server.py reacts to.
"""

import os
import time

HERE = os.path.dirname(os.path.abspath(__file__))


class Scenario:
    def __init__(self, name, prompt, permission=None, answer=None,
            cancel=False, check=None, agents=None, timeout=90):
        self.name = name
        self.prompt = prompt
        self.permission = permission    # reply to every permission.requested
        self.answer = answer            # answers to question.requested
        self.cancel = cancel            # cancel at the first delta
        self.check = check              # check(run) raises AssertionError
        self.agents = agents            # None: every agent
        self.timeout = timeout


class Run:
    """What one scenario produced."""

    def __init__(self, scenario, cwd):
        self.scenario = scenario
        self.cwd = cwd
        self.events = []
        self.cancel_sent_at = None
        self.ended_at = None

    def types(self):
        return [e["type"] for e in self.events]

    def of(self, type_):
        return [e for e in self.events if e["type"] == type_]

    def text(self, role="assistant"):
        items = {}
        for e in self.events:
            if e["type"] == "item.started":
                items[e["data"]["item"]["item_id"]] = e["data"]["item"]
        return "".join(e["data"]["delta"] for e in self.of("item.delta")
            if items.get(e["data"]["item_id"], {}).get("role") == role and
            items[e["data"]["item_id"]].get("kind") == "message")

    def turn_end(self):
        ends = self.of("turn.ended")
        assert ends, f"no turn.ended: {self.types()[-12:]}"
        return ends[-1]["data"]


def check_invariants(run):
    """DESIGN.md section 3 invariants, for every agent."""
    started, done = {}, set()
    seqs = [e["sequence"] for e in run.events]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "gap in sequences"
    for e in run.events:
        t, d = e["type"], e["data"]
        assert t != "agent.unparsed", f"agent.unparsed: {d}"
        if t == "item.started":
            started[d["item"]["item_id"]] = d["item"]
        elif t == "item.delta":
            assert d["item_id"] in started, f"delta before start: {d}"
            assert d["item_id"] not in done, f"delta after completion: {d}"
        elif t == "item.completed":
            assert d["item"]["item_id"] in started, f"completed before start: {d}"
            done.add(d["item"]["item_id"])
    items = list(started.values()) + [e["data"]["item"] for e in run.events
        if e["type"] == "item.completed"]
    calls = {p["call_id"] for i in items for p in i["content"]
        if p.get("type") == "tool_call"}
    for i in items:
        for p in i["content"]:
            if p.get("type") == "tool_result":
                assert p["call_id"] in calls, f"tool_result without call: {p}"


def _text_has(*words):
    def check(run):
        text = run.text()
        for w in words:
            assert w in text, f"{w!r} not in the reply {text[:300]!r}"
        assert run.turn_end().get("stop_reason") == "end_turn", run.turn_end()
    return check


def _file_written(run):
    path = os.path.join(run.cwd, "hello.txt")
    assert os.path.exists(path), f"{path} was not written"
    with open(path) as f:
        assert f.read() == "hello world\n"
    res = run.of("permission.resolved")
    if run.of("permission.requested"):
        assert res and res[0]["data"]["status"] == "accept", res


def _file_denied(run):
    assert run.of("permission.requested"), "the agent asked no permission"
    assert run.of("permission.resolved")[0]["data"]["status"] == "reject"
    assert not os.path.exists(os.path.join(run.cwd, "hello.txt")), \
        "the file was written despite the rejection"


def _shell_ran(run):
    assert os.path.exists(os.path.join(run.cwd, "shell-ran.txt")), \
        "the shell command did not run"
    results = [p for e in run.of("item.completed")
        for p in e["data"]["item"]["content"] if p.get("type") == "tool_result"]
    assert results, "no tool_result item"


def _question_answered(run):
    q = run.of("question.requested")
    assert q, "no question.requested"
    opts = [o["label"] for o in q[0]["data"]["questions"][0]["options"]]
    assert opts == ["Red", "Blue"], opts
    assert run.of("question.resolved")[0]["data"]["status"] == "answered"
    assert "Blue" in run.text(), run.text()


def _cancelled(run):
    assert run.cancel_sent_at is not None, "no delta came to cancel at"
    end = run.turn_end()
    assert end.get("stop_reason") == "cancelled", end
    assert run.ended_at - run.cancel_sent_at < 2.0, \
        f"cancel took {run.ended_at - run.cancel_sent_at:.2f}s"


def _error_reported(run):
    errs = run.of("error")
    assert errs, f"no error event for the model's HTTP 400: {run.types()}"
    assert errs[0]["data"]["message"], errs[0]


SCENARIOS = [
    Scenario("hello", "hello", check=_text_has("Hello! I am a mock model")),
    Scenario("write", "please write the file", permission="once",
        check=_file_written),
    Scenario("write-deny", "please write the file", permission="reject",
        check=_file_denied),
    Scenario("shell", "run the shell command", permission="once",
        check=_shell_ran),
    Scenario("question", "ask me a question", answer=[["Blue"]],
        check=_question_answered, agents=["claude", "mock"]),
    Scenario("cancel", "a slow answer please", cancel=True,
        check=_cancelled),
    Scenario("error400", "error 400 please", check=_error_reported),
]


def by_name(name):
    for s in SCENARIOS:
        if s.name == name:
            return s
    raise KeyError(name)


def create(agentd, sid, agent, cwd, env=None, agent_command=None,
        permission_mode=None, model=None, home=None):
    body = {"agent": agent, "cwd": cwd}
    if home:
        body["home"] = home
    if model:
        body["model"] = model
    if env:
        body["env"] = env
    if agent_command:
        body["agentCommand"] = agent_command
    if permission_mode:
        body["permissionMode"] = permission_mode
    r = agentd.http("POST", f"/v1/sessions/{sid}", body)
    assert r.status == 200, f"create {agent}: {r.status} {r.body[:400]!r}"
    return r.json


def drive(agentd, sid, scenario, cwd, offset=0):
    """Send the scenario's prompt over WebSocket and react to what comes
    until the turn (or the session) ends. Returns a Run."""
    run = Run(scenario, cwd)
    ws = agentd.ws(f"/v1/sessions/{sid}/events/ws?offset={offset}")
    try:
        rep = ws.request({"type": "message", "id": "m1",
            "message": scenario.prompt})
        assert rep["status"] == 204, rep
        run.events.extend(ws.pending_events)
        ws.pending_events.clear()
        deadline = time.monotonic() + scenario.timeout
        pending = list(run.events)
        while True:
            for ev in pending:
                if _react(ws, run, ev):
                    return run
            left = deadline - time.monotonic()
            assert left > 0, f"{scenario.name}: no turn end in " \
                f"{scenario.timeout}s; last {run.types()[-10:]}"
            ev = ws.next_event(timeout=left)
            assert ev is not None, f"stream closed: {run.types()[-10:]}"
            run.events.append(ev)
            pending = [ev]
    finally:
        ws.close()


def _react(ws, run, ev):
    sc = run.scenario
    t, d = ev["type"], ev["data"]
    if t == "permission.requested":
        rep = ws.request({"type": "permission.reply",
            "permission_id": d["permission_id"],
            "reply": sc.permission or "reject"})
        assert rep["status"] == 204, rep
    elif t == "question.requested":
        cmd = {"type": "question.reply", "question_id": d["question_id"],
            "answers": sc.answer} if sc.answer else \
            {"type": "question.reject", "question_id": d["question_id"]}
        assert ws.request(cmd)["status"] == 204
    elif t == "item.delta" and sc.cancel and run.cancel_sent_at is None:
        run.cancel_sent_at = time.monotonic()
        assert ws.request({"type": "cancel"})["status"] == 204
    elif t in ("turn.ended", "session.ended"):
        run.ended_at = time.monotonic()
        return True
    for m in ws.pending_events:
        run.events.append(m)
    ws.pending_events.clear()
    return False


def normalise(events, roots):
    """Events as a golden file keeps them: no time, no session ids (the
    envelope's native id appears when the agent's handshake ends, which a
    replay reaches sooner), and each of the run's temporary directories
    (roots) written as $TMP."""
    out = []
    for e in events:
        e = dict(e)
        e.pop("time", None)
        e.pop("session_id", None)
        e.pop("native_session_id", None)
        out.append(_replace(e, roots))
    return out


def _replace(obj, roots):
    if isinstance(obj, dict):
        return {k: _replace(v, roots) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_replace(v, roots) for v in obj]
    if isinstance(obj, str):
        for r in roots:
            obj = obj.replace(r, "$TMP")
    return obj
