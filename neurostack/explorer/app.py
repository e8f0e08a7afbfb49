"""The composition root of the explorer: ``create_app(settings)`` builds the FastAPI app.

One ``APIRouter`` per area (``views/``); static files (CSS, JS, favicon) ship in the
package and are served from ``/static``; every error becomes a page, never a traceback:
``NotFound`` and unknown URLs → 404 with the message, the node unreachable → 503, a bug
→ 500 (logged here with its traceback, shown to the user as one sentence).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from hub_client import HubError

from .context import PACKAGE_DIR, Explorer, ExplorerSettings
from .errors import NodeUnavailable, NotFound
from .views import accounts, chain, home, models, search

log = logging.getLogger(__name__)


def create_app(settings: ExplorerSettings) -> FastAPI:
    """The explorer's ASGI app; its follower runs while the app's lifespan does."""
    explorer = Explorer(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        explorer.start()
        try:
            yield
        finally:
            explorer.stop()

    app = FastAPI(
        title="Neuro Stack explorer", lifespan=lifespan, docs_url=None, redoc_url=None,
        openapi_url=None,
    )  # fmt: skip
    app.state.explorer = explorer
    app.mount("/static", StaticFiles(directory=str(PACKAGE_DIR / "static")), name="static")
    for router in (home.router, chain.router, accounts.router, models.router, search.router):
        app.include_router(router)

    def page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
        try:
            return explorer.render(
                request, "error.html", status_code=status, title=title, message=message
            )
        except Exception:
            log.exception("rendering the error page failed")
            return HTMLResponse(f"<h1>{status}</h1>", status_code=status)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> HTMLResponse:
        return page(request, 404, "Not found", str(exc))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> HTMLResponse:
        if exc.status_code == 404:
            return page(request, 404, "Not found", "There is no such page on this explorer.")
        return page(request, exc.status_code, "Request refused", str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> HTMLResponse:
        return page(request, 404, "Not found", "That address does not name anything here.")

    @app.exception_handler(NodeUnavailable)
    async def unavailable(request: Request, exc: NodeUnavailable) -> HTMLResponse:
        return page(
            request, 503, "Node unavailable", f"{exc}. Is the node running? This page "
            "will work again as soon as it answers.",
        )  # fmt: skip

    @app.exception_handler(HubError)
    async def rpc_error(request: Request, exc: HubError) -> HTMLResponse:
        log.warning("the node answered an error: %s", exc)
        return page(request, 502, "The node answered an error", str(exc))

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception) -> HTMLResponse:
        log.exception("explorer page %s failed", request.url.path)
        return page(request, 500, "Internal error", "This page failed; the explorer's log has "
                    "the details.")  # fmt: skip

    @app.get("/health", include_in_schema=False)
    def health() -> JSONResponse:
        head = explorer.index.head()
        return JSONResponse(
            {
                "status": "ok",
                "indexedHead": head[0] if head else None,
                "nodeError": explorer.follower.last_error,
                "resets": explorer.follower.resets,
                "reorgs": explorer.follower.reorgs,
            }
        )

    return app
