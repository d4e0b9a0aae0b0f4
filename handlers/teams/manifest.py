"""The Microsoft Teams app package: manifest.json and its two icons, zipped for upload."""

from __future__ import annotations

import io
import json
import math
import re
import struct
import zipfile
import zlib
from typing import Any

SCHEMA_URL = "https://developer.microsoft.com/json-schemas/teams/v1.19/MicrosoftTeams.schema.json"
MANIFEST_VERSION = "1.19"
APP_VERSION = "1.0.0"
ACCENT_COLOR = "#2c5f2d"  # the Slack app's background colour, and the recap chart's
COLOR_ICON, OUTLINE_ICON = "color.png", "outline.png"
COLOR_SIZE, OUTLINE_SIZE = 192, 32

# Teams' longest short name (schema v1.19). Our own texts fit its other limits; the tests hold them to it.
SHORT_NAME_MAX = 30

SHORT_DESCRIPTION = "Kudos, welcomes and promises kept: going the extra mile for each other."
FULL_DESCRIPTION = (
    "A simple thank-you can make someone's week. ExtraMile helps colleagues go the extra mile for "
    "each other, right where they already talk.\n\n"
    'Say thanks where the team can see it: "kudos @Ana for the late-night fix". '
    "Promise to get back to someone and be reminded before it's due; the person waiting hears that "
    "they were heard, and by when, and gets a new time in one click if you need longer. "
    "Keep in touch with a recurring check-in, celebrate birthdays and work anniversaries on the "
    "person's local morning (never an age, never a year), and end the week with a short recap of "
    "kudos given and loops closed on time.\n\n"
    "Reminders and nudges are private to you; only praise and the celebrations people opted into "
    "are posted for everyone."
)
# Teams has no slash commands: these are typed as messages (with an @mention of the bot in a channel).
COMMANDS: list[dict[str, str]] = [
    {
        "title": "kudos",
        "description": "Thank a colleague where the team can see it: kudos @Ana for the late-night fix",
    },
    {
        "title": "promise",
        "description": "Promise to get back to someone, and be reminded: promise @Carol the pricing deck by Friday 3pm",
    },
    {
        "title": "checkin",
        "description": "A recurring nudge to keep in touch: checkin @Dan every 2 weeks catch up on the roadmap",
    },
    {
        "title": "birthday",
        "description": "Share your birthday (no year), or see who's celebrating soon: birthday 14 March",
    },
    {
        "title": "anniversary",
        "description": "Share the date you started, to celebrate your work anniversaries",
    },
    {"title": "promise list", "description": "The promises you made, and the ones made to you"},
    {"title": "recap preview", "description": "This week's team recap so far (only you see it)"},
    {"title": "help", "description": "What ExtraMile can do, and what to type"},
]
GIVE_KUDOS_ACTION, PROMISE_ACTION = "giveKudos", "promiseFollowUp"
MESSAGE_ACTIONS: list[dict[str, str]] = [
    {"id": GIVE_KUDOS_ACTION, "title": "Give kudos", "description": "Thank the author of this message"},
    {
        "id": PROMISE_ACTION,
        "title": "Promise a follow-up",
        "description": "Promise to get back to the author, and be reminded",
    },
]

_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_EXAMPLE_HOST = "extramile.example.com"


class ManifestError(ValueError):
    """An argument Teams would refuse; the message says what to give instead."""


def manifest(*, app_id: str, host: str, name: str = "ExtraMile") -> dict[str, Any]:
    """`app_id` is the bot's Microsoft App ID (its Azure Bot resource); `host` serves the bot over HTTPS."""
    app_id, host, name = checked_app_id(app_id), checked_host(host), checked_name(name)
    origin = f"https://{host}"
    return {
        "$schema": SCHEMA_URL,
        "manifestVersion": MANIFEST_VERSION,
        "version": APP_VERSION,
        "id": app_id,
        "developer": {
            "name": "ExtraMile",
            "websiteUrl": f"{origin}/",
            "privacyUrl": f"{origin}/privacy",
            "termsOfUseUrl": f"{origin}/terms",
        },
        "name": {"short": name, "full": f"{name}: kudos, welcomes and promises kept"},
        "description": {"short": SHORT_DESCRIPTION, "full": FULL_DESCRIPTION},
        "icons": {"color": COLOR_ICON, "outline": OUTLINE_ICON},
        "accentColor": ACCENT_COLOR,
        "bots": [
            {
                "botId": app_id,
                "scopes": ["personal", "team", "groupChat"],
                "supportsFiles": False,
                "isNotificationOnly": False,
                "commandLists": [
                    {"scopes": [scope], "commands": [dict(command) for command in COMMANDS]}
                    for scope in ("personal", "team")
                ],
            }
        ],
        "composeExtensions": [
            {
                "botId": app_id,
                "commands": [
                    {
                        **action,
                        "type": "action",
                        "context": ["message"],
                        "fetchTask": True,
                        # Unused (fetchTask asks the bot for the form), but Teams' validators have
                        # refused action commands without a parameter.
                        "parameters": [{"name": "message", "title": "Message", "inputType": "text"}],
                    }
                    for action in MESSAGE_ACTIONS
                ],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [host],
    }


def package(*, app_id: str, host: str, name: str = "ExtraMile") -> bytes:
    """The zip to upload; the same arguments give the same bytes."""
    document = json.dumps(manifest(app_id=app_id, host=host, name=name), indent=2, ensure_ascii=False)
    files = {
        "manifest.json": (document + "\n").encode(),
        COLOR_ICON: color_icon(),
        OUTLINE_ICON: outline_icon(),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for filename, data in files.items():
            # A fixed date and mode, so a rebuilt package is byte for byte the one already uploaded.
            info = zipfile.ZipInfo(filename, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def checked_app_id(app_id: str) -> str:
    app_id = app_id.strip()
    if not _GUID.fullmatch(app_id):
        raise ManifestError(
            f"--app-id {app_id!r} is not a GUID: copy the Microsoft App ID from your Azure Bot's "
            "Configuration page, e.g. 0b7c3d1e-5f2a-4c8b-9d6e-1a2b3c4d5e6f"
        )
    return app_id


def checked_host(host: str) -> str:
    host = host.strip().lower()
    bare = re.sub(r"^[a-z][a-z0-9+.-]*://", "", host).split("/")[0].split(":")[0]
    if not host:
        raise ManifestError(
            f"--host is empty: give the public host the bot is served on, e.g. {_EXAMPLE_HOST}"
        )
    if host != bare and bare:
        raise ManifestError(
            f"--host takes the host name alone, without a scheme, port or path: try --host {bare}"
        )
    labels = host.split(".")
    if len(labels) < 2 or len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise ManifestError(
            f"--host {host!r} is not a public host name: give the one the bot is served on, e.g. {_EXAMPLE_HOST}"
        )
    if labels[-1].isdigit():
        raise ManifestError(
            f"--host {host!r} is an IP address: Teams needs the host name on the bot's HTTPS certificate"
        )
    return host


def checked_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > SHORT_NAME_MAX:
        raise ManifestError(
            f"--name {name!r} has {len(name)} characters: Teams shows names of 1 to {SHORT_NAME_MAX}"
        )
    return name


# The mark: two chevrons pointing right, the second a step beyond the first (the extra mile), drawn
# as round-capped strokes in a unit box.
_BACK_CHEVRON = (((0.15, 0.1), (0.5, 0.5)), ((0.5, 0.5), (0.15, 0.9)))
_FRONT_CHEVRON = (((0.5, 0.1), (0.85, 0.5)), ((0.85, 0.5), (0.5, 0.9)))
_STROKE = 0.16
_WHITE = (255, 255, 255)
Pixel = tuple[int, int, int, int]


def color_icon() -> bytes:
    """192x192, full colour: the mark in white on the accent colour, inside Teams' 96x96 safe area."""
    accent = tuple(int(ACCENT_COLOR[i : i + 2], 16) for i in (1, 3, 5))
    back, front = (
        _coverage(_BACK_CHEVRON, COLOR_SIZE, inset=48),
        _coverage(_FRONT_CHEVRON, COLOR_SIZE, inset=48),
    )

    def pixel(i: int) -> Pixel:
        # The first chevron half-faded, so the eye moves on to the second.
        shade = _mix(_mix(accent, _WHITE, 0.55 * back[i]), _WHITE, front[i])
        return (*shade, 255)

    return _png(COLOR_SIZE, [pixel(i) for i in range(COLOR_SIZE * COLOR_SIZE)])


def outline_icon() -> bytes:
    """32x32: the mark in white on transparent, as Teams requires (only the alpha varies)."""
    back, front = (
        _coverage(_BACK_CHEVRON, OUTLINE_SIZE, inset=2),
        _coverage(_FRONT_CHEVRON, OUTLINE_SIZE, inset=2),
    )
    return _png(
        OUTLINE_SIZE,
        [(*_WHITE, round(255 * max(b, f))) for b, f in zip(back, front, strict=True)],
    )


def _coverage(
    strokes: tuple[tuple[tuple[float, float], tuple[float, float]], ...], size: int, *, inset: int
) -> list[float]:
    """How much of each pixel (row by row) the strokes cover, 0 to 1, anti-aliased by distance to the edge."""
    scale = size - 2 * inset
    half_width = _STROKE * scale / 2
    covered = []
    for row in range(size):
        for column in range(size):
            x, y = (column + 0.5 - inset) / scale, (row + 0.5 - inset) / scale
            distance = min(_distance_to_segment(x, y, start, end) for start, end in strokes) * scale
            covered.append(min(1.0, max(0.0, half_width - distance + 0.5)))
    return covered


def _distance_to_segment(x: float, y: float, start: tuple[float, float], end: tuple[float, float]) -> float:
    (ax, ay), (bx, by) = start, end
    dx, dy = bx - ax, by - ay
    along = max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(x - (ax + along * dx), y - (ay + along * dy))


def _mix(base: tuple[int, ...], top: tuple[int, ...], amount: float) -> tuple[int, int, int]:
    red, green, blue = (round(b + (t - b) * amount) for b, t in zip(base, top, strict=True))
    return red, green, blue


def _png(size: int, pixels: list[Pixel]) -> bytes:
    """A square 8-bit RGBA PNG; every row uses filter 0 (none), so any reader can decode it simply."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = (
        b"\x00" + b"".join(bytes(pixel) for pixel in pixels[row * size : (row + 1) * size])
        for row in range(size)
    )
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )
