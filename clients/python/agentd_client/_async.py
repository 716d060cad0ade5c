"""AsyncClient and AsyncSession: the asyncio API, the twin of _sync.py."""

import asyncio
import inspect
import json
import ssl
from typing import (Any, AsyncGenerator, Callable, Dict, List, Mapping,
                    Optional, Union, cast)

from . import _common as c
from . import _http11, _ws
from ._common import Batch, Endpoint, TurnResult, enc
from ._errors import AgentdError
from ._terminal import AsyncTerminal
from ._sync import _wait_timeout, new_session_id
from ._types import (AgentInfo, Answers, Attachments, Event, EventsPage,
                     FsEntry, FsMoveResult, FsPath, FsStat, FsUploadResult,
                     FsWriteResult, Health, ProcessConfig, ProcessInfo,
                     ProcessLogEntry, ProcessLogs, ProcessRunResult,
                     SessionInfo, TerminalSize)

_TRANSIENT = (OSError, EOFError, asyncio.TimeoutError, c.StreamEnded)


async def _maybe_await(v: Any) -> Any:
    return await v if inspect.isawaitable(v) else v


class AsyncClient:
    """The asyncio twin of :class:`Client`: the same methods, as coroutines
    (``events()`` and ``stream()`` are async iterators). Callbacks
    (``on_permission``, ``on_question``, ``on_event``) may be plain
    functions or coroutine functions.

        async with AsyncClient("http://127.0.0.1:2468", token) as c:
            s = await c.create_session("mock")
            result = await s.run("hello")
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

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def close(self) -> None:
        """Nothing to release (no connection is kept); for ``async with``."""

    def __repr__(self) -> str:
        return "AsyncClient(%r)" % self.url

    # -- plain routes ----------------------------------------------------

    async def health(self) -> Health:
        return cast(Health, await self._json("GET", "/v1/health"))

    async def list_agents(self) -> List[AgentInfo]:
        return cast(List[AgentInfo],
                    (await self._json("GET", "/v1/agents"))["agents"])

    async def get_agent(self, agent: str) -> AgentInfo:
        return cast(AgentInfo,
                    await self._json("GET", "/v1/agents/" + enc(agent)))

    async def install_agent(self, agent: str, *, timeout: float = 600.0
                            ) -> AgentInfo:
        return cast(AgentInfo, await self._json(
            "POST", "/v1/agents/%s/install" % enc(agent), timeout=timeout))

    async def list_sessions(self) -> List[SessionInfo]:
        return cast(List[SessionInfo],
                    (await self._json("GET", "/v1/sessions"))["sessions"])

    async def create_session(self, agent: str,
                             session_id: Optional[str] = None, *,
                             agent_command: Optional[List[str]] = None,
                             model: Optional[str] = None,
                             permission_mode: Optional[str] = None,
                             cwd: Optional[str] = None,
                             env: Optional[Mapping[str, str]] = None,
                             mcp: Optional[List[Any]] = None,
                             install: bool = False,
                             extra: Optional[Mapping[str, Any]] = None,
                             timeout: Optional[float] = None
                             ) -> "AsyncSession":
        """See :meth:`Client.create_session`."""
        sid = session_id if session_id is not None else new_session_id()
        body = c.create_body(agent, agent_command, model, permission_mode,
                             cwd, env, mcp, install, extra)
        if timeout is None and install:
            timeout = 600.0
        info = await self._json("POST", "/v1/sessions/" + enc(sid), body,
                                timeout=timeout)
        return AsyncSession(self, sid, cast(SessionInfo, info))

    def session(self, session_id: str) -> "AsyncSession":
        return AsyncSession(self, session_id)

    async def get_session(self, session_id: str) -> SessionInfo:
        return cast(SessionInfo, await self._json(
            "GET", "/v1/sessions/" + enc(session_id)))

    async def delete_session(self, session_id: str) -> None:
        await self._call("DELETE", "/v1/sessions/" + enc(session_id))

    async def send(self, session_id: str, message: str, *,
                   attachments: Optional[Attachments] = None,
                   interrupt: bool = False) -> None:
        """See :meth:`Client.send`."""
        await self._call("POST", "/v1/sessions/%s/messages" % enc(session_id),
                         c.message_body(message, attachments, interrupt))

    async def get_events(self, session_id: str, offset: int = 0,
                         limit: Optional[int] = None,
                         include_raw: bool = False) -> EventsPage:
        return cast(EventsPage, await self._json(
            "GET", "/v1/sessions/%s/events%s" % (enc(session_id), c.query(
                offset=offset, limit=limit, include_raw=include_raw))))

    async def events_since(self, session_id: str, cursor: int = 0, *,
                           limit: Optional[int] = None,
                           include_raw: bool = False) -> Batch:
        """See :meth:`Client.events_since`."""
        out: List[Event] = []
        while True:
            page = await self.get_events(session_id, cursor,
                                         c.page_limit(limit, len(out)),
                                         include_raw)
            out.extend(page["events"])
            if page["events"]:
                cursor = page["events"][-1]["sequence"]
            if not page["hasMore"] or not page["events"]:
                return Batch(out, cursor, False)
            if limit is not None and len(out) >= limit:
                return Batch(out, cursor, True)

    async def reply_permission(self, session_id: str, permission_id: str,
                               reply: str) -> None:
        await self._call("POST", "/v1/sessions/%s/permissions/%s/reply" % (
            enc(session_id), enc(permission_id)), {"reply": reply})

    async def reply_question(self, session_id: str, question_id: str,
                             answers: Answers) -> None:
        await self._call("POST", "/v1/sessions/%s/questions/%s/reply" % (
            enc(session_id), enc(question_id)), {"answers": answers})

    async def reject_question(self, session_id: str, question_id: str
                              ) -> None:
        await self._call("POST", "/v1/sessions/%s/questions/%s/reject" % (
            enc(session_id), enc(question_id)))

    async def cancel(self, session_id: str) -> None:
        await self._call("POST", "/v1/sessions/%s/cancel" % enc(session_id))

    async def terminate(self, session_id: str) -> None:
        await self._call("POST",
                         "/v1/sessions/%s/terminate" % enc(session_id))

    # -- files -------------------------------------------------------------

    async def list_fs_entries(self, path: Optional[str] = None
                              ) -> List[FsEntry]:
        """See :meth:`Client.list_fs_entries`."""
        return cast(List[FsEntry], await self._json(
            "GET", "/v1/fs/entries" + c.query(path=path)))

    async def stat_fs(self, path: str) -> FsStat:
        return cast(FsStat, await self._json(
            "GET", "/v1/fs/stat" + c.query(path=path)))

    async def read_fs_file(self, path: str, *, offset: Optional[int] = None,
                           length: Optional[int] = None,
                           last: Optional[int] = None,
                           timeout: Optional[float] = None) -> bytes:
        """See :meth:`Client.read_fs_file`."""
        return await self._call("GET", "/v1/fs/file" + c.query(path=path),
                                timeout=timeout,
                                accept="application/octet-stream",
                                extra=c.byte_range(offset, length, last))

    async def write_fs_file(self, path: str, data: Union[bytes, str], *,
                            parents: bool = True,
                            timeout: Optional[float] = None
                            ) -> FsWriteResult:
        """See :meth:`Client.write_fs_file`."""
        return cast(FsWriteResult, await self._json(
            "PUT", "/v1/fs/file" + c.query(
                path=path, parents=None if parents else "false"),
            c.Raw(data, "application/octet-stream"), timeout=timeout))

    async def mkdir_fs(self, path: str) -> FsPath:
        return cast(FsPath, await self._json(
            "POST", "/v1/fs/mkdir" + c.query(path=path)))

    async def move_fs(self, source: str, destination: str, *,
                      overwrite: bool = False) -> FsMoveResult:
        body: Dict[str, Any] = {"from": source, "to": destination}
        if overwrite:
            body["overwrite"] = True
        return cast(FsMoveResult, await self._json("POST", "/v1/fs/move",
                                                   body))

    async def delete_fs_entry(self, path: str, *,
                              recursive: bool = False) -> FsPath:
        return cast(FsPath, await self._json(
            "DELETE", "/v1/fs/entry" + c.query(path=path,
                                               recursive=recursive)))

    async def upload_fs_batch(self, path: str, tar: bytes, *,
                              timeout: Optional[float] = None
                              ) -> FsUploadResult:
        return cast(FsUploadResult, await self._json(
            "POST", "/v1/fs/upload-batch" + c.query(path=path),
            c.Raw(tar, "application/x-tar"), timeout=timeout))

    # -- processes ---------------------------------------------------------

    async def run_process(self, command: str,
                          args: Optional[List[str]] = None, *,
                          cwd: Optional[str] = None,
                          env: Optional[Mapping[str, str]] = None,
                          timeout_ms: Optional[int] = None,
                          max_output_bytes: Optional[int] = None
                          ) -> ProcessRunResult:
        """See :meth:`Client.run_process`."""
        body = c.process_body(command, args, cwd, env, timeoutMs=timeout_ms,
                              maxOutputBytes=max_output_bytes)
        return cast(ProcessRunResult, await self._json(
            "POST", "/v1/processes/run", body,
            timeout=c.run_timeout(timeout_ms, self.timeout)))

    async def create_process(self, command: str,
                             args: Optional[List[str]] = None, *,
                             cwd: Optional[str] = None,
                             env: Optional[Mapping[str, str]] = None,
                             tty: bool = False,
                             interactive: bool = False) -> ProcessInfo:
        """See :meth:`Client.create_process`."""
        body = c.process_body(command, args, cwd, env, tty=tty,
                              interactive=interactive)
        return cast(ProcessInfo, await self._json("POST", "/v1/processes",
                                                  body))

    async def list_processes(self) -> List[ProcessInfo]:
        return cast(List[ProcessInfo],
                    (await self._json("GET", "/v1/processes"))["processes"])

    async def get_process(self, process_id: str) -> ProcessInfo:
        return cast(ProcessInfo, await self._json(
            "GET", "/v1/processes/" + enc(process_id)))

    async def delete_process(self, process_id: str) -> None:
        await self._call("DELETE", "/v1/processes/" + enc(process_id))

    async def get_process_logs(self, process_id: str, *,
                               stream: Optional[str] = None,
                               since: Optional[int] = None,
                               tail: Optional[int] = None) -> ProcessLogs:
        """See :meth:`Client.get_process_logs`."""
        return cast(ProcessLogs, await self._json(
            "GET", "/v1/processes/%s/logs%s" % (enc(process_id), c.query(
                stream=stream, since=since, tail=tail))))

    async def follow_process_logs(
            self, process_id: str, since: int = 0, *,
            stream: Optional[str] = None,
            max_reconnects: int = c.MAX_RECONNECTS,
            reconnect_delay: float = c.RECONNECT_DELAY,
            stream_timeout: float = c.STREAM_TIMEOUT,
            on_reconnect: Optional[Callable[[int, BaseException], Any]] = None
    ) -> AsyncGenerator[ProcessLogEntry, None]:
        """See :meth:`Client.follow_process_logs`."""
        last = since
        failures = 0
        path = "/v1/processes/%s/logs" % enc(process_id)
        while True:
            err: BaseException
            sse = self._sse_frames(path + c.query(
                stream=stream, since=last, follow=True), stream_timeout)
            try:
                async for obj in sse:
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
                await sse.aclose()
            if isinstance(err, c.StreamEnded):
                try:
                    info = await self.get_process(process_id)
                    ended = info["status"] == "exited"
                except AgentdError as e:
                    if e.status < 500:
                        raise
                    ended, err = False, e
                except _TRANSIENT as e:
                    ended, err = False, e
                while ended:
                    page = await self.get_process_logs(
                        process_id, stream=stream, since=last)
                    more = [x for x in page["entries"] if x["sequence"] > last]
                    if not more:
                        return
                    for x in more:
                        last = x["sequence"]
                        yield x
            failures += 1
            if failures > max_reconnects:
                raise err
            if on_reconnect is not None:
                await _maybe_await(on_reconnect(last, err))
            await asyncio.sleep(c.reconnect_delay(reconnect_delay, failures))

    async def send_process_input(self, process_id: str,
                                 data: Union[bytes, str]) -> Dict[str, int]:
        """See :meth:`Client.send_process_input`."""
        return cast(Dict[str, int], await self._json(
            "POST", "/v1/processes/%s/input" % enc(process_id),
            c.input_body(data)))

    async def stop_process(self, process_id: str, *,
                           wait_ms: Optional[int] = None) -> ProcessInfo:
        """See :meth:`Client.stop_process`."""
        return cast(ProcessInfo, await self._json(
            "POST", "/v1/processes/%s/stop%s" % (enc(process_id), c.query(
                waitMs=wait_ms)), timeout=_wait_timeout(wait_ms,
                                                        self.timeout)))

    async def kill_process(self, process_id: str, *,
                           wait_ms: Optional[int] = None) -> ProcessInfo:
        return cast(ProcessInfo, await self._json(
            "POST", "/v1/processes/%s/kill%s" % (enc(process_id), c.query(
                waitMs=wait_ms)), timeout=_wait_timeout(wait_ms,
                                                        self.timeout)))

    async def resize_process_terminal(self, process_id: str, cols: int,
                                      rows: int) -> TerminalSize:
        return cast(TerminalSize, await self._json(
            "POST", "/v1/processes/%s/terminal/resize" % enc(process_id),
            {"cols": cols, "rows": rows}))

    async def connect_process_terminal(self, process_id: str, *,
                                 timeout: Optional[float] = None
                                 ) -> AsyncTerminal:
        """Open the terminal of a tty process over WebSocket (see
        :class:`AsyncTerminal`); answers once agentd said ready, the recent
        output first to read. A refused upgrade raises the
        :class:`AgentdError` agentd answered (404, 401, 409 for a process
        without a tty)."""
        path = "/v1/processes/%s/terminal/ws" % enc(process_id)
        try:
            return await AsyncTerminal.open(
                self.endpoint, path,
                c.headers(self.token, self._headers, None, "*/*"),
                process_id, timeout if timeout is not None else self.timeout,
                self._ssl)
        except _ws.Unanswered:
            # A refusal without an answer (a bad token): HTTP says why.
            await self._call("GET", path)
            raise

    async def get_process_config(self) -> ProcessConfig:
        return cast(ProcessConfig, await self._json("GET",
                                                    "/v1/processes/config"))

    async def set_process_config(self, **config: int) -> ProcessConfig:
        return cast(ProcessConfig, await self._json(
            "POST", "/v1/processes/config", config))

    async def _sse_frames(self, path: str, timeout: float
                          ) -> AsyncGenerator[Any, None]:
        resp = await self._open("GET", path, None, None, "text/event-stream")
        try:
            parser = c.SSEParser()
            while True:
                data = await asyncio.wait_for(resp.read_some(), timeout)
                if not data:
                    return
                for obj in parser.feed(data):
                    yield obj
        finally:
            resp.close()

    # -- streams -----------------------------------------------------------

    async def events(self, session_id: str, offset: int = 0, *,
                     include_raw: bool = False,
                     stop_at_session_end: bool = True,
                     max_reconnects: int = c.MAX_RECONNECTS,
                     reconnect_delay: float = c.RECONNECT_DELAY,
                     stream_timeout: float = c.STREAM_TIMEOUT,
                     on_reconnect: Optional[
                         Callable[[int, BaseException], Any]] = None
                     ) -> AsyncGenerator[Event, None]:
        """See :meth:`Client.events`."""
        last = offset
        failures = 0
        while True:
            err: BaseException
            stream = self._sse(session_id, last, include_raw, stream_timeout)
            try:
                async for ev in stream:
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
                # An async generator is not closed when the loop over it
                # stops: close it (and its connection) now.
                await stream.aclose()
            failures += 1
            if failures > max_reconnects:
                raise err
            if on_reconnect is not None:
                await _maybe_await(on_reconnect(last, err))
            await asyncio.sleep(c.reconnect_delay(reconnect_delay, failures))

    async def stream(self, session_id: str, message: str, *,
                     attachments: Optional[Attachments] = None,
                     interrupt: bool = False,
                     on_permission: Optional[c.PermissionCallback] = None,
                     on_question: Optional[c.QuestionCallback] = None,
                     **events_kw: Any) -> AsyncGenerator[Event, None]:
        """See :meth:`Client.stream`."""
        start = (await self.get_session(session_id))["eventCount"]
        await self.send(session_id, message, attachments=attachments,
                        interrupt=interrupt)
        turn = c.TurnFilter(message)
        it = self.events(session_id, start, **events_kw)
        try:
            async for ev in it:
                for mine in turn.feed(ev):
                    yield mine
                    await self._answer(session_id, mine, on_permission,
                                       on_question)
                if turn.done:
                    return
        finally:
            await it.aclose()

    async def run(self, session_id: str, message: str, *,
                  on_event: Optional[Callable[[Event], Any]] = None,
                  **stream_kw: Any) -> TurnResult:
        """See :meth:`Client.run`."""
        evs: List[Event] = []
        it = self.stream(session_id, message, **stream_kw)
        try:
            async for ev in it:
                evs.append(ev)
                if on_event is not None:
                    await _maybe_await(on_event(ev))
        finally:
            await it.aclose()
        return TurnResult.from_events(session_id, evs)

    async def _answer(self, session_id: str, ev: Event,
                      on_permission: Optional[c.PermissionCallback],
                      on_question: Optional[c.QuestionCallback]) -> None:
        try:
            if ev["type"] == "permission.requested" and on_permission:
                word = c.permission_word(
                    await _maybe_await(on_permission(ev)))
                await self.reply_permission(
                    session_id, ev["data"]["permission_id"], word)
            elif ev["type"] == "question.requested" and on_question:
                answers = c.question_answers(
                    await _maybe_await(on_question(ev)))
                qid = ev["data"]["question_id"]
                if answers is None:
                    await self.reject_question(session_id, qid)
                else:
                    await self.reply_question(session_id, qid, answers)
        except AgentdError as e:
            if not c.already_answered(e):
                raise

    def _sse(self, session_id: str, offset: int, include_raw: bool,
             timeout: float) -> AsyncGenerator[Event, None]:
        return cast(AsyncGenerator[Event, None], self._sse_frames(
            "/v1/sessions/%s/events/sse%s" % (enc(session_id), c.query(
                offset=offset, include_raw=include_raw)), timeout))

    # -- HTTP --------------------------------------------------------------

    async def _open(self, method: str, path: str, body: Optional[Any],
                    timeout: Optional[float],
                    accept: str = "application/json",
                    extra: Optional[Mapping[str, str]] = None
                    ) -> _http11.Response:
        data, ctype = c.encode_body(body)
        t = timeout if timeout is not None else self.timeout
        hdrs = c.headers(self.token, self._headers, data, accept, ctype)
        hdrs.update(extra or {})
        resp = await _http11.request(
            self.endpoint, method, self.endpoint.prefix + path, hdrs, data,
            t, self._ssl)
        if resp.status >= 400:
            try:
                text = await asyncio.wait_for(resp.read(), t)
            finally:
                resp.close()
            raise AgentdError.from_response(method, path, resp.status,
                                            resp.reason, text)
        return resp

    async def _call(self, method: str, path: str, body: Optional[Any] = None,
                    timeout: Optional[float] = None,
                    accept: str = "application/json",
                    extra: Optional[Mapping[str, str]] = None) -> bytes:
        t = timeout if timeout is not None else self.timeout
        resp = await self._open(method, path, body, t, accept, extra)
        try:
            return await asyncio.wait_for(resp.read(), t)
        finally:
            resp.close()

    async def _json(self, method: str, path: str, body: Optional[Any] = None,
                    timeout: Optional[float] = None) -> Dict[str, Any]:
        return cast(Dict[str, Any],
                    json.loads(await self._call(method, path, body, timeout)))


class AsyncSession:
    """One session of an :class:`AsyncClient`: its methods without the id."""

    def __init__(self, client: AsyncClient, session_id: str,
                 info: Optional[SessionInfo] = None) -> None:
        self.client = client
        self.id = session_id
        self.info = info

    def __repr__(self) -> str:
        return "AsyncSession(%r)" % self.id

    async def refresh(self) -> SessionInfo:
        self.info = await self.client.get_session(self.id)
        return self.info

    async def send(self, message: str, *,
                   attachments: Optional[Attachments] = None,
                   interrupt: bool = False) -> None:
        await self.client.send(self.id, message, attachments=attachments,
                               interrupt=interrupt)

    def events(self, offset: int = 0, **kw: Any) -> AsyncGenerator[Event, None]:
        return self.client.events(self.id, offset, **kw)

    async def get_events(self, offset: int = 0, limit: Optional[int] = None,
                         include_raw: bool = False) -> EventsPage:
        return await self.client.get_events(self.id, offset, limit,
                                            include_raw)

    async def events_since(self, cursor: int = 0, **kw: Any) -> Batch:
        return await self.client.events_since(self.id, cursor, **kw)

    def stream(self, message: str, **kw: Any) -> AsyncGenerator[Event, None]:
        return self.client.stream(self.id, message, **kw)

    async def run(self, message: str, **kw: Any) -> TurnResult:
        return await self.client.run(self.id, message, **kw)

    async def reply_permission(self, permission_id: str, reply: str) -> None:
        await self.client.reply_permission(self.id, permission_id, reply)

    async def reply_question(self, question_id: str, answers: Answers
                             ) -> None:
        await self.client.reply_question(self.id, question_id, answers)

    async def reject_question(self, question_id: str) -> None:
        await self.client.reject_question(self.id, question_id)

    async def cancel(self) -> None:
        await self.client.cancel(self.id)

    async def terminate(self) -> None:
        await self.client.terminate(self.id)

    async def delete(self) -> None:
        await self.client.delete_session(self.id)


async def connect_async(url: str, token: Optional[str] = None,
                        **kw: Any) -> AsyncClient:
    """An :class:`AsyncClient` for ``url``, checked as :func:`connect` does."""
    client = AsyncClient(url, token, **kw)
    await client.health()
    await client.list_agents()
    return client
