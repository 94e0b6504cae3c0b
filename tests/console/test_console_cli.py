"""The administration command line: users (password without echo or from stdin), migrations,
retention purge, export."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

import bot.db as db
from bot.db.models import AuditLog, ConversationSummary, StaffUser
from bot.db.tracker import events
from console import auth, cli

ROOT = Path(__file__).resolve().parents[2]


def _user(db_url: str, name: str) -> StaffUser | None:
    with db.session_scope(db_url, write=False) as s:
        user = s.execute(sa.select(StaffUser).where(StaffUser.username == name)).scalar_one_or_none()
        if user is not None:
            s.expunge(user)
        return user


def _audit_actions(db_url: str) -> list[tuple[str, str]]:
    with db.session_scope(db_url, write=False) as s:
        return [(a.actor, a.action) for a in s.execute(sa.select(AuditLog).order_by(AuditLog.id)).scalars()]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migrate_and_create_first_admin_in_a_real_process(fresh_db_url, backend: str) -> None:
    url = fresh_db_url(backend, migrate=False, with_events=False)
    run = lambda *args, stdin=None: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "console.cli", "--database-url", url, *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    done = run("migrate")
    assert done.returncode == 0, done.stderr
    assert db.current_revision(url) is not None
    secret = "first admin passphrase"
    done = run("create-user", "Ada.Admin", "--role", "admin", "--password-stdin", stdin=secret + "\n")
    assert done.returncode == 0, done.stderr
    assert secret not in done.stdout + done.stderr
    user = _user(url, "ada.admin")
    assert user is not None and user.role == "admin" and auth.verify_password(user.password_hash, secret)
    again = run("create-user", "ada.admin", "--password-stdin", stdin=secret + "\n")
    assert again.returncode != 0 and "exists already" in again.stderr


def test_password_prompt_without_echo(db_url, db_connection, monkeypatch) -> None:
    answers = iter(["prompted passphrase", "prompted passphrase"])
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt="": next(answers))
    assert cli.main(["--database-url", db_url, "create-user", "nia", "--role", "staff"]) == 0
    assert auth.verify_password(_user(db_url, "nia").password_hash, "prompted passphrase")


def test_password_prompt_must_match(db_url, db_connection, monkeypatch) -> None:
    answers = iter(["prompted passphrase", "different passphrase"])
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt="": next(answers))
    with pytest.raises(SystemExit, match="differ"):
        cli.main(["--database-url", db_url, "create-user", "nia"])
    assert _user(db_url, "nia") is None


def test_weak_password_is_refused(db_url, db_connection, monkeypatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    with pytest.raises(SystemExit, match="at least 12"):
        cli.main(["--database-url", db_url, "create-user", "nia", "--password-stdin"])


def test_disable_and_enable(db_url, db_connection, monkeypatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long enough passphrase\n"))
    cli.main(["--database-url", db_url, "create-user", "omar", "--password-stdin"])
    cli.main(["--database-url", db_url, "disable-user", "omar"])
    assert _user(db_url, "omar").is_active is False
    cli.main(["--database-url", db_url, "enable-user", "omar"])
    assert _user(db_url, "omar").is_active is True
    actions = [a for _, a in _audit_actions(db_url)]
    assert actions == ["user_create", "user_disable", "user_enable"]
    assert all(actor.startswith("cli") for actor, _ in _audit_actions(db_url))
    with pytest.raises(SystemExit, match="no user"):
        cli.main(["--database-url", db_url, "disable-user", "nobody"])


def test_purge_removes_old_conversations_only(db_url, db_connection, seeded, capsys) -> None:
    old = seeded["ids"]["E"]  # 40 days old
    assert cli.main(["--database-url", db_url, "purge", "--days", "30"]) == 0
    assert "purged 1 conversations" in capsys.readouterr().out
    with db.session_scope(db_url, write=False) as s:
        senders = {sid for (sid,) in s.execute(sa.select(events.c.sender_id).distinct())}
        summaries = {cid for (cid,) in s.execute(sa.select(ConversationSummary.conversation_id))}
    assert old not in senders and old not in summaries
    assert senders == summaries == {v for k, v in seeded["ids"].items() if k != "E"}
    assert "purge" in [a for _, a in _audit_actions(db_url)]


def test_purge_removes_the_sms_pages_of_old_conversations(db_url, db_connection, seeded) -> None:
    from datetime import timedelta

    from bot.db.models import SmsMorePage

    old, recent = seeded["ids"]["E"], seeded["ids"]["D"]
    for sender in (old, recent):
        db.save_sms_pages(sender, ["the rest of a long reply"], timedelta(days=90), db_url)
    assert cli.main(["--database-url", db_url, "purge", "--days", "30"]) == 0
    with db.session_scope(db_url, write=False) as s:
        left = set(s.execute(sa.select(SmsMorePage.conversation_id)).scalars())
    assert left == {recent}


def test_purge_needs_a_period(db_url, db_connection, monkeypatch) -> None:
    monkeypatch.delenv("CLONUS_RETENTION_DAYS", raising=False)
    with pytest.raises(SystemExit, match="--days"):
        cli.main(["--database-url", db_url, "purge"])
    monkeypatch.setenv("CLONUS_RETENTION_DAYS", "3650")
    assert cli.main(["--database-url", db_url, "purge"]) == 0


def test_export_to_files(db_url, db_connection, seeded, tmp_path) -> None:
    out = tmp_path / "emergencies.csv"
    cli.main(["--database-url", db_url, "export", "--format", "csv", "--level", "emergency", "-o", str(out)])
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert {r["ref"] for r in rows} == {seeded["refs"]["A"], seeded["refs"]["C"]}
    assert "5550123" not in out.read_text(encoding="utf-8")
    out = tmp_path / "all.json"
    cli.main(["--database-url", db_url, "export", "--format", "json", "-o", str(out)])
    assert len(json.loads(out.read_text(encoding="utf-8"))["conversations"]) == 6
    assert [a for _, a in _audit_actions(db_url)].count("export") == 2
