"""Tests for the fake Bot Connector: plain HTTP with urllib, and once through the SDK's own client."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from microsoft_agents.activity import Activity, ChannelAccount, ConversationParameters
from microsoft_agents.hosting.core.connector.client import ConnectorClient

from handlers.teams.fake_connector import DEFAULT_TENANT_ID, FakeConnector

ALICE = "29:1alice"
BOB = "29:1bob"
CHANNEL = "19:abc@thread.tacv2"
THREAD = "19:abc@thread.tacv2;messageid=1712345678901"


@pytest.fixture
def fake() -> Iterator[FakeConnector]:
    with FakeConnector() as server:
        server.add_member(ALICE, "Alice Smith", email="alice@example.com")
        server.add_member(BOB, "Bob Jones", aad_object_id="b0b00000-0000-4000-8000-000000000001")
        server.add_conversation(CHANNEL, [ALICE, BOB])
        yield server


class Answer:
    def __init__(self, status: int, body: Any, headers: dict[str, str]) -> None:
        self.status, self.body, self.headers = status, body, headers


def call(
    fake: FakeConnector, method: str, path: str, body: Any = None, *, token: str | None = None
) -> Answer:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(fake.url + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return Answer(response.status, json.loads(response.read()), dict(response.headers))
    except urllib.error.HTTPError as error:
        return Answer(error.code, json.loads(error.read()), dict(error.headers))


def activities_path(conversation_id: str, activity_id: str | None = None) -> str:
    path = f"/v3/conversations/{quote(conversation_id, safe='')}/activities"
    return path if activity_id is None else f"{path}/{activity_id}"


def create_body(user_id: str, tenant_id: str = DEFAULT_TENANT_ID) -> dict[str, Any]:
    return {
        "isGroup": False,
        "bot": {"id": "28:bot"},
        "members": [{"id": user_id}],
        "tenantId": tenant_id,
        "channelData": {"tenant": {"id": tenant_id}},
    }


def message(text: str) -> dict[str, Any]:
    return {"type": "message", "text": text}


def test_url_is_a_service_url_without_trailing_slash(fake: FakeConnector) -> None:
    assert fake.url.startswith("http://127.0.0.1:")
    assert not fake.url.endswith("/")


def test_create_conversation_returns_the_same_one_to_one_each_time(fake: FakeConnector) -> None:
    first = call(fake, "POST", "/v3/conversations", create_body(ALICE))
    again = call(fake, "POST", "/v3/conversations", create_body(ALICE))
    other = call(fake, "POST", "/v3/conversations", create_body(BOB))
    assert first.status == 201
    assert first.body == {"id": first.body["id"], "serviceUrl": fake.url}
    assert first.body["id"].startswith("a:")
    assert again.body["id"] == first.body["id"]
    assert other.body["id"] != first.body["id"]
    created = fake.conversations_created()
    assert [(c.id, c.member_ids, c.tenant_id) for c in created] == [
        (first.body["id"], (ALICE,), DEFAULT_TENANT_ID),
        (other.body["id"], (BOB,), DEFAULT_TENANT_ID),
    ]
    assert len(fake.calls_of("create")) == 3


def test_create_conversation_with_a_first_activity_posts_it(fake: FakeConnector) -> None:
    body = {**create_body(ALICE), "activity": message("Welcome!")}
    answer = call(fake, "POST", "/v3/conversations", body)
    [sent] = fake.activities(answer.body["id"])
    assert (sent.id, sent.text) == (answer.body["activityId"], "Welcome!")


def test_create_conversation_takes_the_tenant_from_channel_data_and_requires_one(
    fake: FakeConnector,
) -> None:
    body = create_body(ALICE)
    del body["tenantId"]
    assert call(fake, "POST", "/v3/conversations", body).status == 201
    del body["channelData"]
    refused = call(fake, "POST", "/v3/conversations", body)
    assert refused.status == 400 and refused.body["error"]["code"] == "BadArgument"


def test_create_conversation_refuses_unknown_people_and_other_tenants(fake: FakeConnector) -> None:
    unknown = call(fake, "POST", "/v3/conversations", create_body("29:1nobody"))
    assert unknown.status == 404 and unknown.body["error"]["code"] == "NotFound"
    elsewhere = call(fake, "POST", "/v3/conversations", create_body(ALICE, tenant_id="other-tenant"))
    assert elsewhere.status == 404
    group = call(fake, "POST", "/v3/conversations", {**create_body(ALICE), "isGroup": True})
    assert group.status == 400
    assert fake.conversations_created() == []


def test_people_without_the_app_cannot_be_reached(fake: FakeConnector) -> None:
    fake.add_member("29:1carol", "Carol", installed=False)
    refused = call(fake, "POST", "/v3/conversations", create_body("29:1carol"))
    assert refused.status == 403
    assert refused.body["error"]["code"] == "BotNotInConversationRoster"
    fake.set_installed("29:1carol", True)
    conversation_id = call(fake, "POST", "/v3/conversations", create_body("29:1carol")).body["id"]
    assert call(fake, "POST", activities_path(conversation_id), message("hi")).status == 201
    fake.set_installed("29:1carol", False)
    gone = call(fake, "POST", activities_path(conversation_id), message("hi again"))
    assert gone.status == 403 and gone.body["error"]["code"] == "BotNotInConversationRoster"
    assert [s.text for s in fake.activities(conversation_id)] == ["hi"]


def test_send_decodes_conversation_ids_and_keeps_threads_apart(fake: FakeConnector) -> None:
    to_channel = call(fake, "POST", activities_path(CHANNEL), message("to the channel"))
    to_thread = call(fake, "POST", activities_path(THREAD), message("in the thread"))
    assert (to_channel.status, to_thread.status) == (201, 201)
    assert to_channel.body["id"] != to_thread.body["id"]
    [in_channel] = fake.activities(CHANNEL)
    [in_thread] = fake.activities(THREAD)
    assert (in_channel.id, in_channel.text) == (to_channel.body["id"], "to the channel")
    assert (in_thread.id, in_thread.conversation_id) == (to_thread.body["id"], THREAD)
    assert [(s.conversation_id, s.text) for s in fake.sent()] == [
        (CHANNEL, "to the channel"),
        (THREAD, "in the thread"),
    ]


def test_send_accepts_unencoded_ids_and_unknown_conversations(fake: FakeConnector) -> None:
    answer = call(fake, "POST", "/v3/conversations/a:1fromapayload/activities", message("hi"))
    assert answer.status == 201
    assert [s.text for s in fake.activities("a:1fromapayload")] == ["hi"]


def test_reply_records_what_it_answers(fake: FakeConnector) -> None:
    answer = call(fake, "POST", activities_path(CHANNEL, "1712345678901"), message("got it"))
    assert answer.status == 201
    [reply] = fake.activities(CHANNEL)
    assert (reply.id, reply.reply_to_id, reply.text) == (answer.body["id"], "1712345678901", "got it")
    [recorded] = fake.calls_of("send")
    assert (recorded.conversation_id, recorded.activity_id) == (CHANNEL, "1712345678901")


def test_update_changes_the_activity_in_place(fake: FakeConnector) -> None:
    first = call(fake, "POST", activities_path(CHANNEL), message("first")).body["id"]
    call(fake, "POST", activities_path(CHANNEL), message("second"))
    answer = call(fake, "PUT", activities_path(CHANNEL, first), message("first, edited"))
    assert (answer.status, answer.body) == (200, {"id": first})
    assert [s.text for s in fake.activities(CHANNEL)] == ["first, edited", "second"]
    assert call(fake, "PUT", activities_path(CHANNEL, "999"), message("x")).status == 404
    assert call(fake, "PUT", activities_path("19:other@thread.tacv2", first), message("x")).status == 404


def test_activities_in_a_thread_can_be_updated_through_the_channel_id(fake: FakeConnector) -> None:
    in_thread = call(fake, "POST", activities_path(THREAD), message("in the thread")).body["id"]
    assert call(fake, "PUT", activities_path(CHANNEL, in_thread), message("edited")).status == 200
    assert [s.text for s in fake.activities(THREAD)] == ["edited"]


def test_delete_marks_the_activity_and_only_once(fake: FakeConnector) -> None:
    sent = call(fake, "POST", activities_path(CHANNEL), message("oops")).body["id"]
    assert call(fake, "DELETE", activities_path(CHANNEL, sent)).status == 200
    [deleted] = fake.activities(CHANNEL)
    assert deleted.deleted and deleted.text == "oops"
    assert call(fake, "DELETE", activities_path(CHANNEL, sent)).status == 404
    assert call(fake, "PUT", activities_path(CHANNEL, sent), message("back")).status == 404


def test_members_are_teams_channel_accounts(fake: FakeConnector) -> None:
    members = call(fake, "GET", f"/v3/conversations/{quote(CHANNEL, safe='')}/members")
    assert members.status == 200
    alice, bob = members.body
    assert alice["id"] == ALICE and alice["name"] == "Alice Smith"
    assert alice["email"] == alice["userPrincipalName"] == "alice@example.com"
    assert alice["tenantId"] == DEFAULT_TENANT_ID and alice["userRole"] == "user"
    assert alice["aadObjectId"] and alice["aadObjectId"] != bob["aadObjectId"]
    assert "email" not in bob
    by_aad = call(fake, "GET", f"/v3/conversations/{CHANNEL}/members/{bob['aadObjectId']}")
    assert by_aad.body == bob
    assert call(fake, "GET", f"/v3/conversations/{CHANNEL}/members/{BOB}").body == bob


def test_members_of_unknown_conversations_or_people_are_not_found(fake: FakeConnector) -> None:
    fake.add_member("29:1carol", "Carol")
    outsider = call(fake, "GET", f"/v3/conversations/{CHANNEL}/members/29:1carol")
    assert outsider.status == 404
    assert outsider.body["error"]["code"] == "MemberNotFoundInConversation"
    assert call(fake, "GET", "/v3/conversations/19:nope@thread.tacv2/members").status == 404
    with pytest.raises(ValueError, match="add_member first"):
        fake.add_conversation("19:new@thread.tacv2", ["29:1stranger"])


def test_members_of_a_created_one_to_one_is_the_person(fake: FakeConnector) -> None:
    conversation_id = call(fake, "POST", "/v3/conversations", create_body(ALICE)).body["id"]
    members = call(fake, "GET", f"/v3/conversations/{conversation_id}/members").body
    assert [m["id"] for m in members] == [ALICE]


def test_required_token_is_checked_on_every_request(fake: FakeConnector) -> None:
    fake.require_token("secret")
    missing = call(fake, "POST", activities_path(CHANNEL), message("hi"))
    wrong = call(fake, "POST", activities_path(CHANNEL), message("hi"), token="guess")
    right = call(fake, "POST", activities_path(CHANNEL), message("hi"), token="secret")
    assert (missing.status, wrong.status, right.status) == (401, 401, 201)
    assert [c.status for c in fake.calls] == [401, 401, 201]
    assert fake.calls[2].headers["authorization"] == "Bearer secret"
    assert len(fake.activities(CHANNEL)) == 1
    fake.require_token(None)
    assert call(fake, "POST", activities_path(CHANNEL), message("hi")).status == 201


def test_fail_next_by_kind_with_retry_after(fake: FakeConnector) -> None:
    fake.fail_next("send", 429, times=2, retry_after=2)
    throttled = [call(fake, "POST", activities_path(CHANNEL), message("hi")) for _ in range(3)]
    assert [a.status for a in throttled] == [429, 429, 201]
    assert throttled[0].headers["Retry-After"] == "2"
    assert throttled[0].body["error"]["code"] == "TooManyRequests"
    assert len(fake.activities(CHANNEL)) == 1
    assert [c.status for c in fake.calls_of("send")] == [429, 429, 201]


def test_fail_next_only_for_one_conversation_and_its_threads(fake: FakeConnector) -> None:
    fake.fail_next("send", 503, conversation_id=CHANNEL, times=2)
    assert call(fake, "POST", activities_path("a:1other"), message("hi")).status == 201
    assert call(fake, "POST", activities_path(THREAD), message("hi")).status == 503
    unavailable = call(fake, "POST", activities_path(CHANNEL), message("hi"))
    assert unavailable.status == 503 and "Retry-After" not in unavailable.headers
    assert unavailable.body["error"]["code"] == "ServiceUnavailable"
    assert call(fake, "POST", activities_path(CHANNEL), message("hi")).status == 201


def test_fail_next_by_path_pattern_with_a_code(fake: FakeConnector) -> None:
    fake.fail_next(r"/members$", 403, code="BotNotInConversationRoster")
    assert call(fake, "GET", f"/v3/conversations/{CHANNEL}/members/{ALICE}").status == 200
    refused = call(fake, "GET", f"/v3/conversations/{CHANNEL}/members")
    assert refused.status == 403 and refused.body["error"]["code"] == "BotNotInConversationRoster"
    assert call(fake, "GET", f"/v3/conversations/{CHANNEL}/members").status == 200


def test_rate_limit_is_a_bucket_per_conversation() -> None:
    now = [100.0]
    with FakeConnector(clock=lambda: now[0]) as fake:
        fake.rate_limit(0.5, burst=2)
        statuses = [call(fake, "POST", activities_path(CHANNEL), message("hi")) for _ in range(3)]
        assert [a.status for a in statuses] == [201, 201, 429]
        assert statuses[2].headers["Retry-After"] == "2"
        assert call(fake, "POST", activities_path(THREAD), message("hi")).status == 429
        assert call(fake, "POST", activities_path("a:1other"), message("hi")).status == 201
        now[0] += 2
        assert call(fake, "POST", activities_path(CHANNEL), message("hi")).status == 201
        fake.rate_limit(None)
        assert all(
            call(fake, "POST", activities_path(CHANNEL), message("hi")).status == 201 for _ in range(5)
        )


def test_slow_down_holds_only_that_kind(fake: FakeConnector) -> None:
    fake.slow_down("send", 0.5)
    finished: list[str] = []
    sender = threading.Thread(
        target=lambda: finished.append(
            str(call(fake, "POST", activities_path(CHANNEL), message("hi")).status)
        )
    )
    started = time.monotonic()
    sender.start()
    assert call(fake, "GET", f"/v3/conversations/{CHANNEL}/members").status == 200
    assert finished == []  # the members call did not wait behind the slow send
    sender.join(timeout=5)
    assert finished == ["201"] and time.monotonic() - started >= 0.5


def test_unknown_routes_and_bad_json_are_json_errors(fake: FakeConnector) -> None:
    unknown = call(fake, "GET", "/v3/attachments/x")
    assert unknown.status == 404 and unknown.body["error"]["code"] == "NotFound"
    assert call(fake, "GET", activities_path(CHANNEL)).status == 404
    request = urllib.request.Request(fake.url + activities_path(CHANNEL), data=b"{not json", method="POST")
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=5)
    assert error.value.code == 400
    assert [c.kind for c in fake.calls] == ["other", "other", "send"]


def test_calls_record_the_request_and_can_be_cleared(fake: FakeConnector) -> None:
    call(fake, "POST", activities_path(THREAD, "42"), message("hi"))
    [recorded] = fake.calls
    assert (recorded.kind, recorded.method, recorded.status) == ("send", "POST", 201)
    assert recorded.path == f"/v3/conversations/{THREAD}/activities/42"
    assert (recorded.conversation_id, recorded.activity_id) == (THREAD, "42")
    assert recorded.body == message("hi")
    assert recorded.headers["content-type"] == "application/json"
    fake.clear_calls()
    assert fake.calls == [] and len(fake.sent()) == 1


def test_concurrent_sends_get_distinct_ids(fake: FakeConnector) -> None:
    ids: list[str] = []
    lock = threading.Lock()

    def send(n: int) -> None:
        answer = call(fake, "POST", activities_path(CHANNEL), message(f"m{n}"))
        with lock:
            ids.append(answer.body["id"])

    threads = [threading.Thread(target=send, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(set(ids)) == 40
    assert sorted(s.text or "" for s in fake.activities(CHANNEL)) == sorted(f"m{n}" for n in range(40))


def test_the_sdk_connector_client_works_against_the_fake(fake: FakeConnector) -> None:
    fake.add_member("29:1carol", "Carol", installed=False)

    async def scenario() -> tuple[str, str, str, int]:
        client = ConnectorClient(endpoint=fake.url, token="")
        try:
            parameters = ConversationParameters(
                is_group=False,
                agent=ChannelAccount(id="28:bot"),
                members=[ChannelAccount(id=ALICE)],
                tenant_id=DEFAULT_TENANT_ID,
                channel_data={"tenant": {"id": DEFAULT_TENANT_ID}},
            )
            created = await client.conversations.create_conversation(parameters)
            conversation_id = created.id
            sent = await client.conversations.send_to_conversation(
                conversation_id, Activity(type="message", text="hi")
            )
            in_thread = await client.conversations.reply_to_activity(
                THREAD, "1712345678901", Activity(type="message", text="in the thread")
            )
            await client.conversations.update_activity(
                conversation_id, sent.id, Activity(type="message", text="hi, edited")
            )
            await client.conversations.delete_activity(THREAD, in_thread.id)
            [member] = await client.conversations.get_conversation_members(conversation_id)
            with pytest.raises(aiohttp.ClientResponseError) as refused:
                carol = parameters.model_copy(update={"members": [ChannelAccount(id="29:1carol")]})
                await client.conversations.create_conversation(carol)
            return conversation_id, sent.id, member.id, refused.value.status
        finally:
            await client.close()

    conversation_id, sent_id, member_id, refused_status = asyncio.run(scenario())
    assert conversation_id == fake.conversations_created()[0].id
    assert [(s.id, s.text) for s in fake.activities(conversation_id)] == [(sent_id, "hi, edited")]
    [in_thread] = fake.activities(THREAD)
    assert in_thread.deleted and in_thread.reply_to_id == "1712345678901"
    assert (member_id, refused_status) == (ALICE, 403)
    assert [c.kind for c in fake.calls] == ["create", "send", "send", "update", "delete", "members", "create"]
    assert "authorization" not in fake.calls[0].headers
