"""Tests for the fake Slack Web API, driven through a real slack_sdk.WebClient (no mocks)."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers.slack.fake_api import FakeSlack

BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Thanks* for going the extra mile"}}]


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        server.add_user("U1", "alice", real_name="Alice Smith", email="alice@example.com")
        server.add_user("U2", "bob", tz="Asia/Kolkata", is_restricted=True)
        server.add_channel("C1", "general")
        server.add_channel("C2", "outside", bot_is_member=False)
        server.add_channel("G1", "secret", is_private=True, bot_is_member=False)
        yield server


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake.url)


def error_of(exc: pytest.ExceptionInfo[SlackApiError]) -> Any:
    return exc.value.response["error"]


def test_url_is_webclient_base_url_form(fake: FakeSlack) -> None:
    assert fake.url.startswith("http://127.0.0.1:")
    assert fake.url.endswith("/api/")


def test_auth_test_identifies_bot(client: WebClient) -> None:
    resp = client.auth_test()
    assert resp["ok"] is True
    assert (resp["team_id"], resp["team"], resp["user_id"], resp["bot_id"]) == (
        "T0001",
        "Acme",
        "UBOT",
        "BBOT",
    )
    assert resp["url"] == "https://acme.slack.com/"


def test_missing_and_invalid_tokens_are_rejected(fake: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as exc:
        WebClient(base_url=fake.url).auth_test()
    assert error_of(exc) == "not_authed"
    with pytest.raises(SlackApiError) as exc:
        WebClient(token="xoxb-invalid", base_url=fake.url).auth_test()
    assert error_of(exc) == "invalid_auth"
    assert [c.token for c in fake.calls_to("auth.test")] == [None, "xoxb-invalid"]


def test_a_person_writing_is_kept_and_gives_the_event_slack_would_send(
    fake: FakeSlack, client: WebClient
) -> None:
    asked = fake.write("C1", "U1", "could you check the numbers?", ts="1795000000.000100")
    answer = fake.write("C1", "U2", "on it", ts="1795000060.000200", thread_ts="1795000000.000100")

    assert asked == {
        "type": "message",
        "user": "U1",
        "text": "could you check the numbers?",
        "ts": "1795000000.000100",
        "channel": "C1",
        "channel_type": "channel",
        "event_ts": "1795000000.000100",
    }
    assert (answer["thread_ts"], answer["parent_user_id"]) == ("1795000000.000100", "U1")
    replies = client.conversations_replies(channel="C1", ts="1795000000.000100")["messages"]
    assert [(m["user"], m["text"]) for m in replies] == [
        ("U1", "could you check the numbers?"),
        ("U2", "on it"),
    ]


def test_post_to_channel_returns_slack_shaped_message(fake: FakeSlack, client: WebClient) -> None:
    resp = client.chat_postMessage(channel="C1", text="hello", blocks=BLOCKS)
    assert resp["channel"] == "C1"
    ts = resp["ts"]
    seconds, micros = ts.split(".")
    assert seconds.isdigit() and micros.isdigit() and len(micros) == 6
    msg = resp["message"]
    assert msg["ts"] == ts and msg["text"] == "hello" and msg["blocks"] == BLOCKS
    assert msg["user"] == "UBOT" and msg["bot_id"] == "BBOT" and msg["type"] == "message"
    [stored] = fake.messages("C1")
    assert stored["ts"] == ts and stored["text"] == "hello" and stored["blocks"] == BLOCKS
    assert stored["user"] == "UBOT"
    assert "thread_ts" not in stored and "metadata" not in stored


def test_post_by_user_id_lands_in_dm_and_reports_dm_channel(fake: FakeSlack, client: WebClient) -> None:
    resp = client.chat_postMessage(channel="U1", text="psst")
    assert resp["channel"] == "DU1"
    assert [m["text"] for m in fake.messages("DU1")] == ["psst"]
    assert fake.messages("U1") == []
    # conversations.open gives the same stable DM id, and posting to it works too.
    opened = client.conversations_open(users="U1")
    assert opened["channel"]["id"] == "DU1"
    client.chat_postMessage(channel="DU1", text="again")
    assert [m["text"] for m in fake.messages("DU1")] == ["psst", "again"]


def test_post_to_unknown_user_or_channel_fails(client: WebClient) -> None:
    for target in ("U404", "C404", "D404"):
        with pytest.raises(SlackApiError) as exc:
            client.chat_postMessage(channel=target, text="x")
        assert error_of(exc) == "channel_not_found", target


def test_not_in_channel(fake: FakeSlack, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="C2", text="x")
    assert error_of(exc) == "not_in_channel"
    with pytest.raises(SlackApiError) as exc:
        client.chat_postEphemeral(channel="C2", user="U1", text="x")
    assert error_of(exc) == "not_in_channel"
    # Like Slack, a private channel the bot is not in is invisible rather than "not_in_channel".
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="G1", text="x")
    assert error_of(exc) == "channel_not_found"
    assert fake.messages("C2") == []


def test_no_text_rejected(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as exc, pytest.warns(UserWarning, match="text"):
        client.chat_postMessage(channel="C1", text="")
    assert error_of(exc) == "no_text"


def test_thread_and_metadata(fake: FakeSlack, client: WebClient) -> None:
    parent = client.chat_postMessage(channel="C1", text="parent")["ts"]
    metadata = {"event_type": "kudos_given", "event_payload": {"kudos_id": 7}}
    reply = client.chat_postMessage(channel="C1", text="reply", thread_ts=parent, metadata=metadata)
    assert reply["message"]["thread_ts"] == parent
    stored = fake.messages("C1")[1]
    assert stored["thread_ts"] == parent and stored["metadata"] == metadata
    link = client.chat_getPermalink(channel="C1", message_ts=reply["ts"])["permalink"]
    assert link == (
        f"https://acme.slack.com/archives/C1/p{reply['ts'].replace('.', '')}?thread_ts={parent}&cid=C1"
    )


def test_get_permalink(client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C1", text="hi")["ts"]
    resp = client.chat_getPermalink(channel="C1", message_ts=ts)
    assert resp["channel"] == "C1"
    assert resp["permalink"] == f"https://acme.slack.com/archives/C1/p{ts.replace('.', '')}"
    with pytest.raises(SlackApiError) as exc:
        client.chat_getPermalink(channel="C1", message_ts="1.000001")
    assert error_of(exc) == "message_not_found"


def test_timestamps_unique_and_increasing_under_concurrency(fake: FakeSlack, client: WebClient) -> None:
    results: list[str] = []
    lock = threading.Lock()

    def post(i: int) -> None:
        ts = client.chat_postMessage(channel="C1", text=f"m{i}")["ts"]
        with lock:
            results.append(ts)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 40
    stored = [m["ts"] for m in fake.messages("C1")]
    assert stored == sorted(stored, key=float) and len(stored) == 40
    assert len(fake.calls_to("chat.postMessage")) == 40


def test_fail_next(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_next("chat.postMessage", "channel_is_archived", times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as exc:
            client.chat_postMessage(channel="C1", text="x")
        assert exc.value.response.status_code == 200
        assert exc.value.response.data == {"ok": False, "error": "channel_is_archived"}
    assert client.chat_postMessage(channel="C1", text="third")["ok"] is True
    assert [m["text"] for m in fake.messages("C1")] == ["third"]
    assert len(fake.calls_to("chat.postMessage")) == 3


def test_rate_limit_next(fake: FakeSlack, client: WebClient) -> None:
    fake.rate_limit_next("users.info", retry_after=7)
    with pytest.raises(SlackApiError) as exc:
        client.users_info(user="U1")
    assert exc.value.response.status_code == 429
    assert exc.value.response.headers["Retry-After"] == "7"
    assert exc.value.response["error"] == "ratelimited"
    assert client.users_info(user="U1")["user"]["id"] == "U1"
    assert len(fake.calls_to("users.info")) == 2


class ManualClock:
    """Seconds that move only when a test says so (the fake's rate limits read it)."""

    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds


def retry_after_of(client: WebClient, channel: str) -> str:
    """Posts once, expecting Slack's 429; the Retry-After it came with."""
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel=channel, text="one too many")
    assert exc.value.response.status_code == 429 and error_of(exc) == "ratelimited"
    return str(exc.value.response.headers["Retry-After"])


def test_posts_are_not_limited_unless_asked(fake: FakeSlack, client: WebClient) -> None:
    for n in range(60):
        assert client.chat_postMessage(channel="U1", text=f"quick {n}")["ok"] is True


def test_each_conversation_takes_a_short_burst_then_about_one_post_a_second(
    fake: FakeSlack, client: WebClient
) -> None:
    clock = ManualClock()
    fake.limit_posts(per_channel=1, channel_burst=3, workspace=100, clock=clock)

    for n in range(3):
        client.chat_postMessage(channel="U1", text=f"burst {n}")
    assert retry_after_of(client, "DU1") == "1"  # the same DM, by its conversation id
    assert client.chat_postMessage(channel="C1", text="another conversation")["ok"] is True
    assert client.users_info(user="U1")["ok"] is True  # other methods are not limited

    clock.seconds += 1
    assert client.chat_postMessage(channel="U1", text="a second later")["ok"] is True
    assert retry_after_of(client, "U1") == "1"
    assert [m["text"] for m in fake.messages("DU1")] == ["burst 0", "burst 1", "burst 2", "a second later"]


def test_the_workspace_cap_holds_across_conversations_and_says_how_long_in_whole_seconds(
    fake: FakeSlack, client: WebClient
) -> None:
    clock = ManualClock()
    fake.limit_posts(per_channel=10, channel_burst=10, workspace=0.4, workspace_burst=2, clock=clock)

    client.chat_postMessage(channel="U1", text="one")
    client.chat_postMessage(channel="U2", text="two")
    assert retry_after_of(client, "C1") == "3"  # the next token is 2.5 s away: rounded up
    clock.seconds += 2.4
    assert retry_after_of(client, "C1") == "1"
    clock.seconds += 0.1
    assert client.chat_postMessage(channel="C1", text="three")["ok"] is True
    refused = [c for c in fake.calls_to("chat.postMessage") if c.status == 429]
    assert [c.response for c in refused] == [{"ok": False, "error": "ratelimited"}] * 2


def test_a_refused_post_uses_up_nothing(fake: FakeSlack, client: WebClient) -> None:
    clock = ManualClock()
    fake.limit_posts(per_channel=1, channel_burst=1, workspace=1, workspace_burst=1, clock=clock)

    client.chat_postMessage(channel="U1", text="first")
    for _ in range(5):
        retry_after_of(client, "U1")
    clock.seconds += 1
    assert client.chat_postMessage(channel="U1", text="one second later")["ok"] is True


def test_slow_down_answers_one_method_late_without_holding_up_the_others(
    fake: FakeSlack, client: WebClient
) -> None:
    fake.slow_down("chat.postMessage", 2)
    started = time.monotonic()
    slow = threading.Thread(target=client.chat_postMessage, kwargs={"channel": "C1", "text": "at last"})
    slow.start()
    time.sleep(0.5)  # the slowed call has reached the fake and is being held

    assert client.users_info(user="U1")["ok"] is True
    assert fake.calls_to("chat.postMessage") == []  # still waiting for its answer
    slow.join(10)
    assert time.monotonic() - started >= 2
    assert [m["text"] for m in fake.messages("C1")] == ["at last"]


def test_update_and_delete_reflected_in_messages(fake: FakeSlack, client: WebClient) -> None:
    first = client.chat_postMessage(channel="C1", text="one", blocks=BLOCKS)["ts"]
    second = client.chat_postMessage(channel="C1", text="two")["ts"]
    new_blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "edited"}}]
    resp = client.chat_update(channel="C1", ts=first, text="one (edited)", blocks=new_blocks)
    assert (resp["channel"], resp["ts"], resp["text"]) == ("C1", first, "one (edited)")
    assert resp["message"]["blocks"] == new_blocks
    client.chat_delete(channel="C1", ts=second)
    [remaining] = fake.messages("C1")
    assert (remaining["ts"], remaining["text"], remaining["blocks"]) == (first, "one (edited)", new_blocks)
    with pytest.raises(SlackApiError) as exc:
        client.chat_delete(channel="C1", ts=second)
    assert error_of(exc) == "message_not_found"
    with pytest.raises(SlackApiError) as exc:
        client.chat_update(channel="C1", ts=second, text="ghost")
    assert error_of(exc) == "message_not_found"


def test_messages_returns_a_copy(fake: FakeSlack, client: WebClient) -> None:
    client.chat_postMessage(channel="C1", text="original")
    fake.messages("C1")[0]["text"] = "tampered"
    assert fake.messages("C1")[0]["text"] == "original"


def test_post_ephemeral_not_stored(fake: FakeSlack, client: WebClient) -> None:
    resp = client.chat_postEphemeral(channel="C1", user="U1", text="only you")
    assert resp["message_ts"]
    assert fake.messages("C1") == []
    with pytest.raises(SlackApiError) as exc:
        client.chat_postEphemeral(channel="C1", user="U404", text="x")
    assert error_of(exc) == "user_not_in_channel"


def test_users_info_fields_and_timezones(client: WebClient) -> None:
    user = client.users_info(user="U1")["user"]
    london_now = datetime.now(ZoneInfo("Europe/London"))
    assert user["tz"] == "Europe/London"
    expected_label = "British Summer Time" if london_now.tzname() == "BST" else "Greenwich Mean Time"
    assert user["tz_label"] == expected_label
    assert user["tz_offset"] == int(london_now.utcoffset().total_seconds())  # type: ignore[union-attr]
    assert user["is_bot"] is False and user["deleted"] is False and user["is_restricted"] is False
    assert user["profile"]["real_name"] == "Alice Smith"
    assert user["profile"]["display_name"] == "alice"
    assert user["profile"]["email"] == "alice@example.com"

    bob = client.users_info(user="U2")["user"]
    assert (bob["tz"], bob["tz_label"], bob["tz_offset"]) == ("Asia/Kolkata", "India Standard Time", 19800)
    assert bob["is_restricted"] is True
    assert bob["profile"]["real_name"] == "bob"
    assert "email" not in bob["profile"]

    with pytest.raises(SlackApiError) as exc:
        client.users_info(user="U404")
    assert error_of(exc) == "user_not_found"


def test_deleted_and_bot_users(fake: FakeSlack, client: WebClient) -> None:
    fake.add_user("U3", "gone", deleted=True)
    fake.add_user("U4", "helper", is_bot=True)
    assert client.users_info(user="U3")["user"]["deleted"] is True
    assert client.users_info(user="U4")["user"]["is_bot"] is True
    assert client.users_info(user="UBOT")["user"]["is_bot"] is True
    with pytest.raises(SlackApiError) as exc:
        client.conversations_open(users="U3")
    assert error_of(exc) == "user_disabled"


def test_users_lookup_by_email(client: WebClient) -> None:
    assert client.users_lookupByEmail(email="ALICE@example.com")["user"]["id"] == "U1"
    with pytest.raises(SlackApiError) as exc:
        client.users_lookupByEmail(email="nobody@example.com")
    assert error_of(exc) == "users_not_found"


def test_conversations_open_and_info(client: WebClient) -> None:
    first = client.conversations_open(users="U2")
    assert first["channel"] == {"id": "DU2"}
    again = client.conversations_open(users=["U2"])
    assert again["channel"]["id"] == "DU2" and again["already_open"] is True
    im = client.conversations_info(channel="DU2")["channel"]
    assert im["is_im"] is True and im["user"] == "U2"
    info = client.conversations_info(channel="C1")["channel"]
    assert (info["id"], info["name"], info["is_private"], info["is_member"]) == ("C1", "general", False, True)
    assert client.conversations_info(channel="C2")["channel"]["is_member"] is False
    for missing in ("C404", "G1"):
        with pytest.raises(SlackApiError) as exc:
            client.conversations_info(channel=missing)
        assert error_of(exc) == "channel_not_found"


def test_usergroups(fake: FakeSlack, client: WebClient) -> None:
    fake.add_usergroup("S1", "eng", ["U1", "U2"])
    assert client.usergroups_users_list(usergroup="S1")["users"] == ["U1", "U2"]
    with pytest.raises(SlackApiError) as exc:
        client.usergroups_users_list(usergroup="S404")
    assert error_of(exc) == "no_such_subteam"


def test_views_lifecycle(fake: FakeSlack, client: WebClient) -> None:
    modal = {
        "type": "modal",
        "callback_id": "give_kudos",
        "title": {"type": "plain_text", "text": "Kudos"},
        "blocks": BLOCKS,
    }
    with pytest.raises(SlackApiError) as exc:
        client.views_open(trigger_id="", view=modal)
    assert error_of(exc) == "invalid_arguments"
    view = client.views_open(trigger_id="123.456.abc", view=modal)["view"]
    assert view["id"].startswith("V") and view["root_view_id"] == view["id"]
    assert view["callback_id"] == "give_kudos" and view["blocks"] == BLOCKS and view["team_id"] == "T0001"
    assert view["state"] == {"values": {}}

    changed = {**modal, "private_metadata": "step2"}
    updated = client.views_update(view_id=view["id"], view=changed, hash=view["hash"])["view"]
    assert updated["id"] == view["id"] and updated["private_metadata"] == "step2"
    with pytest.raises(SlackApiError) as exc:
        client.views_update(view_id=view["id"], view=changed, hash=view["hash"])  # stale hash
    assert error_of(exc) == "hash_conflict"
    with pytest.raises(SlackApiError) as exc:
        client.views_update(view_id="V404", view=changed)
    assert error_of(exc) == "not_found"

    pushed = client.views_push(trigger_id="789.1.def", view=modal)["view"]
    assert pushed["id"] != view["id"]

    home = {"type": "home", "blocks": BLOCKS}
    published = client.views_publish(user_id="U1", view=home)["view"]
    assert published["type"] == "home"
    assert client.views_publish(user_id="U1", view=home)["view"]["id"] == published["id"]
    with pytest.raises(SlackApiError) as exc:
        client.views_publish(user_id="U404", view=home)
    assert error_of(exc) == "invalid_arguments"

    # slack_sdk sends views.* as JSON; the recorded view is the same dict the bot built.
    assert fake.calls_to("views.open")[1].params["view"] == modal


def test_calls_recorded_with_decoded_json_params(fake: FakeSlack, client: WebClient) -> None:
    client.chat_postMessage(channel="C1", text="json body", blocks=BLOCKS)
    # A form-encoded post carries blocks/metadata as JSON strings; the fake decodes them for assertions.
    metadata = {"event_type": "x", "event_payload": {"a": 1}}
    client.api_call(
        "chat.postMessage",
        params={
            "channel": "C1",
            "text": "form body",
            "blocks": json.dumps(BLOCKS),
            "metadata": json.dumps(metadata),
        },
    )
    json_call, form_call = fake.calls_to("chat.postMessage")
    assert json_call.params["blocks"] == BLOCKS and json_call.token == "xoxb-test"
    assert form_call.params["blocks"] == BLOCKS and form_call.params["metadata"] == metadata
    assert form_call.params["text"] == "form body"
    assert fake.messages("C1")[1]["blocks"] == BLOCKS
    assert [c.method for c in fake.calls] == ["chat.postMessage", "chat.postMessage"]
    fake.clear_calls()
    assert fake.calls == []


def test_get_query_string_is_accepted(fake: FakeSlack) -> None:
    # slack_sdk's AsyncWebClient sends GET methods as query strings; urllib stands in for it here.
    request = urllib.request.Request(
        fake.url + "users.info?user=U1", headers={"Authorization": "Bearer xoxb-test"}, method="GET"
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        body = json.loads(response.read())
        assert response.headers["Content-Type"].startswith("application/json")
    assert body["ok"] is True and body["user"]["name"] == "alice"
    assert fake.calls_to("users.info")[0].params == {"user": "U1"}


def test_unknown_method_recorded(fake: FakeSlack, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as exc:
        client.api_call("reactions.add", params={"channel": "C1", "name": "tada"})
    assert exc.value.response.data == {"ok": False, "error": "unknown_method"}
    [call] = fake.calls
    assert call.method == "reactions.add" and call.params == {"channel": "C1", "name": "tada"}


def test_stop_releases_port() -> None:
    fake = FakeSlack().start()
    url = fake.url
    fake.stop()
    with pytest.raises(OSError):
        urllib.request.urlopen(url + "auth.test", timeout=2)
    with pytest.raises(RuntimeError):
        _ = fake.url
