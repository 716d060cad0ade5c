#!/usr/bin/env python3
"""tests/fuzz/seeds.py OUT_DIR [FIXTURE...]: fuzz seeds from recordings.

Reads every recorded transcript (tests/fixtures/**/*.jsonl without
.golden, and tests/fuzz/recordings/*.jsonl: `agentd serve --record`
output) and golden stream (tests/fixtures/**/*.golden.jsonl), and writes
OUT_DIR/<target>/<name> seeds:

  acp         an ACP agent's stdout with the client's side as "#!" lines
              (see fuzz_acp.c), for ACP recordings
  claude      the same for claude's recordings (fuzz_claude.c)
  jsonl       the agent's stdout as one stream
  json        each line
  jsonrpc     each line
  event_scan  each golden event line
  store       each golden stream as an events.jsonl

Seeds are inputs, not expectations: they only help the fuzzer start deep.
With FIXTURE arguments (a recording), the ACP seed is printed to stdout.
"""
import glob
import hashlib
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def entries(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    head = json.loads(lines[0]) if lines else {}
    out = []
    for l in lines[1:]:
        try:
            out.append(json.loads(l))
        except ValueError:
            pass
    return head, out


def acp_seed(ents):
    """The agent's lines, with the client's actions as #! directives."""
    out = []
    for e in ents:
        if e.get("d") == "<":
            out.append(e["l"])
        elif e.get("d") == ">":
            try:
                m = json.loads(e["l"])
            except ValueError:
                continue
            meth = m.get("method")
            if meth == "session/prompt":
                text = "".join(b.get("text", "") for b in
                    m.get("params", {}).get("prompt", []) if isinstance(b, dict))
                out.append("#!msg " + text.replace("\n", " "))
            elif meth == "session/cancel":
                out.append("#!cancel")
            elif "result" in m and isinstance(m["result"], dict):
                r = m["result"]
                if "outcome" in r:
                    out.append("#!perm 0")
                elif "action" in r or "content" in r:
                    out.append('#!answer [["Red"]]')
    return "\n".join(out) + "\n"


def claude_seed(ents):
    """claude's lines, with the client's actions as #! directives."""
    out = []
    for e in ents:
        if e.get("d") == "<":
            out.append(e["l"])
            continue
        try:
            m = json.loads(e["l"])
        except (KeyError, ValueError):
            continue
        if m.get("type") == "user":
            content = m.get("message", {}).get("content", [])
            text = "".join(b.get("text", "") for b in content
                if isinstance(b, dict))
            out.append("#!msg " + text.replace("\n", " "))
        elif m.get("type") == "control_request" and \
                m.get("request", {}).get("subtype") == "interrupt":
            out.append("#!cancel")
        elif m.get("type") == "control_response":
            r = m.get("response", {}).get("response", {})
            if "questions" in r.get("updatedInput", {}):
                out.append('#!answer [["Red"]]')
            else:
                out.append("#!perm %d" % (0 if r.get("behavior") == "allow"
                    else 2))
    return "\n".join(out) + "\n"


def write(out, target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    h = hashlib.sha1(data).hexdigest()[:12]
    with open(os.path.join(d, f"{name}-{h}"), "wb") as f:
        f.write(data)


def main():
    if len(sys.argv) > 2:
        for p in sys.argv[2:]:
            sys.stdout.write(acp_seed(entries(p)[1]))
        return
    out = sys.argv[1]
    recs = [p for p in glob.glob(os.path.join(ROOT, "tests/fixtures/**/*.jsonl"), recursive=True)
        if not p.endswith(".golden.jsonl")]
    recs += glob.glob(os.path.join(ROOT, "tests/fuzz/recordings/*.jsonl"))
    goldens = glob.glob(os.path.join(ROOT, "tests/fixtures/**/*.golden.jsonl"), recursive=True)
    n = 0
    for p in recs:
        head, ents = entries(p)
        name = os.path.basename(p).rsplit(".", 1)[0]
        agent = head.get("agent", "")
        stdout = "".join(e["l"] + "\n" for e in ents if e.get("d") == "<")
        write(out, "jsonl", name, b"\x00\x07\x2a" + stdout.encode())
        for e in ents[:200]:
            if "l" in e:
                write(out, "json", name, e["l"])
                write(out, "jsonrpc", name, e["l"])
        if agent not in ("claude", "codex", "amp", "pi"):
            write(out, "acp", name, acp_seed(ents))
        if agent == "claude":
            write(out, "claude", name, claude_seed(ents))
        n += 1
    for p in goldens:
        name = os.path.basename(p).split(".")[0]
        with open(p, "rb") as f:
            data = f.read()
        for l in data.splitlines()[:100]:
            write(out, "event_scan", name, l)
        write(out, "store", name, data)
        n += 1
    print(f"seeds: {n} recordings and golden streams -> {out}")


if __name__ == "__main__":
    main()
