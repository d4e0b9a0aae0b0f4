"""The Slack app manifest: every command, shortcut, event and scope the app uses, in one place."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

from handlers.slack import blocks, promise_blocks

COMMANDS: list[dict[str, Any]] = [
    {
        "command": "/kudos",
        "description": "Thank a colleague, publicly",
        "usage_hint": "@ana thanks for the late-night fix #ownership",
        "should_escape": True,
    },
    {
        "command": "/promise",
        "description": "Promise to get back to someone, and be reminded",
        "usage_hint": "@carol send the pricing deck by Friday 3pm",
        "should_escape": True,
    },
    {
        "command": "/checkin",
        "description": "A recurring nudge to keep in touch with someone",
        "usage_hint": "@dan every 2 weeks catch up on the roadmap",
        "should_escape": True,
    },
    {
        "command": "/birthday",
        "description": "Share your birthday (no year), or see who's celebrating soon",
        "usage_hint": "14 March | list | clear",
        "should_escape": False,
    },
    {
        "command": "/anniversary",
        "description": "Share the date you started, to celebrate your work anniversaries",
        "usage_hint": "2021-04-12 | clear",
        "should_escape": False,
    },
    {
        "command": "/recap",
        "description": "See this week's team recap so far (only you see it)",
        "usage_hint": "preview | help",
        "should_escape": False,
    },
    {
        "command": "/extramile",
        "description": "Help, forget-me, and export for admins",
        "usage_hint": "help | forget-me | export [FROM] [TO]",
        "should_escape": False,
    },
]
MESSAGE_SHORTCUTS: list[dict[str, str]] = [
    {
        "name": "Give kudos",
        "callback_id": blocks.GIVE_KUDOS_SHORTCUT,
        "description": "Thank the author of this message",
    },
    {
        "name": "Promise a follow-up",
        "callback_id": promise_blocks.PROMISE_SHORTCUT,
        "description": "Promise to get back to the author, and be reminded",
    },
]
# The OAuth flow's two pages (OAuth mode): "Add to Slack", and where Slack sends the installer back.
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
BOT_EVENTS = [
    "team_join",
    "user_change",
    "member_joined_channel",
    "member_left_channel",
    "reaction_added",
    "reaction_removed",
    # Each person's Home tab, published when they open it.
    "app_home_opened",
    # Messages in channels the bot is in, and in its DMs: a deleted message loses its reaction kudos, and
    # where a workspace turned promise spotting on, a promise just written is offered to its author.
    "message.channels",
    "message.groups",
    "message.im",
    # The workspace removed the app, or revoked its token: nothing more is sent there.
    "app_uninstalled",
    "tokens_revoked",
]
BOT_SCOPES = [
    "commands",
    "chat:write",
    "users:read",
    "usergroups:read",
    "reactions:read",
    # Reading a message again when its promise offer is shown (never kept), and finding a reminder that
    # a crashed sender already posted (tagged with its outbox id).
    "channels:history",
    "groups:history",
    "im:history",
    "im:write",
    # Channels that greet people who join them, and where celebrations are posted.
    "channels:read",
    "groups:read",
    # `extramile people import` matches people by email.
    "users:read.email",
    # The weekly recap's chart (and exports) are uploaded with Slack's upload flow.
    "files:write",
    # The settings form checks that a kudos emoji exists among the workspace's own.
    "emoji:read",
]


def build_manifest(
    *,
    name: str = "ExtraMile",
    request_url: str = "https://extramile.example.com/slack/events",
    token_rotation: bool = False,
) -> dict[str, Any]:
    """`request_url` is Slack's endpoint on this server; the OAuth redirect is on the same host."""
    origin = urlsplit(request_url)
    redirect_url = urlunsplit((origin.scheme, origin.netloc, REDIRECT_PATH, "", ""))
    commands = [{**command, "url": request_url} for command in COMMANDS]
    shortcuts = [{**shortcut, "type": "message"} for shortcut in MESSAGE_SHORTCUTS]
    return {
        "display_information": {
            "name": name,
            "description": "Kudos, welcomes and promises kept: going the extra mile for each other.",
            "background_color": "#2c5f2d",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": True,
            },
            "bot_user": {"display_name": name, "always_online": True},
            "shortcuts": shortcuts,
            "slash_commands": commands,
        },
        "oauth_config": {"redirect_urls": [redirect_url], "scopes": {"bot": BOT_SCOPES}},
        "settings": {
            "event_subscriptions": {"request_url": request_url, "bot_events": BOT_EVENTS},
            "interactivity": {"is_enabled": True, "request_url": request_url},
            "org_deploy_enabled": False,
            "socket_mode_enabled": False,
            "token_rotation_enabled": token_rotation,
        },
    }


def manifest_yaml(**kwargs: Any) -> str:
    return yaml.safe_dump(build_manifest(**kwargs), sort_keys=False, allow_unicode=True)
