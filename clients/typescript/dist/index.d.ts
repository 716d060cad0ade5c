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
export type EventType = "session.started" | "session.ended" | "turn.started" | "turn.ended" | "item.started" | "item.completed" | "item.delta" | "permission.requested" | "permission.resolved" | "question.requested" | "question.resolved" | "error" | "agent.unparsed";
export type ItemKind = "message" | "tool_call" | "tool_result" | "reasoning" | "system" | "status";
export type ItemRole = "user" | "assistant" | "system" | "tool";
export type ItemStatus = "in_progress" | "completed" | "failed";
export type ContentPart = {
    type: "text";
    text: string;
} | {
    type: "reasoning";
    text: string;
    visibility: "public" | "private";
} | {
    type: "tool_call";
    name: string;
    arguments: string;
    call_id: string;
} | {
    type: "tool_result";
    call_id: string;
    output: string;
    is_error: boolean;
} | {
    type: "file_ref";
    path: string;
    action: "read" | "write" | "patch";
    diff?: string | null;
} | {
    type: "image";
    path?: string | null;
    data?: string | null;
    mime: string;
} | {
    type: "json";
    json: unknown;
} | {
    type: "status";
    label: string;
    detail?: string | null;
};
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
    options: {
        label: string;
        description?: string | null;
    }[];
}
/** The data member of each event type. */
export interface EventDataMap {
    "session.started": {
        metadata: {
            agent: string;
            agentVersion?: string | null;
            model?: string | null;
            permissionMode?: string | null;
            cwd?: string | null;
        };
    };
    "session.ended": {
        reason: "completed" | "error" | "terminated";
        terminated_by: "agent" | "daemon";
        message?: string | null;
        exit_code?: number | null;
        stderr?: {
            head: string;
            tail: string;
            truncated: boolean;
        } | null;
    };
    "turn.started": TurnData;
    "turn.ended": TurnData;
    "item.started": {
        item: Item;
    };
    "item.completed": {
        item: Item;
    };
    "item.delta": {
        item_id: string;
        native_item_id?: string | null;
        delta: string;
    };
    "permission.requested": {
        permission_id: string;
        action: string;
        status: "requested";
        metadata: {
            tool_name: string;
            input: unknown;
            call_id?: string | null;
            [k: string]: unknown;
        };
    };
    "permission.resolved": {
        permission_id: string;
        action: string;
        status: "accept" | "accept_for_session" | "reject" | "cancelled";
        metadata?: Record<string, unknown> | null;
    };
    "question.requested": {
        question_id: string;
        questions: Question[];
    };
    "question.resolved": {
        question_id: string;
        status: "answered" | "rejected" | "cancelled";
        answers?: unknown;
    };
    "error": {
        message: string;
        code?: string | number | null;
        details?: unknown;
    };
    "agent.unparsed": {
        error: string;
        location: string;
    };
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
export type UniversalEvent = {
    [T in EventType]: EventEnvelope<T>;
}[EventType];
/** installing: the agent's CLI is being installed on first use; restarting:
 * agentd is starting the session's agent again. */
export type SessionState = "installing" | "idle" | "ready" | "running" | "restarting" | "stopping" | "ended";
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
export interface Health {
    status: "ok";
    version: string;
    uptime_ms: number;
}
export interface EventsPage {
    events: UniversalEvent[];
    hasMore: boolean;
}
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
export declare class AgentdError extends Error {
    readonly status: number;
    readonly problem?: Problem;
    readonly type: string;
    readonly title: string;
    readonly detail: string;
    constructor(status: number, problem: Problem | undefined, message: string, text?: string);
    /** The `<code>` of `urn:agentd:error:<code>` (session_not_found, ...). */
    get code(): string;
}
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
export type PermissionEvent = Extract<UniversalEvent, {
    type: "permission.requested";
}>;
export type QuestionEvent = Extract<UniversalEvent, {
    type: "question.requested";
}>;
export interface StreamOptions extends SendOptions, Omit<EventsOptions, "offset" | "stopAtSessionEnd"> {
    /**
     * Answer a permission.requested: "once", "always", "reject", true
     * ("once"), or false/undefined ("reject"). Without it the request
     * stays pending for someone else (the inspector) to answer.
     */
    onPermission?: (ev: PermissionEvent) => PermissionAnswer | Promise<PermissionAnswer>;
    /**
     * Answer a question.requested: one array of chosen labels per
     * question, or undefined/null to decline. Without it the question
     * stays pending.
     */
    onQuestion?: (ev: QuestionEvent) => QuestionAnswer | Promise<QuestionAnswer>;
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
export declare class AgentdClient {
    readonly baseUrl: string;
    private readonly token?;
    private readonly headers;
    private readonly fetchFn;
    private readonly WebSocketCtor?;
    /**
     * A client for `baseUrl`, checked with GET /v1/health and one
     * authenticated call (so a wrong token fails here, with a 401).
     */
    static connect(baseUrl: string, token?: string, opts?: Omit<ClientOptions, "baseUrl" | "token">): Promise<AgentdClient>;
    constructor(opts: ClientOptions);
    health(): Promise<Health>;
    listAgents(): Promise<AgentInfo[]>;
    getAgent(agent: string): Promise<AgentInfo>;
    installAgent(agent: string): Promise<AgentInfo>;
    listSessions(): Promise<SessionInfo[]>;
    /** Create session `id` and start its agent (409 if it exists). */
    createSession(id: string, req: CreateSessionRequest): Promise<SessionInfo & {
        healthy: true;
    }>;
    /**
     * Create a session (id: random unless given) and return its handle,
     * whose `info` is agentd's answer.
     */
    startSession(req: CreateSessionRequest & {
        id?: string;
    }): Promise<Session>;
    /** The handle of an existing session (no request is made). */
    session(id: string): Session;
    getSession(id: string): Promise<SessionInfo>;
    /** Terminate the agent, forget the session and delete its files. */
    deleteSession(id: string): Promise<void>;
    /**
     * Send a message; it is queued while a turn runs. See SendOptions for
     * attachments and interrupt.
     */
    postMessage(id: string, message: string, opts?: SendOptions): Promise<void>;
    /** postMessage's other name, as in the Python client. */
    send(id: string, message: string, opts?: SendOptions): Promise<void>;
    /** One page of the log: events after `offset`. */
    getEvents(id: string, opts?: EventsPageOptions): Promise<EventsPage>;
    /**
     * The events after `cursor`, and the cursor to keep for next time: for
     * callers that keep only a number between invocations (a serverless
     * function). Without `limit` it reads every page there is.
     */
    eventsSince(id: string, cursor?: number, opts?: EventsSinceOptions): Promise<EventBatch>;
    replyPermission(id: string, permissionId: string, reply: PermissionReply): Promise<void>;
    /** answers: one array of chosen option labels per question. */
    replyQuestion(id: string, questionId: string, answers: string[][]): Promise<void>;
    rejectQuestion(id: string, questionId: string): Promise<void>;
    /** Interrupt the running turn; the session stays. */
    cancel(id: string): Promise<void>;
    /** Stop the agent; the stream then says session.ended. */
    terminate(id: string): Promise<void>;
    /**
     * The session's events after `offset`, then live ones, as an async
     * iterator. A dropped connection (agentd restarted, a proxy timed
     * out) is reopened after the last sequence yielded, so the sequence
     * numbers come without gaps or repeats. Ends after session.ended
     * (unless stopAtSessionEnd is false), when `signal` aborts, or when
     * the loop breaks; throws AgentdError for an error answer (401, 404)
     * or after maxReconnects failed attempts in a row.
     */
    events(id: string, opts?: EventsOptions): AsyncGenerator<UniversalEvent, void, undefined>;
    /**
     * Send a message and yield the events of its turn, up to and with its
     * turn.ended (or session.ended), answering what the agent asks with
     * onPermission and onQuestion. Turns queued before this message are
     * skipped: its turn is the first whose user message is its text.
     * Reconnects as events() does.
     */
    stream(id: string, message: string, opts?: StreamOptions): AsyncGenerator<UniversalEvent, void, undefined>;
    /**
     * Send a message, wait for its turn to end and return what it did; the
     * options are stream()'s, plus onEvent.
     */
    run(id: string, message: string, opts?: RunOptions): Promise<TurnResult>;
    private answer;
    private streamQuery;
    private sseStream;
    private wsStream;
    private explainRefusal;
    private request;
    private json;
}
/** One session of an AgentdClient: its methods without the id. */
export declare class Session {
    readonly client: AgentdClient;
    readonly id: string;
    /** The SessionInfo agentd last answered (create or refresh()). */
    info?: SessionInfo;
    constructor(client: AgentdClient, id: string, info?: SessionInfo);
    refresh(): Promise<SessionInfo>;
    send(message: string, opts?: SendOptions): Promise<void>;
    events(opts?: EventsOptions): AsyncGenerator<UniversalEvent, void, undefined>;
    getEvents(opts?: EventsPageOptions): Promise<EventsPage>;
    eventsSince(cursor?: number, opts?: EventsSinceOptions): Promise<EventBatch>;
    stream(message: string, opts?: StreamOptions): AsyncGenerator<UniversalEvent, void, undefined>;
    run(message: string, opts?: RunOptions): Promise<TurnResult>;
    replyPermission(permissionId: string, reply: PermissionReply): Promise<void>;
    replyQuestion(questionId: string, answers: string[][]): Promise<void>;
    rejectQuestion(questionId: string): Promise<void>;
    cancel(): Promise<void>;
    terminate(): Promise<void>;
    delete(): Promise<void>;
}
export {};
