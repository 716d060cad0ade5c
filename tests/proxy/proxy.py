#!/usr/bin/env python3
"""tests/proxy/proxy.py: agentd behind nginx with TLS, for the proxy tests.

    Proxy(binary) starts agentd (a token, --allow-host preview.localhost)
    and nginx in front of it on 127.0.0.1:<port>, TLS with a self-signed
    certificate for preview.localhost and 127.0.0.1 made with openssl.
    .url is https://preview.localhost:<port> (Chromium resolves *.localhost
    to loopback); .cafile the certificate; .stop() ends both.

    python3 proxy.py --agentd BIN --hold prints one JSON line
    {"url", "token", "cafile"} and holds both until stdin closes (for the
    Chromium test, tests/proxy/inspector.test.mjs).

The nginx site is what docs/deploy.md tells users to write: WebSocket
upgrade headers, Host with its port ($http_host, so the inspector's
Origin matches), long read timeouts; nothing about buffering, which
agentd's X-Accel-Buffering: no turns off for SSE.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

from agentd import Agentd, free_port  # noqa: E402

NAME = "preview.localhost"
TOKEN = "proxy-test-token-5e1"

SITE = """
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      close;
    }}
    server {{
        listen 127.0.0.1:{port} ssl;
        server_name {name};
        ssl_certificate {tmp}/cert.pem;
        ssl_certificate_key {tmp}/key.pem;
        location / {{
            proxy_pass http://127.0.0.1:{upstream};
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $http_host;
            proxy_read_timeout 1h;
            proxy_send_timeout 1h;
        }}
    }}
}}
"""


def nginx_bin():
    return shutil.which("nginx") or "/usr/sbin/nginx"


class Proxy:
    def __init__(self, binary):
        self.tmp = tempfile.mkdtemp(prefix="agentd-proxy-")
        self.agentd = Agentd(binary, token=TOKEN, log_level="info",
            extra_args=["--allow-host", NAME])
        self.port = free_port()
        self.url = f"https://{NAME}:{self.port}"
        self.cafile = os.path.join(self.tmp, "cert.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
            "-nodes", "-days", "2", "-subj", f"/CN={NAME}",
            "-addext", f"subjectAltName=DNS:{NAME},IP:127.0.0.1",
            "-keyout", os.path.join(self.tmp, "key.pem"),
            "-out", self.cafile], check=True, capture_output=True)
        with open(os.path.join(self.tmp, "nginx.conf"), "w") as f:
            f.write(SITE.format(tmp=self.tmp, port=self.port, name=NAME,
                upstream=self.agentd.port))
        self.nginx = None
        self.start_nginx()

    def start_nginx(self):
        self.nginx = subprocess.Popen([nginx_bin(), "-c",
            os.path.join(self.tmp, "nginx.conf"), "-p", self.tmp],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(self.tmp, "nginx.out"), "w"),
            start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.nginx.poll() is not None:
                raise AssertionError("nginx exited: " + self.log())
            import socket
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("nginx did not listen: " + self.log())

    def workers(self):
        """nginx's worker pids (children of the master)."""
        out = []
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    with open(f"/proc/{pid}/stat") as f:
                        ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                except OSError:
                    continue
                if ppid == self.nginx.pid:
                    out.append(int(pid))
        return out

    def drop(self):
        """Kill nginx's worker: every connection through it drops at
        once; the master starts a new worker."""
        for pid in self.workers():
            os.kill(pid, signal.SIGKILL)

    def log(self):
        text = ""
        for name in ("nginx.out", "error.log"):
            try:
                with open(os.path.join(self.tmp, name)) as f:
                    text += f.read()[-2000:]
            except OSError:
                pass
        return text

    def stop(self):
        if self.nginx is not None and self.nginx.poll() is None:
            os.killpg(self.nginx.pid, signal.SIGTERM)
            try:
                self.nginx.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.nginx.pid, signal.SIGKILL)
        self.agentd.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agentd", required=True)
    ap.add_argument("--hold", action="store_true")
    args = ap.parse_args()
    p = Proxy(args.agentd)
    try:
        print(json.dumps({"url": p.url, "token": TOKEN, "cafile": p.cafile,
            "direct": p.agentd.url}), flush=True)
        sys.stdin.read()
    finally:
        p.stop()


if __name__ == "__main__":
    main()
