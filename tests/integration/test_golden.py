"""Golden tests: every recorded fixture through its adapter.

tests/fixtures/<agent>/<scenario>.jsonl is a real CLI's stdio recorded by
`make fixtures`; agentd replays it (`agentd replay-agent`) to the agent's
adapter while the scenario's client drives the session exactly as it did
when recording. The universal stream must equal <scenario>.golden.jsonl
and hold no agent.unparsed.
"""

import glob
import json
import os
import shutil
import sys
import tempfile

from agentd import Agentd

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

import scenarios  # noqa: E402


def fixtures():
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "fixtures",
            "*", "*.jsonl"))):
        if not path.endswith(".golden.jsonl"):
            yield path


def replay(ctx, agentd, path, n):
    with open(path) as f:
        head = json.loads(f.readline())
    agent = head["agent"]
    sc = scenarios.by_name(head["scenario"])
    tmp = tempfile.mkdtemp(prefix="agentd-golden-")
    cwd = os.path.join(tmp, "work")
    os.makedirs(cwd)
    try:
        sid = f"g{n}"
        opts = head.get("session", {})
        scenarios.create(agentd, sid, agent, cwd,
            agent_command=["@self", "replay-agent", path],
            model=opts.get("model"),
            permission_mode=opts.get("permissionMode"))
        run = scenarios.drive(agentd, sid, sc, cwd)
        scenarios.check_invariants(run)
        got = scenarios.normalise(run.events, [tmp, head.get("tmp", tmp)])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    with open(path[:-len(".jsonl")] + ".golden.jsonl") as f:
        want = [json.loads(line) for line in f]
    assert len(got) == len(want), \
        f"{path}: {len(got)} events, golden has {len(want)}"
    for i, (a, b) in enumerate(zip(got, want)):
        assert a == b, (f"{os.path.relpath(path, ROOT)}: event {i + 1} "
            f"differs:\n got  {json.dumps(a)[:600]}\n want {json.dumps(b)[:600]}")


def _golden_test(path):
    def test(ctx):
        with Agentd(ctx.binary, log_level="info") as a:
            replay(ctx, a, path, 0)
    return test


# One test per fixture, named after it: test_golden_claude_write, …
for _path in fixtures():
    _name = "test_golden_%s_%s" % (os.path.basename(os.path.dirname(_path)),
        os.path.basename(_path)[:-len(".jsonl")].replace("-", "_"))
    globals()[_name] = _golden_test(_path)


def test_golden_fixtures_exist(ctx):
    """make fixtures has recorded the two most used agents."""
    agents = {os.path.basename(os.path.dirname(p)) for p in fixtures()}
    assert {"claude", "codex"} <= agents, agents


def test_pi_keeps_no_repeated_message(ctx):
    """pi repeats the whole reply so far on every delta, twice (the line's
    "message" and the event's "partial"): agentd keeps the event without
    either, so its log grows with the deltas, not with the reply times the
    deltas."""
    path = os.path.join(ROOT, "tests", "fixtures", "pi", "hello.jsonl")
    with open(path) as f:
        head = json.loads(f.readline())
    tmp = tempfile.mkdtemp(prefix="agentd-golden-")
    try:
        with Agentd(ctx.binary, log_level="info") as a:
            scenarios.create(a, "p", "pi", tmp,
                agent_command=["@self", "replay-agent", path])
            scenarios.drive(a, "p", scenarios.by_name(head["scenario"]), tmp)
            r = a.http("GET", "/v1/sessions/p/events?include_raw=true")
            raws = [e["raw"] for e in r.json["events"]
                if isinstance(e.get("raw"), dict) and
                e["raw"].get("type") == "message_update"]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    assert raws, "no message_update was kept as raw"
    for raw in raws:
        assert set(raw) == {"type", "assistantMessageEvent"}, raw
        ev = raw["assistantMessageEvent"]
        assert "partial" not in ev and "type" in ev, ev


def test_claude_and_codex_tell_their_models(ctx):
    """Issue 15: Claude's initialize answer and Codex's model/list (in the
    recordings) are the session's model choices in SessionInfo, with the
    model the agent runs as the current value, and GET /v1/agents/{agent}
    has the list as learned."""
    want = {"claude": ("sonnet", "Sonnet"), "codex": ("gpt-6.1-sol",
        "GPT-6.1-Sol")}
    for agent, (mid, name) in want.items():
        path = os.path.join(ROOT, "tests", "fixtures", agent, "hello.jsonl")
        with open(path) as f:
            head = json.loads(f.readline())
        tmp = tempfile.mkdtemp(prefix="agentd-golden-")
        try:
            with Agentd(ctx.binary, log_level="info") as a:
                scenarios.create(a, "m", agent, tmp,
                    agent_command=["@self", "replay-agent", path],
                    model=head.get("session", {}).get("model"))
                scenarios.drive(a, "m", scenarios.by_name(head["scenario"]),
                    tmp)
                s = a.http("GET", "/v1/sessions/m").json
                assert "model" in s.get("options", {}), s
                model = s["options"]["model"]
                ids = [c["id"] for c in model["available"]]
                assert mid in ids, (agent, model)
                assert {"id": mid, "name": name} == {k: v for k, v in
                    model["available"][ids.index(mid)].items()
                    if k != "description"}, (agent, model)
                assert model["current"], (agent, model)
                # GET /v1/agents/{agent}: the list its session was told
                ag = a.http("GET", f"/v1/agents/{agent}").json["options"]
                assert ag["model"]["learned"] is True, (agent, ag)
                assert ag["model"]["available"] == model["available"], ag
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
