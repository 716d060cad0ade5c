#!/usr/bin/env python3
"""An ACP agent that starts things, for the operations tests (test_ops.py).

    python3 opsagent.py MARKER

It speaks just enough ACP (initialize, session/new, session/prompt,
session/cancel). At start it leaves behind, as agents' tools do:

  - a daemon started with setsid(1): its own session and group, stdio on
    /dev/null, SIGTERM and SIGHUP ignored (`sleep 1000.MARKER1`);
  - a double-forked sleeper: the middle process exits at once, so the
    sleeper is an orphan; it also calls setsid() and ignores SIGTERM
    (`sleep 1000.MARKER2`).

Both carry MARKER in their command line so the test finds them in /proc.
It does not exit at the end of stdin (SIGTERM ends it). A prompt is
answered "ok: <text>"; a prompt containing "eat" makes a child
that allocates memory until the kernel kills it (the memory-limit test),
while the agent waits for it; one containing "fork" tries 48 forks of a
sleeper and says how many the kernel allowed (the pids-limit test).
"""
import json
import os
import signal
import subprocess
import sys
import time

MARKER = sys.argv[1] if len(sys.argv) > 1 else "0"
out = sys.stdout.buffer


def emit(obj):
    out.write(json.dumps(obj).encode() + b"\n")
    out.flush()


def chunk(sid, text):
    emit({"jsonrpc": "2.0", "method": "session/update", "params": {
        "sessionId": sid, "update": {"sessionUpdate": "agent_message_chunk",
        "content": {"type": "text", "text": text}}}})


def escape():
    null = os.open(os.devnull, os.O_RDWR)
    subprocess.Popen(["setsid", "sh", "-c",
        f"trap '' TERM HUP; exec sleep 1000.{MARKER}1"],
        stdin=null, stdout=null, stderr=null, close_fds=True)
    if os.fork() == 0:
        if os.fork() == 0:
            os.setsid()
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            os.execvp("sleep", ["sleep", f"1000.{MARKER}2"])
        os._exit(0)
    os.wait()
    os.close(null)


def eat():
    """A child that grows by 8 MiB steps until it is killed."""
    pid = os.fork()
    if pid == 0:
        hold = []
        while True:
            hold.append(bytearray(b"x" * (8 << 20)))
            time.sleep(0.02)
    os.waitpid(pid, 0)


def forks(n):
    """Try n forks of a sleeper; how many the kernel allowed."""
    done = 0
    for _ in range(n):
        try:
            pid = os.fork()
        except OSError:
            continue
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        done += 1
    return done


def main():
    escape()
    sid = "ops-1"
    for line in sys.stdin.buffer:
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        m, rid = msg.get("method"), msg.get("id")
        if m == "initialize":
            emit({"jsonrpc": "2.0", "id": rid, "result": {"protocolVersion": 1,
                "agentCapabilities": {"loadSession": False}}})
        elif m == "session/new":
            emit({"jsonrpc": "2.0", "id": rid, "result": {"sessionId": sid}})
        elif m == "session/prompt":
            text = "".join(b.get("text", "") for b in msg["params"]["prompt"])
            if "eat" in text:
                chunk(sid, "eating")
                eat()
            if "fork" in text:
                chunk(sid, f"forked {forks(48)} of 48")
            chunk(sid, "ok: " + text)
            emit({"jsonrpc": "2.0", "id": rid, "result": {"stopReason": "end_turn"}})
        elif rid is not None and m is not None:
            emit({"jsonrpc": "2.0", "id": rid, "error": {"code": -32601,
                "message": "method not found"}})
    # Like some agents, it does not end at stdin's end: a kill -9 of
    # agentd leaves it running, for the next agentd to find.
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
