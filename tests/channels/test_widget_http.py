"""The widget channel over real HTTP: its files and demo page (with their security headers), and
the message endpoint's checks."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.channels.conftest import (
    WIDGET_PATH,
    conversation_sender,
    new_conversation,
    stored_events,
    user_texts,
    visitor,
    widget_post,
)

pytestmark = pytest.mark.e2e


class Visitor:
    """One widget visitor: its own address and a conversation the server minted."""

    def __init__(self, stack):
        self.stack = stack
        self.client = visitor()
        self.conversation = new_conversation(stack, self.client)
        self.sender = conversation_sender(self.conversation)

    def post(self, message, **kwargs):
        return widget_post(self.stack, self.conversation, message, self.client, **kwargs)


def test_demo_page_has_a_strict_content_security_policy(channel_stack):
    resp = requests.get(channel_stack.rasa_url + "/webhooks/widget/demo", timeout=30)
    assert resp.status_code == 200
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"
    page = resp.text
    assert '<script src="/webhooks/widget/static/widget.js"' in page
    # No inline script and no third-party origin anywhere on the page.
    assert "<script>" not in page and "onload=" not in page and "style=" not in page
    assert "http://" not in page and "https://" not in page.replace("https://ASSISTANT-HOST", "")


@pytest.mark.parametrize(
    "name,content_type",
    [("widget.js", "application/javascript"), ("widget.css", "text/css"), ("demo.css", "text/css")],
)
def test_static_files(channel_stack, name, content_type):
    resp = requests.get(f"{channel_stack.rasa_url}/webhooks/widget/static/{name}", timeout=30)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith(content_type)
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "//cdn" not in resp.text and "googleapis" not in resp.text


@pytest.mark.parametrize(
    "path",
    [
        "/webhooks/widget/static/demo.html",
        "/webhooks/widget/static/..%2fwidget.py",
        "/webhooks/widget/static/..%2f..%2f..%2fbot%2fsettings.py",
        "/webhooks/widget/static/%2e%2e/%2e%2e/credentials.yml",
        "/webhooks/widget/static/",
    ],
)
def test_nothing_else_is_served(channel_stack, path):
    resp = requests.get(channel_stack.rasa_url + path, timeout=30)
    assert resp.status_code == 404
    assert "import" not in resp.text


def test_a_message_gets_the_replies_as_json(channel_stack):
    who = Visitor(channel_stack)
    resp = who.post("hello")
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    messages = resp.json()
    assert messages and all(isinstance(m, dict) for m in messages)
    assert any(m.get("text") for m in messages)
    assert user_texts(channel_stack, who.sender) == ["hello"]


def _post_with_id(who, text, message_id):
    return who.client.post(
        who.stack.rasa_url + WIDGET_PATH,
        json={"conversation": who.conversation, "message": text, "message_id": message_id},
        timeout=90,
    )


def test_a_message_id_sent_twice_is_processed_once(channel_stack):
    """A replayed or resent widget message (same message_id) is stored once and answered with the
    reply of the stored turn (issue 11: HAProxy's replay after a server died mid-turn)."""
    who = Visitor(channel_stack)
    assert who.post("/greet").status_code == 200
    message_id = str(uuid.uuid4())
    first = _post_with_id(who, "what are the treatments", message_id)
    again = _post_with_id(who, "what are the treatments", message_id)
    assert first.status_code == again.status_code == 200
    assert first.json() and again.json() == first.json()
    assert user_texts(channel_stack, who.sender) == ["/greet", "what are the treatments"]
    stored = [e for e in stored_events(channel_stack, who.sender) if e["event"] == "user"]
    assert stored[-1]["metadata"]["message_id"] == message_id


def test_a_conversations_first_message_replayed_gets_the_whole_first_reply(channel_stack):
    """The first message of a conversation is answered with the welcome (the automated /
    not-a-doctor sentence, uttered by action_session_start and stored before the user event)
    and the answer to it; its replay (same message_id) gets exactly that reply, welcome included."""
    who = Visitor(channel_stack)
    message_id = str(uuid.uuid4())
    first = _post_with_id(who, "hello", message_id)
    assert first.status_code == 200
    assert any("not a doctor" in (m.get("text") or "") for m in first.json())
    assert len(first.json()) >= 2  # the welcome and the answer to "hello"
    again = _post_with_id(who, "hello", message_id)
    assert again.status_code == 200
    assert again.json() == first.json()
    assert user_texts(channel_stack, who.sender) == ["hello"]


def test_a_message_id_sent_twice_at_once_is_processed_once(channel_stack):
    who = Visitor(channel_stack)
    assert who.post("/greet").status_code == 200
    message_id = str(uuid.uuid4())
    with ThreadPoolExecutor(2) as pool:
        replies = list(pool.map(lambda _: _post_with_id(who, "how is clonus tested", message_id), range(2)))
    assert [r.status_code for r in replies] == [200, 200]
    assert replies[0].json() and replies[0].json() == replies[1].json()
    assert user_texts(channel_stack, who.sender) == ["/greet", "how is clonus tested"]


def test_a_malformed_message_id_is_refused(channel_stack):
    who = Visitor(channel_stack)
    resp = _post_with_id(who, "hello", "not-a-uuid")
    assert resp.status_code == 400 and resp.json()["error"] == "invalid message_id"
    assert user_texts(channel_stack, who.sender) == []


def test_emergency_is_one_message_with_text_and_marker(channel_stack):
    who = Visitor(channel_stack)
    who.post("hi")
    messages = who.post(
        "I'm on Nardil and my new doctor gave me tramadol, now I'm sweaty and my legs keep jerking"
    ).json()
    emergencies = [m for m in messages if (m.get("custom") or {}).get("emergency") is True]
    assert len(emergencies) == 1, messages
    assert "911" in emergencies[0]["text"] and emergencies[0]["custom"]["call"] == "911"


@pytest.mark.parametrize(
    "kwargs,status",
    [
        ({"data": "conversation=abc&message=hi", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}, 415),
        ({"data": '{"conversation": "x", "message": "hi"}', "headers": {"Content-Type": "text/plain"}}, 415),
        ({"data": "{not json", "headers": {"Content-Type": "application/json"}}, 400),
        ({"json": ["not", "an", "object"]}, 400),
        ({"json": {"message": "hi"}}, 400),
        ({"json": {"conversation": "short", "message": "hi"}}, 401),
        ({"json": {"conversation": 12345678901234567890, "message": "hi"}}, 400),
        ({"json": {"conversation": "{minted}", "message": "   "}}, 400),
        ({"json": {"conversation": "{minted}", "message": ["hi"]}}, 400),
        ({"json": {"conversation": "{minted}", "message": "x" * 20_000}}, 413),
    ],
)
def test_bad_requests_are_refused(channel_stack, kwargs, status):
    client = visitor()
    body = kwargs.get("json")
    if isinstance(body, dict) and body.get("conversation") == "{minted}":
        kwargs = dict(kwargs, json=dict(body, conversation=new_conversation(channel_stack, client)))
    resp = client.post(channel_stack.rasa_url + WIDGET_PATH, timeout=30, **kwargs)
    assert resp.status_code == status


def test_long_message_is_refused_with_a_notice_not_cut(channel_stack):
    from bot.settings import clinic

    who = Visitor(channel_stack)
    resp = who.post("my leg jerks " * 1000)
    assert resp.status_code == 413
    (notice,) = resp.json()["messages"]
    assert "too long" in notice["text"] and clinic().emergency_number in notice["text"]
    assert user_texts(channel_stack, who.sender) == []


def test_hostile_text_is_stored_verbatim_and_returned_as_data(channel_stack):
    who = Visitor(channel_stack)
    hostile = "<img src=x onerror=alert(1)>"
    resp = who.post(hostile)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/json")
    assert user_texts(channel_stack, who.sender) == [hostile]


def test_typed_payloads_are_neutralised_but_button_payloads_pass(channel_stack):
    who = Visitor(channel_stack)
    greeting = who.post("/greet").json()  # the widget's opening payload
    payloads = [b["payload"] for m in greeting for b in m.get("buttons") or []]
    assert "/book_appointment" in payloads
    assert user_texts(channel_stack, who.sender) == ["/greet"]

    who.post('/emergency{"triage_level": "self_care"}')
    assert not user_texts(channel_stack, who.sender)[-1].startswith("/")

    fresh = Visitor(channel_stack)
    fresh.post("hello")
    fresh.post("/book_appointment")  # shown as a button: allowed
    events = [e for e in stored_events(channel_stack, fresh.sender) if e.get("event") == "user"]
    assert events[-1]["text"] == "/book_appointment"
    assert events[-1]["parse_data"]["intent"]["name"] == "book_appointment"


def test_cross_origin_requests_get_no_cors_grant_by_default(channel_stack):
    resp = requests.options(
        channel_stack.rasa_url + WIDGET_PATH,
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        timeout=30,
    )
    assert resp.headers.get("Access-Control-Allow-Origin") in (None, "")


def test_an_emergency_in_a_message_too_long_still_gets_its_instructions(channel_stack):
    """Found by an outside tester: the refusal of a long message held only the generic notice."""
    who = Visitor(channel_stack)
    story = "i take zoloft and started tramadol yesterday, now im sweating buckets with a fever and my legs jerk on their own. "
    resp = who.post(story + "it started at lunch and i dont know what to do. " * 60)
    assert resp.status_code == 413
    messages = resp.json()["messages"]
    assert messages[0]["custom"]["emergency"] is True and "911" in messages[0]["text"]
    assert "too long" in messages[-1]["text"]
    assert user_texts(channel_stack, who.sender) == []
