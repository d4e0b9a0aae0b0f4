"""Calls to the Bot Connector (the service at an activity's `serviceUrl`) from outside a turn: the
outbox's proactive messages, a 1:1 chat opened for a person who has none yet, a channel's members.

The SDK's ConnectorClient is asynchronous and its aiohttp session belongs to one event loop. The outbox
and the scheduler run in worker threads (and `extramile tick` has no server loop at all), so every call
goes to one event loop of our own in a daemon thread, and the calling thread waits for its answer.
Errors come back as the services' DeliveryError, with the outbox's retry rules in mind.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Coroutine
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

import aiohttp
from microsoft_agents.activity import Activity, ChannelAccount, ConversationParameters
from microsoft_agents.authentication.msal import MsalAuth
from microsoft_agents.hosting.core import AgentAuthConfiguration
from microsoft_agents.hosting.core.connector.client import ConnectorClient

from bot.services.ports import DeliveryError

log = logging.getLogger(__name__)

T = TypeVar("T")

# Bot Connector tokens are for this audience.
BOT_FRAMEWORK_RESOURCE = "https://api.botframework.com"
BOT_FRAMEWORK_SCOPE = "https://api.botframework.com/.default"
# No call may hold a worker for longer than this (a hung network would otherwise stall the outbox).
CALL_TIMEOUT_SECONDS = 30.0


class EventLoopThread:
    """One event loop in a daemon thread, started on first use."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def run(self, call: Coroutine[Any, Any, T], *, timeout: float = CALL_TIMEOUT_SECONDS) -> T:
        future = asyncio.run_coroutine_threadsafe(call, self._started())
        try:
            return future.result(timeout)
        except FutureTimeout:
            future.cancel()
            raise DeliveryError("connector_timeout") from None

    def _started(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="teams-connector", daemon=True).start()
                self._loop = loop
            return self._loop


class Tokens:
    """The bot's token for the Bot Connector, from its app registration; none in anonymous mode (the
    Bot Framework Emulator and tests), where the connector asks for none."""

    def __init__(self, *, app_id: str, password: str | None, tenant_id: str | None) -> None:
        self._auth = (
            MsalAuth(AgentAuthConfiguration(client_id=app_id, client_secret=password, tenant_id=tenant_id))
            if password
            else None
        )

    async def token(self) -> str:
        if self._auth is None:
            return ""
        return await self._auth.get_access_token(BOT_FRAMEWORK_RESOURCE, [BOT_FRAMEWORK_SCOPE])


class Connector:
    """The Bot Connector calls ExtraMile makes on its own, each to the service address it was given."""

    def __init__(self, tokens: Tokens, loop: EventLoopThread | None = None) -> None:
        self._tokens = tokens
        self._loop = loop or EventLoopThread()

    async def token(self) -> str:
        return await self._tokens.token()

    def send(self, service_url: str, conversation_id: str, activity: dict[str, Any]) -> str:
        """Posts a message; its activity id."""

        async def call(client: ConnectorClient) -> str:
            body = Activity.model_validate(activity)
            response = await client.conversations.send_to_conversation(conversation_id, body)
            return response.id or ""

        return self._call(service_url, call)

    def update(
        self, service_url: str, conversation_id: str, activity_id: str, activity: dict[str, Any]
    ) -> None:
        async def call(client: ConnectorClient) -> None:
            await client.conversations.update_activity(
                conversation_id, activity_id, Activity.model_validate(activity)
            )

        self._call(service_url, call)

    def delete(self, service_url: str, conversation_id: str, activity_id: str) -> None:
        async def call(client: ConnectorClient) -> None:
            await client.conversations.delete_activity(conversation_id, activity_id)

        self._call(service_url, call)

    def open_chat(self, service_url: str, *, bot_id: str, tenant_id: str, user_id: str) -> str:
        """A 1:1 chat between the bot and a person (Teams returns the existing one if there is one)."""

        async def call(client: ConnectorClient) -> str:
            parameters = ConversationParameters(
                is_group=False,
                bot=ChannelAccount(id=bot_id),
                members=[ChannelAccount(id=user_id)],
                tenant_id=tenant_id,
                channel_data={"tenant": {"id": tenant_id}},
            )
            created = await client.conversations.create_conversation(parameters)
            if not created.id:
                raise DeliveryError("no_conversation")
            return created.id

        return self._call(service_url, call)

    def members(self, service_url: str, conversation_id: str) -> list[dict[str, Any]]:
        async def call(client: ConnectorClient) -> list[dict[str, Any]]:
            found = await client.conversations.get_conversation_members(conversation_id)
            return [member.model_dump(by_alias=True, exclude_none=True) for member in found]

        return self._call(service_url, call)

    def member(
        self, service_url: str, conversation_id: str, member_id: str, *, timeout: float = CALL_TIMEOUT_SECONDS
    ) -> dict[str, Any]:
        """One member of a team or chat, found by their Teams id or their Entra object id: their name
        and `userRole` (user or guest)."""

        async def call(client: ConnectorClient) -> dict[str, Any]:
            found = await client.conversations.get_conversation_member(conversation_id, member_id)
            return found.model_dump(by_alias=True, exclude_none=True)

        return self._call(service_url, call, timeout=timeout)

    def _call(self, service_url: str, call: Any, *, timeout: float = CALL_TIMEOUT_SECONDS) -> T:  # type: ignore[type-var]
        async def with_client() -> Any:
            client = ConnectorClient(service_url, await self._tokens.token())
            try:
                return await _translated(call(client))
            finally:
                await client.close()

        result: T = self._loop.run(with_client(), timeout=timeout)
        return result


async def _translated(call: Awaitable[T]) -> T:
    """The connector's HTTP failures, as the outbox understands them."""
    try:
        return await call
    except aiohttp.ClientResponseError as error:
        raise _delivery_error(error.status, error.headers) from None
    except aiohttp.ClientConnectorError as error:
        # Never connected: nothing went out.
        raise DeliveryError(f"connector_unreachable:{type(error).__name__}", not_sent=True) from None
    except (TimeoutError, aiohttp.ClientError, OSError) as error:
        raise DeliveryError(f"connector_unreachable:{type(error).__name__}") from None


def _delivery_error(status: int, headers: Any) -> DeliveryError:
    """An answer with an error status says the activity was not delivered (Microsoft's guidance is to
    retry 429 and 5xx), so the row is tried again as if never sent. Only a call with no answer at all
    (a timeout, a dropped connection) may have gone out: that one is not sent twice."""
    if status == 429:
        return DeliveryError(
            "ratelimited", retry_after=_seconds((headers or {}).get("Retry-After")), not_sent=True
        )
    if status in (401, 403):
        # The person removed the app, blocked the bot, or the bot is not in that conversation.
        return DeliveryError("forbidden", not_sent=True)
    if status == 404:
        return DeliveryError("conversation_not_found", not_sent=True)
    return DeliveryError(f"http_{status}", not_sent=True)


def _seconds(value: object) -> float:
    try:
        return max(float(str(value)), 1.0)
    except ValueError:
        return 1.0
