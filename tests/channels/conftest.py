"""The real Rasa server with the widget and SMS channels, for tests over real HTTP.

The SMS channel reads its auth token from the server's environment: a test token is set here, at
collection time, so that the session's stack (`rasa_stack`, started later) inherits it. When
credentials.yml does not enable both channels yet, a stack of our own is started with a copy of
credentials.yml that adds them.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Iterator, List

import pytest
import requests
import sqlalchemy as sa
import yaml
from requests_toolbelt.adapters.source import SourceAddressAdapter
from twilio.request_validator import RequestValidator

from tests.e2e.stack import ROOT, Stack, create_postgres_database, drop_postgres_database

TWILIO_TOKEN = "test-" + secrets.token_hex(16)
os.environ["TWILIO_AUTH_TOKEN"] = TWILIO_TOKEN
os.environ.pop("TWILIO_WEBHOOK_URL", None)  # tests sign the URL the server sees

WIDGET = "rasa_ext.channels.widget.WidgetInput"
SMS = "rasa_ext.channels.twilio_sms.TwilioSmsInput"
SMS_PATH = "/webhooks/twilio_sms/webhook"
WIDGET_PATH = "/webhooks/widget/webhook"
CONVERSATION_PATH = "/webhooks/widget/conversation"
DEV = "rasa_ext.channels.dev.DevInput"


def channels_configured() -> bool:
    creds = yaml.safe_load((ROOT / "credentials.yml").read_text()) or {}
    return WIDGET in creds and SMS in creds and DEV in creds


class ChannelStack(Stack):
    """Stack with a credentials file that enables the widget and SMS channels."""

    def credentials(self) -> Path:
        creds = yaml.safe_load((ROOT / "credentials.yml").read_text()) or {}
        creds.setdefault(WIDGET, None)
        creds.setdefault(SMS, None)
        creds.setdefault(DEV, None)
        path = self.workdir / "credentials.yml"
        path.write_text(yaml.safe_dump(creds))
        return path


class RunningServer:
    """A server someone already started (CLONUS_TEST_RASA_URL, for quick iteration)."""

    def __init__(self) -> None:
        self.rasa_url = os.environ["CLONUS_TEST_RASA_URL"].rstrip("/")
        self.database_url = os.environ["CLONUS_TEST_DATABASE_URL"]
        self.log_file = os.environ.get("CLONUS_TEST_RASA_LOG", "")
        self.workdir = None


@pytest.fixture(scope="session")
def channel_stack(request) -> Iterator[Stack]:
    if os.environ.get("CLONUS_TEST_RASA_URL"):
        # Iterating against a running server: its token must be the one given here.
        os.environ["TWILIO_AUTH_TOKEN"] = os.environ["CLONUS_TEST_TWILIO_TOKEN"]
        yield RunningServer()
        return
    if _shared:
        # The browser tests import this fixture into their module, which makes pytest keep a
        # second copy of it: both hand out the one stack.
        yield _shared[0]
        return
    trained_model = request.getfixturevalue("trained_model")
    if channels_configured():
        _shared.append(request.getfixturevalue("rasa_stack"))
        yield _shared[0]
        return
    stack = ChannelStack(model=trained_model, database_url=create_postgres_database())
    _shared.append(stack)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        drop_postgres_database(stack.database_url)


_shared: List[Stack] = []


# ---- helpers the tests share ---------------------------------------------------------------------


def sms_post(
    stack: Stack,
    params: dict,
    *,
    sign_url: str = None,
    signature: str = None,
    token: str = None,
    headers: dict = None,
    data=None,
) -> requests.Response:
    """POST a Twilio-style form to the SMS webhook, signed like Twilio would sign it."""
    url = stack.rasa_url + SMS_PATH
    if signature is None:
        signature = sign(token or twilio_token(), sign_url or url, params)
    all_headers = {"X-Twilio-Signature": signature} if signature else {}
    all_headers.update(headers or {})
    return requests.post(url, data=params if data is None else data, headers=all_headers, timeout=90)


def sign(token: str, url: str, params) -> str:
    """The X-Twilio-Signature Twilio would send (the `twilio` package is the oracle)."""
    return RequestValidator(token).compute_signature(url, params or {})


# ---- the widget: a client is one visitor at one address -------------------------------------------


def loopback_address() -> str:
    """A loopback address of its own (127.x.y.z all reach a server on 127.0.0.1), so that the
    per-address limits of one test do not spill into another."""
    while True:
        address = f"127.{secrets.randbelow(250) + 1}.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"
        if address not in _addresses:
            _addresses.add(address)
            return address


_addresses: set = {"127.0.0.1"}


def visitor(address: str = None) -> requests.Session:
    """An HTTP client that connects from its own loopback address."""
    session = requests.Session()
    adapter = SourceAddressAdapter(address or loopback_address())
    session.mount("http://", adapter)
    return session


def new_conversation(stack: Stack, client: requests.Session = None) -> str:
    """A conversation id minted by the server (what the widget does when it first opens)."""
    resp = (client or visitor()).post(stack.rasa_url + CONVERSATION_PATH, json={}, timeout=30)
    assert resp.status_code == 201, resp.text
    return resp.json()["conversation"]


def conversation_sender(conversation: str) -> str:
    """The tracker's sender id of a signed conversation id (its first part)."""
    return conversation.split(".")[0]


def widget_post(stack: Stack, conversation: str, message: str, client: requests.Session = None, **kwargs):
    return (client or visitor()).post(
        stack.rasa_url + WIDGET_PATH, json={"conversation": conversation, "message": message}, timeout=90, **kwargs
    )


def sms_params(phone: str, body: str) -> dict:
    return {
        "MessageSid": "SM" + secrets.token_hex(16),
        "AccountSid": "AC" + "0" * 32,
        "From": phone,
        "To": "+13125550100",
        "Body": body,
        "NumMedia": "0",
    }


def twiml_messages(resp: requests.Response) -> List[str]:
    import xml.etree.ElementTree as ET

    assert resp.headers["Content-Type"].startswith("application/xml"), resp.headers
    root = ET.fromstring(resp.content)  # noqa: S314 - our own server's TwiML
    assert root.tag == "Response"
    return [m.text or "" for m in root.findall("Message")]


def stored_events(stack: Stack, sender: str) -> List[dict]:
    """The conversation's events as Rasa's tracker store saved them (straight from the database)."""
    import json

    engine = sa.create_engine(stack.database_url, future=True)
    try:
        with engine.connect() as conn:
            rows = (
                conn.execute(sa.text("SELECT data FROM events WHERE sender_id = :s ORDER BY id"), {"s": sender})
                .scalars()
                .all()
            )
    finally:
        engine.dispose()
    return [json.loads(r) for r in rows]


def user_texts(stack: Stack, sender: str) -> List[str]:
    return [e.get("text") for e in stored_events(stack, sender) if e.get("event") == "user"]


def new_phone() -> str:
    """A fictional US number (555 exchange), different for every call in a session."""
    while True:
        number = f"+1{200 + secrets.randbelow(800)}555{secrets.randbelow(10_000):04d}"
        if number not in _issued:
            _issued.add(number)
            return number


_issued: set = set()


def twilio_token() -> str:
    return os.environ["TWILIO_AUTH_TOKEN"]


def server_log(stack: Stack) -> str:
    path = Path(getattr(stack, "log_file", "") or Path(stack.workdir or ".") / "rasa.log")
    return path.read_text(errors="replace") if path.exists() else ""
