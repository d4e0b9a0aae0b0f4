"""`extramile teams-manifest`: a Teams app package that uploads as it is, the same bytes every time."""

from __future__ import annotations

import io
import json
import struct
import time
import zipfile
import zlib
from pathlib import Path

import pytest
from PIL import Image

import bot.cli
from handlers.teams.manifest import ManifestError, manifest, package
from tests.test_cli import clean_env, extramile

APP_ID = "0b7c3d1e-5f2a-4c8b-9d6e-1a2b3c4d5e6f"
HOST = "extramile.example.com"
WHITE = (255, 255, 255)
COMMAND_TITLES = [
    "kudos",
    "promise",
    "checkin",
    "birthday",
    "anniversary",
    "promise list",
    "recap preview",
    "help",
]


def unzipped(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


def decoded_png(data: bytes) -> tuple[int, int, list[tuple[int, int, int, int]]]:
    """Width, height and RGBA pixels of an 8-bit RGBA PNG whose rows all use filter 0."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks: dict[bytes, bytes] = {}
    order: list[bytes] = []
    offset = 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind, body = data[offset + 4 : offset + 8], data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert crc == zlib.crc32(kind + body), f"{kind!r} chunk is corrupt"
        chunks[kind] = chunks.get(kind, b"") + body
        order.append(kind)
        offset += 12 + length
    assert order[0] == b"IHDR" and order[-1] == b"IEND"
    width, height, depth, color_type = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, color_type) == (8, 6)
    raw = zlib.decompress(chunks[b"IDAT"])
    stride = 1 + 4 * width
    assert len(raw) == stride * height
    pixels = []
    for row in range(height):
        line = raw[row * stride : (row + 1) * stride]
        assert line[0] == 0
        pixels += [(line[i], line[i + 1], line[i + 2], line[i + 3]) for i in range(1, stride, 4)]
    return width, height, pixels


def test_the_command_writes_a_package_teams_accepts(tmp_path: Path) -> None:
    result = extramile(
        "teams-manifest", "--app-id", APP_ID, "--host", HOST, env=clean_env(tmp_path), cwd=tmp_path
    )

    assert result.returncode == 0 and result.stderr == ""
    assert "extramile-teams.zip" in result.stdout and "upload" in result.stdout
    files = unzipped((tmp_path / "extramile-teams.zip").read_bytes())
    assert set(files) == {"manifest.json", "color.png", "outline.png"}
    document = json.loads(files["manifest.json"])
    assert (
        document["$schema"]
        == "https://developer.microsoft.com/json-schemas/teams/v1.19/MicrosoftTeams.schema.json"
    )
    assert (document["manifestVersion"], document["version"], document["id"]) == ("1.19", "1.0.0", APP_ID)
    assert document["developer"] == {
        "name": "ExtraMile",
        "websiteUrl": f"https://{HOST}/",
        "privacyUrl": f"https://{HOST}/privacy",
        "termsOfUseUrl": f"https://{HOST}/terms",
    }
    assert document["name"]["short"] == "ExtraMile"
    assert set(document["icons"].values()) == {"color.png", "outline.png"}
    assert document["accentColor"].startswith("#") and len(document["accentColor"]) == 7
    (bot_,) = document["bots"]
    assert bot_["botId"] == APP_ID
    assert bot_["scopes"] == ["personal", "team", "groupChat"]
    assert (bot_["supportsFiles"], bot_["isNotificationOnly"]) == (False, False)
    assert document["composeExtensions"][0]["botId"] == APP_ID
    assert document["permissions"] == ["identity", "messageTeamMembers"]
    assert document["validDomains"] == [HOST]


def test_out_name_and_a_capitalised_host_are_honoured(tmp_path: Path) -> None:
    out = tmp_path / "acme-teams.zip"

    code = bot.cli.main(
        [
            "teams-manifest",
            "--app-id",
            APP_ID,
            "--host",
            "Bot.Acme.Example",
            "--out",
            str(out),
            "--name",
            "Acme Thanks",
        ]
    )

    assert code == 0
    document = json.loads(unzipped(out.read_bytes())["manifest.json"])
    assert document["name"]["short"] == "Acme Thanks"
    assert document["name"]["full"].startswith("Acme Thanks")
    assert document["validDomains"] == ["bot.acme.example"]


def test_every_command_is_listed_for_personal_and_team_chats_within_teams_limits() -> None:
    (bot_,) = manifest(app_id=APP_ID, host=HOST)["bots"]

    listed = {
        scope: command_list["commands"]
        for command_list in bot_["commandLists"]
        for scope in command_list["scopes"]
    }
    assert set(listed) == {"personal", "team"}
    for commands in listed.values():
        assert [command["title"] for command in commands] == COMMAND_TITLES
        assert len(commands) <= 10
        for command in commands:
            assert 0 < len(command["title"]) <= 32
            assert 0 < len(command["description"]) <= 128, command["title"]


def test_two_message_actions_ask_the_bot_for_their_form() -> None:
    (extension,) = manifest(app_id=APP_ID, host=HOST)["composeExtensions"]

    actions = {command["id"]: command for command in extension["commands"]}
    assert set(actions) == {"giveKudos", "promiseFollowUp"}
    assert actions["giveKudos"]["title"] == "Give kudos"
    assert actions["promiseFollowUp"]["title"] == "Promise a follow-up"
    for action in actions.values():
        assert (action["type"], action["context"], action["fetchTask"]) == ("action", ["message"], True)
        assert len(action["title"]) <= 32 and len(action["description"]) <= 128


def test_names_and_descriptions_fit_teams_limits() -> None:
    longest = manifest(app_id=APP_ID, host=HOST, name="N" * 30)

    assert longest["name"]["short"] == "N" * 30
    assert len(longest["name"]["full"]) <= 100
    assert len(longest["description"]["short"]) <= 80
    assert len(longest["description"]["full"]) <= 4000
    assert len(longest["developer"]["name"]) <= 32
    with pytest.raises(ManifestError, match="1 to 30"):
        manifest(app_id=APP_ID, host=HOST, name="N" * 31)
    with pytest.raises(ManifestError, match="1 to 30"):
        manifest(app_id=APP_ID, host=HOST, name="  ")


def test_the_colour_icon_is_192_square_opaque_in_the_accent_colour_with_a_white_mark() -> None:
    data = unzipped(package(app_id=APP_ID, host=HOST))["color.png"]

    width, height, pixels = decoded_png(data)
    assert (width, height) == (192, 192)
    assert {alpha for *_, alpha in pixels} == {255}
    accent = tuple(int(manifest(app_id=APP_ID, host=HOST)["accentColor"][i : i + 2], 16) for i in (1, 3, 5))
    colours = [(red, green, blue) for red, green, blue, _ in pixels]
    assert colours[0] == accent  # the corner: background
    assert WHITE in colours
    # Another decoder reads the same picture.
    assert Image.open(io.BytesIO(data)).convert("RGBA").tobytes() == b"".join(
        bytes(pixel) for pixel in pixels
    )


def test_the_outline_icon_is_32_square_white_on_transparent() -> None:
    data = unzipped(package(app_id=APP_ID, host=HOST))["outline.png"]

    width, height, pixels = decoded_png(data)
    assert (width, height) == (32, 32)
    assert all((red, green, blue) == WHITE or alpha == 0 for red, green, blue, alpha in pixels)
    alphas = [alpha for *_, alpha in pixels]
    assert 0 in alphas and 255 in alphas
    assert Image.open(io.BytesIO(data)).convert("RGBA").tobytes() == b"".join(
        bytes(pixel) for pixel in pixels
    )


def test_the_same_arguments_give_the_same_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    first = package(app_id=APP_ID, host=HOST)
    later = time.time() + 400 * 86400
    monkeypatch.setattr(time, "time", lambda: later)

    assert package(app_id=APP_ID, host=HOST) == first
    assert package(app_id=APP_ID, host="bot.example.org") != first


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (["--host", f"https://{HOST}"], f"try --host {HOST}"),
        (["--host", f"{HOST}/api/messages"], f"try --host {HOST}"),
        (["--host", f"{HOST}:3978"], f"try --host {HOST}"),
        (["--host", "localhost"], "not a public host name"),
        (["--host", "extra mile.example.com"], "not a public host name"),
        (["--host", "10.0.0.7"], "IP address"),
        (["--app-id", "extramile-bot"], "is not a GUID"),
        (["--app-id", APP_ID + "0"], "is not a GUID"),
        (["--name", "The ExtraMile Appreciation Bot!"], "1 to 30"),
    ],
)
def test_a_bad_argument_is_refused_with_one_line_and_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], says: str
) -> None:
    out = tmp_path / "extramile-teams.zip"
    given = {"--app-id": APP_ID, "--host": HOST, "--out": str(out)}
    given.update(dict(zip(arguments[::2], arguments[1::2], strict=True)))

    code = bot.cli.main(["teams-manifest", *(part for pair in given.items() for part in pair)])

    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("extramile: ") and says in lines[0]
    assert not out.exists()


def test_an_unwritable_destination_is_one_line_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "missing" / "extramile-teams.zip"

    code = bot.cli.main(["teams-manifest", "--app-id", APP_ID, "--host", HOST, "--out", str(out)])

    assert code == 2
    assert capsys.readouterr().err == f"extramile: could not write {out}: No such file or directory\n"
