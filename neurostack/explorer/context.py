"""The explorer as one object: settings, node reader, index, ABIs, follower, templates.

``create_app`` (``app.py``) builds one :class:`Explorer` and stores it in
``app.state.explorer``; every page handler reaches its collaborators through it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from hub_client import ChainInfo, HubError

from . import format as fmt
from .abi import AbiBook
from .follower import Follower
from .index import Index
from .node import NodeReader, ws_url_of
from .pending import PendingTracker

PACKAGE_DIR = Path(__file__).resolve().parent


@dataclass
class ExplorerSettings:
    """Deployment settings (the CLI reads them from options and passes them down)."""

    rpc_url: str
    data_dir: Path
    project_dir: Path | None = None  # a chain project: its contracts/artifacts/*.json
    public_rpc_url: str | None = None  # what browsers use for newHeads (default: rpc_url)
    poll_interval: float = 0.2
    page_timeout: float = 10.0  # seconds a page waits for the node
    index_timeout: float = 120.0  # the follower waits longer: a full block's receipts are slow
    follow: bool = True  # False: no background threads (tests drive sync_once)
    clock: Callable[[], float] = time.time
    transport: httpx.BaseTransport | None = field(default=None, repr=False)


class Explorer:
    """Everything a page needs, built once per app."""

    def __init__(self, settings: ExplorerSettings) -> None:
        self.settings = settings
        self.reader = NodeReader(
            settings.rpc_url, timeout=settings.page_timeout, transport=settings.transport
        )
        # Its own client: a page never queues behind a slow block fetch.
        self.index_reader = NodeReader(
            settings.rpc_url, timeout=settings.index_timeout, transport=settings.transport
        )
        self.index = Index(Path(settings.data_dir) / "index.sqlite")
        folders = []
        if settings.project_dir is not None:
            folders.append(Path(settings.project_dir) / "contracts" / "artifacts")
        self.abis = AbiBook(folders)
        self.follower = Follower(
            self.index_reader, self.index, clock=settings.clock,
            poll_interval=settings.poll_interval,
        )  # fmt: skip
        self.pending = PendingTracker(
            self.index_reader, self.index, clock=settings.clock,
            poll_interval=settings.poll_interval,
        )  # fmt: skip
        self.templates = Jinja2Templates(directory=str(PACKAGE_DIR / "templates"))
        self.templates.env.filters.update(fmt.FILTERS)
        self._info: tuple[str | None, ChainInfo] | None = None
        self._info_lock = threading.Lock()

    def start(self) -> None:
        if self.settings.follow:
            self.follower.start()
            self.pending.start()

    def stop(self) -> None:
        self.follower.stop()
        self.pending.stop()
        self.reader.close()
        self.index_reader.close()
        self.index.close()

    @property
    def ws_url(self) -> str:
        return ws_url_of(self.settings.public_rpc_url or self.settings.rpc_url)

    def chain_info(self) -> ChainInfo | None:
        """``neuro_chainInfo``, asked again after the chain changed (``None`` if unknown)."""
        genesis = self.index.meta("genesis")
        with self._info_lock:
            if self._info is None or self._info[0] != genesis:
                try:
                    self._info = (genesis, self.reader.rollup.chain_info())
                except HubError:
                    return None
            return self._info[1]

    def render(
        self, request: Request, template: str, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        info = self.chain_info()
        return self.templates.TemplateResponse(
            request,
            template,
            {
                "chain": info,
                "symbol": info.token_symbol if info else "ETH",
                "decimals": info.token_decimals if info else 18,
                "now": self.settings.clock(),
                "ago": fmt.ago,
                "explorer": self,
                **context,
            },
            status_code=status_code,
        )
