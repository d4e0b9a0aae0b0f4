"""The ASGI application: Slack's endpoint and the operator's (health, readiness, metrics), on one port
that Teams can share later.

Bolt's sync App waits for `ack()` by polling in the calling thread, so it is dispatched on a worker
thread, never on the event loop (see PLATFORM_NOTES.md, "Serving, and a trap").
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from slack_bolt import App, BoltRequest, BoltResponse
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot import logs
from bot.metrics import Metrics
from storage.db import migration_status, ping

log = logging.getLogger(__name__)

# Enough worker threads that 100+ requests waiting on ack never queue behind each other.
DISPATCH_THREADS = 256
# Slack's payloads are a few kilobytes; anything near this is not from Slack.
MAX_BODY_BYTES = 1024 * 1024
# Slack's rule: a request signed more than five minutes ago may be a replay.
MAX_SIGNATURE_AGE_SECONDS = 300


def build_web(
    bolt: App,
    engine: Engine,
    *,
    signing_secret: str,
    metrics: Metrics,
    on_shutdown: Callable[[], object] | None = None,
    more_routes: Sequence[Route] = (),
) -> Starlette:
    secret = signing_secret.encode()

    async def slack_events(request: Request) -> Response:
        # Each request runs in its own task, so the id lives as long as the request, and the threads
        # that carry its work on copy it (bot.workers).
        logs.request_id.set(logs.new_request_id())
        # Verified before anything is parsed: an unsigned body is never decoded, parsed or logged.
        body = await _bounded_body(request)
        if body is None:
            log.info("refused a request over %d bytes", MAX_BODY_BYTES)
            return JSONResponse({"error": "request too large"}, status_code=413)
        if not _signed(secret, body, request.headers):
            log.info("refused a request with a missing, wrong or stale signature (%d bytes)", len(body))
            return JSONResponse({"error": "invalid request"}, status_code=401)
        try:
            bolt_request = BoltRequest(
                body=body.decode("utf-8"),
                query=request.url.query,
                headers={key: [value] for key, value in request.headers.items()},
            )
        except (ValueError, AttributeError, TypeError):  # not UTF-8, not JSON, or JSON of another shape
            log.warning("refused a signed request that is not a Slack payload (%d bytes)", len(body))
            return JSONResponse({"error": "malformed request"}, status_code=400)
        if not isinstance(bolt_request.body, dict):
            log.warning("refused a signed request that is not a Slack payload (%d bytes)", len(body))
            return JSONResponse({"error": "malformed request"}, status_code=400)
        request.state.slack_kind = slack_request_kind(bolt_request.body)
        bolt_response = await run_in_threadpool(bolt.dispatch, bolt_request)
        return Response(
            content=bolt_response.body,
            status_code=bolt_response.status,
            headers={key: values[0] for key, values in bolt_response.headers.items() if values},
        )

    async def healthz(_: Request) -> Response:
        try:
            await run_in_threadpool(ping, engine)
        except Exception as error:
            return JSONResponse({"ok": False, "error": type(error).__name__}, status_code=503)
        return JSONResponse({"ok": True})

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = DISPATCH_THREADS
        yield
        # uvicorn has stopped accepting and finished the requests in flight (SIGTERM, or a stop).
        if on_shutdown is not None:
            await run_in_threadpool(on_shutdown)

    return Starlette(
        routes=[
            Route("/slack/events", _counted(slack_events, metrics), methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            *_operator_routes(engine, metrics),
            *_oauth_routes(bolt),
            # Microsoft Teams' endpoint, when it is served.
            *more_routes,
        ],
        lifespan=lifespan,
    )


def _oauth_routes(bolt: App) -> list[Route]:
    """OAuth mode: the "Add to Slack" page and Slack's redirect back, handled by Bolt's OAuth flow
    (state checked against its cookie and the state store, the installation saved in our database)."""
    flow = bolt.oauth_flow
    if flow is None:
        return []

    def page(handle: Callable[[BoltRequest], BoltResponse]) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            bolt_request = BoltRequest(
                body="",
                query=request.url.query,
                headers={key: [value] for key, value in request.headers.items()},
            )
            bolt_response = await run_in_threadpool(handle, bolt_request)
            response = Response(content=bolt_response.body, status_code=bolt_response.status)
            # Several Set-Cookie headers must stay several (the state cookie, and its removal).
            for key, values in bolt_response.headers.items():
                for value in values:
                    response.headers.append(key, value)
            return response

        return endpoint

    return [
        Route(flow.install_path, page(flow.handle_installation), methods=["GET"]),
        Route(flow.redirect_uri_path, page(flow.handle_callback), methods=["GET"]),
    ]


# Request kinds as /metrics labels them; any other payload type is "other", so odd requests cannot add
# series. Requests refused before their body was parsed (unsigned, too large, malformed) are "unparsed".
_PAYLOAD_KINDS = {
    "event_callback": "event",
    "url_verification": "url_verification",
    "block_actions": "block_actions",
    "view_submission": "view_submission",
    "view_closed": "view_closed",
    "shortcut": "shortcut",
    "message_action": "message_action",
    "block_suggestion": "options",
}


def slack_request_kind(body: Mapping[str, Any]) -> str:
    if "command" in body:  # a slash command is a form with no "type"
        return "command"
    kind = body.get("type")
    return _PAYLOAD_KINDS.get(kind, "other") if isinstance(kind, str) else "other"


Endpoint = Callable[[Request], Awaitable[Response]]


def _counted(endpoint: Endpoint, metrics: Metrics) -> Endpoint:
    """Slack's endpoint, with every answer counted and timed by kind and status."""

    async def counted(request: Request) -> Response:
        # A duration, not a time of day: a monotonic timer, not the app's clock.
        started = time.perf_counter()
        status = 500  # unless an answer comes back
        try:
            response = await endpoint(request)
            status = response.status_code
            return response
        finally:
            kind = getattr(request.state, "slack_kind", "unparsed")
            metrics.request_answered(kind, status, time.perf_counter() - started)

    return counted


def _operator_routes(engine: Engine, metrics: Metrics) -> list[Route]:
    """Readiness and metrics, for the operator: unsigned, like /healthz. /metrics tells anyone who can
    reach it how busy every workspace is: expose it to the scraper only, never publicly."""

    async def readyz(_: Request) -> Response:
        try:
            status = await run_in_threadpool(migration_status, engine)
        except SQLAlchemyError as error:
            reason = f"the database did not answer: {type(error).__name__}"
            return JSONResponse({"ready": False, "reason": reason}, status_code=503)
        revision = ",".join(status.current) or None
        if status.unknown:
            reason = (
                f"the database is at {revision}, which this release does not know (a newer one migrated it)"
            )
        elif status.pending:
            reason = f"migrations pending ({', '.join(status.pending)}): run `extramile db upgrade`"
        else:
            return JSONResponse({"ready": True, "revision": revision})
        return JSONResponse({"ready": False, "reason": reason, "revision": revision}, status_code=503)

    async def scrape(request: Request) -> Response:
        body, content_type = await run_in_threadpool(metrics.exposition, request.headers.get("accept"))
        return Response(content=body, media_type=content_type)

    return [Route("/readyz", readyz, methods=["GET"]), Route("/metrics", scrape, methods=["GET"])]


async def _bounded_body(request: Request) -> bytes | None:
    """The raw body, or None past MAX_BODY_BYTES (stopping there, whatever Content-Length claims)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return None
    return bytes(body)


def _signed(secret: bytes, body: bytes, headers: Mapping[str, str]) -> bool:
    """Slack's signature: `v0=` + HMAC-SHA256 of `v0:{timestamp}:{raw body}`, signed in the last 5 minutes."""
    timestamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    if not (timestamp.isascii() and timestamp.isdigit()) or not signature.isascii():
        return False
    if abs(time.time() - int(timestamp)) > MAX_SIGNATURE_AGE_SECONDS:
        return False
    digest = hmac.new(secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(f"v0={digest}", signature)


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
        # log_config=None: uvicorn's lines go through the process's logging, like everybody's.
        config = uvicorn.Config(web, log_level="warning", log_config=None, lifespan="on", backlog=1024)
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


# Requests in flight get this long to finish after SIGTERM; then the lifespan shutdown runs.
GRACEFUL_SECONDS = 10


def serve(web: Starlette, *, port: int, host: str = "0.0.0.0") -> None:
    """Production serving: uvicorn with a deep accept backlog (a shallow one drops bursts). SIGTERM or
    SIGINT stops it gracefully, and then returns: a stop asked for and carried out is exit status 0."""
    import signal
    import sys
    from types import FrameType

    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(
            web,
            host=host,
            port=port,
            backlog=2048,
            # LOG_LEVEL and LOG_FORMAT decide (bot.logs), not uvicorn's own configuration.
            log_config=None,
            log_level=None,
            proxy_headers=True,
            timeout_graceful_shutdown=GRACEFUL_SECONDS,
        )
    )

    def stop(signum: int, frame: FrameType | None) -> None:
        server.should_exit = True

    # uvicorn handles the signal while it serves, then sends it again to the handler that was there
    # before: Python's default would turn a clean stop into a death by SIGTERM (143 in a container,
    # a crash to an orchestrator). This one asks uvicorn to stop, so a signal that arrives before
    # uvicorn listens still stops it gracefully, and one sent again after the stop changes nothing.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)
    server.run()
    if not server.started:
        sys.exit(3)  # uvicorn's status for a server that never started (uvicorn.run gives the same)
