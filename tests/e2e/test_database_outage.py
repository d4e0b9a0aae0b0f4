"""The database away for a few seconds: people are asked to try again, Slack resends events, and the
scheduler and deliveries carry on by themselves once it is back. PostgreSQL behind a TCP proxy that the
test cuts and restores."""

from __future__ import annotations

import contextlib
import socket
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.app import ExtraMile, build_app
from bot.clock import FrozenClock
from bot.scheduler import build_scheduler
from bot.server import RunningServer
from handlers.slack.fake_api import FakeSlack
from handlers.slack.signed_requests import SignedSender
from storage.models import Kudos, PersonDates
from tests.conftest import ANA, GENERAL, GIVER, SIGNING_SECRET, make_settings, payload, texts

pytestmark = pytest.mark.postgres


class FlakyProxy:
    """Forwards 127.0.0.1:<port> to PostgreSQL; `down()` drops every connection and refuses new ones."""

    def __init__(self, target: tuple[str, int]) -> None:
        self._target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._down = False
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._down:
                client.close()
                continue
            upstream = socket.create_connection(self._target)
            with self._lock:
                self._open += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.close()

    def down(self) -> None:
        self._down = True
        with self._lock:
            for end in self._open:
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                    end.close()
            self._open.clear()

    def up(self) -> None:
        self._down = False

    def close(self) -> None:
        self.down()
        self._listener.close()


@pytest.fixture
def outage(
    database_url: str, fake_slack: FakeSlack, clock: FrozenClock
) -> Iterator[tuple[ExtraMile, SignedSender, FlakyProxy]]:
    url = make_url(database_url)
    proxy = FlakyProxy((url.host or "127.0.0.1", url.port or 5432))
    proxied = url.set(port=proxy.port).render_as_string(hide_password=False)
    app = build_app(make_settings(proxied, fake_slack.url), clock=clock)
    server = RunningServer(app.web)
    try:
        yield app, SignedSender(server.url, SIGNING_SECRET), proxy
    finally:
        server.stop()
        app.workers.shutdown()
        app.engine.dispose()
        proxy.close()


def _kudos(sender: SignedSender, fake: FakeSlack, text: str) -> Any:
    form = payload("slash_command", text=text)
    form["trigger_id"] = uuid.uuid4().hex
    form["response_url"] = fake.response_url(f"{GIVER}/{form['trigger_id']}")
    return sender.command(form)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_short_outage_asks_people_to_try_again_and_everything_resumes(
    outage: tuple[ExtraMile, SignedSender, FlakyProxy], fake_slack: FakeSlack
) -> None:
    app, sender, proxy = outage
    assert _kudos(sender, fake_slack, f"<@{ANA}|ana> before the outage").status == 200
    app.workers.wait_idle(10)

    proxy.down()
    during = _kudos(sender, fake_slack, f"<@{ANA}|ana> during the outage")
    birthday = payload("slash_command", text="14 March", command="/birthday")
    birthday["trigger_id"] = uuid.uuid4().hex
    birthday_reply = sender.command(birthday)
    joined = payload("team_join", event_id="EvOutage")
    event_reply = sender.event(joined)
    report = app.services.delivery.deliver_due()  # the kick or the clock: no exception, nothing lost
    scheduler = build_scheduler(app.services.delivery)
    for job in scheduler.get_jobs():
        job.func()  # one warning each, and they simply run again next time

    assert during.status == 200 and "try again in a moment" in during.json()["text"]
    assert birthday_reply.status == 200 and "try again in a moment" in texts(birthday_reply.json()["blocks"])
    assert event_reply.status == 500  # Slack delivers the event again later
    assert report.sent == 0

    proxy.up()
    after = _kudos(sender, fake_slack, f"<@{ANA}|ana> after the outage")
    assert sender.event(joined, retry_num=1).status == 200
    app.workers.wait_idle(10)
    app.services.delivery.deliver_due()

    assert after.status == 200 and after.body == ""
    engine = app.engine
    with engine.connect() as connection:
        messages = connection.execute(select(Kudos.message).order_by(Kudos.id)).scalars().all()
        assert messages == ["before the outage", "after the outage"]
        assert connection.execute(select(PersonDates)).all() == []
    posted = [
        texts(post.params["blocks"])
        for post in fake_slack.calls_to("chat.postMessage")
        if post.ok and post.params.get("channel") == GENERAL
    ]
    assert sum("before the outage" in text for text in posted) == 1
    assert sum("after the outage" in text for text in posted) == 1
