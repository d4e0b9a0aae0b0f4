"""The framework's floor, for benchmarks to compare against: a sync Bolt app whose listeners only ack,
dispatched off the event loop with `run_in_threadpool` on Starlette under uvicorn, with the options
`extramile run` gives uvicorn (bot.server.serve). The same server and worker model, without ExtraMile.

    python bench/bare_bolt.py PORT SLACK_API_URL SIGNING_SECRET
"""

from __future__ import annotations

import sys


def serve(port: int, slack_url: str, signing_secret: str) -> None:
    import uvicorn
    from slack_bolt import Ack, App, BoltRequest
    from slack_sdk import WebClient
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    bolt = App(
        client=WebClient(token="xoxb-bench", base_url=slack_url),
        signing_secret=signing_secret,
        token_verification_enabled=False,
        process_before_response=False,
    )

    def ack_only(ack: Ack) -> None:
        ack()

    def nothing() -> None:
        """Events are acknowledged by Bolt itself."""

    bolt.command("/kudos")(ack_only)
    bolt.event("reaction_added")(nothing)

    async def events(request: Request) -> Response:
        body = (await request.body()).decode("utf-8")
        headers = {key: [value] for key, value in request.headers.items()}
        answer = await run_in_threadpool(bolt.dispatch, BoltRequest(body=body, headers=headers))
        return Response(content=answer.body, status_code=answer.status, headers=answer.first_headers())

    async def healthz(request: Request) -> Response:
        return Response("ok")

    web = Starlette(routes=[Route("/slack/events", events, methods=["POST"]), Route("/healthz", healthz)])
    uvicorn.Server(
        uvicorn.Config(web, host="127.0.0.1", port=port, backlog=2048, log_config=None, log_level="warning")
    ).run()


if __name__ == "__main__":
    serve(int(sys.argv[1]), sys.argv[2], sys.argv[3])
