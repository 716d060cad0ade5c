"""Robustness of sessions and agent processes (issue 13, items 3-8, 12-14).

Each test is an attack of the adversarial pass that broke agentd 686f327:
an agent's grandchild that escapes its group and keeps stdout open, a queue
left behind by an ended session, an agent that ignores cancel, a full disk
at create, two daemons on one data dir, agents left behind by a kill -9,
running out of descriptors, commands that do not exist, garbage on stdout.
The misbehaving agents are small shell or Python commands given as the
`acp` agent's agentCommand, or tests/chaos/agents/fakeacp.py MODE.
"""

import json
import os
import resource
import signal
import subprocess
import tempfile
import time

from agentd import Agentd, check_contiguous, fetch_events, problem, run_cli, \
    free_port, wait_for
from test_faults import _alive, _create, _events, _fill, _group, \
    _mount_tmpfs, _pid, _send, _wait_type

SAN = os.environ.get("AGENTD_SAN") == "1"


def _state(a, sid):
    r = a.http("GET", f"/v1/sessions/{sid}")
    assert r.status == 200, (r.status, r.body[:300])
    return r.json


def _cmdline_pids(marker, exact=None):
    """Live processes whose command line contains marker (or is exactly
    the argv `exact`)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if exact is not None:
            hit = cmd.split(b"\0")[:-1] == [x.encode() for x in exact]
        else:
            hit = marker.encode() in cmd
        if hit and _alive(int(d)):
            out.append(int(d))
    return out


def _kill_all(pids):
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _start_time(pid):
    with open(f"/proc/{pid}/stat") as f:
        st = f.read()
    return int(st[st.rfind(")") + 2:].split()[19])


# -- item 3: a detached grandchild keeps the agent's stdout open

def test_detached_grandchild_does_not_make_a_session_immortal(ctx):
    """The agent exits 3 at once; a grandchild that left its process group
    (setsid) and ignores TERM and HUP keeps its stdout open. The exit, not
    the pipe, ends the session: session.ended with exit code 3 within a
    short grace, and the grandchild does not outlive the session."""
    marker = f"45.{os.getpid()}1"
    inner = (f"setsid sh -c 'trap \"\" TERM HUP; sleep {marker}' & "
        "while [ \"$(cut -d' ' -f6 /proc/$!/stat)\" != $! ]; do sleep 0.05; done; "
        "exit 3")
    try:
        with Agentd(ctx.binary, extra_args=["--kill-grace", "1"]) as a:
            r = a.http("POST", "/v1/sessions/imm", {"agent": "acp",
                "agentCommand": ["sh", "-c", inner]})
            assert r.status == 200, (r.status, r.body[:300])
            t0 = time.monotonic()
            evs = _wait_type(a, "imm", "session.ended", timeout=8)
            took = time.monotonic() - t0
            check_contiguous(evs)
            end = evs[-1]
            assert end["type"] == "session.ended", [e["type"] for e in evs]
            assert end["data"]["reason"] == "error" and \
                end["data"].get("exit_code") == 3, end
            assert took < 5, f"the session took {took:.1f}s to end"
            st = _state(a, "imm")
            assert st["state"] == "ended" and "pid" not in st, st
            wait_for(lambda: not _cmdline_pids(marker), 5,
                msg=f"the detached grandchild outlived its session: {_cmdline_pids(marker)}")
            assert a.http("POST", "/v1/sessions/imm/terminate").status in (204, 409)
            assert _state(a, "imm")["state"] == "ended"
            assert a.http("DELETE", "/v1/sessions/imm").status == 204
            assert a.http("GET", "/v1/sessions/imm").status == 404
    finally:
        _kill_all(_cmdline_pids(marker))


def test_terminate_with_a_detached_grandchild_is_never_stuck(ctx):
    """The agent runs (sleep), its detached grandchild holds stdout:
    terminate ends the agent and the session, never stuck in stopping."""
    marker = f"46.{os.getpid()}2"
    inner = (f"setsid sh -c 'trap \"\" TERM HUP; sleep {marker}' & "
        "exec sleep 30")
    try:
        with Agentd(ctx.binary, extra_args=["--kill-grace", "1"]) as a:
            r = a.http("POST", "/v1/sessions/stk", {"agent": "acp",
                "agentCommand": ["sh", "-c", inner]})
            assert r.status == 200, (r.status, r.body[:300])
            pid = _pid(a, "stk")
            gc = wait_for(lambda: _cmdline_pids(marker, ["sleep", marker]), 5,
                msg="no grandchild")
            assert os.getsid(gc[0]) != pid, "the grandchild did not leave"
            t0 = time.monotonic()
            assert a.http("POST", "/v1/sessions/stk/terminate").status == 204
            evs = _wait_type(a, "stk", "session.ended", timeout=8)
            took = time.monotonic() - t0
            end = evs[-1]
            assert end["data"]["reason"] == "terminated" and \
                end["data"]["terminated_by"] == "daemon", end
            assert took < 5, f"terminate took {took:.1f}s"
            assert _state(a, "stk")["state"] == "ended"
            assert not _alive(pid), pid
            wait_for(lambda: not _cmdline_pids(marker), 5,
                msg="the detached grandchild outlived its session")
    finally:
        _kill_all(_cmdline_pids(marker))


# -- item 4: an ended session drops its queue

def test_ended_session_drops_its_queue(ctx):
    with Agentd(ctx.binary, extra_args=["--kill-grace", "1"]) as a:
        _create(a, "q", None, agent="mock")
        _send(a, "q", "permission please")
        _wait_type(a, "q", "permission.requested")
        big = "z" * (4 << 20)
        for _ in range(6):
            _send(a, "q", big)
        assert _state(a, "q")["queuedMessages"] == 6
        before = a.rss_kib()
        assert a.http("POST", "/v1/sessions/q/terminate").status == 204
        evs = _wait_type(a, "q", "session.ended", timeout=6)
        check_contiguous(evs)
        t = [e["type"] for e in evs]
        drop = [e for e in evs if e["type"] == "error"
            and e["data"].get("code") == "queue_dropped"]
        assert len(drop) == 1, t
        assert drop[0]["data"]["details"]["count"] == 6, drop[0]
        assert "6" in drop[0]["data"]["message"], drop[0]
        assert evs.index(drop[0]) < t.index("session.ended"), t
        assert t[-1] == "session.ended", t
        assert _state(a, "q")["queuedMessages"] == 0
        after = a.rss_kib()
        if not SAN:
            assert after < before - 16 * 1024, \
                f"RSS {before} -> {after} KiB: the queued messages were kept"


# -- item 5: cancel has a fallback

def test_cancel_ignored_ends_turn_and_restarts_agent(ctx):
    with Agentd(ctx.binary, extra_args=["--cancel-grace", "1",
            "--kill-grace", "1"]) as a:
        _create(a, "c", "hang")
        pid = _pid(a, "c")
        _send(a, "c", "hello")
        _wait_type(a, "c", "item.delta")
        t0 = time.monotonic()
        assert a.http("POST", "/v1/sessions/c/cancel").status == 204
        evs = _wait_type(a, "c", "turn.ended", timeout=6)
        took = time.monotonic() - t0
        assert 0.8 < took < 4, f"the cancel fallback took {took:.1f}s"
        check_contiguous(evs)
        te = [e for e in evs if e["type"] == "turn.ended"][-1]
        assert te["data"]["stop_reason"] == "cancelled", te
        err = [e for e in evs if e["type"] == "error"
            and e["data"].get("code") == "cancel_ignored"]
        assert err and evs.index(err[0]) < evs.index(te), [e["type"] for e in evs]
        st = wait_for(lambda: (lambda s: s if s["state"] == "idle" else None)(
            _state(a, "c")), 5, msg="the session did not go idle")
        assert "pid" not in st and not st["ended"], st
        wait_for(lambda: not _group(pid), 5, msg=f"old agent left: {_group(pid)}")
        assert "session.ended" not in [e["type"] for e in _events(a, "c")]
        # the next message starts the agent again
        _send(a, "c", "again")
        pid2 = _pid(a, "c")
        assert pid2 != pid
        _wait_type(a, "c", "turn.started", 2)
        assert _state(a, "c")["state"] == "running"


def test_cancel_option_in_help(ctx):
    rc, out, _ = run_cli(ctx.binary, ["serve", "--help"])
    assert rc == 0 and "--cancel-grace" in out, out[-600:]


# -- item 6: a full disk at create; a session whose session.json is lost

def test_create_on_a_full_disk_is_507_and_leaves_nothing(ctx):
    mnt, why = _mount_tmpfs("2m")
    if mnt is None:
        print(f"    skipped: cannot mount a tmpfs ({why})")
        return
    try:
        with Agentd(ctx.binary, data_dir=os.path.join(mnt, "data")) as a:
            filler = _fill(mnt)
            r = a.http("POST", "/v1/sessions/full", {"agent": "mock"})
            problem(r, 507)
            assert not os.path.exists(os.path.join(a.data_dir, "sessions", "full")), \
                os.listdir(os.path.join(a.data_dir, "sessions"))
            assert a.http("GET", "/v1/sessions/full").status == 404
            os.unlink(filler)
            r = a.http("POST", "/v1/sessions/full", {"agent": "mock"})
            assert r.status == 200, (r.status, r.body[:300])
            _send(a, "full", "hi")
            _wait_type(a, "full", "turn.ended")
            a.restart()
            assert a.http("GET", "/v1/sessions/full").status == 200
    finally:
        subprocess.run(["umount", "-l", mnt], capture_output=True)
        os.rmdir(mnt)


def test_lost_session_json_is_rebuilt_from_the_log(ctx):
    with Agentd(ctx.binary) as a:
        cwd = tempfile.mkdtemp(prefix="agentd-cwd-", dir=a.tmp)
        r = a.http("POST", "/v1/sessions/lost", {"agent": "mock", "cwd": cwd,
            "model": "m-1"})
        assert r.status == 200, r.body
        _send(a, "lost", "hello")
        before = _wait_type(a, "lost", "turn.ended")
        native = _state(a, "lost").get("nativeSessionId")
        a.stop()
        meta = os.path.join(a.data_dir, "sessions", "lost", "session.json")
        os.unlink(meta)
        a.start()
        r = a.http("GET", "/v1/sessions/lost")
        assert r.status == 200, "a session whose log exists was lost"
        st = r.json
        assert st["agent"] == "mock" and st["directory"] == cwd, st
        assert st.get("model") == "m-1" and st["state"] == "idle", st
        assert st.get("nativeSessionId") == native, (st, native)
        assert fetch_events(a, "lost")[:len(before)] == before
        assert os.path.exists(meta), "session.json was not written back"
        assert "rebuilt" in a.stderr_text()
        _send(a, "lost", "again")
        _wait_type(a, "lost", "turn.ended", 2)


# -- item 7: one daemon per data dir

def test_second_daemon_on_one_data_dir_is_refused(ctx):
    with Agentd(ctx.binary) as a:
        try:
            rc, out, err = run_cli(ctx.binary, ["serve", "--port", str(free_port()),
                "--data-dir", a.data_dir], timeout=5)
        except subprocess.TimeoutExpired:
            raise AssertionError("a second agentd serves the same data dir") from None
        assert rc != 0, rc
        assert str(a.pid) in err and a.data_dir in err, err[-500:]
        assert a.http("GET", "/v1/health").status == 200
        a.restart()    # the lock goes with the process


# -- item 8: agents left behind by a kill -9 of agentd

def test_agents_left_by_a_killed_agentd_are_ended(ctx):
    with Agentd(ctx.binary, extra_args=["--kill-grace", "1"]) as a:
        _create(a, "o", "ignoreterm")
        pid = _pid(a, "o")
        # past the handshake: an agent writing to a dead agentd would die
        wait_for(lambda: _state(a, "o").get("nativeSessionId"), 5,
            msg="no handshake")
        with open(os.path.join(a.data_dir, "sessions", "o", "session.json")) as f:
            meta = json.load(f)
        started = _start_time(pid)
        a.kill9()
        time.sleep(0.3)
        assert _alive(pid), "the agent died with agentd: nothing to test"
        try:
            mark = len(a.stderr_text())
            a.start()
            wait_for(lambda: not _alive(pid) and not _group(pid), 5,
                msg=f"agent {pid} of the killed agentd still runs")
            assert str(pid) in a.stderr_text()[mark:], a.stderr_text()[mark:][-800:]
            st = _state(a, "o")
            assert st["state"] == "idle" and "pid" not in st, st
            assert meta.get("agentPid") == pid and \
                meta.get("agentStart") == started, meta
            _send(a, "o", "hello")
            assert _pid(a, "o") != pid
        finally:
            _kill_all(_group(pid))


def test_orphan_check_never_signals_another_process(ctx):
    """A recorded pid whose start time (or boot) differs is someone
    else's: never signalled."""
    victim = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        with Agentd(ctx.binary, extra_args=["--kill-grace", "0.5"]) as a:
            for sid in ("p1", "p2"):
                _create(a, sid, None, agent="mock")
            a.stop()
            for sid, start, boot in (("p1", _start_time(victim.pid) + 1, None),
                    ("p2", _start_time(victim.pid), "another-boot")):
                path = os.path.join(a.data_dir, "sessions", sid, "session.json")
                with open(path) as f:
                    meta = json.load(f)
                meta["agentPid"] = victim.pid
                meta["agentStart"] = start
                if boot:
                    meta["agentBoot"] = boot
                with open(path, "w") as f:
                    json.dump(meta, f)
            a.start()
            time.sleep(1.5)
            assert victim.poll() is None, "agentd signalled a process that is not its agent"
            for sid in ("p1", "p2"):
                assert _state(a, sid)["state"] == "idle"
    finally:
        victim.kill()
        victim.wait()


# -- item 12: out of descriptors; a failed spawn; empty directories

def _limited(ctx, n, flag="-n"):
    """A wrapper that runs agentd under `ulimit <flag> n` (-n: the soft and
    hard limits on descriptors, -Sn: the soft one only)."""
    d = tempfile.mkdtemp(prefix="agentd-ulimit-")
    w = os.path.join(d, "agentd")
    with open(w, "w") as f:
        f.write(f"#!/bin/sh\nulimit {flag} {n}\nexec '{os.path.abspath(ctx.binary)}' \"$@\"\n")
    os.chmod(w, 0o755)
    return w


def test_out_of_descriptors_is_503_and_frees_the_id(ctx):
    with Agentd(_limited(ctx, 64)) as a:
        made, r = [], None
        for i in range(64):
            r = a.http("POST", f"/v1/sessions/s{i}", {"agent": "mock"})
            if r.status != 200:
                break
            made.append(f"s{i}")
        assert made and r is not None and r.status != 200, "never ran out"
        sid = f"s{len(made)}"
        problem(r, 503)
        ra = r.headers.get("retry-after", "")
        assert ra.isdigit() and int(ra) > 0, r.headers
        assert a.http("GET", f"/v1/sessions/{sid}").status == 404
        assert not os.path.exists(os.path.join(a.data_dir, "sessions", sid))
        for s in made[:3]:
            assert a.http("DELETE", f"/v1/sessions/{s}").status == 204

        def retry():
            r = a.http("POST", f"/v1/sessions/{sid}", {"agent": "mock"})
            assert r.status in (200, 503), (r.status, r.body[:300])
            return r.status == 200
        wait_for(retry, 5, 0.2, msg=f"the id {sid} stays taken")
        _send(a, sid, "hi")
        _wait_type(a, sid, "turn.ended")


def _stored_sessions(ctx, n):
    """An agentd data dir holding n ended mock sessions, made by an agentd
    under no extra limit: each created, spoken to once and terminated."""
    a = Agentd(ctx.binary)
    try:
        for i in range(n):
            sid = f"old{i}"
            r = a.http("POST", f"/v1/sessions/{sid}", {"agent": "mock"})
            assert r.status == 200, (sid, r.status, r.body[:300])
            assert a.http("POST", f"/v1/sessions/{sid}/terminate").status == 204
        for i in range(n):
            _wait_type(a, f"old{i}", "session.ended")
    finally:
        a.stop()
    return a.data_dir


def _fds(a):
    return len(os.listdir(f"/proc/{a.pid}/fd"))


def test_stored_sessions_hold_no_descriptors(ctx):
    # Before, each stored session kept its events.jsonl open twice: 40 of
    # them under a hard limit of 64 left agentd unable to listen at all.
    data = _stored_sessions(ctx, 40)
    with Agentd(_limited(ctx, 64), data_dir=data) as a:
        assert _fds(a) < 40, os.listdir(f"/proc/{a.pid}/fd")
        assert len(_events(a, "old7")) >= 2      # read through a passing fd
        _create(a, "new", None, agent="mock")
        _send(a, "new", "hi")
        _wait_type(a, "new", "turn.ended")
        assert a.http("POST", "/v1/sessions/new/terminate").status == 204
        _wait_type(a, "new", "session.ended")
        # Ended: its log is closed again, and still read back whole.
        wait_for(lambda: _fds(a) < 40, 5, 0.1, "the ended session's fds stay")
        types = [e["type"] for e in _events(a, "new")]
        assert types[0] == "session.started" and types[-1] == "session.ended"
        check_contiguous(_events(a, "new"))


def test_stored_acp_servers_and_process_logs_hold_no_descriptors(ctx):
    # Before, each ACP server and each process that had ended kept its
    # log open twice, before and after a restart: 30 of each under a
    # limit of 64 left agentd unable to start.
    from test_acp_http import _open, _prompt, _req, acp_stream
    from test_processes import _logs, _text
    a = Agentd(ctx.binary, token="t")
    try:
        base = _fds(a)
        sid = _open(a, "acp0")
        _prompt(a, "acp0", 2, sid, "hello")
        for i in range(1, 30):
            _req(a, f"acp{i}", 0, "initialize", {"protocolVersion": 1}, "mock")
        ids = []
        for i in range(30):
            r = a.http("POST", "/v1/processes",
                {"command": "sh", "args": ["-c", f"echo out{i}"]})
            assert r.status == 200, r.body[:300]
            ids.append(r.json["id"])
        wait_for(lambda: all(p["status"] == "exited" for p in
            a.http("GET", "/v1/processes").json["processes"]), 10, 0.1,
            "the processes end")
        # Ended processes: their logs are closed again.
        wait_for(lambda: _fds(a) < base + 30 * 2 + 10, 5, 0.1,
            f"ended processes hold fds: {_fds(a)} from {base}")
        before = acp_stream(a, "acp0")
    finally:
        a.stop()
    with Agentd(_limited(ctx, 64), data_dir=a.data_dir, token="t") as b:
        assert _fds(b) < 40, os.listdir(f"/proc/{b.pid}/fd")
        for i in (0, 29):
            text = _text(_logs(b, ids[i])["entries"])
            assert text == f"out{i}\n", (i, text)
        assert [(e.id, e.data) for e in acp_stream(b, "acp0")] == \
            [(e.id, e.data) for e in before]
        res = _prompt(b, "acp0", 3, sid, "again")
        assert res["result"]["stopReason"] == "end_turn", res
        after = [(e.id, e.data) for e in acp_stream(b, "acp0")]
        assert after[:len(before)] == [(e.id, e.data) for e in before]
        assert len(after) > len(before)
        assert [int(i) for i, _ in after] == list(range(1, len(after) + 1))


def _nofile(pid):
    """The soft and hard descriptor limits of a process, as strings."""
    with open(f"/proc/{pid}/limits") as f:
        line = next(l for l in f if l.startswith("Max open files"))
    return line.split()[3], line.split()[4]


def _run_sh(a, script):
    r = a.http("POST", "/v1/processes/run",
        {"command": "sh", "args": ["-c", script]})
    assert r.status == 200, r.body[:300]
    return r.json["stdout"]


def test_soft_descriptor_limit_is_raised_at_start(ctx):
    # A soft limit of 64 under a higher hard one is raised to --max-fds
    # (16384 by default) or the hard limit if lower, so a daemon with more
    # stored sessions than that still starts.
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard < 1024:
        return                                  # nothing to raise to here
    want = 16384 if hard == resource.RLIM_INFINITY else min(hard, 16384)
    data = _stored_sessions(ctx, 40)
    with Agentd(_limited(ctx, 64, "-Sn"), data_dir=data) as a:
        assert _nofile(a.pid) == (str(want), str(hard)), _nofile(a.pid)
        for i in range(40):
            r = a.http("POST", f"/v1/sessions/s{i}", {"agent": "mock"})
            assert r.status == 200, (i, r.status, r.body[:300])
        assert any("descriptor limit" in l for l in a.stderr_text().splitlines())
        # Children get the soft limit agentd started with back: a program
        # that uses select(2) breaks on a descriptor past 1024.
        assert _run_sh(a, "ulimit -Sn") == "64\n"
        pid = wait_for(lambda: a.http("GET", "/v1/sessions/s0").json.get("pid"),
            5, 0.05, "the agent's pid")
        assert _nofile(pid)[0] == "64", _nofile(pid)


def test_max_fds_sets_the_limit_both_ways(ctx):
    # Lowered too: lws allocates and clears 16 bytes per possible
    # descriptor, 16 MiB under the 1048576 some container runtimes set.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 256:
        return                                  # nothing to lower here
    with Agentd(ctx.binary, extra_args=["--max-fds", "200"]) as a:
        assert _nofile(a.pid)[0] == "200", _nofile(a.pid)
        assert _run_sh(a, "ulimit -Sn") == f"{soft}\n"
        made = 0
        for i in range(100):                    # 3 descriptors a session
            r = a.http("POST", f"/v1/sessions/s{i}", {"agent": "mock"})
            if r.status != 200:
                break
            made += 1
        assert 20 < made < 100, made
        problem(r, 503)
    rc, _, err = run_cli(ctx.binary, ["serve", "--max-fds", "63"])
    assert rc == 2 and "at least 64" in err, (rc, err)


def test_empty_session_directories_are_removed_at_start(ctx):
    a = Agentd(ctx.binary, start=False)
    with a:
        sessions = os.path.join(a.data_dir, "sessions")
        os.makedirs(os.path.join(sessions, "empty"))
        os.makedirs(os.path.join(sessions, "torn"))
        open(os.path.join(sessions, "torn", "events.jsonl"), "w").close()
        with open(os.path.join(sessions, "torn", "session.json.new"), "w") as f:
            f.write("{")
        a.start()
        assert not os.path.exists(os.path.join(sessions, "empty"))
        assert not os.path.exists(os.path.join(sessions, "torn"))
        log = a.stderr_text()
        assert "empty" in log and "torn" in log, log[-800:]
        r = a.http("POST", "/v1/sessions/torn", {"agent": "mock"})
        assert r.status == 200, r.body


# -- item 13: a command that does not exist

def test_agent_command_checked_at_create(ctx):
    with Agentd(ctx.binary) as a:
        noexec = os.path.join(a.tmp, "noexec")
        with open(noexec, "w") as f:
            f.write("#!/bin/sh\n")
        os.chmod(noexec, 0o644)
        cases = [
            (["/nonexistent/agentd-test-agent"], "/nonexistent/agentd-test-agent"),
            (["agentd-no-such-command-x1"], "PATH"),
            ([noexec], "executable"),
            ([a.tmp], "executable"),
            ([""], "empty"),
            (["python3", ""], "empty"),
        ]
        for i, (cmd, word) in enumerate(cases):
            r = a.http("POST", f"/v1/sessions/bad{i}", {"agent": "acp",
                "agentCommand": cmd})
            p = problem(r, 400)
            assert word in p["detail"], (cmd, p)
            assert a.http("GET", f"/v1/sessions/bad{i}").status == 404
        # relative to the session's cwd, and found on the request's PATH
        r = a.http("POST", "/v1/sessions/rel", {"agent": "acp", "cwd": "/usr",
            "agentCommand": ["bin/sh", "-c", "sleep 5"]})
        assert r.status == 200, r.body
        bindir = os.path.join(a.tmp, "bin")
        os.makedirs(bindir)
        tool = os.path.join(bindir, "agentd-test-tool")
        with open(tool, "w") as f:
            f.write("#!/bin/sh\nsleep 5\n")
        os.chmod(tool, 0o755)
        r = a.http("POST", "/v1/sessions/path", {"agent": "acp",
            "env": {"PATH": bindir + ":/usr/bin:/bin"},
            "agentCommand": ["agentd-test-tool"]})
        assert r.status == 200, r.body


# -- item 14: DELETE's spurious log line; garbage on stdout

def test_delete_logs_no_write_failure(ctx):
    with Agentd(ctx.binary) as a:
        for sid in ("d1", "d2"):
            _create(a, sid, None, agent="mock")
            _send(a, sid, "hi")
            _wait_type(a, sid, "turn.ended")
        assert a.http("DELETE", "/v1/sessions/d1").status == 204
        _send(a, "d2", "still here")
        _wait_type(a, "d2", "turn.ended", 2)
        time.sleep(0.5)
        log = a.stderr_text()
        assert "cannot write" not in log and "stalled" not in log, \
            [l for l in log.splitlines() if "cannot write" in l or "stalled" in l]


def test_garbage_lines_cannot_grow_the_log(ctx):
    n = 20000
    prog = ("import sys, time\n"
        f"sys.stdout.write('x\\n' * {n}); sys.stdout.flush()\n"
        "for i in range(5):\n"
        "    time.sleep(0.2); sys.stdout.write('y\\n'); sys.stdout.flush()\n"
        "time.sleep(30)\n")
    with Agentd(ctx.binary, extra_args=["--kill-grace", "1"]) as a:
        r = a.http("POST", "/v1/sessions/g", {"agent": "acp",
            "agentCommand": ["python3", "-c", prog]})
        assert r.status == 200, r.body

        def counted():
            evs = _events(a, "g")
            un = [e for e in evs if e["type"] == "agent.unparsed"]
            got = sum(e["data"].get("lines", 1) for e in un)
            return (evs, un) if got >= n + 5 else None
        evs, un = wait_for(counted, 10, 0.2, "not every garbage line was counted")
        check_contiguous(evs)
        garbage = 2 * (n + 5)
        size = os.path.getsize(os.path.join(a.data_dir, "sessions", "g", "events.jsonl"))
        assert size < 2 * garbage, f"{garbage} bytes of garbage grew the log to {size}"
        assert len(un) <= 10, len(un)
        for e in un:
            assert e["data"]["bytes"] >= 2 * e["data"]["lines"], e
        assert a.http("DELETE", "/v1/sessions/g").status == 204


def test_json_lines_outside_the_protocol_cannot_grow_the_log(ctx):
    """Issue 13 item 14, the rest: "{}" is JSON but not ACP; the adapter
    cannot read it and the host tells such lines at most once a second,
    counted, as it does garbage."""
    n = 20000
    prog = ("import sys, time\n"
        f"sys.stdout.write('{{}}\\n' * {n}); sys.stdout.flush()\n"
        "time.sleep(30)\n")
    with Agentd(ctx.binary, extra_args=["--kill-grace", "1"]) as a:
        r = a.http("POST", "/v1/sessions/j", {"agent": "acp",
            "agentCommand": ["python3", "-c", prog]})
        assert r.status == 200, r.body

        def counted():
            evs = _events(a, "j")
            un = [e for e in evs if e["type"] == "agent.unparsed"]
            got = sum(e["data"].get("lines", 1) for e in un)
            return (evs, un) if got >= n else None
        evs, un = wait_for(counted, 10, 0.2, "not every {} line was counted")
        check_contiguous(evs)
        size = os.path.getsize(os.path.join(a.data_dir, "sessions", "j", "events.jsonl"))
        assert size < 2 * 3 * n, f"{3 * n} bytes of output grew the log to {size}"
        assert len(un) <= 10, len(un)
        assert all(e["raw"] == "{}" for e in un if "raw" in e), un[:2]
        assert a.http("DELETE", "/v1/sessions/j").status == 204
