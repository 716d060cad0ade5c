#!/usr/bin/env python3
"""Self-test of tests/mockmodel/server.py: starts it on a free port and
checks every API's answer shapes for each scenario with http.client.
Prints "ok"/"not ok" lines and "N passed, M failed"; exit 1 on failure."""

import http.client
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
passed = failed = 0
PORT = None


def check(cond, what, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok - %s" % what)
    else:
        failed += 1
        print("not ok - %s %s" % (what, str(detail)[:300]))


def post(path, body, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    c.request("POST", path, json.dumps(body), h)
    r = c.getresponse()
    data = r.read().decode()
    c.close()
    return r.status, dict(r.getheaders()), data


def sse(data):
    """[(event name or None, parsed data or "[DONE]")]"""
    out = []
    for block in data.split("\n\n"):
        name, payload = None, None
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                payload = line[6:]
        if payload is None:
            continue
        out.append((name, payload if payload == "[DONE]"
                    else json.loads(payload)))
    return out


# -- request builders ---------------------------------------------------------

A_TOOLS = [{"name": n, "input_schema": {"type": "object", "properties": p}}
           for n, p in (
               ("Bash", {"command": {}, "description": {}}),
               ("Write", {"file_path": {}, "content": {}}),
               ("Read", {"file_path": {}}),
               ("AskUserQuestion", {"questions": {}}))]
SYSTEM = "Primary working directory: /tmp/work\n"


def a_req(text, history=(), stream=True):
    msgs = [{"role": "user", "content": [
        {"type": "text", "text": "<system-reminder>write a shell command"
                                 "</system-reminder>"},
        {"type": "text", "text": text}]}]
    msgs += list(history)
    msgs.append({"role": "system", "content": "noise: error 500"})
    return {"model": "claude-x", "max_tokens": 100, "stream": stream,
            "system": SYSTEM, "messages": msgs, "tools": A_TOOLS}


R_TOOLS = [
    {"type": "function", "name": "exec_command", "parameters": {
        "type": "object", "properties": {"cmd": {"type": "string"},
                                         "workdir": {}}}},
    {"type": "custom", "name": "apply_patch", "format": {"type": "grammar"}},
    {"type": "function", "name": "request_user_input", "parameters": {
        "type": "object", "properties": {"questions": {}}}},
]


def r_req(text, extra=(), stream=True):
    inp = [{"type": "message", "role": "user", "content": [
        {"type": "input_text", "text": "<environment_context>\n  <cwd>"
                                       "/tmp/work</cwd>\n"
                                       "</environment_context>"}]},
           {"type": "message", "role": "user", "content": [
               {"type": "input_text", "text": text}]}]
    inp += list(extra)
    return {"model": "gpt-x", "stream": stream, "input": inp,
            "tools": R_TOOLS}


C_TOOLS = [{"type": "function", "function": {"name": n, "parameters": {
    "type": "object", "properties": p}}} for n, p in (
        ("bash", {"command": {}, "description": {}}),
        ("write", {"filePath": {}, "content": {}}),
        ("read", {"filePath": {}}), ("glob", {"pattern": {}}))]


def c_req(text, extra=(), stream=True):
    msgs = [{"role": "system", "content": "Working directory: /tmp/work"},
            {"role": "user", "content": text}] + list(extra)
    return {"model": "mock-model", "stream": stream, "messages": msgs,
            "tools": C_TOOLS, "stream_options": {"include_usage": True}}


G_TOOLS = [{"functionDeclarations": [
    {"name": "run_shell_command", "parametersJsonSchema": {
        "type": "object", "properties": {"command": {},
                                         "description": {}}}},
    {"name": "write_file", "parametersJsonSchema": {
        "type": "object", "properties": {"file_path": {}, "content": {}}}},
    {"name": "list_directory", "parametersJsonSchema": {
        "type": "object", "properties": {"dir_path": {}}}}]}]


def g_req(text, extra=()):
    return {"contents": [{"role": "user", "parts": [{"text": text}]}] +
            list(extra), "tools": G_TOOLS,
            "systemInstruction": {"parts": [{"text":
                                             "Working directory: /tmp/w"}]}}


# -- per-API checks -------------------------------------------------------------

def anthropic_tests():
    st, h, d = post("/v1/messages?beta=true", a_req("hello"))
    ev = sse(d)
    names = [e[0] for e in ev]
    check(st == 200 and names[0] == "message_start" and
          names[-1] == "message_stop" and
          all(e[0] == e[1]["type"] for e in ev), "anthropic hello framing",
          names)
    deltas = [e[1]["delta"] for e in ev if e[0] == "content_block_delta"]
    check([x["type"] for x in deltas].count("signature_delta") == 1 and
          "".join(x.get("thinking", "") for x in deltas).startswith(
              "The user greeted me.") and
          "".join(x.get("text", "") for x in deltas) ==
          "Hello! I am a mock model. How can I help?",
          "anthropic hello thinking + text (system-reminder skipped)")
    md = [e[1] for e in ev if e[0] == "message_delta"][0]
    check(md["delta"]["stop_reason"] == "end_turn" and
          md["usage"]["output_tokens"] == 30 and
          ev[0][1]["message"]["usage"]["input_tokens"] == 120 and
          ev[0][1]["message"]["usage"]["cache_read_input_tokens"] == 0,
          "anthropic usage")

    st, h, d = post("/v1/messages", a_req("please write it"))
    ev = sse(d)
    starts = [e[1]["content_block"] for e in ev
              if e[0] == "content_block_start"]
    js = "".join(e[1]["delta"].get("partial_json", "") for e in ev
                 if e[0] == "content_block_delta")
    check([s["type"] for s in starts] == ["text", "tool_use"] and
          starts[1]["name"] == "Write" and json.loads(js) == {
              "file_path": "/tmp/work/hello.txt",
              "content": "hello world\n"} and
          [e for e in ev if e[0] == "message_delta"][0][1]["delta"][
              "stop_reason"] == "tool_use", "anthropic write -> Write",
          (starts, js))
    tid = starts[1]["id"]
    hist = [{"role": "assistant", "content": [{"type": "tool_use",
                                               "id": tid, "name": "Write",
                                               "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result",
                                          "tool_use_id": tid,
                                          "content": "File created"}]}]
    st, h, d = post("/v1/messages", a_req("please write it", hist))
    txt = "".join(e[1]["delta"].get("text", "") for e in sse(d)
                  if e[0] == "content_block_delta")
    check(txt == "Done. The file is written.", "anthropic write step 2",
          txt)

    st, h, d = post("/v1/messages", a_req("run a shell command",
                                          stream=False))
    j = json.loads(d)
    tu = [c for c in j["content"] if c["type"] == "tool_use"]
    check(st == 200 and j["stop_reason"] == "tool_use" and
          tu[0]["name"] == "Bash" and tu[0]["input"]["command"] ==
          "touch shell-ran.txt && echo hello" and
          j["usage"]["output_tokens"] == 30,
          "anthropic shell (non-streaming)", j)

    st, h, d = post("/v1/messages", a_req("use two tools", stream=False))
    tu = [c["name"] for c in json.loads(d)["content"]
          if c["type"] == "tool_use"]
    check(tu == ["Bash", "Bash"], "anthropic two tools (no list tool: "
          "ls + echo)", tu)

    st, h, d = post("/v1/messages", a_req("ask a question", stream=False))
    tu = [c for c in json.loads(d)["content"] if c["type"] == "tool_use"]
    check(tu and tu[0]["name"] == "AskUserQuestion" and
          tu[0]["input"]["questions"][0]["options"][1]["label"] == "Blue" and
          "id" not in tu[0]["input"]["questions"][0],
          "anthropic question", tu)
    hist = [{"role": "assistant", "content": [tu[0]]},
            {"role": "user", "content": [{
                "type": "tool_result", "tool_use_id": tu[0]["id"],
                "content": 'Your questions have been answered: "Which '
                           'color do you prefer?"="Red". You can now '
                           'continue with these answers in mind.'}]}]
    st, h, d = post("/v1/messages", a_req("ask a question", hist, False))
    check(json.loads(d)["content"][0]["text"] == "You chose Red.",
          "anthropic question answer echoed", d)

    for sc, status, typ in (("error 400", 400, "invalid_request_error"),
                            ("error 429", 429, "rate_limit_error"),
                            ("error 500", 500, "api_error")):
        st, h, d = post("/v1/messages", a_req(sc))
        j = json.loads(d)
        check(st == status and j["type"] == "error" and
              j["error"]["type"] == typ and
              h.get("retry-after") == "0", "anthropic " + sc, (st, d))

    st, h, d = post("/v1/messages", a_req("midstream error"))
    ev = sse(d)
    check(st == 200 and ev[-1][0] == "error" and
          ev[-1][1]["error"]["type"] == "overloaded_error" and
          any(e[0] == "content_block_delta" for e in ev) and
          not any(e[0] == "message_stop" for e in ev),
          "anthropic midstream error", [e[0] for e in ev])
    st, h, d = post("/v1/messages", a_req("midstream error", stream=False))
    check(st == 529, "anthropic midstream error, non-streaming -> 529", st)

    # merged prompts: the newest text block wins
    body = a_req("error 400 please")
    body["messages"][0]["content"].append({"type": "text",
                                           "text": "hello there"})
    st, h, d = post("/v1/messages", body)
    check(st == 200, "anthropic newest text block picks the scenario", st)

    st, h, d = post("/v1/messages/count_tokens", a_req("hello"))
    check(st == 200 and json.loads(d)["input_tokens"] == 120,
          "anthropic count_tokens")


def responses_tests():
    st, h, d = post("/v1/responses", r_req("hello"))
    ev = sse(d)
    names = [e[0] for e in ev]
    check(st == 200 and names[0] == "response.created" and
          names[-1] == "response.completed" and
          all(e[0] == e[1]["type"] for e in ev) and
          [e[1]["sequence_number"] for e in ev] == list(range(len(ev))),
          "responses hello framing", names)
    summ = "".join(e[1]["delta"] for e in ev
                   if e[0] == "response.reasoning_summary_text.delta")
    text = "".join(e[1]["delta"] for e in ev
                   if e[0] == "response.output_text.delta")
    done = [e[1]["item"]["type"] for e in ev
            if e[0] == "response.output_item.done"]
    u = ev[-1][1]["response"]["usage"]
    check(summ.startswith("The user greeted me.") and
          text == "Hello! I am a mock model. How can I help?" and
          done == ["reasoning", "message"] and u["input_tokens"] == 120 and
          u["output_tokens"] == 30 and u["total_tokens"] == 150,
          "responses hello reasoning + text + usage")

    st, h, d = post("/v1/responses", r_req("write a file"))
    ev = sse(d)
    items = [e[1]["item"] for e in ev if e[0] == "response.output_item.done"]
    inp = "".join(e[1]["delta"] for e in ev
                  if e[0] == "response.custom_tool_call_input.delta")
    check([i["type"] for i in items] == ["message", "custom_tool_call"] and
          items[1]["name"] == "apply_patch" and items[1]["input"] == inp and
          inp.startswith("*** Begin Patch\n*** Add File: hello.txt\n"),
          "responses write -> apply_patch custom_tool_call", items)
    call = items[1]
    extra = [dict(call), {"type": "custom_tool_call_output",
                          "call_id": call["call_id"], "output": "Success"}]
    st, h, d = post("/v1/responses", r_req("write a file", extra))
    text = "".join(e[1]["delta"] for e in sse(d)
                   if e[0] == "response.output_text.delta")
    check(text == "Done. The file is written.", "responses write step 2",
          text)

    st, h, d = post("/v1/responses", r_req("run a shell command"))
    ev = sse(d)
    items = [e[1]["item"] for e in ev if e[0] == "response.output_item.done"]
    args = "".join(e[1]["delta"] for e in ev
                   if e[0] == "response.function_call_arguments.delta")
    check(items[-1]["type"] == "function_call" and
          items[-1]["name"] == "exec_command" and json.loads(args) ==
          {"cmd": "touch shell-ran.txt && echo hello"},
          "responses shell -> exec_command {cmd}", (items, args))

    st, h, d = post("/v1/responses", r_req("two tools", stream=False))
    out = json.loads(d)["output"]
    check([o.get("name") for o in out if o["type"] == "function_call"] ==
          ["exec_command", "exec_command"], "responses two tools", out)

    st, h, d = post("/v1/responses", r_req("a question please"))
    items = [e[1]["item"] for e in sse(d)
             if e[0] == "response.output_item.done"]
    q = json.loads(items[0]["arguments"])["questions"][0]
    check(items[0]["name"] == "request_user_input" and q["id"] == "color",
          "responses question -> request_user_input", items)
    extra = [items[0], {"type": "function_call_output",
                        "call_id": items[0]["call_id"],
                        "output": json.dumps({"answers": {"color": {
                            "answers": ["Blue"]}}})}]
    st, h, d = post("/v1/responses", r_req("a question please", extra))
    text = "".join(e[1]["delta"] for e in sse(d)
                   if e[0] == "response.output_text.delta")
    check(text == "You chose Blue.", "responses question answer", text)

    for sc, status in (("error 400", 400), ("error 429", 429),
                       ("error 500", 500)):
        st, h, d = post("/v1/responses", r_req(sc))
        check(st == status and "message" in json.loads(d)["error"],
              "responses " + sc, (st, d))
    st, h, d = post("/v1/responses", r_req("midstream error"))
    ev = sse(d)
    check(ev[-1][0] == "response.failed" and
          ev[-1][1]["response"]["error"]["code"] == "server_error" and
          any(e[0] == "response.output_text.delta" for e in ev),
          "responses midstream -> response.failed", [e[0] for e in ev])

    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    c.request("GET", "/v1/responses", headers={
        "Upgrade": "websocket", "Connection": "Upgrade",
        "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "x"})
    r = c.getresponse()
    r.read()
    check(r.status == 426, "responses websocket upgrade refused", r.status)


def chat_tests():
    st, h, d = post("/v1/chat/completions", c_req("hello"))
    ev = sse(d)
    check(ev[-1][1] == "[DONE]", "chat [DONE]")
    chunks = [e[1] for e in ev[:-1]]
    rc = "".join(c["choices"][0]["delta"].get("reasoning_content", "")
                 for c in chunks if c["choices"])
    txt = "".join(c["choices"][0]["delta"].get("content") or ""
                  for c in chunks if c["choices"])
    fin = [c for c in chunks if c["choices"] and
           c["choices"][0]["finish_reason"]]
    check(rc.startswith("The user greeted me.") and
          txt == "Hello! I am a mock model. How can I help?" and
          fin[-1]["choices"][0]["finish_reason"] == "stop" and
          fin[-1]["usage"]["prompt_tokens"] == 120,
          "chat hello reasoning_content + text + usage")

    st, h, d = post("/v1/chat/completions", c_req("write the file"))
    chunks = [e[1] for e in sse(d)[:-1]]
    tcs = [tc for c in chunks for tc in
           c["choices"][0]["delta"].get("tool_calls", [])]
    args = "".join(tc["function"].get("arguments", "") for tc in tcs)
    check(tcs[0]["function"]["name"] == "write" and tcs[0]["id"] and
          json.loads(args) == {"filePath": "/tmp/work/hello.txt",
                               "content": "hello world\n"} and
          chunks[-1]["choices"][0]["finish_reason"] == "tool_calls",
          "chat write -> tool_calls write", (tcs, args))
    extra = [{"role": "assistant", "content": None, "tool_calls": [{
        "id": tcs[0]["id"], "type": "function", "function": {
            "name": "write", "arguments": args}}]},
        {"role": "tool", "tool_call_id": tcs[0]["id"], "content": "ok"}]
    st, h, d = post("/v1/chat/completions", c_req("write the file", extra,
                                                  stream=False))
    check(json.loads(d)["choices"][0]["message"]["content"] ==
          "Done. The file is written.", "chat write step 2", d)

    st, h, d = post("/v1/chat/completions", c_req("two tools",
                                                  stream=False))
    names = [t["function"]["name"] for t in
             json.loads(d)["choices"][0]["message"]["tool_calls"]]
    check(names == ["glob", "bash"], "chat two tools", names)
    st, h, d = post("/v1/chat/completions", c_req("error 429"))
    check(st == 429 and json.loads(d)["error"]["message"], "chat error 429")
    st, h, d = post("/v1/chat/completions", c_req("midstream error"))
    ev = sse(d)
    check("error" in ev[-1][1], "chat midstream error chunk", ev[-1])


def gemini_tests():
    path = "/v1beta/models/gemini-x:streamGenerateContent?alt=sse"
    st, h, d = post(path, g_req("hello"))
    ev = [e[1] for e in sse(d)]
    parts = [p for e in ev for p in e["candidates"][0]["content"]["parts"]]
    check(any(p.get("thought") for p in parts) and
          "".join(p["text"] for p in parts if not p.get("thought")) ==
          "Hello! I am a mock model. How can I help?" and
          ev[-1]["candidates"][0]["finishReason"] == "STOP" and
          ev[-1]["usageMetadata"]["promptTokenCount"] == 120,
          "gemini hello thought + text + usage")
    st, h, d = post(path, g_req("please write"))
    fc = [p["functionCall"] for e in sse(d)
          for p in e[1]["candidates"][0]["content"]["parts"]
          if "functionCall" in p]
    check(fc and fc[0]["name"] == "write_file" and
          fc[0]["args"]["file_path"] == "/tmp/w/hello.txt",
          "gemini write -> write_file", fc)
    extra = [{"role": "model", "parts": [{"functionCall": fc[0]}]},
             {"role": "user", "parts": [{"functionResponse": {
                 "name": "write_file", "response": {"output": "ok"}}}]}]
    st, h, d = post("/v1beta/models/gemini-x:generateContent",
                    g_req("please write", extra))
    check(json.loads(d)["candidates"][0]["content"]["parts"][0]["text"] ==
          "Done. The file is written.", "gemini write step 2", d)
    body = g_req("hello")
    body["generationConfig"] = {"responseJsonSchema": {
        "type": "object", "properties": {
            "complexity_reasoning": {"type": "string"},
            "complexity_score": {"type": "integer"}}}}
    st, h, d = post("/v1beta/models/flash-lite:generateContent", body)
    j = json.loads(json.loads(d)["candidates"][0]["content"]["parts"][0][
        "text"])
    check(j == {"complexity_reasoning": "mock", "complexity_score": 1},
          "gemini structured (router) request", j)
    st, h, d = post(path, g_req("error 400"))
    check(st == 400 and json.loads(d)["error"]["status"] ==
          "INVALID_ARGUMENT", "gemini error 400")


def misc_tests():
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    c.request("HEAD", "/")
    r = c.getresponse()
    r.read()
    check(r.status == 200, "HEAD /")
    # slow: ~30 s of deltas 20 ms apart; read a few then hang up
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    c.request("POST", "/v1/messages", json.dumps(a_req("slow please")),
              {"Content-Type": "application/json"})
    r = c.getresponse()
    t0 = time.time()
    got = b""
    while got.count(b"text_delta") < 10:
        got += r.read1(4096)
    el = time.time() - t0
    c.close()
    check(0.1 < el < 2, "slow stream paces deltas (10 in %.2fs)" % el)
    time.sleep(0.5)
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    c.request("GET", "/_mock/requests")
    log = json.loads(c.getresponse().read())
    check(any(e.get("note") == "client disconnected mid-stream"
              for e in log), "disconnect noted, server still up")
    scen = {e.get("scenario") for e in log}
    check({"hello", "write", "shell", "two_tools", "question", "slow",
           "error_400", "error_429", "error_500",
           "midstream_error"} <= scen, "request log has every scenario",
          scen)


def main():
    global PORT
    tmp = tempfile.mkdtemp(prefix="mockmodel-")
    log = os.path.join(tmp, "log.jsonl")
    srv = subprocess.Popen([sys.executable, os.path.join(HERE, "server.py"),
                            "--port", "0", "--log", log],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    try:
        PORT = int(srv.stdout.readline().split()[1])
        for t in (anthropic_tests, responses_tests, chat_tests,
                  gemini_tests, misc_tests):
            try:
                t()
            except Exception as e:  # a crash in one group fails it only
                check(False, t.__name__, repr(e))
        with open(log) as f:
            lines = [json.loads(x) for x in f]
        check(len(lines) > 30 and all("method" in x for x in lines),
              "--log file is JSON lines")
    finally:
        srv.terminate()
        srv.wait()
        err = srv.stderr.read()
    check("Traceback" not in err, "server stderr clean", err[-500:])
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
