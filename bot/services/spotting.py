"""Promise spotting (issue #11): whether a chat message is its author committing themselves to do something
by a time, so that ExtraMile may privately offer to track it.

Precision before recall: a false offer is noise, and noise gets the feature turned off. So a message is an
offer only when one sentence of it holds all of:
- a first-person commitment: "I'll" / "I will" / "I'm going to" / "let me", or a subjectless "will" /
  "ill" / "gonna" opening its clause ("on it, will send…"); the word after it is an action, not "be"
  ("I'll be out"), a figure of speech ("I'll be honest", "I'll admit") or a pronoun ("will you…");
- a time phrase we can resolve to a moment ahead of now (at most MAX_AHEAD) in the author's zone;
- no question mark, negation ("can't", "won't", "not"), hedge or condition ("if", "might", "maybe", "try
  to", "when I get a chance", "no promises"), reporting verb ("said") or quotation mark before the
  commitment, and no absence ("OOO", "day off", "head home").
Quoted text (Slack "> " lines, code) is dropped; mentions, links, channels and emoji are reduced to words
or clause breaks.

Cost: the message runs through one cheap prefilter (a commitment cue AND a time cue in its first MAX_CHARS
characters); only then is it cleaned and split, and only MAX_SENTENCES sentences of at most
MAX_SENTENCE_CHARS each are read. dateparser (through `parse_due`) is reached only for dates with a month
or a year; everything else below is arithmetic.

Chat time phrases, resolved in the author's zone (local times; "the next" is the first one after now). Our
own rules, kept as one table (`_RULES`); words `parse_due` already knows go through it:
| phrase                                                | due                                              |
| "today"; "tomorrow", "tmrw", "tmr", "tomorow", "2moro" | that day 17:00, date only (as `parse_due`)      |
| "Friday", "by thurs", "next Tuesday"                  | that day 17:00, date only; a weekday is this week's (today included), "next" is next week's, as `parse_due` |
| "eod", "cob", "end of day", "by EOD tomorrow"         | 17:00 that day (today unless a day is named)    |
| "this week", "eow", "by the end of the week"          | Friday 17:00 (`parse_due`'s "eow")               |
| "next week", "by next week"                           | Monday of next week 17:00, date only: the earliest reading |
| "end of next week"                                    | Friday of next week 17:00                        |
| "by the end of the month"                             | the month's last day 17:00                       |
| "the 15th"                                            | the next 15th (this month or the next) 17:00, date only |
| "15 March", "Dec 3", "2026-12-01"                     | `parse_due` (dateparser)                         |
| "<day> morning / afternoon / evening / night", "tmrw am / pm" | 09:00 / 15:00 / 18:00 / 20:00 that day: what dateparser gives `/promise` |
| "this morning"                                        | 12:00 today: what is left of the morning         |
| "this afternoon", "in the afternoon", "this evening"  | 15:00, 15:00, 18:00 today                        |
| "tonight", "tonite"; "tonight at 9"                   | 20:00 today; 21:00 (the reminder planner moves DMs into working hours) |
| "in the morning"                                      | 09:00 tomorrow (today when said before 05:00)    |
| "first thing tomorrow", "first thing Monday"          | 09:00 that day; "first thing" alone: the next 09:00 |
| "before lunch", "by lunch" / "after lunch"            | 12:00 / 14:00 today (or the named day)           |
| "later today"                                         | 17:00 today; when that is under an hour away, now + 3 h if still today |
| "4pm", "16:30", "noon"; "10am tomorrow"               | the next such time (today, else tomorrow); or on the named day |
| "by 4", "at 2", "by 4:30" (no am/pm)                  | working hours: 1-7 are afternoon (13:00-19:00), 8-12 morning and noon |
| "in 10", "in 5" (a bare number)                       | now + that many minutes (1 to 60)               |
| "in 10 mins", "within 2 hours", "in half an hour", "gimme 20 min" | now + that                           |
| "in a few min" / "in a few hours"                     | now + 10 minutes / + 3 hours                     |
| "in 2 days", "within a day"                           | that day 17:00, date only                        |
| "within the hour" / "in a bit" / "in a sec"           | now + 1 hour / + 30 minutes / + 5 minutes        |
| "after the call / standup / retro" [today, on <day>]  | 17:00 that day (today when no day is named)     |
| "before the board meeting on Tuesday", "before Monday's review" | 09:00 that day                         |
| "by standup" (no day)                                 | the next 09:00                                   |
"asap", "soon", "shortly" and "before the meeting" (no day) are not times: no offer. A due time must be
ahead of now and at most MAX_AHEAD away ("tonight" said at 23:30 makes no offer).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.services.due_dates import Due, DueDateError, parse_due
from bot.services.hours import END_OF_DAY, MORNING, zone_of
from bot.services.text import clean

MAX_CHARS = 4000  # the rest of a longer message is not read
MAX_SENTENCES = 25
MAX_SENTENCE_CHARS = 300
MAX_TITLE_CHARS = 200
MAX_TRIES = 4  # time phrases resolved per sentence: each may cost a dateparser call
MAX_AHEAD = timedelta(days=92)

AFTERNOON = time(15, 0)
EVENING = time(18, 0)
TONIGHT = time(20, 0)
LUNCH = time(12, 0)
AFTER_LUNCH = time(14, 0)
LATER_TODAY = END_OF_DAY
LATER_TODAY_FALLBACK = timedelta(hours=3)

_I = re.IGNORECASE


@dataclass(frozen=True)
class SpottedPromise:
    title: str  # what the author committed to: never empty, at most MAX_TITLE_CHARS, no mentions
    due_phrase: str  # the time phrase exactly as written
    due: Due


def could_be_a_promise(text: str) -> bool:
    """The cheap first look (a commitment cue and a time cue): False for nearly every message, before
    anything else is read or looked up."""
    folded = text[:MAX_CHARS].casefold()
    return bool(_CHEAP_CUE.search(folded) and _CHEAP_TIME.search(folded))


def spot_promise(text: str, *, now: datetime, tz: str) -> SpottedPromise | None:
    """None unless `text` is the author committing themselves to do something, with a time.
    `now` is aware; the time is resolved in `tz` (an unknown zone is read as UTC)."""
    head = text[:MAX_CHARS]
    if not could_be_a_promise(head):
        return None
    plain = _plain(head)
    clock = _Clock(now.astimezone(UTC), now.astimezone(zone_of(tz)))
    sentences = _SENTENCE_BREAK.split(plain, maxsplit=MAX_SENTENCES)
    for number, sentence in enumerate(sentences[:MAX_SENTENCES]):
        if len(sentence) > MAX_SENTENCE_CHARS or not _CHEAP_CUE.search(sentence):
            continue
        found = _promise_in(sentence.strip(" ,"), clock)
        if found:
            following = sentences[number + 1] if number + 1 < len(sentences) else ""
            return None if _AFTERTHOUGHT.match(following) or _MESSAGE_HEDGE.search(plain) else found
    return None


# --- cleaning -------------------------------------------------------------------------------------------

_CHEAP_CUE = re.compile(r"['\u2019]ll|\bill\b|\bwill\b|gonna|going to|\blet me\b|\blemme\b|\bimma\b", _I)
_CHEAP_TIME = re.compile(
    r"\d|day|tonight|tonite|2nite|tom+or+ow|2mor|tmr|tmw|mon|tue|wed|thu|fri|sat|sun|eod|cob|eow"
    r"|noon|midday|morning|afternoon|evening|night|lunch|week|month|hour|min|bit|first thing|later|end of"
    r"|close of|sec|moment|jiffy|tick"
    r"|stand|call|meeting|retro|review|sync|demo|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec",
    _I,
)
# What `clean` removes or rewrites: control characters, surrogates, bidirectional overrides.
_UNCLEAN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
_CODE_BLOCK = re.compile(r"```.*?(?:```|$)", re.DOTALL)
_SLACK_MENTION = re.compile(r"<[@!][^<>]{0,200}>")
_SLACK_CHANNEL = re.compile(r"<#[^<>|]{0,100}\|([^<>]{0,100})>|<#[^<>]{0,100}>")
_SLACK_LINK = re.compile(
    r"<(?:https?|mailto):[^<>|]{0,2000}\|([^<>]{0,300})>|<(?:https?|mailto):[^<>]{0,2000}>"
)
_TEAMS_MENTION = re.compile(r"<at>.{0,200}?</at>", _I)
_TAG = re.compile(r"</?[a-z][^<>]{0,300}>", _I)
_QUOTE_LINE = re.compile(r"^\s*>.*$", re.MULTILINE)
_SLACK_EMOJI = re.compile(r":[a-z_+][a-z0-9_+\-]*:", _I)
_EMOJI = re.compile(r"[\U0001F000-\U0001FAFF\u2300-\u23FF\u2600-\u27BF\u2B00-\u2BFF\uFE0F\u200D]+")
_FORMATTING = re.compile(r"(?<!\w)[*_~]+|[*_~]+(?!\w)")
_MERIDIEM = re.compile(r"([ap])\.m\.", _I)
_SENTENCE_BREAK = re.compile(r"(?<=[.!?…])\s+|\n\s*")


def _plain(text: str) -> str:
    """Chat markup reduced to the words a person reads: mentions gone, links as their label, emoji as a
    clause break, quoted lines and code blocks dropped, `&amp;` and friends unescaped, quotes straight."""
    if _UNCLEAN.search(text):
        text = clean(text)  # character by character: only for the rare text that needs it
    # Each step is behind a plain `in` test: most messages hold no markup, and a regex that looks at every
    # character of a long message costs more than all the rest of the reading.
    if "`" in text:
        text = _CODE_BLOCK.sub(" ", text).replace("`", "")
    if "<" in text:
        text = _SLACK_MENTION.sub("", text)
        text = _SLACK_CHANNEL.sub(lambda match: "#" + (match.group(1) or "channel"), text)
        text = _SLACK_LINK.sub(lambda match: match.group(1) or "the link", text)
        text = _TAG.sub(" ", _TEAMS_MENTION.sub("", text))
    if "&" in text:
        text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    if ">" in text:
        text = _QUOTE_LINE.sub("", text)
    text = _EMOJI.sub(" , ", text.translate(_STRAIGHT_QUOTES))
    if ":" in text:
        text = _SLACK_EMOJI.sub(" , ", text)
    if "*" in text or "_" in text or "~" in text:
        text = _FORMATTING.sub("", text)
    return _MERIDIEM.sub(r"\1m", text) if ".m." in text.casefold() else text


_STRAIGHT_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"'})


# --- the commitment -------------------------------------------------------------------------------------

_EXPLICIT_CUE = re.compile(
    r"\bi\s*'\s*ll\b|\bi\s+(?:will|shall)\b|\bi\s*'?\s*m\s+(?:going\s+to|gonna)\b|\bi\s+am\s+(?:going\s+to|gonna)\b"
    r"|\bimma\b|\blet\s+me\b|\blemme\b",
    _I,
)
# A commitment without its "I" counts only at the start of a clause: "on it, will send…", not "Ben will send…".
_IMPLICIT_CUE = re.compile(r"\b(?:will|ill|gonna)\b", _I)
_DISCOURSE = re.compile(
    r"(?:(?:ok(?:ay)?|k+|sure(?: thing)?|yes|yep|yeah|yup|ya|np|no problem|no worries|cool|great|perfect"
    r"|alright|all right|right|fine|got it|on it|will do|roger|noted|understood|absolutely|of course|deal"
    r"|thanks|thx|ty|sounds good|and|so|then|also|plus|but|hey|hi|oh|ah|haha|lol)[\s!.]*)+",
    _I,
)
_CLAUSE_BREAK = re.compile(r"[,;:()\u2013\u2014]|\s-\s")
_ADVERBS = re.compile(
    r"(?:\s+(?:just|also|definitely|def|defo|quickly|then|still|happily|gladly|personally|certainly|surely"
    r"|actually|really|first|now))*\s+",
    _I,
)
_NOT_AN_ACTION = re.compile(
    # pronouns and determiners: "will you…", "I'm going to the office"
    r"(?:you|u|ya|they|he|she|we|it|i|this|that|the|a|an|my|our|your|anyone|someone|everyone|there|not)\b"
    # being somewhere or something is not doing something, unless it is being done
    r"|be\b(?!\s+(?:(?:done|finished)\s+with|back\s+(?:to|with)|in\s+touch|sending|sharing|submitting)\b)"
    # figures of speech, states, meals and places
    r"|tell\s+you\s+what|take\s+(?:your|his|her|their|my)\s+word|take\s+that\s+as|give\s+(?:you|him|her|them)\s+that"
    r"|hand\s+it\s+to|keep\s+(?:my\s+|our\s+)?fingers\s+crossed|leave\s+it\s+(?:there|at\s+that|here)"
    r"|let\s+(?:it|that)\s+(?:slide|go)|say\s+(?:this|it|that)|hold\s+my\s+breath|(?:have|need)\s+to\b"
    r"|(?:have|grab|get|eat)\s+(?:some\s+|a\s+)?(?:lunch|dinner|breakfast|coffee|break|food|nap|rest)\b"
    r"|(?:pass|admit|bet|believe|guess|imagine|assume|suppose|wager|grant|drink|see|join|attend|miss|skip"
    r"|wait|wonder|want|know|owe|lunch|dinner|breakfast|bed|gym|nap)\b",
    _I,
)
_NEGATION_IDIOMS = re.compile(
    r"\bno\s+(?:problem|prob|probs|worries|worry|rush|sweat|later\s+than|matter\s+what)\b|\bnot\s+a\s+problem\b",
    _I,
)
_NEGATION = re.compile(r"\b(?:not|never|no|nope|nah|cannot|cant|wont|dont|didnt|unable|unlikely)\b|n't\b", _I)
_HEDGE = re.compile(
    r"\b(?:if|unless|assuming|provided|providing|depends|depending|might|maybe|mayb|perhaps|probably|prob"
    r"|possibly|likely|hopefully|ideally|tentatively|whether|could|would|i'd|fingers\s+crossed|i\s+think"
    r"|i\s+guess|not\s+sure|(?:try|aim|plan|hope|expect|attempt)(?:ing)?\s+(?:to|and)|(?:do|try)\s+my\s+best"
    r"|best\s+effort|give\s+it\s+a\s+(?:shot|try|go)|have\s+a\s+go|take\s+a\s+stab)\b"
    r"|(?-i:\bmay\b)(?!\s*\d)|\bshould\b(?!\s+be\b(?!\s+able))|\b(?:when|once|whenever)\s+i\s*(?:get|have|find|can|'m|am)\b",
    _I,
)
# "let me know if that works" asks; it does not make the promise conditional.
_HEDGE_IDIOMS = re.compile(r"\b(?:let\s+me\s+know|lmk|shout|ping\s+me|tell\s+me)\s+if\b", _I)
# "I'll send it Friday. If legal signs off." The condition can come as the next sentence.
_AFTERTHOUGHT = re.compile(
    r"\W*(?:if|unless|assuming|provided|depending|depends|maybe|probably|hopefully|might|tbc|tentatively)\b",
    _I,
)
_MESSAGE_HEDGE = re.compile(r"\bno\s+(?:promises?|guarantees?)\b|\bfingers\s+crossed\b|\bwe'll\s+see\b", _I)
_REPORTED = re.compile(
    r"\b(?:said|says|told|tells|wrote|writes|promised|according\s+to|(?:was|were|is)\s+like"
    r"|(?:he|she|they)\s+goes)\b",
    _I,
)
_ABSENCE = re.compile(
    r"\b(?:ooo|pto|afk|wfh|offline|out\s+of\s+(?:the\s+)?office|on\s+(?:leave|holiday|vacation)|day\s+off"
    r"|tak(?:e|ing)\s+(?:\S+\s+){0,2}off|(?:log|sign|head)(?:ing)?\s+(?:off|out|home)|leav(?:e|ing)\s+early"
    r"|leav(?:e|ing)\s+(?:at|now|soon|around|work|the\s+office)|(?:head|go)(?:ing)?\s+(?:home|to\s+bed|into|to\s+the)"
    r"|(?:in|at|from)\s+the\s+(?:\w+\s+)?office|sick|running\s+late|working\s+from\s+home)\b",
    _I,
)
_OPENING_QUOTE = re.compile(r"[\"«»]|(?:^|(?<=[\s(\[:]))'(?=\w)")


@dataclass(frozen=True)
class _Cue:
    start: int
    verb: int  # where the committed action begins


def _cues(sentence: str) -> list[_Cue]:
    cues = [_Cue(match.start(), match.end()) for match in _EXPLICIT_CUE.finditer(sentence)]
    cues += [
        _Cue(match.start(), match.end())
        for match in _IMPLICIT_CUE.finditer(sentence)
        if _opens_clause(sentence, match.start())
    ]
    found: list[_Cue] = []
    for cue in sorted(cues, key=lambda cue: cue.start):
        if found and cue.start < found[-1].verb:
            continue  # "I will" is one cue, not "I will" and "will"
        words = _ADVERBS.match(sentence, cue.verb)
        verb = words.end() if words else cue.verb
        if verb >= len(sentence) or not sentence[verb].isalpha() or _NOT_AN_ACTION.match(sentence, verb):
            continue
        found.append(_Cue(cue.start, verb))
    return found


def _opens_clause(sentence: str, at: int) -> bool:
    before = _CLAUSE_BREAK.split(sentence[:at])[-1].strip()
    return not before or bool(_DISCOURSE.fullmatch(before))


def _refused(sentence: str, first_cue: int) -> bool:
    """Negated, hedged, reported, quoted or about being away: never an offer, whatever its time."""
    if "?" in sentence:
        return True
    if _NEGATION.search(_NEGATION_IDIOMS.sub(" ", sentence)):
        return True
    if (
        _HEDGE.search(_HEDGE_IDIOMS.sub(" ", sentence))
        or _REPORTED.search(sentence)
        or _ABSENCE.search(sentence)
    ):
        return True
    return bool(_OPENING_QUOTE.search(sentence, 0, first_cue + 1)) or sentence.count('"') % 2 == 1


def _promise_in(sentence: str, clock: _Clock) -> SpottedPromise | None:
    cues = _cues(sentence)
    if not cues or _refused(sentence, cues[0].start):
        return None
    for phrase in _time_phrases(sentence, cues[0])[:MAX_TRIES]:
        due = _resolve(phrase, clock)
        if due is None:
            continue
        cue = [cue for cue in cues if cue.start < phrase.start] or cues[:1]
        title = _title(sentence, cue[-1].verb, phrase)
        if title:
            return SpottedPromise(title=title, due_phrase=phrase.text, due=due)
    return None


_TRAILING = re.compile(r"(?:[\s,.;:!&+-]|\b(?:and|then|so|or|by|before|on|at|in)\b)+$", _I)
# "dig into it and get back to you": the promise is about digging in; getting back is what every promise is.
_REPORT_BACK = re.compile(
    r"\s+(?:and\s+)?(?:(?:i['\u2019]ll|i\s+will|will)\s+)?"
    r"(?:(?:get|come|circle|report)\s+back\s+to\s+(?:you|u)|let\s+(?:you|u)\s+know)\b.*$",
    _I,
)


def _title(sentence: str, verb: int, phrase: _Phrase) -> str:
    if verb < phrase.start:
        words = sentence[verb : phrase.start] + " " + sentence[phrase.end :]
    else:
        words = sentence[verb:]
    words = _CLAUSE_BREAK.split(words)[0]
    words = _TRAILING.sub("", _REPORT_BACK.sub("", " ".join(words.split())))
    if len(words) > MAX_TITLE_CHARS:
        words = words[: MAX_TITLE_CHARS - 1].rsplit(" ", 1)[0] + "…"
    if len(words) > 1 and words[0].isupper() and words[1].islower():
        words = words[0].lower() + words[1:]
    return words


# --- time phrases ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Clock:
    utc: datetime
    local: datetime  # aware, in the author's zone

    @property
    def zone(self) -> ZoneInfo:
        zone = self.local.tzinfo
        assert isinstance(zone, ZoneInfo)
        return zone

    def at(self, day: date, clock_time: time) -> datetime:
        return datetime.combine(day, clock_time, self.zone).astimezone(UTC)

    def next(self, clock_time: time) -> datetime:
        today = self.at(self.local.date(), clock_time)
        return today if today > self.utc else self.at(self.local.date() + timedelta(days=1), clock_time)


@dataclass(frozen=True)
class _Phrase:
    start: int
    end: int
    text: str
    match: re.Match[str]
    rule: _Rule


Resolver = Callable[[re.Match[str], _Clock], datetime | Due | None]


@dataclass(frozen=True)
class _Rule:
    name: str
    pattern: re.Pattern[str]
    resolve: Resolver
    phrase_group: str | None = None  # the due phrase when it is not the whole match ("gimme 20 min")


_LEAD = r"(?P<lead>\b(?:by|before|on|at|around|no\s+later\s+than)\s+)?"
_TOMORROW = r"(?:tomorrow|tomorow|tommorow|tommorrow|tmrw|tmrow|tmw|tmr|2moro|2morrow)"
_TODAY = r"(?:today|2day)"
_TONIGHT = r"(?:tonight|tonite|2nite)"
_WEEKDAY = r"(?:mon|tues?|wed(?:nes)?|weds|thu(?:rs?)?|fri|sat(?:ur)?|sun)(?:day)?"
_DAY = rf"(?:{_TOMORROW}|{_TODAY}|(?:(?:this|next)\s+)?{_WEEKDAY})\b"
_CLOCK = r"(?:(?:[01]?\d|2[0-3])(?::[0-5]\d)?\s*(?:am|pm)|(?:[01]?\d|2[0-3]):[0-5]\d|noon|midday)\b"
_END_OF_CLAUSE = r"(?=\s*(?:$|[^\w\s:]|(?:and|then|so|or|today|tomorrow|tmrw|tonight|latest|sharp)\b))"
_HOUR = rf"(?:[1-9]|1[0-2])(?:\s*o'?clock|ish)?{_END_OF_CLAUSE}"
_PART = r"(?:morning|afternoon|evening|night|am|pm|eod|cob|end\s+of\s+(?:the\s+)?day)"
_EVENT = (
    r"(?:call|meeting|standup|stand-up|stand\s+up|retro|retrospective|review|sync|demo|1:1|one-on-one|huddle"
    r"|workshop|session|presentation|interview|all-hands|planning|kickoff|kick-off|catch-up|catchup)"
)
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b"
)
_ORDINAL = r"(?:[1-9]|[12]\d|3[01])(?:st|nd|rd|th)"
_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "ten": 10, "fifteen": 15,
    "twenty": 20, "thirty": 30, "forty-five": 45, "a couple": 2, "a couple of": 2,
}  # fmt: skip
_AMOUNT = r"(?P<n>\d{1,3}|an?|one|two|three|four|five|ten|fifteen|twenty|thirty|forty-five|a\s+few|a\s+couple(?:\s+of)?|half\s+an?)"
_UNIT = r"(?P<unit>minutes?|mins?|m|hours?|hrs?|h|days?)\b"
_PARTS_OF_DAY = {
    "morning": MORNING, "am": MORNING, "afternoon": AFTERNOON, "pm": AFTERNOON, "evening": EVENING, "night": TONIGHT,
}  # fmt: skip
_PARTS_OF_TODAY = {"morning": LUNCH, "afternoon": AFTERNOON, "evening": EVENING, "eve": EVENING}
_FEW = {"m": timedelta(minutes=10), "h": timedelta(hours=3), "d": timedelta(days=3)}
_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}


def _day_of(word: str | None, clock: _Clock) -> date | None:
    """ "today", "tomorrow", "Friday", "next Tuesday" as a local date (weekdays as `parse_due` reads them)."""
    if word is None:
        return None
    word = " ".join(word.casefold().split())
    if re.fullmatch(_TODAY + "|" + _TONIGHT, word):
        return clock.local.date()
    if re.fullmatch(_TOMORROW, word):
        return clock.local.date() + timedelta(days=1)
    qualifier, _, name = word.rpartition(" ")
    weekday = _WEEKDAY_NAMES[name[:3]]
    if qualifier == "next":
        monday_next_week = clock.local.date() + timedelta(days=7 - clock.local.weekday())
        return monday_next_week + timedelta(days=weekday)
    return clock.local.date() + timedelta(days=(weekday - clock.local.weekday()) % 7)


_WEEKDAY_NAMES = {
    name: number for number, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
}


def _clock_time(text: str) -> time | None:
    """ "4pm", "16:30", "noon"; and without am/pm, "4" or "4:30" read as working hours (1-7 afternoon)."""
    text = text.casefold().replace("o'clock", "").replace("oclock", "").replace("ish", "").strip()
    if text in ("noon", "midday"):
        return LUNCH
    match = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?\s*(am|pm)?", text)
    if not match:
        return None
    hour, minute, meridiem = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if meridiem == "am":
        hour = 0 if hour == 12 else hour
    elif meridiem == "pm":
        hour = hour if hour == 12 else hour + 12
    elif 1 <= hour <= 7:
        hour += 12
    if hour > 23 or (meridiem and not 1 <= int(match.group(1)) <= 12):
        return None
    return time(hour, minute)


def _day_and_time(match: re.Match[str], clock: _Clock) -> datetime | Due | None:
    day_word = match.group("day")
    if day_word is None:
        return None
    short = not re.fullmatch(rf"{_TOMORROW}|{_TODAY}|{_TONIGHT}|\w+day", day_word.split()[-1], _I)
    if short and not (match.group("lead") or " " in day_word.strip()):
        return None  # "sat", "sun", "wed" alone are words: only "by thurs", "on fri", "next wed" are days
    day = _day_of(day_word, clock)
    if day is None:
        return None
    part = (match.group("part") or "").casefold()
    given = match.group("clock") or match.group("hour")
    if given:
        clock_time = _clock_time(given)
        return clock.at(day, clock_time) if clock_time else None
    if part in _PARTS_OF_DAY:
        return clock.at(day, _PARTS_OF_DAY[part])
    if part:  # eod, cob, end of day
        return clock.at(day, END_OF_DAY)
    return Due(at=clock.at(day, END_OF_DAY), date_only=True)


def _tonight(match: re.Match[str], clock: _Clock) -> datetime | None:
    given = match.group("hour") or match.group("clock")
    if not given:
        return clock.at(clock.local.date(), TONIGHT)
    clock_time = _clock_time(given)
    if clock_time and clock_time.hour < 12:
        clock_time = clock_time.replace(hour=clock_time.hour + 12)  # "tonight at 8" is 20:00
    return clock.at(clock.local.date(), clock_time) if clock_time else None


def _time_then_day(match: re.Match[str], clock: _Clock) -> datetime | None:
    clock_time = _clock_time(match.group("clock"))
    if clock_time is None:
        return None
    day = _day_of(match.group("day"), clock)
    return clock.at(day, clock_time) if day else clock.next(clock_time)


def _led_hour(match: re.Match[str], clock: _Clock) -> datetime | None:
    clock_time = _clock_time(match.group("hour"))
    if clock_time is None:
        return None
    day = _day_of(match.group("day"), clock)
    return clock.at(day, clock_time) if day else clock.next(clock_time)


def _end_of_day(match: re.Match[str], clock: _Clock) -> datetime | None:
    day = _day_of(match.group("day") or match.group("day2") or "today", clock)
    return clock.at(day, END_OF_DAY) if day else None


def _this_part(match: re.Match[str], clock: _Clock) -> datetime:
    return clock.at(clock.local.date(), _PARTS_OF_TODAY[match.group("part").casefold()])


def _later_today(match: re.Match[str], clock: _Clock) -> datetime | None:
    at = clock.at(clock.local.date(), LATER_TODAY)
    if at - clock.utc >= timedelta(hours=1):
        return at
    fallback = clock.utc + LATER_TODAY_FALLBACK
    return fallback if fallback.astimezone(clock.zone).date() == clock.local.date() else None


def _in_the_morning(match: re.Match[str], clock: _Clock) -> datetime:
    days = 0 if clock.local.hour < 5 else 1
    return clock.at(clock.local.date() + timedelta(days=days), MORNING)


def _first_thing(match: re.Match[str], clock: _Clock) -> datetime | None:
    if match.group("day"):
        day = _day_of(match.group("day"), clock)
        return clock.at(day, MORNING) if day else None
    if match.group("morning"):
        return _in_the_morning(match, clock)
    return clock.next(MORNING)


def _lunch(match: re.Match[str], clock: _Clock) -> datetime | None:
    day = _day_of(match.group("day") or "today", clock)
    after = match.group("when").casefold().endswith("after")
    return clock.at(day, AFTER_LUNCH if after else LUNCH) if day else None


def _this_week(match: re.Match[str], clock: _Clock) -> Due | None:
    return _parse("eow", clock)


def _next_week(match: re.Match[str], clock: _Clock) -> Due | None:
    return _parse("next monday", clock)


def _end_of_next_week(match: re.Match[str], clock: _Clock) -> datetime:
    monday_next_week = clock.local.date() + timedelta(days=7 - clock.local.weekday())
    return clock.at(monday_next_week + timedelta(days=4), END_OF_DAY)


def _end_of_month(match: re.Match[str], clock: _Clock) -> datetime:
    today = clock.local.date()
    last = calendar.monthrange(today.year, today.month)[1]
    return clock.at(today.replace(day=last), END_OF_DAY)


def _day_of_month(match: re.Match[str], clock: _Clock) -> Due | None:
    wanted = int(re.sub(r"\D", "", match.group("ordinal")))
    day = clock.local.date()
    for months_ahead in range(3):
        year, month = divmod(day.month - 1 + months_ahead, 12)
        if wanted <= calendar.monthrange(day.year + year, month + 1)[1]:
            candidate = date(day.year + year, month + 1, wanted)
            if candidate >= day:
                return Due(at=clock.at(candidate, END_OF_DAY), date_only=True)
    return None


def _calendar_date(match: re.Match[str], clock: _Clock) -> Due | None:
    return _parse(match.group("date"), clock)


def _amount(match: re.Match[str]) -> timedelta | None:
    amount = " ".join(match.group("n").casefold().split())
    unit = match.group("unit").casefold()[0]
    if amount == "a few":
        return _FEW[unit]
    if amount.startswith("half"):
        return _UNITS[unit] / 2
    count = _NUMBER_WORDS.get(amount) or int(amount)
    if count < 1 or (unit == "m" and count > 240) or (unit == "d" and count > 14):
        return None
    return _UNITS[unit] * count


def _duration(match: re.Match[str], clock: _Clock) -> datetime | Due | None:
    amount = _amount(match)
    if amount is None:
        return None
    if amount >= timedelta(days=1):
        return Due(at=clock.at(clock.local.date() + timedelta(days=amount.days), END_OF_DAY), date_only=True)
    return clock.utc + amount


def _bare_minutes(match: re.Match[str], clock: _Clock) -> datetime | None:
    minutes = int(match.group("n"))
    return clock.utc + timedelta(minutes=minutes) if 1 <= minutes <= 60 else None


def _within_the_hour(match: re.Match[str], clock: _Clock) -> datetime:
    return clock.utc + timedelta(hours=1)


def _in_a_bit(match: re.Match[str], clock: _Clock) -> datetime:
    return clock.utc + timedelta(minutes=30 if match.group("what").casefold() == "bit" else 5)


def _event(match: re.Match[str], clock: _Clock) -> datetime | None:
    after = match.group("when").casefold().endswith("after")
    day_word = match.group("day") or match.group("day_before")
    if day_word:
        day = _day_of(day_word, clock)
        return clock.at(day, END_OF_DAY if after else MORNING) if day else None
    if after:
        return clock.at(clock.local.date(), END_OF_DAY)
    if re.match(r"stand", match.group("event"), _I):
        return clock.next(MORNING)
    return None  # "before the meeting": we do not know when it is


# The table: every phrase we read as a time, and how it resolves. Order does not matter: the longest
# phrase at a place wins, and of several, the last in the sentence.
_RULES = [
    _Rule(
        "day and time",
        re.compile(
            rf"{_LEAD}(?P<day>{_DAY})(?!')(?:\s+(?:at|by|around)\s+(?P<hour>{_HOUR})|\s+(?:at\s+|by\s+|around\s+)?"
            rf"(?P<clock>{_CLOCK})|\s+(?P<part>{_PART})\b)?",
            _I,
        ),
        _day_and_time,
    ),
    _Rule(
        "tonight",
        re.compile(rf"{_LEAD}{_TONIGHT}\b(?:\s+(?:at|by|around)\s+(?:(?P<clock>{_CLOCK})|(?P<hour>{_HOUR})))?", _I),
        _tonight,
    ),
    _Rule(
        "time, then day",
        re.compile(rf"{_LEAD}(?P<clock>{_CLOCK})(?:\s+(?:on\s+)?(?P<day>{_DAY}))?", _I),
        _time_then_day,
    ),
    _Rule(
        "hour after by/at",
        re.compile(rf"(?:by|before|at|around)\s+(?P<hour>{_HOUR})(?:\s+(?P<day>{_TOMORROW}|{_TODAY})\b)?", _I),
        _led_hour,
    ),
    _Rule(
        "end of day",
        re.compile(
            rf"{_LEAD}(?:(?:the\s+)?end\s+of\s+(?:the\s+)?(?:day|business)|eod|cob|close\s+of\s+business"
            rf"|(?:the\s+)?end\s+of\s+(?P<day>{_TODAY}|{_TOMORROW}))\b(?:\s+(?P<day2>{_DAY}))?",
            _I,
        ),
        _end_of_day,
    ),
    _Rule("this part of today", re.compile(rf"{_LEAD}this\s+(?P<part>morning|afternoon|evening|eve)\b", _I), _this_part),
    _Rule(
        "in the afternoon", re.compile(r"\bin\s+the\s+(?P<part>afternoon|evening)\b", _I), _this_part
    ),
    _Rule("later today", re.compile(r"\blater\s+today\b", _I), _later_today),
    _Rule("in the morning", re.compile(r"\bin\s+the\s+morning\b", _I), _in_the_morning),
    _Rule(
        "first thing",
        re.compile(
            rf"\bfirst\s+thing(?:\s+(?P<day>{_DAY})(?:\s+morning)?|\s+(?P<morning>in\s+the\s+morning))?", _I
        ),
        _first_thing,
    ),
    _Rule(
        "lunch",
        re.compile(
            rf"(?P<when>before|by|around|at|(?:right\s+|just\s+)?after)\s+lunch(?:time)?\b(?:\s+(?:on\s+)?(?P<day>{_DAY}))?",
            _I,
        ),
        _lunch,
    ),
    _Rule("this week", re.compile(rf"{_LEAD}(?:this\s+week|eow|(?:the\s+)?end\s+of\s+(?:the\s+|this\s+)?week)\b", _I), _this_week),
    _Rule("next week", re.compile(rf"{_LEAD}(?:early\s+)?next\s+week\b", _I), _next_week),
    _Rule("end of next week", re.compile(rf"{_LEAD}(?:the\s+)?end\s+of\s+next\s+week\b", _I), _end_of_next_week),
    _Rule("end of month", re.compile(rf"{_LEAD}(?:(?:the\s+)?end\s+of\s+(?:the\s+|this\s+)?month|eom)\b", _I), _end_of_month),
    _Rule("day of month", re.compile(rf"{_LEAD}(?:the\s+)?(?P<ordinal>{_ORDINAL})\b(?!\s+(?:of\s+)?{_MONTH})", _I), _day_of_month),
    _Rule(
        "calendar date",
        re.compile(
            rf"{_LEAD}(?:the\s+)?(?P<date>{_MONTH}\s+(?:[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?\b"
            rf"|(?:[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}|\d{{4}}-\d{{2}}-\d{{2}}\b)",
            _I,
        ),
        _calendar_date,
    ),
    _Rule(
        "duration",
        re.compile(rf"\b(?:in|within)\s+(?:the\s+next\s+)?{_AMOUNT}\s*{_UNIT}", _I),
        _duration,
    ),
    _Rule("bare minutes", re.compile(rf"\bin\s+(?P<n>\d{{1,2}}){_END_OF_CLAUSE}", _I), _bare_minutes),
    _Rule("within the hour", re.compile(r"\b(?:within|in)\s+(?:the\s+(?:next\s+)?|an\s+)hour\b", _I), _within_the_hour),
    _Rule("in a bit", re.compile(r"\bin\s+a\s+(?P<what>bit|sec|second|moment|jiffy|tick)\b", _I), _in_a_bit),
    _Rule(
        "give me",
        re.compile(rf"\b(?:gimme|give\s+me)\s+(?P<phrase>{_AMOUNT}\s*{_UNIT})", _I),
        _duration,
        phrase_group="phrase",
    ),
    _Rule(
        "event",
        re.compile(
            rf"(?P<when>(?:right\s+|straight\s+|just\s+)?after|before|by|ahead\s+of)\s+"
            rf"(?:(?:the|my|our|this|today's|tomorrow's|(?P<day_before>{_WEEKDAY})'s)\s+)?(?:[\w-]+\s+)?"
            rf"(?P<event>{_EVENT})\b(?:\s+(?:on\s+)?(?P<day>{_DAY}))?",
            _I,
        ),
        _event,
    ),
]  # fmt: skip

# A time phrase after these is not when the author will act: "for Thursday", "every night at 2am".
_NOT_A_DUE_AFTER = re.compile(
    r"\b(?:for|from|since|last|every|each|of|about|per|than|until|till|through|starting|the|a|an|that)\s*$",
    _I,
)
_LEADING_WORD = re.compile(
    r"(?:by|before|on|at|around|in|within|after|right|just|straight|first|no|gimme|give|ahead)\b", _I
)


def _time_phrases(sentence: str, cue: _Cue) -> list[_Phrase]:
    """The time phrases worth trying, best first: after the commitment, the last one; then one that opens
    the sentence before it ("Tomorrow I'll…", "gimme 20 min, I'll…")."""
    found = []
    for rule in _RULES:
        for match in rule.pattern.finditer(sentence):
            start, end = match.span(rule.phrase_group or 0)
            if sentence.startswith("'", match.end()):
                continue  # "Thursday's workshop"
            if not _LEADING_WORD.match(sentence, match.start()) and _NOT_A_DUE_AFTER.search(
                sentence, 0, match.start()
            ):
                continue
            found.append(_Phrase(start, end, sentence[start:end], match, rule))
    widest = [
        phrase
        for phrase in found
        if not any(
            other.start <= phrase.start
            and phrase.end <= other.end
            and other.end - other.start > phrase.end - phrase.start
            for other in found
        )
    ]
    after = sorted(
        (p for p in widest if p.start > cue.verb), key=lambda p: (p.end, p.end - p.start), reverse=True
    )
    before = [
        p
        for p in widest
        if p.end <= cue.start and not _CLAUSE_BREAK.split(sentence[: p.match.start()])[-1].strip()
    ]
    return after + sorted(before, key=lambda p: p.end, reverse=True)


def _resolve(phrase: _Phrase, clock: _Clock) -> Due | None:
    try:
        resolved = phrase.rule.resolve(phrase.match, clock)
    except (ValueError, OverflowError, KeyError):
        return None  # a day or time the calendar cannot hold: no offer
    if resolved is None:
        return None
    due = resolved if isinstance(resolved, Due) else Due(at=resolved, date_only=False)
    if not clock.utc < due.at <= clock.utc + MAX_AHEAD:
        return None
    return due


def _parse(words: str, clock: _Clock) -> Due | None:
    try:
        return parse_due(words, now=clock.utc, tz=clock.zone.key)
    except DueDateError:
        return None
