"""Microsoft Teams, wired: `POST /api/messages` on the same server as Slack's endpoints, the outbox's
Teams sender, and the Directory and Messenger answers for Teams workspaces.

Requests are checked by the SDK's JWT validation, applied to this route only (on the whole app it would
refuse Slack's requests too). `TEAMS_ANONYMOUS=true` admits requests that carry no token at all: the Bot
Framework Emulator and tests, never production.
"""

from __future__ import annotations

import logging
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
from handlers.teams.agent import ExtraMileAgent
from handlers.teams.commands import ACTIONS, COMMANDS
from handlers.teams.connector import Connector, Tokens
from handlers.teams.outbox import NameBook, Reach, TeamsDirectory, TeamsMessenger, TeamsOutboxSender
from storage.db import SessionFactory

log = logging.getLogger(__name__)
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

    def routes(self, services: Services) -> list[Route]:
        agent = ExtraMileAgent(
            services,
            self.book,
            commands=COMMANDS,
            actions=ACTIONS,
            default_tenant=self.settings.TEAMS_TENANT_ID,
        )
        adapter = CloudAdapter(connection_manager=_connections(self.settings))

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
            declared = request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
                return JSONResponse({"error": "request too large"}, status_code=413)
            response = await adapter.process(request, agent)
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
