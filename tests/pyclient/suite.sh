#!/usr/bin/env bash
# tests/pyclient/suite.sh AGENTD_BIN: the Python client (clients/python).
#
# 1. pip-installs it, offline (--no-index --no-build-isolation), into a
#    fresh venv: Debian's python3 with python3-venv, python3-setuptools and
#    python3-wheel (.ci/run installs them) sees setuptools and wheel through
#    --system-site-packages; a python whose own ensurepip brings a
#    setuptools that builds wheels needs no system packages;
# 2. type-checks it with mypy --strict for Python 3.9 (where mypy is);
# 3. runs run.py with the venv's python: the client against a real agentd,
#    its README's examples and examples/batch_runner.py.
# Ends with "N passed, M failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
pass=0
fail=0
ok() { echo "ok - $*"; pass=$((pass + 1)); }
notok() { echo "not ok - $*"; fail=$((fail + 1)); }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
venv=$tmp/venv
# pip builds in the source tree (build/, *.egg-info): build a copy.
cp -r "$top/clients/python" "$tmp/src"
rm -rf "$tmp/src/build" "$tmp/src/"*.egg-info
py=
for cand in ${PYTHON:-} /usr/bin/python3 python3; do
	command -v "$cand" >/dev/null 2>&1 || continue
	mode=
	"$cand" -c 'import setuptools, wheel' 2>/dev/null &&
	    mode=--system-site-packages
	rm -rf "$venv"
	"$cand" -m venv $mode "$venv" >"$tmp/venv.log" 2>&1 || continue
	if PIP_NO_INDEX=1 "$venv/bin/python" -m pip install --no-index \
	    --no-build-isolation --disable-pip-version-check \
	    "$tmp/src" >"$tmp/pip.log" 2>&1; then
		py=$venv/bin/python
		ok "pip install offline into a fresh venv ($cand -m venv $mode)"
		break
	fi
done
if [ -z "$py" ]; then
	notok "pip install offline into a fresh venv:" \
	    "$(tail -n 5 "$tmp/venv.log" "$tmp/pip.log" 2>/dev/null)"
fi

if command -v mypy >/dev/null 2>&1; then
	if out=$(cd "$top" && mypy --cache-dir "$tmp/mypy" --strict \
	    --python-version 3.9 clients/python/agentd_client \
	    examples/batch_runner.py 2>&1); then
		ok "mypy --strict --python-version 3.9: $(echo "$out" | tail -n 1)"
	else
		notok "mypy --strict --python-version 3.9:"
		echo "$out" | sed 's/^/    /'
	fi
else
	echo "# SKIP mypy: not installed (apt-get install mypy)"
fi

if [ -n "$py" ]; then
	out=$(cd "$tmp" && PYCLIENT_EXPECT_INSTALLED=1 "$py" \
	    "$here/run.py" --agentd "$bin" 2>&1)
else
	# Still test the source tree.
	out=$(cd "$tmp" && PYTHONPATH=$top/clients/python python3 \
	    "$here/run.py" --agentd "$bin" 2>&1)
fi
rc=$?
printf '%s\n' "$out" | sed '$d'
last=$(printf '%s\n' "$out" | tail -n 1)
if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
	pass=$((pass + BASH_REMATCH[1]))
	fail=$((fail + BASH_REMATCH[2]))
	[ "$rc" -ne 0 ] && [ "${BASH_REMATCH[2]}" -eq 0 ] && fail=$((fail + 1))
else
	printf '%s\n' "$last"
	notok "run.py ended without a summary (exit status $rc)"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
