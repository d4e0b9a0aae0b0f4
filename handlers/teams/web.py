"""Microsoft Teams, wired: `POST /api/messages` on the same server as Slack's endpoints, the outbox's
Teams sender, and the Directory and Messenger answers for Teams workspaces.

Requests are checked by the SDK's JWT validation, applied to this route only (on the whole app it would
refuse Slack's requests too). `TEAMS_ANONYMOUS=true` admits requests that carry no token at all: the Bot
Framework Emulator and tests, never production.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.core import AgentAuthConfiguration
from microsoft_agents.hosting.core.authorization import AuthTypes
from microsoft_agents.hosting.fastapi import CloudAdapter, jwt_authorization_decorator
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.clock import Clock
from bot.container import Services
from bot.services.addresses import AddressBook
from bot.services.people import PeopleService
from bot.settings import Settings
from handlers.teams import intake
from handlers.teams.agent import ExtraMileAgent
from handlers.teams.commands import ACTIONS, COMMANDS
from handlers.teams.connector import BOT_FRAMEWORK_RESOURCE, BOT_FRAMEWORK_SCOPE, Connector, Tokens
from handlers.teams.extension import MessageActions
from handlers.teams.outbox import NameBook, Reach, TeamsDirectory, TeamsMessenger, TeamsOutboxSender
from storage.db import SessionFactory

log = logging.getLogger(__name__)

# How long `run` waits for the first Teams token before serving anyway.
WARM_UP_SECONDS = 15.0
# The SDK warns on every anonymous turn that its user-token client has no app id: ExtraMile never signs
# people in through it, so the warning says nothing an operator can act on.
logging.getLogger("microsoft_agents.hosting.core.connector.client.user_token_client").setLevel(logging.ERROR)

# Teams' activities are a few kilobytes; anything near this is not from Teams.
MAX_BODY_BYTES = 1024 * 1024


@dataclass
class Teams:
    """Everything Teams needs, built before the services (which use its sender and directory); the
    route is built after them."""

    settings: Settings
    book: AddressBook
    connector: Connector
    sender: TeamsOutboxSender
    directory: TeamsDirectory
    messenger: TeamsMessenger
    people: Callable[[], PeopleService]
    # The SDK's token source for replies within a turn (the outbox has its own, in the connector).
    connections: MsalConnectionManager

    def warm_up(self, timeout: float = WARM_UP_SECONDS) -> bool:
        """Gets both token sources their first token now, in a thread, with a time limit: the SDK
        builds its MSAL client on first use with a blocking fetch and no timeout, which on the server's
        event loop would freeze every request (Slack's too) while the network hangs. True when done."""
        if self.settings.TEAMS_APP_PASSWORD is None:
            return True
        provider = self.connections.get_default_connection()

        async def both() -> None:
            await provider.get_access_token(BOT_FRAMEWORK_RESOURCE, [BOT_FRAMEWORK_SCOPE])
            await self.connector.token()

        outcome: list[BaseException | None] = []

        def fetch() -> None:
            try:
                asyncio.run(both())
                outcome.append(None)
            except Exception as error:
                outcome.append(error)

        thread = threading.Thread(target=fetch, name="teams-token", daemon=True)
        thread.start()
        thread.join(timeout)
        if not outcome:
            log.warning("no Teams token after %.0f s: Teams messages will wait until one comes", timeout)
            return False
        if outcome[0] is not None:
            log.warning("could not get a Teams token: %s", type(outcome[0]).__name__)
            return False
        return True

    def routes(self, services: Services) -> list[Route]:
        agent = ExtraMileAgent(
            services,
            self.book,
            commands=COMMANDS,
            actions=ACTIONS,
            default_tenant=self.settings.TEAMS_TENANT_ID,
            tasks=MessageActions(self.connector).invokes(),
            roster=self.connector,
        )
        adapter = CloudAdapter(connection_manager=self.connections)

        async def on_error(context: object, error: Exception) -> None:
            if isinstance(error, OperationalError | InterfaceError):
                # The database did not answer: a 500, so that Teams tries again, rather than a 202
                # for something (a welcome, a card press) that was not recorded.
                raise error
            # The SDK's default posts "Exception caught : ..." to the person: log it instead.
            log.error("a Teams turn failed: %s", type(error).__name__, exc_info=error)

        adapter.on_turn_error = on_error

        @jwt_authorization_decorator  # type: ignore[untyped-decorator]
        async def messages(request: Request) -> Response:
            try:
                body = await intake.read_within(request, MAX_BODY_BYTES)
            except intake.TooLarge:
                return JSONResponse({"error": "request too large"}, status_code=413)
            unusable = intake.problem(body)
            if unusable is not None:
                return JSONResponse({"error": unusable}, status_code=400)
            response = await adapter.process(intake.replayed(request, body), agent)
            return response if response is not None else Response(status_code=202)

        return [Route("/api/messages", messages, methods=["POST"])]

    def configure(self, web: Starlette) -> None:
        """The JWT check reads its configuration from the app's state."""
        web.state.agent_configuration = _auth_configuration(self.settings)


def build_teams(
    settings: Settings, *, sessions: SessionFactory, clock: Clock, people: Callable[[], PeopleService]
) -> Teams:
    assert settings.TEAMS_APP_ID is not None
    password = settings.TEAMS_APP_PASSWORD.get_secret_value() if settings.TEAMS_APP_PASSWORD else None
    book = AddressBook(sessions=sessions, clock=clock)
    connector = Connector(
        Tokens(app_id=settings.TEAMS_APP_ID, password=password, tenant_id=settings.TEAMS_TENANT_ID)
    )
    reach = Reach(book, connector)
    return Teams(
        connections=_connections(settings),
        settings=settings,
        book=book,
        connector=connector,
        sender=TeamsOutboxSender(reach, connector, NameBook(people)),
        directory=TeamsDirectory(book, connector),
        messenger=TeamsMessenger(),
        people=people,
    )


def _auth_configuration(settings: Settings) -> AgentAuthConfiguration:
    password = settings.TEAMS_APP_PASSWORD.get_secret_value() if settings.TEAMS_APP_PASSWORD else None
    return AgentAuthConfiguration(
        auth_type=AuthTypes.client_secret,
        client_id=settings.TEAMS_APP_ID,
        tenant_id=settings.TEAMS_TENANT_ID,
        client_secret=password,
        anonymous_allowed=settings.TEAMS_ANONYMOUS,
    )


def _connections(settings: Settings) -> MsalConnectionManager:
    return MsalConnectionManager(
        connections_configurations={"SERVICE_CONNECTION": _auth_configuration(settings)}
    )
