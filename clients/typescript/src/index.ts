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

/* ------------------------------------------------------------------ */
/* The universal event schema                                          */

export type EventType =
	| "session.started" | "session.ended" | "turn.started" | "turn.ended"
	| "item.started" | "item.completed" | "item.delta"
	| "permission.requested" | "permission.resolved"
	| "question.requested" | "question.resolved"
	| "error" | "agent.unparsed";

export type ItemKind = "message" | "tool_call" | "tool_result" |
	"reasoning" | "system" | "status";
export type ItemRole = "user" | "assistant" | "system" | "tool";
export type ItemStatus = "in_progress" | "completed" | "failed";

export type ContentPart =
	| { type: "text"; text: string }
	| { type: "reasoning"; text: string; visibility: "public" | "private" }
	| { type: "tool_call"; name: string; arguments: string; call_id: string }
	| { type: "tool_result"; call_id: string; output: string; is_error: boolean }
	| { type: "file_ref"; path: string; action: "read" | "write" | "patch";
	    diff?: string | null }
	| { type: "image"; path?: string | null; data?: string | null; mime: string }
	| { type: "json"; json: unknown }
	| { type: "status"; label: string; detail?: string | null };

export interface Item {
	item_id: string;
	native_item_id?: string | null;
	parent_id?: string | null;
	kind: ItemKind;
	role: ItemRole;
	status: ItemStatus;
	content: ContentPart[];
}

export interface Usage {
	input_tokens?: number | null;
	output_tokens?: number | null;
	cache_read_tokens?: number | null;
	cache_write_tokens?: number | null;
}

export interface TurnData {
	turn_id: string;
	stop_reason?: string | null;
	usage?: Usage | null;
	cost_usd?: number | null;
}

export interface Question {
	question: string;
	header?: string | null;
	multi_select: boolean;
	options: { label: string; description?: string | null }[];
}

/** The data member of each event type. */
export interface EventDataMap {
	"session.started": {
		metadata: { agent: string; agentVersion?: string | null;
		    model?: string | null; permissionMode?: string | null;
		    cwd?: string | null };
	};
	"session.ended": {
		reason: "completed" | "error" | "terminated";
		terminated_by: "agent" | "daemon";
		message?: string | null;
		exit_code?: number | null;
		stderr?: { head: string; tail: string; truncated: boolean } | null;
	};
	"turn.started": TurnData;
	"turn.ended": TurnData;
	"item.started": { item: Item };
	"item.completed": { item: Item };
	"item.delta": { item_id: string; native_item_id?: string | null;
	    delta: string };
	"permission.requested": {
		permission_id: string; action: string; status: "requested";
		metadata: { tool_name: string; input: unknown;
		    call_id?: string | null; [k: string]: unknown };
	};
	"permission.resolved": {
		permission_id: string; action: string;
		status: "accept" | "accept_for_session" | "reject" | "cancelled";
		metadata?: Record<string, unknown> | null;
	};
	"question.requested": { question_id: string; questions: Question[] };
	"question.resolved": {
		question_id: string;
		status: "answered" | "rejected" | "cancelled";
		answers?: unknown;
	};
	"error": { message: string; code?: string | number | null;
	    details?: unknown };
	"agent.unparsed": { error: string; location: string };
}

interface EventEnvelope<T extends EventType> {
	event_id: string;
	sequence: number;
	time: string;
	session_id: string;
	native_session_id?: string | null;
	source: "agent" | "daemon";
	synthetic: boolean;
	type: T;
	data: EventDataMap[T];
	raw?: unknown;
}

/** One event; narrow it with `ev.type`. */
export type UniversalEvent = { [T in EventType]: EventEnvelope<T> }[EventType];

/* ------------------------------------------------------------------ */
/* Resources                                                           */

export type SessionState = "idle" | "ready" | "running" | "restarting" |
	"stopping" | "ended";

export interface SessionInfo {
	sessionId: string;
	agent: string;
	agentMode: string;
	permissionMode: string;
	model?: string;
	nativeSessionId?: string;
	agentVersion?: string;
	directory: string;
	state: SessionState;
	ended: boolean;
	eventCount: number;
	queuedMessages: number;
	createdAt: number;
	updatedAt: number;
	pid?: number;
	envKeys: string[];
	pendingPermissions: string[];
	pendingQuestions: string[];
}

export interface CreateSessionRequest {
	agent: string;
	agentCommand?: string[];
	model?: string;
	permissionMode?: string;
	cwd?: string;
	env?: Record<string, string>;
	mcp?: unknown[];
}

export interface AgentInfo {
	id: string;
	protocol: string;
	installed: boolean;
	path?: string;
	version?: string;
	npmPackage?: string;
	credentialsAvailable: boolean;
	credentialEnv: string[];
	capabilities: Record<string, boolean>;
}

export interface Health { status: "ok"; version: string; uptime_ms: number }

export interface EventsPage { events: UniversalEvent[]; hasMore: boolean }

/** RFC 7807 problem details, as agentd answers every error. */
export interface Problem {
	type: string;
	title: string;
	status: number;
	detail: string;
}

export type PermissionReply = "once" | "always" | "reject";

/** An error answer: `status` and agentd's problem+json. */
export class AgentdError extends Error {
	readonly status: number;
	readonly problem?: Problem;

	constructor(status: number, problem: Problem | undefined,
	    message: string) {
		super(message);
		this.name = "AgentdError";
		this.status = status;
		this.problem = problem;
	}
}

/* ------------------------------------------------------------------ */
/* The client                                                          */

/** The part of the WebSocket constructor events() needs. */
export type WebSocketConstructor = new (url: string) => WebSocket;

export interface ClientOptions {
	/** http(s)://host:port of agentd, or of a preview URL in front of it. */
	baseUrl: string;
	/** agentd's --token, if it has one. */
	token?: string;
	/** Extra headers on every HTTP request (preview URL tokens, say). */
	headers?: Record<string, string>;
	/** Default: globalThis.fetch. */
	fetch?: typeof fetch;
	/** Default: globalThis.WebSocket, when the runtime has one. */
	WebSocket?: WebSocketConstructor;
}

export interface EventsOptions {
	/** Yield events after this sequence (default 0: from the start). */
	offset?: number;
	/** Ask for each event's native message in `raw`. */
	includeRaw?: boolean;
	/** "ws", "sse", or "auto" (default): ws if there is a WebSocket. */
	transport?: "auto" | "ws" | "sse";
	/** End the iteration after session.ended (default true). */
	stopAtSessionEnd?: boolean;
	/** Stop (the iteration just ends) when this signal aborts. */
	signal?: AbortSignal;
	/** First wait before reconnecting, doubled up to 2 s (default 100). */
	reconnectDelayMs?: number;
	/** Give up after this many failed reconnects in a row (default 100). */
	maxReconnects?: number;
	/** Called before each reconnect, with the sequence it resumes after. */
	onReconnect?: (offset: number, error: unknown) => void;
}

export interface EventsPageOptions {
	offset?: number;
	limit?: number;
	includeRaw?: boolean;
}

/** Internal: a stream that ended cleanly (the server closed it). */
class StreamClosed extends Error {}

export class AgentdClient {
	readonly baseUrl: string;
	private readonly token?: string;
	private readonly headers: Record<string, string>;
	private readonly fetchFn: typeof fetch;
	private readonly WebSocketCtor?: WebSocketConstructor;

	constructor(opts: ClientOptions) {
		this.baseUrl = opts.baseUrl.replace(/\/+$/, "");
		this.token = opts.token;
		this.headers = opts.headers ?? {};
		const f = opts.fetch ?? globalThis.fetch;
		if (typeof f !== "function")
			throw new Error("no fetch: pass options.fetch");
		this.fetchFn = f.bind(globalThis);
		this.WebSocketCtor = opts.WebSocket ??
		    (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
	}

	/* -- plain routes --------------------------------------------- */

	health(): Promise<Health> {
		return this.json("GET", "/v1/health");
	}

	async listAgents(): Promise<AgentInfo[]> {
		return (await this.json<{ agents: AgentInfo[] }>("GET",
		    "/v1/agents")).agents;
	}

	getAgent(agent: string): Promise<AgentInfo> {
		return this.json("GET", `/v1/agents/${enc(agent)}`);
	}

	installAgent(agent: string): Promise<AgentInfo> {
		return this.json("POST", `/v1/agents/${enc(agent)}/install`);
	}

	async listSessions(): Promise<SessionInfo[]> {
		return (await this.json<{ sessions: SessionInfo[] }>("GET",
		    "/v1/sessions")).sessions;
	}

	/** Create session `id` and start its agent (409 if it exists). */
	createSession(id: string, req: CreateSessionRequest):
	    Promise<SessionInfo & { healthy: true }> {
		return this.json("POST", `/v1/sessions/${enc(id)}`, req);
	}

	getSession(id: string): Promise<SessionInfo> {
		return this.json("GET", `/v1/sessions/${enc(id)}`);
	}

	/** Terminate the agent, forget the session and delete its files. */
	async deleteSession(id: string): Promise<void> {
		await this.request("DELETE", `/v1/sessions/${enc(id)}`);
	}

	/** Send a message; it is queued while a turn runs. */
	async postMessage(id: string, message: string): Promise<void> {
		await this.request("POST", `/v1/sessions/${enc(id)}/messages`,
		    { message });
	}

	/** One page of the log: events after `offset`. */
	getEvents(id: string, opts: EventsPageOptions = {}):
	    Promise<EventsPage> {
		const q = new URLSearchParams();
		if (opts.offset !== undefined)
			q.set("offset", String(opts.offset));
		if (opts.limit !== undefined)
			q.set("limit", String(opts.limit));
		if (opts.includeRaw)
			q.set("include_raw", "true");
		return this.json("GET", `/v1/sessions/${enc(id)}/events?${q}`);
	}

	async replyPermission(id: string, permissionId: string,
	    reply: PermissionReply): Promise<void> {
		await this.request("POST", `/v1/sessions/${enc(id)}/permissions/` +
		    `${enc(permissionId)}/reply`, { reply });
	}

	/** answers: one array of chosen option labels per question. */
	async replyQuestion(id: string, questionId: string,
	    answers: string[][]): Promise<void> {
		await this.request("POST", `/v1/sessions/${enc(id)}/questions/` +
		    `${enc(questionId)}/reply`, { answers });
	}

	async rejectQuestion(id: string, questionId: string): Promise<void> {
		await this.request("POST", `/v1/sessions/${enc(id)}/questions/` +
		    `${enc(questionId)}/reject`);
	}

	/** Interrupt the running turn; the session stays. */
	async cancel(id: string): Promise<void> {
		await this.request("POST", `/v1/sessions/${enc(id)}/cancel`);
	}

	/** Stop the agent; the stream then says session.ended. */
	async terminate(id: string): Promise<void> {
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
	async *events(id: string, opts: EventsOptions = {}):
	    AsyncGenerator<UniversalEvent, void, undefined> {
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
			let error: unknown;
			try {
				const stream = useWs ?
				    this.wsStream(id, last, opts.includeRaw, ac.signal) :
				    this.sseStream(id, last, opts.includeRaw, ac.signal);
				for await (const ev of stream) {
					if (ev.sequence <= last)
						continue;	/* never twice */
					last = ev.sequence;
					failures = 0;
					yield ev;
					if (stopAtEnd && ev.type === "session.ended")
						return;
				}
				error = new StreamClosed("the stream ended");
			} catch (e) {
				if (e instanceof AgentdError)
					throw e;
				error = e;
			} finally {
				opts.signal?.removeEventListener("abort", onAbort);
				ac.abort();
			}
			if (opts.signal?.aborted)
				return;
			if (++failures > maxReconnects)
				throw error;
			opts.onReconnect?.(last, error);
			await sleep(Math.min(baseDelay * 2 ** (failures - 1), 2000),
			    opts.signal);
		}
	}

	private streamQuery(offset: number, includeRaw?: boolean): URLSearchParams {
		const q = new URLSearchParams({ offset: String(offset) });
		if (includeRaw)
			q.set("include_raw", "true");
		return q;
	}

	/* SSE read with fetch: id: and data: lines, blank line ends a frame. */
	private async *sseStream(id: string, offset: number,
	    includeRaw: boolean | undefined, signal: AbortSignal):
	    AsyncGenerator<UniversalEvent> {
		const q = this.streamQuery(offset, includeRaw);
		const r = await this.request("GET",
		    `/v1/sessions/${enc(id)}/events/sse?${q}`, undefined,
		    signal, { Accept: "text/event-stream" });
		if (r.body === null)
			throw new StreamClosed("no body");
		const reader = r.body.pipeThrough(new TextDecoderStream())
		    .getReader();
		let buf = "", data: string[] = [];
		try {
			for (;;) {
				const { value, done } = await reader.read();
				if (done)
					return;
				buf += value;
				let nl: number;
				while ((nl = buf.indexOf("\n")) >= 0) {
					let line = buf.slice(0, nl);
					buf = buf.slice(nl + 1);
					if (line.endsWith("\r"))
						line = line.slice(0, -1);
					if (line === "") {
						if (data.length > 0)
							yield JSON.parse(data.join("\n"));
						data = [];
					} else if (line.startsWith("data:"))
						data.push(line.slice(line[5] === " " ? 6 : 5));
					/* id:, event:, retry: and ":" comments: the
					 * sequence is in the event itself. */
				}
			}
		} finally {
			reader.cancel().catch(() => {});
		}
	}

	/* WebSocket: one event per text frame; command replies skipped. */
	private async *wsStream(id: string, offset: number,
	    includeRaw: boolean | undefined, signal: AbortSignal):
	    AsyncGenerator<UniversalEvent> {
		const q = this.streamQuery(offset, includeRaw);
		if (this.token !== undefined)
			q.set("access_token", this.token);
		const url = this.baseUrl.replace(/^http/, "ws") +
		    `/v1/sessions/${enc(id)}/events/ws?${q}`;
		const ws = new this.WebSocketCtor!(url);
		const queue: UniversalEvent[] = [];
		let wake: (() => void) | undefined;
		let ended: { error?: unknown } | undefined;
		let opened = false;
		const poke = () => { const w = wake; wake = undefined; w?.(); };
		ws.onopen = () => { opened = true; };
		ws.onmessage = (m: MessageEvent) => {
			if (typeof m.data !== "string")
				return;
			const o = JSON.parse(m.data);
			if (o !== null && typeof o === "object" && "reply_to" in o)
				return;
			queue.push(o as UniversalEvent);
			poke();
		};
		ws.onerror = () => {
			ended ??= { error: new Error("WebSocket error" +
			    (opened ? "" : " (the upgrade failed)")) };
			poke();
		};
		ws.onclose = (c: CloseEvent) => {
			ended ??= { error: new StreamClosed(
			    `WebSocket closed (${c.code})`) };
			poke();
		};
		const onAbort = () => ws.close();
		signal.addEventListener("abort", onAbort);
		try {
			for (;;) {
				while (queue.length > 0)
					yield queue.shift()!;
				if (ended !== undefined) {
					if (!opened)
						await this.explainRefusal(id);
					throw ended.error;
				}
				await new Promise<void>((r) => { wake = r; });
			}
		} finally {
			signal.removeEventListener("abort", onAbort);
			if (ws.readyState <= 1)
				ws.close();
		}
	}

	/* A refused upgrade carries no status: ask over HTTP why (404, 401). */
	private async explainRefusal(id: string): Promise<void> {
		await this.getSession(id);
	}

	/* -- HTTP ------------------------------------------------------ */

	private async request(method: string, path: string, body?: unknown,
	    signal?: AbortSignal, extra?: Record<string, string>):
	    Promise<Response> {
		const headers: Record<string, string> = { ...this.headers,
		    ...extra };
		if (this.token !== undefined)
			headers.Authorization = `Bearer ${this.token}`;
		const init: RequestInit = { method, headers, signal };
		if (body !== undefined) {
			headers["Content-Type"] = "application/json";
			init.body = JSON.stringify(body);
		}
		const r = await this.fetchFn(this.baseUrl + path, init);
		if (r.ok)
			return r;
		const text = await r.text().catch(() => "");
		let problem: Problem | undefined;
		try {
			problem = JSON.parse(text) as Problem;
		} catch {
			problem = undefined;
		}
		throw new AgentdError(r.status, problem, `${method} ${path}: ` +
		    `${r.status} ${problem?.detail ?? (text || r.statusText)}`);
	}

	private async json<T>(method: string, path: string, body?: unknown):
	    Promise<T> {
		return (await (await this.request(method, path, body)).json()) as T;
	}
}

function enc(s: string): string {
	return encodeURIComponent(s);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
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
