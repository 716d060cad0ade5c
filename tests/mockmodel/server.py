#!/usr/bin/env python3
"""Scripted mock model server for agentd's end-to-end tests.

    python3 tests/mockmodel/server.py [--host 127.0.0.1] [--port 0] [--log FILE]
        [--delay-ms N]

Prints "listening <port>" on stdout once bound, then serves until killed.
Python 3.11 standard library only.

APIs (all streaming and non-streaming):
  Anthropic Messages    POST /v1/messages[?beta=true], POST /v1/messages/count_tokens
  OpenAI Responses      POST /v1/responses (GET with Upgrade: websocket -> 426)
  OpenAI Chat           POST /v1/chat/completions
  Gemini                POST /v1beta/models/{m}:streamGenerateContent?alt=sse,
                        :generateContent, :countTokens
  misc                  HEAD / and GET / (reachability probes), GET /v1/models
  test hooks            GET /_mock/requests (the request log as a JSON array),
                        POST /_mock/reset (clear it)

The scenario comes from keywords in the text of the last real user message
(Claude's <system-reminder> blocks, Codex's <environment_context> and other
wrapper-tag messages, and system messages are skipped); see SCENARIOS. The
step inside a scenario is the number of assistant messages after that user
message: step 0 is the scripted first answer (usually a tool call), any later
step is the final text, which may quote the tool result (question).
Nothing is kept between requests, so retries see the same answer.
"""

import argparse
import http.server
import json
import os
import re
import socketserver
import sys
import threading
import time
import uuid

USAGE_IN = 120
USAGE_OUT = 30

# (scenario, regex on the user text), first match wins.
SCENARIOS = [
    ("midstream_error", r"mid[- ]?stream error"),
    ("error_400", r"\berror 400\b"),
    ("error_429", r"\berror 429\b"),
    ("error_500", r"\berror 500\b"),
    ("slow", r"\bslow\b"),
    ("two_tools", r"\btwo tools\b"),
    ("mcp_tool", r"\bmcp tool\b"),
    ("question", r"\bquestion\b"),
    ("write", r"\bwrite\b"),
    ("shell", r"\b(shell|command)\b"),
    ("hello", r""),
]

THINKING = "The user greeted me. I should reply briefly."
HELLO = "Hello! I am a mock model. How can I help?"
WRITE_INTRO = "I'll write the file."
WRITE_DONE = "Done. The file is written."
SHELL_INTRO = "I'll run the command."
SHELL_DONE = "Done. The command finished successfully."
TWO_INTRO = "I'll use two tools."
TWO_DONE = "Done. Both tools finished."
MCP_INTRO = "I'll call the MCP tool."
MCP_TOOL = "agentd_probe"  # tests/e2e/mcp_server.py's; agents prefix it
MCP_WORD = "ping"
SKILL_RX = re.compile(r"agentd-skill-[a-z0-9-]+")
NS_SEP = "::"  # a Responses namespace tool's function, "<namespace>::<name>"
QUESTION_INTRO = "I have a question for you."
QUESTION_TEXT = "Which color do you prefer?"
QUESTION_FALLBACK = "Which color do you prefer: Red or Blue?"
SLOW_PIECE = "tick "
# 30 s of ticks. The cancel scenario cancels at the first delta the agent
# shows, and an agent on a loaded machine may hold a stream back for many
# seconds: opencode was seen to pass on all ticks of a 4 s stream at once,
# 21 s after the prompt, when the model had long finished and there was
# nothing left to cancel. The stream ends when the agent hangs up.
SLOW_COUNT = 1500
SLOW_GAP = 0.020
MIDSTREAM_TEXT = "This answer will break off"
FILE_NAME = "hello.txt"
FILE_CONTENT = "hello world\n"
SHELL_CMD = "touch shell-ran.txt && echo hello"
ECHO_CMD = "echo hello"
PATCH = ("*** Begin Patch\n*** Add File: hello.txt\n+hello world\n"
         "*** End Patch")
QUESTION_OPTIONS = [
    {"label": "Red", "description": "Warm color"},
    {"label": "Blue", "description": "Cool color"},
]

# A non-streaming request in the "midstream_error" scenario (Claude Code
# falls back to one after a failed stream) gets this HTTP error instead.
MIDSTREAM_HTTP = (529, "overloaded_error", "server_error", "UNAVAILABLE",
                  "mock: overloaded")

ERRORS = {
    # scenario: (status, anthropic type, openai type, gemini status, message)
    "error_400": (400, "invalid_request_error", "invalid_request_error",
                  "INVALID_ARGUMENT", "mock: bad request"),
    "error_429": (429, "rate_limit_error", "rate_limit_exceeded",
                  "RESOURCE_EXHAUSTED", "mock: rate limited"),
    "error_500": (500, "api_error", "server_error", "INTERNAL",
                  "mock: internal server error"),
    "midstream_http": MIDSTREAM_HTTP,
}

# Tool name preferences, first offered name wins.
WRITE_TOOLS = ["Write", "apply_patch", "write", "write_file", "create_file"]
SHELL_TOOLS = ["Bash", "exec_command", "shell", "shell_command", "bash",
               "run_shell_command", "local_shell"]
# listing tools only: a Read of a directory fails, so without one of
# these the read-only call is a shell "ls"
READ_TOOLS = ["Glob", "LS", "list_directory", "ls", "list", "glob"]
QUESTION_TOOLS = ["AskUserQuestion", "request_user_input", "question",
                  "ask_user", "ask_user_question"]

_counter_lock = threading.Lock()
_counter = [0]


def next_id(prefix):
    with _counter_lock:
        _counter[0] += 1
        return "%s_mock%03d" % (prefix, _counter[0])


def chunks(text, size=12):
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


# ---------------------------------------------------------------------------
# Conversation normalisation.  Every API is turned into a list of entries
# ("user", text) / ("assistant", None) / ("tool", result text) and a tool
# table {name: json schema of the arguments (or None for custom tools)}.

WRAPPER_RE = re.compile(r"^\s*<([A-Za-z_][\w-]*)[^>]*>.*</\1>\s*$", re.S)
REMINDER_RE = re.compile(r"<system-reminder>.*?</system-reminder>", re.S)


def clean_user_text(text):
    """The user's own words, or "" for injected context."""
    if not isinstance(text, str):
        return ""
    text = REMINDER_RE.sub("", text).strip()
    if WRAPPER_RE.match(text):
        return ""
    if text.startswith("# AGENTS.md instructions") or \
            text.startswith("This is the Gemini CLI"):
        return ""
    return text


def text_of(content):
    """Concatenated text of a content value (string or list of parts)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        for k in ("text", "output", "content", "result"):
            if k in content:
                return text_of(content[k])
        return json.dumps(content)
    if isinstance(content, list):
        out = []
        for p in content:
            if isinstance(p, str):
                out.append(p)
            elif isinstance(p, dict):
                if "text" in p and isinstance(p["text"], str):
                    out.append(p["text"])
                elif "content" in p:
                    out.append(text_of(p["content"]))
        return "\n".join(out)
    return str(content)


def last_text(content):
    """The last non-empty user text of a string or list of parts."""
    if isinstance(content, list):
        for p in reversed(content):
            t = clean_user_text(text_of([p]))
            if t:
                return t
        return ""
    return clean_user_text(text_of(content))


def conv_anthropic(body):
    conv = []
    for m in body.get("messages") or []:
        role = m.get("role")
        c = m.get("content")
        if role == "assistant":
            conv.append(("assistant", None))
        elif role == "user":
            if isinstance(c, str):
                conv.append(("user", clean_user_text(c)))
                continue
            texts = []
            for b in c or []:
                if not isinstance(b, dict):
                    continue
                if b.get("type") == "tool_result":
                    conv.append(("tool", text_of(b.get("content"))))
                elif b.get("type") == "text":
                    t = clean_user_text(b.get("text"))
                    if t:
                        texts.append(t)
            if texts:
                # one user message can carry several turns' texts (Claude
                # Code merges a failed turn's prompt with the next one):
                # the newest block is the prompt
                conv.append(("user", texts[-1]))
    tools = {}
    for t in body.get("tools") or []:
        if t.get("name"):
            tools[t["name"]] = t.get("input_schema")
    return conv, tools


def conv_responses(body):
    conv = []
    inp = body.get("input")
    if isinstance(inp, str):
        inp = [{"role": "user", "content": inp}]
    last_was_assistant = False
    for it in inp or []:
        typ = it.get("type", "message")
        if typ == "message":
            role = it.get("role")
            if role == "user":
                t = last_text(it.get("content"))
                if t:
                    conv.append(("user", t))
                last_was_assistant = False
            elif role == "assistant":
                if not last_was_assistant:
                    conv.append(("assistant", None))
                last_was_assistant = True
        elif typ in ("function_call", "custom_tool_call", "reasoning",
                     "local_shell_call"):
            if not last_was_assistant:
                conv.append(("assistant", None))
            last_was_assistant = True
        elif typ in ("function_call_output", "custom_tool_call_output",
                     "local_shell_call_output"):
            conv.append(("tool", text_of(it.get("output"))))
            last_was_assistant = False
    tools = {}
    for t in body.get("tools") or []:
        if t.get("type") == "function" and t.get("name"):
            tools[t["name"]] = t.get("parameters") or {}
        elif t.get("type") == "function" and t.get("function"):
            tools[t["function"]["name"]] = t["function"].get("parameters")
        elif t.get("type") == "custom" and t.get("name"):
            tools[t["name"]] = None
        elif t.get("type") == "local_shell":
            tools["local_shell"] = None
        elif t.get("type") == "namespace" and t.get("name"):
            # Codex groups a server's MCP tools; a call names both.
            for f in t.get("tools") or []:
                if f.get("type") == "function" and f.get("name"):
                    tools[t["name"] + NS_SEP + f["name"]] = \
                        f.get("parameters") or {}
    return conv, tools


def conv_chat(body):
    conv = []
    for m in body.get("messages") or []:
        role = m.get("role")
        if role == "user":
            t = last_text(m.get("content"))
            if t:
                conv.append(("user", t))
        elif role == "assistant":
            conv.append(("assistant", None))
        elif role in ("tool", "function"):
            conv.append(("tool", text_of(m.get("content"))))
    tools = {}
    for t in body.get("tools") or []:
        f = t.get("function") or {}
        if f.get("name"):
            tools[f["name"]] = f.get("parameters") or {}
    return conv, tools


def conv_gemini(body):
    conv = []
    for c in body.get("contents") or []:
        role = c.get("role", "user")
        parts = c.get("parts") or []
        if role == "model":
            conv.append(("assistant", None))
            continue
        texts = []
        for p in parts:
            if "functionResponse" in p:
                r = p["functionResponse"].get("response")
                conv.append(("tool", text_of(r) if not isinstance(r, str)
                             else r))
            elif isinstance(p.get("text"), str):
                t = clean_user_text(p["text"])
                if t:
                    texts.append(t)
        if texts:
            conv.append(("user", texts[-1]))
    tools = {}
    for t in body.get("tools") or []:
        for f in t.get("functionDeclarations") or []:
            if f.get("name"):
                tools[f["name"]] = (f.get("parametersJsonSchema") or
                                    f.get("parameters") or {})
    return conv, tools


CWD_RES = [
    re.compile(r"Primary working directory:\s*(/[^\s`'\"<]+)"),
    re.compile(r"<cwd>\s*(/[^<]+?)\s*</cwd>"),
    re.compile(r"[Cc]urrent working directory(?: is)?:?\s*(/[^\s`'\"<]+)"),
    re.compile(r"[Ww]orking directory:\s*(/[^\s`'\"<]+)"),
    re.compile(r"working in the directory:?\s*(/[^\s`'\"<]+)"),
]


def all_strings(obj, out):
    if isinstance(obj, str):
        out.append(obj)
    elif isinstance(obj, dict):
        for v in obj.values():
            all_strings(v, out)
    elif isinstance(obj, list):
        for v in obj:
            all_strings(v, out)
    return out


def count_images(obj):
    """Image parts anywhere in a request: Anthropic {type: image},
    OpenAI Responses {type: input_image}, Chat {type: image_url}, Gemini
    {inlineData: {mimeType: image/...}}."""
    if isinstance(obj, list):
        return sum(count_images(v) for v in obj)
    if not isinstance(obj, dict):
        return 0
    if obj.get("type") in ("image", "input_image", "image_url"):
        return 1
    inline = obj.get("inlineData")
    if isinstance(inline, dict) and \
            str(inline.get("mimeType", "")).startswith("image/"):
        return 1
    return sum(count_images(v) for v in obj.values())


def find_cwd(body):
    """The agent's working directory as its prompt states it, or None."""
    raw = "\n".join(all_strings(body, []))
    for r in CWD_RES:
        m = r.search(raw)
        if m:
            return m.group(1).rstrip(".,;:")
    return None


class Plan:
    """What to answer: a list of blocks and a stop kind.

    blocks: ("thinking", text) | ("text", text) | ("tool", name, args_dict)
            | ("custom", name, input_str)
    error:  None | scenario key of ERRORS | "midstream"
    """

    def __init__(self, scenario, step):
        self.scenario = scenario
        self.step = step
        self.blocks = []
        self.error = None
        self.slow = False

    def tools(self):
        return [b for b in self.blocks if b[0] in ("tool", "custom")]


def pick(tools, names):
    for n in names:
        if n in tools:
            return n
    low = {k.lower(): k for k in tools}
    for n in names:
        if n.lower() in low:
            return low[n.lower()]
    return None


def props(schema):
    if isinstance(schema, dict):
        p = schema.get("properties")
        if isinstance(p, dict):
            return p
    return {}


def fit(args, schema):
    """Keep only keys the schema knows (if it lists any)."""
    p = props(schema)
    if not p:
        return args
    return {k: v for k, v in args.items() if k in p}


def shell_args(name, schema, command):
    p = props(schema)
    if name == "local_shell":
        return {"command": ["bash", "-lc", command]}
    args = {}
    key = "cmd" if "cmd" in p else "command"
    if p.get(key, {}).get("type") == "array":
        args[key] = ["bash", "-lc", command]
    else:
        args[key] = command
    if "description" in p:
        args["description"] = "Run a command"
    return args


def write_args(name, schema, cwd):
    p = props(schema)
    path = os.path.join(cwd, FILE_NAME) if cwd else FILE_NAME
    key = "file_path"
    for k in ("file_path", "filePath", "absolute_path", "path", "filename"):
        if k in p:
            key = k
            break
    args = {key: path}
    ckey = "content"
    for k in ("content", "contents", "text", "file_text"):
        if k in p:
            ckey = k
            break
    args[ckey] = FILE_CONTENT
    return args


def read_args(name, schema, cwd):
    p = props(schema)
    args = {}
    if "pattern" in p or name.lower() == "glob":
        args["pattern"] = "*"
    for k in ("dir_path", "path", "directory", "file_path", "filePath"):
        if k in p:
            args[k] = cwd or "."
            break
    if not args:
        args["path"] = cwd or "."
    return args


def question_args(name, schema):
    item = {"id": "color", "question": QUESTION_TEXT, "header": "Color",
            "options": QUESTION_OPTIONS, "multiSelect": False,
            "multiple": False}
    q_schema = props(schema).get("questions", {})
    items = q_schema.get("items") if isinstance(q_schema, dict) else None
    if name == "AskUserQuestion":
        item.pop("id")
        item.pop("multiple")
    elif name == "request_user_input":
        item.pop("multiSelect")
        item.pop("multiple")
    elif props(items):
        item = fit(item, items)
    else:
        item.pop("id")
        item.pop("multiple")
    if "questions" in props(schema) or not props(schema):
        return {"questions": [item]}
    # a single-question tool
    return fit({"question": QUESTION_TEXT, "options": QUESTION_OPTIONS,
                "header": "Color"}, schema)


def extract_answer(result):
    """The chosen option in a question tool's result, or None."""
    if not result:
        return None
    m = re.search(r'"=\s*"([^"]+)"', result)
    if m:
        return m.group(1)
    try:
        j = json.loads(result)
        ans = j.get("answers") if isinstance(j, dict) else None
        if isinstance(ans, dict):
            for v in ans.values():
                if isinstance(v, dict) and v.get("answers"):
                    return ", ".join(str(a) for a in v["answers"])
                if isinstance(v, str):
                    return v
    except ValueError:
        pass
    for opt in ("Blue", "Red"):
        if re.search(r"\b%s\b" % opt, result):
            return opt
    return None


def choose(conv, tools, body):
    """(scenario, Plan) for a normalised conversation."""
    last = None
    for i in range(len(conv) - 1, -1, -1):
        if conv[i][0] == "user" and conv[i][1]:
            last = i
            break
    prompt = conv[last][1] if last is not None else ""
    after = conv[last + 1:] if last is not None else conv
    step = sum(1 for e in after if e[0] == "assistant")
    results = [e[1] for e in after if e[0] == "tool"]
    low = prompt.lower()
    scenario = "hello"
    for name, rx in SCENARIOS:
        if rx and re.search(rx, low):
            scenario = name
            break
    plan = Plan(scenario, step)
    plan.prompt = prompt
    cwd = find_cwd(body)
    plan.cwd = cwd

    if scenario in ERRORS:
        plan.error = scenario
        return plan
    if scenario == "midstream_error":
        plan.blocks = [("text", MIDSTREAM_TEXT)]
        plan.error = "midstream"
        return plan
    if scenario == "slow":
        plan.blocks = [("text", SLOW_PIECE * SLOW_COUNT)]
        plan.slow = True
        return plan
    if scenario == "hello":
        plan.blocks = [("thinking", THINKING), ("text", HELLO)]
        return plan

    if step > 0:
        final = {"write": WRITE_DONE, "shell": SHELL_DONE,
                 "two_tools": TWO_DONE}.get(scenario)
        if scenario == "mcp_tool":
            res = results[-1] if results else ""
            m = re.search(r"agentd-mcp-answer:\w+", res or "")
            final = "The MCP tool said: %s." % (
                m.group(0) if m else "nothing")
        if scenario == "question":
            res = results[-1] if results else ""
            ans = extract_answer(res)
            if ans:
                final = "You chose %s." % ans
            else:
                first = (res.strip().splitlines() or ["nothing"])[0]
                final = "No answer came back: %s" % first[:120]
        plan.blocks = [("text", final)]
        return plan

    if scenario == "write":
        plan.blocks = [("text", WRITE_INTRO)]
        name = pick(tools, WRITE_TOOLS)
        if name == "apply_patch" and tools.get(name) is None:
            plan.blocks.append(("custom", name, PATCH))
        elif name == "apply_patch":
            plan.blocks.append(("tool", name, {"input": PATCH}))
        elif name:
            plan.blocks.append(("tool", name,
                                write_args(name, tools[name], cwd)))
        else:
            sh = pick(tools, SHELL_TOOLS)
            if sh:
                plan.blocks.append(("tool", sh, shell_args(
                    sh, tools[sh], "printf 'hello world\\n' > hello.txt")))
    elif scenario == "shell":
        plan.blocks = [("text", SHELL_INTRO)]
        sh = pick(tools, SHELL_TOOLS)
        if sh:
            plan.blocks.append(("tool", sh,
                                shell_args(sh, tools[sh], SHELL_CMD)))
    elif scenario == "two_tools":
        plan.blocks = [("text", TWO_INTRO)]
        rd = pick(tools, READ_TOOLS)
        sh = pick(tools, SHELL_TOOLS)
        if rd:
            plan.blocks.append(("tool", rd, read_args(rd, tools[rd], cwd)))
        elif sh:
            plan.blocks.append(("tool", sh, shell_args(sh, tools[sh], "ls")))
        if sh:
            plan.blocks.append(("tool", sh,
                                shell_args(sh, tools[sh], ECHO_CMD)))
    elif scenario == "mcp_tool":
        plan.blocks = [("text", MCP_INTRO)]
        # Claude and Codex name it mcp__<server>__agentd_probe, ACP
        # agents in their own ways: any tool whose name ends with it.
        name = next((t for t in sorted(tools) if t.endswith(MCP_TOOL)),
                    None)
        if name:
            plan.blocks.append(("tool", name, fit({"word": MCP_WORD},
                                                  tools[name])))
    elif scenario == "question":
        q = pick(tools, QUESTION_TOOLS)
        if q:
            plan.blocks = [("tool", q, question_args(q, tools[q]))]
        else:
            plan.blocks = [("text", QUESTION_FALLBACK)]
    return plan


# ---------------------------------------------------------------------------
# HTTP


class Disconnected(Exception):
    pass


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mockmodel/1"

    def log_message(self, fmt, *args):
        pass

    # -- plumbing -----------------------------------------------------------

    def _record(self, entry):
        self.server.record(entry)

    def _send_json(self, status, obj, headers=None):
        data = json.dumps(obj).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _start_sse(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("request-id", "req_mock")
        self.send_header("x-request-id", "req_mock")
        self.end_headers()
        self._chunked = True

    def _emit(self, data):
        b = data.encode()
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(b), b))
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            raise Disconnected()

    def _end_sse(self):
        if getattr(self, "_chunked", False):
            self._chunked = False
            try:
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError, OSError):
                self.close_connection = True

    def _pause(self, plan):
        d = SLOW_GAP if plan.slow else self.server.delay
        if d:
            time.sleep(d)

    def _read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            raw = self.rfile.read(n)
        elif "chunked" in (self.headers.get("Transfer-Encoding") or ""):
            raw = b""
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                raw += self.rfile.read(size)
                self.rfile.readline()
        else:
            raw = b""
        enc = (self.headers.get("Content-Encoding") or "").lower()
        if enc == "gzip":
            import gzip
            raw = gzip.decompress(raw)
        elif enc == "zstd":
            raise ValueError("zstd request bodies are not supported")
        return raw

    # -- routing ------------------------------------------------------------

    def do_HEAD(self):
        self._record({"method": "HEAD", "path": self.path, "status": 200})
        self._send_json(200, {})

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/_mock/requests":
            self._send_json(200, self.server.entries())
            return
        if self.headers.get("Upgrade", "").lower() == "websocket":
            self._record({"method": "GET", "path": self.path, "status": 426,
                          "note": "websocket upgrade refused"})
            self._send_json(426, {"error": {
                "message": "mock: websockets are not supported",
                "type": "invalid_request_error"}})
            return
        if path in ("/", ""):
            self._record({"method": "GET", "path": self.path, "status": 200})
            self._send_json(200, {"ok": True, "server": "mockmodel"})
            return
        if path.endswith("/models"):
            self._record({"method": "GET", "path": self.path, "status": 200})
            self._send_json(200, {"object": "list", "data": [
                {"id": "mock-model", "object": "model", "created": 0,
                 "owned_by": "mock", "type": "model",
                 "display_name": "Mock Model"}],
                "has_more": False, "models": []})
            return
        self._record({"method": "GET", "path": self.path, "status": 404})
        self._send_json(404, {"error": {"message": "mock: no such endpoint",
                                        "type": "not_found_error"}})

    def do_POST(self):
        path = self.path.split("?")[0]
        try:
            raw = self._read_body()
            body = json.loads(raw or b"{}")
        except ValueError as e:
            self._record({"method": "POST", "path": self.path, "status": 400,
                          "note": "bad body: %s" % e})
            self._send_json(400, {"error": {"message": "mock: bad JSON",
                                            "type": "invalid_request_error"}})
            return
        if path == "/_mock/reset":
            self.server.reset()
            self._send_json(200, {"ok": True})
            return
        raw_text = raw.decode("utf-8", "replace")
        try:
            if path.endswith("/messages/count_tokens"):
                self._record({"method": "POST", "path": self.path,
                              "api": "anthropic", "status": 200,
                              "note": "count_tokens"})
                self._send_json(200, {"input_tokens": USAGE_IN})
            elif path.endswith("/messages"):
                self.api_anthropic(body, raw_text)
            elif path.endswith("/responses"):
                self.api_responses(body, raw_text)
            elif path.endswith("/chat/completions"):
                self.api_chat(body, raw_text)
            elif ":streamGenerateContent" in path or \
                    ":generateContent" in path:
                self.api_gemini(body, raw_text, path)
            elif path.endswith(":countTokens"):
                self._record({"method": "POST", "path": self.path,
                              "api": "gemini", "status": 200})
                self._send_json(200, {"totalTokens": USAGE_IN})
            else:
                self._record({"method": "POST", "path": self.path,
                              "status": 404})
                self._send_json(404, {"error": {
                    "message": "mock: no such endpoint",
                    "type": "not_found_error"}})
        except Disconnected:
            self.close_connection = True
            self.server.note_disconnect(self.path)
        finally:
            self._end_sse()

    def _log_plan(self, api, body, conv, tools, plan, stream, status):
        entry = {
            "method": "POST", "path": self.path, "api": api,
            "status": status, "scenario": plan.scenario, "step": plan.step,
            "model": body.get("model"), "stream": stream,
            # image parts in the request (any API's shape), for attachments
            "images": count_images(body),
            # the reasoning effort asked for (OpenAI Responses), if any
            "effort": (body.get("reasoning") or {}).get("effort")
            if isinstance(body.get("reasoning"), dict) else None,
            "prompt": (plan.prompt or "")[:200],
            "messages": len(conv),
            "tool_results": sum(1 for e in conv if e[0] == "tool"),
            "tools": len(tools),
            "tool_names": sorted(tools)[:60],
            "answer": [b[0] if b[0] in ("thinking", "text")
                       else "%s:%s" % (b[0], b[1]) for b in plan.blocks],
            "cwd": plan.cwd,
            "user_agent": self.headers.get("User-Agent"),
            # the skills the request names (system prompt, tool texts)
            "skills": sorted(set(SKILL_RX.findall(json.dumps(body)))),
        }
        if plan.error:
            entry["error"] = plan.error
        self._record(entry)

    # -- Anthropic Messages -------------------------------------------------

    def api_anthropic(self, body, raw):
        conv, tools = conv_anthropic(body)
        plan = choose(conv, tools, body)
        stream = bool(body.get("stream"))
        model = body.get("model") or "claude-mock"
        if plan.error == "midstream" and not stream:
            plan.error = "midstream_http"
        if plan.error in ERRORS:
            status, atype, _, _, msg = ERRORS[plan.error]
            self._log_plan("anthropic", body, conv, tools, plan, stream,
                           status)
            self._send_json(status, {"type": "error", "error": {
                "type": atype, "message": msg}, "request_id": "req_mock"},
                {"retry-after": "0", "request-id": "req_mock"})
            return
        self._log_plan("anthropic", body, conv, tools, plan, stream, 200)
        msg_id = next_id("msg")
        usage0 = {"input_tokens": USAGE_IN, "output_tokens": 1,
                  "cache_creation_input_tokens": 0,
                  "cache_read_input_tokens": 0}
        content = []
        for b in plan.blocks:
            if b[0] == "thinking":
                content.append({"type": "thinking", "thinking": b[1],
                                "signature": "mocksig"})
            elif b[0] == "text":
                content.append({"type": "text", "text": b[1]})
            else:
                args = b[2] if b[0] == "tool" else {"input": b[2]}
                content.append({"type": "tool_use", "id": next_id("toolu"),
                                "name": b[1], "input": args})
        stop = "tool_use" if plan.tools() else "end_turn"
        if not stream:
            self._send_json(200, {
                "id": msg_id, "type": "message", "role": "assistant",
                "model": model, "content": content, "stop_reason": stop,
                "stop_sequence": None,
                "usage": dict(usage0, output_tokens=USAGE_OUT)})
            return

        def ev(name, obj):
            self._emit("event: %s\ndata: %s\n\n" % (name, json.dumps(obj)))

        self._start_sse()
        ev("message_start", {"type": "message_start", "message": {
            "id": msg_id, "type": "message", "role": "assistant",
            "model": model, "content": [], "stop_reason": None,
            "stop_sequence": None, "usage": usage0}})
        ev("ping", {"type": "ping"})
        for i, blk in enumerate(content):
            if blk["type"] == "thinking":
                ev("content_block_start", {
                    "type": "content_block_start", "index": i,
                    "content_block": {"type": "thinking", "thinking": "",
                                      "signature": ""}})
                for c in chunks(blk["thinking"], 20):
                    self._pause(plan)
                    ev("content_block_delta", {
                        "type": "content_block_delta", "index": i,
                        "delta": {"type": "thinking_delta", "thinking": c}})
                ev("content_block_delta", {
                    "type": "content_block_delta", "index": i,
                    "delta": {"type": "signature_delta",
                              "signature": "mocksig"}})
            elif blk["type"] == "text":
                ev("content_block_start", {
                    "type": "content_block_start", "index": i,
                    "content_block": {"type": "text", "text": ""}})
                pieces = ([SLOW_PIECE] * SLOW_COUNT if plan.slow
                          else chunks(blk["text"]))
                for c in pieces:
                    self._pause(plan)
                    ev("content_block_delta", {
                        "type": "content_block_delta", "index": i,
                        "delta": {"type": "text_delta", "text": c}})
                if plan.error == "midstream":
                    ev("error", {"type": "error", "error": {
                        "type": "overloaded_error",
                        "message": "mock: overloaded mid-stream"},
                        "request_id": "req_mock"})
                    return
            else:
                ev("content_block_start", {
                    "type": "content_block_start", "index": i,
                    "content_block": {"type": "tool_use", "id": blk["id"],
                                      "name": blk["name"], "input": {}}})
                for c in chunks(json.dumps(blk["input"]), 24):
                    self._pause(plan)
                    ev("content_block_delta", {
                        "type": "content_block_delta", "index": i,
                        "delta": {"type": "input_json_delta",
                                  "partial_json": c}})
            ev("content_block_stop", {"type": "content_block_stop",
                                      "index": i})
        ev("message_delta", {"type": "message_delta", "delta": {
            "stop_reason": stop, "stop_sequence": None},
            "usage": {"input_tokens": USAGE_IN, "output_tokens": USAGE_OUT,
                      "cache_creation_input_tokens": 0,
                      "cache_read_input_tokens": 0}})
        ev("message_stop", {"type": "message_stop"})

    # -- OpenAI Responses ---------------------------------------------------

    def api_responses(self, body, raw):
        conv, tools = conv_responses(body)
        plan = choose(conv, tools, body)
        stream = bool(body.get("stream"))
        model = body.get("model") or "gpt-mock"
        if plan.error == "midstream" and not stream:
            plan.error = "midstream_http"
        if plan.error in ERRORS:
            status, _, otype, _, msg = ERRORS[plan.error]
            self._log_plan("responses", body, conv, tools, plan, stream,
                           status)
            self._send_json(status, {"error": {
                "message": msg, "type": otype, "param": None,
                "code": otype}}, {"retry-after": "0",
                                  "x-request-id": "req_mock"})
            return
        self._log_plan("responses", body, conv, tools, plan, stream, 200)
        resp_id = next_id("resp")
        created = int(time.time())
        usage = {"input_tokens": USAGE_IN,
                 "input_tokens_details": {"cached_tokens": 0},
                 "output_tokens": USAGE_OUT,
                 "output_tokens_details": {"reasoning_tokens": 5},
                 "total_tokens": USAGE_IN + USAGE_OUT}

        def resp(status, output, with_usage):
            r = {"id": resp_id, "object": "response", "created_at": created,
                 "status": status, "model": model, "output": output,
                 "error": None, "incomplete_details": None, "usage": None}
            if with_usage:
                r["usage"] = usage
            return r

        items = []
        for b in plan.blocks:
            if b[0] == "thinking":
                items.append({"type": "reasoning", "id": next_id("rs"),
                              "summary": [{"type": "summary_text",
                                           "text": b[1]}],
                              "encrypted_content": None})
            elif b[0] == "text":
                items.append({"type": "message", "id": next_id("msg"),
                              "role": "assistant", "status": "completed",
                              "content": [{"type": "output_text",
                                           "text": b[1],
                                           "annotations": []}]})
            elif b[0] == "tool":
                call = {"type": "function_call", "id": next_id("fc"),
                        "call_id": next_id("call"), "name": b[1],
                        "arguments": json.dumps(b[2]),
                        "status": "completed"}
                if NS_SEP in b[1]:
                    call["namespace"], call["name"] = b[1].split(NS_SEP, 1)
                items.append(call)
            else:
                items.append({"type": "custom_tool_call",
                              "id": next_id("ctc"),
                              "call_id": next_id("call"), "name": b[1],
                              "input": b[2], "status": "completed"})
        if not stream:
            self._send_json(200, resp("completed", items, True))
            return

        seq = [0]

        def ev(name, obj):
            obj = dict({"type": name}, **obj)
            obj["sequence_number"] = seq[0]
            seq[0] += 1
            self._emit("event: %s\ndata: %s\n\n" % (name, json.dumps(obj)))

        self._start_sse()
        ev("response.created", {"response": resp("in_progress", [], False)})
        ev("response.in_progress", {"response": resp("in_progress", [],
                                                     False)})
        for oi, it in enumerate(items):
            t = it["type"]
            if t == "reasoning":
                ev("response.output_item.added", {
                    "output_index": oi, "item": dict(it, summary=[])})
                text = it["summary"][0]["text"]
                ev("response.reasoning_summary_part.added", {
                    "item_id": it["id"], "output_index": oi,
                    "summary_index": 0,
                    "part": {"type": "summary_text", "text": ""}})
                for c in chunks(text, 20):
                    self._pause(plan)
                    ev("response.reasoning_summary_text.delta", {
                        "item_id": it["id"], "output_index": oi,
                        "summary_index": 0, "delta": c})
                ev("response.reasoning_summary_text.done", {
                    "item_id": it["id"], "output_index": oi,
                    "summary_index": 0, "text": text})
                ev("response.reasoning_summary_part.done", {
                    "item_id": it["id"], "output_index": oi,
                    "summary_index": 0,
                    "part": {"type": "summary_text", "text": text}})
            elif t == "message":
                ev("response.output_item.added", {
                    "output_index": oi,
                    "item": dict(it, status="in_progress", content=[])})
                ev("response.content_part.added", {
                    "item_id": it["id"], "output_index": oi,
                    "content_index": 0, "part": {
                        "type": "output_text", "text": "",
                        "annotations": []}})
                text = it["content"][0]["text"]
                pieces = ([SLOW_PIECE] * SLOW_COUNT if plan.slow
                          else chunks(text))
                for c in pieces:
                    self._pause(plan)
                    ev("response.output_text.delta", {
                        "item_id": it["id"], "output_index": oi,
                        "content_index": 0, "delta": c, "logprobs": []})
                if plan.error == "midstream":
                    ev("response.failed", {"response": dict(
                        resp("failed", [], True), error={
                            "code": "server_error",
                            "message": "mock: stream failed mid-way"})})
                    return
                ev("response.output_text.done", {
                    "item_id": it["id"], "output_index": oi,
                    "content_index": 0, "text": text, "logprobs": []})
                ev("response.content_part.done", {
                    "item_id": it["id"], "output_index": oi,
                    "content_index": 0, "part": it["content"][0]})
            elif t == "function_call":
                ev("response.output_item.added", {
                    "output_index": oi,
                    "item": dict(it, arguments="", status="in_progress")})
                for c in chunks(it["arguments"], 24):
                    self._pause(plan)
                    ev("response.function_call_arguments.delta", {
                        "item_id": it["id"], "output_index": oi,
                        "delta": c})
                ev("response.function_call_arguments.done", {
                    "item_id": it["id"], "output_index": oi,
                    "arguments": it["arguments"]})
            else:
                ev("response.output_item.added", {
                    "output_index": oi,
                    "item": dict(it, input="", status="in_progress")})
                for c in chunks(it["input"], 24):
                    self._pause(plan)
                    ev("response.custom_tool_call_input.delta", {
                        "item_id": it["id"], "output_index": oi,
                        "delta": c})
                ev("response.custom_tool_call_input.done", {
                    "item_id": it["id"], "output_index": oi,
                    "input": it["input"]})
            ev("response.output_item.done", {"output_index": oi, "item": it})
        ev("response.completed", {"response": resp("completed", items,
                                                   True)})

    # -- OpenAI Chat Completions --------------------------------------------

    def api_chat(self, body, raw):
        conv, tools = conv_chat(body)
        plan = choose(conv, tools, body)
        stream = bool(body.get("stream"))
        model = body.get("model") or "mock-model"
        if plan.error == "midstream" and not stream:
            plan.error = "midstream_http"
        if plan.error in ERRORS:
            status, _, otype, _, msg = ERRORS[plan.error]
            self._log_plan("chat", body, conv, tools, plan, stream, status)
            self._send_json(status, {"error": {
                "message": msg, "type": otype, "param": None,
                "code": otype}}, {"retry-after": "0"})
            return
        self._log_plan("chat", body, conv, tools, plan, stream, 200)
        cid = next_id("chatcmpl")
        created = int(time.time())
        usage = {"prompt_tokens": USAGE_IN, "completion_tokens": USAGE_OUT,
                 "total_tokens": USAGE_IN + USAGE_OUT,
                 "prompt_tokens_details": {"cached_tokens": 0},
                 "completion_tokens_details": {"reasoning_tokens": 5}}
        calls = []
        for b in plan.tools():
            args = b[2] if b[0] == "tool" else {"input": b[2]}
            calls.append({"id": next_id("call"), "type": "function",
                          "function": {"name": b[1],
                                       "arguments": json.dumps(args)}})
        finish = "tool_calls" if calls else "stop"
        if not stream:
            msg = {"role": "assistant", "content": "".join(
                b[1] for b in plan.blocks if b[0] == "text") or None}
            th = "".join(b[1] for b in plan.blocks if b[0] == "thinking")
            if th:
                msg["reasoning_content"] = th
            if calls:
                msg["tool_calls"] = calls
            self._send_json(200, {
                "id": cid, "object": "chat.completion", "created": created,
                "model": model, "choices": [{"index": 0, "message": msg,
                                             "finish_reason": finish}],
                "usage": usage})
            return

        def chunk(delta, finish_reason=None, **extra):
            obj = {"id": cid, "object": "chat.completion.chunk",
                   "created": created, "model": model,
                   "choices": [{"index": 0, "delta": delta,
                                "finish_reason": finish_reason}]}
            obj.update(extra)
            self._emit("data: %s\n\n" % json.dumps(obj))

        self._start_sse()
        chunk({"role": "assistant", "content": ""})
        for b in plan.blocks:
            if b[0] == "thinking":
                for c in chunks(b[1], 20):
                    self._pause(plan)
                    chunk({"reasoning_content": c})
            elif b[0] == "text":
                pieces = ([SLOW_PIECE] * SLOW_COUNT if plan.slow
                          else chunks(b[1]))
                for c in pieces:
                    self._pause(plan)
                    chunk({"content": c})
                if plan.error == "midstream":
                    self._emit("data: %s\n\n" % json.dumps({"error": {
                        "message": "mock: stream failed mid-way",
                        "type": "server_error", "code": "server_error"}}))
                    return
        for i, c in enumerate(calls):
            chunk({"tool_calls": [{"index": i, "id": c["id"],
                                   "type": "function", "function": {
                                       "name": c["function"]["name"],
                                       "arguments": ""}}]})
            for a in chunks(c["function"]["arguments"], 24):
                self._pause(plan)
                chunk({"tool_calls": [{"index": i, "function": {
                    "arguments": a}}]})
        chunk({}, finish, usage=usage)
        self._emit("data: [DONE]\n\n")

    # -- Gemini -------------------------------------------------------------

    def api_gemini(self, body, raw, path):
        conv, tools = conv_gemini(body)
        plan = choose(conv, tools, body)
        stream = ":streamGenerateContent" in path
        model = path.rsplit("/", 1)[-1].split(":")[0]
        gc = body.get("generationConfig") or {}
        schema = gc.get("responseJsonSchema") or gc.get("responseSchema")
        if plan.error == "midstream" and not stream:
            plan.error = "midstream_http"
        if plan.error in ERRORS:
            status, _, _, gstatus, msg = ERRORS[plan.error]
            self._log_plan("gemini", body, conv, tools, plan, stream, status)
            self._send_json(status, {"error": {
                "code": status, "message": msg, "status": gstatus}},
                {"retry-after": "0"})
            return
        if schema:
            # a structured side request (the model router): fill the schema
            plan.blocks = [("text", json.dumps(sample_json(schema)))]
            plan.scenario = "json"
        self._log_plan("gemini", body, conv, tools, plan, stream, 200)
        usage = {"promptTokenCount": USAGE_IN,
                 "candidatesTokenCount": USAGE_OUT,
                 "totalTokenCount": USAGE_IN + USAGE_OUT,
                 "thoughtsTokenCount": 0}
        parts_all = []
        for b in plan.blocks:
            if b[0] == "thinking":
                parts_all.append({"text": b[1], "thought": True})
            elif b[0] == "text":
                parts_all.append({"text": b[1]})
            else:
                args = b[2] if b[0] == "tool" else {"input": b[2]}
                parts_all.append({"functionCall": {"name": b[1],
                                                   "args": args}})

        def cand(parts, finish=None):
            c = {"content": {"role": "model", "parts": parts}, "index": 0}
            if finish:
                c["finishReason"] = finish
            return c

        if not stream:
            self._send_json(200, {"candidates": [cand(parts_all, "STOP")],
                                  "usageMetadata": usage,
                                  "modelVersion": model,
                                  "responseId": next_id("gresp")})
            return

        def ev(obj):
            obj.setdefault("modelVersion", model)
            self._emit("data: %s\n\n" % json.dumps(obj))

        self._start_sse()
        for p in parts_all:
            if "text" in p:
                pieces = ([SLOW_PIECE] * SLOW_COUNT
                          if plan.slow and not p.get("thought")
                          else chunks(p["text"], 16))
                for c in pieces:
                    self._pause(plan)
                    q = {"text": c}
                    if p.get("thought"):
                        q["thought"] = True
                    ev({"candidates": [cand([q])]})
                if plan.error == "midstream" and not p.get("thought"):
                    ev({"error": {"code": 503,
                                  "message": "mock: stream failed mid-way",
                                  "status": "UNAVAILABLE"}})
                    return
            else:
                ev({"candidates": [cand([p])]})
        ev({"candidates": [cand([], "STOP")], "usageMetadata": usage})


def sample_json(schema):
    t = schema.get("type") if isinstance(schema, dict) else None
    if isinstance(t, list):
        t = t[0]
    t = (t or "").lower()
    if "enum" in (schema or {}):
        return schema["enum"][0]
    if t == "object" or "properties" in (schema or {}):
        return {k: sample_json(v) for k, v in
                (schema.get("properties") or {}).items()}
    if t == "array":
        return [sample_json(schema.get("items") or {})]
    if t in ("integer", "number"):
        return 1
    if t == "boolean":
        return False
    return "mock"


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, log_path, delay):
        super().__init__(addr, Handler)
        self.log_path = log_path
        self.delay = delay
        self._lock = threading.Lock()
        self._log = []
        self._n = 0

    def record(self, entry):
        with self._lock:
            self._n += 1
            entry = dict({"n": self._n, "time": round(time.time(), 3)},
                         **entry)
            self._log.append(entry)
            if self.log_path:
                with open(self.log_path, "a") as f:
                    f.write(json.dumps(entry) + "\n")

    def note_disconnect(self, path):
        self.record({"method": "-", "path": path,
                     "note": "client disconnected mid-stream"})

    def entries(self):
        with self._lock:
            return list(self._log)

    def reset(self):
        with self._lock:
            self._log = []

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (BrokenPipeError, ConnectionResetError,
                            Disconnected)):
            return
        super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log", help="append one JSON line per request here")
    ap.add_argument("--delay-ms", type=int, default=2,
                    help="pause between stream deltas (default 2)")
    a = ap.parse_args()
    srv = Server((a.host, a.port), a.log, a.delay_ms / 1000.0)
    print("listening %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
