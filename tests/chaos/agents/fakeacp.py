#!/usr/bin/env python3
"""A misbehaving ACP agent for the fault tests (tests/integration/test_faults.py).

    python3 fakeacp.py MODE [ARG]

It speaks just enough ACP (initialize, session/new, session/prompt,
session/cancel) and misbehaves as MODE says, at the first prompt unless
noted:

  ok            answer every prompt with "ok: <text>" (the control case)
  crash         one chunk, then exit 7 in the middle of the turn
  hang          one chunk, then silence forever (stdin still read)
  ignoreterm    ignore SIGTERM and stdin EOF, then hang like `hang`
  bigline N     a line of N bytes ('x' * N, not JSON), then answer normally
  noise         a chunk with invalid UTF-8, a line of binary noise, a line
                that is JSON but not JSON-RPC, then answer normally
  surrogates    chunks as Node writes an emoji cut in two ("hi \\ud83d",
                then "\\ude00 there"), one with \\u0000 and one with a whole
                pair, then answer normally
  noread        answer initialize and session/new blind (ids 1 and 2),
                then never read stdin again
  closeout      answer the handshake, then close stdout and keep running
  grandchild    at start, fork a child and a grandchild (both ignore
                SIGTERM and sleep); their pids go to the file named by ARG;
                then behave like `hang`

Each process writes its pid to $FAKEACP_PIDFILE (appending) if set.
"""
import json
import os
import signal
import sys
import time

MODE = sys.argv[1] if len(sys.argv) > 1 else "ok"
ARG = sys.argv[2] if len(sys.argv) > 2 else None
out = sys.stdout.buffer


def emit(obj):
    out.write(json.dumps(obj).encode() + b"\n")
    out.flush()


def raw(data):
    out.write(data)
    out.flush()


def chunk(sid, text):
    emit({"jsonrpc": "2.0", "method": "session/update", "params": {
        "sessionId": sid, "update": {"sessionUpdate": "agent_message_chunk",
        "content": {"type": "text", "text": text}}}})


def forever():
    while True:
        time.sleep(3600)


def note_pid(path=None):
    path = path or os.environ.get("FAKEACP_PIDFILE")
    if path:
        with open(path, "a") as f:
            f.write(f"{os.getpid()}\n")


def spawn_tree(path):
    """A child that forks a grandchild; all ignore SIGTERM and sleep."""
    if os.fork() == 0:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if os.fork() == 0:
            note_pid(path)
            forever()
        note_pid(path)
        forever()


def main():
    note_pid()
    if MODE == "ignoreterm":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if MODE == "grandchild":
        spawn_tree(ARG)
    sid = "fake-1"
    if MODE == "noread":
        emit({"jsonrpc": "2.0", "id": 1, "result": {"protocolVersion": 1,
            "agentCapabilities": {}}})
        emit({"jsonrpc": "2.0", "id": 2, "result": {"sessionId": sid}})
        forever()
    inp = sys.stdin.buffer
    for line in inp:
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
            if MODE == "closeout":
                out.close()
                os.close(1)
        elif m == "session/prompt":
            text = "".join(b.get("text", "") for b in msg["params"]["prompt"])
            if MODE == "crash":
                chunk(sid, "about to crash")
                os._exit(7)
            if MODE in ("hang", "ignoreterm", "grandchild"):
                chunk(sid, "thinking forever")
                continue
            if MODE == "bigline":
                n = int(ARG)
                block = b"x" * (1 << 20)
                while n > 0:
                    k = min(n, len(block))
                    out.write(block[:k])
                    n -= k
                raw(b"\n")
            if MODE == "noise":
                out.write(b'{"jsonrpc":"2.0","method":"session/update","params":'
                    b'{"sessionId":"fake-1","update":{"sessionUpdate":'
                    b'"agent_message_chunk","content":{"type":"text","text":'
                    b'"bad \xff\xfe\xc3( bytes"}}}}\n')
                raw(bytes(range(256)) + b"\n")
                raw(b"\x00\x01\x02 noise \x7f\n")
                raw(b'{"hello":"not json-rpc"}\n')
            if MODE == "surrogates":
                # json.dumps writes a lone surrogate as \udXXX, as Node does
                chunk(sid, "hi \ud83d")
                chunk(sid, "\ude00 there. ")
                chunk(sid, "a\x00b. ")
                chunk(sid, "pair \U0001F600. ")
            chunk(sid, "ok: " + text)
            emit({"jsonrpc": "2.0", "id": rid, "result": {"stopReason": "end_turn"}})
        elif m == "session/cancel":
            pass
        elif rid is not None:
            emit({"jsonrpc": "2.0", "id": rid, "error": {"code": -32601,
                "message": "method not found"}})
    if MODE in ("ignoreterm", "grandchild", "closeout"):
        forever()    # stdin EOF does not end these either


if __name__ == "__main__":
    main()
