# ruff: noqa: F811  (channel_stack, imported from tests/channels/conftest.py, is a fixture)
"""Issue 8, item 1: no caller chooses whose conversation it is.

Over real HTTP against the real Rasa server (tests/channels/conftest.py). Before the fix, Rasa's
stock `rest` channel answered any `sender` (a phone number read the SMS patient's conversation
and wrote into it), took text/plain, `/intent{...}` payloads and no sender at all, and the widget
took any sender id its caller chose.
"""

from __future__ import annotations

import hashlib
import os
import secrets

import pytest
import requests
from itsdangerous import TimestampSigner

from rasa_ext.channels.widget import SIGNER_SALT
from tests.channels.conftest import (  # noqa: F401  (channel_stack is a fixture)
    CONVERSATION_PATH,
    WIDGET_PATH,
    channel_stack,
    conversation_sender,
    new_conversation,
    new_phone,
    sms_params,
    sms_post,
    stored_events,
    twiml_messages,
    user_texts,
    visitor,
    widget_post,
)
from tests.e2e.stack import DEV_PATH, DEV_TOKEN_ENV, dev_post

pytestmark = pytest.mark.e2e

MARKER_MEDICINE = "Nardil"
REST_PATH = "/webhooks/rest/webhook"


def dev_headers(token=None):
    return {"Authorization": f"Bearer {token or os.environ[DEV_TOKEN_ENV]}"}


def sms_conversation(stack) -> str:
    """An SMS patient who named a medicine: the conversation a stranger would want to read."""
    phone = new_phone()
    resp = sms_post(stack, sms_params(phone, f"I take {MARKER_MEDICINE} and my legs keep jerking"))
    assert resp.status_code == 200 and twiml_messages(resp)
    return phone


def test_rasa_stock_rest_and_socketio_channels_are_not_served(channel_stack):
    client = visitor()
    rest = client.post(channel_stack.rasa_url + REST_PATH, json={"sender": "someone-1", "message": "hi"}, timeout=30)
    assert rest.status_code == 404
    socketio = client.get(channel_stack.rasa_url + "/socket.io/?EIO=4&transport=polling", timeout=30)
    assert socketio.status_code == 404
    assert stored_events(channel_stack, "someone-1") == []


@pytest.mark.parametrize("form", ["+E164", "digits", "national"])
def test_a_phone_number_used_as_a_sender_on_any_other_channel_reaches_nothing(channel_stack, form):
    phone = sms_conversation(channel_stack)
    before = stored_events(channel_stack, phone)
    sender = {"+E164": phone, "digits": phone[1:], "national": f"({phone[2:5]}) {phone[5:8]}-{phone[8:]}"}[form]
    client = visitor()
    attempts = [
        client.post(channel_stack.rasa_url + REST_PATH, json={"sender": sender, "message": "why?"}, timeout=60),
        client.post(channel_stack.rasa_url + WIDGET_PATH, json={"sender": sender, "message": "why?"}, timeout=60),
        client.post(channel_stack.rasa_url + WIDGET_PATH, json={"conversation": sender, "message": "why?"}, timeout=60),
        # Even the dev channel, with its token, cannot name an SMS conversation.
        dev_post(channel_stack.rasa_url, sender, "why?"),
    ]
    for resp in attempts:
        assert resp.status_code in (400, 401, 403, 404), (resp.status_code, resp.text[:300])
        assert MARKER_MEDICINE not in resp.text
    assert stored_events(channel_stack, phone) == before


def altered_signature(conversation: str) -> str:
    """The id with the first character of its signature changed. (Changing the LAST character, as this
    test did, can change only base64's unused low bits: 'A' -> 'B' at the end decodes to the same
    bytes, so one fresh-clone run "forged" a valid id and failed. The first character always counts.)"""
    head, signature = conversation.rsplit(".", 1)
    return f"{head}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"


def test_an_altered_signature_always_differs_in_its_bytes():
    import base64

    for _ in range(200):
        signature = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
        altered = altered_signature("web-x.abc." + signature).rsplit(".", 1)[1]
        decode = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))  # noqa: E731
        assert decode(altered) != decode(signature)


def test_a_widget_visitor_cannot_read_or_write_another_visitors_conversation(channel_stack):
    alice = visitor()
    alice_conversation = new_conversation(channel_stack, alice)
    alice_sender = conversation_sender(alice_conversation)
    first = widget_post(channel_stack, alice_conversation, f"I take {MARKER_MEDICINE}", alice)
    assert first.status_code == 200
    before = stored_events(channel_stack, alice_sender)

    mallory = visitor()
    other_key = TimestampSigner("not-the-server-secret", salt=SIGNER_SALT, digest_method=hashlib.sha256)
    forged = [
        alice_sender,  # the id without its signature
        other_key.sign(alice_sender).decode(),  # signed with another key
        altered_signature(alice_conversation),  # signature altered
        alice_conversation.replace(alice_sender, "web-" + secrets.token_urlsafe(18)),  # another id, same signature
    ]
    for conversation in forged:
        resp = widget_post(channel_stack, conversation, "what did I tell you?", mallory)
        assert resp.status_code == 401, (conversation, resp.status_code, resp.text[:300])
        assert MARKER_MEDICINE not in resp.text
        assert resp.json()["messages"]  # a notice the widget shows
    for body in ({"sender": alice_sender, "message": "why?"}, {"sender": alice_conversation, "message": "why?"}):
        resp = mallory.post(channel_stack.rasa_url + WIDGET_PATH, json=body, timeout=60)
        assert resp.status_code == 400
    resp = dev_post(channel_stack.rasa_url, alice_sender, "why?")
    assert resp.status_code == 400 and MARKER_MEDICINE not in resp.text
    assert stored_events(channel_stack, alice_sender) == before


def test_conversation_ids_are_minted_by_the_server_random_and_signed(channel_stack):
    client = visitor()
    ids = {new_conversation(channel_stack, client) for _ in range(5)}
    assert len(ids) == 5
    senders = {conversation_sender(c) for c in ids}
    assert len(senders) == 5
    for sender in senders:
        assert sender.startswith("web-") and len(sender) == 4 + 24  # 18 random bytes
    # A minted id works, and its conversation is stored under the random part only.
    conversation = ids.pop()
    assert widget_post(channel_stack, conversation, "hello", client).status_code == 200
    assert user_texts(channel_stack, conversation_sender(conversation)) == ["hello"]
    assert stored_events(channel_stack, conversation) == []


@pytest.mark.parametrize("path", [REST_PATH, WIDGET_PATH, CONVERSATION_PATH, DEV_PATH])
def test_cross_site_simple_requests_are_refused(channel_stack, path):
    """A page on another site can post text/plain or a form without CORS: never accepted."""
    client = visitor()
    for content_type, body in (
        ("text/plain", '{"sender": "victim-1", "message": "hi"}'),
        ("application/x-www-form-urlencoded", "sender=victim-1&message=hi"),
    ):
        headers = {"Content-Type": content_type, "Origin": "https://evil.example"}
        resp = client.post(channel_stack.rasa_url + path, data=body, headers=headers, timeout=30)
        assert resp.status_code in (403, 404, 415), (path, content_type, resp.status_code)
    assert stored_events(channel_stack, "victim-1") == []


def test_typed_intent_payloads_are_neutralised_on_the_public_channels(channel_stack):
    client = visitor()
    conversation = new_conversation(channel_stack, client)
    payload = '/inform{"triage_level": "self_care", "patient_name": "Mallory"}'
    assert widget_post(channel_stack, conversation, payload, client).status_code == 200
    (stored,) = [e for e in stored_events(channel_stack, conversation_sender(conversation)) if e.get("event") == "user"]
    assert not stored["text"].startswith("/")
    assert stored["parse_data"]["intent"]["name"] != "inform"
    assert not any(e.get("value") in ("self_care", "Mallory") for e in stored["parse_data"].get("entities", []))
    rest = client.post(channel_stack.rasa_url + REST_PATH, json={"sender": "payload-1", "message": payload}, timeout=30)
    assert rest.status_code == 404


def test_a_message_without_a_sender_reaches_no_shared_conversation(channel_stack):
    client = visitor()
    for path in (REST_PATH, WIDGET_PATH):
        resp = client.post(channel_stack.rasa_url + path, json={"message": "hello"}, timeout=60)
        assert resp.status_code in (400, 404), (path, resp.status_code)
    resp = requests.post(channel_stack.rasa_url + DEV_PATH, json={"message": "hello"}, headers=dev_headers(), timeout=30)
    assert resp.status_code == 400
    assert stored_events(channel_stack, "default") == []


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": os.environ.get(DEV_TOKEN_ENV, "")},  # no scheme
        # The token, but through a reverse proxy on this host (the internet looks like loopback).
        {"X-Forwarded-For": "203.0.113.9"},
        {"Forwarded": "for=203.0.113.9"},
        {"X-Real-IP": "203.0.113.9"},
    ],
)
def test_the_dev_channel_needs_its_token_and_a_direct_loopback_client(channel_stack, headers):
    sender = "devcheck-" + secrets.token_hex(6)
    sent = dict(headers)
    if any(h in headers for h in ("X-Forwarded-For", "Forwarded", "X-Real-IP")):
        sent.update(dev_headers())
    resp = visitor().post(
        channel_stack.rasa_url + DEV_PATH, json={"sender": sender, "message": "hello"}, headers=sent, timeout=30
    )
    assert resp.status_code == 403
    assert stored_events(channel_stack, sender) == []
    # With the token, directly from loopback: it works (the tests' own way in).
    assert dev_post(channel_stack.rasa_url, sender, "hello").status_code == 200
