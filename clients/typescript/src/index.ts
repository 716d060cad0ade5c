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
 * functions). The Python client (clients/python) has the same surface.
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

/** installing: the agent's CLI is being installed on first use; restarting:
 * agentd is starting the session's agent again. */
export type SessionState = "installing" | "idle" | "ready" | "running" |
	"restarting" | "stopping" | "ended";

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
	/** Install the agent's pinned npm package first if it is missing. */
	install?: boolean;
}

/** A file in the agent's sandbox, by path; mime tells images. */
export interface Attachment {
	path: string;
	mime?: string;
	filename?: string;
	[member: string]: unknown;
}

export interface SendOptions {
	attachments?: Attachment[];
	/**
	 * Cancel the running turn and run this message next. Sent as
	 * `"interrupt": true` (only when true); an agentd without the feature
	 * queues the message as usual, and whatever it answers is what the
	 * call resolves to or throws.
	 */
	interrupt?: boolean;
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

/**
 * An error answer (any 4xx or 5xx): `status` and agentd's problem+json,
 * whose members are also here: `type` (urn:agentd:error:<code>), `code`,
 * `title`, `detail`. `problem` is undefined when the body was not a
 * problem (a proxy's error page): `detail` then holds its text.
 */
export class AgentdError extends Error {
	readonly status: number;
	readonly problem?: Problem;
	readonly type: string;
	readonly title: string;
	readonly detail: string;

	constructor(status: number, problem: Problem | undefined,
	    message: string, text = "") {
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
	get code(): string {
		const urn = "urn:agentd:error:";
		return this.type.startsWith(urn) ? this.type.slice(urn.length) :
		    this.type;
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

export interface EventsSinceOptions {
	/** Read at most this many events (default: every page there is). */
	limit?: number;
	includeRaw?: boolean;
}

/** What eventsSince() found. */
export interface EventBatch {
	/** The events after the cursor it was given, in order. */
	events: UniversalEvent[];
	/** The cursor to store: the last sequence, or the old cursor. */
	cursor: number;
	/** More events wait (only when `limit` cut the batch). */
	hasMore: boolean;
}

export type PermissionEvent = Extract<UniversalEvent,
	{ type: "permission.requested" }>;
export type QuestionEvent = Extract<UniversalEvent,
	{ type: "question.requested" }>;

export interface StreamOptions extends SendOptions,
    Omit<EventsOptions, "offset" | "stopAtSessionEnd"> {
	/**
	 * Answer a permission.requested: "once", "always", "reject", true
	 * ("once"), or false/undefined ("reject"). Without it the request
	 * stays pending for someone else (the inspector) to answer.
	 */
	onPermission?: (ev: PermissionEvent) =>
	    PermissionAnswer | Promise<PermissionAnswer>;
	/**
	 * Answer a question.requested: one array of chosen labels per
	 * question, or undefined/null to decline. Without it the question
	 * stays pending.
	 */
	onQuestion?: (ev: QuestionEvent) =>
	    QuestionAnswer | Promise<QuestionAnswer>;
}

export type PermissionAnswer = PermissionReply | boolean | undefined | null;
export type QuestionAnswer = string[][] | undefined | null;

export interface RunOptions extends StreamOptions {
	/** Sees each event of the turn as it comes. */
	onEvent?: (ev: UniversalEvent) => unknown;
}

/** What run() saw of one turn. */
export interface TurnResult {
	sessionId: string;
	/** Every event of the turn, turn.started to turn.ended. */
	events: UniversalEvent[];
	turnId?: string;
	/**
	 * end_turn, cancelled, error, interrupted (agentd restarted), ...;
	 * undefined when the session ended before the turn did.
	 */
	stopReason?: string | null;
	/** The assistant's message text. */
	text: string;
	usage?: Usage | null;
	costUsd?: number | null;
	/** The data of the turn's error events. */
	errors: EventDataMap["error"][];
	/** session.ended's data, if the session ended. */
	sessionEnded?: EventDataMap["session.ended"];
	/** stopReason is end_turn. */
	ok: boolean;
}

/** Internal: a stream that ended cleanly (the server closed it). */
class StreamClosed extends Error {}

export class AgentdClient {
	readonly baseUrl: string;
	private readonly token?: string;
	private readonly headers: Record<string, string>;
	private readonly fetchFn: typeof fetch;
	private readonly WebSocketCtor?: WebSocketConstructor;

	/**
	 * A client for `baseUrl`, checked with GET /v1/health and one
	 * authenticated call (so a wrong token fails here, with a 401).
	 */
	static async connect(baseUrl: string, token?: string,
	    opts: Omit<ClientOptions, "baseUrl" | "token"> = {}):
	    Promise<AgentdClient> {
		const c = new AgentdClient({ ...opts, baseUrl, token });
		await c.health();
		await c.listAgents();
		return c;
	}

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

	/**
	 * Create a session (id: random unless given) and return its handle,
	 * whose `info` is agentd's answer.
	 */
	async startSession(req: CreateSessionRequest & { id?: string }):
	    Promise<Session> {
		const { id, ...body } = req;
		const sid = id ?? newSessionId();
		return new Session(this, sid, await this.createSession(sid, body));
	}

	/** The handle of an existing session (no request is made). */
	session(id: string): Session {
		return new Session(this, id);
	}

	getSession(id: string): Promise<SessionInfo> {
		return this.json("GET", `/v1/sessions/${enc(id)}`);
	}

	/** Terminate the agent, forget the session and delete its files. */
	async deleteSession(id: string): Promise<void> {
		await this.request("DELETE", `/v1/sessions/${enc(id)}`);
	}

	/**
	 * Send a message; it is queued while a turn runs. See SendOptions for
	 * attachments and interrupt.
	 */
	async postMessage(id: string, message: string, opts: SendOptions = {}):
	    Promise<void> {
		const body: Record<string, unknown> = { message };
		if (opts.attachments !== undefined)
			body.attachments = opts.attachments;
		if (opts.interrupt)
			body.interrupt = true;
		await this.request("POST", `/v1/sessions/${enc(id)}/messages`,
		    body);
	}

	/** postMessage's other name, as in the Python client. */
	send(id: string, message: string, opts: SendOptions = {}):
	    Promise<void> {
		return this.postMessage(id, message, opts);
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

	/**
	 * The events after `cursor`, and the cursor to keep for next time: for
	 * callers that keep only a number between invocations (a serverless
	 * function). Without `limit` it reads every page there is.
	 */
	async eventsSince(id: string, cursor = 0,
	    opts: EventsSinceOptions = {}): Promise<EventBatch> {
		const events: UniversalEvent[] = [];
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
				/* 4xx: the session is gone, the token wrong; a 5xx
				 * is a proxy's 502 while agentd restarts. */
				if (e instanceof AgentdError && e.status < 500)
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

	/**
	 * Send a message and yield the events of its turn, up to and with its
	 * turn.ended (or session.ended), answering what the agent asks with
	 * onPermission and onQuestion. Turns queued before this message are
	 * skipped: its turn is the first whose user message is its text.
	 * Reconnects as events() does.
	 */
	async *stream(id: string, message: string, opts: StreamOptions = {}):
	    AsyncGenerator<UniversalEvent, void, undefined> {
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
	async run(id: string, message: string, opts: RunOptions = {}):
	    Promise<TurnResult> {
		const events: UniversalEvent[] = [];
		for await (const ev of this.stream(id, message, opts)) {
			events.push(ev);
			await opts.onEvent?.(ev);
		}
		return turnResult(id, events);
	}

	private async answer(id: string, ev: UniversalEvent,
	    opts: StreamOptions): Promise<void> {
		try {
			if (ev.type === "permission.requested" && opts.onPermission)
				await this.replyPermission(id, ev.data.permission_id,
				    permissionWord(await opts.onPermission(ev)));
			else if (ev.type === "question.requested" &&
			    opts.onQuestion) {
				const a = await opts.onQuestion(ev);
				if (a === undefined || a === null)
					await this.rejectQuestion(id, ev.data.question_id);
				else
					await this.replyQuestion(id, ev.data.question_id, a);
			}
		} catch (e) {
			/* 404: someone else answered first, or the turn ended. */
			if (!(e instanceof AgentdError && e.status === 404))
				throw e;
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
		if (problem === null || typeof problem !== "object" ||
		    typeof problem.detail !== "string")
			problem = undefined;
		throw new AgentdError(r.status, problem, `${method} ${path}: ` +
		    `${r.status} ${problem?.title ?? r.statusText}: ` +
		    `${problem?.detail ?? (text.trim().slice(0, 500) ||
		    r.statusText)}`, text);
	}

	private async json<T>(method: string, path: string, body?: unknown):
	    Promise<T> {
		return (await (await this.request(method, path, body)).json()) as T;
	}
}

/** One session of an AgentdClient: its methods without the id. */
export class Session {
	/** The SessionInfo agentd last answered (create or refresh()). */
	info?: SessionInfo;

	constructor(readonly client: AgentdClient, readonly id: string,
	    info?: SessionInfo) {
		this.info = info;
	}

	async refresh(): Promise<SessionInfo> {
		this.info = await this.client.getSession(this.id);
		return this.info;
	}

	send(message: string, opts: SendOptions = {}): Promise<void> {
		return this.client.postMessage(this.id, message, opts);
	}

	events(opts: EventsOptions = {}):
	    AsyncGenerator<UniversalEvent, void, undefined> {
		return this.client.events(this.id, opts);
	}

	getEvents(opts: EventsPageOptions = {}): Promise<EventsPage> {
		return this.client.getEvents(this.id, opts);
	}

	eventsSince(cursor = 0, opts: EventsSinceOptions = {}):
	    Promise<EventBatch> {
		return this.client.eventsSince(this.id, cursor, opts);
	}

	stream(message: string, opts: StreamOptions = {}):
	    AsyncGenerator<UniversalEvent, void, undefined> {
		return this.client.stream(this.id, message, opts);
	}

	run(message: string, opts: RunOptions = {}): Promise<TurnResult> {
		return this.client.run(this.id, message, opts);
	}

	replyPermission(permissionId: string, reply: PermissionReply):
	    Promise<void> {
		return this.client.replyPermission(this.id, permissionId, reply);
	}

	replyQuestion(questionId: string, answers: string[][]): Promise<void> {
		return this.client.replyQuestion(this.id, questionId, answers);
	}

	rejectQuestion(questionId: string): Promise<void> {
		return this.client.rejectQuestion(this.id, questionId);
	}

	cancel(): Promise<void> {
		return this.client.cancel(this.id);
	}

	terminate(): Promise<void> {
		return this.client.terminate(this.id);
	}

	delete(): Promise<void> {
		return this.client.deleteSession(this.id);
	}
}

/* ------------------------------------------------------------------ */
/* Turns                                                               */

function itemText(item: Item): string {
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
	private phase: "wait" | "candidate" | "ours" | "other" | "done" =
	    "wait";
	private turnId?: string;
	private held: UniversalEvent[] = [];

	constructor(private readonly message: string) {}

	get done(): boolean {
		return this.phase === "done";
	}

	feed(ev: UniversalEvent): UniversalEvent[] {
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
			} else if (ev.type === "turn.ended")
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
			} else if (ev.type === "turn.ended") {
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

function turnResult(sessionId: string, events: UniversalEvent[]):
    TurnResult {
	const r: TurnResult = { sessionId, events, text: "", errors: [],
	    ok: false };
	const order: string[] = [];
	const texts = new Map<string, string>();
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
				texts.set(ev.data.item.item_id,
				    itemText(ev.data.item));
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

function permissionWord(a: PermissionAnswer): PermissionReply {
	if (a === true)
		return "once";
	if (a === false || a === undefined || a === null)
		return "reject";
	if (a === "once" || a === "always" || a === "reject")
		return a;
	throw new Error(`onPermission must answer "once", "always", ` +
	    `"reject", true or false, not ${JSON.stringify(a)}`);
}

function newSessionId(): string {
	const b = new Uint8Array(8);
	const c = (globalThis as { crypto?: Crypto }).crypto;
	if (c !== undefined)
		c.getRandomValues(b);
	else	/* Node 18 without its global webcrypto */
		b.forEach((_, i) => { b[i] = Math.floor(Math.random() * 256); });
	return "s-" + Array.from(b, (x) => x.toString(16).padStart(2, "0"))
	    .join("");
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
