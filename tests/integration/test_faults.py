"""Fault injection: agents that crash, hang, ignore SIGTERM, flood, write
garbage, never read, close stdout, leave children; and a full disk.

The misbehaving agents are tests/chaos/agents/fakeacp.py MODE, run as
{"agent":"acp","agentCommand":["python3", ".../fakeacp.py", MODE]}. Each
test bounds its own time; the file runs in about a minute.
"""

import json
import os
import signal
import subprocess
import tempfile
import time

# ASan's shadow memory and quarantine inflate RSS (make test SAN=1).
# Under ASan or valgrind the process's RSS is mostly the tool's (shadow
# memory, quarantine, translations); the plain run holds agentd to 1x.
RSS_SCALE = 4 if os.environ.get("AGENTD_SAN") == "1" or \
    os.environ.get("AGENTD_VALGRIND") == "1" else 1

from agentd import Agentd, check_contiguous, fetch_events, problem, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FAKE = os.path.join(ROOT, "tests", "chaos", "agents", "fakeacp.py")


def _create(a, sid, mode, *args, agent="acp"):
    body = {"agent": agent}
    if agent == "acp":
        body["agentCommand"] = ["python3", FAKE, mode, *[str(x) for x in args]]
    r = a.http("POST", f"/v1/sessions/{sid}", body)
    assert r.status == 200, f"create {sid}: {r.status} {r.body[:300]!r}"
    return r.json


def _send(a, sid, text, want=204):
    r = a.http("POST", f"/v1/sessions/{sid}/messages", {"message": text})
    assert r.status == want, f"message: {r.status}, want {want}: {r.body[:300]!r}"
    return r


def _events(a, sid):
    return fetch_events(a, sid)


def _wait_type(a, sid, typ, n=1, timeout=10):
    def f():
        try:
            evs = _events(a, sid)
        except AssertionError:    # a page agentd cannot serve yet
            return None
        return evs if sum(e["type"] == typ for e in evs) >= n else None
    return wait_for(f, timeout, 0.05, f"{n} {typ} in {sid} not seen in {timeout}s")


def _pid(a, sid):
    def f():
        return a.http("GET", f"/v1/sessions/{sid}").json.get("pid")
    return wait_for(f, 5, 0.05, "session has no pid")


def _group(pgid):
    """Live (non-zombie) processes whose process group is pgid."""
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
        if int(rest[2]) == pgid and rest[0] != "Z":
            out.append(int(d))
    return out


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            st = f.read()
    except OSError:
        return False
    return st[st.rfind(")") + 2] != "Z"


def _healthy(a):
    r = a.http("GET", "/v1/health", timeout=2)
    assert r.status == 200, r.status


def _mock_turn(a, sid="control"):
    """A mock session still completes a turn: agentd is not stuck."""
    _create(a, sid, None, agent="mock")
    _send(a, sid, "still alive?")
    _wait_type(a, sid, "turn.ended")


def test_agent_crash(ctx):
    with Agentd(ctx.binary) as a:
        _create(a, "c", "crash")
        _send(a, "c", "hello")
        evs = _wait_type(a, "c", "session.ended")
        check_contiguous(evs)
        t = [e["type"] for e in evs]
        err = [e for e in evs if e["type"] == "error"]
        assert err and err[0]["data"].get("code") == "agent_exited", err
        te = [e for e in evs if e["type"] == "turn.ended"]
        assert te and te[-1]["data"].get("stop_reason") == "error", te
        end = evs[-1]
        assert end["type"] == "session.ended", t
        assert end["data"]["reason"] == "error" and end["data"].get("exit_code") == 7, end
        assert t.index("error") < t.index("turn.ended") < t.index("session.ended"), t
        _send(a, "c", "again", want=409)
        _healthy(a)


def test_hang_idle_timeout(ctx):
    with Agentd(ctx.binary, extra_args=["--idle-timeout", "2", "--kill-grace", "1"]) as a:
        _create(a, "h", "hang")
        pid = _pid(a, "h")
        t0 = time.monotonic()
        _send(a, "h", "hello")
        evs = _wait_type(a, "h", "session.ended", timeout=8)
        took = time.monotonic() - t0
        check_contiguous(evs)
        err = [e for e in evs if e["type"] == "error"]
        assert err and err[0]["data"].get("code") == "idle_timeout", err
        assert "idle" in err[0]["data"]["message"], err
        assert 1.5 < took < 6, f"idle timeout took {took:.1f}s"
        wait_for(lambda: not _group(pid), 3, msg=f"group {pid} left: {_group(pid)}")


def test_sigterm_ignored_gets_sigkill(ctx):
    with Agentd(ctx.binary, extra_args=["--kill-grace", "1"]) as a:
        _create(a, "t", "ignoreterm")
        pid = _pid(a, "t")
        _send(a, "t", "hello")
        _wait_type(a, "t", "item.delta")
        t0 = time.monotonic()
        r = a.http("POST", "/v1/sessions/t/terminate")
        assert r.status == 204, r.body
        evs = _wait_type(a, "t", "session.ended", timeout=6)
        took = time.monotonic() - t0
        assert 0.8 < took < 4, f"terminate took {took:.1f}s with --kill-grace 1"
        end = evs[-1]
        assert end["type"] == "session.ended", end
        assert end["data"]["reason"] == "terminated" and end["data"].get("terminated_by") == "daemon", end
        check_contiguous(evs)
        assert not _alive(pid), f"agent {pid} still alive"
        assert not _group(pid), f"processes left in group {pid}: {_group(pid)}"


def test_terminate_kills_whole_tree(ctx):
    pids = os.path.join(tempfile.mkdtemp(prefix="agentd-tree-"), "pids")
    with Agentd(ctx.binary, extra_args=["--kill-grace", "1"]) as a:
        _create(a, "g", "grandchild", pids)
        pid = _pid(a, "g")
        kids = wait_for(lambda: os.path.exists(pids) and len(open(pids).read().split()) >= 2
            and [int(x) for x in open(pids).read().split()], 5, msg="no grandchildren")
        assert all(_alive(k) for k in kids), kids
        _send(a, "g", "hello")
        _wait_type(a, "g", "item.delta")
        assert a.http("POST", "/v1/sessions/g/terminate").status == 204
        _wait_type(a, "g", "session.ended", timeout=6)
        wait_for(lambda: not any(_alive(k) for k in kids + [pid]), 3,
            msg=f"left alive: {[k for k in kids + [pid] if _alive(k)]}")
        assert not _group(pid), _group(pid)


def test_line_over_max_line(ctx):
    with Agentd(ctx.binary, extra_args=["--max-line", "1048576"]) as a:
        n = 3 * 1048576 + 5
        _create(a, "b", "bigline", n)
        _send(a, "b", "hello")
        evs = _wait_type(a, "b", "turn.ended")
        check_contiguous(evs)
        un = [e for e in evs if e["type"] == "agent.unparsed"]
        assert len(un) == 1, un
        assert str(n) in un[0]["data"]["error"], un[0]
        text = "".join(e["data"]["delta"] for e in evs if e["type"] == "item.delta")
        assert "ok: hello" in text, text
        # the session goes on
        _send(a, "b", "second")
        evs = _wait_type(a, "b", "turn.ended", 2)
        assert len([e for e in evs if e["type"] == "agent.unparsed"]) == 2
        assert a.rss_kib() < 64 * 1024 * RSS_SCALE, f"RSS {a.rss_kib()} KiB after big lines"


def test_line_of_100_mb_default_cap(ctx):
    with Agentd(ctx.binary) as a:
        n = 100 * 1000 * 1000
        _create(a, "b", "bigline", n)
        t0 = time.monotonic()
        _send(a, "b", "hello")
        evs = _wait_type(a, "b", "turn.ended", timeout=30)
        took = time.monotonic() - t0
        un = [e for e in evs if e["type"] == "agent.unparsed"]
        assert len(un) == 1 and str(n) in un[0]["data"]["error"], un
        assert "ok: hello" in "".join(e["data"]["delta"] for e in evs
            if e["type"] == "item.delta")
        rss = a.rss_kib()
        print(f"    100 MB line: {took:.2f}s, agentd RSS after {rss} KiB")
        assert rss < 100 * 1024 * RSS_SCALE, f"RSS {rss} KiB: the line was buffered"


def test_invalid_utf8_and_binary_noise(ctx):
    with Agentd(ctx.binary) as a:
        _create(a, "n", "noise")
        _send(a, "n", "hello")
        evs = _wait_type(a, "n", "turn.ended")
        check_contiguous(evs)
        deltas = [e["data"]["delta"] for e in evs if e["type"] == "item.delta"]
        bad = [d for d in deltas if d.startswith("bad ")]
        assert bad and "\ufffd" in bad[0], deltas
        un = [e for e in evs if e["type"] == "agent.unparsed"]
        assert len(un) >= 2, [e["type"] for e in evs]
        assert "ok: hello" in "".join(deltas)
        with open(os.path.join(a.data_dir, "sessions", "n", "events.jsonl"), "rb") as f:
            data = f.read()
        data.decode("utf-8")    # the log is valid UTF-8
        for line in data.splitlines():
            json.loads(line)
        _send(a, "n", "again")
        _wait_type(a, "n", "turn.ended", 2)


def _strings(v):
    if isinstance(v, str):
        yield v
    elif isinstance(v, dict):
        for k, x in v.items():
            yield k
            yield from _strings(x)
    elif isinstance(v, list):
        for x in v:
            yield from _strings(x)


def test_lone_surrogate_and_nul_escapes_become_fffd(ctx):
    # Node's JSON.stringify writes an emoji cut between two messages as
    # "\ud83d" and "\ude00": valid JSON grammar that cJSON refused whole
    # (agent.unparsed, the text lost); "\u0000" cut the string at the NUL.
    with Agentd(ctx.binary) as a:
        _create(a, "u", "surrogates")
        _send(a, "u", "hello")
        evs = _wait_type(a, "u", "turn.ended")
        check_contiguous(evs)
        un = [e for e in evs if e["type"] == "agent.unparsed"]
        assert not un, un
        text = "".join(e["data"]["delta"] for e in evs
            if e["type"] == "item.delta")
        assert "hi \ufffd\ufffd there. a\ufffdb. pair \U0001F600. ok: hello" \
            in text, repr(text)
        # The log, raw included: no lone surrogate, no NUL anywhere.
        with open(os.path.join(a.data_dir, "sessions", "u", "events.jsonl"),
                "rb") as f:
            for line in f.read().splitlines():
                for s in _strings(json.loads(line)):
                    assert "\x00" not in s, line
                    assert not any(0xd800 <= ord(c) <= 0xdfff for c in s), line
        # From a client the same escapes stay refused, and say why.
        r = a.http("POST", "/v1/sessions/u/messages",
            b'{"message":"hi \\ud83d"}',
            headers={"Content-Type": "application/json"})
        d = problem(r, 400)["detail"]
        assert "surrogate" in d and "\\ud83d" in d, d
        r = a.http("POST", "/v1/sessions/u/messages",
            b'{"message":"a\\u0000b"}',
            headers={"Content-Type": "application/json"})
        assert "NUL" in problem(r, 400)["detail"]


def test_agent_never_reads_stdin(ctx):
    with Agentd(ctx.binary, extra_args=["--kill-grace", "1"]) as a:
        _create(a, "r", "noread")
        pid = _pid(a, "r")
        big = "y" * (2 << 20)
        t0 = time.monotonic()
        for _ in range(3):
            _send(a, "r", big)
        assert time.monotonic() - t0 < 3, "posting to a stuck agent blocked"
        _healthy(a)
        _mock_turn(a)
        assert a.http("POST", "/v1/sessions/r/terminate").status == 204
        _wait_type(a, "r", "session.ended", timeout=6)
        assert not _group(pid), _group(pid)
        assert a.rss_kib() < 96 * 1024 * RSS_SCALE, f"RSS {a.rss_kib()} KiB"


def test_agent_closes_stdout(ctx):
    with Agentd(ctx.binary, extra_args=["--kill-grace", "1", "--idle-timeout", "3"]) as a:
        _create(a, "o", "closeout")
        pid = _pid(a, "o")
        time.sleep(0.3)
        _healthy(a)
        _mock_turn(a)
        r = a.http("POST", "/v1/sessions/o/messages", {"message": "anyone?"})
        assert r.status in (204, 409), r.status
        assert a.http("POST", "/v1/sessions/o/terminate").status == 204
        evs = _wait_type(a, "o", "session.ended", timeout=6)
        check_contiguous(evs)
        wait_for(lambda: not _group(pid), 3, msg=f"group left: {_group(pid)}")


def _mount_tmpfs(size):
    d = tempfile.mkdtemp(prefix="agentd-full-")
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", d],
        capture_output=True)
    if p.returncode != 0:
        os.rmdir(d)
        return None, p.stderr.decode(errors="replace").strip()
    return d, None


def _fill(d):
    """Fill the filesystem at d; return the filler's path."""
    path = os.path.join(d, "filler")
    with open(path, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError:
            pass
    return path


def _disk_full_session(ctx, mnt):
    """A mock session on a data dir that fills up during a firehose turn;
    returns (agentd, filler path) while it is paused."""
    a = Agentd(ctx.binary, data_dir=os.path.join(mnt, "data"))
    _create(a, "d", None, agent="mock")
    _send(a, "d", "warm up")
    _wait_type(a, "d", "turn.ended")
    filler = _fill(mnt)
    _send(a, "d", "firehose 3000")
    wait_for(lambda: "cannot write" in a.stderr_text(), 10,
        msg="no log line about the failed write")
    return a, filler


def _with_tmpfs(fn):
    mnt, why = _mount_tmpfs("2m")
    if mnt is None:
        print(f"    skipped: cannot mount a tmpfs ({why})")
        return
    try:
        fn(mnt)
    finally:
        subprocess.run(["umount", "-l", mnt], capture_output=True)
        os.rmdir(mnt)


def test_disk_full(ctx):
    """ENOSPC: agentd logs it, answers 507 to writes, pauses the agent,
    and once space is back writes everything: no event lost, no gap."""
    def run(mnt):
        a, filler = _disk_full_session(ctx, mnt)
        with a:
            r = wait_for(lambda: (lambda r: r if r.status == 507 else None)(
                a.http("POST", "/v1/sessions/d/messages", {"message": "x"})), 5,
                msg="no 507 while the disk is full")
            assert r.json and r.json.get("status") == 507, r.body
            _healthy(a)
            _mock_turn_elsewhere = a.http("GET", "/v1/sessions/d")
            assert _mock_turn_elsewhere.status == 200
            time.sleep(1.5)    # stays paused: the retry timer runs meanwhile
            os.unlink(filler)
            evs = _wait_type(a, "d", "turn.ended", 2, timeout=20)
            n = check_contiguous(evs)
            first_end = [e["type"] for e in evs].index("turn.ended")
            deltas = [e for e in evs[first_end:] if e["type"] == "item.delta"]
            assert len(deltas) >= 3000, f"{len(deltas)} deltas of the firehose kept"
            with open(os.path.join(a.data_dir, "sessions", "d", "events.jsonl"), "rb") as f:
                lines = f.read().splitlines()
            seqs = [json.loads(l)["sequence"] for l in lines]
            assert seqs == list(range(1, len(seqs) + 1)), "the log has a gap"
            assert len(seqs) >= n, (len(seqs), n)
            a.stop()
            a.start()
            evs2 = fetch_events(a, "d")
            check_contiguous(evs2)
            assert evs2[:n] == evs[:n], "events changed across the restart"
    _with_tmpfs(run)


def test_disk_full_events_page(ctx):
    """While the log cannot be written, GET /events must not answer
    hasMore:true with an empty page (a client paging on hasMore spins)."""
    def run(mnt):
        a, filler = _disk_full_session(ctx, mnt)
        with a:
            time.sleep(0.3)
            last = 0
            evs = a.http("GET", "/v1/sessions/d/events").json
            while evs["events"]:
                last = evs["events"][-1]["sequence"]
                evs = a.http("GET", f"/v1/sessions/d/events?offset={last}").json
            assert not evs["hasMore"], (f"hasMore with an empty page at offset "
                f"{last}: events numbered but not readable while the disk is full")
            os.unlink(filler)
    _with_tmpfs(run)
