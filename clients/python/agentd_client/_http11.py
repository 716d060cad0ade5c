"""A minimal HTTP/1.1 client on asyncio streams, for AsyncClient: one
request per connection (``Connection: close``), bodies by Content-Length,
chunked or read to the end, TLS through asyncio's ssl support."""

import asyncio
import ssl
from typing import Dict, List, Optional, Tuple

from ._common import Endpoint

_CHUNK = 65536


class Response:
    """Status, headers (names lower-case) and a body read in pieces."""

    def __init__(self, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter, status: int, reason: str,
                 headers: Dict[str, str], method: str) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers
        self._reader = reader
        self._writer = writer
        self._chunked = False
        self._left: Optional[int] = None  # None: until the connection ends
        self._done = False
        te = headers.get("transfer-encoding", "").lower()
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            self._done = True
        elif "chunked" in te:
            self._chunked = True
            self._left = 0
        elif "content-length" in headers:
            self._left = int(headers["content-length"])
            self._done = self._left == 0

    async def read_some(self) -> bytes:
        """The next piece of the body; b"" at its end. A body cut short
        raises ConnectionError."""
        if self._done:
            return b""
        if self._chunked:
            if self._left == 0:
                size = await self._reader.readline()
                if not size.endswith(b"\n"):
                    raise ConnectionResetError("the body was cut short")
                self._left = int(size.split(b";", 1)[0].strip(), 16)
                if self._left == 0:
                    while (await self._reader.readline()) not in (
                            b"\r\n", b"\n", b""):
                        pass  # trailers
                    self._done = True
                    return b""
            assert self._left is not None
            data = await self._reader.read(min(self._left, _CHUNK))
            if not data:
                raise ConnectionResetError("the body was cut short")
            self._left -= len(data)
            if self._left == 0:
                await self._reader.readline()  # the chunk's CRLF
            return data
        n = _CHUNK if self._left is None else min(self._left, _CHUNK)
        data = await self._reader.read(n)
        if self._left is None:
            self._done = not data
            return data
        if not data:
            raise ConnectionResetError("the body was cut short")
        self._left -= len(data)
        self._done = self._left == 0
        return data

    async def read(self) -> bytes:
        parts: List[bytes] = []
        while True:
            data = await self.read_some()
            if not data:
                return b"".join(parts)
            parts.append(data)

    def close(self) -> None:
        self._writer.close()


async def request(ep: Endpoint, method: str, target: str,
                  headers: Dict[str, str], body: Optional[bytes],
                  timeout: float,
                  ssl_context: Optional[ssl.SSLContext]) -> Response:
    """Send a request and read the answer's status and headers (within
    ``timeout`` seconds); the caller reads the body and closes."""
    ctx: Optional[ssl.SSLContext] = None
    if ep.tls:
        ctx = ssl_context or ssl.create_default_context()
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(ep.host, ep.port, ssl=ctx,
                                limit=1 << 20), timeout)
    try:
        head = ["%s %s HTTP/1.1" % (method, target), "Connection: close"]
        if not any(k.lower() == "host" for k in headers):
            head.append("Host: " + ep.host_header)
        head += ["%s: %s" % kv for kv in headers.items()]
        if body is not None or method in ("POST", "PUT", "PATCH"):
            head.append("Content-Length: %d" % len(body or b""))
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        if body:
            writer.write(body)
        await asyncio.wait_for(writer.drain(), timeout)
        raw = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        status, reason, hdrs = _parse_head(raw)
        return Response(reader, writer, status, reason, hdrs, method)
    except BaseException:
        writer.close()
        raise


def _parse_head(raw: bytes) -> Tuple[int, str, Dict[str, str]]:
    lines = raw.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise ConnectionError("not an HTTP answer: %r" % lines[0][:80])
    hdrs: Dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
    return int(parts[1]), parts[2] if len(parts) > 2 else "", hdrs
