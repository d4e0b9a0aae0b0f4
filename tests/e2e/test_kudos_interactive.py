"""The kudos modal, the "Give kudos" shortcut, reaction kudos and their reversal, over signed HTTP."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from storage.models import Kudos, KudosValue
from tests.conftest import ANA, BEN, GENERAL, GIVER, Harness, payload, texts
from tests.e2e.test_kudos_command import kudos_rows

MESSAGE_TS = "1700000000.000100"


def submission(
    view_id: str,
    *,
    users: list[str],
    message: str,
    values: list[str] = (),
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:  # type: ignore[assignment]
    body = payload("view_submission")
    body["view"]["id"] = view_id
    body["view"]["private_metadata"] = json.dumps(metadata or {"channel_id": GENERAL, "reason_link": None})
    state: dict[str, Any] = {
        "kudos_recipients": {"recipients": {"type": "multi_users_select", "selected_users": users}},
        "kudos_message": {"message": {"type": "plain_text_input", "value": message}},
    }
    if values:
        state["kudos_values"] = {
            "values": {
                "type": "multi_static_select",
                "selected_options": [
                    {"value": v, "text": {"type": "plain_text", "text": f"#{v}"}} for v in values
                ],
            }
        }
    body["view"]["state"] = {"values": state}
    return body


def reaction(
    kind: str = "reaction_added",
    *,
    user: str = GIVER,
    emoji: str = "clap",
    event_id: str = "Ev1",
    event_ts: str = "1700000050.000200",
) -> dict[str, Any]:
    envelope = payload(kind, event_id=event_id)
    envelope["event"] = {**envelope["event"], "user": user, "reaction": emoji, "event_ts": event_ts}
    return envelope


def test_kudos_without_text_opens_the_modal(harness: Harness) -> None:
    harness.configure(kudos_values=("ownership", "craft"))

    assert harness.command("") is None

    [call] = harness.fake.calls_to("views.open")
    view = call.params["view"]
    assert call.params["trigger_id"].startswith("trigger-")
    assert view["callback_id"] == "kudos_modal"
    assert json.loads(view["private_metadata"])["channel_id"] == GENERAL
    block_ids = [block["block_id"] for block in view["blocks"]]
    assert block_ids == ["kudos_recipients", "kudos_message", "kudos_values"]
    assert [o["value"] for o in view["blocks"][2]["element"]["options"]] == ["ownership", "craft"]


def test_modal_submission_gives_kudos_once(harness: Harness) -> None:
    harness.configure(kudos_values=("ownership", "craft"))
    body = submission("V0SUBMIT", users=[ANA, BEN], message="You two carried the launch", values=["craft"])

    assert harness.interaction(body) is None
    assert harness.interaction(copy.deepcopy(body)) is None  # Slack redelivers the same submission

    [post] = harness.posts(GENERAL)
    assert f"<@{ANA}> and <@{BEN}>" in texts(post["blocks"])
    harness.clock.set(harness.clock.now() + timedelta(hours=9))  # morning in Tokyo, where Ben is
    harness.app.services.delivery.tick()
    assert len(harness.posts(ANA)) == len(harness.posts(BEN)) == 1
    [kudos] = kudos_rows(harness)
    assert (kudos.source, kudos.dedupe_key) == ("modal", "view:V0SUBMIT")
    with harness.session() as session:
        assert session.scalars(select(KudosValue.value)).all() == ["craft"]


def test_modal_refusals_come_back_as_field_errors(harness: Harness) -> None:
    self_kudos = harness.interaction(submission("V1", users=[GIVER], message="me"))
    too_long = harness.interaction(submission("V2", users=[ANA], message="x" * 2001))

    assert self_kudos["response_action"] == "errors"
    assert "yourself" in self_kudos["errors"]["kudos_recipients"]
    assert "2,000" in too_long["errors"]["kudos_message"]
    assert harness.fake.calls_to("chat.postMessage") == []
    assert kudos_rows(harness) == []


def test_modal_in_a_channel_without_the_bot_tells_the_giver_by_dm(harness: Harness) -> None:
    harness.fake.add_channel("C0QUIET", "quiet", bot_is_member=False)

    harness.interaction(submission("V3", users=[ANA], message="thanks", metadata={"channel_id": "C0QUIET"}))

    [dm] = harness.posts(GIVER)
    assert "/invite @ExtraMile" in texts(dm["blocks"])
    assert harness.posts(ANA) == []
    assert [kudos.status for kudos in kudos_rows(harness)] == ["failed"]


def test_give_kudos_shortcut_prefills_author_and_permalink(harness: Harness) -> None:
    harness.fake.add_message(GENERAL, ANA, "Shipped the hotfix", ts=MESSAGE_TS)
    harness.interaction(payload("message_action"))

    [permalink_call] = harness.fake.calls_to("chat.getPermalink")
    assert permalink_call.params == {"channel": GENERAL, "message_ts": MESSAGE_TS}
    link = permalink_call.response["permalink"]
    [call] = harness.fake.calls_to("views.open")
    view = call.params["view"]
    assert view["blocks"][1]["element"]["initial_users"] == [ANA]
    assert link in view["blocks"][0]["elements"][0]["text"]
    assert json.loads(view["private_metadata"]) == {"channel_id": GENERAL, "reason_link": link}

    harness.interaction(
        submission("V4", users=[ANA], message="", metadata=json.loads(view["private_metadata"]))
    )

    [kudos] = kudos_rows(harness)
    assert (kudos.source, kudos.reason_link) == ("shortcut", link)
    [post] = harness.posts(GENERAL)
    assert f"<{link}|this message>" in texts(post["blocks"])


def test_reaction_gives_kudos_to_the_author_once(harness: Harness) -> None:
    harness.fake.add_message(GENERAL, ANA, "Shipped the hotfix", ts=MESSAGE_TS)
    harness.event(reaction(event_id="Ev1"))
    harness.event(reaction(event_id="Ev1"), retry_num=1)  # Slack's retry
    harness.event(reaction(event_id="Ev2"))  # the same reaction under a new event id

    [post] = harness.posts(GENERAL)
    assert post["thread_ts"] == MESSAGE_TS
    assert f"<@{GIVER}> gave kudos to <@{ANA}>" in texts(post["blocks"])
    [dm] = harness.posts(ANA)
    link = harness.fake.calls_to("chat.getPermalink")[0].response["permalink"]
    assert f"<{link}|your message>" in texts(dm["blocks"])
    [kudos] = kudos_rows(harness)
    assert kudos.reason_link == link
    assert (kudos.source, kudos.origin_channel_id, kudos.origin_ts, kudos.giver_id) == (
        "reaction",
        GENERAL,
        MESSAGE_TS,
        GIVER,
    )


def test_other_emoji_and_a_custom_kudos_emoji(harness: Harness) -> None:
    harness.event(reaction(emoji="eyes"))
    assert harness.fake.calls_to("chat.postMessage") == []

    harness.configure(kudos_emoji="raised_hands")
    harness.event(reaction(emoji="clap", event_id="Ev2"))
    harness.event(reaction(emoji="raised_hands", event_id="Ev3"))

    assert len(harness.posts(GENERAL)) == 1


def test_reacting_to_your_own_message_is_explained_privately(harness: Harness) -> None:
    harness.event(reaction(user=ANA))

    [ephemeral] = harness.fake.calls_to("chat.postEphemeral")
    assert ephemeral.params["user"] == ANA and ephemeral.params["channel"] == GENERAL
    assert "yourself" in ephemeral.params["text"]
    assert harness.fake.calls_to("chat.postMessage") == []


def test_removing_the_reaction_reverses_the_kudos(harness: Harness) -> None:
    harness.event(reaction())
    [message] = harness.fake.messages(GENERAL)
    assert message["thread_ts"] == MESSAGE_TS

    harness.event(reaction("reaction_removed", event_id="Ev9", event_ts="1700000060.000300"))
    harness.event(reaction("reaction_removed", event_id="Ev9", event_ts="1700000060.000300"), retry_num=1)

    [delete] = harness.fake.calls_to("chat.delete")
    assert delete.params == {"channel": GENERAL, "ts": message["ts"]}
    assert harness.fake.messages(GENERAL) == []
    [kudos] = kudos_rows(harness)
    assert kudos.status == "revoked"
    board = harness.command("top")
    assert "Nobody yet." in " ".join(f["text"] for b in board["blocks"] for f in b.get("fields", []))

    # A late retry of the original reaction does not bring it back; a new reaction does.
    harness.event(reaction(event_id="Ev1"), retry_num=2)
    assert len(harness.posts(GENERAL)) == 1
    harness.event(reaction(event_id="Ev10", event_ts="1700000070.000400"))
    assert len(harness.posts(GENERAL)) == 2
    # The kudos taken back stays on record, retired; the new one stands.
    assert [k.status for k in kudos_rows(harness)] == ["revoked", "posted"]


def test_deleting_the_message_reverses_its_reaction_kudos(harness: Harness) -> None:
    harness.event(reaction(user=GIVER, event_id="Ev1"))
    harness.event(reaction(user=BEN, event_id="Ev2"))
    harness.command("<@U0ANA|ana> unrelated thanks")
    assert len(harness.fake.messages(GENERAL)) == 3

    harness.event(payload("message_deleted"))
    harness.event(payload("message_deleted"), retry_num=1)

    assert len(harness.fake.calls_to("chat.delete")) == 2
    assert len(harness.fake.messages(GENERAL)) == 1
    with harness.session() as session:
        statuses = dict(
            session.execute(select(Kudos.source, Kudos.status).where(Kudos.source == "command")).all()
        )
        assert statuses == {"command": "posted"}
        assert sorted(session.scalars(select(Kudos.status).where(Kudos.source == "reaction"))) == [
            "revoked",
            "revoked",
        ]


def test_ordinary_messages_are_acknowledged_and_ignored(harness: Harness) -> None:
    envelope = payload("message_deleted")
    envelope["event"] = {
        "type": "message",
        "channel": GENERAL,
        "user": ANA,
        "text": "hello",
        "ts": "1700000300.000100",
        "channel_type": "channel",
    }

    harness.event(envelope)

    assert harness.fake.calls == [] or {c.method for c in harness.fake.calls} <= {"auth.test"}


def test_reaction_on_a_message_without_permalink_still_thanks_the_author(harness: Harness) -> None:
    harness.event(reaction())  # the fake knows no such message, so chat.getPermalink fails

    [post] = harness.posts(GENERAL)
    assert f"<@{ANA}> for their message" in texts(post["blocks"])
    [kudos] = kudos_rows(harness)
    assert kudos.reason_link is None


def test_kudos_typed_in_a_dm_asks_for_a_channel(harness: Harness) -> None:
    reply = harness.command("<@U0ANA|ana> thanks", channel_id="D0GIVER")
    assert "Kudos are for everyone to see, so they need a channel" in reply["text"]
    assert harness.fake.calls_to("chat.postMessage") == []

    harness.command("", channel_id="D0GIVER")
    view = harness.fake.calls_to("views.open")[0].params["view"]
    assert [b["block_id"] for b in view["blocks"]] == ["kudos_recipients", "kudos_message", "kudos_channel"]
    body = submission(
        "V0DM", users=[ANA], message="thanks!", metadata={"channel_id": None, "reason_link": None}
    )
    body["view"]["state"]["values"]["kudos_channel"] = {
        "channel": {"type": "conversations_select", "selected_conversation": GENERAL}
    }
    harness.interaction(body)
    assert len(harness.posts(GENERAL)) == 1


def test_a_removal_handled_before_its_addition_leaves_nothing_behind(harness: Harness) -> None:
    harness.fake.add_message(GENERAL, ANA, "Shipped the hotfix", ts=MESSAGE_TS)
    # Slack's retries can deliver "removed" before the "added" it undoes.
    harness.event(reaction("reaction_removed", event_id="Ev2", event_ts="1700000060.000300"))
    harness.event(reaction(event_id="Ev1", event_ts="1700000050.000200"))

    assert harness.fake.calls_to("chat.postMessage") == []
    assert [k.status for k in kudos_rows(harness)] == ["revoked"]

    harness.event(reaction(event_id="Ev3", event_ts="1700000070.000400"))  # added again, for real
    assert len(harness.posts(GENERAL)) == 1
    assert [k.status for k in kudos_rows(harness)] == ["revoked", "posted"]


def test_a_late_or_repeated_removal_does_not_take_back_a_newer_reaction(harness: Harness) -> None:
    harness.fake.add_message(GENERAL, ANA, "Shipped the hotfix", ts=MESSAGE_TS)
    harness.event(reaction(event_id="Ev1", event_ts="1700000100.000000"))
    harness.event(reaction("reaction_removed", event_id="Ev2", event_ts="1700000101.000000"))
    harness.event(reaction(event_id="Ev3", event_ts="1700000102.000000"))  # added again
    harness.event(reaction("reaction_removed", event_id="Ev2", event_ts="1700000101.000000"), retry_num=1)

    assert [k.status for k in kudos_rows(harness)] == ["revoked", "posted"]
    assert len(harness.fake.messages(GENERAL)) == 2  # Ana's message and the standing kudos post


def test_a_removal_reported_after_the_re_add_is_old_news(harness: Harness) -> None:
    harness.fake.add_message(GENERAL, ANA, "Shipped the hotfix", ts=MESSAGE_TS)
    harness.event(reaction(event_id="Ev1", event_ts="1700000100.000000"))
    # Slack reports the re-add before the removal that came between them.
    harness.event(reaction(event_id="Ev3", event_ts="1700000102.000000"))
    harness.event(reaction("reaction_removed", event_id="Ev2", event_ts="1700000101.000000"))

    assert [k.status for k in kudos_rows(harness)] == ["posted"]
    assert harness.fake.calls_to("chat.delete") == []


def test_a_removed_reaction_cancels_the_dm_still_waiting(harness: Harness) -> None:
    from storage.models import OutboxMessage

    harness.fake.add_message(GENERAL, BEN, "Fixed the build", ts=MESSAGE_TS)
    to_ben = reaction(event_id="EvB1")
    to_ben["event"]["item_user"] = BEN
    harness.event(to_ben)  # to Ben, in Tokyo, at midnight: his DM waits for 09:00
    assert len(harness.posts(GENERAL)) == 1 and harness.posts(BEN) == []

    harness.event(reaction("reaction_removed", event_id="EvB2", event_ts="1700000060.000300"))

    with harness.session() as session:
        [dm] = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "kudos.dm")).all()
        assert (dm.status, dm.last_error) == ("cancelled", "revoked")
    harness.clock.set(harness.clock.now() + timedelta(hours=12))
    harness.app.services.delivery.tick()
    assert harness.posts(BEN) == []


def test_a_kudos_dm_taken_over_after_the_reaction_was_removed_is_not_sent(harness: Harness) -> None:
    from bot.services.delivery import DeliveryService
    from handlers.slack.outbox import SlackOutboxSender
    from storage.models import OutboxMessage
    from tests.test_delivery import _client

    h = harness
    h.fake.add_message(GENERAL, BEN, "Fixed the build", ts=MESSAGE_TS)
    to_ben = reaction(event_id="EvC1")
    to_ben["event"]["item_user"] = BEN
    h.event(to_ben)
    h.clock.set(h.clock.now() + timedelta(hours=9))  # Ben's morning: his DM is due
    crashed = DeliveryService(
        sessions=h.app.sessions, clock=h.clock, sender=SlackOutboxSender(_client(h)), owner="crashed"
    )
    assert [m.kind for m in crashed.claim(h.clock.now())] == ["kudos.dm"]  # then it died

    h.event(reaction("reaction_removed", event_id="EvC2", event_ts="1700000060.000300"))
    h.clock.set(h.clock.now() + timedelta(minutes=6))
    h.app.services.delivery.tick()

    assert h.posts(BEN) == []
    with h.session() as session:
        [dm] = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "kudos.dm")).all()
        assert (dm.status, dm.last_error) == ("cancelled", "no longer relevant")


def test_a_reaction_kudos_whose_post_failed_can_be_given_again(harness: Harness) -> None:
    h = harness
    h.fake.add_message(GENERAL, ANA, "Shipped the hotfix", ts=MESSAGE_TS)
    h.fake.fail_next("chat.postMessage", "not_in_channel", channel=GENERAL)
    h.event(reaction(event_id="EvF1", event_ts="1700000100.000000"))
    assert [k.status for k in kudos_rows(h)] == ["failed"] and h.posts(GENERAL) == []

    # The bot is invited; the reactor takes the reaction back and gives it again.
    h.event(reaction("reaction_removed", event_id="EvF2", event_ts="1700000101.000000"))
    h.event(reaction(event_id="EvF3", event_ts="1700000102.000000"))

    assert len(h.posts(GENERAL)) == 1
    assert [k.status for k in kudos_rows(h)] == ["failed", "posted"]


def test_a_reaction_still_waiting_when_its_message_is_deleted_gives_nothing(harness: Harness) -> None:
    h = harness
    h.fake.rate_limit_next("chat.getPermalink", retry_after=30)  # the reaction waits to be given
    h.event(reaction(event_id="EvD1"))
    assert kudos_rows(h) == []

    h.event(payload("message_deleted"))
    h.clock.set(h.clock.now() + timedelta(minutes=1))
    h.app.services.delivery.tick()

    assert kudos_rows(h) == [] and h.posts(GENERAL) == []
