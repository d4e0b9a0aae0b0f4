"""The services a Slack listener can reach, injected through Bolt's context by the app factory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from slack_bolt import BoltContext

from bot.clock import Clock
from bot.services.administration import AdministrationService
from bot.services.celebrations import CelebrationService
from bot.services.checkins import CheckinService
from bot.services.delivery import DeliveryService
from bot.services.exports import ExportService
from bot.services.home import HomeService
from bot.services.kudos import KudosService
from bot.services.people import PeopleService
from bot.services.privacy import PrivacyService
from bot.services.promises import PromiseService
from bot.services.recaps import RecapService
from bot.services.welcomes import WelcomeService
from bot.services.workspaces import WorkspaceService
from bot.workers import WorkPool
from handlers.slack.messenger import SlackMessenger

CONTEXT_KEY = "extramile_services"


@dataclass(frozen=True)
class Services:
    kudos: KudosService
    promises: PromiseService
    checkins: CheckinService
    welcomes: WelcomeService
    celebrations: CelebrationService
    recaps: RecapService
    home: HomeService
    administration: AdministrationService
    exports: ExportService
    privacy: PrivacyService
    delivery: DeliveryService
    clock: Clock
    people: PeopleService
    workspaces: WorkspaceService
    messenger: SlackMessenger
    # Slow work after an ack runs here, so acknowledgements never wait behind it.
    follow_ups: WorkPool
    # Sends what is due now without waiting for the scheduler's next pass; a burst folds into one.
    deliver_soon: Callable[[], None]


def services_of(context: BoltContext) -> Services:
    services = context[CONTEXT_KEY]
    assert isinstance(services, Services)
    return services
