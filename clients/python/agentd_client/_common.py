"""What the synchronous and the asyncio clients share: URLs, request
bodies, the Server-Sent Events parser, reconnect delays, and picking one
turn's events out of a session's stream."""

import base64
import json
import urllib.parse
from dataclasses import dataclass, field
from typing import (Any, Callable, Dict, Iterable, List, Mapping, NamedTuple,
                    Optional, Tuple, Union)

from ._errors import AgentdError
from ._types import Answers, Attachments, Event, ProcessLogEntry

__version__ = "0.1.0"
USER_AGENT = "agentd-client-python/" + __version__

#: Retries of a dropped stream in a row before events() gives up.
MAX_RECONNECTS = 100
#: The first wait before a reconnect, doubled each failure up to MAX_DELAY.
RECONNECT_DELAY = 0.1
MAX_DELAY = 2.0
#: agentd sends a comment every 15 s on an idle SSE stream: a stream silent
#: for this long is dead (a half-open connection) and is reopened.
STREAM_TIMEOUT = 45.0

PERMISSION_WORDS = ("once", "always", "reject")


class Endpoint:
    """The base URL: scheme, host, port and a path prefix (a proxy's)."""

    def __init__(self, url: str) -> None:
        u = urllib.parse.urlsplit(url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError("agentd URL must be http(s)://host[:port][/prefix]"
                             ", not %r" % url)
        self.url = url.rstrip("/")
        self.tls = u.scheme == "https"
        self.host: str = u.hostname
        self.port: int = u.port or (443 if self.tls else 80)
        self.prefix = u.path.rstrip("/")
        host = "[%s]" % self.host if ":" in self.host else self.host
        default = 443 if self.tls else 80
        self.host_header = host if self.port == default else "%s:%d" % (
            host, self.port)


def enc(s: str) -> str:
    """One path segment (a session or permission id), percent-encoded."""
    return urllib.parse.quote(s, safe="")


def query(**kw: Any) -> str:
    """?a=1&b=true for the members that are not None."""
    q = []
    for k, v in kw.items():
        if v is None or v is False:
            continue
        q.append((k, "true" if v is True else str(v)))
    return "?" + urllib.parse.urlencode(q) if q else ""


def headers(token: Optional[str], extra: Mapping[str, str],
            body: Optional[bytes], accept: str,
            content_type: str = "application/json") -> Dict[str, str]:
    h = {"User-Agent": USER_AGENT, "Accept": accept}
    h.update(extra)
    if token is not None:
        h["Authorization"] = "Bearer " + token
    if body is not None:
        h["Content-Type"] = content_type
    return h


class Raw:
    """A request body sent as it is (a file, a tar archive), with its
    Content-Type, instead of JSON."""

    def __init__(self, data: Union[bytes, bytearray, memoryview, str],
                 content_type: str) -> None:
        if isinstance(data, str):
            data = data.encode("utf-8")
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("a file's data must be bytes or str, not %s"
                            % type(data).__name__)
        self.data = bytes(data)
        self.content_type = content_type


def encode_body(body: Any) -> Tuple[Optional[bytes], str]:
    """The bytes and Content-Type of a request body (None: no body)."""
    if body is None:
        return None, "application/json"
    if isinstance(body, Raw):
        return body.data, body.content_type
    return dumps(body), "application/json"


def byte_range(offset: Optional[int], length: Optional[int],
               last: Optional[int]) -> Dict[str, str]:
    """The Range header of read_fs_file(): ``offset`` and ``length``, or
    the ``last`` n bytes; {} for the whole file."""
    if last is not None:
        if offset is not None or length is not None:
            raise ValueError("give last, or offset and length, not both")
        if last < 1:
            raise ValueError("last must be at least 1")
        return {"Range": "bytes=-%d" % last}
    if offset is None and length is None:
        return {}
    start = offset or 0
    if start < 0 or (length is not None and length < 1):
        raise ValueError("offset must be >= 0 and length >= 1")
    end = "" if length is None else str(start + length - 1)
    return {"Range": "bytes=%d-%s" % (start, end)}


def input_body(data: Union[bytes, bytearray, memoryview, str]
               ) -> Dict[str, str]:
    """POST /v1/processes/{id}/input: a str as UTF-8, bytes as base64."""
    if isinstance(data, str):
        return {"data": data, "encoding": "utf8"}
    return {"data": base64.b64encode(bytes(data)).decode("ascii"),
            "encoding": "base64"}


def process_body(command: str, args: Optional[List[str]],
                 cwd: Optional[str], env: Optional[Mapping[str, str]],
                 **more: Any) -> Dict[str, Any]:
    """The body of POST /v1/processes and /v1/processes/run; ``more``:
    camelCase members, left out when None or False."""
    b: Dict[str, Any] = {"command": command}
    if args is not None:
        b["args"] = list(args)
    if cwd is not None:
        b["cwd"] = cwd
    if env is not None:
        b["env"] = dict(env)
    for k, v in more.items():
        if v is not None and v is not False:
            b[k] = v
    return b


def run_timeout(timeout_ms: Optional[int], default: float) -> float:
    """The HTTP timeout of run_process(): the answer comes when the
    process ends, at most its timeoutMs later (agentd's default 30 s,
    its cap 5 min unless the config raised it)."""
    if timeout_ms is None:
        return max(default, 330.0)
    return max(default, timeout_ms / 1000.0 + 30.0)


def log_bytes(entry: ProcessLogEntry) -> bytes:
    """The bytes of one process log entry."""
    return base64.b64decode(entry["data"])


def log_text(entries: Iterable[ProcessLogEntry]) -> str:
    """The entries' bytes joined and decoded as UTF-8 (invalid bytes as
    U+FFFD)."""
    return b"".join(log_bytes(e) for e in entries).decode("utf-8",
                                                          "replace")


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def create_body(agent: str, agent_command: Optional[List[str]],
                model: Optional[str], permission_mode: Optional[str],
                cwd: Optional[str], env: Optional[Mapping[str, str]],
                mcp: Optional[List[Any]], install: bool,
                extra: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    b: Dict[str, Any] = {"agent": agent}
    if agent_command is not None:
        b["agentCommand"] = list(agent_command)
    if model is not None:
        b["model"] = model
    if permission_mode is not None:
        b["permissionMode"] = permission_mode
    if cwd is not None:
        b["cwd"] = cwd
    if env is not None:
        b["env"] = dict(env)
    if mcp is not None:
        b["mcp"] = list(mcp)
    if install:
        b["install"] = True
    if extra:
        b.update(extra)
    return b


def message_body(message: str, attachments: Optional[Attachments],
                 interrupt: bool) -> Dict[str, Any]:
    """{"message", "attachments"?, "interrupt"?}: interrupt is sent only
    when true, so that an agentd without the feature sees what it knows."""
    if not isinstance(message, str):
        raise TypeError("message must be a str")
    b: Dict[str, Any] = {"message": message}
    if attachments is not None:
        b["attachments"] = [dict(a) for a in attachments]
    if interrupt:
        b["interrupt"] = True
    return b


def page_limit(limit: Optional[int], have: int) -> Optional[int]:
    """The limit of the next page of events_since(): agentd takes 10000."""
    return None if limit is None else min(limit - have, 10000)


def reconnect_delay(base: float, failures: int) -> float:
    return float(min(base * 2 ** (failures - 1), MAX_DELAY))


class StreamEnded(ConnectionError):
    """The server closed an event stream (agentd stopped, a proxy timed out)."""


class SSEParser:
    """text/event-stream, incrementally: bytes in, parsed events out.

    Only ``data:`` lines matter: each event carries its own sequence, so
    ``id:`` is redundant, and ``:`` comments are keep-alives. A frame cut
    by a dropped connection is never completed, so it is never returned.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._data: List[bytes] = []

    def feed(self, chunk: bytes) -> List[Event]:
        self._buf += chunk
        out: List[Event] = []
        start = 0
        while True:
            nl = self._buf.find(b"\n", start)
            if nl < 0:
                break
            line = bytes(self._buf[start:nl])
            start = nl + 1
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line:
                if self._data:
                    out.append(json.loads(b"\n".join(self._data)))
                    self._data = []
            elif line.startswith(b"data:"):
                v = line[5:]
                self._data.append(v[1:] if v.startswith(b" ") else v)
        del self._buf[:start]
        return out


class Batch(NamedTuple):
    """What events_since() found: the events after the cursor it was given,
    the new cursor (the last sequence, or the old cursor if none), and
    whether more are waiting (only when a ``limit`` cut the batch)."""
    events: List[Event]
    cursor: int
    has_more: bool


def _item_text(item: Mapping[str, Any]) -> str:
    return "".join(p.get("text", "") for p in item.get("content") or []
                   if isinstance(p, dict) and p.get("type") == "text")


def _is_message(item: Any, role: str) -> bool:
    return (isinstance(item, dict) and item.get("kind") == "message"
            and item.get("role") == role)


class TurnFilter:
    """Picks the events of the turn a message starts out of the session's
    stream (read from the log's end as it was before the message was
    posted).

    agentd opens every turn itself with turn.started and the user's message
    as a ``message`` item with role ``user``: the first turn whose user
    message is this message's text is this message's turn. Turns before it
    (messages queued earlier) are skipped. session.ended ends the filter
    wherever it comes.
    """

    def __init__(self, message: str) -> None:
        self.message = message
        self.phase = "wait"  # wait, candidate, ours, other, done
        self.turn_id: Optional[str] = None
        self._held: List[Event] = []

    @property
    def done(self) -> bool:
        return self.phase == "done"

    @property
    def ours(self) -> bool:
        return self.phase == "ours"

    def feed(self, ev: Event) -> List[Event]:
        t = ev["type"]
        data = ev.get("data") or {}
        item: Any = data.get("item")
        if t == "session.ended":
            out = self._held + [ev] if self.phase == "candidate" else [ev]
            self.phase = "done"
            return out
        if self.phase in ("wait", "other"):
            if t == "turn.started":
                self.phase = "candidate"
                self.turn_id = data.get("turn_id")
                self._held = [ev]
            elif t == "turn.ended":
                self.phase = "wait"
            return []
        if self.phase == "candidate":
            self._held.append(ev)
            if t in ("item.started", "item.completed") and _is_message(
                    item, "user"):
                if _item_text(item) == self.message:
                    self.phase = "ours"
                    out, self._held = self._held, []
                    return out
                self.phase = "other"
                self._held = []
            elif t == "turn.ended":
                self.phase = "wait"
                self._held = []
            return []
        if self.phase == "ours":
            if t == "turn.ended" and data.get("turn_id") == self.turn_id:
                self.phase = "done"
            return [ev]
        return []


#: on_permission(event) answers "once", "always" or "reject" (True is
#: "once", False or None "reject"); on_question(event) answers one list of
#: chosen labels per question, or None to decline.
PermissionAnswer = Union[str, bool, None]
PermissionCallback = Callable[[Event], Any]
QuestionCallback = Callable[[Event], Any]


def permission_word(answer: PermissionAnswer) -> str:
    if answer is True:
        return "once"
    if answer is False or answer is None:
        return "reject"
    if answer in PERMISSION_WORDS:
        return str(answer)
    raise ValueError("on_permission must answer %s, True, False or None, "
                     "not %r" % (", ".join(PERMISSION_WORDS), answer))


def question_answers(answer: Any) -> Optional[Answers]:
    if answer is None:
        return None
    if (not isinstance(answer, (list, tuple)) or
            not all(isinstance(a, (list, tuple)) and
                    all(isinstance(s, str) for s in a) for a in answer)):
        raise ValueError("on_question must answer a list of lists of labels "
                         "(one per question) or None, not %r" % (answer,))
    return [list(a) for a in answer]


def already_answered(e: AgentdError) -> bool:
    """404 on a reply: someone else (the inspector, another client) answered
    first, or the turn ended; either way there is nothing left to do."""
    return e.status == 404


@dataclass
class TurnResult:
    """What run() saw of one turn.

    ``stop_reason``: end_turn, cancelled, error, interrupted (agentd
    restarted), ...; None when the session ended before the turn did
    (``session_ended`` then holds the session.ended data). ``text`` is the
    assistant's message text. ``errors`` holds the data of its ``error``
    events.
    """
    session_id: str
    events: List[Event] = field(default_factory=list)
    turn_id: Optional[str] = None
    stop_reason: Optional[str] = None
    text: str = ""
    usage: Optional[Dict[str, Any]] = None
    cost_usd: Optional[float] = None
    errors: List[Dict[str, Any]] = field(default_factory=list)
    session_ended: Optional[Dict[str, Any]] = None

    @property
    def ok(self) -> bool:
        return self.stop_reason == "end_turn"

    @classmethod
    def from_events(cls, session_id: str,
                    events: List[Event]) -> "TurnResult":
        r = cls(session_id, list(events))
        order: List[str] = []
        texts: Dict[str, str] = {}
        for ev in events:
            t, data = ev["type"], ev.get("data") or {}
            item: Any = data.get("item")
            if t == "turn.started":
                r.turn_id = data.get("turn_id")
            elif t == "turn.ended":
                r.stop_reason = data.get("stop_reason")
                r.usage = data.get("usage")
                r.cost_usd = data.get("cost_usd")
            elif t == "error":
                r.errors.append(data)
            elif t == "session.ended":
                r.session_ended = data
            elif t == "item.started" and _is_message(item, "assistant"):
                order.append(item["item_id"])
                texts[item["item_id"]] = _item_text(item)
            elif t == "item.delta" and data.get("item_id") in texts:
                texts[data["item_id"]] += data.get("delta", "")
            elif t == "item.completed" and _is_message(item, "assistant"):
                # The completed item repeats the text up to 4 MiB; past
                # that only the deltas have all of it.
                full = _item_text(item)
                if item["item_id"] not in texts:
                    order.append(item["item_id"])
                if len(full) >= len(texts.get(item["item_id"], "")):
                    texts[item["item_id"]] = full
        r.text = "\n\n".join(texts[i] for i in order if texts[i])
        return r


def split_url(ep: Endpoint, path: str) -> Tuple[str, str]:
    """The request target for a route path, and the path errors show."""
    return ep.prefix + path, path
