"""AsyncClient and AsyncSession: the asyncio API, the twin of _sync.py."""

import asyncio
import inspect
import json
import ssl
from typing import (Any, AsyncGenerator, Callable, Dict, List, Mapping,
                    Optional, cast)

from . import _common as c
from . import _http11
from ._common import Batch, Endpoint, TurnResult, enc
from ._errors import AgentdError
from ._sync import new_session_id
from ._types import (AgentInfo, Answers, Attachments, Event, EventsPage,
                     Health, SessionInfo)

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

    async def _sse(self, session_id: str, offset: int, include_raw: bool,
                   timeout: float) -> AsyncGenerator[Event, None]:
        path = "/v1/sessions/%s/events/sse%s" % (enc(session_id), c.query(
            offset=offset, include_raw=include_raw))
        resp = await self._open("GET", path, None, None, "text/event-stream")
        try:
            parser = c.SSEParser()
            while True:
                data = await asyncio.wait_for(resp.read_some(), timeout)
                if not data:
                    return
                for ev in parser.feed(data):
                    yield ev
        finally:
            resp.close()

    # -- HTTP --------------------------------------------------------------

    async def _open(self, method: str, path: str, body: Optional[Any],
                    timeout: Optional[float],
                    accept: str = "application/json") -> _http11.Response:
        data = c.dumps(body) if body is not None else None
        t = timeout if timeout is not None else self.timeout
        resp = await _http11.request(
            self.endpoint, method, self.endpoint.prefix + path,
            c.headers(self.token, self._headers, data, accept), data, t,
            self._ssl)
        if resp.status >= 400:
            try:
                text = await asyncio.wait_for(resp.read(), t)
            finally:
                resp.close()
            raise AgentdError.from_response(method, path, resp.status,
                                            resp.reason, text)
        return resp

    async def _call(self, method: str, path: str, body: Optional[Any] = None,
                    timeout: Optional[float] = None) -> bytes:
        t = timeout if timeout is not None else self.timeout
        resp = await self._open(method, path, body, t)
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
