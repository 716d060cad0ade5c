"""Issue 14: processes and terminals under /v1/processes (sandbox-agent
0.4.2's routes and shapes).

Expected shapes (docs/api.md "Processes and terminals"):

  POST /v1/processes {command, args?, cwd?, env?, tty?}  -> ProcessInfo
      {id:"proc_N", command, args, cwd, tty, interactive, owner:"user",
       status:"running"|"exited", pid, exitCode, exitSignal?, createdAtMs,
       exitedAtMs, endReason?}
  POST /v1/processes/{id}/stop?waitMs=   SIGTERM, SIGKILL after --kill-grace
  GET  /v1/processes/{id}/logs?follow=true   SSE: event: log, id: N,
      data: {sequence, stream, timestampMs, data (base64), encoding}
  GET  /v1/processes/{id}/terminal/ws   ready, binary output, exit frames
"""

import base64
import contextlib
import json
import os
import shutil
import signal
import tempfile
import time
import urllib.request

from agentd import (HOST, OP_BINARY, OP_TEXT, WSClient, WSClosed,
    WSHandshakeError, free_port, problem)

# Sanitizer builds (make test SAN=1) start bigger and keep freed memory
# in quarantine for a while: their growth is allowed four times as much.
SAN = os.environ.get("AGENTD_SAN") == "1"
RSS_SCALE = 4 if SAN else 1

TOKEN = "proc-test-token"


@contextlib.contextmanager
def _daemon(ctx, **kw):
    """agentd with HOME and the data dir in a fresh directory (on tmpfs
    when there is one, so the big-output test measures agentd)."""
    base = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    tmp = tempfile.mkdtemp(prefix="agentd-proc-", dir=base)
    home = os.path.join(tmp, "home")
    os.makedirs(home)
    env = {"HOME": home, **kw.pop("env", {})}
    try:
        with ctx.agentd(token=TOKEN, env=env,
                data_dir=os.path.join(tmp, "data"), **kw) as a:
            a.home = home
            yield a
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _create(a, **body):
    r = a.http("POST", "/v1/processes", body)
    assert r.status == 200, r.body
    return r.json


def _logs(a, pid, **q):
    qs = "&".join(f"{k}={v}" for k, v in q.items())
    r = a.http("GET", f"/v1/processes/{pid}/logs" + ("?" + qs if qs else ""))
    assert r.status == 200, r.body
    return r.json


def _text(entries):
    return b"".join(base64.b64decode(e["data"]) for e in entries).decode(
        "utf-8", "replace")


def _until(fn, what, timeout=10.0, every=0.02):
    end = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(every)


def _vm(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_run_and_errors(ctx):
    with _daemon(ctx) as a:
        r = a.http("POST", "/v1/processes/run",
            {"command": "sh", "args": ["-c", "echo $FOO; pwd; exit 4"],
             "env": {"FOO": "bar"}})
        assert r.status == 200, r.body
        assert r.json["exitCode"] == 4 and r.json["timedOut"] is False
        assert r.json["stdout"] == f"bar\n{a.home}\n"
        # The token never reaches a process's environment.
        r = a.http("POST", "/v1/processes/run", {"command": "env"})
        assert TOKEN not in r.json["stdout"]
        r = a.http("POST", "/v1/processes/run",
            {"command": "no-such-command-here"})
        assert r.json["exitCode"] == 127
        assert "exec failed" in r.json["stderr"]
        r = a.http("POST", "/v1/processes/run",
            {"command": "printf", "args": ["\\377ok\\000z"]})
        assert r.json["stdout"] == "\ufffdok\ufffdz"
        problem(a.http("POST", "/v1/processes/run", {"command": ""}), 400)
        problem(a.http("POST", "/v1/processes/run",
            {"command": "true", "cwd": "no/such/dir"}), 400)
        problem(a.http("POST", "/v1/processes/run",
            {"command": "true", "args": [1]}), 400)
        problem(a.http("POST", "/v1/processes", {"command": "true",
            "env": {"A=B": "x"}}), 400)
        problem(a.http("GET", "/v1/processes/proc_999"), 404)
        problem(a.http("POST", "/v1/processes/proc_999/stop"), 404)

        p = _create(a, command="sleep", args=["30"])
        problem(a.http("DELETE", f"/v1/processes/{p['id']}"), 409)
        problem(a.http("POST", f"/v1/processes/{p['id']}/terminal/resize",
            {"cols": 80, "rows": 24}), 409)
        # A terminal on a process without a tty: the upgrade is answered
        # 409 (and the connection closed), as the route would answer it.
        try:
            WSClient(a.port, f"/v1/processes/{p['id']}/terminal/ws", TOKEN)
            raise AssertionError("a terminal on a process without a tty")
        except WSHandshakeError as e:
            assert e.status == 409 and "tty" in e.json["detail"], e
        problem(a.http("POST", f"/v1/processes/{p['id']}/input",
            {"data": "not base64!"}), 400)
        k = a.http("POST", f"/v1/processes/{p['id']}/kill?waitMs=3000").json
        assert k["status"] == "exited" and k["exitSignal"] == 9
        assert k["exitCode"] is None and k["pid"] is None
        assert isinstance(k["exitedAtMs"], int)
        problem(a.http("POST", f"/v1/processes/{p['id']}/input",
            {"data": "eA=="}), 409)
        assert a.http("DELETE", f"/v1/processes/{p['id']}").status == 204
        problem(a.http("GET", f"/v1/processes/{p['id']}"), 404)
        assert not os.path.exists(os.path.join(a.data_dir, "processes",
            p["id"]))
        # The token guards these routes too.
        for m, path in (("GET", "/v1/processes"), ("POST", "/v1/processes/run"),
                ("GET", "/v1/processes/config")):
            problem(a.http(m, path, {} if m == "POST" else None, token=None),
                401)


def test_dev_server_started_reached_followed_stopped(ctx):
    with _daemon(ctx) as a:
        site = os.path.join(a.home, "site")
        os.makedirs(site)
        with open(os.path.join(site, "index.html"), "w") as f:
            f.write("hello from the dev server\n")
        port = free_port()
        p = _create(a, command="python3", cwd="site",
            args=["-m", "http.server", str(port), "--bind", HOST],
            env={"PYTHONUNBUFFERED": "1"})
        assert p["cwd"] == site

        def reach():
            try:
                with urllib.request.urlopen(f"http://{HOST}:{port}/",
                        timeout=1) as r:
                    return r.read().decode()
            except OSError:
                return None
        assert _until(reach, "the dev server") == "hello from the dev server\n"

        with a.sse(f"/v1/processes/{p['id']}/logs?follow=true") as sse:
            seen = ""
            # What it logged so far arrives first...
            while "GET / HTTP" not in seen:
                ev = sse.next(timeout=5)
                assert ev is not None and ev.event == "log"
                assert int(ev.id) == ev.data["sequence"]
                seen += base64.b64decode(ev.data["data"]).decode()
            # ...then what it logs now, live, on the same stream.
            with urllib.request.urlopen(
                    f"http://{HOST}:{port}/index.html?live-probe",
                    timeout=2) as r:
                pass
            while "live-probe" not in seen:
                ev = sse.next(timeout=5)
                assert ev is not None, "the request was not logged live"
                seen += base64.b64decode(ev.data["data"]).decode()
            first = int(ev.id)
        # stream=stderr keeps stderr only; Last-Event-ID resumes after it.
        with a.sse(f"/v1/processes/{p['id']}/logs?follow=true&stream=stderr",
                last_event_id=first - 1) as sse:
            ev = sse.next(timeout=5)
            assert ev.data["stream"] == "stderr" and int(ev.id) == first
            assert "live-probe" in base64.b64decode(ev.data["data"]).decode()

            t0 = time.monotonic()
            r = a.http("POST", f"/v1/processes/{p['id']}/stop?waitMs=5000")
            assert r.status == 200, r.body
            assert r.json["status"] == "exited", r.json
            assert time.monotonic() - t0 < 4
            # The followed log ends with the process.
            while sse.next(timeout=5) is not None:
                pass
        assert reach() is None
        info = a.http("GET", f"/v1/processes/{p['id']}").json
        assert info["status"] == "exited"
        assert info["exitSignal"] == signal.SIGTERM or info["exitCode"] == 0


def test_sigterm_ignored_killed_after_grace(ctx):
    with _daemon(ctx, extra_args=["--kill-grace", "1"]) as a:
        p = _create(a, command="sh", args=["-c",
            "trap '' TERM; sleep 60 & echo ready; wait"])
        _until(lambda: "ready" in _text(_logs(a, p["id"])["entries"]),
            "the trap")
        t0 = time.monotonic()
        r = a.http("POST", f"/v1/processes/{p['id']}/stop?waitMs=500")
        # waitMs passed first: still running, SIGKILL not yet sent.
        assert r.json["status"] == "running", r.json
        r = a.http("POST", f"/v1/processes/{p['id']}/stop?waitMs=5000")
        took = time.monotonic() - t0
        assert r.json["status"] == "exited", r.json
        assert r.json["exitSignal"] == signal.SIGKILL
        assert "after a stop" in r.json["endReason"]
        assert 0.9 < took < 3.5, f"killed {took:.2f} s after the stop"
        # The whole group went: the background sleep too.
        pgid = p["pid"]
        for pid in os.listdir("/proc"):
            if pid.isdigit() and _alive(pid):
                try:
                    assert os.getpgid(int(pid)) != pgid, f"pid {pid} survived"
                except ProcessLookupError:
                    pass


def test_one_gib_of_output_keeps_memory_and_disk_bounded(ctx):
    """A process printing 1 GiB: agentd's peak RSS stays under 8 MiB (and
    grows by less than 4 MiB), the log on disk under twice
    maxLogBytesPerProcess (4 MiB here); the newest output is there."""
    with _daemon(ctx) as a:
        r = a.http("POST", "/v1/processes/config",
            {"maxLogBytesPerProcess": 4 << 20})
        assert r.status == 200 and r.json["maxLogBytesPerProcess"] == 4 << 20
        hwm0 = _vm(a.pid, "VmHWM")
        t0 = time.monotonic()
        p = _create(a, command="sh", args=["-c",
            "head -c 1073741824 /dev/zero; echo THE-END"])
        # Polled slowly: every request costs a sanitizer build memory it
        # keeps in quarantine for a while.
        _until(lambda: a.http("GET", f"/v1/processes/{p['id']}")
            .json["status"] == "exited", "1 GiB to be printed", timeout=120,
            every=0.25)
        took = time.monotonic() - t0
        hwm = _vm(a.pid, "VmHWM")
        d = os.path.join(a.data_dir, "processes", p["id"])
        disk = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
        logs = _logs(a, p["id"], tail=2)
        print(f"    1 GiB of output in {took:.1f} s; VmHWM {hwm0} KiB "
            f"before, {hwm} KiB after; {disk} bytes of log on disk; "
            f"last sequence {logs['entries'][-1]['sequence']}")
        assert _text(logs["entries"]).endswith("THE-END\n")
        assert hwm - hwm0 < 4 * 1024 * RSS_SCALE, f"agentd peaked at {hwm} KiB"
        assert SAN or hwm < 8 * 1024, f"agentd peaked at {hwm} KiB"
        assert disk < 8 << 20, f"{disk} bytes of log on disk"
        # Everything kept on disk is readable, oldest first, contiguous.
        allk = _logs(a, p["id"])["entries"]
        seqs = [e["sequence"] for e in allk]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
        assert seqs[-1] == logs["entries"][-1]["sequence"]
        assert len(allk) >= 5 and seqs[0] > 1000


def test_kill9_of_agentd_then_restart_reports_truthfully(ctx):
    with _daemon(ctx) as a:
        tick = _create(a, command="sh", args=["-c",
            "i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.02; done"])
        quiet = _create(a, command="sh", args=["-c",
            "echo started; exec sleep 300"])
        _until(lambda: _text(_logs(a, tick["id"])["entries"]).count("tick")
            >= 20, "20 ticks")
        _until(lambda: "started" in _text(_logs(a, quiet["id"])["entries"]),
            "the quiet one")
        seen = _text(_logs(a, tick["id"])["entries"])
        a.kill9()
        time.sleep(0.3)
        a.start()
        t = a.http("GET", f"/v1/processes/{tick['id']}").json
        q = a.http("GET", f"/v1/processes/{quiet['id']}").json
        for info in (t, q):
            assert info["status"] == "exited", info
            assert info["exitCode"] is None
            assert info["pid"] is None
            assert "agentd" in info["endReason"], info
        # The quiet one was still running: it was ended, and says so.
        assert "still running" in q["endReason"], q
        assert isinstance(q["exitedAtMs"], int)
        _until(lambda: not _alive(quiet["pid"]), "the orphan to be ended")
        # Its logs up to the crash are there.
        after = _text(_logs(a, tick["id"])["entries"])
        assert after.startswith(seen), (seen[-60:], after[:60])
        assert _text(_logs(a, quiet["id"])["entries"]) == "started\n"
        # New processes get new ids.
        n = _create(a, command="true")
        assert int(n["id"][5:]) > int(quiet["id"][5:])
        ids = [x["id"] for x in a.http("GET", "/v1/processes").json["processes"]]
        assert ids == sorted(ids, key=lambda i: int(i[5:]))
        assert tick["id"] in ids and quiet["id"] in ids


def _ws_text(ws, want, timeout=10.0):
    """Read binary frames until their text holds want; return the text."""
    out = b""
    end = time.monotonic() + timeout
    while want.encode() not in out:
        left = end - time.monotonic()
        assert left > 0, f"no {want!r} in {out[-300:]!r}"
        op, data = ws.recv(timeout=left)
        if op == OP_BINARY:
            out += data
    return out.decode("utf-8", "replace")


def test_bash_on_a_terminal_two_viewers_and_a_reconnect(ctx):
    with _daemon(ctx) as a:
        p = _create(a, command="bash", args=["--norc", "--noprofile", "-i"],
            tty=True, env={"PS1": "$ "})
        path = f"/v1/processes/{p['id']}/terminal/ws"
        v1 = WSClient(a.port, path, TOKEN)
        v2 = WSClient(a.port, path, TOKEN, token_in_query=True)
        for v in (v1, v2):
            assert v.recv_json() == {"type": "ready", "processId": p["id"]}
        v1.send_json({"type": "input", "data": "echo one-$((40+2))\n"})
        for v in (v1, v2):
            _ws_text(v, "one-42")
        v2.send_json({"type": "input",
            "data": base64.b64encode(b"echo two-$((1+1))\n").decode(),
            "encoding": "base64"})
        for v in (v1, v2):
            _ws_text(v, "two-2")
        # The resize and the command on one socket: frames of two
        # viewers have no order between them, and stty must see the size.
        v2.send_json({"type": "resize", "cols": 101, "rows": 33})
        v2.send_json({"type": "input", "data": "stty size\n"})
        _ws_text(v1, "33 101")
        _ws_text(v2, "33 101")
        # A bad frame gets an error frame; the socket stays.
        v1.send_json({"type": "dance"})
        while True:
            op, data = v1.recv()
            if op == OP_TEXT:
                assert json.loads(data)["type"] == "error"
                break
        v1.send_frame(OP_BINARY, b"raw")
        while True:
            op, data = v1.recv()
            if op == OP_TEXT:
                assert "binary" in json.loads(data)["message"]
                break

        # v1 goes away; output goes on; v1 comes back and sees it again.
        v1.close()
        v2.send_json({"type": "input", "data": "echo while-away\n"})
        _ws_text(v2, "while-away")
        v1 = WSClient(a.port, path, TOKEN)
        assert v1.recv_json()["type"] == "ready"
        again = _ws_text(v1, "while-away", timeout=3)
        assert "one-42" in again  # the scrollback goes back before it
        # A bounded scrollback: after 1 MiB of output, a new viewer gets
        # at most 64 KiB and one entry of it.
        # (The marker is computed, so that the terminal's echo of the
        # command line does not hold it: the output must be all out.)
        v2.send_json({"type": "input",
            "data": "head -c 1048576 /dev/zero | tr '\\0' x; echo; "
            "echo big-done-$((6*7))\n"})
        _ws_text(v2, "big-done-42", timeout=20)
        v1.close()
        v3 = WSClient(a.port, path, TOKEN)
        assert v3.recv_json()["type"] == "ready"
        got = _ws_text(v3, "big-done-42", timeout=5)
        assert len(got) <= 64 * 1024 + 65536, len(got)

        v2.send_json({"type": "input", "data": "exit 3\n"})
        for v in (v2, v3):
            while True:
                try:
                    op, data = v.recv(timeout=5)
                except WSClosed:
                    raise AssertionError("closed before the exit frame")
                if op == OP_TEXT:
                    assert json.loads(data) == {"type": "exit", "exitCode": 3}
                    break
            try:
                v.recv(timeout=5)
                raise AssertionError("still open after the exit frame")
            except (WSClosed, EOFError, OSError):
                pass
        assert a.http("GET", f"/v1/processes/{p['id']}").json["exitCode"] == 3
