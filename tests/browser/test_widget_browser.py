"""The chat widget in real headless Chromium (Debian's /usr/bin/chromium driven by Playwright)
against the running Rasa server's demo page: a booking, an emergency, a reload, hostile text,
keyboard-only use, screen-reader semantics, contrast, a 360-pixel phone, and the strict CSP.
Screenshots go to test-artifacts/."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Iterator, List

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.channels.conftest import channel_stack, stored_events  # noqa: F401  (fixture)
from tests.chromium import CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
REPLY_TIMEOUT_MS = 60_000
EMERGENCY_TEXT = "I'm on Nardil and my new doctor gave me tramadol, now I'm sweaty and my legs keep jerking"


@pytest.fixture(scope="module")  # the sync API holds an event loop: release it after this module
def browser():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail("chromium is not installed: run scripts/install_browser.sh (make test does)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Widget:
    """The demo page with the widget, plus what the page did that a test may check."""

    def __init__(self, page: Page, base: str) -> None:
        self.page = page
        self.base = base
        self.console: List[str] = []
        self.dialogs: List[str] = []
        self.requests: List[str] = []
        page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))
        page.on("request", lambda r: self.requests.append(r.url))

        def on_dialog(d):
            self.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", on_dialog)
        page.set_default_timeout(REPLY_TIMEOUT_MS)
        expect.set_options(timeout=REPLY_TIMEOUT_MS)

    def goto(self) -> "Widget":
        self.page.goto(self.base + "/webhooks/widget/demo")
        self.launcher.wait_for()
        return self

    @property
    def launcher(self):
        return self.page.get_by_role("button", name="Chat with us")

    @property
    def input(self):
        return self.page.get_by_label("Type your message")

    def bot_messages(self):
        return self.page.locator(".cw-msg.cw-bot")

    def open(self) -> None:
        self.launcher.click()
        expect(self.page.get_by_role("dialog")).to_be_visible()
        self.wait_idle()

    def wait_idle(self) -> None:
        expect(self.page.locator(".cw-typing")).to_be_hidden()

    def _after(self, action) -> str:
        before = self.bot_messages().count()
        action()
        expect(self.bot_messages()).not_to_have_count(before)
        self.wait_idle()
        texts = self.bot_messages().all_inner_texts()[before:]
        return "\n".join(texts)

    def say(self, text: str) -> str:
        """Type a message, send it with Enter, return the text of the new bot messages."""

        def act():
            self.input.fill(text)
            self.input.press("Enter")

        return self._after(act)

    def click_reply(self, title: str) -> str:
        return self._after(lambda: self.page.locator(".cw-reply", has_text=title).last.click())

    def transcript(self) -> List[str]:
        return [t.strip() for t in self.page.locator(".cw-msg .cw-text").all_inner_texts()]

    def sender(self) -> str:
        """The tracker's sender id of the conversation the server minted for this page."""
        raw = self.page.evaluate(
            "() => { for (let i = 0; i < sessionStorage.length; i++) { const k = sessionStorage.key(i);"
            " if (k.startsWith('clonus-widget:')) return sessionStorage.getItem(k); } return null; }"
        )
        return json.loads(raw)["conversation"].split(".")[0]

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        self.page.screenshot(path=str(path))
        return path

    def assert_clean(self) -> None:
        csp = [c for c in self.console if "Content Security Policy" in c or "Refused to" in c]
        assert not csp, csp
        errors = [c for c in self.console if c.startswith(("error:", "pageerror:"))]
        assert not errors, errors
        assert not self.dialogs, self.dialogs
        foreign = [u for u in self.requests if not u.startswith((self.base, "data:"))]
        assert not foreign, f"requests to other origins: {foreign}"


@pytest.fixture
def widget(browser, channel_stack) -> Iterator[Widget]:  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    page = context.new_page()
    w = Widget(page, channel_stack.rasa_url)
    yield w
    context.close()


@pytest.fixture
def phone_widget(browser, channel_stack) -> Iterator[Widget]:  # noqa: F811
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True, locale="en-US"
    )
    page = context.new_page()
    w = Widget(page, channel_stack.rasa_url)
    yield w
    context.close()


def test_full_conversation_to_a_booking(widget, channel_stack):  # noqa: F811
    widget.goto().open()
    greeting = "\n".join(widget.bot_messages().all_inner_texts())
    assert "not a doctor" in greeting
    expect(widget.page.locator(".cw-reply", has_text="Book an appointment")).to_be_visible()

    reply = widget.click_reply("Book an appointment")
    assert "name" in reply.lower(), reply
    # The quick replies of earlier messages are gone once used.
    expect(widget.page.locator(".cw-reply", has_text="What is clonus?")).to_have_count(0)
    for message, expected in [
        ("Jane Testperson", "phone"),
        ("(312) 555-0142", "day and time"),
        ("next tuesday at 10am", "what is the visit for"),
        ("my left ankle keeps jerking", "is this right"),
    ]:
        reply = widget.say(message)
        assert expected in reply.lower(), f"after {message!r}: {reply!r}"
    yes = widget.page.locator(".cw-reply", has_text=re.compile(r"^\s*yes", re.I))
    reply = widget.click_reply("Yes") if yes.count() else widget.say("yes")
    assert "request is saved" in reply, reply
    widget.screenshot("widget-booking.png")
    # Every turn is in the tracker store under the widget's sender id, in order.
    user = [e["text"] for e in stored_events(channel_stack, widget.sender()) if e.get("event") == "user"]
    assert user[0] == "/greet" and user[1] == "/book_appointment"
    assert user[2:6] == ["Jane Testperson", "(312) 555-0142", "next tuesday at 10am", "my left ankle keeps jerking"]
    widget.assert_clean()


def test_emergency_is_unmistakable_and_has_a_tap_to_call_number(widget):
    widget.goto().open()
    reply = widget.say(EMERGENCY_TEXT)
    assert "911" in reply
    emergency = widget.page.locator(".cw-msg.cw-emergency")
    expect(emergency).to_have_count(1)
    expect(emergency).to_contain_text("Emergency")
    call = emergency.get_by_role("link", name=re.compile("Call 911"))
    expect(call).to_have_attribute("href", "tel:911")
    # Distinct styling: a thick red frame and a red call button, unlike any other message.
    style = emergency.evaluate("e => { const s = getComputedStyle(e); return [s.borderTopWidth, s.borderTopColor]; }")
    assert style == ["3px", "rgb(176, 0, 32)"]
    assert call.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(176, 0, 32)"
    assert widget.page.locator(".cw-msg.cw-bot:not(.cw-emergency)").first.evaluate(
        "e => getComputedStyle(e).borderTopWidth"
    ) in ("0px", "")
    # Screen readers hear it at once (role=alert), not only in the polite log.
    expect(widget.page.locator("[role=alert]")).to_contain_text("Emergency")
    emergency.scroll_into_view_if_needed()
    widget.screenshot("widget-emergency.png")
    widget.assert_clean()


def test_reload_keeps_the_conversation(widget, channel_stack):  # noqa: F811
    widget.goto().open()
    widget.say("what is clonus")
    before = widget.transcript()
    sender = widget.sender()
    assert len(before) >= 3

    widget.page.reload()
    widget.launcher.wait_for()
    expect(widget.page.get_by_role("dialog")).to_be_visible()  # it was open: it still is
    assert widget.transcript() == before
    assert widget.sender() == sender

    widget.say("thank you")
    user = [e["text"] for e in stored_events(channel_stack, sender) if e.get("event") == "user"]
    assert user == ["/greet", "what is clonus", "thank you"]  # one conversation, nothing lost or repeated
    widget.assert_clean()


def test_hostile_message_is_shown_as_text(widget):
    widget.goto().open()
    hostile = "<img src=x onerror=alert(1)>"
    widget.say(hostile)
    bubble = widget.page.locator(".cw-msg.cw-user .cw-text").last
    expect(bubble).to_have_text(hostile)
    assert widget.page.locator("#clonus-widget img").count() == 0
    widget.page.wait_for_timeout(500)
    assert not widget.dialogs
    widget.assert_clean()


def test_hostile_bot_output_is_rendered_safely(widget):
    """Whatever the server sends (a compromised response, a bad template) stays text; only
    http(s), tel and mailto links become links."""
    evil = [
        {
            "text": "<script>alert(1)</script> <img src=x onerror=alert(2)> [click](javascript:alert(3)) "
            "[ok](https://example.org/a) [data](data:text/html,<script>alert(4)</script>)",
            "buttons": [{"title": "<b onmouseover=alert(5)>Yes</b>", "payload": "/affirm"}],
        },
        {"custom": {"emergency": True, "text": "Call now", "call": '911" onclick="alert(6)'}},
    ]
    widget.page.route(
        "**/webhooks/widget/webhook",
        lambda route: route.fulfill(status=200, content_type="application/json", body=json.dumps(evil)),
    )
    widget.goto().open()
    expect(widget.page.locator(".cw-msg.cw-bot")).to_have_count(2)
    root = widget.page.locator("#clonus-widget")
    assert root.locator("script, img, b").count() == 0
    hrefs = [a.get_attribute("href") for a in widget.page.locator(".cw-msg a").all()]
    assert "https://example.org/a" in hrefs
    assert all(h.startswith(("https:", "tel:")) for h in hrefs), hrefs
    assert "tel:911" in hrefs  # not a plausible number: the configured emergency number instead
    expect(widget.page.locator(".cw-reply")).to_have_text("<b onmouseover=alert(5)>Yes</b>")
    widget.page.locator(".cw-reply").hover()
    widget.page.wait_for_timeout(300)
    assert not widget.dialogs


def test_keyboard_only(widget):
    widget.goto()
    page = widget.page
    active = (
        "() => { const h = document.getElementById('clonus-widget'); const a = document.activeElement;"
        " return a === h ? h.shadowRoot.activeElement.className : (a && a.tagName); }"
    )
    for _ in range(15):
        page.keyboard.press("Tab")
        if page.evaluate(active) == "cw-launcher":
            break
    assert page.evaluate(active) == "cw-launcher"
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog")).to_be_visible()
    assert page.evaluate(active) == "cw-input"
    widget.wait_idle()
    expect(page.locator(".cw-reply").first).to_be_visible()

    # From the text box, Shift+Tab reaches the suggested replies; Enter picks one.
    for _ in range(10):
        page.keyboard.press("Shift+Tab")
        if page.evaluate(active) == "cw-reply":
            break
    assert page.evaluate(active) == "cw-reply"
    label = page.evaluate("() => document.getElementById('clonus-widget').shadowRoot.activeElement.textContent")
    before = widget.bot_messages().count()
    page.keyboard.press("Enter")
    expect(widget.bot_messages()).not_to_have_count(before)
    expect(page.locator(".cw-msg.cw-user").last).to_have_text(re.compile(re.escape(label)))

    page.locator(".cw-input").focus()
    page.keyboard.type("thanks")
    before = widget.bot_messages().count()
    page.keyboard.press("Enter")
    expect(widget.bot_messages()).not_to_have_count(before)

    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    assert page.evaluate(active) == "cw-launcher"
    widget.assert_clean()


def test_screen_reader_semantics(widget):
    widget.goto().open()
    page = widget.page
    log = page.get_by_role("log", name="Conversation")
    expect(log).to_have_attribute("aria-live", "polite")
    expect(page.get_by_role("dialog")).to_have_attribute("aria-labelledby", "cw-title")
    expect(page.get_by_role("button", name="Close chat")).to_be_visible()
    expect(page.get_by_role("button", name="Send")).to_be_visible()
    expect(page.get_by_role("group", name="Suggested replies")).to_be_visible()
    expect(widget.launcher).to_have_attribute("aria-expanded", "true")
    # Each message says who wrote it and when, for people who cannot see the bubbles' sides.
    first = page.locator(".cw-msg").first
    expect(first.locator(".cw-sr-only")).to_have_text(re.compile(r"^Assistant:"))
    assert re.match(r"\d{4}-\d\d-\d\dT", first.locator("time").get_attribute("datetime"))
    # The typing indicator is a status message.
    expect(page.locator(".cw-typing")).to_have_attribute("role", "status")


CONTRAST_JS = """
(selectors) => {
  const root = document.getElementById('clonus-widget').shadowRoot;
  const parse = (c) => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(',').map(Number); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const bg = (el) => { for (let e = el; e; e = e.parentElement || (e.getRootNode() && e.getRootNode().host)) {
      const c = parse(getComputedStyle(e).backgroundColor); if (c && c.a > 0.99) return c; }
    return {r: 255, g: 255, b: 255, a: 1}; };
  const out = [];
  for (const sel of selectors) {
    for (const el of root.querySelectorAll(sel)) {
      const fg = parse(getComputedStyle(el).color), b = bg(el);
      const [l1, l2] = [lum(fg), lum(b)].sort((x, y) => y - x);
      out.push({sel, text: el.textContent.slice(0, 30), ratio: (l1 + 0.05) / (l2 + 0.05)});
    }
  }
  return out;
}
"""


def test_text_meets_wcag_aa_contrast(widget):
    widget.goto().open()
    widget.say(EMERGENCY_TEXT)
    selectors = [
        ".cw-launcher-label",
        ".cw-title",
        ".cw-subtitle",
        ".cw-bot .cw-text",
        ".cw-user .cw-text",
        ".cw-time",
        ".cw-link",
        ".cw-reply",
        ".cw-emergency .cw-text",
        ".cw-emergency-label",
        ".cw-call",
        ".cw-send",
        ".cw-input",
    ]
    results = widget.page.evaluate(CONTRAST_JS, selectors)
    checked = {r["sel"] for r in results}
    assert {".cw-bot .cw-text", ".cw-user .cw-text", ".cw-emergency .cw-text", ".cw-call", ".cw-time"} <= checked
    low = [r for r in results if r["ratio"] < 4.5]
    assert not low, low


def test_fits_a_360_pixel_phone(phone_widget):
    w = phone_widget.goto()
    w.open()
    w.say("what is clonus")
    page = w.page
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    box = page.get_by_role("dialog").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360
    for b in page.locator(".cw-msg, .cw-reply, .cw-input, .cw-send, .cw-close").all():
        r = b.bounding_box()
        if r:
            assert r["x"] >= 0 and r["x"] + r["width"] <= 360, (b.get_attribute("class"), r)
    # Touch targets of at least 44 px.
    for b in page.locator(".cw-reply, .cw-send, .cw-close").all():
        assert b.bounding_box()["height"] >= 44
    w.screenshot("widget-360.png")
    w.say(EMERGENCY_TEXT)
    call = page.locator(".cw-call").last
    expect(call).to_be_visible()
    assert call.bounding_box()["width"] >= 200
    w.screenshot("widget-360-emergency.png")
    w.assert_clean()
