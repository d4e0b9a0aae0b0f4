"""Whatever arrives at /slack/events, the answer is a clean 4xx, never a 500, and no body reaches a log."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import logging
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest

from tests.conftest import SIGNING_SECRET, Harness

FAKE_LOG_LINE = "\n2026-11-22 10:00:00 CRITICAL bot.server: admin password is hunter2"


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(url + "/slack/events", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b"{", {"Content-Type": "application/json"}),
        (b"[]", {"Content-Type": "application/json"}),
        (b"null", {"Content-Type": "application/json"}),
        (b"\xff\xfe\xfa not utf-8", {"Content-Type": "application/json"}),
        (b"\xef\xbb\xbf{}", {"Content-Type": "application/json"}),
        (b"payload=notjson", {"Content-Type": "application/x-www-form-urlencoded"}),
        (b"token=x&text=hi" + FAKE_LOG_LINE.encode(), {"X-Slack-Request-Timestamp": "abc"}),
        (
            b'{"a": 1}' + FAKE_LOG_LINE.encode(),
            {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=00"},
        ),
        (b"{}", {"X-Slack-Request-Timestamp": "1", "X-Slack-Signature": "v0=00"}),
    ],
)
def test_unsigned_or_stale_requests_get_401_with_one_log_line_and_no_parsing(
    harness: Harness, caplog: pytest.LogCaptureFixture, body: bytes, headers: dict[str, str]
) -> None:
    caplog.set_level(logging.DEBUG)

    status, answer = post(harness.url, body, headers)

    assert status == 401, answer
    refusals = [r for r in caplog.records if "signature" in r.getMessage()]
    assert len(refusals) == 1 and refusals[0].levelno == logging.INFO
    assert not any(r.exc_info for r in caplog.records)
    assert "hunter2" not in caplog.text and "notjson" not in caplog.text
    assert harness.fake.calls == []


def test_a_huge_body_is_refused_at_the_door(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    target = urlsplit(harness.url)
    connection = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=30)
    connection.putrequest("POST", "/slack/events")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(20 * 1024 * 1024))
    connection.endheaders()
    connection.send((b"x" * 1023 + b"\n") * 64)  # the first 64 kB of a 20 MB body: answered before the rest

    response = connection.getresponse()

    assert response.status == 413
    assert len(caplog.text) < 10_000
    connection.close()


def test_a_huge_body_without_a_length_is_cut_off_too(harness: Harness) -> None:
    target = urlsplit(harness.url)
    connection = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=30)
    connection.putrequest("POST", "/slack/events")
    connection.putheader("Transfer-Encoding", "chunked")  # no Content-Length to trust
    connection.endheaders()
    chunk = b"y" * 65536
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the server may stop listening
        for _ in range(40):  # 2.5 MB
            connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        connection.send(b"0\r\n\r\n")
    response = connection.getresponse()

    assert response.status == 413
    connection.close()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{", "application/json"),
        ("[]", "application/json"),
        ("null", "application/json"),
        ("payload=notjson", "application/x-www-form-urlencoded"),
        ("payload=%5B%5D", "application/x-www-form-urlencoded"),
    ],
)
def test_signed_nonsense_is_a_400_not_a_traceback(
    harness: Harness, caplog: pytest.LogCaptureFixture, body: str, content_type: str
) -> None:
    caplog.set_level(logging.DEBUG)

    response = harness.sender.post(body, content_type=content_type)

    assert response.status == 400
    assert not any(r.exc_info for r in caplog.records)
    assert "notjson" not in caplog.text


def test_signed_invalid_utf8_is_a_400(harness: Harness) -> None:
    body = b"\xff\xfe{}"
    headers = harness.sender.headers("", content_type="application/json")
    # The signature covers the raw bytes: sign them as Slack would.
    stamp = headers["X-Slack-Request-Timestamp"]
    digest = hmac.new(SIGNING_SECRET.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
    headers["X-Slack-Signature"] = "v0=" + digest.hexdigest()

    status, _ = post(harness.url, body, headers)

    assert status == 400
