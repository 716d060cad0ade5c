"""Agents installed on first use (issue 19): a session for an agent whose
CLI is missing installs its pinned npm package first, the session waiting
in "installing" with the install in its log; with --no-install, or
without npm, the create is refused with the reason.

npm here is a stand-in on PATH that "installs" the opencode CLI as a
script running agentd's own mock agent (an ACP agent, as opencode is), so
the whole path runs without the registry: the real npm installs are in
make e2e.
"""

import json
import os
import stat

from agentd import Agentd, wait_for

FAKE_NPM = """#!/bin/sh
# npm install --no-audit ... --prefix DIR PACKAGE: a stand-in.
prefix= pkg=
while [ $# -gt 0 ]; do
	case $1 in
	--prefix) prefix=$2; shift ;;
	--*|install) ;;
	*) pkg=$1 ;;
	esac
	shift
done
echo "npm: fetching $pkg"
[ -n "${FAKE_NPM_FAIL:-}" ] && { echo "npm ERR! 404 $pkg" >&2; exit 1; }
sleep 0.5
mkdir -p "$prefix/node_modules/.bin" "$prefix/node_modules/opencode-ai"
printf '#!/bin/sh\\nexec %s mock-agent\\n' "$AGENTD_SELF" \\
    >"$prefix/node_modules/.bin/opencode"
chmod 755 "$prefix/node_modules/.bin/opencode"
echo '{"name":"opencode-ai","version":"1.18.33"}' \\
    >"$prefix/node_modules/opencode-ai/package.json"
echo "added 1 package"
"""


def _fake_bin(a, npm=True):
    d = os.path.join(a.tmp, "fakebin")
    os.makedirs(d, exist_ok=True)
    if npm:
        p = os.path.join(d, "npm")
        with open(p, "w") as f:
            f.write(FAKE_NPM)
        os.chmod(p, 0o755)
    return d


def _daemon(ctx, npm=True, extra=(), env=None):
    a = Agentd(ctx.binary, start=False, extra_args=list(extra))
    # Without npm, PATH is only the stand-in dir: the machine's own npm
    # (/usr/bin) must not be found either.
    path = _fake_bin(a, npm) + (":/usr/bin:/bin" if npm else "")
    a.env = {"PATH": path, "AGENTD_SELF": a.binary, **(env or {})}
    a.start()
    return a


def _types(a, sid):
    return [(e["type"], e["data"]) for e in
        a.http("GET", f"/v1/sessions/{sid}/events").json["events"]]


def test_first_use_installs_then_runs_the_turn(ctx):
    with _daemon(ctx) as a:
        r = a.http("POST", "/v1/sessions/oc", {"agent": "opencode"})
        assert r.status == 200, r.body
        assert r.json["state"] == "installing", r.json
        # A message sent while it installs waits in the queue.
        assert a.http("POST", "/v1/sessions/oc/messages",
            {"message": "hello"}).status == 204
        wait_for(lambda: any(t == "turn.ended" for t, _ in _types(a, "oc")), 20)
        ev = _types(a, "oc")
        labels = [d["item"]["content"][0]["label"] for t, d in ev
            if t == "item.completed" and d["item"]["kind"] == "status"]
        assert labels[:2] == ["installing", "installed"], labels
        text = json.dumps(ev)
        assert "opencode-ai@" in text and "echo: hello" in text, text[:2000]
        assert a.http("GET", "/v1/sessions/oc").json["state"] == "ready"
        # Installed now: the next session starts at once.
        r = a.http("POST", "/v1/sessions/oc2", {"agent": "opencode"})
        assert r.status == 200 and r.json["state"] != "installing", r.json
        info = a.http("GET", "/v1/agents/opencode").json
        assert info["installed"] is True, info


def test_two_sessions_share_one_install(ctx):
    with _daemon(ctx) as a:
        for sid in ("x1", "x2"):
            r = a.http("POST", f"/v1/sessions/{sid}", {"agent": "opencode"})
            assert r.status == 200 and r.json["state"] == "installing", r.json
        for sid in ("x1", "x2"):
            wait_for(lambda: a.http("GET", f"/v1/sessions/{sid}").json["state"]
                == "ready", 20)


def test_no_install_refuses_with_how_to_install(ctx):
    with _daemon(ctx, extra=["--no-install"]) as a:
        r = a.http("POST", "/v1/sessions/oc", {"agent": "opencode"})
        assert r.status == 400, r.body
        d = r.json["detail"]
        assert "opencode" in d and "agentd install opencode" in d, d
        assert a.http("GET", "/v1/sessions/oc").status == 404


def test_without_npm_refuses_at_create(ctx):
    with _daemon(ctx, npm=False) as a:
        r = a.http("POST", "/v1/sessions/oc", {"agent": "opencode"})
        assert r.status == 400 and "npm" in r.json["detail"], r.body
        # goose is not on npm at all
        r = a.http("POST", "/v1/sessions/g", {"agent": "goose"})
        assert r.status == 400 and "goose" in r.json["detail"], r.body


def test_a_failed_install_ends_the_session_saying_why(ctx):
    with _daemon(ctx, env={"FAKE_NPM_FAIL": "1"}) as a:
        r = a.http("POST", "/v1/sessions/oc", {"agent": "opencode"})
        assert r.status == 200, r.body
        wait_for(lambda: a.http("GET", "/v1/sessions/oc").json["state"]
            == "ended", 20)
        ev = _types(a, "oc")
        errs = [d for t, d in ev if t == "error"]
        assert errs and errs[0]["code"] == "install_failed", ev
        assert "404" in errs[0]["message"], errs
