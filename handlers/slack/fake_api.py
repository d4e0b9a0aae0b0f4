"""A fake Slack Web API server for the demo and end-to-end tests.

The bot talks to it only through ``slack_sdk.WebClient(base_url=fake.url)``, so every answer mimics the
shape of the real Slack Web API (``{"ok": true, ...}`` / ``{"ok": false, "error": ...}``), including the
error codes Slack uses. Stdlib only, so it can run anywhere the tests run.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import email.parser
import email.policy
import hashlib
import itertools
import json
import math
import re
import secrets
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self, cast
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

__all__ = ["Call", "FakeSlack"]

# What an install grants (the fake does not check scopes; the bot records what it was given).
_INSTALL_SCOPES = ("commands", "chat:write", "users:read", "im:write", "files:write")
# Slack accepts these as JSON-encoded strings in form posts; decoding them lets tests assert on structure.
_JSON_PARAMS = ("blocks", "view", "metadata", "attachments")

# zoneinfo only knows abbreviations; Slack shows long names. Unknown abbreviations fall back to themselves.
_TZ_LABELS = {
    "GMT": "Greenwich Mean Time",
    "UTC": "Coordinated Universal Time",
    "BST": "British Summer Time",
    "WET": "Western European Time",
    "WEST": "Western European Summer Time",
    "CET": "Central European Time",
    "CEST": "Central European Summer Time",
    "EET": "Eastern European Time",
    "EEST": "Eastern European Summer Time",
    "MSK": "Moscow Time",
    "IST": "India Standard Time",
    "JST": "Japan Standard Time",
    "KST": "Korea Standard Time",
    "HKT": "Hong Kong Time",
    "AEST": "Australian Eastern Standard Time",
    "AEDT": "Australian Eastern Daylight Time",
    "NZST": "New Zealand Standard Time",
    "NZDT": "New Zealand Daylight Time",
    "EST": "Eastern Standard Time",
    "EDT": "Eastern Daylight Time",
    "CST": "Central Standard Time",
    "CDT": "Central Daylight Time",
    "MST": "Mountain Standard Time",
    "MDT": "Mountain Daylight Time",
    "PST": "Pacific Standard Time",
    "PDT": "Pacific Daylight Time",
    "AKST": "Alaska Standard Time",
    "AKDT": "Alaska Daylight Time",
    "HST": "Hawaii Standard Time",
}
# Abbreviations that mean something else outside the zone the table above assumes.
_TZ_LABEL_OVERRIDES = {
    ("Europe/Dublin", "IST"): "Irish Standard Time",
    ("Asia/Shanghai", "CST"): "China Standard Time",
    ("Asia/Taipei", "CST"): "China Standard Time",
    ("Asia/Jerusalem", "IST"): "Israel Standard Time",
}


@dataclass(frozen=True)
class Call:
    """One request the fake received (recorded even when it was failed or rate limited)."""

    method: str
    params: dict[str, Any]
    token: str | None
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))


@dataclass
class _User:
    id: str
    name: str
    real_name: str
    tz: str
    is_bot: bool
    deleted: bool
    is_restricted: bool
    email: str | None
    bot_id: str | None = None
    is_admin: bool = False


@dataclass
class _Channel:
    id: str
    name: str
    is_private: bool
    bot_is_member: bool
    is_mpim: bool = False
    members: list[str] = field(default_factory=list)
    created: int = field(default_factory=lambda: int(time.time()))


@dataclass
class _Reply:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class _Bucket:
    """A token bucket: `burst` calls at once, then `rate` a second."""

    def __init__(self, rate: float, burst: int, at: float) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.tokens = float(burst)
        self.at = at

    def wait(self, now: float) -> float:
        """Seconds until a call would be let through (0: now)."""
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1


@dataclass
class _PostLimits:
    """Slack's limits on chat.postMessage: each channel, and the whole workspace."""

    per_channel: float
    channel_burst: int
    workspace: _Bucket
    clock: Callable[[], float]
    channels: dict[str, _Bucket] = field(default_factory=dict)

    def admit(self, channel: str) -> float:
        """0 when the post is let through (it uses up its tokens), else the seconds to wait."""
        now = self.clock()
        bucket = self.channels.get(channel)
        if bucket is None:
            bucket = self.channels[channel] = _Bucket(self.per_channel, self.channel_burst, now)
        wait = max(bucket.wait(now), self.workspace.wait(now))
        if wait == 0:
            bucket.take()
            self.workspace.take()
        return wait


def _ok(**fields: Any) -> _Reply:
    return _Reply(200, {"ok": True, **fields})


def _err(error: str, *messages: str) -> _Reply:
    body: dict[str, Any] = {"ok": False, "error": error}
    if messages:
        # Slack explains invalid_arguments this way; harmless elsewhere.
        body["response_metadata"] = {"messages": list(messages)}
    return _Reply(200, body)


def _truthy(value: Any) -> bool:
    # Form posts carry booleans as "1"/"true"/"0"/"false"; JSON posts carry real booleans.
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def _str_param(params: dict[str, Any], key: str) -> str:
    value = params.get(key)
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


class _Server(ThreadingHTTPServer):
    # The bot fans out many concurrent calls in load tests; the default backlog of 5 drops connections.
    request_queue_size = 1024
    daemon_threads = True
    fake: FakeSlack


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeSlack/1.0"

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        # Silence the per-request stderr log; tests inspect FakeSlack.calls instead.
        return

    def _handle(self) -> None:
        fake = cast(_Server, self.server).fake
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        try:
            reply = fake._handle_http(
                path=split.path,
                query=split.query,
                content_type=self.headers.get("Content-Type") or "",
                body=body,
                authorization=self.headers.get("Authorization"),
            )
        except (LookupError, TypeError, ValueError, AttributeError):
            # A bug in the fake must be loud, not look like a Slack answer the bot could handle.
            traceback.print_exc()
            reply = _Reply(500, {"ok": False, "error": "fatal_error"})
        data = json.dumps(reply.body).encode("utf-8")
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class FakeSlack:
    """In-memory Slack workspace served over HTTP on 127.0.0.1 (random port)."""

    def __init__(
        self,
        *,
        team_id: str = "T0001",
        team_name: str = "Acme",
        bot_user_id: str = "UBOT",
        bot_id: str = "BBOT",
    ) -> None:
        self.team_id = team_id
        self.team_name = team_name
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = "A" + bot_id[1:]
        self.domain = re.sub(r"[^a-z0-9-]", "", team_name.lower()) or "workspace"
        self._lock = threading.Lock()
        self._calls: list[Call] = []
        self._users: dict[str, _User] = {}
        self._channels: dict[str, _Channel] = {}
        self._usergroups: dict[str, tuple[str, list[str]]] = {}
        self._messages: dict[str, list[dict[str, Any]]] = {}
        self._open_dms: set[str] = set()
        self._views: dict[str, dict[str, Any]] = {}
        self._home_views: dict[str, str] = {}
        self._failures: dict[str, deque[tuple[str, str | None]]] = {}
        self._rate_limits: dict[str, deque[int]] = {}
        self._post_limits: _PostLimits | None = None
        self._delays: dict[str, float] = {}
        self._last_ts_us = 0
        self._view_seq = itertools.count(1)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        # Slack answers users.info for the app's own bot user too.
        self._users[bot_user_id] = _User(
            id=bot_user_id,
            name="extramile",
            real_name="ExtraMile",
            tz="America/Los_Angeles",
            is_bot=True,
            deleted=False,
            is_restricted=False,
            email=None,
            bot_id=bot_id,
        )
        self._handlers: dict[str, Callable[[dict[str, Any]], _Reply]] = {
            "auth.test": self._auth_test,
            "users.info": self._users_info,
            "users.lookupByEmail": self._users_lookup_by_email,
            "conversations.open": self._conversations_open,
            "conversations.info": self._conversations_info,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "conversations.members": self._conversations_members,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "views.push": self._views_push,
            "views.publish": self._views_publish,
            "usergroups.users.list": self._usergroups_users_list,
            "emoji.list": self._emoji_list,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "files.completeUploadExternal": self._files_complete_upload_external,
        }
        # Uploaded files by id: {"name", "length", "data" (bytes, once uploaded), "shared_to"}.
        self._files: dict[str, dict[str, Any]] = {}
        self._file_seq = itertools.count(1)
        self._upload_failures = 0
        self._custom_emoji: dict[str, str] = {}
        # OAuth (see register_app): the app's credentials, and what this workspace issued with them.
        self._oauth_app: tuple[str, str] | None = None
        self._token_lifetime: int | None = None
        self._codes: dict[str, str] = {}
        self._tokens: dict[str, float | None] = {}
        self._refresh_tokens: set[str] = set()
        self._revoked: set[str] = set()
        self._token_seq = itertools.count(1)
        # Other workspaces whose API calls arrive here (one Slack API address for every workspace).
        self._peers: list[FakeSlack] = []
        self._handlers["oauth.v2.access"] = self._oauth_v2_access

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Self:
        if self._server is not None:
            raise RuntimeError("FakeSlack already started")
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-slack", daemon=True
        )
        thread.start()
        self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server, self._thread = None, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self if self._server is not None else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeSlack not started")
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}/api/"

    def response_url(self, tag: str) -> str:
        """A slash command's or an action's `response_url` that lands here, recorded as method
        "response_url" with params {"tag": tag, ...the JSON posted}."""
        return self.url.removesuffix("api/") + f"hooks/{tag}"

    # ------------------------------------------------------------------ OAuth and several workspaces

    def register_app(self, client_id: str, client_secret: str, *, token_lifetime: int | None = None) -> None:
        """Installs happen through OAuth from now on: only tokens issued by `oauth.v2.access` work here.
        `token_lifetime` (seconds) turns token rotation on: tokens expire, and come with refresh tokens."""
        with self._lock:
            self._oauth_app = (client_id, client_secret)
            self._token_lifetime = token_lifetime

    def set_token_lifetime(self, seconds: int | None) -> None:
        """How long tokens issued from now on live (None: forever)."""
        with self._lock:
            self._token_lifetime = seconds

    def authorization_code(self, installer_id: str) -> str:
        """What Slack adds to the redirect once `installer_id` approves the install: a one-time code."""
        with self._lock:
            code = f"{self.team_id}.{secrets.token_hex(8)}"
            self._codes[code] = installer_id
            return code

    def federate(self, other: FakeSlack) -> None:
        """`other` is another workspace of the same app: its API calls may arrive at this address,
        and go to it by the token (or OAuth code) they carry."""
        assert self._oauth_app is not None, "register_app first"
        other.register_app(*self._oauth_app, token_lifetime=self._token_lifetime)
        with self._lock:
            self._peers.append(other)

    def uninstall(self) -> None:
        """The workspace removes the app: every token it issued stops working."""
        with self._lock:
            self._revoked |= set(self._tokens) | self._refresh_tokens

    def expire_tokens(self) -> None:
        """Every token issued so far is past its expiry (refresh tokens still work)."""
        with self._lock:
            self._tokens = dict.fromkeys(self._tokens, time.time() - 1)

    @property
    def issued_tokens(self) -> list[str]:
        with self._lock:
            return list(self._tokens)

    def _owns(self, token: str | None, params: dict[str, Any]) -> bool:
        with self._lock:
            return (
                (token is not None and token in self._tokens)
                or params.get("code") in self._codes
                or params.get("refresh_token") in self._refresh_tokens
            )

    def _peer_for(self, token: str | None, params: dict[str, Any]) -> FakeSlack | None:
        for peer in self._peers:
            if peer._owns(token, params):
                return peer
        return None

    # ------------------------------------------------------------------ inspection

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self._calls if c.method == method]

    def clear_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    def messages(self, channel_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._messages.get(channel_id, []))

    # ------------------------------------------------------------------ workspace setup

    def add_message(
        self, channel_id: str, user_id: str, text: str, *, ts: str | None = None, thread_ts: str | None = None
    ) -> str:
        """A message a person wrote (not the bot), so reactions and shortcuts have something to point at;
        with `thread_ts`, a reply in that thread."""
        with self._lock:
            ts = ts or self._next_ts()
            message: dict[str, Any] = {
                "type": "message",
                "user": user_id,
                "text": text,
                "ts": ts,
                "team": self.team_id,
                "blocks": [],
            }
            if thread_ts:
                message["thread_ts"] = thread_ts
            self._messages.setdefault(channel_id, []).append(message)
            return ts

    def write(
        self, channel_id: str, user_id: str, text: str, *, ts: str, thread_ts: str | None = None
    ) -> dict[str, Any]:
        """A person writes in a channel: the message is kept, and the `message` event Slack would send
        the app about it is returned."""
        self.add_message(channel_id, user_id, text, ts=ts, thread_ts=thread_ts)
        event: dict[str, Any] = {
            "type": "message",
            "user": user_id,
            "text": text,
            "ts": ts,
            "channel": channel_id,
            "channel_type": "channel",
            "event_ts": ts,
        }
        if thread_ts:
            with self._lock:
                parent = self._find_message(channel_id, thread_ts)
            event.update(thread_ts=thread_ts, parent_user_id=parent["user"] if parent else None)
        return event

    def edit_message(self, channel_id: str, ts: str, text: str) -> None:
        """A person changed what their message says."""
        with self._lock:
            message = self._find_message(channel_id, ts)
            assert message is not None, f"no message {ts} in {channel_id}"
            message["text"] = text
            message["edited"] = {"user": message["user"], "ts": self._next_ts()}

    def delete_message(self, channel_id: str, ts: str) -> None:
        """A person deleted their message. One that started a thread stays as Slack's tombstone."""
        with self._lock:
            message = self._find_message(channel_id, ts)
            assert message is not None, f"no message {ts} in {channel_id}"
            if any(m.get("thread_ts") == ts and m["ts"] != ts for m in self._messages[channel_id]):
                message.update(subtype="tombstone", text="This message was deleted.", user="USLACKBOT")
                return
            self._messages[channel_id].remove(message)

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        real_name: str | None = None,
        tz: str = "Europe/London",
        is_bot: bool = False,
        deleted: bool = False,
        is_restricted: bool = False,
        email: str | None = None,
        is_admin: bool = False,
    ) -> None:
        ZoneInfo(tz)  # fail at setup time, not inside a request, on a bad zone name
        user = _User(
            id=user_id,
            name=name,
            real_name=real_name if real_name is not None else name,
            tz=tz,
            is_bot=is_bot,
            deleted=deleted,
            is_restricted=is_restricted,
            email=email,
            bot_id=("B" + user_id[1:]) if is_bot else None,
            is_admin=is_admin,
        )
        with self._lock:
            self._users[user_id] = user

    def add_channel(
        self,
        channel_id: str,
        name: str,
        *,
        is_private: bool = False,
        bot_is_member: bool = True,
        members: list[str] | None = None,
    ) -> None:
        with self._lock:
            self._channels[channel_id] = _Channel(
                id=channel_id,
                name=name,
                is_private=is_private,
                bot_is_member=bot_is_member,
                members=list(members or []),
            )

    def add_usergroup(self, usergroup_id: str, handle: str, user_ids: list[str]) -> None:
        with self._lock:
            self._usergroups[usergroup_id] = (handle, list(user_ids))

    def add_custom_emoji(self, name: str) -> None:
        with self._lock:
            self._custom_emoji[name] = f"https://emoji.slack-edge.com/{self.team_id}/{name}/0.png"

    def fail_next_upload(self, *, times: int = 1) -> None:
        """The next `times` uploads of file bytes (step 2 of the upload flow) answer HTTP 500."""
        with self._lock:
            self._upload_failures += times

    def files(self) -> list[dict[str, Any]]:
        """Every file uploaded, with its bytes and where it was shared."""
        with self._lock:
            return copy.deepcopy(list(self._files.values()))

    def fail_next(self, method: str, error: str, *, times: int = 1, channel: str | None = None) -> None:
        """The next `times` calls of `method` (only those to `channel`, when given) answer `error`."""
        with self._lock:
            self._failures.setdefault(method, deque()).extend([(error, channel)] * times)

    def rate_limit_next(self, method: str, *, retry_after: int = 1, times: int = 1) -> None:
        with self._lock:
            self._rate_limits.setdefault(method, deque()).extend([retry_after] * times)

    def limit_posts(
        self,
        *,
        per_channel: float = 1.0,
        channel_burst: int = 3,
        workspace: float = 50.0,
        workspace_burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """From now on chat.postMessage is limited as Slack limits it: `per_channel` posts a second in each
        conversation after a burst of `channel_burst`, and `workspace` a second across the workspace after
        a burst of `workspace_burst` (default: one second's worth). A post past either is answered 429
        `ratelimited` with `Retry-After` in whole seconds, and uses up nothing. `clock` (seconds, e.g.
        time.monotonic) lets a test move time instead of sleeping."""
        burst = workspace_burst if workspace_burst is not None else max(1, round(workspace))
        with self._lock:
            self._post_limits = _PostLimits(
                per_channel=per_channel,
                channel_burst=channel_burst,
                workspace=_Bucket(workspace, burst, clock()),
                clock=clock,
            )

    def slow_down(self, method: str, seconds: float) -> None:
        """Every later call of `method` is answered `seconds` late (0: at once again), as a slow Slack
        would; other calls are not held up. Makes a delivery pass last long enough to interrupt."""
        with self._lock:
            self._delays[method] = seconds

    # ------------------------------------------------------------------ request plumbing

    def _handle_http(
        self, *, path: str, query: str, content_type: str, body: bytes, authorization: str | None
    ) -> _Reply:
        if path.startswith("/hooks/"):
            return self._response_url(path[len("/hooks/") :], body)
        if path.startswith("/upload/"):
            return self._upload(path[len("/upload/") :], body)
        method = path[len("/api/") :] if path.startswith("/api/") else path.lstrip("/")
        params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
        parse_error: str | None = None
        try:
            params.update(_parse_body(content_type, body))
        except ValueError:
            parse_error = "invalid_json" if "json" in content_type else "invalid_form_data"
        for key in _JSON_PARAMS:
            value = params.get(key)
            if isinstance(value, str) and value:
                # Undecodable values stay as sent; the method decides whether that is an error.
                with contextlib.suppress(ValueError):
                    params[key] = json.loads(value)
        token: str | None = None
        if authorization and authorization.lower().startswith("bearer "):
            token = authorization[len("bearer ") :].strip() or None
        elif authorization and authorization.lower().startswith("basic "):
            # oauth.v2.access: the app's client id and secret, as HTTP basic auth.
            with contextlib.suppress(ValueError):
                client_id, _, client_secret = (
                    base64.b64decode(authorization[len("basic ") :]).decode().partition(":")
                )
                params.setdefault("client_id", client_id)
                params.setdefault("client_secret", client_secret)
        elif isinstance(params.get("token"), str) and params["token"]:
            token = params["token"]  # Slack also accepts the token as a form field
        peer = self._peer_for(token, params)
        if peer is not None:
            return peer._handle_http(
                path=path, query=query, content_type=content_type, body=body, authorization=authorization
            )

        with self._lock:
            delay = self._delays.get(method, 0.0)
        if delay > 0:
            time.sleep(delay)  # outside the lock: only this call is slow
        with self._lock:
            reply = self._answer(method, params, token, parse_error)
            self._calls.append(
                Call(
                    method=method,
                    params=params,
                    token=token,
                    status=reply.status,
                    response=copy.deepcopy(reply.body),
                )
            )
            return reply

    def _response_url(self, tag: str, body: bytes) -> _Reply:
        # Slack's response_url takes a JSON message and needs no token: the URL is the secret.
        try:
            posted = json.loads(body or b"{}")
        except ValueError:
            posted = None
        with self._lock:
            reply = (
                _ok() if isinstance(posted, dict) else _Reply(400, {"ok": False, "error": "invalid_payload"})
            )
            params = {"tag": tag, **posted} if isinstance(posted, dict) else {"tag": tag}
            self._calls.append(
                Call(
                    method="response_url", params=params, token=None, status=reply.status, response=reply.body
                )
            )
            return reply

    def _answer(
        self, method: str, params: dict[str, Any], token: str | None, parse_error: str | None
    ) -> _Reply:
        # Rate limiting happens in front of everything else at Slack, so it wins over a queued failure.
        limits = self._rate_limits.get(method)
        if limits:
            retry_after = limits.popleft()
            return _Reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)})
        if method == "chat.postMessage" and self._post_limits is not None:
            channel = _str_param(params, "channel")
            # A post to a user id goes to the app's DM with them: the same conversation as its D id.
            wait = self._post_limits.admit("D" + channel if channel[:1] in ("U", "W") else channel)
            if wait > 0:
                # Slack says how long in whole seconds, rounded up: never "0".
                retry_after = max(1, math.ceil(wait - 1e-9))  # 1e-9: float noise must not add a second
                return _Reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)})
        failures = self._failures.get(method)
        if failures:
            for queued in list(failures):
                error, only_channel = queued
                if only_channel is None or params.get("channel") == only_channel:
                    failures.remove(queued)
                    return _err(error)
        handler = self._handlers.get(method)
        if handler is None:
            return _err("unknown_method")
        if method == "oauth.v2.access":
            return handler(params)
        if token is None:
            return _err("not_authed")
        if token == "xoxb-invalid":
            return _err("invalid_auth")
        if self._oauth_app is not None:
            # Installed through OAuth: only the tokens this workspace issued, while they are good.
            if token in self._revoked:
                return _err("token_revoked")
            if token not in self._tokens:
                return _err("invalid_auth")
            expires_at = self._tokens[token]
            if expires_at is not None and time.time() >= expires_at:
                return _err("token_expired")
        if parse_error is not None:
            return _err(parse_error)
        return handler(params)

    # ------------------------------------------------------------------ helpers (lock held)

    def _next_ts(self) -> str:
        # Real-clock based so the bot can compare ts with "now", but strictly increasing and unique.
        now_us = time.time_ns() // 1000
        self._last_ts_us = max(now_us, self._last_ts_us + 1)
        return f"{self._last_ts_us // 1_000_000}.{self._last_ts_us % 1_000_000:06d}"

    def _dm_user(self, channel_id: str) -> _User | None:
        if channel_id.startswith("D"):
            return self._users.get(channel_id[1:])
        return None

    def _channel_by_name(self, name: str) -> _Channel | None:
        return next((c for c in self._channels.values() if c.name == name), None)

    def _resolve_post_target(self, raw: str) -> tuple[str, str | None]:
        """Where a chat.* call posts: (channel id, error)."""
        if not raw:
            return "", "channel_not_found"
        if raw[0] in "UW" and raw in self._users:
            # Slack posts a user ID into the app's DM with that user and answers with the D id.
            self._open_dms.add("D" + raw)
            return "D" + raw, None
        if self._dm_user(raw) is not None:
            self._open_dms.add(raw)
            return raw, None
        channel = self._channels.get(raw) or self._channel_by_name(raw.removeprefix("#"))
        if channel is None:
            return "", "channel_not_found"
        if not channel.bot_is_member:
            # A private channel the bot is not in is invisible to it; a public one is visible but closed.
            return "", "channel_not_found" if channel.is_private else "not_in_channel"
        return channel.id, None

    def _resolve_existing(self, raw: str) -> tuple[str, str | None]:
        """A conversation ID the bot can see (chat.update/delete/getPermalink take IDs only)."""
        if self._dm_user(raw) is not None:
            return raw, None
        channel = self._channels.get(raw)
        if channel is None or (channel.is_private and not channel.bot_is_member):
            return "", "channel_not_found"
        return channel.id, None

    def _find_message(self, channel_id: str, ts: str) -> dict[str, Any] | None:
        return next((m for m in self._messages.get(channel_id, []) if m["ts"] == ts), None)

    def _bot_profile(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "app_id": self.app_id,
            "name": "ExtraMile",
            "icons": {},
            "deleted": False,
            "updated": 1700000000,
            "team_id": self.team_id,
        }

    def _user_object(self, user: _User) -> dict[str, Any]:
        now = datetime.now(ZoneInfo(user.tz))
        offset = now.utcoffset()
        abbreviation = now.tzname() or ""
        label = _TZ_LABEL_OVERRIDES.get((user.tz, abbreviation)) or _TZ_LABELS.get(abbreviation, abbreviation)
        profile: dict[str, Any] = {
            "real_name": user.real_name,
            "real_name_normalized": user.real_name,
            "display_name": user.name,
            "display_name_normalized": user.name,
            "first_name": user.real_name.split(" ")[0],
            "last_name": " ".join(user.real_name.split(" ")[1:]),
            "status_text": "",
            "status_emoji": "",
            "avatar_hash": "g" + user.id.lower()[:11],
            "team": self.team_id,
        }
        if user.email is not None:
            profile["email"] = user.email
        if user.bot_id is not None:
            profile["bot_id"] = user.bot_id
            profile["api_app_id"] = self.app_id if user.id == self.bot_user_id else ""
            profile["always_active"] = False
        return {
            "id": user.id,
            "team_id": self.team_id,
            "name": user.name,
            "deleted": user.deleted,
            "color": "9f69e7",
            "real_name": user.real_name,
            "tz": user.tz,
            "tz_label": label,
            "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
            "profile": profile,
            "is_admin": user.is_admin,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": user.is_restricted,
            "is_ultra_restricted": False,
            "is_bot": user.is_bot,
            "is_app_user": False,
            "updated": 1700000000,
            "is_email_confirmed": user.email is not None,
        }

    def _im_object(self, channel_id: str, user: _User) -> dict[str, Any]:
        return {
            "id": channel_id,
            "created": 1700000000,
            "is_im": True,
            "is_org_shared": False,
            "user": user.id,
            "is_user_deleted": user.deleted,
            "priority": 0,
        }

    def _channel_object(self, channel: _Channel) -> dict[str, Any]:
        return {
            "id": channel.id,
            "name": channel.name,
            "is_channel": not channel.is_private,
            "is_group": channel.is_private and not channel.is_mpim,
            "is_im": False,
            "is_mpim": channel.is_mpim,
            "is_private": channel.is_private,
            "created": channel.created,
            "is_archived": False,
            "is_general": channel.name == "general",
            "unlinked": 0,
            "name_normalized": channel.name,
            "is_shared": False,
            "is_org_shared": False,
            "is_pending_ext_shared": False,
            "pending_shared": [],
            "context_team_id": self.team_id,
            "parent_conversation": None,
            "creator": self.bot_user_id,
            "is_ext_shared": False,
            "shared_team_ids": [self.team_id],
            "is_member": channel.bot_is_member,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }

    def _message_content(self, params: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        """The text/blocks/attachments/metadata part of a chat.* call, or an error code."""
        content: dict[str, Any] = {}
        if "text" in params:
            content["text"] = _str_param(params, "text")
        blocks = params.get("blocks")
        if blocks is not None and blocks != "":
            if isinstance(blocks, str):
                return {}, "invalid_blocks_format"
            if not isinstance(blocks, list):
                return {}, "invalid_blocks"
            content["blocks"] = blocks
        attachments = params.get("attachments")
        if attachments is not None and attachments != "":
            if not isinstance(attachments, list):
                return {}, "invalid_attachments"
            content["attachments"] = attachments
        metadata = params.get("metadata")
        if metadata is not None and metadata != "":
            if not isinstance(metadata, dict) or "event_type" not in metadata:
                return {}, "invalid_metadata_format"
            content["metadata"] = {
                "event_type": metadata["event_type"],
                "event_payload": metadata.get("event_payload", {}),
            }
        return content, None

    # ------------------------------------------------------------------ methods (lock held)

    def _oauth_v2_access(self, params: dict[str, Any]) -> _Reply:
        if self._oauth_app is None:
            return _err("invalid_client_id")
        client_id, client_secret = self._oauth_app
        if params.get("client_id") != client_id:
            return _err("invalid_client_id")
        if params.get("client_secret") != client_secret:
            return _err("bad_client_secret")
        if params.get("grant_type") == "refresh_token":
            refresh_token = params.get("refresh_token")
            if refresh_token not in self._refresh_tokens or refresh_token in self._revoked:
                return _err("invalid_refresh_token")
            return _ok(**self._issue_token(), team={"id": self.team_id, "name": self.team_name})
        installer_id = self._codes.pop(str(params.get("code")), None)
        if installer_id is None:
            return _err("invalid_code")
        return _ok(
            **self._issue_token(),
            scope=",".join(_INSTALL_SCOPES),
            bot_user_id=self.bot_user_id,
            app_id=self.app_id,
            team={"id": self.team_id, "name": self.team_name},
            enterprise=None,
            is_enterprise_install=False,
            authed_user={"id": installer_id},
        )

    def _issue_token(self) -> dict[str, Any]:
        number = next(self._token_seq)
        token = f"xoxb-{self.team_id}-{number}-{secrets.token_hex(6)}"
        lifetime = self._token_lifetime
        self._tokens[token] = time.time() + lifetime if lifetime is not None else None
        issued: dict[str, Any] = {"access_token": token, "token_type": "bot"}
        if lifetime is not None:
            refresh_token = f"xoxe-1-{self.team_id}-{number}-{secrets.token_hex(6)}"
            self._refresh_tokens.add(refresh_token)
            issued |= {"expires_in": lifetime, "refresh_token": refresh_token}
        return issued

    def _auth_test(self, params: dict[str, Any]) -> _Reply:
        return _ok(
            url=f"https://{self.domain}.slack.com/",
            team=self.team_name,
            user=self._users[self.bot_user_id].name,
            team_id=self.team_id,
            user_id=self.bot_user_id,
            bot_id=self.bot_id,
            is_enterprise_install=False,
        )

    def _users_info(self, params: dict[str, Any]) -> _Reply:
        user = self._users.get(_str_param(params, "user"))
        if user is None:
            return _err("user_not_found")
        return _ok(user=self._user_object(user))

    def _users_lookup_by_email(self, params: dict[str, Any]) -> _Reply:
        wanted = _str_param(params, "email").strip().lower()
        for user in self._users.values():
            if wanted and user.email is not None and user.email.lower() == wanted:
                return _ok(user=self._user_object(user))
        return _err("users_not_found")

    def _conversations_open(self, params: dict[str, Any]) -> _Reply:
        raw_users = params.get("users")
        if isinstance(raw_users, list):
            user_ids = [str(u) for u in raw_users]
        else:
            user_ids = [u.strip() for u in _str_param(params, "users").split(",") if u.strip()]
        return_im = _truthy(params.get("return_im", False))
        if not user_ids:
            channel_id = _str_param(params, "channel")
            if not channel_id:
                return _err("users_list_not_supplied")
            dm_user = self._dm_user(channel_id)
            if dm_user is not None:
                return _ok(no_op=True, already_open=True, channel=self._im_object(channel_id, dm_user))
            channel = self._channels.get(channel_id)
            if channel is None or not channel.is_mpim:
                return _err("channel_not_found")
            return _ok(no_op=True, already_open=True, channel={"id": channel.id})
        for user_id in user_ids:
            found = self._users.get(user_id)
            if found is None:
                return _err("user_not_found")
            if found.deleted:
                return _err("user_disabled")
        if len(user_ids) > 8:
            return _err("too_many_users")
        if len(user_ids) == 1:
            channel_id = "D" + user_ids[0]  # stable per user, so tests can predict it
            already = channel_id in self._open_dms
            self._open_dms.add(channel_id)
            im = self._im_object(channel_id, self._users[user_ids[0]]) if return_im else {"id": channel_id}
            if already:
                return _ok(no_op=True, already_open=True, channel=im)
            return _ok(channel=im)
        members = sorted({*user_ids, self.bot_user_id})
        # Same member set -> same id, like Slack reusing an existing group DM.
        mpim_id = "G" + hashlib.sha1(",".join(members).encode()).hexdigest()[:10].upper()
        existing = self._channels.get(mpim_id)
        if existing is None:
            names = "--".join(self._users[m].name for m in members)
            self._channels[mpim_id] = _Channel(
                id=mpim_id,
                name=f"mpdm-{names}-1",
                is_private=True,
                bot_is_member=True,
                is_mpim=True,
                members=members,
            )
            return _ok(channel={"id": mpim_id})
        return _ok(no_op=True, already_open=True, channel={"id": mpim_id})

    def _conversations_info(self, params: dict[str, Any]) -> _Reply:
        channel_id = _str_param(params, "channel")
        dm_user = self._dm_user(channel_id)
        if dm_user is not None:
            return _ok(channel=self._im_object(channel_id, dm_user))
        channel = self._channels.get(channel_id)
        if channel is None or (channel.is_private and not channel.bot_is_member):
            return _err("channel_not_found")
        return _ok(channel=self._channel_object(channel))

    def _chat_post_message(self, params: dict[str, Any]) -> _Reply:
        channel_id, error = self._resolve_post_target(_str_param(params, "channel"))
        if error is not None:
            return _err(error)
        content, error = self._message_content(params)
        if error is not None:
            return _err(error)
        if not content.get("text") and not content.get("blocks") and not content.get("attachments"):
            return _err("no_text")
        ts = self._next_ts()
        message: dict[str, Any] = {
            "user": self.bot_user_id,
            "type": "message",
            "ts": ts,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "text": content.get("text", ""),
            "team": self.team_id,
            "bot_profile": self._bot_profile(),
            "blocks": content.get("blocks", []),
        }
        for key in ("attachments", "metadata"):
            if key in content:
                message[key] = content[key]
        thread_ts = _str_param(params, "thread_ts")
        if thread_ts:
            message["thread_ts"] = thread_ts
            message["parent_user_id"] = self.bot_user_id
            if _truthy(params.get("reply_broadcast", False)):
                message["subtype"] = "thread_broadcast"
        self._messages.setdefault(channel_id, []).append(message)
        return _ok(channel=channel_id, ts=ts, message=copy.deepcopy(message))

    def _chat_post_ephemeral(self, params: dict[str, Any]) -> _Reply:
        _channel_id, error = self._resolve_post_target(_str_param(params, "channel"))
        if error is not None:
            return _err(error)
        if _str_param(params, "user") not in self._users:
            return _err("user_not_in_channel")
        content, error = self._message_content(params)
        if error is not None:
            return _err(error)
        if not content.get("text") and not content.get("blocks") and not content.get("attachments"):
            return _err("no_text")
        # Ephemeral messages are never stored in the channel; the recorded Call is the evidence.
        return _ok(message_ts=self._next_ts())

    def _chat_update(self, params: dict[str, Any]) -> _Reply:
        channel_id, error = self._resolve_existing(_str_param(params, "channel"))
        if error is not None:
            return _err(error)
        message = self._find_message(channel_id, _str_param(params, "ts"))
        if message is None:
            return _err("message_not_found")
        content, error = self._message_content(params)
        if error is not None:
            return _err(error)
        if not content.get("text") and not content.get("blocks") and not content.get("attachments"):
            return _err("no_text")
        # Slack keeps fields the update omits (e.g. blocks stay unless `blocks` is sent).
        message.update(content)
        message["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        return _ok(channel=channel_id, ts=message["ts"], text=message["text"], message=copy.deepcopy(message))

    def _chat_delete(self, params: dict[str, Any]) -> _Reply:
        channel_id, error = self._resolve_existing(_str_param(params, "channel"))
        if error is not None:
            return _err(error)
        message = self._find_message(channel_id, _str_param(params, "ts"))
        if message is None:
            return _err("message_not_found")
        self._messages[channel_id].remove(message)
        return _ok(channel=channel_id, ts=message["ts"])

    def _conversations_members(self, params: dict[str, Any]) -> _Reply:
        channel = self._channels.get(_str_param(params, "channel"))
        if channel is None or (channel.is_private and not channel.bot_is_member):
            return _err("channel_not_found")
        return _ok(members=list(channel.members), response_metadata={"next_cursor": ""})

    def _conversations_history(self, params: dict[str, Any]) -> _Reply:
        channel_id, error = self._resolve_existing(_str_param(params, "channel"))
        if error is not None:
            return _err(error)
        oldest = _str_param(params, "oldest") or "0"
        # The channel's own messages, newest first; thread replies are only in conversations.replies.
        newest_first = [
            m
            for m in reversed(self._messages.get(channel_id, []))
            if float(m["ts"]) >= float(oldest)
            and self._before_latest(m, params)
            and m.get("thread_ts", m["ts"]) == m["ts"]
        ]
        return self._page(newest_first, params)

    def _conversations_replies(self, params: dict[str, Any]) -> _Reply:
        channel_id, error = self._resolve_existing(_str_param(params, "channel"))
        if error is not None:
            return _err(error)
        thread_ts = _str_param(params, "ts")
        if not thread_ts:
            return _err("invalid_arguments", "missing required field: ts")
        oldest = _str_param(params, "oldest") or "0"
        # Slack always answers with the thread's first message first, whatever `oldest` and `latest` say.
        parent = self._find_message(channel_id, thread_ts)
        if parent is None:
            return _err("thread_not_found")
        replies = [
            m
            for m in self._messages.get(channel_id, [])
            if m.get("thread_ts") == thread_ts
            and m["ts"] != thread_ts
            and float(m["ts"]) >= float(oldest)
            and self._before_latest(m, params)
        ]
        return self._page([parent, *replies], params)

    @staticmethod
    def _before_latest(message: dict[str, Any], params: dict[str, Any]) -> bool:
        """Slack's `latest` bound: up to it, and including it only with `inclusive`."""
        latest = _str_param(params, "latest")
        if not latest:
            return True
        if _truthy(params.get("inclusive", False)):
            return float(message["ts"]) <= float(latest)
        return float(message["ts"]) < float(latest)

    def _page(self, messages: list[dict[str, Any]], params: dict[str, Any]) -> _Reply:
        """One page of `messages` (`limit`, `cursor`), as Slack pages: `next_cursor` until the end."""
        limit = int(_str_param(params, "limit") or 100)
        cursor = _str_param(params, "cursor")
        start = int(cursor.removeprefix("offset:")) if cursor.startswith("offset:") else 0
        with_metadata = _truthy(params.get("include_all_metadata", False))
        shown = []
        for message in messages[start : start + limit]:
            copied = copy.deepcopy(message)
            if not with_metadata:
                copied.pop("metadata", None)
            shown.append(copied)
        has_more = len(messages) > start + limit
        return _ok(
            messages=shown,
            has_more=has_more,
            response_metadata={"next_cursor": f"offset:{start + limit}" if has_more else ""},
        )

    def _chat_get_permalink(self, params: dict[str, Any]) -> _Reply:
        channel_id, error = self._resolve_existing(_str_param(params, "channel"))
        if error is not None:
            return _err(error)
        ts = _str_param(params, "message_ts")
        message = self._find_message(channel_id, ts)
        if message is None:
            return _err("message_not_found")
        permalink = f"https://{self.domain}.slack.com/archives/{channel_id}/p{ts.replace('.', '')}"
        thread_ts = message.get("thread_ts")
        if thread_ts and thread_ts != ts:
            permalink += f"?thread_ts={thread_ts}&cid={channel_id}"
        return _ok(channel=channel_id, permalink=permalink)

    def _new_view(self, view: dict[str, Any], *, view_id: str, root_view_id: str) -> dict[str, Any]:
        built: dict[str, Any] = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view.get("type"),
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "close": view.get("close"),
            "submit": view.get("submit"),
            "previous_view_id": None,
            "root_view_id": root_view_id,
            "app_id": self.app_id,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        if "title" in view:
            built["title"] = view["title"]
        self._views[view_id] = built
        return built

    def _check_view(self, params: dict[str, Any], *types: str) -> tuple[dict[str, Any], _Reply | None]:
        view = params.get("view")
        if not isinstance(view, dict):
            return {}, _err("invalid_arguments", "failed to match all allowed schemas [json-pointer:/view]")
        if view.get("type") not in types:
            return {}, _err("invalid_arguments", "must provide a valid view type [json-pointer:/view/type]")
        if view.get("type") == "modal" and "title" not in view:
            return {}, _err("invalid_arguments", "missing required field: title [json-pointer:/view]")
        return view, None

    def _external_id_taken(self, view: dict[str, Any], own_id: str | None = None) -> bool:
        external_id = view.get("external_id")
        if not external_id:
            return False
        return any(v["external_id"] == external_id and v["id"] != own_id for v in self._views.values())

    def _generate_view_id(self) -> str:
        return f"V{next(self._view_seq):010d}"

    def _views_open(self, params: dict[str, Any]) -> _Reply:
        if not _str_param(params, "trigger_id"):
            return _err("invalid_arguments", "invalid `trigger_id`")
        view, problem = self._check_view(params, "modal")
        if problem is not None:
            return problem
        if self._external_id_taken(view):
            return _err("duplicate_external_id")
        view_id = self._generate_view_id()
        return _ok(view=copy.deepcopy(self._new_view(view, view_id=view_id, root_view_id=view_id)))

    def _views_push(self, params: dict[str, Any]) -> _Reply:
        # The fake cannot tell which stack a trigger belongs to, so a pushed view is its own root.
        return self._views_open(params)

    def _views_update(self, params: dict[str, Any]) -> _Reply:
        view_id = _str_param(params, "view_id")
        external_id = _str_param(params, "external_id")
        if not view_id and not external_id:
            return _err("invalid_arguments", "either view_id or external_id is required")
        view, problem = self._check_view(params, "modal", "home")
        if problem is not None:
            return problem
        existing = self._views.get(view_id) if view_id else None
        if existing is None and external_id:
            existing = next((v for v in self._views.values() if v["external_id"] == external_id), None)
        if existing is None:
            return _err("not_found")
        wanted_hash = _str_param(params, "hash")
        if wanted_hash and wanted_hash != existing["hash"]:
            return _err("hash_conflict")
        if self._external_id_taken(view, existing["id"]):
            return _err("duplicate_external_id")
        updated = self._new_view(view, view_id=existing["id"], root_view_id=existing["root_view_id"])
        updated["previous_view_id"] = existing["previous_view_id"]
        return _ok(view=copy.deepcopy(updated))

    def _views_publish(self, params: dict[str, Any]) -> _Reply:
        user_id = _str_param(params, "user_id")
        if user_id not in self._users:
            return _err("invalid_arguments", "invalid `user_id`")
        view, problem = self._check_view(params, "home")
        if problem is not None:
            return problem
        view_id = self._home_views.get(user_id)
        wanted_hash = _str_param(params, "hash")
        if wanted_hash and (view_id is None or self._views[view_id]["hash"] != wanted_hash):
            return _err("hash_conflict")
        if view_id is None:
            view_id = self._generate_view_id()
            self._home_views[user_id] = view_id
        return _ok(view=copy.deepcopy(self._new_view(view, view_id=view_id, root_view_id=view_id)))

    def _emoji_list(self, params: dict[str, Any]) -> _Reply:
        return _ok(emoji=dict(self._custom_emoji))

    def _files_get_upload_url_external(self, params: dict[str, Any]) -> _Reply:
        filename = _str_param(params, "filename")
        try:
            length = int(_str_param(params, "length"))
        except ValueError:
            return _err("invalid_arguments", "length must be an integer")
        if not filename or length <= 0:
            return _err("invalid_arguments", "filename and a positive length are required")
        file_id = f"F{next(self._file_seq):010d}"
        self._files[file_id] = {
            "id": file_id,
            "name": filename,
            "length": length,
            "data": None,
            "shared_to": [],
        }
        upload_url = self.url.removesuffix("api/") + f"upload/{file_id}"
        return _ok(upload_url=upload_url, file_id=file_id)

    def _upload(self, file_id: str, body: bytes) -> _Reply:
        with self._lock:
            self._calls.append(
                Call(method="upload", params={"file_id": file_id, "bytes": len(body)}, token=None)
            )
            if self._upload_failures:
                self._upload_failures -= 1
                return _Reply(500, {"ok": False, "error": "upload_failed"})
            entry = self._files.get(file_id)
            if entry is None:
                return _Reply(404, {"ok": False, "error": "file_not_found"})
            entry["data"] = bytes(body)
            return _Reply(200, {"ok": True})

    def _files_complete_upload_external(self, params: dict[str, Any]) -> _Reply:
        files = params.get("files")
        if isinstance(files, str):
            try:
                files = json.loads(files)
            except ValueError:
                return _err("invalid_arguments", "files must be a JSON array")
        if not isinstance(files, list) or not files:
            return _err("invalid_arguments", "files is required")
        channel_id = _str_param(params, "channel_id")
        if channel_id:
            target, error = self._resolve_post_target(channel_id)
            if error is not None:
                return _err(error)
            channel_id = target
        completed = []
        for item in files:
            entry = self._files.get(str((item or {}).get("id")))
            if entry is None or entry["data"] is None:
                return _err("file_not_found")
            entry["title"] = item.get("title") or entry["name"]
            if channel_id:
                entry["shared_to"].append(channel_id)
            completed.append({"id": entry["id"], "title": entry["title"], "name": entry["name"]})
        if channel_id:
            message: dict[str, Any] = {
                "user": self.bot_user_id,
                "type": "message",
                "subtype": "file_share",
                "ts": self._next_ts(),
                "text": _str_param(params, "initial_comment"),
                "files": completed,
                "bot_id": self.bot_id,
            }
            thread_ts = _str_param(params, "thread_ts")
            if thread_ts:
                message["thread_ts"] = thread_ts
            self._messages.setdefault(channel_id, []).append(message)
        return _ok(files=completed)

    def _usergroups_users_list(self, params: dict[str, Any]) -> _Reply:
        group = self._usergroups.get(_str_param(params, "usergroup"))
        if group is None:
            return _err("no_such_subteam")
        return _ok(users=list(group[1]))


def _parse_body(content_type: str, body: bytes) -> dict[str, Any]:
    """Body parameters for the three encodings slack_sdk uses (JSON, form, multipart)."""
    if not body:
        return {}
    mime = content_type.split(";")[0].strip().lower()
    if mime == "application/json":
        decoded = json.loads(body.decode("utf-8"))
        if not isinstance(decoded, dict):
            raise ValueError("JSON body must be an object")
        return decoded
    if mime == "multipart/form-data":
        header = f"Content-Type: {content_type}\r\n\r\n".encode()
        parsed = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + body)
        if not parsed.is_multipart():
            raise ValueError("bad multipart body")
        fields: dict[str, Any] = {}
        for part in parsed.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not isinstance(name, str):
                continue
            payload = part.get_payload(decode=True)
            raw = payload if isinstance(payload, bytes) else b""
            # Uploaded files stay bytes; plain fields are text like in a form post.
            fields[name] = raw if part.get_filename() else raw.decode("utf-8")
        return fields
    return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
