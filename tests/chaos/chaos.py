#!/usr/bin/env python3
"""Crash consistency: kill -9 agentd at random points of streaming sessions.

    python3 tests/chaos/chaos.py --agentd build/agentd [--kills 50] [--seed N]

One data dir, one port. Each round: (re)start agentd, check what the last
round's clients received against the log, resume those clients (SSE with
Last-Event-ID, WebSocket with ?offset=) and check they continue with no gap
or duplicate, start new streaming turns on the mock agent (`firehose N`,
`slow`), let SSE and WS clients read them for a random 20-700 ms, and
SIGKILL agentd. At every restart:

  - every event any client had received is still there, byte-identical
    as JSON, at its sequence;
  - every session's sequences are 1..N with no gap (REST, paged);
  - events.jsonl has no torn line: every line is a JSON object ending in
    a newline, and its sequences are 1..N;
  - a resumed client gets exactly the events after its cursor.

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

SESSIONS = ["c0", "c1", "c2"]


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
            if self.kind == "sse":
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
    checked = resumed = 0
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
            time.sleep(rnd.uniform(0.02, 0.7))
            a.kill9()
            for rd in readers:
                rd.join(5)
                rd.close()
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
          f"events compared after restarts {checked}, resumed streams {resumed}, "
          f"time {took:.1f}s, seed {args.seed}")
    if not failed:
        print("ok - chaos: kill -9 consistency")
    print(f"{1 - failed} passed, {failed} failed")
    return failed


if __name__ == "__main__":
    sys.exit(main())
