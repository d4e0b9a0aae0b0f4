"""The Microsoft Teams adapter: Teams activities in, Bot Connector calls out, behind the same ports as Slack."""
