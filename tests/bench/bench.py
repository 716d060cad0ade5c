#!/usr/bin/env python3
"""make bench: measure agentd (and sandbox-agent 0.4.2 where npm installs
it) and print one table; each figure is the median of several runs, with
min and max, checked against the targets of issues #6 and #17. The same
figures go to build/bench.json. How each figure is measured:
docs/performance.md.

Every speed figure is also measured on the floor (tests/bench/floor.c: the
kernel's and the libraries' part of it, nothing of agentd's own) in the
same run, runs of the two interleaved so that the machine's load weighs on
both alike, and printed as agentd's ratio to it.

Python stdlib only. The load generator (tests/bench/loadgen.c), the floor
and the timestamping ACP agent (tests/bench/tsagent.c) do the
timing-critical work.
"""

import argparse
import concurrent.futures
import glob
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
NPM_DIR = os.path.join(HERE, ".npm")
SA_PKG = "@sandbox-agent/cli-linux-x64@0.4.2"
SA_BIN = os.path.join(NPM_DIR, "node_modules", "@sandbox-agent",
                      "cli-linux-x64", "bin", "sandbox-agent")
MIB = 1024 * 1024


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def wait_gone(pid, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return True
        except ChildProcessError:
            pass
        time.sleep(0.01)
    return False


def stop(pid, sig=signal.SIGTERM):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
    if not wait_gone(pid, 10):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        wait_gone(pid, 5)


class Http:
    """A keep-alive JSON client for one server."""

    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def req(self, method, path, body=None, headers=None):
        h = {"Content-Type": "application/json", "Accept": "application/json"}
        h.update(headers or {})
        data = json.dumps(body) if body is not None else None
        for attempt in (0, 1):
            try:
                self.conn.request(method, path, body=data, headers=h)
                r = self.conn.getresponse()
                raw = r.read()
                break
            except (http.client.HTTPException, OSError):
                if attempt:
                    raise
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1",
                                                       self.port, timeout=60)
        try:
            return r.status, json.loads(raw) if raw else None
        except ValueError:
            return r.status, raw

    def close(self):
        self.conn.close()


class Bench:
    def __init__(self, a):
        self.a = a
        self.tmp = tempfile.mkdtemp(prefix="agentd-bench-")
        self.rows = []          # the table, in order
        self.results = {}       # name -> dict for bench.json
        self.loadgen = os.path.abspath(a.loadgen)
        self.agentd = os.path.abspath(a.agentd)
        self.tsagent = os.path.abspath(a.tsagent)
        self.floor = os.path.abspath(a.floor)
        self.sa = None          # path of sandbox-agent, if installed
        self.sa_note = None

    # --- helpers -----------------------------------------------------
    def run_loadgen(self, args, timeout=120):
        p = subprocess.run([self.loadgen] + args, capture_output=True,
                           text=True, timeout=timeout)
        line = p.stdout.strip().splitlines()
        if not line:
            raise RuntimeError("loadgen: no output: " + p.stderr.strip())
        r = json.loads(line[-1])
        if p.returncode != 0:
            log("loadgen %s exit %d: %s %s" % (args[0], p.returncode,
                                               line[-1], p.stderr.strip()))
        return r

    def start_agentd(self, data_dir=None):
        port = free_port()
        data_dir = data_dir or tempfile.mkdtemp(dir=self.tmp)
        r = self.run_loadgen(["start", "--port", str(port), "--log",
                              os.path.join(self.tmp, "agentd.log"), "--",
                              self.agentd, "serve", "--host", "127.0.0.1",
                              "--port", str(port), "--data-dir", data_dir,
                              "--log-level", "warn"])
        if r["ms"] < 0:
            raise RuntimeError("agentd did not answer /v1/health")
        return r["pid"], port, r["ms"]

    def start_sa(self):
        port = free_port()
        r = self.run_loadgen(["start", "--port", str(port), "--log",
                              os.path.join(self.tmp, "sa.log"), "--",
                              self.sa, "server", "--no-telemetry",
                              "--no-token", "--host", "127.0.0.1",
                              "--port", str(port)])
        if r["ms"] < 0:
            raise RuntimeError("sandbox-agent did not answer /v1/health")
        return r["pid"], port, r["ms"]

    def start_floor(self, *args):
        """floor (health, or relay with args) on a free port."""
        port = free_port()
        r = self.run_loadgen(["start", "--port", str(port), "--log",
                              os.path.join(self.tmp, "floor.log"), "--",
                              self.floor] + list(args) +
                             ["--port", str(port)])
        if r["ms"] < 0:
            raise RuntimeError("the floor did not answer /v1/health")
        return r["pid"], port, r["ms"]

    def record(self, name, label, unit, values, target=None, check=None,
               sa=None, note=None, fmt="%.1f", floor=None):
        """One table row; values: list of floats (one per run); floor: the
        floor's values for the same figure in this run. check(median,
        ratio to the floor's median) gives PASS or FAIL."""
        med = statistics.median(values)
        res = {"label": label, "unit": unit, "median": med,
               "min": min(values), "max": max(values), "runs": values}
        verdict = ""
        ratio = None
        ftext = rtext = ""
        if floor:
            fmed = statistics.median(floor)
            ratio = med / fmed if fmed else None
            res["floor"] = {"median": fmed, "runs": floor,
                            "min": min(floor), "max": max(floor)}
            res["x_floor"] = ratio
            ftext = (fmt % fmed) + " " + unit
            rtext = "%.2fx" % ratio if ratio is not None else "?"
        if check is not None:
            res["target"] = target
            res["pass"] = bool(check(med, ratio))
            verdict = "PASS" if res["pass"] else "FAIL"
        if sa is not None:
            res["sandbox_agent"] = sa
        if note:
            res["note"] = note
        self.results[name] = res
        self.rows.append((label, (fmt % med) + " " + unit,
                          (fmt % min(values)) + " / " + (fmt % max(values)),
                          ftext, rtext, target or "", verdict,
                          sa.get("text", "") if sa else ""))

    def skip(self, name, label, why, target=""):
        self.results[name] = {"label": label, "skipped": why}
        self.rows.append((label, why, "", "", "", target, "n/a", ""))

    def session(self, http, sid, body):
        st, r = http.req("POST", "/v1/sessions/" + sid, body)
        if st != 200:
            raise RuntimeError("create %s: %s %s" % (sid, st, r))
        return r

    def wait_ready(self, http, sid, timeout=30):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            st, r = http.req("GET", "/v1/sessions/" + sid)
            if st == 200 and r["state"] == "ready" and \
                    r["queuedMessages"] == 0:
                return r
            time.sleep(0.005)
        raise RuntimeError("session %s not ready" % sid)

    # --- agentd rows --------------------------------------------------
    def size(self):
        b = os.path.getsize(self.a.stripped)
        sa = None
        if self.sa:
            sb = os.path.getsize(self.sa)
            sa = {"median": sb, "text": "%.1f MB (%.0fx)" % (sb / 1e6,
                                                             sb / b)}
        self.record("binary_size", "stripped static binary", "KiB",
                    [b / 1024.0], "<= 1024 KiB", lambda v, r: v <= 1024, sa)

    def startup_idle(self, reps):
        ms, rss, fms, frss = [], [], [], []
        for _ in range(reps):
            pid, port, t = self.start_agentd()
            ms.append(t)
            time.sleep(0.3)
            rss.append(rss_kib(pid) / 1024.0)
            stop(pid)
            pid, port, t = self.start_floor("health")
            fms.append(t)
            time.sleep(0.3)
            frss.append(rss_kib(pid) / 1024.0)
            stop(pid)
        sms, srss = [], []
        if self.sa:
            for _ in range(reps):
                pid, port, t = self.start_sa()
                sms.append(t)
                time.sleep(1.0)
                srss.append(rss_kib(pid) / 1024.0)
                stop(pid, signal.SIGKILL)
        sa1 = sa2 = None
        if sms:
            m1, m2 = statistics.median(sms), statistics.median(srss)
            sa1 = {"median": m1, "runs": sms, "text": "%.1f ms (%.0fx)" % (
                m1, m1 / statistics.median(ms))}
            sa2 = {"median": m2, "runs": srss, "text": "%.1f MiB (%.1fx)" % (
                m2, m2 / statistics.median(rss))}
        self.record("startup_ms", "exec to first /v1/health 200", "ms", ms,
                    "<= 1.5x floor", lambda v, r: r <= 1.5, sa1,
                    fmt="%.2f", floor=fms)
        self.record("idle_rss_mib", "idle RSS", "MiB", rss, "<= 1.5 MiB",
                    lambda v, r: v <= 1.5, sa2, fmt="%.2f", floor=frss)

    def per_session(self, reps, n):
        vals, notes = [], []
        for _ in range(reps):
            pid, port, _ = self.start_agentd()
            http = Http(port)
            # One session first: the first one allocates the session table,
            # the adapter registry and lws's per-connection state.
            self.session(http, "warm", {"agent": "mock"})
            self.wait_ready(http, "warm")
            time.sleep(0.1)
            before = rss_kib(pid)
            for i in range(n):
                self.session(http, "s%d" % i, {"agent": "mock"})
            end = time.monotonic() + 60
            while time.monotonic() < end:
                st, r = http.req("GET", "/v1/sessions")
                ready = sum(1 for s in r["sessions"] if s["state"] == "ready")
                if ready >= n + 1:
                    break
                time.sleep(0.05)
            time.sleep(0.3)
            after = rss_kib(pid)
            pids = [s.get("pid") for s in r["sessions"] if s.get("pid")]
            vals.append((after - before) / n)
            notes.append(ready)
            http.close()
            stop(pid)
            for p in pids:          # the mock agents exit on stdin EOF
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.record("rss_per_session_kib",
                    "agentd RSS per idle session (%d)" % n, "KiB", vals,
                    "<= 64 KiB", lambda v, r: v <= 64,
                    note="sessions ready: %s" % notes)

    def firehose(self, clients, events, transport="ws"):
        """One mock agent's firehose to `clients` subscribers; returns the
        loadgen result (frames = deliveries, elapsed = POST to last
        turn.ended)."""
        pid, port, _ = self.start_agentd()
        http = Http(port)
        try:
            self.session(http, "f", {"agent": "mock"})
            info = self.wait_ready(http, "f")
            path = "/v1/sessions/f/events/%s?offset=%d" % (
                transport, info["eventCount"])
            r = self.run_loadgen([transport, "--port", str(port), "--path",
                                  path, "--clients", str(clients),
                                  "--until", "turn.ended", "--post",
                                  "/v1/sessions/f/messages", "--body",
                                  json.dumps({"message": "firehose %d" %
                                              events}),
                                  "--timeout", "60"])
        finally:
            http.close()
            stop(pid)
        if r["gaps"] or r["failed"] or r["done"] != clients:
            raise RuntimeError("firehose: %s" % r)
        return r

    def floor_relay(self, clients, lines, transport="ws", rate=None,
                    sample=None, log=False):
        """The floor relay: the same client, lines of agentd's event size
        from a producer process writing one line per write; with log, it
        appends them to a file too, as agentd to its log."""
        args = ["relay", "--lines", str(lines)]
        if rate:
            args += ["--rate", str(rate)]
        if log:
            args += ["--log", os.path.join(tempfile.mkdtemp(dir=self.tmp),
                                           "log.jsonl")]
        pid, port, _ = self.start_floor(*args)
        try:
            extra = ["--sample", sample] if sample else []
            r = self.run_loadgen([transport, "--port", str(port), "--path",
                                  "/", "--clients", str(clients), "--until",
                                  "turn.ended", "--post", "/go", "--body",
                                  "{}", "--timeout", "60"] + extra)
        finally:
            stop(pid)
        if r["gaps"] or r["failed"] or r["done"] != clients:
            raise RuntimeError("floor relay: %s" % r)
        return r

    def throughput(self, reps):
        n, fan = self.a.ws_events, self.a.fan_events
        ws, fws, flog, sse, fsse, dl, fdl = [], [], [], [], [], [], []
        for _ in range(reps):
            ws.append(self.firehose(1, n, "ws")["rate"])
            fws.append(self.floor_relay(1, n)["rate"])
            flog.append(self.floor_relay(1, n, log=True)["rate"])
        for _ in range(reps):
            dl.append(self.firehose(100, fan, "ws")["rate"])
            fdl.append(self.floor_relay(100, fan)["rate"])
        for _ in range(reps):
            sse.append(self.firehose(1, self.a.events, "sse")["rate"])
            fsse.append(self.floor_relay(1, self.a.events, "sse")["rate"])
        self.floor_ws_rate = fws
        self.record("ws_events_per_s",
                    "events/s, agent -> 1 WebSocket client", "ev/s", ws,
                    ">= 150000, >= 0.5x floor",
                    lambda v, r: v >= 150000 and r >= 0.5, fmt="%.0f",
                    floor=fws)
        # No target: how much of the distance to the floor is the log.
        self.record("ws_events_per_s_vs_logging_floor",
                    "the same, against a floor that appends a log", "ev/s",
                    ws, fmt="%.0f", floor=flog)
        self.record("ws_deliveries_per_s",
                    "deliveries/s, 1 session -> 100 WebSocket clients",
                    "del/s", dl, ">= 1000000, >= 0.5x floor",
                    lambda v, r: v >= 1000000 and r >= 0.5, fmt="%.0f",
                    floor=fdl)
        self.sse_rate, self.floor_sse_rate = sse, fsse

    def latency_agentd(self, transport, count):
        pid, port, _ = self.start_agentd()
        http = Http(port)
        try:
            self.session(http, "l", {"agent": "acp",
                                     "agentCommand": [self.tsagent]})
            info = self.wait_ready(http, "l")
            path = "/v1/sessions/l/events/%s?offset=%d" % (
                transport, info["eventCount"])
            r = self.run_loadgen([transport, "--port", str(port), "--path",
                                  path, "--clients", "1", "--until",
                                  "turn.ended", "--sample", "item.delta",
                                  "--post",
                                  "/v1/sessions/l/messages", "--body",
                                  json.dumps({"message": "ts 1000 %d" %
                                              count}), "--timeout", "60"])
        finally:
            http.close()
            stop(pid)
        if r["gaps"] or r["samples"] < count:
            raise RuntimeError("latency: %s" % r)
        return r

    def latency(self, reps):
        n = self.a.lat_events
        ws, fl = [], []
        for _ in range(reps):
            ws.append(self.latency_agentd("ws", n))
            fl.append(self.floor_relay(1, n, rate=1000, sample="item.delta"))
        p50 = [r["lat_p50_us"] for r in ws]
        p99 = [r["lat_p99_us"] for r in ws]
        self.record("ws_latency_p50_us",
                    "stdout line -> WS client @1000/s, p50", "us", p50,
                    "<= 1.5x floor", lambda v, r: r <= 1.5,
                    floor=[r["lat_p50_us"] for r in fl])
        self.record("ws_latency_p99_us",
                    "stdout line -> WS client @1000/s, p99", "us", p99,
                    "<= 1000 us", lambda v, r: v <= 1000,
                    floor=[r["lat_p99_us"] for r in fl])
        sse, fsse = [], []
        for _ in range(reps):
            sse.append(self.latency_agentd("sse", n)["lat_p50_us"])
            fsse.append(self.floor_relay(1, n, "sse", rate=1000,
                                         sample="item.delta")["lat_p50_us"])
        self.floor_sse_p50 = fsse
        return sse

    # --- replay rows ----------------------------------------------------
    @staticmethod
    def scale_fixture(src, n, dst, pi=False):
        """A recorded fixture with its first text delta played n times:
        for claude the stream_event line as it is; for pi the
        message_update line with its partial message growing by the delta
        each time, as pi writes it (every line repeats the whole message
        so far, as "message" and as the event's "partial"). Made from a
        real recording, for speed figures only."""
        out = []
        done = False
        with open(src) as f:
            for line in f:
                e = json.loads(line)
                if done or e.get("d") != "<":
                    out.append(line)
                    continue
                o = json.loads(e["l"])
                if not pi and o.get("type") == "stream_event" and \
                        o["event"].get("type") == "content_block_delta" and \
                        o["event"]["delta"].get("type") == "text_delta":
                    out.extend([line] * n)
                    done = True
                    continue
                if pi and o.get("type") == "message_update" and \
                        o["assistantMessageEvent"].get("type") == "text_delta":
                    text = ""
                    for _ in range(n):
                        text += "word "
                        o["assistantMessageEvent"]["delta"] = "word "
                        o["message"] = {"role": "assistant", "content": [
                            {"type": "text", "text": text}]}
                        # pi repeats it in the event too (recorded lines
                        # have partial == message)
                        o["assistantMessageEvent"]["partial"] = o["message"]
                        out.append(json.dumps({"d": "<",
                                               "l": json.dumps(o)}) + "\n")
                    done = True
                    continue
                out.append(line)
        with open(dst, "w") as f:
            f.writelines(out)
        return dst

    @staticmethod
    def cpu_s(pid):
        """A process's CPU seconds so far, all its threads: the scheduler's
        run time in ns (/proc/PID/task/*/schedstat), where the kernel has
        it; else user + system ticks of /proc/PID/stat, whose 10 ms steps
        are 5% of a 0.2 s replay."""
        try:
            ns = 0
            for t in os.listdir("/proc/%d/task" % pid):
                with open("/proc/%d/task/%s/schedstat" % (pid, t)) as f:
                    ns += int(f.read().split()[0])
            return ns / 1e9
        except (OSError, ValueError, IndexError):
            pass
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf(
            "SC_CLK_TCK")

    @staticmethod
    def agent_lines(fixture, dst):
        """What the agent of a recorded fixture writes on its stdout, one
        line each, in order: the floor's input for the same replay."""
        with open(fixture) as f, open(dst, "w") as out:
            for line in f:
                e = json.loads(line)
                if e.get("d") == "<":
                    out.write(e["l"] + "\n")
        return dst

    def floor_replay_cpu(self, lines):
        """The floor relay's CPU seconds for the same agent lines: read
        from a pipe, each byte searched once for its newline, one
        event-sized frame per line to one WebSocket client."""
        pid, port, _ = self.start_floor("relay", "--replay", lines)
        try:
            c0 = self.cpu_s(pid)
            r = self.run_loadgen(["ws", "--port", str(port), "--path", "/",
                                  "--until", "turn.ended", "--post", "/go",
                                  "--body", "{}", "--timeout", "60"])
            c1 = self.cpu_s(pid)
        finally:
            stop(pid)
        if r["gaps"] or r["failed"] or r["done"] != 1:
            raise RuntimeError("floor replay: %s" % r)
        return c1 - c0

    def replay_run(self, agent, fixture, extra=None):
        """Events/s, and agentd's CPU seconds from the message to
        turn.ended (the agent's own work is not counted)."""
        pid, port, _ = self.start_agentd()
        http = Http(port)
        try:
            body = {"agent": agent, "agentCommand": ["@self", "replay-agent",
                                                     fixture]}
            body.update(extra or {})
            self.session(http, "r", body)
            time.sleep(0.05)
            st, info = http.req("GET", "/v1/sessions/r")
            path = "/v1/sessions/r/events/ws?offset=%d" % info["eventCount"]
            c0 = self.cpu_s(pid)
            r = self.run_loadgen(["ws", "--port", str(port), "--path", path,
                                  "--until", "turn.ended", "--post",
                                  "/v1/sessions/r/messages", "--body",
                                  json.dumps({"message": "replay"}),
                                  "--timeout", "60"])
            return r["rate"], self.cpu_s(pid) - c0
        finally:
            http.close()
            stop(pid)

    def replay_claude(self, reps):
        src = os.path.join(ROOT, "tests", "fixtures", "claude", "hello.jsonl")
        if not os.path.exists(src):
            self.skip("claude_replay", "claude replay (partial messages)",
                      "n/a (no tests/fixtures/claude/hello.jsonl)")
            return
        fx = self.scale_fixture(src, 20000, os.path.join(self.tmp,
                                                          "claude-20k.jsonl"))
        rates = [self.replay_run("claude", fx)[0] for _ in range(reps)]
        self.record("claude_replay_events_per_s",
                    "claude replay, 20,000 partial-message deltas", "ev/s",
                    rates, fmt="%.0f", floor=self.floor_ws_rate)

    def replay_pi(self, reps=5):
        src = os.path.join(ROOT, "tests", "fixtures", "pi", "hello.jsonl")
        if not os.path.exists(src):
            self.skip("pi_replay_linear", "pi replay: 2x deltas time ratio",
                      "n/a (no tests/fixtures/pi/hello.jsonl)", "<= 2.1")
            return
        # Pi's own output grows with the square of the deltas (each line
        # repeats the message so far); what must stay linear is agentd's
        # work, so the figure is agentd's CPU time, not the wall time.
        n = 3000
        f1 = self.scale_fixture(src, n, os.path.join(self.tmp, "pi-1x.jsonl"),
                                pi=True)
        f2 = self.scale_fixture(src, 2 * n, os.path.join(self.tmp,
                                                         "pi-2x.jsonl"),
                                pi=True)
        l1 = self.agent_lines(f1, os.path.join(self.tmp, "pi-1x.lines"))
        l2 = self.agent_lines(f2, os.path.join(self.tmp, "pi-2x.lines"))
        # What a byte of the agent's output costs, the lines' share taken
        # out: with CPU = a * lines + b * bytes and twice the lines in the
        # second run, b = (t2 - 2 t1) / (B2 - 2 B1).
        extra = os.path.getsize(l2) - 2 * os.path.getsize(l1)
        ratios, floor, per_byte, floor_byte = [], [], [], []
        for _ in range(reps):
            t1 = self.replay_run("pi", f1)[1]
            t2 = self.replay_run("pi", f2)[1]
            ratios.append(t2 / t1)
            per_byte.append((t2 - 2 * t1) / extra * 1e9)
            g1 = self.floor_replay_cpu(l1)
            g2 = self.floor_replay_cpu(l2)
            floor.append(g2 / g1)
            floor_byte.append((g2 - 2 * g1) / extra * 1e9)
        self.record("pi_replay_linear",
                    "pi replay: agentd CPU(%d deltas)/CPU(%d)" % (2 * n, n),
                    "x",
                    ratios, "<= 2.1", lambda v, r: v <= 2.1, fmt="%.2f",
                    floor=floor)
        self.record("pi_replay_per_byte",
                    "pi replay: CPU per byte of agent output", "ns/B",
                    per_byte, fmt="%.2f", floor=floor_byte)

    # --- sandbox-agent ------------------------------------------------
    def install_sa(self):
        if self.a.no_sa:
            self.sa_note = "skipped (--no-sa)"
            return
        if not os.path.exists(SA_BIN):
            os.makedirs(NPM_DIR, exist_ok=True)
            log("installing %s into %s" % (SA_PKG, NPM_DIR))
            try:
                p = subprocess.run(["npm", "install", "--prefix", NPM_DIR,
                                    "--no-audit", "--no-fund", SA_PKG],
                                   capture_output=True, text=True,
                                   timeout=120)
                if p.returncode != 0:
                    log(p.stderr.strip()[-400:])
            except (OSError, subprocess.TimeoutExpired) as e:
                log("npm: %s" % e)
        if os.path.exists(SA_BIN):
            os.chmod(SA_BIN, 0o755)
            self.sa = SA_BIN
            self.sa_home = os.path.join(self.tmp, "sa-home")
            os.makedirs(self.sa_home, exist_ok=True)
            os.environ["HOME"] = self.sa_home   # it writes ~/.local/share
        else:
            self.sa_note = "skipped (npm unreachable)"

    def sa_agent(self, argv):
        """Make sandbox-agent's "mock" agent run argv (ACP on stdio)."""
        d = os.path.join(self.sa_home, ".local", "share", "sandbox-agent",
                         "bin", "agent_processes")
        os.makedirs(d, exist_ok=True)
        f = os.path.join(d, "mock-acp")
        with open(f, "w") as fh:
            fh.write("#!/bin/sh\nexec %s\n" % " ".join(argv))
        os.chmod(f, 0o755)

    def sa_acp(self, argv, prompt, clients_args):
        """One ACP server on sandbox-agent running argv: initialize,
        session/new, then loadgen (SSE) posts session/prompt."""
        self.sa_agent(argv)
        pid, port, _ = self.start_sa()
        http = Http(port)
        try:
            sid = "bench"
            st, r = http.req("POST", "/v1/acp/%s?agent=mock" % sid, {
                "jsonrpc": "2.0", "id": 0, "method": "initialize",
                "params": {"protocolVersion": 1, "clientInfo": {
                    "name": "bench", "version": "1"}}})
            if st != 200:
                raise RuntimeError("sa initialize: %s %s" % (st, r))
            st, r = http.req("POST", "/v1/acp/%s" % sid, {
                "jsonrpc": "2.0", "id": 1, "method": "session/new",
                "params": {"cwd": self.tmp, "mcpServers": []}})
            if st != 200 or "result" not in r:
                raise RuntimeError("sa session/new: %s %s" % (st, r))
            nsid = r["result"]["sessionId"]
            body = json.dumps({"jsonrpc": "2.0", "id": 2,
                               "method": "session/prompt", "params": {
                                   "sessionId": nsid, "prompt": [{
                                       "type": "text", "text": prompt}]}})
            return self.run_loadgen(["sse", "--port", str(port), "--path",
                                     "/v1/acp/%s" % sid, "--post",
                                     "/v1/acp/%s" % sid, "--body", body,
                                     "--timeout", "90"] + clients_args,
                                    timeout=120)
        finally:
            http.close()
            stop(pid, signal.SIGKILL)

    def relay(self, reps, agentd_sse_p50):
        n = self.a.events
        if not self.sa:
            self.record("acp_relay_events_per_s",
                        "ACP firehose relay, 1 SSE client (agentd SSE)",
                        "ev/s", self.sse_rate, fmt="%.0f",
                        floor=self.floor_sse_rate, note=self.sa_note)
            self.skip("acp_relay_latency_ratio",
                      "ACP relay latency p50 vs sandbox-agent",
                      self.sa_note, "<= 1/5")
            return
        sa_rate, lossy = [], []
        for _ in range(reps + 2):
            if len(sa_rate) == reps:
                break
            r = self.sa_acp([self.agentd, "mock-agent"], "firehose %d" % n,
                            ["--expect", str(n), "--match",
                             "agent_message_chunk", "--timeout", "8"])
            if r["gaps"] or r["done"] != 1:
                # sandbox-agent's broadcast drops messages under a
                # firehose: the client never sees all n chunks.
                lossy.append("%d of %d received, %d gaps" % (
                    r["frames"], n, r["gaps"]))
                continue
            sa_rate.append(r["rate"])
        m = statistics.median(sa_rate) if sa_rate else None
        if not sa_rate:
            # agentd's figure stands; sandbox-agent has none to compare.
            self.record("acp_relay_events_per_s",
                        "ACP firehose relay, 1 SSE client (agentd SSE)",
                        "ev/s", self.sse_rate, sa={
                            "median": None, "runs": [], "lossy": lossy,
                            "text": "lost events in all %d runs" %
                            len(lossy)},
                        fmt="%.0f", floor=self.floor_sse_rate)
        else:
            self.record("acp_relay_events_per_s",
                        "ACP firehose relay, 1 SSE client (agentd SSE)",
                        "ev/s", self.sse_rate, sa={
                            "median": m, "runs": sa_rate, "lossy": lossy,
                            "text": "%.0f ev/s (agentd %.1fx)%s" % (
                                m, statistics.median(self.sse_rate) / m,
                                ", %d lossy runs" % len(lossy)
                                if lossy else "")},
                        fmt="%.0f", floor=self.floor_sse_rate)
        k = self.a.lat_events
        sa_p50 = []
        for _ in range(reps):
            r = self.sa_acp([self.tsagent], "ts 1000 %d" % k,
                            ["--expect", str(k), "--match", "@ts:"])
            sa_p50.append(r["lat_p50_us"])
        m = statistics.median(sa_p50)
        self.record("acp_relay_latency_p50_us",
                    "ACP relay p50 @1000/s, SSE (agentd)", "us",
                    agentd_sse_p50, "<= 1/5 of sandbox-agent",
                    lambda v, r: v <= m / 5, floor=self.floor_sse_p50, sa={
                        "median": m, "runs": sa_p50,
                        "text": "%.0f us (agentd/SA %.2f)" % (
                            m, statistics.median(agentd_sse_p50) / m)})

    # --- many servers at once ------------------------------------------
    def free_ports(self, n):
        """n distinct free ports: all bound at once, then let go."""
        socks = []
        try:
            for _ in range(n):
                sk = socket.socket()
                sk.bind(("127.0.0.1", 0))
                socks.append(sk)
            return [sk.getsockname()[1] for sk in socks]
        finally:
            for sk in socks:
                sk.close()

    def start_fleet(self, n, argv, home=False, setup=None):
        """Start n servers at once (loadgen fleet): each its own port and
        folder; returns (ports, dirs, pids, loadgen's answer)."""
        root = tempfile.mkdtemp(dir=self.tmp, prefix="fleet-")
        ports = self.free_ports(n)
        dirs = []
        lines = []
        for i, p in enumerate(ports):
            d = os.path.join(root, str(i))
            os.makedirs(d)
            if setup:
                setup(d)
            dirs.append(d)
            lines.append("%d %s\n" % (p, d))
        inst = os.path.join(root, "instances")
        with open(inst, "w") as f:
            f.writelines(lines)
        r = self.run_loadgen(["fleet", "--instances", inst, "--timeout",
                              "60"] + (["--home"] if home else []) +
                             ["--"] + argv, timeout=120)
        return ports, dirs, r["pids"], r

    @staticmethod
    def parallel(fn, items, workers=16):
        with concurrent.futures.ThreadPoolExecutor(workers) as ex:
            return list(ex.map(fn, items))

    def stop_all(self, pids, sig=signal.SIGTERM):
        for p in pids:
            try:
                os.kill(p, sig)
            except ProcessLookupError:
                pass
        for p in pids:
            stop(p, sig)

    @staticmethod
    def children(pid):
        try:
            with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
                return [int(x) for x in f.read().split()]
        except OSError:
            return []

    def fleet_agentd(self, n, events):
        """n agentd, each with a live mock session streaming `events`
        chunks to one client that reads all n WebSocket streams."""
        ports, dirs, pids, r = self.start_fleet(n, [
            self.agentd, "serve", "--host", "127.0.0.1", "--port", "{port}",
            "--data-dir", "{dir}", "--log-level", "warn"])
        out = {"n": n, "healthy": r["healthy"], "ms_all": r["ms_all"],
               "ms_median": r["ms_median"]}
        try:
            if r["healthy"] != n:
                raise RuntimeError("fleet: %d of %d healthy" % (
                    r["healthy"], n))

            def create(port):
                h = Http(port)
                try:
                    self.session(h, "f", {"agent": "mock"})
                    return self.wait_ready(h, "f", timeout=120)["eventCount"]
                finally:
                    h.close()
            before = self.parallel(create, ports)
            tg = os.path.join(self.tmp, "fleet-targets")
            with open(tg, "w") as f:
                for p, ec in zip(ports, before):
                    f.write(json.dumps({
                        "port": p,
                        "path": "/v1/sessions/f/events/ws?offset=%d" % ec,
                        "post": "/v1/sessions/f/messages",
                        "body": json.dumps({"message": "firehose %d" %
                                            events})}) + "\n")
            lg = self.run_loadgen(["ws", "--targets", tg, "--until",
                                   "turn.ended", "--timeout", "120"],
                                  timeout=180)
            out["rss_kib"] = sum(rss_kib(p) for p in pids)
            kids = [c for p in pids for c in self.children(p)]
            out["agents_rss_kib"] = sum(rss_kib(c) for c in kids)

            def count(port):
                h = Http(port)
                try:
                    return h.req("GET", "/v1/sessions/f")[1]["eventCount"]
                finally:
                    h.close()
            after = self.parallel(count, ports)
            stored = sum(a - b for a, b in zip(after, before))
            out.update({"events": stored, "received": lg["frames"],
                        "done": lg["done"], "failed": lg["failed"],
                        "lost": max(lg["lost"], stored - lg["frames"]),
                        "dups": lg["dups"]})
        finally:
            self.stop_all(pids)
        return out

    def fleet_sa(self, n, events):
        """The same with sandbox-agent: n servers, each its own HOME with
        the mock agent, an ACP server on each, one client reading all n SSE
        streams."""
        def setup(d):
            b = os.path.join(d, ".local", "share", "sandbox-agent", "bin",
                             "agent_processes")
            os.makedirs(b)
            with open(os.path.join(b, "mock-acp"), "w") as f:
                f.write("#!/bin/sh\nexec %s mock-agent\n" % self.agentd)
            os.chmod(os.path.join(b, "mock-acp"), 0o755)
        ports, dirs, pids, r = self.start_fleet(n, [
            self.sa, "server", "--no-telemetry", "--no-token", "--host",
            "127.0.0.1", "--port", "{port}"], home=True, setup=setup)
        out = {"n": n, "healthy": r["healthy"], "ms_all": r["ms_all"],
               "ms_median": r["ms_median"]}
        try:
            if r["healthy"] != n:
                raise RuntimeError("sa fleet: %d of %d healthy" % (
                    r["healthy"], n))

            def acp(port):
                h = Http(port)
                try:
                    st, _ = h.req("POST", "/v1/acp/f?agent=mock", {
                        "jsonrpc": "2.0", "id": 0, "method": "initialize",
                        "params": {"protocolVersion": 1, "clientInfo": {
                            "name": "bench", "version": "1"}}})
                    st, res = h.req("POST", "/v1/acp/f", {
                        "jsonrpc": "2.0", "id": 1, "method": "session/new",
                        "params": {"cwd": self.tmp, "mcpServers": []}})
                    return res["result"]["sessionId"]
                finally:
                    h.close()
            sids = self.parallel(acp, ports, workers=4)
            tg = os.path.join(self.tmp, "sa-fleet-targets")
            with open(tg, "w") as f:
                for p, sid in zip(ports, sids):
                    f.write(json.dumps({
                        "port": p, "path": "/v1/acp/f", "post": "/v1/acp/f",
                        "body": json.dumps({
                            "jsonrpc": "2.0", "id": 2,
                            "method": "session/prompt", "params": {
                                "sessionId": sid, "prompt": [{
                                    "type": "text", "text": "firehose %d" %
                                    events}]}})}) + "\n")
            lg = self.run_loadgen(["sse", "--targets", tg, "--expect",
                                   str(events), "--match",
                                   "agent_message_chunk", "--timeout", "60"],
                                  timeout=120)
            out["rss_kib"] = sum(rss_kib(p) for p in pids)
            out.update({"events": n * events, "received": lg["frames"],
                        "done": lg["done"], "failed": lg["failed"],
                        "lost": lg["lost"], "dups": lg["dups"]})
        finally:
            self.stop_all(pids, signal.SIGKILL)
        return out

    def fleet(self):
        n, k, ev = self.a.fleet, self.a.sa_fleet, self.a.fleet_events
        if n <= 0:
            return
        f = self.fleet_agentd(n, ev)
        self.fleet_out = f
        log("fleet: %s" % f)
        sa = None
        if self.sa and k > 0:
            try:
                s = self.fleet_sa(k, ev)
                log("sandbox-agent fleet: %s" % s)
                per = s["rss_kib"] / s["n"]
                sa = {"fleet": s, "text": "%d: all healthy %.0f ms, %.0f MiB "
                      "(%.1f MiB each; x%d = %.1f GiB), lost %d" % (
                          s["n"], s["ms_all"], s["rss_kib"] / 1024.0,
                          per / 1024.0, n, per * n / MIB, s["lost"] +
                          s["dups"])}
            except (RuntimeError, OSError, KeyError, ValueError) as e:
                log("sandbox-agent fleet: %s" % e)
                sa = {"text": "failed: %s" % e}
        self.record("fleet_health_ms",
                    "%d agentd: exec to all answering health" % n, "ms",
                    [f["ms_all"]], "<= 5000 ms", lambda v, r: 0 <= v <= 5000,
                    sa=sa, fmt="%.0f", note=f)
        self.record("fleet_rss_mib",
                    "%d agentd with a live session: total RSS" % n, "MiB",
                    [f["rss_kib"] / 1024.0], "<= 1024 MiB",
                    lambda v, r: v <= 1024, fmt="%.0f",
                    note="mock agents (not counted): %.0f MiB" % (
                        f["agents_rss_kib"] / 1024.0))
        self.record("fleet_lost",
                    "%d agentd: events lost + duplicated (%d streamed)" % (
                        n, f["events"]), "", [f["lost"] + f["dups"]],
                    "0", lambda v, r: v == 0 and f["done"] == n, fmt="%d")

    # --- output --------------------------------------------------------
    def table(self):
        head = ("figure", "median", "min / max", "floor", "x floor",
                "target", "", "sandbox-agent 0.4.2")
        rows = [head] + self.rows
        w = [max(len(str(r[i])) for r in rows) for i in range(len(head))]
        out = []
        for i, r in enumerate(rows):
            out.append("  ".join(str(c).ljust(w[j])
                                 for j, c in enumerate(r)).rstrip())
            if i == 0:
                out.append("  ".join("-" * x for x in w))
        return "\n".join(out)

    def run(self):
        t0 = time.monotonic()
        reps = self.a.reps
        only = set(x for x in self.a.only.split(",") if x)
        self.install_sa()
        # Figures later steps compare with, should their step not run.
        self.floor_ws_rate = self.sse_rate = self.floor_sse_rate = None
        self.floor_sse_p50 = None
        self.sse_p50 = None
        steps = [
            ("size", self.size),
            ("startup", lambda: self.startup_idle(max(reps, 5))),
            ("session", lambda: self.per_session(
                self.a.session_reps, self.a.sessions)),
            ("throughput", lambda: self.throughput(reps)),
            ("latency", lambda: setattr(self, "sse_p50",
                                        self.latency(reps))),
            ("replay", lambda: (self.replay_claude(reps), self.replay_pi())),
            ("relay", lambda: self.relay(reps, self.sse_p50)
             if self.sse_rate and self.sse_p50 else None),
            ("fleet", self.fleet),
        ]
        for name, fn in steps:
            if only and name not in only:
                continue
            t = time.monotonic()
            fn()
            log("%s: %.1f s" % (name, time.monotonic() - t))
        print(self.table())
        fails = [r["label"] for r in self.results.values()
                 if r.get("pass") is False]
        took = time.monotonic() - t0
        print("\n%d rows, %d targets missed; %.0f s" % (
            len(self.rows), len(fails), took))
        os.makedirs(os.path.dirname(os.path.abspath(self.a.json)),
                    exist_ok=True)
        with open(self.a.json, "w") as f:
            json.dump({"runs": reps, "seconds": took,
                       "sandbox_agent": self.sa_note or SA_PKG,
                       "results": self.results}, f, indent=1)
        shutil.rmtree(self.tmp, ignore_errors=True)
        return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agentd", default="build/agentd")
    ap.add_argument("--stripped", default="build/dist/agentd")
    ap.add_argument("--loadgen", default="build/bench/loadgen")
    ap.add_argument("--tsagent", default="build/bench/tsagent")
    ap.add_argument("--floor", default="build/bench/floor")
    ap.add_argument("--json", default="build/bench.json")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--session-reps", type=int, default=1)
    ap.add_argument("--sessions", type=int, default=1000)
    ap.add_argument("--events", type=int, default=20000)
    ap.add_argument("--ws-events", type=int, default=50000)
    ap.add_argument("--fan-events", type=int, default=5000)
    ap.add_argument("--fleet", type=int, default=500)
    ap.add_argument("--sa-fleet", type=int, default=20)
    ap.add_argument("--fleet-events", type=int, default=200)
    ap.add_argument("--only", default="",
                    help="comma-separated steps: size,startup,session,"
                    "throughput,latency,replay,relay,fleet")
    ap.add_argument("--lat-events", type=int, default=2000)
    ap.add_argument("--no-sa", action="store_true")
    a = ap.parse_args()
    return Bench(a).run()


if __name__ == "__main__":
    sys.exit(main())
