"""Command line for the staff console (run on the server by whoever administers it):

    python -m console.cli migrate
    python -m console.cli create-user NAME [--role admin] [--password-stdin]
    python -m console.cli set-password NAME [--password-stdin]
    python -m console.cli disable-user NAME | enable-user NAME | list-users
    python -m console.cli purge --days 365          (retention; default CLONUS_RETENTION_DAYS)
    python -m console.cli export --format csv|json [--output FILE] [filters]

Passwords are read without echo (getpass) or, with --password-stdin, from the first line of stdin.
Every change is written to the audit log as `cli:<login name>`.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from datetime import timezone
from typing import Sequence

import sqlalchemy as sa

import bot.db
from bot.db import session_scope
from bot.db.models import ROLES, StaffUser
from bot.db.repository import audit
from console import auth, export, params
from console import conversations as conv

UTC = timezone.utc  # noqa: UP017  (Python 3.10)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != first:
        raise SystemExit("error: the passwords differ")
    return first


def _user(s: sa.orm.Session, username: str) -> StaffUser:
    user = s.execute(
        sa.select(StaffUser).where(StaffUser.username == auth.normalise_username(username))
    ).scalar_one_or_none()
    if user is None:
        raise SystemExit(f"error: no user {username!r}")
    return user


def cmd_migrate(args: argparse.Namespace) -> int:
    bot.db.migrate(args.database_url)
    print(f"database at revision {bot.db.current_revision(args.database_url)}")
    return 0


def cmd_create_user(args: argparse.Namespace) -> int:
    password = _read_password(args.password_stdin)
    try:
        with session_scope(args.database_url) as s:
            user = auth.create_user(s, args.username, password, args.role)
            audit(s, _actor(), "user_create", f"user:{user.username}", {"role": user.role})
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from None
    print(f"created {args.role} {auth.normalise_username(args.username)!r}")
    return 0


def cmd_set_password(args: argparse.Namespace) -> int:
    password = _read_password(args.password_stdin)
    try:
        with session_scope(args.database_url) as s:
            user = _user(s, args.username)
            auth.set_password(s, user, password)
            audit(s, _actor(), "user_set_password", f"user:{user.username}")
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from None
    print(f"password of {auth.normalise_username(args.username)!r} changed; their sessions ended")
    return 0


def _set_active(args: argparse.Namespace, active: bool) -> int:
    with session_scope(args.database_url) as s:
        user = _user(s, args.username)
        auth.set_active(s, user, active)
        audit(s, _actor(), "user_enable" if active else "user_disable", f"user:{user.username}")
    print(f"{'enabled' if active else 'disabled'} {args.username!r}")
    return 0


def cmd_list_users(args: argparse.Namespace) -> int:
    with session_scope(args.database_url, write=False) as s:
        for u in s.execute(sa.select(StaffUser).order_by(StaffUser.username)).scalars():
            state = "active" if u.is_active else "disabled"
            print(f"{u.username}\t{u.role}\t{state}")
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    days = args.days or int(os.environ.get("CLONUS_RETENTION_DAYS", "0") or 0)
    if days < 1:
        raise SystemExit("error: give --days N or set CLONUS_RETENTION_DAYS")
    n = conv.purge_older_than(args.database_url, days)
    with session_scope(args.database_url) as s:
        audit(s, _actor(), "purge", None, {"older_than_days": days, "conversations": n})
    print(f"purged {n} conversations older than {days} days")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    try:
        f = conv.Filters.from_args(
            {
                "from": args.date_from,
                "to": args.date_to,
                "channel": args.channel,
                "level": args.level,
                "rule": args.rule,
                "reviewed": args.reviewed,
                "q": args.q,
            }
        )
    except params.ParamError as exc:
        raise SystemExit(f"error: {exc}") from None
    conv.sync_summaries(args.database_url)
    with session_scope(args.database_url) as s:
        rows = conv.iter_filtered(s, f, UTC)
        filters = f.for_audit(os.environ.get("CONSOLE_SECRET_KEY") or None)
        audit(s, _actor(), "export", None, {"format": args.format, "filters": filters, "rows": len(rows)})
    records = export.records(rows, None)
    out = open(args.output, "w", newline="", encoding="utf-8") if args.output else sys.stdout
    try:
        if args.format == "json":
            json.dump({"conversations": records}, out, ensure_ascii=False, indent=1)
            out.write("\n")
        else:
            export.write_csv(records, out)
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m console.cli", description="clonus staff console administration")
    p.add_argument("--database-url", default=None, help="SQLAlchemy URL (default: DATABASE_URL)")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="upgrade the database schema").set_defaults(func=cmd_migrate)
    c = sub.add_parser("create-user", help="add a staff user")
    c.add_argument("username")
    c.add_argument("--role", choices=ROLES, default="staff")
    c.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    c.set_defaults(func=cmd_create_user)
    sp = sub.add_parser("set-password", help="change a staff user's password (ends their sessions)")
    sp.add_argument("username")
    sp.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    sp.set_defaults(func=cmd_set_password)
    for name, active in (("disable-user", False), ("enable-user", True)):
        d = sub.add_parser(name, help=f"{name.split('-')[0]} a staff user")
        d.add_argument("username")
        d.set_defaults(func=lambda a, active=active: _set_active(a, active))
    sub.add_parser("list-users").set_defaults(func=cmd_list_users)
    pr = sub.add_parser("purge", help="delete conversations older than the retention period")
    pr.add_argument("--days", type=int, default=None)
    pr.set_defaults(func=cmd_purge)
    e = sub.add_parser("export", help="export the (filtered) conversation list")
    e.add_argument("--format", choices=("csv", "json"), default="csv")
    e.add_argument("--output", "-o")
    e.add_argument("--from", dest="date_from")
    e.add_argument("--to", dest="date_to")
    e.add_argument("--channel")
    e.add_argument("--level")
    e.add_argument("--rule")
    e.add_argument("--reviewed", choices=("yes", "no"))
    e.add_argument("--q")
    e.set_defaults(func=cmd_export)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
