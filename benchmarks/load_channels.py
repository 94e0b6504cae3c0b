"""Load test of the two patient channels: N concurrent conversations of T turns each through the
widget's transport (a conversation id minted by POST /webhooks/widget/conversation, then POST
/webhooks/widget/webhook; each visitor from its own loopback address, as patients come from
their own addresses, so the per-address limits apply as in production) and through the signed
SMS webhook (at most 10 turns: the per-number limit is 10/minute), then a
check of the stored conversations: every message there, once, in order, with the replies the
client received. Prints p50/p95 turn latency and throughput per channel.

    # against a running server (TWILIO_AUTH_TOKEN must be the server's)
    .venv/bin/python benchmarks/load_channels.py --rasa-url http://127.0.0.1:5005 --database-url "$DATABASE_URL"
    # or start a throwaway stack (newest model in models/, PostgreSQL test database)
    .venv/bin/python benchmarks/load_channels.py --start
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import statistics
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Tuple

import aiohttp
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from twilio.request_validator import RequestValidator  # noqa: E402

from rasa_ext.channels import sms  # noqa: E402

# Ten different turns (no carrier keyword, no bare number): order is checked by sequence.
TURNS = [
    "hello",
    "what is clonus",
    "what causes clonus",
    "how is clonus diagnosed",
    "what treatments are there",
    "are there home remedies for clonus",
    "when should I worry about clonus",
    "what is serotonin syndrome",
    "thank you",
    "bye",
]


@dataclass
class Conversation:
    sender: str
    sent: List[str] = field(default_factory=list)
    received: List[List[str]] = field(default_factory=list)  # per turn: reply texts
    latencies: List[float] = field(default_factory=list)
    errors: List[str] = field(default_factory=list)
    silent: int = 0  # turns the assistant answered with nothing (a dialogue matter, not transport)


def loopback_address() -> str:
    return f"127.{secrets.randbelow(250) + 1}.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"


async def widget_conversation(_: aiohttp.ClientSession, base: str, turns: List[str]) -> Conversation:
    connector = aiohttp.TCPConnector(limit=0, local_addr=(loopback_address(), 0))
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300), connector=connector) as session:
        async with session.post(f"{base}/webhooks/widget/conversation", json={}) as r:
            if r.status != 201:
                conv = Conversation(sender="(none)")
                conv.errors.append(f"minting a conversation: HTTP {r.status}")
                return conv
            conversation = (await r.json())["conversation"]
        return await _widget_turns(session, base, conversation, turns)


async def _widget_turns(session: aiohttp.ClientSession, base: str, conversation: str, turns: List[str]) -> Conversation:
    conv = Conversation(sender=conversation.split(".")[0])
    for text in turns:
        t0 = time.perf_counter()
        try:
            async with session.post(
                f"{base}/webhooks/widget/webhook",
                json={"conversation": conversation, "message": text, "message_id": str(uuid.uuid4())},
            ) as r:
                body = await r.text()
                if r.status != 200:
                    conv.errors.append(f"HTTP {r.status}: {body[:200]}")
                    continue
                replies = [m.get("text") or (m.get("custom") or {}).get("text") or "" for m in json.loads(body)]
        except Exception as exc:  # noqa: BLE001 - counted, reported
            conv.errors.append(f"{type(exc).__name__}: {exc}")
            continue
        conv.latencies.append(time.perf_counter() - t0)
        conv.sent.append(text)
        conv.received.append(replies)
        if not any(replies):
            conv.silent += 1
    return conv


async def sms_conversation(
    session: aiohttp.ClientSession, base: str, token: str, turns: List[str], phone: str
) -> Conversation:
    conv = Conversation(sender=phone)
    url = f"{base}/webhooks/twilio_sms/webhook"
    for text in turns:
        params = {"MessageSid": "SM" + secrets.token_hex(16), "From": phone, "To": "+13125550100", "Body": text}
        headers = {"X-Twilio-Signature": RequestValidator(token).compute_signature(url, params)}
        t0 = time.perf_counter()
        try:
            async with session.post(url, data=params, headers=headers) as r:
                body = await r.read()
                if r.status != 200:
                    conv.errors.append(f"HTTP {r.status}: {body[:200]!r}")
                    continue
                replies = [m.text or "" for m in ET.fromstring(body).findall("Message")]  # noqa: S314 - our own TwiML
        except Exception as exc:  # noqa: BLE001
            conv.errors.append(f"{type(exc).__name__}: {exc}")
            continue
        conv.latencies.append(time.perf_counter() - t0)
        conv.sent.append(text)
        conv.received.append(replies)
        if not any(replies):
            conv.silent += 1
    return conv


def stored_turns(engine: sa.engine.Engine, sender: str, since: float) -> List[Tuple[str, List[dict]]]:
    """(user text, [bot event dicts]) per user message stored for the sender since `since`."""
    with engine.connect() as conn:
        rows = (
            conn.execute(
                sa.text("SELECT data FROM events WHERE sender_id = :s AND timestamp >= :t ORDER BY id"),
                {"s": sender, "t": since - 1},
            )
            .scalars()
            .all()
        )
    turns: List[Tuple[str, List[dict]]] = []
    # Messages of a session start (the disclaimer) are stored before the user message that
    # opened the session, but they were the answer to it.
    pending: List[dict] = []
    in_session_start = False
    for raw in rows:
        event = json.loads(raw)
        kind = event.get("event")
        if kind == "session_started" or (kind == "action" and event.get("name") == "action_session_start"):
            in_session_start = True
        elif kind == "user":
            turns.append((event.get("text"), pending))
            pending, in_session_start = [], False
        elif kind == "bot":
            if in_session_start or not turns:
                pending.append(event)
            else:
                turns[-1][1].append(event)
    return turns


def _squash(text: str) -> str:
    return "".join(text.split())


def verify(engine: sa.engine.Engine, conv: Conversation, channel: str, since: float) -> List[str]:
    problems = []
    stored = stored_turns(engine, conv.sender, since)
    if channel == "sms":
        # A reply that names an option of the previous turn ("what is clonus" for "Reply 2 for
        # What is clonus?") is stored as that option's payload: expected, not a loss.
        expected = list(conv.sent)
        for i in range(1, min(len(stored), len(expected))):
            titles = re.findall(r"^Reply \d+ for (.+)$", "\n".join(conv.received[i - 1]), re.M)
            buttons = [{"title": t, "payload": stored[i][0]} for t in titles]
            if stored[i][0] != expected[i] and sms.select_option(expected[i], buttons) == stored[i][0]:
                expected[i] = stored[i][0]
    else:
        expected = conv.sent
    if [t for t, _ in stored] != expected:
        problems.append(
            f"{channel} {conv.sender[:8]}: stored user messages differ: {[t for t, _ in stored]} != {conv.sent}"
        )
        return problems
    for i, ((_, bots), received) in enumerate(zip(stored, conv.received, strict=True)):
        if channel == "widget":
            want = [b.get("text") or ((b.get("data") or {}).get("custom") or {}).get("text") or "" for b in bots]
            if want != received:
                problems.append(f"widget turn {i + 1}: stored replies {want!r} != received {received!r}")
        else:
            rendered = sms.render_turn([dict(b.get("data") or {}, text=b.get("text")) for b in bots])
            if _squash(rendered) != _squash("".join(received)):
                problems.append(f"sms turn {i + 1}: stored replies differ from the TwiML received")
    return problems


def summary(name: str, convs: List[Conversation], wall: float) -> Dict[str, object]:
    lat = sorted(x for c in convs for x in c.latencies)
    turns = len(lat)
    q = statistics.quantiles(lat, n=100, method="inclusive") if len(lat) >= 2 else [lat[0] if lat else 0.0] * 99
    return {
        "channel": name,
        "conversations": len(convs),
        "turns": turns,
        "errors": sum(len(c.errors) for c in convs),
        "turns_without_reply": sum(c.silent for c in convs),
        "p50_ms": round(q[49] * 1000, 1),
        "p95_ms": round(q[94] * 1000, 1),
        "max_ms": round(max(lat) * 1000, 1) if lat else None,
        "wall_s": round(wall, 2),
        "turns_per_s": round(turns / wall, 2) if wall else None,
    }


async def run_channel(name: str, base: str, token: str, n: int, turns: List[str]) -> Tuple[List[Conversation], float]:
    timeout = aiohttp.ClientTimeout(total=300)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        t0 = time.perf_counter()
        if name == "widget":
            jobs = [widget_conversation(session, base, turns) for _ in range(n)]
        else:
            phones = set()
            while len(phones) < n:
                phones.add(f"+1{200 + secrets.randbelow(800)}555{secrets.randbelow(10_000):04d}")
            jobs = [sms_conversation(session, base, token, turns, p) for p in sorted(phones)]
        convs = await asyncio.gather(*jobs)
        return list(convs), time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rasa-url", default=os.environ.get("RASA_URL", "http://127.0.0.1:5005"))
    ap.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    ap.add_argument("--twilio-token", default=os.environ.get("TWILIO_AUTH_TOKEN"))
    ap.add_argument("--conversations", type=int, default=50)
    ap.add_argument("--turns", type=int, default=10)
    ap.add_argument("--channel", choices=["widget", "sms", "both"], default="both")
    ap.add_argument("--start", action="store_true", help="start a throwaway stack (newest model, PostgreSQL)")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()
    turns = (TURNS * (args.turns // len(TURNS) + 1))[: args.turns]

    stack = None
    if args.start:
        from tests.channels.conftest import TWILIO_TOKEN, ChannelStack
        from tests.conftest import newest_model
        from tests.e2e.stack import create_postgres_database

        stack = ChannelStack(model=newest_model(), database_url=create_postgres_database()).start()
        args.rasa_url, args.database_url, args.twilio_token = stack.rasa_url, stack.database_url, TWILIO_TOKEN
    if not args.database_url:
        from bot.settings import database_url

        args.database_url = database_url()
    channels = ["widget", "sms"] if args.channel == "both" else [args.channel]
    if "sms" in channels and not args.twilio_token:
        ap.error("the SMS run needs the server's TWILIO_AUTH_TOKEN (--twilio-token)")

    engine = sa.create_engine(args.database_url, future=True)
    results, problems = [], []
    try:
        for name in channels:
            since = time.time()
            convs, wall = asyncio.run(
                run_channel(name, args.rasa_url.rstrip("/"), args.twilio_token or "", args.conversations, turns)
            )
            results.append(summary(name, convs, wall))
            for c in convs:
                problems += [f"{name} {c.sender[:8]}: {e}" for e in c.errors]
                problems += verify(engine, c, name, since)
    finally:
        engine.dispose()
        if stack is not None:
            from tests.e2e.stack import drop_postgres_database

            stack.stop()
            drop_postgres_database(stack.database_url)

    print(f"{args.conversations} concurrent conversations x {args.turns} turns per channel against {args.rasa_url}")
    print(
        f"{'channel':8} {'turns':>6} {'errors':>6} {'silent':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'wall s':>7} {'turns/s':>8}"
    )
    for r in results:
        print(
            f"{r['channel']:8} {r['turns']:>6} {r['errors']:>6} {r['turns_without_reply']:>6} {r['p50_ms']:>8} "
            f"{r['p95_ms']:>8} {r['max_ms']:>8} {r['wall_s']:>7} {r['turns_per_s']:>8}"
        )
    print(
        f"stored-conversation check: {'OK, nothing lost or reordered' if not problems else f'{len(problems)} problem(s)'}"
    )
    for p in problems[:20]:
        print("  " + p)
    if args.json:
        Path(args.json).write_text(json.dumps({"results": results, "problems": problems}, indent=2))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
