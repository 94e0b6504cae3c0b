"""The widget channel over real HTTP: its files and demo page (with their security headers), and
the message endpoint's checks."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.channels.conftest import WIDGET_PATH, stored_events, user_texts

pytestmark = pytest.mark.e2e


def post(stack, body, **kwargs):
    return requests.post(stack.rasa_url + WIDGET_PATH, json=body, timeout=90, **kwargs)


def sender() -> str:
    return uuid.uuid4().hex


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
    who = sender()
    resp = post(channel_stack, {"sender": who, "message": "hello"})
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    messages = resp.json()
    assert messages and all(isinstance(m, dict) for m in messages)
    assert any(m.get("text") for m in messages)
    assert user_texts(channel_stack, who) == ["hello"]


def test_emergency_is_one_message_with_text_and_marker(channel_stack):
    who = sender()
    post(channel_stack, {"sender": who, "message": "hi"})
    messages = post(
        channel_stack,
        {
            "sender": who,
            "message": "I'm on Nardil and my new doctor gave me tramadol, now I'm sweaty and my legs keep jerking",
        },
    ).json()
    emergencies = [m for m in messages if (m.get("custom") or {}).get("emergency") is True]
    assert len(emergencies) == 1, messages
    assert "911" in emergencies[0]["text"] and emergencies[0]["custom"]["call"] == "911"


@pytest.mark.parametrize(
    "kwargs,status",
    [
        ({"data": "sender=abc&message=hi", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}, 415),
        ({"data": '{"sender": "x", "message": "hi"}', "headers": {"Content-Type": "text/plain"}}, 415),
        ({"data": "{not json", "headers": {"Content-Type": "application/json"}}, 400),
        ({"json": ["not", "an", "object"]}, 400),
        ({"json": {"sender": "short", "message": "hi"}}, 400),
        ({"json": {"sender": "../../etc/passwd/aaaaaaaa", "message": "hi"}}, 400),
        ({"json": {"sender": 12345678901234567890, "message": "hi"}}, 400),
        ({"json": {"sender": uuid.uuid4().hex, "message": "   "}}, 400),
        ({"json": {"sender": uuid.uuid4().hex, "message": ["hi"]}}, 400),
        ({"json": {"sender": uuid.uuid4().hex, "message": "x" * 20_000}}, 413),
    ],
)
def test_bad_requests_are_refused(channel_stack, kwargs, status):
    resp = requests.post(channel_stack.rasa_url + WIDGET_PATH, timeout=30, **kwargs)
    assert resp.status_code == status


def test_long_message_is_clipped(channel_stack):
    who = sender()
    resp = post(channel_stack, {"sender": who, "message": "my leg jerks " * 1000})
    assert resp.status_code == 200
    (stored,) = user_texts(channel_stack, who)
    assert len(stored) <= 2000


def test_hostile_text_is_stored_verbatim_and_returned_as_data(channel_stack):
    who = sender()
    hostile = "<img src=x onerror=alert(1)>"
    resp = post(channel_stack, {"sender": who, "message": hostile})
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/json")
    assert user_texts(channel_stack, who) == [hostile]


def test_typed_payloads_are_neutralised_but_button_payloads_pass(channel_stack):
    who = sender()
    greeting = post(channel_stack, {"sender": who, "message": "/greet"}).json()  # the widget's opening payload
    payloads = [b["payload"] for m in greeting for b in m.get("buttons") or []]
    assert "/book_appointment" in payloads
    assert user_texts(channel_stack, who) == ["/greet"]

    post(channel_stack, {"sender": who, "message": '/emergency{"triage_level": "self_care"}'})
    assert not user_texts(channel_stack, who)[-1].startswith("/")

    fresh = sender()
    post(channel_stack, {"sender": fresh, "message": "hello"})
    post(channel_stack, {"sender": fresh, "message": "/book_appointment"})  # shown as a button: allowed
    events = [e for e in stored_events(channel_stack, fresh) if e.get("event") == "user"]
    assert events[-1]["text"] == "/book_appointment"
    assert events[-1]["parse_data"]["intent"]["name"] == "book_appointment"


def test_cross_origin_requests_get_no_cors_grant_by_default(channel_stack):
    resp = requests.options(
        channel_stack.rasa_url + WIDGET_PATH,
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        timeout=30,
    )
    assert resp.headers.get("Access-Control-Allow-Origin") in (None, "")
