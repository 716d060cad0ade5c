"""The shapes agentd answers, as TypedDicts (docs/openapi.json).

They describe plain dicts: the client returns what agentd sent, members
it does not know included, so a newer agentd never breaks an older client.
"""

from typing import (Any, Dict, List, Literal, Mapping, Optional, Sequence,
                    TypedDict, Union)

EventType = Literal[
    "session.started", "session.ended", "turn.started", "turn.ended",
    "item.started", "item.completed", "item.delta",
    "permission.requested", "permission.resolved",
    "question.requested", "question.resolved",
    "error", "agent.unparsed"]

#: installing (the agent's CLI is installed on first use), idle (no agent
#: process), ready, running (a turn), stopping, ended, and restarting
#: (agentd is starting the session's agent again).
SessionState = Literal["installing", "idle", "ready", "running", "stopping",
                       "ended", "restarting"]

#: The words of POST .../permissions/{pid}/reply.
PermissionReply = Literal["once", "always", "reject"]


class _EventRequired(TypedDict):
    event_id: str
    sequence: int
    time: str
    session_id: str
    source: str
    synthetic: bool
    type: str
    data: Dict[str, Any]


class Event(_EventRequired, total=False):
    """One universal event (DESIGN section 3); ``data`` depends on ``type``.

    ``sequence`` starts at 1 per session and has no gaps: it is the offset
    to resume after.
    """
    native_session_id: Optional[str]
    raw: Any


class EventsPage(TypedDict):
    events: List[Event]
    hasMore: bool


class Health(TypedDict):
    status: str
    version: str
    uptime_ms: int


class _AgentRequired(TypedDict):
    id: str
    protocol: str
    installed: bool
    credentialsAvailable: bool
    credentialEnv: List[str]
    capabilities: Dict[str, bool]


class AgentInfo(_AgentRequired, total=False):
    path: str
    version: str
    npmPackage: str


class _SessionRequired(TypedDict):
    sessionId: str
    agent: str
    agentMode: str
    permissionMode: str
    directory: str
    state: str
    ended: bool
    eventCount: int
    queuedMessages: int
    createdAt: int
    updatedAt: int
    envKeys: List[str]
    pendingPermissions: List[str]
    pendingQuestions: List[str]


class SessionInfo(_SessionRequired, total=False):
    """GET /v1/sessions/{id}; ``eventCount`` is the last sequence."""
    model: str
    nativeSessionId: str
    agentVersion: str
    pid: int
    healthy: bool


class _AttachmentRequired(TypedDict):
    path: str


class Attachment(_AttachmentRequired, total=False):
    """A file in the agent's sandbox, by path; ``mime`` tells images."""
    mime: str
    filename: str


#: What ``send(attachments=...)`` takes: Attachment dicts (or any mapping
#: of the members agentd accepts, as it gains more).
Attachments = Sequence[Union[Attachment, Mapping[str, Any]]]

#: One list of chosen option labels per question of a question.requested.
Answers = List[List[str]]


# -- files and processes (docs/api.md "Files", "Processes and terminals") --

#: directory for a directory (or a symlink to one), file for anything else.
FsEntryType = Literal["file", "directory"]


class _FsStatRequired(TypedDict):
    path: str
    entryType: str
    size: int


class FsStat(_FsStatRequired, total=False):
    """GET /v1/fs/stat: ``path`` absolute, ``modified`` RFC 3339 UTC;
    ``symlink`` (True) when the path was a symlink (followed)."""
    modified: str
    symlink: bool


class FsEntry(FsStat, total=False):
    """One member of GET /v1/fs/entries (``name`` is always there)."""
    name: str


class FsWriteResult(TypedDict):
    path: str
    bytesWritten: int


class FsPath(TypedDict):
    path: str


#: POST /v1/fs/move's answer ("from" is a keyword: the functional syntax).
FsMoveResult = TypedDict("FsMoveResult", {"from": str, "to": str})


class FsUploadResult(TypedDict):
    """``paths``: the first 1024 members written, absolute."""
    paths: List[str]
    truncated: bool


class _RunRequired(TypedDict):
    exitCode: Optional[int]
    timedOut: bool
    stdout: str
    stderr: str
    stdoutTruncated: bool
    stderrTruncated: bool
    durationMs: int


class ProcessRunResult(_RunRequired, total=False):
    """POST /v1/processes/run: ``exitCode`` is None when a signal (or the
    timeout) ended it; ``exitSignal`` names the signal."""
    exitSignal: int


class _ProcessRequired(TypedDict):
    id: str
    command: str
    args: List[str]
    tty: bool
    interactive: bool
    owner: str
    status: str
    createdAtMs: int


class ProcessInfo(_ProcessRequired, total=False):
    """A process agentd runs: ``status`` running or exited; ``exitCode``
    None while it runs or when a signal ended it."""
    cwd: Optional[str]
    pid: Optional[int]
    exitCode: Optional[int]
    exitSignal: int
    exitedAtMs: Optional[int]
    endReason: str


#: stdout, stderr, combined (both, the default) or pty (a terminal's).
ProcessLogStream = Literal["stdout", "stderr", "combined", "pty"]


class ProcessLogEntry(TypedDict):
    """One read of a process's output; ``data`` is base64 (log_bytes())."""
    sequence: int
    stream: str
    timestampMs: int
    data: str
    encoding: str


class ProcessLogs(TypedDict):
    processId: str
    stream: str
    entries: List[ProcessLogEntry]


class ProcessConfig(TypedDict):
    maxConcurrentProcesses: int
    defaultRunTimeoutMs: int
    maxRunTimeoutMs: int
    maxOutputBytes: int
    maxLogBytesPerProcess: int
    maxInputBytesPerRequest: int


class TerminalSize(TypedDict):
    cols: int
    rows: int
