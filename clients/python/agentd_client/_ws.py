"""A small WebSocket client (RFC 6455) for a process's terminal: the
opening handshake, masked client frames, and a parser of the server's
frames. No extensions, no subprotocol. Used by _terminal.py over a
blocking socket and over asyncio streams."""

import base64
import hashlib
import os
import struct
from typing import List, Mapping, Optional, Tuple

from ._common import Endpoint

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA

#: A message larger than this closes the connection (agentd sends the
#: output of one read, at most 64 KiB, per frame).
MAX_MESSAGE = 16 << 20


class ProtocolError(ConnectionError):
    """The server broke the WebSocket protocol."""


class Unanswered(ConnectionResetError):
    """The server closed the connection without answering the upgrade
    (agentd refuses a bad token so): the caller asks over HTTP why."""


def handshake(ep: Endpoint, target: str,
              headers: Mapping[str, str]) -> Tuple[bytes, str]:
    """The upgrade request and the Sec-WebSocket-Accept it must get."""
    key = base64.b64encode(os.urandom(16)).decode("ascii")
    lines = ["GET %s HTTP/1.1" % target, "Upgrade: websocket",
             "Connection: Upgrade", "Sec-WebSocket-Key: " + key,
             "Sec-WebSocket-Version: 13"]
    if not any(k.lower() == "host" for k in headers):
        lines.append("Host: " + ep.host_header)
    lines += ["%s: %s" % kv for kv in headers.items()
              if kv[0].lower() not in ("accept", "content-type")]
    accept = base64.b64encode(hashlib.sha1(key.encode("ascii") +
                                           _GUID).digest()).decode("ascii")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"), accept


def parse_head(raw: bytes) -> Tuple[int, str, "dict[str, str]"]:
    """Status, reason and headers (names lower-case) of an answer."""
    lines = raw.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise ProtocolError("not an HTTP answer: %r" % lines[0][:80])
    hdrs = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
    return int(parts[1]), parts[2] if len(parts) > 2 else "", hdrs


def check_accept(hdrs: Mapping[str, str], accept: str) -> None:
    if hdrs.get("sec-websocket-accept") != accept or \
            hdrs.get("upgrade", "").lower() != "websocket":
        raise ProtocolError("the server did not accept the WebSocket")


def frame(opcode: int, payload: bytes) -> bytes:
    """One final client frame, masked as RFC 6455 requires."""
    n = len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 1 << 16:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    mask = os.urandom(4)
    body = bytes(b ^ mask[i & 3] for i, b in enumerate(payload))
    return head + mask + body


class Parser:
    """Server frames in, whole messages out as (opcode, payload): text,
    binary, and the control frames close, ping and pong."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._parts: List[bytes] = []
        self._op: Optional[int] = None

    def feed(self, data: bytes) -> List[Tuple[int, bytes]]:
        self._buf += data
        out: List[Tuple[int, bytes]] = []
        while True:
            m = self._one()
            if m is None:
                return out
            out.append(m)

    def _one(self) -> Optional[Tuple[int, bytes]]:
        while True:
            b = self._buf
            if len(b) < 2:
                return None
            fin, op, masked, n = b[0] & 0x80, b[0] & 0x0F, b[1] & 0x80, \
                b[1] & 0x7F
            at = 2
            if n == 126:
                if len(b) < 4:
                    return None
                n, at = struct.unpack("!H", b[2:4])[0], 4
            elif n == 127:
                if len(b) < 10:
                    return None
                n, at = struct.unpack("!Q", b[2:10])[0], 10
            if masked or b[0] & 0x70:
                raise ProtocolError("a masked server frame or RSV bits")
            if n > MAX_MESSAGE:
                raise ProtocolError("a frame over %d bytes" % MAX_MESSAGE)
            if len(b) < at + n:
                return None
            payload = bytes(b[at:at + n])
            del b[:at + n]
            if op >= 0x8:
                return op, payload  # control frames are never fragmented
            if op != OP_CONT:
                self._op, self._parts = op, []
            elif self._op is None:
                raise ProtocolError("a continuation without a message")
            self._parts.append(payload)
            if sum(len(p) for p in self._parts) > MAX_MESSAGE:
                raise ProtocolError("a message over %d bytes" % MAX_MESSAGE)
            if fin:
                msg, op = b"".join(self._parts), self._op
                self._op, self._parts = None, []
                assert op is not None
                return op, msg
