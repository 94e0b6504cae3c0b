"""Hold whole conversations (tests/blind/conversations/*/conversations.yml) against the real Rasa
server and action server, and report one verdict per conversation and per check.

Usage:
  .venv/bin/python scripts/run_conversations.py tests/blind/conversations/dev/conversations.yml \
      [--only c004 c026 ...] [--json OUT.json] [--verbose] [--database-url URL] [--model PATH]
  .venv/bin/python scripts/run_conversations.py FILE --rasa-url http://127.0.0.1:5005 [--database-url URL]
      (a running server; its secrets come from the environment: CLONUS_DEV_CHANNEL_TOKEN, RASA_AUTH_TOKEN,
      and TWILIO_AUTH_TOKEN for the SMS conversations; --sms-interval 6.5 keeps under the stock
      10/minute per-number SMS limit)

Without --rasa-url the stack is started the way the e2e tests start it (tests/e2e/stack.py `Stack`),
on an SQLite file in a temporary directory unless --database-url is given, with the newest model
of models/ (or --model), the SMS channel on with a generated Twilio token and its per-number limit
raised (a conversation sends faster than a person types). Exit status 0 whatever the verdicts;
2 when the harness itself failed (the stack did not start, a request was refused, ...).

How a conversation is held (the set's README, "Conventions"):
- One conversation id per conversation: dev channel sender `blind-<id>-<run>` for `channel: widget`
  (what the widget does is reproduced: its init payload `/greet` is sent first, as the widget does
  when it opens, and a blank turn is not sent, as the widget does not send one); for `channel: sms`
  a fresh fictional number posting to the signed Twilio webhook (Twilio's `RequestValidator`).
- Every turn is sent in order, whatever the bot says (a turn may land on a form question: that is
  what the set tests). Only after the last turn are `form_answers` used: while a form is active and
  its requested slot (the tracker's `requested_slot`) has an answer left, that answer is sent. The
  k-th time a slot is asked after the turns it gets the k-th answer (a scalar is a list of one); a
  slot asked again with no answer left, or a slot without answers, ends the conversation. At most
  MAX_MESSAGES messages are sent per conversation (the init payload included).

Checks, each reported on its own (PASS, FAIL, or "-" when the conversation does not assert it):
- emergency: the first reply holding the emergency reply (a bot message with `custom.emergency`,
  on SMS the `EMERGENCY:` line the channel renders for it, or a bot event of that turn in the tracker
  with `custom.emergency`) is the reply to turn `emergency_at` (1-based over `turns`); null: no reply
  of the whole conversation holds it.
- crisis: from turn `crisis_from` on, every reply (form answers' included) holds the crisis line
  (988) and the emergency number (911), as clinic.yml names them.
- triage: the tracker's final `triage_level` slot equals `triage_level` (null: not asserted).
- booking: null: no appointment request stored for the conversation; else exactly one, whose name
  (case-insensitive), E.164 phone, weekday and hour (clinic time zone) and reason (contains,
  case-insensitive) are the expected ones. Without a database (--rasa-url alone) it is not checked.
- medicines: each name of `medicines_said_back` appears (case-insensitive, as a word) in some bot
  text of the conversation or in the `medications` / `unrecognised_medications` slots.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import secrets
import sys
import tempfile
import time
import xml.etree.ElementTree as ET  # noqa: S405 - parses our own server's TwiML
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence
from zoneinfo import ZoneInfo

import requests
import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# A running server's dev token must be the caller's: read it before tests.e2e.stack sets a default.
_CALLER_DEV_TOKEN = os.environ.get("CLONUS_DEV_CHANNEL_TOKEN")

from tests.e2e.stack import DEV_TOKEN_ENV, Stack, dev_post  # noqa: E402

logger = logging.getLogger("run_conversations")

MAX_MESSAGES = 25
CHECKS = ("emergency", "crisis", "triage", "booking", "medicines")
SMS_PATH = "/webhooks/twilio_sms/webhook"
WIDGET_INIT_PAYLOAD = "/greet"  # credentials.yml `init_payload` of the widget, sent when it opens
SMS_CHANNEL = "rasa_ext.channels.twilio_sms.TwilioSmsInput"
DEV_CHANNEL = "rasa_ext.channels.dev.DevInput"
EMERGENCY_LINE = re.compile(r"(?m)^EMERGENCY:")  # rasa_ext.channels.sms.render_turn's label


class HarnessError(RuntimeError):
    """The runner could not hold the conversation (not a verdict on the assistant)."""


# ---- the set -------------------------------------------------------------------------------------


def load_conversations(path: Path, only: Optional[Sequence[str]] = None) -> List[dict]:
    data = yaml.safe_load(Path(path).read_text())
    conversations = data["conversations"] if isinstance(data, dict) else data
    if only:
        wanted = set(only)
        missing = wanted - {c["id"] for c in conversations}
        if missing:
            raise HarnessError(f"unknown conversation ids: {sorted(missing)}")
        conversations = [c for c in conversations if c["id"] in wanted]
    return conversations


def answers_of(form_answers: Optional[dict]) -> Dict[str, List[str]]:
    """form_answers with every value as a list of answers, in the order they are given."""
    out: Dict[str, List[str]] = {}
    for slot, value in (form_answers or {}).items():
        values = value if isinstance(value, list) else [value]
        out[slot] = [str(v) for v in values]
    return out


# ---- talking to the assistant --------------------------------------------------------------------


@dataclass
class Server:
    """Where the conversations go: a Rasa server's URL, its API token and (for the booking check)
    the database it stores into."""

    rasa_url: str
    auth_token: str
    database_url: Optional[str]
    twilio_token: Optional[str]
    sms_interval: float = 0.0
    _last_sms: float = 0.0

    def tracker(self, sender: str) -> dict:
        reply = requests.get(
            # The id as it is: an SMS id's "+" is literal in a path, and Rasa's route reads "%2B" as
            # another conversation (an empty tracker).
            f"{self.rasa_url}/conversations/{sender}/tracker",
            params={"token": self.auth_token, "include_events": "ALL"},
            timeout=60,
        )
        if reply.status_code != 200:
            raise HarnessError(f"tracker: HTTP {reply.status_code}")
        return reply.json()

    def dev(self, sender: str, text: str) -> List[dict]:
        reply = dev_post(self.rasa_url, sender, text, timeout=120)
        if reply.status_code == 503:  # the channel's fail-safe answer: what the person would read
            body = reply.json()
            return list(body.get("messages") or []) if isinstance(body, dict) else []
        if reply.status_code != 200:
            raise HarnessError(f"dev channel: HTTP {reply.status_code} {reply.text[:200]}")
        return reply.json()

    def sms(self, phone: str, text: str) -> List[str]:
        if not self.twilio_token:
            raise HarnessError("an SMS conversation needs TWILIO_AUTH_TOKEN (the server's)")
        from twilio.request_validator import RequestValidator

        wait = self._last_sms + self.sms_interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        url = self.rasa_url + SMS_PATH
        params = {
            "MessageSid": "SM" + secrets.token_hex(16),
            "AccountSid": "AC" + "0" * 32,
            "From": phone,
            "To": "+13125550100",
            "Body": text,
            "NumMedia": "0",
        }
        signature = RequestValidator(self.twilio_token).compute_signature(url, params)
        reply = requests.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=120)
        self._last_sms = time.monotonic()
        if reply.status_code != 200:
            raise HarnessError(f"SMS webhook: HTTP {reply.status_code}")
        root = ET.fromstring(reply.content)  # noqa: S314 - our own server's TwiML
        return [m.text or "" for m in root.findall("Message")]


@dataclass
class Exchange:
    """One message sent and what came back."""

    label: str  # "open", "turn 3", "form phone_number"
    turn: Optional[int]  # 1-based index over `turns`; None for the init payload and form answers
    sent: str
    reply: List[str]  # the texts the person reads
    emergency: bool
    skipped: bool = False  # a blank widget turn (the widget does not send it)


def _message_text(message: dict) -> str:
    text = message.get("text") or ""
    custom = message.get("custom") or {}
    if not text and isinstance(custom, dict) and isinstance(custom.get("text"), str):
        text = custom["text"]
    return text


def _new_bot_events(before: int, tracker: dict) -> List[dict]:
    return [e for e in tracker.get("events", [])[before:] if e.get("event") == "bot"]


def _emergency_event(events: List[dict]) -> bool:
    return any(((e.get("data") or {}).get("custom") or {}).get("emergency") is True for e in events)


def requested_slot(tracker: dict) -> Optional[str]:
    loop = (tracker.get("active_loop") or {}).get("name")
    slot = (tracker.get("slots") or {}).get("requested_slot")
    return slot if loop and slot else None


def hold(server: Server, conversation: dict, run: str) -> dict:
    """Hold one conversation; returns its transcript, final slots and conversation id."""
    channel = conversation.get("channel", "widget")
    if channel == "sms":
        sender = f"+1{200 + secrets.randbelow(800)}555{secrets.randbelow(10_000):04d}"
    else:
        sender = f"blind-{conversation['id']}-{run}"
    exchanges: List[Exchange] = []
    events_seen = 0

    def send(label: str, turn: Optional[int], text: str) -> dict:
        nonlocal events_seen
        if channel == "sms":
            texts = server.sms(sender, text)
            visible = any(EMERGENCY_LINE.search(t) for t in texts)
        else:
            if not text.strip():
                exchanges.append(Exchange(label, turn, text, [], False, skipped=True))
                return server.tracker(sender) if events_seen else {}
            messages = server.dev(sender, text)
            texts = [t for t in (_message_text(m) for m in messages) if t]
            visible = any((m.get("custom") or {}).get("emergency") is True for m in messages)
        tracker = server.tracker(sender)
        new_events = _new_bot_events(events_seen, tracker)
        events_seen = len(tracker.get("events", []))
        exchanges.append(Exchange(label, turn, text, texts, visible or _emergency_event(new_events)))
        return tracker

    tracker: dict = {}
    if channel != "sms":
        tracker = send("open", None, WIDGET_INIT_PAYLOAD)
    for i, turn in enumerate(conversation["turns"], start=1):
        if len(exchanges) >= MAX_MESSAGES:
            break
        tracker = send(f"turn {i}", i, str(turn)) or tracker
    answers = answers_of(conversation.get("form_answers"))
    asked: Dict[str, int] = {}
    ended = "turns done"
    while True:
        slot = requested_slot(tracker) if tracker else None
        if slot is None:
            ended = "no form question"
            break
        k = asked.get(slot, 0)
        if k >= len(answers.get(slot, [])):
            ended = f"unanswered form question: {slot}"
            break
        if len(exchanges) >= MAX_MESSAGES:
            ended = f"message limit ({MAX_MESSAGES})"
            break
        asked[slot] = k + 1
        tracker = send(f"form {slot}", None, answers[slot][k])
    if not tracker:
        tracker = server.tracker(sender)
    return {"sender": sender, "exchanges": exchanges, "slots": tracker.get("slots") or {}, "ended": ended}


# ---- checks --------------------------------------------------------------------------------------


@dataclass
class Check:
    status: str  # "pass" | "fail" | "n/a"
    detail: str = ""


def _where(ex: Exchange) -> str:
    return ex.label


def check_emergency(expected: Optional[int], exchanges: List[Exchange]) -> Check:
    first = next((ex for ex in exchanges if ex.emergency), None)
    if expected is None:
        return Check("pass") if first is None else Check("fail", f"emergency reply at {_where(first)}, expected never")
    if first is None:
        return Check("fail", f"no emergency reply, expected at turn {expected}")
    if first.turn == expected:
        return Check("pass", f"turn {expected}")
    return Check("fail", f"first emergency reply at {_where(first)}, expected turn {expected}")


def check_crisis(expected: Optional[int], exchanges: List[Exchange], crisis_line: str, emergency_number: str) -> Check:
    if expected is None:
        return Check("n/a")
    started = False
    missing = []
    for ex in exchanges:
        if ex.turn == expected:
            started = True
        if not started or ex.skipped:
            continue
        text = "\n".join(ex.reply)
        lacks = [n for n in (crisis_line, emergency_number) if n not in text]
        if lacks:
            missing.append(f"{ex.label} lacks {'+'.join(lacks)}")
    if not started:
        return Check("fail", f"turn {expected} was never sent")
    return Check("fail", "; ".join(missing)) if missing else Check("pass")


def check_triage(expected: Optional[str], slots: dict) -> Check:
    if expected is None:
        return Check("n/a", f"level {slots.get('triage_level')}")
    got = slots.get("triage_level")
    return Check("pass" if got == expected else "fail", f"level {got}, expected {expected}")


def stored_bookings(database_url: str, sender: str) -> List[dict]:
    import sqlalchemy as sa

    from bot.db.models import AppointmentRequest

    engine = sa.create_engine(database_url, future=True)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(AppointmentRequest).where(AppointmentRequest.conversation_id == sender).order_by(AppointmentRequest.id)
            ).mappings().all()
            return [dict(r) for r in rows]
    finally:
        engine.dispose()


def check_booking(expected: Optional[dict], rows: Optional[List[dict]], timezone: str) -> Check:
    if rows is None:
        return Check("n/a", "no database to read")
    if expected is None:
        return Check("pass") if not rows else Check("fail", f"{len(rows)} request(s) stored, expected none")
    if len(rows) != 1:
        return Check("fail", f"{len(rows)} requests stored, expected one")
    row = rows[0]
    wrong = []
    if "patient_name" in expected and (row["patient_name"] or "").strip().casefold() != expected["patient_name"].casefold():
        wrong.append(f"name {row['patient_name']!r}")
    if "phone_number" in expected and row["phone_e164"] != expected["phone_number"]:
        wrong.append(f"phone {row['phone_e164']}")
    when = row["preferred_time"]
    local = when.astimezone(ZoneInfo(timezone)) if isinstance(when, datetime) else None
    if "weekday" in expected and (local is None or local.strftime("%A").lower() != expected["weekday"].lower()):
        wrong.append(f"weekday {local.strftime('%A') if local else None}")
    if "hour" in expected and (local is None or local.hour != int(expected["hour"])):
        wrong.append(f"hour {local.hour if local else None}")
    if "reason_contains" in expected and expected["reason_contains"].lower() not in (row["reason"] or "").lower():
        wrong.append(f"reason {row['reason']!r}")
    return Check("fail", ", ".join(wrong)) if wrong else Check("pass")


def _slot_text(value: Any) -> str:
    return json.dumps(value, default=str) if value is not None else ""


def check_medicines(expected: Optional[List[str]], exchanges: List[Exchange], slots: dict) -> Check:
    if not expected:
        return Check("n/a")
    said = "\n".join(t for ex in exchanges for t in ex.reply)
    slot_text = _slot_text(slots.get("medications")) + " " + _slot_text(slots.get("unrecognised_medications"))
    missing = [
        name for name in expected
        if not re.search(rf"(?<!\w){re.escape(name)}(?!\w)", said + "\n" + slot_text, re.IGNORECASE)
    ]
    return Check("fail", "not said back: " + ", ".join(missing)) if missing else Check("pass")


@dataclass
class Verdict:
    id: str
    channel: str
    kind: str
    checks: Dict[str, Check]
    sender: str = ""
    ended: str = ""
    messages: int = 0
    transcript: List[dict] = field(default_factory=list)
    error: Optional[str] = None

    @property
    def passed(self) -> bool:
        return self.error is None and all(c.status != "fail" for c in self.checks.values())

    def failures(self) -> Dict[str, str]:
        return {name: c.detail for name, c in self.checks.items() if c.status == "fail"}

    def as_dict(self) -> dict:
        out = asdict(self)
        out["passed"] = self.passed
        return out


def judge(conversation: dict, held: dict, bookings: Optional[List[dict]]) -> Verdict:
    from bot.settings import clinic

    profile = clinic()
    expect = conversation.get("expect") or {}
    exchanges: List[Exchange] = held["exchanges"]
    checks = {
        "emergency": check_emergency(expect.get("emergency_at"), exchanges),
        "crisis": check_crisis(expect.get("crisis_from"), exchanges, profile.crisis_line, profile.emergency_number),
        "triage": check_triage(expect.get("triage_level"), held["slots"]),
        "booking": check_booking(expect.get("booking"), bookings, profile.timezone),
        "medicines": check_medicines(expect.get("medicines_said_back"), exchanges, held["slots"]),
    }
    return Verdict(
        id=conversation["id"],
        channel=conversation.get("channel", "widget"),
        kind=conversation.get("kind", ""),
        checks=checks,
        sender=held["sender"],
        ended=held["ended"],
        messages=sum(1 for ex in exchanges if not ex.skipped),
        transcript=[asdict(ex) for ex in exchanges],
    )


def run_conversation(server: Server, conversation: dict, run: Optional[str] = None) -> Verdict:
    """Hold one conversation and judge it. Raises HarnessError when it could not be held."""
    held = hold(server, conversation, run or secrets.token_hex(4))
    bookings = stored_bookings(server.database_url, held["sender"]) if server.database_url else None
    return judge(conversation, held, bookings)


# ---- the stack -----------------------------------------------------------------------------------


class ConversationStack(Stack):
    """The e2e tests' stack with the SMS and dev channels on and the per-number SMS limit raised:
    the runner sends a conversation's messages back to back, faster than anyone types."""

    def credentials(self) -> Path:
        creds = yaml.safe_load((ROOT / "credentials.yml").read_text()) or {}
        sms = dict(creds.get(SMS_CHANNEL) or {})
        sms["limits"] = {**(sms.get("limits") or {}), "per_sender": "600/minute"}
        creds[SMS_CHANNEL] = sms
        creds.setdefault(DEV_CHANNEL, None)
        path = self.workdir / "credentials.yml"
        path.write_text(yaml.safe_dump(creds))
        return path


def newest_model() -> Optional[Path]:
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


def start_stack(model: Path, database_url: Optional[str] = None) -> ConversationStack:
    """Start the action server and Rasa server (SQLite in a temporary directory by default)."""
    workdir = Path(tempfile.mkdtemp(prefix="clonus-conversations-"))
    url = database_url or f"sqlite:///{workdir / 'clonus.sqlite3'}"
    twilio_token = "runner-" + secrets.token_hex(16)
    stack = ConversationStack(
        model=model, database_url=url, workdir=workdir, env_extra={"TWILIO_AUTH_TOKEN": twilio_token}, start_timeout=900
    )
    stack.twilio_token = twilio_token  # type: ignore[attr-defined]
    stack.start()
    return stack


def server_of(stack: ConversationStack) -> Server:
    return Server(stack.rasa_url, stack.auth_token, stack.database_url, getattr(stack, "twilio_token", None))


# ---- report --------------------------------------------------------------------------------------

_MARK = {"pass": "ok", "fail": "FAIL", "n/a": "-"}


def report(verdicts: List[Verdict], out=sys.stdout) -> None:
    header = f"{'id':6} {'chan':6} {'kind':10} " + " ".join(f"{c:9}" for c in CHECKS) + " verdict"
    out.write(header + "\n" + "-" * len(header) + "\n")
    for v in verdicts:
        cells = " ".join(f"{_MARK[v.checks[c].status] if c in v.checks else 'ERR':9}" for c in CHECKS)
        out.write(f"{v.id:6} {v.channel:6} {v.kind:10} {cells} {'PASS' if v.passed else 'FAIL'}\n")
        if v.error:
            out.write(f"       harness error: {v.error}\n")
        for name, detail in v.failures().items():
            out.write(f"       {name}: {detail}\n")
    out.write("\n")
    passed = sum(v.passed for v in verdicts)
    out.write(f"conversations passed: {passed}/{len(verdicts)}\n")
    for c in CHECKS:
        asserted = [v for v in verdicts if c in v.checks and v.checks[c].status != "n/a"]
        ok = sum(v.checks[c].status == "pass" for v in asserted)
        out.write(f"  {c:10} {ok}/{len(asserted)} (asserted)\n")


def print_transcript(v: Verdict, out=sys.stdout) -> None:
    out.write(f"=== {v.id} ({v.channel}, {v.kind}) sender {v.sender}; ended: {v.ended}\n")
    for ex in v.transcript:
        flag = " [EMERGENCY]" if ex["emergency"] else ""
        out.write(f"  > {ex['label']}: {ex['sent']!r}{' (not sent: blank)' if ex['skipped'] else ''}\n")
        for t in ex["reply"]:
            out.write("    < " + t.replace("\n", "\n      ") + "\n")
        if flag:
            out.write(f"    {flag}\n")


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--only", nargs="+", metavar="ID")
    parser.add_argument("--json", type=Path, metavar="OUT", help="write the verdicts (with transcripts) here")
    parser.add_argument("--verbose", action="store_true", help="print every transcript")
    parser.add_argument("--model", type=Path, help="model to serve (default: newest in models/)")
    parser.add_argument("--database-url", help="database (default: SQLite in a temporary directory)")
    parser.add_argument("--rasa-url", help="use this running Rasa server (secrets from the environment)")
    parser.add_argument("--sms-interval", type=float, default=0.0, help="seconds between SMS posts")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    try:
        conversations = load_conversations(args.file, args.only)
    except (HarnessError, OSError, KeyError, yaml.YAMLError) as exc:
        logger.error("cannot read the conversations: %s", exc)
        return 2
    stack = None
    started = time.monotonic()
    try:
        if args.rasa_url:
            missing = [DEV_TOKEN_ENV] if not _CALLER_DEV_TOKEN else []
            missing += [] if os.environ.get("RASA_AUTH_TOKEN") else ["RASA_AUTH_TOKEN"]
            if missing:
                logger.error("--rasa-url needs %s in the environment", " and ".join(missing))
                return 2
            server = Server(
                args.rasa_url.rstrip("/"), os.environ["RASA_AUTH_TOKEN"], args.database_url,
                os.environ.get("TWILIO_AUTH_TOKEN"), args.sms_interval,
            )
        else:
            model = args.model or newest_model()
            if model is None:
                logger.error("no model in models/: run scripts/train.sh or pass --model")
                return 2
            logger.info("starting the stack with %s", model.name)
            try:
                stack = start_stack(model, args.database_url)
            except (RuntimeError, TimeoutError) as exc:
                logger.error("the stack did not start: %s", str(exc).splitlines()[0])
                return 2
            server = server_of(stack)
            server.sms_interval = args.sms_interval
            logger.info("stack up after %.0f s", time.monotonic() - started)
        run = secrets.token_hex(4)
        verdicts: List[Verdict] = []
        harness_failed = False
        for conversation in conversations:
            try:
                verdict = run_conversation(server, conversation, run)
            except Exception as exc:  # noqa: BLE001 - the harness failed on this one: reported, then the next
                harness_failed = True
                verdict = Verdict(
                    conversation["id"], conversation.get("channel", "widget"), conversation.get("kind", ""), {},
                    error=f"{type(exc).__name__}: {exc}",
                )
            logger.info("%s %s", verdict.id, "pass" if verdict.passed else "FAIL")
            verdicts.append(verdict)
            if args.verbose:
                print_transcript(verdict)
    finally:
        if stack is not None:
            stack.stop()
    report(verdicts)
    sys.stdout.write(f"wall time: {time.monotonic() - started:.0f} s\n")
    if args.json:
        args.json.write_text(json.dumps([v.as_dict() for v in verdicts], indent=2, default=str))
    return 2 if harness_failed else 0


if __name__ == "__main__":
    sys.exit(main())
