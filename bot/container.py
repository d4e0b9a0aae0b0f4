"""The services a platform adapter can reach (Slack's listeners, Teams' agent), built once by the app
factory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.clock import Clock
from bot.services.administration import AdministrationService
from bot.services.celebrations import CelebrationService
from bot.services.checkins import CheckinService
from bot.services.delivery import DeliveryService
from bot.services.exports import ExportService
from bot.services.home import HomeService
from bot.services.kudos import KudosService
from bot.services.offers import OfferService
from bot.services.people import PeopleService
from bot.services.privacy import PrivacyService
from bot.services.promises import PromiseService
from bot.services.questions import QuestionService
from bot.services.recaps import RecapService
from bot.services.welcomes import WelcomeService
from bot.services.workspaces import WorkspaceService
from bot.workers import WorkPool


@dataclass(frozen=True)
class Services:
    kudos: KudosService
    promises: PromiseService
    offers: OfferService
    questions: QuestionService
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
    # Slow work after an ack runs here, so acknowledgements never wait behind it.
    follow_ups: WorkPool
    # Sends what is due now without waiting for the scheduler's next pass; a burst folds into one.
    deliver_soon: Callable[[], None]
