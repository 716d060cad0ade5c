#!/usr/bin/env python3
"""A tiny stdio MCP server for the e2e tests (standard library only).

    python3 mcp_server.py [LOG]

Speaks MCP over newline-delimited JSON-RPC on stdin/stdout: initialize,
ping, tools/list (one tool, agentd_probe {word}) and tools/call, which
answers "agentd-mcp-answer:<word>" and appends each call's arguments to
LOG (a JSON line), so a test can tell the agent really called it; each
tools/list appends a line to LOG.list, so a test can tell the agent
started the server and asked for its tools.
Notifications are read and ignored.
"""
import json
import sys

LOG = sys.argv[1] if len(sys.argv) > 1 else None
TOOL = {
    "name": "agentd_probe",
    "description": "Answers a probe word for agentd's tests.",
    "inputSchema": {"type": "object",
        "properties": {"word": {"type": "string"}},
        "required": ["word"]},
}


def reply(mid, result=None, error=None):
    msg = {"jsonrpc": "2.0", "id": mid}
    if error is not None:
        msg["error"] = error
    else:
        msg["result"] = result
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            m = json.loads(line)
        except ValueError:
            continue
        method, mid = m.get("method"), m.get("id")
        if mid is None:
            continue
        if method == "initialize":
            asked = (m.get("params") or {}).get("protocolVersion")
            reply(mid, {"protocolVersion": asked or "2025-06-18",
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "agentd-probe", "version": "1.0"}})
        elif method == "ping":
            reply(mid, {})
        elif method == "tools/list":
            if LOG:
                with open(LOG + ".list", "a") as f:
                    f.write("{}\n")
            reply(mid, {"tools": [TOOL]})
        elif method == "tools/call":
            p = m.get("params") or {}
            word = (p.get("arguments") or {}).get("word", "")
            if LOG:
                with open(LOG, "a") as f:
                    f.write(json.dumps(p) + "\n")
            reply(mid, {"content": [{"type": "text",
                "text": f"agentd-mcp-answer:{word}"}], "isError": False})
        elif method in ("resources/list", "prompts/list"):
            reply(mid, {method.split("/")[0]: []})
        else:
            reply(mid, error={"code": -32601, "message": "no " + method})


if __name__ == "__main__":
    main()
