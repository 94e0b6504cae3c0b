"""The console in real headless Chromium (Debian's package, driven by Playwright; never downloaded
by the tool): sign in, filter to emergencies, open a transcript, mark it reviewed, see the audit
entry. Screenshots go to test-artifacts/."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import bot.db as db
from bot.db.tracker import create_events_table
from console import auth, demo
from console.app import create_app
from console.consumer import catch_up
from tests.chromium import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
PASSWORD = "browser test passphrase"
UTC = timezone.utc  # noqa: UP017


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def console_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from waitress.server import create_server

    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'console.sqlite3'}"
    db.migrate(url)
    engine = db.get_engine(url)
    create_events_table(engine)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        demo.seed(conn, 120, 2400, now=now, days=10)
        # one emergency that is surely the newest, so that it is first in the filtered list
        demo.insert_events(
            conn, demo.conversation_events("+15555550177", now - timedelta(minutes=5), demo.SCENARIOS[0], "twilio")
        )
    catch_up(url)  # the consumer's work: page views never write summaries
    with db.session_scope(url) as s:
        auth.create_user(s, "ada.admin", PASSWORD, "admin")
    app = create_app(database_url=url, secret_key="browser-test-" + "k" * 40, cookie_secure=True, timezone_=UTC)
    port = _free_port()
    server = create_server(app, host="127.0.0.1", port=port, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: run scripts/install_browser.sh (make test does)")
    import playwright.sync_api as pw_api
    with pw_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def test_review_an_emergency_in_the_browser(browser, console_url: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    external: list[str] = []
    page.on("request", lambda req: external.append(req.url) if not req.url.startswith(console_url) else None)

    # sign in
    page.goto(f"{console_url}/conversations")
    assert page.url.startswith(f"{console_url}/login")
    page.fill("#username", "ada.admin")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{console_url}/conversations")
    assert page.locator("table.list tbody tr").count() == 50  # first page

    # filter to emergencies (console.js submits the form when the select changes)
    page.select_option("#filter-level", "emergency")
    page.wait_for_url("**/conversations?*level=emergency*")
    rows = page.locator("table.list tbody tr")
    assert rows.count() > 0
    for i in range(rows.count()):
        assert "emergency" in rows.nth(i).locator(".badge").inner_text()
    assert "attention-emergency" in (rows.first.get_attribute("class") or "")
    page.screenshot(path=str(ARTIFACTS / "console-emergencies.png"), full_page=True)

    # open the newest emergency: the fictional SMS conversation, its number masked
    link = rows.first.locator("a.conv-link")
    assert link.inner_text().endswith("77") and "5550177" not in link.inner_text()
    link.click()
    page.wait_for_url("**/conversations/*")
    ref = page.url.rsplit("/", 1)[1]
    assert page.locator("li.msg.user").count() >= 2
    assert page.locator("li.decision code.rule", has_text="SS-HUNTER").count() >= 1
    assert "Not reviewed" in page.locator("#review-state").inner_text()

    # mark it reviewed
    page.click("#mark-reviewed")
    page.wait_for_url(f"**/conversations/{ref}?msg=reviewed")
    assert "Reviewed by ada.admin" in page.locator("#review-state").inner_text()
    page.screenshot(path=str(ARTIFACTS / "console-transcript.png"), full_page=True)

    # the audit log shows who reviewed it, and that they opened it
    page.goto(f"{console_url}/admin/audit")
    marked = page.locator("#audit tbody tr", has_text="review_mark")
    assert marked.count() == 1
    assert "ada.admin" in marked.inner_text() and ref in marked.inner_text()
    assert page.locator("#audit tbody tr", has_text="transcript_view").filter(has_text=ref).count() >= 1
    assert page.locator("#audit tbody tr", has_text="sign_in").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "console-audit.png"), full_page=True)

    # the dashboard chart renders from our own markup and CSS only
    page.goto(f"{console_url}/dashboard")
    assert page.locator("svg rect.bar").count() > 0
    page.screenshot(path=str(ARTIFACTS / "console-dashboard.png"), full_page=True)

    assert problems == []  # no CSP violation, no script error
    assert external == []  # nothing fetched from anywhere else
    context.close()
