"""Which browser origins may call the node (``[rpc] cors_origins`` in chain.toml).

A browser attaches an ``Origin`` header to every cross-site request, and to every POST.
CORS headers alone would only stop a page from *reading* an answer: a page can still
send a "simple" POST (``text/plain``) to ``http://127.0.0.1:8545`` and, on a devnet, call
``evm_revert`` or anything else without reading the reply, and any page can open a
WebSocket (browsers apply no CORS to WebSockets). So the node refuses the request itself
when its ``Origin`` is not listed: HTTP 403 with a JSON-RPC error for ``POST /``, a
refused handshake for a WebSocket, Starlette's 400 for a preflight. Requests without an
``Origin`` (curl, web3.py, ethers or viem under Node, cast, wallets' background calls
that send none) are not affected.

Patterns (the config checks their form):

- ``"https://app.example.com"``: exactly that origin (scheme, host, port);
- ``"http://localhost:*"``: that host on any port, or none;
- ``"https://*.example.com"``: any subdomain of ``example.com``;
- ``"null"``: the ``null`` origin of ``file://`` pages and sandboxed frames;
- ``"*"``: every origin (a public read-only node; never with dev methods on).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..config import DEFAULT_CORS_ORIGINS

_CACHE_LIMIT = 1024


def _pattern_regex(pattern: str) -> str:
    if pattern == "null":
        return "null"
    scheme, _, rest = pattern.partition("://")
    host, port = rest, ""
    if rest.endswith(":*"):
        host, port = rest[:-2], r"(?::\d+)?"
    regex = re.escape(scheme) + "://"
    if host.startswith("*."):
        regex += r"(?:[a-z0-9-]+\.)+"
        host = host[2:]
    return regex + re.escape(host) + port


class OriginPolicy:
    """The allow-list of browser origins, compiled once; :meth:`allows` is cached."""

    def __init__(self, patterns: Sequence[str] = DEFAULT_CORS_ORIGINS) -> None:
        self.patterns = tuple(p.strip().lower().rstrip("/") for p in patterns)
        self.any = "*" in self.patterns
        listed = [p for p in self.patterns if p != "*"]
        self.regex = "^(?:" + "|".join(_pattern_regex(p) for p in listed) + ")$" if listed else None
        self._match = re.compile(self.regex).match if self.regex else None
        self._seen: dict[bytes, bool] = {}

    def allows(self, origin: bytes) -> bool:
        """Whether a request carrying ``Origin: origin`` may be served."""
        if self.any:
            return True
        known = self._seen.get(origin)
        if known is not None:
            return known
        text = origin.decode("latin-1").strip().lower()
        allowed = self._match is not None and self._match(text) is not None
        if len(self._seen) >= _CACHE_LIMIT:
            self._seen.clear()  # many distinct origins: forget rather than grow
        self._seen[origin] = allowed
        return allowed

    def allow_origin_header(self, origin: bytes) -> bytes:
        """The ``Access-Control-Allow-Origin`` value for an allowed origin."""
        return b"*" if self.any else origin

    def refusal(self, origin: bytes) -> str:
        """What a refused caller is told."""
        shown = origin.decode("latin-1")[:200]
        return (
            f"origin {shown} may not call this node: add it to [rpc] cors_origins in "
            "chain.toml (docs/rpc.md, Browser origins)"
        )
