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

from agentd import problem, wait_for

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


LOCAL = {"type": "local", "command": "python3", "args": ["srv.py", "-v"],
    "env": {"SECRET": "s3"}, "enabled": True, "timeoutMs": 5000}
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
                "env": [{"name": "SECRET", "value": "s3"}]},
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
        assert "s3" not in " ".join(argv)
        assert os.stat(cfg).st_mode & 0o777 == 0o600
        assert out["mcp"] == {"mcpServers": {"dirsrv": {"type": "stdio",
            "command": "python3", "args": ["srv.py", "-v"],
            "env": {"SECRET": "s3"}}}}, out["mcp"]
        assert sorted(out["skills"]) == ["count", "greet"], out
        assert "name: greet" in out["skills"]["greet"]
        # Deleted with the session: the folder agentd made, not the skills.
        r = a.http("DELETE", "/v1/sessions/c1")
        assert r.status in (200, 204), r.body
        wait_for(lambda: not os.path.exists(cfg), timeout=5,
            msg="the launch folder outlived its session")
        assert os.path.exists(os.path.join(skills, "greet", "SKILL.md"))
