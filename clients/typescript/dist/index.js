/**
 * @agentd/client: a small typed client for agentd's HTTP API, for Node
 * (18+) and browsers, with no runtime dependency.
 *
 *   const c = new AgentdClient({ baseUrl: "http://127.0.0.1:2468", token });
 *   await c.createSession("demo", { agent: "mock" });
 *   await c.postMessage("demo", "hello");
 *   for await (const ev of c.events("demo")) {
 *     if (ev.type === "permission.requested")
 *       await c.replyPermission("demo", ev.data.permission_id, "once");
 *     if (ev.type === "turn.ended") break;
 *   }
 *
 * events() follows a session over WebSocket where the runtime has one
 * (browsers, Node 22+) and over Server-Sent Events read with fetch
 * otherwise; when the connection drops it reconnects from the last
 * sequence it yielded, so no event is lost or repeated.
 *
 * The API: docs/api.md and docs/openapi.json (GET /v1/openapi.json).
 */
/** An error answer: `status` and agentd's problem+json. */
export class AgentdError extends Error {
    status;
    problem;
    constructor(status, problem, message) {
        super(message);
        this.name = "AgentdError";
        this.status = status;
        this.problem = problem;
    }
}
/** Internal: a stream that ended cleanly (the server closed it). */
class StreamClosed extends Error {
}
export class AgentdClient {
    baseUrl;
    token;
    headers;
    fetchFn;
    WebSocketCtor;
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
    getSession(id) {
        return this.json("GET", `/v1/sessions/${enc(id)}`);
    }
    /** Terminate the agent, forget the session and delete its files. */
    async deleteSession(id) {
        await this.request("DELETE", `/v1/sessions/${enc(id)}`);
    }
    /** Send a message; it is queued while a turn runs. */
    async postMessage(id, message) {
        await this.request("POST", `/v1/sessions/${enc(id)}/messages`, { message });
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
                if (e instanceof AgentdError)
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
        if (r.body === null)
            throw new StreamClosed("no body");
        const reader = r.body.pipeThrough(new TextDecoderStream())
            .getReader();
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
                            yield JSON.parse(data.join("\n"));
                        data = [];
                    }
                    else if (line.startsWith("data:"))
                        data.push(line.slice(line[5] === " " ? 6 : 5));
                    /* id:, event:, retry: and ":" comments: the
                     * sequence is in the event itself. */
                }
            }
        }
        finally {
            reader.cancel().catch(() => { });
        }
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
        if (body !== undefined) {
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
        throw new AgentdError(r.status, problem, `${method} ${path}: ` +
            `${r.status} ${problem?.detail ?? (text || r.statusText)}`);
    }
    async json(method, path, body) {
        return (await (await this.request(method, path, body)).json());
    }
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
