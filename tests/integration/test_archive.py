"""Issue 16: GET /v1/sessions/{id}/export and POST /v1/sessions/import.

The mock agent keeps its sessions under its HOME with AGENTD_MOCK_STORE=1
(~/.agentd-mock/sessions/<id>.jsonl, first line {"sessionId", "cwd"}),
refuses a session/load for another cwd and answers "recall" with the
prompts it kept: an imported session that answers "recall: …" with turn
1's prompt resumed natively from the files the archive carried, found
again under the new cwd.
"""

import http.client
import io
import json
import os
import subprocess
import tarfile
import time

from agentd import Agentd, check_contiguous, fetch_events, wait_for

SECRET_ENV = "sk-archive-env-93e1c5-SECRET"
SECRET_FILE = "refresh-archive-2d7f80-SECRET"
MOCK_ENV = {"AGENTD_MOCK_STORE": "1"}


def _raw(a, method, path, body=None, ctype=None):
    c = http.client.HTTPConnection("127.0.0.1", a.port, timeout=30)
    try:
        h = {"Content-Type": ctype} if ctype else {}
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        return r.status, r.getheader("Content-Type"), r.read()
    finally:
        c.close()


def _export(a, sid, secrets=False):
    st, ctype, data = _raw(a, "GET", f"/v1/sessions/{sid}/export" +
        ("?credentials=true" if secrets else ""))
    assert st == 200, (st, data[:300])
    assert ctype == "application/x-tar", ctype
    return data


def _import(a, data, query="", status=200, ctype="application/x-tar"):
    st, _, body = _raw(a, "POST", "/v1/sessions/import" + query, data, ctype)
    assert st == status, (st, body[:400])
    return json.loads(body) if body else None


def _turn(a, sid, text, n):
    r = a.http("POST", f"/v1/sessions/{sid}/messages", {"message": text})
    assert r.status == 204, (r.status, r.body[:300])

    def done():
        evs = fetch_events(a, sid)
        return evs if [e["type"] for e in evs].count("turn.ended") >= n \
            else None
    return wait_for(done, 10, 0.05, f"turn {n} did not end")


def _reply(events, after):
    items, out = {}, []
    for e in events:
        if e["sequence"] <= after:
            continue
        if e["type"] == "item.started":
            items[e["data"]["item"]["item_id"]] = e["data"]["item"]
        elif e["type"] == "item.delta":
            it = items.get(e["data"]["item_id"], {})
            if it.get("role") == "assistant" and it.get("kind") == "message":
                out.append(e["data"]["delta"])
    return "".join(out)


def _members(data):
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        return {m.name: t.extractfile(m).read() for m in t.getmembers()
            if m.isfile()}


def _session(a, sid, cwd, **extra):
    body = {"agent": "mock", "cwd": cwd, "env": dict(MOCK_ENV)}
    body.update(extra)
    r = a.http("POST", f"/v1/sessions/{sid}", body)
    assert r.status == 200, (r.status, r.body[:300])
    return r.json


def _left_behind(a, sid):
    """What a refused import may not leave."""
    d = a.data_dir
    stale = [n for n in os.listdir(d) if n.startswith(".import-")]
    return stale + [p for p in (os.path.join(d, "sessions", sid),
        os.path.join(d, "homes", sid)) if os.path.exists(p)]


def test_export_import_moves_a_session(ctx):
    """Turn 1 on A; the archive goes to B (another data dir, another cwd,
    another id), A is deleted; turn 2 on B resumes the agent natively and
    the log holds both turns, 1..N."""
    a = ctx.agentd()
    b = ctx.agentd()
    try:
        cwd_a = os.path.join(a.tmp, "work")
        os.makedirs(cwd_a)
        _session(a, "m1", cwd_a, home="session")
        last = _turn(a, "m1", "remember the tangerine", 1)[-1]["sequence"]
        # Files whose tar entries end on a block: nothing to pad.
        home = os.path.join(a.data_dir, "homes", "m1")
        with open(os.path.join(home, "empty"), "wb"):
            pass
        with open(os.path.join(home, "block"), "wb") as f:
            f.write(b"b" * 512)
        data = _export(a, "m1", secrets=True)
        m = _members(data)
        assert list(m)[:2] == ["session.json", "events.jsonl"], list(m)
        assert m["home/empty"] == b"" and m["home/block"] == b"b" * 512
        meta = json.loads(m["session.json"])
        assert meta["export"]["format"] == "agentd-session"
        assert meta["nativeSessionId"] and meta["cwd"] == cwd_a
        assert any(n.startswith("home/.agentd-mock/sessions/") for n in m)
        # GNU tar reads it too.
        p = subprocess.run(["tar", "-tf", "-"], input=data,
            capture_output=True)
        assert p.returncode == 0 and b"events.jsonl" in p.stdout, p.stderr
        assert a.http("DELETE", "/v1/sessions/m1").status == 204
        a.stop()
        cwd_b = os.path.join(b.tmp, "elsewhere")
        os.makedirs(cwd_b)
        info = _import(b, data, f"?cwd={cwd_b}&id=moved")
        assert info["sessionId"] == "moved" and info["directory"] == cwd_b
        assert info["home"] == "session"
        assert info["nativeSessionId"] == meta["nativeSessionId"]
        evs = _turn(b, "moved", "recall", 2)
        check_contiguous(evs)
        assert "remember the tangerine" in _reply(evs, last), \
            (_reply(evs, last), [e for e in evs if e["type"] == "error"])
        assert not [e for e in evs if e["type"] == "error"]
        assert all(e["session_id"] == "moved" for e in evs)
        # The agent's file names the new cwd now.
        store = os.path.join(b.data_dir, "homes", "moved", ".agentd-mock",
            "sessions")
        with open(os.path.join(store, os.listdir(store)[0])) as f:
            assert json.loads(f.readline())["cwd"] == cwd_b
        # The same archive again: the id is taken.
        _import(b, data, f"?cwd={cwd_b}&id=moved", status=409)
        assert _left_behind(b, "moved2") == []
    finally:
        a.cleanup()
        b.cleanup()


def test_export_stops_an_agent_that_writes_behind(ctx):
    """An agent that writes its session file only as it exits (Claude Code
    queues its transcript behind its answers): an export between turns
    stops it first, so the archive holds the file with turn 1's prompt,
    and the next message starts it again, resumed from that file."""
    a = ctx.agentd()
    try:
        cwd = os.path.join(a.tmp, "work")
        os.makedirs(cwd)
        _session(a, "wb", cwd, home="session",
            env={"AGENTD_MOCK_STORE": "behind"})
        last = _turn(a, "wb", "remember the quince", 1)[-1]["sequence"]
        m = _members(_export(a, "wb"))
        files = [n for n in m if n.startswith("home/.agentd-mock/sessions/")]
        assert len(files) == 1, list(m)
        lines = [json.loads(x) for x in m[files[0]].splitlines()]
        assert {"prompt": "remember the quince"} in lines, lines
        evs = _turn(a, "wb", "recall", 2)
        assert "remember the quince" in _reply(evs, last), _reply(evs, last)
        assert not [e for e in evs if e["type"] == "error"]
    finally:
        a.cleanup()


def test_export_from_agentd_home(ctx):
    """A session without a home of its own: the archive carries only its
    files from the store it shares (agentd's HOME here)."""
    home_a = None
    a = ctx.agentd(start=False)
    home_a = os.path.join(a.tmp, "home-a")
    os.makedirs(home_a)
    a.env = {"HOME": home_a}
    a.start()
    b = ctx.agentd()
    try:
        cwd = os.path.join(a.tmp, "work")
        os.makedirs(cwd)
        _session(a, "n1", cwd)
        _session(a, "n2", cwd)
        _turn(a, "n2", "other session", 1)
        last = _turn(a, "n1", "remember the plum", 1)[-1]["sequence"]
        m = _members(_export(a, "n1", secrets=True))
        homes = [n for n in m if n.startswith("home/")]
        native = a.http("GET", "/v1/sessions/n1").json["nativeSessionId"]
        assert homes == [f"home/.agentd-mock/sessions/{native}.jsonl"], homes
        meta = json.loads(m["session.json"])
        assert meta["export"]["roots"] == {
            os.path.join(home_a, ".agentd-mock"): ".agentd-mock"}, meta
        info = _import(b, _export(a, "n1", secrets=True))
        assert info["home"] == "session"
        evs = _turn(b, "n1", "recall", 2)
        assert "remember the plum" in _reply(evs, last)
        assert "other session" not in _reply(evs, last)
    finally:
        a.cleanup()
        b.cleanup()


def test_export_leaves_secrets_out(ctx):
    """Without credentials=true: no env value, no credential, no secret
    file of the agent's; with it, all of them, and they work on B."""
    a = ctx.agentd()
    b = ctx.agentd()
    try:
        cwd = os.path.join(a.tmp, "work")
        os.makedirs(cwd)
        _session(a, "c1", cwd, env={"AGENTD_MOCK_STORE": "1",
            "MY_SETTING": SECRET_ENV}, credentials={
            "codexAuthJson": {"tokens": {"refresh_token": SECRET_FILE}},
            "OTHER_KEY": SECRET_FILE})
        home = os.path.join(a.data_dir, "homes", "c1")
        with open(os.path.join(home, ".pi-agent-auth"), "w") as f:
            f.write("not a secret file of any agent\n")
        os.makedirs(os.path.join(home, ".pi", "agent"))
        with open(os.path.join(home, ".pi", "agent", "auth.json"), "w") as f:
            f.write(json.dumps({"key": SECRET_FILE}))
        _turn(a, "c1", "hello", 1)
        plain = _export(a, "c1")
        for s in (SECRET_ENV, SECRET_FILE):
            assert s.encode() not in plain, "a secret is in the export"
        m = _members(plain)
        meta = json.loads(m["session.json"])
        assert "env" not in meta and "credentials" not in meta
        assert sorted(meta["credentialNames"]) == ["OTHER_KEY",
            "codexAuthJson"]
        assert "MY_SETTING" in meta["envKeys"]
        assert "home/.codex/auth.json" not in m
        assert "home/.pi/agent/auth.json" not in m
        assert "home/.pi-agent-auth" in m
        full = _export(a, "c1", secrets=True)
        m = _members(full)
        assert SECRET_FILE.encode() in m["home/.codex/auth.json"]
        assert SECRET_ENV.encode() in m["session.json"]
        info = _import(b, full)
        assert sorted(info["credentials"]) == ["OTHER_KEY", "codexAuthJson"]
        _turn(b, "c1", "again", 2)
        pid = b.http("GET", "/v1/sessions/c1").json["pid"]
        wait_for(lambda: b"mock-agent" in open(f"/proc/{pid}/cmdline",
            "rb").read(), 5, 0.01)
        with open(f"/proc/{pid}/environ", "rb") as f:
            environ = f.read()
        assert f"OTHER_KEY={SECRET_FILE}".encode() in environ
        assert f"MY_SETTING={SECRET_ENV}".encode() in environ
        # Neither agentd logged a secret.
        for d in (a, b):
            for s in (SECRET_ENV, SECRET_FILE):
                assert s not in d.stderr_text()
        # B's delete takes them off its disk.
        assert b.http("DELETE", "/v1/sessions/c1").status == 204
        wait_for(lambda: not os.path.exists(os.path.join(b.data_dir,
            "homes", "c1")), 10, 0.05)
        for root, _, files in os.walk(b.data_dir):
            for f in files:
                with open(os.path.join(root, f), "rb") as fh:
                    body = fh.read()
                assert SECRET_FILE.encode() not in body and \
                    SECRET_ENV.encode() not in body, os.path.join(root, f)
    finally:
        a.cleanup()
        b.cleanup()


def _tar(members):
    """A tar from (name, data, kind) with kind file, dir, symlink, link."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data, kind in members:
            ti = tarfile.TarInfo(name)
            if kind == "file":
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
                continue
            ti.type = {"dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE,
                "link": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE}[kind]
            ti.linkname = data.decode() if data else ""
            t.addfile(ti)
    return out.getvalue()


def _meta(cwd, sid="h1", files=2, roots=None, **extra):
    o = {"version": 1, "id": sid, "agent": "mock", "cwd": cwd,
        "export": {"format": "agentd-session", "version": 1,
        "roots": roots or {}, "files": files}}
    o.update(extra)
    return json.dumps(o).encode()


EVENT = (b'{"event_id":"evt_1","sequence":1,"time":"2026-12-03T00:00:00.000Z",'
    b'"session_id":"h1","source":"daemon","synthetic":true,'
    b'"type":"session.started","data":{"metadata":{"agent":"mock",'
    b'"agentVersion":null,"model":null,"permissionMode":"default",'
    b'"cwd":"/"}}}\n')


def test_import_refuses_hostile_archives(ctx):
    """Malformed, cut short or hostile: a clear 4xx, nothing left."""
    with ctx.agentd() as a:
        cwd = os.path.join(a.tmp, "ws")
        outside = os.path.join(a.tmp, "outside")
        good = [("session.json", _meta(cwd), "file"),
            ("events.jsonl", EVENT, "file")]
        whole = _tar(good)
        cases = [
            (b"this is not a tar archive at all" * 40, 400, "tar"),
            (whole[:700], 400, "whole"),            # cut in a member
            (_tar([("events.jsonl", EVENT, "file")] + good[:1]), 400,
                "first member must be session.json"),
            (_tar(good + [("home/../../outside/x", b"pwned", "file")]),
                400, "plain path"),
            (_tar(good + [("/abs/x", b"pwned", "file")]), 400, "plain path"),
            (_tar(good + [("home/./x", b"x", "file")]), 400, "plain path"),
            (_tar(good + [("home/link", outside.encode(), "symlink")]), 400,
                "symbolic link"),
            (_tar(good + [("home/hard", b"session.json", "link")]), 400,
                "hard link"),
            (_tar(good + [("home/fifo", b"", "fifo")]), 400, "special"),
            (_tar(good + [("notes.txt", b"x", "file")]), 400, "plain path"),
            (_tar([("session.json", b"{not json", "file")] + good[1:]), 400,
                "JSON"),
            (_tar([("session.json", b'{"agent":"mock"}', "file")] +
                good[1:]), 400, "export"),
            # A root that would lead the rewritten names out of the home.
            (_tar([("session.json", _meta(cwd, roots={"/x": "../.."}),
                "file")] + good[1:]), 400, "export.roots"),
            # A native id that is a file the agent would write, elsewhere.
            (_tar([("session.json", _meta(cwd, agent="pi",
                nativeSessionId="/etc/passwd"), "file")] + good[1:]), 400,
                "outside the agent's home"),
            # Cut at a member's end: export.files says what is missing.
            (_tar([("session.json", _meta(cwd, files=3), "file")] +
                good[1:]), 400, "cut short: 2 files of 3"),
            (_tar([good[0], ("events.jsonl", EVENT[:-1], "file")]), 400,
                "whole line"),
            (_tar([good[0]]), 400, "no events.jsonl"),
            (_tar([good[0], ("events.jsonl", b'{"broken":1}\n', "file")]),
                400, ""),
            (_tar(good + [("home/a", b"1", "file"), ("home/a", b"2",
                "file")]), 400, "twice"),
        ]
        os.makedirs(cwd)
        for i, (data, status, why) in enumerate(cases):
            st, _, body = _raw(a, "POST", "/v1/sessions/import", data,
                "application/x-tar")
            assert st == status, (i, st, body[:300])
            problem = json.loads(body)
            assert why in problem["detail"], (i, problem)
            assert _left_behind(a, "h1") == [], (i, _left_behind(a, "h1"))
            assert not os.path.exists(outside), i
        # Huge: a header that says 20 GiB, and a body that never comes.
        with tarfile.open(fileobj=io.BytesIO(whole)) as t:
            ev = t.getmember("events.jsonl")
        big = whole[:ev.offset_data + (ev.size + 511) // 512 * 512]
        h = bytearray(512)
        h[0:8] = b"home/big"
        h[100:108] = b"0000644\0"
        h[108:116] = h[116:124] = b"0000000\0"
        h[124:136] = b"%011o\0" % (20 << 30)
        h[136:148] = b"00000000000\0"
        h[156:157] = b"0"
        h[257:265] = b"ustar\x0000"
        h[148:156] = b" " * 8
        h[148:156] = b"%06o\0 " % sum(h)
        st, _, body = _raw(a, "POST", "/v1/sessions/import",
            bytes(big) + bytes(h) + b"x" * 512, "application/x-tar")
        assert st == 413, (st, body[:300])
        assert "over what an import may hold" in json.loads(body)["detail"]
        assert _left_behind(a, "h1") == []
        # Not a tar by its type: refused before the body.
        st, _, _ = _raw(a, "POST", "/v1/sessions/import", whole,
            "text/plain")
        assert st == 415
        # A cwd that is not here, a home that is not on the data dir.
        _import(a, whole, "?cwd=/no/such/dir", status=400)
        _import(a, whole, "?home=none", status=400)
        assert _left_behind(a, "h1") == []
        # And the good one goes in.
        info = _import(a, whole)
        assert info["sessionId"] == "h1" and info["directory"] == cwd


def test_import_into_a_shared_home(ctx):
    """A shared home keeps what it has; secret files are not taken."""
    a = ctx.agentd()
    b = ctx.agentd()
    try:
        cwd = os.path.join(a.tmp, "work")
        os.makedirs(cwd)
        _session(a, "s1", cwd, home="session")
        home = os.path.join(a.data_dir, "homes", "s1")
        os.makedirs(os.path.join(home, ".codex"))
        for name, text in ((".codex/config.toml", "from-a\n"),
                (".codex/auth.json", SECRET_FILE)):
            with open(os.path.join(home, name), "w") as f:
                f.write(text)
        last = _turn(a, "s1", "remember the fig", 1)[-1]["sequence"]
        data = _export(a, "s1", secrets=True)
        shared = os.path.join(b.data_dir, "home", ".codex")
        os.makedirs(shared)
        with open(os.path.join(shared, "config.toml"), "w") as f:
            f.write("from-b\n")
        info = _import(b, data, f"?home=shared&cwd={cwd}")
        assert info["home"] == "shared" and info["imported"]["skipped"] >= 2
        with open(os.path.join(shared, "config.toml")) as f:
            assert f.read() == "from-b\n"
        assert not os.path.exists(os.path.join(shared, "auth.json"))
        evs = _turn(b, "s1", "recall", 2)
        assert "remember the fig" in _reply(evs, last)
    finally:
        a.cleanup()
        b.cleanup()


def test_export_errors(ctx):
    with ctx.agentd() as a:
        st, _, body = _raw(a, "GET", "/v1/sessions/nope/export")
        assert st == 404, st
        big = os.path.join(a.tmp, "w")
        os.makedirs(big)
        _session(a, "e1", big)
        time.sleep(0.1)
        assert _export(a, "e1")
        # A stale staging directory and export file go at the next start.
        os.makedirs(os.path.join(a.data_dir, ".import-stale", "home"))
        a.restart()
        assert not os.path.exists(os.path.join(a.data_dir, ".import-stale"))
