"""agentd_client: a Python client for agentd's HTTP API (docs/api.md).

Standard library only. :class:`Client` is synchronous, :class:`AsyncClient`
its asyncio twin; both follow a session's events over Server-Sent Events
and reconnect from the last sequence they yielded, so no event is lost or
repeated when agentd restarts or a proxy drops the stream.

    import agentd_client

    client = agentd_client.connect("http://127.0.0.1:2468", token="T")
    session = client.create_session("mock")
    result = session.run("hello", on_permission=lambda ev: "once")
    print(result.stop_reason, result.text)
"""

from ._async import AsyncClient, AsyncSession, connect_async
from ._common import Batch, TurnResult, __version__, log_bytes, log_text
from ._errors import AgentdError
from ._sync import Client, Session, connect
from ._terminal import AsyncTerminal, Terminal
from ._types import (AgentInfo, Answers, Attachment, Event, EventsPage,
                     EventType, FsEntry, FsEntryType, FsMoveResult, FsPath,
                     FsStat, FsUploadResult, FsWriteResult, Health,
                     PermissionReply, ProcessConfig, ProcessInfo,
                     ProcessLogEntry, ProcessLogs, ProcessLogStream,
                     ProcessRunResult, SessionInfo, SessionState,
                     TerminalSize)

__all__ = [
    "AgentInfo", "AgentdError", "Answers", "AsyncClient", "AsyncSession",
    "AsyncTerminal", "Attachment", "Batch", "Client", "Event", "EventType",
    "EventsPage", "FsEntry", "FsEntryType", "FsMoveResult", "FsPath",
    "FsStat", "FsUploadResult", "FsWriteResult", "Health", "PermissionReply",
    "ProcessConfig", "ProcessInfo", "ProcessLogEntry", "ProcessLogStream",
    "ProcessLogs", "ProcessRunResult", "Session", "SessionInfo",
    "SessionState", "Terminal", "TerminalSize", "TurnResult", "__version__",
    "connect", "connect_async", "log_bytes", "log_text",
]
