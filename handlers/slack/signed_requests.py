"""Correctly signed Slack requests, for the demo and the end-to-end tests.

Slack signs `v0:{timestamp}:{raw body}` with the app's signing secret (HMAC-SHA256).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier


def event_callback(team_id: str, event: dict[str, Any], *, event_id: str, app_id: str) -> dict[str, Any]:
    """`event` in the envelope Slack's Events API posts it in, for an app installed with a bot user."""
    return {
        "token": "unused",
        "team_id": team_id,
        "api_app_id": app_id,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [{"team_id": team_id, "user_id": "UBOT", "is_bot": True}],
        "event": event,
    }


@dataclass(frozen=True)
class SlackResponse:
    status: int
    body: str

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class SignedSender:
    """Sends requests to the app's /slack/events as Slack would."""

    def __init__(self, app_url: str, signing_secret: str) -> None:
        self.endpoint = app_url.rstrip("/") + "/slack/events"
        self._verifier = SignatureVerifier(signing_secret)

    def headers(self, body: str, *, content_type: str, timestamp: int | None = None) -> dict[str, str]:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signature = self._verifier.generate_signature(timestamp=stamp, body=body)
        return {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature or "",
        }

    def post(
        self,
        body: str,
        *,
        content_type: str,
        headers: dict[str, str] | None = None,
        timestamp: int | None = None,
    ) -> SlackResponse:
        all_headers = self.headers(body, content_type=content_type, timestamp=timestamp)
        all_headers.update(headers or {})
        request = urllib.request.Request(
            self.endpoint, data=body.encode(), headers=all_headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return SlackResponse(response.status, response.read().decode())
        except urllib.error.HTTPError as error:
            return SlackResponse(error.code, error.read().decode())

    def command(self, form: dict[str, str], **kwargs: Any) -> SlackResponse:
        return self.post(urlencode(form), content_type="application/x-www-form-urlencoded", **kwargs)

    def interaction(self, payload: dict[str, Any], **kwargs: Any) -> SlackResponse:
        body = urlencode({"payload": json.dumps(payload)})
        return self.post(body, content_type="application/x-www-form-urlencoded", **kwargs)

    def event(
        self, envelope: dict[str, Any], *, retry_num: int | None = None, **kwargs: Any
    ) -> SlackResponse:
        headers = dict(kwargs.pop("headers", None) or {})
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        return self.post(json.dumps(envelope), content_type="application/json", headers=headers, **kwargs)
