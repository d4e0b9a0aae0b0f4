"""A person's own place: their open loops, the kudos they received, their dates and their settings."""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.administration import AdministrationService
from bot.services.celebrations import CelebrationService, SharedDates
from bot.services.checkins import CheckinService, CheckinView
from bot.services.kudos import KudosView, view_of
from bot.services.people import PeopleService, Preferences
from bot.services.promises import PromiseService, PromiseView
from bot.services.workspaces import WorkspaceService
from storage import kudos as kudos_store
from storage.db import SessionFactory, unit_of_work

RECENT_KUDOS = 5


@dataclass(frozen=True)
class HomeView:
    team_id: str
    user_id: str
    tz: str
    my_promises: list[PromiseView]
    owed_to_me: list[PromiseView]
    checkins: list[CheckinView]
    kudos_received: int
    recent_kudos: list[KudosView]
    dates: SharedDates
    preferences: Preferences
    is_admin: bool


class HomeService:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        people: PeopleService,
        workspaces: WorkspaceService,
        promises: PromiseService,
        checkins: CheckinService,
        celebrations: CelebrationService,
        administration: AdministrationService,
    ) -> None:
        self._sessions = sessions
        self._administration = administration
        self._people = people
        self._workspaces = workspaces
        self._promises = promises
        self._checkins = checkins
        self._celebrations = celebrations

    def home(self, *, team_id: str, user_id: str) -> HomeView:
        lists = self._promises.lists(team_id=team_id, user_id=user_id)
        checkins, _ = self._checkins.active(team_id=team_id, user_id=user_id)
        with unit_of_work(self._sessions) as session:
            total, latest = kudos_store.received(
                session, team_id=team_id, user_id=user_id, limit=RECENT_KUDOS
            )
            recent = [view_of(kudos) for kudos in latest]
        return HomeView(
            team_id=team_id,
            user_id=user_id,
            tz=lists.tz,
            my_promises=lists.mine,
            owed_to_me=lists.owed_to_me,
            checkins=checkins,
            kudos_received=total,
            recent_kudos=recent,
            dates=self._celebrations.shared(team_id=team_id, user_id=user_id),
            preferences=self._people.preferences(team_id, user_id),
            is_admin=self._administration.is_admin(team_id=team_id, user_id=user_id),
        )
