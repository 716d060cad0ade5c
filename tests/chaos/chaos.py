#!/usr/bin/env python3
"""Crash consistency: kill -9 agentd at random points of streaming sessions.

    python3 tests/chaos/chaos.py --agentd build/agentd [--kills 50] [--seed N]

One data dir, one port. Each round: (re)start agentd, check what the last
round's clients received against the log, resume those clients (SSE with
Last-Event-ID, WebSocket with ?offset=) and check they continue with no gap
or duplicate, start new streaming turns on the mock agent (`firehose N`,
`slow`), on universal sessions and on one ACP-over-HTTP server's session,
let SSE and WS clients read them for a random 20-700 ms, and SIGKILL
agentd. At every restart:

  - every event any client had received is still there, byte-identical
    as JSON, at its sequence;
  - every session's sequences are 1..N with no gap (REST, paged);
  - events.jsonl has no torn line: every line is a JSON object ending in
    a newline, and its sequences are 1..N;
  - a resumed client gets exactly the events after its cursor;
  - the same for the ACP server's stream: every message a client received
    is still there at its id, messages.jsonl has no torn line and numbers
    its lines 1..N, a resumed SSE client (Last-Event-ID) gets exactly what
    followed; and the stream holds every chunk of the ACP session's log
    exactly once (nothing lost or sent twice across the kills).

Prints the figures (kills, events checked, time) and exits 1 on the first
violation. Ends with "N passed, M failed" like the other suites.
"""
import argparse
import json
import os
import random
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

from agentd import Agentd, check_contiguous, fetch_events, wait_for  # noqa: E402
from test_acp_http import acp_chunks, acp_last, universal_chunks  # noqa: E402

SESSIONS = ["c0", "c1", "c2"]
ACP = "chaos-acp"
ACP_JSON = {"Content-Type": "application/json", "Accept": "application/json"}


class Reader(threading.Thread):
    """Reads one stream (SSE or WS) into self.events until it breaks."""

    def __init__(self, a, sid, kind, after):
        super().__init__(daemon=True)
        self.a, self.sid, self.kind, self.after = a, sid, kind, after
        self.events = []
        self.error = None
        self.client = None

    def run(self):
        path = f"/v1/sessions/{self.sid}/events/{self.kind}"
        try:
            if self.kind == "acp":
                self.client = self.a.sse(f"/v1/acp/{ACP}", last_event_id=self.after)
                while True:
                    ev = self.client.next(timeout=30)
                    if ev is None:
                        return
                    assert ev.event == "message", ev
                    self.events.append((int(ev.id), ev.data))
            elif self.kind == "sse":
                self.client = self.a.sse(path, last_event_id=self.after)
                while True:
                    ev = self.client.next(timeout=30)
                    if ev is None:
                        return
                    assert ev.id == str(ev.data["sequence"]), ev
                    self.events.append(ev.data)
            else:
                self.client = self.a.ws(path, offset=self.after)
                while True:
                    ev = self.client.next_event(timeout=30)
                    if ev is None:
                        return
                    self.events.append(ev)
        except Exception as e:  # noqa: BLE001 (the kill breaks the stream)
            self.error = e

    def close(self):
        try:
            if self.client is not None:
                self.client.conn.close()
        except Exception:  # noqa: BLE001
            pass


def check_log_file(a, sid):
    path = os.path.join(a.data_dir, "sessions", sid, "events.jsonl")
    with open(path, "rb") as f:
        data = f.read()
    assert not data or data.endswith(b"\n"), f"{sid}: torn last line after restart"
    seqs = []
    for i, line in enumerate(data.split(b"\n")[:-1], 1):
        o = json.loads(line)
        assert isinstance(o, dict), f"{sid} line {i} not an object"
        seqs.append(o["sequence"])
    assert seqs == list(range(1, len(seqs) + 1)), f"{sid}: log sequences not 1..N"
    return len(seqs)


def read_acp_log(a):
    """messages.jsonl: no torn line, lines numbered 1..N; the messages."""
    path = os.path.join(a.data_dir, "acp", ACP, "messages.jsonl")
    with open(path, "rb") as f:
        data = f.read()
    assert not data or data.endswith(b"\n"), "acp: torn last line after restart"
    msgs = []
    for i, line in enumerate(data.split(b"\n")[:-1], 1):
        o = json.loads(line)
        assert o["sequence"] == i, f"acp line {i} numbered {o['sequence']}"
        assert isinstance(o["message"], dict), f"acp line {i}: no message"
        msgs.append(o["message"])
    return msgs


def read_events_log(a, sid):
    path = os.path.join(a.data_dir, "sessions", sid, "events.jsonl")
    with open(path, "rb") as f:
        return [json.loads(line) for line in f]


def acp_rpc(a, body, agent=None):
    path = f"/v1/acp/{ACP}" + (f"?agent={agent}" if agent else "")
    r = a.http("POST", path, body, headers=dict(ACP_JSON))
    assert r.status == 200, f"{body.get('method')}: {r.status} {r.body[:300]!r}"
    return r.json


def acp_open(a):
    """The ACP server and its one session: its id."""
    acp_rpc(a, {"jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": 1}}, "mock")
    r = acp_rpc(a, {"jsonrpc": "2.0", "id": 1, "method": "session/new",
        "params": {"cwd": a.cwd, "mcpServers": []}})
    return r["result"]["sessionId"]


def acp_prompt(a, sid, rid, text):
    """session/prompt, answered when the turn ends; the kill cuts it."""
    try:
        a.http("POST", f"/v1/acp/{ACP}", {"jsonrpc": "2.0", "id": rid,
            "method": "session/prompt", "params": {"sessionId": sid,
            "prompt": [{"type": "text", "text": text}]}},
            headers=dict(ACP_JSON))
    except OSError:
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agentd", default="build/agentd")
    ap.add_argument("--kills", type=int, default=int(os.environ.get("CHAOS_KILLS", 50)))
    ap.add_argument("--seed", type=int, default=int(os.environ.get("CHAOS_SEED", time.time())))
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    print(f"chaos: {args.kills} kills, seed {args.seed}")
    t0 = time.monotonic()
    a = Agentd(args.agentd, log_level="info", start=False)
    received = {s: {} for s in SESSIONS}    # seq -> event, all clients
    fresh = {s: set() for s in SESSIONS}     # received since the last check
    cursors = []                            # (sid, kind, last seq) to resume
    acp_sid = None
    acp_received = {}                       # id -> message, all clients
    acp_fresh = set()
    acp_cursors = []                        # last id of an ACP client
    checked = resumed = acp_checked = 0
    failed = 0
    try:
        for k in range(args.kills + 1):
            a.start(timeout=10)
            # 1. what clients saw before the kill survived
            for sid in SESSIONS:
                r = a.http("GET", f"/v1/sessions/{sid}")
                if r.status == 404:
                    assert not received[sid], f"{sid} lost after a kill"
                    continue
                evs = fetch_events(a, sid)
                check_contiguous(evs)
                n = check_log_file(a, sid)
                assert n == len(evs), f"{sid}: log has {n} lines, REST {len(evs)}"
                # every new event, and a sample of the older ones again
                old = [q for q in received[sid] if q not in fresh[sid]]
                sample = rnd.sample(old, min(len(old), 300))
                for seq in list(fresh[sid]) + sample:
                    ev = received[sid][seq]
                    assert seq <= len(evs), f"{sid}: event {seq} received, log ends at {len(evs)}"
                    assert evs[seq - 1] == ev, f"{sid}: event {seq} changed:\n{ev}\n{evs[seq - 1]}"
                    checked += 1
                fresh[sid] = set()
            # 1b. the ACP server's stream likewise, and each chunk once
            if acp_sid is not None:
                msgs = read_acp_log(a)
                assert acp_last(a, ACP) == len(msgs), \
                    f"acp: lastEventId {acp_last(a, ACP)}, log has {len(msgs)}"
                old = [q for q in acp_received if q not in acp_fresh]
                for q in list(acp_fresh) + rnd.sample(old, min(len(old), 300)):
                    assert q <= len(msgs), f"acp: message {q} received, log ends at {len(msgs)}"
                    assert msgs[q - 1] == acp_received[q], \
                        f"acp: message {q} changed:\n{acp_received[q]}\n{msgs[q - 1]}"
                    acp_checked += 1
                acp_fresh = set()
                want = universal_chunks(read_events_log(a, acp_sid))
                got = acp_chunks(msgs, acp_sid)
                assert got.keys() == want.keys(), \
                    f"acp: chunks of {sorted(set(got) ^ set(want))[:5]} differ"
                for key in want:
                    assert got[key] == want[key], (f"acp: {key}: {len(got[key])} "
                        f"chars on the stream, {len(want[key])} in the log")
                for last in acp_cursors:
                    if len(msgs) <= last:
                        continue
                    rd = Reader(a, acp_sid, "acp", last)
                    rd.start()
                    wait_for(lambda: len(rd.events) >= len(msgs) - last or not rd.is_alive(),
                        10, msg=f"resumed acp after {last}: {len(rd.events)} of {len(msgs) - last}")
                    rd.close()
                    got = rd.events[:len(msgs) - last]
                    assert [q for q, _ in got] == list(range(last + 1, len(msgs) + 1)), \
                        f"acp resumed after {last}: ids {[q for q, _ in got][:5]}…"
                    assert [m for _, m in got] == msgs[last:], f"acp resumed after {last}: other messages"
                    resumed += 1
                acp_cursors = []
            # 2. resumed clients continue with no gap or duplicate
            for sid, kind, last in cursors:
                total = len(fetch_events(a, sid))
                if total <= last:
                    continue
                rd = Reader(a, sid, kind, last)
                rd.start()
                wait_for(lambda: len(rd.events) >= total - last or not rd.is_alive(), 10,
                    msg=f"resumed {kind} on {sid} after {last}: {len(rd.events)} of {total - last}")
                rd.close()
                got = rd.events[:total - last]
                check_contiguous(got, last)
                resumed += 1
            cursors = []
            if k == args.kills:
                break
            # 3. new streaming turns, readers, a random kill point
            readers = []
            for sid in SESSIONS:
                r = a.http("GET", f"/v1/sessions/{sid}")
                if r.status == 404:
                    r = a.http("POST", f"/v1/sessions/{sid}", {"agent": "mock"})
                    assert r.status == 200, r.body
                last = max(received[sid], default=0)
                for kind in ("sse", "ws"):
                    rd = Reader(a, sid, kind, rnd.randint(0, last))
                    rd.start()
                    readers.append(rd)
                msg = rnd.choice(["firehose %d" % rnd.randint(100, 2000), "go slow", "hello"])
                a.http("POST", f"/v1/sessions/{sid}/messages", {"message": msg})
            if acp_sid is None:
                acp_sid = acp_open(a)
            rd = Reader(a, acp_sid, "acp", rnd.randint(0, max(acp_received, default=0)))
            rd.start()
            readers.append(rd)
            msg = rnd.choice(["firehose %d" % rnd.randint(100, 2000), "go slow", "hello"])
            threading.Thread(target=acp_prompt, args=(a, acp_sid, 100 + k, msg),
                daemon=True).start()
            time.sleep(rnd.uniform(0.02, 0.7))
            a.kill9()
            for rd in readers:
                rd.join(5)
                rd.close()
                if rd.kind == "acp":
                    ids = [q for q, _ in rd.events]
                    assert ids == list(range(rd.after + 1, rd.after + 1 + len(ids))), \
                        f"acp from {rd.after}: ids {ids[:5]}…"
                    for q, m in rd.events:
                        acp_fresh.add(q)
                        assert acp_received.setdefault(q, m) == m, f"two clients saw different message {q}"
                    acp_cursors.append(rd.after + len(rd.events))
                    continue
                if rd.events:
                    check_contiguous(rd.events, rd.events[0]["sequence"] - 1)
                    assert rd.events[0]["sequence"] == rd.after + 1, \
                        f"{rd.kind} from {rd.after} began at {rd.events[0]['sequence']}"
                for ev in rd.events:
                    fresh[rd.sid].add(ev["sequence"])
                    prev = received[rd.sid].setdefault(ev["sequence"], ev)
                    assert prev == ev, f"two clients saw different event {ev['sequence']}"
                cursors.append((rd.sid, rd.kind, rd.after + len(rd.events)))
        a.stop()
    except AssertionError as e:
        failed = 1
        print(f"not ok - chaos: {e}")
        print("  agentd stderr tail:\n" + "\n".join(a.stderr_text().splitlines()[-15:]))
        a.kill9()
    finally:
        if not failed:
            a.cleanup()
    took = time.monotonic() - t0
    total = sum(len(v) for v in received.values())
    print(f"chaos figures: kills {args.kills}, events received by clients {total}, "
          f"events compared after restarts {checked}, ACP messages received "
          f"{len(acp_received)}, compared {acp_checked}, resumed streams {resumed}, "
          f"time {took:.1f}s, seed {args.seed}")
    if not failed:
        print("ok - chaos: kill -9 consistency")
    print(f"{1 - failed} passed, {failed} failed")
    return failed


if __name__ == "__main__":
    sys.exit(main())
