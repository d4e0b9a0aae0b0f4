"""A fake Microsoft Bot Connector: the REST API a Teams bot calls at the activity's ``serviceUrl``.

The bot reaches it through the SDK's own ``ConnectorClient(endpoint=fake.url, ...)``, so answers mimic the
Bot Framework v3 REST API: ``201 {"id": ...}`` for a send, ``{"error": {"code", "message"}}`` on errors,
``403 BotNotInConversationRoster`` for a user without the app. Where it deliberately differs:

- sends and replies go to any conversation id, known or not, so tests can answer activities read from
  payload files without setting their conversation up (only ``members`` needs a known conversation);
- ``POST /v3/conversations`` creates 1:1 conversations only, and insists on a tenant id;
- a token is checked only after ``require_token``, and only for equality (no JWT validation);
- attachments, paged members, conversation history and listing conversations are not served (404).

Stdlib only, so it runs anywhere the tests run.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import re
import secrets
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, NamedTuple, Self, cast
from urllib.parse import unquote, urlsplit

__all__ = ["DEFAULT_TENANT_ID", "KINDS", "Call", "Conversation", "FakeConnector", "Sent"]

DEFAULT_TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
# What fail_next and slow_down accept besides a path pattern; replies are "send" too.
KINDS = ("send", "create", "update", "delete", "members")
_THROTTLED_KINDS = ("send", "update", "delete")


@dataclass(frozen=True)
class Call:
    """One request the fake received, recorded even when it was refused or failed on purpose."""

    kind: str  # one of KINDS, or "other" for a route the fake does not serve
    method: str
    path: str  # URL-decoded, without the query
    conversation_id: str | None
    activity_id: str | None  # from the path: the activity replied to, updated or deleted
    body: Any  # parsed JSON, or None
    headers: dict[str, str]  # names lower-cased
    status: int


@dataclass(frozen=True)
class Sent:
    """An activity the bot sent or replied, as it stands now (updated in place, or marked deleted)."""

    conversation_id: str  # as the bot addressed it, e.g. "19:x@thread.tacv2;messageid=1"
    id: str
    activity: dict[str, Any]
    reply_to_id: str | None = None
    deleted: bool = False

    @property
    def text(self) -> str | None:
        text = self.activity.get("text")
        return text if isinstance(text, str) else None


@dataclass(frozen=True)
class Conversation:
    id: str
    member_ids: tuple[str, ...]
    tenant_id: str | None = None


@dataclass
class _Member:
    id: str
    name: str
    aad_object_id: str
    email: str | None
    tenant_id: str
    installed: bool
    role: str = "user"

    def account(self) -> dict[str, Any]:
        """The TeamsChannelAccount shape of GET .../members."""
        account = {
            "id": self.id,
            "name": self.name,
            "aadObjectId": self.aad_object_id,
            "email": self.email,
            "userPrincipalName": self.email,
            "tenantId": self.tenant_id,
            "userRole": self.role,
        }
        return {key: value for key, value in account.items() if value is not None}


@dataclass
class _Failure:
    match: str  # a kind, or a regular expression searched in the decoded path
    status: int
    retry_after: float | None
    conversation_id: str | None
    code: str | None


@dataclass
class _Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class _Route(NamedTuple):
    kind: str
    conversation_id: str | None = None
    activity_id: str | None = None
    member_id: str | None = None


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> _Reply:
    return _Reply(status, {"error": {"code": code, "message": message}}, headers or {})


def _not_in_roster() -> _Reply:
    # What the real service answers when the app is not installed for the person (or was removed).
    return _error(403, "BotNotInConversationRoster", "The bot is not part of the conversation roster.")


def _status_code(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.replace(" ", "")  # 429 -> "TooManyRequests"
    except ValueError:
        return "Error"


def _thread_root(conversation_id: str) -> str:
    # A channel thread is addressed as "<channel id>;messageid=<root>"; it lives in the channel.
    return conversation_id.split(";", 1)[0]


def _route(method: str, path: str) -> _Route:
    parts = path.rstrip("/").split("/")
    if parts[:3] != ["", "v3", "conversations"]:
        return _Route("other")
    rest = [unquote(part) for part in parts[3:]]
    if not rest:
        return _Route("create" if method == "POST" else "other")
    conversation_id, tail = rest[0], rest[1:]
    if tail == ["activities"] and method == "POST":
        return _Route("send", conversation_id)
    if len(tail) == 2 and tail[0] == "activities":
        kind = {"POST": "send", "PUT": "update", "DELETE": "delete"}.get(method, "other")
        return _Route(kind, conversation_id, activity_id=tail[1])
    if tail[:1] == ["members"] and len(tail) <= 2 and method == "GET":
        return _Route("members", conversation_id, member_id=tail[1] if len(tail) == 2 else None)
    return _Route("other", conversation_id)


class _Server(ThreadingHTTPServer):
    # Fan-outs send many requests at once; the default backlog of 5 drops connections.
    request_queue_size = 1024
    daemon_threads = True
    fake: FakeConnector


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeConnector/1.0"

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        return  # tests read FakeConnector.calls instead

    def _handle(self) -> None:
        fake = cast(_Server, self.server).fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            reply = fake._serve(self.command, self.path, headers, raw)
        except (LookupError, TypeError, ValueError, AttributeError):
            # A bug in the fake must be loud, not look like an answer the bot could handle.
            traceback.print_exc()
            reply = _error(500, "InternalServerError", "the fake connector crashed; see the test output")
        data = json.dumps(reply.body).encode("utf-8")
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class FakeConnector:
    """In-memory Bot Connector served over HTTP on 127.0.0.1 (random port)."""

    def __init__(
        self, *, tenant_id: str = DEFAULT_TENANT_ID, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.tenant_id = tenant_id
        self._clock = clock  # seconds, for the rate limit's bucket; tests pass their own to avoid sleeping
        self._lock = threading.Lock()
        self._calls: list[Call] = []
        self._members: dict[str, _Member] = {}
        self._conversations: dict[str, Conversation] = {}
        self._one_on_one: dict[tuple[str, str], str] = {}
        self._created: list[str] = []
        self._sent: list[Sent] = []
        # Teams activity ids look like epoch milliseconds; these stay unique and ordered.
        self._activity_ids = itertools.count(1_700_000_000_001)
        self._token: str | None = None
        self._failures: list[_Failure] = []
        self._delays: dict[str, float] = {}
        self._limit: tuple[float, int] | None = None
        self._buckets: dict[str, tuple[float, float]] = {}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Self:
        if self._server is not None:
            raise RuntimeError("FakeConnector already started")
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-connector", daemon=True
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
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The ``serviceUrl`` to put in activities, without a trailing slash."""
        if self._server is None:
            raise RuntimeError("FakeConnector not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # ------------------------------------------------------------------ setup

    def add_member(
        self,
        user_id: str,
        name: str,
        *,
        aad_object_id: str | None = None,
        email: str | None = None,
        tenant_id: str | None = None,
        installed: bool = True,
        role: str = "user",
    ) -> None:
        """A person in the tenant. `installed=False`: the app is not installed for them, so a 1:1
        conversation cannot be created (403), nor sent to. `aad_object_id` defaults to one derived
        from `user_id`, so it is stable across runs. `role`: "user", or "guest" for a guest account."""
        aad = aad_object_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"teams-user:{user_id}"))
        member = _Member(user_id, name, aad, email, tenant_id or self.tenant_id, installed, role)
        with self._lock:
            self._members[user_id] = member

    def set_installed(self, user_id: str, installed: bool) -> None:
        """The person installs or removes the app; their existing 1:1 conversation stays known."""
        with self._lock:
            self._members[user_id].installed = installed

    def add_conversation(self, conversation_id: str, member_ids: list[str]) -> None:
        """A channel or chat that exists before the test (members must be added first)."""
        with self._lock:
            unknown = [m for m in member_ids if m not in self._members]
            if unknown:
                raise ValueError(f"add_member first: {unknown}")
            self._conversations[conversation_id] = Conversation(conversation_id, tuple(member_ids))

    def require_token(self, token: str | None) -> None:
        """From now on every request must carry ``Authorization: Bearer <token>`` (None: no check)."""
        with self._lock:
            self._token = token

    def fail_next(
        self,
        kind_or_path: str,
        status: int,
        *,
        times: int = 1,
        retry_after: float | None = None,
        conversation_id: str | None = None,
        code: str | None = None,
    ) -> None:
        """The next `times` calls of a kind (see KINDS), or whose decoded path matches the regular
        expression `kind_or_path`, answer `status` (only those to `conversation_id`, or to a thread
        in it, when given). `code` defaults to the status' name ("TooManyRequests")."""
        failure = _Failure(kind_or_path, status, retry_after, conversation_id, code)
        with self._lock:
            self._failures.extend([failure] * times)

    def rate_limit(self, per_second: float | None, burst: int = 1) -> None:
        """A token bucket per conversation for sends, updates and deletes; over it: 429 with
        Retry-After in whole seconds. None turns it off."""
        with self._lock:
            self._limit = None if per_second is None else (per_second, burst)
            self._buckets.clear()

    def slow_down(self, kind: str, seconds: float) -> None:
        """Calls of `kind` are answered `seconds` late (0: at once again); other calls are not held up."""
        with self._lock:
            self._delays[kind] = seconds

    # ------------------------------------------------------------------ inspection

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def calls_of(self, kind: str) -> list[Call]:
        with self._lock:
            return [call for call in self._calls if call.kind == kind]

    def clear_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    def sent(self) -> list[Sent]:
        """Every activity sent or replied, across conversations, in order."""
        with self._lock:
            return [replace(s, activity=copy.deepcopy(s.activity)) for s in self._sent]

    def activities(self, conversation_id: str) -> list[Sent]:
        """Activities sent to exactly this conversation id (a thread's id is not its channel's)."""
        return [s for s in self.sent() if s.conversation_id == conversation_id]

    def conversations_created(self) -> list[Conversation]:
        """1:1 conversations made by POST /v3/conversations, once each, in order."""
        with self._lock:
            return [self._conversations[cid] for cid in self._created]

    # ------------------------------------------------------------------ serving

    def _serve(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> _Reply:
        raw_path = urlsplit(target).path
        route, path = _route(method, raw_path), unquote(raw_path)
        try:
            body = json.loads(raw) if raw else None
            bad_json = False
        except ValueError:
            body, bad_json = None, True
        with self._lock:
            delay = self._delays.get(route.kind, 0.0)
        if delay > 0:
            time.sleep(delay)  # outside the lock: only this call is slow
        with self._lock:
            reply = self._answer(method, path, route, headers, body, bad_json)
            self._calls.append(
                Call(
                    route.kind,
                    method,
                    path,
                    route.conversation_id,
                    route.activity_id,
                    body,
                    headers,
                    reply.status,
                )
            )
        return reply

    def _answer(
        self, method: str, path: str, route: _Route, headers: dict[str, str], body: Any, bad_json: bool
    ) -> _Reply:
        if self._token is not None and headers.get("authorization") != f"Bearer {self._token}":
            # The real service's 401 body is ASP.NET's, not an ErrorResponse.
            return _Reply(401, {"message": "Authorization has been denied for this request."})
        failure = self._take_failure(route, path)
        if failure is not None:
            extra = {} if failure.retry_after is None else {"Retry-After": f"{failure.retry_after:g}"}
            code = failure.code or _status_code(failure.status)
            return _error(failure.status, code, "failed on purpose by the test", extra)
        if route.kind in _THROTTLED_KINDS and route.conversation_id is not None:
            wait = self._wait_for_bucket(_thread_root(route.conversation_id))
            if wait is not None:
                return _error(429, "TooManyRequests", "slow down", {"Retry-After": str(math.ceil(wait))})
        if bad_json:
            return _error(400, "BadSyntax", "the body is not JSON")
        handler = {
            "create": self._create,
            "send": self._send,
            "update": self._update,
            "delete": self._delete,
            "members": self._members_of,
        }.get(route.kind)
        if handler is None:
            return _error(404, "NotFound", f"the fake connector does not serve {method} {path}")
        return handler(route, body)

    def _take_failure(self, route: _Route, path: str) -> _Failure | None:
        for index, failure in enumerate(self._failures):
            if failure.match in KINDS:
                hit = failure.match == route.kind
            else:
                hit = re.search(failure.match, path) is not None
            cid = route.conversation_id
            if failure.conversation_id is not None:
                hit = hit and cid is not None and failure.conversation_id in (cid, _thread_root(cid))
            if hit:
                return self._failures.pop(index)
        return None

    def _wait_for_bucket(self, key: str) -> float | None:
        """None when a token was taken, else the seconds until the next one."""
        if self._limit is None:
            return None
        per_second, burst = self._limit
        now = self._clock()
        tokens, at = self._buckets.get(key, (float(burst), now))
        tokens = min(float(burst), tokens + (now - at) * per_second)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            return None
        self._buckets[key] = (tokens, now)
        return (1 - tokens) / per_second

    def _record(self, conversation_id: str, activity: dict[str, Any], reply_to_id: str | None) -> str:
        activity_id = str(next(self._activity_ids))
        self._sent.append(Sent(conversation_id, activity_id, copy.deepcopy(activity), reply_to_id))
        return activity_id

    def _create(self, route: _Route, body: Any) -> _Reply:
        if not isinstance(body, dict):
            return _error(400, "BadArgument", "expected ConversationParameters")
        members = body.get("members") or []
        channel_tenant = ((body.get("channelData") or {}).get("tenant") or {}).get("id")
        tenant_id = body.get("tenantId") or channel_tenant
        if body.get("isGroup") or len(members) != 1 or not isinstance(members[0], dict):
            return _error(400, "BadArgument", "the fake creates 1:1 conversations only: one member")
        if not tenant_id:
            return _error(400, "BadArgument", "tenantId (or channelData.tenant.id) is required")
        member = self._members.get(str(members[0].get("id")))
        if member is None or member.tenant_id != tenant_id:
            return _error(404, "NotFound", "no such user in this tenant")
        if not member.installed:
            return _not_in_roster()
        conversation_id = self._one_on_one.get((tenant_id, member.id))
        if conversation_id is None:
            conversation_id = "a:1" + secrets.token_urlsafe(32)
            self._one_on_one[(tenant_id, member.id)] = conversation_id
            self._conversations[conversation_id] = Conversation(conversation_id, (member.id,), tenant_id)
            self._created.append(conversation_id)
        answer = {"id": conversation_id, "serviceUrl": self.url}
        if isinstance(body.get("activity"), dict):
            # The real service posts the optional first activity into the new conversation. Without one
            # there is no activityId: the SDK refuses an empty string there.
            answer["activityId"] = self._record(conversation_id, body["activity"], None)
        return _Reply(201, answer)

    def _send(self, route: _Route, body: Any) -> _Reply:
        assert route.conversation_id is not None
        if not isinstance(body, dict):
            return _error(400, "BadArgument", "expected an Activity")
        conversation = self._conversations.get(_thread_root(route.conversation_id))
        if conversation is not None and len(conversation.member_ids) == 1:
            member = self._members[conversation.member_ids[0]]
            if not member.installed:
                return _not_in_roster()
        return _Reply(201, {"id": self._record(route.conversation_id, body, route.activity_id)})

    def _find(self, route: _Route) -> int | None:
        assert route.conversation_id is not None
        root = _thread_root(route.conversation_id)
        for index, sent in enumerate(self._sent):
            if sent.id == route.activity_id and _thread_root(sent.conversation_id) == root:
                return None if sent.deleted else index
        return None

    def _update(self, route: _Route, body: Any) -> _Reply:
        if not isinstance(body, dict):
            return _error(400, "BadArgument", "expected an Activity")
        index = self._find(route)
        if index is None:
            return _error(404, "NotFound", "no such activity in this conversation")
        self._sent[index] = replace(self._sent[index], activity=copy.deepcopy(body))
        return _Reply(200, {"id": route.activity_id})

    def _delete(self, route: _Route, body: Any) -> _Reply:
        index = self._find(route)
        if index is None:
            return _error(404, "NotFound", "no such activity in this conversation")
        self._sent[index] = replace(self._sent[index], deleted=True)
        return _Reply(200, {})

    def _members_of(self, route: _Route, body: Any) -> _Reply:
        assert route.conversation_id is not None
        conversation = self._conversations.get(_thread_root(route.conversation_id))
        if conversation is None:
            return _error(404, "NotFound", "no such conversation")
        members = [self._members[member_id] for member_id in conversation.member_ids]
        if route.member_id is None:
            return _Reply(200, [member.account() for member in members])
        # Teams finds a member by their 29: id or by their AAD object id.
        for member in members:
            if route.member_id in (member.id, member.aad_object_id):
                return _Reply(200, member.account())
        return _error(404, "MemberNotFoundInConversation", "The member is not part of the conversation.")
