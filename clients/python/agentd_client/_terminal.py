"""Terminal and AsyncTerminal: a tty process's terminal over WebSocket
(GET /v1/processes/{id}/terminal/ws, docs/api.md "Terminals").

agentd sends ``{"type":"ready"}``, then the recent output (a scrollback of
up to 64 KiB), then the live output, each read as one binary frame; once
the process has exited, ``{"type":"exit","exitCode"}``, and it closes. The
client sends input and resize as text frames."""

import asyncio
import base64
import json
import socket
import ssl
import time
from typing import (Any, AsyncIterator, Dict, Iterator, List, Mapping,
                    Optional, Tuple, Union)

from . import _ws
from ._common import Endpoint
from ._errors import AgentdError

_HEAD_MAX = 64 << 10


class _State:
    """What both terminals know: the frames to send, and what the
    server's messages mean."""

    def __init__(self, process_id: str) -> None:
        self.process_id = process_id
        #: The exit code agentd sent (None: not yet, or a signal).
        self.exit_code: Optional[int] = None
        #: agentd's answers to frames it refused ({"type":"error"}).
        self.errors: List[str] = []
        self.ready = False
        self.closed = False
        self._parser = _ws.Parser()

    @staticmethod
    def _input(data: Union[str, bytes]) -> bytes:
        if isinstance(data, str):
            o: Dict[str, Any] = {"type": "input", "data": data}
        else:
            o = {"type": "input", "encoding": "base64",
                 "data": base64.b64encode(bytes(data)).decode("ascii")}
        return _ws.frame(_ws.OP_TEXT, json.dumps(o).encode("utf-8"))

    @staticmethod
    def _resize(cols: int, rows: int) -> bytes:
        return _ws.frame(_ws.OP_TEXT, json.dumps(
            {"type": "resize", "cols": cols, "rows": rows}).encode("utf-8"))

    def _handle(self, data: bytes) -> Tuple[List[bytes], List[bytes]]:
        """Bytes read in: (output pieces, frames to send back)."""
        out: List[bytes] = []
        replies: List[bytes] = []
        for op, payload in self._parser.feed(data):
            if op == _ws.OP_BINARY:
                out.append(payload)
            elif op == _ws.OP_TEXT:
                o = json.loads(payload)
                t = o.get("type") if isinstance(o, dict) else None
                if t == "ready":
                    self.ready = True
                elif t == "exit":
                    self.exit_code = o.get("exitCode")
                elif t == "error":
                    self.errors.append(str(o.get("message", "")))
            elif op == _ws.OP_PING:
                replies.append(_ws.frame(_ws.OP_PONG, payload))
            elif op == _ws.OP_CLOSE:
                if not self.closed:
                    replies.append(_ws.frame(_ws.OP_CLOSE, payload[:2]))
                self.closed = True
        return out, replies


def _refused(path: str, status: int, reason: str, hdrs: Mapping[str, str],
             rest: bytes) -> AgentdError:
    return AgentdError.from_response("GET", path, status, reason, rest)


class Terminal(_State):
    """A terminal on a blocking socket, from
    :meth:`Client.connect_process_terminal`.

    ``read(timeout)`` returns the next piece of output (``b""`` when the
    timeout passed first, None once the terminal closed); iterating yields
    the pieces until it closes. ``exit_code`` is set when the process
    exited. Use it from one thread.
    """

    def __init__(self, sock: socket.socket, process_id: str,
                 rest: bytes) -> None:
        super().__init__(process_id)
        self._sock = sock
        self._pending: List[bytes] = []
        self._feed(rest)

    def __enter__(self) -> "Terminal":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def input(self, data: Union[str, bytes]) -> None:
        """Type: a str as UTF-8, bytes as they are."""
        self._sock.sendall(self._input(data))

    def resize(self, cols: int, rows: int) -> None:
        self._sock.sendall(self._resize(cols, rows))

    def close(self) -> None:
        """Leave (the process goes on)."""
        if not self.closed:
            self.closed = True
            try:
                self._sock.sendall(_ws.frame(_ws.OP_CLOSE,
                                             b"\x03\xe8"))  # 1000
            except OSError:
                pass
        self._sock.close()

    def read(self, timeout: Optional[float] = None) -> Optional[bytes]:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._pending:
            if self.closed:
                return None
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return b""
            self._sock.settimeout(left)
            try:
                data = self._sock.recv(65536)
            except socket.timeout:
                return b""
            if not data:
                self.closed = True
                break
            self._feed(data)
        return self._pending.pop(0) if self._pending else None

    def read_until(self, needle: bytes, timeout: float = 10.0) -> bytes:
        """The output up to and with ``needle``; TimeoutError if it did
        not come within ``timeout`` seconds, EOFError if the terminal
        closed first."""
        got = b""
        deadline = time.monotonic() + timeout
        while needle not in got:
            left = deadline - time.monotonic()
            piece = self.read(max(left, 0.0)) if left > 0 else b""
            if piece is None:
                raise EOFError("the terminal closed before %r: %r" % (
                    needle, got[-200:]))
            if piece == b"" and left <= 0:
                raise TimeoutError("no %r within %.1f s: %r" % (
                    needle, timeout, got[-200:]))
            got += piece
        return got

    def wait(self, timeout: float = 10.0) -> Optional[int]:
        """Read (and drop) the output until the terminal closes; the exit
        code."""
        deadline = time.monotonic() + timeout
        while self.read(max(deadline - time.monotonic(), 0.001)) is not None:
            if time.monotonic() > deadline:
                raise TimeoutError("the terminal is still open")
        return self.exit_code

    def __iter__(self) -> Iterator[bytes]:
        while True:
            piece = self.read()
            if piece is None:
                return
            yield piece

    def _feed(self, data: bytes) -> None:
        out, replies = self._handle(data)
        self._pending += out
        for r in replies:
            try:
                self._sock.sendall(r)
            except OSError:
                self.closed = True

    @classmethod
    def open(cls, ep: Endpoint, path: str, headers: Mapping[str, str],
             process_id: str, timeout: float,
             ssl_context: Optional[ssl.SSLContext]) -> "Terminal":
        sock = socket.create_connection((ep.host, ep.port), timeout)
        try:
            if ep.tls:
                ctx = ssl_context or ssl.create_default_context()
                sock = ctx.wrap_socket(sock, server_hostname=ep.host)
            req, accept = _ws.handshake(ep, ep.prefix + path, headers)
            sock.sendall(req)
            buf = b""
            while b"\r\n\r\n" not in buf:
                data = sock.recv(65536)
                if not data or len(buf) > _HEAD_MAX:
                    raise _ws.Unanswered("no answer to the upgrade")
                buf += data
            head, rest = buf.split(b"\r\n\r\n", 1)
            status, reason, hdrs = _ws.parse_head(head)
            if status != 101:
                n = int(hdrs.get("content-length", "-1"))
                while (n < 0 or len(rest) < n) and len(rest) < _HEAD_MAX:
                    data = sock.recv(65536)
                    if not data:
                        break
                    rest += data
                raise _refused(path, status, reason, hdrs, rest)
            _ws.check_accept(hdrs, accept)
            t = cls(sock, process_id, rest)
            deadline = time.monotonic() + timeout
            while not t.ready:
                # Output cannot come before ready: wait for it.
                left = deadline - time.monotonic()
                if t.closed or left <= 0:
                    raise ConnectionError("the terminal did not open")
                sock.settimeout(left)
                data = sock.recv(65536)
                if not data:
                    raise ConnectionResetError("the terminal closed")
                t._feed(data)
            return t
        except BaseException:
            sock.close()
            raise


class AsyncTerminal(_State):
    """The asyncio twin of :class:`Terminal`, from
    :meth:`AsyncClient.connect_process_terminal`: the same methods as
    coroutines (``input`` and ``resize`` too); ``async for`` yields the
    output."""

    def __init__(self, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter, process_id: str) -> None:
        super().__init__(process_id)
        self._reader = reader
        self._writer = writer
        self._pending: List[bytes] = []

    async def __aenter__(self) -> "AsyncTerminal":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def input(self, data: Union[str, bytes]) -> None:
        self._writer.write(self._input(data))
        await self._writer.drain()

    async def resize(self, cols: int, rows: int) -> None:
        self._writer.write(self._resize(cols, rows))
        await self._writer.drain()

    async def close(self) -> None:
        if not self.closed:
            self.closed = True
            try:
                self._writer.write(_ws.frame(_ws.OP_CLOSE, b"\x03\xe8"))
                await self._writer.drain()
            except OSError:
                pass
        self._writer.close()

    async def read(self, timeout: Optional[float] = None) -> Optional[bytes]:
        """See :meth:`Terminal.read`."""
        try:
            return await asyncio.wait_for(self._read(), timeout)
        except asyncio.TimeoutError:
            return b""

    async def read_until(self, needle: bytes, timeout: float = 10.0
                         ) -> bytes:
        """See :meth:`Terminal.read_until`."""
        got = b""

        async def until() -> bytes:
            nonlocal got
            while needle not in got:
                piece = await self._read()
                if piece is None:
                    raise EOFError("the terminal closed before %r: %r" % (
                        needle, got[-200:]))
                got += piece
            return got
        try:
            return await asyncio.wait_for(until(), timeout)
        except asyncio.TimeoutError:
            raise TimeoutError("no %r within %.1f s: %r" % (
                needle, timeout, got[-200:])) from None

    async def wait(self, timeout: float = 10.0) -> Optional[int]:
        """See :meth:`Terminal.wait`."""
        async def drain() -> None:
            while await self._read() is not None:
                pass
        await asyncio.wait_for(drain(), timeout)
        return self.exit_code

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iter()

    async def _iter(self) -> AsyncIterator[bytes]:
        while True:
            piece = await self._read()
            if piece is None:
                return
            yield piece

    async def _read(self) -> Optional[bytes]:
        while not self._pending:
            if self.closed:
                return None
            data = await self._reader.read(65536)
            if not data:
                self.closed = True
                break
            await self._feed(data)
        return self._pending.pop(0) if self._pending else None

    async def _feed(self, data: bytes) -> None:
        out, replies = self._handle(data)
        self._pending += out
        for r in replies:
            try:
                self._writer.write(r)
                await self._writer.drain()
            except OSError:
                self.closed = True

    @classmethod
    async def open(cls, ep: Endpoint, path: str, headers: Mapping[str, str],
                   process_id: str, timeout: float,
                   ssl_context: Optional[ssl.SSLContext]) -> "AsyncTerminal":
        ctx: Optional[ssl.SSLContext] = None
        if ep.tls:
            ctx = ssl_context or ssl.create_default_context()
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(ep.host, ep.port, ssl=ctx,
                                    limit=1 << 20), timeout)
        try:
            req, accept = _ws.handshake(ep, ep.prefix + path, headers)
            writer.write(req)
            await asyncio.wait_for(writer.drain(), timeout)
            try:
                head = await asyncio.wait_for(
                    reader.readuntil(b"\r\n\r\n"), timeout)
            except asyncio.IncompleteReadError:
                raise _ws.Unanswered("no answer to the upgrade") from None
            status, reason, hdrs = _ws.parse_head(head[:-4])
            if status != 101:
                n = int(hdrs.get("content-length", "-1"))
                rest = await asyncio.wait_for(
                    reader.read(_HEAD_MAX) if n < 0 else
                    reader.readexactly(n), timeout)
                raise _refused(path, status, reason, hdrs, rest)
            _ws.check_accept(hdrs, accept)
            t = cls(reader, writer, process_id)

            async def ready() -> None:
                while not t.ready:
                    data = await reader.read(65536)
                    if not data or t.closed:
                        raise ConnectionResetError("the terminal closed")
                    await t._feed(data)
            await asyncio.wait_for(ready(), timeout)
            return t
        except BaseException:
            writer.close()
            raise
