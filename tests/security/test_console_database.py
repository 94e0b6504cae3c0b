"""Outside test of issue 8's last change, finding 4: the staff console survives a locked database.

`make run` starts the console under supervisord (scripts/supervisord.conf, `python -m
rasa_ext.logsafe console`). It migrated the schema at start and exited when the SQLite file was
locked, so supervisord restarted it in a loop. It must stay up and answer a clear 503 page ("the
database is unavailable, try again shortly") until the database is back, then serve normally;
a database locked while it runs gives the same 503, never a 500 or an exit.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import requests

import bot.db as db
from console import auth
from console.app import SESSION_COOKIE, create_app
from tests.console.helpers import PASSWORD, SECRET
from tests.e2e.stack import ROOT, free_port
from tests.security.server_helpers import sqlite_locked, wait_until

UNAVAILABLE = "The database is unavailable, try again shortly."


def get(url: str) -> tuple[int, str, dict]:
    try:
        resp = requests.get(url, timeout=10, allow_redirects=False)
    except requests.RequestException:
        return 0, "", {}
    return resp.status_code, resp.text, dict(resp.headers)


def test_console_started_on_a_locked_database_stays_up_with_503_until_it_is_back(tmp_path):
    db_file = tmp_path / "clonus.sqlite3"
    url = f"sqlite:///{db_file}"
    db.migrate(url)
    db.dispose_engines()
    port = free_port()
    env = dict(os.environ, DATABASE_URL=url, CONSOLE_PORT=str(port), CONSOLE_SECRET_KEY=SECRET,
               CONSOLE_COOKIE_SECURE="0", CLONUS_DB_TIMEOUT="0.5", RASA_TELEMETRY_ENABLED="false",
               PYTHONPATH=str(ROOT))
    log_file = (tmp_path / "console.log").open("w")
    with sqlite_locked(db_file):
        proc = subprocess.Popen([sys.executable, "-m", "rasa_ext.logsafe", "console"], cwd=ROOT, env=env,
                                stdout=log_file, stderr=subprocess.STDOUT)
        try:
            assert wait_until(lambda: get(f"http://127.0.0.1:{port}/login")[0] != 0 or proc.poll() is not None, 60)
            time.sleep(3)  # several retries of the migration while locked
            assert proc.poll() is None, "the console exited on a locked database"
            status, body, headers = get(f"http://127.0.0.1:{port}/login")
            assert status == 503 and UNAVAILABLE in body, (status, body[:300])
            assert headers.get("Retry-After")
        except BaseException:
            proc.kill()
            raise
    try:
        # The database is back: the console serves its pages again, without a restart.
        assert wait_until(lambda: get(f"http://127.0.0.1:{port}/login")[0] == 200, 60)
        assert proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(20)
        log_file.close()


def test_console_running_when_the_database_locks_answers_503_not_500(tmp_path, monkeypatch):
    monkeypatch.setenv("CLONUS_DB_TIMEOUT", "0.5")
    db_file = tmp_path / "clonus.sqlite3"
    url = f"sqlite:///{db_file}"
    db.dispose_engines()
    db.migrate(url)
    with db.session_scope(url) as s:
        user = auth.create_user(s, "locked-staff", PASSWORD, role="staff")
        token = auth.start_session(s, user)
    app = create_app(database_url=url, secret_key=SECRET, cookie_secure=False)
    client = app.test_client()
    client.set_cookie(SESSION_COOKIE, token)
    assert client.get("/conversations").status_code == 200
    try:
        with sqlite_locked(db_file):
            # pages that must write their audit entry cannot be served while another process
            # holds the write lock ...
            for path in ("/conversations", "/appointments"):
                page = client.get(path)
                assert page.status_code == 503, (path, page.status_code)
                assert UNAVAILABLE in page.text and page.headers.get("Retry-After")
            # ... a page that writes nothing reads in a read transaction (WAL), which the lock does not block
            assert client.get("/dashboard").status_code == 200
        assert client.get("/conversations").status_code == 200
    finally:
        db.dispose_engines()
