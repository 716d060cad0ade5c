"""Operations (issue 20): containment, limits, metrics, webhooks.

Containment: the agent tests/integration/agents/opsagent.py starts a
`setsid` daemon and a double-forked sleeper, both ignoring SIGTERM, with
stdio on /dev/null (so proc.c's pipe-holder hunt cannot see them). After
terminate, delete, agentd's shutdown and a kill -9 of agentd followed by a
restart, no process of the session may be left (checked in /proc), in the
cgroup mode (a cgroup v2 per session, skipped with a message where the
machine has no writable cgroup2) and in the subreaper mode.
"""

import os
import shutil
import signal
import sys
import tempfile
import time

from agentd import Agentd, fetch_events, free_port, problem, run_cli, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
OPSAGENT = os.path.join(HERE, "agents", "opsagent.py")
_SEQ = [0]


def _marker():
    _SEQ[0] += 1
    return f"{os.getpid()}{_SEQ[0]:02d}"


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            st = f.read()
    except OSError:
        return False
    return st[st.rfind(")") + 2] not in "ZX"


def _marked(marker):
    """Live processes whose command line holds the marker's sleep."""
    out = []
    want = f"1000.{marker}".encode()
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if want in cmd and _alive(int(d)):
            out.append(int(d))
    return out


def _agents(marker):
    """Live opsagent.py processes started with this marker."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if OPSAGENT.encode() in argv and marker.encode() in argv and _alive(int(d)):
            out.append(int(d))
    return out


def _cmd(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().replace(b"\0", b" ").decode().strip()


def _ppid(pid):
    with open(f"/proc/{pid}/stat") as f:
        st = f.read()
    return int(st[st.rfind(")") + 2:].split()[1])


def _zombies_of(pid):
    """Zombie children of pid (adopted orphans agentd did not reap)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
        except OSError:
            continue
        rest = st[st.rfind(")") + 2:].split()
        if rest[0] == "Z" and int(rest[1]) == pid:
            out.append(int(d))
    return out


def _kill_marked(marker):
    for p in _marked(marker) + _agents(marker):
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _create(a, sid, marker, **extra):
    body = {"agent": "acp", "agentCommand": [sys.executable, OPSAGENT, marker]}
    body.update(extra)
    r = a.http("POST", f"/v1/sessions/{sid}", body)
    assert r.status == 200, f"create {sid}: {r.status} {r.body[:300]!r}"
    return r.json


def _escaped(a, sid, marker):
    """Wait for the agent's two escapees; check they left its session."""
    pids = wait_for(lambda: len(_marked(marker)) == 2 and _marked(marker), 10,
        0.05, f"the agent of {sid} did not start its two escapees")
    agent = a.http("GET", f"/v1/sessions/{sid}").json["pid"]
    for p in pids:
        assert os.getsid(p) != agent, "an escapee stayed in the agent's session"
    return pids


def _gone(marker, what, timeout=8):
    """Wait until no process of the marker's session is left; seconds."""
    t0 = time.monotonic()
    wait_for(lambda: not _marked(marker) and not _agents(marker), timeout, 0.02,
        f"after {what}, processes of the session are left: "
        f"{_marked(marker) + _agents(marker)}")
    return time.monotonic() - t0


class _Mode:
    """agentd args for one containment mode, and its cleanup."""

    def __init__(self, name):
        self.name = name
        self.parent = None
        self.args = ["--containment", name, "--kill-grace", "1"]
        if name == "cgroup":
            self.parent = f"agentd-test-{os.getpid()}-{_marker()}"
            self.args += ["--cgroup-parent", self.parent]

    def instances(self):
        """agentd instance directories under the test's parent."""
        d = os.path.join(_cgroup2_root(), self.parent)
        try:
            return sorted(n for n in os.listdir(d) if n.startswith("agentd-"))
        except FileNotFoundError:
            return []

    def cgroups(self, a=None):
        """The sessions' cgroups under the test's parent, as
        "<instance>/<session cgroup>"."""
        if self.parent is None or _cgroup2_root() is None:
            return []
        if a is not None:
            info = a.http("GET", "/v1/sessions").json["sessions"]
            assert all(s["containment"] == "cgroup" for s in info), info
        d = os.path.join(_cgroup2_root(), self.parent)
        out = []
        for i in self.instances():
            try:
                out += [f"{i}/{n}" for n in os.listdir(os.path.join(d, i))
                    if os.path.isdir(os.path.join(d, i, n))]
            except FileNotFoundError:
                pass
        return sorted(out)

    def cleanup(self):
        # No cgroup2 here (a chroot without /sys): agentd made nothing.
        if self.parent is None or _cgroup2_root() is None:
            return
        d = os.path.join(_cgroup2_root(), self.parent)
        for c in self.cgroups() + self.instances():
            try:
                with open(os.path.join(d, c, "cgroup.kill"), "w") as f:
                    f.write("1")
            except OSError:
                pass
            time.sleep(0.05)
            try:
                os.rmdir(os.path.join(d, c))
            except OSError:
                pass
        try:
            os.rmdir(d)
        except OSError:
            pass


def _cgroup2_root():
    for d in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
        if os.path.exists(os.path.join(d, "cgroup.procs")) and \
                os.path.exists(os.path.join(d, "cgroup.subtree_control")):
            return d
    return None


def _modes(ctx):
    """Both modes where the machine allows; cgroup is skipped, saying why,
    when agentd cannot make a cgroup v2 here."""
    out = []
    m = _Mode("cgroup")
    a = Agentd(ctx.binary, extra_args=m.args, start=False)
    try:
        a.start()
        a.stop()
        out.append(m)
    except AssertionError as e:
        why = str(e).splitlines()[-1] if str(e) else "agentd refused"
        print(f"    skipped: cgroup mode: no writable cgroup2 ({why[:200]})")
        m.cleanup()
    finally:
        a.cleanup()
    out.append(_Mode("subreaper"))
    return out


def _containment(ctx, what):
    """Run what(a, mode) in each mode, always killing what is left."""
    for m in _modes(ctx):
        markers = []

        def mk():
            markers.append(_marker())
            return markers[-1]
        try:
            with Agentd(ctx.binary, extra_args=m.args) as a:
                what(a, m, mk)
        except AssertionError as e:
            raise AssertionError(f"[{m.name}] {e}") from None
        finally:
            for k in markers:
                _kill_marked(k)
            m.cleanup()


def test_contain_terminate(ctx):
    """Terminate ends the agent and both escapees, and removes the cgroup."""
    def run(a, m, mk):
        k = mk()
        info = _create(a, "t1", k)
        assert info["containment"] == m.name, info
        _escaped(a, "t1", k)
        if m.name == "subreaper":
            # The double-forked sleeper is re-parented to agentd once the
            # fork between them has exited, which may be a moment after
            # the sleeper shows.
            sleeper = [p for p in _marked(k) if _cmd(p).endswith(f"{k}2")]
            assert sleeper, _marked(k)
            wait_for(lambda: _ppid(sleeper[0]) == a.pid, 5, 0.02,
                f"the sleeper {sleeper[0]} is a child of "
                f"{_ppid(sleeper[0])}, not of agentd {a.pid}")
        if m.name == "cgroup":
            cg = m.cgroups(a)
            assert len(cg) == 1 and cg[0].endswith("/s-t1"), cg
            with open(os.path.join(_cgroup2_root(), m.parent, cg[0],
                    "cgroup.procs")) as f:
                procs = {int(x) for x in f.read().split()}
            assert set(_marked(k)) <= procs, (procs, _marked(k))
        t0 = time.monotonic()
        assert a.http("POST", "/v1/sessions/t1/terminate").status == 204
        _gone(k, "terminate")
        print(f"    [{m.name}] terminate: agent and escapees gone in "
            f"{time.monotonic() - t0:.2f}s")
        evs = fetch_events(a, "t1")
        assert evs[-1]["type"] == "session.ended", [e["type"] for e in evs]
        # Orphans adopted by the subreaper are reaped like any child.
        wait_for(lambda: not _zombies_of(a.pid), 5, 0.05,
            f"zombies of agentd: {_zombies_of(a.pid)}")
        wait_for(lambda: m.cgroups(a) == [], 5, 0.05,
            f"the session's cgroup is left: {m.cgroups(a)}")
    _containment(ctx, run)


def test_contain_delete(ctx):
    """DELETE ends the agent and both escapees."""
    def run(a, m, mk):
        k = mk()
        _create(a, "d1", k)
        _escaped(a, "d1", k)
        t0 = time.monotonic()
        assert a.http("DELETE", "/v1/sessions/d1").status == 204
        _gone(k, "DELETE")
        print(f"    [{m.name}] DELETE: agent and escapees gone in "
            f"{time.monotonic() - t0:.2f}s")
        wait_for(lambda: m.cgroups(a) == [], 5, 0.05,
            f"the session's cgroup is left: {m.cgroups(a)}")
        assert a.http("GET", "/v1/health").status == 200
    _containment(ctx, run)


def test_contain_shutdown(ctx):
    """agentd's shutdown (SIGTERM) ends every session's processes: two
    sessions, four escapees, none left once agentd has exited; the
    sessions stay resumable."""
    def run(a, m, mk):
        k1, k2 = mk(), mk()
        _create(a, "s1", k1)
        _create(a, "s2", k2)
        _escaped(a, "s1", k1)
        _escaped(a, "s2", k2)
        t0 = time.monotonic()
        assert a.stop(timeout=10) == 0
        took = time.monotonic() - t0
        assert not _marked(k1) + _marked(k2) + _agents(k1) + _agents(k2), \
            f"left after shutdown: {_marked(k1) + _marked(k2)}"
        assert took < 6, f"shutdown took {took:.1f}s"
        print(f"    [{m.name}] shutdown with 2 sessions, 4 escapees "
            f"ignoring SIGTERM (--kill-grace 1): {took:.2f}s, none left")
        if m.parent is not None:
            assert m.instances() == [], \
                f"cgroups left after shutdown: {m.cgroups()} {m.instances()}"
        a.start()
        st = a.http("GET", "/v1/sessions/s1").json
        assert st["state"] == "idle" and not st["ended"], st
    _containment(ctx, run)


def test_contain_after_kill9(ctx):
    """agentd killed -9: the agent and its escapees outlive it; the next
    agentd ends them all (SIGTERM, SIGKILL after --kill-grace)."""
    def run(a, m, mk):
        k = mk()
        _create(a, "k1", k)
        _escaped(a, "k1", k)
        a.kill9()
        time.sleep(0.3)
        assert len(_marked(k)) == 2 and _agents(k), \
            "nothing outlived the kill -9: the test proves nothing"
        before = m.instances() if m.parent else []
        a.start()
        t = _gone(k, "a restart after kill -9")
        if m.parent is not None:
            # The killed agentd's instance is gone with what it held.
            wait_for(lambda: not set(before) & set(m.instances()), 5, 0.05,
                f"the killed agentd's cgroups are left: {m.cgroups()}")
        print(f"    [{m.name}] after kill -9: the next agentd ended the agent "
            f"and its escapees {t:.2f}s after its start (--kill-grace 1)")
        wait_for(lambda: m.cgroups(a) == [], 5, 0.05,
            f"the session's cgroup is left: {m.cgroups(a)}")
        st = a.http("GET", "/v1/sessions/k1").json
        assert st["state"] == "idle", st
        # The session goes on: the next message starts a new agent.
        assert a.http("POST", "/v1/sessions/k1/messages",
            {"message": "hi"}).status == 204
        _escaped(a, "k1", k)
    _containment(ctx, run)


def test_contain_mode_refused(ctx):
    """--containment with another word is a usage error, not a start."""
    a = Agentd(ctx.binary, extra_args=["--containment", "jail"], start=False)
    try:
        try:
            a.start()
        except AssertionError as e:
            assert "--containment" in str(e), str(e)[-300:]
        else:
            raise AssertionError("agentd started with --containment jail")
    finally:
        a.cleanup()
    shutil.rmtree(a.tmp, ignore_errors=True)


# -- limits


def test_memory_limit_stops_the_session(ctx):
    """A session whose tool goes over its memory limit is stopped with an
    error naming the limit; agentd and another session go on. Skipped,
    saying why, where agentd has no cgroup with the memory controller."""
    k1, k2 = _marker(), _marker()
    try:
        with Agentd(ctx.binary, extra_args=["--kill-grace", "1"]) as a:
            body = {"agent": "acp", "limits": {"memory": 96 << 20},
                "agentCommand": [sys.executable, OPSAGENT, k1]}
            r = a.http("POST", "/v1/sessions/fat", body)
            if r.status == 422:
                print(f"    skipped: no memory limit here: {r.json['detail']}")
                return
            assert r.status == 200, (r.status, r.body[:300])
            assert r.json["limits"] == {"memory": 96 << 20}, r.json
            _create(a, "thin", k2)
            t0 = time.monotonic()
            assert a.http("POST", "/v1/sessions/fat/messages",
                {"message": "eat"}).status == 204
            evs = wait_for(lambda: (lambda e: e if e and e[-1]["type"] ==
                "session.ended" else None)(fetch_events(a, "fat")), 20, 0.1,
                "the session over its memory limit was not stopped")
            took = time.monotonic() - t0
            errs = [e for e in evs if e["type"] == "error"]
            assert errs and errs[0]["data"]["code"] == "memory_limit", errs
            msg = errs[0]["data"]["message"]
            assert "memory limit" in msg and str(96 << 20) in msg, msg
            assert errs[0]["data"]["details"]["limit"] == "memory", errs
            end = evs[-1]["data"]
            assert end["reason"] == "terminated" and \
                end["terminated_by"] == "daemon", end
            _gone(k1, "the memory limit")
            # agentd and the other session go on.
            assert a.http("GET", "/v1/health").status == 200
            assert a.http("POST", "/v1/sessions/thin/messages",
                {"message": "still here"}).status == 204
            wait_for(lambda: any(e["type"] == "turn.ended" for e in
                fetch_events(a, "thin")), 10, 0.05, "the other session stalled")
            print(f"    memory limit: stopped {took:.1f}s after the prompt")
    finally:
        _kill_marked(k1)
        _kill_marked(k2)


def test_pids_limit_is_told_and_the_session_goes_on(ctx):
    """Forks past limits.pids fail in the agent; an error event (code
    pids_limit) names the limit; the turn ends and the session goes on.
    Skipped, saying why, where agentd has no pids controller."""
    k = _marker()
    try:
        with Agentd(ctx.binary, extra_args=["--kill-grace", "1"]) as a:
            r = a.http("POST", "/v1/sessions/pp", {"agent": "acp",
                "limits": {"pids": 16},
                "agentCommand": [sys.executable, OPSAGENT, k]})
            if r.status == 422:
                print(f"    skipped: no pids limit here: {r.json['detail']}")
                return
            assert r.status == 200, (r.status, r.body[:300])
            _escaped(a, "pp", k)
            assert a.http("POST", "/v1/sessions/pp/messages",
                {"message": "fork"}).status == 204
            evs = wait_for(lambda: (lambda e: e if any(x["type"] == "turn.ended"
                for x in e) else None)(fetch_events(a, "pp")), 15, 0.1,
                "the forking turn did not end")
            text = "".join(e["data"]["delta"] for e in evs
                if e["type"] == "item.delta")
            n = int(text.split("forked ")[1].split()[0])
            assert n < 48, f"{n} of 48 forks under pids.max 16"
            errs = wait_for(lambda: [e["data"] for e in fetch_events(a, "pp")
                if e["type"] == "error"], 5, 0.1, "no error event for the pids limit")
            assert errs[0]["code"] == "pids_limit" and "16" in errs[0]["message"], errs
            st = a.http("GET", "/v1/sessions/pp").json
            assert st["state"] == "ready" and st["limits"] == {"pids": 16}, st
            assert a.http("POST", "/v1/sessions/pp/terminate").status == 204
            _gone(k, "terminate")
            print(f"    pids limit 16: {n} of 48 forks allowed, then {errs[0]['message']!r}")
    finally:
        _kill_marked(k)


def test_limits_refused_with_problems(ctx):
    """--max-sessions and --max-processes answer 429 problems, a message
    that would start an agent over the budget also puts an error event in
    the session, and a malformed limit is a 400."""
    k = _marker()
    try:
        with Agentd(ctx.binary, extra_args=["--max-sessions", "2",
                "--max-processes", "1", "--kill-grace", "1"]) as a:
            _create(a, "p1", k)
            p = problem(a.http("POST", "/v1/sessions/p2", {"agent": "mock"}), 429)
            assert "--max-processes 1" in p["detail"], p
            assert a.http("GET", "/v1/sessions/p2").status == 404
            a.restart()                 # p1 is idle now: no process
            _gone(k, "the restart")
            assert a.http("POST", "/v1/sessions/p2", {"agent": "mock"}).status == 200
            p = problem(a.http("POST", "/v1/sessions/p3", {"agent": "mock"}), 429)
            assert "--max-sessions 2" in p["detail"], p
            # p1's next message needs a process: refused, and said in p1.
            p = problem(a.http("POST", "/v1/sessions/p1/messages",
                {"message": "hi"}), 429)
            assert "--max-processes 1" in p["detail"], p
            errs = [e["data"] for e in fetch_events(a, "p1") if e["type"] == "error"]
            assert errs and errs[-1]["code"] == "process_limit", errs
            # p2 ends: its process slot is free again.
            assert a.http("POST", "/v1/sessions/p2/terminate").status == 204
            wait_for(lambda: a.http("GET", "/v1/sessions/p2").json["ended"], 5)
            assert a.http("POST", "/v1/sessions/p1/messages",
                {"message": "hi"}).status == 204
            wait_for(lambda: any(e["type"] == "turn.ended" for e in
                fetch_events(a, "p1")), 10, 0.05, "p1 did not run its turn")
            bad = problem(a.http("POST", "/v1/sessions/p4", {"agent": "mock",
                "limits": {"memory": "lots"}}), 400)
            assert "limits" in bad["detail"], bad
    finally:
        _kill_marked(k)


# -- metrics

def _promtool():
    """promtool's path, or None (tests/metrics/suite.sh installs it and
    sets AGENTD_REQUIRE_PROMTOOL=1, so that a missing one fails there)."""
    p = shutil.which("promtool")
    if p is None and os.environ.get("AGENTD_REQUIRE_PROMTOOL") == "1":
        raise AssertionError("promtool is required (AGENTD_REQUIRE_PROMTOOL=1) "
            "and not installed")
    return p


def _parse_metrics(text):
    """{(name, frozenset(labels)): value} of the Prometheus text format;
    checks that every sample's family has HELP and TYPE first."""
    out, typed = {}, set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
            continue
        if not line or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        name, _, labels = head.partition("{")
        fam = name
        for suf in ("_bucket", "_sum", "_count"):
            if name.endswith(suf) and name[:-len(suf)] in typed:
                fam = name[:-len(suf)]
        assert fam in typed, f"sample before its TYPE: {line!r}"
        lab = {}
        labels = labels.rstrip("}")
        while labels:
            k, _, rest = labels.partition('="')
            v, i = "", 0
            while rest[i] != '"':
                if rest[i] == "\\":
                    i += 1
                v += rest[i]
                i += 1
            lab[k] = v
            labels = rest[i + 1:].lstrip(",")
        out[(name, frozenset(lab.items()))] = float(value)
    return out


def _metric(m, name, **labels):
    key = (name, frozenset(labels.items()))
    assert key in m, f"no sample {name}{labels}"
    return m[key]


def _scrape(a, check=True):
    r = a.http("GET", "/v1/metrics")
    assert r.status == 200, (r.status, r.body[:300])
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4"), r.headers
    text = r.body.decode()
    tool = _promtool() if check else None
    if tool:
        import subprocess
        p = subprocess.run([tool, "check", "metrics"], input=r.body,
            capture_output=True, timeout=30)
        assert p.returncode == 0, \
            f"promtool check metrics: {p.stdout.decode()}{p.stderr.decode()}"
    return _parse_metrics(text)


def test_metrics(ctx):
    """GET /v1/metrics needs the token, passes `promtool check metrics`,
    and tells the tokens and cost of known mock turns (input: the
    message's length, output: 10, cost: $0.0001 a turn), as turn.ended
    said them; by-agent counters survive a DELETE, session counters a
    restart."""
    texts = ["hello", "a longer message"]
    with Agentd(ctx.binary, token="tok") as a:
        problem(a.http("GET", "/v1/metrics", token=None), 401)
        assert a.http("POST", "/v1/sessions/m1", {"agent": "mock"}).status == 200
        for t in texts:
            assert a.http("POST", "/v1/sessions/m1/messages",
                {"message": t}).status == 204
        wait_for(lambda: sum(e["type"] == "turn.ended" for e in
            fetch_events(a, "m1")) == 2, 10, 0.05, "two turns did not end")
        ended = [e["data"] for e in fetch_events(a, "m1") if e["type"] == "turn.ended"]
        m = _scrape(a)
        s = {"session": "m1", "agent": "mock"}
        assert _metric(m, "agentd_session_turns_total", **s) == 2
        inp = _metric(m, "agentd_session_tokens_total", type="input", **s)
        out = _metric(m, "agentd_session_tokens_total", type="output", **s)
        cost = _metric(m, "agentd_session_cost_usd_total", **s)
        assert inp == sum(len(t) for t in texts) == \
            sum(d["usage"]["input_tokens"] for d in ended), (inp, ended)
        assert out == 20 == sum(d["usage"]["output_tokens"] for d in ended), out
        assert abs(cost - 0.0002) < 1e-9 and \
            abs(cost - sum(d["cost_usd"] for d in ended)) < 1e-9, (cost, ended)
        evs = fetch_events(a, "m1")
        assert _metric(m, "agentd_session_events_total", **s) == len(evs)
        assert _metric(m, "agentd_session_state", state="ready", **s) == 1
        assert _metric(m, "agentd_session_processes", **s) >= 1
        assert _metric(m, "agentd_session_cpu_seconds_total", **s) >= 0
        assert _metric(m, "agentd_session_pending_permissions", **s) == 0
        assert _metric(m, "agentd_processes") == 1
        assert _metric(m, "agentd_store_bytes") == \
            os.path.getsize(os.path.join(a.data_dir, "sessions", "m1", "events.jsonl"))
        assert _metric(m, "agentd_store_fdatasync_seconds_count") >= 2
        assert _metric(m, "agentd_clients") >= 1
        assert _metric(m, "agentd_sent_bytes_total") > 0
        assert _metric(m, "process_resident_memory_bytes") > 100000
        assert _metric(m, "process_open_fds") > 3
        # A permission waits: pending shows it.
        assert a.http("POST", "/v1/sessions/m1/messages",
            {"message": "permission please"}).status == 204
        wait_for(lambda: _metric(_scrape(a, False),
            "agentd_session_pending_permissions", **s) == 1, 10, 0.05,
            "the pending permission is not in the metrics")
        # By agent, a deleted session still counts.
        before = _metric(m, "agentd_agent_cost_usd_total", agent="mock")
        assert a.http("POST", "/v1/sessions/m2", {"agent": "mock"}).status == 200
        assert a.http("POST", "/v1/sessions/m2/messages", {"message": "x"}).status == 204
        wait_for(lambda: any(e["type"] == "turn.ended" for e in
            fetch_events(a, "m2")), 10, 0.05)
        assert a.http("DELETE", "/v1/sessions/m2").status == 204
        m = _scrape(a)
        assert abs(_metric(m, "agentd_agent_cost_usd_total", agent="mock")
            - (before + 0.0001)) < 1e-9
        assert _metric(m, "agentd_agent_tokens_total", agent="mock",
            type="input") == inp + 1
        # Session counters are kept across a restart (session.json).
        a.restart()
        m = _scrape(a)
        assert _metric(m, "agentd_session_tokens_total", type="input", **s) >= inp
        assert abs(_metric(m, "agentd_session_cost_usd_total", **s) - cost) < 1e-9
        assert _metric(m, "agentd_session_state", state="idle", **s) == 1


# -- webhooks

class _Receiver:
    """A webhook receiver (python http.server in a thread) that answers
    500 to every third request, can be taken down and brought back on the
    same port, and records every request with its HMAC checked."""

    def __init__(self, secrets):
        import threading
        self.secrets = secrets          # session id -> secret (bytes)
        self.port = free_port()
        self.lock = threading.Lock()
        self.requests = []              # dicts, in arrival order
        self.count = 0
        self.server = None
        self.up()

    def up(self):
        import http.server
        import threading
        rec = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                import hashlib
                import hmac
                import json as js
                n = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(n)
                with rec.lock:
                    rec.count += 1
                    status = 500 if rec.count % 3 == 0 else 200
                    d = js.loads(body)
                    sid = d["session_id"]
                    want = "sha256=" + hmac.new(rec.secrets[sid], body,
                        hashlib.sha256).hexdigest()
                    rec.requests.append({"session": sid, "status": status,
                        "first": d["first_sequence"], "last": d["last_sequence"],
                        "header": self.headers.get("x-agentd-sequence"),
                        "events": d["events"],
                        "signed": self.headers.get("x-agentd-signature") == want})
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), H)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self):
        self.server.shutdown()
        self.server.server_close()

    def got(self, sid):
        """{sequence: event} acknowledged (2xx) for the session."""
        out = {}
        with self.lock:
            for r in self.requests:
                if r["session"] == sid and r["status"] == 200:
                    for e in r["events"]:
                        out[e["sequence"]] = e
        return out


def test_webhooks(ctx):
    """Two sessions deliver to one receiver, one by its own webhook
    (batches of 10), one by the daemon's --webhook with
    --webhook-secret-file. The receiver fails every third request and is
    down for 10 s; agentd is killed -9 once meanwhile and started again.
    Every event arrives, each request in order (no sequence before the one
    that precedes it arrived), each sequence at least once, every request
    signed right, and SessionInfo tells the delivery state."""
    rec = _Receiver({"own": b"own-secret", "daemon": b"daemon-secret"})
    d = tempfile.mkdtemp(prefix="agentd-wh-")
    secret = os.path.join(d, "secret")
    with open(secret, "w") as f:
        f.write("daemon-secret\n")
    url = f"http://127.0.0.1:{rec.port}/hook"
    try:
        with Agentd(ctx.binary, extra_args=["--webhook", url,
                "--webhook-secret-file", secret, "--kill-grace", "1"]) as a:
            r = a.http("POST", "/v1/sessions/own", {"agent": "mock",
                "webhook": {"url": url, "secret": "own-secret", "batch": 10}})
            assert r.status == 200, (r.status, r.body[:300])
            assert r.json["webhook"]["url"] == url and r.json["webhook"]["own"], r.json
            assert "own-secret" not in r.body.decode()
            assert a.http("POST", "/v1/sessions/daemon",
                {"agent": "mock"}).status == 200
            t0 = time.monotonic()
            failing_seen = False
            for i in range(14):
                if i == 3:
                    rec.down()
                    down_at = time.monotonic()
                if i == 6:
                    a.kill9()           # in the middle, receiver down
                    a.start()
                if i == 10:
                    time.sleep(max(0, 10 - (time.monotonic() - down_at)))
                    rec.up()
                for sid in ("own", "daemon"):
                    assert a.http("POST", f"/v1/sessions/{sid}/messages",
                        {"message": f"hello {i}"}).status == 204
                time.sleep(0.4)
                st = a.http("GET", "/v1/sessions/own").json["webhook"]
                failing_seen |= st["failures"] > 0 and st["state"] == "retrying"
            assert failing_seen, "the receiver's outage never showed in SessionInfo"
            for sid in ("own", "daemon"):
                wait_for(lambda: sum(e["type"] == "turn.ended" for e in
                    fetch_events(a, sid)) >= 14, 20, 0.1,
                    f"{sid}: the turns did not all end")
            logs = {sid: fetch_events(a, sid) for sid in ("own", "daemon")}
            for sid, evs in logs.items():
                wait_for(lambda: len(rec.got(sid)) == len(evs), 60, 0.1,
                    f"{sid}: {len(rec.got(sid))} of {len(evs)} events "
                    f"delivered: {a.http('GET', f'/v1/sessions/{sid}').json.get('webhook')}")
            took = time.monotonic() - t0
            for sid, evs in logs.items():
                got = rec.got(sid)
                for e in evs:
                    g = got[e["sequence"]]
                    e = {k: v for k, v in e.items() if k != "raw"}
                    assert g == e, f"{sid}: event {e['sequence']} differs: {g} != {e}"
                seen, dups = 0, 0
                reqs = [r for r in rec.requests if r["session"] == sid]
                for r in reqs:
                    seqs = [e["sequence"] for e in r["events"]]
                    assert seqs == list(range(r["first"], r["last"] + 1)), seqs
                    assert r["header"] == f"{r['first']}-{r['last']}", r
                    assert r["first"] <= seen + 1, \
                        f"{sid}: events {r['first']}.. sent before {seen + 1}"
                    if r["status"] == 200:
                        dups += max(0, min(seen, r["last"]) - r["first"] + 1)
                        seen = max(seen, r["last"])
                assert all(r["signed"] for r in reqs), f"{sid}: a bad signature"
                if sid == "own":
                    assert all(len(r["events"]) <= 10 for r in reqs)
                st = a.http("GET", f"/v1/sessions/{sid}").json["webhook"]
                wait_for(lambda: a.http("GET", f"/v1/sessions/{sid}").json
                    ["webhook"]["pending"] == 0, 5, 0.05)
                print(f"    webhook {sid}: {len(evs)} events in {len(reqs)} "
                    f"requests ({sum(r['status'] != 200 for r in reqs)} "
                    f"failed), {dups} sent twice; all in {took:.1f}s")
            fails = sum(r["status"] == 500 for r in rec.requests)
            assert fails >= 3, f"only {fails} requests were failed"
    finally:
        rec.down() if rec.server else None
        shutil.rmtree(d, ignore_errors=True)


def test_webhook_refused_urls(ctx):
    """https:// (no TLS here) and malformed webhooks are 400s; so is a
    --webhook that is not http:// at start."""
    with Agentd(ctx.binary) as a:
        p = problem(a.http("POST", "/v1/sessions/x", {"agent": "mock",
            "webhook": {"url": "https://example.com/hook"}}), 400)
        assert "TLS" in p["detail"], p
        for bad in ({"url": "ftp://x"}, {"url": "http://"}, "http://x",
                {"url": "http://127.0.0.1:9/h", "batch": 0},
                {"url": "http://127.0.0.1:9/h", "secret": ""}):
            problem(a.http("POST", "/v1/sessions/x", {"agent": "mock",
                "webhook": bad}), 400)
        assert a.http("GET", "/v1/sessions/x").status == 404
    rc, out, err = run_cli(ctx.binary, ["serve", "--webhook", "https://x/h"])
    assert rc == 2 and "http://" in err, (rc, err)
