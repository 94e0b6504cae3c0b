"""Load with faults, measured (issue 11): N concurrent conversations x T turns on the widget and the
signed SMS channel, of which P conversations send two messages at the same moment, while one Rasa
server and one action server are killed (SIGKILL) and restarted mid-run. Reports p50/p95 turn
latency and throughput, turns that got no reply, and counts in PostgreSQL: lost, duplicated and
reordered user messages (each must be 0), and the same in the console's tables once its consumer caught up.

    # the cluster shape (scripts/run_cluster.sh: HAProxy, 2 Rasa, 2 action servers, Redis, RabbitMQ)
    .venv/bin/python benchmarks/load_cluster.py --shape cluster --conversations 200 --turns 10 --pairs 20
    # the single-machine shape (one Rasa server, one action server: tests.e2e.stack, PostgreSQL)
    .venv/bin/python benchmarks/load_cluster.py --shape single ...

Both use the newest model in models/ (never training) on a throwaway PostgreSQL database. Half the
conversations are widget visitors (each from its own loopback address), half SMS numbers. A turn
that failed (HTTP error, 503 busy / fail-safe) is sent again once, as the widget and a person would; it
counts as "unanswered" only when the retry failed too, and then either as answered with the channel's
honest failure message (the numbers to call, "send it again") or as "no_reply" (nothing a person could
read: the issue's failure). `--think S` waits a mean of S seconds between a reply and the next message
(a person reading and typing); 0 sends at once (every conversation always waiting: saturation). In the
cluster shape the broker queue's backlog is sampled every 2 s (the console's consumer keeping up). In the single shape there is no second Rasa
server: the Rasa kill is done only with --single-kill-rasa (every turn in the restart is lost).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import secrets
import signal
import statistics
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

import aiohttp
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from twilio.request_validator import RequestValidator  # noqa: E402

from benchmarks.load_channels import TURNS, loopback_address  # noqa: E402


@dataclass
class Conv:
    channel: str
    sender: str = ""
    conversation: str = ""  # widget: the signed id
    address: str = ""
    sent: List[str] = field(default_factory=list)  # ids (widget message_id / SMS MessageSid) answered 200, in send order
    latencies: List[float] = field(default_factory=list)
    retried: int = 0
    unanswered: int = 0  # both tries failed (each such turn is also counted in `honest` or `no_reply`)
    honest: int = 0  # ... and the last try got the channel's honest failure message (busy / fail-safe / rate limit)
    no_reply: int = 0  # ... and the last try got nothing a person could read (a connection error, a bare 5xx)
    pair_ids: List[str] = field(default_factory=list)
    failures: List[str] = field(default_factory=list)  # why a try failed: "HTTP 503", "failsafe", "TimeoutError"...
    expected: int = 0  # turns this conversation was to send


class Client:
    def __init__(self, base: str, token: str, think: float = 0.0) -> None:
        self.base = base.rstrip("/")
        self.token = token
        self.think = think
        self._rng = random.Random(7)

    async def mint(self, conv: Conv) -> None:
        conv.address = loopback_address()
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(conv.address, 0))) as s:
            async with s.post(f"{self.base}/webhooks/widget/conversation", json={}) as r:
                conv.conversation = (await r.json())["conversation"]
                conv.sender = conv.conversation.rsplit(".", 2)[0]

    @staticmethod
    def stored_id(conv: Conv, message_id: str) -> str:
        """The id the turn's user event keeps in its metadata (what a typed option becomes is not
        the text sent, so turns are matched by id, not by text)."""
        return message_id if conv.channel == "widget" else "SM" + message_id.replace("-", "")

    async def send_once(self, session: aiohttp.ClientSession, conv: Conv, text: str, message_id: str) -> bool:
        if conv.channel == "widget":
            # the same message_id on the retry, as the widget does: a turn stored once is answered from the store
            async with session.post(f"{self.base}/webhooks/widget/webhook",
                                    json={"conversation": conv.conversation, "message": text, "message_id": message_id}) as r:
                if r.status != 200:
                    # the widget shows the messages of a refusal (503 busy / fail-safe, 429) as a notice
                    try:
                        body = await r.json(content_type=None)
                    except Exception:  # noqa: BLE001 - not JSON: nothing the widget could show
                        body = None
                    shown = (body or {}).get("messages") if isinstance(body, dict) else None
                    honest = bool(shown) and any("911" in (m.get("text") or "") for m in shown)
                    conv.failures.append(f"HTTP {r.status}" + (" (honest notice)" if honest else ""))
                    return "honest" if honest else False
                messages = await r.json()
                if any((m.get("custom") or {}).get("failsafe") for m in messages):
                    conv.failures.append("failsafe")
                    return "honest"
                return bool(messages)
        url = f"{self.base}/webhooks/twilio_sms/webhook"
        # The same MessageSid on the retry, as Twilio's own retry and HAProxy's retry-on send it: a turn
        # stored once is answered from the store (a person typing it again would be a new message).
        params = {"MessageSid": "SM" + message_id.replace("-", ""), "From": conv.sender, "To": "+13125550100", "Body": text}
        headers = {"X-Twilio-Signature": RequestValidator(self.token).compute_signature(url, params)}
        async with session.post(url, data=params, headers=headers) as r:
            if r.status != 200:
                conv.failures.append(f"HTTP {r.status}")
                return False
            body = await r.read()
        messages = [m.text or "" for m in ET.fromstring(body).findall("Message")]  # noqa: S314 - our TwiML
        # the fail-safe notice (and the rate-limit notice) is an honest failure: the person sends it again
        for marker, reason in (("having trouble", "failsafe"), ("faster than the assistant", "rate limit")):
            if any(marker in m for m in messages):
                conv.failures.append(reason)
                return "honest"
        return bool(messages)

    async def turn(self, session: aiohttp.ClientSession, conv: Conv, text: str) -> None:
        t0 = time.perf_counter()
        message_id = str(uuid.uuid4())
        if text.endswith(" (part one)") or text.endswith(" (part two)"):
            conv.pair_ids.append(self.stored_id(conv, message_id))
        ok: object = False
        for attempt in range(2):
            try:
                ok = await self.send_once(session, conv, text, message_id)
            except Exception as exc:  # noqa: BLE001 - counted
                conv.failures.append(type(exc).__name__)
                ok = False
            if ok is True:
                conv.latencies.append(time.perf_counter() - t0)
                conv.sent.append(self.stored_id(conv, message_id))
                return
            if attempt == 0:
                conv.retried += 1
                await asyncio.sleep(1.0)
        conv.unanswered += 1
        if ok == "honest":
            conv.honest += 1
        else:
            conv.no_reply += 1

    async def run(self, conv: Conv, turns: List[str], pair_at: Optional[int]) -> None:
        conv.expected = len(turns) + (1 if pair_at is not None else 0)
        connector = aiohttp.TCPConnector(local_addr=(conv.address or loopback_address(), 0))
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=180)) as session:
            for i, text in enumerate(turns):
                if i and self.think:
                    # a person reads the answer and types the next message (uniform 0 to 2x the mean)
                    await asyncio.sleep(self._rng.uniform(0, 2 * self.think))
                if i == pair_at:
                    a, b = f"{text} (part one)", f"{text} (part two)"
                    await asyncio.gather(self.turn(session, conv, a), self.turn(session, conv, b))
                else:
                    await self.turn(session, conv, text)


def stored_user_texts(engine: sa.engine.Engine, conv: Conv) -> List[str]:
    return [d.get("text") for d in stored_user_events(engine, conv)]


def stored_user_events(engine: sa.engine.Engine, conv: Conv) -> List[dict]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user' ORDER BY id"),
                            {"s": conv.sender}).scalars().all()
    return [d for d in (json.loads(r) for r in rows) if d.get("text") != "/greet"]


def check(engine: sa.engine.Engine, conv: Conv) -> dict:
    """Lost / duplicated / reordered user messages of one conversation in the events table, by the
    id each user event keeps in its metadata (widget `message_id`, SMS `message_sid`), with the
    channel and the failed tries of a conversation that has any."""
    meta = [d.get("metadata") or {} for d in stored_user_events(engine, conv)]
    stored = [m.get("message_id") or m.get("message_sid") for m in meta]
    lost = [i for i in dict.fromkeys(conv.sent) if i not in stored]
    duplicated = [i for i in set(stored) if i is not None and stored.count(i) > 1]
    # order: the answered turns (a pair may be stored either way round) must appear in send order
    expected = [i for i in conv.sent if i not in conv.pair_ids]
    seen = [i for i in dict.fromkeys(stored) if i in expected]
    reordered = 0 if seen == [i for i in expected if i in seen] else 1
    counts = {"lost": len(lost), "duplicated": sum(stored.count(i) - 1 for i in duplicated), "reordered": reordered}
    if any(counts.values()):
        counts["example"] = {"channel": conv.channel, "lost": len(lost), "duplicated": len(duplicated),
                             "failures": conv.failures, "stored": len(stored), "answered": len(conv.sent)}
    return counts


def console_check(engine: sa.engine.Engine, convs: List[Conv], wait_s: float) -> dict:
    """The console's tables (fed by the broker consumer, clonus_conversation / clonus_conversation_text)
    against the events table, once the consumer has caught up (waiting up to `wait_s`): conversations
    missing, message counts that differ, user texts missing from or repeated in the search text."""
    deadline = time.monotonic() + wait_s
    while True:
        result = {"console_missing": 0, "console_count_differs": 0, "console_text_lost": 0, "console_text_duplicated": 0}
        with engine.connect() as conn:
            for c in convs:
                events = conn.execute(sa.text("SELECT count(*) FROM events WHERE sender_id = :s AND type_name IN ('user', 'bot')"),
                                      {"s": c.sender}).scalar()
                row = conn.execute(sa.text("SELECT s.message_count, t.text FROM clonus_conversation s LEFT JOIN "
                                           "clonus_conversation_text t USING (conversation_id) WHERE s.conversation_id = :s"),
                                   {"s": c.sender}).one_or_none()
                if row is None:
                    result["console_missing"] += 1 if events else 0
                    continue
                result["console_count_differs"] += 1 if row[0] != events else 0
                lines = (row[1] or "").split("\n")
                for t in set(stored_user_texts(engine, c)):
                    want, got = stored_user_texts(engine, c).count(t), lines.count(t.lower())
                    result["console_text_lost"] += max(0, want - got)
                    result["console_text_duplicated"] += max(0, got - want)
        if not any(result.values()) or time.monotonic() > deadline:
            result["console_waited_s"] = round(wait_s - max(0.0, deadline - time.monotonic()), 1)
            return result
        time.sleep(1.0)


def summary(convs: List[Conv], wall: float) -> dict:
    lat = sorted(x for c in convs for x in c.latencies)
    q = statistics.quantiles(lat, n=100, method="inclusive") if len(lat) >= 2 else [0.0] * 99
    return {
        "turns_answered": len(lat), "turns_retried": sum(c.retried for c in convs),
        "unanswered": sum(c.unanswered for c in convs),
        "unanswered_with_honest_notice": sum(c.honest for c in convs),
        "no_reply": sum(c.no_reply for c in convs),
        "stuck": sum(c.expected - len(c.latencies) - c.unanswered for c in convs),
        "failed_tries": dict(Counter(f for c in convs for f in c.failures)),
        "p50_ms": round(q[49] * 1000), "p95_ms": round(q[94] * 1000), "wall_s": round(wall, 1),
        "turns_per_s": round(len(lat) / wall, 2) if wall else None,
    }


async def faults(shape, stop_after: float, events: list) -> None:
    """Kill one Rasa server and one action server (SIGKILL) a third into the run."""
    await asyncio.sleep(stop_after)
    loop = asyncio.get_running_loop()
    if shape.kind == "cluster":
        events.append((time.time(), "kill rasa1"))
        await loop.run_in_executor(None, shape.cluster.kill, "rasa1")
        await asyncio.sleep(2)
        events.append((time.time(), "kill actions1"))
        await loop.run_in_executor(None, shape.cluster.kill, "actions1")
        # supervisord restarts both (autorestart)
    else:
        events.append((time.time(), "kill actions"))
        await loop.run_in_executor(None, shape.stack.stop_action_server, signal.SIGKILL)
        await asyncio.sleep(3)
        await loop.run_in_executor(None, shape.stack.start_action_server)
        events.append((time.time(), "actions restarted"))
        if shape.kill_rasa:
            proc = shape.stack.named["rasa"]
            events.append((time.time(), "kill rasa"))
            proc.send_signal(signal.SIGKILL)


class Shape:
    def __init__(self, kind: str, kill_rasa: bool) -> None:
        self.kind, self.kill_rasa = kind, kill_rasa
        self.cluster = self.stack = None

    def start(self) -> None:
        from tests.cluster.cluster import Cluster, newest_model

        if self.kind == "cluster":
            self.cluster = Cluster(newest_model()).start()
            self.base, self.token, self.db = self.cluster.url, self.cluster.twilio_token, self.cluster.database_url
        else:
            from tests.channels.conftest import TWILIO_TOKEN, ChannelStack
            from tests.e2e.stack import create_postgres_database

            self.stack = ChannelStack(model=newest_model(), database_url=create_postgres_database()).start()
            self.base, self.token, self.db = self.stack.rasa_url, TWILIO_TOKEN, self.stack.database_url

    def rss_mb(self) -> dict:
        """Resident memory of the Rasa and action servers now (MiB)."""
        if self.cluster is not None:
            pids = {p: self.cluster.pid(p) for p in ("rasa1", "rasa2", "actions1", "actions2")}
        else:
            pids = {name: proc.pid for name, proc in self.stack.named.items()}
        out = {}
        for name, pid in pids.items():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                out[name] = round(int(next(x for x in status.splitlines() if x.startswith("VmRSS")).split()[1]) / 1024)
            except (OSError, StopIteration, ValueError):
                out[name] = None
        return out

    def stop(self) -> None:
        if self.cluster is not None:
            self.cluster.cleanup()
        if self.stack is not None:
            from tests.e2e.stack import drop_postgres_database

            self.stack.stop()
            drop_postgres_database(self.stack.database_url)


async def report_progress(convs: List[Conv], t0: float) -> None:
    """A line on stderr every 30 s: turns answered, retried and failed so far."""
    while True:
        await asyncio.sleep(30)
        done = sum(len(c.latencies) for c in convs)
        print(f"+{time.perf_counter() - t0:.0f}s answered {done}, retried {sum(c.retried for c in convs)}, "
              f"unanswered {sum(c.unanswered for c in convs)}", file=sys.stderr, flush=True)


async def backlog(shape: Shape, samples: list, stop: asyncio.Event) -> None:
    """Every 2 s, the broker queue's backlog (messages not yet taken by the console's consumer):
    a consumer that keeps up holds it near 0; one that falls behind lets it grow."""
    import aio_pika

    from tests.cluster.cluster import broker_kwargs

    connection = await aio_pika.connect(**broker_kwargs())
    async with connection:
        channel = await connection.channel()
        while not stop.is_set():
            try:
                queue = await asyncio.wait_for(channel.declare_queue(shape.cluster.queue, passive=True), 5)
                samples.append((time.time(), queue.declaration_result.message_count))
            except Exception as exc:  # noqa: BLE001 - recorded; the channel is reopened
                samples.append((time.time(), type(exc).__name__))
                try:
                    channel = await asyncio.wait_for(connection.channel(), 5)
                except Exception:  # noqa: BLE001, S110 - try again at the next sample
                    pass
            try:
                await asyncio.wait_for(stop.wait(), 2.0)
            except asyncio.TimeoutError:
                pass


def dump_tasks() -> None:
    for task in asyncio.all_tasks():
        frames = task.get_stack(limit=6)
        where = " <- ".join(f"{f.f_code.co_name}:{f.f_lineno}" for f in reversed(frames))
        print(f"task {task.get_name()}: {where}", file=sys.stderr, flush=True)


async def drive(shape: Shape, n: int, turns: List[str], pairs: int, fault_at: float, think: float = 0.0,
                max_run: float = 1200.0) -> tuple:
    client = Client(shape.base, shape.token, think)
    convs = [Conv("widget" if i % 2 == 0 else "sms") for i in range(n)]
    for c in convs:
        if c.channel == "sms":
            c.sender = f"+1{200 + secrets.randbelow(800)}555{secrets.randbelow(10_000):04d}"
    await asyncio.gather(*(client.mint(c) for c in convs if c.channel == "widget"))
    fault_log: list = []
    t0 = time.perf_counter()
    # Pairs only on the widget: an SMS number may send 10 messages a minute (a pair makes 11).
    async def start_later(c: Conv, pair_at: Optional[int]) -> None:
        if think:
            await asyncio.sleep(client._rng.uniform(0, 2 * think))  # people do not all arrive at once
        await client.run(c, turns, pair_at)

    jobs = [start_later(c, len(turns) // 2 if c.channel == "widget" and i < 2 * pairs else None)
            for i, c in enumerate(convs)]
    fault_task = asyncio.ensure_future(faults(shape, fault_at, fault_log)) if fault_at >= 0 else None
    samples: list = []
    stop = asyncio.Event()
    sampler = asyncio.ensure_future(backlog(shape, samples, stop)) if shape.kind == "cluster" else None
    loop = asyncio.get_running_loop()
    # SIGTERM (a timeout, a supervisor) ends the run and still stops the cluster (main's finally):
    # the event loop (uvloop, through Sanic) does not run a plain signal.signal handler while it waits.
    loop.add_signal_handler(signal.SIGTERM, lambda: [t.cancel() for t in asyncio.all_tasks(loop)])
    loop.add_signal_handler(signal.SIGUSR1, dump_tasks)  # `kill -USR1 PID`: where each conversation waits
    progress = asyncio.ensure_future(report_progress(convs, t0))
    tasks = [asyncio.ensure_future(j) for j in jobs]
    _, pending = await asyncio.wait(tasks, timeout=max_run)
    for task in pending:
        task.cancel()  # counted: their remaining turns are "stuck"
    if pending:
        print(f"{len(pending)} conversations still running after {max_run:.0f} s: cancelled", file=sys.stderr, flush=True)
        await asyncio.wait(pending, timeout=10)
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            print(f"a conversation failed: {task.exception()!r}", file=sys.stderr, flush=True)
    progress.cancel()
    wall = time.perf_counter() - t0
    if fault_task is not None:
        await fault_task
    drained_after = None
    if sampler is not None:
        # how long the consumer needs to take the rest once the load stops
        t_end = time.time()
        while time.time() - t_end < 60:
            if samples and samples[-1][0] >= t_end and samples[-1][1] == 0:
                drained_after = round(samples[-1][0] - t_end, 1)  # to within the 2 s sampling
                break
            await asyncio.sleep(0.5)
        stop.set()
        try:
            await asyncio.wait_for(sampler, 10)
        except Exception:  # noqa: BLE001, S110 - the samples taken so far are kept
            pass
    counts = [v for _, v in samples if isinstance(v, int)]
    broker = {"broker_backlog_max": max(counts) if counts else None,
              "broker_backlog_mean": round(statistics.mean(counts), 1) if counts else None,
              "broker_backlog_samples": len(counts), "broker_drained_s_after_load": drained_after} if sampler else {}
    return convs, wall, fault_log, broker


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", choices=["cluster", "single"], default="cluster")
    ap.add_argument("--conversations", type=int, default=200)
    ap.add_argument("--turns", type=int, default=10)
    ap.add_argument("--pairs", type=int, default=20, help="conversations that send two messages at once")
    ap.add_argument("--fault-at", type=float, default=20.0, help="seconds into the run; -1: no faults")
    ap.add_argument("--single-kill-rasa", action="store_true")
    ap.add_argument("--console-wait", type=float, default=30.0, help="seconds to let the console catch up")
    ap.add_argument("--max-run", type=float, default=1200.0,
                    help="seconds after which conversations still running are stopped (their turns count as stuck)")
    ap.add_argument("--think", type=float, default=0.0,
                    help="mean seconds a person takes to read and type before the next message (0: none)")
    ap.add_argument("--json")
    args = ap.parse_args()
    turns = (TURNS * (args.turns // len(TURNS) + 1))[: args.turns]
    # The SMS per-number limit is 10/minute: more turns than that would be refused by design.
    shape = Shape(args.shape, args.single_kill_rasa)
    # SIGTERM (a timeout, Ctrl-C from a supervisor) stops the cluster too: without this the servers,
    # supervisord and HAProxy outlived the script and held its database open.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    shape.start()
    try:
        convs, wall, fault_log, broker = asyncio.run(
            drive(shape, args.conversations, turns, args.pairs, args.fault_at, args.think, args.max_run))
        memory = shape.rss_mb()
        engine = sa.create_engine(shape.db, future=True)
        counts = {"lost": 0, "duplicated": 0, "reordered": 0}
        examples = []
        for c in convs:
            found = check(engine, c)
            if "example" in found:
                examples.append(found.pop("example"))
            for k, v in found.items():
                counts[k] += v
        if shape.kind == "single":
            # No broker in the single shape: the console catches up from the events table itself.
            from console.conversations import sync_summaries

            sync_summaries(shape.db)
        console = console_check(engine, convs, args.console_wait)
        with engine.connect() as conn:
            rows, avg_bytes = conn.execute(sa.text("SELECT count(*), avg(length(data)) FROM events")).one()
            db_bytes = conn.execute(sa.text("SELECT pg_database_size(current_database())")).scalar()
        engine.dispose()
        answered = sum(len(c.sent) for c in convs)
        database = {"event_rows": rows, "event_rows_per_turn": round(rows / max(1, answered), 1),
                    "avg_event_json_bytes": round(float(avg_bytes or 0)), "database_mb": round(db_bytes / 2**20, 1)}
    finally:
        shape.stop()
    result = {"shape": args.shape, "conversations": args.conversations, "turns": args.turns, "pairs": args.pairs,
              "think_s": args.think, **summary(convs, wall), **counts, **console, **broker, **database, "examples": examples[:10], "rss_mb": memory, "faults": [f"+{t - fault_log[0][0]:.1f}s {w}" for t, w in fault_log]}
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    console_bad = any(v for k, v in console.items() if k != "console_waited_s")
    # The bar: nothing lost, duplicated or reordered, and every turn answered (after a retry
    # at most) or given the channel's honest failure message.
    return 0 if not any(counts.values()) and not console_bad and result["no_reply"] == 0 and result["stuck"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
