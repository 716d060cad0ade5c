"""Issue 16: credentials, agent homes on the data dir's volume.

The built-in mock agent keeps its sessions under its HOME when
AGENTD_MOCK_STORE=1 (~/.agentd-mock/sessions/<id>.jsonl), refuses a
session/load for another cwd and answers "recall" with the prompts it
kept: a session resumed natively answers with what was said before.
"""

import json
import os
import shutil
import stat

from agentd import Agentd, check_contiguous, fetch_events, wait_for

SECRET_ENV = "sk-env-7f3a9c2e1d4b-SECRET"
SECRET_TOKEN = "oat-token-5b8e2a0c9f17-SECRET"
SECRET_FILE = "refresh-4c1d7e9a3b62-SECRET"


def _create(a, sid, body, status=200):
    r = a.http("POST", f"/v1/sessions/{sid}", body)
    assert r.status == status, f"create: {r.status} {r.body[:300]!r}"
    return r


def _turn(a, sid, text, n):
    r = a.http("POST", f"/v1/sessions/{sid}/messages", {"message": text})
    assert r.status == 204, f"message: {r.status} {r.body[:300]!r}"

    def done():
        evs = fetch_events(a, sid)
        ends = [e for e in evs if e["type"] == "turn.ended"]
        return evs if len(ends) >= n else None
    return wait_for(done, 10, 0.05, f"turn {n} did not end")


def _reply(events, after=0):
    """The assistant text of the events after sequence `after`."""
    items = {}
    out = []
    for e in events:
        if e["sequence"] <= after:
            continue
        if e["type"] == "item.started":
            items[e["data"]["item"]["item_id"]] = e["data"]["item"]
        elif e["type"] == "item.delta":
            it = items.get(e["data"]["item_id"], {})
            if it.get("role") == "assistant" and it.get("kind") == "message":
                out.append(e["data"]["delta"])
    return "".join(out)


def _environ(pid):
    with open(f"/proc/{pid}/environ", "rb") as f:
        return dict(x.split(b"=", 1) for x in f.read().split(b"\0") if b"=" in x)


def _agent_pid(a, sid):
    """The agent's pid, once it has exec'd (before, /proc shows agentd's
    own environment in the forked child)."""
    pid = wait_for(lambda: a.http("GET", f"/v1/sessions/{sid}").json.get(
        "pid"), 5, 0.05, "no agent pid")

    def execd():
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"mock-agent" in f.read()
    wait_for(execd, 5, 0.01, "the agent did not exec")
    return pid


def _grep_tree(root, needles):
    """Paths under root whose bytes hold one of needles."""
    hits = []
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            try:
                with open(p, "rb") as fh:
                    data = fh.read()
            except OSError:
                continue
            if any(n.encode() in data for n in needles):
                hits.append(p)
    return hits


SECRETS = (SECRET_ENV, SECRET_TOKEN, SECRET_FILE)


def _no_secret(text, where):
    for s in SECRETS:
        assert s not in text, f"a secret is in {where}"


def test_credentials_reach_only_their_agent(ctx):
    """Variables go into this agent's environment only; answers, logs and
    another agent's /proc environ never hold them."""
    with ctx.agentd() as a:
        r = _create(a, "c1", {"agent": "mock", "credentials": {
            "MY_API_KEY": SECRET_ENV, "claudeOAuthToken": SECRET_TOKEN}})
        _no_secret(r.body.decode(), "the create answer")
        assert sorted(r.json["credentials"]) == ["MY_API_KEY",
            "claudeOAuthToken"], r.json
        _create(a, "c2", {"agent": "mock"})
        env1 = _environ(_agent_pid(a, "c1"))
        assert env1.get(b"MY_API_KEY") == SECRET_ENV.encode()
        assert env1.get(b"CLAUDE_CODE_OAUTH_TOKEN") == SECRET_TOKEN.encode()
        env2 = _environ(_agent_pid(a, "c2"))
        assert not any(s.encode() in b"".join(env2.values())
            for s in SECRETS), "the other agent got a secret"
        _turn(a, "c1", "hello", 1)
        for path in ("/v1/sessions", "/v1/sessions/c1", "/v1/sessions/c1/events",
                "/v1/sessions/c1/events?include_raw=true", "/v1/metrics",
                "/v1/agents"):
            r = a.http("GET", path)
            _no_secret(r.body.decode("utf-8", "replace"), f"GET {path}")
        # A bad create carries its secret back in no problem detail.
        r = _create(a, "c3", {"agent": "mock", "home": "shared",
            "credentials": {"codexAuthJson": {"t": SECRET_FILE}}}, 400)
        _no_secret(r.body.decode(), "a 400 problem")
        a.restart()     # the secrets survive in session.json (0600)
        _turn(a, "c1", "again", 2)
        env1 = _environ(_agent_pid(a, "c1"))
        assert env1.get(b"MY_API_KEY") == SECRET_ENV.encode()
        meta = os.path.join(a.data_dir, "sessions", "c1", "session.json")
        assert stat.S_IMODE(os.stat(meta).st_mode) == 0o600
        assert a.http("DELETE", "/v1/sessions/c1").status == 204
        a.stop()
        _no_secret(a.stderr_text(), "agentd's log")
        assert _grep_tree(a.data_dir, SECRETS) == [], \
            f"secrets on disk after delete: {_grep_tree(a.data_dir, SECRETS)}"


def test_credential_files_in_a_private_home(ctx):
    """A file credential lands 0600 in the session's own home (chosen for
    it), which goes with the session."""
    auth = {"tokens": {"refresh_token": SECRET_FILE}, "OPENAI_API_KEY": None}
    with ctx.agentd() as a:
        r = _create(a, "f1", {"agent": "mock", "credentials": {
            "codexAuthJson": auth, "claudeCredentialsJson": json.dumps(
                {"claudeAiOauth": {"accessToken": SECRET_TOKEN}})}})
        home = os.path.join(a.data_dir, "homes", "f1")
        assert r.json["home"] == "session", r.json
        assert os.path.realpath(r.json["agentHome"]) == os.path.realpath(home)
        path = os.path.join(home, ".codex", "auth.json")
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
        assert stat.S_IMODE(os.stat(home).st_mode) == 0o700
        with open(path) as f:
            assert json.load(f) == auth
        with open(os.path.join(home, ".claude", ".credentials.json")) as f:
            assert SECRET_TOKEN in f.read()
        env = _environ(_agent_pid(a, "f1"))
        real = os.path.realpath(home).encode()
        assert env[b"HOME"] == real and \
            env[b"CODEX_HOME"] == real + b"/.codex" and \
            env[b"CLAUDE_CONFIG_DIR"] == real + b"/.claude", env
        # An agent that rewrote its file keeps it across a restart.
        with open(path, "w") as f:
            f.write('{"refreshed": true}')
        a.restart()
        _turn(a, "f1", "hello", 1)
        with open(path) as f:
            assert json.load(f) == {"refreshed": True}
        assert a.http("DELETE", "/v1/sessions/f1").status == 204
        wait_for(lambda: not os.path.exists(home), 10, 0.05,
            "the session's home outlived its delete")
        assert _grep_tree(a.data_dir, SECRETS) == []


def test_credentials_refused(ctx):
    with ctx.agentd() as a:
        for body, why in [
            ({"credentials": "x"}, "must be an object"),
            ({"credentials": {"bad-name": "x"}}, "neither a known kind"),
            ({"credentials": {"K": 1}}, "must be a string"),
            ({"credentials": {"codexAuthJson": 1}}, "JSON object"),
            ({"credentials": {"K": "x"}, "env": {"K": "y"}}, "both"),
            ({"credentials": {"HOME": "x"}}, "HOME"),
            ({"credentials": {"codexAuthJson": {}}, "home": "none"},
                "own agent home"),
            ({"home": "session", "env": {"CODEX_HOME": "/x"}}, "CODEX_HOME"),
            ({"home": "attic"}, "'home' must be"),
            ({"credentials": {"K": "x" * 70000}}, "over"),
        ]:
            body["agent"] = "mock"
            r = _create(a, "r1", body, 400)
            assert why in r.json["detail"], (body, r.json)
        assert not os.path.exists(os.path.join(a.data_dir, "homes", "r1"))
        assert not os.path.exists(os.path.join(a.data_dir, "sessions", "r1"))


def test_home_layout_env(ctx):
    """A shared home for one session, --agent-home for the daemon's."""
    with ctx.agentd(extra_args=["--agent-home", "shared"]) as a:
        r = _create(a, "h1", {"agent": "mock"})
        assert r.json["home"] == "shared"
        shared = os.path.realpath(os.path.join(a.data_dir, "home"))
        env = _environ(_agent_pid(a, "h1"))
        assert env[b"HOME"] == shared.encode()
        assert env[b"XDG_DATA_HOME"] == (shared + "/.local/share").encode()
        assert env[b"PI_CODING_AGENT_DIR"] == (shared + "/.pi/agent").encode()
        r = _create(a, "h2", {"agent": "mock", "home": "none"})
        env = _environ(_agent_pid(a, "h2"))
        assert env.get(b"HOME") == os.environ.get("HOME", "").encode()
        assert "agentHome" not in r.json
        # Deleting a shared-home session leaves the shared home.
        assert a.http("DELETE", "/v1/sessions/h1").status == 204
        assert os.path.isdir(shared)


def _volume_turn1(a, sid, home, cwd):
    _create(a, sid, {"agent": "mock", "home": home, "cwd": cwd,
        "env": {"AGENTD_MOCK_STORE": "1"}})
    evs = _turn(a, sid, "remember the tangerine", 1)
    return evs[-1]["sequence"]


def test_volume_moves_to_a_new_sandbox(ctx):
    """Only the data dir survives: it is mounted elsewhere in a new
    sandbox (another path, agentd with another HOME), and the next message
    resumes each agent from its own store on that volume."""
    tmp = ctx.agentd(start=False)
    cwd = os.path.join(tmp.tmp, "work")
    os.makedirs(cwd)
    old = os.path.join(tmp.tmp, "vol-a")
    a = ctx.agentd(data_dir=old, env={"HOME": os.path.join(tmp.tmp, "ha")})
    try:
        last = {sid: _volume_turn1(a, sid, mode, cwd)
            for sid, mode in (("v-own", "session"), ("v-shared", "shared"))}
        a.stop()
    finally:
        a.cleanup()
    new = os.path.join(tmp.tmp, "mnt", "vol-b")
    os.makedirs(os.path.dirname(new))
    shutil.move(old, new)
    b = ctx.agentd(data_dir=new, env={"HOME": os.path.join(tmp.tmp, "hb")})
    try:
        for sid in last:
            evs = _turn(b, sid, "recall", 2)
            check_contiguous(evs)
            assert "tangerine" in _reply(evs, last[sid]), \
                (sid, _reply(evs, last[sid]), [e for e in evs
                    if e["type"] == "error"])
            assert not [e for e in evs if e["type"] == "error"]
    finally:
        b.cleanup()
        tmp.cleanup()


def test_homes_kept_and_swept(ctx):
    """A home made ready before its create stays across a restart; the
    home of a session deleted while its agent ran, marked, goes."""
    a = ctx.agentd(start=False)
    try:
        ready = os.path.join(a.data_dir, "homes", "later")
        os.makedirs(os.path.join(ready, ".codex"))
        with open(os.path.join(ready, ".codex", "config.toml"), "w") as f:
            f.write("model = 'x'\n")
        gone = os.path.join(a.data_dir, "homes", "gone")
        os.makedirs(gone)
        open(os.path.join(gone, ".agentd-deleted"), "w").close()
        a.start()
        assert os.path.exists(os.path.join(ready, ".codex", "config.toml"))
        assert not os.path.exists(gone)
        r = _create(a, "later", {"agent": "mock", "home": "session"})
        assert os.path.exists(os.path.join(ready, ".codex", "config.toml"))
        assert a.http("DELETE", "/v1/sessions/later").status == 204
        wait_for(lambda: not os.path.exists(ready), 10, 0.05,
            "the home outlived the delete")
    finally:
        a.cleanup()
