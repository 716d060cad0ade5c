#!/usr/bin/env python3
"""tests/lint/layers.py OBJDIR LAYER...: the layer rule, checked on objects.

The daemon is cut into layers, bottom first, as the Makefile's LAYERS
lists them (compat protocol supervisor/core supervisor/host adapters
supervisor/session supervisor/fake supervisor/http supervisor/cli). An
object may call functions and use data defined in its own layer or a layer
below, never above; and no two files may call each other, directly or
round a longer loop, even inside one layer. Upward news travels only
through callbacks, which nm does not see as references.

Every undefined symbol of each object under OBJDIR (from nm) is resolved to
the object that defines it; each object is mapped to its layer by its
path. Prints one TAP line per check and "N passed, M failed".
"""
import os
import subprocess
import sys


def objects(objdir, layers):
    """{object path: (source name, layer index)} for the product objects."""
    out = {}
    for i, layer in enumerate(layers):
        d = os.path.join(objdir, layer)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            if name.endswith(".o"):
                out[os.path.join(d, name)] = (
                    os.path.join(layer, name[:-2] + ".c"), i)
    return out


def symbols(objs):
    """(defined {symbol: object}, used {object: set of symbols})."""
    defined, used = {}, {}
    res = subprocess.run(["nm", "-A"] + sorted(objs), capture_output=True,
                         text=True, check=True)
    for line in res.stdout.splitlines():
        path, _, rest = line.partition(":")
        parts = rest.split()
        if len(parts) == 2 and parts[0] == "U":
            used.setdefault(path, set()).add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDBRCVW":
            defined[parts[2]] = path
    return defined, used


def cycles(edges):
    """Strongly connected components of more than one file (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def main():
    if len(sys.argv) < 3:
        print("usage: layers.py OBJDIR LAYER...", file=sys.stderr)
        return 2
    objdir, layers = sys.argv[1], sys.argv[2:]
    objs = objects(objdir, layers)
    passed = failed = 0
    if not objs:
        print(f"not ok - no objects under {objdir}")
        print("0 passed, 1 failed")
        return 1
    defined, used = symbols(objs)
    edges, upward = {}, []
    for obj, syms in sorted(used.items()):
        src, layer = objs[obj]
        for sym in sorted(syms):
            target = defined.get(sym)
            if target is None or target == obj:
                continue  # libc, libev, lws, cJSON
            tsrc, tlayer = objs[target]
            edges.setdefault(src, set()).add(tsrc)
            if tlayer > layer:
                upward.append(f"{src} ({layers[layer]}) calls {sym} of "
                              f"{tsrc} ({layers[tlayer]})")
    if upward:
        failed += 1
        print("not ok - calls that go up a layer:")
        for u in upward:
            print(f"#   {u}")
    else:
        passed += 1
        print(f"ok - {len(objs)} objects in {len(layers)} layers call "
              "only their own layer or those below")
    loops = cycles(edges)
    if loops:
        failed += 1
        print("not ok - files that call each other in a loop:")
        for comp in loops:
            print("#   " + " <-> ".join(comp))
    else:
        passed += 1
        print("ok - no two files call each other, directly or in a loop")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
