"""Client and Session: the synchronous API, on http.client."""

import http.client
import json
import ssl
import time
import uuid
from typing import (Any, Callable, Dict, Generator, List, Mapping,
                    Optional, Tuple, Union, cast)

from . import _common as c
from . import _ws
from ._common import Batch, Endpoint, TurnResult, enc
from ._errors import AgentdError
from ._terminal import Terminal
from ._types import (AgentInfo, Answers, Attachments, Event, EventsPage,
                     FsEntry, FsMoveResult, FsPath, FsStat, FsUploadResult,
                     FsWriteResult, Health, ProcessConfig, ProcessInfo,
                     ProcessLogEntry, ProcessLogs, ProcessRunResult,
                     SessionInfo, TerminalSize)

#: Raised by a stream that dropped: reopened after a delay, never surfaced
#: unless max_reconnects are spent in a row.
_TRANSIENT = (OSError, http.client.HTTPException, c.StreamEnded)


class Client:
    """A connection to one agentd: ``Client("http://127.0.0.1:2468", "T")``.

    Every call is one HTTP request (no connection is kept between calls),
    so a Client may be shared between threads. Methods that take a
    ``session_id`` have twins without it on :class:`Session`, the handle
    :meth:`create_session` and :meth:`session` return.

    Errors: an answer with a 4xx or 5xx status raises :class:`AgentdError`;
    a failure to reach agentd raises the ``OSError`` it is
    (``ConnectionRefusedError``, ``TimeoutError``, ...).
    """

    def __init__(self, url: str, token: Optional[str] = None, *,
                 headers: Optional[Mapping[str, str]] = None,
                 timeout: float = 30.0,
                 ssl_context: Optional[ssl.SSLContext] = None) -> None:
        self.endpoint = Endpoint(url)
        self.url = self.endpoint.url
        self.token = token
        self.timeout = timeout
        self._headers = dict(headers or {})
        self._ssl = ssl_context

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Nothing to release (no connection is kept); for ``with``."""

    def __repr__(self) -> str:
        return "Client(%r)" % self.url

    # -- plain routes ----------------------------------------------------

    def health(self) -> Health:
        return cast(Health, self._json("GET", "/v1/health"))

    def list_agents(self) -> List[AgentInfo]:
        return cast(List[AgentInfo], self._json("GET", "/v1/agents")["agents"])

    def get_agent(self, agent: str) -> AgentInfo:
        return cast(AgentInfo, self._json("GET", "/v1/agents/" + enc(agent)))

    def install_agent(self, agent: str, *, timeout: float = 600.0
                      ) -> AgentInfo:
        """Install the agent's pinned npm package (answers when npm is done)."""
        return cast(AgentInfo, self._json(
            "POST", "/v1/agents/%s/install" % enc(agent), timeout=timeout))

    def list_sessions(self) -> List[SessionInfo]:
        return cast(List[SessionInfo],
                    self._json("GET", "/v1/sessions")["sessions"])

    def create_session(self, agent: str, session_id: Optional[str] = None, *,
                       agent_command: Optional[List[str]] = None,
                       model: Optional[str] = None,
                       permission_mode: Optional[str] = None,
                       cwd: Optional[str] = None,
                       env: Optional[Mapping[str, str]] = None,
                       mcp: Optional[List[Any]] = None,
                       install: bool = False,
                       extra: Optional[Mapping[str, Any]] = None,
                       timeout: Optional[float] = None) -> "Session":
        """Create a session and start its agent; returns its handle, whose
        ``info`` is agentd's answer. ``session_id`` defaults to a random
        one. ``install=True`` installs a missing agent first (the answer
        then waits for npm: the timeout becomes 600 s). ``extra``: more
        members for the request body, as agentd gains them."""
        sid = session_id if session_id is not None else new_session_id()
        body = c.create_body(agent, agent_command, model, permission_mode,
                             cwd, env, mcp, install, extra)
        if timeout is None and install:
            timeout = 600.0
        info = self._json("POST", "/v1/sessions/" + enc(sid), body,
                          timeout=timeout)
        return Session(self, sid, cast(SessionInfo, info))

    def session(self, session_id: str) -> "Session":
        """The handle of an existing session (no request is made)."""
        return Session(self, session_id)

    def get_session(self, session_id: str) -> SessionInfo:
        return cast(SessionInfo,
                    self._json("GET", "/v1/sessions/" + enc(session_id)))

    def delete_session(self, session_id: str) -> None:
        """Terminate the agent, forget the session and delete its files."""
        self._call("DELETE", "/v1/sessions/" + enc(session_id))

    def send(self, session_id: str, message: str, *,
             attachments: Optional[Attachments] = None,
             interrupt: bool = False) -> None:
        """Post a message; it is queued while a turn runs.

        ``attachments``: files in the sandbox, ``[{"path": ..., "mime":
        ...}]``. ``interrupt=True`` asks agentd to cancel the running turn
        and run this message next (sent as ``"interrupt": true``; whatever
        agentd answers is what you get: an agentd that does not know the
        member queues the message as usual).
        """
        self._call("POST", "/v1/sessions/%s/messages" % enc(session_id),
                   c.message_body(message, attachments, interrupt))

    def get_events(self, session_id: str, offset: int = 0,
                   limit: Optional[int] = None,
                   include_raw: bool = False) -> EventsPage:
        """One page of the log: the events after sequence ``offset``."""
        return cast(EventsPage, self._json(
            "GET", "/v1/sessions/%s/events%s" % (enc(session_id), c.query(
                offset=offset, limit=limit, include_raw=include_raw))))

    def events_since(self, session_id: str, cursor: int = 0, *,
                     limit: Optional[int] = None,
                     include_raw: bool = False) -> Batch:
        """The events after ``cursor`` and the cursor to keep for next time.

        For callers that keep only a number between calls (a serverless
        function, a cron job): ``batch = c.events_since(sid, cursor)``,
        handle ``batch.events``, store ``batch.cursor``. Without ``limit``
        it reads every page there is; with one it reads at most ``limit``
        events and ``batch.has_more`` says whether more wait.
        """
        out: List[Event] = []
        while True:
            page = self.get_events(session_id, cursor,
                                   c.page_limit(limit, len(out)),
                                   include_raw)
            out.extend(page["events"])
            if page["events"]:
                cursor = page["events"][-1]["sequence"]
            if not page["hasMore"] or not page["events"]:
                return Batch(out, cursor, False)
            if limit is not None and len(out) >= limit:
                return Batch(out, cursor, True)

    def reply_permission(self, session_id: str, permission_id: str,
                         reply: str) -> None:
        """reply: "once", "always" or "reject"."""
        self._call("POST", "/v1/sessions/%s/permissions/%s/reply" % (
            enc(session_id), enc(permission_id)), {"reply": reply})

    def reply_question(self, session_id: str, question_id: str,
                       answers: Answers) -> None:
        """answers: one list of chosen option labels per question."""
        self._call("POST", "/v1/sessions/%s/questions/%s/reply" % (
            enc(session_id), enc(question_id)), {"answers": answers})

    def reject_question(self, session_id: str, question_id: str) -> None:
        self._call("POST", "/v1/sessions/%s/questions/%s/reject" % (
            enc(session_id), enc(question_id)))

    def cancel(self, session_id: str) -> None:
        """Interrupt the running turn (409 if none runs); the session stays."""
        self._call("POST", "/v1/sessions/%s/cancel" % enc(session_id))

    def terminate(self, session_id: str) -> None:
        """Stop the agent; the stream then says session.ended."""
        self._call("POST", "/v1/sessions/%s/terminate" % enc(session_id))

    # -- files -------------------------------------------------------------

    def list_fs_entries(self, path: Optional[str] = None) -> List[FsEntry]:
        """The entries of a directory, sorted by name (no path: HOME)."""
        return cast(List[FsEntry], self._json(
            "GET", "/v1/fs/entries" + c.query(path=path)))

    def stat_fs(self, path: str) -> FsStat:
        return cast(FsStat, self._json("GET", "/v1/fs/stat" + c.query(
            path=path)))

    def read_fs_file(self, path: str, *, offset: Optional[int] = None,
                     length: Optional[int] = None,
                     last: Optional[int] = None,
                     timeout: Optional[float] = None) -> bytes:
        """A file's bytes; ``offset`` and ``length``, or the ``last`` n
        bytes, read a range (starting past the end: 416)."""
        return self._call("GET", "/v1/fs/file" + c.query(path=path),
                          timeout=timeout,
                          accept="application/octet-stream",
                          extra=c.byte_range(offset, length, last))

    def write_fs_file(self, path: str, data: Union[bytes, str], *,
                      parents: bool = True,
                      timeout: Optional[float] = None) -> FsWriteResult:
        """Write a file atomically (a temporary file renamed over it); a
        str is written as UTF-8. Missing parents are made unless
        ``parents=False`` (then 404)."""
        return cast(FsWriteResult, self._json(
            "PUT", "/v1/fs/file" + c.query(
                path=path, parents=None if parents else "false"),
            c.Raw(data, "application/octet-stream"), timeout=timeout))

    def mkdir_fs(self, path: str) -> FsPath:
        """Make a directory and its missing parents (an existing one is
        fine)."""
        return cast(FsPath, self._json("POST", "/v1/fs/mkdir" + c.query(
            path=path)))

    def move_fs(self, source: str, destination: str, *,
                overwrite: bool = False) -> FsMoveResult:
        """Move (rename); onto an existing path 409 unless ``overwrite``."""
        body: Dict[str, Any] = {"from": source, "to": destination}
        if overwrite:
            body["overwrite"] = True
        return cast(FsMoveResult, self._json("POST", "/v1/fs/move", body))

    def delete_fs_entry(self, path: str, *,
                        recursive: bool = False) -> FsPath:
        """Delete a file, a link, or a directory (one that is not empty
        needs ``recursive=True``: 409)."""
        return cast(FsPath, self._json("DELETE", "/v1/fs/entry" + c.query(
            path=path, recursive=recursive)))

    def upload_fs_batch(self, path: str, tar: bytes, *,
                        timeout: Optional[float] = None) -> FsUploadResult:
        """Unpack a tar archive (ustar, pax, GNU) under ``path``."""
        return cast(FsUploadResult, self._json(
            "POST", "/v1/fs/upload-batch" + c.query(path=path),
            c.Raw(tar, "application/x-tar"), timeout=timeout))

    # -- processes ---------------------------------------------------------

    def run_process(self, command: str, args: Optional[List[str]] = None, *,
                    cwd: Optional[str] = None,
                    env: Optional[Mapping[str, str]] = None,
                    timeout_ms: Optional[int] = None,
                    max_output_bytes: Optional[int] = None
                    ) -> ProcessRunResult:
        """Run a command to its end: ``exitCode``, ``stdout``, ``stderr``
        (each kept up to ``max_output_bytes``, ``…Truncated`` says so).
        At ``timeout_ms`` agentd kills it (``timedOut``)."""
        body = c.process_body(command, args, cwd, env, timeoutMs=timeout_ms,
                              maxOutputBytes=max_output_bytes)
        return cast(ProcessRunResult, self._json(
            "POST", "/v1/processes/run", body,
            timeout=c.run_timeout(timeout_ms, self.timeout)))

    def create_process(self, command: str, args: Optional[List[str]] = None,
                       *, cwd: Optional[str] = None,
                       env: Optional[Mapping[str, str]] = None,
                       tty: bool = False,
                       interactive: bool = False) -> ProcessInfo:
        """Start a long-running process (it outlives this client);
        ``tty=True`` runs it on a pseudo-terminal."""
        body = c.process_body(command, args, cwd, env, tty=tty,
                              interactive=interactive)
        return cast(ProcessInfo, self._json("POST", "/v1/processes", body))

    def list_processes(self) -> List[ProcessInfo]:
        return cast(List[ProcessInfo],
                    self._json("GET", "/v1/processes")["processes"])

    def get_process(self, process_id: str) -> ProcessInfo:
        return cast(ProcessInfo, self._json(
            "GET", "/v1/processes/" + enc(process_id)))

    def delete_process(self, process_id: str) -> None:
        """Forget an ended process and its log (409 while it runs)."""
        self._call("DELETE", "/v1/processes/" + enc(process_id))

    def get_process_logs(self, process_id: str, *,
                         stream: Optional[str] = None,
                         since: Optional[int] = None,
                         tail: Optional[int] = None) -> ProcessLogs:
        """The kept log entries (at most 16 MiB an answer: read on with
        ``since``); ``stream``: stdout, stderr, combined or pty."""
        return cast(ProcessLogs, self._json(
            "GET", "/v1/processes/%s/logs%s" % (enc(process_id), c.query(
                stream=stream, since=since, tail=tail))))

    def follow_process_logs(self, process_id: str, since: int = 0, *,
                            stream: Optional[str] = None,
                            max_reconnects: int = c.MAX_RECONNECTS,
                            reconnect_delay: float = c.RECONNECT_DELAY,
                            stream_timeout: float = c.STREAM_TIMEOUT,
                            on_reconnect: Optional[
                                Callable[[int, BaseException], None]] = None
                            ) -> Generator[ProcessLogEntry, None, None]:
        """The log entries after ``since``, then live ones over SSE, until
        the process has exited and every entry was yielded.

        Reconnects as :meth:`events` does: a dropped stream is reopened
        after the last sequence yielded, so no entry is lost or repeated.
        A stream that ends is asked about: if the process has exited, what
        the stream may have left out is read and the iteration ends.
        """
        last = since
        failures = 0
        path = "/v1/processes/%s/logs" % enc(process_id)
        while True:
            err: BaseException
            sse = self._sse_frames(path + c.query(
                stream=stream, since=last, follow=True), stream_timeout)
            try:
                for obj in sse:
                    e = cast(ProcessLogEntry, obj)
                    if e["sequence"] <= last:
                        continue
                    last = e["sequence"]
                    failures = 0
                    yield e
                err = c.StreamEnded("the log stream ended")
            except AgentdError as e:
                if e.status < 500:
                    raise
                err = e
            except _TRANSIENT as e:
                err = e
            finally:
                sse.close()
            if isinstance(err, c.StreamEnded):
                try:
                    ended = self.get_process(process_id)["status"] == "exited"
                except AgentdError as e:
                    if e.status < 500:
                        raise
                    ended, err = False, e
                except _TRANSIENT as e:
                    ended, err = False, e
                while ended:
                    more = [x for x in self.get_process_logs(
                        process_id, stream=stream, since=last)["entries"]
                        if x["sequence"] > last]
                    if not more:
                        return
                    for x in more:
                        last = x["sequence"]
                        yield x
            failures += 1
            if failures > max_reconnects:
                raise err
            if on_reconnect is not None:
                on_reconnect(last, err)
            time.sleep(c.reconnect_delay(reconnect_delay, failures))

    def send_process_input(self, process_id: str,
                           data: Union[bytes, str]) -> Dict[str, int]:
        """Write to the process's stdin (a str as UTF-8); answers
        ``{"bytesWritten"}``. 409 once it exited or closed its stdin."""
        return cast(Dict[str, int], self._json(
            "POST", "/v1/processes/%s/input" % enc(process_id),
            c.input_body(data)))

    def stop_process(self, process_id: str, *,
                     wait_ms: Optional[int] = None) -> ProcessInfo:
        """SIGTERM to its process group, SIGKILL after agentd's grace;
        answers once it exited or after ``wait_ms`` (default 2000)."""
        return cast(ProcessInfo, self._json(
            "POST", "/v1/processes/%s/stop%s" % (enc(process_id), c.query(
                waitMs=wait_ms)), timeout=_wait_timeout(wait_ms,
                                                        self.timeout)))

    def kill_process(self, process_id: str, *,
                     wait_ms: Optional[int] = None) -> ProcessInfo:
        """SIGKILL to its process group; ``wait_ms`` default 1000."""
        return cast(ProcessInfo, self._json(
            "POST", "/v1/processes/%s/kill%s" % (enc(process_id), c.query(
                waitMs=wait_ms)), timeout=_wait_timeout(wait_ms,
                                                        self.timeout)))

    def resize_process_terminal(self, process_id: str, cols: int,
                                rows: int) -> TerminalSize:
        return cast(TerminalSize, self._json(
            "POST", "/v1/processes/%s/terminal/resize" % enc(process_id),
            {"cols": cols, "rows": rows}))

    def connect_process_terminal(self, process_id: str, *,
                                 timeout: Optional[float] = None
                                 ) -> Terminal:
        """Open the terminal of a tty process over WebSocket (see
        :class:`Terminal`); answers once agentd said ready, the recent
        output first to read. A refused upgrade raises the
        :class:`AgentdError` agentd answered (404, 401, 409 for a process
        without a tty)."""
        path = "/v1/processes/%s/terminal/ws" % enc(process_id)
        try:
            return Terminal.open(
                self.endpoint, path,
                c.headers(self.token, self._headers, None, "*/*"),
                process_id, timeout if timeout is not None else self.timeout,
                self._ssl)
        except _ws.Unanswered:
            # A refusal without an answer (a bad token): HTTP says why.
            self._call("GET", path)
            raise

    def get_process_config(self) -> ProcessConfig:
        return cast(ProcessConfig, self._json("GET", "/v1/processes/config"))

    def set_process_config(self, **config: int) -> ProcessConfig:
        """Change some limits: ``set_process_config(maxOutputBytes=...)``."""
        return cast(ProcessConfig, self._json(
            "POST", "/v1/processes/config", config))

    def _sse_frames(self, path: str, timeout: float
                    ) -> Generator[Any, None, None]:
        conn, resp = self._open("GET", path, None, timeout,
                                "text/event-stream")
        try:
            parser = c.SSEParser()
            while True:
                line = resp.readline()
                if not line:
                    return
                yield from parser.feed(line)
        finally:
            conn.close()

    # -- streams -----------------------------------------------------------

    def events(self, session_id: str, offset: int = 0, *,
               include_raw: bool = False,
               stop_at_session_end: bool = True,
               max_reconnects: int = c.MAX_RECONNECTS,
               reconnect_delay: float = c.RECONNECT_DELAY,
               stream_timeout: float = c.STREAM_TIMEOUT,
               on_reconnect: Optional[Callable[[int, BaseException], None]]
               = None) -> Generator[Event, None, None]:
        """The session's events after ``offset``, then live ones, forever.

        Over Server-Sent Events. When the stream drops (agentd restarted,
        a proxy cut it, ``stream_timeout`` seconds of silence) it is
        reopened with ``?offset=`` the last sequence yielded, after a delay
        that doubles from ``reconnect_delay`` up to 2 s: every event comes
        once, in order, with no gap. Ends after session.ended (unless
        ``stop_at_session_end`` is false) or when the caller stops
        iterating; raises :class:`AgentdError` for a 4xx answer (the
        session was deleted, a bad token), and the last error after
        ``max_reconnects`` failed attempts in a row. ``on_reconnect(offset,
        error)`` is called before each reconnect.
        """
        last = offset
        failures = 0
        while True:
            err: BaseException
            stream = self._sse(session_id, last, include_raw, stream_timeout)
            try:
                for ev in stream:
                    if ev["sequence"] <= last:
                        continue  # never twice
                    last = ev["sequence"]
                    failures = 0
                    yield ev
                    if stop_at_session_end and ev["type"] == "session.ended":
                        return
                err = c.StreamEnded("the event stream ended")
            except AgentdError as e:
                if e.status < 500:
                    raise
                err = e  # a proxy's 502 while agentd restarts
            except _TRANSIENT as e:
                err = e
            finally:
                stream.close()  # the connection, also when the caller stops
            failures += 1
            if failures > max_reconnects:
                raise err
            if on_reconnect is not None:
                on_reconnect(last, err)
            time.sleep(c.reconnect_delay(reconnect_delay, failures))

    def stream(self, session_id: str, message: str, *,
               attachments: Optional[Attachments] = None,
               interrupt: bool = False,
               on_permission: Optional[c.PermissionCallback] = None,
               on_question: Optional[c.QuestionCallback] = None,
               **events_kw: Any) -> Generator[Event, None, None]:
        """Send a message and yield the events of its turn, up to and with
        its turn.ended (or session.ended), answering what the agent asks.

        ``on_permission(event)`` answers a permission.requested: "once",
        "always", "reject", True ("once") or False/None ("reject");
        ``on_question(event)`` answers a question.requested with one list
        of labels per question, or None to decline. Without a callback
        requests stay pending for someone else (the inspector) to answer.
        Turns queued before this message are skipped. Reconnects as
        :meth:`events` does (``events_kw`` are its options).
        """
        start = self.get_session(session_id)["eventCount"]
        self.send(session_id, message, attachments=attachments,
                  interrupt=interrupt)
        turn = c.TurnFilter(message)
        events = self.events(session_id, start, **events_kw)
        try:
            for ev in events:
                for mine in turn.feed(ev):
                    yield mine
                    self._answer(session_id, mine, on_permission,
                                 on_question)
                if turn.done:
                    return
        finally:
            events.close()

    def run(self, session_id: str, message: str, *,
            on_event: Optional[Callable[[Event], Any]] = None,
            **stream_kw: Any) -> TurnResult:
        """Send a message, wait for its turn to end, and return what it did
        (see :class:`TurnResult`); ``on_event`` sees each event as it comes;
        the rest are :meth:`stream`'s options."""
        evs: List[Event] = []
        for ev in self.stream(session_id, message, **stream_kw):
            evs.append(ev)
            if on_event is not None:
                on_event(ev)
        return TurnResult.from_events(session_id, evs)

    def _answer(self, session_id: str, ev: Event,
                on_permission: Optional[c.PermissionCallback],
                on_question: Optional[c.QuestionCallback]) -> None:
        try:
            if ev["type"] == "permission.requested" and on_permission:
                self.reply_permission(session_id, ev["data"]["permission_id"],
                                      c.permission_word(on_permission(ev)))
            elif ev["type"] == "question.requested" and on_question:
                answers = c.question_answers(on_question(ev))
                qid = ev["data"]["question_id"]
                if answers is None:
                    self.reject_question(session_id, qid)
                else:
                    self.reply_question(session_id, qid, answers)
        except AgentdError as e:
            if not c.already_answered(e):
                raise

    def _sse(self, session_id: str, offset: int, include_raw: bool,
             timeout: float) -> Generator[Event, None, None]:
        return cast(Generator[Event, None, None], self._sse_frames(
            "/v1/sessions/%s/events/sse%s" % (enc(session_id), c.query(
                offset=offset, include_raw=include_raw)), timeout))

    # -- HTTP --------------------------------------------------------------

    def _open(self, method: str, path: str, body: Optional[Any],
              timeout: Optional[float], accept: str = "application/json",
              extra: Optional[Mapping[str, str]] = None
              ) -> Tuple[http.client.HTTPConnection,
                         http.client.HTTPResponse]:
        ep = self.endpoint
        data, ctype = c.encode_body(body)
        hdrs = c.headers(self.token, self._headers, data, accept, ctype)
        hdrs.update(extra or {})
        conn: http.client.HTTPConnection
        t = timeout if timeout is not None else self.timeout
        if ep.tls:
            conn = http.client.HTTPSConnection(ep.host, ep.port, timeout=t,
                                               context=self._ssl)
        else:
            conn = http.client.HTTPConnection(ep.host, ep.port, timeout=t)
        try:
            conn.request(method, ep.prefix + path, body=data, headers=hdrs)
            resp = conn.getresponse()
            if resp.status >= 400:
                raise AgentdError.from_response(method, path, resp.status,
                                                resp.reason, resp.read())
        except BaseException:
            conn.close()
            raise
        return conn, resp

    def _call(self, method: str, path: str, body: Optional[Any] = None,
              timeout: Optional[float] = None,
              accept: str = "application/json",
              extra: Optional[Mapping[str, str]] = None) -> bytes:
        conn, resp = self._open(method, path, body, timeout, accept, extra)
        try:
            data: bytes = resp.read()
            return data
        finally:
            conn.close()

    def _json(self, method: str, path: str, body: Optional[Any] = None,
              timeout: Optional[float] = None) -> Dict[str, Any]:
        return cast(Dict[str, Any],
                    json.loads(self._call(method, path, body, timeout)))


class Session:
    """One session of a :class:`Client`: its methods without the id.

    ``info`` is the SessionInfo agentd last answered for it (on create, or
    :meth:`refresh`), None for a handle from :meth:`Client.session`.
    """

    def __init__(self, client: Client, session_id: str,
                 info: Optional[SessionInfo] = None) -> None:
        self.client = client
        self.id = session_id
        self.info = info

    def __repr__(self) -> str:
        return "Session(%r)" % self.id

    def refresh(self) -> SessionInfo:
        self.info = self.client.get_session(self.id)
        return self.info

    def send(self, message: str, *, attachments: Optional[Attachments] = None,
             interrupt: bool = False) -> None:
        self.client.send(self.id, message, attachments=attachments,
                         interrupt=interrupt)

    def events(self, offset: int = 0,
               **kw: Any) -> Generator[Event, None, None]:
        return self.client.events(self.id, offset, **kw)

    def get_events(self, offset: int = 0, limit: Optional[int] = None,
                   include_raw: bool = False) -> EventsPage:
        return self.client.get_events(self.id, offset, limit, include_raw)

    def events_since(self, cursor: int = 0, **kw: Any) -> Batch:
        return self.client.events_since(self.id, cursor, **kw)

    def stream(self, message: str,
               **kw: Any) -> Generator[Event, None, None]:
        return self.client.stream(self.id, message, **kw)

    def run(self, message: str, **kw: Any) -> TurnResult:
        return self.client.run(self.id, message, **kw)

    def reply_permission(self, permission_id: str, reply: str) -> None:
        self.client.reply_permission(self.id, permission_id, reply)

    def reply_question(self, question_id: str, answers: Answers) -> None:
        self.client.reply_question(self.id, question_id, answers)

    def reject_question(self, question_id: str) -> None:
        self.client.reject_question(self.id, question_id)

    def cancel(self) -> None:
        self.client.cancel(self.id)

    def terminate(self) -> None:
        self.client.terminate(self.id)

    def delete(self) -> None:
        self.client.delete_session(self.id)


def _wait_timeout(wait_ms: Optional[int], default: float) -> float:
    """stop and kill answer after at most wait_ms (default 2 s)."""
    return max(default, (wait_ms or 2000) / 1000.0 + 10.0)


def new_session_id() -> str:
    return "s-" + uuid.uuid4().hex[:16]


def connect(url: str, token: Optional[str] = None, **kw: Any) -> Client:
    """A :class:`Client` for ``url``, checked with GET /v1/health and one
    authenticated call (so a wrong token fails here, with a 401)."""
    client = Client(url, token, **kw)
    client.health()
    client.list_agents()
    return client
