"""Staff console latency with 10,000 conversations and 200,000 Rasa events, on SQLite and PostgreSQL,
and the throughput of the console's consumer (console.consumer) applying broker events.

Seeds a throwaway database per backend (fictional conversations written as Rasa 3.6 tracker
events), serves the console with waitress on a free local port, signs in over HTTP and times real
requests: the conversation list (plain, filtered, deep page), transcripts, dashboard.

    .venv/bin/python benchmarks/bench_console.py                       # both backends
    .venv/bin/python benchmarks/bench_console.py --backend sqlite --conversations 2000 --events 40000

PostgreSQL comes from CLONUS_BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test);
a database clonus_bench_<random> is created there and dropped at the end. Figures go to stdout
(and to results/bench_console.json); nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import re
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bot.db as db  # noqa: E402
from bot.db.models import ConversationReview, ConversationSummary  # noqa: E402
from bot.db.tracker import create_events_table  # noqa: E402
from console import auth, demo  # noqa: E402
from console import conversations as conv  # noqa: E402
from console.app import create_app  # noqa: E402
from console.consumer import Consumer, parse_message  # noqa: E402

UTC = timezone.utc  # noqa: UP017
PG_ADMIN = os.environ.get("CLONUS_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
PASSWORD = "benchmark passphrase"  # noqa: S105  (throwaway user in a throwaway database)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def seed(url: str, n_conv: int, n_events: int) -> dict:
    figures: dict = {}
    t = time.perf_counter()
    db.migrate(url)
    engine = db.get_engine(url)
    create_events_table(engine)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        made = demo.seed(conn, n_conv, n_events, now=now, days=60)
    figures["events"] = made["events"]
    figures["seed_s"] = round(time.perf_counter() - t, 1)
    rng = random.Random(3)
    for sender, scenario, _channel in made["conversations"][: n_conv // 20]:
        if scenario.level:
            db.record_assessment(sender, scenario.level, list(scenario.rule_ids), list(scenario.reasons), [], url=url)
    for sender, scenario, _channel in made["conversations"][: n_conv // 50]:
        db.record_appointment_request(
            sender, "Alex Example", "+15555550100", now + timedelta(days=3), "clonus", scenario.level, url=url
        )
    t = time.perf_counter()
    conv.sync_summaries(url)
    figures["first_summary_sync_s"] = round(time.perf_counter() - t, 1)
    with db.session_scope(url) as s:
        auth.create_user(s, "bench.admin", PASSWORD, "admin")
        ids = [c for (c,) in s.execute(sa.select(ConversationSummary.conversation_id))]
        for cid in rng.sample(ids, len(ids) // 3):
            s.add(ConversationReview(conversation_id=cid, reviewed=True, reviewed_by="bench.admin", reviewed_at=now))
    with db.session_scope(url, write=False) as s:
        figures["conversations"] = s.execute(sa.select(sa.func.count()).select_from(ConversationSummary)).scalar_one()
    if engine.dialect.name == "postgresql":
        _vacuum_analyze(url)
    return figures


def measure(url: str, rounds: int) -> dict:
    from waitress.server import create_server

    # one user sends every request of the benchmark: lift the per-user rate limit for this process only
    os.environ.setdefault("CONSOLE_RATELIMIT_USER", "1000000/minute")
    app = create_app(database_url=url, secret_key="bench-" + "k" * 40, cookie_secure=False, timezone_=UTC)
    port = _free_port()
    server = create_server(app, host="127.0.0.1", port=port, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    http = requests.Session()
    try:
        page = http.get(f"{base}/login", timeout=30)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        resp = http.post(
            f"{base}/login",
            data={"username": "bench.admin", "password": PASSWORD, "csrf_token": token},
            allow_redirects=False,
            timeout=30,
        )
        assert resp.status_code == 302, resp.status_code
        with db.session_scope(url, write=False) as s:
            refs = [r for (r,) in s.execute(sa.select(ConversationSummary.ref))]
        rng = random.Random(11)
        kinds = {
            "list": lambda: "/conversations",
            "list filtered (emergency, not reviewed)": lambda: "/conversations?level=emergency&reviewed=no",
            "list text search": lambda: "/conversations?q=" + rng.choice(["zoloft", "ankle", "phenelzine", "worry"]),
            "list rule + date range": lambda: (
                "/conversations?rule=SS-HUNTER&from=" + (datetime.now(UTC) - timedelta(days=20)).date().isoformat()
            ),
            "list page 100": lambda: "/conversations?page=100",
            "transcript": lambda: "/conversations/" + rng.choice(refs),
            "dashboard": lambda: "/dashboard",
        }
        for path in ("/conversations", "/conversations/" + refs[0], "/dashboard"):  # warm-up
            http.get(base + path, timeout=30)
        out: dict = {}

        def figures(times: list[float]) -> dict:
            return {
                "n": len(times),
                "p50_ms": round(statistics.median(times), 1),
                "p95_ms": round(_pct(times, 95), 1),
                "max_ms": round(max(times), 1),
            }

        for name, make_path in kinds.items():
            # the search mixes four words: as many requests as the list, so that each word gets ~rounds/4
            n = rounds if name in ("list", "transcript", "list text search") else max(rounds // 4, 10)
            times = []
            by_q: dict[str, list[float]] = {}
            for _ in range(n):
                path = make_path()
                t = time.perf_counter()
                r = http.get(base + path, timeout=60)
                times.append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200, (path, r.status_code)
                if "?q=" in path:
                    by_q.setdefault(path.split("?q=", 1)[1], []).append(times[-1])
            out[name] = figures(times)
            for word, word_times in sorted(by_q.items()):
                out[f"  q={word}"] = figures(word_times)
        t = time.perf_counter()
        r = http.get(base + "/export.csv?level=emergency", timeout=120)
        out["export csv (emergencies)"] = {
            "n": 1,
            "ms": round((time.perf_counter() - t) * 1000, 1),
            "bytes": len(r.content),
        }
        return out
    finally:
        http.close()  # close keep-alive connections before the server, or waitress logs a bad descriptor
        time.sleep(0.2)
        server.close()
        thread.join(timeout=5)


def measure_consumer(url: str, n_conv: int) -> dict:
    """Broker events as Rasa publishes them, after the tracker store committed them
    (rasa_ext/tracker_store.py), applied the way the consumer's broker loop applies them (batches
    of up to 500 messages, one transaction each: each event checked against the stored ones, each
    conversation recomputed from them), then caught up (the catch-up finds each one applied)."""
    now = datetime.now(UTC)
    rows: list[dict] = []
    rng = random.Random(5)
    for i in range(n_conv):
        scenario = demo.SCENARIOS[i % len(demo.SCENARIOS)]
        rows += demo.conversation_events(f"bench-live-{i}", now - timedelta(minutes=30), scenario, "rest", rng=rng)
    bodies = [json.dumps({"sender_id": r["sender_id"], **json.loads(r["data"])}).encode() for r in rows]
    with db.get_engine(url).begin() as conn:
        demo.insert_events(conn, rows)
    consumer = Consumer(url)
    t = time.perf_counter()
    for i in range(0, len(bodies), 500):
        senders = set()
        for body in bodies[i : i + 500]:
            parsed = parse_message(body)
            consumer.add(*parsed)
            senders.add(parsed[0])
        consumer.apply(senders)
    applied_s = time.perf_counter() - t
    t = time.perf_counter()
    consumer.catch_up()
    catch_up_s = time.perf_counter() - t
    t = time.perf_counter()
    consumer.catch_up()
    idle_ms = (time.perf_counter() - t) * 1000
    return {
        "broker_events": len(bodies),
        "conversations": n_conv,
        "broker_events_per_s": round(len(bodies) / applied_s),
        "not_stored": consumer.not_stored,
        "catch_up_after_store_s": round(catch_up_s, 2),
        "idle_catch_up_ms": round(idle_ms, 1),
    }


def _seeded(url: str, n_conv: int) -> bool:
    """Whether `url` holds a finished seed of at least `n_conv` conversations (its staff user is
    the seed's last step)."""
    engine = sa.create_engine(url, future=True)
    try:
        with engine.connect() as conn:
            insp = sa.inspect(conn)
            if not (insp.has_table("clonus_staff_user") and insp.has_table("clonus_conversation")):
                return False
            user = conn.execute(sa.text("SELECT 1 FROM clonus_staff_user WHERE username = 'bench.admin'")).first()
            n = conn.execute(sa.text("SELECT count(*) FROM clonus_conversation")).scalar_one()
            return bool(user) and n >= 0.99 * n_conv  # the seed's random senders can repeat a few
    finally:
        engine.dispose()


def reuse_seeded(url: str) -> dict:
    """A database seeded by an earlier run: brought to the current schema, summaries caught up,
    statistics refreshed."""
    t = time.perf_counter()
    db.migrate(url)
    figures: dict = {"migrate_s": round(time.perf_counter() - t, 1), "reused": True}
    conv.sync_summaries(url)
    _vacuum_analyze(url)
    with db.get_engine(url).connect() as conn:
        figures["conversations"] = conn.execute(sa.text("SELECT count(*) FROM clonus_conversation")).scalar_one()
        figures["events"] = conn.execute(sa.text("SELECT count(*) FROM events")).scalar_one()
    return figures


def _vacuum_analyze(url: str) -> None:
    """VACUUM (ANALYZE) the console's tables, as autovacuum does on a database that has been running
    a while: statistics for the planner, and the visibility map that lets counts read an index
    alone (a freshly seeded table has none, and autovacuum has not come round yet)."""
    engine = sa.create_engine(url, future=True, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE)")
    finally:
        engine.dispose()


def _drop_live(url: str) -> None:
    """Remove the consumer measurement's conversations (bench-live-*), so that a reused database
    keeps its seeded size from one run to the next."""
    like = "bench-live-%"
    with db.get_engine(url).begin() as conn:
        conn.execute(sa.text("DELETE FROM events WHERE sender_id LIKE :p"), {"p": like})
        for table in ("clonus_conversation_text", "clonus_conversation", "clonus_alert"):
            conn.execute(sa.text(f"DELETE FROM {table} WHERE conversation_id LIKE :p"), {"p": like})  # noqa: S608


def run_backend(backend: str, args: argparse.Namespace) -> dict:
    reuse = False
    if backend == "sqlite":
        tmp = tempfile.mkdtemp(prefix="clonus_bench_")
        url = f"sqlite:///{tmp}/bench.sqlite3"

        def cleanup() -> None:
            db.dispose_engines()
            shutil.rmtree(tmp, ignore_errors=True)

    else:
        name = args.pg_database or f"clonus_bench_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(PG_ADMIN, future=True, isolation_level="AUTOCOMMIT")
        url = sa.engine.make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
            reuse = bool(exists) and _seeded(url, args.conversations)
            if exists and not reuse:  # a seed that stopped half-way, or a smaller one: start again
                conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
            if not reuse:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

        def cleanup() -> None:  # type: ignore[no-redef]
            db.dispose_engines()
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()

    try:
        if reuse:
            print(f"[{backend}] reusing {name} (seeded before); migrating and analysing ...", flush=True)
            figures = reuse_seeded(url)
        else:
            print(f"[{backend}] seeding {args.conversations} conversations / ~{args.events} events ...", flush=True)
            figures = seed(url, args.conversations, args.events)
        print(f"[{backend}] seeded: {figures}", flush=True)
        figures["requests"] = measure(url, args.rounds)
        if args.consumer_conversations:
            print(f"[{backend}] consumer: {args.consumer_conversations} new conversations by the broker ...", flush=True)
            if args.pg_database and backend == "postgresql":
                _drop_live(url)  # left by an earlier run that stopped half-way
            figures["consumer"] = measure_consumer(url, args.consumer_conversations)
            print(f"[{backend}] consumer: {figures['consumer']}", flush=True)
        return figures
    finally:
        if args.pg_database and backend == "postgresql":
            _drop_live(url)
            db.dispose_engines()
            admin.dispose()
        elif not args.keep:
            cleanup()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    p.add_argument("--conversations", type=int, default=10_000)
    p.add_argument("--events", type=int, default=200_000)
    p.add_argument("--rounds", type=int, default=200, help="requests for the list and for transcripts")
    p.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    p.add_argument(
        "--pg-database",
        metavar="NAME",
        help="PostgreSQL database to use and keep: created and seeded if it is not yet, reused (migrated, "
        "analysed, not re-seeded) if it already holds --conversations conversations",
    )
    p.add_argument(
        "--consumer-conversations", type=int, default=2000, help="new conversations fed through the consumer (0: skip)"
    )
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    results = {b: run_backend(b, args) for b in backends}
    load = os.getloadavg()
    print(f"\nload average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} CPUs")
    print()
    print(f"{'backend':<11} {'page':<42} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for backend, figures in results.items():
        for name, r in figures["requests"].items():
            if "p95_ms" in r:
                print(f"{backend:<11} {name:<42} {r['n']:>4} {r['p50_ms']:>8} {r['p95_ms']:>8} {r['max_ms']:>8}")
            else:
                print(f"{backend:<11} {name:<42} {r['n']:>4} {r['ms']:>8}")
    out = ROOT / "results"
    out.mkdir(exist_ok=True)
    (out / "bench_console.json").write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
