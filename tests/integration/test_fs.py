"""Issue 14: files under /v1/fs (sandbox-agent 0.4.2's routes and shapes).

Expected shapes (docs/api.md "Files"):

  PUT  /v1/fs/file?path=P[&parents=false]   body: application/octet-stream
      200 {"path": <absolute>, "bytesWritten": N}
  GET  /v1/fs/file?path=P                    200 the bytes; Range: 206/416
  GET  /v1/fs/stat?path=P                    {"path","entryType","size","modified"}
  GET  /v1/fs/entries?path=P                 [{"name","path","entryType","size","modified"}]
  POST /v1/fs/mkdir?path=P                   {"path"}
  POST /v1/fs/move {"from","to","overwrite"?}  {"from","to"}
  DELETE /v1/fs/entry?path=P[&recursive=true]  {"path"}
  POST /v1/fs/upload-batch?path=D   body: application/x-tar
      {"paths": [...], "truncated": bool}

Relative paths are under $HOME; a ".." component is refused (400);
missing: 404; wrong kind (a directory read, a non-empty directory deleted,
an existing destination): 409; wrong Content-Type: 415.
"""

import contextlib
import hashlib
import http.client as hc
import io
import os
import shutil
import socket
import stat
import tarfile
import tempfile
import time
import urllib.parse
import zlib

from agentd import HOST, cpu_ticks, problem, unpatched_lws

# Sanitizer builds (make test SAN=1) start bigger and keep freed memory
# in quarantine for a while: their growth is allowed four times as much.
SAN = os.environ.get("AGENTD_SAN") == "1"
# ELOOP's text, in either libc: musl's "Symbolic link loop" (the shipped
# build), glibc's "Too many levels of symbolic links" (the SAN build).
LOOP = "symbolic link"
RSS_SCALE = 4 if SAN else 1

TOKEN = "fs-test-token"


def q(path, **extra):
    return urllib.parse.urlencode({"path": path, **extra})


@contextlib.contextmanager
def _sandbox(ctx):
    """agentd with HOME in a fresh directory (on tmpfs when there is one:
    the big-file test measures agentd, not the disk); yields (agentd, its
    HOME, a scratch directory beside it)."""
    base = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    tmp = tempfile.mkdtemp(prefix="agentd-fs-", dir=base)
    home = os.path.join(tmp, "home")
    scratch = os.path.join(tmp, "outside")
    os.makedirs(home)
    os.makedirs(scratch)
    try:
        with ctx.agentd(token=TOKEN, env={"HOME": home}) as a:
            yield a, home, scratch
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _put(a, path, data, ctype="application/octet-stream", **extra):
    return a.http("PUT", "/v1/fs/file?" + q(path, **extra), data,
        headers={"Content-Type": ctype})


def test_write_read_stat_list_range(ctx):
    with _sandbox(ctx) as (a, home, _):
        data = bytes(range(256)) * 4096 + b"\x00tail\xff"
        r = _put(a, "bin/all.bin", data)
        assert r.status == 200, r.body
        assert r.json == {"path": os.path.join(home, "bin/all.bin"),
            "bytesWritten": len(data)}
        with open(os.path.join(home, "bin/all.bin"), "rb") as f:
            assert f.read() == data
        r = a.http("GET", "/v1/fs/file?" + q("bin/all.bin"))
        assert r.status == 200 and r.body == data
        assert r.headers["content-type"] == "application/octet-stream"
        assert r.headers.get("accept-ranges") == "bytes"

        st = a.http("GET", "/v1/fs/stat?" + q("bin/all.bin")).json
        assert st["entryType"] == "file" and st["size"] == len(data)
        assert st["path"] == os.path.join(home, "bin/all.bin")
        assert st["modified"].endswith("Z") and "T" in st["modified"]
        d = a.http("GET", "/v1/fs/stat?" + q("bin")).json
        assert d["entryType"] == "directory"

        _put(a, "bin/b.txt", b"bee")
        ents = a.http("GET", "/v1/fs/entries?" + q("bin")).json
        assert [e["name"] for e in ents] == ["all.bin", "b.txt"]
        assert ents[1] == {**ents[1], "path": os.path.join(home, "bin/b.txt"),
            "entryType": "file", "size": 3}
        # No path: the home directory.
        top = a.http("GET", "/v1/fs/entries").json
        assert [e["name"] for e in top] == ["bin"]

        # Ranges: start-end, start-, -suffix; past the end: 416.
        for rng, want in (("bytes=0-9", data[:10]),
                ("bytes=1000-1999", data[1000:2000]),
                (f"bytes={len(data) - 5}-", data[-5:]),
                ("bytes=-7", data[-7:]),
                ("bytes=10-99999999999", data[10:])):
            r = a.http("GET", "/v1/fs/file?" + q("bin/all.bin"),
                headers={"Range": rng})
            assert r.status == 206, (rng, r.status)
            assert r.body == want, rng
            first = len(data) - len(want)
            if not rng.startswith("bytes=-") and not rng.endswith("-"):
                first = int(rng[6:].split("-")[0])
            assert r.headers["content-range"] == \
                f"bytes {first}-{first + len(want) - 1}/{len(data)}", rng
        r = a.http("GET", "/v1/fs/file?" + q("bin/all.bin"),
            headers={"Range": f"bytes={len(data)}-"})
        problem(r, 416)
        assert r.headers["content-range"] == f"bytes */{len(data)}"
        # Several ranges are not taken: the whole file, 200.
        r = a.http("GET", "/v1/fs/file?" + q("bin/all.bin"),
            headers={"Range": "bytes=0-1,5-6"})
        assert r.status == 200 and r.body == data

        # Empty file, and overwrite keeps the mode.
        r = _put(a, "empty", b"")
        assert r.status == 200 and r.json["bytesWritten"] == 0
        assert a.http("GET", "/v1/fs/file?" + q("empty")).body == b""
        os.chmod(os.path.join(home, "bin/b.txt"), 0o751)
        _put(a, "bin/b.txt", b"new")
        assert os.stat(os.path.join(home, "bin/b.txt")).st_mode & 0o777 == 0o751


def _vm(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def test_one_gib_streams_through_in_bounded_memory(ctx):
    """1 GiB written and read back over HTTP; agentd's peak RSS (VmHWM)
    stays under 8 MiB and grows by less than 4 MiB, so the file was never
    held in memory."""
    size = 1 << 30
    block = bytes((i * 7 + 3) & 0xff for i in range(1 << 20))
    with _sandbox(ctx) as (a, home, _):
        hwm0 = _vm(a.pid, "VmHWM")
        c = hc.HTTPConnection(HOST, a.port, timeout=60)
        crc = 0

        def body():
            nonlocal crc
            for i in range(size // len(block)):
                crc = zlib.crc32(block, crc)
                yield block

        t0 = time.monotonic()
        c.request("PUT", "/v1/fs/file?" + q("big.bin"), body=body(),
            headers={"Authorization": "Bearer " + TOKEN,
                "Content-Type": "application/octet-stream",
                "Content-Length": str(size)})
        r = c.getresponse()
        out = r.read()
        t_write = time.monotonic() - t0
        assert r.status == 200, out
        assert os.path.getsize(os.path.join(home, "big.bin")) == size

        t0 = time.monotonic()
        c.request("GET", "/v1/fs/file?" + q("big.bin"),
            headers={"Authorization": "Bearer " + TOKEN})
        r = c.getresponse()
        assert r.status == 200
        assert int(r.headers["content-length"]) == size
        back, n = 0, 0
        while True:
            chunk = r.read(1 << 20)
            if not chunk:
                break
            back = zlib.crc32(chunk, back)
            n += len(chunk)
        t_read = time.monotonic() - t0
        c.close()
        assert n == size and back == crc
        hwm = _vm(a.pid, "VmHWM")
        print(f"    1 GiB: write {t_write:.1f} s, read {t_read:.1f} s; "
            f"agentd VmHWM {hwm0} KiB idle, {hwm} KiB after")
        assert hwm - hwm0 < 4 * 1024 * RSS_SCALE, f"agentd peaked at {hwm} KiB"
        assert SAN or hwm < 8 * 1024, f"agentd peaked at {hwm} KiB"


def _raw_response(s, buf):
    """One HTTP/1.1 response off socket s (buf: bytes read past the last
    one): (status, body, the bytes read past this one)."""
    while b"\r\n\r\n" not in buf:
        b = s.recv(65536)
        assert b, "the connection closed before a response"
        buf += b
    head, _, buf = buf.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    length = [int(l.split(":", 1)[1]) for l in lines
        if l.lower().startswith("content-length:")]
    assert length, lines
    body = bytearray(buf)
    while len(body) < length[0]:
        b = s.recv(1 << 20)
        assert b, f"the body ended at {len(body)} of {length[0]} bytes"
        body += b
    return (int(lines[0].split()[1]), bytes(body[:length[0]]),
        bytes(body[length[0]:]))


def test_slow_download_with_a_pipelined_request_is_not_a_spin(ctx):
    """A download whose reader is slow, with a request pipelined behind
    it: lws had read that request, and while it sat unparsed and the
    socket was full, lws polled without sleeping, at 100% CPU for as long
    as the reader took. Now agentd idles, the download comes whole, and
    the pipelined request is answered after it."""
    with _sandbox(ctx) as (a, home, _):
        data = os.urandom(16 << 20)
        with open(os.path.join(home, "big.bin"), "wb") as f:
            f.write(data)
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(30)
        s.connect((HOST, a.port))
        s.sendall(f"GET /v1/fs/file?{q('big.bin')} HTTP/1.1\r\n"
            f"Host: {HOST}:{a.port}\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"\r\nGET /v1/health HTTP/1.1\r\nHost: {HOST}:{a.port}"
            "\r\n\r\n".encode())
        time.sleep(0.3)
        t0 = cpu_ticks(a.pid)
        time.sleep(1)
        # 1 s of a spinning loop is 100 ticks
        assert cpu_ticks(a.pid) - t0 < 20, "agentd busy while the reader stalls"
        status, body, rest = _raw_response(s, b"")
        assert status == 200 and len(body) == len(data)
        assert hashlib.sha256(body).digest() == hashlib.sha256(data).digest()
        status, body, _ = _raw_response(s, rest)
        assert status == 200 and b'"ok"' in body
        s.close()


def test_paths_spaces_unicode_dotdot_symlinks_parents(ctx):
    with _sandbox(ctx) as (a, home, outside):
        # Spaces and UTF-8 in names, encoded as URLSearchParams does.
        name = "dir with spaces/caf\u00e9 \u2603 + 100%.txt"
        r = _put(a, name, "h\u00e9".encode())
        assert r.status == 200, r.body
        assert r.json["path"] == os.path.join(home, name)
        assert open(os.path.join(home, name), "rb").read() == "h\u00e9".encode()
        ents = a.http("GET", "/v1/fs/entries?" + q("dir with spaces")).json
        assert ents[0]["name"] == "caf\u00e9 \u2603 + 100%.txt"

        # "..": refused wherever it is, even when it would stay inside.
        for p in ("../etc/passwd", "a/../b", "/tmp/../etc", ".."):
            problem(a.http("GET", "/v1/fs/stat?" + q(p)), 400)
            problem(_put(a, p, b"x"), 400)
        # "." and doubled slashes are harmless.
        assert a.http("GET", "/v1/fs/stat?" +
            q("./dir with spaces//")).json["path"] == \
            os.path.join(home, "dir with spaces")

        # Missing: 404 to read, stat, list, delete, move from.
        for method, path in (("GET", "/v1/fs/file?"), ("GET", "/v1/fs/stat?"),
                ("GET", "/v1/fs/entries?"), ("DELETE", "/v1/fs/entry?")):
            problem(a.http(method, path + q("nope/nothing")), 404)
        problem(a.http("POST", "/v1/fs/move",
            {"from": "nope", "to": "x"}), 404)
        # Missing parents: made by a write (as sandbox-agent does), unless
        # parents=false (404); mkdir makes them all.
        assert _put(a, "p/q/r/s.txt", b"s").status == 200
        problem(_put(a, "m/n/o.txt", b"o", parents="false"), 404)
        assert not os.path.exists(os.path.join(home, "m"))
        assert a.http("POST", "/v1/fs/mkdir?" + q("m/n/o")).status == 200
        assert os.path.isdir(os.path.join(home, "m/n/o"))
        assert a.http("POST", "/v1/fs/mkdir?" + q("m/n/o")).status == 200
        problem(a.http("POST", "/v1/fs/mkdir?" + q("p/q/r/s.txt")), 409)

        # Symlinks: read and stat follow; write goes through (the link
        # stays); delete removes the link, not its target.
        target = os.path.join(outside, "target.txt")
        with open(target, "wb") as f:
            f.write(b"target")
        os.symlink(target, os.path.join(home, "link"))
        assert a.http("GET", "/v1/fs/file?" + q("link")).body == b"target"
        st = a.http("GET", "/v1/fs/stat?" + q("link")).json
        assert st["size"] == 6 and st["entryType"] == "file"
        assert st.get("symlink") is True
        assert _put(a, "link", b"written").status == 200
        assert os.path.islink(os.path.join(home, "link"))
        assert open(target, "rb").read() == b"written"
        os.symlink(outside, os.path.join(home, "dirlink"))
        ents = a.http("GET", "/v1/fs/entries").json
        dl = [e for e in ents if e["name"] == "dirlink"][0]
        assert dl["entryType"] == "directory" and dl["symlink"] is True
        assert a.http("DELETE", "/v1/fs/entry?" + q("dirlink")).status == 200
        assert not os.path.lexists(os.path.join(home, "dirlink"))
        assert os.path.exists(target)
        # A dangling link: listed, 404 to stat and read.
        os.symlink(os.path.join(outside, "gone"), os.path.join(home, "dangling"))
        assert "dangling" in [e["name"] for e in
            a.http("GET", "/v1/fs/entries").json]
        problem(a.http("GET", "/v1/fs/stat?" + q("dangling")), 404)
        problem(a.http("GET", "/v1/fs/file?" + q("dangling")), 404)

        # Wrong kinds: 409.
        problem(a.http("GET", "/v1/fs/file?" + q("p")), 409)
        problem(_put(a, "p", b"x"), 409)
        problem(a.http("DELETE", "/v1/fs/entry?" + q("p")), 409)
        assert a.http("DELETE", "/v1/fs/entry?" + q("p", recursive="true")) \
            .json == {"path": os.path.join(home, "p")}
        assert not os.path.exists(os.path.join(home, "p"))
        # A required path missing: 400.
        problem(a.http("GET", "/v1/fs/stat"), 400)
        problem(a.http("GET", "/v1/fs/file"), 400)


def _odd_nodes(where):
    """{kind: path} of nodes in where that are not regular files: a FIFO,
    a socket, a symlink loop and, when we may make them (root), a copy of
    the null device and one of /dev/tty (no driver answers it without a
    controlling terminal, so opening it fails)."""
    nodes = {"fifo": os.path.join(where, "fifo"),
        "socket": os.path.join(where, "sock"),
        "loop": os.path.join(where, "loop")}
    os.mkfifo(nodes["fifo"])
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(nodes["socket"])
    os.symlink(nodes["loop"] + "2", nodes["loop"])
    os.symlink(nodes["loop"], nodes["loop"] + "2")
    for kind, dev in (("null", os.makedev(1, 3)), ("tty", os.makedev(5, 0))):
        path = os.path.join(where, kind)
        try:
            os.mknod(path, 0o666 | stat.S_IFCHR, dev)
        except PermissionError:
            continue
        nodes[kind] = path
    return nodes


def _kept(nodes):
    """Each node's (inode, type), to see that none was replaced."""
    return {k: (os.lstat(p).st_ino, stat.S_IFMT(os.lstat(p).st_mode))
        for k, p in nodes.items()}


def test_write_refuses_what_is_not_a_regular_file(ctx):
    """A write onto a device, a FIFO, a socket or a symlink loop is
    refused (409) and the node kept, directly, through a symlink, or as
    an archive's member: as root, PUT ?path=/dev/null used to replace the
    system's null device with a file. Through a symlink to a regular file
    a write still lands in the target, the link kept."""
    with _sandbox(ctx) as (a, home, outside):
        nodes = _odd_nodes(outside)
        kept = _kept(nodes)
        for kind, path in nodes.items():
            os.symlink(path, os.path.join(home, "to-" + kind))
        for kind, path in nodes.items():
            for p in (path, "to-" + kind):
                r = _put(a, p, b"x")
                problem(r, 409)
                want = LOOP if kind == "loop" else "not a regular file"
                assert want in r.json["detail"].lower(), (kind, r.json)
            problem(a.http("POST", "/v1/fs/mkdir?" + q(path)), 409)
        assert _kept(nodes) == kept
        assert [n for n in os.listdir(outside) if n.startswith(".agentd")] \
            == []
        for kind, path in nodes.items():
            assert os.path.islink(os.path.join(home, "to-" + kind))

        # One made while the body arrives is kept too.
        late = os.path.join(outside, "late")
        with open(late, "wb") as f:
            f.write(b"old")
        c = a.connection()
        c.putrequest("PUT", "/v1/fs/file?" + q(late))
        c.putheader("Authorization", "Bearer " + TOKEN)
        c.putheader("Content-Type", "application/octet-stream")
        c.putheader("Content-Length", "2")
        c.endheaders()
        c.send(b"n")
        time.sleep(0.3)
        os.unlink(late)
        os.mkfifo(late)
        c.send(b"n")
        r = c.getresponse()
        body = r.read()
        c.close()
        assert r.status == 409 and b"not a regular file" in body, body
        assert stat.S_ISFIFO(os.lstat(late).st_mode)

        # An archive's file or symlink member does not replace them either
        # (a member named as a symlink replaces the link, as tar does:
        # nothing is written through it).
        with open(os.path.join(outside, "plain"), "wb") as f:
            f.write(b"plain")
        for kind, path in nodes.items():
            if kind == "loop":
                continue
            for what in (b"x", ("link", "plain")):
                r = a.http("POST", "/v1/fs/upload-batch?" + q(outside),
                    _tar([(os.path.basename(path), what)]),
                    headers={"Content-Type": "application/x-tar"})
                problem(r, 409)
                assert "not a regular file" in r.json["detail"], r.json
        assert _kept(nodes) == kept

        # Through a symlink to a regular file: the target is written.
        os.symlink(os.path.join(outside, "plain"), os.path.join(home, "ok"))
        assert _put(a, "ok", b"written").status == 200
        assert os.path.islink(os.path.join(home, "ok"))
        assert open(os.path.join(outside, "plain"), "rb").read() == b"written"


def test_read_refuses_what_is_not_a_regular_file(ctx):
    """GET /v1/fs/file of a device, a FIFO, a socket: 409 without opening
    it (opening /dev/tty without a terminal, or a socket, used to fail
    with 500; opening some devices acts); a symlink loop: 409."""
    with _sandbox(ctx) as (a, home, outside):
        nodes = _odd_nodes(outside)
        for kind, path in nodes.items():
            r = a.http("GET", "/v1/fs/file?" + q(path))
            problem(r, 409)
            want = LOOP if kind == "loop" else "not a regular file"
            assert want in r.json["detail"].lower(), (kind, r.json)
        assert a.http("GET", "/v1/health").status == 200


def test_read_of_a_file_without_a_size(ctx):
    """procfs gives its files a size of 0 and makes their bytes as they
    are read: they are read whole (up to 1 MiB), Range included; an empty
    file is still empty."""
    with _sandbox(ctx) as (a, home, _):
        r = a.http("GET", "/v1/fs/file?" + q("/proc/self/status"))
        assert r.status == 200, r.body
        assert r.body.startswith(b"Name:\t")
        assert f"\nPid:\t{a.pid}\n".encode() in r.body, r.body[:300]
        assert int(r.headers["content-length"]) == len(r.body)
        r = a.http("GET", "/v1/fs/file?" + q("/proc/self/status"),
            headers={"Range": "bytes=0-4"})
        assert r.status == 206 and r.body == b"Name:"
        assert r.headers["content-range"].startswith("bytes 0-4/")
        open(os.path.join(home, "empty"), "wb").close()
        r = a.http("GET", "/v1/fs/file?" + q("empty"))
        assert r.status == 200 and r.body == b""


def test_expect_100_continue_is_answered(ctx):
    """A client that sends "Expect: 100-continue" (curl, for bodies over 1
    MiB) waits for a 100 before its body: it had none and waited a second
    per upload. A raw body and a JSON body get their 100 at once; a
    request refused before its body (a bad token) gets only the refusal."""
    with _sandbox(ctx) as (a, home, _):
        path = os.path.join(home, "up.bin")
        body = os.urandom(3 * 1024 * 1024)
        cases = (
            ("PUT", "/v1/fs/file?" + q(path), "application/octet-stream",
             body, TOKEN, 200),
            ("POST", "/v1/sessions/e1", "application/json",
             b'{"agent":"mock"}', TOKEN, 200),
            ("PUT", "/v1/fs/file?" + q(path + ".no"),
             "application/octet-stream", body, "wrong", 401))
        for method, target, ctype, data, token, want in cases:
            s = socket.create_connection((HOST, a.port), timeout=5)
            s.sendall((f"{method} {target} HTTP/1.1\r\nHost: {HOST}\r\n"
                f"Authorization: Bearer {token}\r\n"
                f"Content-Type: {ctype}\r\nContent-Length: {len(data)}\r\n"
                "Expect: 100-continue\r\n\r\n").encode())
            s.settimeout(0.5)
            first = s.recv(65536)
            s.settimeout(5)
            if want == 401:
                assert first.startswith(b"HTTP/1.1 401"), first[:100]
                s.close()
                continue
            assert first == b"HTTP/1.1 100 Continue\r\n\r\n", first[:100]
            s.sendall(data)
            got = b""
            while b"\r\n\r\n" not in got:
                got += s.recv(65536)
            assert got.startswith(b"HTTP/1.1 %d" % want), got[:200]
            s.close()
        assert open(path, "rb").read() == body
        assert not os.path.exists(path + ".no")


def test_semicolon_in_a_query_is_data(ctx):
    """A ';' written as it is in a query value is part of the value (RFC
    3986): lws split arguments at it too, so DELETE ?path=dir/a;old
    removed dir/a, a file the client never named. A ';' in the path is
    a character of it (404 for no such route), not a NUL (400)."""
    if unpatched_lws():
        return
    with _sandbox(ctx) as (a, home, _):
        for name, data in (("important", b"keep"), ("important;old", b"x")):
            with open(os.path.join(home, name), "wb") as f:
                f.write(data)
        path = os.path.join(home, "important;old")
        r = a.http("DELETE", "/v1/fs/entry?path=" + path)
        assert r.status == 200 and r.json["path"] == path, r.body
        assert not os.path.exists(path)
        assert open(os.path.join(home, "important"), "rb").read() == b"keep"
        r = a.http("GET", "/v1/fs/file?path=" + os.path.join(home, "a;b") +
            "&offset=1")
        problem(r, 404)
        assert "a;b" in r.json["detail"], r.json
        r = a.http("GET", "/v1/health;x")
        assert r.status == 404, (r.status, r.body)


def test_move(ctx):
    with _sandbox(ctx) as (a, home, _):
        _put(a, "a.txt", b"A")
        _put(a, "b.txt", b"B")
        r = a.http("POST", "/v1/fs/move", {"from": "a.txt", "to": "new/dir/a.txt"})
        assert r.status == 200
        assert r.json == {"from": os.path.join(home, "a.txt"),
            "to": os.path.join(home, "new/dir/a.txt")}
        problem(a.http("POST", "/v1/fs/move",
            {"from": "b.txt", "to": "new/dir/a.txt"}), 409)
        r = a.http("POST", "/v1/fs/move",
            {"from": "b.txt", "to": "new/dir/a.txt", "overwrite": True})
        assert r.status == 200
        assert open(os.path.join(home, "new/dir/a.txt"), "rb").read() == b"B"
        problem(a.http("POST", "/v1/fs/move", {"from": "new", "to": "new/x"}), 409)
        problem(a.http("POST", "/v1/fs/move", {"from": "new"}), 400)
        problem(a.http("POST", "/v1/fs/move",
            {"from": "new", "to": "x", "overwrite": "yes"}), 400)


def _tar(members):
    """members: (name, bytes | None for a directory | ("link", target))."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, what in members:
            ti = tarfile.TarInfo(name)
            ti.mtime = 1700000000
            if what is None:
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
                t.addfile(ti)
            elif isinstance(what, tuple):
                ti.type = tarfile.SYMTYPE
                ti.linkname = what[1]
                t.addfile(ti)
            else:
                ti.size = len(what)
                ti.mode = 0o640
                t.addfile(ti, io.BytesIO(what))
    return buf.getvalue()


def test_upload_batch(ctx):
    with _sandbox(ctx) as (a, home, outside):
        files = [(f"repo/d{i % 10}/f{i}.txt", f"file {i}\n".encode() * (i % 7))
            for i in range(1000)]
        body = _tar([("repo", None)] + files +
            [("repo/link", ("link", "d0/f0.txt")),
             ("repo/" + "long" * 40 + "/x", b"long name")])
        r = a.http("POST", "/v1/fs/upload-batch?" + q("dest"), body,
            headers={"Content-Type": "application/x-tar"})
        assert r.status == 200, r.body
        assert r.json["truncated"] is False
        assert len(r.json["paths"]) == 1 + 1000 + 2
        for name, data in files:
            p = os.path.join(home, "dest", name)
            with open(p, "rb") as f:
                assert f.read() == data, name
        assert os.stat(os.path.join(home, "dest/repo/d1/f1.txt")).st_mode \
            & 0o777 == 0o640
        assert os.stat(os.path.join(home, "dest/repo/d1/f1.txt")).st_mtime \
            == 1700000000
        assert os.readlink(os.path.join(home, "dest/repo/link")) == "d0/f0.txt"
        # Nothing left behind but the members.
        left = [n for _, _, fs in os.walk(os.path.join(home, "dest"))
            for n in fs if n.startswith(".agentd-")]
        assert left == []

        # Escapes: "..", an absolute name, a member through a symlink.
        for bad, status in (([("../evil.txt", b"x")], 400),
                ([("/tmp/evil.txt", b"x")], 400),
                ([("esc", ("link", outside)), ("esc/evil.txt", b"x")], 409)):
            r = a.http("POST", "/v1/fs/upload-batch?" + q("dest2"),
                _tar(bad), headers={"Content-Type": "application/x-tar"})
            problem(r, status)
        assert os.listdir(outside) == []
        assert not os.path.exists(os.path.join(home, "evil.txt"))
        # Not a tar; a tar cut short.
        problem(a.http("POST", "/v1/fs/upload-batch?" + q("dest3"),
            b"x" * 2048, headers={"Content-Type": "application/x-tar"}), 400)
        problem(a.http("POST", "/v1/fs/upload-batch?" + q("dest3"),
            body[:5000], headers={"Content-Type": "application/x-tar"}), 400)
        # application/octet-stream is taken too.
        r = a.http("POST", "/v1/fs/upload-batch?" + q("dest4"),
            _tar([("one", b"1")]),
            headers={"Content-Type": "application/octet-stream"})
        assert r.json == {"paths": [os.path.join(home, "dest4/one")],
            "truncated": False}


def test_body_types_and_token(ctx):
    """Raw bodies take octet-stream (and x-tar for archives), never the
    types a cross-site form may send; the token guards every route."""
    with _sandbox(ctx) as (a, home, _):
        for ctype in ("text/plain", "application/x-www-form-urlencoded",
                "multipart/form-data; boundary=x", "application/json",
                "application/x-tar", None):
            h = {"Content-Type": ctype} if ctype else {}
            problem(a.http("PUT", "/v1/fs/file?" + q("t.txt"), b"x",
                headers=h), 415)
        for ctype in ("text/plain", "application/x-www-form-urlencoded",
                "multipart/form-data; boundary=x"):
            problem(a.http("POST", "/v1/fs/upload-batch?" + q("d"),
                b"x", headers={"Content-Type": ctype}), 415)
        # An empty body with a simple type is refused too: it would write.
        problem(a.http("PUT", "/v1/fs/file?" + q("t.txt"), b"",
            headers={"Content-Type": "text/plain"}), 415)
        assert not os.path.exists(os.path.join(home, "t.txt"))
        for method, path in (("GET", "/v1/fs/entries"),
                ("GET", "/v1/fs/file?path=x"), ("GET", "/v1/fs/stat?path=x"),
                ("POST", "/v1/fs/mkdir?path=x"),
                ("DELETE", "/v1/fs/entry?path=x")):
            problem(a.http(method, path, token=None), 401)
        problem(a.http("PUT", "/v1/fs/file?" + q("t.txt"), b"x",
            headers={"Content-Type": "application/octet-stream"},
            token=None), 401)
        assert not os.path.exists(os.path.join(home, "t.txt"))
        assert not os.path.exists(os.path.join(home, "x"))
        # A page on another origin gets nothing written either.
        problem(a.http("PUT", "/v1/fs/file?" + q("t.txt"), b"x",
            headers={"Content-Type": "application/octet-stream",
                "Origin": "http://evil.example"}), 403)
        problem(a.http("POST", "/v1/fs/upload-batch?" + q("d"), b"x",
            headers={"Content-Type": "text/plain",
                "Origin": "http://evil.example"}, token=None), 403)
        assert not os.path.exists(os.path.join(home, "t.txt"))
        # The upload's Content-Length is not capped by --max-body (8 MiB).
        big = os.urandom(12 << 20)
        r = _put(a, "twelve.bin", big)
        assert r.status == 200 and r.json["bytesWritten"] == len(big)


def test_cut_short_upload_leaves_the_old_file(ctx):
    """A client that goes away mid-body: the old file is intact and no
    temporary is left; a refused write is answered before its body and
    the connection closed (the body is not read)."""
    with _sandbox(ctx) as (a, home, _):
        _put(a, "keep.txt", b"old")
        head = ("PUT /v1/fs/file?" + q("keep.txt") + " HTTP/1.1\r\n"
            "Host: localhost\r\nAuthorization: Bearer " + TOKEN + "\r\n"
            "Content-Type: application/octet-stream\r\n"
            "Content-Length: 1000000\r\n\r\n").encode()
        r = a.raw_request(head + b"n" * 300000, read_timeout=0.5)
        assert r.data == b""
        time.sleep(0.3)
        assert open(os.path.join(home, "keep.txt"), "rb").read() == b"old"
        assert [n for n in os.listdir(home) if n.startswith(".agentd")] == []
        assert a.http("GET", "/v1/health").status == 200

        bad = ("PUT /v1/fs/file?path=../x HTTP/1.1\r\nHost: localhost\r\n"
            "Authorization: Bearer " + TOKEN + "\r\n"
            "Content-Type: application/octet-stream\r\n"
            "Content-Length: 100000000\r\n\r\n").encode()
        r = a.raw_request(bad, read_timeout=3)
        assert r.data.startswith(b"HTTP/1.1 400"), r.data[:200]
        assert r.closed and r.elapsed < 2
