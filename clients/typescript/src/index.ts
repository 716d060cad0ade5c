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
/* Files and processes (docs/api.md "Files", "Processes and terminals") */

export type FsEntryType = "file" | "directory";

/** GET /v1/fs/stat: `path` is absolute, `modified` RFC 3339 UTC. */
export interface FsStat {
	path: string;
	entryType: FsEntryType;
	size: number;
	modified?: string;
	/** true when the path was a symlink (followed). */
	symlink?: boolean;
}

/** One member of GET /v1/fs/entries. */
export interface FsEntry extends FsStat { name: string }

export interface FsWriteResult { path: string; bytesWritten: number }
export interface FsMoveResult { from: string; to: string }
export interface FsUploadResult {
	/** The first 1024 members written, absolute. */
	paths: string[];
	truncated: boolean;
}

/** What writeFsFile and uploadFsBatch send as the body. */
export type FsBody = Uint8Array | ArrayBuffer | Blob | string;

export interface ReadFsFileOptions {
	/**
	 * A byte range: `{ start, end? }` (end inclusive, as HTTP says) or
	 * `{ suffix: n }` for the last n bytes. Past the end: 416.
	 */
	range?: { start: number; end?: number } | { suffix: number };
	signal?: AbortSignal;
}

export interface WriteFsFileOptions {
	/** Make missing parent directories (default true; false: 404). */
	parents?: boolean;
	signal?: AbortSignal;
}

export interface ProcessRunRequest {
	command: string;
	args?: string[];
	cwd?: string;
	env?: Record<string, string>;
	timeoutMs?: number;
	maxOutputBytes?: number;
}

export interface ProcessRunResult {
	/** null when a signal (or the timeout) ended it. */
	exitCode: number | null;
	exitSignal?: number;
	timedOut: boolean;
	stdout: string;
	stderr: string;
	stdoutTruncated: boolean;
	stderrTruncated: boolean;
	durationMs: number;
}

export interface ProcessCreateRequest {
	command: string;
	args?: string[];
	cwd?: string;
	env?: Record<string, string>;
	/** Run it on a pseudo-terminal (80x24), reached with
	 * connectProcessTerminal(). */
	tty?: boolean;
	interactive?: boolean;
}

export interface ProcessInfo {
	id: string;
	command: string;
	args: string[];
	cwd?: string | null;
	tty: boolean;
	interactive: boolean;
	owner: string;
	status: "running" | "exited";
	pid?: number | null;
	exitCode?: number | null;
	exitSignal?: number;
	createdAtMs: number;
	exitedAtMs?: number | null;
	endReason?: string;
}

export type ProcessLogStream = "stdout" | "stderr" | "combined" | "pty";

/** One read of a process's output; `data` is base64 (logBytes()). */
export interface ProcessLogEntry {
	sequence: number;
	stream: "stdout" | "stderr" | "pty";
	timestampMs: number;
	data: string;
	encoding: "base64";
}

export interface ProcessLogs {
	processId: string;
	stream: ProcessLogStream;
	entries: ProcessLogEntry[];
}

export interface ProcessLogsOptions {
	/** Default combined (pty for a tty process). */
	stream?: ProcessLogStream;
	/** Entries after this sequence. */
	since?: number;
	/** Only the last n entries. */
	tail?: number;
}

export interface FollowLogsOptions {
	stream?: ProcessLogStream;
	/** Yield entries after this sequence (default 0: all kept). */
	since?: number;
	/** Stop (the iteration just ends) when this signal aborts. */
	signal?: AbortSignal;
	/** First wait before reconnecting, doubled up to 2 s (default 100). */
	reconnectDelayMs?: number;
	/** Give up after this many failed reconnects in a row (default 100). */
	maxReconnects?: number;
	/** Called before each reconnect, with the sequence it resumes after. */
	onReconnect?: (since: number, error: unknown) => void;
}

export interface ProcessConfig {
	maxConcurrentProcesses: number;
	defaultRunTimeoutMs: number;
	maxRunTimeoutMs: number;
	maxOutputBytes: number;
	maxLogBytesPerProcess: number;
	maxInputBytesPerRequest: number;
}

export interface TerminalOptions {
	/** Default: the client's WebSocket. */
	WebSocket?: WebSocketConstructor;
}

/** The bytes of a log entry. */
export function logBytes(entry: ProcessLogEntry): Uint8Array {
	return fromBase64(entry.data);
}

/** The entries' bytes joined and decoded as UTF-8. */
export function logText(entries: Iterable<ProcessLogEntry>): string {
	const parts: Uint8Array[] = [];
	for (const e of entries)
		parts.push(logBytes(e));
	return new TextDecoder().decode(concatBytes(parts));
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

/** Internal: a request body sent as it is, with its Content-Type. */
class RawBody {
	constructor(readonly data: FsBody, readonly type: string) {}
}

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

	/* -- files ----------------------------------------------------- */

	/** The entries of a directory, sorted by name (no path: HOME). */
	listFsEntries(path?: string): Promise<FsEntry[]> {
		return this.json("GET", `/v1/fs/entries${query({ path })}`);
	}

	statFs(path: string): Promise<FsStat> {
		return this.json("GET", `/v1/fs/stat${query({ path })}`);
	}

	/** A file's bytes, or a range of them. */
	async readFsFile(path: string, opts: ReadFsFileOptions = {}):
	    Promise<Uint8Array> {
		const extra: Record<string, string> = {
		    Accept: "application/octet-stream" };
		const r = opts.range;
		if (r !== undefined)
			extra.Range = "suffix" in r ? `bytes=-${r.suffix}` :
			    `bytes=${r.start}-${r.end ?? ""}`;
		const res = await this.request("GET",
		    `/v1/fs/file${query({ path })}`, undefined, opts.signal, extra);
		return new Uint8Array(await res.arrayBuffer());
	}

	/**
	 * Write a file atomically (a temporary file renamed over it); a string
	 * is written as UTF-8. Missing parents are made unless `parents` is
	 * false.
	 */
	writeFsFile(path: string, data: FsBody, opts: WriteFsFileOptions = {}):
	    Promise<FsWriteResult> {
		return this.json("PUT", `/v1/fs/file${query({ path,
		    parents: opts.parents === false ? "false" : undefined })}`,
		    new RawBody(data, "application/octet-stream"), opts.signal);
	}

	/** Make a directory and its missing parents (an existing one is fine). */
	mkdirFs(path: string): Promise<{ path: string }> {
		return this.json("POST", `/v1/fs/mkdir${query({ path })}`);
	}

	/** 409 onto an existing path unless `overwrite`. */
	moveFs(from: string, to: string, opts: { overwrite?: boolean } = {}):
	    Promise<FsMoveResult> {
		const body: Record<string, unknown> = { from, to };
		if (opts.overwrite !== undefined)
			body.overwrite = opts.overwrite;
		return this.json("POST", "/v1/fs/move", body);
	}

	/** Delete a file, link or directory (a non-empty one: `recursive`). */
	deleteFsEntry(path: string, opts: { recursive?: boolean } = {}):
	    Promise<{ path: string }> {
		return this.json("DELETE", `/v1/fs/entry${query({ path,
		    recursive: opts.recursive ? "true" : undefined })}`);
	}

	/** Unpack a tar archive (ustar, pax, GNU) under `path`. */
	uploadFsBatch(path: string, tar: FsBody, opts: { signal?: AbortSignal }
	    = {}): Promise<FsUploadResult> {
		return this.json("POST", `/v1/fs/upload-batch${query({ path })}`,
		    new RawBody(tar, "application/x-tar"), opts.signal);
	}

	/* -- processes ------------------------------------------------- */

	/** Run a command to its end: exit code, stdout, stderr. */
	runProcess(req: ProcessRunRequest, opts: { signal?: AbortSignal } = {}):
	    Promise<ProcessRunResult> {
		return this.json("POST", "/v1/processes/run", req, opts.signal);
	}

	/** Start a long-running process (it outlives this client). */
	createProcess(req: ProcessCreateRequest): Promise<ProcessInfo> {
		return this.json("POST", "/v1/processes", req);
	}

	async listProcesses(): Promise<ProcessInfo[]> {
		return (await this.json<{ processes: ProcessInfo[] }>("GET",
		    "/v1/processes")).processes;
	}

	getProcess(id: string): Promise<ProcessInfo> {
		return this.json("GET", `/v1/processes/${enc(id)}`);
	}

	/** Forget an ended process and its log (409 while it runs). */
	async deleteProcess(id: string): Promise<void> {
		await this.request("DELETE", `/v1/processes/${enc(id)}`);
	}

	/** The kept log entries (at most 16 MiB an answer: read on with since). */
	getProcessLogs(id: string, opts: ProcessLogsOptions = {}):
	    Promise<ProcessLogs> {
		return this.json("GET", `/v1/processes/${enc(id)}/logs${query({
		    stream: opts.stream, since: opts.since, tail: opts.tail })}`);
	}

	/**
	 * The log entries after `since`, then live ones over SSE, until the
	 * process has exited and every entry was yielded. A dropped stream
	 * (agentd restarted) is reopened after the last sequence yielded,
	 * as events() does: no entry is lost or repeated. Throws AgentdError
	 * for a 4xx, or after maxReconnects failed attempts in a row.
	 */
	async *followProcessLogs(id: string, opts: FollowLogsOptions = {}):
	    AsyncGenerator<ProcessLogEntry, void, undefined> {
		let last = opts.since ?? 0;
		let failures = 0;
		const maxReconnects = opts.maxReconnects ?? 100;
		const baseDelay = opts.reconnectDelayMs ?? 100;
		const path = `/v1/processes/${enc(id)}/logs`;
		while (!opts.signal?.aborted) {
			const ac = new AbortController();
			const onAbort = () => ac.abort();
			opts.signal?.addEventListener("abort", onAbort);
			let error: unknown;
			try {
				const r = await this.request("GET", path + query({
				    stream: opts.stream, since: last, follow: "true" }),
				    undefined, ac.signal,
				    { Accept: "text/event-stream" });
				for await (const data of sseData(r, ac.signal)) {
					const e = JSON.parse(data) as ProcessLogEntry;
					if (e.sequence <= last)
						continue;
					last = e.sequence;
					failures = 0;
					yield e;
				}
				error = new StreamClosed("the log stream ended");
			} catch (e) {
				if (e instanceof AgentdError && e.status < 500)
					throw e;
				error = e;
			} finally {
				opts.signal?.removeEventListener("abort", onAbort);
				ac.abort();
			}
			if (opts.signal?.aborted)
				return;
			/* agentd ends the stream once the process has exited and
			 * every entry was sent; a stream cut by a restart ends the
			 * same way, so ask, and read what the cut left out. */
			if (error instanceof StreamClosed) {
				let info: ProcessInfo | undefined;
				try {
					info = await this.getProcess(id);
				} catch (e) {
					if (e instanceof AgentdError && e.status < 500)
						throw e;
					error = e;
				}
				if (info?.status === "exited") {
					for (;;) {
						const page = await this.getProcessLogs(id,
						    { stream: opts.stream, since: last });
						const more = page.entries.filter((e) =>
						    e.sequence > last);
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
			await sleep(Math.min(baseDelay * 2 ** (failures - 1), 2000),
			    opts.signal);
		}
	}

	/**
	 * Write to the process's stdin: bytes as they are, a string as UTF-8.
	 * 409 once it exited or closed its stdin.
	 */
	sendProcessInput(id: string, data: string | Uint8Array):
	    Promise<{ bytesWritten: number }> {
		const body = typeof data === "string" ?
		    { data, encoding: "utf8" } :
		    { data: toBase64(data), encoding: "base64" };
		return this.json("POST", `/v1/processes/${enc(id)}/input`, body);
	}

	/**
	 * SIGTERM to its process group, SIGKILL after agentd's grace; answers
	 * once it exited or after waitMs (default 2000).
	 */
	stopProcess(id: string, opts: { waitMs?: number } = {}):
	    Promise<ProcessInfo> {
		return this.json("POST", `/v1/processes/${enc(id)}/stop${query({
		    waitMs: opts.waitMs })}`);
	}

	/** SIGKILL to its process group; waitMs default 1000. */
	killProcess(id: string, opts: { waitMs?: number } = {}):
	    Promise<ProcessInfo> {
		return this.json("POST", `/v1/processes/${enc(id)}/kill${query({
		    waitMs: opts.waitMs })}`);
	}

	resizeProcessTerminal(id: string, size: { cols: number; rows: number }):
	    Promise<{ cols: number; rows: number }> {
		return this.json("POST",
		    `/v1/processes/${enc(id)}/terminal/resize`, size);
	}

	getProcessConfig(): Promise<ProcessConfig> {
		return this.json("GET", "/v1/processes/config");
	}

	setProcessConfig(config: Partial<ProcessConfig>):
	    Promise<ProcessConfig> {
		return this.json("POST", "/v1/processes/config", config);
	}

	/**
	 * Open the terminal of a tty process over WebSocket; resolves once
	 * agentd said ready (the recent output follows). A refused upgrade
	 * throws the AgentdError agentd gives over HTTP (404, 401, 409 for a
	 * process without a tty).
	 */
	async connectProcessTerminal(id: string, opts: TerminalOptions = {}):
	    Promise<ProcessTerminal> {
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
		} catch (e) {
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
		for await (const data of sseData(r, signal))
			yield JSON.parse(data) as UniversalEvent;
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
		if (body instanceof RawBody) {
			headers["Content-Type"] = body.type;
			/* A Uint8Array over a SharedArrayBuffer is not a BodyInit
			 * to the DOM types; fetch takes it. */
			init.body = body.data as BodyInit;
		} else if (body !== undefined) {
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

	private async json<T>(method: string, path: string, body?: unknown,
	    signal?: AbortSignal): Promise<T> {
		return (await (await this.request(method, path, body, signal))
		    .json()) as T;
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
	readonly processId: string;
	/** Resolves when agentd says ready; rejects if the socket fails first. */
	readonly ready: Promise<void>;
	/** Resolves when the socket has closed, with the exit code agentd
	 * sent (undefined when it closed without one). */
	readonly closed: Promise<number | null | undefined>;
	/** The exit code, once agentd sent it (null: a signal ended it). */
	exitCode?: number | null;
	onData?: (data: Uint8Array) => void;
	/** agentd's answer to a frame it refused ({"type":"error"}). */
	onError?: (message: string) => void;

	/** Bytes kept for output() at most. */
	static readonly KEEP = 1 << 20;

	private readonly ws: WebSocket;
	private readonly queue: Uint8Array[] = [];
	private queued = 0;
	private wake?: () => void;
	private done = false;

	constructor(ws: WebSocket, processId: string) {
		this.ws = ws;
		this.processId = processId;
		ws.binaryType = "arraybuffer";
		let ok: () => void, fail: (e: unknown) => void;
		let closed: (c: number | null | undefined) => void;
		this.ready = new Promise((a, b) => { ok = a; fail = b; });
		this.closed = new Promise((a) => { closed = a; });
		this.ready.catch(() => {});	/* a caller may never await it */
		ws.onmessage = (m: MessageEvent) => {
			if (typeof m.data === "string") {
				const o = JSON.parse(m.data) as { type?: string;
				    exitCode?: number | null; message?: string };
				if (o.type === "ready")
					ok();
				else if (o.type === "exit")
					this.exitCode = o.exitCode ?? null;
				else if (o.type === "error")
					this.onError?.(o.message ?? "");
				return;
			}
			const bytes = new Uint8Array(m.data as ArrayBuffer);
			if (this.onData !== undefined)
				this.onData(bytes);
			else {
				this.queue.push(bytes);
				this.queued += bytes.length;
				while (this.queued > ProcessTerminal.KEEP &&
				    this.queue.length > 1)
					this.queued -= this.queue.shift()!.length;
			}
			this.poke();
		};
		ws.onerror = () => {
			fail(new Error("terminal WebSocket error"));
		};
		ws.onclose = (c: CloseEvent) => {
			fail(new Error(`terminal WebSocket closed (${c.code})`));
			this.done = true;
			this.poke();
			closed(this.exitCode);
		};
	}

	/** Type: a string as UTF-8, bytes as they are. */
	input(data: string | Uint8Array): void {
		this.ws.send(JSON.stringify(typeof data === "string" ?
		    { type: "input", data } :
		    { type: "input", data: toBase64(data), encoding: "base64" }));
	}

	resize(cols: number, rows: number): void {
		this.ws.send(JSON.stringify({ type: "resize", cols, rows }));
	}

	/** Leave (the process goes on). */
	close(): void {
		if (this.ws.readyState <= 1)
			this.ws.close();
	}

	/** The output kept so far, then live, until the socket closes. */
	async *output(): AsyncGenerator<Uint8Array, void, undefined> {
		for (;;) {
			while (this.queue.length > 0) {
				const b = this.queue.shift()!;
				this.queued -= b.length;
				yield b;
			}
			if (this.done)
				return;
			await new Promise<void>((r) => { this.wake = r; });
		}
	}

	private poke(): void {
		const w = this.wake;
		this.wake = undefined;
		w?.();
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


/* ?a=1&b=2 for the members that are not undefined ("" without any). */
function query(args: Record<string, string | number | undefined>): string {
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
async function *sseData(r: Response, signal: AbortSignal):
    AsyncGenerator<string> {
	if (r.body === null)
		throw new StreamClosed("no body");
	const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
	const cancel = () => { reader.cancel().catch(() => {}); };
	signal.addEventListener("abort", cancel);
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
						yield data.join("\n");
					data = [];
				} else if (line.startsWith("data:"))
					data.push(line.slice(line[5] === " " ? 6 : 5));
			}
		}
	} finally {
		signal.removeEventListener("abort", cancel);
		reader.cancel().catch(() => {});
	}
}

function toBase64(b: Uint8Array): string {
	let s = "";
	for (let i = 0; i < b.length; i += 0x8000)
		s += String.fromCharCode(...b.subarray(i, i + 0x8000));
	return btoa(s);
}

function fromBase64(s: string): Uint8Array {
	const bin = atob(s);
	const b = new Uint8Array(bin.length);
	for (let i = 0; i < bin.length; i++)
		b[i] = bin.charCodeAt(i);
	return b;
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
	const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
	let at = 0;
	for (const p of parts) {
		out.set(p, at);
		at += p.length;
	}
	return out;
}
