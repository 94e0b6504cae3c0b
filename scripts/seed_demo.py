"""Fill a database with fictional conversations (Rasa events), triage assessments and appointment
requests, to try the staff console without real patients:

    .venv/bin/python scripts/seed_demo.py --conversations 300            # DATABASE_URL (default SQLite)

Refuses to touch a database that already holds conversations unless --force is given. Everything
it writes is invented (555-01xx numbers, names like "Alex Example").
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bot.db as db  # noqa: E402
from bot.db.tracker import create_events_table, events  # noqa: E402
from console import conversations as conv  # noqa: E402
from console import demo  # noqa: E402

UTC = timezone.utc  # noqa: UP017


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database-url", default=None)
    p.add_argument("--conversations", type=int, default=300)
    p.add_argument("--days", type=int, default=21)
    p.add_argument("--force", action="store_true", help="add to a database that already has conversations")
    args = p.parse_args()
    db.migrate(args.database_url)
    engine = db.get_engine(args.database_url)
    create_events_table(engine)
    with engine.connect() as conn:
        existing = conn.execute(sa.select(sa.func.count()).select_from(events)).scalar_one()
    if existing and not args.force:
        print(f"the database already holds {existing} events; use --force to add demo data anyway")
        return 1
    now = datetime.now(UTC)
    with engine.begin() as conn:
        made = demo.seed(conn, args.conversations, args.conversations * 20, now=now, days=args.days)
    for i, (sender, scenario, _channel) in enumerate(made["conversations"]):
        if scenario.name.endswith("booking"):
            db.record_appointment_request(
                sender,
                demo.NAMES[i % len(demo.NAMES)],
                f"+1555555{100 + i % 100:04d}",
                now + timedelta(days=1 + i % 7),
                "clonus that lasts many seconds",
                scenario.level,
                url=args.database_url,
            )
    conv.sync_summaries(args.database_url)
    print(f"added {len(made['conversations'])} conversations ({made['events']} events)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
