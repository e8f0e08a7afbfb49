"""Coalescing: concurrent HTTP requests for a batchable method answered as one batch.

Wallets and scripts send ``eth_sendRawTransaction`` one request at a time, from many
connections at once. Handing each request to its own worker thread costs a thread hop and
a journal fsync per transaction, and on two cores the worker threads spend their time
handing the GIL to one another. The :class:`Coalescer` instead has one thread of its own:
the event loop queues each single request for a method with a batch handler (see
``Dispatcher.batchable``), the thread takes everything queued so far and answers it with
``Dispatcher.handle_together``, exactly as if the requests had come as one JSON-RPC batch
(admitted in arrival order, one fsync for all of them, each hash sent only once it is
durable), and each reply goes back to its own connection.

A request that arrives alone is answered alone, as fast as through a worker thread; the
grouping only happens when requests queue up behind one being admitted.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from typing import Any

from .dispatch import Dispatcher

log = logging.getLogger("sequencer.rpc")

_STOP = object()


class Coalescer:
    """One thread answering queued single requests in groups of at most ``max_group``."""

    def __init__(self, dispatcher: Dispatcher, max_group: int) -> None:
        self._dispatcher = dispatcher
        self._max_group = max_group
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def wants(self, payload: Any) -> bool:
        """Whether ``payload`` (parsed JSON) is a single request this coalescer answers."""
        return isinstance(payload, dict) and self._dispatcher.batchable(payload.get("method"))

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._thread = threading.Thread(target=self._run, name="rpc-coalescer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Answer what is queued, then end the thread."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(_STOP)
            thread.join(timeout)

    async def submit(self, payload: Any) -> bytes | None:
        """The encoded reply to ``payload`` (None for a notification)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bytes | None] = loop.create_future()
        self._queue.put((payload, future))
        return await future

    def _run(self) -> None:
        stopping = False
        while not stopping:
            group = [self._queue.get()]
            while len(group) < self._max_group:
                try:
                    group.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if _STOP in group:
                stopping = True
                group = [item for item in group if item is not _STOP]
            if group:
                self._answer(group)

    def _answer(self, group: list[tuple[Any, asyncio.Future[bytes | None]]]) -> None:
        futures = [future for _, future in group]
        try:
            replies: list[Any] = self._dispatcher.handle_together([p for p, _ in group])
        except Exception as exc:  # a bug: each waiting request answers 500
            log.exception("unexpected error while answering coalesced JSON-RPC requests")
            replies = [exc] * len(group)
        loop = self._loop
        if loop is None or loop.is_closed():
            return  # the server is gone; nobody is waiting any more
        loop.call_soon_threadsafe(_resolve, list(zip(futures, replies, strict=True)))


def _resolve(answers: list[tuple[asyncio.Future[bytes | None], Any]]) -> None:
    for future, reply in answers:
        if future.done():  # the request was cancelled (client gone, server stopping)
            continue
        if isinstance(reply, BaseException):
            future.set_exception(reply)
        else:
            future.set_result(reply)
