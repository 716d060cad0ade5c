#!/usr/bin/env python3
"""Standalone check that the installed CLIs run offline against the mock.

    python3 tests/e2e/smoke.py [claude] [codex]

Starts tests/mockmodel/server.py, prepares a private HOME with
agentenv.agent_env(), drives each CLI's stdio protocol directly (no agentd)
through the scenarios, and prints "ok"/"not ok" lines and a final
"N passed, M failed". Agents that are not installed are skipped
(run tests/e2e/install.sh first).
"""

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import agentenv  # noqa: E402

SERVER = os.path.join(HERE, "..", "mockmodel", "server.py")
passed = failed = 0


def check(cond, what, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok - %s" % what)
    else:
        failed += 1
        print("not ok - %s %s" % (what, detail))


class Proc:
    """A child speaking NDJSON on stdio, read by a thread."""

    def __init__(self, argv, env, cwd):
        self.p = subprocess.Popen(argv, env=env, cwd=cwd,
                                  stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True)
        self.q = queue.Queue()
        self.lines = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stdout:
            try:
                self.q.put(json.loads(line))
            except ValueError:
                pass
        self.q.put(None)

    def send(self, obj):
        self.p.stdin.write(json.dumps(obj) + "\n")
        self.p.stdin.flush()

    def until(self, pred, timeout=60, on=None):
        """Read messages until pred(msg); on(msg) sees each one first."""
        end = time.time() + timeout
        while time.time() < end:
            try:
                m = self.q.get(timeout=max(0.1, end - time.time()))
            except queue.Empty:
                break
            if m is None:
                return None
            self.lines.append(m)
            if on:
                on(m)
            if pred(m):
                return m
        return None

    def close(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        try:
            self.p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def mock_requests(url):
    with urllib.request.urlopen(url + "/_mock/requests") as r:
        return json.load(r)


# ---------------------------------------------------------------------------

def run_claude(url, tmp):
    home, wk = os.path.join(tmp, "home-claude"), os.path.join(tmp, "wk-claude")
    env, _ = agentenv.agent_env("claude", url, home, wk)
    argv = [agentenv.agent_bin("claude"), "-p", "--output-format",
            "stream-json", "--verbose", "--input-format", "stream-json",
            "--permission-prompt-tool", "stdio",
            "--include-partial-messages"]
    p = Proc(argv, env, wk)
    asks = []

    def on(m):
        if m.get("type") == "control_request" and \
                m["request"].get("subtype") == "can_use_tool":
            r = m["request"]
            asks.append(r["tool_name"])
            inp = dict(r["input"])
            if r["tool_name"] == "AskUserQuestion":
                inp["answers"] = {inp["questions"][0]["question"]: "Blue"}
            p.send({"type": "control_response", "response": {
                "subtype": "success", "request_id": m["request_id"],
                "response": {"behavior": "allow", "updatedInput": inp}}})

    def turn(text):
        del asks[:]
        start = len(p.lines)
        p.send({"type": "user", "message": {"role": "user", "content": [
            {"type": "text", "text": text}]}, "parent_tool_use_id": None,
            "session_id": ""})
        res = p.until(lambda m: m.get("type") == "result", 60, on)
        deltas = "".join(
            m["event"]["delta"].get("text", "") for m in p.lines[start:]
            if m.get("type") == "stream_event" and
            m["event"].get("type") == "content_block_delta")
        return res or {}, deltas

    res, d = turn("hello")
    check(res.get("result") == "Hello! I am a mock model. How can I help?"
          and "Hello! I am" in d, "claude hello", res)
    res, d = turn("please write the file")
    check(asks == ["Write"] and res.get("result") ==
          "Done. The file is written." and
          open(os.path.join(wk, "hello.txt")).read() == "hello world\n",
          "claude write -> can_use_tool Write", (asks, res.get("result")))
    res, d = turn("run a shell command")
    check(asks == ["Bash"] and os.path.exists(
        os.path.join(wk, "shell-ran.txt")) and res.get("result") ==
        "Done. The command finished successfully.",
        "claude shell -> can_use_tool Bash", (asks, res.get("result")))
    res, d = turn("use two tools")
    check(res.get("result") == "Done. Both tools finished.",
          "claude two tools", res.get("result"))
    res, d = turn("ask me a question")
    check(asks == ["AskUserQuestion"] and res.get("result") ==
          "You chose Blue.", "claude question", (asks, res.get("result")))
    for sc, status in (("error 400", 400), ("error 429", 429),
                       ("error 500", 500), ("midstream error", 529)):
        res, d = turn(sc + " please")
        check(res.get("is_error") and
              res.get("api_error_status") == status,
              "claude %s -> result is_error" % sc,
              (res.get("api_error_status"), res.get("result")))
    # slow + interrupt
    p.send({"type": "user", "message": {"role": "user", "content": [
        {"type": "text", "text": "slow please"}]},
        "parent_tool_use_id": None, "session_id": ""})
    got = p.until(lambda m: m.get("type") == "stream_event" and
                  m["event"].get("type") == "content_block_delta", 30, on)
    p.send({"type": "control_request", "request_id": "int1",
            "request": {"subtype": "interrupt"}})
    t0 = time.time()
    res = p.until(lambda m: m.get("type") == "result", 30, on) or {}
    check(got and res.get("subtype") == "error_during_execution" and
          time.time() - t0 < 3, "claude slow + interrupt",
          res.get("subtype"))
    p.close()


def run_codex(url, tmp):
    home, wk = os.path.join(tmp, "home-codex"), os.path.join(tmp, "wk-codex")
    env, _ = agentenv.agent_env("codex", url, home, wk)
    p = Proc([agentenv.agent_bin("codex"), "app-server"], env, wk)
    reqs = []

    def on(m):
        meth = m.get("method", "")
        if "id" in m and meth.endswith("/requestApproval"):
            reqs.append(meth)
            p.send({"id": m["id"], "result": {"decision": "accept"}})
        elif "id" in m and meth == "item/tool/requestUserInput":
            reqs.append(meth)
            q = m["params"]["questions"][0]
            p.send({"id": m["id"], "result": {"answers": {
                q["id"]: {"answers": ["Blue"]}}}})

    p.send({"method": "initialize", "id": 1, "params": {
        "clientInfo": {"name": "smoke", "title": "smoke",
                       "version": "0"},
        "capabilities": {"experimentalApi": True}}})
    p.until(lambda m: m.get("id") == 1, 30)
    p.send({"method": "initialized"})
    p.send({"method": "thread/start", "id": 2, "params": {
        "cwd": wk, "approvalPolicy": "untrusted",
        "sandbox": "workspace-write"}})
    r = p.until(lambda m: m.get("id") == 2, 30)
    tid = r["result"]["thread"]["id"] if r and "result" in r else None
    check(tid, "codex thread/start", r)
    nid = [10]

    def turn(text, **extra):
        del reqs[:]
        nid[0] += 1
        start = len(p.lines)
        p.send({"method": "turn/start", "id": nid[0], "params": dict({
            "threadId": tid, "input": [{"type": "text", "text": text,
                                        "text_elements": []}]}, **extra)})
        done = p.until(lambda m: m.get("method") == "turn/completed", 60, on)
        texts = [m["params"]["item"]["text"] for m in p.lines[start:]
                 if m.get("method") == "item/completed" and
                 m["params"]["item"].get("type") == "agentMessage"]
        return (done or {}).get("params", {}).get("turn", {}), texts

    t, texts = turn("hello")
    check(t.get("status") == "completed" and texts ==
          ["Hello! I am a mock model. How can I help?"], "codex hello",
          texts)
    t, texts = turn("please write the file")
    check(reqs == ["item/fileChange/requestApproval"] and
          texts[-1:] == ["Done. The file is written."] and
          open(os.path.join(wk, "hello.txt")).read() == "hello world\n",
          "codex write -> item/fileChange/requestApproval", (reqs, texts))
    t, texts = turn("run a shell command")
    check(reqs == ["item/commandExecution/requestApproval"] and
          texts[-1:] == ["Done. The command finished successfully."],
          "codex shell -> item/commandExecution/requestApproval",
          (reqs, texts))
    t, texts = turn("use two tools")
    check(len(reqs) == 2 and texts[-1:] == ["Done. Both tools finished."],
          "codex two tools", (reqs, texts))
    t, texts = turn("ask me a question", collaborationMode={
        "mode": "plan", "settings": {"model": agentenv.CODEX_MODEL,
                                     "reasoning_effort": None,
                                     "developer_instructions": None}})
    check(reqs == ["item/tool/requestUserInput"] and
          texts[-1:] == ["You chose Blue."], "codex question (plan mode)",
          (reqs, texts))
    for sc in ("error 400", "error 429", "error 500", "midstream error"):
        t, texts = turn(sc + " please")
        check(t.get("status") == "failed" and t.get("error"),
              "codex %s -> turn failed" % sc, t.get("error"))
    # slow + interrupt
    nid[0] += 1
    p.send({"method": "turn/start", "id": nid[0], "params": {
        "threadId": tid, "input": [{"type": "text", "text": "slow please",
                                    "text_elements": []}]}})
    d = p.until(lambda m: m.get("method") == "item/agentMessage/delta", 30)
    turn_id = d["params"]["turnId"] if d else None
    p.send({"method": "turn/interrupt", "id": 99, "params": {
        "threadId": tid, "turnId": turn_id}})
    done = p.until(lambda m: m.get("method") == "turn/completed", 30)
    check(done and done["params"]["turn"]["status"] == "interrupted",
          "codex slow + turn/interrupt", done)
    p.close()


def main():
    want = sys.argv[1:] or ["claude", "codex"]
    tmp = tempfile.mkdtemp(prefix="agentd-e2e-")
    log = os.path.join(tmp, "mock.log")
    srv = subprocess.Popen([sys.executable, SERVER, "--port", "0", "--log",
                            log], stdout=subprocess.PIPE, text=True)
    port = int(srv.stdout.readline().split()[1])
    url = "http://127.0.0.1:%d" % port
    try:
        for a in want:
            if not agentenv.installed(a):
                print("ok - %s # SKIP not installed" % a)
                continue
            {"claude": run_claude, "codex": run_codex}[a](url, tmp)
        reqs = mock_requests(url)
        print("# mock saw %d requests, log in %s" % (len(reqs), log))
    finally:
        srv.terminate()
        srv.wait()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
