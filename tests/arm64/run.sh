#!/usr/bin/env bash
# tests/arm64/run.sh [BIN]: make test-arm64, the linux arm64 agentd of
# make dist (default build/dist/agentd-linux-arm64) checked without arm64
# hardware:
#
#  - `file` says a static, stripped aarch64 ELF executable;
#  - under qemu-aarch64-static (Debian's qemu-user-static, called directly,
#    so no binfmt_misc registration is needed) `agentd version` answers as
#    the x86-64 build does, and `agentd serve` answers /v1/health, refuses
#    /v1/sessions without its token and lists its agents with it;
#  - a session runs a turn: its agent is the same binary's ACP mock agent,
#    given as agentCommand [qemu-aarch64-static, BIN, mock-agent], since the
#    kernel starts an arm64 child (agent:"mock" runs agentd's own file) only
#    through a binfmt_misc entry, a machine-wide setting this test does not
#    make.
#
# Prints "ok - …" per check, then "N passed, M failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
bin=${1:-$top/build/dist/agentd-linux-arm64}
native=$top/build/dist/agentd
work=$top/build/arm64-test
pass=0 failed=0 pid=

ok() { echo "ok - $*"; pass=$((pass + 1)); }
bad() { echo "not ok - $*"; failed=$((failed + 1)); }
finish() {
	echo "$pass passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}
cleanup() {
	if [ -n "$pid" ]; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
}
trap cleanup EXIT

[ -f "$bin" ] || { bad "no $bin: run make dist"; finish; }
qemu=$(command -v qemu-aarch64-static) ||
    { bad "no qemu-aarch64-static (apt-get install qemu-user-static)"; finish; }
rm -rf "$work"
mkdir -p "$work"

f=$(file -b "$bin")
echo "arm64: $(basename "$bin"): $(stat -c %s "$bin") bytes; file: $f"
case $f in
*'ELF 64-bit LSB executable, ARM aarch64'*'statically linked'*stripped*)
	case $f in
	*'not stripped'*) bad "file: not stripped" ;;
	*) ok "file: static stripped aarch64 executable" ;;
	esac ;;
*) bad "file: $f" ;;
esac

v=$("$qemu" "$bin" version 2>&1)
want=$("$native" version 2>&1)
if [ -n "$v" ] && [ "$v" = "$want" ]; then
	ok "qemu: agentd version: $v"
else
	bad "qemu: agentd version: '$v', the x86-64 build says '$want'"
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
token=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
t0=$EPOCHREALTIME
"$qemu" "$bin" serve --host 127.0.0.1 --port "$port" --token "$token" \
    --data-dir "$work/data" >"$work/agentd.log" 2>&1 &
pid=$!
url=http://127.0.0.1:$port
health=
for _ in $(seq 1 400); do
	health=$(curl -fsS "$url/v1/health" 2>/dev/null) && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.05
done
ms=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }')
case $health in
*'"status":"ok"'*) ok "qemu: /v1/health after ${ms} ms: $health" ;;
*) bad "qemu: no /v1/health answer"; tail -n 20 "$work/agentd.log"; finish ;;
esac
code=$(curl -s -o /dev/null -w '%{http_code}' "$url/v1/sessions")
if [ "$code" = 401 ]; then
	ok "qemu: /v1/sessions without the token: 401"
else
	bad "qemu: /v1/sessions without the token: $code, not 401"
fi
agents=$(curl -fsS -H "Authorization: Bearer $token" "$url/v1/agents")
case $agents in
*'"id":"mock"'*'"id":"claude"'* | *'"id":"claude"'*'"id":"mock"'*)
	ok "qemu: /v1/agents with the token lists claude and mock" ;;
*) bad "qemu: /v1/agents: ${agents:0:200}" ;;
esac

auth=(-H "Authorization: Bearer $token")
body=$(printf '{"agent":"acp","agentCommand":["%s","%s","mock-agent"]}' \
    "$qemu" "$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")")
if curl -fsS "${auth[@]}" --json "$body" "$url/v1/sessions/q" >/dev/null &&
    curl -fsS "${auth[@]}" --json '{"message":"hello from arm64"}' \
    "$url/v1/sessions/q/messages" >/dev/null; then
	ev=
	for _ in $(seq 1 200); do
		ev=$(curl -fsS "${auth[@]}" "$url/v1/sessions/q/events")
		case $ev in *'"turn.ended"'*) break ;; esac
		sleep 0.05
	done
	case $ev in
	*'"turn.ended"'*'echo: hello from arm64'* | *'echo: hello from arm64'*'"turn.ended"'*)
		ok "qemu: a session's turn with the arm64 mock agent ends with its echo" ;;
	*) bad "qemu: the mock session's turn: ${ev:0:300}" ;;
	esac
else
	bad "qemu: creating the mock session or posting to it failed"
fi
finish
