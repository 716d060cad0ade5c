/**
 * @agentd/client: a small typed client for agentd's HTTP API, for Node
 * (18+) and browsers, with no runtime dependency.
 *
 *   const c = await AgentdClient.connect("http://127.0.0.1:2468", token);
 *   const s = await c.startSession({ agent: "mock" });
 *   const r = await s.run("hello", { onPermission: () => "once" });
 *   console.log(r.stopReason, r.text);
 *
 * events() follows a session over WebSocket where the runtime has one
 * (browsers, Node 22+) and over Server-Sent Events read with fetch
 * otherwise; when the connection drops it reconnects from the last
 * sequence it yielded, so no event is lost or repeated. eventsSince()
 * serves callers that keep only a cursor between invocations (serverless
 * functions). The files and processes calls (readFsFile, runProcess,
 * followProcessLogs, connectProcessTerminal, ...) reach agentd's /v1/fs
 * and /v1/processes routes, named as sandbox-agent's SDK names them. The
 * Python client (clients/python) has the same surface.
 *
 * The API: docs/api.md and docs/openapi.json (GET /v1/openapi.json).
 */
/**
 * An error answer (any 4xx or 5xx): `status` and agentd's problem+json,
 * whose members are also here: `type` (urn:agentd:error:<code>), `code`,
 * `title`, `detail`. `problem` is undefined when the body was not a
 * problem (a proxy's error page): `detail` then holds its text.
 */
export class AgentdError extends Error {
    status;
    problem;
    type;
    title;
    detail;
    constructor(status, problem, message, text = "") {
        super(message);
        this.name = "AgentdError";
        this.status = status;
        this.problem = problem;
        this.type = problem?.type ?? "about:blank";
        this.title = problem?.title ?? `HTTP ${status}`;
        this.detail = problem?.detail ?? (text.trim().slice(0, 500) ||
            this.title);
    }
    /** The `<code>` of `urn:agentd:error:<code>` (session_not_found, ...). */
    get code() {
        const urn = "urn:agentd:error:";
        return this.type.startsWith(urn) ? this.type.slice(urn.length) :
            this.type;
    }
}
/** The bytes of a log entry. */
export function logBytes(entry) {
    return fromBase64(entry.data);
}
/** The entries' bytes joined and decoded as UTF-8. */
export function logText(entries) {
    const parts = [];
    for (const e of entries)
        parts.push(logBytes(e));
    return new TextDecoder().decode(concatBytes(parts));
}
/** Internal: a stream that ended cleanly (the server closed it). */
class StreamClosed extends Error {
}
/** Internal: a request body sent as it is, with its Content-Type. */
class RawBody {
    data;
    type;
    constructor(data, type) {
        this.data = data;
        this.type = type;
    }
}
export class AgentdClient {
    baseUrl;
    token;
    headers;
    fetchFn;
    WebSocketCtor;
    /**
     * A client for `baseUrl`, checked with GET /v1/health and one
     * authenticated call (so a wrong token fails here, with a 401).
     */
    static async connect(baseUrl, token, opts = {}) {
        const c = new AgentdClient({ ...opts, baseUrl, token });
        await c.health();
        await c.listAgents();
        return c;
    }
    constructor(opts) {
        this.baseUrl = opts.baseUrl.replace(/\/+$/, "");
        this.token = opts.token;
        this.headers = opts.headers ?? {};
        const f = opts.fetch ?? globalThis.fetch;
        if (typeof f !== "function")
            throw new Error("no fetch: pass options.fetch");
        this.fetchFn = f.bind(globalThis);
        this.WebSocketCtor = opts.WebSocket ??
            globalThis.WebSocket;
    }
    /* -- plain routes --------------------------------------------- */
    health() {
        return this.json("GET", "/v1/health");
    }
    async listAgents() {
        return (await this.json("GET", "/v1/agents")).agents;
    }
    getAgent(agent) {
        return this.json("GET", `/v1/agents/${enc(agent)}`);
    }
    installAgent(agent) {
        return this.json("POST", `/v1/agents/${enc(agent)}/install`);
    }
    async listSessions() {
        return (await this.json("GET", "/v1/sessions")).sessions;
    }
    /** Create session `id` and start its agent (409 if it exists). */
    createSession(id, req) {
        return this.json("POST", `/v1/sessions/${enc(id)}`, req);
    }
    /**
     * Create a session (id: random unless given) and return its handle,
     * whose `info` is agentd's answer.
     */
    async startSession(req) {
        const { id, ...body } = req;
        const sid = id ?? newSessionId();
        return new Session(this, sid, await this.createSession(sid, body));
    }
    /** The handle of an existing session (no request is made). */
    session(id) {
        return new Session(this, id);
    }
    getSession(id) {
        return this.json("GET", `/v1/sessions/${enc(id)}`);
    }
    /** Terminate the agent, forget the session and delete its files. */
    async deleteSession(id) {
        await this.request("DELETE", `/v1/sessions/${enc(id)}`);
    }
    /**
     * Send a message; it is queued while a turn runs. See SendOptions for
     * attachments and interrupt.
     */
    async postMessage(id, message, opts = {}) {
        const body = { message };
        if (opts.attachments !== undefined)
            body.attachments = opts.attachments;
        if (opts.interrupt)
            body.interrupt = true;
        await this.request("POST", `/v1/sessions/${enc(id)}/messages`, body);
    }
    /** postMessage's other name, as in the Python client. */
    send(id, message, opts = {}) {
        return this.postMessage(id, message, opts);
    }
    /** One page of the log: events after `offset`. */
    getEvents(id, opts = {}) {
        const q = new URLSearchParams();
        if (opts.offset !== undefined)
            q.set("offset", String(opts.offset));
        if (opts.limit !== undefined)
            q.set("limit", String(opts.limit));
        if (opts.includeRaw)
            q.set("include_raw", "true");
        return this.json("GET", `/v1/sessions/${enc(id)}/events?${q}`);
    }
    /**
     * The events after `cursor`, and the cursor to keep for next time: for
     * callers that keep only a number between invocations (a serverless
     * function). Without `limit` it reads every page there is.
     */
    async eventsSince(id, cursor = 0, opts = {}) {
        const events = [];
        for (;;) {
            const limit = opts.limit === undefined ? undefined :
                Math.min(opts.limit - events.length, 10000);
            const page = await this.getEvents(id, { offset: cursor,
                limit, includeRaw: opts.includeRaw });
            events.push(...page.events);
            if (page.events.length > 0)
                cursor = page.events[page.events.length - 1].sequence;
            if (!page.hasMore || page.events.length === 0)
                return { events, cursor, hasMore: false };
            if (opts.limit !== undefined && events.length >= opts.limit)
                return { events, cursor, hasMore: true };
        }
    }
    async replyPermission(id, permissionId, reply) {
        await this.request("POST", `/v1/sessions/${enc(id)}/permissions/` +
            `${enc(permissionId)}/reply`, { reply });
    }
    /** answers: one array of chosen option labels per question. */
    async replyQuestion(id, questionId, answers) {
        await this.request("POST", `/v1/sessions/${enc(id)}/questions/` +
            `${enc(questionId)}/reply`, { answers });
    }
    async rejectQuestion(id, questionId) {
        await this.request("POST", `/v1/sessions/${enc(id)}/questions/` +
            `${enc(questionId)}/reject`);
    }
    /** Interrupt the running turn; the session stays. */
    async cancel(id) {
        await this.request("POST", `/v1/sessions/${enc(id)}/cancel`);
    }
    /** Stop the agent; the stream then says session.ended. */
    async terminate(id) {
        await this.request("POST", `/v1/sessions/${enc(id)}/terminate`);
    }
    /* -- files ----------------------------------------------------- */
    /** The entries of a directory, sorted by name (no path: HOME). */
    listFsEntries(path) {
        return this.json("GET", `/v1/fs/entries${query({ path })}`);
    }
    statFs(path) {
        return this.json("GET", `/v1/fs/stat${query({ path })}`);
    }
    /** A file's bytes, or a range of them. */
    async readFsFile(path, opts = {}) {
        const extra = {
            Accept: "application/octet-stream"
        };
        const r = opts.range;
        if (r !== undefined)
            extra.Range = "suffix" in r ? `bytes=-${r.suffix}` :
                `bytes=${r.start}-${r.end ?? ""}`;
        const res = await this.request("GET", `/v1/fs/file${query({ path })}`, undefined, opts.signal, extra);
        return new Uint8Array(await res.arrayBuffer());
    }
    /**
     * Write a file atomically (a temporary file renamed over it); a string
     * is written as UTF-8. Missing parents are made unless `parents` is
     * false.
     */
    writeFsFile(path, data, opts = {}) {
        return this.json("PUT", `/v1/fs/file${query({ path,
            parents: opts.parents === false ? "false" : undefined })}`, new RawBody(data, "application/octet-stream"), opts.signal);
    }
    /** Make a directory and its missing parents (an existing one is fine). */
    mkdirFs(path) {
        return this.json("POST", `/v1/fs/mkdir${query({ path })}`);
    }
    /** 409 onto an existing path unless `overwrite`. */
    moveFs(from, to, opts = {}) {
        const body = { from, to };
        if (opts.overwrite !== undefined)
            body.overwrite = opts.overwrite;
        return this.json("POST", "/v1/fs/move", body);
    }
    /** Delete a file, link or directory (a non-empty one: `recursive`). */
    deleteFsEntry(path, opts = {}) {
        return this.json("DELETE", `/v1/fs/entry${query({ path,
            recursive: opts.recursive ? "true" : undefined })}`);
    }
    /** Unpack a tar archive (ustar, pax, GNU) under `path`. */
    uploadFsBatch(path, tar, opts = {}) {
        return this.json("POST", `/v1/fs/upload-batch${query({ path })}`, new RawBody(tar, "application/x-tar"), opts.signal);
    }
    /* -- processes ------------------------------------------------- */
    /** Run a command to its end: exit code, stdout, stderr. */
    runProcess(req, opts = {}) {
        return this.json("POST", "/v1/processes/run", req, opts.signal);
    }
    /** Start a long-running process (it outlives this client). */
    createProcess(req) {
        return this.json("POST", "/v1/processes", req);
    }
    async listProcesses() {
        return (await this.json("GET", "/v1/processes")).processes;
    }
    getProcess(id) {
        return this.json("GET", `/v1/processes/${enc(id)}`);
    }
    /** Forget an ended process and its log (409 while it runs). */
    async deleteProcess(id) {
        await this.request("DELETE", `/v1/processes/${enc(id)}`);
    }
    /** The kept log entries (at most 16 MiB an answer: read on with since). */
    getProcessLogs(id, opts = {}) {
        return this.json("GET", `/v1/processes/${enc(id)}/logs${query({
            stream: opts.stream, since: opts.since, tail: opts.tail
        })}`);
    }
    /**
     * The log entries after `since`, then live ones over SSE, until the
     * process has exited and every entry was yielded. A dropped stream
     * (agentd restarted) is reopened after the last sequence yielded,
     * as events() does: no entry is lost or repeated. Throws AgentdError
     * for a 4xx, or after maxReconnects failed attempts in a row.
     */
    async *followProcessLogs(id, opts = {}) {
        let last = opts.since ?? 0;
        let failures = 0;
        const maxReconnects = opts.maxReconnects ?? 100;
        const baseDelay = opts.reconnectDelayMs ?? 100;
        const path = `/v1/processes/${enc(id)}/logs`;
        while (!opts.signal?.aborted) {
            const ac = new AbortController();
            const onAbort = () => ac.abort();
            opts.signal?.addEventListener("abort", onAbort);
            let error;
            try {
                const r = await this.request("GET", path + query({
                    stream: opts.stream, since: last, follow: "true"
                }), undefined, ac.signal, { Accept: "text/event-stream" });
                for await (const data of sseData(r, ac.signal)) {
                    const e = JSON.parse(data);
                    if (e.sequence <= last)
                        continue;
                    last = e.sequence;
                    failures = 0;
                    yield e;
                }
                error = new StreamClosed("the log stream ended");
            }
            catch (e) {
                if (e instanceof AgentdError && e.status < 500)
                    throw e;
                error = e;
            }
            finally {
                opts.signal?.removeEventListener("abort", onAbort);
                ac.abort();
            }
            if (opts.signal?.aborted)
                return;
            /* agentd ends the stream once the process has exited and
             * every entry was sent; a stream cut by a restart ends the
             * same way, so ask, and read what the cut left out. */
            if (error instanceof StreamClosed) {
                let info;
                try {
                    info = await this.getProcess(id);
                }
                catch (e) {
                    if (e instanceof AgentdError && e.status < 500)
                        throw e;
                    error = e;
                }
                if (info?.status === "exited") {
                    for (;;) {
                        const page = await this.getProcessLogs(id, { stream: opts.stream, since: last });
                        const more = page.entries.filter((e) => e.sequence > last);
                        if (more.length === 0)
                            return;
                        for (const e of more) {
                            last = e.sequence;
                            yield e;
                        }
                    }
                }
            }
            if (++failures > maxReconnects)
                throw error;
            opts.onReconnect?.(last, error);
            await sleep(Math.min(baseDelay * 2 ** (failures - 1), 2000), opts.signal);
        }
    }
    /**
     * Write to the process's stdin: bytes as they are, a string as UTF-8.
     * 409 once it exited or closed its stdin.
     */
    sendProcessInput(id, data) {
        const body = typeof data === "string" ?
            { data, encoding: "utf8" } :
            { data: toBase64(data), encoding: "base64" };
        return this.json("POST", `/v1/processes/${enc(id)}/input`, body);
    }
    /**
     * SIGTERM to its process group, SIGKILL after agentd's grace; answers
     * once it exited or after waitMs (default 2000).
     */
    stopProcess(id, opts = {}) {
        return this.json("POST", `/v1/processes/${enc(id)}/stop${query({
            waitMs: opts.waitMs
        })}`);
    }
    /** SIGKILL to its process group; waitMs default 1000. */
    killProcess(id, opts = {}) {
        return this.json("POST", `/v1/processes/${enc(id)}/kill${query({
            waitMs: opts.waitMs
        })}`);
    }
    resizeProcessTerminal(id, size) {
        return this.json("POST", `/v1/processes/${enc(id)}/terminal/resize`, size);
    }
    getProcessConfig() {
        return this.json("GET", "/v1/processes/config");
    }
    setProcessConfig(config) {
        return this.json("POST", "/v1/processes/config", config);
    }
    /**
     * Open the terminal of a tty process over WebSocket; resolves once
     * agentd said ready (the recent output follows). A refused upgrade
     * throws the AgentdError agentd gives over HTTP (404, 401, 409 for a
     * process without a tty).
     */
    async connectProcessTerminal(id, opts = {}) {
        const Ctor = opts.WebSocket ?? this.WebSocketCtor;
        if (Ctor === undefined)
            throw new Error("no WebSocket in this runtime: pass " +
                "options.WebSocket");
        const q = new URLSearchParams();
        if (this.token !== undefined)
            q.set("access_token", this.token);
        const path = `/v1/processes/${enc(id)}/terminal/ws`;
        const url = this.baseUrl.replace(/^http/, "ws") + path +
            (this.token !== undefined ? `?${q}` : "");
        const t = new ProcessTerminal(new Ctor(url), id);
        try {
            await t.ready;
        }
        catch (e) {
            /* The upgrade's status is not visible: ask over HTTP. */
            await this.request("GET", path);
            throw e;
        }
        return t;
    }
    /* -- the event stream ------------------------------------------ */
    /**
     * The session's events after `offset`, then live ones, as an async
     * iterator. A dropped connection (agentd restarted, a proxy timed
     * out) is reopened after the last sequence yielded, so the sequence
     * numbers come without gaps or repeats. Ends after session.ended
     * (unless stopAtSessionEnd is false), when `signal` aborts, or when
     * the loop breaks; throws AgentdError for an error answer (401, 404)
     * or after maxReconnects failed attempts in a row.
     */
    async *events(id, opts = {}) {
        let last = opts.offset ?? 0;
        let failures = 0;
        const maxReconnects = opts.maxReconnects ?? 100;
        const baseDelay = opts.reconnectDelayMs ?? 100;
        const stopAtEnd = opts.stopAtSessionEnd ?? true;
        const transport = opts.transport ?? "auto";
        const useWs = transport === "ws" ||
            (transport === "auto" && this.WebSocketCtor !== undefined);
        if (useWs && this.WebSocketCtor === undefined)
            throw new Error("no WebSocket in this runtime: pass " +
                "options.WebSocket or use transport \"sse\"");
        while (!opts.signal?.aborted) {
            const ac = new AbortController();
            const onAbort = () => ac.abort();
            opts.signal?.addEventListener("abort", onAbort);
            let error;
            try {
                const stream = useWs ?
                    this.wsStream(id, last, opts.includeRaw, ac.signal) :
                    this.sseStream(id, last, opts.includeRaw, ac.signal);
                for await (const ev of stream) {
                    if (ev.sequence <= last)
                        continue; /* never twice */
                    last = ev.sequence;
                    failures = 0;
                    yield ev;
                    if (stopAtEnd && ev.type === "session.ended")
                        return;
                }
                error = new StreamClosed("the stream ended");
            }
            catch (e) {
                /* 4xx: the session is gone, the token wrong; a 5xx
                 * is a proxy's 502 while agentd restarts. */
                if (e instanceof AgentdError && e.status < 500)
                    throw e;
                error = e;
            }
            finally {
                opts.signal?.removeEventListener("abort", onAbort);
                ac.abort();
            }
            if (opts.signal?.aborted)
                return;
            if (++failures > maxReconnects)
                throw error;
            opts.onReconnect?.(last, error);
            await sleep(Math.min(baseDelay * 2 ** (failures - 1), 2000), opts.signal);
        }
    }
    /**
     * Send a message and yield the events of its turn, up to and with its
     * turn.ended (or session.ended), answering what the agent asks with
     * onPermission and onQuestion. Turns queued before this message are
     * skipped: its turn is the first whose user message is its text.
     * Reconnects as events() does.
     */
    async *stream(id, message, opts = {}) {
        const start = (await this.getSession(id)).eventCount;
        await this.postMessage(id, message, opts);
        const turn = new TurnFilter(message);
        for await (const ev of this.events(id, { ...opts, offset: start })) {
            for (const mine of turn.feed(ev)) {
                yield mine;
                await this.answer(id, mine, opts);
            }
            if (turn.done)
                return;
        }
    }
    /**
     * Send a message, wait for its turn to end and return what it did; the
     * options are stream()'s, plus onEvent.
     */
    async run(id, message, opts = {}) {
        const events = [];
        for await (const ev of this.stream(id, message, opts)) {
            events.push(ev);
            await opts.onEvent?.(ev);
        }
        return turnResult(id, events);
    }
    async answer(id, ev, opts) {
        try {
            if (ev.type === "permission.requested" && opts.onPermission)
                await this.replyPermission(id, ev.data.permission_id, permissionWord(await opts.onPermission(ev)));
            else if (ev.type === "question.requested" &&
                opts.onQuestion) {
                const a = await opts.onQuestion(ev);
                if (a === undefined || a === null)
                    await this.rejectQuestion(id, ev.data.question_id);
                else
                    await this.replyQuestion(id, ev.data.question_id, a);
            }
        }
        catch (e) {
            /* 404: someone else answered first, or the turn ended. */
            if (!(e instanceof AgentdError && e.status === 404))
                throw e;
        }
    }
    streamQuery(offset, includeRaw) {
        const q = new URLSearchParams({ offset: String(offset) });
        if (includeRaw)
            q.set("include_raw", "true");
        return q;
    }
    /* SSE read with fetch: id: and data: lines, blank line ends a frame. */
    async *sseStream(id, offset, includeRaw, signal) {
        const q = this.streamQuery(offset, includeRaw);
        const r = await this.request("GET", `/v1/sessions/${enc(id)}/events/sse?${q}`, undefined, signal, { Accept: "text/event-stream" });
        for await (const data of sseData(r, signal))
            yield JSON.parse(data);
    }
    /* WebSocket: one event per text frame; command replies skipped. */
    async *wsStream(id, offset, includeRaw, signal) {
        const q = this.streamQuery(offset, includeRaw);
        if (this.token !== undefined)
            q.set("access_token", this.token);
        const url = this.baseUrl.replace(/^http/, "ws") +
            `/v1/sessions/${enc(id)}/events/ws?${q}`;
        const ws = new this.WebSocketCtor(url);
        const queue = [];
        let wake;
        let ended;
        let opened = false;
        const poke = () => { const w = wake; wake = undefined; w?.(); };
        ws.onopen = () => { opened = true; };
        ws.onmessage = (m) => {
            if (typeof m.data !== "string")
                return;
            const o = JSON.parse(m.data);
            if (o !== null && typeof o === "object" && "reply_to" in o)
                return;
            queue.push(o);
            poke();
        };
        ws.onerror = () => {
            ended ??= { error: new Error("WebSocket error" +
                    (opened ? "" : " (the upgrade failed)")) };
            poke();
        };
        ws.onclose = (c) => {
            ended ??= { error: new StreamClosed(`WebSocket closed (${c.code})`) };
            poke();
        };
        const onAbort = () => ws.close();
        signal.addEventListener("abort", onAbort);
        try {
            for (;;) {
                while (queue.length > 0)
                    yield queue.shift();
                if (ended !== undefined) {
                    if (!opened)
                        await this.explainRefusal(id);
                    throw ended.error;
                }
                await new Promise((r) => { wake = r; });
            }
        }
        finally {
            signal.removeEventListener("abort", onAbort);
            if (ws.readyState <= 1)
                ws.close();
        }
    }
    /* A refused upgrade carries no status: ask over HTTP why (404, 401). */
    async explainRefusal(id) {
        await this.getSession(id);
    }
    /* -- HTTP ------------------------------------------------------ */
    async request(method, path, body, signal, extra) {
        const headers = { ...this.headers,
            ...extra };
        if (this.token !== undefined)
            headers.Authorization = `Bearer ${this.token}`;
        const init = { method, headers, signal };
        if (body instanceof RawBody) {
            headers["Content-Type"] = body.type;
            /* A Uint8Array over a SharedArrayBuffer is not a BodyInit
             * to the DOM types; fetch takes it. */
            init.body = body.data;
        }
        else if (body !== undefined) {
            headers["Content-Type"] = "application/json";
            init.body = JSON.stringify(body);
        }
        const r = await this.fetchFn(this.baseUrl + path, init);
        if (r.ok)
            return r;
        const text = await r.text().catch(() => "");
        let problem;
        try {
            problem = JSON.parse(text);
        }
        catch {
            problem = undefined;
        }
        if (problem === null || typeof problem !== "object" ||
            typeof problem.detail !== "string")
            problem = undefined;
        throw new AgentdError(r.status, problem, `${method} ${path}: ` +
            `${r.status} ${problem?.title ?? r.statusText}: ` +
            `${problem?.detail ?? (text.trim().slice(0, 500) ||
                r.statusText)}`, text);
    }
    async json(method, path, body, signal) {
        return (await (await this.request(method, path, body, signal))
            .json());
    }
}
/** One session of an AgentdClient: its methods without the id. */
export class Session {
    client;
    id;
    /** The SessionInfo agentd last answered (create or refresh()). */
    info;
    constructor(client, id, info) {
        this.client = client;
        this.id = id;
        this.info = info;
    }
    async refresh() {
        this.info = await this.client.getSession(this.id);
        return this.info;
    }
    send(message, opts = {}) {
        return this.client.postMessage(this.id, message, opts);
    }
    events(opts = {}) {
        return this.client.events(this.id, opts);
    }
    getEvents(opts = {}) {
        return this.client.getEvents(this.id, opts);
    }
    eventsSince(cursor = 0, opts = {}) {
        return this.client.eventsSince(this.id, cursor, opts);
    }
    stream(message, opts = {}) {
        return this.client.stream(this.id, message, opts);
    }
    run(message, opts = {}) {
        return this.client.run(this.id, message, opts);
    }
    replyPermission(permissionId, reply) {
        return this.client.replyPermission(this.id, permissionId, reply);
    }
    replyQuestion(questionId, answers) {
        return this.client.replyQuestion(this.id, questionId, answers);
    }
    rejectQuestion(questionId) {
        return this.client.rejectQuestion(this.id, questionId);
    }
    cancel() {
        return this.client.cancel(this.id);
    }
    terminate() {
        return this.client.terminate(this.id);
    }
    delete() {
        return this.client.deleteSession(this.id);
    }
}
/**
 * The terminal of a tty process, from connectProcessTerminal(): input,
 * resize and the output as bytes. agentd sends the recent output first
 * (up to 64 KiB of scrollback), then the live output; when the process
 * exits it sends its exit code and closes. Output goes to `onData` when
 * it is set, and is otherwise kept for `output()`: the last
 * `ProcessTerminal.KEEP` bytes, as a terminal keeps its last lines (older
 * chunks are dropped when nobody reads).
 */
export class ProcessTerminal {
    processId;
    /** Resolves when agentd says ready; rejects if the socket fails first. */
    ready;
    /** Resolves when the socket has closed, with the exit code agentd
     * sent (undefined when it closed without one). */
    closed;
    /** The exit code, once agentd sent it (null: a signal ended it). */
    exitCode;
    onData;
    /** agentd's answer to a frame it refused ({"type":"error"}). */
    onError;
    /** Bytes kept for output() at most. */
    static KEEP = 1 << 20;
    ws;
    queue = [];
    queued = 0;
    wake;
    done = false;
    constructor(ws, processId) {
        this.ws = ws;
        this.processId = processId;
        ws.binaryType = "arraybuffer";
        let ok, fail;
        let closed;
        this.ready = new Promise((a, b) => { ok = a; fail = b; });
        this.closed = new Promise((a) => { closed = a; });
        this.ready.catch(() => { }); /* a caller may never await it */
        ws.onmessage = (m) => {
            if (typeof m.data === "string") {
                const o = JSON.parse(m.data);
                if (o.type === "ready")
                    ok();
                else if (o.type === "exit")
                    this.exitCode = o.exitCode ?? null;
                else if (o.type === "error")
                    this.onError?.(o.message ?? "");
                return;
            }
            const bytes = new Uint8Array(m.data);
            if (this.onData !== undefined)
                this.onData(bytes);
            else {
                this.queue.push(bytes);
                this.queued += bytes.length;
                while (this.queued > ProcessTerminal.KEEP &&
                    this.queue.length > 1)
                    this.queued -= this.queue.shift().length;
            }
            this.poke();
        };
        ws.onerror = () => {
            fail(new Error("terminal WebSocket error"));
        };
        ws.onclose = (c) => {
            fail(new Error(`terminal WebSocket closed (${c.code})`));
            this.done = true;
            this.poke();
            closed(this.exitCode);
        };
    }
    /** Type: a string as UTF-8, bytes as they are. */
    input(data) {
        this.ws.send(JSON.stringify(typeof data === "string" ?
            { type: "input", data } :
            { type: "input", data: toBase64(data), encoding: "base64" }));
    }
    resize(cols, rows) {
        this.ws.send(JSON.stringify({ type: "resize", cols, rows }));
    }
    /** Leave (the process goes on). */
    close() {
        if (this.ws.readyState <= 1)
            this.ws.close();
    }
    /** The output kept so far, then live, until the socket closes. */
    async *output() {
        for (;;) {
            while (this.queue.length > 0) {
                const b = this.queue.shift();
                this.queued -= b.length;
                yield b;
            }
            if (this.done)
                return;
            await new Promise((r) => { this.wake = r; });
        }
    }
    poke() {
        const w = this.wake;
        this.wake = undefined;
        w?.();
    }
}
/* ------------------------------------------------------------------ */
/* Turns                                                               */
function itemText(item) {
    return item.content.map((p) => p.type === "text" ? p.text : "")
        .join("");
}
/*
 * Picks the events of the turn a message starts out of the session's
 * stream, read from the log's end as it was before the message was posted.
 * agentd opens every turn itself with turn.started and the user's message
 * as a message item with role user: the first turn whose user message is
 * this text is this message's turn. session.ended ends it wherever it
 * comes.
 */
class TurnFilter {
    message;
    phase = "wait";
    turnId;
    held = [];
    constructor(message) {
        this.message = message;
    }
    get done() {
        return this.phase === "done";
    }
    feed(ev) {
        if (ev.type === "session.ended") {
            const out = this.phase === "candidate" ?
                [...this.held, ev] : [ev];
            this.phase = "done";
            return out;
        }
        switch (this.phase) {
            case "wait":
            case "other":
                if (ev.type === "turn.started") {
                    this.phase = "candidate";
                    this.turnId = ev.data.turn_id;
                    this.held = [ev];
                }
                else if (ev.type === "turn.ended")
                    this.phase = "wait";
                return [];
            case "candidate":
                this.held.push(ev);
                if ((ev.type === "item.started" ||
                    ev.type === "item.completed") &&
                    ev.data.item.kind === "message" &&
                    ev.data.item.role === "user") {
                    if (itemText(ev.data.item) === this.message) {
                        this.phase = "ours";
                        const out = this.held;
                        this.held = [];
                        return out;
                    }
                    this.phase = "other";
                    this.held = [];
                }
                else if (ev.type === "turn.ended") {
                    this.phase = "wait";
                    this.held = [];
                }
                return [];
            case "ours":
                if (ev.type === "turn.ended" &&
                    ev.data.turn_id === this.turnId)
                    this.phase = "done";
                return [ev];
            default:
                return [];
        }
    }
}
function turnResult(sessionId, events) {
    const r = { sessionId, events, text: "", errors: [],
        ok: false };
    const order = [];
    const texts = new Map();
    for (const ev of events) {
        switch (ev.type) {
            case "turn.started":
                r.turnId = ev.data.turn_id;
                break;
            case "turn.ended":
                r.stopReason = ev.data.stop_reason;
                r.usage = ev.data.usage;
                r.costUsd = ev.data.cost_usd;
                break;
            case "error":
                r.errors.push(ev.data);
                break;
            case "session.ended":
                r.sessionEnded = ev.data;
                break;
            case "item.started":
                if (ev.data.item.kind === "message" &&
                    ev.data.item.role === "assistant") {
                    order.push(ev.data.item.item_id);
                    texts.set(ev.data.item.item_id, itemText(ev.data.item));
                }
                break;
            case "item.delta": {
                const t = texts.get(ev.data.item_id);
                if (t !== undefined)
                    texts.set(ev.data.item_id, t + ev.data.delta);
                break;
            }
            case "item.completed": {
                const item = ev.data.item;
                if (item.kind !== "message" || item.role !== "assistant")
                    break;
                /* The completed item repeats the text up to 4 MiB;
                 * past that only the deltas have all of it. */
                const full = itemText(item);
                const had = texts.get(item.item_id);
                if (had === undefined)
                    order.push(item.item_id);
                if (full.length >= (had ?? "").length)
                    texts.set(item.item_id, full);
                break;
            }
        }
    }
    r.text = order.map((i) => texts.get(i) ?? "").filter((t) => t !== "")
        .join("\n\n");
    r.ok = r.stopReason === "end_turn";
    return r;
}
function permissionWord(a) {
    if (a === true)
        return "once";
    if (a === false || a === undefined || a === null)
        return "reject";
    if (a === "once" || a === "always" || a === "reject")
        return a;
    throw new Error(`onPermission must answer "once", "always", ` +
        `"reject", true or false, not ${JSON.stringify(a)}`);
}
function newSessionId() {
    const b = new Uint8Array(8);
    const c = globalThis.crypto;
    if (c !== undefined)
        c.getRandomValues(b);
    else /* Node 18 without its global webcrypto */
        b.forEach((_, i) => { b[i] = Math.floor(Math.random() * 256); });
    return "s-" + Array.from(b, (x) => x.toString(16).padStart(2, "0"))
        .join("");
}
function enc(s) {
    return encodeURIComponent(s);
}
function sleep(ms, signal) {
    return new Promise((resolve) => {
        const t = setTimeout(done, ms);
        function done() {
            clearTimeout(t);
            signal?.removeEventListener("abort", done);
            resolve();
        }
        signal?.addEventListener("abort", done);
    });
}
/* ?a=1&b=2 for the members that are not undefined ("" without any). */
function query(args) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(args))
        if (v !== undefined)
            q.set(k, String(v));
    const t = q.toString();
    return t === "" ? "" : `?${t}`;
}
/* The data of each SSE frame of a response (id:, event: and comments
 * are skipped: what they say is in the data too). A blank line ends a
 * frame; a frame cut by a dropped connection is never returned. */
async function* sseData(r, signal) {
    if (r.body === null)
        throw new StreamClosed("no body");
    const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
    const cancel = () => { reader.cancel().catch(() => { }); };
    signal.addEventListener("abort", cancel);
    let buf = "", data = [];
    try {
        for (;;) {
            const { value, done } = await reader.read();
            if (done)
                return;
            buf += value;
            let nl;
            while ((nl = buf.indexOf("\n")) >= 0) {
                let line = buf.slice(0, nl);
                buf = buf.slice(nl + 1);
                if (line.endsWith("\r"))
                    line = line.slice(0, -1);
                if (line === "") {
                    if (data.length > 0)
                        yield data.join("\n");
                    data = [];
                }
                else if (line.startsWith("data:"))
                    data.push(line.slice(line[5] === " " ? 6 : 5));
            }
        }
    }
    finally {
        signal.removeEventListener("abort", cancel);
        reader.cancel().catch(() => { });
    }
}
function toBase64(b) {
    let s = "";
    for (let i = 0; i < b.length; i += 0x8000)
        s += String.fromCharCode(...b.subarray(i, i + 0x8000));
    return btoa(s);
}
function fromBase64(s) {
    const bin = atob(s);
    const b = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++)
        b[i] = bin.charCodeAt(i);
    return b;
}
function concatBytes(parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
        out.set(p, at);
        at += p.length;
    }
    return out;
}
