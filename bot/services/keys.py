"""Every outbox key, built here and nowhere else.

A key names one message (or one piece of recorded work) for good: enqueueing it twice, on any replica,
after any restart, adds nothing. Prefixes (`promise:42:`) let a change cancel what it made obsolete,
so each kind's keys start with its own prefix and no key is a prefix of another kind's.
"""

from __future__ import annotations


def kudos(kudos_id: int) -> str:
    """Everything a kudos sends: its post, its DMs, replies to the giver, its withdrawal."""
    return f"kudos:{kudos_id}:"


def kudos_post(kudos_id: int) -> str:
    return f"{kudos(kudos_id)}post"


def kudos_dm(kudos_id: int, user_id: str) -> str:
    return f"{kudos(kudos_id)}dm:{user_id}"


def kudos_reply(kudos_id: int) -> str:
    """The one private word to the giver after the post: where it went, or why it could not go."""
    return f"{kudos(kudos_id)}reply"


def kudos_withdrawal(kudos_id: int) -> str:
    return f"{kudos(kudos_id)}withdraw"


def kudos_request(request_key: str) -> str:
    """A kudos asked for but not yet checked (a group to look up, a reaction): recorded work."""
    return f"kudos-request:{request_key}"


def kudos_request_reply(request_key: str) -> str:
    """Why a kudos asked for that way was refused."""
    return f"kudos-request-reply:{request_key}"


def promise(promise_id: int) -> str:
    return f"promise:{promise_id}:"


def promise_version(promise_id: int, version: int) -> str:
    """Reminders of one version of a promise: a new ETA makes them obsolete."""
    return f"{promise(promise_id)}v{version}:"


def promise_snoozes(promise_id: int) -> str:
    return f"{promise(promise_id)}snooze:"


def promise_message(promise_id: int, suffix: str, *, version: int | None = None) -> str:
    """`promise:42:heard:U1`, or with a version `promise:42:v2:due`."""
    return (promise_version(promise_id, version) if version is not None else promise(promise_id)) + suffix


def checkin(checkin_id: int) -> str:
    return f"checkin:{checkin_id}:"


def checkin_occurrence(checkin_id: int, occurrence: int) -> str:
    return f"{checkin(checkin_id)}{occurrence}"


def checkin_snooze(checkin_id: int, token: str) -> str:
    return f"{checkin(checkin_id)}snooze:{token}"


def welcome(user_id: str, stage: str) -> str:
    return f"welcome:{user_id}:{stage}"


def welcome_dms() -> str:
    """A LIKE pattern for every newcomer's welcome DM: who joined."""
    return "welcome:%:dm"


def channel_welcome(channel_id: str, user_id: str) -> str:
    return f"channel-welcome:{channel_id}:{user_id}"


def introduction(conversation_id: str) -> str:
    """ExtraMile saying hello where it was just added (a team, a group chat): once, however often told."""
    return f"intro:{conversation_id}"


def wave(newcomer_id: str, waver_id: str) -> str:
    return f"wave:{newcomer_id}:{waver_id}"


def celebrations_of(user_id: str) -> str:
    """A person's own celebration messages (their DM, heads-ups about them)."""
    return f"celebration:{user_id}:"


def celebration_post(posted_on: str, tz: str) -> str:
    # "post" can never be a user id, so this never falls under `celebrations_of`.
    return f"celebration:post:{posted_on}:{tz}"


def celebration_dm(user_id: str, kind: str, posted_on: str) -> str:
    return f"{celebrations_of(user_id)}{kind}:{posted_on}"


def celebration_heads_up(user_id: str, posted_on: str, teammate_id: str) -> str:
    return f"{celebrations_of(user_id)}heads-up:{posted_on}:{teammate_id}"


def recap(channel_id: str, week: str) -> str:
    """One recap per channel per ISO week (`2026-W48`)."""
    return f"recap:{channel_id}:{week}"


def recap_chart(channel_id: str, week: str) -> str:
    return f"{recap(channel_id, week)}:chart"


def digest(user_id: str, day: str) -> str:
    """One digest per person per working day (`2026-11-23`)."""
    return f"digest:{user_id}:{day}"


def export(user_id: str, token: str) -> str:
    """One export per request (`token`: the platform's id for it)."""
    return f"export:{user_id}:{token}"


def promise_offer(channel_id: str, message_ts: str) -> str:
    """The one offer to track a message as a promise: at most one per message, however often it arrives."""
    return f"offer:{channel_id}:{message_ts}"


def promise_from_offer(channel_id: str, message_ts: str, promiser_id: str) -> str:
    """The promise an offer became (a promise's own dedupe key, not an outbox key): once per message and
    author, whether tracked in one click or through the form."""
    return f"offer:{channel_id}:{message_ts}:{promiser_id}"


def question(question_id: int) -> str:
    return f"question:{question_id}:"


def question_nudge(question_id: int) -> str:
    """The one nudge about a question left unanswered."""
    return f"{question(question_id)}nudge"


def question_heard(question_id: int) -> str:
    """In the question's thread: "I'm on it", said once."""
    return f"{question(question_id)}heard"


def promise_from_question(question_id: int) -> str:
    """The promise "I'm on it" made (a promise's own dedupe key, not an outbox key)."""
    return f"question:{question_id}"
