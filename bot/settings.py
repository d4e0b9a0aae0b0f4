"""Process settings: environment first, then `.env`. Built once in `main` and passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///extramile.db"

# How to fix each setting, shown instead of a traceback when it is missing or malformed.
FIXES: dict[str, str] = {
    "SLACK_BOT_TOKEN": "set it to the Bot User OAuth Token (xoxb-...) from your app's OAuth & Permissions page",
    "SLACK_SIGNING_SECRET": "set it to the Signing Secret from your app's Basic Information page",
    "SLACK_APP_TOKEN": "set it to an app-level token (xapp-...) with connections:write, or unset it for HTTP mode",
    "SLACK_API_URL": "set it to a Web API base URL such as https://slack.com/api/, or unset it",
    "DATABASE_URL": "set it to a SQLAlchemy URL such as sqlite:///extramile.db or postgresql+psycopg://host/db",
    "PORT": "set it to a TCP port number between 1 and 65535",
    "SLACK_CLIENT_ID": "set it to the Client ID from your app's Basic Information page (OAuth mode)",
    "SLACK_CLIENT_SECRET": "set it to the Client Secret from your app's Basic Information page (OAuth mode)",
    "SLACK_REDIRECT_URI": "set it to this server's public https://.../slack/oauth_redirect, or unset it",
    "LOG_LEVEL": "set it to DEBUG, INFO, WARNING or ERROR",
    "LOG_FORMAT": "set it to text or json",
    "TEAMS_APP_ID": "set it to the Microsoft App ID of your Azure bot registration, or unset it for Slack only",
    "TEAMS_APP_PASSWORD": "set it to a client secret of that app registration (or TEAMS_ANONYMOUS=true for the Bot Framework Emulator only)",
    "TEAMS_TENANT_ID": "set it to the Directory (tenant) ID of that app registration",
    "TEAMS_ANONYMOUS": "set it to true (the Bot Framework Emulator and tests only) or false",
}


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it and says how to fix it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=True)

    SLACK_BOT_TOKEN: SecretStr | None = None
    SLACK_SIGNING_SECRET: SecretStr | None = None
    SLACK_APP_TOKEN: SecretStr | None = None
    SLACK_API_URL: AnyHttpUrl = AnyHttpUrl("https://slack.com/api/")
    DATABASE_URL: str = DEFAULT_DATABASE_URL
    PORT: int = Field(default=3000, ge=1, le=65535)
    # OAuth mode (many workspaces): instead of SLACK_BOT_TOKEN, each installation's own tokens.
    SLACK_CLIENT_ID: str | None = None
    SLACK_CLIENT_SECRET: SecretStr | None = None
    SLACK_REDIRECT_URI: AnyHttpUrl | None = None
    # Microsoft Teams (POST /api/messages): the Azure bot registration's values. Unset: Slack only.
    TEAMS_APP_ID: str | None = None
    TEAMS_APP_PASSWORD: SecretStr | None = None
    TEAMS_TENANT_ID: str | None = None
    # Accept requests with no token: the Bot Framework Emulator and tests, never production.
    TEAMS_ANONYMOUS: bool = False
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    LOG_FORMAT: Literal["text", "json"] = "text"

    @field_validator("LOG_LEVEL", mode="before")
    @classmethod
    def _level_any_case(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("LOG_FORMAT", mode="before")
    @classmethod
    def _format_any_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("SLACK_BOT_TOKEN")
    @classmethod
    def _bot_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("a bot token starts with xoxb-")
        return value

    @field_validator("SLACK_APP_TOKEN")
    @classmethod
    def _app_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("an app-level token starts with xapp-")
        return value

    @field_validator("DATABASE_URL")
    @classmethod
    def _database_url_shape(cls, value: str) -> str:
        if "://" not in value:
            raise ValueError("not a database URL")
        return value

    @property
    def slack_api_url(self) -> str:
        url = str(self.SLACK_API_URL)
        return url if url.endswith("/") else url + "/"

    @property
    def oauth(self) -> bool:
        """Many workspaces, each through Slack's OAuth flow, rather than one bot token."""
        return self.SLACK_CLIENT_ID is not None or self.SLACK_CLIENT_SECRET is not None

    @property
    def teams(self) -> bool:
        """Serve Microsoft Teams too."""
        return self.TEAMS_APP_ID is not None

    @property
    def slack(self) -> bool:
        """Serve Slack: any Slack credential is set, or nothing is (Slack is the default)."""
        slack_set = any(
            getattr(self, name) is not None
            for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_CLIENT_ID")
        )
        return slack_set or not self.teams

    def require_teams(self) -> None:
        """Teams needs its registration, and a password unless requests may come without a token."""
        if not self.teams:
            return
        if self.TEAMS_APP_PASSWORD is None and not self.TEAMS_ANONYMOUS:
            raise SettingsError(f"TEAMS_APP_PASSWORD is not set: {FIXES['TEAMS_APP_PASSWORD']}.")
        if self.TEAMS_APP_PASSWORD is not None and self.TEAMS_TENANT_ID is None:
            raise SettingsError(f"TEAMS_TENANT_ID is not set: {FIXES['TEAMS_TENANT_ID']}.")

    def require_slack(self) -> None:
        """`run` needs credentials: a bot token, or an OAuth app's id and secret (never both)."""
        if self.oauth and self.SLACK_BOT_TOKEN is not None:
            raise SettingsError(
                "SLACK_BOT_TOKEN and SLACK_CLIENT_ID/SLACK_CLIENT_SECRET are both set: keep the bot token for "
                "one workspace, or the client id and secret for installs through OAuth, not both."
            )
        needed = ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET") if self.oauth else ("SLACK_BOT_TOKEN",)
        for name in (*needed, "SLACK_SIGNING_SECRET"):
            if getattr(self, name) is None:
                raise SettingsError(f"{name} is not set: {FIXES[name]}.")


def load_settings(env_file: Path | None = Path(".env")) -> Settings:
    """Settings from the environment, or a one-line SettingsError naming the variable (never its value)."""
    try:
        return Settings(_env_file=env_file)  # type: ignore[call-arg]
    except ValidationError as error:
        first = error.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "setting"
        reason = first["msg"].removeprefix("Value error, ")
        raise SettingsError(
            f"{name} is malformed ({reason}): {FIXES.get(name, 'check its value')}."
        ) from None
