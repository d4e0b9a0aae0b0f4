"""User text in and out of Slack's mrkdwn: the one place that decides what a person's words may do.

In: slash-command text arrives Slack-escaped (`&amp;`, `&lt;`, `&gt;`) with control sequences for
mentions and links (`<@U1|ana>`, `<!here>`, `<https://x|label>`). `plain` turns it into the words the
person meant, keeping only person and channel mentions, as `<@U1>` and `<#C1>`. Modal inputs are plain
text already.

Out: `escape` is applied by every renderer to every piece of user text that lands in a mrkdwn field.
It escapes exactly `&`, `<` and `>` (Slack's rules), then puts back the person and channel mentions:
nothing a person types can make the bot say `@channel` or show a link under a disguise.
"""

from __future__ import annotations

import re

USER_ID = r"[UW][A-Z0-9]{2,30}"
CHANNEL_ID = r"[CG][A-Z0-9]{2,30}"
# The only control sequences user text keeps: mentions of people and channels, in our own spelling.
_KEPT = re.compile(rf"<(@{USER_ID}|#{CHANNEL_ID})>")
_CONTROL = re.compile(r"<([^<>]*)>")
_KEPT_TARGET = re.compile(rf"^(?:@{USER_ID}|#{CHANNEL_ID})$")


def escape(text: str) -> str:
    """User text, safe for a mrkdwn field; `<@U1>` and `<#C1>` stay mentions."""
    parts: list[str] = []
    position = 0
    for match in _KEPT.finditer(text):
        parts.append(_escaped(text[position : match.start()]))
        parts.append(match.group(0))
        position = match.end()
    parts.append(_escaped(text[position:]))
    return "".join(parts)


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain(text: str) -> str:
    """Slash-command text as the words a person typed: mentions of people and channels become
    `<@U1>`/`<#C1>`; special mentions become their readable name (`@here`), never live; a link becomes
    its address, after its label when it had one; Slack's escapes are undone."""

    def readable(match: re.Match[str]) -> str:
        target, _, label = match.group(1).partition("|")
        if _KEPT_TARGET.match(target):
            return f"<{target}>"
        if target.startswith("!"):
            special = target[1:]
            if special.startswith(("subteam^", "date^")):
                return label or "@group"
            return label or f"@{special}"
        if target.startswith(("@", "#")):
            return label or target  # an id we would not recognise: its name, as text
        return f"{label} ({target})" if label and label != target else target

    return _unescaped(_CONTROL.sub(readable, text))


def _unescaped(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def without_markup(text: str) -> str:
    """Raw command text with every `<...>` sequence blanked: what is left is what the person typed
    around mentions and links (a `#` inside a link is not a hashtag)."""
    return _CONTROL.sub(" ", text)


def link(url: str | None, label: str) -> str:
    """`<url|label>` for a link we made (a permalink); a URL that could break out of the sequence is
    left out and only the label shown."""
    return f"<{url}|{escape(label)}>" if url and linkable(url) else escape(label)


def linkable(url: str) -> bool:
    """Whether `url` can sit inside `<...|...>` without breaking out of it."""
    return url.startswith(("https://", "http://")) and not any(char in url for char in "<>| \n")
