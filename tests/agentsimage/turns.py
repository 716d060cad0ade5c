#!/usr/bin/env python3
"""Real Claude Code and Codex turns in the agents image, through its agentd.

    turns.py --port P --token T --root MNT --path IMAGE_PATH [--agents a,b]

tests/agentsimage/run.sh starts the image's agentd in the image's root
filesystem MNT (a chroot sharing this host's network) and calls this. It
starts tests/mockmodel/server.py here, then checks over agentd's API:

- GET /v1/agents finds each CLI in the image, under /opt/agentd/agents;
- per agent, a session created by agent name only (agentd resolves the
  command on the image's PATH; it runs with --no-install, so a CLI missing
  from the image fails the create), its environment pointing the CLI at the
  mock (tests/e2e/agentenv.py: env vars, and config files in a HOME inside
  the image), runs the e2e "write" scenario: the model asks to write
  hello.txt, agentd relays the permission, the test grants it, and the file
  appears in the session's cwd inside the image; the stream keeps the
  invariants of DESIGN section 3, and the session names the pinned version
  of the CLI (agentVersion, from the CLI's own handshake).

Prints "ok - ..." or "not ok - ..." per check, with the turn's time.
Python 3 standard library only.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

import agentd  # noqa: E402
import agentenv  # noqa: E402
import scenarios  # noqa: E402


class ImageAgentd:
    """The image's agentd, as scenarios.create() and drive() use one."""

    def __init__(self, port, token):
        self.port = port
        self.token = token

    def http(self, method, path, body=None):
        return agentd.http(self.port, method, path, body, token=self.token)

    def ws(self, path):
        return agentd.WSClient(self.port, path, self.token)


def start_mock(log):
    proc = subprocess.Popen([sys.executable,
        os.path.join(ROOT, "tests", "mockmodel", "server.py"),
        "--port", "0", "--log", log], stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().split()
    assert line[:1] == ["listening"], f"mock model: {line}"
    return proc, f"http://127.0.0.1:{line[1]}"


def check_agents(d, names):
    r = d.http("GET", "/v1/agents")
    assert r.status == 200, f"GET /v1/agents: {r.status}"
    found = {a["id"]: a for a in r.json["agents"]}
    for n in names:
        a = found.get(n)
        assert a and a.get("installed"), f"{n} is not installed: {a}"
        want = "/opt/agentd/agents/node_modules/.bin/"
        assert a.get("path", "").startswith(want), \
            f"{n} found at {a.get('path')}, not under {want}"


def session_env(agent, mock_url, root, tmp, image_path):
    """agent_env() writes its config files at the paths the agent will see;
    they are written here under a host temporary directory of the same
    name, then moved into the image's root."""
    home, cwd = os.path.join(tmp, "home"), os.path.join(tmp, "work")
    env, _ = agentenv.agent_env(agent, mock_url, home, cwd)
    shutil.copytree(tmp, root + tmp)
    shutil.rmtree(tmp)
    env["PATH"] = image_path
    env.pop("TMPDIR", None)
    return env, cwd


def run_turn(d, agent, mock_url, root, image_path, pin):
    tmp = tempfile.mkdtemp(prefix=f"agentsimage-{agent}-", dir="/tmp")
    env, cwd = session_env(agent, mock_url, root, tmp, image_path)
    sid = f"img-{agent}"
    try:
        scenarios.create(d, sid, agent, cwd, env=env)
        sc = scenarios.by_name("write")
        t0 = time.monotonic()
        run = scenarios.drive(d, sid, sc, root + cwd)
        took = time.monotonic() - t0
        scenarios.check_invariants(run)
        sc.check(run)       # hello.txt, read through the image's root
        got = d.http("GET", f"/v1/sessions/{sid}").json.get("agentVersion")
        assert got == pin, f"agentVersion {got!r}, pinned {pin}"
        assert os.path.isdir(os.path.join(root, "var/lib/agentd/sessions",
            sid)), "no session dir under /var/lib/agentd in the image"
        d.http("POST", f"/v1/sessions/{sid}/terminate")
        return took, got, len(run.events)
    finally:
        shutil.rmtree(root + tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--path", required=True, help="the image's PATH")
    ap.add_argument("--agents", default="claude,codex")
    ap.add_argument("--log", default=os.devnull, help="the mock's log")
    a = ap.parse_args()
    names = a.agents.split(",")
    pins = agentenv.lock()
    d = ImageAgentd(a.port, a.token)
    mock, mock_url = start_mock(a.log)
    failed = 0

    def check(label, fn, *args):
        nonlocal failed
        try:
            out = fn(*args)
        except Exception as e:      # noqa: BLE001 (report, go on)
            failed += 1
            print(f"not ok - {label}: {e}")
            traceback.print_exc(file=sys.stdout)
            return None
        print(f"ok - {label}" + (f" ({out})" if out else ""))
        return out

    try:
        check("GET /v1/agents finds " + " and ".join(names) +
            " under /opt/agentd/agents", check_agents, d, names)
        for n in names:
            def turn(n=n):
                took, v, nev = run_turn(d, n, mock_url, a.root, a.path,
                    pins[n][1])
                return f"{n} {v}, {nev} events, turn {took:.1f} s"
            check(f"{n}: a turn in the image writes hello.txt", turn)
    finally:
        mock.terminate()
        mock.wait(5)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
