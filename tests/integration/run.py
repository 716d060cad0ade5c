#!/usr/bin/env python3
"""Run the integration tests against a built agentd.

    python3 tests/integration/run.py --agentd build/agentd [-k substring]

Every top-level function test_* of tests/integration/test_*.py is called
with a fresh Ctx. Output: one `ok - file::name (1.2s)` or
`not ok - file::name: reason` line per test (failures followed by the
indented stderr tails of the agentd processes the test started), and last
`N passed, M failed`. Exit status 1 if anything failed.
"""

import argparse
import importlib.util
import os
import re
import signal
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import agentd  # noqa: E402


class TestTimeout(Exception):
    pass


class Ctx:
    """What a test gets: the binary, the repo root, the expected version and
    a factory for daemons (ctx.agentd(...) == agentd.Agentd(ctx.binary, ...))."""

    def __init__(self, binary, name):
        self.binary = binary
        self.name = name
        self.root = ROOT
        self.version = makefile_version()

    def agentd(self, **kw):
        return agentd.Agentd(self.binary, **kw)


def makefile_version():
    try:
        with open(os.path.join(ROOT, "Makefile")) as f:
            m = re.search(r"^VERSION\s*=\s*(\S+)", f.read(), re.M)
            return m.group(1) if m else None
    except OSError:
        return None


def discover(flt):
    """[(label, function)] in file order, then definition order; plus
    (label, exception) for files that do not import."""
    out = []
    for fn in sorted(os.listdir(HERE)):
        if not (fn.startswith("test_") and fn.endswith(".py")):
            continue
        try:
            spec = importlib.util.spec_from_file_location(fn[:-3], os.path.join(HERE, fn))
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
        except Exception as e:  # noqa: BLE001
            label = f"{fn}::<import>"
            if not flt or flt in label:
                out.append((label, e))
            continue
        for name, obj in vars(mod).items():
            if name.startswith("test_") and callable(obj) \
                    and getattr(obj, "__module__", None) == mod.__name__:
                label = f"{fn}::{name}"
                if not flt or flt in label:
                    out.append((label, obj))
    return out


def reason_of(e):
    if isinstance(e, AssertionError):
        msg = str(e) or "assertion failed"
        tb = traceback.extract_tb(e.__traceback__)
        where = next((f for f in reversed(tb) if os.path.basename(f.filename).startswith("test_")), None)
        if where and not str(e):
            msg = f"assert {where.line}"
        if where:
            msg += f" [{os.path.basename(where.filename)}:{where.lineno}]"
        return msg
    return f"{type(e).__name__}: {e}\n" + "".join(traceback.format_exception(e)).rstrip()


def report_failure(label, err):
    first, _, rest = reason_of(err).partition("\n")
    print(f"not ok - {label}: {first}".rstrip(), flush=True)
    if rest:
        print(indent(rest), flush=True)


def indent(text, prefix="    "):
    return "\n".join(prefix + line for line in text.splitlines())


def on_alarm(signum, frame):
    raise TestTimeout("test timed out")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agentd", required=True, help="path of the agentd binary")
    ap.add_argument("-k", dest="filter", default=None, help="run tests whose file::name contains this")
    ap.add_argument("--timeout", type=int, default=120, help="seconds per test")
    ap.add_argument("filter_pos", nargs="?", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    flt = a.filter or a.filter_pos
    binary = os.path.abspath(a.agentd)
    signal.signal(signal.SIGALRM, on_alarm)

    passed = failed = 0
    for label, fn in discover(flt):
        agentd.LIVE.clear()
        t0 = time.monotonic()
        err = None
        if isinstance(fn, Exception):
            err = fn
        else:
            signal.alarm(a.timeout)
            try:
                fn(Ctx(binary, label))
            except BaseException as e:  # noqa: BLE001
                if isinstance(e, KeyboardInterrupt):
                    raise
                err = e
            finally:
                signal.alarm(0)
        dt = time.monotonic() - t0
        if err is None:
            passed += 1
            print(f"ok - {label} ({dt:.1f}s)", flush=True)
        else:
            failed += 1
            report_failure(label, err)
            for d in agentd.LIVE:
                text = agentd.tail(d.stderr_text(), 20)
                print(f"    agentd pid {d.pid} port {d.port} stderr tail:", flush=True)
                print(indent(text or "(empty)", "      "), flush=True)
        for d in list(agentd.LIVE):
            d.cleanup()
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
