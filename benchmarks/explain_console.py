"""The SQL time of the console's pages on a seeded PostgreSQL database (bench_console.py --pg-database):
each page's statements, as the console's own functions issue them, run again under
EXPLAIN (ANALYZE, BUFFERS); the figure is the sum of their "Execution Time" over one page view
(median of --repeat views), with the shared buffers hit and read.

    .venv/bin/python benchmarks/explain_console.py --pg-database bench_console_h11c
    .venv/bin/python benchmarks/explain_console.py --pg-database bench_console_h11c --plans ankle

The statements are captured at the cursor (SQLAlchemy's before_cursor_execute) while the page's
function runs in a read transaction, so they are exactly what a page view sends (the session
check and the audit insert excepted: a primary-key look-up each). Nothing is written.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bot.db as db  # noqa: E402
from bot.db.models import ConversationSummary  # noqa: E402
from console import conversations as conv  # noqa: E402

UTC = timezone.utc  # noqa: UP017
PG_ADMIN = os.environ.get("CLONUS_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
WORDS = ("zoloft", "ankle", "phenelzine", "worry")


def pages(refs: list[str], words: tuple[str, ...], extra: bool) -> dict:
    """name -> function(session) doing what the page's view does in the database."""
    since = (datetime.now(UTC) - timedelta(days=20)).date()
    rng = random.Random(11)

    def listing(page: int = 1, **filters: object):
        def run(s):  # type: ignore[no-untyped-def]
            conv.list_conversations(s, conv.Filters(**filters), UTC, page)
            conv.channels(s)

        return run

    out = {
        "list": listing(),
        "list filtered (emergency, not reviewed)": listing(level="emergency", reviewed=False),
        **{f"list text search '{w}'": listing(q=w) for w in words},
        "list rule + date range": listing(rule_id="SS-HUNTER", date_from=since),
        "list page 100": listing(page=100),
        "transcript": lambda s: conv.transcript(s, rng.choice(refs)),
        "dashboard": lambda s: conv.dashboard(s, UTC),
    }
    if extra:  # searches with other filters, and further pages
        for w in words:
            out[f"  '{w}' + emergency"] = listing(q=w, level="emergency")
            out[f"  '{w}' + not reviewed"] = listing(q=w, reviewed=False)
            out[f"  '{w}' + twilio"] = listing(q=w, channel="twilio")
            out[f"  '{w}' page 2"] = listing(2, q=w)
            out[f"  '{w}' page 20"] = listing(20, q=w)
    return out


def explain(url: str, repeat: int, plans: str | None, words: tuple[str, ...], extra: bool) -> dict:
    engine = db.get_engine(url)
    captured: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):  # type: ignore[no-untyped-def]
        captured.append((statement, parameters))

    with db.session_scope(url, write=False) as s:
        refs = [r for (r,) in s.execute(sa.select(ConversationSummary.ref).limit(5000))]
    results: dict = {}
    for name, run in pages(refs, words, extra).items():
        views = []
        for _ in range(repeat):
            captured.clear()
            event.listen(engine, "before_cursor_execute", capture)
            try:
                with db.session_scope(url, write=False) as s:
                    run(s)
            finally:
                event.remove(engine, "before_cursor_execute", capture)
            statements = list(captured)
            total, hit, read = 0.0, 0, 0
            per_statement = []
            with engine.connect() as conn:
                for statement, parameters in statements:
                    plan = conn.exec_driver_sql(
                        "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters or {}
                    ).scalar_one()
                    plan = plan if isinstance(plan, list) else json.loads(plan)
                    top = plan[0]
                    ms = float(top["Execution Time"]) + float(top.get("Planning Time", 0))
                    total += ms
                    hit += int(top["Plan"].get("Shared Hit Blocks", 0))
                    read += int(top["Plan"].get("Shared Read Blocks", 0))
                    per_statement.append(round(ms, 2))
                    if plans and plans in name and len(views) == 0:
                        text = conn.exec_driver_sql(
                            "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters or {}
                        ).scalars()
                        print(f"--- {name}\n" + statement + "\n" + "\n".join(text) + "\n", flush=True)
                conn.rollback()
            views.append((total, hit, read, per_statement))
        views.sort(key=lambda v: v[0])
        mid = views[len(views) // 2]
        results[name] = {
            "statements": len(mid[3]),
            "sql_ms_median": round(statistics.median(v[0] for v in views), 1),
            "sql_ms_max": round(max(v[0] for v in views), 1),
            "shared_hit": mid[1],
            "shared_read": mid[2],
            "per_statement_ms": mid[3],
        }
    return results


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pg-database", required=True, metavar="NAME", help="a database seeded by bench_console.py")
    p.add_argument("--repeat", type=int, default=5, help="page views per page (median reported)")
    p.add_argument("--plans", metavar="TEXT", help="also print the plans of the pages whose name holds TEXT")
    p.add_argument("--words", help="comma-separated search words (default: the benchmark's four)")
    p.add_argument("--extra", action="store_true", help="also each word with a filter, and pages 2 and 20")
    args = p.parse_args()
    words = tuple(args.words.split(",")) if args.words else WORDS
    url = sa.engine.make_url(PG_ADMIN).set(database=args.pg_database).render_as_string(hide_password=False)
    results = explain(url, args.repeat, args.plans, words, args.extra)
    load = os.getloadavg()
    print(f"load average: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print(f"{'page':<42} {'stmts':>5} {'SQL ms':>8} {'max':>8} {'hit':>7} {'read':>6}  per statement (ms)")
    for name, r in results.items():
        print(
            f"{name:<42} {r['statements']:>5} {r['sql_ms_median']:>8} {r['sql_ms_max']:>8} "
            f"{r['shared_hit']:>7} {r['shared_read']:>6}  {r['per_statement_ms']}"
        )
    out = ROOT / "results"
    out.mkdir(exist_ok=True)
    (out / "explain_console.json").write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
