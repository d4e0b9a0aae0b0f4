"""`extramile workspace teams:<tenant>`: Teams channel ids are accepted, and the channels ExtraMile is in
are listed with their names, so an admin can copy the id they need."""

from __future__ import annotations

from pathlib import Path

from bot.clock import SystemClock
from bot.services.addresses import Address, AddressBook
from storage.db import create_db_engine, session_factory, upgrade
from tests.teams.conftest import BOT, GENERAL, TEAM
from tests.test_cli import clean_env, extramile

DESIGN = "19:design0000@thread.tacv2"
CHAT = "19:chat0000@thread.v2"


def test_teams_channel_ids_are_set_and_the_known_channels_listed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'teams.db'}"
    env = clean_env(tmp_path, DATABASE_URL=url)
    empty = extramile("workspace", TEAM, env=env, cwd=tmp_path)
    engine = create_db_engine(url)
    upgrade(engine)
    book = AddressBook(sessions=session_factory(engine), clock=SystemClock())
    for address, kind, name in (
        (GENERAL, "channel", "Engineering / General"),
        (DESIGN, "channel", "Engineering / Design reviews"),
        (CHAT, "groupChat", "Launch crew"),
        ("29:1gia-giver", "personal", ""),
    ):
        book.save(
            Address(
                team_id=TEAM,
                address=address,
                kind=kind,
                conversation_id=address,
                service_url="https://smba.trafficmanager.net/emea/",
                bot_id=BOT,
                name=name,
            )
        )
    engine.dispose()

    ok = extramile(
        "workspace",
        TEAM,
        "--kudos-channel",
        DESIGN,
        "--celebrations-channel",
        CHAT,
        "--recap",
        f"{GENERAL}=friday@16",
        "--channel-welcome",
        f"{DESIGN}=Welcome to {{channel}}, {{mention}}! Ask = answer.",
        "--admins",
        "29:1gia-giver",
        env=env,
        cwd=tmp_path,
    )
    wrong = extramile("workspace", TEAM, "--kudos-channel", "19:no-thread-here", env=env, cwd=tmp_path)

    assert "Teams channels: none known yet." in empty.stdout
    assert ok.returncode == 0, ok.stderr
    assert f"kudos_channel_id: {DESIGN}" in ok.stdout
    assert f"celebrations_channel_id: {CHAT}" in ok.stdout
    assert f"'{GENERAL}': {{'weekday': 4, 'hour': 16, 'scope': 'members'}}" in ok.stdout
    assert f"'{DESIGN}': 'Welcome to {{channel}}, {{mention}}! Ask = answer.'" in ok.stdout
    assert "admin_ids: ('29:1gia-giver',)" in ok.stdout
    listing = ok.stdout.split("Teams channels ExtraMile is in", 1)[1].splitlines()[1:]
    assert listing == [
        f"  {DESIGN}  Engineering / Design reviews",
        f"  {GENERAL}  Engineering / General",
        f"  {CHAT}  Launch crew (groupChat)",
    ]
    assert wrong.returncode == 2 and "kudos_channel_id" in wrong.stderr and "Traceback" not in wrong.stderr
