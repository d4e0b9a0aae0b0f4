"""Many workspaces through Slack's OAuth flow: install and redirect, each workspace's own token for
requests and scheduled sends, token rotation done once, uninstall and reinstall. Two fake workspaces
answer behind one Slack API address, with the same user and channel ids, as two real ones could."""

from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from pydantic import SecretStr
from sqlalchemy import select, text

from bot.app import ExtraMile, build_app
from bot.clock import FrozenClock
from bot.server import RunningServer
from bot.settings import Settings
from handlers.slack.fake_api import FakeSlack
from handlers.slack.manifest import BOT_SCOPES
from handlers.slack.signed_requests import SignedSender
from storage.models import OutboxMessage, Promise
from tests.conftest import ANA, BEN, CLIENT_SECRET, GENERAL, GIVER, SIGNING_SECRET, payload

CLIENT_ID = "1234.5678"
ACME, GLOBEX = "T0001", "T0002"


def oauth_settings(database_url: str, slack_url: str) -> Settings:
    return Settings(
        SLACK_CLIENT_ID=CLIENT_ID,
        SLACK_CLIENT_SECRET=SecretStr(CLIENT_SECRET),
        SLACK_SIGNING_SECRET=SecretStr(SIGNING_SECRET),
        SLACK_API_URL=slack_url,  # type: ignore[arg-type]
        DATABASE_URL=database_url,
        _env_file=None,  # type: ignore[call-arg]
    )


def _workspace(team_id: str, name: str) -> FakeSlack:
    fake = FakeSlack(team_id=team_id, team_name=name).start()
    fake.add_user(GIVER, "gia", real_name="Gia Giver", tz="Europe/London")
    fake.add_user(ANA, "ana", real_name="Ana Ames", tz="America/New_York")
    fake.add_user(BEN, "ben", real_name="Ben Berg", tz="Asia/Tokyo")
    fake.add_channel(GENERAL, "general")
    return fake


@dataclass
class Cloud:
    """The app in OAuth mode, and two workspaces that may install it."""

    app: ExtraMile
    url: str
    clock: FrozenClock
    sender: SignedSender
    fakes: dict[str, FakeSlack]

    def install(self, team_id: str, installer: str = GIVER) -> str:
        """Add to Slack, approve, come back: the success page's text."""
        with urllib.request.urlopen(self.url + "/slack/install") as install_page:
            link = authorize_link(install_page.read().decode())
            # The state cookie is Secure (Slack's pages are https): a browser would send it back.
            cookie = install_page.headers["Set-Cookie"].split(";")[0]
        state = parse_qs(urlsplit(link).query)["state"][0]
        assert cookie == f"slack-app-oauth-state={state}"
        code = self.fakes[team_id].authorization_code(installer)
        back = urllib.request.Request(
            self.url + "/slack/oauth_redirect?" + urlencode({"code": code, "state": state}),
            headers={"Cookie": cookie},
        )
        with urllib.request.urlopen(back) as page:
            return str(page.read().decode())

    def command(self, team_id: str, text: str, *, name: str, user_id: str = GIVER) -> Any:
        form = payload("slash_command", text=text, user_id=user_id, channel_id=GENERAL, command=name)
        form |= {"team_id": team_id, "trigger_id": f"trigger-{uuid.uuid4().hex}"}
        form["response_url"] = self.fakes[team_id].response_url(f"{user_id}/{form['trigger_id']}")
        response = self.sender.command(form)
        assert response.status == 200, response.body
        self.settle()
        return response.json() if response.body.startswith("{") else response.body

    def event(self, team_id: str, event: dict[str, Any]) -> None:
        envelope = payload("app_home_opened", event_id=f"Ev{uuid.uuid4().hex[:12]}")
        envelope |= {"team_id": team_id, "context_team_id": team_id, "event": event}
        envelope["authorizations"] = [{**envelope["authorizations"][0], "team_id": team_id}]
        response = self.sender.event(envelope)
        assert response.status == 200, response.body
        self.settle()

    def settle(self) -> None:
        assert self.app.workers.wait_idle(10)

    def posts(self, team_id: str, channel: str | None = None) -> list[Any]:
        return [
            call
            for call in self.fakes[team_id].calls_to("chat.postMessage")
            if call.ok and (channel is None or call.params["channel"] == channel)
        ]


def authorize_link(page: str) -> str:
    match = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page)
    assert match, page
    return unescape(match.group(1))


@pytest.fixture
def cloud(database_url: str) -> Iterator[Cloud]:
    acme, globex = _workspace(ACME, "Acme"), _workspace(GLOBEX, "Globex")
    acme.register_app(CLIENT_ID, CLIENT_SECRET)
    acme.federate(globex)
    clock = FrozenClock(datetime(2026, 11, 18, 15, 0, tzinfo=UTC))
    app = build_app(oauth_settings(database_url, acme.url), clock=clock)
    server = RunningServer(app.web)
    try:
        yield Cloud(
            app=app,
            url=server.url,
            clock=clock,
            sender=SignedSender(server.url, SIGNING_SECRET),
            fakes={ACME: acme, GLOBEX: globex},
        )
    finally:
        server.stop()
        app.workers.shutdown()
        app.engine.dispose()
        acme.stop()
        globex.stop()


def _bots(c: Cloud) -> dict[str, str]:
    with c.app.engine.connect() as connection:
        rows = connection.execute(text("SELECT team_id, bot_token FROM slack_bots")).all()
    return {str(team): str(token) for team, token in rows}


def test_the_install_page_asks_for_every_scope_and_the_redirect_installs(cloud: Cloud) -> None:
    c = cloud
    page = urllib.request.urlopen(c.url + "/slack/install").read().decode()
    query = parse_qs(urlsplit(authorize_link(page)).query)
    assert query["client_id"] == [CLIENT_ID]
    assert set(query["scope"][0].split(",")) == set(BOT_SCOPES)

    done = c.install(ACME)
    assert "Thank you!" in done
    exchange = c.fakes[ACME].calls_to("oauth.v2.access")
    assert len(exchange) == 1 and exchange[0].ok
    assert exchange[0].params["client_id"] == CLIENT_ID
    assert _bots(c) == {ACME: c.fakes[ACME].issued_tokens[0]}

    c.install(GLOBEX, installer=BEN)
    bots = _bots(c)
    assert bots[GLOBEX] == c.fakes[GLOBEX].issued_tokens[0] != bots[ACME]


def test_a_redirect_without_its_state_installs_nothing(cloud: Cloud) -> None:
    c = cloud
    code = c.fakes[ACME].authorization_code(GIVER)
    # No cookie and a state nobody issued: someone else's redirect, replayed.
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(
            c.url + "/slack/oauth_redirect?" + urlencode({"code": code, "state": "forged"})
        )
    assert refused.value.code == 400
    assert c.fakes[ACME].calls_to("oauth.v2.access") == []
    assert _bots(c) == {}


def test_each_workspace_is_answered_and_reminded_with_its_own_token(cloud: Cloud) -> None:
    c = cloud
    c.install(ACME)
    c.install(GLOBEX)
    for team, words in ((ACME, "acme launch"), (GLOBEX, "globex launch")):
        c.command(team, f"<@{ANA}|ana> thanks for the {words}", name="/kudos")
        c.command(team, f"<@{ANA}|ana> send the {words} deck by Friday 3pm", name="/promise")

    tokens = _bots(c)
    for team, words, other_words in ((ACME, "acme", "globex"), (GLOBEX, "globex", "acme")):
        posts = c.posts(team, GENERAL)
        assert len(posts) == 1 and f"{words} launch" in json.dumps(posts[0].params)
        fake_calls = c.fakes[team].calls
        assert {call.token for call in fake_calls if call.token} == {tokens[team]}
        assert other_words not in json.dumps([call.params for call in fake_calls])

    # The reminders at the due time come from the scheduler, each with its workspace's token.
    sent_before = {team: len(c.posts(team)) for team in (ACME, GLOBEX)}
    due = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # Friday 3pm in London
    c.clock.set(due)
    report = c.app.services.delivery.tick(due)
    assert report.dead == 0
    for team in (ACME, GLOBEX):
        reminders = c.posts(team)[sent_before[team] :]
        assert reminders, f"no reminder in {team}"
        assert {call.token for call in reminders} == {tokens[team]}


def test_a_token_about_to_expire_is_refreshed_once_whoever_needs_it(cloud: Cloud) -> None:
    c = cloud
    acme = c.fakes[ACME]
    acme.set_token_lifetime(3600)  # within the two hours before expiry in which tokens are refreshed
    c.install(ACME)
    old_token = _bots(c)[ACME]
    acme.set_token_lifetime(12 * 3600)
    # A second replica on the same database, and eight threads of each asking at once.
    other = build_app(c.app.settings, clock=c.clock)
    assert c.app.installations is not None and other.installations is not None
    start = threading.Barrier(16)
    tokens: list[str] = []

    def ask(installations: Any) -> None:
        start.wait()
        tokens.append(str(installations.for_team(ACME).token))

    threads = [
        threading.Thread(target=ask, args=(replica.installations,))
        for replica in (c.app, other)
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    other.workers.shutdown()
    other.engine.dispose()

    refreshes = [
        call for call in acme.calls_to("oauth.v2.access") if call.params.get("grant_type") == "refresh_token"
    ]
    assert len(refreshes) == 1 and refreshes[0].ok
    new_token = _bots(c)[ACME]
    assert new_token != old_token
    # Those who asked while it was being refreshed used the old one, still good for an hour.
    assert set(tokens) <= {old_token, new_token} and len(tokens) == 16

    # From then on the refreshed token speaks, for requests and sends alike.
    c.command(ACME, f"<@{ANA}|ana> thanks for the quick fix", name="/kudos")
    assert c.posts(ACME, GENERAL)[-1].token == new_token == acme.issued_tokens[-1]


def test_uninstalled_means_nothing_more_is_sent_and_reinstalled_means_back(cloud: Cloud) -> None:
    c = cloud
    c.install(ACME)
    c.install(GLOBEX)
    c.command(GLOBEX, f"<@{ANA}|ana> send the globex deck by Friday 3pm", name="/promise")
    c.command(GLOBEX, f"<@{ANA}|ana> review the globex plan on 2026-12-02 10am", name="/promise")
    c.command(ACME, f"<@{ANA}|ana> send the acme deck by Friday 3pm", name="/promise")
    pending = _pending(c, GLOBEX)
    assert pending

    c.fakes[GLOBEX].uninstall()
    c.event(GLOBEX, {"type": "app_uninstalled", "event_ts": "1700000000.000100"})
    assert GLOBEX not in _bots(c) and ACME in _bots(c)
    assert _pending(c, GLOBEX) == []
    with c.app.sessions() as session:
        cancelled = session.scalars(
            select(OutboxMessage.id).where(
                OutboxMessage.team_id == GLOBEX, OutboxMessage.last_error == "workspace_removed"
            )
        ).all()
    assert set(cancelled) >= set(pending)

    globex_calls = len(c.fakes[GLOBEX].calls)
    due = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    c.clock.set(due)
    c.app.services.delivery.tick(due)
    assert len(c.fakes[GLOBEX].calls) == globex_calls, "something was sent to a workspace that left"
    assert any("acme deck" in json.dumps(call.params) for call in c.posts(ACME))

    # Back a week later: its promises are all there, and what is still ahead is reminded again.
    c.clock.set(due + timedelta(days=7))
    c.install(GLOBEX)
    with c.app.sessions() as session:
        promises = session.scalars(select(Promise.what).where(Promise.team_id == GLOBEX)).all()
    assert sorted(promises) == ["review the globex plan", "send the globex deck"]
    assert _pending(c, GLOBEX), "the reminders still ahead did not come back"
    before = len(c.posts(GLOBEX))
    reminder_day = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    c.clock.set(reminder_day)
    c.app.services.delivery.tick(reminder_day)
    fresh = _bots(c)[GLOBEX]
    reminders = [call for call in c.posts(GLOBEX)[before:] if "globex plan" in json.dumps(call.params)]
    assert reminders and {call.token for call in reminders} == {fresh}


def test_a_revoked_bot_token_is_forgotten_like_an_uninstall(cloud: Cloud) -> None:
    c = cloud
    c.install(GLOBEX)
    c.command(GLOBEX, f"<@{ANA}|ana> send the globex deck by Friday 3pm", name="/promise")
    c.event(GLOBEX, {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["BBOT"]}})
    assert _bots(c) == {}
    assert _pending(c, GLOBEX) == []


def _pending(c: Cloud, team_id: str) -> list[int]:
    return _pending_in(c.app, team_id)


def test_one_workspace_mode_stops_on_uninstall_and_resumes_when_its_token_works_again(
    harness: Any,
) -> None:
    from bot.app import welcome_back_own_workspace

    h = harness
    h.command(f"<@{ANA}|ana> review the plan on 2026-12-02 10am", name="/promise")
    pending = _pending_in(h.app, ACME)
    assert pending
    envelope = payload("app_home_opened", event_id="EvUninstall1")
    envelope["event"] = {"type": "app_uninstalled", "event_ts": "1700000000.000100"}
    h.event(envelope)
    assert _pending_in(h.app, ACME) == []
    calls = len(h.fake.calls)
    h.app.services.delivery.tick(datetime(2026, 12, 2, 10, 0, tzinfo=UTC))
    assert len(h.fake.calls) == calls, "something was sent after the uninstall"

    # Installed again with a working token, and restarted: what is still ahead resumes.
    assert welcome_back_own_workspace(h.app) == ACME
    assert sorted(_pending_in(h.app, ACME)) == sorted(pending)


def _pending_in(app: ExtraMile, team_id: str) -> list[int]:
    with app.sessions() as session:
        return list(
            session.scalars(
                select(OutboxMessage.id).where(
                    OutboxMessage.team_id == team_id, OutboxMessage.status == "pending"
                )
            )
        )
