"""A real `agentd serve` for the Python client's tests: a free port, a
temporary data dir and a token; it can be killed with SIGKILL and started
again on the same port and data (the sessions come back)."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

TOKEN = "pyclient-test-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Agentd:
    def __init__(self, binary: str, *extra: str) -> None:
        self.binary = binary
        self.extra = list(extra)
        self.port = free_port()
        self.data_dir = tempfile.mkdtemp(prefix="agentd-pyclient-")
        self.url = "http://127.0.0.1:%d" % self.port
        self.log_path = os.path.join(self.data_dir, "agentd.log")
        self.proc: "subprocess.Popen[bytes] | None" = None

    def up(self) -> "Agentd":
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("AGENTD_")}
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--host", "127.0.0.1", "--port",
             str(self.port), "--data-dir", os.path.join(self.data_dir, "d"),
             "--token", TOKEN] + self.extra,
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env)
        log.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/v1/health",
                                            timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.01)
        raise RuntimeError("agentd did not start:\n" + self.log_tail())

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def log_tail(self, n: int = 2000) -> str:
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")[-n:]
        except OSError:
            return ""
