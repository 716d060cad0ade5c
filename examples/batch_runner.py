#!/usr/bin/env python3
"""Run N agent sessions in parallel and write their transcripts.

    python3 examples/batch_runner.py --url http://127.0.0.1:2468 \\
        --sessions 8 --agent claude --agent codex \\
        --prompt "fix the failing test" --prompt "now run the tests" \\
        --out transcripts/

The shape of an evaluation or RL harness: each session gets an agent (the
--agent values in turn), runs the prompts one turn after another, answers
permission requests (--permissions once|always|reject) and questions
(first option of each), and leaves in --out:

    <session>.jsonl   the session's whole event log, one event a line
    <session>.md      a readable transcript
    summary.json      per session: agent, turns with stop_reason, text,
                      cost and usage

An --agent of the form ID:CMD,ARG,... gives the agent's command too
(agentCommand), e.g. acp:@self,mock-agent runs agentd's mock as a generic
ACP agent. The token comes from --token or AGENTD_TOKEN. Uses
agentd_client's AsyncClient (pip install ./clients/python, or run from the
repository: the source tree is found next to this file).
"""

import argparse
import asyncio
import json
import os
import sys
from typing import Any, Dict, List, Optional, Tuple

try:
    import agentd_client
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(
        __file__)), "..", "clients", "python"))
    import agentd_client

from agentd_client import AsyncClient, Event


def parse_agent(spec: str) -> Tuple[str, Optional[List[str]]]:
    if ":" not in spec:
        return spec, None
    agent, cmd = spec.split(":", 1)
    return agent, cmd.split(",")


def render(events: List[Event]) -> str:
    """A Markdown transcript of a session's events."""
    out: List[str] = []
    for ev in events:
        t, d = ev["type"], ev["data"]
        if t == "session.started":
            out.append("# %s (%s)\n" % (ev["session_id"],
                                        d["metadata"]["agent"]))
        elif t == "item.completed":
            item = d["item"]
            for part in item["content"]:
                if part["type"] == "text" and item["role"] == "user":
                    out.append("**user:** %s\n" % part["text"])
                elif part["type"] == "text" and item["kind"] == "message":
                    out.append("**%s:** %s\n" % (item["role"], part["text"]))
                elif part["type"] == "reasoning":
                    out.append("> _%s_\n" % part["text"])
                elif part["type"] == "tool_call":
                    out.append("- tool `%s` %s" % (part["name"],
                                                   part["arguments"]))
                elif part["type"] == "tool_result":
                    out.append("  - %s: `%s`" % (
                        "error" if part["is_error"] else "result",
                        part["output"].strip()))
                elif part["type"] == "file_ref":
                    out.append("  - %s %s" % (part["action"], part["path"]))
        elif t == "permission.resolved":
            out.append("- permission for %s: %s" % (d["action"], d["status"]))
        elif t == "question.resolved":
            out.append("- question: %s %s" % (d["status"],
                                              d.get("answers") or ""))
        elif t == "error":
            out.append("- **error:** %s" % d["message"])
        elif t == "turn.ended":
            out.append("\n_turn %s: %s, cost %s_\n" % (
                d["turn_id"], d.get("stop_reason"), d.get("cost_usd")))
        elif t == "session.ended":
            out.append("_session ended: %s_\n" % d["reason"])
    return "\n".join(out) + "\n"


async def one(client: AsyncClient, n: int, spec: str, prompts: List[str],
              permissions: str, out: str, keep: bool,
              gate: asyncio.Semaphore) -> Dict[str, Any]:
    agent, command = parse_agent(spec)
    async with gate:
        s = await client.create_session(agent, "batch-%d-%s" % (n, agent),
                                        agent_command=command)
        turns = []
        try:
            for p in prompts:
                r = await s.run(
                    p, on_permission=lambda ev: permissions,
                    on_question=lambda ev: [[q["options"][0]["label"]]
                                            for q in ev["data"]["questions"]])
                turns.append({"prompt": p, "stop_reason": r.stop_reason,
                              "text": r.text, "cost_usd": r.cost_usd,
                              "usage": r.usage, "errors": r.errors})
                if r.session_ended is not None:
                    break
            log = (await s.events_since(0)).events
        finally:
            if not keep:
                await s.delete()
    with open(os.path.join(out, s.id + ".jsonl"), "w") as f:
        for ev in log:
            f.write(json.dumps(ev) + "\n")
    with open(os.path.join(out, s.id + ".md"), "w") as f:
        f.write(render(log))
    print("%s: %s" % (s.id, " ".join(str(t["stop_reason"]) for t in turns)))
    return {"session": s.id, "agent": agent, "turns": turns}


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", default="http://127.0.0.1:2468")
    ap.add_argument("--token", default=os.environ.get("AGENTD_TOKEN"))
    ap.add_argument("--sessions", type=int, default=4)
    ap.add_argument("--parallel", type=int, default=8)
    ap.add_argument("--agent", action="append", default=[])
    ap.add_argument("--prompt", action="append", default=[])
    ap.add_argument("--permissions", default="once",
                    choices=["once", "always", "reject"])
    ap.add_argument("--out", default="transcripts")
    ap.add_argument("--keep", action="store_true",
                    help="keep the sessions in agentd (default: delete)")
    a = ap.parse_args()
    agents = a.agent or ["mock"]
    prompts = a.prompt or ["hello"]
    os.makedirs(a.out, exist_ok=True)
    client = await agentd_client.connect_async(a.url, a.token)
    gate = asyncio.Semaphore(a.parallel)
    summary = await asyncio.gather(*(
        one(client, n, agents[n % len(agents)], prompts, a.permissions,
            a.out, a.keep, gate) for n in range(a.sessions)))
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
