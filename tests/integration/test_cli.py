"""Issue 8: `agentd run` and `agentd attach` over the mock agent.

`run` drives one agent in-process and renders its events as text (or
JSONL with --json); its exit status is the turn's outcome. `attach`
follows a session of a real `agentd serve` over WebSocket, sends typed
lines, and picks the stream up again after the server restarts.

Without a terminal: no colours, no spinner, permissions decided by
--permission-mode (NO_COLOR is set as well, in case).
"""

import json
import os
import subprocess
import tempfile
import threading
import time

from agentd import check_contiguous, clean_env, fetch_events, run_cli, \
    wait_for

ENV = {"NO_COLOR": "1"}


def _run(ctx, *args, input=None, timeout=20):
    return run_cli(ctx.binary, ["run", *args], timeout=timeout, env=ENV,
        input=input)


def test_run_hello_renders_and_exits_0(ctx):
    rc, out, err = _run(ctx, "mock", "hello")
    assert rc == 0, f"rc {rc}; stdout {out!r} stderr {err!r}"
    assert "echo: hello" in out, out
    assert "thinking: The user wants an echo." in out, out
    last = out.strip().splitlines()[-1]
    assert last.startswith("— ") and "in /" in last and "$0.0001" in last, last
    assert "\x1b[" not in out, "colours without a terminal"


def test_run_crash_exits_nonzero_with_reason(ctx):
    rc, out, err = _run(ctx, "mock", "crash")
    assert rc == 1, f"rc {rc}; stdout {out!r} stderr {err!r}"
    assert "about to crash" in out, out
    assert "exit code 3" in err, err
    assert "mock agent crashing" in err, err
    assert "the agent exited with status 3" in err, err


def test_run_error_exits_1(ctx):
    rc, out, err = _run(ctx, "mock", "error")
    assert rc == 1, f"rc {rc}; stdout {out!r} stderr {err!r}"
    assert "mock agent error" in err, err


def test_run_tool_line(ctx):
    rc, out, err = _run(ctx, "mock", "tool")
    assert rc == 0, err
    lines = out.splitlines()
    assert "✓ echo  echo hi" in lines, out
    assert "    hi" in lines, out
    assert "the command printed hi" in out, out


def test_run_json_is_jsonl_with_contiguous_sequences(ctx):
    rc, out, err = _run(ctx, "--json", "mock", "hello")
    assert rc == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    assert events, "no events"
    check_contiguous(events)
    types = [e["type"] for e in events]
    assert types[0] == "session.started", types
    assert "turn.ended" in types, types
    assert all("raw" not in e for e in events), "raw without include_raw"
    deltas = "".join(e["data"]["delta"] for e in events
        if e["type"] == "item.delta")
    assert "echo: hello" in deltas, deltas


def test_run_permission_without_tty_rejects_by_default(ctx):
    rc, out, err = _run(ctx, "mock", "permission please")
    assert rc == 0, f"rc {rc}; {out!r} {err!r}"
    assert "rejecting Write mock.txt" in err, err
    assert "permission Write mock.txt: rejected" in out, out
    assert "✗ Write mock.txt" in out, out
    assert "permission denied" in out, out


def test_run_permission_bypass_allows(ctx):
    rc, out, err = _run(ctx, "--permission-mode", "bypass", "mock",
        "permission please")
    assert rc == 0, f"rc {rc}; {out!r} {err!r}"
    assert "allowing Write mock.txt" in err, err
    assert "permission Write mock.txt: allowed" in out, out
    assert "✓ Write mock.txt" in out, out
    assert "    +mock" in out.splitlines(), out
    assert "permission granted" in out, out


def test_run_question_without_tty_is_declined(ctx):
    rc, out, err = _run(ctx, "mock", "question")
    assert rc == 0, err
    assert "color: declined" in out, out


def test_run_conversation_from_stdin(ctx):
    rc, out, err = _run(ctx, "mock", input=b"first\nsecond\n")
    assert rc == 0, f"rc {rc}; {out!r} {err!r}"
    assert "echo: first" in out and "echo: second" in out, out
    assert out.index("echo: first") < out.index("› second") \
        < out.index("echo: second"), out
    assert out.count("— ") == 2, out


def test_run_data_dir_keeps_the_session(ctx):
    d = tempfile.mkdtemp(prefix="agentd-run-it-")
    rc, out, err = _run(ctx, "--data-dir", d, "mock", "hello")
    assert rc == 0, err
    sessions = os.listdir(os.path.join(d, "sessions"))
    assert len(sessions) == 1 and sessions[0].startswith("run-"), sessions
    with open(os.path.join(d, "sessions", sessions[0], "events.jsonl")) as f:
        assert "echo: " in f.read()


def test_run_temp_dir_is_removed(ctx):
    tmp = tempfile.mkdtemp(prefix="agentd-run-tmp-")
    rc, out, err = run_cli(ctx.binary, ["run", "mock", "hello"], env=dict(
        ENV, TMPDIR=tmp))
    assert rc == 0, err
    assert os.listdir(tmp) == [], os.listdir(tmp)


def test_run_usage_errors(ctx):
    rc, out, err = _run(ctx)
    assert rc == 2, rc
    rc, out, err = _run(ctx, "nosuchagent", "hi")
    assert rc == 2 and "unknown agent" in err, err
    rc, out, err = _run(ctx, "--permission-mode", "yolo", "mock", "hi")
    assert rc == 2, rc


def test_run_ctrl_c_cancels_with_130(ctx):
    p = subprocess.Popen([ctx.binary, "run", "mock", "slow"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env=clean_env(ENV))
    try:
        time.sleep(0.5)
        p.send_signal(2)
        out, err = p.communicate(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 130, (p.returncode, out[-300:], err[-300:])
    assert b"cancelled" in out, out[-300:]


class Attach:
    """`agentd attach` with a pipe on stdin and a reader thread on stdout."""

    def __init__(self, binary, url, session, *args):
        self.p = subprocess.Popen([binary, "attach", *args, url, session],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=clean_env(ENV))
        self.out = b""
        self.err = b""
        self.t = threading.Thread(target=self._read, args=("out",))
        self.e = threading.Thread(target=self._read, args=("err",))
        self.t.start()
        self.e.start()

    def _read(self, which):
        f = self.p.stdout if which == "out" else self.p.stderr
        while True:
            b = f.read1(65536)
            if not b:
                return
            setattr(self, which, getattr(self, which) + b)

    def text(self):
        return self.out.decode("utf-8", "replace")

    def wait_text(self, s, timeout=10):
        wait_for(lambda: s in self.text(), timeout=timeout,
            msg=f"{s!r} not in attach output:\n{self.text()}\n"
                f"stderr:\n{self.err.decode('utf-8', 'replace')}")

    def type(self, line):
        self.p.stdin.write(line.encode() + b"\n")
        self.p.stdin.flush()

    def close(self, timeout=10):
        self.p.stdin.close()
        try:
            rc = self.p.wait(timeout)
        finally:
            if self.p.poll() is None:
                self.p.kill()
            self.t.join(5)
            self.e.join(5)
        return rc


def test_attach_backlog_message_and_restart(ctx):
    a = ctx.agentd(token="tk-attach")
    r = a.http("POST", "/v1/sessions/s1", {"agent": "mock"})
    assert r.status == 200, r.body
    r = a.http("POST", "/v1/sessions/s1/messages", {"message": "one"})
    assert r.status == 204
    wait_for(lambda: any(e["type"] == "turn.ended"
        for e in fetch_events(a, "s1")))

    at = Attach(ctx.binary, a.url, "s1", "--token", "tk-attach")
    try:
        at.wait_text("echo: one")
        assert "› one" in at.text()
        at.type("two")
        at.wait_text("echo: two")
        wait_for(lambda: at.text().count("— ") == 2, msg=at.text())

        a.restart()
        time.sleep(1.0)        # the client notices and reconnects
        at.type("three")
        at.wait_text("echo: three", timeout=15)
    finally:
        rc = at.close()
    out = at.text()
    assert rc == 0, (rc, out, at.err)
    for word in ("one", "two", "three"):
        assert out.count(f"echo: {word}") == 1, out
        assert out.count(f"› {word}") == 1, out
    assert out.count("— ") == 3, out
    texts = [e["data"]["item"]["content"][0]["text"]
        for e in fetch_events(a, "s1") if e["type"] == "item.completed"
        and e["data"]["item"]["role"] == "user"]
    assert texts == ["one", "two", "three"], texts


def test_attach_bad_session_or_token_fails(ctx):
    a = ctx.agentd(token="tk-attach2")
    r = a.http("POST", "/v1/sessions/s1", {"agent": "mock"})
    assert r.status == 200
    rc, out, err = run_cli(ctx.binary, ["attach", "--token", "tk-attach2",
        a.url, "nope"], env=ENV)
    assert rc == 1 and "cannot attach" in err, (rc, err)
    rc, out, err = run_cli(ctx.binary, ["attach", "--token", "wrong",
        a.url, "s1"], env=ENV)
    assert rc == 1 and "cannot attach" in err, (rc, err)
    rc, out, err = run_cli(ctx.binary, ["attach", "ftp://x", "s1"], env=ENV)
    assert rc == 2, rc
