"""The app factory: wires settings, storage, services and the Slack adapter. Importing it does nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy import Engine
from starlette.applications import Starlette

from bot.clock import Clock, SystemClock
from bot.lifecycle import Lifecycle
from bot.metrics import Metrics
from bot.services.administration import AdministrationService
from bot.services.attention import Attentive
from bot.services.celebrations import CelebrationService
from bot.services.checkins import CheckinService
from bot.services.delivery import DeliveryService
from bot.services.exports import ExportService
from bot.services.home import HomeService
from bot.services.kudos import KudosService
from bot.services.offers import OfferService
from bot.services.people import PeopleService
from bot.services.platforms import PlatformDirectory, PlatformMessenger, PlatformSender
from bot.services.ports import DeliveryError
from bot.services.privacy import PrivacyService
from bot.services.promises import PromiseService
from bot.services.questions import QuestionService
from bot.services.recaps import RecapService
from bot.services.welcomes import WelcomeService
from bot.services.workspaces import WorkspaceService
from bot.settings import Settings
from bot.workers import Coalesced, Workers
from handlers.slack.clients import OneWorkspace, SlackClients
from handlers.slack.container import SlackServices
from handlers.slack.installations import (
    Installations,
    InstallationStore,
    InstalledBotAuthorize,
    oauth_settings,
)
from handlers.slack.installations import register as register_installations
from handlers.slack.listeners import register
from handlers.slack.messenger import SlackDirectory, SlackMessenger
from handlers.slack.outbox import SlackOutboxSender
from storage.db import SessionFactory, create_db_engine, session_factory

if TYPE_CHECKING:
    # Microsoft's SDK weighs about 50 MiB: a Slack-only deployment never loads it.
    from handlers.teams.web import Teams

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExtraMile:
    settings: Settings
    engine: Engine
    sessions: SessionFactory
    bolt: App
    services: SlackServices
    # The WebClient for each workspace, and in OAuth mode where they come from.
    slack_clients: SlackClients
    installations: Installations | None
    # Microsoft Teams, when TEAMS_APP_ID is set.
    teams: Teams | None
    web: Starlette
    workers: Workers
    lifecycle: Lifecycle


def build_app(settings: Settings, *, clock: Clock | None = None, engine: Engine | None = None) -> ExtraMile:
    """Builds everything for one process. The database must already be migrated (storage.db.upgrade)."""
    from bot.server import build_web

    clock = clock or SystemClock()
    engine = engine or create_db_engine(settings.DATABASE_URL)
    sessions = session_factory(engine)
    signing_secret = settings.SLACK_SIGNING_SECRET.get_secret_value() if settings.SLACK_SIGNING_SECRET else ""
    workspaces = WorkspaceService(sessions, clock)
    installations = _installations(settings, engine, sessions, clock, workspaces) if settings.oauth else None
    token = settings.SLACK_BOT_TOKEN.get_secret_value() if settings.SLACK_BOT_TOKEN else None
    # In OAuth mode this client has no token: Bolt gives each request its workspace's, and
    # `installations` gives every other call its own.
    client = WebClient(token=None if installations else token, base_url=settings.slack_api_url, timeout=10)
    clients: SlackClients = installations or OneWorkspace(client)
    messenger = SlackMessenger(clients)
    teams = (
        _teams(settings, sessions=sessions, clock=clock, people=lambda: people) if settings.teams else None
    )
    # Each workspace's questions and messages go to its own platform (see bot.services.platforms).
    directory = PlatformDirectory(
        {"slack": SlackDirectory(clients), **({"teams": teams.directory} if teams else {})}
    )
    people = PeopleService(sessions=sessions, clock=clock, directory=directory)
    workers = Workers()
    metrics = Metrics(sessions=sessions, clock=clock)
    delivery = DeliveryService(
        sessions=sessions,
        clock=clock,
        sender=PlatformSender(
            {"slack": SlackOutboxSender(clients), **({"teams": teams.sender} if teams else {})}
        ),
        attention=Attentive(sessions=sessions, clock=clock, people=people),
        observer=metrics,
    )
    platform_messenger = PlatformMessenger(
        {"slack": messenger, **({"teams": teams.messenger} if teams else {})}
    )
    kudos = KudosService(
        sessions=sessions, clock=clock, people=people, workspaces=workspaces, messenger=platform_messenger
    )
    promises = PromiseService(sessions=sessions, clock=clock, people=people)
    offers = OfferService(
        sessions=sessions,
        clock=clock,
        people=people,
        workspaces=workspaces,
        messenger=platform_messenger,
        promises=promises,
    )
    questions = QuestionService(
        sessions=sessions,
        clock=clock,
        people=people,
        workspaces=workspaces,
        messenger=platform_messenger,
        promises=promises,
    )
    checkins = CheckinService(sessions=sessions, clock=clock, people=people)
    welcomes = WelcomeService(sessions=sessions, clock=clock, people=people, workspaces=workspaces)
    celebrations = CelebrationService(sessions=sessions, clock=clock, people=people, workspaces=workspaces)
    recaps = RecapService(
        sessions=sessions, clock=clock, people=people, workspaces=workspaces, celebrations=celebrations
    )
    administration = AdministrationService(
        people=people, workspaces=workspaces, celebrations=celebrations, directory=directory
    )
    home = HomeService(
        sessions=sessions,
        people=people,
        workspaces=workspaces,
        promises=promises,
        checkins=checkins,
        celebrations=celebrations,
        administration=administration,
    )
    exports = ExportService(sessions=sessions, clock=clock, administration=administration)
    # Every kind of outbox row and its composer, planner or work, registered here and only here.
    for service in (kudos, promises, offers, questions, checkins, welcomes, celebrations, recaps, exports):
        service.register(delivery)
    services = SlackServices(
        kudos=kudos,
        promises=promises,
        offers=offers,
        questions=questions,
        checkins=checkins,
        welcomes=welcomes,
        celebrations=celebrations,
        recaps=recaps,
        home=home,
        administration=administration,
        exports=exports,
        privacy=PrivacyService(sessions=sessions, clock=clock),
        delivery=delivery,
        clock=clock,
        people=people,
        workspaces=workspaces,
        messenger=messenger,
        follow_ups=workers.follow_ups,
        deliver_soon=Coalesced(delivery.deliver_due, workers.follow_ups),
    )
    bolt = App(
        client=client,
        signing_secret=signing_secret,
        # auth.test runs lazily on the first request instead of at construction.
        token_verification_enabled=False,
        process_before_response=False,
        listener_executor=workers.listeners,
        **_authorization(settings, installations, engine, token),
    )
    register(bolt, services)
    register_installations(bolt, installations)
    lifecycle = Lifecycle(delivery, workers)
    web = build_web(
        bolt,
        engine,
        signing_secret=signing_secret,
        metrics=metrics,
        on_shutdown=lifecycle.stop,
        more_routes=teams.routes(services) if teams else (),
    )
    if teams is not None:
        teams.configure(web)
    return ExtraMile(
        settings=settings,
        engine=engine,
        sessions=sessions,
        bolt=bolt,
        services=services,
        slack_clients=clients,
        installations=installations,
        teams=teams,
        web=web,
        workers=workers,
        lifecycle=lifecycle,
    )


def _installations(
    settings: Settings, engine: Engine, sessions: SessionFactory, clock: Clock, workspaces: WorkspaceService
) -> Installations:
    assert settings.SLACK_CLIENT_ID is not None and settings.SLACK_CLIENT_SECRET is not None
    return Installations(
        store=InstallationStore(settings.SLACK_CLIENT_ID, engine, workspaces),
        client_id=settings.SLACK_CLIENT_ID,
        client_secret=settings.SLACK_CLIENT_SECRET.get_secret_value(),
        api_url=settings.slack_api_url,
        sessions=sessions,
        clock=clock,
    )


def _oauth(settings: Settings, installations: Installations, engine: Engine) -> dict[str, Any]:
    """Bolt's OAuth flow (the install page and the redirect) and its per-request authorize."""
    assert settings.SLACK_CLIENT_ID is not None and settings.SLACK_CLIENT_SECRET is not None
    return {
        "authorize": InstalledBotAuthorize(installations),
        "oauth_settings": oauth_settings(
            client_id=settings.SLACK_CLIENT_ID,
            client_secret=settings.SLACK_CLIENT_SECRET.get_secret_value(),
            redirect_uri=str(settings.SLACK_REDIRECT_URI) if settings.SLACK_REDIRECT_URI else None,
            store=installations.store,
            engine=engine,
        ),
    }


def welcome_back_own_workspace(app: ExtraMile) -> str | None:
    """Single-workspace mode, at start: if the token's workspace had removed ExtraMile, a token that
    works again means it was installed again; what was still ahead is resumed. Its team id, or None
    when Slack cannot say (the start goes on: the token may work later)."""
    if app.installations is not None or not app.settings.slack:
        return None
    try:
        team_id = SlackDirectory(app.slack_clients).team_id()
    except DeliveryError as error:
        log.warning("Slack did not say which workspace SLACK_BOT_TOKEN is for: %s", error.reason)
        return None
    resumed = app.services.workspaces.reinstalled(team_id)
    if resumed:
        log.info("workspace %s is back: %d pending messages resumed", team_id, resumed)
    return team_id


def _authorization(
    settings: Settings, installations: Installations | None, engine: Engine, token: str | None
) -> dict[str, Any]:
    """How Bolt finds a request's token: the one bot token (the client has it), each installation's,
    or none at all for a command that serves nothing (`tick --dry-run`, `workspace`)."""
    if installations is not None:
        return _oauth(settings, installations, engine)
    return {"authorize": _no_token} if token is None else {}


def _no_token(team_id: str | None) -> None:
    """No SLACK_BOT_TOKEN (only `run` requires one): nothing is authorized."""
    return None


def _teams(
    settings: Settings, *, sessions: SessionFactory, clock: Clock, people: Callable[[], PeopleService]
) -> Teams:
    """Microsoft Teams' side, imported only where TEAMS_APP_ID is set."""
    from handlers.teams.web import build_teams

    return build_teams(settings, sessions=sessions, clock=clock, people=people)
