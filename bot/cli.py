"""`extramile`: run the bot, play the demo, migrate the database, print the Slack manifest."""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot import logs
from bot.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

# Not __name__: run as `python -m bot.cli` that is __main__, outside our loggers' LOG_LEVEL.
log = logging.getLogger("bot.cli")


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
    manifest.add_argument(
        "--token-rotation",
        action="store_true",
        help="tokens that expire and are refreshed (OAuth mode; Slack cannot turn it off again)",
    )
    teams = commands.add_parser(
        "teams-manifest", help="write the Microsoft Teams app package (a zip to upload to Teams)"
    )
    teams.add_argument(
        "--app-id", required=True, help="the bot's Microsoft App ID (a GUID, from its Azure Bot)"
    )
    teams.add_argument(
        "--host", required=True, help="the public host serving the bot, e.g. extramile.example.com"
    )
    teams.add_argument("--out", type=Path, default=Path("extramile-teams.zip"), help="where to write the zip")
    teams.add_argument("--name", default="ExtraMile")
    tick = commands.add_parser(
        "tick", help="run one plan + deliver pass and exit (catch up, or preview a day)"
    )
    tick.add_argument(
        "--at", type=_instant, help="as of this instant (ISO 8601; UTC when no offset is given)"
    )
    tick.add_argument("--dry-run", action="store_true", help="print what would be sent and change nothing")
    outbox = commands.add_parser("outbox", help="list pending and dead messages, or requeue them")
    outbox.add_argument("action", nargs="?", choices=["list", "retry"], default="list")
    outbox.add_argument("row_id", nargs="?", type=int, help="with retry: the row to requeue")
    outbox.add_argument("--all", action="store_true", help="list sent and cancelled rows too")
    outbox.add_argument("--dead", action="store_true", help="with retry: requeue every dead row")
    outbox.add_argument(
        "--since", type=_instant, help="with retry --dead: only rows created since then (ISO 8601)"
    )
    people = commands.add_parser("people", help="import birthdays and start dates")
    people.add_argument("action", choices=["import"])
    people.add_argument("file", type=Path, help="CSV with a header row: user,birthday,start_date")
    people.add_argument("--team", help="workspace id (default: the bot token's workspace)")
    workspace = commands.add_parser("workspace", help="show or change a workspace's settings")
    workspace.add_argument(
        "team_id", help="the workspace: a Slack team id (T...) or a Teams tenant (teams:<tenant id>)"
    )
    workspace.add_argument(
        "--kudos-channel", help="channel id where kudos are posted ('none' to post where given)"
    )
    workspace.add_argument("--kudos-emoji", help="reaction that gives kudos, e.g. clap")
    workspace.add_argument("--allowance", type=int, help="kudos per giver per local day (0 = unlimited)")
    workspace.add_argument(
        "--values", help="comma-separated company values, e.g. ownership,craft ('' to clear)"
    )
    workspace.add_argument(
        "--welcome-channel", help="channel id where newcomers are introduced ('none' to stop)"
    )
    workspace.add_argument(
        "--welcome-text", help="the welcome DM; placeholders {name} and {mention} ('' for ours)"
    )
    workspace.add_argument("--welcome-guests", choices=["yes", "no"], help="welcome guest accounts too")
    workspace.add_argument(
        "--channel-welcome",
        action="append",
        metavar="CHANNEL=TEXT",
        help="greet people who join CHANNEL with TEXT ({mention}, {name}, {channel}); CHANNEL= stops it",
    )
    workspace.add_argument(
        "--celebrations-channel", help="channel id for birthdays and anniversaries ('none' to stop)"
    )
    workspace.add_argument(
        "--channel-welcome-mode", choices=["dm", "ephemeral"], help="how channel greetings are shown"
    )
    workspace.add_argument(
        "--celebration-hour", type=int, help="local hour of celebration posts (6 to 12, default 9)"
    )
    workspace.add_argument(
        "--celebration-heads-up",
        choices=["yes", "no"],
        help="DM the celebrations channel's members the day before (reads the channel's members from Slack)",
    )
    workspace.add_argument(
        "--weekend-rule", choices=["friday", "monday", "same_day"], help="when weekend dates are celebrated"
    )
    workspace.add_argument("--timezone", help="the workspace's zone, e.g. Europe/London (recaps follow it)")
    workspace.add_argument(
        "--recap",
        action="append",
        metavar="CHANNEL[=DAY@HOUR[:SCOPE]]",
        help="a weekly recap in CHANNEL, e.g. C0TEAM, C0TEAM=friday@16, C0ALL=monday@9:workspace; CHANNEL=off stops it",
    )
    workspace.add_argument(
        "--recap-names",
        choices=["yes", "no"],
        help="may a recap name whose promises are overdue (default no)",
    )
    workspace.add_argument(
        "--spot-promises",
        choices=["on", "off"],
        help='offer people, privately, to track promises they write in chat ("I\'ll send it by Friday"); off by default',
    )
    workspace.add_argument(
        "--question-nudges",
        choices=["on", "off"],
        help="nudge people, privately, about questions they were @mentioned in and left unanswered; off by default",
    )
    workspace.add_argument(
        "--question-wait-hours",
        type=int,
        help="working hours (of the person asked) before a question nudge, 1 to 40 (default 4)",
    )
    workspace.add_argument(
        "--question-daily-cap",
        type=int,
        help="question nudges a person gets a day at most, 1 to 20 (default 3)",
    )
    workspace.add_argument(
        "--admins",
        help="comma-separated user ids (Slack U..., Teams 29:...) who are ExtraMile admins ('' for none)",
    )
    args = parser.parse_args(argv)

    if args.command == "manifest":
        from handlers.slack.manifest import manifest_yaml

        print(manifest_yaml(request_url=args.url, name=args.name, token_rotation=args.token_rotation), end="")
        return 0
    if args.command == "teams-manifest":
        return _teams_manifest(args.app_id, args.host, args.name, args.out)
    if args.command == "demo":
        from bot.demo import play

        # The demo tells its own story on stdout; only something going wrong is logged. It talks to its
        # own fake Slack: a real workspace's credentials in the environment are not for it.
        logs.configure(level="WARNING", log_format="text")
        _forget_slack_environment()
        return int(play())
    try:
        settings = load_settings()
        if args.command in ("run", "people") or (args.command == "tick" and not args.dry_run):
            if settings.slack:
                settings.require_slack()
            settings.require_teams()
    except SettingsError as error:
        print(f"extramile: {error}", file=sys.stderr)
        return 2
    logs.configure_from(settings)
    _forget_slack_environment()
    if args.command == "db":
        from storage.db import create_db_engine, upgrade

        done = upgrade(create_db_engine(settings.DATABASE_URL))
        revisions = ", ".join(done.after) or "no revision"
        if done.changed:
            print(f"extramile: database upgraded to {revisions}")
        else:
            print(f"extramile: database is already at {revisions}")
        return 0
    if args.command == "workspace":
        return _workspace(settings, args)
    if args.command == "tick":
        return _tick(settings, args.at, dry_run=args.dry_run)
    if args.command == "outbox":
        return _outbox(settings, args)
    if args.command == "people":
        return _import_people(settings, args.file, args.team)
    return _run(settings)


def _forget_slack_environment() -> None:
    """Settings are read once, here; Bolt and slack_sdk would otherwise read SLACK_BOT_TOKEN and its
    neighbours from the environment a second time, behind our back (a token from the environment beside
    the client we build is what made Bolt warn "`token` will be unused")."""
    for name in Settings.model_fields:
        if name.startswith("SLACK_"):
            os.environ.pop(name, None)


def _teams_manifest(app_id: str, host: str, name: str, out: Path) -> int:
    from handlers.teams.manifest import ManifestError, package

    try:
        out.write_bytes(package(app_id=app_id, host=host, name=name))
    except ManifestError as error:
        print(f"extramile: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"extramile: could not write {out}: {error.strerror}", file=sys.stderr)
        return 2
    print(
        f"extramile: wrote {out}: upload it in Teams (Apps > Manage your apps > Upload an app) or the Teams admin center"
    )
    return 0


def _instant(text: str) -> datetime:
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 time, e.g. 2026-11-20T09:00:00+00:00"
        ) from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _migrated_engine(settings: Settings) -> Engine | None:
    from storage.db import create_db_engine, is_sqlite, pending_migrations, upgrade

    engine = create_db_engine(settings.DATABASE_URL)
    if is_sqlite(engine):
        upgrade(engine)
    elif pending := pending_migrations(engine):
        print(
            f"extramile: the database needs {len(pending)} migration(s): run `extramile db upgrade`",
            file=sys.stderr,
        )
        return None
    return engine


def _tick(settings: Settings, at: datetime | None, *, dry_run: bool) -> int:
    from bot.app import build_app

    engine = _migrated_engine(settings)
    if engine is None:
        return 2
    app = build_app(settings, engine=engine)
    report = app.services.delivery.tick(at, dry_run=dry_run)
    if dry_run:
        for line in report.would_send:
            print(line)
        print(f"extramile: would send {len(report.would_send)} (dry run: nothing changed)")
    else:
        print(
            f"extramile: planned {report.planned}, sent {report.sent}, rescheduled {report.rescheduled}, "
            f"dead {report.dead}, cancelled {report.cancelled}"
        )
    app.workers.shutdown()
    return 0


def _refresh_celebration_members(
    settings: Settings, engine: Engine, team_id: str, channel_id: str
) -> int | None:

    from bot.app import build_app
    from bot.services.ports import DeliveryError
    from handlers.slack.messenger import SlackDirectory

    if settings.SLACK_BOT_TOKEN is None and not settings.oauth:
        print(
            "extramile: the heads-up needs the channel's members: set SLACK_BOT_TOKEN and try again",
            file=sys.stderr,
        )
        return None
    app = build_app(settings, engine=engine)
    try:
        members = SlackDirectory(app.slack_clients).channel_members(team_id, channel_id)
    except DeliveryError as error:
        app.workers.shutdown()
        print(
            f"extramile: could not read the members of {channel_id}: {error.reason} (is the bot in it?)",
            file=sys.stderr,
        )
        return None
    kept = app.services.celebrations.refresh_members(team_id=team_id, channel_id=channel_id, user_ids=members)
    app.workers.shutdown()
    return kept


def _import_people(settings: Settings, path: Path, team_id: str | None) -> int:

    from bot.app import build_app
    from bot.services.celebrations import DateRefused
    from bot.services.ports import DeliveryError
    from handlers.slack.messenger import SlackDirectory

    engine = _migrated_engine(settings)
    if engine is None:
        return 2
    if settings.oauth and team_id is None:
        print("extramile: with many workspaces (OAuth mode), say which one: --team T...", file=sys.stderr)
        return 2
    app = build_app(settings, engine=engine)
    directory = SlackDirectory(app.slack_clients)
    try:
        team = team_id or directory.team_id()
        report = app.services.celebrations.import_csv(
            team_id=team, path=path, lookup_email=directory.user_id_by_email
        )
    except DateRefused as error:
        print(f"extramile: nothing imported: {error}", file=sys.stderr)
        return 2
    except DeliveryError as error:
        print(f"extramile: nothing imported: Slack said {error.reason}", file=sys.stderr)
        return 2
    finally:
        app.workers.shutdown()
    for user_id in report.imported:
        print(f"imported  {user_id}")
    for line, why in report.skipped:
        print(f"skipped   line {line}: {why}")
    print(f"extramile: {len(report.imported)} imported, {len(report.skipped)} skipped")
    return 0


def _outbox(settings: Settings, args: argparse.Namespace) -> int:
    from bot.clock import SystemClock
    from storage import outbox as outbox_store
    from storage.db import session_factory, unit_of_work

    engine = _migrated_engine(settings)
    if engine is None:
        return 2
    sessions = session_factory(engine)
    if args.action == "retry" and args.dead:
        with unit_of_work(sessions) as session:
            count = outbox_store.requeue_dead(session, now=SystemClock().now(), since=args.since)
        print(f"extramile: {count} dead rows queued again")
        return 0
    if args.action == "retry":
        if args.row_id is None:
            print(
                "extramile: say which row (`extramile outbox retry 42`), or `extramile outbox retry --dead`",
                file=sys.stderr,
            )
            return 2
        with unit_of_work(sessions) as session:
            requeued = outbox_store.requeue(session, row_id=args.row_id, now=SystemClock().now())
        if not requeued:
            print(
                f"extramile: row {args.row_id} is not dead or cancelled (see `extramile outbox --all`)",
                file=sys.stderr,
            )
            return 2
        print(f"extramile: row {args.row_id} is queued again")
        return 0
    statuses = (
        [
            outbox_store.PENDING,
            outbox_store.CLAIMED,
            outbox_store.DEAD,
            outbox_store.SENT,
            outbox_store.CANCELLED,
        ]
        if args.all
        else [outbox_store.PENDING, outbox_store.CLAIMED, outbox_store.DEAD]
    )
    with unit_of_work(sessions) as session:
        rows = outbox_store.list_rows(session, statuses=statuses, limit=500)
        for row in rows:
            reason = f"  ({row.last_error})" if row.last_error else ""
            print(
                f"{row.id:>6}  {row.status:<9} {row.deliver_after:%Y-%m-%d %H:%M}Z  {row.team_id:<10} "
                f"{row.kind:<16} {row.recipient_id:<12} tries {row.attempts}  {row.dedupe_key}{reason}"
            )
    print(f"extramile: {len(rows)} row(s)")
    return 0


def _run(settings: Settings) -> int:
    from bot.app import build_app, welcome_back_own_workspace
    from bot.server import serve

    engine = _migrated_engine(settings)
    if engine is None:
        return 2
    app = build_app(settings, engine=engine)
    welcome_back_own_workspace(app)
    if app.teams is not None:
        app.teams.warm_up()
    app.lifecycle.start_clock()
    if settings.SLACK_APP_TOKEN is not None and settings.slack:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        log.info("connecting to Slack in Socket Mode")
        socket_mode = SocketModeHandler(app.bolt, settings.SLACK_APP_TOKEN.get_secret_value())
        if not settings.teams:
            socket_mode.start()  # type: ignore[no-untyped-call]
            return 0
        # Teams still needs the HTTP endpoint: Slack's socket runs beside it.
        socket_mode.connect()  # type: ignore[no-untyped-call]
    served = [
        *(["Slack (POST /slack/events)"] if settings.slack and settings.SLACK_APP_TOKEN is None else []),
        *(["Microsoft Teams (POST /api/messages)"] if settings.teams else []),
    ]
    log.info("serving %s on port %d", " and ".join(served) or "health checks only", settings.PORT)
    serve(app.web, port=settings.PORT)
    return 0


def _workspace(settings: Settings, args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from bot.services.platforms import platform_of
    from bot.services.workspaces import WorkspaceService, WorkspaceSettings
    from storage.db import session_factory

    engine = _migrated_engine(settings)
    if engine is None:
        return 2
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
    for option, key in (
        ("welcome_channel", "welcome_channel_id"),
        ("celebrations_channel", "celebrations_channel_id"),
    ):
        value = getattr(args, option)
        if value is not None:
            changes[key] = None if value.lower() == "none" else value
    if args.welcome_text is not None:
        changes["welcome_text"] = args.welcome_text or None
    if args.welcome_guests is not None:
        changes["welcome_guests"] = args.welcome_guests == "yes"
    if args.channel_welcome:
        greetings = dict(current.channel_welcomes)
        for item in args.channel_welcome:
            channel, text = _channel_and_rest(item)
            if text:
                greetings[channel] = text
            else:
                greetings.pop(channel, None)
        changes["channel_welcomes"] = greetings
    if args.channel_welcome_mode is not None:
        changes["channel_welcome_mode"] = args.channel_welcome_mode
    if args.celebration_hour is not None:
        changes["celebration_hour"] = args.celebration_hour
    if args.weekend_rule is not None:
        changes["weekend_rule"] = args.weekend_rule
    if args.celebration_heads_up is not None:
        changes["celebration_heads_up"] = args.celebration_heads_up == "yes"
    if args.timezone is not None:
        changes["timezone"] = args.timezone or None
    if args.recap:
        try:
            changes["recaps"] = _recaps(current.recaps, args.recap)
        except ValueError as error:
            print(f"extramile: recaps: {error}", file=sys.stderr)
            return 2
    if args.recap_names is not None:
        changes["recap_names"] = args.recap_names == "yes"
    if args.spot_promises is not None:
        changes["spot_promises"] = args.spot_promises == "on"
    if args.question_nudges is not None:
        changes["question_nudges"] = args.question_nudges == "on"
    if args.question_wait_hours is not None:
        changes["question_wait_hours"] = args.question_wait_hours
    if args.question_daily_cap is not None:
        changes["question_daily_cap"] = args.question_daily_cap
    if args.admins is not None:
        changes["admin_ids"] = [user.strip() for user in args.admins.split(",") if user.strip()]
    if changes:
        try:
            updated = WorkspaceSettings.model_validate({**current.model_dump(), **changes})
        except ValidationError as error:
            first = error.errors()[0]
            print(
                f"extramile: {first['loc'][0]}: {first['msg'].removeprefix('Value error, ')}", file=sys.stderr
            )
            return 2
        service.save(updated)
        current = updated
        if (
            updated.celebration_heads_up
            and updated.celebrations_channel_id
            and "celebration_heads_up" in changes
        ):
            refreshed = _refresh_celebration_members(
                settings, engine, updated.team_id, updated.celebrations_channel_id
            )
            if refreshed is None:
                return 2
            print(f"extramile: {refreshed} members of the celebrations channel will get the heads-up")
    for key, value in current.model_dump().items():
        print(f"{key}: {value}")
    if platform_of(current.team_id) == "teams":
        _print_teams_channels(engine, current.team_id)
    return 0


def _print_teams_channels(engine: Engine, team_id: str) -> None:
    """Teams has no channel names to type: the ids of the conversations ExtraMile is in, by name."""
    from bot.clock import SystemClock
    from bot.services.addresses import AddressBook
    from storage.db import session_factory

    known = AddressBook(sessions=session_factory(engine), clock=SystemClock()).channels(team_id)
    if not known:
        print(
            "Teams channels: none known yet. Add ExtraMile to a team (Manage team → Apps), "
            "or @mention it in the channel, then look again."
        )
        return
    print("Teams channels ExtraMile is in (use an id with --kudos-channel, --recap and the like):")
    for address in known:
        kind = "" if address.kind == "channel" else f" ({address.kind})"
        print(f"  {address.address}  {address.name or '(no name yet)'}{kind}")


# A Teams channel or chat id, up to its end: it may itself hold "=".
_TEAMS_CHANNEL = re.compile(r"\s*(19:.*?@thread\.[a-z0-9]+)\s*(?:=(.*))?$", re.DOTALL)


def _channel_and_rest(item: str) -> tuple[str, str]:
    """`CHANNEL=REST` for --recap and --channel-welcome: (CHANNEL, REST), REST "" when absent."""
    if match := _TEAMS_CHANNEL.match(item):
        return match.group(1), match.group(2) or ""
    channel, _, rest = item.partition("=")
    return channel.strip(), rest


_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def _recaps(current: Mapping[str, Any], items: list[str]) -> dict[str, dict[str, Any]]:
    """`C0TEAM`, `C0TEAM=friday@16`, `C0ALL=monday@9:workspace` or `C0TEAM=off`, applied to `current`."""
    recaps = {
        channel: dict(schedule) if isinstance(schedule, dict) else schedule.model_dump()
        for channel, schedule in current.items()
    }
    for item in items:
        channel, when = _channel_and_rest(item)
        when = when.strip()
        if when.lower() == "off":
            recaps.pop(channel, None)
            continue
        schedule: dict[str, Any] = {}
        when, _, scope = when.partition(":")
        day, _, hour = when.partition("@")
        if day:
            matches = [n for n, name in enumerate(_WEEKDAYS) if name.startswith(day.lower()[:3])]
            if not matches:
                raise ValueError(f"{day!r} is not a day of the week")
            schedule["weekday"] = matches[0]
        if hour:
            if not hour.isdigit():
                raise ValueError(f"{hour!r} is not an hour (0 to 23)")
            schedule["hour"] = int(hour)
        if scope:
            schedule["scope"] = scope
        recaps[channel] = schedule
    return recaps


if __name__ == "__main__":
    raise SystemExit(main())
