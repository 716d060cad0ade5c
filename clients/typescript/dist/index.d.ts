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
export interface FsEntry extends FsStat {
    name: string;
}
export interface FsWriteResult {
    path: string;
    bytesWritten: number;
}
export interface FsMoveResult {
    from: string;
    to: string;
}
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
    range?: {
        start: number;
        end?: number;
    } | {
        suffix: number;
    };
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
export declare function logBytes(entry: ProcessLogEntry): Uint8Array;
/** The entries' bytes joined and decoded as UTF-8. */
export declare function logText(entries: Iterable<ProcessLogEntry>): string;
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
    /** The entries of a directory, sorted by name (no path: HOME). */
    listFsEntries(path?: string): Promise<FsEntry[]>;
    statFs(path: string): Promise<FsStat>;
    /** A file's bytes, or a range of them. */
    readFsFile(path: string, opts?: ReadFsFileOptions): Promise<Uint8Array>;
    /**
     * Write a file atomically (a temporary file renamed over it); a string
     * is written as UTF-8. Missing parents are made unless `parents` is
     * false.
     */
    writeFsFile(path: string, data: FsBody, opts?: WriteFsFileOptions): Promise<FsWriteResult>;
    /** Make a directory and its missing parents (an existing one is fine). */
    mkdirFs(path: string): Promise<{
        path: string;
    }>;
    /** 409 onto an existing path unless `overwrite`. */
    moveFs(from: string, to: string, opts?: {
        overwrite?: boolean;
    }): Promise<FsMoveResult>;
    /** Delete a file, link or directory (a non-empty one: `recursive`). */
    deleteFsEntry(path: string, opts?: {
        recursive?: boolean;
    }): Promise<{
        path: string;
    }>;
    /** Unpack a tar archive (ustar, pax, GNU) under `path`. */
    uploadFsBatch(path: string, tar: FsBody, opts?: {
        signal?: AbortSignal;
    }): Promise<FsUploadResult>;
    /** Run a command to its end: exit code, stdout, stderr. */
    runProcess(req: ProcessRunRequest, opts?: {
        signal?: AbortSignal;
    }): Promise<ProcessRunResult>;
    /** Start a long-running process (it outlives this client). */
    createProcess(req: ProcessCreateRequest): Promise<ProcessInfo>;
    listProcesses(): Promise<ProcessInfo[]>;
    getProcess(id: string): Promise<ProcessInfo>;
    /** Forget an ended process and its log (409 while it runs). */
    deleteProcess(id: string): Promise<void>;
    /** The kept log entries (at most 16 MiB an answer: read on with since). */
    getProcessLogs(id: string, opts?: ProcessLogsOptions): Promise<ProcessLogs>;
    /**
     * The log entries after `since`, then live ones over SSE, until the
     * process has exited and every entry was yielded. A dropped stream
     * (agentd restarted) is reopened after the last sequence yielded,
     * as events() does: no entry is lost or repeated. Throws AgentdError
     * for a 4xx, or after maxReconnects failed attempts in a row.
     */
    followProcessLogs(id: string, opts?: FollowLogsOptions): AsyncGenerator<ProcessLogEntry, void, undefined>;
    /**
     * Write to the process's stdin: bytes as they are, a string as UTF-8.
     * 409 once it exited or closed its stdin.
     */
    sendProcessInput(id: string, data: string | Uint8Array): Promise<{
        bytesWritten: number;
    }>;
    /**
     * SIGTERM to its process group, SIGKILL after agentd's grace; answers
     * once it exited or after waitMs (default 2000).
     */
    stopProcess(id: string, opts?: {
        waitMs?: number;
    }): Promise<ProcessInfo>;
    /** SIGKILL to its process group; waitMs default 1000. */
    killProcess(id: string, opts?: {
        waitMs?: number;
    }): Promise<ProcessInfo>;
    resizeProcessTerminal(id: string, size: {
        cols: number;
        rows: number;
    }): Promise<{
        cols: number;
        rows: number;
    }>;
    getProcessConfig(): Promise<ProcessConfig>;
    setProcessConfig(config: Partial<ProcessConfig>): Promise<ProcessConfig>;
    /**
     * Open the terminal of a tty process over WebSocket; resolves once
     * agentd said ready (the recent output follows). A refused upgrade
     * throws the AgentdError agentd gives over HTTP (404, 401, 409 for a
     * process without a tty).
     */
    connectProcessTerminal(id: string, opts?: TerminalOptions): Promise<ProcessTerminal>;
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
/**
 * The terminal of a tty process, from connectProcessTerminal(): input,
 * resize and the output as bytes. agentd sends the recent output first
 * (up to 64 KiB of scrollback), then the live output; when the process
 * exits it sends its exit code and closes. Output goes to `onData` when
 * it is set, and is otherwise kept for `output()`: the last
 * `ProcessTerminal.KEEP` bytes, as a terminal keeps its last lines (older
 * chunks are dropped when nobody reads).
 */
export declare class ProcessTerminal {
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
    static readonly KEEP: number;
    private readonly ws;
    private readonly queue;
    private queued;
    private wake?;
    private done;
    constructor(ws: WebSocket, processId: string);
    /** Type: a string as UTF-8, bytes as they are. */
    input(data: string | Uint8Array): void;
    resize(cols: number, rows: number): void;
    /** Leave (the process goes on). */
    close(): void;
    /** The output kept so far, then live, until the socket closes. */
    output(): AsyncGenerator<Uint8Array, void, undefined>;
    private poke;
}
export {};
