"""Issue 15: MCP servers and skills set for a directory (sandbox-agent
0.4.2's /v1/config routes and shapes), and what a session started there
hands its agent.

Expected shapes (docs/api.md "MCP servers and skills of a directory"):

  PUT    /v1/config/mcp?directory=D&mcpName=N     body: McpServerConfig  204
  GET    /v1/config/mcp?directory=D&mcpName=N     200 the body as put; 404
  DELETE /v1/config/mcp?directory=D&mcpName=N     204 (also when missing)
  PUT    /v1/config/skills?directory=D&skillName=N  body: SkillsConfig   204
  (GET and DELETE as for mcp)

McpServerConfig: {type:"local", command, args?, env?, cwd?, enabled?,
timeoutMs?} | {type:"remote", url, headers?, transport?, ...}.
SkillsConfig: {sources:[{type:"local", source:<absolute folder>,
subpath?, skills?}]}; a github or git source is 422. A relative directory,
a bad name, a missing argument or a body of the wrong shape is 400.
Stored in <data-dir>/config/{mcp,skills}.json, so a restart keeps them.

A session in D gets, at each start of its agent (so a change reaches the
next start, a resume after a restart included): ACP agents
session/new's mcpServers (the create request's "mcp" first, then D's
servers whose name it does not have, enabled:false left out); Claude Code
--mcp-config FILE (Claude's {"mcpServers":{…}}) and --add-dir DIR where
DIR/.claude/skills/<name> is each skill folder (one with a SKILL.md).
"""

import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.parse

from agentd import fetch_events, problem, wait_for

TOKEN = "config-test-token"

# An ACP agent that writes session/new's params to $DUMP and answers
# every prompt "ok".
ACP_AGENT = r'''
import json, os, sys
def emit(o):
    sys.stdout.write(json.dumps(o) + "\n"); sys.stdout.flush()
for line in sys.stdin:
    m = json.loads(line)
    meth, mid = m.get("method"), m.get("id")
    if meth == "initialize":
        emit({"jsonrpc": "2.0", "id": mid, "result": {"protocolVersion": 1,
            "agentCapabilities": {"loadSession": False}}})
    elif meth == "session/new":
        with open(os.environ["DUMP"] + ".tmp", "w") as f:
            json.dump(m["params"], f)
        os.rename(os.environ["DUMP"] + ".tmp", os.environ["DUMP"])
        emit({"jsonrpc": "2.0", "id": mid, "result": {"sessionId": "n1"}})
    elif meth == "session/prompt":
        emit({"jsonrpc": "2.0", "id": mid, "result": {"stopReason": "end_turn"}})
'''

# A stand-in for the claude CLI: writes its argv and the --mcp-config
# file's JSON and the skills it finds under --add-dir to $DUMP, then
# waits on stdin.
CLAUDE_STUB = r'''
import json, os, sys
argv = sys.argv[1:]
out = {"argv": argv}
if "--mcp-config" in argv:
    with open(argv[argv.index("--mcp-config") + 1]) as f:
        out["mcp"] = json.load(f)
if "--add-dir" in argv:
    d = os.path.join(argv[argv.index("--add-dir") + 1], ".claude", "skills")
    out["skills"] = {n: open(os.path.join(d, n, "SKILL.md")).read()
        for n in sorted(os.listdir(d))}
with open(os.environ["DUMP"] + ".tmp", "w") as f:
    json.dump(out, f)
os.rename(os.environ["DUMP"] + ".tmp", os.environ["DUMP"])
sys.stdin.read()
'''


def q(**kw):
    return urllib.parse.urlencode(kw)


@contextlib.contextmanager
def _daemon(ctx):
    tmp = tempfile.mkdtemp(prefix="agentd-config-")
    work = os.path.join(tmp, "work")
    os.makedirs(work)
    try:
        with ctx.agentd(token=TOKEN) as a:
            yield a, tmp, work
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# Found in no path by chance: "s3" was, and the test that keeps it off an
# agent's argv failed once in CI, most likely on a random temporary name
# in that argv (the run kept no argv to tell).
SECRET = "mcp-secret-Q7zX"
LOCAL = {"type": "local", "command": "python3", "args": ["srv.py", "-v"],
    "env": {"SECRET": SECRET}, "enabled": True, "timeoutMs": 5000}
REMOTE = {"type": "remote", "url": "http://127.0.0.1:9/mcp",
    "headers": {"X-A": "b"}, "transport": "sse"}


def test_mcp_round_trip_survives_restart(ctx):
    with _daemon(ctx) as (a, tmp, work):
        r = a.http("GET", "/v1/config/mcp?" + q(directory=work, mcpName="one"))
        problem(r, 404)
        for name, body in (("one", LOCAL), ("two", REMOTE)):
            r = a.http("PUT", "/v1/config/mcp?" + q(directory=work,
                mcpName=name), body)
            assert r.status == 204, r.body
        # Another directory's entries are its own.
        r = a.http("PUT", "/v1/config/mcp?" + q(directory="/elsewhere",
            mcpName="one"), REMOTE)
        assert r.status == 204, r.body
        # A trailing slash names the same directory.
        r = a.http("GET", "/v1/config/mcp?" + q(directory=work + "/",
            mcpName="one"))
        assert r.status == 200 and r.json == LOCAL, (r.status, r.body)
        a.restart()
        r = a.http("GET", "/v1/config/mcp?" + q(directory=work, mcpName="two"))
        assert r.status == 200 and r.json == REMOTE, (r.status, r.body)
        r = a.http("GET", "/v1/config/mcp?" + q(directory="/elsewhere",
            mcpName="one"))
        assert r.status == 200 and r.json == REMOTE, (r.status, r.body)
        # Replace, then delete; a second delete is still 204.
        r = a.http("PUT", "/v1/config/mcp?" + q(directory=work,
            mcpName="one"), REMOTE)
        assert r.status == 204
        r = a.http("GET", "/v1/config/mcp?" + q(directory=work, mcpName="one"))
        assert r.json == REMOTE
        for _ in range(2):
            r = a.http("DELETE", "/v1/config/mcp?" + q(directory=work,
                mcpName="one"))
            assert r.status == 204, r.body
        problem(a.http("GET", "/v1/config/mcp?" + q(directory=work,
            mcpName="one")), 404)
        a.restart()
        problem(a.http("GET", "/v1/config/mcp?" + q(directory=work,
            mcpName="one")), 404)
        r = a.http("GET", "/v1/config/mcp?" + q(directory=work, mcpName="two"))
        assert r.status == 200 and r.json == REMOTE
        # On disk: one file, 0600, what was stored.
        path = os.path.join(a.data_dir, "config", "mcp.json")
        assert os.stat(path).st_mode & 0o777 == 0o600
        with open(path) as f:
            disk = json.load(f)
        assert disk[os.path.realpath(work)] == {"two": REMOTE}
        assert not os.path.exists(path + ".new")


def test_skills_round_trip(ctx):
    with _daemon(ctx) as (a, tmp, work):
        body = {"sources": [{"type": "local", "source": tmp,
            "subpath": "skills", "skills": ["greet"]}]}
        r = a.http("PUT", "/v1/config/skills?" + q(directory=work,
            skillName="mine"), body)
        assert r.status == 204, r.body
        r = a.http("GET", "/v1/config/skills?" + q(directory=work,
            skillName="mine"))
        assert r.status == 200 and r.json == body
        problem(a.http("GET", "/v1/config/skills?" + q(directory=work,
            skillName="other")), 404)
        # The names of one kind are not the other's.
        problem(a.http("GET", "/v1/config/mcp?" + q(directory=work,
            mcpName="mine")), 404)
        a.restart()
        r = a.http("GET", "/v1/config/skills?" + q(directory=work,
            skillName="mine"))
        assert r.status == 200 and r.json == body
        r = a.http("DELETE", "/v1/config/skills?" + q(directory=work,
            skillName="mine"))
        assert r.status == 204
        problem(a.http("GET", "/v1/config/skills?" + q(directory=work,
            skillName="mine")), 404)


def test_bad_input_and_token(ctx):
    with _daemon(ctx) as (a, tmp, work):
        mcp = "/v1/config/mcp?"
        bad = [
            ("GET", mcp + q(mcpName="x"), None),
            ("GET", mcp + q(directory=work), None),
            ("GET", mcp + q(directory="rel/dir", mcpName="x"), None),
            ("GET", mcp + q(directory=work, mcpName="a b"), None),
            ("GET", mcp + q(directory=work, mcpName="x" * 65), None),
            ("DELETE", mcp + q(directory="rel", mcpName="x"), None),
            ("PUT", mcp + q(directory=work, mcpName="x"), {"type": "local"}),
            ("PUT", mcp + q(directory=work, mcpName="x"),
                {"type": "local", "command": "c", "args": "notalist"}),
            ("PUT", mcp + q(directory=work, mcpName="x"),
                {"type": "local", "command": "c", "env": {"A": 1}}),
            ("PUT", mcp + q(directory=work, mcpName="x"), {"type": "remote"}),
            ("PUT", mcp + q(directory=work, mcpName="x"),
                {"type": "other", "command": "c"}),
            ("PUT", mcp + q(directory=work, mcpName="x"),
                {"type": "local", "command": "c", "enabled": "yes"}),
            ("PUT", mcp + q(directory=work, mcpName="x"), [1]),
            ("PUT", "/v1/config/skills?" + q(directory=work, skillName="s"),
                {"sources": "x"}),
            ("PUT", "/v1/config/skills?" + q(directory=work, skillName="s"),
                {"sources": [{"type": "local"}]}),
            ("PUT", "/v1/config/skills?" + q(directory=work, skillName="s"),
                {"sources": [{"type": "local", "source": "relative"}]}),
        ]
        for method, path, body in bad:
            r = a.http(method, path, body)
            problem(r, 400)
        r = a.http("PUT", mcp + q(directory=work, mcpName="x"), b"{",
            headers={"Content-Type": "application/json"})
        problem(r, 400)
        r = a.http("PUT", "/v1/config/skills?" + q(directory=work,
            skillName="s"), {"sources": [{"type": "github",
            "source": "owner/repo"}]})
        problem(r, 422)
        # Nothing of the refused requests was stored.
        assert not os.path.exists(os.path.join(a.data_dir, "config",
            "skills.json"))
        for method in ("GET", "PUT", "DELETE"):
            for token in (None, "wrong"):
                r = a.http(method, mcp + q(directory=work, mcpName="x"),
                    LOCAL if method == "PUT" else None, token=token)
                problem(r, 401)
        problem(a.http("GET", mcp + q(directory=work, mcpName="x")), 404)
        r = a.http("POST", mcp + q(directory=work, mcpName="x"), {})
        assert r.status == 405


def _wait_dump(path, timeout=10):
    wait_for(lambda: os.path.exists(path), timeout=timeout,
        msg=f"{path} never written")
    with open(path) as f:
        return json.load(f)


def test_acp_session_gets_directory_servers(ctx):
    with _daemon(ctx) as (a, tmp, work):
        agent = os.path.join(tmp, "agent.py")
        with open(agent, "w") as f:
            f.write(ACP_AGENT)
        dump = os.path.join(tmp, "new.json")
        for name, body in (("dirsrv", LOCAL), ("both", REMOTE),
                ("off", dict(LOCAL, enabled=False)), ("web", REMOTE)):
            r = a.http("PUT", "/v1/config/mcp?" + q(directory=work,
                mcpName=name), body)
            assert r.status == 204, r.body
        mine = {"name": "both", "command": "mine", "args": [], "env": []}
        r = a.http("POST", "/v1/sessions/s1", {"agent": "acp",
            "agentCommand": [sys.executable, agent], "cwd": work,
            "env": {"DUMP": dump}, "mcp": [mine]})
        assert r.status == 200, r.body
        r = a.http("POST", "/v1/sessions/s1/messages", {"message": "hi"})
        assert r.status in (200, 202, 204), r.body
        params = _wait_dump(dump)
        assert params["mcpServers"] == [mine,
            {"name": "dirsrv", "command": "python3", "args": ["srv.py", "-v"],
                "env": [{"name": "SECRET", "value": SECRET}]},
            {"name": "web", "type": "sse", "url": "http://127.0.0.1:9/mcp",
                "headers": [{"name": "X-A", "value": "b"}]}], params
        # A change reaches the next start of the agent: after a restart of
        # agentd, the next message starts it with the servers of now.
        r = a.http("DELETE", "/v1/config/mcp?" + q(directory=work,
            mcpName="web"))
        assert r.status == 204
        r = a.http("PUT", "/v1/config/mcp?" + q(directory=work,
            mcpName="late"), LOCAL)
        assert r.status == 204
        os.remove(dump)
        a.restart()
        r = a.http("POST", "/v1/sessions/s1/messages", {"message": "again"})
        assert r.status in (200, 202, 204), r.body
        params = _wait_dump(dump)
        assert [m["name"] for m in params["mcpServers"]] == \
            ["both", "dirsrv", "late"], params
        assert params["mcpServers"][0] == mine


def test_claude_gets_config_file_and_skills(ctx):
    with _daemon(ctx) as (a, tmp, work):
        stub = os.path.join(tmp, "claude-stub.py")
        with open(stub, "w") as f:
            f.write(CLAUDE_STUB)
        skills = os.path.join(tmp, "skills")
        for n in ("greet", "count", "notaskill"):
            os.makedirs(os.path.join(skills, n))
            if n != "notaskill":
                with open(os.path.join(skills, n, "SKILL.md"), "w") as f:
                    f.write(f"---\nname: {n}\ndescription: {n}s\n---\nbody\n")
        r = a.http("PUT", "/v1/config/skills?" + q(directory=work,
            skillName="all"), {"sources": [{"type": "local",
            "source": skills}]})
        assert r.status == 204, r.body
        r = a.http("PUT", "/v1/config/mcp?" + q(directory=work,
            mcpName="dirsrv"), LOCAL)
        assert r.status == 204, r.body
        dump = os.path.join(tmp, "argv.json")
        r = a.http("POST", "/v1/sessions/c1", {"agent": "claude",
            "agentCommand": [sys.executable, stub], "cwd": work,
            "env": {"DUMP": dump}})
        assert r.status == 200, r.body
        r = a.http("POST", "/v1/sessions/c1/messages", {"message": "hi"})
        assert r.status in (200, 202, 204), r.body
        out = _wait_dump(dump)
        argv = out["argv"]
        cfg = argv[argv.index("--mcp-config") + 1]
        # Written by agentd under its data dir, never the secret on argv.
        assert cfg.startswith(os.path.realpath(a.data_dir)), cfg
        assert SECRET not in " ".join(argv), argv
        assert os.stat(cfg).st_mode & 0o777 == 0o600
        assert out["mcp"] == {"mcpServers": {"dirsrv": {"type": "stdio",
            "command": "python3", "args": ["srv.py", "-v"],
            "env": {"SECRET": SECRET}}}}, out["mcp"]
        assert sorted(out["skills"]) == ["count", "greet"], out
        assert "name: greet" in out["skills"]["greet"]
        # Deleted with the session: the folder agentd made, not the skills.
        r = a.http("DELETE", "/v1/sessions/c1")
        assert r.status in (200, 204), r.body
        wait_for(lambda: not os.path.exists(cfg), timeout=5,
            msg="the launch folder outlived its session")
        assert os.path.exists(os.path.join(skills, "greet", "SKILL.md"))


# An ACP agent that appends {method, params, pid} of each session/new and
# session/load to $DUMP (JSON lines); loads sessions unless $NOLOAD; a
# prompt with "slow" in it takes 1.5 s.
ACP_LOADER = r'''
import json, os, sys, time
def emit(o):
    sys.stdout.write(json.dumps(o) + "\n"); sys.stdout.flush()
for line in sys.stdin:
    m = json.loads(line)
    meth, mid = m.get("method"), m.get("id")
    if meth == "initialize":
        emit({"jsonrpc": "2.0", "id": mid, "result": {"protocolVersion": 1,
            "agentCapabilities": {"loadSession": not os.environ.get("NOLOAD")}}})
    elif meth in ("session/new", "session/load"):
        with open(os.environ["DUMP"], "a") as f:
            f.write(json.dumps({"method": meth, "params": m["params"],
                "pid": os.getpid()}) + "\n")
        emit({"jsonrpc": "2.0", "id": mid,
            "result": {"sessionId": "n1"} if meth == "session/new" else {}})
    elif meth == "session/prompt":
        if "slow" in json.dumps(m["params"]):
            time.sleep(1.5)
        emit({"jsonrpc": "2.0", "id": mid, "result": {"stopReason": "end_turn"}})
'''


def _starts(path, n, timeout=10):
    """The first n agent starts the loader recorded."""
    def f():
        if not os.path.exists(path):
            return None
        with open(path) as fh:
            lines = [json.loads(x) for x in fh if x.endswith("\n")]
        return lines if len(lines) >= n else None
    return wait_for(f, timeout=timeout, msg=f"{n} agent starts not seen")


def _turns_ended(a, sid, n, timeout=10):
    def f():
        evs = [e for e in fetch_events(a, sid) if e["type"] == "turn.ended"]
        return evs if len(evs) >= n else None
    return wait_for(f, timeout=timeout, msg=f"{n} turn.ended not seen")


def _loader_session(a, tmp, work, sid, dump, extra_env=None, mcp=None):
    agent = os.path.join(tmp, "loader.py")
    with open(agent, "w") as f:
        f.write(ACP_LOADER)
    body = {"agent": "acp", "agentCommand": [sys.executable, agent],
        "cwd": work, "env": dict({"DUMP": dump}, **(extra_env or {}))}
    if mcp is not None:
        body["mcp"] = mcp
    r = a.http("POST", f"/v1/sessions/{sid}", body)
    assert r.status == 200, r.body


def test_session_mcp_set_live_reaches_next_start(ctx):
    """POST /v1/sessions/{id}/config {mcp, skills}: the session's own
    servers, over the create's mcp over the directory's; a running agent
    is restarted between turns (never in one) with session/load."""
    with _daemon(ctx) as (a, tmp, work):
        dump = os.path.join(tmp, "starts.jsonl")
        r = a.http("PUT", "/v1/config/mcp?" + q(directory=work,
            mcpName="both"), REMOTE)
        assert r.status == 204, r.body
        r = a.http("PUT", "/v1/config/mcp?" + q(directory=work,
            mcpName="dirsrv"), LOCAL)
        assert r.status == 204, r.body
        created = {"name": "both", "command": "created", "args": [],
            "env": []}
        _loader_session(a, tmp, work, "m1", dump, mcp=[created])
        r = a.http("POST", "/v1/sessions/m1/messages", {"message": "hi"})
        assert r.status == 204, r.body
        _turns_ended(a, "m1", 1)
        first = _starts(dump, 1)[0]
        assert first["method"] == "session/new"
        assert [m["name"] for m in first["params"]["mcpServers"]] == \
            ["both", "dirsrv"], first
        assert first["params"]["mcpServers"][0] == created
        # Live, between turns: taken, and the agent restarted at once.
        own = {"both": {"type": "local", "command": "own-srv",
            "args": ["-x"], "env": {"OWNSECRET": "o7"}},
            "extra": REMOTE}
        r = a.http("POST", "/v1/sessions/m1/config", {"mcp": own})
        assert r.status == 204, r.body
        r = a.http("POST", "/v1/sessions/m1/messages", {"message": "next"})
        assert r.status == 204, r.body
        _turns_ended(a, "m1", 2)
        second = _starts(dump, 2)[1]
        assert second["method"] == "session/load", second
        assert second["params"]["sessionId"] == "n1", second
        assert second["pid"] != first["pid"], "the agent was not restarted"
        assert second["params"]["mcpServers"] == [
            {"name": "both", "command": "own-srv", "args": ["-x"],
                "env": [{"name": "OWNSECRET", "value": "o7"}]},
            {"name": "extra", "type": "sse", "url": "http://127.0.0.1:9/mcp",
                "headers": [{"name": "X-A", "value": "b"}]},
            {"name": "dirsrv", "command": "python3",
                "args": ["srv.py", "-v"],
                "env": [{"name": "SECRET", "value": SECRET}]}], second
        # During a turn: taken at once, the turn runs to its end, and
        # the agent is restarted after it.
        r = a.http("POST", "/v1/sessions/m1/messages", {"message": "slow"})
        assert r.status == 204, r.body
        wait_for(lambda: a.http("GET", "/v1/sessions/m1").json["state"]
            == "running", timeout=5, msg="the slow turn never ran")
        r = a.http("POST", "/v1/sessions/m1/config",
            {"mcp": {"late": LOCAL}, "model": None})
        assert r.status == 204, r.body
        ends = _turns_ended(a, "m1", 3)
        assert ends[2]["data"].get("stop_reason") == "end_turn", ends[2]
        r = a.http("POST", "/v1/sessions/m1/messages", {"message": "after"})
        assert r.status == 204, r.body
        _turns_ended(a, "m1", 4)
        third = _starts(dump, 3)[2]
        assert third["method"] == "session/load"
        assert third["pid"] != second["pid"], "not restarted after the turn"
        assert [m["name"] for m in third["params"]["mcpServers"]] == \
            ["late", "both", "dirsrv"], third
        # In the log: a config status item naming the servers, never
        # their env.
        evs = fetch_events(a, "m1")
        items = [e["data"]["item"] for e in evs
            if e["type"] == "item.completed"
            and e["data"]["item"]["kind"] == "status"
            and e["data"]["item"]["content"][0]["label"] == "config"]
        assert [i["content"][1]["json"] for i in items] == [
            {"mcp": ["both", "extra"]}, {"mcp": ["late"]}], items
        assert items[0]["content"][0]["detail"] == "mcp both extra", items
        raw = a.http("GET", "/v1/sessions/m1/events?include_raw=true").body
        assert b"o7" not in raw, "a server's env reached the log"
        # An agentd restart keeps them (session.json): the next start
        # has them.
        a.restart()
        r = a.http("POST", "/v1/sessions/m1/messages", {"message": "back"})
        assert r.status == 204, r.body
        fourth = _starts(dump, 4)[3]
        assert fourth["method"] == "session/load"
        assert [m["name"] for m in fourth["params"]["mcpServers"]] == \
            ["late", "both", "dirsrv"], fourth
        # An empty set removes them: the create's and the directory's
        # are left.
        r = a.http("POST", "/v1/sessions/m1/config", {"mcp": {}})
        assert r.status == 204, r.body
        r = a.http("POST", "/v1/sessions/m1/messages", {"message": "bare"})
        assert r.status == 204, r.body
        fifth = _starts(dump, 5)[4]
        assert fifth["params"]["mcpServers"][0] == created, fifth


def test_session_skills_reach_claude(ctx):
    """The session's own skills join the directory's in Claude's
    --add-dir, its servers in --mcp-config, set while no agent runs."""
    with _daemon(ctx) as (a, tmp, work):
        stub = os.path.join(tmp, "claude-stub.py")
        with open(stub, "w") as f:
            f.write(CLAUDE_STUB)
        skills = os.path.join(tmp, "skills")
        for n in ("mine", "theirs"):
            os.makedirs(os.path.join(skills, n))
            with open(os.path.join(skills, n, "SKILL.md"), "w") as f:
                f.write(f"---\nname: {n}\ndescription: {n}\n---\nbody\n")
        r = a.http("PUT", "/v1/config/skills?" + q(directory=work,
            skillName="dir"), {"sources": [{"type": "local",
            "source": skills, "skills": ["theirs"]}]})
        assert r.status == 204, r.body
        dump = os.path.join(tmp, "argv.json")
        r = a.http("POST", "/v1/sessions/c1", {"agent": "claude",
            "agentCommand": [sys.executable, stub], "cwd": work,
            "env": {"DUMP": dump}})
        assert r.status == 200, r.body
        # Its agent started at create, no turn yet: restarted at once
        # (a fresh start loses nothing).
        _wait_dump(dump)
        os.remove(dump)
        r = a.http("POST", "/v1/sessions/c1/config", {
            "skills": {"own": {"sources": [{"type": "local",
                "source": os.path.join(skills, "mine")}]}},
            "mcp": {"srv": LOCAL}})
        assert r.status == 204, r.body
        r = a.http("POST", "/v1/sessions/c1/messages", {"message": "hi"})
        assert r.status == 204, r.body
        out = _wait_dump(dump)
        assert sorted(out["skills"]) == ["mine", "theirs"], out
        assert list(out["mcp"]["mcpServers"]) == ["srv"], out


def test_session_mcp_refusals(ctx):
    with _daemon(ctx) as (a, tmp, work):
        dump = os.path.join(tmp, "starts.jsonl")
        _loader_session(a, tmp, work, "n1", dump, extra_env={"NOLOAD": "1"})
        cfg = "/v1/sessions/n1/config"
        for body, status, word in (
                ({"mcp": [{"name": "x", "command": "y"}]}, 400, "object"),
                ({"mcp": "x"}, 400, "object"),
                ({"mcp": {"bad name": LOCAL}}, 400, "bad name"),
                ({"mcp": {"x": {"type": "local"}}}, 400, "command"),
                ({"mcp": {"x": 5}}, 400, "object"),
                ({"skills": {"s": {}}}, 400, "sources"),
                ({"skills": {"s": {"sources": [{"type": "github",
                    "source": "o/r"}]}}}, 422, "github"),
                ({"mcp": {"x": LOCAL}, "colour": 1}, 400, "colour")):
            r = a.http("POST", cfg, body)
            problem(r, status)
            assert word in r.json["detail"], (body, r.json)
        # The agent runs and cannot load its session: 409, nothing kept.
        r = a.http("POST", "/v1/sessions/n1/messages", {"message": "hi"})
        assert r.status == 204, r.body
        _turns_ended(a, "n1", 1)
        r = a.http("POST", cfg, {"mcp": {"x": LOCAL}, "model": None})
        problem(r, 409)
        assert "cannot resume" in r.json["detail"], r.json
        items = [e for e in fetch_events(a, "n1")
            if e["type"] == "item.completed"
            and e["data"]["item"]["kind"] == "status"]
        assert items == [], items
        # With no agent running (after an agentd restart) it is taken:
        # the next start is a new one anyway.
        a.restart()
        r = a.http("POST", cfg, {"mcp": {"x": LOCAL}})
        assert r.status == 204, r.body
        r = a.http("POST", "/v1/sessions/n1/messages", {"message": "again"})
        assert r.status == 204, r.body
        second = _starts(dump, 2)[1]
        assert [m["name"] for m in second["params"]["mcpServers"]] == \
            ["x"], second
        # The WebSocket config command is the same.
        ws = a.ws("/v1/sessions/n1/events/ws?offset=0")
        rep = ws.request({"type": "config", "id": "c1", "mcp": []})
        assert rep["status"] == 400 and "object" in rep["error"], rep
        ws.close()
