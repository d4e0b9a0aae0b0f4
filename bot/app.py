"""The app factory: wires settings, storage, services and the Slack adapter. Importing it does nothing."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy import Engine
from starlette.applications import Starlette

from bot.clock import Clock, SystemClock
from bot.services.kudos import KudosService
from bot.services.people import PeopleService
from bot.services.workspaces import WorkspaceService
from bot.settings import Settings
from handlers.slack.container import Services
from handlers.slack.listeners import register
from handlers.slack.messenger import SlackDirectory, SlackMessenger
from storage.db import SessionFactory, create_db_engine, session_factory

T = TypeVar("T")

LISTENER_THREADS = 64


class ListenerPool(ThreadPoolExecutor):
    """Bolt's listener threads, able to say when every acknowledged request has finished its work.

    Events are acknowledged before their listener runs; the demo, the tests and a graceful shutdown
    need to know when that work is done.
    """

    def __init__(self, max_workers: int) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix="bolt")
        self._busy = 0
        self._idle = threading.Condition()

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        with self._idle:
            self._busy += 1
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, _: Future[Any]) -> None:
        with self._idle:
            self._busy -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)


@dataclass(frozen=True)
class ExtraMile:
    settings: Settings
    engine: Engine
    sessions: SessionFactory
    bolt: App
    services: Services
    web: Starlette
    listeners: ListenerPool


def build_app(settings: Settings, *, clock: Clock | None = None, engine: Engine | None = None) -> ExtraMile:
    """Builds everything for one process. The database must already be migrated (storage.db.upgrade)."""
    from bot.server import build_web

    clock = clock or SystemClock()
    engine = engine or create_db_engine(settings.DATABASE_URL)
    sessions = session_factory(engine)
    token = settings.SLACK_BOT_TOKEN.get_secret_value() if settings.SLACK_BOT_TOKEN else None
    signing_secret = settings.SLACK_SIGNING_SECRET.get_secret_value() if settings.SLACK_SIGNING_SECRET else ""
    client = WebClient(token=token, base_url=settings.slack_api_url, timeout=10)
    messenger = SlackMessenger(client)
    people = PeopleService(sessions=sessions, clock=clock, directory=SlackDirectory(client))
    workspaces = WorkspaceService(sessions)
    services = Services(
        kudos=KudosService(
            sessions=sessions, clock=clock, people=people, workspaces=workspaces, messenger=messenger
        ),
        people=people,
        workspaces=workspaces,
        messenger=messenger,
    )
    listeners = ListenerPool(LISTENER_THREADS)
    bolt = App(
        client=client,
        signing_secret=signing_secret,
        # auth.test runs lazily on the first request instead of at construction.
        token_verification_enabled=False,
        process_before_response=False,
        # Bolt's default of 10 listener threads would queue a burst behind slow Slack calls.
        listener_executor=listeners,
    )
    register(bolt, services)
    return ExtraMile(
        settings=settings,
        engine=engine,
        sessions=sessions,
        bolt=bolt,
        services=services,
        web=build_web(bolt, engine),
        listeners=listeners,
    )
