"""Live alerts in real headless Chromium (issue 11): two staff members are signed in; an emergency
conversation is stored the way Rasa's SQL tracker store writes it; the real consumer process
(`python -m console.consumer`, catch-up mode as in `make run`) records the alert; both banners show
it within 2 s; one acknowledges it, the other's banner clears, the audit log has the acknowledgement."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

import bot.db as db
from bot.db.models import Alert, AuditLog
from bot.db.tracker import create_events_table
from console import auth, demo
from console.app import create_app
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
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    from waitress.server import create_server

    tmp = tmp_path_factory.mktemp("alerts")
    url = f"sqlite:///{tmp / 'console.sqlite3'}"
    db.migrate(url)
    create_events_table(db.get_engine(url))
    with db.get_engine(url).begin() as conn:
        demo.seed(conn, 30, 600, now=datetime.now(UTC) - timedelta(days=1), days=5)  # history: no alerts
    with db.session_scope(url) as s:
        auth.create_user(s, "sam.staff", PASSWORD, "staff")
        auth.create_user(s, "ada.admin", PASSWORD, "admin")
    env = {**os.environ, "DATABASE_URL": url, "RABBITMQ_HOST": "", "PYTHONPATH": str(ROOT)}
    log = open(tmp / "consumer.log", "wb")  # noqa: SIM115
    consumer = subprocess.Popen(
        [sys.executable, "-m", "console.consumer"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    app = create_app(database_url=url, secret_key="browser-test-" + "k" * 40, cookie_secure=True, timezone_=UTC)
    port = _free_port()
    server = create_server(app, host="127.0.0.1", port=port, threads=6)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while b"catching up" not in (tmp / "consumer.log").read_bytes():
            assert consumer.poll() is None and time.monotonic() < deadline, (tmp / "consumer.log").read_text()
            time.sleep(0.2)
        yield {"url": f"http://127.0.0.1:{port}", "db": url, "consumer": consumer}
    finally:
        consumer.terminate()
        consumer.wait(timeout=15)
        log.close()
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


def _signed_in(browser, base: str, username: str, path: str, problems: list[str]):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/conversations")
    page.goto(f"{base}{path}")
    return context, page


def test_an_emergency_reaches_every_signed_in_banner_within_2_s(browser, stack) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    base = stack["url"]
    problems: list[str] = []
    ctx_a, staff = _signed_in(browser, base, "sam.staff", "/conversations", problems)
    ctx_b, admin = _signed_in(browser, base, "ada.admin", "/dashboard", problems)
    for page in (staff, admin):
        page.wait_for_timeout(300)  # the stream is open
        assert page.locator("#alerts").is_hidden()
        assert page.locator("#alerts .alert-item").count() == 0

    # the patient's emergency turn, stored as Rasa's SQL tracker store stores it
    now = datetime.now(UTC)
    rows = demo.conversation_events("+15555550188", now - timedelta(seconds=2), demo.SCENARIOS[0], "twilio")
    shift = now.timestamp() - max(r["timestamp"] for r in rows)  # the emergency turn happens now
    for r in rows:
        r["timestamp"] += shift
        r["data"] = r["data"].replace(repr(r["timestamp"] - shift), repr(r["timestamp"]))
    started = time.monotonic()
    with db.get_engine(stack["db"]).begin() as conn:
        demo.insert_events(conn, rows)
    staff.wait_for_selector("#alerts .alert-item.lvl-emergency", timeout=2000)
    admin.wait_for_selector("#alerts .alert-item.lvl-emergency", timeout=2000)
    elapsed = time.monotonic() - started
    assert elapsed < 2.0, elapsed
    item = staff.locator("#alerts .alert-item")
    assert item.count() == 1
    text = item.inner_text()
    assert "EMERGENCY" in text and "SS-HUNTER" in text and "5550188" not in text  # masked for staff
    staff.screenshot(path=str(ARTIFACTS / "console-alert.png"), full_page=True)

    # the banner's link opens the conversation
    href = item.locator("a").get_attribute("href")
    assert href and href.startswith("/conversations/")

    # one acknowledgement clears it for everyone
    staff.click("#alerts .alert-ack")
    staff.wait_for_selector("#alerts .alert-item", state="detached", timeout=2000)
    admin.wait_for_selector("#alerts .alert-item", state="detached", timeout=2000)
    assert admin.locator("#alerts").is_hidden()
    # and it stays gone on the next page
    staff.goto(f"{base}/appointments")
    staff.wait_for_timeout(500)
    assert staff.locator("#alerts .alert-item").count() == 0

    with db.session_scope(stack["db"], write=False) as s:
        (alert,) = s.execute(sa.select(Alert).where(Alert.conversation_id == "+15555550188")).scalars()
        assert alert.acknowledged_by == "sam.staff"
        acks = list(s.execute(sa.select(AuditLog).where(AuditLog.action == "alert_ack")).scalars())
        assert [(a.actor, a.target) for a in acks] == [("sam.staff", f"alert:{alert.id}")]
        streams = s.execute(sa.select(sa.func.count()).select_from(AuditLog).where(AuditLog.action == "alerts_stream")).scalar_one()
        assert streams >= 2
    assert stack["consumer"].poll() is None
    assert problems == []
    ctx_a.close()
    ctx_b.close()
