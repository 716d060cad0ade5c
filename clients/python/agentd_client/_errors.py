"""AgentdError: every error answer of agentd, with its problem details."""

import json
from typing import Any, Dict, Optional

_URN = "urn:agentd:error:"


class AgentdError(Exception):
    """agentd answered a request with a 4xx or 5xx status.

    agentd answers every error with RFC 7807 problem details
    (``application/problem+json``); their members are here as attributes:

    - ``status``: the HTTP status (404, 409, ...)
    - ``type``: the problem type, ``urn:agentd:error:<code>``
    - ``title``: the status's name ("Not Found")
    - ``detail``: what went wrong, for people ("no session 'demo'")
    - ``code``: the ``<code>`` part of ``type`` (``session_not_found``)
    - ``method`` and ``path``: the request that failed
    - ``problem``: the whole problem object as answered (``{}`` when the
      body was not JSON: a proxy's error page, say)
    """

    def __init__(self, status: int, type: str, title: str, detail: str,
                 method: str = "", path: str = "",
                 problem: Optional[Dict[str, Any]] = None) -> None:
        self.status = status
        self.type = type
        self.title = title
        self.detail = detail
        self.method = method
        self.path = path
        self.problem: Dict[str, Any] = problem if problem is not None else {}
        where = "%s %s: " % (method, path) if method else ""
        super().__init__("%s%d %s: %s" % (where, status, title, detail))

    @property
    def code(self) -> str:
        if self.type.startswith(_URN):
            return self.type[len(_URN):]
        return self.type

    @classmethod
    def from_response(cls, method: str, path: str, status: int, reason: str,
                      body: bytes) -> "AgentdError":
        """The error for an answer: its problem+json, or its raw text."""
        text = body.decode("utf-8", "replace")
        try:
            p = json.loads(text)
        except ValueError:
            p = None
        if isinstance(p, dict) and isinstance(p.get("detail"), str):
            return cls(status, str(p.get("type", "about:blank")),
                       str(p.get("title", reason)), p["detail"], method,
                       path, p)
        return cls(status, "about:blank", reason or "HTTP %d" % status,
                   text.strip()[:500] or (reason or "no detail"), method,
                   path, None)
