"""Which bot token speaks for a workspace.

Single-workspace mode: the one SLACK_BOT_TOKEN, for every workspace id. OAuth mode: each workspace's
own installation, kept by slack_sdk's SQLAlchemy installation store in our database, and refreshed
before it expires when the app has token rotation on. Requests (Bolt's `authorize`) and scheduled
sends (the outbox, planners, `extramile tick`) ask the same object, so both use the same token.
"""

from __future__ import annotations

import functools
import logging
import time
import uuid
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.authorize import Authorize
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackTokenRotationError
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from slack_sdk.oauth.token_rotation import TokenRotator
from sqlalchemy import Engine

from bot.clock import Clock
from bot.services.ports import DeliveryError
from bot.services.workspaces import WorkspaceService
from handlers.slack.container import services_of
from handlers.slack.events import recorded
from handlers.slack.manifest import BOT_SCOPES, INSTALL_PATH, REDIRECT_PATH
from storage import leases
from storage.db import SessionFactory, unit_of_work

log = logging.getLogger(__name__)

# A token is refreshed this long before it expires (Slack's tokens live 12 hours).
REFRESH_AHEAD_MINUTES = 120
# How long a refresher may hold an installation's lease; a refresh is one HTTP call.
REFRESH_LEASE = timedelta(seconds=30)
# A process that finds the refresh taken waits this long for it, when its own token has run out.
REFRESH_WAIT_SECONDS = 10.0
# Clients kept, one per token.
MAX_CLIENTS = 512

NOT_INSTALLED = "not_installed"
# An "Add to Slack" click must come back from Slack within this long.
STATE_SECONDS = 600


class InstallationStore(SQLAlchemyInstallationStore):
    """slack_sdk's store, in our database, telling the workspace service when a workspace comes back."""

    def __init__(self, client_id: str, engine: Engine, workspaces: WorkspaceService) -> None:
        super().__init__(client_id=client_id, engine=engine)
        self._workspaces = workspaces

    def save(self, installation: Installation) -> None:
        super().save(installation)
        if installation.team_id and installation.bot_token:
            revived = self._workspaces.reinstalled(installation.team_id)
            log.info("workspace %s installed ExtraMile (%d messages resumed)", installation.team_id, revived)


class Installations:
    """OAuth mode: each workspace's installation, its token refreshed by one process at a time."""

    def __init__(
        self,
        *,
        store: InstallationStore,
        client_id: str,
        client_secret: str,
        api_url: str,
        sessions: SessionFactory,
        clock: Clock,
    ) -> None:
        self.store = store
        self._api_url = api_url
        self._sessions = sessions
        self._clock = clock
        self._rotator = TokenRotator(
            client_id=client_id, client_secret=client_secret, client=WebClient(base_url=api_url, timeout=10)
        )
        # One client per token, each keeping its connections to Slack warm.
        self._client = functools.lru_cache(maxsize=MAX_CLIENTS)(self._new_client)

    def bot(self, team_id: str) -> Bot | None:
        """The workspace's bot installation, with a token good for a while yet; None if not installed."""
        bot = self.store.find_bot(enterprise_id=None, team_id=team_id)
        if bot is None or not _expiring(bot):
            return bot
        return self._refreshed(team_id, bot)

    def for_team(self, team_id: str) -> WebClient:
        bot = self.bot(team_id)
        if bot is None or not bot.bot_token:
            raise DeliveryError(NOT_INSTALLED)
        return self._client(bot.bot_token)

    def remove(self, team_id: str, *, bot_only: bool = False) -> None:
        """Deletes the workspace's tokens (all of them, or the bot's only)."""
        self.store.delete_bot(enterprise_id=None, team_id=team_id)
        if not bot_only:
            self.store.delete_installation(enterprise_id=None, team_id=team_id)

    def _new_client(self, token: str) -> WebClient:
        return WebClient(token=token, base_url=self._api_url, timeout=10)

    def _refreshed(self, team_id: str, bot: Bot) -> Bot:
        """Refreshes the token under the installation's lease. Whoever finds the lease taken uses the
        token it has while it is still valid (it is refreshed well ahead), and else waits for the
        holder's fresh one."""
        key = f"slack-token:{team_id}"
        # Each attempt is its own holder: threads of one process take turns too.
        holder = uuid.uuid4().hex
        deadline = time.monotonic() + REFRESH_WAIT_SECONDS
        while True:
            now = self._clock.now()
            with unit_of_work(self._sessions) as session:
                taken = leases.take(session, key=key, holder=holder, now=now, until=now + REFRESH_LEASE)
            if taken:
                try:
                    return self._refresh_holding_lease(team_id, bot)
                finally:
                    with unit_of_work(self._sessions) as session:
                        leases.give_back(session, key=key, holder=holder)
            if not _expired(bot) or time.monotonic() > deadline:
                return bot
            time.sleep(0.05)
            bot = self.store.find_bot(enterprise_id=None, team_id=team_id) or bot
            if not _expiring(bot):
                return bot

    def _refresh_holding_lease(self, team_id: str, bot: Bot) -> Bot:
        # Another process may have refreshed it between our read and the lease.
        latest = self.store.find_bot(enterprise_id=None, team_id=team_id) or bot
        if not _expiring(latest):
            return latest
        try:
            refreshed = self._rotator.perform_bot_token_rotation(
                bot=latest, minutes_before_expiration=REFRESH_AHEAD_MINUTES
            )
        except SlackTokenRotationError as error:
            reason = _reason(error.api_error)
            log.warning("could not refresh the token of workspace %s: %s", team_id, reason)
            if _expired(latest):
                raise DeliveryError(reason) from None
            return latest
        if refreshed is None:
            return latest
        self.store.save_bot(refreshed)
        log.info("refreshed the token of workspace %s", team_id)
        return refreshed


# Token expiry is Slack's wall-clock time (slack_sdk's TokenRotator reads time() too), not the app's
# clock: a FrozenClock in the past must not make a dead token look valid.
def _expiring(bot: Bot) -> bool:
    expires_at = bot.bot_token_expires_at
    return (
        expires_at is not None
        and bool(bot.bot_refresh_token)
        and expires_at <= time.time() + REFRESH_AHEAD_MINUTES * 60
    )


def _expired(bot: Bot) -> bool:
    # A few seconds early: a call that starts now must not arrive with a dead token.
    return bot.bot_token_expires_at is not None and bot.bot_token_expires_at <= time.time() + 10


def _reason(error: SlackApiError) -> str:
    data = error.response.data if isinstance(error.response.data, dict) else {}
    return str(data.get("error") or "token_refresh_failed")


class InstalledBotAuthorize(Authorize):
    """Bolt's authorize for OAuth mode: the request's workspace's bot, from the same Installations the
    scheduled sends use (so a token is refreshed once, whoever needs it first)."""

    def __init__(self, installations: Installations) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._installations = installations

    def __call__(
        self,
        *,
        context: BoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        **_: Any,
    ) -> AuthorizeResult | None:
        if not team_id:
            return None
        try:
            bot = self._installations.bot(team_id)
        except DeliveryError:
            return None
        if bot is None or not bot.bot_token:
            return None
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id,
            bot_user_id=bot.bot_user_id,
            bot_id=bot.bot_id,
            bot_token=bot.bot_token,
            bot_scopes=bot.bot_scopes,
            user_id=user_id,
        )


def register(app: App, installations: Installations | None) -> None:
    """`app_uninstalled` and `tokens_revoked`: the tokens go, and nothing more is sent there. Recorded
    before the ack, so a database hiccup makes Slack send the event again."""

    def record_uninstalled(event: dict[str, Any], context: BoltContext) -> None:
        team_id = str(context.team_id or "")
        if installations is not None:
            installations.remove(team_id)
        cancelled = services_of(context).workspaces.removed(team_id)
        log.info("workspace %s removed ExtraMile: %d pending messages cancelled", team_id, cancelled)

    def record_tokens_revoked(event: dict[str, Any], context: BoltContext) -> None:
        team_id = str(context.team_id or "")
        tokens = event.get("tokens") or {}
        if installations is not None:
            # People's own tokens (none are asked for today) go with their installation rows.
            for user_id in tokens.get("oauth") or []:
                installations.store.delete_installation(enterprise_id=None, team_id=team_id, user_id=user_id)
        if tokens.get("bot"):
            if installations is not None:
                installations.remove(team_id, bot_only=True)
            cancelled = services_of(context).workspaces.removed(team_id)
            log.info(
                "workspace %s revoked the bot's token: %d pending messages cancelled", team_id, cancelled
            )

    def nothing_more(ack: Ack) -> None:
        ack()

    app.event("app_uninstalled", middleware=[recorded(record_uninstalled)])(nothing_more)
    app.event("tokens_revoked", middleware=[recorded(record_tokens_revoked)])(nothing_more)


def oauth_settings(
    *, client_id: str, client_secret: str, redirect_uri: str | None, store: InstallationStore, engine: Engine
) -> OAuthSettings:
    """The "Add to Slack" page and the redirect, with every bot scope the manifest declares."""
    return OAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=BOT_SCOPES,
        redirect_uri=redirect_uri,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        installation_store=store,
        state_store=SQLAlchemyOAuthStateStore(expiration_seconds=STATE_SECONDS, engine=engine),
        token_rotation_expiration_minutes=REFRESH_AHEAD_MINUTES,
    )
