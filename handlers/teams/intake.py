"""What `POST /api/messages` accepts before the SDK sees it.

The SDK answers 500 to a body that is JSON but not an activity, and to an activity it cannot answer (no
`serviceUrl`, or a relative one): those are the sender's mistakes, so they get a 400 here. A body is read
up to a limit, whether or not it declared its length, so a huge one costs no more than the limit.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from microsoft_agents.activity import Activity
from pydantic import ValidationError
from starlette.requests import Request
from starlette.types import Message


class TooLarge(Exception):
    pass


async def read_within(request: Request, limit: int) -> bytes:
    """The body, or TooLarge as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


def problem(body: bytes) -> str | None:
    """Why this body is no activity ExtraMile can answer, or None when it is one."""
    try:
        data: Any = json.loads(body)
    except (ValueError, RecursionError):
        return "the body is not JSON"
    if not isinstance(data, dict):
        return "the body is not an activity"
    try:
        activity = Activity.model_validate(data)
    except (ValidationError, RecursionError):
        return "the body is not an activity"
    if not activity.type or activity.conversation is None or not activity.conversation.id:
        return "an activity needs a type and a conversation"
    url = urlsplit(activity.service_url or "")
    if url.scheme not in ("http", "https") or not url.netloc:
        return "an activity needs a serviceUrl to answer to"
    return None


def replayed(request: Request, body: bytes) -> Request:
    """The same request, its body readable again (the SDK reads it itself)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            # Whatever comes after the body (a disconnect) comes from the connection itself.
            return await request.receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(request.scope, receive)
