"""The ASGI application: Slack's endpoint and a health check, on one port that Teams can share later.

Bolt's sync App waits for `ack()` by polling in the calling thread, so it is dispatched on a worker
thread, never on the event loop (see PLATFORM_NOTES.md, "Serving, and a trap").
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from slack_bolt import App, BoltRequest
from sqlalchemy import Engine, text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

# Enough worker threads that 100+ requests waiting on ack never queue behind each other.
DISPATCH_THREADS = 256


def build_web(bolt: App, engine: Engine) -> Starlette:
    async def slack_events(request: Request) -> Response:
        body = (await request.body()).decode("utf-8")
        bolt_request = BoltRequest(
            body=body,
            query=request.url.query,
            headers={key: [value] for key, value in request.headers.items()},
        )
        bolt_response = await run_in_threadpool(bolt.dispatch, bolt_request)
        return Response(
            content=bolt_response.body,
            status_code=bolt_response.status,
            headers={key: values[0] for key, values in bolt_response.headers.items() if values},
        )

    async def healthz(_: Request) -> Response:
        try:
            await run_in_threadpool(_ping, engine)
        except Exception as error:
            return JSONResponse({"ok": False, "error": type(error).__name__}, status_code=503)
        return JSONResponse({"ok": True})

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = DISPATCH_THREADS
        yield

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def _ping(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


class RunningServer:
    """A uvicorn server on a thread, bound to 127.0.0.1 on a free port: the demo's and the tests'."""

    def __init__(self, web: Starlette) -> None:
        import socket
        import threading

        import uvicorn

        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(1024)
        port = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(web, log_level="warning", lifespan="on", backlog=1024)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )
        self._thread.start()
        while not self._server.started and self._thread.is_alive():
            self._thread.join(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)
        self._socket.close()


def serve(web: Starlette, *, port: int, host: str = "0.0.0.0") -> None:
    """Production serving: uvicorn with a deep accept backlog (a shallow one drops bursts)."""
    import uvicorn

    uvicorn.run(web, host=host, port=port, backlog=2048, log_level="info", proxy_headers=True)
