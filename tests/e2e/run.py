#!/usr/bin/env python3
"""make e2e / make fixtures: the real agent CLIs through agentd.

    run.py --agentd build/agentd [--agents claude,codex] [-k scenario]
           [--record]

Starts tests/mockmodel/server.py on a free loopback port and one agentd;
for every agent and scenario, creates a session whose environment points
the CLI at the mock model (tests/e2e/agentenv.py) in a fresh working
directory, drives the scenario over the public API (scenarios.py) and
checks the outcome: the file on disk, the permission round trip, cancel,
errors, and the invariants of the universal stream. After the scenarios,
each agent is checked to resume its native session across an agentd
restart.

With --record, agentd runs with --record and every scenario's transcript
and universal stream are saved as tests/fixtures/<agent>/<scenario>.jsonl
and .golden.jsonl, which the golden tests of `make test` replay.

Ends with "N passed, M failed". Exits 0 with a "skipped" line when the
CLIs are not installed and cannot be (no npm registry).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, HERE)

from agentd import Agentd, fetch_events  # noqa: E402
import agentenv  # noqa: E402
import scenarios  # noqa: E402

FIXTURES = os.path.join(ROOT, "tests", "fixtures")


class MockModel:
    def __init__(self, log):
        self.proc = subprocess.Popen([sys.executable,
            os.path.join(ROOT, "tests", "mockmodel", "server.py"),
            "--port", "0", "--log", log], stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().split()
        assert line[:1] == ["listening"], f"mock model: {line}"
        self.url = f"http://127.0.0.1:{line[1]}"

    def stop(self):
        self.proc.terminate()
        self.proc.wait(5)


def agent_installed(agent):
    path = agentenv.agent_bin(agent)
    return path if path and os.path.exists(path) else None


def agentd_spec(agent, scenario=None):
    """How an e2e agent is created in agentd: (agent id, agentCommand,
    model, permissionMode). The ACP adapters for Claude and Codex run as
    the generic acp agent; the others are profiles of their own, given the
    installed binary's path. codex-acp's default mode never asks: its
    "read-only" mode (an ACP mode, set by agentd) does."""
    path = agent_installed(agent)
    extra = agentenv.AGENT_ARGS.get(agent, [])
    if agent == "codex-acp":
        # Its read-only mode asks before writes but runs no shell at all.
        ro = scenario is not None and scenario.name.startswith("write")
        return "acp", [path], None, "read-only" if ro else None
    if agent == "claude-agent-acp":
        return "acp", [path], None, None
    if agent == "opencode":
        return agent, [path, "acp"] + extra, None, None
    if agent == "gemini":
        return agent, [path, "--acp"] + extra, None, None
    if agent == "pi":
        return agent, [path], "mock/mock-model", None
    return agent, [path] + extra, None, None


# Agents that ask no permission on their own (their tools just run).
NO_PERMISSIONS = {"pi"}

# Agents whose CLI cannot resume here, and why (agentd asks; the agent
# refuses, and agentd falls back to a new session with an error event).
# Gemini 0.61.0 could not within the minute its session began; agentd
# works round that (supervisor/session/native.c).
NO_RESUME = {}


def session_env(agent, mock, tmp, cwd):
    home = os.path.join(tmp, "home")
    os.makedirs(home, exist_ok=True)
    env, _ = agentenv.agent_env(agent, mock.url, home, cwd)
    bindir = os.path.dirname(agent_installed(agent))
    env["PATH"] = bindir + ":" + env.get("PATH", os.environ["PATH"])
    return env


def save_fixture(agentd, sid, agent, scenario, run, model, mode):
    src = os.path.join(agentd.record_dir, f"{sid}.jsonl")
    dst_dir = os.path.join(FIXTURES, agent)
    os.makedirs(dst_dir, exist_ok=True)
    with open(src) as f:
        lines = f.read().splitlines()
    head = json.loads(lines[0])
    head["scenario"] = scenario.name
    head["agent_version"] = run.events[0]["data"]["metadata"].get(
        "agentVersion") if run.events and run.events[0]["type"] == \
        "session.started" else None
    head["argv"] = [os.path.basename(head["argv"][0])] + head["argv"][1:]
    head["tmp"] = os.path.dirname(run.cwd)
    # What the replay must create the session with to get the same
    # conversation (a mode changes the handshake).
    head["session"] = {k: v for k, v in (("model", model),
        ("permissionMode", mode)) if v}
    with open(os.path.join(dst_dir, scenario.name + ".jsonl"), "w") as f:
        f.write(json.dumps(head) + "\n")
        for line in lines[1:]:
            f.write(line + "\n")
    golden = scenarios.normalise(run.events, [os.path.dirname(run.cwd)])
    with open(os.path.join(dst_dir, scenario.name + ".golden.jsonl"),
            "w") as f:
        for e in golden:
            f.write(json.dumps(e, sort_keys=True) + "\n")


# Scenarios whose Claude transcript holds no control request: Amp, which
# has no control channel, could have said the same.
AMP_SCENARIOS = ("hello", "error400")


def derive_amp(agentd):
    """Amp's model runs behind ampcode.com, so no mock can record it. Its
    stream-json is Claude Code's without partial messages and without the
    control channel: its fixtures are the Claude recordings with those
    lines taken out, and their golden streams are what agentd makes of
    them (a regression baseline, recorded the same way)."""
    src_dir = os.path.join(FIXTURES, "claude")
    dst_dir = os.path.join(FIXTURES, "amp")
    os.makedirs(dst_dir, exist_ok=True)
    for name in AMP_SCENARIOS:
        src = os.path.join(src_dir, name + ".jsonl")
        if not os.path.exists(src):
            continue
        with open(src) as f:
            lines = [json.loads(x) for x in f]
        head = lines[0]
        head.update(agent="amp", derived_from="claude/" + name + ".jsonl",
            argv=["amp", "-x", "--stream-json", "--stream-json-input"])
        keep = [head]
        for e in lines[1:]:
            if e.get("d") in ("<", ">"):
                t = json.loads(e["l"]).get("type")
                if t in ("stream_event", "control_request",
                        "control_response"):
                    continue
            keep.append(e)
        dst = os.path.join(dst_dir, name + ".jsonl")
        with open(dst, "w") as f:
            for e in keep:
                f.write(json.dumps(e) + "\n")
        tmp = tempfile.mkdtemp(prefix="agentd-e2e-amp-")
        cwd = os.path.join(tmp, "work")
        os.makedirs(cwd)
        try:
            sid = f"amp-{name}"
            scenarios.create(agentd, sid, "amp", cwd,
                agent_command=["@self", "replay-agent", dst])
            run = scenarios.drive(agentd, sid, scenarios.by_name(name), cwd)
            scenarios.check_invariants(run)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        golden = scenarios.normalise(run.events, [tmp, head["tmp"]])
        with open(os.path.join(dst_dir, name + ".golden.jsonl"), "w") as f:
            for e in golden:
                f.write(json.dumps(e, sort_keys=True) + "\n")
        print(f"ok - amp::{name} (derived from claude/{name}.jsonl)")


def run_one(agentd, mock, agent, sc, n, record):
    tmp = tempfile.mkdtemp(prefix=f"agentd-e2e-{agent}-")
    cwd = os.path.join(tmp, "work")
    os.makedirs(cwd)
    try:
        sid = f"{agent}-{sc.name}-{n}"
        aid, command, model, mode = agentd_spec(agent, sc)
        scenarios.create(agentd, sid, aid, cwd,
            env=session_env(agent, mock, tmp, cwd), agent_command=command,
            model=model, permission_mode=mode)
        run = scenarios.drive(agentd, sid, sc, cwd)
        scenarios.check_invariants(run)
        if sc.check:
            sc.check(run)
        agentd.http("POST", f"/v1/sessions/{sid}/terminate")
        if record:
            time.sleep(0.3)     # let the recording see the agent exit
            save_fixture(agentd, sid, agent, sc, run, model, mode)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def model_requests(mock):
    """The mock model's request log, then cleared."""
    with urllib.request.urlopen(mock.url + "/_mock/requests") as r:
        log = json.load(r)
    urllib.request.urlopen(urllib.request.Request(mock.url + "/_mock/reset",
        method="POST")).read()
    return log


def check_history(mock, agent):
    """The model's last request of turn 2 carried turn 1: at least two
    messages more than the first request of turn 1 (the mock counts the
    conversation's entries it was sent, system prompts aside)."""
    # Side requests (OpenCode's title) offer no tools: only the agent's
    # own loop counts.
    turns = [r for r in model_requests(mock) if r.get("scenario") and
        r.get("messages") is not None and r.get("tools")]
    assert len(turns) >= 2, f"{agent}: {len(turns)} model requests"
    first, last = turns[0]["messages"], turns[-1]["messages"]
    if os.environ.get("E2E_DEBUG"):
        print(json.dumps(turns, indent=1)[:6000])
    assert last >= first + 2, \
        f"{agent}: turn 2 sent {last} messages, turn 1 {first}: " \
        "the history of turn 1 did not reach the model"


def run_resume(agentd, mock, agent):
    """Two turns with an agentd restart between: the same native session."""
    tmp = tempfile.mkdtemp(prefix=f"agentd-e2e-{agent}-")
    cwd = os.path.join(tmp, "work")
    os.makedirs(cwd)
    try:
        sid = f"{agent}-resume"
        model_requests(mock)
        aid, command, model, mode = agentd_spec(agent)
        scenarios.create(agentd, sid, aid, cwd,
            env=session_env(agent, mock, tmp, cwd), agent_command=command,
            model=model, permission_mode=mode)
        first = scenarios.drive(agentd, sid, scenarios.by_name("hello"), cwd)
        native = agentd.http("GET", f"/v1/sessions/{sid}").json.get(
            "nativeSessionId")
        assert native, "no native session id after the first turn"
        agentd.restart()
        offset = first.events[-1]["sequence"]
        second = scenarios.drive(agentd, sid, scenarios.by_name("hello"),
            cwd, offset=offset)
        scenarios.check_invariants(second)
        info = agentd.http("GET", f"/v1/sessions/{sid}").json
        assert info.get("nativeSessionId") == native, \
            f"resumed as {info.get('nativeSessionId')}, was {native}"
        assert second.turn_end().get("stop_reason") == "end_turn"
        assert not second.of("error"), second.of("error")
        check_history(mock, agent)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# The agents whose sessions move to another sandbox (volume, export).
MOVABLE = ("claude", "codex", "opencode", "gemini", "pi")

# What agentd sets itself for a session with its own agent home
# (supervisor/session/home.c); a request's env may not.
HOME_VARS = {"HOME", "CLAUDE_CONFIG_DIR", "CODEX_HOME", "XDG_CONFIG_HOME",
    "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "GEMINI_CLI_HOME",
    "PI_CODING_AGENT_DIR"}


def home_env(agent, mock, home, cwd):
    """A session with "home": "session": agentenv's config files written
    into the home agentd will give the agent (made before the create),
    and its variables less those agentd sets."""
    env, _ = agentenv.agent_env(agent, mock.url, home, cwd)
    bindir = os.path.dirname(agent_installed(agent))
    env["PATH"] = bindir + ":" + env.get("PATH", os.environ["PATH"])
    return {k: v for k, v in env.items() if k not in HOME_VARS}


def remove_tree(path):
    """rm -rf, through an agent still removing its own files as it exits."""
    for _ in range(20):
        shutil.rmtree(path, ignore_errors=True)
        if not os.path.exists(path):
            return
        time.sleep(0.25)
    raise AssertionError(f"{path} could not be removed")


def tar_dir(path, archive):
    subprocess.run(["tar", "-C", path, "-cf", archive, "."], check=True)


def untar_dir(archive, path):
    os.makedirs(path)
    subprocess.run(["tar", "-C", path, "-xf", archive], check=True)


def check_moved(agentd, mock, agent, sid, first, cwd):
    """Turn 2 on the new agentd: the agent resumed natively (no error, the
    model saw turn 1), and the log holds both turns, 1..N without a gap."""
    offset = first.events[-1]["sequence"]
    second = scenarios.drive(agentd, sid, scenarios.by_name("hello"), cwd,
        offset=offset)
    scenarios.check_invariants(second)
    assert not second.of("error"), second.of("error")
    assert second.turn_end().get("stop_reason") == "end_turn"
    events = fetch_events(agentd, sid)
    seqs = [e["sequence"] for e in events]
    assert seqs == list(range(1, len(seqs) + 1)), "gap in the log"
    assert [e["type"] for e in events].count("turn.ended") == 2
    check_history(mock, agent)


def run_volume(binary, mock, agent):
    """The volume layout: turn 1 on agentd A with the agent's home on A's
    data dir; A, its HOME and the workspace go (the workspace comes back
    from a tar at its path); the data dir is mounted elsewhere and agentd
    B, with another HOME, starts on it; turn 2 resumes natively."""
    tmp = tempfile.mkdtemp(prefix=f"agentd-e2e-{agent}-vol-")
    cwd = os.path.join(tmp, "work")
    os.makedirs(cwd)
    vol_a = os.path.join(tmp, "a", "data")
    sid = f"{agent}-volume"
    a = b = None
    try:
        model_requests(mock)
        aid, command, model, mode = agentd_spec(agent)
        env = home_env(agent, mock, os.path.join(vol_a, "homes", sid), cwd)
        a = Agentd(binary, data_dir=vol_a, log_level="info",
            env={"HOME": os.path.join(tmp, "a", "home")})
        scenarios.create(a, sid, aid, cwd, env=env, agent_command=command,
            model=model, permission_mode=mode, home="session")
        first = scenarios.drive(a, sid, scenarios.by_name("hello"), cwd)
        scenarios.check_invariants(first)
        assert not first.of("error"), first.of("error")
        assert first.turn_end().get("stop_reason") == "end_turn"
        a.stop()
        time.sleep(1)       # the agent's own exit after agentd's
        tar_dir(cwd, os.path.join(tmp, "work.tar"))
        shutil.rmtree(cwd)
        vol_b = os.path.join(tmp, "b", "mnt", "data")
        os.makedirs(os.path.dirname(vol_b))
        shutil.move(vol_a, vol_b)
        remove_tree(os.path.join(tmp, "a"))
        untar_dir(os.path.join(tmp, "work.tar"), cwd)
        b = Agentd(binary, data_dir=vol_b, log_level="info",
            env={"HOME": os.path.join(tmp, "b", "home")})
        if os.environ.get("E2E_DEBUG"):
            for e in fetch_events(b, sid):
                print(e["sequence"], e["type"], json.dumps(e["data"])[:300])
            print(b.stderr_text()[-3000:])
        check_moved(b, mock, agent, sid, first, cwd)
    finally:
        for d in (a, b):
            if d is not None:
                d.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


def http_raw(agentd, method, path, body=None, ctype=None):
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", agentd.port, timeout=120)
    try:
        c.request(method, path, body=body,
            headers={"Content-Type": ctype} if ctype else {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def run_export(binary, mock, agent):
    """Export and import: turn 1 on agentd A; the session exported (with
    its credentials: the env points the CLI at the mock); A, its data dir
    and its HOME deleted; the workspace recreated from a tar at another
    path; the archive imported into agentd B (another data dir, another
    HOME) with that cwd; turn 2 resumes natively."""
    tmp = tempfile.mkdtemp(prefix=f"agentd-e2e-{agent}-exp-")
    cwd_a = os.path.join(tmp, "a", "work")
    os.makedirs(cwd_a)
    sid = f"{agent}-export"
    a = b = None
    try:
        model_requests(mock)
        aid, command, model, mode = agentd_spec(agent)
        data_a = os.path.join(tmp, "a", "data")
        env = home_env(agent, mock, os.path.join(data_a, "homes", sid), cwd_a)
        a = Agentd(binary, data_dir=data_a, log_level="info",
            env={"HOME": os.path.join(tmp, "a", "home")})
        scenarios.create(a, sid, aid, cwd_a, env=env, agent_command=command,
            model=model, permission_mode=mode, home="session")
        first = scenarios.drive(a, sid, scenarios.by_name("hello"), cwd_a)
        assert not first.of("error"), first.of("error")
        assert first.turn_end().get("stop_reason") == "end_turn"
        st, archive = http_raw(a, "GET",
            f"/v1/sessions/{sid}/export?credentials=true")
        assert st == 200, (st, archive[:300])
        a.stop()
        a.cleanup()
        a = None
        time.sleep(1)       # the agent's own exit after agentd's
        tar_dir(cwd_a, os.path.join(tmp, "work.tar"))
        remove_tree(os.path.join(tmp, "a"))
        cwd_b = os.path.join(tmp, "b", "workspace")
        untar_dir(os.path.join(tmp, "work.tar"), cwd_b)
        b = Agentd(binary, data_dir=os.path.join(tmp, "b", "data"),
            log_level="info", env={"HOME": os.path.join(tmp, "b", "home")})
        st, body = http_raw(b, "POST", f"/v1/sessions/import?cwd={cwd_b}",
            archive, "application/x-tar")
        assert st == 200, (st, body[:400])
        if os.environ.get("E2E_DEBUG"):
            print(body.decode()[:2000])
        check_moved(b, mock, agent, sid, first, cwd_b)
    finally:
        for d in (a, b):
            if d is not None:
                d.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


# Live config (issue 15), per agent: the model to change to (and what the
# mock model must then be asked for), a mode in which a write runs without
# asking, and a stricter one in which it asks. None: the agent has no modes.
CONFIG = {
    "claude": ("claude-sonnet-4-5", "claude-sonnet-4-5", "acceptEdits",
        "default"),
    "codex": ("gpt-5.4", "gpt-5.4", "bypassPermissions", "default"),
    "codex-acp": ("gpt-6-luna", "gpt-6-luna", "agent", "read-only"),
    "pi": ("mock/mock-model-2", "mock-model-2", None, None),
}


def mock_requests(mock):
    import urllib.request
    with urllib.request.urlopen(mock.url + "/_mock/requests") as r:
        return [e for e in json.load(r) if e.get("api")]


def mock_reset(mock):
    import urllib.request
    req = urllib.request.Request(mock.url + "/_mock/reset", data=b"{}",
        method="POST", headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req).close()


def run_config(agentd, mock, agent):
    """A change to a stricter mode makes the next write ask permission; a
    model change during a session is the model of the next request the
    mock model gets (the mode first: some agents give a model they do not
    know from their config no tools). The mock model's request log is
    shared: the test reads only what its own turn made."""
    model, sent_model, lenient, strict = CONFIG[agent]
    tmp = tempfile.mkdtemp(prefix=f"agentd-e2e-{agent}-config-")
    cwd = os.path.join(tmp, "work")
    os.makedirs(cwd)
    sid = f"{agent}-config"
    try:
        aid, command, start_model, mode = agentd_spec(agent)
        scenarios.create(agentd, sid, aid, cwd,
            env=session_env(agent, mock, tmp, cwd), agent_command=command,
            model=start_model, permission_mode=lenient or mode)
        offset = 0
        if lenient is not None:
            write = scenarios.by_name("write")
            run = scenarios.drive(agentd, sid, write, cwd)
            assert not run.of("permission.requested"), \
                f"{lenient} asked: {run.of('permission.requested')}"
            write.check(run)
            os.remove(os.path.join(cwd, "hello.txt"))
            _config(agentd, sid, {"mode": strict})
            run = scenarios.drive(agentd, sid, write, cwd,
                offset=run.events[-1]["sequence"])
            scenarios.check_invariants(run)
            assert run.of("permission.requested"), \
                f"{strict} did not ask before the write: {run.types()}"
            write.check(run)
            offset = run.events[-1]["sequence"]
        else:
            r = agentd.http("POST", f"/v1/sessions/{sid}/config",
                {"mode": "plan"})
            assert r.status == 409, f"{agent} has no modes: {r.status}"
        _config(agentd, sid, {"model": model})
        mock_reset(mock)
        run = scenarios.drive(agentd, sid, scenarios.by_name("hello"), cwd,
            offset=offset)
        scenarios.check_invariants(run)
        # The turn's own requests (an agent may also ask for a title or a
        # compaction with another model: codex-acp does).
        asked = {e.get("model") for e in mock_requests(mock)
            if e.get("prompt") == "hello"}
        assert asked == {sent_model}, \
            f"after the change the mock model was asked for {asked}"
        changes = [e["data"]["item"]["content"][1]["json"]
            for e in agentd.http("GET", f"/v1/sessions/{sid}/events"
                "?limit=10000").json["events"]
            if e["type"] == "item.completed" and
            e["data"]["item"]["kind"] == "status" and
            e["data"]["item"]["content"][0]["label"] == "config"]
        want = ([{"mode": strict}] if lenient else []) + [{"model": model}]
        assert changes == want, f"the log has {changes}"
        info = agentd.http("GET", f"/v1/sessions/{sid}").json
        assert info["model"] == model, info
        assert lenient is None or info["permissionMode"] == strict, info
        if agent in ("claude", "codex"):
            # the models the CLI tells (Claude's initialize, Codex's
            # model/list)
            ids = [c["id"] for c in
                info["options"]["model"].get("available", [])]
            assert len(ids) > 1, f"{agent} told the models {ids}"
            assert info["options"]["model"]["current"], info["options"]
    finally:
        agentd.http("POST", f"/v1/sessions/{sid}/terminate")
        shutil.rmtree(tmp, ignore_errors=True)


# A 1x1 PNG, attached inline (base64) or as a file in the cwd.
PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9Q"
    "DwADhgGAWjR9awAAAABJRU5ErkJggg==")

# Agents whose image attachment is checked to reach the mock model.
IMAGES = ("claude", "codex", "codex-acp", "claude-agent-acp", "pi")


def run_image(agentd, mock, agent):
    """An attached image (inline, then by path) reaches the mock model as
    an image in the request, and the user's item records it."""
    import base64
    tmp = tempfile.mkdtemp(prefix=f"agentd-e2e-{agent}-image-")
    cwd = os.path.join(tmp, "work")
    os.makedirs(cwd)
    with open(os.path.join(cwd, "dot.png"), "wb") as f:
        f.write(base64.b64decode(PNG))
    sid = f"{agent}-image"
    try:
        aid, command, model, mode = agentd_spec(agent)
        scenarios.create(agentd, sid, aid, cwd,
            env=session_env(agent, mock, tmp, cwd), agent_command=command,
            model=model, permission_mode=mode)
        offset = images = 0
        for att in ({"data": PNG, "mime": "image/png"}, {"path": "dot.png"}):
            mock_reset(mock)
            ws = agentd.ws(f"/v1/sessions/{sid}/events/ws?offset={offset}")
            try:
                rep = ws.request({"type": "message", "message": "hello",
                    "attachments": [att]})
                assert rep["status"] == 204, rep
                evs = []
                while not evs or evs[-1]["type"] != "turn.ended":
                    ev = ws.next_event(timeout=60)
                    assert ev is not None, "stream closed"
                    evs.append(ev)
            finally:
                ws.close()
            offset = evs[-1]["sequence"]
            assert evs[-1]["data"].get("stop_reason") == "end_turn", evs[-1]
            user = [e["data"]["item"] for e in evs
                if e["type"] == "item.completed" and
                e["data"]["item"]["role"] == "user"][0]
            assert [p["type"] for p in user["content"]] == ["text", "image"], \
                user
            # The turn's requests hold one image more than the last turn's
            # (the conversation so far is sent again with each request).
            seen = max([e.get("images") or 0 for e in mock_requests(mock)],
                default=0)
            assert seen > images, \
                f"{att.get('path', 'inline')}: the model got {seen} " \
                f"image(s), {images} before"
            images = seen
    finally:
        agentd.http("POST", f"/v1/sessions/{sid}/terminate")
        shutil.rmtree(tmp, ignore_errors=True)


# Agents whose session is checked to call a directory's MCP server, and
# (SKILLS) to show the model a directory's skill.
MCP = ("claude", "codex", "claude-agent-acp", "opencode")
SKILLS = ("claude",)
MCP_SERVER = os.path.join(HERE, "mcp_server.py")
# The model an agent's session runs with in the mcp test. Codex 0.169
# shows a model whose catalog entry supports search (its default,
# gpt-5.5) MCP tools only through its client-side tool_search, which the
# mock model does not speak; with gpt-4.1 it lists them up front.
MCP_MODEL = {"codex": "gpt-4.1"}
SKILL = "agentd-skill-greeter"


def _put_config(agentd, kind, cwd, name, body):
    from urllib.parse import urlencode
    arg = "mcpName" if kind == "mcp" else "skillName"
    r = agentd.http("PUT", f"/v1/config/{kind}?" + urlencode(
        {"directory": cwd, arg: name}), body)
    assert r.status == 204, f"PUT {kind}: {r.status} {r.body[:300]!r}"


def run_mcp(agentd, mock, agent):
    """MCP servers and skills set for a directory (PUT /v1/config/...)
    reach a session started there: the mock model asks for the stdio MCP
    server's tool (tests/e2e/mcp_server.py), the real agent calls it and
    its answer comes back in a tool_result item; the skill folder's name
    is in what Claude sends the model."""
    tmp = tempfile.mkdtemp(prefix=f"agentd-e2e-{agent}-mcp-")
    cwd = os.path.join(tmp, "work")
    os.makedirs(cwd)
    log = os.path.join(tmp, "mcp-calls.jsonl")
    sid = f"{agent}-mcp"
    try:
        _put_config(agentd, "mcp", cwd, "agentdprobe", {"type": "local",
            "command": sys.executable, "args": [MCP_SERVER, log]})
        if agent in SKILLS:
            skill = os.path.join(tmp, "skills", SKILL)
            os.makedirs(skill)
            with open(os.path.join(skill, "SKILL.md"), "w") as f:
                f.write(f"---\nname: {SKILL}\ndescription: Greets the "
                    "user the agentd way. Use when asked to greet.\n---\n"
                    "Say hello from agentd.\n")
            _put_config(agentd, "skills", cwd, "tests", {"sources": [
                {"type": "local", "source": os.path.join(tmp, "skills")}]})
        aid, command, model, mode = agentd_spec(agent)
        scenarios.create(agentd, sid, aid, cwd,
            env=session_env(agent, mock, tmp, cwd), agent_command=command,
            model=MCP_MODEL.get(agent, model), permission_mode=mode)
        mock_reset(mock)
        sc = scenarios.Scenario("mcp", "call the mcp tool please",
            permission="once", timeout=120)
        run = scenarios.drive(agentd, sid, sc, cwd)
        scenarios.check_invariants(run)
        assert os.path.exists(log + ".list"), \
            "the agent never started the MCP server or asked for its tools"
        assert os.path.exists(log), \
            f"the MCP tool was never called: {run.types()[-12:]}; " \
            f"the model saw {[e.get('tool_names') for e in mock_requests(mock)][:1]}"
        with open(log) as f:
            calls = [json.loads(line) for line in f]
        assert calls[0]["arguments"] == {"word": "ping"}, calls
        results = [p for e in run.of("item.completed")
            for p in e["data"]["item"]["content"]
            if p.get("type") == "tool_result"]
        assert any("agentd-mcp-answer:ping" in json.dumps(p)
            for p in results), f"no tool_result with the answer: {results}"
        assert "agentd-mcp-answer:ping" in run.text(), run.text()[:300]
        if agent in SKILLS:
            seen = {s for e in mock_requests(mock) for s in e.get("skills")
                or []}
            assert SKILL in seen, f"the model was not shown the skill: {seen}"
    finally:
        agentd.http("POST", f"/v1/sessions/{sid}/terminate")
        shutil.rmtree(tmp, ignore_errors=True)


# Agents checked to take MCP servers set on their live session.
SESSION_MCP = ("claude",)


def run_session_mcp(agentd, mock, agent):
    """MCP servers set on a live session (POST /v1/sessions/{id}/config
    {mcp}) after its first turn: agentd restarts the agent between turns
    with its session resumed, and in the second turn the real agent calls
    the server's tool; the native session is the same."""
    tmp = tempfile.mkdtemp(prefix=f"agentd-e2e-{agent}-smcp-")
    cwd = os.path.join(tmp, "work")
    os.makedirs(cwd)
    log = os.path.join(tmp, "mcp-calls.jsonl")
    sid = f"{agent}-session-mcp"
    try:
        aid, command, model, mode = agentd_spec(agent)
        scenarios.create(agentd, sid, aid, cwd,
            env=session_env(agent, mock, tmp, cwd), agent_command=command,
            model=MCP_MODEL.get(agent, model), permission_mode=mode)
        mock_reset(mock)
        first = scenarios.drive(agentd, sid, scenarios.by_name("hello"), cwd)
        native = agentd.http("GET", f"/v1/sessions/{sid}").json.get(
            "nativeSessionId")
        assert native, "no native session id after the first turn"
        assert not os.path.exists(log + ".list"), "the server ran too soon"
        _config(agentd, sid, {"mcp": {"agentdprobe": {"type": "local",
            "command": sys.executable, "args": [MCP_SERVER, log]}}})
        sc = scenarios.Scenario("mcp", "call the mcp tool please",
            permission="once", timeout=120)
        run = scenarios.drive(agentd, sid, sc, cwd,
            offset=first.events[-1]["sequence"])
        scenarios.check_invariants(run)
        assert os.path.exists(log), \
            f"the MCP tool was never called: {run.types()[-12:]}"
        results = [p for e in run.of("item.completed")
            for p in e["data"]["item"]["content"]
            if p.get("type") == "tool_result"]
        assert any("agentd-mcp-answer:ping" in json.dumps(p)
            for p in results), f"no tool_result with the answer: {results}"
        info = agentd.http("GET", f"/v1/sessions/{sid}").json
        assert info.get("nativeSessionId") == native, \
            f"resumed as {info.get('nativeSessionId')}, was {native}"
        check_history(mock, agent)  # the restart resumed turn 1
    finally:
        agentd.http("POST", f"/v1/sessions/{sid}/terminate")
        shutil.rmtree(tmp, ignore_errors=True)


def _config(agentd, sid, body):
    r = agentd.http("POST", f"/v1/sessions/{sid}/config", body)
    assert r.status == 204, f"config {body}: {r.status} {r.body[:300]!r}"


# What the SDK sets through ACP in acp-sdk-config, per native agent.
SDK_CONFIG = {
    "claude": {"model": "claude-sonnet-4-5", "mode": "acceptEdits"},
    "codex": {"model": "gpt-5.4", "mode": "acceptEdits",
        "thoughtLevel": "high"},
}


def run_acp_sdk(agentd, mock, agent, test="real.test.mjs", config=None):
    """sandbox-agent's SDK (tests/acp, installed by its suite) drives the
    real CLI through agentd's ACP over HTTP: real.test.mjs, or with a
    config, config.test.mjs (setModel, setMode, setThoughtLevel)."""
    sdk = os.path.join(ROOT, "tests", "acp", "sdk", "node_modules",
        "sandbox-agent")
    if not os.path.isdir(sdk):
        rc = subprocess.call([os.path.join(ROOT, "tests", "acp",
            "suite.sh"), agentd.binary], stdout=subprocess.DEVNULL)
        assert os.path.isdir(sdk), f"cannot install the SDK (exit {rc})"
    tmp = tempfile.mkdtemp(prefix=f"agentd-e2e-{agent}-sdk-")
    cwd = os.path.join(tmp, "work")
    os.makedirs(cwd)
    # The ACP server checks at its first POST that the agent is
    # installed, before session/new names a command: an agentd that
    # finds the pinned CLI on its PATH.
    bindir = os.path.dirname(agent_installed(agent))
    agentd = Agentd(agentd.binary, log_level="info",
        env={"PATH": bindir + ":" + os.environ["PATH"]})
    try:
        aid, command, model, mode = agentd_spec(agent)
        real = {"agent": aid, "cwd": cwd, "agentCommand": command,
            "env": session_env(agent, mock, tmp, cwd)}
        env = dict(os.environ, AGENTD_URL=agentd.url,
            ACP_REAL=json.dumps(real))
        if config is not None:
            env["ACP_CONFIG"] = json.dumps(dict(config, mockUrl=mock.url))
        p = subprocess.run(["node", "--test",
            os.path.join(ROOT, "tests", "acp", test)], env=env,
            capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, "SDK test failed:\n" + p.stdout[-3000:]
    finally:
        agentd.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agentd", required=True)
    ap.add_argument("--agents", default="claude,codex")
    ap.add_argument("-k", default=None)
    ap.add_argument("--record", action="store_true")
    a = ap.parse_args()

    agents = a.agents.split(",")
    rc = subprocess.call([os.path.join(HERE, "install.sh")] + agents)
    if rc == 3:
        print("e2e: skipped: the npm registry cannot be reached")
        print("0 passed, 0 failed")
        return 0
    if rc != 0:
        print(f"e2e: install.sh failed ({rc})")
        print("0 passed, 1 failed")
        return 1

    tmp = tempfile.mkdtemp(prefix="agentd-e2e-")
    mock = MockModel(os.path.join(tmp, "mockmodel.log"))
    record_dir = os.path.join(tmp, "record")
    os.makedirs(record_dir)
    extra = ["--record", record_dir] if a.record else []
    agentd = Agentd(a.agentd, extra_args=extra, log_level="info")
    agentd.record_dir = record_dir
    passed = failed = 0
    try:
        for agent in agents:
            tests = [(sc.name, lambda sc=sc, n=n: run_one(agentd, mock,
                agent, sc, n, a.record))
                for n, sc in enumerate(scenarios.SCENARIOS)
                if (sc.agents is None or agent in sc.agents) and
                not (agent in NO_PERMISSIONS and sc.permission == "reject")]
            if not a.record and agent == "claude":
                tests.append(("acp-sdk", lambda: run_acp_sdk(agentd, mock,
                    agent)))
            if not a.record and agent in IMAGES:
                tests.append(("image", lambda: run_image(agentd, mock,
                    agent)))
            if not a.record and agent in SDK_CONFIG:
                tests.append(("acp-sdk-config", lambda: run_acp_sdk(agentd,
                    mock, agent, "config.test.mjs", SDK_CONFIG[agent])))
            if not a.record and agent in MCP:
                tests.append(("mcp", lambda: run_mcp(agentd, mock, agent)))
            if not a.record and agent in SESSION_MCP:
                tests.append(("session-mcp", lambda: run_session_mcp(
                    agentd, mock, agent)))
            if not a.record and agent in CONFIG:
                tests.append(("config", lambda: run_config(agentd, mock,
                    agent)))
            if not a.record and agent not in NO_RESUME:
                tests.append(("resume", lambda: run_resume(agentd, mock,
                    agent)))
            if not a.record and agent in MOVABLE:
                tests.append(("volume", lambda: run_volume(a.agentd, mock,
                    agent)))
                tests.append(("export", lambda: run_export(a.agentd, mock,
                    agent)))
            elif agent in NO_RESUME:
                print(f"# {agent}::resume not run: {NO_RESUME[agent]}")
            for name, fn in tests:
                if a.k and a.k not in name:
                    continue
                t0 = time.monotonic()
                try:
                    fn()
                    passed += 1
                    print(f"ok - {agent}::{name} "
                        f"({time.monotonic() - t0:.1f}s)", flush=True)
                except Exception as e:  # noqa: BLE001
                    failed += 1
                    print(f"not ok - {agent}::{name}: {e}", flush=True)
                    traceback.print_exc(limit=3, file=sys.stdout)
                    print("    agentd stderr tail:")
                    for line in agentd.stderr_text().splitlines()[-15:]:
                        print("      " + line[:300])
        if a.record and "claude" in agents:
            derive_amp(agentd)
    finally:
        agentd.cleanup()
        mock.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
