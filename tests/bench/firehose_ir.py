#!/usr/bin/env python3
"""Instructions per firehose event, as docs/performance.md measures them.

    tests/bench/firehose_ir.py [--agentd build/agentd]
        [--loadgen build/bench/loadgen] [--small 2000] [--large 22000]
        [--claude]

Runs `agentd serve` under valgrind --tool=callgrind twice, each with one
`mock` session whose one WebSocket client (loadgen ws, as bench.py's
firehose drives it) reads `firehose N` to turn.ended, and prints the
total Ir of each run and (Ir(large) - Ir(small)) / (large - small), which
leaves out start-up. The agent is a child process and is not counted.
With --claude the session is claude's instead, replaying its recorded
hello with the first text delta played N times (bench.py's claude
replay), so the figure is per content_block_delta line.
Needs valgrind; slow (a minute or two), but the figure does not depend on
the machine's load.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402


def run(agentd, loadgen, n, out, claude=False):
    tmp = tempfile.mkdtemp(prefix="agentd-ir-")
    port = bench.free_port()
    p = subprocess.Popen(["valgrind", "--tool=callgrind",
                          "--callgrind-out-file=" + out, agentd, "serve",
                          "--host", "127.0.0.1", "--port", str(port),
                          "--data-dir", tmp, "--log-level", "warn"],
                         stdout=subprocess.DEVNULL,
                         stderr=open(out + ".log", "w"))
    h = bench.Http(port)
    end = time.monotonic() + 60
    while True:
        try:
            if h.req("GET", "/v1/health")[0] == 200:
                break
        except Exception:
            h = bench.Http(port)
        if time.monotonic() > end:
            raise RuntimeError("agentd did not answer /v1/health")
        time.sleep(0.2)
    body = {"agent": "mock"}
    if claude:
        fx = bench.Bench.scale_fixture(
            os.path.join(bench.ROOT, "tests", "fixtures", "claude",
                         "hello.jsonl"), n, out + ".jsonl")
        body = {"agent": "claude",
                "agentCommand": ["@self", "replay-agent", fx]}
    st, r = h.req("POST", "/v1/sessions/f", body)
    if st != 200:
        raise RuntimeError("create: %s %s" % (st, r))
    end = time.monotonic() + 60
    while True:
        st, r = h.req("GET", "/v1/sessions/f")
        if st == 200 and r["state"] == "ready" and r["queuedMessages"] == 0:
            break
        if time.monotonic() > end:
            raise RuntimeError("session not ready")
        time.sleep(0.05)
    g = subprocess.run([loadgen, "ws", "--port", str(port), "--path",
                        "/v1/sessions/f/events/ws?offset=%d" % r["eventCount"],
                        "--clients", "1", "--until", "turn.ended", "--post",
                        "/v1/sessions/f/messages", "--body",
                        json.dumps({"message": "replay" if claude
                                    else "firehose %d" % n}),
                        "--timeout", "300"], capture_output=True, text=True)
    res = json.loads(g.stdout.strip().splitlines()[-1])
    h.close()
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=120)
    if res["gaps"] or res["failed"] or res["done"] != 1:
        raise RuntimeError("firehose: %s" % res)
    with open(out) as f:
        for line in f:
            if line.startswith("summary:") or line.startswith("totals:"):
                return int(line.split()[1])
    raise RuntimeError("no total in " + out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agentd", default="build/agentd")
    ap.add_argument("--loadgen", default="build/bench/loadgen")
    ap.add_argument("--small", type=int, default=2000)
    ap.add_argument("--large", type=int, default=22000)
    ap.add_argument("--claude", action="store_true")
    a = ap.parse_args()
    d = tempfile.mkdtemp(prefix="agentd-ir-")
    small = run(os.path.abspath(a.agentd), os.path.abspath(a.loadgen),
                a.small, os.path.join(d, "small.cg"), a.claude)
    large = run(os.path.abspath(a.agentd), os.path.abspath(a.loadgen),
                a.large, os.path.join(d, "large.cg"), a.claude)
    print("Ir at %d chunks: %d" % (a.small, small))
    print("Ir at %d chunks: %d" % (a.large, large))
    print("Ir per event: %.0f" % ((large - small) / (a.large - a.small)))
    print("callgrind files: " + d)


if __name__ == "__main__":
    main()
