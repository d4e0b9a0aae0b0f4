"""`extramile`: run the bot, play the demo, migrate the database, print the Slack manifest."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from bot.settings import Settings, SettingsError, load_settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="extramile", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="serve Slack (HTTP on PORT, or Socket Mode when SLACK_APP_TOKEN is set)")
    commands.add_parser(
        "demo", help="play a scripted scenario against a built-in fake Slack, on a fresh SQLite file"
    )
    db = commands.add_parser("db", help="database maintenance")
    db.add_subparsers(dest="db_command", required=True).add_parser("upgrade", help="apply every migration")
    manifest = commands.add_parser("manifest", help="print the Slack app manifest (YAML)")
    manifest.add_argument(
        "--url", default="https://extramile.example.com/slack/events", help="public /slack/events URL"
    )
    manifest.add_argument("--name", default="ExtraMile")
    workspace = commands.add_parser("workspace", help="show or change a workspace's settings")
    workspace.add_argument("team_id", help="the workspace (team) id, T...")
    workspace.add_argument(
        "--kudos-channel", help="channel id where kudos are posted ('none' to post where given)"
    )
    workspace.add_argument("--kudos-emoji", help="reaction that gives kudos, e.g. clap")
    workspace.add_argument("--allowance", type=int, help="kudos per giver per local day (0 = unlimited)")
    workspace.add_argument(
        "--values", help="comma-separated company values, e.g. ownership,craft ('' to clear)"
    )
    args = parser.parse_args(argv)

    logging.basicConfig(
        level=logging.WARNING if args.command == "demo" else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command == "manifest":
        from handlers.slack.manifest import manifest_yaml

        print(manifest_yaml(request_url=args.url, name=args.name), end="")
        return 0
    if args.command == "demo":
        from bot.demo import play

        return int(play())
    try:
        settings = load_settings()
        if args.command == "run":
            settings.require_slack()
    except SettingsError as error:
        print(f"extramile: {error}", file=sys.stderr)
        return 2
    if args.command == "db":
        from storage.db import create_db_engine, upgrade

        upgrade(create_db_engine(settings.DATABASE_URL))
        print("extramile: database is up to date")
        return 0
    if args.command == "workspace":
        return _workspace(settings, args)
    return _run(settings)


def _run(settings: Settings) -> int:
    from bot.app import build_app
    from bot.server import serve
    from storage.db import create_db_engine, is_sqlite, pending_migrations, upgrade

    engine = create_db_engine(settings.DATABASE_URL)
    if is_sqlite(engine):
        upgrade(engine)
    elif pending := pending_migrations(engine):
        print(
            f"extramile: the database needs {len(pending)} migration(s): run `extramile db upgrade`",
            file=sys.stderr,
        )
        return 2
    app = build_app(settings, engine=engine)
    if settings.SLACK_APP_TOKEN is not None:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        SocketModeHandler(app.bolt, settings.SLACK_APP_TOKEN.get_secret_value()).start()  # type: ignore[no-untyped-call]
        return 0
    serve(app.web, port=settings.PORT)
    return 0


def _workspace(settings: Settings, args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from bot.services.workspaces import WorkspaceService, WorkspaceSettings
    from storage.db import create_db_engine, is_sqlite, session_factory, upgrade

    engine = create_db_engine(settings.DATABASE_URL)
    if is_sqlite(engine):
        upgrade(engine)
    service = WorkspaceService(session_factory(engine))
    current = service.get(args.team_id)
    changes: dict[str, object] = {}
    if args.kudos_channel is not None:
        changes["kudos_channel_id"] = None if args.kudos_channel.lower() == "none" else args.kudos_channel
    if args.kudos_emoji is not None:
        changes["kudos_emoji"] = args.kudos_emoji
    if args.allowance is not None:
        changes["daily_allowance"] = args.allowance
    if args.values is not None:
        changes["kudos_values"] = args.values
    if changes:
        try:
            updated = WorkspaceSettings.model_validate({**current.model_dump(), **changes})
        except ValidationError as error:
            first = error.errors()[0]
            print(f"extramile: {first['loc'][0]}: {first['msg']}", file=sys.stderr)
            return 2
        service.save(updated)
        current = updated
    for key, value in current.model_dump().items():
        print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
